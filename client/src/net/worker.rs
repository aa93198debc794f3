//! The network worker: one task that owns the relay connection.
//!
//! It connects, says hello, authenticates (register, password or token), then for every handle resumes the stream
//! from where this process left it (or from the relay's `acked` on first connect) and hands items on in order. It
//! sends outgoing messages one at a time in the order they were typed ([`outbox`](super::outbox)) and keeps each
//! until the relay says `stored`, resending after a reconnect (the relay never duplicates a resend) or after the
//! pause a relay that refused it for now asked for — a timer, during which the worker goes on reading and taking
//! commands. When the connection drops it waits with exponential backoff and jitter and tries again. Every failure
//! reaches the application as an [`Event`] with a sentence, never as a panic.
//!
//! A relay is not trusted with the client's memory, time or disk: a message larger than
//! [`MAX_RELAY_MESSAGE_BYTES`](super::transport::MAX_RELAY_MESSAGE_BYTES) is refused unread, text longer than the
//! protocol allows is cut ([`bounds`](super::bounds)), warnings about what it sends are rate-limited
//! ([`warnings`](super::warnings)), and a relay that sends a message too large or a flood of frames this client
//! cannot read is dropped as misbehaving: the person is told in a sentence ([`Event::Misbehaved`]) and the worker
//! reconnects with a backoff that keeps growing while the relay keeps misbehaving.
//!
//! Bounds: the command and event channels hold [`CHANNEL`] entries (a full event channel makes the worker wait,
//! which stops it reading the socket: TCP backpressure, then the relay's slow-reader policy); at most
//! [`MAX_OUTBOX`] messages wait to be sent; a frame that cannot be written within [`WRITE_TIMEOUT`] ends the
//! connection. The application never waits for the worker: [`WorkerHandle::post`] keeps what does not fit the
//! command channel.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle_shared::client::{Ack, Hello, Login, LoginToken, Logout, Register, SendMessage, Sync};
use huddle_shared::codec::{decode_server, encode_client};
use huddle_shared::model::{PresenceState, RegistrationPolicy, StreamItem};
use huddle_shared::server::HandleInfo;
use huddle_shared::{Address, ClientFrame, ErrorCode, Handle, MessageId, RelayName, RequestId, RoomId, ServerFrame};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::{self, Message};

pub use super::outbox::MAX_OUTBOX;
use super::outbox::Outbox;
use super::streams::StreamCursor;
use super::transport::{self, Ws};
use super::warnings::{Burst, Repeated, Report, grouped};

/// Capacity of the command and event channels.
pub const CHANNEL: usize = 1024;
/// Request ids the worker uses for itself start here; the application's own ids must stay below.
pub const INTERNAL_IDS: RequestId = 1 << 50;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// The longest one frame may take to be written. A relay that stops reading (TCP backpressure) would otherwise hold
/// the worker, and with it every message and request, forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames this client cannot read that a connection may bring within [`UNREADABLE_WINDOW`] before the relay is
/// dropped as misbehaving. A relay of this protocol sends none; a few may be a bug worth a log line, not a reason
/// to disconnect.
const UNREADABLE_LIMIT: u32 = 100;
const UNREADABLE_WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub url: String,
    pub ca_file: Option<PathBuf>,
    /// Sent in `hello` (e.g. "huddle 0.1.0").
    pub client: String,
    /// The session's device label.
    pub device: Option<String>,
    /// Availability to log in with.
    pub presence: PresenceState,
}

#[derive(Debug, Clone)]
pub enum Auth {
    Register { handle: Handle, password: String, invite: Option<String> },
    Login { handle: Handle, password: String },
    Token { token: String },
}

/// Where a message goes: the direct room with someone, or a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Direct(Address),
    Room(RoomId),
}

impl Target {
    /// The `room` and `to` of a frame that names a conversation (exactly one is set).
    pub fn fields(self) -> (Option<RoomId>, Option<Address>) {
        match self {
            Self::Direct(to) => (None, Some(to)),
            Self::Room(room) => (Some(room), None),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub acting: Handle,
    pub to: Target,
    pub body: String,
    pub client_msg_id: String,
    /// Ask for delivery confirmation.
    pub receipts: bool,
}

#[derive(Debug)]
pub enum Command {
    /// Log in (again) with these credentials; connects if needed.
    Authenticate(Auth),
    /// A one-shot request; its answer comes back as [`Event::Answer`] with the same id (below [`INTERNAL_IDS`]).
    Request {
        id: RequestId,
        frame: ClientFrame,
    },
    /// A message to deliver for sure: queued while offline, resent until stored.
    Message(OutgoingMessage),
    /// An ephemeral frame (typing): sent if connected, dropped otherwise, never answered.
    Signal(ClientFrame),
    /// Revoke the session and stop.
    Logout,
    Shutdown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Online,
    /// Disconnected; the next attempt is in `retry_in_secs`.
    Waiting {
        retry_in_secs: u64,
        reason: String,
    },
    /// Not connected and not trying: no credentials (yet), logged out, or refused.
    Idle,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Connection(ConnState),
    Relay {
        relay: RelayName,
        registration: RegistrationPolicy,
    },
    Session {
        token: Option<String>,
        handles: Vec<HandleInfo>,
    },
    /// The relay refused the credentials; the worker waits for new ones.
    AuthFailed {
        code: ErrorCode,
        message: String,
    },
    /// The next item of a handle's stream, in order, once.
    Item {
        acting: Address,
        item: StreamItem,
    },
    Stored {
        acting: Handle,
        client_msg_id: String,
        message_id: MessageId,
        seq: u64,
        sent_at: i64,
        /// Whose receipts the relay tracks (empty unless the message asked for them).
        recipients: Vec<Address>,
    },
    /// The relay will not take this message (e.g. not reachable); it is no longer queued.
    MessageFailed {
        client_msg_id: String,
        code: ErrorCode,
        message: String,
    },
    Answer {
        id: RequestId,
        frame: ServerFrame,
    },
    /// A one-shot request could not be sent (offline).
    RequestFailed {
        id: RequestId,
        message: String,
    },
    /// Pushes: `friends`, `presence`, `profile`, `handles` without id.
    Push(ServerFrame),
    /// The relay said goodbye (shutting down, session revoked, ...).
    Bye {
        code: ErrorCode,
        message: String,
    },
    /// This client dropped the relay for misbehaving (a message too large, a flood of unreadable frames); `message`
    /// says what it did, for the person. The worker reconnects after a pause.
    Misbehaved {
        message: String,
    },
}

/// The application's end of a worker.
pub struct WorkerHandle {
    pub commands: mpsc::Sender<Command>,
    pub events: mpsc::Receiver<Event>,
    /// Commands posted while the channel was full, oldest first: see [`WorkerHandle::post`].
    waiting: VecDeque<Command>,
}

impl WorkerHandle {
    /// Hands `command` to the worker without waiting for it. The worker may be stuck writing to a relay that does
    /// not read while the channel is full; a caller that waited then (the UI's loop) would stop reading the keyboard
    /// too. So a command that does not fit waits here, in order, until [`WorkerHandle::room`] says there is room —
    /// except a [`Command::Signal`], which is dropped: typing and read reports are stale by the time they would go.
    pub fn post(&mut self, command: Command) {
        if matches!(command, Command::Signal(_)) && !self.waiting.is_empty() {
            return;
        }
        self.waiting.push_back(command);
        self.flush();
    }

    /// Moves waiting commands into the channel while it has room.
    pub fn flush(&mut self) {
        while let Some(command) = self.waiting.pop_front() {
            match self.commands.try_send(command) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(Command::Signal(_))) => {}
                Err(mpsc::error::TrySendError::Full(command)) => {
                    self.waiting.push_front(command);
                    return;
                }
                // The worker is gone: nothing will take them.
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.waiting.clear();
                    return;
                }
            }
        }
    }

    /// Room in the channel for a waiting command, to be awaited beside other events; `None` when nothing waits.
    pub fn room(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        if self.waiting.is_empty() {
            return None;
        }
        let commands = self.commands.clone();
        Some(async move {
            // Room shows as a permit; giving it back at once leaves the room for `flush`.
            let _ = commands.reserve().await;
        })
    }
}

/// Starts a worker on the current tokio runtime.
pub fn spawn(config: WorkerConfig) -> WorkerHandle {
    let (commands, command_rx) = mpsc::channel(CHANNEL);
    let (event_tx, events) = mpsc::channel(CHANNEL);
    let worker = Worker {
        config,
        commands: command_rx,
        events: event_tx,
        auth: None,
        streams: HashMap::new(),
        outbox: Outbox::default(),
        next_id: INTERNAL_IDS,
        auth_id: None,
        sync_ids: HashMap::new(),
        failures: 0,
        misbehaved: 0,
        logged_in: false,
        relay: None,
        version: huddle_shared::version::SUPPORTED.min,
        unreadable: Repeated::new(),
        unreadable_burst: Burst::new(UNREADABLE_LIMIT, UNREADABLE_WINDOW),
        cut: Repeated::new(),
        sync_refused: Repeated::new(),
    };
    tokio::spawn(worker.run());
    WorkerHandle { commands, events, waiting: VecDeque::new() }
}

/// Why one connection ended.
enum Ended {
    /// Try again after a pause.
    Retry(String),
    /// The relay misbehaved (the sentence says how): tell the person, then try again after a growing pause.
    Misbehaved(String),
    /// Wait for new credentials.
    NeedAuth,
    Stop,
}

struct Worker {
    config: WorkerConfig,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    auth: Option<Auth>,
    streams: HashMap<Handle, StreamCursor>,
    outbox: Outbox,
    next_id: RequestId,
    auth_id: Option<RequestId>,
    /// wire id -> handle of a sync in flight.
    sync_ids: HashMap<RequestId, Handle>,
    failures: u32,
    /// Connections in a row that ended with the relay misbehaving. Logging in does not reset it (a hostile relay may
    /// well accept the login), so the backoff keeps growing; a connection that ends for another reason after logging
    /// in does.
    misbehaved: u32,
    /// This connection reached `session`.
    logged_in: bool,
    relay: Option<RelayName>,
    /// The protocol version this connection speaks (from the relay's `hello`).
    version: huddle_shared::version::ProtocolVersion,
    /// Warnings about frames this client cannot read, over-long text cut, and refused syncs: a few lines, then
    /// summaries (across connections, so that reconnecting does not start the lines again).
    unreadable: Repeated,
    /// Frames this client cannot read on this connection, against the limit that makes the relay misbehaving.
    unreadable_burst: Burst,
    cut: Repeated,
    sync_refused: Repeated,
}

impl Worker {
    async fn emit(&self, event: Event) -> bool {
        self.events.send(event).await.is_ok()
    }

    fn id(&mut self) -> RequestId {
        self.next_id += 1;
        self.next_id
    }

    async fn run(mut self) {
        loop {
            if self.auth.is_none() {
                let _ = self.emit(Event::Connection(ConnState::Idle)).await;
                if !self.wait_for_auth().await {
                    return;
                }
            }
            let _ = self.emit(Event::Connection(ConnState::Connecting)).await;
            self.logged_in = false;
            self.unreadable_burst = Burst::new(UNREADABLE_LIMIT, UNREADABLE_WINDOW);
            let ended = match transport::connect(&self.config.url, self.config.ca_file.as_deref()).await {
                Ok(ws) => self.session(ws).await,
                Err(e) => Ended::Retry(e.to_string()),
            };
            self.log_counted(Instant::now());
            self.outbox.disconnected();
            self.sync_ids.clear();
            self.auth_id = None;
            for stream in self.streams.values_mut() {
                stream.syncing = false;
            }
            if self.logged_in && !matches!(ended, Ended::Misbehaved(_)) {
                self.misbehaved = 0;
            }
            match ended {
                Ended::Stop => return,
                Ended::NeedAuth => self.auth = None,
                Ended::Retry(reason) => {
                    if !self.back_off(reason).await {
                        return;
                    }
                }
                Ended::Misbehaved(message) => {
                    self.misbehaved = self.misbehaved.saturating_add(1);
                    let _ = self.emit(Event::Misbehaved { message }).await;
                    if !self.back_off("the relay misbehaved".to_owned()).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits for credentials, answering other commands as well as one can offline. False: shut down.
    async fn wait_for_auth(&mut self) -> bool {
        while let Some(command) = self.commands.recv().await {
            match command {
                Command::Authenticate(auth) => {
                    self.auth = Some(auth);
                    return true;
                }
                Command::Shutdown => return false,
                other => self.offline_command(other).await,
            }
        }
        false
    }

    /// Handles a command while there is no connection.
    async fn offline_command(&mut self, command: Command) {
        match command {
            Command::Message(m) => self.queue(m).await,
            Command::Request { id, .. } => {
                let message = "You are offline; that was not sent. It will work again once reconnected.".to_owned();
                let _ = self.emit(Event::RequestFailed { id, message }).await;
            }
            Command::Logout => {
                self.auth = None;
                self.outbox.clear();
            }
            Command::Authenticate(auth) => self.auth = Some(auth),
            // Stale by the time we are back: dropped.
            Command::Signal(_) | Command::Shutdown => {}
        }
    }

    async fn queue(&mut self, message: OutgoingMessage) {
        if self.outbox.is_full() {
            let event = Event::MessageFailed {
                client_msg_id: message.client_msg_id,
                code: ErrorCode::RateLimited,
                message: format!(
                    "{MAX_OUTBOX} messages are already waiting to be sent; wait until you are back online."
                ),
            };
            let _ = self.emit(event).await;
        } else {
            self.outbox.push(message);
        }
    }

    /// Waits before the next attempt, counting down. False: shut down.
    async fn back_off(&mut self, reason: String) -> bool {
        self.failures = self.failures.saturating_add(1);
        let delay = retry_delay(self.failures.max(self.misbehaved));
        let deadline = tokio::time::Instant::now() + delay;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            let state = ConnState::Waiting { retry_in_secs: left.as_secs_f64().ceil() as u64, reason: reason.clone() };
            let _ = self.emit(Event::Connection(state)).await;
            tokio::select! {
                _ = tick.tick() => {}
                _ = tokio::time::sleep_until(deadline) => return true,
                command = self.commands.recv() => match command {
                    None | Some(Command::Shutdown) => return false,
                    // New credentials: try at once.
                    Some(Command::Authenticate(auth)) => {
                        self.auth = Some(auth);
                        return true;
                    }
                    Some(Command::Logout) => {
                        self.auth = None;
                        self.outbox.clear();
                        return true;
                    }
                    Some(other) => self.offline_command(other).await,
                },
            }
        }
    }

    async fn send(ws: &mut Ws, frame: &ClientFrame) -> Result<(), Ended> {
        match tokio::time::timeout(WRITE_TIMEOUT, ws.send(Message::text(encode_client(frame)))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Ended::Retry(format!("the connection broke ({e})"))),
            Err(_) => Err(Ended::Retry("the relay stopped taking what this client sends".to_owned())),
        }
    }

    /// Writing failed: the relay may have closed on purpose (a `bye` it sent first, say that it speaks another
    /// protocol version) before our frame went out. What it said before closing decides how this connection ends;
    /// without a `bye`, it is `end`.
    async fn goodbye_or(&mut self, ws: &mut Ws, end: Ended) -> Ended {
        let wait = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => return end,
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(frame @ ServerFrame::Bye { .. }) = decode_server(text.as_str()) {
                            return self.frame(ws, frame).await.err().unwrap_or(end);
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return end,
                },
            }
        }
    }

    /// One connection, from hello to its end.
    async fn session(&mut self, mut ws: Ws) -> Ended {
        let hello = ClientFrame::Hello(Hello::current(
            Some(self.config.client.clone()),
            &[huddle_shared::version::FEATURE_TYPING],
        ));
        if let Err(end) = Self::send(&mut ws, &hello).await {
            return end;
        }
        let Some(auth) = self.auth.clone() else { return Ended::NeedAuth };
        let id = self.id();
        self.auth_id = Some(id);
        let device = self.config.device.clone();
        let presence = Some(self.config.presence);
        let frame = match auth {
            Auth::Register { handle, password, invite } => {
                ClientFrame::Register(Register { id, handle, password, invite, device })
            }
            Auth::Login { handle, password } => ClientFrame::Login(Login { id, handle, password, device, presence }),
            Auth::Token { token } => ClientFrame::LoginToken(LoginToken { id, token, presence }),
        };
        if let Err(end) = Self::send(&mut ws, &frame).await {
            return self.goodbye_or(&mut ws, end).await;
        }
        loop {
            // The pause a relay asked for before a refused message goes again; only while logged in, when sending
            // is possible (a pause starts only then, and a new connection ends it).
            let retry_at = self.outbox.retry_at().filter(|_| self.logged_in);
            tokio::select! {
                () = until(retry_at) => {
                    if let Err(end) = self.send_next(&mut ws).await {
                        return end;
                    }
                }
                incoming = ws.next() => {
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None => return Ended::Retry("the relay closed the connection".to_owned()),
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return read_failed(e),
                    };
                    let decoded = decode_server(text.as_str());
                    // The text is not needed any more: a large one is freed before the frame is handled.
                    drop(text);
                    let mut frame = match decoded {
                        Ok(frame) => frame,
                        Err(e) => match self.unreadable_frame(&e) {
                            Some(end) => return end,
                            None => continue,
                        },
                    };
                    let cut = super::bounds::cut_frame(&mut frame);
                    if cut > 0 {
                        self.cut_text(cut);
                    }
                    if let Err(end) = self.frame(&mut ws, frame).await {
                        return end;
                    }
                }
                command = self.commands.recv() => {
                    let Some(command) = command else { return Ended::Stop };
                    if let Err(end) = self.command(&mut ws, command).await {
                        return end;
                    }
                }
            }
        }
    }

    /// A frame that does not decode: logged (where and what kind, never its text, which may hold anything) within
    /// the rate the warnings allow; too many in a short time end the connection.
    fn unreadable_frame(&mut self, e: &serde_json::Error) -> Option<Ended> {
        let now = Instant::now();
        match self.unreadable.note(now) {
            Report::Each => {
                let (line, column, kind) = (e.line(), e.column(), e.classify());
                tracing::warn!(line, column, ?kind, "ignoring a frame this client does not understand");
            }
            report => log_unreadable(report),
        }
        if !self.unreadable_burst.hit(now) {
            return None;
        }
        if let Some(report) = self.unreadable.flush(now) {
            log_unreadable(report);
        }
        let (limit, secs) = (self.unreadable_burst.limit(), self.unreadable_burst.window().as_secs());
        tracing::warn!(limit, secs, "the relay sent too many frames this client does not understand; disconnected");
        Some(Ended::Misbehaved(format!(
            "The relay sent more than {limit} frames in {secs} s that this client does not understand; disconnected. \
             It may be misbehaving, or speak a protocol this version of Huddle does not — tell its admin."
        )))
    }

    fn cut_text(&mut self, fields: usize) {
        match self.cut.note(Instant::now()) {
            Report::Each => {
                tracing::warn!(fields, "cut text longer than the protocol allows in a frame from the relay")
            }
            report => log_cut(report),
        }
    }

    /// Logs the summaries of what was only counted so far (when a connection ends).
    fn log_counted(&mut self, now: Instant) {
        if let Some(report) = self.unreadable.flush(now) {
            log_unreadable(report);
        }
        if let Some(report) = self.cut.flush(now) {
            log_cut(report);
        }
        if let Some(report) = self.sync_refused.flush(now) {
            log_sync_refused(report);
        }
    }

    async fn command(&mut self, ws: &mut Ws, command: Command) -> Result<(), Ended> {
        match command {
            Command::Request { id, mut frame } => {
                // Fields of a later minor version stay home on an older connection (a relay refuses what it does
                // not know): `opening` is 2.1's.
                if let ClientFrame::CreateGroup(group) = &mut frame {
                    if self.version < huddle_shared::version::ProtocolVersion::new(2, 1) {
                        group.opening = None;
                    }
                }
                Self::send(ws, &frame).await.map(|()| {
                    debug_assert!(id < INTERNAL_IDS);
                })
            }
            Command::Signal(frame) => Self::send(ws, &frame).await,
            Command::Message(message) => {
                // It goes out when its turn comes: at once if nothing else waits and the session is open.
                self.queue(message).await;
                self.send_next(ws).await
            }
            Command::Authenticate(auth) => {
                // New credentials replace the session: reconnect with them.
                self.auth = Some(auth);
                self.streams.clear();
                Err(Ended::Retry("logging in again".to_owned()))
            }
            Command::Logout => {
                let id = self.id();
                let _ = Self::send(ws, &ClientFrame::Logout(Logout { id })).await;
                let _ = ws.close(None).await;
                self.outbox.clear();
                self.streams.clear();
                Err(Ended::NeedAuth)
            }
            Command::Shutdown => {
                let _ = ws.close(None).await;
                Err(Ended::Stop)
            }
        }
    }

    /// Sends the front of the outbox if its turn has come (see [`Outbox::next`]): logged in, nothing else on its
    /// way, no pause running.
    async fn send_next(&mut self, ws: &mut Ws) -> Result<(), Ended> {
        if !self.logged_in {
            return Ok(());
        }
        let Some(message) = self.outbox.next(tokio::time::Instant::now()).cloned() else { return Ok(()) };
        let id = self.id();
        self.outbox.sent(id);
        let acting = Some(message.acting);
        let (body, client_msg_id, receipts) = (message.body, message.client_msg_id, message.receipts);
        let (room, to) = message.to.fields();
        let frame = ClientFrame::Send(SendMessage { id, acting, room, to, body, client_msg_id, receipts });
        Self::send(ws, &frame).await
    }

    async fn frame(&mut self, ws: &mut Ws, frame: ServerFrame) -> Result<(), Ended> {
        match frame {
            ServerFrame::Hello { relay, registration, version, .. } => {
                self.relay = Some(relay.clone());
                self.version = version;
                self.emit(Event::Relay { relay, registration }).await;
            }
            ServerFrame::Session { id, token, handles, .. } if Some(id) == self.auth_id => {
                self.auth_id = None;
                self.failures = 0;
                self.logged_in = true;
                if let Some(token) = &token {
                    self.auth = Some(Auth::Token { token: token.clone() });
                }
                self.emit(Event::Session { token, handles: handles.clone() }).await;
                self.emit(Event::Connection(ConnState::Online)).await;
                for info in &handles {
                    let stream = self
                        .streams
                        .entry(info.address.handle.clone())
                        .or_insert_with(|| StreamCursor::starting_at(info.acked.min(info.head)));
                    let after = stream.begin_sync();
                    let id = self.id();
                    self.sync_ids.insert(id, info.address.handle.clone());
                    let acting = Some(info.address.handle.clone());
                    Self::send(ws, &ClientFrame::Sync(Sync { id, acting, after, limit: None })).await?;
                }
                // The rest follow one by one, as the relay stores each.
                self.send_next(ws).await?;
            }
            ServerFrame::Error { id: Some(id), code, message, .. } if Some(id) == self.auth_id => {
                self.auth_id = None;
                self.emit(Event::AuthFailed { code, message }).await;
                return Err(Ended::NeedAuth);
            }
            ServerFrame::Stored { id, message_id, seq, sent_at, recipients, .. } if self.outbox.awaits(id) => {
                if let Some(OutgoingMessage { acting, client_msg_id, .. }) = self.outbox.settled(id) {
                    let progress = self.streams.entry(acting.clone()).or_default().known(seq);
                    let event =
                        Event::Stored { acting: acting.clone(), client_msg_id, message_id, seq, sent_at, recipients };
                    self.emit(event).await;
                    self.after_progress(ws, &acting, progress).await?;
                }
                // Its turn over, the next message goes.
                self.send_next(ws).await?;
            }
            ServerFrame::Error { id: Some(id), code, message, retry_after_ms } if self.outbox.awaits(id) => {
                let fault = matches!(code, ErrorCode::Internal | ErrorCode::ServerBusy);
                if code == ErrorCode::RateLimited || fault && self.outbox.refusals() + 1 < super::outbox::MAX_FAULTS {
                    // Temporary: the same message goes again after the pause the relay asked for, and nothing
                    // typed after it goes first. The session loop waits for the pause beside the socket.
                    let pause = Duration::from_millis(retry_after_ms.unwrap_or(1000).clamp(50, 30_000));
                    self.outbox.later(id, tokio::time::Instant::now() + pause);
                } else {
                    if let Some(refused) = self.outbox.settled(id) {
                        let client_msg_id = refused.client_msg_id;
                        self.emit(Event::MessageFailed { client_msg_id, code, message }).await;
                    }
                    self.send_next(ws).await?;
                }
            }
            ServerFrame::Batch { id, acting, items, more, .. } if self.sync_ids.contains_key(&id) => {
                self.sync_ids.remove(&id);
                let handle = acting.handle.clone();
                let last = items.last().map(|i| i.seq);
                for item in items {
                    let progress = self.streams.entry(handle.clone()).or_default().item(item);
                    self.after_progress(ws, &handle, progress).await?;
                }
                if let Some(after) = self.streams.entry(handle.clone()).or_default().page_done(last, more) {
                    self.request_sync(ws, &handle, after).await?;
                }
                self.ack(ws, &handle).await?;
            }
            ServerFrame::Error { id: Some(id), code, .. } if self.sync_ids.contains_key(&id) => {
                if let Some(handle) = self.sync_ids.remove(&id) {
                    // Only if the relay lost data (restored from an old backup): take what it has from now on. The
                    // relay's sentence stays out of the log: the code says what happened.
                    match self.sync_refused.note(Instant::now()) {
                        Report::Each => {
                            tracing::warn!(%code, %handle, "sync refused; continuing from the relay's position");
                        }
                        report => log_sync_refused(report),
                    }
                    if let Some(stream) = self.streams.get_mut(&handle) {
                        stream.syncing = false;
                    }
                }
            }
            ServerFrame::Deliver { acting, item } => {
                let handle = acting.handle.clone();
                let progress = self.streams.entry(handle.clone()).or_default().item(item);
                self.after_progress(ws, &handle, progress).await?;
                self.ack(ws, &handle).await?;
            }
            ServerFrame::Bye { code, message } => {
                self.emit(Event::Bye { code, message: message.clone() }).await;
                return Err(match code {
                    ErrorCode::SessionRevoked | ErrorCode::AccountDisabled | ErrorCode::TokenInvalid => {
                        self.emit(Event::AuthFailed { code, message }).await;
                        Ended::NeedAuth
                    }
                    // Retrying cannot help: the relay and this build share no protocol version. The person has been
                    // told why (the `bye` above); the login stays saved for the updated client.
                    ErrorCode::VersionMismatch => Ended::NeedAuth,
                    _ => Ended::Retry(message),
                });
            }
            frame => {
                let event = match frame.answer_id() {
                    Some(id) if id < INTERNAL_IDS => Event::Answer { id, frame },
                    Some(_) => return Ok(()),
                    None => Event::Push(frame),
                };
                self.emit(event).await;
            }
        }
        Ok(())
    }

    async fn after_progress(
        &mut self,
        ws: &mut Ws,
        handle: &Handle,
        progress: super::streams::Progress,
    ) -> Result<(), Ended> {
        let acting = self.address(handle);
        for item in progress.ready {
            self.emit(Event::Item { acting: acting.clone(), item }).await;
        }
        if let Some(after) = progress.sync_after {
            self.request_sync(ws, handle, after).await?;
        }
        Ok(())
    }

    fn address(&self, handle: &Handle) -> Address {
        Address { handle: handle.clone(), relay: self.relay.clone() }
    }

    async fn request_sync(&mut self, ws: &mut Ws, handle: &Handle, after: u64) -> Result<(), Ended> {
        let id = self.id();
        self.sync_ids.insert(id, handle.clone());
        Self::send(ws, &ClientFrame::Sync(Sync { id, acting: Some(handle.clone()), after, limit: None })).await
    }

    async fn ack(&mut self, ws: &mut Ws, handle: &Handle) -> Result<(), Ended> {
        match self.streams.get_mut(handle).and_then(StreamCursor::ack_due) {
            Some(seq) => Self::send(ws, &ClientFrame::Ack(Ack { id: None, acting: Some(handle.clone()), seq })).await,
            None => Ok(()),
        }
    }
}

/// Why reading from the relay failed, for the person. A message larger than this client accepts is the relay's
/// doing, not the network's: it is said as such.
fn read_failed(e: tungstenite::Error) -> Ended {
    match e {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            tracing::warn!(size, max_size, "the relay sent a message larger than this client accepts; disconnected");
            Ended::Misbehaved(format!(
                "The relay sent a message of {} bytes, more than the {} this client accepts; disconnected. It may be \
                 misbehaving — tell its admin.",
                grouped(size as u64),
                grouped(max_size as u64)
            ))
        }
        e => Ended::Retry(format!("the connection broke ({e})")),
    }
}

fn log_unreadable(report: Report) {
    if let Report::Summary { more, over } = report {
        tracing::warn!("ignored {} more frames this client does not understand {}", grouped(more), during(over));
    }
}

fn log_cut(report: Report) {
    if let Report::Summary { more, over } = report {
        tracing::warn!("cut over-long text in {} more frames from the relay {}", grouped(more), during(over));
    }
}

fn log_sync_refused(report: Report) {
    if let Report::Summary { more, over } = report {
        tracing::warn!("{} more syncs refused {}", grouped(more), during(over));
    }
}

/// Waits until `at`; for ever if `None`.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// "in the last 12 s", or "within a second".
fn during(over: Duration) -> String {
    match over.as_secs() {
        0 => "within a second".to_owned(),
        secs => format!("in the last {secs} s"),
    }
}

/// Exponential backoff with ±20 % jitter, so that many clients of a restarted relay do not reconnect in lockstep.
pub fn retry_delay(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(5);
    let base = (FIRST_RETRY * 2u32.pow(exponent)).min(MAX_RETRY);
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() { f64::from(byte[0]) / 255.0 * 0.4 - 0.2 } else { 0.0 };
    base.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: RequestId) -> Command {
        Command::Request { id, frame: ClientFrame::Logout(Logout { id }) }
    }

    fn signal() -> Command {
        Command::Signal(ClientFrame::Ack(Ack { id: None, acting: None, seq: 1 }))
    }

    #[tokio::test]
    async fn posting_never_waits_and_keeps_the_order_while_the_worker_is_busy() {
        let (commands, mut taken) = mpsc::channel(2);
        let (_events_tx, events) = mpsc::channel(1);
        let mut handle = WorkerHandle { commands, events, waiting: VecDeque::new() };
        for id in 1..=4 {
            handle.post(request(id));
        }
        assert!(handle.room().is_some(), "two wait for room");
        // A signal behind waiting commands is stale before it could go: dropped.
        handle.post(signal());
        assert_eq!(handle.waiting.len(), 2);
        let ids = |taken: &mut mpsc::Receiver<Command>| {
            let mut ids = Vec::new();
            while let Ok(command) = taken.try_recv() {
                ids.push(match command {
                    Command::Request { id, .. } => id,
                    _ => 0,
                });
            }
            ids
        };
        assert_eq!(ids(&mut taken), vec![1, 2]);
        if let Some(room) = handle.room() {
            room.await;
        }
        handle.flush();
        assert!(handle.room().is_none(), "nothing waits any more");
        assert_eq!(ids(&mut taken), vec![3, 4]);
        // The worker gone, what waits is dropped rather than kept forever.
        handle.post(request(5));
        handle.post(request(6));
        handle.post(request(7));
        drop(taken);
        handle.flush();
        assert!(handle.room().is_none());
    }

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        let first = retry_delay(1);
        assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200), "{first:?}");
        let later = retry_delay(4);
        assert!(later >= Duration::from_millis(6400) && later <= Duration::from_millis(9600), "{later:?}");
        assert!(retry_delay(50) <= MAX_RETRY.mul_f64(1.2));
    }
}
