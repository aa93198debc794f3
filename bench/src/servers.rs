//! The servers under test, each run as its own process (so its CPU time and memory are its own): the relay as the
//! `huddle-relay` binary runs it, and a bare tokio-tungstenite server that does the least any chat server must —
//! forward each text message to its receivers and answer its sender — with no authentication, routing rules or
//! storage. Both print `listening ADDR` when ready and stop when stdin closes.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use huddle_relay::config::Config;
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::{IntegrityCheck, SqliteStorage};
use huddle_relay::{RelaySetup, RunningRelay};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The relay's config for the benchmark: loopback, limits that a load driver does not meet (it is the one sender of
/// thousands of frames a second), cheap password hashing (logins are set-up, not what is measured).
pub fn relay_config() -> Config {
    let mut config = huddle_tests::test_config();
    config.limits.frames_per_second = 1_000_000;
    config.limits.frame_burst = 1_000_000;
    config.limits.registrations_per_address_per_hour = 1_000_000;
    config.max_connections = 19_000;
    config.log = "warn".to_owned();
    config
}

/// Runs the relay on `dir` until stdin closes.
pub fn relay(dir: &Path) -> Result<()> {
    let config = relay_config();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let name = config.relay_name()?;
        // Checked at start as `huddle-relay serve` checks it, so that the cold-start figure includes the check.
        let check = if config.check_database_at_start { IntegrityCheck::Quick } else { IntegrityCheck::Skip };
        let storage = SqliteStorage::open_with(&dir.join("relay.db"), &name, check)?;
        let setup = RelaySetup { config, relay: name, storage, params: PasswordParams::insecure_for_tests() };
        let running = RunningRelay::start(setup).await?;
        println!("listening {}", running.addr);
        wait_for_stdin_close().await;
        running.stop().await
    })
}

async fn wait_for_stdin_close() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 64];
        while std::io::stdin().read(&mut sink).is_ok_and(|n| n > 0) {}
    })
    .await;
}

/// Where each bare connection's outgoing messages go (its writer task's queue), by name and by group.
#[derive(Default)]
struct Registry {
    by_name: HashMap<String, mpsc::Sender<Message>>,
    groups: HashMap<String, Vec<(String, mpsc::Sender<Message>)>>,
}

type Shared = Arc<Mutex<Registry>>;

/// The bare server. A connection names itself with its first message, `NAME` or `NAME in GROUP`; then each text it
/// sends as `to NAME|payload` or `to #GROUP|payload` is forwarded to that connection or to every other member of the
/// group, and answered with `ok` — the shape of a relay's `send`, `deliver` and `stored`. Anything else
/// (acknowledgements) is read and dropped.
pub fn bare() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("listening {}", listener.local_addr()?);
        let registry: Shared = Arc::default();
        let serve = async {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let _ = tcp.set_nodelay(true);
                tokio::spawn(bare_connection(tcp, registry.clone()));
            }
        };
        tokio::select! {
            () = serve => {}
            () = wait_for_stdin_close() => {}
        }
        Ok(())
    })
}

fn locked(registry: &Shared) -> Result<std::sync::MutexGuard<'_, Registry>> {
    registry.lock().map_err(|_| anyhow::anyhow!("the registry lock is poisoned"))
}

async fn bare_connection(tcp: tokio::net::TcpStream, registry: Shared) -> Result<()> {
    // The relay's WebSocket buffers, so that memory per connection compares like with like.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(huddle_shared::limits::MAX_FRAME_BYTES))
        .max_frame_size(Some(huddle_shared::limits::MAX_FRAME_BYTES));
    let ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
    let (mut sink, mut stream) = ws.split();
    let intro = match stream.next().await {
        Some(Ok(Message::Text(intro))) => intro.to_string(),
        _ => return Ok(()),
    };
    let (name, group) = match intro.split_once(" in ") {
        Some((name, group)) => (name.to_owned(), Some(group.to_owned())),
        None => (intro, None),
    };
    let (tx, mut rx) = mpsc::channel::<Message>(4096);
    {
        let mut r = locked(&registry)?;
        r.by_name.insert(name.clone(), tx.clone());
        if let Some(group) = group {
            r.groups.entry(group).or_default().push((name.clone(), tx.clone()));
        }
    }
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // Whatever else is queued goes out with it, in one flush.
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let mut known: HashMap<String, Vec<mpsc::Sender<Message>>> = HashMap::new();
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else { continue };
        let Some(rest) = text.as_str().strip_prefix("to ") else { continue };
        let (to, _payload) = rest.split_once('|').context("a bare message without a payload")?;
        if !known.contains_key(to) {
            let r = locked(&registry)?;
            let outboxes = match to.strip_prefix('#') {
                Some(group) => r
                    .groups
                    .get(group)
                    .map(|members| members.iter().filter(|(n, _)| *n != name).map(|(_, tx)| tx.clone()).collect())
                    .unwrap_or_default(),
                None => r.by_name.get(to).cloned().into_iter().collect(),
            };
            known.insert(to.to_owned(), outboxes);
        }
        for outbox in known.get(to).into_iter().flatten() {
            let _ = outbox.send(Message::Text(text.clone())).await;
        }
        let _ = tx.send(Message::text("ok")).await;
    }
    Ok(())
}
