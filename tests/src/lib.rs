#![allow(clippy::unwrap_used, clippy::expect_used)]
// A failed expectation in test support is a failed test: helpers here panic with a message (unwrap, expect, assert)
// instead of returning errors, so that the test calling them fails at the right place and says why.

//! Support for Huddle's end-to-end tests: real relays on loopback, real WebSocket clients, the real binary.
//!
//! - [`TestRelay`]: an in-process relay (`RunningRelay`) on `127.0.0.1:0` with SQLite in a temporary directory and
//!   cheap password hashing; it can be restarted on the same data.
//! - [`Client`]: a WebSocket client speaking JSON frames through `huddle_shared::codec`. `request` returns the answer
//!   carrying the request's id and buffers every other frame (pushes) for `expect_push` / `drain`.
//! - [`RelayProcess`]: the `huddle-relay` binary as a child process, for SIGKILL and signal tests.
//! - [`pty`]: the `huddle` client binary in a pseudo-terminal, its screen read through vt100.
//!
//! Every wait has a timeout ([`WAIT`]) so no test can hang; timeouts are hang guards, never performance assertions.
//! "Nothing arrived" is checked with [`Client::barrier`], a round trip on the same connection, never with a sleep.
//!
//! # The binary
//! `huddle-relay` is a dependency of this crate, but Cargo only builds its library for us, not its binary, and
//! `CARGO_BIN_EXE_*` exists only for tests of the binary's own package. [`relay_binary`] therefore looks for
//! `target/<profile>/huddle-relay` next to the test executable's `deps/` directory (or `$HUDDLE_RELAY_BIN`). Build it
//! first: `cargo build -p huddle-relay && cargo test -p huddle-tests` (`.ci/run` does this). Cargo does not rebuild it
//! for `cargo test` alone, so after changing relay code, build it again or the binary tests run the old one.

pub mod pty;
pub mod scripted;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle_relay::admin::Admin;
use huddle_relay::config::Config;
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::SqliteStorage;
use huddle_relay::{RelaySetup, RunningRelay};
use huddle_shared::client::*;
use huddle_shared::codec::{decode_server, encode_client};
use huddle_shared::model::{
    Event, FriendEntry, FriendList, ItemBody, Message, PresenceState, RegistrationPolicy, RequestAnswer, StreamItem,
};
use huddle_shared::server::HandleInfo;
use huddle_shared::{Address, ClientFrame, ErrorCode, Handle, MessageId, RelayName, RequestId, ServerFrame, SessionId};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// How long any single wait may take before the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(10);

/// The relay name every test relay uses: addresses are `handle@localhost`.
pub const RELAY_NAME: &str = "localhost";

/// A handle, for tests.
pub fn h(handle: &str) -> Handle {
    Handle::parse(handle).unwrap_or_else(|e| panic!("bad test handle {handle:?}: {e}"))
}

/// The full address of a handle on a test relay, as the relay writes it.
pub fn addr(handle: &str) -> Address {
    Address::parse(&format!("{handle}@{RELAY_NAME}")).unwrap_or_else(|e| panic!("bad test handle {handle:?}: {e}"))
}

/// A `send` of `body` to `to`, request `id`, without receipts.
pub fn direct_message(id: RequestId, to: &str, body: &str, client_msg_id: &str) -> ClientFrame {
    ClientFrame::Send(SendMessage {
        id,
        acting: None,
        room: None,
        to: Some(addr(to)),
        body: body.to_owned(),
        client_msg_id: client_msg_id.to_owned(),
        receipts: false,
    })
}

/// The password the helpers register each handle with.
pub fn password_for(handle: &str) -> String {
    format!("{handle}-secret-password")
}

/// The config every [`TestRelay`] starts from: loopback, port 0, frame limits high enough that only tests about
/// rate limits meet them, and registration limits that a test registering many users does not hit.
pub fn test_config() -> Config {
    let mut config = Config { listen: SocketAddr::from(([127, 0, 0, 1], 0)), ..Config::default() };
    config.name = RELAY_NAME.to_owned();
    config.limits.frames_per_second = 1000;
    config.limits.frame_burst = 1000;
    config.limits.registrations_per_address_per_hour = 1000;
    // Every test connects from 127.0.0.1, many at once, and sends in bursts: the limits on one address and one
    // account are lifted, except in the tests about them (`abuse.rs`), which set their own.
    config.limits.registration_attempts_per_address_per_hour = 100_000;
    config.limits.connections_per_address = 100_000;
    config.limits.unauthenticated_per_address = 100_000;
    config.limits.unauthenticated_connections = 100_000;
    config.limits.messages_per_second_per_account = 1_000_000;
    config.limits.message_burst_per_account = 1_000_000;
    config.limits.message_bytes_per_second_per_account = u32::MAX;
    config.limits.message_bytes_burst_per_account = u32::MAX;
    config.limits.stored_mib_per_account_per_day = 1_000_000;
    config
}

// ---------------------------------------------------------------------------------------------------------------
// In-process relay
// ---------------------------------------------------------------------------------------------------------------

/// An in-process relay on `127.0.0.1:0` with SQLite in a temporary directory.
pub struct TestRelay {
    dir: tempfile::TempDir,
    config: Config,
    running: Option<RunningRelay>,
    addr: SocketAddr,
    /// The self-signed certificate clients must trust, when the relay serves TLS.
    tls_cert: Option<rustls_pki_types::CertificateDer<'static>>,
}

impl TestRelay {
    /// Open registration, the [`test_config`] defaults.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn with_policy(policy: RegistrationPolicy) -> Self {
        Self::start_with(|c| c.registration = policy).await
    }

    /// Starts from [`test_config`] changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = test_config();
        configure(&mut config);
        config.validate().expect("the test relay's config is valid");
        let running = launch(&config, dir.path()).await;
        let addr = running.addr;
        Self { dir, config, running: Some(running), addr, tls_cert: None }
    }

    /// A relay serving `wss://` with a self-signed certificate for `localhost` made now.
    pub async fn start_tls() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let cert = SelfSigned::write(dir.path());
        let mut config = test_config();
        config.tls.cert = Some(cert.cert_path.clone());
        config.tls.key = Some(cert.key_path.clone());
        config.validate().expect("the TLS config is valid");
        let running = launch(&config, dir.path()).await;
        let addr = running.addr;
        Self { dir, config, running: Some(running), addr, tls_cert: Some(cert.der) }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/`, or `wss://localhost:PORT/` with TLS.
    pub fn url(&self) -> String {
        if self.tls_cert.is_some() {
            format!("wss://localhost:{}/", self.addr.port())
        } else {
            format!("ws://{}/", self.addr)
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("relay.db")
    }

    /// The admin operations on this relay's database (the running relay picks changes up within about a second).
    pub fn admin(&self) -> Admin<SqliteStorage> {
        let name = RelayName::parse(RELAY_NAME).unwrap();
        let storage = SqliteStorage::open(&self.db_path(), &name).expect("open the relay's database");
        Admin::open(storage, name).expect("admin on the relay's database")
    }

    /// Graceful stop, then a start on the same data directory (a new port).
    pub async fn restart(&mut self) {
        self.stop_running().await;
        let running = launch(&self.config, self.dir.path()).await;
        self.addr = running.addr;
        self.running = Some(running);
    }

    /// Graceful stop: every connection gets `bye` `shutting_down`, storage is flushed.
    pub async fn stop(mut self) {
        self.stop_running().await;
    }

    async fn stop_running(&mut self) {
        let running = self.running.take().expect("the relay is running");
        tokio::time::timeout(WAIT + Duration::from_secs(5), running.stop())
            .await
            .expect("the relay stops in time")
            .expect("the relay stops cleanly");
    }

    /// A new connection that said hello.
    pub async fn connect(&self) -> Client {
        let mut client = self.connect_raw().await;
        client.hello().await;
        client
    }

    /// A new connection, nothing sent yet.
    pub async fn connect_raw(&self) -> Client {
        match &self.tls_cert {
            Some(cert) => Client::connect_tls(self.addr, "localhost", cert.clone()).await,
            None => Client::connect(self.addr).await,
        }
    }

    /// A new connection registered as `handle` (password [`password_for`]); its first `friends` push is drained.
    pub async fn user(&self, handle: &str) -> Client {
        let mut client = self.connect().await;
        client.register(handle).await;
        client.expect_push(|f| matches!(f, ServerFrame::Friends { id: None, .. })).await;
        client
    }

    /// A new connection logged in as `handle` with its password. The login pushes (`friends`, presence) stay
    /// buffered.
    pub async fn login(&self, handle: &str) -> Client {
        let mut client = self.connect().await;
        client.login(handle).await;
        client
    }
}

async fn launch(config: &Config, dir: &Path) -> RunningRelay {
    let relay = config.relay_name().expect("relay name");
    let storage = SqliteStorage::open(&dir.join("relay.db"), &relay).expect("open SQLite storage");
    let setup = RelaySetup { config: config.clone(), relay, storage, params: PasswordParams::insecure_for_tests() };
    RunningRelay::start(setup).await.expect("the relay starts")
}

/// A self-signed certificate for `localhost` / `127.0.0.1`, written as PEM files.
pub struct SelfSigned {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub der: rustls_pki_types::CertificateDer<'static>,
}

impl SelfSigned {
    pub fn write(dir: &Path) -> Self {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).expect("generate a self-signed certificate");
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        std::fs::write(&cert_path, certified.cert.pem()).unwrap();
        std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
        Self { cert_path, key_path, der: certified.cert.der().clone() }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// WebSocket client
// ---------------------------------------------------------------------------------------------------------------

/// Any byte stream a WebSocket can run over (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What one read from the socket gave.
// One value at a time lives on a test's stack, so boxing the frame would only add noise at every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Recv {
    Frame(ServerFrame),
    /// The relay closed the connection (with its close frame, if it sent one).
    Closed(Option<CloseFrame>),
    Timeout,
}

/// The `stored` answer to a `send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub message_id: MessageId,
    pub seq: u64,
}

/// A WebSocket connection to a relay.
pub struct Client {
    ws: WebSocketStream<Box<dyn Io>>,
    /// Frames read while waiting for something else, oldest first.
    pushes: VecDeque<ServerFrame>,
    next_id: RequestId,
    /// Set once the relay closed the connection.
    closed: Option<Option<CloseFrame>>,
    /// The handle this client registered or logged in with.
    pub handle: Option<Handle>,
    pub password: Option<String>,
    /// The token from the last `session` answer that carried one.
    pub token: Option<String>,
    /// The public session id from the last `session` answer.
    pub session: Option<SessionId>,
    /// The handles from the last `session` / `handles` answer.
    pub handles: Vec<HandleInfo>,
}

impl Client {
    /// A new plain connection to `addr` that said hello and registered `handle` (its login pushes taken up to the
    /// friend list).
    pub async fn user_at(addr: SocketAddr, handle: &str) -> Self {
        let mut client = Self::connect(addr).await;
        client.hello().await;
        client.register(handle).await;
        client.expect_push(|f| matches!(f, ServerFrame::Friends { id: None, .. })).await;
        client
    }

    /// Connects over plain TCP to `ws://addr/`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("TCP connect in time")
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        tcp.set_nodelay(true).unwrap();
        Self::over(&format!("ws://{addr}/"), Box::new(tcp)).await
    }

    /// Connects over plain TCP from the loopback address `source` (any of 127.0.0.0/8): a client at another address,
    /// for the limits the relay keeps per address.
    pub async fn connect_from(addr: SocketAddr, source: std::net::Ipv4Addr) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((source, 0))).unwrap();
        let tcp = tokio::time::timeout(WAIT, socket.connect(addr)).await.expect("TCP connect in time").unwrap();
        tcp.set_nodelay(true).unwrap();
        Self::over(&format!("ws://{addr}/"), Box::new(tcp)).await
    }

    /// Connects with a tiny TCP receive buffer, so that a client that stops reading backs the relay up quickly.
    pub async fn connect_small_buffer(addr: SocketAddr) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = tokio::time::timeout(WAIT, socket.connect(addr)).await.expect("TCP connect in time").unwrap();
        Self::over(&format!("ws://{addr}/"), Box::new(tcp)).await
    }

    /// Connects over TLS, trusting only `cert`, and checking that it is valid for `server_name`.
    pub async fn connect_tls(
        addr: SocketAddr,
        server_name: &str,
        cert: rustls_pki_types::CertificateDer<'static>,
    ) -> Self {
        let tls = Self::tls_stream(addr, server_name, cert).await.unwrap_or_else(|e| panic!("TLS handshake: {e}"));
        Self::over(&format!("wss://{server_name}:{}/", addr.port()), Box::new(tls)).await
    }

    /// The TLS handshake alone, for tests that expect it to fail.
    pub async fn tls_stream(
        addr: SocketAddr,
        server_name: &str,
        cert: rustls_pki_types::CertificateDer<'static>,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).map_err(std::io::Error::other)?;
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = rustls_pki_types::ServerName::try_from(server_name.to_owned()).map_err(std::io::Error::other)?;
        let tcp = TcpStream::connect(addr).await?;
        tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
    }

    /// The WebSocket handshake over an established stream.
    pub async fn over(url: &str, stream: Box<dyn Io>) -> Self {
        let (ws, _response) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(url, stream))
            .await
            .unwrap_or_else(|_| panic!("WebSocket handshake with {url} timed out"))
            .unwrap_or_else(|e| panic!("WebSocket handshake with {url} failed: {e}"));
        Self::over_ws(ws)
    }

    /// A client on a WebSocket whose handshake is done.
    pub fn over_ws(ws: WebSocketStream<Box<dyn Io>>) -> Self {
        Self {
            ws,
            pushes: VecDeque::new(),
            next_id: 0,
            closed: None,
            handle: None,
            password: None,
            token: None,
            session: None,
            handles: Vec::new(),
        }
    }

    /// This client's handle, as a full address.
    pub fn address(&self) -> Address {
        addr(self.handle.as_ref().expect("the client is logged in").as_str())
    }

    // --- raw I/O -------------------------------------------------------------------------------------------------

    /// Sends a frame without waiting for anything.
    pub async fn send_frame(&mut self, frame: &ClientFrame) {
        self.send_text(&encode_client(frame)).await;
    }

    /// Sends raw text as one WebSocket text message.
    pub async fn send_text(&mut self, text: &str) {
        self.send_ws(WsMessage::text(text.to_owned())).await;
    }

    pub async fn send_ws(&mut self, message: WsMessage) {
        tokio::time::timeout(WAIT, self.ws.send(message))
            .await
            .expect("sending a WebSocket message in time")
            .expect("sending a WebSocket message");
    }

    /// Like [`send_ws`](Self::send_ws) but returns the error (the relay may already have closed).
    pub async fn try_send_ws(&mut self, message: WsMessage) -> Result<(), String> {
        match tokio::time::timeout(WAIT, self.ws.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    }

    /// Reads the next frame from the socket (not the buffer).
    pub async fn recv(&mut self, timeout: Duration) -> Recv {
        if let Some(close) = &self.closed {
            return Recv::Closed(close.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => return Recv::Timeout,
                Ok(next) => next,
            };
            match next {
                Some(Ok(WsMessage::Text(text))) => {
                    let frame = decode_server(text.as_str())
                        .unwrap_or_else(|e| panic!("the relay sent a frame that does not decode ({e}): {text}"));
                    return Recv::Frame(frame);
                }
                Some(Ok(WsMessage::Close(close))) => {
                    self.closed = Some(close.clone());
                    return Recv::Closed(close);
                }
                Some(Ok(WsMessage::Binary(bytes))) => panic!("the relay sent a binary message: {bytes:?}"),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {}
                Some(Err(_)) | None => {
                    self.closed = Some(None);
                    return Recv::Closed(None);
                }
            }
        }
    }

    /// The next text message from the socket as it came (not decoded, not from the buffer): for clients that bring
    /// their own idea of the protocol. `None` on timeout or if the connection closed.
    pub async fn recv_text(&mut self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await {
                Ok(Some(Ok(WsMessage::Text(text)))) => return Some(text.as_str().to_owned()),
                Ok(Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_)))) => {}
                Ok(_) | Err(_) => return None,
            }
        }
    }

    /// The WebSocket itself, for a test that reads and writes at once (split it); anything buffered is dropped.
    pub fn into_ws(self) -> WebSocketStream<Box<dyn Io>> {
        self.ws
    }

    /// Everything buffered so far, oldest first; the buffer is emptied.
    pub fn drain(&mut self) -> Vec<ServerFrame> {
        self.pushes.drain(..).collect()
    }

    /// The buffered frames, without taking them.
    pub fn buffered(&self) -> &VecDeque<ServerFrame> {
        &self.pushes
    }

    /// The next push: from the buffer, else from the socket. `None` on timeout or if the connection closed.
    pub async fn next_push(&mut self, timeout: Duration) -> Option<ServerFrame> {
        if let Some(frame) = self.pushes.pop_front() {
            return Some(frame);
        }
        match self.recv(timeout).await {
            Recv::Frame(frame) => Some(frame),
            Recv::Closed(_) | Recv::Timeout => None,
        }
    }

    /// The first frame (buffered or new) that `matches`; the others stay buffered in order.
    pub async fn expect_push(&mut self, matches: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        self.expect_push_within(matches, WAIT).await
    }

    pub async fn expect_push_within(
        &mut self,
        matches: impl Fn(&ServerFrame) -> bool,
        timeout: Duration,
    ) -> ServerFrame {
        if let Some(pos) = self.pushes.iter().position(&matches) {
            return self.pushes.remove(pos).unwrap();
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.recv(deadline.saturating_duration_since(Instant::now())).await {
                Recv::Frame(frame) if matches(&frame) => return frame,
                Recv::Frame(frame) => self.pushes.push_back(frame),
                Recv::Closed(close) => {
                    panic!("the connection closed ({close:?}) before the expected frame; buffered: {:#?}", self.pushes)
                }
                Recv::Timeout => panic!("the expected frame did not arrive in time; buffered: {:#?}", self.pushes),
            }
        }
    }

    /// A round trip on this connection (a repeated `hello`, which the relay answers in any state). Every push the
    /// relay queued for this connection before handling it is buffered once this returns.
    pub async fn barrier(&mut self) {
        self.send_frame(&ClientFrame::Hello(Hello::current(None, &[huddle_shared::version::FEATURE_TYPING]))).await;
        self.expect_push(|f| matches!(f, ServerFrame::Hello { .. })).await;
    }

    /// After a [`barrier`](Self::barrier): the buffered frames that `matches`, taken out of the buffer.
    pub async fn pushes_after_barrier(&mut self, matches: impl Fn(&ServerFrame) -> bool) -> Vec<ServerFrame> {
        self.barrier().await;
        let (hit, rest): (Vec<_>, Vec<_>) = self.pushes.drain(..).partition(|f| matches(f));
        self.pushes = rest.into();
        hit
    }

    /// Waits for the relay to close the connection: returns the `bye` it sent first (if any) and its close frame.
    /// Other frames before the `bye` are buffered.
    pub async fn expect_closed(&mut self) -> (Option<ServerFrame>, Option<CloseFrame>) {
        let mut bye = self
            .pushes
            .iter()
            .position(|f| matches!(f, ServerFrame::Bye { .. }))
            .map(|i| self.pushes.remove(i).unwrap());
        let deadline = Instant::now() + WAIT;
        loop {
            match self.recv(deadline.saturating_duration_since(Instant::now())).await {
                Recv::Frame(frame @ ServerFrame::Bye { .. }) if bye.is_none() => bye = Some(frame),
                Recv::Frame(frame) => self.pushes.push_back(frame),
                Recv::Closed(close) => return (bye, close),
                Recv::Timeout => panic!("the relay did not close the connection in time; bye so far: {bye:?}"),
            }
        }
    }

    /// Expects `bye` with `code`, then the close.
    pub async fn expect_bye(&mut self, code: ErrorCode) -> Option<CloseFrame> {
        let (bye, close) = self.expect_closed().await;
        match bye {
            Some(ServerFrame::Bye { code: got, .. }) => assert_eq!(got, code, "bye code"),
            other => panic!("expected bye {code}, got {other:?} (close {close:?})"),
        }
        close
    }

    // --- requests ------------------------------------------------------------------------------------------------

    /// A fresh request id.
    pub fn next_id(&mut self) -> RequestId {
        self.next_id += 1;
        self.next_id
    }

    /// Waits for the answer carrying `id` (buffered or new); every other frame is buffered.
    pub async fn wait_answer(&mut self, id: RequestId) -> ServerFrame {
        if let Some(pos) = self.pushes.iter().position(|f| f.answer_id() == Some(id)) {
            return self.pushes.remove(pos).unwrap();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            match self.recv(deadline.saturating_duration_since(Instant::now())).await {
                Recv::Frame(frame) if frame.answer_id() == Some(id) => return frame,
                Recv::Frame(frame) => self.pushes.push_back(frame),
                Recv::Closed(close) => panic!(
                    "the connection closed ({close:?}) while waiting for the answer to request {id}; buffered: {:#?}",
                    self.pushes
                ),
                Recv::Timeout => panic!("no answer to request {id} in time; buffered: {:#?}", self.pushes),
            }
        }
    }

    /// Sends the frame `make(id)` with a fresh id and returns the answer carrying that id.
    pub async fn request(&mut self, make: impl FnOnce(RequestId) -> ClientFrame) -> ServerFrame {
        let id = self.next_id();
        let frame = make(id);
        self.send_frame(&frame).await;
        self.wait_answer(id).await
    }

    /// A request that must be answered `ok`.
    pub async fn ok(&mut self, make: impl FnOnce(RequestId) -> ClientFrame) {
        match self.request(make).await {
            ServerFrame::Ok { .. } => {}
            other => panic!("expected ok, got {other:?}"),
        }
    }

    /// A request that must be refused; returns the code.
    pub async fn err(&mut self, make: impl FnOnce(RequestId) -> ClientFrame) -> ErrorCode {
        self.error(make).await.0
    }

    /// A request that must be refused; returns code, message and `retry_after_ms`.
    pub async fn error(&mut self, make: impl FnOnce(RequestId) -> ClientFrame) -> (ErrorCode, String, Option<u64>) {
        match self.request(make).await {
            ServerFrame::Error { code, message, retry_after_ms, .. } => (code, message, retry_after_ms),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    // --- session -------------------------------------------------------------------------------------------------

    /// Sends `hello` and returns the relay's `hello`.
    pub async fn hello(&mut self) -> ServerFrame {
        self.send_frame(&ClientFrame::Hello(Hello::current(
            Some("huddle-tests".into()),
            &[huddle_shared::version::FEATURE_TYPING],
        )))
        .await;
        self.expect_push(|f| matches!(f, ServerFrame::Hello { .. })).await
    }

    fn remember_session(&mut self, answer: &ServerFrame) {
        if let ServerFrame::Session { session, token, handles, .. } = answer {
            self.session = Some(session.clone());
            if token.is_some() {
                self.token.clone_from(token);
            }
            self.handles.clone_from(handles);
        }
    }

    /// `register` with any password / invite; returns the raw answer.
    pub async fn register_with(&mut self, handle: &str, password: &str, invite: Option<&str>) -> ServerFrame {
        let answer = self
            .request(|id| {
                ClientFrame::Register(Register {
                    id,
                    handle: h(handle),
                    password: password.to_owned(),
                    invite: invite.map(str::to_owned),
                    device: Some(format!("{handle}'s test device")),
                })
            })
            .await;
        if matches!(answer, ServerFrame::Session { .. }) {
            self.handle = Some(h(handle));
            self.password = Some(password.to_owned());
        }
        self.remember_session(&answer);
        answer
    }

    /// Registers `handle` with [`password_for`]; must succeed.
    pub async fn register(&mut self, handle: &str) -> ServerFrame {
        let answer = self.register_with(handle, &password_for(handle), None).await;
        assert!(matches!(answer, ServerFrame::Session { token: Some(_), .. }), "register {handle}: {answer:?}");
        answer
    }

    /// `login` with any password, device and presence; returns the raw answer.
    pub async fn login_with(
        &mut self,
        handle: &str,
        password: &str,
        device: Option<&str>,
        presence: Option<PresenceState>,
    ) -> ServerFrame {
        let answer = self
            .request(|id| {
                ClientFrame::Login(Login {
                    id,
                    handle: h(handle),
                    password: password.to_owned(),
                    device: device.map(str::to_owned),
                    presence,
                })
            })
            .await;
        if matches!(answer, ServerFrame::Session { .. }) {
            self.handle = Some(h(handle));
            self.password = Some(password.to_owned());
        }
        self.remember_session(&answer);
        answer
    }

    /// Logs in as `handle` with [`password_for`]; must succeed.
    pub async fn login(&mut self, handle: &str) -> ServerFrame {
        let answer = self.login_with(handle, &password_for(handle), None, None).await;
        assert!(matches!(answer, ServerFrame::Session { token: Some(_), .. }), "login {handle}: {answer:?}");
        answer
    }

    /// `login_token`; returns the raw answer.
    pub async fn login_token(&mut self, token: &str) -> ServerFrame {
        let answer = self
            .request(|id| ClientFrame::LoginToken(LoginToken { id, token: token.to_owned(), presence: None }))
            .await;
        self.remember_session(&answer);
        answer
    }

    /// The handle info of `handle` from the last `session` answer.
    pub fn handle_info(&self, handle: &str) -> &HandleInfo {
        let address = addr(handle);
        self.handles.iter().find(|i| i.address == address).unwrap_or_else(|| panic!("no handle {handle}"))
    }

    // --- friends -------------------------------------------------------------------------------------------------

    /// The friend list of the connection's only handle (or `acting`), asked for now.
    pub async fn friends_as(&mut self, acting: Option<&str>) -> FriendList {
        match self.request(|id| ClientFrame::GetFriends(GetFriends { id, acting: acting.map(h) })).await {
            ServerFrame::Friends { list, .. } => list,
            other => panic!("expected friends, got {other:?}"),
        }
    }

    pub async fn friends(&mut self) -> FriendList {
        self.friends_as(None).await
    }

    /// The newest buffered `friends` push (after a barrier), for `acting`'s list.
    pub async fn last_pushed_friends(&mut self, acting: &Address) -> FriendList {
        let pushed = self
            .pushes_after_barrier(|f| matches!(f, ServerFrame::Friends { id: None, acting: a, .. } if a == acting))
            .await;
        match pushed.into_iter().next_back() {
            Some(ServerFrame::Friends { list, .. }) => list,
            _ => panic!("no friends push for {acting}; buffered: {:#?}", self.pushes),
        }
    }

    pub async fn friend_request(&mut self, to: &str, greeting: Option<&str>) {
        self.ok(|id| {
            ClientFrame::FriendRequest(FriendRequest {
                id,
                acting: None,
                to: addr(to),
                greeting: greeting.map(Into::into),
            })
        })
        .await;
    }

    pub async fn answer_request(&mut self, from: &str, answer: RequestAnswer) {
        self.ok(|id| ClientFrame::AnswerRequest(AnswerRequest { id, acting: None, from: addr(from), answer })).await;
    }

    // --- messages ------------------------------------------------------------------------------------------------

    /// Sends a message; returns the raw answer (`stored` or an error).
    pub async fn send_message(&mut self, to: &str, body: &str, client_msg_id: &str) -> ServerFrame {
        self.request(|id| direct_message(id, to, body, client_msg_id)).await
    }

    /// Sends a direct message without waiting for its answer (for pipelining); returns its request id.
    pub async fn send_unanswered(&mut self, to: &str, body: &str, client_msg_id: &str) -> RequestId {
        let id = self.next_id();
        self.send_frame(&direct_message(id, to, body, client_msg_id)).await;
        id
    }

    /// Sends a message that must be stored.
    pub async fn dm(&mut self, to: &str, body: &str, client_msg_id: &str) -> Stored {
        match self.send_message(to, body, client_msg_id).await {
            ServerFrame::Stored { message_id, seq, .. } => Stored { message_id, seq },
            other => panic!("expected stored for {body:?}, got {other:?}"),
        }
    }

    /// Acknowledges up to `seq` (with an id, so the relay answers `ok`).
    pub async fn ack(&mut self, acting: Option<&str>, seq: u64) {
        self.ok(|id| ClientFrame::Ack(Ack { id: Some(id), acting: acting.map(h), seq })).await;
    }

    /// One `sync` page: (items, more, head).
    pub async fn sync_page(
        &mut self,
        acting: Option<&str>,
        after: u64,
        limit: Option<u64>,
    ) -> (Vec<StreamItem>, bool, u64) {
        match self.request(|id| ClientFrame::Sync(Sync { id, acting: acting.map(h), after, limit })).await {
            ServerFrame::Batch { items, more, head, .. } => (items, more, head),
            other => panic!("expected batch, got {other:?}"),
        }
    }

    /// Every stream item after `after` up to where live pushes start, paging with `limit`. Checks that each page
    /// continues the previous one without gap or overlap.
    pub async fn sync_all(&mut self, acting: Option<&str>, after: u64, limit: Option<u64>) -> Vec<StreamItem> {
        let mut all = Vec::new();
        let mut cursor = after;
        for _ in 0..10_000 {
            let (items, more, _head) = self.sync_page(acting, cursor, limit).await;
            for item in items {
                assert_eq!(item.seq, cursor + 1, "sync pages continue without gap or overlap");
                cursor = item.seq;
                all.push(item);
            }
            if !more {
                return all;
            }
        }
        panic!("sync never said more: false");
    }

    /// `history` with `with`; returns (messages, more).
    /// The newest page of a room's history (a group or a huddle).
    pub async fn history_in(&mut self, room: &huddle_shared::RoomId) -> (Vec<Message>, bool) {
        let room = room.clone();
        let answer = self
            .request(|id| {
                ClientFrame::History(History {
                    id,
                    acting: None,
                    room: Some(room),
                    with: None,
                    before: None,
                    after: None,
                    limit: None,
                })
            })
            .await;
        match answer {
            ServerFrame::History { messages, more, .. } => (messages, more),
            other => panic!("expected history, got {other:?}"),
        }
    }

    pub async fn history(
        &mut self,
        with: &str,
        before: Option<&MessageId>,
        after: Option<&MessageId>,
        limit: Option<u64>,
    ) -> (Vec<Message>, bool) {
        let answer = self
            .request(|id| {
                ClientFrame::History(History {
                    id,
                    acting: None,
                    room: None,
                    with: Some(addr(with)),
                    before: before.cloned(),
                    after: after.cloned(),
                    limit,
                })
            })
            .await;
        match answer {
            ServerFrame::History { messages, more, .. } => (messages, more),
            other => panic!("expected history, got {other:?}"),
        }
    }

    /// Buffered `deliver` pushes (after a barrier), taken out of the buffer.
    pub async fn delivered(&mut self) -> Vec<StreamItem> {
        self.pushes_after_barrier(|f| matches!(f, ServerFrame::Deliver { .. }))
            .await
            .into_iter()
            .map(|f| match f {
                ServerFrame::Deliver { item, .. } => item,
                _ => unreachable!(),
            })
            .collect()
    }
}

/// `a` asks `b`, `b` answers; both connections' buffers are emptied afterwards.
pub async fn befriend(a: &mut Client, b: &mut Client, answer: RequestAnswer) {
    let b_handle = b.handle.clone().expect("b is logged in");
    let a_handle = a.handle.clone().expect("a is logged in");
    a.friend_request(b_handle.as_str(), None).await;
    b.answer_request(a_handle.as_str(), answer).await;
    a.barrier().await;
    b.barrier().await;
    a.drain();
    b.drain();
}

// ---------------------------------------------------------------------------------------------------------------
// Reading stream items and lists
// ---------------------------------------------------------------------------------------------------------------

pub fn messages_of(items: &[StreamItem]) -> Vec<&Message> {
    items
        .iter()
        .filter_map(|i| match &i.body {
            ItemBody::Message { message } => Some(message),
            ItemBody::Event { .. } | ItemBody::Receipt { .. } | ItemBody::Unknown => None,
        })
        .collect()
}

pub fn events_of(items: &[StreamItem]) -> Vec<&Event> {
    items
        .iter()
        .filter_map(|i| match &i.body {
            ItemBody::Event { event } => Some(event),
            ItemBody::Message { .. } | ItemBody::Receipt { .. } | ItemBody::Unknown => None,
        })
        .collect()
}

pub fn bodies(items: &[StreamItem]) -> Vec<String> {
    messages_of(items).into_iter().map(|m| m.body.clone()).collect()
}

pub fn entry<'a>(list: &'a FriendList, handle: &str) -> Option<&'a FriendEntry> {
    let address = addr(handle);
    list.entries.iter().find(|e| e.address == address)
}

pub fn entry_addresses(list: &FriendList) -> Vec<String> {
    let mut out: Vec<String> = list.entries.iter().map(|e| e.address.to_string()).collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------------------------------------------

/// Where the `huddle-relay` binary is: `$HUDDLE_RELAY_BIN`, else `target/<profile>/huddle-relay` beside the test
/// executable's `deps/` directory. Panics with instructions if it was not built.
pub fn relay_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HUDDLE_RELAY_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test>-<hash>  ->  target/<profile>/huddle-relay
    let profile_dir = exe.parent().and_then(Path::parent).expect("the test executable lives in target/<profile>/deps");
    let path = profile_dir.join(format!("huddle-relay{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} does not exist: run `cargo build -p huddle-relay` first (the tests start the real binary), or set \
         HUDDLE_RELAY_BIN",
        path.display()
    );
    path
}

/// A loopback port nobody listens on right now (bound, read, released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().unwrap().port()
}

/// One HTTP/1.1 `POST` to the relay's webhook on `port` with a bearer token and a JSON body; returns the status and
/// the body. (A test's own client: the relay's side is hyper's.)
pub async fn http_post(port: u16, path: &str, token: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect to the webhook");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send the request");
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("the webhook answers in time")
        .expect("read the answer");
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// A config file for the binary: [`test_config`]'s frame and registration limits, real Argon2 parameters.
pub fn write_binary_config(dir: &Path, extra: &str) -> PathBuf {
    write_binary_config_logging(dir, "info", extra)
}

/// The `[limits]` lines that lift the limits on one address and one account (see [`test_config`]).
const UNLIMITED: &str = "registration_attempts_per_address_per_hour = 100000\nconnections_per_address = 100000\n\
    unauthenticated_per_address = 100000\nunauthenticated_connections = 100000\n\
    messages_per_second_per_account = 1000000\nmessage_burst_per_account = 1000000\n\
    message_bytes_per_second_per_account = 4294967295\nmessage_bytes_burst_per_account = 4294967295\n\
    stored_mib_per_account_per_day = 1000000\n";

/// [`write_binary_config`] with the log filter `log` (e.g. `"trace"`: everything, dependencies included).
pub fn write_binary_config_logging(dir: &Path, log: &str, extra: &str) -> PathBuf {
    let path = dir.join("relay.toml");
    let text = format!(
        "name = \"{RELAY_NAME}\"\nlog = \"{log}\"\n{extra}\n[limits]\nframes_per_second = 1000\nframe_burst = 1000\n\
         registrations_per_address_per_hour = 1000\n{UNLIMITED}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `huddle-relay --config CONFIG --data-dir DIR ARGS...` to completion (admin commands), with `stdin`.
pub fn run_binary(config: &Path, data_dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = binary_command(config, data_dir)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn huddle-relay");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let deadline = Instant::now() + WAIT * 3;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("huddle-relay {args:?} did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn binary_command(config: &Path, data_dir: &Path) -> Command {
    let mut cmd = Command::new(relay_binary());
    cmd.arg("--config").arg(config).arg("--data-dir").arg(data_dir);
    cmd.env_remove("HUDDLE_RELAY_CONFIG").env_remove("HUDDLE_RELAY_DATA_DIR").env_remove("RUST_LOG");
    cmd
}

/// `huddle-relay serve` as a child process. Killed (SIGKILL) if dropped while running.
pub struct RelayProcess {
    child: Option<Child>,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl RelayProcess {
    /// Starts `huddle-relay --config CONFIG --data-dir DIR serve --listen 127.0.0.1:PORT` and waits until the port
    /// accepts TCP connections. Its log goes to `log_dir/relay-PORT.log`.
    pub async fn spawn(config: &Path, data_dir: &Path, log_dir: &Path) -> Self {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = log_dir.join(format!("relay-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = binary_command(config, data_dir)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn huddle-relay serve");
        let mut relay = Self { child: Some(child), addr, log };
        let deadline = Instant::now() + WAIT * 2;
        loop {
            if TcpStream::connect(addr).await.is_ok() {
                return relay;
            }
            if let Some(status) = relay.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("huddle-relay exited early ({status}); log:\n{}", relay.log_text());
            }
            assert!(Instant::now() < deadline, "huddle-relay did not listen in time; log:\n{}", relay.log_text());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL: no shutdown, no final commit. Waits for the process to be gone.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL huddle-relay");
        child.wait().expect("reap huddle-relay");
    }

    /// SIGTERM, then waits for a graceful exit; returns the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM huddle-relay");
        let deadline = Instant::now() + WAIT * 2;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("huddle-relay did not exit after SIGTERM; log:\n{}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A new connection that said hello.
    pub async fn connect(&self) -> Client {
        let mut client = Client::connect(self.addr).await;
        client.hello().await;
        client
    }

    /// A new connection that registered `handle` (its login pushes taken up to the friend list).
    pub async fn user(&self, handle: &str) -> Client {
        Client::user_at(self.addr, handle).await
    }

    /// A new connection logged in as `handle` with its password.
    pub async fn login(&self, handle: &str) -> Client {
        let mut client = self.connect().await;
        client.login(handle).await;
        client
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
