//! Receipt records: one per (message, recipient) of a message sent with receipts. Never loaded whole; read by message,
//! or — for an acknowledgement — through the partial index of those still to be delivered.

use huddle_shared::{Address, MessageId};
use rusqlite::{Connection, Row, params};

use super::columns::{address_col, clamp, room_col};
use crate::storage::{ReceiptRec, StorageError};

// Every receipt query selects the columns `receipt_cols` reads, in its order.

/// One message's receipt for one recipient: a primary-key lookup.
const RECEIPT: &str = "SELECT message_id, recipient, sender, room, seq, delivered_at, read_at
     FROM receipts WHERE message_id = ?1 AND recipient = ?2";
/// Every tracked recipient of one message: a primary-key prefix, already in recipient order.
const MESSAGE_RECEIPTS: &str = "SELECT message_id, recipient, sender, room, seq, delivered_at, read_at
     FROM receipts WHERE message_id = ?1 ORDER BY recipient LIMIT ?2";
/// A recipient's receipts still to be delivered over a range of its stream, in stream order. Its terms match the
/// partial index `receipts_undelivered` (`seq > ?2` alone would imply `seq IS NOT NULL`, but spelling out the index's
/// condition keeps the planner from having to prove it), so the range is an index seek over pending rows only.
pub(super) const RECEIPTS_UNDELIVERED: &str = "SELECT message_id, recipient, sender, room, seq, delivered_at, read_at
     FROM receipts
     WHERE recipient = ?1 AND seq > ?2 AND seq <= ?3 AND delivered_at IS NULL AND seq IS NOT NULL
     ORDER BY seq LIMIT ?4";

/// A receipt record from the columns message_id, recipient, sender, room, seq, delivered_at, read_at.
fn receipt_cols(row: &Row<'_>) -> Result<ReceiptRec, StorageError> {
    Ok(ReceiptRec {
        message_id: MessageId::new(row.get::<_, String>(0)?),
        recipient: address_col(row, 1)?,
        sender: address_col(row, 2)?,
        room: room_col(row, 3)?,
        seq: row.get(4)?,
        delivered_at: row.get(5)?,
        read_at: row.get(6)?,
    })
}

pub(super) fn put_receipt(conn: &Connection, r: &ReceiptRec) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO receipts (message_id, recipient, sender, room, seq, delivered_at, read_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.message_id.as_str(),
        r.recipient.to_string(),
        r.sender.to_string(),
        r.room.as_str(),
        r.seq,
        r.delivered_at,
        r.read_at
    ])?;
    Ok(())
}

pub(super) fn undelivered(
    conn: &Connection,
    recipient: &Address,
    after: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<ReceiptRec>, StorageError> {
    if upto <= after || limit == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(RECEIPTS_UNDELIVERED)?;
    let rows =
        stmt.query_and_then(params![recipient.to_string(), clamp(after), clamp(upto), clamp(limit)], receipt_cols)?;
    rows.collect()
}

/// Through the partial index `receipts_undelivered`: one step to the recipient's last entry.
pub(super) fn latest_undelivered(conn: &Connection, recipient: &Address) -> Result<Option<u64>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT MAX(seq) FROM receipts WHERE recipient = ?1 AND delivered_at IS NULL AND seq IS NOT NULL",
    )?;
    let latest: Option<i64> = stmt.query_row([recipient.to_string()], |row| row.get(0))?;
    Ok(latest.and_then(|seq| u64::try_from(seq).ok()))
}

pub(super) fn receipt(
    conn: &Connection,
    message_id: &MessageId,
    recipient: &Address,
) -> Result<Option<ReceiptRec>, StorageError> {
    let mut stmt = conn.prepare_cached(RECEIPT)?;
    let mut rows = stmt.query_and_then(params![message_id.as_str(), recipient.to_string()], receipt_cols)?;
    rows.next().transpose()
}

pub(super) fn message_receipts(
    conn: &Connection,
    message_id: &MessageId,
    limit: usize,
) -> Result<Vec<ReceiptRec>, StorageError> {
    let mut stmt = conn.prepare_cached(MESSAGE_RECEIPTS)?;
    let rows = stmt.query_and_then(params![message_id.as_str(), clamp(limit)], receipt_cols)?;
    rows.collect()
}
