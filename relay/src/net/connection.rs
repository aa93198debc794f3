//! One task per connection: reads frames, decodes them, applies the rate limit, forwards them to the core, and
//! writes what the core queued for it. It also pings, and closes on shutdown, on a kill (slow reader), or when the
//! peer stops answering.
//!
//! Flow control: a client that pipelines requests is slowed, never cut off, while it reads what it is sent. The task
//! reads the next frame only when the outbound queue has room for what every request of this connection still in the
//! core may send it ([`FRAMES_PER_REQUEST`] each); until then the frames wait in the socket, and TCP slows the client.
//! A connection that stops reading fills its queue with other people's pushes all the same, and is closed as a slow
//! reader.
//!
//! Admission: the task holds the connection's [`Admitted`] place and gives it back when it ends. Until the core says
//! the connection logged in (`Out::Authenticated`), it must do so before its login deadline (`login_timeout_secs`
//! from TCP accept), or it is closed with `login_timeout`.
//!
//! Memory: what waits to be written is bounded in bytes (see `outbound`); the task hands the WebSocket at most
//! [`COALESCED_BYTES`] (and one frame) before each flush, so a peer that does not read holds that much in the
//! WebSocket's buffer, still counted in the relay-wide total until it is written (or the write is abandoned), and
//! the rest stays counted in the queue.
//!
//! Every write goes through [`Connection::write_all`], pings and refusals too: while it waits on the socket, the
//! connection can still be killed, shut down, or closed at its login deadline, and a socket that takes nothing is
//! judged stuck (see `outbound`) or, after the liveness period, gone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle_shared::codec::decode_client;
use huddle_shared::{ClientFrame, ErrorCode, ServerFrame};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast, mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::admission::Admitted;
use super::core_loop::{CoreMsg, direct};
use super::outbound::{Out, OutboundBytes};
use super::rate::TokenBucket;
use crate::core::{ConnId, Input};

/// Most frames written together: what one batch of the core queues for a connection, about.
const COALESCED_FRAMES: usize = 64;
/// Most bytes handed to the WebSocket before a flush (one larger frame still goes alone): what a peer that stops
/// reading holds in the WebSocket's buffer, beyond the kernel's socket buffers.
const COALESCED_BYTES: usize = 64 * 1024;
/// How long the goodbye to someone logged in may take to go out: the `bye` and close frame queue behind what the
/// socket holds already, so a slow reader that reads again within this time still learns why it was closed. A
/// connection that never logged in gets [`BYE_GRACE`] whatever the reason: a stranger's goodbye holds nothing for
/// long.
const SLOW_BYE_GRACE: Duration = Duration::from_secs(30);
/// How often a write waiting on its socket looks whether the connection is stuck (see `outbound`) or gone.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long the goodbye may take otherwise.
const BYE_GRACE: Duration = Duration::from_secs(2);

/// The most frames one request sends back to its own connection, as flow control counts them: an answer and up to
/// three pushes (a stream item, a `friends` frame, a `room` frame). Logging in sends more (the session and a list
/// and rooms per handle), once; the queue's slack takes that.
pub const FRAMES_PER_REQUEST: usize = 4;

/// What one request is reckoned to send back, in bytes, as flow control counts them: an answer and a push or two of
/// ordinary size. Larger answers (a history page, a long friend list) only slow the next requests further.
pub const BYTES_PER_REQUEST: usize = 16 * 1024;

/// A request's place in the core (flow control): given back when the core has queued what the request sent, which
/// wakes the connection so that it looks again whether it may read. Without the wake, a connection that stopped
/// reading for want of places would sleep until something else woke it — which, when nothing more is coming for it,
/// is never.
pub struct InCore {
    permit: Option<OwnedSemaphorePermit>,
    returned: Arc<Notify>,
}

impl Drop for InCore {
    fn drop(&mut self) {
        // The place first, then the wake: woken, the connection must find it free.
        drop(self.permit.take());
        self.returned.notify_one();
    }
}

#[derive(Debug, Clone)]
pub struct ConnSettings {
    pub outbound_queue: usize,
    pub frames_per_second: u32,
    pub frame_burst: u32,
    pub ping_interval: Duration,
    pub ping_misses: u32,
    /// From TCP accept to a successful login.
    pub login_timeout: Duration,
    /// What may wait for a stuck connection (`limits.outbound_queue_bytes`).
    pub outbound_queue_bytes: usize,
    /// Bytes queued for all connections together (see `outbound`).
    pub all_bytes: Arc<std::sync::atomic::AtomicUsize>,
}

pub struct Connection<S> {
    pub conn: ConnId,
    pub peer: SocketAddr,
    pub ws: WebSocketStream<S>,
    /// What the connection holds in bytes; the TCP socket under `ws` reports its progress here (see `progress`).
    pub bytes: Arc<OutboundBytes>,
    pub core: mpsc::Sender<CoreMsg>,
    pub shutdown: broadcast::Receiver<()>,
    pub settings: ConnSettings,
    pub admitted: Admitted,
    /// When the TCP connection was accepted: the login deadline counts from here.
    pub accepted: tokio::time::Instant,
}

/// A deadline that may be off: pinned once per connection, reset rather than rebuilt.
type Deadline<'a> = std::pin::Pin<&'a mut tokio::time::Sleep>;

/// Why the loop ended, for the log and the close frame.
enum End {
    /// The peer vanished.
    Peer,
    /// The peer sent a close frame (tungstenite queued the reply; it must still be flushed).
    PeerClosed,
    Bye(ErrorCode),
    /// A text message that is not UTF-8: `bye` bad_frame with close code 1007 (invalid payload data), as RFC 6455
    /// asks, since after such a message the stream cannot be trusted.
    NotUtf8,
}

/// What kind of read error ended a connection, for the log (never the error's text, which may quote the peer).
fn ws_error_kind(e: &WsError) -> &'static str {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => "closed",
        WsError::Io(_) => "io",
        WsError::Protocol(_) => "protocol violation",
        _ => "other",
    }
}

pub(crate) fn close_code(code: ErrorCode) -> CloseCode {
    match code {
        ErrorCode::ShuttingDown => CloseCode::Away,
        ErrorCode::FrameTooLarge => CloseCode::Size,
        ErrorCode::ServerBusy => CloseCode::Again,
        ErrorCode::TooManyConnections => CloseCode::Again,
        ErrorCode::Internal => CloseCode::Error,
        ErrorCode::VersionMismatch => CloseCode::Protocol,
        _ => CloseCode::Policy,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Connection<S> {
    pub async fn run(mut self) {
        let (tx, mut rx) = mpsc::channel(self.settings.outbound_queue);
        let (kill_tx, mut kill_rx) = oneshot::channel();
        let bytes = Arc::clone(&self.bytes);
        let connect = CoreMsg::Connect { conn: self.conn, ip: self.peer.ip(), tx, bytes, kill: kill_tx };
        if self.core.send(connect).await.is_err() {
            return;
        }
        let end = self.pump(&mut rx, &mut kill_rx).await;
        // Stop taking frames from the core before the (possibly slow) goodbye, and give back what they counted.
        rx.close();
        while let Ok(out) = rx.try_recv() {
            self.bytes.release(out.bytes());
        }
        drop(rx);
        // The core forgets the connection now, not after the goodbye: a slow reader's goodbye may wait up to
        // SLOW_BYE_GRACE behind its full socket, and its friends must not see it online meanwhile.
        let _ = self.core.send(CoreMsg::Input(Input::Disconnected { conn: self.conn })).await;
        match end {
            End::Bye(code) => {
                tracing::debug!(conn = self.conn.0, %code, "closing connection");
                let slow = code == ErrorCode::SlowConsumer && self.admitted.authenticated();
                let grace = if slow { SLOW_BYE_GRACE } else { BYE_GRACE };
                bye_within(&mut self.ws, code, close_code(code), grace).await;
            }
            End::NotUtf8 => {
                tracing::debug!(conn = self.conn.0, "closing connection: a text message was not UTF-8");
                bye(&mut self.ws, ErrorCode::BadFrame, CloseCode::Invalid).await;
            }
            End::PeerClosed => {
                // Answer the peer's close frame (RFC 6455 5.5.1): tungstenite queued the reply; send it.
                let _ = tokio::time::timeout(BYE_GRACE, self.ws.flush()).await;
            }
            End::Peer => {}
        }
        tracing::debug!(conn = self.conn.0, peer = %self.peer, "connection ended");
    }

    async fn pump(&mut self, rx: &mut mpsc::Receiver<Out>, kill: &mut oneshot::Receiver<ErrorCode>) -> End {
        let bytes = Arc::clone(&self.bytes);
        let mut bucket = TokenBucket::new(self.settings.frames_per_second, self.settings.frame_burst, Instant::now());
        // One permit per request in the core; a permit comes back once the core queued what the request sent here.
        let most_in_core = (self.settings.outbound_queue / FRAMES_PER_REQUEST).max(1);
        let requests = Arc::new(Semaphore::new(most_in_core));
        let returned = Arc::new(Notify::new());
        let mut ping = tokio::time::interval(self.settings.ping_interval);
        // Pings missed during a long write are not made up in a burst: a burst would count as pongs missed before
        // the peer could answer one.
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        let mut missed = 0u32;
        let login_deadline = tokio::time::sleep_until(self.accepted + self.settings.login_timeout);
        tokio::pin!(login_deadline);
        loop {
            let room = room_for_a_request(rx, &bytes, &requests, most_in_core, &self.settings);
            tokio::select! {
                biased;
                _ = self.shutdown.recv() => return End::Bye(ErrorCode::ShuttingDown),
                code = &mut *kill => return End::Bye(code.unwrap_or(ErrorCode::Internal)),
                out = rx.recv() => match out {
                    Some(Out::Frame(text)) => {
                        // Whatever else the core queued for this connection goes out with it, in one write, up to
                        // COALESCED_BYTES.
                        let mut size = text.len();
                        bytes.take(text.len());
                        let mut frames = vec![Message::text(text)];
                        let mut then = None;
                        while frames.len() < COALESCED_FRAMES && size < COALESCED_BYTES {
                            match rx.try_recv() {
                                Ok(Out::Frame(text)) => {
                                    size += text.len();
                                    bytes.take(text.len());
                                    frames.push(Message::text(text));
                                }
                                Ok(other) => {
                                    then = Some(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        if let Err(end) = self.write_all(frames, size, kill, &mut login_deadline).await {
                            return end;
                        }
                        if let Some(end) = then.and_then(|then| self.control(then, &mut login_deadline)) {
                            return end;
                        }
                    }
                    Some(other) => {
                        if let Some(end) = self.control(other, &mut login_deadline) {
                            return end;
                        }
                    }
                    None => return End::Peer,
                },
                // After the queue: news of a login (or of a logout, which starts a new deadline) already queued is
                // taken first.
                () = &mut login_deadline, if self.login_due() => {
                    // The core may have logged it in a moment ago, the news still in the queue.
                    if !bytes.logged_in() {
                        return End::Bye(ErrorCode::LoginTimeout);
                    }
                }
                // A request's place came back: look again whether there is room.
                () = returned.notified(), if !room => {}
                incoming = self.ws.next(), if room => match incoming {
                    None => return End::Peer,
                    Some(Ok(Message::Close(_))) => return End::PeerClosed,
                    // Text or binary, a message over the limit is never read: the connection is closed.
                    Some(Err(WsError::Capacity(_))) => return End::Bye(ErrorCode::FrameTooLarge),
                    Some(Err(WsError::Utf8(_))) => return End::NotUtf8,
                    Some(Err(e)) => {
                        // The error's kind only: some carry bytes of the peer's message.
                        tracing::debug!(conn = self.conn.0, error = ws_error_kind(&e), "read failed");
                        return End::Peer;
                    }
                    Some(Ok(Message::Pong(_))) => missed = 0,
                    Some(Ok(Message::Ping(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Binary(_))) => {
                        let frame = ServerFrame::error_with(None, ErrorCode::BadFrame, "Frames are JSON in WebSocket text messages, not binary.");
                        let reply = vec![Message::text(direct(&frame))];
                        if let Err(end) = self.write_all(reply, 0, kill, &mut login_deadline).await {
                            return end;
                        }
                    }
                    Some(Ok(Message::Text(text))) => {
                        missed = 0;
                        let refusal = match self.incoming(text.as_str(), &mut bucket, (&requests, &returned)).await {
                            Ok(refusal) => refusal,
                            Err(end) => return end,
                        };
                        if let Some(frame) = refusal {
                            let reply = vec![Message::text(direct(&frame))];
                            if let Err(end) = self.write_all(reply, 0, kill, &mut login_deadline).await {
                                return end;
                            }
                        }
                    }
                },
                _ = ping.tick() => {
                    if missed >= self.settings.ping_misses {
                        return End::Bye(ErrorCode::PingTimeout);
                    }
                    missed += 1;
                    let ping = vec![Message::Ping(Vec::new().into())];
                    if let Err(end) = self.write_all(ping, 0, kill, &mut login_deadline).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Whether the login deadline applies: the connection has not logged in, as far as this task has heard.
    fn login_due(&self) -> bool {
        !self.admitted.authenticated() && !self.bytes.logged_in()
    }

    /// A control item from the core; `Some`: the connection ends.
    fn control(&mut self, out: Out, deadline: &mut Deadline<'_>) -> Option<End> {
        match out {
            Out::Close(code) => Some(End::Bye(code)),
            Out::Authenticated(true) => {
                self.admitted.set_authenticated(true);
                None
            }
            Out::Authenticated(false) => {
                // Logged out, it is an anonymous connection again, with a new login deadline — and within the caps
                // on anonymous connections, or logging in and out would pass them.
                if !self.admitted.set_authenticated(false) {
                    return Some(End::Bye(ErrorCode::TooManyConnections));
                }
                deadline.as_mut().reset(tokio::time::Instant::now() + self.settings.login_timeout);
                None
            }
            Out::Frame(_) => None,
        }
    }

    /// Writes messages with one flush (the socket sees one write while they fit the WebSocket's write buffer).
    /// `taken`: the queue bytes they carry, counted in the relay-wide total until the write is over.
    ///
    /// It gives up when the core kills the connection, the relay shuts down, the login deadline passes, or the socket
    /// has taken nothing for the liveness period (`ping_interval × ping_misses`): a peer that stops reading must not
    /// hold its task, its slot and its "online" presence forever; a link that keeps taking bytes, however slowly, is
    /// not gone. And the queue behind the write is looked at every [`LOOK_EVERY`]: a peer whose socket is stuck (see
    /// `outbound`) while more than `outbound_queue_bytes` wait for it is a slow reader now, not when the next frame
    /// comes (which may be never).
    async fn write_all(
        &mut self,
        frames: Vec<Message>,
        taken: usize,
        kill: &mut oneshot::Receiver<ErrorCode>,
        deadline: &mut Deadline<'_>,
    ) -> Result<(), End> {
        let stall =
            i64::try_from(self.settings.ping_interval.saturating_mul(self.settings.ping_misses.max(1)).as_millis())
                .unwrap_or(i64::MAX);
        let mut login_due = self.login_due();
        let bytes = &self.bytes;
        bytes.waiting(Some(super::now_millis()));
        let ws = &mut self.ws;
        let all = async move {
            for frame in frames {
                ws.feed(frame).await?;
            }
            ws.flush().await
        };
        tokio::pin!(all);
        let mut look = tokio::time::interval_at(tokio::time::Instant::now() + LOOK_EVERY, LOOK_EVERY);
        let result = loop {
            tokio::select! {
                biased;
                code = &mut *kill => break Err(End::Bye(code.unwrap_or(ErrorCode::Internal))),
                _ = self.shutdown.recv() => break Err(End::Bye(ErrorCode::ShuttingDown)),
                sent = &mut all => break sent.map_err(|_| End::Peer),
                () = &mut *deadline, if login_due => {
                    if !bytes.logged_in() {
                        break Err(End::Bye(ErrorCode::LoginTimeout));
                    }
                    // Logged in a moment ago: the deadline no longer applies (and must not be polled again).
                    login_due = false;
                }
                _ = look.tick() => {
                    let now = super::now_millis();
                    if bytes.stalled_for(now) > stall
                        || bytes.stuck(now) && bytes.queued() > self.settings.outbound_queue_bytes
                    {
                        break Err(End::Bye(ErrorCode::SlowConsumer));
                    }
                }
            }
        };
        bytes.waiting(None);
        bytes.written(taken);
        result
    }

    /// One text frame from the peer: rate limit, decode, hand to the core. `Some`: the refusal to send back instead.
    async fn incoming(
        &mut self,
        text: &str,
        bucket: &mut TokenBucket,
        (requests, returned): (&Arc<Semaphore>, &Arc<Notify>),
    ) -> Result<Option<ServerFrame>, End> {
        // Read once: a refusal for speed still names the frame's id, and says nothing to a fire-and-forget frame.
        let decoded = decode_client(text);
        let refusal = match bucket.take(Instant::now()) {
            Err(_) if decoded.as_ref().is_ok_and(ClientFrame::is_unanswered) => None,
            Err(wait) => {
                let id = match &decoded {
                    Ok(frame) => frame.id(),
                    Err(e) => e.id(),
                };
                let mut frame = ServerFrame::error_with(
                    id,
                    ErrorCode::RateLimited,
                    "You are sending too fast; that frame was not carried out.",
                );
                if let ServerFrame::Error { retry_after_ms, .. } = &mut frame {
                    *retry_after_ms = Some(wait);
                }
                Some(frame)
            }
            Ok(()) => match decoded {
                Ok(frame) => {
                    // Only this task takes permits, and it reads only when one is free: this does not wait.
                    let permit: OwnedSemaphorePermit = match requests.clone().try_acquire_owned() {
                        Ok(permit) => permit,
                        Err(_) => {
                            requests.clone().acquire_owned().await.map_err(|_| End::Bye(ErrorCode::ShuttingDown))?
                        }
                    };
                    let done = InCore { permit: Some(permit), returned: Arc::clone(returned) };
                    let input = CoreMsg::Request { input: Input::Frame { conn: self.conn, frame }, done };
                    self.core.send(input).await.map_err(|_| End::Bye(ErrorCode::ShuttingDown))?;
                    None
                }
                Err(e) => Some(e.to_frame()),
            },
        };
        Ok(refusal)
    }
}

/// Whether the outbound queue has room for one more request's frames on top of what the queue holds and what the
/// requests still in the core may send.
///
/// In bytes, each request in the core is reckoned at [`BYTES_PER_REQUEST`], and what is queued plus that must stay
/// within half of `outbound_queue_bytes`: a client that pipelines requests with large answers is slowed to the pace
/// it reads them at, and its own answers never make it a slow reader.
fn room_for_a_request(
    rx: &mpsc::Receiver<Out>,
    bytes: &OutboundBytes,
    requests: &Semaphore,
    most_in_core: usize,
    settings: &ConnSettings,
) -> bool {
    let in_core = most_in_core - requests.available_permits();
    let frames_fit = rx.len() + FRAMES_PER_REQUEST * (in_core + 1) <= settings.outbound_queue;
    let bytes_fit = bytes.queued() + BYTES_PER_REQUEST * (in_core + 1) <= settings.outbound_queue_bytes / 2;
    requests.available_permits() > 0 && frames_fit && (bytes_fit || in_core == 0 && bytes.queued() == 0)
}

/// Sends `bye` and a close frame, then waits briefly for the peer's close reply (so frames it is still sending do
/// not meet a reset socket before it reads the `bye`), without waiting long for a peer that does not read.
pub async fn bye<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>, code: ErrorCode, close: CloseCode) {
    bye_within(ws, code, close, BYE_GRACE).await;
}

/// [`bye`], giving up after `grace`.
async fn bye_within<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    code: ErrorCode,
    close: CloseCode,
    grace: Duration,
) {
    let frame = ServerFrame::Bye { code, message: code.sentence().to_owned() };
    let close = CloseFrame { code: close, reason: code.as_str().into() };
    let _ = tokio::time::timeout(grace, async {
        if ws.send(Message::text(direct(&frame))).await.is_err() || ws.close(Some(close)).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
}
