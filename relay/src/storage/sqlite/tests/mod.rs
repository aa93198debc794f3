//! What only a file-backed database has: durability across reopen, the relay-name guard, concurrent connections,
//! migrations (from every earlier schema, and from a database written by the schema-3 relay), query plans, and the
//! refusal of corrupt rows; the files at rest (their modes, an empty or damaged file, the data directory). Behaviour
//! shared with memory is in `storage::conformance`.

mod at_rest;
mod corrupt;
mod files;
mod fixture;
mod migrations;
mod plans;

use std::path::{Path, PathBuf};

use huddle_shared::model::{Event, ItemBody, Message, Receipt, ReceiptState, RoomKind, StreamItem};
use huddle_shared::{Address, Handle, MessageId, RelayName, RoomId};
use rusqlite::Connection;

use super::SqliteStorage;
use crate::storage::{AccountRec, Mutation, ReceiptRec, RoomRec, Storage, StorageError};

fn relay() -> RelayName {
    RelayName::parse("home.example").unwrap()
}

fn addr(name: &str) -> Address {
    Address::parse(name).unwrap().resolve(&relay())
}

fn h(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

fn mid(id: &str) -> MessageId {
    MessageId::new(id)
}

fn room(local: &str) -> RoomId {
    RoomId::new(local, &relay()).unwrap()
}

fn dm(a: &str, b: &str) -> RoomId {
    crate::ids::direct_room_id(&addr(a), &addr(b))
}

fn account(id: &str) -> AccountRec {
    AccountRec { id: id.to_owned(), password_phc: "phc".to_owned(), created_at: 1, disabled: false }
}

/// alice's message `id` to bob.
fn message(id: &str) -> Message {
    Message {
        id: mid(id),
        room: dm("alice", "bob"),
        from: addr("alice"),
        to: Some(addr("bob")),
        body: "hi".to_owned(),
        sent_at: 7,
        client_msg_id: format!("c-{id}"),
        receipts: false,
    }
}

/// `from`'s message `id` to the group "g".
fn group_message(id: &str, from: &str) -> Message {
    Message {
        id: mid(id),
        room: room("g"),
        from: addr(from),
        to: None,
        body: "hello all".to_owned(),
        sent_at: 9,
        client_msg_id: format!("c-{id}"),
        receipts: false,
    }
}

/// Stores `message` as number `number` of its room, delivered to each `(handle, seq)`.
fn store(message: Message, number: u64, deliveries: &[(&str, u64)]) -> Mutation {
    Mutation::StoreMessage {
        message,
        number,
        deliveries: deliveries.iter().map(|&(name, seq)| (h(name), seq)).collect(),
    }
}

/// A direct message from alice to bob, at these seqs of theirs.
fn store_dm(id: &str, alice_seq: u64, bob_seq: u64) -> Mutation {
    store(message(id), alice_seq, &[("alice", alice_seq), ("bob", bob_seq)])
}

fn receipt_rec(message_id: &str, recipient: &str, seq: Option<u64>) -> ReceiptRec {
    ReceiptRec {
        message_id: mid(message_id),
        recipient: addr(recipient),
        sender: addr("alice"),
        room: dm("alice", recipient),
        seq,
        delivered_at: None,
        read_at: None,
    }
}

fn read_receipt(ids: &[&str]) -> Receipt {
    Receipt {
        by: addr("bob"),
        state: ReceiptState::Read,
        message_ids: ids.iter().map(|id| mid(id)).collect(),
        room: dm("alice", "bob"),
    }
}

fn receipt_item(seq: u64, at: i64, receipt: Receipt) -> Mutation {
    Mutation::AppendItem { handle: h("alice"), item: StreamItem { seq, at, body: ItemBody::Receipt { receipt } } }
}

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data").join("relay.db")
}

fn open(path: &Path) -> SqliteStorage {
    SqliteStorage::open(path, &relay()).unwrap()
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
}

fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A migrated file has exactly the schema a new one gets, and passes SQLite's integrity check.
fn assert_same_schema_as_a_new_file(s: &SqliteStorage) {
    let migrated = schema(&s.conn);
    let fresh = SqliteStorage::open_in_memory(&s.relay_name_for_tests()).unwrap();
    assert_eq!(migrated, schema(&fresh.conn));
    assert!(
        migrated.iter().all(|(_, name, _)| !name.ends_with("_v2") && !name.ends_with("_v3") && !name.ends_with("_v4"))
    );
    let check: String = s.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

impl SqliteStorage {
    fn relay_name_for_tests(&self) -> RelayName {
        let name: String =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'relay_name'", [], |r| r.get(0)).unwrap();
        RelayName::parse(&name).unwrap()
    }
}
