//! `huddle`: the terminal client. `huddle` starts it (the welcome screen the first time); `huddle demo` starts a
//! personal relay with three scripted friends; `huddle man` and `huddle completions SHELL` print the man page and a
//! completion script. Logs go to a file in the data directory, never to the screen.

use std::path::PathBuf;

use anyhow::Context;
use std::io::Write;

use clap::Parser;
use huddle_client::cli::{Cli, Command};
use huddle_client::config::{ClientConfig, Paths, RelayChoice};
use huddle_client::keymap::Keymap;
use huddle_client::runtime::{Runtime, Start};
use huddle_client::theme::{self, Theme};
use huddle_client::token_store::TokenStore;

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("huddle: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Man) => return Ok(std::io::stdout().write_all(&huddle_client::cli::man_page()?)?),
        Some(Command::Completions { shell }) => {
            return Ok(std::io::stdout().write_all(&huddle_client::cli::completions(shell))?);
        }
        _ => {}
    }
    let paths = Paths::new(cli.config_dir.clone(), cli.data_dir.clone())?;
    std::fs::create_dir_all(&paths.data_dir)
        .with_context(|| format!("cannot create the data directory {}", paths.data_dir.display()))?;
    let log_dir = paths.log_file.parent().map(PathBuf::from).unwrap_or_else(|| paths.data_dir.clone());
    let log_name =
        paths.log_file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "huddle.log".into());
    let (writer, _log_guard) = tracing_appender::non_blocking(tracing_appender::rolling::never(log_dir, log_name));
    let filter = tracing_subscriber::EnvFilter::try_from_env("HUDDLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    huddle_relay::logging::init(filter, writer, false);

    let mut config = ClientConfig::load(&paths)?;
    if let Some(url) = cli.relay {
        config.relay = Some(RelayChoice::Remote { url });
    }
    if let Some(ca) = cli.ca_file {
        config.ca_file = Some(ca);
    }
    let keymap = Keymap::load(huddle_client::config::load_user_file(&paths.keymap_file)?.as_deref())?;
    let theme =
        Theme::load(huddle_client::config::load_user_file(&paths.theme_file)?.as_deref(), theme::no_color_from_env())?;
    let look = huddle_client::look::look(&theme, &keymap);
    let tokens =
        if cli.no_keyring { TokenStore::file_only(&paths.data_dir) } else { TokenStore::open(&paths.data_dir) };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let demo = matches!(cli.command, Some(Command::Demo));
        let mut rt = Runtime {
            paths: paths.clone(),
            config,
            keymap,
            look,
            tokens,
            worker: None,
            personal: None,
            relay_url: String::new(),
            account: None,
            dbus: Default::default(),
        };
        if demo {
            let prepared = huddle_client::demo::start(&paths.data_dir.join("demo")).await?;
            // The demo's session lives only in memory: nothing is saved in the user's config or keyring.
            rt.tokens = TokenStore::file_only(&paths.data_dir.join("demo"));
            // Mutes and archives of the demo stay with the demo too.
            rt.paths.data_dir = paths.data_dir.join("demo");
            rt.personal = Some(prepared.relay);
            let start = Start::Demo { url: prepared.url, account: prepared.account.to_string(), token: prepared.token };
            return rt.run(start).await;
        }
        rt.run(Start::Configured).await
    })
}
