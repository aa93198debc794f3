//! The personal relay: the relay library running inside the client on 127.0.0.1, with its data in the user's data
//! directory, so one person can try Huddle alone and friends on the same machine can join at `ws://127.0.0.1:PORT`.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use huddle_relay::config::Config;
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::SqliteStorage;
use huddle_relay::{RelaySetup, RunningRelay};
use huddle_shared::RelayName;

/// Starts a relay on `listen` (loopback) keeping its database in `data_dir/relay.db`.
pub async fn start(listen: SocketAddr, data_dir: &Path) -> anyhow::Result<RunningRelay> {
    start_with(listen, data_dir, false).await
}

/// [`start`], with the webhook on a free loopback port when `webhook` is set (the demo publishes through it).
pub async fn start_with(listen: SocketAddr, data_dir: &Path, webhook: bool) -> anyhow::Result<RunningRelay> {
    anyhow::ensure!(
        // Canonical first: `[::ffff:127.0.0.1]` is 127.0.0.1 written as IPv6.
        listen.ip().to_canonical().is_loopback(),
        "the personal relay only listens on this machine (127.0.0.1); {listen} is not a loopback address"
    );
    let relay = RelayName::parse("localhost").context("relay name")?;
    let storage = SqliteStorage::open(&data_dir.join("relay.db"), &relay)
        .with_context(|| format!("cannot open the personal relay's data in {}", data_dir.display()))?;
    let webhook_listen = webhook.then(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let config = Config { listen, webhook_listen, data_dir: Some(data_dir.to_owned()), ..Config::default() };
    let params = PasswordParams::default();
    RunningRelay::start(RelaySetup { config, relay, storage, params })
        .await
        .with_context(|| format!("cannot start the personal relay on {listen} (is another Huddle already running it?)"))
}
