//! The relay's logic as a state machine: [`Core::handle`] takes one [`Input`] and the current time and returns the
//! [`Effect`]s to carry out. No sockets, no clock, no threads: the network shell (`crate::net`) feeds it and performs
//! the effects, and unit tests drive it directly.
//!
//! # Layout
//! - [`state`]: the in-memory model, changed only through storage [`Mutation`]s.
//! - [`routing`]: the routing rule.
//! - `conns`: which connection acts for which handle, with what presence and stream position.
//! - `auth`, `friends`, `groups`, `messages`, `receipts`, `presence`, `typing`: one file per family of frames.
//! - `limiter`: sliding-window limits for failed logins, registrations and friend requests.
//!
//! Password hashing is too slow for the core's single thread, so it is an effect: the core asks for a hash or a
//! verification ([`Effect::HashPassword`], [`Effect::VerifyPassword`]) and continues when [`Input::JobDone`] comes back.

mod auth;
mod conns;
mod friends;
mod groups;
mod limiter;
mod messages;
mod presence;
mod receipts;
pub mod relation;
pub mod routing;
pub mod state;
mod typing;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use huddle_shared::model::{ItemBody, RegistrationPolicy, StreamItem};
use huddle_shared::{ClientFrame, ErrorCode, Handle, Millis, RequestId, ServerFrame};

pub use auth::new_account_id;
pub use conns::ConnId;
use conns::Conns;
use limiter::Limiter;
use state::State;

use crate::storage::{Mutation, Storage, StorageError};

/// Password jobs (hash or verify) waiting or running at once. Beyond this, logins and registrations are refused
/// with `server_busy` instead of queueing without bound.
pub const MAX_PENDING_JOBS: usize = 256;

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
    /// About once a second: pick up admin changes, forget expired rate-limit entries.
    Tick,
}

/// What the shell must do.
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
    HashPassword {
        job: JobId,
        password: String,
    },
    VerifyPassword {
        job: JobId,
        password: String,
        phc: String,
    },
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
    pub login_failures_per_account: usize,
    pub login_failures_per_ip: usize,
    pub login_failure_window_ms: Millis,
    pub registrations_per_ip_per_hour: usize,
    pub friend_requests_per_hour: usize,
    /// Largest `batch` answer to `sync`, in approximate bytes of JSON.
    pub sync_batch_bytes: usize,
}

/// Why a request was not carried out.
#[derive(Debug)]
enum Fail {
    Refuse { code: ErrorCode, message: Option<String>, retry_after_ms: Option<u64> },
    Storage(StorageError),
}

impl From<StorageError> for Fail {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

fn refuse(code: ErrorCode) -> Fail {
    Fail::Refuse { code, message: None, retry_after_ms: None }
}

fn refuse_with(code: ErrorCode, message: impl Into<String>) -> Fail {
    Fail::Refuse { code, message: Some(message.into()), retry_after_ms: None }
}

type Outcome = Result<(), Fail>;

/// A password job the core is waiting for, and what to do when it is done.
#[derive(Debug)]
enum PendingJob {
    Register {
        conn: ConnId,
        id: RequestId,
        handle: Handle,
        invite: Option<String>,
        device: Option<String>,
    },
    Login {
        conn: ConnId,
        id: RequestId,
        account: Option<String>,
        /// The key failures count against: the account, or the unknown handle's name.
        limit_key: String,
        device: Option<String>,
        presence: Option<huddle_shared::model::PresenceState>,
    },
    ChangePasswordCheck {
        conn: ConnId,
        id: RequestId,
        new_password: String,
    },
    ChangePasswordHash {
        conn: ConnId,
        id: RequestId,
    },
}

pub struct Core<S: Storage> {
    store: S,
    state: State,
    config: CoreConfig,
    conns: Conns,
    jobs: HashMap<JobId, PendingJob>,
    next_job: u64,
    login_failures: Limiter,
    registrations: Limiter,
    friend_requests: Limiter,
    /// Effects of the input being handled.
    out: Vec<Effect>,
    /// Handles whose friend list changed: each of their connections gets a fresh `friends` frame.
    touched: BTreeSet<Handle>,
    /// Handles whose shown presence may have changed.
    presence_dirty: BTreeSet<Handle>,
    /// The presence each handle was last shown with, to push only real changes.
    shown: HashMap<Handle, huddle_shared::model::Presence>,
    /// When a typing indicator was last passed on, per (typist, conversation); bounded by `typing::MAX_TYPING_ENTRIES`.
    typing_seen: HashMap<(Handle, String), Millis>,
}

impl<S: Storage> Core<S> {
    pub fn new(mut store: S, relay: huddle_shared::RelayName, config: CoreConfig) -> Result<Self, StorageError> {
        let snapshot = store.load()?;
        let state = State::new(relay, snapshot);
        let window = config.login_failure_window_ms;
        Ok(Self {
            store,
            state,
            conns: Conns::default(),
            jobs: HashMap::new(),
            next_job: 0,
            login_failures: Limiter::new(window),
            registrations: Limiter::new(3_600_000),
            friend_requests: Limiter::new(3_600_000),
            out: Vec::new(),
            touched: BTreeSet::new(),
            presence_dirty: BTreeSet::new(),
            shown: HashMap::new(),
            typing_seen: HashMap::new(),
            config,
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn storage(&mut self) -> &mut S {
        &mut self.store
    }

    /// Makes every change so far durable. The shell calls it after each batch of inputs, before performing the
    /// batch's effects, so nothing is acknowledged before it is on disk.
    pub fn commit(&mut self) -> Result<(), StorageError> {
        self.store.commit()
    }

    /// Handles one input. A storage error is fatal: the shell must stop the relay.
    pub fn handle(&mut self, input: Input, now: Millis) -> Result<Vec<Effect>, StorageError> {
        let result = match input {
            Input::Connected { conn, ip } => {
                self.conns.connect(conn, ip);
                Ok(())
            }
            Input::Disconnected { conn } => self.disconnected(conn, now),
            Input::Frame { conn, frame } => self.frame(conn, frame, now),
            Input::JobDone { job, outcome } => self.job_done(job, outcome, now),
            Input::Tick => self.tick(now),
        };
        result?;
        self.flush_changes(now)?;
        Ok(std::mem::take(&mut self.out))
    }

    fn frame(&mut self, conn: ConnId, frame: ClientFrame, now: Millis) -> Result<(), StorageError> {
        if !self.conns.exists(conn) {
            return Ok(());
        }
        let id = frame.id();
        match self.dispatch(conn, frame, now) {
            Ok(()) => Ok(()),
            Err(Fail::Storage(e)) => Err(e),
            Err(Fail::Refuse { code, message, retry_after_ms }) => {
                // Every refusal is answered, also for frames without an id (a bad `ack`): `id` is then null.
                let message = message.unwrap_or_else(|| code.sentence().to_owned());
                self.send(conn, ServerFrame::Error { id, code, message, retry_after_ms });
                if code == ErrorCode::VersionMismatch {
                    self.out.push(Effect::Close { conn, code });
                }
                Ok(())
            }
        }
    }

    fn dispatch(&mut self, conn: ConnId, frame: ClientFrame, now: Millis) -> Outcome {
        use ClientFrame as F;
        if let F::Hello { version, .. } = frame {
            return self.hello(conn, version);
        }
        if !self.conns.greeted(conn) {
            return Err(refuse(ErrorCode::HelloRequired));
        }
        match frame {
            F::Hello { .. } => Ok(()),
            F::Register { id, handle, password, invite, device } => {
                self.register(conn, id, handle, password, invite, device, now)
            }
            F::Login { id, handle, password, device, presence } => {
                self.login(conn, id, handle, password, device, presence, now)
            }
            F::LoginToken { id, token, presence } => self.login_token(conn, id, &token, presence, now),
            other => {
                if !self.conns.authed(conn) {
                    return Err(refuse(ErrorCode::NotAuthenticated));
                }
                self.authed_frame(conn, other, now)
            }
        }
    }

    fn authed_frame(&mut self, conn: ConnId, frame: ClientFrame, now: Millis) -> Outcome {
        use ClientFrame as F;
        match frame {
            F::Logout { id } => self.logout(conn, id),
            F::ChangePassword { id, old_password, new_password } => {
                self.change_password(conn, id, old_password, new_password, now)
            }
            F::ListSessions { id } => self.list_sessions(conn, id),
            F::RevokeSession { id, session } => self.revoke_session(conn, id, &session),
            F::AddHandle { id, handle } => self.add_handle(conn, id, handle, now),
            F::RemoveHandle { id, handle } => self.remove_handle(conn, id, &handle, now),
            F::SetPresence { id, acting, state, activity, location } => {
                let me = self.acting(conn, acting)?;
                self.set_presence(conn, id, &me, state, activity, location)
            }
            F::SetProfile { id, acting, display_name, bio } => {
                let me = self.acting(conn, acting)?;
                self.set_profile(conn, id, &me, display_name, bio)
            }
            F::FriendRequest { id, acting, to, greeting } => {
                let me = self.acting(conn, acting)?;
                self.friend_request(conn, id, &me, to, greeting, now)
            }
            F::CancelRequest { id, acting, to } => {
                let me = self.acting(conn, acting)?;
                self.cancel_request(conn, id, &me, to, now)
            }
            F::AnswerRequest { id, acting, from, answer } => {
                let me = self.acting(conn, acting)?;
                self.answer_request(conn, id, &me, from, answer, now)
            }
            F::DeleteFriend { id, acting, friend } => {
                let me = self.acting(conn, acting)?;
                self.delete_friend(conn, id, &me, friend, now)
            }
            F::NotifyDeletion { id, acting, to, ask_delete } => {
                let me = self.acting(conn, acting)?;
                self.notify_deletion(conn, id, &me, to, ask_delete, now)
            }
            F::AnswerDeletion { id, acting, from, answer } => {
                let me = self.acting(conn, acting)?;
                self.answer_deletion(conn, id, &me, from, answer, now)
            }
            F::SetEntry { id, acting, friend, nickname, note } => {
                let me = self.acting(conn, acting)?;
                self.set_entry(conn, id, &me, friend, nickname, note)
            }
            F::Block { id, acting, target } => {
                let me = self.acting(conn, acting)?;
                self.block(conn, id, &me, target, now)
            }
            F::Unblock { id, acting, target } => {
                let me = self.acting(conn, acting)?;
                self.unblock(conn, id, &me, target)
            }
            F::GetFriends { id, acting } => {
                let me = self.acting(conn, acting)?;
                let list = self.friend_list(&me);
                let acting = self.state.address(&me);
                self.send(conn, ServerFrame::Friends { id: Some(id), acting, list });
                Ok(())
            }
            F::Send { id, acting, to, body, client_msg_id, receipts } => {
                let me = self.acting(conn, acting)?;
                self.send_message(conn, id, &me, to, body, client_msg_id, receipts, now)
            }
            F::Sync { id, acting, after, limit } => {
                let me = self.acting(conn, acting)?;
                self.sync(conn, id, &me, after, limit)
            }
            F::Ack { id, acting, seq } => {
                let me = self.acting(conn, acting)?;
                self.ack(conn, id, &me, seq, now)
            }
            F::History { id, acting, with, before, after, limit } => {
                let me = self.acting(conn, acting)?;
                self.history(conn, id, &me, with, before, after, limit)
            }
            F::CreateGroup { id, acting, members, title, promoted } => {
                let me = self.acting(conn, acting)?;
                self.create_group(conn, id, &me, members, title, promoted, now)
            }
            F::InviteToGroup { id, acting, group, who } => {
                let me = self.acting(conn, acting)?;
                self.invite_to_group(conn, id, &me, &group, who, now)
            }
            F::AnswerGroupInvite { id, acting, group, accept } => {
                let me = self.acting(conn, acting)?;
                self.answer_group_invite(conn, id, &me, &group, accept, now)
            }
            F::LeaveGroup { id, acting, group } => {
                let me = self.acting(conn, acting)?;
                self.leave_group(conn, id, &me, &group, now)
            }
            F::RemoveFromGroup { id, acting, group, who } => {
                let me = self.acting(conn, acting)?;
                self.remove_from_group(conn, id, &me, &group, who, now)
            }
            F::RenameGroup { id, acting, group, title } => {
                let me = self.acting(conn, acting)?;
                self.rename_group(conn, id, &me, &group, title, now)
            }
            F::SendGroup { id, acting, group, body, client_msg_id, receipts } => {
                let me = self.acting(conn, acting)?;
                self.send_group(conn, id, &me, &group, body, client_msg_id, receipts, now)
            }
            F::GroupHistory { id, acting, group, before, after, limit } => {
                let me = self.acting(conn, acting)?;
                self.group_history(conn, id, &me, group, before, after, limit)
            }
            F::SetInvitePolicy { id, acting, policy } => {
                let me = self.acting(conn, acting)?;
                self.set_invite_policy(conn, id, &me, policy)
            }
            F::Typing { id, acting, to, group } => {
                let me = self.acting(conn, acting)?;
                self.typing(conn, id, &me, to, group, now)
            }
            F::Read { id, acting, message_ids } => {
                let me = self.acting(conn, acting)?;
                self.read(conn, id, &me, message_ids, now)
            }
            F::GetGroups { id, acting } => {
                let me = self.acting(conn, acting)?;
                let frame = self.groups_frame(Some(id), &me);
                self.send(conn, frame);
                Ok(())
            }
            // `hello` never gets here (dispatch answers it first); the others on a logged-in connection:
            F::Hello { .. } | F::Register { .. } | F::Login { .. } | F::LoginToken { .. } => {
                Err(refuse(ErrorCode::AlreadyAuthenticated))
            }
        }
    }

    fn hello(&mut self, conn: ConnId, version: u32) -> Outcome {
        if version != huddle_shared::PROTOCOL_VERSION {
            return Err(refuse_with(
                ErrorCode::VersionMismatch,
                format!(
                    "This relay speaks protocol version {} and your client speaks {version}; update your client.",
                    huddle_shared::PROTOCOL_VERSION
                ),
            ));
        }
        self.conns.greet(conn);
        self.send(
            conn,
            ServerFrame::Hello {
                version: huddle_shared::PROTOCOL_VERSION,
                relay: self.state.relay.clone(),
                registration: self.config.registration,
                limits: self.config.limits.clone(),
            },
        );
        Ok(())
    }

    /// The handle a frame acts for: `as` if given (it must be one of the connection's), else the connection's only
    /// handle.
    fn acting(&self, conn: ConnId, acting: Option<Handle>) -> Result<Handle, Fail> {
        let handles = self.conns.handles(conn);
        match acting {
            Some(h) if handles.iter().any(|a| a.handle == h) => Ok(h),
            Some(h) => Err(refuse_with(ErrorCode::NotYourHandle, format!("This connection does not act for {h}."))),
            None if handles.len() == 1 => Ok(handles[0].handle.clone()),
            None => Err(refuse_with(
                ErrorCode::NotYourHandle,
                "This connection acts for several handles; say which with \"as\".",
            )),
        }
    }

    fn send(&mut self, conn: ConnId, frame: ServerFrame) {
        self.out.push(Effect::Send { conn, frame });
    }

    fn ok(&mut self, conn: ConnId, id: RequestId) {
        self.send(conn, ServerFrame::Ok { id });
    }

    fn write(&mut self, mutation: Mutation) -> Result<(), StorageError> {
        self.store.apply(&mutation)?;
        self.state.apply(&mutation);
        Ok(())
    }

    /// Refuses new password work while too much is queued.
    fn job_capacity(&self) -> Outcome {
        if self.jobs.len() >= MAX_PENDING_JOBS {
            Err(refuse_with(ErrorCode::ServerBusy, "The relay is busy checking passwords; try again in a moment."))
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

    /// Appends a system event to a local handle's stream and pushes it to the handle's connections.
    fn append_event(&mut self, handle: &Handle, event: huddle_shared::model::Event, now: Millis) -> Outcome {
        if !self.state.handles.contains_key(handle) {
            return Ok(());
        }
        let item = StreamItem { seq: self.state.head(handle) + 1, at: now, body: ItemBody::Event { event } };
        self.write(Mutation::AppendEvent { handle: handle.clone(), item: item.clone() })?;
        self.deliver(handle, item, None);
        Ok(())
    }

    /// Pushes a new stream item to every connection acting for `handle` (but `except`).
    fn deliver(&mut self, handle: &Handle, item: StreamItem, except: Option<ConnId>) {
        let acting = self.state.address(handle);
        for conn in self.conns.acting_for(handle) {
            if Some(conn) != except && self.conns.live_from(conn, handle).is_some_and(|from| item.seq > from) {
                self.send(conn, ServerFrame::Deliver { acting: acting.clone(), item: item.clone() });
            }
        }
    }

    fn tick(&mut self, now: Millis) -> Result<(), StorageError> {
        self.login_failures.prune(now);
        // Typing marks older than the interval no longer matter.
        self.typing_seen.retain(|_, at| now - *at < typing::TYPING_INTERVAL_MS);
        self.registrations.prune(now);
        self.friend_requests.prune(now);
        if self.store.external_change()? {
            self.reload()?;
        }
        Ok(())
    }

    /// Re-reads everything after an admin change, then ends connections whose session or account is gone.
    fn reload(&mut self) -> Result<(), StorageError> {
        let snapshot = self.store.load()?;
        self.state = State::new(self.state.relay.clone(), snapshot);
        for (conn, session, account) in self.conns.sessions() {
            let code = match (self.state.sessions.get(&session), self.state.accounts.get(&account)) {
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

    /// After each input: fresh friend lists to those whose list changed, presence to those who see a change.
    fn flush_changes(&mut self, now: Millis) -> Result<(), StorageError> {
        for handle in std::mem::take(&mut self.touched) {
            if !self.state.handles.contains_key(&handle) {
                continue;
            }
            let conns = self.conns.acting_for(&handle);
            if conns.is_empty() {
                continue;
            }
            let list = self.friend_list(&handle);
            let acting = self.state.address(&handle);
            for conn in conns {
                self.send(conn, ServerFrame::Friends { id: None, acting: acting.clone(), list: list.clone() });
            }
        }
        self.flush_presence(now)
    }
}

#[cfg(test)]
mod tests;
