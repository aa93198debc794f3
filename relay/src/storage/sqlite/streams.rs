//! Messages and streams. A message is stored once, numbered in its room, and referenced from the stream of everyone it
//! went to; events and receipt reports live in the stream row itself, as JSON.

use huddle_shared::model::{Event, ItemBody, Message, Receipt, StreamItem};
use huddle_shared::{Address, Handle, MessageId, RoomId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::columns::{address_col, clamp, handle_col, json_col, optional_address_col, room_col, to_json};
use crate::storage::{HistoryCursor, HistoryPage, StorageError};

/// The columns [`message_cols`] reads, in its order, for a `messages` table aliased `m`.
/// The columns of a message, for splicing into constant SQL with `concat!` (statements are cached by their text, so
/// the text is built at compile time rather than on every call).
macro_rules! message_columns {
    () => {
        "m.id, m.room, m.sender, m.recipient, m.body, m.sent_at, m.client_msg_id, m.receipts"
    };
}

/// A message from the columns of `message_columns!()` starting at `first`.
fn message_cols(row: &Row<'_>, first: usize) -> Result<Message, StorageError> {
    Ok(Message {
        id: MessageId::new(row.get::<_, String>(first)?),
        room: room_col(row, first + 1)?,
        from: address_col(row, first + 2)?,
        to: optional_address_col(row, first + 3)?,
        body: row.get(first + 4)?,
        sent_at: row.get(first + 5)?,
        client_msg_id: row.get(first + 6)?,
        receipts: row.get(first + 7)?,
    })
}

/// Stores a message and its stream rows (several statements: run it in a savepoint).
pub(super) fn store_message(
    conn: &Connection,
    message: &Message,
    number: u64,
    deliveries: &[(Handle, u64)],
) -> Result<(), StorageError> {
    // The last matching delivery, as the reference keeps it (a sender listed twice is the core's bug, not ours).
    let sender_seq = deliveries.iter().rev().find(|(handle, _)| *handle == message.from.handle).map(|(_, seq)| *seq);
    conn.prepare_cached(
        "INSERT INTO messages
         (id, room, number, sender, recipient, body, sent_at, client_msg_id, sender_seq, receipts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        message.id.as_str(),
        message.room.as_str(),
        number,
        message.from.to_string(),
        message.to.as_ref().map(ToString::to_string),
        message.body,
        message.sent_at,
        message.client_msg_id,
        sender_seq,
        message.receipts,
    ])?;
    let ord = conn.last_insert_rowid();
    let mut stmt = conn
        .prepare_cached("INSERT INTO stream (handle, seq, at, kind, message_ord) VALUES (?1, ?2, ?3, 'message', ?4)")?;
    for (handle, seq) in deliveries {
        stmt.execute(params![handle.as_str(), seq, message.sent_at, ord])?;
    }
    Ok(())
}

/// Appends an event or a receipt report to a stream.
pub(super) fn append_item(conn: &Connection, handle: &Handle, item: &StreamItem) -> Result<(), StorageError> {
    let (kind, json) = match &item.body {
        ItemBody::Event { event } => ("event", to_json(event, "an event")?),
        ItemBody::Receipt { receipt } => ("receipt", to_json(receipt, "a receipt")?),
        ItemBody::Message { .. } | ItemBody::Unknown => {
            // The messages table is the one copy of a message; a message item without it would be an orphan that
            // history never shows. The core stores messages with StoreMessage only.
            return Err(StorageError::Corrupt(format!(
                "AppendItem for {handle} seq {} carries no event or receipt; messages go through StoreMessage",
                item.seq
            )));
        }
    };
    conn.prepare_cached("INSERT INTO stream (handle, seq, at, kind, body_json) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![handle.as_str(), item.seq, item.at, kind, json])?;
    Ok(())
}

pub(super) fn load_heads(conn: &Connection) -> Result<Vec<(Handle, u64)>, StorageError> {
    // A skip scan of the primary key (handle, seq): one step to each handle and one to its last item, so start-up
    // does not read every stream item ever stored (`GROUP BY` would).
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE h(handle) AS (
             SELECT MIN(handle) FROM stream
             UNION ALL
             SELECT (SELECT MIN(s.handle) FROM stream s WHERE s.handle > h.handle) FROM h WHERE h.handle IS NOT NULL
         )
         SELECT handle, (SELECT MAX(seq) FROM stream s WHERE s.handle = h.handle) FROM h
         WHERE handle IS NOT NULL ORDER BY handle",
    )?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> { Ok((handle_col(row, 0)?, row.get(1)?)) })?;
    rows.collect()
}

pub(super) fn stream_page(
    conn: &Connection,
    handle: &Address,
    after: u64,
    upto: u64,
    max_items: usize,
) -> Result<Vec<StreamItem>, StorageError> {
    if upto <= after || max_items == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT s.seq, s.at, s.kind, s.body_json, ",
        message_columns!(),
        "
         FROM stream s LEFT JOIN messages m ON m.ord = s.message_ord
         WHERE s.handle = ?1 AND s.seq > ?2 AND s.seq <= ?3
         ORDER BY s.seq
         LIMIT ?4"
    ))?;
    let rows = stmt.query_and_then(
        params![handle.handle.as_str(), clamp(after), clamp(upto), clamp(max_items)],
        |row| -> Result<_, StorageError> {
            let seq: u64 = row.get(0)?;
            let kind: String = row.get(2)?;
            let what = || format!("stream item {}/{seq}", handle.handle);
            let body = match kind.as_str() {
                "event" => match json_col::<Event>(&row.get::<_, String>(3)?, what)? {
                    // Only this relay writes the stream, and it writes no event it does not know.
                    Event::Unknown => return Err(StorageError::Corrupt(format!("{} is an unknown event", what()))),
                    event => ItemBody::Event { event },
                },
                "receipt" => ItemBody::Receipt { receipt: json_col::<Receipt>(&row.get::<_, String>(3)?, what)? },
                "message" => {
                    if row.get_ref(4)?.data_type() == rusqlite::types::Type::Null {
                        return Err(StorageError::Corrupt(format!(
                            "{} refers to a message that does not exist",
                            what()
                        )));
                    }
                    ItemBody::Message { message: message_cols(row, 4)? }
                }
                other => return Err(StorageError::Corrupt(format!("{} has unknown kind {other:?}", what()))),
            };
            Ok(StreamItem { seq, at: row.get(1)?, body })
        },
    )?;
    rows.collect()
}

pub(super) fn find_client_msg(
    conn: &Connection,
    sender: &Address,
    client_msg_id: &str,
) -> Result<Option<(Message, u64)>, StorageError> {
    // Without a copy in the sender's stream there is no seq to answer with: the reference then knows no such message
    // either.
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        message_columns!(),
        ", m.sender_seq FROM messages m
         WHERE m.sender = ?1 AND m.client_msg_id = ?2 AND m.sender_seq IS NOT NULL"
    ))?;
    let mut rows = stmt.query_and_then(params![sender.to_string(), client_msg_id], |row| {
        Ok::<_, StorageError>((message_cols(row, 0)?, row.get(8)?))
    })?;
    rows.next().transpose()
}

// A room's order is its numbering: the core numbers a room's messages 1, 2, ... as they arrive, so ordering by
// `number` is arrival order and walks the unique (room, number) index instead of sorting the room. `number > since`
// hides what was sent before a member joined.

/// The newest visible messages of a room older than a number, newest first.
pub(super) const HISTORY_OLDER: &str =
    "SELECT m.id, m.room, m.sender, m.recipient, m.body, m.sent_at, m.client_msg_id, m.receipts
     FROM messages m WHERE m.room = ?1 AND m.number > ?2 AND m.number < ?3 ORDER BY m.number DESC LIMIT ?4";
/// The oldest visible messages of a room newer than a number, oldest first. The cursor is visible, so its number is
/// above `since`: the index seek starts at the cursor (the unary `+` keeps the `since` term out of the index, where
/// the planner would otherwise seek on it and step through every message between `since` and the cursor).
pub(super) const HISTORY_NEWER: &str =
    "SELECT m.id, m.room, m.sender, m.recipient, m.body, m.sent_at, m.client_msg_id, m.receipts
     FROM messages m WHERE m.room = ?1 AND +m.number > ?2 AND m.number > ?3 ORDER BY m.number ASC LIMIT ?4";

pub(super) fn history(
    conn: &Connection,
    room: &RoomId,
    since: u64,
    cursor: HistoryCursor<'_>,
    limit: usize,
) -> Result<Option<HistoryPage>, StorageError> {
    let since = clamp(since);
    // The number of message `id` if it is a message of `room` that a member who joined at `since` can see.
    let position = |id: &MessageId| -> Result<Option<i64>, StorageError> {
        Ok(conn
            .prepare_cached("SELECT number FROM messages WHERE id = ?1 AND room = ?2 AND number > ?3")?
            .query_row(params![id.as_str(), room.as_str(), since], |row| row.get(0))
            .optional()?)
    };
    // One row beyond the page tells whether there are more.
    let fetch = clamp(limit).saturating_add(1);
    let (sql, bound, newest_first) = match cursor {
        HistoryCursor::Latest => (HISTORY_OLDER, i64::MAX, true),
        HistoryCursor::Before(id) => match position(id)? {
            Some(number) => (HISTORY_OLDER, number, true),
            None => return Ok(None),
        },
        HistoryCursor::After(id) => match position(id)? {
            Some(number) => (HISTORY_NEWER, number, false),
            None => return Ok(None),
        },
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_and_then(params![room.as_str(), since, bound, fetch], |row| message_cols(row, 0))?;
    let mut messages = rows.collect::<Result<Vec<_>, _>>()?;
    let more = messages.len() > limit;
    messages.truncate(limit);
    if newest_first {
        // Fetched newest first to take the newest `limit`; pages are oldest first.
        messages.reverse();
    }
    Ok(Some(HistoryPage { messages, more }))
}
