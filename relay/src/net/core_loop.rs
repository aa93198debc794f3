//! The thread that owns the [`Core`] and its storage. It takes inputs in batches, handles each, commits the batch
//! once (group commit: one fsync for many messages), and only then performs the batch's effects — so every `stored`
//! and `ok` a client sees is already durable.
//!
//! It is a plain OS thread, not a tokio task, because SQLite calls block; nothing else in the relay touches storage.
//! After each batch it publishes the core's next deadline ([`Core::poll_deadline`]); the timer task (`net::timer`)
//! sleeps until then and sends [`Input::Deadline`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use huddle_shared::codec::encode_server;
use huddle_shared::{ErrorCode, Millis, ServerFrame};
use tokio::sync::{mpsc, oneshot, watch};

use super::outbound::{ByteBounds, Out, OutboundBytes, Reserve};
use crate::core::{ConnId, Core, Effect, Input, JobId, JobOutcome};
use crate::password::{self, PasswordParams};
use crate::storage::{Storage, StorageError};

/// Most inputs handled per commit. Bounds the latency a batch adds to the first `stored` in it, and what one batch
/// can queue for one connection at once (a few frames per input): the outbound queue must hold that for a prompt
/// reader, so a smaller `limits.outbound_queue` is raised to [`MIN_OUTBOUND_QUEUE`].
pub const MAX_BATCH: usize = 256;

/// Smallest outbound queue the relay uses, whatever `limits.outbound_queue` says.
pub const MIN_OUTBOUND_QUEUE: usize = 4 * MAX_BATCH;

/// What the core thread receives.
pub enum CoreMsg {
    Connect {
        conn: ConnId,
        ip: std::net::IpAddr,
        tx: mpsc::Sender<Out>,
        bytes: Arc<OutboundBytes>,
        kill: oneshot::Sender<ErrorCode>,
    },
    Input(Input),
    /// A client's frame. `done` goes back to its connection once the batch's frames are queued (flow control; see
    /// `connection.rs`).
    Request {
        input: Input,
        done: super::connection::InCore,
    },
    /// An issue from the webhook; answered on `reply` once it is committed.
    Webhook {
        topic: huddle_shared::model::TopicId,
        token: String,
        draft: crate::core::domain::topics::IssueDraft,
        reply: oneshot::Sender<super::webhook::WebhookOutcome>,
    },
    /// Commit and stop.
    Shutdown,
}

struct Registered {
    tx: mpsc::Sender<Out>,
    bytes: Arc<OutboundBytes>,
    kill: Option<oneshot::Sender<ErrorCode>>,
    /// What it held when it was told to close as a slow reader (counted in [`Queues::closing`]).
    closing: usize,
}

/// The connections' queues as the core thread sees them.
#[derive(Default)]
struct Queues {
    conns: HashMap<ConnId, Registered>,
    /// Bytes held by connections told to close as slow readers and not gone yet: on their way out, so left out of
    /// the relay-wide total when deciding whether a frame fits (an estimate: they give their bytes back as they go).
    closing: usize,
}

pub struct CoreLoop<S: Storage> {
    pub core: Core<S>,
    pub rx: mpsc::Receiver<CoreMsg>,
    pub hashes: super::hash_pool::HashPool,
    pub feeds: super::feeds::FeedFetcher,
    pub params: PasswordParams,
    /// Inputs the loop gives itself (failed job submissions), handled with the next batch.
    pub deferred: Vec<Input>,
    /// The core's next deadline, published after every batch for the timer task.
    pub deadlines: watch::Sender<Millis>,
    /// What the outbound queues may hold in bytes.
    pub bounds: ByteBounds,
}

pub fn now_millis() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl<S: Storage> CoreLoop<S> {
    /// Runs until [`CoreMsg::Shutdown`] or a storage failure.
    pub fn run(mut self) -> Result<(), StorageError> {
        let mut queues = Queues::default();
        let mut effects = Vec::new();
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let _ = self.deadlines.send(self.core.poll_deadline());
        loop {
            let Some(first) = self.rx.blocking_recv() else { break };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(msg) => batch.push(msg),
                    Err(_) => break,
                }
            }
            let mut stop = false;
            let mut handled = Vec::new();
            let mut webhook_replies = Vec::new();
            let now = now_millis();
            batch.extend(self.deferred.drain(..).map(CoreMsg::Input));
            for msg in batch.drain(..) {
                let result = match msg {
                    CoreMsg::Connect { conn, ip, tx, bytes, kill } => {
                        queues.conns.insert(conn, Registered { tx, bytes, kill: Some(kill), closing: 0 });
                        self.core.handle(Input::Connected { conn, ip }, now)
                    }
                    CoreMsg::Input(input) => {
                        let gone = if let Input::Disconnected { conn } = &input { Some(*conn) } else { None };
                        let result = self.core.handle(input, now);
                        if let Some(conn) = gone {
                            queues.forget(conn);
                        }
                        result
                    }
                    CoreMsg::Request { input, done } => {
                        handled.push(done);
                        self.core.handle(input, now)
                    }
                    CoreMsg::Webhook { topic, token, draft, reply } => {
                        use crate::core::domain::topics::Publisher;
                        let publisher = Publisher::Webhook { token };
                        self.core.act(now, |world, now| world.publish(&topic, publisher, draft, now)).map(|acted| {
                            let outcome = acted.result.map_err(|fail| match fail {
                                crate::core::Fail::Refuse { code, message, .. } => {
                                    (code, message.unwrap_or_else(|| code.sentence().to_owned()))
                                }
                                crate::core::Fail::Storage(_) => {
                                    (ErrorCode::Internal, ErrorCode::Internal.sentence().to_owned())
                                }
                            });
                            webhook_replies.push((reply, outcome));
                            acted.effects
                        })
                    }
                    CoreMsg::Shutdown => {
                        stop = true;
                        Ok(Vec::new())
                    }
                };
                match result {
                    Ok(more) => effects.extend(more),
                    Err(e) => return Err(self.fail(e, &mut queues)),
                }
            }
            if let Err(e) = self.core.commit() {
                return Err(self.fail(e, &mut queues));
            }
            let now = now_millis();
            for effect in effects.drain(..) {
                self.perform(effect, &mut queues, now);
            }
            // The requests' frames are queued: their connections may read more.
            drop(handled);
            // Published issues are on disk: their callers may be told.
            for (reply, outcome) in webhook_replies.drain(..) {
                let _ = reply.send(outcome);
            }
            // Sent even when unchanged: the timer task waits for it after each deadline it reported, and re-arms.
            let _ = self.deadlines.send(self.core.poll_deadline());
            if stop {
                break;
            }
        }
        self.core.commit()
    }

    /// Ends every connection without acknowledging the failed batch, and hands the error up.
    fn fail(&mut self, error: StorageError, queues: &mut Queues) -> StorageError {
        tracing::error!(%error, "storage failed; stopping the relay without acknowledging the current batch");
        for (_, mut reg) in queues.conns.drain() {
            if let Some(kill) = reg.kill.take() {
                let _ = kill.send(ErrorCode::Internal);
            }
        }
        error
    }

    fn perform(&mut self, effect: Effect, queues: &mut Queues, now: Millis) {
        match effect {
            Effect::Send { conn, frame } => {
                queues.enqueue(conn, Out::Frame(encode_server(&frame)), self.bounds, now);
            }
            Effect::Close { conn, code } => queues.enqueue(conn, Out::Close(code), self.bounds, now),
            Effect::Authenticated { conn, authed } => {
                if let Some(reg) = queues.conns.get(&conn) {
                    // Before the news is queued: the login deadline must not end a connection already logged in.
                    reg.bytes.set_logged_in(authed);
                }
                queues.enqueue(conn, Out::Authenticated(authed), self.bounds, now);
            }
            Effect::HashPassword { job, password } => {
                let params = self.params;
                let work = move || JobOutcome::Hashed(password::hash(&password, params).ok());
                self.submit_job(job, work, JobOutcome::Failed);
            }
            Effect::VerifyPassword { job, password, phc } => {
                let work = move || JobOutcome::Verified(password::verify(&password, &phc));
                self.submit_job(job, work, JobOutcome::Failed);
            }
            Effect::FetchFeed(poll) => self.feeds.fetch(poll),
        }
    }

    fn submit_job(&mut self, job: JobId, work: impl FnOnce() -> JobOutcome + Send + 'static, failed: JobOutcome) {
        if let Some(CoreMsg::Input(input)) = self.hashes.submit(job, work, failed) {
            // Only when the pool's queue is full: answer the job as failed right away, in a later batch.
            self.deferred.push(input);
        }
    }
}

impl Queues {
    /// The connection is gone: its queue with it.
    fn forget(&mut self, conn: ConnId) {
        if let Some(reg) = self.conns.remove(&conn) {
            self.closing = self.closing.saturating_sub(reg.closing);
        }
    }

    /// Queues a frame for a connection. A queue full in frames or in bytes (see `outbound`) means a slow reader: it is
    /// closed (`slow_consumer`) instead of being allowed to hold memory; it catches up from storage when it
    /// reconnects. A frame that fits its queue but not the relay-wide total closes the connections holding the most
    /// until it fits (see `outbound`): whoever fills the pool pays for it, not the next person to be sent a frame.
    fn enqueue(&mut self, conn: ConnId, out: Out, bounds: ByteBounds, now: Millis) {
        let Some(reg) = self.conns.get(&conn) else { return };
        if reg.kill.is_none() {
            // Already told to close as a slow reader: nothing more is queued for it.
            return;
        }
        let len = out.bytes();
        match reg.bytes.reserve(len, bounds, now, self.closing) {
            Reserve::Fits => {}
            Reserve::OverOwn => return self.close_slow(conn, "outbound queue full"),
            Reserve::OverTotal { over } => {
                self.make_room(over);
                match self.conns.get(&conn) {
                    Some(reg) if reg.kill.is_some() => reg.bytes.force(len),
                    // It held the most itself.
                    _ => return,
                }
            }
        }
        let Some(reg) = self.conns.get(&conn) else { return };
        match reg.tx.try_send(out) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                reg.bytes.release(len);
                self.close_slow(conn, "outbound queue full");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => reg.bytes.release(len),
        }
    }

    /// Closes the connections holding the most bytes until `over` bytes are on their way out. Runs only when the
    /// relay-wide total is reached, so the scan over every connection is rare.
    fn make_room(&mut self, over: usize) {
        let mut holders: Vec<(usize, ConnId)> = self
            .conns
            .iter()
            .filter(|(_, reg)| reg.kill.is_some())
            .map(|(conn, reg)| (reg.bytes.held(), *conn))
            .filter(|(held, _)| *held > 0)
            .collect();
        holders.sort_unstable_by(|a, b| b.cmp(a));
        let mut freed = 0usize;
        for (held, conn) in holders {
            if freed >= over {
                break;
            }
            freed = freed.saturating_add(held);
            self.close_slow(conn, "relay-wide outbound bytes reached; closing the largest queue");
        }
    }

    fn close_slow(&mut self, conn: ConnId, why: &'static str) {
        let Some(reg) = self.conns.get_mut(&conn) else { return };
        let Some(kill) = reg.kill.take() else { return };
        let held = reg.bytes.held();
        tracing::info!(conn = conn.0, queued_bytes = held, "slow consumer: {why}, closing");
        reg.closing = held;
        self.closing = self.closing.saturating_add(held);
        let _ = kill.send(ErrorCode::SlowConsumer);
    }
}

/// A frame to send straight from a connection task (decode errors, rate limits), outside the core.
pub fn direct(frame: &ServerFrame) -> String {
    encode_server(frame)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::AtomicUsize;

    use super::*;

    struct Peer {
        rx: mpsc::Receiver<Out>,
        killed: oneshot::Receiver<ErrorCode>,
        bytes: Arc<OutboundBytes>,
    }

    fn register(queues: &mut Queues, conn: u64, all: &Arc<AtomicUsize>) -> Peer {
        let (tx, rx) = mpsc::channel(64);
        let (kill, killed) = oneshot::channel();
        let bytes = Arc::new(OutboundBytes::new(Arc::clone(all)));
        queues.conns.insert(ConnId(conn), Registered { tx, bytes: Arc::clone(&bytes), kill: Some(kill), closing: 0 });
        Peer { rx, killed, bytes }
    }

    fn frame(len: usize) -> Out {
        Out::Frame("x".repeat(len))
    }

    #[test]
    fn a_full_pool_closes_the_connections_holding_the_most_not_the_one_being_sent_to() {
        let all = Arc::new(AtomicUsize::new(0));
        let bounds = ByteBounds { per_connection: 1000, total: 1000 };
        let mut queues = Queues::default();
        let mut big = register(&mut queues, 1, &all);
        let mut middle = register(&mut queues, 2, &all);
        let mut prompt = register(&mut queues, 3, &all);
        let now = 1_000_000;
        for _ in 0..5 {
            queues.enqueue(ConnId(1), frame(100), bounds, now);
        }
        for _ in 0..3 {
            queues.enqueue(ConnId(2), frame(100), bounds, now);
        }
        queues.enqueue(ConnId(3), frame(100), bounds, now);
        // 900 held in all; two more frames for the prompt reader pass the total by 100: the largest queue goes.
        queues.enqueue(ConnId(3), frame(100), bounds, now);
        queues.enqueue(ConnId(3), frame(100), bounds, now);
        assert_eq!(big.killed.try_recv(), Ok(ErrorCode::SlowConsumer));
        assert!(middle.killed.try_recv().is_err(), "one queue made room enough");
        assert!(prompt.killed.try_recv().is_err(), "the prompt reader is not closed");
        assert_eq!(prompt.bytes.queued(), 300);
        assert_eq!(queues.closing, 500, "what the closed connection holds is on its way out");
        // The closed connection's task drops its queue; once gone, it is forgotten.
        while let Ok(out) = big.rx.try_recv() {
            big.bytes.release(out.bytes());
        }
        queues.forget(ConnId(1));
        assert_eq!(queues.closing, 0);
        assert_eq!(all.load(std::sync::atomic::Ordering::Acquire), 600);
        while middle.rx.try_recv().is_ok() {}
        while prompt.rx.try_recv().is_ok() {}
    }

    #[test]
    fn a_connection_that_holds_the_most_itself_is_the_one_closed() {
        let all = Arc::new(AtomicUsize::new(0));
        let bounds = ByteBounds { per_connection: 1000, total: 1000 };
        let mut queues = Queues::default();
        let mut hog = register(&mut queues, 1, &all);
        let mut other = register(&mut queues, 2, &all);
        for _ in 0..8 {
            queues.enqueue(ConnId(1), frame(100), bounds, 1);
        }
        queues.enqueue(ConnId(2), frame(100), bounds, 1);
        queues.enqueue(ConnId(1), frame(200), bounds, 1);
        assert_eq!(hog.killed.try_recv(), Ok(ErrorCode::SlowConsumer));
        assert!(other.killed.try_recv().is_err());
        assert_eq!(hog.bytes.queued(), 800, "the frame that did not fit was not queued");
        while hog.rx.try_recv().is_ok() {}
        while other.rx.try_recv().is_ok() {}
    }
}
