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
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};

use super::outbound::{ByteBounds, Out, OutboundBytes};
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
        done: OwnedSemaphorePermit,
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
        let mut conns: HashMap<ConnId, Registered> = HashMap::new();
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
                        conns.insert(conn, Registered { tx, bytes, kill: Some(kill) });
                        self.core.handle(Input::Connected { conn, ip }, now)
                    }
                    CoreMsg::Input(input) => {
                        let gone = if let Input::Disconnected { conn } = &input { Some(*conn) } else { None };
                        let result = self.core.handle(input, now);
                        if let Some(conn) = gone {
                            conns.remove(&conn);
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
                    Err(e) => return Err(self.fail(e, &mut conns)),
                }
            }
            if let Err(e) = self.core.commit() {
                return Err(self.fail(e, &mut conns));
            }
            let now = now_millis();
            for effect in effects.drain(..) {
                self.perform(effect, &mut conns, now);
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
    fn fail(&mut self, error: StorageError, conns: &mut HashMap<ConnId, Registered>) -> StorageError {
        tracing::error!(%error, "storage failed; stopping the relay without acknowledging the current batch");
        for (_, mut reg) in conns.drain() {
            if let Some(kill) = reg.kill.take() {
                let _ = kill.send(ErrorCode::Internal);
            }
        }
        error
    }

    fn perform(&mut self, effect: Effect, conns: &mut HashMap<ConnId, Registered>, now: Millis) {
        match effect {
            Effect::Send { conn, frame } => {
                Self::enqueue(conns, conn, Out::Frame(encode_server(&frame)), self.bounds, now);
            }
            Effect::Close { conn, code } => Self::enqueue(conns, conn, Out::Close(code), self.bounds, now),
            Effect::Authenticated { conn, authed } => {
                Self::enqueue(conns, conn, Out::Authenticated(authed), self.bounds, now);
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

    /// Queues a frame for a connection. A queue full in frames or in bytes (see `outbound`) means a slow reader: it is
    /// closed (`slow_consumer`) instead of being allowed to hold memory; it catches up from storage when it
    /// reconnects.
    fn enqueue(conns: &mut HashMap<ConnId, Registered>, conn: ConnId, out: Out, bounds: ByteBounds, now: Millis) {
        let Some(reg) = conns.get_mut(&conn) else { return };
        if reg.kill.is_none() {
            // Already told to close as a slow reader: nothing more is queued for it.
            return;
        }
        let len = out.bytes();
        let full = if reg.bytes.reserve(len, bounds, now) {
            match reg.tx.try_send(out) {
                Ok(()) => false,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    reg.bytes.release(len);
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    reg.bytes.release(len);
                    false
                }
            }
        } else {
            true
        };
        if full {
            tracing::info!(
                conn = conn.0,
                queued_bytes = reg.bytes.queued(),
                "slow consumer: outbound queue full, closing"
            );
            if let Some(kill) = reg.kill.take() {
                let _ = kill.send(ErrorCode::SlowConsumer);
            }
        }
    }

    fn submit_job(&mut self, job: JobId, work: impl FnOnce() -> JobOutcome + Send + 'static, failed: JobOutcome) {
        if let Some(CoreMsg::Input(input)) = self.hashes.submit(job, work, failed) {
            // Only when the pool's queue is full: answer the job as failed right away, in a later batch.
            self.deferred.push(input);
        }
    }
}

/// A frame to send straight from a connection task (decode errors, rate limits), outside the core.
pub fn direct(frame: &ServerFrame) -> String {
    encode_server(frame)
}
