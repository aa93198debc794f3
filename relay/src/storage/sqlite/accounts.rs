//! Accounts, handles (and retired names), sessions and invite codes.

use huddle_shared::model::Profile;
use huddle_shared::{Handle, SessionId};
use rusqlite::{Connection, params};

use super::columns::{enum_from_text, enum_text, handle_col};
use crate::storage::{AccountRec, HandleRec, InviteRec, SessionRec, StorageError};

pub(super) fn load_accounts(conn: &Connection) -> Result<Vec<AccountRec>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT id, password_phc, created_at, disabled FROM accounts ORDER BY id")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(AccountRec { id: row.get(0)?, password_phc: row.get(1)?, created_at: row.get(2)?, disabled: row.get(3)? })
    })?;
    rows.collect()
}

pub(super) fn put_account(conn: &Connection, a: &AccountRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO accounts (id, password_phc, created_at, disabled) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![a.id, a.password_phc, a.created_at, a.disabled])?;
    Ok(())
}

pub(super) fn load_handles(conn: &Connection) -> Result<Vec<HandleRec>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT handle, account, position, created_at, display_name, bio, activity, location, last_seen, acked,
                invite_policy
         FROM handles ORDER BY handle",
    )?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(HandleRec {
            handle: handle_col(row, 0)?,
            account: row.get(1)?,
            position: row.get(2)?,
            created_at: row.get(3)?,
            profile: Profile { display_name: row.get(4)?, bio: row.get(5)? },
            activity: row.get(6)?,
            location: row.get(7)?,
            last_seen: row.get(8)?,
            acked: row.get(9)?,
            invite_policy: enum_from_text("invite policy", &row.get::<_, String>(10)?)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_handle(conn: &Connection, h: &HandleRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO handles
         (handle, account, position, created_at, display_name, bio, activity, location, last_seen, acked,
          invite_policy)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        h.handle.as_str(),
        h.account,
        h.position,
        h.created_at,
        h.profile.display_name,
        h.profile.bio,
        h.activity,
        h.location,
        h.last_seen,
        h.acked,
        enum_text(&h.invite_policy)?,
    ])?;
    Ok(())
}

/// Deletes the handle and its stream, and retires the name (several statements: run it in a savepoint).
pub(super) fn remove_handle(conn: &Connection, handle: &Handle) -> Result<(), StorageError> {
    let h = handle.as_str();
    conn.prepare_cached("DELETE FROM handles WHERE handle = ?1")?.execute([h])?;
    conn.prepare_cached("DELETE FROM stream WHERE handle = ?1")?.execute([h])?;
    // OR IGNORE: retiring is idempotent; the name stays retired once.
    conn.prepare_cached("INSERT OR IGNORE INTO retired_handles (handle) VALUES (?1)")?.execute([h])?;
    Ok(())
}

pub(super) fn load_retired(conn: &Connection) -> Result<Vec<Handle>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT handle FROM retired_handles ORDER BY handle")?;
    let rows = stmt.query_and_then([], |row| handle_col(row, 0))?;
    rows.collect()
}

pub(super) fn load_sessions(conn: &Connection) -> Result<Vec<SessionRec>, StorageError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, account, token_hash, device, created_at, last_used_at FROM sessions ORDER BY id")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(SessionRec {
            id: SessionId::new(row.get::<_, String>(0)?),
            account: row.get(1)?,
            token_hash: row.get(2)?,
            device: row.get(3)?,
            created_at: row.get(4)?,
            last_used_at: row.get(5)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_session(conn: &Connection, s: &SessionRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO sessions (id, account, token_hash, device, created_at, last_used_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![s.id.as_str(), s.account, s.token_hash, s.device, s.created_at, s.last_used_at])?;
    Ok(())
}

pub(super) fn delete_session(conn: &Connection, id: &SessionId) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

pub(super) fn load_invites(conn: &Connection) -> Result<Vec<InviteRec>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT code, created_at, used_by, revoked FROM invites ORDER BY code")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(InviteRec { code: row.get(0)?, created_at: row.get(1)?, used_by: row.get(2)?, revoked: row.get(3)? })
    })?;
    rows.collect()
}

pub(super) fn put_invite(conn: &Connection, i: &InviteRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO invites (code, created_at, used_by, revoked) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![i.code, i.created_at, i.used_by, i.revoked])?;
    Ok(())
}
