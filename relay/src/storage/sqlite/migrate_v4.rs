//! Schema step 4: one room model. Direct messages and group messages, kept in two tables until schema 3, become one
//! table of messages, each in a room; groups become rooms of kind `group`, and every conversation with messages gets
//! its direct room; the stream refers to the one table; stored events and receipt reports are rewritten in the shapes
//! of protocol 2 (`room` events and invitations, receipts that name their room).
//!
//! It runs inside the migration's transaction: a failure leaves schema 3 as it was. It checks that every row arrived
//! — as many messages, stream items and receipt records after as before — and fails rather than lose one.
//!
//! Ids: a group keeps its UUID, now with the relay's name (`0195…@chat.example.org`); a direct room gets the id the
//! relay computes for the pair ([`crate::ids::direct_room_id`]), made available to SQL as `huddle_direct_room(a, b)`.
//! Message ids do not change. Protocol 1 kept separate idempotency keys for direct and group messages; in the rare case
//! a handle used one `client_msg_id` for both, the group message's key gets the suffix `~group` so that both are kept.

use huddle_shared::model::{Event, Receipt};
use huddle_shared::{Address, RoomId};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use serde_json::{Map, Value};

use crate::storage::StorageError;

/// Tables of schema 4 (created under a temporary name where schema 3 has a table of that name).
const CREATE: &str = r#"
    CREATE TABLE rooms (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        title      TEXT,
        owner      TEXT,
        created_at INTEGER NOT NULL,
        ended      INTEGER NOT NULL CHECK (ended IN (0, 1))
    ) WITHOUT ROWID;

    -- A direct room's two members are recorded with it; group members come and go. `since` is how many messages the
    -- room had when the member joined.
    CREATE TABLE room_members (
        room      TEXT NOT NULL,
        member    TEXT NOT NULL,
        joined_at INTEGER NOT NULL,
        since     INTEGER NOT NULL,
        PRIMARY KEY (room, member)
    ) WITHOUT ROWID;
    -- "Which rooms is this handle in".
    CREATE INDEX room_members_member ON room_members (member);

    CREATE TABLE room_invites (
        room    TEXT NOT NULL,
        invitee TEXT NOT NULL,
        by_addr TEXT NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (room, invitee)
    ) WITHOUT ROWID;
    CREATE INDEX room_invites_invitee ON room_invites (invitee);

    -- Every message, stored once and referenced from the stream of everyone it went to. `number` is its place in its
    -- room (1, 2, ...): history pages by it, and membership's `since` compares with it. `recipient` is the other
    -- member of a direct room (NULL in other rooms). `sender_seq` is the sender's own stream seq, kept here so that a
    -- resend finds it even after the stream is gone.
    CREATE TABLE messages_v4 (
        ord           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        room          TEXT NOT NULL,
        number        INTEGER NOT NULL,
        sender        TEXT NOT NULL,
        recipient     TEXT,
        body          TEXT NOT NULL,
        sent_at       INTEGER NOT NULL,
        client_msg_id TEXT NOT NULL,
        sender_seq    INTEGER,
        receipts      INTEGER NOT NULL CHECK (receipts IN (0, 1)),
        UNIQUE (sender, client_msg_id)
    );

    -- Exactly one of `message_ord` and `body_json` is set, according to `kind`:
    --   'message'  message_ord -> messages.ord
    --   'event'    body_json   (the event, as JSON)
    --   'receipt'  body_json   (the receipt report, as JSON)
    CREATE TABLE stream_v4 (
        handle      TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        message_ord INTEGER,
        body_json   TEXT,
        PRIMARY KEY (handle, seq),
        CHECK ((kind = 'message' AND message_ord IS NOT NULL AND body_json IS NULL)
            OR (kind IN ('event', 'receipt') AND message_ord IS NULL AND body_json IS NOT NULL))
    ) WITHOUT ROWID;

    CREATE TABLE receipts_v4 (
        message_id   TEXT NOT NULL,
        recipient    TEXT NOT NULL,
        sender       TEXT NOT NULL,
        room         TEXT NOT NULL,
        seq          INTEGER,
        delivered_at INTEGER,
        read_at      INTEGER,
        PRIMARY KEY (message_id, recipient)
    ) WITHOUT ROWID;
"#;

/// Copies schema 3's rows into schema 4's tables. `relay` is a one-row CTE-like subquery of the relay's name.
const COPY: &str = r#"
    -- Groups, with their members and invitations: the id gains the relay's name.
    INSERT INTO rooms (id, kind, title, owner, created_at, ended)
        SELECT id || '@' || (SELECT value FROM meta WHERE key = 'relay_name'), 'group', title, owner, created_at,
               archived
        FROM groups;
    INSERT INTO room_members (room, member, joined_at, since)
        SELECT grp || '@' || (SELECT value FROM meta WHERE key = 'relay_name'), member, joined_at, since
        FROM group_members;
    INSERT INTO room_invites (room, invitee, by_addr, at)
        SELECT grp || '@' || (SELECT value FROM meta WHERE key = 'relay_name'), invitee, by_addr, at
        FROM group_invites;

    -- A direct room for every conversation with messages, made when its first message was; both sides are members
    -- from then on. `conversation` is the two addresses in order, joined by a space.
    INSERT INTO rooms (id, kind, title, owner, created_at, ended)
        SELECT huddle_direct_room(sender, recipient), 'direct', NULL, NULL, MIN(sent_at), 0
        FROM messages GROUP BY conversation;
    INSERT OR IGNORE INTO room_members (room, member, joined_at, since)
        SELECT huddle_direct_room(sender, recipient), substr(conversation, 1, instr(conversation, ' ') - 1),
               MIN(sent_at), 0
        FROM messages GROUP BY conversation;
    INSERT OR IGNORE INTO room_members (room, member, joined_at, since)
        SELECT huddle_direct_room(sender, recipient), substr(conversation, instr(conversation, ' ') + 1),
               MIN(sent_at), 0
        FROM messages GROUP BY conversation;

    -- Direct messages, numbered in their room in the order they were stored.
    INSERT INTO messages_v4
        (id, room, number, sender, recipient, body, sent_at, client_msg_id, sender_seq, receipts)
        SELECT id, huddle_direct_room(sender, recipient),
               ROW_NUMBER() OVER (PARTITION BY conversation ORDER BY ord),
               sender, recipient, body, sent_at, client_msg_id, sender_seq, receipts
        FROM messages ORDER BY ord;
    -- Group messages keep their numbers (members' `since` refers to them).
    INSERT INTO messages_v4
        (id, room, number, sender, recipient, body, sent_at, client_msg_id, sender_seq, receipts)
        SELECT g.id, g.grp || '@' || (SELECT value FROM meta WHERE key = 'relay_name'), g.number, g.sender, NULL,
               g.body, g.sent_at,
               CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.sender = g.sender
                                                             AND m.client_msg_id = g.client_msg_id)
                    THEN g.client_msg_id || '~group' ELSE g.client_msg_id END,
               g.sender_seq, g.receipts
        FROM group_messages g ORDER BY g.ord;

    INSERT INTO stream_v4 (handle, seq, at, kind, message_ord)
        SELECT s.handle, s.seq, s.at, 'message', n.ord
        FROM stream s JOIN messages m ON m.ord = s.message_ord JOIN messages_v4 n ON n.id = m.id
        WHERE s.kind = 'message';
    INSERT INTO stream_v4 (handle, seq, at, kind, message_ord)
        SELECT s.handle, s.seq, s.at, 'message', n.ord
        FROM stream s JOIN group_messages g ON g.ord = s.group_message_ord JOIN messages_v4 n ON n.id = g.id
        WHERE s.kind = 'group_message';
    INSERT INTO stream_v4 (handle, seq, at, kind, body_json)
        SELECT handle, seq, at, 'event', huddle_v3_event(event_json) FROM stream WHERE kind = 'event';
    INSERT INTO stream_v4 (handle, seq, at, kind, body_json)
        SELECT handle, seq, at, 'receipt',
               huddle_v3_receipt(receipt_json, handle || '@' || (SELECT value FROM meta WHERE key = 'relay_name'))
        FROM stream WHERE kind = 'receipt';

    INSERT INTO receipts_v4 (message_id, recipient, sender, room, seq, delivered_at, read_at)
        SELECT message_id, recipient, sender,
               COALESCE(grp || '@' || (SELECT value FROM meta WHERE key = 'relay_name'),
                        huddle_direct_room(sender, recipient)),
               seq, delivered_at, read_at
        FROM receipts;
"#;

/// Schema 3's tables go; schema 4's take their names; the indexes are made on the final tables.
const REPLACE: &str = r#"
    DROP TABLE stream;
    DROP TABLE receipts;
    DROP TABLE messages;
    DROP TABLE group_messages;
    DROP TABLE group_invites;
    DROP TABLE group_members;
    DROP TABLE groups;
    ALTER TABLE messages_v4 RENAME TO messages;
    ALTER TABLE stream_v4 RENAME TO stream;
    ALTER TABLE receipts_v4 RENAME TO receipts;
    -- A room's messages in order; also what `MAX(number)` per room reads at start.
    CREATE UNIQUE INDEX messages_room ON messages (room, number);
    -- "Which of the items an ack covers still wait for their delivery": partial, so it holds only rows still to be
    -- delivered and stays small however many receipts the relay has recorded.
    CREATE INDEX receipts_undelivered ON receipts (recipient, seq) WHERE delivered_at IS NULL AND seq IS NOT NULL;
"#;

pub(super) fn run(conn: &Connection) -> Result<(), StorageError> {
    register_functions(conn)?;
    let count = |table: &str| -> Result<i64, StorageError> {
        Ok(conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get(0))?)
    };
    let before = (count("messages")? + count("group_messages")?, count("stream")?, count("receipts")?);
    conn.execute_batch(CREATE)?;
    conn.execute_batch(COPY)?;
    let after = (count("messages_v4")?, count("stream_v4")?, count("receipts_v4")?);
    if before != after {
        return Err(StorageError::Corrupt(format!(
            "moving to one room model would lose data: (messages, stream items, receipts) were {before:?} and would \
             be {after:?}; some stream items refer to messages that do not exist. Restore a backup, or ask for help"
        )));
    }
    conn.execute_batch(REPLACE)?;
    Ok(())
}

/// Makes the conversions available to SQL on this connection. They are pure, so SQLite may call them as it likes.
fn register_functions(conn: &Connection) -> Result<(), StorageError> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("huddle_direct_room", 2, flags, |ctx| {
        let a = parse_address(&ctx.get::<String>(0)?)?;
        let b = parse_address(&ctx.get::<String>(1)?)?;
        Ok(crate::ids::direct_room_id(&a, &b).to_string())
    })?;
    let relay = conn.query_row("SELECT value FROM meta WHERE key = 'relay_name'", [], |row| row.get::<_, String>(0));
    // A database that never had data has no relay name yet; the functions below then meet no rows.
    let relay = relay.unwrap_or_default();
    let event_relay = relay.clone();
    conn.create_scalar_function("huddle_v3_event", 1, flags, move |ctx| {
        let json: String = ctx.get(0)?;
        convert_event(&json, &event_relay).map_err(|e| user_error(format!("stored event {json:?}: {e}")))
    })?;
    conn.create_scalar_function("huddle_v3_receipt", 2, flags, move |ctx| {
        let json: String = ctx.get(0)?;
        let sender = parse_address(&ctx.get::<String>(1)?)?;
        convert_receipt(&json, &sender, &relay).map_err(|e| user_error(format!("stored receipt {json:?}: {e}")))
    })?;
    Ok(())
}

fn user_error(message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(message.into())
}

fn parse_address(raw: &str) -> Result<Address, rusqlite::Error> {
    Address::parse(raw).map_err(|e| user_error(format!("bad address {raw:?}: {e}")))
}

/// A schema-3 group id on this relay, as a room id.
fn group_room(group: &Value, relay: &str) -> Result<Value, String> {
    let group = group.as_str().ok_or("the group is not a string")?;
    let id = RoomId::parse(&format!("{group}@{relay}")).map_err(|e| e.to_string())?;
    Ok(Value::String(id.to_string()))
}

/// A protocol-1 event as protocol 2 writes it: `group` and `group_invite` events become `room` and `room_invite`
/// events, naming the room instead of the group; the others keep their shape.
fn convert_event(json: &str, relay: &str) -> Result<String, String> {
    let mut object: Map<String, Value> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let renamed = match object.get("event").and_then(Value::as_str) {
        Some("group") => Some("room"),
        Some("group_invite") => Some("room_invite"),
        _ => None,
    };
    if let Some(name) = renamed {
        let group = object.remove("group").ok_or("no group")?;
        object.insert("event".to_owned(), Value::String(name.to_owned()));
        object.insert("room".to_owned(), group_room(&group, relay)?);
    }
    // Read as protocol 2's type and written back, so the stored text is exactly what the relay writes from now on.
    let event: Event = serde_json::from_value(Value::Object(object)).map_err(|e| e.to_string())?;
    if event == Event::Unknown {
        return Err("not an event this relay knows".to_owned());
    }
    serde_json::to_string(&event).map_err(|e| e.to_string())
}

/// A protocol-1 receipt report (with `group` for group messages, nothing for direct ones) with its room, given the
/// stream it is in (its messages' sender).
fn convert_receipt(json: &str, sender: &Address, relay: &str) -> Result<String, String> {
    let mut object: Map<String, Value> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let room = match object.remove("group") {
        Some(group) => group_room(&group, relay)?,
        None => {
            let by = object.get("by").and_then(Value::as_str).ok_or("no `by`")?;
            let by = Address::parse(by).map_err(|e| e.to_string())?;
            Value::String(crate::ids::direct_room_id(sender, &by).to_string())
        }
    };
    object.insert("room".to_owned(), room);
    let receipt: Receipt = serde_json::from_value(Value::Object(object)).map_err(|e| e.to_string())?;
    serde_json::to_string(&receipt).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_1_events_are_rewritten_for_rooms() {
        let group = r#"{"event":"group","peer":"alice@localhost","group":"01a2-b","change":{"change":"left"}}"#;
        assert_eq!(
            convert_event(group, "localhost").unwrap(),
            r#"{"event":"room","peer":"alice@localhost","room":"01a2-b@localhost","change":{"change":"left"}}"#
        );
        let invite = r#"{"event":"group_invite","peer":"alice@localhost","group":"01a2-b","title":"climbing"}"#;
        assert_eq!(
            convert_event(invite, "localhost").unwrap(),
            r#"{"event":"room_invite","peer":"alice@localhost","room":"01a2-b@localhost","title":"climbing"}"#
        );
        let other = r#"{"event":"deletion_notice","peer":"alice@localhost","asks_delete":true}"#;
        assert_eq!(convert_event(other, "localhost").unwrap(), other);
        assert!(convert_event(r#"{"event":"teleported"}"#, "localhost").is_err());
        assert!(convert_event("not json", "localhost").is_err());
    }

    #[test]
    fn protocol_1_receipts_name_their_room() {
        let alice = Address::parse("alice@localhost").unwrap();
        let direct = r#"{"by":"bob@localhost","state":"read","message_ids":["m1"]}"#;
        let room = crate::ids::direct_room_id(&alice, &Address::parse("bob@localhost").unwrap());
        assert_eq!(
            convert_receipt(direct, &alice, "localhost").unwrap(),
            format!(r#"{{"by":"bob@localhost","state":"read","message_ids":["m1"],"room":"{room}"}}"#)
        );
        let group = r#"{"by":"bob@localhost","state":"delivered","message_ids":["m2"],"group":"g-1"}"#;
        assert_eq!(
            convert_receipt(group, &alice, "localhost").unwrap(),
            r#"{"by":"bob@localhost","state":"delivered","message_ids":["m2"],"room":"g-1@localhost"}"#
        );
    }
}
