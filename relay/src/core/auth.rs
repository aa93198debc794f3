//! Accounts, handles and sessions: register, log in (password or token), log out, change password, sessions, and
//! adding/removing handles.

use huddle_shared::limits::{MAX_DEVICE_CHARS, MAX_HANDLES_PER_ACCOUNT, MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES};
use huddle_shared::model::{Event, PresenceState, RegistrationPolicy, SessionInfo};
use huddle_shared::server::HandleInfo;
use huddle_shared::text::check_line;
use huddle_shared::{ErrorCode, Handle, Millis, RequestId, ServerFrame};

use super::conns::ActingHandle;
use super::{ConnId, Core, Effect, Fail, JobId, JobOutcome, Outcome, PendingJob, refuse, refuse_with};
use crate::password;
use crate::storage::{AccountRec, HandleRec, Mutation, SessionRec, Storage, StorageError};

fn check_password(password: &str) -> Outcome {
    if (MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&password.len()) {
        Ok(())
    } else {
        Err(refuse(ErrorCode::WeakPassword))
    }
}

fn check_device(device: &Option<String>) -> Outcome {
    match device {
        Some(d) if check_line(d, MAX_DEVICE_CHARS).is_err() => {
            Err(refuse_with(ErrorCode::BadText, "The device name must be at most 64 characters on one line."))
        }
        _ => Ok(()),
    }
}

fn random(what: &str) -> Result<String, Fail> {
    password::new_secret().map_err(|e| {
        tracing::error!(error = %e, "the system random source failed making a {what}");
        refuse(ErrorCode::Internal)
    })
}

impl<S: Storage> Core<S> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn register(
        &mut self,
        conn: ConnId,
        id: RequestId,
        handle: Handle,
        password: String,
        invite: Option<String>,
        device: Option<String>,
        now: Millis,
    ) -> Outcome {
        if !self.conns.can_authenticate(conn) {
            return Err(refuse(ErrorCode::AlreadyAuthenticated));
        }
        match self.config.registration {
            RegistrationPolicy::Closed => return Err(refuse(ErrorCode::RegistrationClosed)),
            RegistrationPolicy::Invite if !self.invite_usable(invite.as_deref()) => {
                return Err(refuse(ErrorCode::InviteInvalid));
            }
            _ => {}
        }
        check_password(&password)?;
        check_device(&device)?;
        self.job_capacity()?;
        if !self.state.handle_free(&handle) {
            return Err(refuse_with(ErrorCode::HandleTaken, format!("The handle {handle} is taken; pick another.")));
        }
        let ip_key = format!("reg:{}", self.conns.ip(conn).map(|ip| ip.to_string()).unwrap_or_default());
        let max = self.config.registrations_per_ip_per_hour;
        if let Err(retry) = self.registrations.check(&ip_key, max, now) {
            return Err(Fail::Refuse {
                code: ErrorCode::RateLimited,
                message: Some("Too many new accounts from your address; try again later.".to_owned()),
                retry_after_ms: Some(retry),
            });
        }
        self.registrations.record(&ip_key, max, now);
        self.conns.set_authenticating(conn, true);
        let job = self.new_job(PendingJob::Register { conn, id, handle, invite, device });
        self.out.push(Effect::HashPassword { job, password });
        Ok(())
    }

    fn invite_usable(&self, code: Option<&str>) -> bool {
        code.and_then(|c| self.state.invites.get(c.trim())).is_some_and(|i| !i.revoked && i.used_by.is_none())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn login(
        &mut self,
        conn: ConnId,
        id: RequestId,
        handle: Handle,
        password: String,
        device: Option<String>,
        presence: Option<PresenceState>,
        now: Millis,
    ) -> Outcome {
        if !self.conns.can_authenticate(conn) {
            return Err(refuse(ErrorCode::AlreadyAuthenticated));
        }
        check_device(&device)?;
        self.job_capacity()?;
        let account = self.state.handles.get(&handle).map(|h| h.account.clone());
        // Unknown handles are limited like real accounts, so the limit itself reveals nothing.
        let limit_key = account.clone().unwrap_or_else(|| format!("unknown:{handle}"));
        self.check_login_limits(conn, Some(&limit_key), now)?;
        // Unknown handles verify against a dummy hash, so they cost the same time and say the same thing.
        let phc = account
            .as_ref()
            .and_then(|a| self.state.accounts.get(a))
            .map_or_else(|| self.config.dummy_phc.clone(), |a| a.password_phc.clone());
        self.conns.set_authenticating(conn, true);
        let job = self.new_job(PendingJob::Login { conn, id, account, limit_key, device, presence });
        self.out.push(Effect::VerifyPassword { job, password, phc });
        Ok(())
    }

    fn login_keys(&self, conn: ConnId, account: Option<&str>) -> (Option<String>, String) {
        let ip = self.conns.ip(conn).map(|ip| ip.to_string()).unwrap_or_default();
        (account.map(|a| format!("acct:{a}")), format!("ip:{ip}"))
    }

    fn check_login_limits(&mut self, conn: ConnId, account: Option<&str>, now: Millis) -> Outcome {
        let (account_key, ip_key) = self.login_keys(conn, account);
        let per_account = self.config.login_failures_per_account;
        let per_ip = self.config.login_failures_per_ip;
        let limited = match &account_key {
            Some(key) => self.login_failures.check(key, per_account, now).err(),
            None => None,
        }
        .or(self.login_failures.check(&ip_key, per_ip, now).err());
        match limited {
            Some(retry) => Err(Fail::Refuse {
                code: ErrorCode::RateLimited,
                message: Some(format!("Too many failed logins; try again in {} seconds.", retry.div_ceil(1000).max(1))),
                retry_after_ms: Some(retry),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn login_token(
        &mut self,
        conn: ConnId,
        id: RequestId,
        token: &str,
        presence: Option<PresenceState>,
        now: Millis,
    ) -> Outcome {
        if !self.conns.can_authenticate(conn) {
            return Err(refuse(ErrorCode::AlreadyAuthenticated));
        }
        self.check_login_limits(conn, None, now)?;
        let session = self.state.tokens.get(&password::token_hash(token)).and_then(|s| self.state.sessions.get(s));
        let Some(mut session) = session.cloned() else {
            let (_, ip_key) = self.login_keys(conn, None);
            self.login_failures.record(&ip_key, self.config.login_failures_per_ip, now);
            return Err(refuse(ErrorCode::TokenInvalid));
        };
        if self.state.accounts.get(&session.account).is_none_or(|a| a.disabled) {
            return Err(refuse(ErrorCode::AccountDisabled));
        }
        session.last_used_at = now;
        self.write(Mutation::PutSession(session.clone()))?;
        self.start_session(conn, id, session, None, presence);
        Ok(())
    }

    pub(super) fn job_done(&mut self, job: JobId, outcome: JobOutcome, now: Millis) -> Result<(), StorageError> {
        let Some(pending) = self.jobs.remove(&job) else { return Ok(()) };
        let (conn, id) = match &pending {
            PendingJob::Register { conn, id, .. }
            | PendingJob::Login { conn, id, .. }
            | PendingJob::ChangePasswordCheck { conn, id, .. }
            | PendingJob::ChangePasswordHash { conn, id } => (*conn, *id),
        };
        self.conns.set_authenticating(conn, false);
        if !self.conns.exists(conn) {
            return Ok(());
        }
        let result = match (pending, outcome) {
            (PendingJob::Register { handle, invite, device, .. }, JobOutcome::Hashed(Some(phc))) => {
                self.finish_register(conn, id, handle, phc, invite, device, now)
            }
            (PendingJob::Login { account, limit_key, device, presence, .. }, JobOutcome::Verified(ok)) => {
                self.finish_login(conn, id, account, &limit_key, ok, device, presence, now)
            }
            (PendingJob::ChangePasswordCheck { new_password, .. }, JobOutcome::Verified(true)) => {
                let job = self.new_job(PendingJob::ChangePasswordHash { conn, id });
                self.out.push(Effect::HashPassword { job, password: new_password });
                Ok(())
            }
            (PendingJob::ChangePasswordCheck { .. }, JobOutcome::Verified(false)) => {
                let account = self.conns.account(conn).cloned();
                let (account_key, ip_key) = self.login_keys(conn, account.as_deref());
                if let Some(key) = account_key {
                    self.login_failures.record(&key, self.config.login_failures_per_account, now);
                }
                self.login_failures.record(&ip_key, self.config.login_failures_per_ip, now);
                Err(refuse_with(ErrorCode::BadCredentials, "Your current password is not right."))
            }
            (PendingJob::ChangePasswordHash { .. }, JobOutcome::Hashed(Some(phc))) => {
                self.finish_change_password(conn, id, phc)
            }
            _ => Err(refuse(ErrorCode::Internal)),
        };
        match result {
            Ok(()) => Ok(()),
            Err(Fail::Storage(e)) => Err(e),
            Err(Fail::Refuse { code, message, retry_after_ms }) => {
                let message = message.unwrap_or_else(|| code.sentence().to_owned());
                self.send(conn, ServerFrame::Error { id: Some(id), code, message, retry_after_ms });
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_register(
        &mut self,
        conn: ConnId,
        id: RequestId,
        handle: Handle,
        phc: String,
        invite: Option<String>,
        device: Option<String>,
        now: Millis,
    ) -> Outcome {
        // Re-check what may have changed while the hash was computed.
        if !self.state.handle_free(&handle) {
            return Err(refuse_with(ErrorCode::HandleTaken, format!("The handle {handle} is taken; pick another.")));
        }
        let invite = match self.config.registration {
            RegistrationPolicy::Invite => {
                match invite.as_deref().map(str::trim).and_then(|c| self.state.invites.get(c)) {
                    Some(i) if !i.revoked && i.used_by.is_none() => Some(i.clone()),
                    _ => return Err(refuse(ErrorCode::InviteInvalid)),
                }
            }
            RegistrationPolicy::Closed => return Err(refuse(ErrorCode::RegistrationClosed)),
            RegistrationPolicy::Open => None,
        };
        let account = AccountRec { id: new_account_id(now), password_phc: phc, created_at: now, disabled: false };
        self.write(Mutation::PutAccount(account.clone()))?;
        self.write(Mutation::PutHandle(HandleRec::new(handle, account.id.clone(), 0, now)))?;
        if let Some(mut invite) = invite {
            invite.used_by = Some(account.id.clone());
            self.write(Mutation::PutInvite(invite))?;
        }
        let (session, token) = self.new_session(&account.id, device, now)?;
        self.start_session(conn, id, session, Some(token), None);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_login(
        &mut self,
        conn: ConnId,
        id: RequestId,
        account: Option<String>,
        limit_key: &str,
        ok: bool,
        device: Option<String>,
        presence: Option<PresenceState>,
        now: Millis,
    ) -> Outcome {
        let (account_key, ip_key) = self.login_keys(conn, Some(limit_key));
        let record = match account.as_ref().and_then(|a| self.state.accounts.get(a)) {
            Some(record) if ok => record.clone(),
            _ => {
                if let Some(key) = account_key {
                    self.login_failures.record(&key, self.config.login_failures_per_account, now);
                }
                self.login_failures.record(&ip_key, self.config.login_failures_per_ip, now);
                return Err(refuse(ErrorCode::BadCredentials));
            }
        };
        // Told only to someone who knows the password, so it reveals nothing to guessers.
        if record.disabled {
            return Err(refuse(ErrorCode::AccountDisabled));
        }
        if let Some(key) = account_key {
            self.login_failures.forget(&key);
        }
        let (session, token) = self.new_session(&record.id, device, now)?;
        self.start_session(conn, id, session, Some(token), presence);
        Ok(())
    }

    fn new_session(
        &mut self,
        account: &str,
        device: Option<String>,
        now: Millis,
    ) -> Result<(SessionRec, String), Fail> {
        let token = random("session token")?;
        let session_id = password::new_id().map_err(|_| refuse(ErrorCode::Internal))?;
        let session = SessionRec {
            id: session_id,
            account: account.to_owned(),
            token_hash: password::token_hash(&token),
            device: device.filter(|d| !d.trim().is_empty()),
            created_at: now,
            last_used_at: now,
        };
        self.write(Mutation::PutSession(session.clone()))?;
        Ok((session, token))
    }

    /// The connection now acts for every handle of the account: answer, then the friend lists, then presence.
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
            .state
            .account_handles(&session.account)
            .iter()
            .map(|h| ActingHandle { handle: h.handle.clone(), state, live_from: self.state.head(&h.handle) })
            .collect();
        let infos = self.handle_infos(&session.account);
        self.conns.authenticate(conn, session.account.clone(), session.id.clone(), handles.clone());
        self.send(conn, ServerFrame::Session { id, session: session.id, token, handles: infos });
        for h in handles {
            let list = self.friend_list(&h.handle);
            let acting = self.state.address(&h.handle);
            self.send(conn, ServerFrame::Friends { id: None, acting, list });
            let groups = self.groups_frame(None, &h.handle);
            self.send(conn, groups);
            self.presence_dirty.insert(h.handle);
        }
    }

    pub(super) fn handle_infos(&self, account: &str) -> Vec<HandleInfo> {
        self.state
            .account_handles(account)
            .into_iter()
            .map(|h| HandleInfo {
                address: self.state.address(&h.handle),
                head: self.state.head(&h.handle),
                acked: h.acked,
                profile: h.profile.clone(),
                activity: h.activity.clone(),
                location: h.location.clone(),
            })
            .collect()
    }

    /// Answers an add/remove handle request and tells the account's other connections.
    fn announce_handles(&mut self, conn: ConnId, id: RequestId, account: &str) {
        let handles = self.handle_infos(account);
        for other in self.conns.conns_of_account(account) {
            let id = if other == conn { Some(id) } else { None };
            self.send(other, ServerFrame::Handles { id, handles: handles.clone() });
        }
    }

    pub(super) fn logout(&mut self, conn: ConnId, id: RequestId) -> Outcome {
        if let Some(session) = self.conns.session(conn).map(str::to_owned) {
            self.end_session(&session, Some(conn))?;
        }
        self.drop_conn_auth(conn);
        self.ok(conn, id);
        Ok(())
    }

    /// Deletes a session and closes its connections (but `keep`).
    fn end_session(&mut self, session: &str, keep: Option<ConnId>) -> Result<(), StorageError> {
        self.write(Mutation::DeleteSession { id: session.to_owned() })?;
        for other in self.conns.conns_of_session(session) {
            if Some(other) != keep {
                self.drop_conn_auth(other);
                self.out.push(Effect::Close { conn: other, code: ErrorCode::SessionRevoked });
            }
        }
        Ok(())
    }

    /// The connection stops acting for its handles (their presence is recomputed).
    pub(super) fn drop_conn_auth(&mut self, conn: ConnId) {
        for handle in self.conns.clear_auth(conn) {
            self.presence_dirty.insert(handle);
        }
    }

    pub(super) fn disconnected(&mut self, conn: ConnId, _now: Millis) -> Result<(), StorageError> {
        for handle in self.conns.disconnect(conn) {
            self.presence_dirty.insert(handle);
        }
        Ok(())
    }

    pub(super) fn change_password(
        &mut self,
        conn: ConnId,
        id: RequestId,
        old_password: String,
        new_password: String,
        now: Millis,
    ) -> Outcome {
        check_password(&new_password)?;
        self.job_capacity()?;
        let account = self.conns.account(conn).cloned().ok_or_else(|| refuse(ErrorCode::NotAuthenticated))?;
        // Guessing the current password from a stolen session is limited like guessing it at login.
        self.check_login_limits(conn, Some(&account), now)?;
        let phc = self.state.accounts.get(&account).map(|a| a.password_phc.clone()).unwrap_or_default();
        let job = self.new_job(PendingJob::ChangePasswordCheck { conn, id, new_password });
        self.out.push(Effect::VerifyPassword { job, password: old_password, phc });
        Ok(())
    }

    fn finish_change_password(&mut self, conn: ConnId, id: RequestId, phc: String) -> Outcome {
        let Some(account) = self.conns.account(conn).cloned() else { return Err(refuse(ErrorCode::NotAuthenticated)) };
        let Some(mut record) = self.state.accounts.get(&account).cloned() else {
            return Err(refuse(ErrorCode::NotAuthenticated));
        };
        record.password_phc = phc;
        self.write(Mutation::PutAccount(record))?;
        let current = self.conns.session(conn).map(str::to_owned);
        let others: Vec<String> = self
            .state
            .sessions
            .values()
            .filter(|s| s.account == account && Some(&s.id) != current.as_ref())
            .map(|s| s.id.clone())
            .collect();
        for session in others {
            self.end_session(&session, None)?;
        }
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn list_sessions(&mut self, conn: ConnId, id: RequestId) -> Outcome {
        let account = self.conns.account(conn).cloned().unwrap_or_default();
        let current = self.conns.session(conn).map(str::to_owned);
        let mut sessions: Vec<SessionInfo> = self
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
        self.send(conn, ServerFrame::Sessions { id, sessions });
        Ok(())
    }

    pub(super) fn revoke_session(&mut self, conn: ConnId, id: RequestId, session: &str) -> Outcome {
        let account = self.conns.account(conn).cloned().unwrap_or_default();
        if self.state.sessions.get(session).is_none_or(|s| s.account != account) {
            return Err(refuse(ErrorCode::NoSuchSession));
        }
        if self.conns.session(conn) == Some(session) {
            return self.logout(conn, id);
        }
        self.end_session(session, None)?;
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn add_handle(&mut self, conn: ConnId, id: RequestId, handle: Handle, now: Millis) -> Outcome {
        let account = self.conns.account(conn).cloned().unwrap_or_default();
        let existing = self.state.account_handles(&account);
        if existing.len() >= MAX_HANDLES_PER_ACCOUNT {
            return Err(refuse(ErrorCode::HandleLimit));
        }
        if !self.state.handle_free(&handle) {
            return Err(refuse_with(ErrorCode::HandleTaken, format!("The handle {handle} is taken; pick another.")));
        }
        let position = existing.iter().map(|h| h.position + 1).max().unwrap_or(0);
        self.write(Mutation::PutHandle(HandleRec::new(handle.clone(), account.clone(), position, now)))?;
        let state = self.conns.handles(conn).first().map_or(PresenceState::Online, |h| h.state);
        self.conns.add_handle(&account, ActingHandle { handle: handle.clone(), state, live_from: 0 });
        self.announce_handles(conn, id, &account);
        self.touched.insert(handle.clone());
        self.presence_dirty.insert(handle);
        Ok(())
    }

    /// Removes a handle: off every list (its friends get a notice), requests withdrawn, its name retired.
    pub(super) fn remove_handle(&mut self, conn: ConnId, id: RequestId, handle: &Handle, now: Millis) -> Outcome {
        let account = self.conns.account(conn).cloned().unwrap_or_default();
        let owned = self.state.account_handles(&account);
        if !owned.iter().any(|h| &h.handle == handle) {
            return Err(refuse_with(ErrorCode::NotYourHandle, format!("{handle} is not one of your handles.")));
        }
        if owned.len() == 1 {
            return Err(refuse(ErrorCode::LastHandle));
        }
        let me = self.state.address(handle);
        // Whoever had this handle on their list is told; then every trace of it goes.
        let listed_by: Vec<_> = self.state.entries.to(&me).cloned().collect();
        for owner in listed_by {
            self.write(Mutation::DeleteEntry { owner: owner.clone(), peer: me.clone() })?;
            self.append_event(&owner.handle, Event::HandleRemoved { peer: me.clone() }, now)?;
            self.touched.insert(owner.handle);
        }
        let own_entries: Vec<_> = self.state.entries.from(&me).map(|(p, _)| p.clone()).collect();
        for peer in own_entries {
            self.write(Mutation::DeleteEntry { owner: me.clone(), peer })?;
        }
        let sent: Vec<_> = self.state.requests.from(&me).map(|(to, _)| to.clone()).collect();
        for to in sent {
            self.write(Mutation::DeleteRequest { from: me.clone(), to: to.clone() })?;
            self.append_event(&to.handle, Event::RequestCancelled { peer: me.clone() }, now)?;
            self.touched.insert(to.handle);
        }
        let received: Vec<_> = self.state.requests.to(&me).cloned().collect();
        for from in received {
            self.write(Mutation::DeleteRequest { from: from.clone(), to: me.clone() })?;
            self.touched.insert(from.handle);
        }
        let deletions: Vec<_> = self.state.deletions.from(&me).map(|(d, _)| (me.clone(), d.clone())).collect();
        let deletions_in: Vec<_> = self.state.deletions.to(&me).map(|d| (d.clone(), me.clone())).collect();
        for (deleter, deleted) in deletions.into_iter().chain(deletions_in) {
            self.touched.insert(deleter.handle.clone());
            self.touched.insert(deleted.handle.clone());
            self.write(Mutation::DeleteDeletion { deleter, deleted })?;
        }
        let blocks: Vec<_> = self.state.blocks.from(&me).map(|(t, _)| (me.clone(), t.clone())).collect();
        let blocked_by: Vec<_> = self.state.blocks.to(&me).map(|o| (o.clone(), me.clone())).collect();
        for (owner, target) in blocks.into_iter().chain(blocked_by) {
            self.touched.insert(owner.handle.clone());
            self.write(Mutation::DeleteBlock { owner, target })?;
        }
        // Its connections stop acting for it first, so the goodbyes go only to the others.
        self.conns.remove_handle(handle);
        self.leave_all_groups(&me, now)?;
        self.write(Mutation::RemoveHandle(handle.clone()))?;
        self.shown.remove(handle);
        self.touched.remove(handle);
        self.announce_handles(conn, id, &account);
        Ok(())
    }
}

/// A UUIDv7 from the relay's clock: sortable by creation, unique without coordination (the admin CLI makes accounts
/// too).
pub fn new_account_id(now: Millis) -> String {
    let secs = u64::try_from(now.div_euclid(1000)).unwrap_or(0);
    let nanos = u32::try_from(now.rem_euclid(1000) * 1_000_000).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos)).to_string()
}
