//! The connection and the account: hello (version and features), register, log in (password or token), log out,
//! change password, sessions, and adding or removing handles. Password work is an effect: the handler asks for it and
//! the request is finished when the job comes back ([`Core::job_done`]).

use huddle_shared::client::{
    AddHandle, ChangePassword, Hello, ListSessions, Login, LoginToken, Logout, Register, RemoveHandle, RevokeSession,
};
use huddle_shared::limits::{MAX_DEVICE_CHARS, MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES};
use huddle_shared::model::{PresenceState, RegistrationPolicy, SessionInfo};
use huddle_shared::server::HandleInfo;
use huddle_shared::text::check_line;
use huddle_shared::version::{self, VersionRange};
use huddle_shared::{ErrorCode, Millis, RequestId, ServerFrame};

use super::{AccountRequest, Caller, Reply};
use crate::core::conns::ActingHandle;
use crate::core::facts::Fact;
use crate::core::fail::{Fail, rate_limited, refuse, refuse_with};
use crate::core::{Answer, ConnId, Core, Effect, JobId, JobOutcome, LoginJob, PendingJob, RegisterJob, login_guard};
use crate::password;
use crate::storage::{SessionRec, Storage, StorageError};

/// How many more failed token logins than failed password logins an address may have in the window.
const TOKEN_FAILURE_FACTOR: usize = 10;

/// "1 second", "40 seconds", "5 minutes": a wait in milliseconds as a person reads it.
fn seconds(ms: u64) -> String {
    let secs = ms.div_ceil(1000).max(1);
    match secs {
        1 => "1 second".to_owned(),
        2..=119 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// The refusal of a login that must wait `retry` milliseconds.
fn too_many_failures(retry: u64) -> Fail {
    rate_limited(format!("Too many failed logins; try again in {}.", seconds(retry)), retry)
}

fn check_password(password: &str) -> Result<(), Fail> {
    if (MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&password.len()) {
        Ok(())
    } else {
        Err(refuse(ErrorCode::WeakPassword))
    }
}

fn check_device(device: &Option<String>) -> Result<(), Fail> {
    match device {
        Some(d) if check_line(d, MAX_DEVICE_CHARS).is_err() => {
            Err(refuse_with(ErrorCode::BadText, "The device name must be at most 64 characters on one line."))
        }
        _ => Ok(()),
    }
}

impl AccountRequest for Hello {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, _now: Millis) -> Result<Reply, Fail> {
        let relay_speaks = version::SUPPORTED;
        if let Some(old) = self.version {
            return Err(refuse_with(
                ErrorCode::VersionMismatch,
                format!("This relay speaks protocol {relay_speaks} and your client speaks {old}; update your client."),
            ));
        }
        let Some(max) = self.max_version else {
            return Err(refuse_with(
                ErrorCode::BadFrame,
                "Say which protocol versions you speak with \"max_version\".",
            ));
        };
        let min = self.min_version.unwrap_or(max);
        if min > max {
            return Err(refuse_with(ErrorCode::BadFrame, "\"min_version\" is later than \"max_version\"."));
        }
        let client_speaks = VersionRange { min, max };
        let Some(agreed) = version::negotiate(client_speaks, relay_speaks) else {
            return Err(refuse_with(
                ErrorCode::VersionMismatch,
                format!(
                    "This relay speaks protocol {relay_speaks} and your client speaks {client_speaks}; update your \
                     client."
                ),
            ));
        };
        let features: Vec<&'static str> =
            version::FEATURES.iter().copied().filter(|f| self.features.iter().any(|asked| asked == f)).collect();
        core.conns.greet(caller.conn, agreed, features.clone());
        Ok(Reply::Frame(ServerFrame::Hello {
            version: agreed,
            features: features.into_iter().map(str::to_owned).collect(),
            relay: core.world.relay().clone(),
            registration: core.config.registration,
            limits: core.config.limits.clone(),
        }))
    }
}

impl AccountRequest for Register {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail> {
        let conn = caller.conn;
        if !core.conns.can_authenticate(conn) {
            return Err(refuse(ErrorCode::AlreadyAuthenticated));
        }
        match core.config.registration {
            RegistrationPolicy::Closed => return Err(refuse(ErrorCode::RegistrationClosed)),
            RegistrationPolicy::Invite if !core.invite_usable(self.invite.as_deref()) => {
                return Err(refuse(ErrorCode::InviteInvalid));
            }
            _ => {}
        }
        check_password(&self.password)?;
        check_device(&self.device)?;
        core.job_capacity()?;
        core.disk_room()?;
        let address = core.conns.ip(conn).map(|ip| ip.to_string()).unwrap_or_default();
        // Every attempt counts, answered `handle_taken` or not: probing which handles exist is limited like guessing
        // passwords is.
        let attempt_key = format!("try:{address}");
        let attempts = core.config.register_attempts_per_ip_per_hour;
        if let Err(retry) = core.register_attempts.check(&attempt_key, attempts, now) {
            return Err(rate_limited("Too many sign-up attempts from your address; try again later.", retry));
        }
        core.register_attempts.record(&attempt_key, attempts, now);
        if !core.world.state.handle_free(&self.handle) {
            return Err(refuse_with(
                ErrorCode::HandleTaken,
                format!("The handle {} is taken; pick another.", self.handle),
            ));
        }
        let ip_key = format!("reg:{address}");
        let max = core.config.registrations_per_ip_per_hour;
        if let Err(retry) = core.registrations.check(&ip_key, max, now) {
            return Err(rate_limited("Too many new accounts from your address; try again later.", retry));
        }
        core.registrations.record(&ip_key, max, now);
        core.conns.set_authenticating(conn, true);
        let Register { id, handle, password, invite, device } = self;
        let job = core.new_job(PendingJob::Register(RegisterJob { conn, id, handle, invite, device }));
        core.out.push(Effect::HashPassword { job, password });
        Ok(Reply::Nothing)
    }
}

impl AccountRequest for Login {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail> {
        let conn = caller.conn;
        if !core.conns.can_authenticate(conn) {
            return Err(refuse(ErrorCode::AlreadyAuthenticated));
        }
        check_device(&self.device)?;
        core.job_capacity()?;
        let account = core.world.state.handles.get(&self.handle).map(|h| h.account.clone());
        // Keyed by the handle as typed, whether it exists or not, so the limit itself reveals nothing.
        let attempt = core.begin_password_try(conn, login_guard::handle_key(self.handle.as_str()), now)?;
        // Unknown handles verify against a dummy hash, so they cost the same time and say the same thing.
        let phc = account
            .as_ref()
            .and_then(|a| core.world.state.accounts.get(a))
            .map_or_else(|| core.config.dummy_phc.clone(), |a| a.password_phc.clone());
        core.conns.set_authenticating(conn, true);
        let Login { id, password, device, presence, .. } = self;
        let job = core.new_job(PendingJob::Login(LoginJob { conn, id, account, attempt, device, presence }));
        core.out.push(Effect::VerifyPassword { job, password, phc });
        Ok(Reply::Nothing)
    }
}

impl AccountRequest for LoginToken {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail> {
        let conn = caller.conn;
        if !core.conns.can_authenticate(conn) {
            return Err(refuse(ErrorCode::AlreadyAuthenticated));
        }
        core.check_token_limits(conn, now)?;
        let state = &core.world.state;
        let session = state.tokens.get(&password::token_hash(&self.token)).and_then(|s| state.sessions.get(s));
        let Some(mut session) = session.cloned() else {
            core.record_token_failure(conn, now);
            return Err(refuse(ErrorCode::TokenInvalid));
        };
        if state.accounts.get(&session.account).is_none_or(|a| a.disabled) {
            return Err(refuse(ErrorCode::AccountDisabled));
        }
        core.account_connections(&session.account)?;
        if let Some(ip) = core.conns.ip(conn) {
            // The owner's address: exempt from the per-handle guessing cap for password logins too.
            for key in core.handle_keys(&session.account) {
                core.login_guard.know(&key, ip, now);
            }
        }
        session.last_used_at = now;
        core.world.write(crate::storage::Mutation::PutSession(session.clone()))?;
        core.start_session(conn, self.id, session, None, self.presence);
        Ok(Reply::Nothing)
    }
}

impl AccountRequest for Logout {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, _now: Millis) -> Result<Reply, Fail> {
        core.log_out(caller.conn)?;
        Ok(Reply::Ok)
    }
}

impl AccountRequest for ChangePassword {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail> {
        let conn = caller.conn;
        check_password(&self.new_password)?;
        core.job_capacity()?;
        let account = core.conns.account(conn).cloned().ok_or_else(|| refuse(ErrorCode::NotAuthenticated))?;
        // Guessing the current password from a stolen session is limited like guessing it at login.
        let attempt = core.begin_password_try(conn, login_guard::account_key(&account), now)?;
        let phc = core.world.state.accounts.get(&account).map(|a| a.password_phc.clone()).unwrap_or_default();
        let new_password = self.new_password;
        let job = core.new_job(PendingJob::ChangePasswordCheck { conn, id: self.id, new_password, attempt });
        core.out.push(Effect::VerifyPassword { job, password: self.old_password, phc });
        Ok(Reply::Nothing)
    }
}

impl AccountRequest for ListSessions {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, _now: Millis) -> Result<Reply, Fail> {
        let account = core.conns.account(caller.conn).cloned().unwrap_or_default();
        let current = core.conns.session(caller.conn).cloned();
        let mut sessions: Vec<SessionInfo> = core
            .world
            .state
            .sessions
            .values()
            .filter(|s| s.account == account)
            .map(|s| SessionInfo {
                session: s.id.clone(),
                device: s.device.clone(),
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                current: Some(&s.id) == current.as_ref(),
            })
            .collect();
        sessions.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.session.cmp(&b.session)));
        Ok(Reply::Frame(ServerFrame::Sessions { id: self.id, sessions }))
    }
}

impl AccountRequest for RevokeSession {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, _now: Millis) -> Result<Reply, Fail> {
        let account = core.conns.account(caller.conn).cloned().unwrap_or_default();
        if core.world.state.sessions.get(&self.session).is_none_or(|s| s.account != account) {
            return Err(refuse(ErrorCode::NoSuchSession));
        }
        if core.conns.session(caller.conn) == Some(&self.session) {
            core.log_out(caller.conn)?;
        } else {
            core.end_session(&self.session, None)?;
        }
        Ok(Reply::Ok)
    }
}

impl AccountRequest for AddHandle {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail> {
        let account = core.conns.account(caller.conn).cloned().unwrap_or_default();
        // A removed handle is retired for good: adding (and so retiring) names is limited per day.
        let key = format!("handles:{account}");
        let per_day = core.config.new_handles_per_account_per_day;
        if let Err(retry) = core.new_handles.check(&key, per_day, now) {
            let hours = retry.div_ceil(3_600_000).max(1);
            return Err(rate_limited(
                format!("An account can add {per_day} handles a day; try again in {hours} hour(s)."),
                retry,
            ));
        }
        // Every try counts, answered `handle_taken` or not, as for `register`: probing which handles exist is limited.
        let attempt_key = format!("add:{account}");
        let attempts = core.config.register_attempts_per_ip_per_hour;
        if let Err(retry) = core.register_attempts.check(&attempt_key, attempts, now) {
            return Err(rate_limited("Too many tries at new handles; try again later.", retry));
        }
        core.register_attempts.record(&attempt_key, attempts, now);
        core.world.add_handle(&account, &self.handle, now)?;
        core.new_handles.record(&key, per_day, now);
        if let Some(ip) = core.conns.ip(caller.conn) {
            core.login_guard.know(&login_guard::handle_key(self.handle.as_str()), ip, now);
        }
        let state = core.conns.handles(caller.conn).first().map_or(PresenceState::Online, |h| h.state);
        core.conns.add_handle(&account, ActingHandle { handle: self.handle, state, live_from: 0 });
        Ok(Reply::Frame(core.announce_handles(caller, &account)))
    }
}

impl AccountRequest for RemoveHandle {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail> {
        let account = core.conns.account(caller.conn).cloned().unwrap_or_default();
        let owned = core.world.state.account_handles(&account);
        if !owned.iter().any(|h| h.handle == self.handle) {
            return Err(refuse_with(ErrorCode::NotYourHandle, format!("{} is not one of your handles.", self.handle)));
        }
        if owned.len() == 1 {
            return Err(refuse(ErrorCode::LastHandle));
        }
        // Its connections stop acting for it first, so the goodbyes go only to the others.
        core.conns.remove_handle(&self.handle);
        core.world.remove_handle(&self.handle, now)?;
        Ok(Reply::Frame(core.announce_handles(caller, &account)))
    }
}

impl<S: Storage> Core<S> {
    fn invite_usable(&self, code: Option<&str>) -> bool {
        code.and_then(|c| self.world.state.invites.get(c.trim())).is_some_and(|i| !i.revoked && i.used_by.is_none())
    }

    /// Refuses a login that would give the account more connections than it may have.
    fn account_connections(&self, account: &str) -> Result<(), Fail> {
        let max = self.config.connections_per_account;
        if self.conns.conns_of_account(account).len() >= max {
            return Err(refuse_with(
                ErrorCode::TooManyConnections,
                format!("Your account has {max} connections open already; close one and try again."),
            ));
        }
        Ok(())
    }

    /// A key of the per-address failure counts: `kind` (`ip` for passwords, `token` for tokens) and the address.
    fn address_key(&self, kind: &str, conn: ConnId) -> String {
        format!("{kind}:{}", self.conns.ip(conn).map(|ip| ip.to_string()).unwrap_or_default())
    }

    /// Starts a password try for `key` from `conn`'s address: limited per address (all keys together) and by the
    /// login guard (see `login_guard`).
    fn begin_password_try(&mut self, conn: ConnId, key: String, now: Millis) -> Result<login_guard::Attempt, Fail> {
        let ip_key = self.address_key("ip", conn);
        let per_ip = self.config.login_failures_per_ip;
        let ip = self.conns.ip(conn).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let begun =
            self.login_failures.check(&ip_key, per_ip, now).and_then(|()| self.login_guard.begin(&key, ip, now));
        begun.map_err(too_many_failures)
    }

    fn record_password_failure(&mut self, conn: ConnId, attempt: &login_guard::Attempt, now: Millis) {
        self.login_guard.failed(attempt, now);
        let ip_key = self.address_key("ip", conn);
        self.login_failures.record(&ip_key, self.config.login_failures_per_ip, now);
    }

    /// Token logins have their own count per address, [`TOKEN_FAILURE_FACTOR`] times as large: tokens cannot be
    /// guessed, and neighbours behind one address who mistype passwords must not keep its owners from logging in
    /// with their tokens.
    fn check_token_limits(&mut self, conn: ConnId, now: Millis) -> Result<(), Fail> {
        let key = self.address_key("token", conn);
        let max = self.config.login_failures_per_ip.saturating_mul(TOKEN_FAILURE_FACTOR);
        self.login_failures.check(&key, max, now).map_err(too_many_failures)
    }

    fn record_token_failure(&mut self, conn: ConnId, now: Millis) {
        let key = self.address_key("token", conn);
        let max = self.config.login_failures_per_ip.saturating_mul(TOKEN_FAILURE_FACTOR);
        self.login_failures.record(&key, max, now);
    }

    /// The login guard's keys of every handle of `account`.
    fn handle_keys(&self, account: &str) -> Vec<String> {
        self.world.state.account_handles(account).iter().map(|h| login_guard::handle_key(h.handle.as_str())).collect()
    }

    /// The keys an address proven by the password becomes known to: every handle's, and the account's own (for
    /// `change_password`). A token login makes the address known to the handles only: a stolen token must not
    /// free its thief from the cap on guessing the current password.
    fn owner_keys(&self, account: &str) -> Vec<String> {
        let mut keys = self.handle_keys(account);
        keys.push(login_guard::account_key(account));
        keys
    }

    /// A password job came back: the request it belongs to is finished. Returns the connection it was for, and the
    /// answer to send after the pushes (a login's `session` goes out at once, before the lists that follow it).
    pub(in crate::core) fn job_done(
        &mut self,
        job: JobId,
        outcome: JobOutcome,
        now: Millis,
    ) -> Result<(Option<ConnId>, Option<Answer>), StorageError> {
        let Some(pending) = self.jobs.remove(&job) else { return Ok((None, None)) };
        let (conn, id) = pending.caller();
        self.conns.set_authenticating(conn, false);
        if !self.conns.exists(conn) {
            if let Some(attempt) = pending.attempt() {
                self.login_guard.abandoned(attempt);
            }
            return Ok((None, None));
        }
        let result = match (pending, outcome) {
            (PendingJob::Register(job), JobOutcome::Hashed(Some(phc))) => self.finish_register(job, phc, now),
            (PendingJob::Login(job), JobOutcome::Verified(ok)) => self.finish_login(job, ok, now),
            (PendingJob::ChangePasswordCheck { new_password, attempt, .. }, JobOutcome::Verified(true)) => {
                let account = self.conns.account(conn).cloned().unwrap_or_default();
                let also = self.owner_keys(&account);
                self.login_guard.succeeded(&attempt, &also, now);
                let job = self.new_job(PendingJob::ChangePasswordHash { conn, id });
                self.out.push(Effect::HashPassword { job, password: new_password });
                Ok(None)
            }
            (PendingJob::ChangePasswordCheck { attempt, .. }, JobOutcome::Verified(false)) => {
                self.record_password_failure(conn, &attempt, now);
                Err(refuse_with(ErrorCode::BadCredentials, "Your current password is not right."))
            }
            (PendingJob::ChangePasswordHash { .. }, JobOutcome::Hashed(Some(phc))) => {
                self.finish_change_password(conn, phc).map(|()| Some(ServerFrame::Ok { id }))
            }
            (pending, _) => {
                if let Some(attempt) = pending.attempt() {
                    self.login_guard.abandoned(attempt);
                }
                Err(refuse(ErrorCode::Internal))
            }
        };
        match result {
            Ok(answer) => Ok((Some(conn), answer.map(|frame| Answer::new(conn, frame)))),
            Err(Fail::Storage(e)) => Err(e),
            Err(Fail::Refuse { code, message, retry_after_ms }) => {
                let message = message.unwrap_or_else(|| code.sentence().to_owned());
                let frame = ServerFrame::Error { id: Some(id), code, message, retry_after_ms };
                Ok((Some(conn), Some(Answer::new(conn, frame))))
            }
        }
    }

    fn finish_register(&mut self, job: RegisterJob, phc: String, now: Millis) -> Result<Option<ServerFrame>, Fail> {
        let RegisterJob { conn, id, handle, invite, device } = job;
        // Re-check what may have changed while the hash was computed.
        let invite = match self.config.registration {
            RegistrationPolicy::Invite => {
                match invite.as_deref().map(str::trim).and_then(|c| self.world.state.invites.get(c)) {
                    Some(i) if !i.revoked && i.used_by.is_none() => Some(i.clone()),
                    _ => return Err(refuse(ErrorCode::InviteInvalid)),
                }
            }
            RegistrationPolicy::Closed => return Err(refuse(ErrorCode::RegistrationClosed)),
            RegistrationPolicy::Open => None,
        };
        let account = self.world.create_account(&handle, phc, invite, now)?;
        if let Some(ip) = self.conns.ip(conn) {
            for key in self.owner_keys(&account.id) {
                self.login_guard.know(&key, ip, now);
            }
        }
        let (session, token) = self.world.new_session(&account.id, device, now)?;
        self.start_session(conn, id, session, Some(token), None);
        Ok(None)
    }

    fn finish_login(&mut self, job: LoginJob, ok: bool, now: Millis) -> Result<Option<ServerFrame>, Fail> {
        let LoginJob { conn, id, account, attempt, device, presence } = job;
        let record = match account.as_ref().and_then(|a| self.world.state.accounts.get(a)) {
            Some(record) if ok => record.clone(),
            _ => {
                self.record_password_failure(conn, &attempt, now);
                return Err(refuse(ErrorCode::BadCredentials));
            }
        };
        // The password was right: the address is its owner's, whatever comes next.
        let also = self.owner_keys(&record.id);
        self.login_guard.succeeded(&attempt, &also, now);
        // Told only to someone who knows the password, so it reveals nothing to guessers.
        if record.disabled {
            return Err(refuse(ErrorCode::AccountDisabled));
        }
        self.account_connections(&record.id)?;
        let (session, token) = self.world.new_session(&record.id, device, now)?;
        self.start_session(conn, id, session, Some(token), presence);
        Ok(None)
    }

    fn finish_change_password(&mut self, conn: ConnId, phc: String) -> Result<(), Fail> {
        let Some(account) = self.conns.account(conn).cloned() else { return Err(refuse(ErrorCode::NotAuthenticated)) };
        self.world.set_password(&account, phc)?;
        let current = self.conns.session(conn).cloned();
        let others: Vec<_> = self
            .world
            .state
            .sessions
            .values()
            .filter(|s| s.account == account && Some(&s.id) != current.as_ref())
            .map(|s| s.id.clone())
            .collect();
        for session in others {
            self.end_session(&session, None)?;
        }
        Ok(())
    }

    /// The connection now acts for every handle of the account: the `session` answer, then per handle its friend
    /// list and rooms, then presence.
    fn start_session(
        &mut self,
        conn: ConnId,
        id: RequestId,
        session: SessionRec,
        token: Option<String>,
        presence: Option<PresenceState>,
    ) {
        let state = presence.unwrap_or(PresenceState::Online);
        let handles: Vec<ActingHandle> = self
            .world
            .state
            .account_handles(&session.account)
            .iter()
            .map(|h| ActingHandle { handle: h.handle.clone(), state, live_from: self.world.state.head(&h.handle) })
            .collect();
        let infos = self.handle_infos(&session.account);
        self.conns.authenticate(conn, session.account.clone(), session.id.clone(), handles.clone());
        self.out.push(Effect::Authenticated { conn, authed: true });
        self.send(conn, ServerFrame::Session { id, session: session.id, token, handles: infos });
        for h in handles {
            let list = self.friend_list(&h.handle);
            let acting = self.world.address(&h.handle);
            self.send(conn, ServerFrame::Friends { id: None, acting, list });
            let rooms = self.rooms_frame(None, &h.handle);
            self.send(conn, rooms);
            let acting = self.world.address(&h.handle);
            let settings = self.world.state.settings_of(&acting);
            self.send(conn, ServerFrame::HuddleSettings { id: None, acting, settings });
            self.world.record(Fact::PresenceMayHaveChanged(h.handle));
        }
    }

    pub(in crate::core) fn handle_infos(&self, account: &str) -> Vec<HandleInfo> {
        self.world
            .state
            .account_handles(account)
            .into_iter()
            .map(|h| HandleInfo {
                address: self.world.address(&h.handle),
                head: self.world.state.head(&h.handle),
                acked: h.acked,
                profile: h.profile.clone(),
                activity: h.activity.clone(),
                location: h.location.clone(),
            })
            .collect()
    }

    /// The account's handles now: pushed to the account's other connections, and returned as the answer.
    fn announce_handles(&mut self, caller: &Caller, account: &str) -> ServerFrame {
        self.world.record(Fact::HandlesChanged { account: account.to_owned() });
        ServerFrame::Handles { id: Some(caller.id()), handles: self.handle_infos(account) }
    }

    /// Ends this connection's session; the connection goes back to greeted.
    fn log_out(&mut self, conn: ConnId) -> Result<(), Fail> {
        if let Some(session) = self.conns.session(conn).cloned() {
            self.end_session(&session, Some(conn))?;
        }
        self.drop_conn_auth(conn);
        Ok(())
    }
}
