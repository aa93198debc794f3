//! What the admin CLI does to a relay's database: users (add, list, disable, enable, reset password) and invite
//! codes. It works on the same storage as a running relay; the relay notices the change within a second
//! (`Storage::external_change`), reloads, and ends sessions that were revoked.

use huddle_shared::{Handle, Millis, RelayName};

use crate::core::state::State;
use crate::password;
use crate::storage::{AccountRec, HandleRec, InviteRec, Mutation, Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("there is no handle {0} on this relay")]
    UnknownHandle(Handle),
    #[error("the handle {0} is taken (or was used before and retired)")]
    HandleTaken(Handle),
    #[error("there is no invite code {0:?}")]
    UnknownInvite(String),
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// One account as `user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub handles: Vec<Handle>,
    pub created_at: Millis,
    pub disabled: bool,
    pub sessions: usize,
}

pub struct Admin<S: Storage> {
    store: S,
    state: State,
}

impl<S: Storage> Admin<S> {
    pub fn open(mut store: S, relay: RelayName) -> Result<Self, AdminError> {
        let snapshot = store.load()?;
        Ok(Self { store, state: State::new(relay, snapshot) })
    }

    fn write(&mut self, mutations: Vec<Mutation>) -> Result<(), AdminError> {
        for m in &mutations {
            self.store.apply(m)?;
            self.state.apply(m);
        }
        self.store.commit()?;
        Ok(())
    }

    fn account_of(&self, handle: &Handle) -> Result<AccountRec, AdminError> {
        self.state
            .handles
            .get(handle)
            .and_then(|h| self.state.accounts.get(&h.account))
            .cloned()
            .ok_or_else(|| AdminError::UnknownHandle(handle.clone()))
    }

    fn revoke_sessions(&self, account: &str) -> Vec<Mutation> {
        self.state
            .sessions
            .values()
            .filter(|s| s.account == account)
            .map(|s| Mutation::DeleteSession { id: s.id.clone() })
            .collect()
    }

    /// Creates an account with `handle`, whatever the registration policy.
    pub fn add_user(&mut self, handle: &Handle, password_phc: String, now: Millis) -> Result<(), AdminError> {
        if !self.state.handle_free(handle) {
            return Err(AdminError::HandleTaken(handle.clone()));
        }
        let id = crate::ids::new_account_id(now);
        self.write(vec![
            Mutation::PutAccount(AccountRec { id: id.clone(), password_phc, created_at: now, disabled: false }),
            Mutation::PutHandle(HandleRec::new(handle.clone(), id, 0, now)),
        ])
    }

    pub fn list_users(&self) -> Vec<UserRow> {
        let mut rows: Vec<UserRow> = self
            .state
            .accounts
            .values()
            .map(|a| UserRow {
                handles: self.state.account_handles(&a.id).into_iter().map(|h| h.handle.clone()).collect(),
                created_at: a.created_at,
                disabled: a.disabled,
                sessions: self.state.sessions.values().filter(|s| s.account == a.id).count(),
            })
            .collect();
        rows.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.handles.cmp(&b.handles)));
        rows
    }

    /// Disables (or enables) the account owning `handle`; disabling ends all its sessions.
    pub fn set_disabled(&mut self, handle: &Handle, disabled: bool) -> Result<(), AdminError> {
        let mut account = self.account_of(handle)?;
        let mut mutations = if disabled { self.revoke_sessions(&account.id) } else { Vec::new() };
        account.disabled = disabled;
        mutations.push(Mutation::PutAccount(account));
        self.write(mutations)
    }

    /// Sets a new password for the account owning `handle` and ends all its sessions.
    pub fn reset_password(&mut self, handle: &Handle, password_phc: String) -> Result<(), AdminError> {
        let mut account = self.account_of(handle)?;
        let mut mutations = self.revoke_sessions(&account.id);
        account.password_phc = password_phc;
        mutations.push(Mutation::PutAccount(account));
        self.write(mutations)
    }

    pub fn create_invite(&mut self, now: Millis) -> Result<String, AdminError> {
        let code = password::new_invite_code().map_err(|e| AdminError::Random(e.to_string()))?;
        self.write(vec![Mutation::PutInvite(InviteRec {
            code: code.clone(),
            created_at: now,
            used_by: None,
            revoked: false,
        })])?;
        Ok(code)
    }

    pub fn list_invites(&self) -> Vec<InviteRec> {
        let mut list: Vec<InviteRec> = self.state.invites.values().cloned().collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.code.cmp(&b.code)));
        list
    }

    /// The handles of the account that used an invite, for `invite list`.
    pub fn invite_user(&self, invite: &InviteRec) -> Option<Handle> {
        let account = invite.used_by.as_ref()?;
        self.state.account_handles(account).first().map(|h| h.handle.clone())
    }

    pub fn revoke_invite(&mut self, code: &str) -> Result<(), AdminError> {
        let mut invite =
            self.state.invites.get(code).cloned().ok_or_else(|| AdminError::UnknownInvite(code.to_owned()))?;
        invite.revoked = true;
        self.write(vec![Mutation::PutInvite(invite)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    fn admin() -> Admin<MemoryStorage> {
        Admin::open(MemoryStorage::default(), RelayName::parse("r.example").unwrap()).unwrap()
    }

    #[test]
    fn users_and_invites() {
        let mut a = admin();
        let alice = Handle::parse("alice").unwrap();
        a.add_user(&alice, "phc".into(), 1).unwrap();
        assert!(matches!(a.add_user(&alice, "phc".into(), 2), Err(AdminError::HandleTaken(_))));
        a.set_disabled(&alice, true).unwrap();
        assert!(a.list_users()[0].disabled);
        a.reset_password(&alice, "new".into()).unwrap();
        assert!(matches!(a.set_disabled(&Handle::parse("zed").unwrap(), true), Err(AdminError::UnknownHandle(_))));
        let code = a.create_invite(5).unwrap();
        assert_eq!(a.list_invites().len(), 1);
        a.revoke_invite(&code).unwrap();
        assert!(a.list_invites()[0].revoked);
        assert!(matches!(a.revoke_invite("nope"), Err(AdminError::UnknownInvite(_))));
    }
}
