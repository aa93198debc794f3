//! `huddle-relay`: run a relay (`serve`, the default), write the default config (`init`), and administer users and
//! invite codes. Admin commands work on the database directly, also while the relay runs.
//!
//! Before it uses its data, every command checks the data directory (refused if other users can write to it) and the
//! database file (made private to its owner; refused if empty). `serve` also checks the whole file for damage and
//! the open-files limit against `max_connections`, and refuses to start rather than fail later (docs/relay.md, "Data
//! at rest and start-up checks").

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use huddle_relay::admin::Admin;
use huddle_relay::config::{Config, DEFAULT_CONFIG};
use huddle_relay::net::now_millis;
use huddle_relay::open_files::Outcome;
use huddle_relay::storage::{IntegrityCheck, SqliteStorage};
use huddle_relay::{RelaySetup, password};
use huddle_shared::Handle;

/// mimalloc rather than the system's malloc: after a burst (a flood of messages for readers that stopped reading, a
/// large huddle forming) it gives the memory back to the system, where glibc's malloc kept most of it in its
/// per-thread arenas (measured with `huddle-bench --only stuck`, see docs/relay.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "huddle-relay",
    version,
    about = "A Huddle relay: chat for you and your friends, on one machine you run."
)]
struct Cli {
    /// Config file. Default: ./relay.toml if it exists, else the platform config dir's huddle-relay/relay.toml if it
    /// exists, else built-in defaults.
    #[arg(long, global = true, env = "HUDDLE_RELAY_CONFIG")]
    config: Option<PathBuf>,
    /// Where the database lives (overrides `data_dir` in the config).
    #[arg(long, global = true, env = "HUDDLE_RELAY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relay (the default command).
    Serve {
        /// Address to listen on (overrides `listen` in the config), e.g. 127.0.0.1:7300.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Write the documented default config file.
    Init {
        /// Where to write it.
        #[arg(default_value = "relay.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage invite codes (for `registration = "invite"`).
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Write a consistent copy of the database to FILE, also while the relay runs.
    Backup {
        /// Where to write the copy (must not exist yet).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. Prints a generated password unless --password-stdin is given.
    Add {
        handle: Handle,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts with their handles.
    List,
    /// Disable the account owning HANDLE and end its sessions.
    Disable { handle: Handle },
    /// Enable a disabled account again.
    Enable { handle: Handle },
    /// Set a new password for the account owning HANDLE and end its sessions.
    ResetPassword {
        handle: Handle,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum InviteCommand {
    /// Make new single-use invite codes.
    Create {
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// List invite codes and who used them.
    List,
    /// Revoke an unused invite code.
    Revoke {
        // Codes made by older versions may start with '-'.
        #[arg(allow_hyphen_values = true)]
        code: String,
    },
}

/// The exit status of a refusal that starting again cannot fix (a damaged or empty database, a data directory others
/// can write to, too few open files, an invalid config): sysexits' EX_CONFIG. The systemd unit names it in
/// `RestartPreventExitStatus=`, so such a relay stops with its message instead of being restarted over and over.
const EXIT_REFUSED: u8 = 78;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("huddle-relay: {e:#}");
            if refused(&e) { std::process::ExitCode::from(EXIT_REFUSED) } else { std::process::ExitCode::FAILURE }
        }
    }
}

/// Whether `e` is a refusal to start that waits for the admin (see [`EXIT_REFUSED`]).
fn refused(e: &anyhow::Error) -> bool {
    use huddle_relay::storage::StorageError;
    e.chain().any(|cause| {
        cause.downcast_ref::<huddle_relay::config::ConfigError>().is_some()
            || cause.downcast_ref::<huddle_relay::open_files::TooFewFiles>().is_some()
            || matches!(
                cause.downcast_ref::<StorageError>(),
                Some(
                    StorageError::DataDirWritable { .. }
                        | StorageError::EmptyDatabase { .. }
                        | StorageError::Damaged { .. }
                        | StorageError::TooNew(_)
                        | StorageError::RelayNameMismatch { .. }
                )
            )
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve { listen: None });
    if let Command::Init { path, force } = &command {
        return init(path, *force);
    }
    let mut config = load_config(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = Some(dir);
    }
    if let Command::Serve { listen: Some(listen) } = &command {
        config.listen = *listen;
    }
    // Validated after the command-line overrides, so `--listen` cannot slip past the TLS rule.
    config.validate()?;
    init_logging(&config, matches!(command, Command::Serve { .. }))?;
    match command {
        Command::Serve { .. } => serve(config),
        Command::User(cmd) => user(&config, cmd),
        Command::Invite(cmd) => invite(&config, cmd),
        Command::Backup { file } => {
            anyhow::ensure!(!file.exists(), "{} already exists; choose a new file name", file.display());
            open_storage(&config, IntegrityCheck::Skip)?
                .backup_to(&file)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!("Wrote a consistent copy of the relay's data to {}.", file.display());
            Ok(())
        }
        Command::Init { .. } => Ok(()),
    }
}

fn init(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        anyhow::bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    std::fs::write(path, DEFAULT_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
    println!("Wrote {}. Edit `name` (your relay's DNS name) before the first start.", path.display());
    Ok(())
}

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let candidates: Vec<PathBuf> = match path {
        Some(p) => vec![p.to_owned()],
        None => {
            let mut list = vec![PathBuf::from("relay.toml")];
            if let Some(dirs) = directories::ProjectDirs::from("org", "huddle", "huddle-relay") {
                list.push(dirs.config_dir().join("relay.toml"));
            }
            list.into_iter().filter(|p| p.exists()).collect()
        }
    };
    Ok(match candidates.first() {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    })
}

/// The log on standard error: `serve` logs as the config's `log` says, the admin commands only warnings (about the
/// data directory or the database's files); `RUST_LOG` overrides both. Colour only on a terminal, so that a log file
/// or the journal gets plain text.
fn init_logging(config: &Config, serving: bool) -> anyhow::Result<()> {
    let configured = if serving { config.log.as_str() } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(configured))
        .context("`log` in the config is not a valid filter")?;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    huddle_relay::logging::init(filter, std::io::stderr, ansi);
    Ok(())
}

/// Checks the data directory, then opens the database in it (which makes its files private and refuses an empty
/// one), with the integrity check `check`.
fn open_storage(config: &Config, check: IntegrityCheck) -> anyhow::Result<SqliteStorage> {
    let dir = config.resolved_data_dir()?;
    for warning in huddle_relay::storage::check_data_dir(&dir)? {
        tracing::warn!("{warning}");
    }
    let path = dir.join("relay.db");
    Ok(SqliteStorage::open_with(&path, &config.relay_name()?, check)?)
}

fn serve(config: Config) -> anyhow::Result<()> {
    match huddle_relay::open_files::ensure(&config)? {
        Outcome::Enough { soft, needed } => tracing::debug!(limit = soft, needed, "open-files limit"),
        Outcome::Raised { from, to, needed } => tracing::info!(
            "raised the open-files limit from {from} to {to}: max_connections = {} needs {needed}",
            config.max_connections
        ),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let check = if config.check_database_at_start { IntegrityCheck::Quick } else { IntegrityCheck::Skip };
        let storage = open_storage(&config, check)?;
        tracing::info!(
            name = %config.name,
            data = %config.resolved_data_dir()?.display(),
            registration = ?config.registration,
            "starting huddle-relay {}",
            env!("CARGO_PKG_VERSION")
        );
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let webhook = huddle_relay::net::bind_webhook(&config).await?;
        let setup = RelaySetup { relay: config.relay_name()?, params: config.password_params(), storage, config };
        huddle_relay::serve(setup, listener, webhook, shutdown_signal()).await
    })
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn read_or_generate_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(
            (huddle_shared::limits::MIN_PASSWORD_BYTES..=huddle_shared::limits::MAX_PASSWORD_BYTES)
                .contains(&password.len()),
            "passwords must be 8 to 1024 bytes long"
        );
        Ok((password, false))
    } else {
        let generated = password::new_secret().map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        Ok((generated[..20].to_owned(), true))
    }
}

fn admin(config: &Config) -> anyhow::Result<Admin<SqliteStorage>> {
    Ok(Admin::open(open_storage(config, IntegrityCheck::Skip)?, config.relay_name()?)?)
}

fn user(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let mut admin = admin(config)?;
    let address = |h: &Handle| format!("{h}@{}", config.name);
    match cmd {
        UserCommand::Add { handle, password_stdin } => {
            let (pw, generated) = read_or_generate_password(password_stdin)?;
            let phc = password::hash(&pw, config.password_params()).map_err(|e| anyhow::anyhow!(e))?;
            admin.add_user(&handle, phc, now_millis())?;
            println!("Created {}.", address(&handle));
            if generated {
                println!("Password: {pw}\nGive it to its owner; they can change it from their client.");
            }
        }
        UserCommand::List => {
            let users = admin.list_users();
            if users.is_empty() {
                println!("No accounts yet.");
            }
            for u in users {
                let handles: Vec<String> = u.handles.iter().map(&address).collect();
                println!(
                    "{}{}  ({} session{})",
                    handles.join(", "),
                    if u.disabled { "  [disabled]" } else { "" },
                    u.sessions,
                    if u.sessions == 1 { "" } else { "s" }
                );
            }
        }
        UserCommand::Disable { handle } => {
            admin.set_disabled(&handle, true)?;
            println!("Disabled the account of {}; its sessions are ended.", address(&handle));
        }
        UserCommand::Enable { handle } => {
            admin.set_disabled(&handle, false)?;
            println!("Enabled the account of {}.", address(&handle));
        }
        UserCommand::ResetPassword { handle, password_stdin } => {
            let (pw, generated) = read_or_generate_password(password_stdin)?;
            let phc = password::hash(&pw, config.password_params()).map_err(|e| anyhow::anyhow!(e))?;
            admin.reset_password(&handle, phc)?;
            println!("Reset the password of {}; its sessions are ended.", address(&handle));
            if generated {
                println!("New password: {pw}");
            }
        }
    }
    Ok(())
}

fn invite(config: &Config, cmd: InviteCommand) -> anyhow::Result<()> {
    let mut admin = admin(config)?;
    match cmd {
        InviteCommand::Create { count } => {
            for _ in 0..count.max(1) {
                println!("{}", admin.create_invite(now_millis())?);
            }
        }
        InviteCommand::List => {
            let invites = admin.list_invites();
            if invites.is_empty() {
                println!("No invite codes yet. Make one with `huddle-relay invite create`.");
            }
            for i in invites {
                let status = match (i.revoked, admin.invite_user(&i)) {
                    (_, Some(h)) => format!("used by {h}"),
                    (true, None) => "revoked".to_owned(),
                    (false, None) => "unused".to_owned(),
                };
                println!("{}  {status}", i.code);
            }
        }
        InviteCommand::Revoke { code } => {
            admin.revoke_invite(&code)?;
            println!("Revoked {code}.");
        }
    }
    Ok(())
}
