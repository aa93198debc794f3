//! Accounts, sessions and handles, and what a handle says about itself: profile, activity and location, invitation
//! setting. Logging in is a matter of connections and lives with the requests; what it stores is here.

use huddle_shared::limits::{
    MAX_ACTIVITY_CHARS, MAX_BIO_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_HANDLES_PER_ACCOUNT, MAX_LOCATION_CHARS,
};
use huddle_shared::model::{Event, InvitePolicy};
use huddle_shared::text::{check_line, check_multiline};
use huddle_shared::{ErrorCode, Handle, Millis, SessionId};

use super::cleared;
use crate::core::facts::Fact;
use crate::core::fail::{Fail, Outcome, refuse, refuse_with};
use crate::core::world::World;
use crate::password;
use crate::storage::{AccountRec, HandleRec, InviteRec, Mutation, SessionRec, Storage};

fn random(what: &str) -> Result<String, Fail> {
    password::new_secret().map_err(|e| {
        tracing::error!(error = %e, "the system random source failed making a {what}");
        refuse(ErrorCode::Internal)
    })
}

fn handle_taken(handle: &Handle) -> Fail {
    refuse_with(ErrorCode::HandleTaken, format!("The handle {handle} is taken; pick another."))
}

impl<S: Storage> World<S> {
    /// Makes an account with its first handle, using up `invite` if registration needed one.
    pub fn create_account(
        &mut self,
        handle: &Handle,
        password_phc: String,
        invite: Option<InviteRec>,
        now: Millis,
    ) -> Outcome<AccountRec> {
        if !self.state.handle_free(handle) {
            return Err(handle_taken(handle));
        }
        let account =
            AccountRec { id: crate::ids::new_account_id(now), password_phc, created_at: now, disabled: false };
        self.write(Mutation::PutAccount(account.clone()))?;
        self.write(Mutation::PutHandle(HandleRec::new(handle.clone(), account.id.clone(), 0, now)))?;
        if let Some(mut invite) = invite {
            invite.used_by = Some(account.id.clone());
            self.write(Mutation::PutInvite(invite))?;
        }
        Ok(account)
    }

    /// A new session of `account`, with its secret token (stored only as a hash).
    pub fn new_session(&mut self, account: &str, device: Option<String>, now: Millis) -> Outcome<(SessionRec, String)> {
        let token = random("session token")?;
        let id = password::new_id().map_err(|_| refuse(ErrorCode::Internal))?;
        let session = SessionRec {
            id: SessionId::new(id),
            account: account.to_owned(),
            token_hash: password::token_hash(&token),
            device: device.filter(|d| !d.trim().is_empty()),
            created_at: now,
            last_used_at: now,
        };
        self.write(Mutation::PutSession(session.clone()))?;
        Ok((session, token))
    }

    pub fn end_session(&mut self, session: &SessionId) -> Outcome {
        self.write(Mutation::DeleteSession { id: session.clone() })?;
        Ok(())
    }

    pub fn set_password(&mut self, account: &str, password_phc: String) -> Outcome {
        let Some(mut record) = self.state.accounts.get(account).cloned() else {
            return Err(refuse(ErrorCode::NotAuthenticated));
        };
        record.password_phc = password_phc;
        self.write(Mutation::PutAccount(record))?;
        Ok(())
    }

    /// Adds a handle to an account.
    pub fn add_handle(&mut self, account: &str, handle: &Handle, now: Millis) -> Outcome {
        let existing = self.state.account_handles(account);
        if existing.len() >= MAX_HANDLES_PER_ACCOUNT {
            return Err(refuse(ErrorCode::HandleLimit));
        }
        if !self.state.handle_free(handle) {
            return Err(handle_taken(handle));
        }
        let position = existing.iter().map(|h| h.position + 1).max().unwrap_or(0);
        self.write(Mutation::PutHandle(HandleRec::new(handle.clone(), account.to_owned(), position, now)))?;
        self.record(Fact::ListChanged(handle.clone()));
        self.record(Fact::PresenceMayHaveChanged(handle.clone()));
        Ok(())
    }

    /// Removes a handle: off every list (its friends get a notice), requests withdrawn, out of every room, its name
    /// retired.
    pub fn remove_handle(&mut self, handle: &Handle, now: Millis) -> Outcome {
        let me = self.address(handle);
        // Whoever had this handle on their list is told; then every trace of it goes.
        let listed_by: Vec<_> = self.state.entries.to(&me).cloned().collect();
        for owner in listed_by {
            self.write(Mutation::DeleteEntry { owner: owner.clone(), peer: me.clone() })?;
            self.append_event(&owner.handle, Event::HandleRemoved { peer: me.clone() }, now)?;
            self.list_changed(&owner);
        }
        let own_entries: Vec<_> = self.state.entries.from(&me).map(|(p, _)| p.clone()).collect();
        for peer in own_entries {
            self.write(Mutation::DeleteEntry { owner: me.clone(), peer })?;
        }
        let sent: Vec<_> = self.state.requests.from(&me).map(|(to, _)| to.clone()).collect();
        for to in sent {
            self.write(Mutation::DeleteRequest { from: me.clone(), to: to.clone() })?;
            self.append_event(&to.handle, Event::RequestCancelled { peer: me.clone() }, now)?;
            self.list_changed(&to);
        }
        let received: Vec<_> = self.state.requests.to(&me).cloned().collect();
        for from in received {
            self.write(Mutation::DeleteRequest { from: from.clone(), to: me.clone() })?;
            self.list_changed(&from);
        }
        let deletions: Vec<_> = self.state.deletions.from(&me).map(|(d, _)| (me.clone(), d.clone())).collect();
        let deletions_in: Vec<_> = self.state.deletions.to(&me).map(|d| (d.clone(), me.clone())).collect();
        for (deleter, deleted) in deletions.into_iter().chain(deletions_in) {
            self.list_changed(&deleter);
            self.list_changed(&deleted);
            self.write(Mutation::DeleteDeletion { deleter, deleted })?;
        }
        let blocks: Vec<_> = self.state.blocks.from(&me).map(|(t, _)| (me.clone(), t.clone())).collect();
        let blocked_by: Vec<_> = self.state.blocks.to(&me).map(|o| (o.clone(), me.clone())).collect();
        for (owner, target) in blocks.into_iter().chain(blocked_by) {
            self.list_changed(&owner);
            self.write(Mutation::DeleteBlock { owner, target })?;
        }
        self.leave_all_rooms(&me, now)?;
        self.forget_huddle_records(&me, now)?;
        self.write(Mutation::RemoveHandle(handle.clone()))?;
        Ok(())
    }

    /// Sets a handle's activity and location (absent: unchanged; empty: cleared).
    pub fn set_activity(&mut self, handle: &Handle, activity: Option<String>, location: Option<String>) -> Outcome {
        if let Some(a) = &activity {
            check_line(a, MAX_ACTIVITY_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The activity text is not valid: {e}.")))?;
        }
        if let Some(l) = &location {
            check_line(l, MAX_LOCATION_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The location is not valid: {e}.")))?;
        }
        if activity.is_some() || location.is_some() {
            if let Some(mut record) = self.state.handles.get(handle).cloned() {
                if let Some(a) = activity {
                    record.activity = cleared(&a);
                }
                if let Some(l) = location {
                    record.location = cleared(&l);
                }
                self.write(Mutation::PutHandle(record))?;
            }
        }
        self.record(Fact::PresenceMayHaveChanged(handle.clone()));
        Ok(())
    }

    /// Sets a handle's profile (absent: unchanged; empty: cleared).
    pub fn set_profile(&mut self, handle: &Handle, display_name: Option<String>, bio: Option<String>) -> Outcome {
        if let Some(n) = &display_name {
            check_line(n, MAX_DISPLAY_NAME_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The display name is not valid: {e}.")))?;
        }
        if let Some(b) = &bio {
            check_multiline(b, MAX_BIO_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The bio is not valid: {e}.")))?;
        }
        let Some(mut record) = self.state.handles.get(handle).cloned() else { return Ok(()) };
        if let Some(n) = display_name {
            record.profile.display_name = cleared(&n);
        }
        if let Some(b) = bio {
            record.profile.bio = cleared(&b);
        }
        self.write(Mutation::PutHandle(record))?;
        self.record(Fact::ProfileChanged(handle.clone()));
        Ok(())
    }

    pub fn set_invite_policy(&mut self, handle: &Handle, policy: InvitePolicy) -> Outcome {
        if let Some(mut record) = self.state.handles.get(handle).cloned() {
            record.invite_policy = policy;
            self.write(Mutation::PutHandle(record))?;
        }
        Ok(())
    }

    /// Records that a handle went offline now.
    pub fn set_last_seen(&mut self, handle: &Handle, now: Millis) -> Result<(), crate::storage::StorageError> {
        if let Some(mut record) = self.state.handles.get(handle).cloned() {
            record.last_seen = Some(now);
            self.write(Mutation::PutHandle(record))?;
        }
        Ok(())
    }
}
