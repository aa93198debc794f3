//! The relay's logic as a state machine: [`Core::handle`] takes one [`Input`] and the current time and returns the
//! [`Effect`]s to carry out; [`Core::poll_deadline`] says when it next needs to be woken ([`Input::Deadline`]). No
//! sockets, no clock, no threads: the network shell (`crate::net`) feeds it and performs the effects, and unit tests
//! drive it directly, moving time by hand. Its only I/O is through the [`Storage`] trait, on the core's own thread.
//!
//! # Layout
//! - [`world`]: the state, the storage it mirrors and the facts recorded — what the domain acts on. No connections.
//! - [`domain`]: what the relay does (lists, accounts, rooms, messages, receipts, typing), as operations on the world
//!   that take no connection and no request id: request handlers, the relay itself and peer relays call them alike.
//! - [`requests`]: one handler per client frame: validate, call the domain, answer.
//! - [`rules`]: every consent and visibility rule, and nowhere else.
//! - [`reactions`]: after each input, the recorded facts become pushes to the connections concerned.
//! - `conns`: which connection acts for which handle, with what presence, version and features.
//! - `views`: presence and friend lists as a handle sees them. `state`, `relation`, `limiter`: data structures.
//!
//! Password hashing is too slow for the core's single thread, so it is an effect: the core asks for a hash or a
//! verification ([`Effect::HashPassword`], [`Effect::VerifyPassword`]) and continues when [`Input::JobDone`] comes back.

pub mod budget;
mod conns;
pub mod domain;
pub mod facts;
mod fail;
mod limiter;
pub mod login_guard;
mod reactions;
pub mod relation;
mod requests;
pub mod rules;
pub mod state;
mod views;
pub mod world;

use std::collections::HashMap;
use std::net::IpAddr;

use huddle_shared::model::{Presence, RegistrationPolicy};
use huddle_shared::{ClientFrame, ErrorCode, Handle, Millis, RequestId, ServerFrame, SessionId};

pub use conns::ConnId;
use conns::Conns;
pub use fail::Fail;
use limiter::Limiter;
pub use limiter::address_key;
use state::State;
use world::World;

use crate::storage::{Storage, StorageError};

/// Password jobs (hash or verify) waiting or running at once. Beyond this, logins and registrations are refused
/// with `server_busy` instead of queueing without bound.
pub const MAX_PENDING_JOBS: usize = 256;

/// How often the core looks for changes the admin CLI made and forgets expired rate-limit entries.
pub const HOUSEKEEPING_INTERVAL_MS: Millis = 1_000;

/// What the core reacts to.
#[derive(Debug)]
pub enum Input {
    Connected {
        conn: ConnId,
        ip: IpAddr,
    },
    Frame {
        conn: ConnId,
        frame: ClientFrame,
    },
    Disconnected {
        conn: ConnId,
    },
    JobDone {
        job: JobId,
        outcome: JobOutcome,
    },
    /// The time [`Core::poll_deadline`] named has come (or passed).
    Deadline,
    /// Whether the data directory's file system is below the relay's free-space floor (the shell looks now and then).
    DiskLow(bool),
    /// The answer to an [`Effect::FetchFeed`].
    FeedFetched {
        topic: huddle_shared::model::TopicId,
        url: String,
        fetch: domain::feeds::FeedFetch,
    },
}

/// What [`Core::act`] did: the operation's result (a refusal changed nothing), and the pushes to carry out.
#[derive(Debug)]
pub struct Acted<T> {
    pub result: Result<T, Fail>,
    pub effects: Vec<Effect>,
}

/// What the shell must do.
// Effects are taken and carried out at once, a batch at a time; boxing the frame would cost an allocation per push to
// save a few hundred bytes that only live that long.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send {
        conn: ConnId,
        frame: ServerFrame,
    },
    /// Send `bye` with this code, then close the connection.
    Close {
        conn: ConnId,
        code: ErrorCode,
    },
    /// The connection logged in (`true`: it stops counting as anonymous, and its login deadline no longer applies)
    /// or out (`false`).
    Authenticated {
        conn: ConnId,
        authed: bool,
    },
    HashPassword {
        job: JobId,
        password: String,
    },
    VerifyPassword {
        job: JobId,
        password: String,
        phc: String,
    },
    /// Fetch a topic's feed (a conditional GET) and answer with [`Input::FeedFetched`].
    FetchFeed(domain::feeds::FeedPoll),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The PHC string, or `None` if hashing failed.
    Hashed(Option<String>),
    Verified(bool),
    /// The job could not run (the relay is overloaded); the request fails with `internal`, not as a wrong password.
    Failed,
}

/// The core's settings, resolved from the relay config.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub registration: RegistrationPolicy,
    pub limits: huddle_shared::model::Limits,
    /// A hash of a random password made with the relay's parameters: logins for unknown handles verify against it,
    /// so they take as long as real ones and reveal nothing.
    pub dummy_phc: String,
    pub login_failures_per_ip: usize,
    pub login_failure_window_ms: Millis,
    /// Password guessing per account and address pair, and per account.
    pub login_guard: login_guard::GuardLimits,
    pub registrations_per_ip_per_hour: usize,
    /// `register` attempts per address per hour, `handle_taken` answers included.
    pub register_attempts_per_ip_per_hour: usize,
    pub friend_requests_per_hour: usize,
    pub new_handles_per_account_per_day: usize,
    /// Logged-in connections of one account.
    pub connections_per_account: usize,
    /// What one account may send and store.
    pub budgets: budget::BudgetLimits,
    /// Largest `batch` answer to `sync`, in approximate bytes of JSON.
    pub sync_batch_bytes: usize,
    /// Activity and place rules, and how often feeds are polled.
    pub huddles: domain::windows::HuddleRules,
}

/// A registration waiting for its password hash.
#[derive(Debug)]
struct RegisterJob {
    conn: ConnId,
    id: RequestId,
    handle: Handle,
    invite: Option<String>,
    device: Option<String>,
}

/// A login waiting for its password check.
#[derive(Debug)]
struct LoginJob {
    conn: ConnId,
    id: RequestId,
    account: Option<String>,
    /// The try, as the login guard counts it (keyed by the handle as typed).
    attempt: login_guard::Attempt,
    device: Option<String>,
    presence: Option<huddle_shared::model::PresenceState>,
}

/// A password job the core is waiting for, and what to do when it is done.
#[derive(Debug)]
enum PendingJob {
    Register(RegisterJob),
    Login(LoginJob),
    ChangePasswordCheck { conn: ConnId, id: RequestId, new_password: String, attempt: login_guard::Attempt },
    ChangePasswordHash { conn: ConnId, id: RequestId },
}

impl PendingJob {
    /// The password try it carries, if it is one (see `login_guard`).
    fn attempt(&self) -> Option<&login_guard::Attempt> {
        match self {
            Self::Login(LoginJob { attempt, .. }) | Self::ChangePasswordCheck { attempt, .. } => Some(attempt),
            Self::Register(_) | Self::ChangePasswordHash { .. } => None,
        }
    }

    fn caller(&self) -> (ConnId, RequestId) {
        match self {
            Self::Register(RegisterJob { conn, id, .. })
            | Self::Login(LoginJob { conn, id, .. })
            | Self::ChangePasswordCheck { conn, id, .. }
            | Self::ChangePasswordHash { conn, id } => (*conn, *id),
        }
    }
}

/// The answer to a request, sent after the pushes it caused; `close` ends the connection after it.
#[derive(Debug)]
struct Answer {
    conn: ConnId,
    frame: ServerFrame,
    close: Option<ErrorCode>,
}

impl Answer {
    fn new(conn: ConnId, frame: ServerFrame) -> Self {
        Self { conn, frame, close: None }
    }
}

pub struct Core<S: Storage> {
    world: World<S>,
    config: CoreConfig,
    conns: Conns,
    jobs: HashMap<JobId, PendingJob>,
    next_job: u64,
    login_failures: Limiter,
    login_guard: login_guard::LoginGuard,
    registrations: Limiter,
    register_attempts: Limiter,
    friend_requests: Limiter,
    new_handles: Limiter,
    budgets: budget::Budgets,
    /// The data directory's file system is below its free-space floor: nothing new is stored.
    disk_low: bool,
    /// Effects of the input being handled.
    out: Vec<Effect>,
    /// The presence each handle was last shown with, to push only real changes.
    shown: HashMap<Handle, Presence>,
    /// When admin changes are next looked for and rate-limit tables pruned.
    next_housekeeping: Millis,
}

impl<S: Storage> Core<S> {
    pub fn new(store: S, relay: huddle_shared::RelayName, config: CoreConfig) -> Result<Self, StorageError> {
        let window = config.login_failure_window_ms;
        let mut world = World::new(store, relay)?;
        world.set_rules(config.huddles.clone());
        Ok(Self {
            world,
            conns: Conns::default(),
            jobs: HashMap::new(),
            next_job: 0,
            login_failures: Limiter::new(window),
            login_guard: login_guard::LoginGuard::new(config.login_guard),
            registrations: Limiter::new(3_600_000),
            register_attempts: Limiter::new(3_600_000),
            friend_requests: Limiter::new(3_600_000),
            new_handles: Limiter::new(86_400_000),
            budgets: budget::Budgets::new(config.budgets),
            disk_low: false,
            out: Vec::new(),
            shown: HashMap::new(),
            next_housekeeping: 0,
            config,
        })
    }

    pub fn state(&self) -> &State {
        &self.world.state
    }

    /// The world the domain acts on: for the relay's own operations and for tests.
    pub fn world(&mut self) -> &mut World<S> {
        &mut self.world
    }

    pub fn storage(&mut self) -> &mut S {
        self.world.storage()
    }

    /// Makes every change so far durable. The shell calls it after each batch of inputs, before performing the
    /// batch's effects, so nothing is acknowledged before it is on disk.
    pub fn commit(&mut self) -> Result<(), StorageError> {
        self.world.storage().commit()
    }

    /// When the core next needs [`Input::Deadline`]: the next housekeeping, or the earliest timer (a typing entry to
    /// forget, a huddle to check).
    pub fn poll_deadline(&self) -> Millis {
        [self.world.typing.next_deadline(), self.world.next_huddle_check()]
            .into_iter()
            .flatten()
            .fold(self.next_housekeeping, Millis::min)
    }

    /// The relay acting on its own rather than for a request (a room it forms or ends, a peer relay's change): runs
    /// `act` on the world, then pushes what it changed. A storage error is fatal, as in [`Core::handle`].
    pub fn act<T>(
        &mut self,
        now: Millis,
        act: impl FnOnce(&mut World<S>, Millis) -> Result<T, Fail>,
    ) -> Result<Acted<T>, StorageError> {
        let result = match act(&mut self.world, now) {
            Err(Fail::Storage(e)) => return Err(e),
            other => other,
        };
        self.react(None, now)?;
        Ok(Acted { result, effects: std::mem::take(&mut self.out) })
    }

    /// Handles one input. A storage error is fatal: the shell must stop the relay.
    pub fn handle(&mut self, input: Input, now: Millis) -> Result<Vec<Effect>, StorageError> {
        let (origin, answer) = match input {
            Input::Connected { conn, ip } => {
                self.conns.connect(conn, ip);
                (Some(conn), None)
            }
            Input::Disconnected { conn } => {
                self.disconnected(conn);
                (None, None)
            }
            Input::Frame { conn, frame } => (Some(conn), self.frame(conn, frame, now)?),
            Input::JobDone { job, outcome } => self.job_done(job, outcome, now)?,
            Input::Deadline => {
                self.deadline(now)?;
                (None, None)
            }
            Input::DiskLow(low) => {
                self.disk_low = low;
                (None, None)
            }
            Input::FeedFetched { topic, url, fetch } => {
                match self.world.feed_fetched(&topic, &url, fetch, now) {
                    Err(Fail::Storage(e)) => return Err(e),
                    Err(Fail::Refuse { code, .. }) => tracing::warn!(%code, %topic, "a feed's issue was refused"),
                    Ok(()) => {}
                }
                (None, None)
            }
        };
        self.react(origin, now)?;
        // The answer comes after everything the request changed was pushed.
        if let Some(Answer { conn, frame, close }) = answer {
            self.send(conn, frame);
            if let Some(code) = close {
                self.out.push(Effect::Close { conn, code });
            }
        }
        Ok(std::mem::take(&mut self.out))
    }

    /// A frame from a connection: dispatched to its handler; the answer (or the refusal) is returned to be sent after
    /// the pushes it caused.
    fn frame(&mut self, conn: ConnId, frame: ClientFrame, now: Millis) -> Result<Option<Answer>, StorageError> {
        if !self.conns.exists(conn) {
            return Ok(None);
        }
        let id = frame.id();
        // `typing` and `read` without an id are never answered, not even with an error: they are fire and forget.
        let silent = frame.is_unanswered();
        match requests::dispatch(self, conn, frame, now) {
            Ok(requests::Reply::Frame(frame)) => Ok(Some(Answer::new(conn, frame))),
            Ok(requests::Reply::Ok) => Ok(id.map(|id| Answer::new(conn, ServerFrame::Ok { id }))),
            Ok(requests::Reply::Nothing) => Ok(None),
            Err(Fail::Storage(e)) => Err(e),
            Err(Fail::Refuse { .. }) if silent => Ok(None),
            Err(Fail::Refuse { code, message, retry_after_ms }) => {
                // Every other refusal is answered, also for frames without an id (a bad `ack`): `id` is then null.
                let message = message.unwrap_or_else(|| code.sentence().to_owned());
                let close = (code == ErrorCode::VersionMismatch).then_some(code);
                Ok(Some(Answer { conn, frame: ServerFrame::Error { id, code, message, retry_after_ms }, close }))
            }
        }
    }

    fn send(&mut self, conn: ConnId, frame: ServerFrame) {
        self.out.push(Effect::Send { conn, frame });
    }

    /// Refuses what would store something new while the disk is below its floor.
    fn disk_room(&self) -> Result<(), Fail> {
        if self.disk_low { Err(fail::refuse(ErrorCode::StorageFull)) } else { Ok(()) }
    }

    /// Refuses new password work while too much is queued.
    fn job_capacity(&self) -> Result<(), Fail> {
        if self.jobs.len() >= MAX_PENDING_JOBS {
            Err(fail::refuse_with(
                ErrorCode::ServerBusy,
                "The relay is busy checking passwords; try again in a moment.",
            ))
        } else {
            Ok(())
        }
    }

    fn new_job(&mut self, pending: PendingJob) -> JobId {
        self.next_job += 1;
        let job = JobId(self.next_job);
        self.jobs.insert(job, pending);
        job
    }

    /// A timer is due: typing entries whose interval is over are forgotten; every [`HOUSEKEEPING_INTERVAL_MS`] the
    /// rate-limit tables are pruned and the database is checked for changes the admin CLI made.
    fn deadline(&mut self, now: Millis) -> Result<(), StorageError> {
        self.world.typing.expire(now);
        match self.world.huddle_deadlines(now) {
            Err(Fail::Storage(e)) => return Err(e),
            Err(Fail::Refuse { code, .. }) => tracing::warn!(%code, "a huddle check was refused"),
            Ok(polls) => self.out.extend(polls.into_iter().map(Effect::FetchFeed)),
        }
        if now < self.next_housekeeping {
            return Ok(());
        }
        self.next_housekeeping = now + HOUSEKEEPING_INTERVAL_MS;
        self.login_failures.prune(now);
        self.login_guard.prune(now);
        self.registrations.prune(now);
        self.register_attempts.prune(now);
        self.friend_requests.prune(now);
        self.new_handles.prune(now);
        self.budgets.prune(now);
        if self.world.storage().external_change()? {
            self.reload()?;
        }
        Ok(())
    }

    /// Re-reads everything after an admin change, then ends connections whose session or account is gone.
    fn reload(&mut self) -> Result<(), StorageError> {
        self.world.reload()?;
        for (conn, session, account) in self.conns.sessions() {
            let state = &self.world.state;
            let code = match (state.sessions.get(&session), state.accounts.get(&account)) {
                (_, Some(a)) if a.disabled => Some(ErrorCode::AccountDisabled),
                (None, _) | (_, None) => Some(ErrorCode::SessionRevoked),
                _ => None,
            };
            if let Some(code) = code {
                self.drop_conn_auth(conn);
                self.out.push(Effect::Close { conn, code });
            }
        }
        Ok(())
    }

    /// The connection stops acting for its handles (their presence is recomputed).
    fn drop_conn_auth(&mut self, conn: ConnId) {
        if self.conns.authed(conn) {
            self.out.push(Effect::Authenticated { conn, authed: false });
        }
        for handle in self.conns.clear_auth(conn) {
            self.world.record(facts::Fact::PresenceMayHaveChanged(handle));
        }
    }

    fn disconnected(&mut self, conn: ConnId) {
        for handle in self.conns.disconnect(conn) {
            self.world.record(facts::Fact::PresenceMayHaveChanged(handle));
        }
    }

    /// Deletes a session and closes its connections (but `keep`).
    fn end_session(&mut self, session: &SessionId, keep: Option<ConnId>) -> Result<(), Fail> {
        self.world.end_session(session)?;
        for other in self.conns.conns_of_session(session) {
            if Some(other) != keep {
                // The close first: the connection ends with `session_revoked`, before the news that it is logged
                // out could close it for being one anonymous connection too many.
                self.out.push(Effect::Close { conn: other, code: ErrorCode::SessionRevoked });
                self.drop_conn_auth(other);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
