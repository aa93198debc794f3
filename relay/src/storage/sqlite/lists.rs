//! Friend lists: entries, requests, the mutual-deletion records, blocks. Each is an edge between two addresses.

use huddle_shared::Address;
use rusqlite::{Connection, params};

use super::columns::{address_col, enum_from_text, enum_text};
use crate::storage::{BlockRec, DeletionRec, EntryRec, RequestRec, StorageError};

pub(super) fn load_entries(conn: &Connection) -> Result<Vec<EntryRec>, StorageError> {
    let mut stmt = conn
        .prepare_cached("SELECT owner, peer, nickname, note, since, removed_you FROM entries ORDER BY owner, peer")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(EntryRec {
            owner: address_col(row, 0)?,
            peer: address_col(row, 1)?,
            nickname: row.get(2)?,
            note: row.get(3)?,
            since: row.get(4)?,
            removed_you: row.get(5)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_entry(conn: &Connection, e: &EntryRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO entries (owner, peer, nickname, note, since, removed_you) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![e.owner.to_string(), e.peer.to_string(), e.nickname, e.note, e.since, e.removed_you])?;
    Ok(())
}

pub(super) fn load_requests(conn: &Connection) -> Result<Vec<RequestRec>, StorageError> {
    let mut stmt =
        conn.prepare_cached("SELECT from_addr, to_addr, greeting, at FROM requests ORDER BY from_addr, to_addr")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(RequestRec { from: address_col(row, 0)?, to: address_col(row, 1)?, greeting: row.get(2)?, at: row.get(3)? })
    })?;
    rows.collect()
}

pub(super) fn put_request(conn: &Connection, r: &RequestRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO requests (from_addr, to_addr, greeting, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![r.from.to_string(), r.to.to_string(), r.greeting, r.at])?;
    Ok(())
}

pub(super) fn load_deletions(conn: &Connection) -> Result<Vec<DeletionRec>, StorageError> {
    let mut stmt =
        conn.prepare_cached("SELECT deleter, deleted, state, at FROM deletions ORDER BY deleter, deleted")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(DeletionRec {
            deleter: address_col(row, 0)?,
            deleted: address_col(row, 1)?,
            state: enum_from_text("deletion state", &row.get::<_, String>(2)?)?,
            at: row.get(3)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_deletion(conn: &Connection, d: &DeletionRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO deletions (deleter, deleted, state, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![d.deleter.to_string(), d.deleted.to_string(), enum_text(&d.state)?, d.at])?;
    Ok(())
}

pub(super) fn load_blocks(conn: &Connection) -> Result<Vec<BlockRec>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT owner, target, at FROM blocks ORDER BY owner, target")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(BlockRec { owner: address_col(row, 0)?, target: address_col(row, 1)?, at: row.get(2)? })
    })?;
    rows.collect()
}

pub(super) fn put_block(conn: &Connection, b: &BlockRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO blocks (owner, target, at) VALUES (?1, ?2, ?3)")?.execute(params![
        b.owner.to_string(),
        b.target.to_string(),
        b.at
    ])?;
    Ok(())
}

/// Which edge table a deletion of an edge between two addresses touches.
#[derive(Debug, Clone, Copy)]
pub(super) enum Edge {
    Entry,
    Request,
    Deletion,
    Block,
}

/// Deletes the edge `from -> to` of one kind.
pub(super) fn delete_edge(conn: &Connection, edge: Edge, from: &Address, to: &Address) -> Result<(), StorageError> {
    let sql = match edge {
        Edge::Entry => "DELETE FROM entries WHERE owner = ?1 AND peer = ?2",
        Edge::Request => "DELETE FROM requests WHERE from_addr = ?1 AND to_addr = ?2",
        Edge::Deletion => "DELETE FROM deletions WHERE deleter = ?1 AND deleted = ?2",
        Edge::Block => "DELETE FROM blocks WHERE owner = ?1 AND target = ?2",
    };
    conn.prepare_cached(sql)?.execute([from.to_string(), to.to_string()])?;
    Ok(())
}
