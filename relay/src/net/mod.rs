//! The network shell around the core: accept loop, TLS, WebSocket handshake, one task per connection, the core
//! thread, and graceful shutdown. Only this module knows about sockets and WebSocket.
//!
//! Bounds (each queue is bounded; see also `assets/relay.toml`):
//! - connections: `max_connections`, a semaphore acquired *before* the handshake; excess connections get
//!   `server_busy` (at most [`MAX_REJECTING`] such answers in flight; beyond that the TCP connection is dropped);
//!   per address and for connections not logged in, see `admission` (`too_many_connections`, `server_busy`); a
//!   connection not logged in `login_timeout_secs` after accept is closed with `login_timeout`;
//! - core inbox: [`CORE_QUEUE`] inputs; connection tasks wait when it is full, which stops them reading their socket
//!   (TCP backpressure) instead of buffering;
//! - per-connection outbound queue: `limits.outbound_queue` frames and `limits.outbound_queue_bytes` bytes, all
//!   queues together `limits.outbound_total_bytes` (see `outbound`); full means slow reader → closed with
//!   `slow_consumer`, and it resumes from storage on reconnect;
//! - WebSocket buffers: 2 KiB read buffer, messages and frames up to `MAX_FRAME_BYTES`; the write buffer holds what
//!   one write hands it (`connection::COALESCED_BYTES`, or one larger frame), capped at [`MAX_WRITE_BUFFER`], and
//!   counted in `limits.outbound_total_bytes` until written (or the write is abandoned);
//! - password jobs: `passwords.max_concurrent_hashes` threads (a fixed pool, see `hash_pool`), at most
//!   `core::MAX_PENDING_JOBS` queued.

mod admission;
mod connection;
mod core_loop;
mod feeds;
mod hash_pool;
mod outbound;
mod progress;
mod rate;
mod tls;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use huddle_shared::limits::MAX_FRAME_BYTES;
use huddle_shared::{ErrorCode, RelayName};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use connection::{ConnSettings, Connection};
use core_loop::{CoreLoop, CoreMsg};
pub use core_loop::{MAX_BATCH, MIN_OUTBOUND_QUEUE, now_millis};

use crate::config::Config;
use crate::core::{ConnId, Core, CoreConfig};
use crate::password::{self, PasswordParams};
use crate::storage::Storage;

/// Inputs waiting for the core thread.
pub const CORE_QUEUE: usize = 1024;
/// Connections being told `server_busy` at once.
pub const MAX_REJECTING: usize = 32;
/// The WebSocket's write buffer at most: more than any frame the relay sends (a `history` page of 200 messages whose
/// 8 KiB bodies are all escaped newlines is about 3.3 MB), so a large answer is never refused by the buffer.
pub const MAX_WRITE_BUFFER: usize = 8 * 1024 * 1024;
/// How long shutdown waits for connections to close before the final commit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Everything [`serve`] needs besides the listener.
pub struct RelaySetup<S: Storage + 'static> {
    pub config: Config,
    pub relay: RelayName,
    pub storage: S,
    pub params: PasswordParams,
}

/// Builds the core's settings from the config.
pub fn core_config(config: &Config, params: PasswordParams) -> anyhow::Result<CoreConfig> {
    let dummy_phc = password::dummy(params).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let l = &config.limits;
    let window_ms = i64::try_from(l.login_failure_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    Ok(CoreConfig {
        registration: config.registration,
        limits: huddle_shared::model::Limits {
            max_frame_bytes: MAX_FRAME_BYTES,
            max_body_bytes: huddle_shared::limits::MAX_BODY_BYTES,
            max_handles: huddle_shared::limits::MAX_HANDLES_PER_ACCOUNT,
            max_sync_page: huddle_shared::limits::MAX_SYNC_PAGE,
            max_history_page: huddle_shared::limits::MAX_HISTORY_PAGE,
            frames_per_second: l.frames_per_second,
            frame_burst: l.frame_burst,
        },
        dummy_phc,
        login_failures_per_ip: l.login_failures_per_address,
        login_failure_window_ms: window_ms,
        login_guard: crate::core::login_guard::GuardLimits {
            free_failures: l.login_free_failures,
            max_delay_ms: i64::try_from(l.login_max_delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            per_key_per_minute: l.login_failures_per_handle,
            forget_after_ms: window_ms,
        },
        registrations_per_ip_per_hour: l.registrations_per_address_per_hour,
        register_attempts_per_ip_per_hour: l.registration_attempts_per_address_per_hour,
        friend_requests_per_hour: l.friend_requests_per_hour,
        new_handles_per_account_per_day: l.new_handles_per_account_per_day,
        connections_per_account: l.connections_per_account,
        budgets: crate::core::budget::BudgetLimits {
            messages_per_second: f64::from(l.messages_per_second_per_account),
            message_burst: f64::from(l.message_burst_per_account),
            bytes_per_second: f64::from(l.message_bytes_per_second_per_account),
            bytes_burst: f64::from(l.message_bytes_burst_per_account),
            stored_bytes_per_day: l.stored_mib_per_account_per_day.saturating_mul(1024 * 1024),
        },
        sync_batch_bytes: 256 * 1024,
        huddles: config.huddles.rules(),
    })
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        // Frames queued together are written together (see `Connection::write_all`) up to this much; the buffer
        // grows to it only for a connection that is sent that much at once.
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
}

/// Binds the webhook's listener, if the config asks for one.
pub async fn bind_webhook(config: &Config) -> anyhow::Result<Option<TcpListener>> {
    match config.webhook_listen {
        Some(listen) => Ok(Some(
            TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen} for the webhook"))?,
        )),
        None => Ok(None),
    }
}

/// Serves until `shutdown` resolves (or storage fails), then closes every connection with `shutting_down`, commits,
/// and returns. Returns an error only for a storage failure.
pub async fn serve<S: Storage + 'static>(
    setup: RelaySetup<S>,
    listener: TcpListener,
    webhook: Option<TcpListener>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let RelaySetup { config, relay, storage, params } = setup;
    let tls = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let core_config = core_config(&config, params)?;
    let watched = storage.data_dir();
    let core = Core::new(storage, relay, core_config).context("cannot load the relay's data")?;
    let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE);
    let hashes = hash_pool::HashPool::start(
        config.passwords.max_concurrent_hashes,
        crate::core::MAX_PENDING_JOBS,
        core_tx.clone(),
    )?;
    let (deadlines, deadline_rx) = watch::channel(0);
    let feeds = feeds::FeedFetcher::new(core_tx.clone(), config.huddles.feed_allow_private_addresses);
    let bounds = outbound::ByteBounds {
        per_connection: config.limits.outbound_queue_bytes,
        total: config.limits.outbound_total_bytes,
    };
    let core_loop = CoreLoop { core, rx: core_rx, hashes, feeds, params, deferred: Vec::new(), deadlines, bounds };
    let (fatal_tx, mut fatal_rx) = tokio::sync::oneshot::channel::<String>();
    let core_thread = std::thread::Builder::new().name("huddle-core".to_owned()).spawn(move || {
        let result = core_loop.run();
        if let Err(e) = &result {
            let _ = fatal_tx.send(e.to_string());
        }
        result
    })?;

    let (shutdown_tx, _) = broadcast::channel::<()>(1);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let rejecting = Arc::new(Semaphore::new(MAX_REJECTING));
    let admission = admission::Admission::new(admission::AdmissionLimits {
        per_address: config.limits.connections_per_address,
        unauthenticated_per_address: config.limits.unauthenticated_per_address,
        unauthenticated: config.limits.unauthenticated_connections,
    });
    let settings = ConnSettings {
        outbound_queue: config.outbound_queue(),
        frames_per_second: config.limits.frames_per_second,
        frame_burst: config.limits.frame_burst,
        ping_interval: Duration::from_secs(config.limits.ping_interval_secs),
        ping_misses: config.limits.ping_misses,
        login_timeout: Duration::from_secs(config.limits.login_timeout_secs),
        outbound_queue_bytes: config.limits.outbound_queue_bytes,
        all_bytes: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
    };
    let handshake_timeout = Duration::from_secs(config.limits.handshake_timeout_secs);
    let ticker = tokio::spawn(timer(core_tx.clone(), deadline_rx));
    let disk_watch = match watched {
        Some(dir) => {
            let floor = config.limits.min_free_disk_mib.saturating_mul(1024 * 1024);
            // Looked at once before the first connection, so nothing is stored below the floor even at start.
            let low = disk_low(&dir, floor, false);
            if low {
                let _ = core_tx.send(CoreMsg::Input(crate::core::Input::DiskLow(true))).await;
            }
            Some(tokio::spawn(watch_disk(core_tx.clone(), dir, floor, low)))
        }
        None => None,
    };
    if let Some(webhook) = webhook {
        tokio::spawn(webhook::serve(webhook, tls.clone(), core_tx.clone(), shutdown_tx.subscribe()));
    }
    tokio::pin!(shutdown);
    let mut next_conn = 0u64;
    let mut backoff = Duration::from_millis(5);
    let mut fatal = None;
    if let Some(warning) = config.outbound_queue_raised() {
        tracing::warn!("{warning}");
    }
    tracing::info!(listen = %listener.local_addr()?, tls = tls.is_some(), "relay listening");
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            message = &mut fatal_rx => {
                fatal = Some(message.unwrap_or_else(|_| "the core stopped".to_owned()));
                break;
            }
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => {
                backoff = Duration::from_millis(5);
                pair
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed; backing off {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let accepted = tokio::time::Instant::now();
        let _ = stream.set_nodelay(true);
        let admitted =
            Arc::clone(&slots).try_acquire_owned().map_err(|_| ErrorCode::ServerBusy).and_then(|slot| match admission
                .admit(peer.ip())
            {
                Ok(admitted) => Ok((slot, admitted)),
                Err(admission::Refusal::Address) => Err(ErrorCode::TooManyConnections),
                Err(admission::Refusal::Unauthenticated) => Err(ErrorCode::ServerBusy),
            });
        let (slot, admitted) = match admitted {
            Ok(pair) => pair,
            Err(code) => {
                tracing::debug!(%peer, %code, "connection refused");
                if let Ok(permit) = Arc::clone(&rejecting).try_acquire_owned() {
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let _permit = permit;
                        reject(stream, tls, handshake_timeout, code).await;
                    });
                }
                continue;
            }
        };
        next_conn += 1;
        let conn = ConnId(next_conn);
        let core = core_tx.clone();
        let shutdown_rx = shutdown_tx.subscribe();
        let settings = settings.clone();
        let tls = tls.clone();
        let bytes = Arc::new(outbound::OutboundBytes::new(Arc::clone(&settings.all_bytes)));
        let stream = progress::Watched::new(stream, Arc::clone(&bytes));
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                Some(acceptor) => {
                    let handshake = async {
                        let stream = acceptor.accept(stream).await?;
                        Ok::<_, anyhow::Error>(
                            tokio_tungstenite::accept_async_with_config(stream, Some(ws_config())).await?,
                        )
                    };
                    match tokio::time::timeout(handshake_timeout, handshake).await {
                        Ok(Ok(ws)) => {
                            let shutdown = shutdown_rx;
                            Connection { conn, peer, ws, bytes, core, shutdown, settings, admitted, accepted }
                                .run()
                                .await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "handshake failed"),
                        Err(_) => tracing::debug!(%peer, "handshake timed out"),
                    }
                }
                None => {
                    let handshake = tokio_tungstenite::accept_async_with_config(stream, Some(ws_config()));
                    match tokio::time::timeout(handshake_timeout, handshake).await {
                        Ok(Ok(ws)) => {
                            let shutdown = shutdown_rx;
                            Connection { conn, peer, ws, bytes, core, shutdown, settings, admitted, accepted }
                                .run()
                                .await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "handshake failed"),
                        Err(_) => tracing::debug!(%peer, "handshake timed out"),
                    }
                }
            }
        });
    }

    tracing::info!("shutting down: closing connections");
    drop(listener);
    let _ = shutdown_tx.send(());
    // Every connection holds a slot; having them all back means every task has ended.
    let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all)).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
    ticker.abort();
    if let Some(watch) = disk_watch {
        watch.abort();
    }
    let _ = core_tx.send(CoreMsg::Shutdown).await;
    drop(core_tx);
    let joined = tokio::task::spawn_blocking(move || core_thread.join()).await;
    match (fatal, joined) {
        (Some(message), _) => anyhow::bail!("storage failed: {message}"),
        (None, Ok(Ok(Ok(())))) => {
            tracing::info!("storage flushed; bye");
            Ok(())
        }
        (None, Ok(Ok(Err(e)))) => Err(e).context("storage failed during shutdown"),
        (None, _) => anyhow::bail!("the core thread panicked"),
    }
}

/// Sleeps until the core's next deadline and tells it when the time has come. The core publishes its deadline after
/// every batch, so a deadline reported is followed by the next one; the clock is the relay's wall clock, as the core's
/// `now` is.
async fn timer(core: mpsc::Sender<CoreMsg>, mut deadlines: watch::Receiver<huddle_shared::Millis>) {
    loop {
        let deadline = *deadlines.borrow_and_update();
        let wait = Duration::from_millis(u64::try_from(deadline - now_millis()).unwrap_or(0));
        tokio::select! {
            () = tokio::time::sleep(wait) => {
                if core.send(CoreMsg::Input(crate::core::Input::Deadline)).await.is_err() {
                    return;
                }
                // Wait for the core to have handled it (and published what comes next) before looking again.
                if deadlines.changed().await.is_err() {
                    return;
                }
            }
            changed = deadlines.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// How often the free space of the data directory's file system is looked at.
const DISK_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Tells the core when the data directory's file system goes below `floor` free bytes, and when it is above it again:
/// below it the relay stores nothing new (`storage_full`) instead of filling the disk until SQLite fails and the relay
/// stops for everyone.
async fn watch_disk(core: mpsc::Sender<CoreMsg>, dir: std::path::PathBuf, floor: u64, mut low: bool) {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + DISK_CHECK_INTERVAL, DISK_CHECK_INTERVAL);
    loop {
        interval.tick().await;
        let path = dir.clone();
        let Ok(now_low) = tokio::task::spawn_blocking(move || disk_low(&path, floor, low)).await else { continue };
        if now_low == low {
            continue;
        }
        low = now_low;
        if core.send(CoreMsg::Input(crate::core::Input::DiskLow(low))).await.is_err() {
            return;
        }
    }
}

/// Whether the file system of `dir` has less than `floor` bytes free (`was`: what it was last time, to log only
/// changes; when the space cannot be read, it stays what it was).
fn disk_low(dir: &std::path::Path, floor: u64, was: bool) -> bool {
    let Ok(free) = fs4::available_space(dir) else { return was };
    let low = free < floor;
    if low && !was {
        tracing::warn!(
            free_mib = free / (1024 * 1024),
            floor_mib = floor / (1024 * 1024),
            "the data directory's disk is nearly full: new messages and accounts are refused until there is room"
        );
    } else if !low && was {
        tracing::info!(free_mib = free / (1024 * 1024), "there is room on the disk again: storing new messages");
    }
    low
}

/// Completes the handshakes only to say `bye` with `code` (`server_busy`, `too_many_connections`).
async fn reject(stream: TcpStream, tls: Option<tokio_rustls::TlsAcceptor>, timeout: Duration, code: ErrorCode) {
    let _ = tokio::time::timeout(timeout, async {
        match tls {
            Some(acceptor) => {
                if let Ok(stream) = acceptor.accept(stream).await {
                    if let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(ws_config())).await {
                        connection::bye(&mut ws, code, connection::close_code(code)).await;
                    }
                }
            }
            None => {
                if let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(ws_config())).await {
                    connection::bye(&mut ws, code, connection::close_code(code)).await;
                }
            }
        }
    })
    .await;
}

/// A relay started in the background, for embedding (the client's personal relay) and tests.
pub struct RunningRelay {
    pub addr: SocketAddr,
    /// Where the webhook listens, when the config asked for one.
    pub webhook_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningRelay {
    /// Binds `setup.config.listen` and serves in a background task.
    pub async fn start<S: Storage + 'static>(setup: RelaySetup<S>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(setup.config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", setup.config.listen))?;
        let addr = listener.local_addr()?;
        let webhook = bind_webhook(&setup.config).await?;
        let webhook_addr = webhook.as_ref().and_then(|w| w.local_addr().ok());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(setup, listener, webhook, async {
            let _ = stopped.await;
        }));
        Ok(Self { addr, webhook_addr, stop: Some(stop), task })
    }

    /// Graceful shutdown; returns once storage is flushed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("the relay task panicked")?
    }
}
