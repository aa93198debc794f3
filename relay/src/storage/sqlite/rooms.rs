//! Rooms of every kind, their members, who left them, pending invitations, and how many messages each holds.

use huddle_shared::model::RoomKind;
use huddle_shared::{Address, RoomId};
use rusqlite::{Connection, params};

use super::columns::{address_col, enum_from_text, enum_text, optional_address_col, room_col};
use crate::storage::{MemberRec, RoomInviteRec, RoomRec, StorageError};

pub(super) fn load_rooms(conn: &Connection) -> Result<Vec<RoomRec>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT id, kind, title, owner, created_at, ended FROM rooms ORDER BY id")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        let kind_text: String = row.get(1)?;
        let kind = enum_from_text("room kind", &kind_text)?;
        // Only this relay writes rooms, and it makes no kind it does not know.
        if kind == RoomKind::Unknown {
            return Err(StorageError::Corrupt(format!("bad room kind {kind_text:?}")));
        }
        Ok(RoomRec {
            id: room_col(row, 0)?,
            kind,
            title: row.get(2)?,
            owner: optional_address_col(row, 3)?,
            created_at: row.get(4)?,
            ended: row.get(5)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_room(conn: &Connection, r: &RoomRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO rooms (id, kind, title, owner, created_at, ended) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        r.id.as_str(),
        enum_text(&r.kind)?,
        r.title,
        r.owner.as_ref().map(ToString::to_string),
        r.created_at,
        r.ended
    ])?;
    Ok(())
}

pub(super) fn load_members(conn: &Connection) -> Result<Vec<MemberRec>, StorageError> {
    let mut stmt =
        conn.prepare_cached("SELECT room, member, joined_at, since FROM room_members ORDER BY room, member")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(MemberRec {
            room: room_col(row, 0)?,
            member: address_col(row, 1)?,
            joined_at: row.get(2)?,
            since: row.get(3)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_member(conn: &Connection, m: &MemberRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO room_members (room, member, joined_at, since) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![m.room.as_str(), m.member.to_string(), m.joined_at, m.since])?;
    Ok(())
}

pub(super) fn load_former(conn: &Connection) -> Result<Vec<(RoomId, Address)>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT room, member FROM room_former ORDER BY room, member")?;
    let rows =
        stmt.query_and_then([], |row| -> Result<_, StorageError> { Ok((room_col(row, 0)?, address_col(row, 1)?)) })?;
    rows.collect()
}

pub(super) fn put_former(conn: &Connection, room: &RoomId, member: &Address) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR IGNORE INTO room_former (room, member) VALUES (?1, ?2)")?
        .execute(params![room.as_str(), member.to_string()])?;
    Ok(())
}

pub(super) fn delete_former(conn: &Connection, room: &RoomId, member: &Address) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM room_former WHERE room = ?1 AND member = ?2")?
        .execute(params![room.as_str(), member.to_string()])?;
    Ok(())
}

pub(super) fn delete_member(conn: &Connection, room: &RoomId, member: &Address) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM room_members WHERE room = ?1 AND member = ?2")?
        .execute(params![room.as_str(), member.to_string()])?;
    Ok(())
}

pub(super) fn load_invites(conn: &Connection) -> Result<Vec<RoomInviteRec>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT room, invitee, by_addr, at FROM room_invites ORDER BY room, invitee")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        Ok(RoomInviteRec {
            room: room_col(row, 0)?,
            invitee: address_col(row, 1)?,
            by: address_col(row, 2)?,
            at: row.get(3)?,
        })
    })?;
    rows.collect()
}

pub(super) fn put_invite(conn: &Connection, i: &RoomInviteRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO room_invites (room, invitee, by_addr, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![i.room.as_str(), i.invitee.to_string(), i.by.to_string(), i.at])?;
    Ok(())
}

pub(super) fn delete_invite(conn: &Connection, room: &RoomId, invitee: &Address) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM room_invites WHERE room = ?1 AND invitee = ?2")?
        .execute(params![room.as_str(), invitee.to_string()])?;
    Ok(())
}

/// The number of each room's newest message, through the `(room, number)` index.
pub(super) fn load_counts(conn: &Connection) -> Result<Vec<(RoomId, u64)>, StorageError> {
    // A skip scan of `messages_room` (room, number), as for the streams' heads: start-up reads a row per room, not
    // every message.
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE r(room) AS (
             SELECT MIN(room) FROM messages
             UNION ALL
             SELECT (SELECT MIN(m.room) FROM messages m WHERE m.room > r.room) FROM r WHERE r.room IS NOT NULL
         )
         SELECT room, (SELECT MAX(number) FROM messages m WHERE m.room = r.room) FROM r
         WHERE room IS NOT NULL ORDER BY room",
    )?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> { Ok((room_col(row, 0)?, row.get(1)?)) })?;
    rows.collect()
}
