//! What only a file-backed database has: durability across reopen, the relay-name guard, migrations, concurrent
//! connections, and refusal of corrupt rows. Behaviour shared with memory is in `storage::conformance`.

use std::path::{Path, PathBuf};

use huddle_shared::model::{Event, ItemBody, Message, StreamItem};
use huddle_shared::{Address, Handle, RelayName};
use rusqlite::Connection;

use super::SqliteStorage;
use super::migrations::{MIGRATIONS, latest};
use crate::storage::{AccountRec, EntryRec, HistoryCursor, Mutation, Storage, StorageError};

fn relay() -> RelayName {
    RelayName::parse("home.example").unwrap()
}

fn addr(name: &str) -> Address {
    Address::parse(name).unwrap().resolve(&relay())
}

fn account(id: &str) -> AccountRec {
    AccountRec { id: id.to_owned(), password_phc: "phc".to_owned(), created_at: 1, disabled: false }
}

fn message(id: &str) -> Message {
    Message {
        id: id.to_owned(),
        from: addr("alice"),
        to: addr("bob"),
        body: "hi".to_owned(),
        sent_at: 7,
        client_msg_id: format!("c-{id}"),
    }
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

#[test]
fn open_creates_the_data_directory_and_sets_durable_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("relay.db");
    let s = open(&path);
    assert!(path.exists());
    let mode: String = s.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // 2 = FULL: a commit is fsynced before it returns.
    let sync: i64 = s.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
    assert_eq!(sync, 2);
    let timeout: i64 = s.conn.pragma_query_value(None, "busy_timeout", |r| r.get(0)).unwrap();
    assert_eq!(timeout, 5000);
}

#[test]
fn an_unusable_data_directory_is_a_data_dir_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    match SqliteStorage::open(&file.join("relay.db"), &relay()) {
        Err(StorageError::DataDir { path, .. }) => assert_eq!(path, file.display().to_string()),
        other => panic!("expected DataDir, got {other:?}"),
    }
}

#[test]
fn only_committed_mutations_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let mut s = open(&path);
        s.apply(&Mutation::PutAccount(account("committed"))).unwrap();
        s.apply(&Mutation::StoreMessage { message: message("m1"), sender_seq: 1, recipient_seq: 1 }).unwrap();
        s.commit().unwrap();
        s.apply(&Mutation::PutAccount(account("lost"))).unwrap();
        s.apply(&Mutation::StoreMessage { message: message("m2"), sender_seq: 2, recipient_seq: 2 }).unwrap();
        // Visible to this connection, but never committed: dropping the connection discards it, as a crash would.
        assert_eq!(s.load().unwrap().accounts.len(), 2);
    }
    let mut s = open(&path);
    let snap = s.load().unwrap();
    assert_eq!(snap.accounts, vec![account("committed")]);
    assert_eq!(snap.heads, vec![(Handle::parse("alice").unwrap(), 1), (Handle::parse("bob").unwrap(), 1)]);
    let page = s.stream_page(&addr("bob"), 0, u64::MAX, 10).unwrap();
    assert_eq!(page, vec![StreamItem { seq: 1, at: 7, body: ItemBody::Message { message: message("m1") } }]);
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m2").unwrap(), None);
    // The next batch may reuse the seqs of the lost one.
    s.apply(&Mutation::StoreMessage { message: message("m2"), sender_seq: 2, recipient_seq: 2 }).unwrap();
    s.commit().unwrap();
}

#[test]
fn a_committed_batch_is_on_disk_for_other_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut relay_side = open(&path);
    let mut admin = open(&path);
    relay_side.apply(&Mutation::PutAccount(account("a"))).unwrap();
    assert_eq!(admin.load().unwrap().accounts, vec![]);
    relay_side.commit().unwrap();
    assert_eq!(admin.load().unwrap().accounts, vec![account("a")]);
}

#[test]
fn the_relay_name_is_fixed_at_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    drop(open(&path));
    let other = RelayName::parse("other.example").unwrap();
    match SqliteStorage::open(&path, &other) {
        Err(StorageError::RelayNameMismatch { stored, configured }) => {
            assert_eq!((stored.as_str(), configured.as_str()), ("home.example", "other.example"));
        }
        other => panic!("expected RelayNameMismatch, got {other:?}"),
    }
    // The refused open changed nothing.
    drop(open(&path));
}

#[test]
fn migrations_run_once_and_reopening_keeps_version_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let mut s = open(&path);
        s.apply(&Mutation::PutAccount(account("a"))).unwrap();
        s.commit().unwrap();
    }
    assert_eq!(user_version(&path), latest());
    assert_eq!(latest(), MIGRATIONS.len() as i64);
    for _ in 0..2 {
        let mut s = open(&path);
        assert_eq!(s.load().unwrap().accounts, vec![account("a")]);
    }
    assert_eq!(user_version(&path), latest());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    drop(open(&path));
    Connection::open(&path).unwrap().pragma_update(None, "user_version", latest() + 3).unwrap();
    match SqliteStorage::open(&path, &relay()) {
        Err(StorageError::TooNew(v)) => assert_eq!(v, latest() + 3),
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn an_existing_file_at_version_zero_is_migrated() {
    // Migration 1 must not assume an empty file: an interrupted first open leaves one at version 0 (its transaction
    // rolled back), and an operator may have pre-created the file.
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE unrelated (x)").unwrap();
    drop(open(&path));
    assert_eq!(user_version(&path), latest());
}

#[test]
fn external_change_sees_other_connections_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut relay_side = open(&path);
    assert!(!relay_side.external_change().unwrap());

    // Our own writes, committed or not, are not external.
    relay_side.apply(&Mutation::PutAccount(account("own"))).unwrap();
    assert!(!relay_side.external_change().unwrap());
    relay_side.commit().unwrap();
    assert!(!relay_side.external_change().unwrap());

    // Another connection opening the file and reading is no change either.
    let mut admin = open(&path);
    admin.load().unwrap();
    assert!(!relay_side.external_change().unwrap());

    admin.apply(&Mutation::PutAccount(account("admin"))).unwrap();
    // Not committed yet: nothing to see.
    assert!(!relay_side.external_change().unwrap());
    admin.commit().unwrap();
    assert!(relay_side.external_change().unwrap());
    // Reported once.
    assert!(!relay_side.external_change().unwrap());
    assert_eq!(relay_side.load().unwrap().accounts, vec![account("admin"), account("own")]);
}

#[test]
fn an_admin_change_before_the_first_poll_is_not_missed() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut relay_side = open(&path);
    relay_side.load().unwrap();
    let mut admin = open(&path);
    admin.apply(&Mutation::PutAccount(account("admin"))).unwrap();
    admin.commit().unwrap();
    assert!(relay_side.external_change().unwrap());
}

#[test]
fn a_failed_apply_leaves_the_rest_of_the_batch_intact() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    s.apply(&Mutation::PutAccount(account("a"))).unwrap();
    s.apply(&Mutation::StoreMessage { message: message("m1"), sender_seq: 1, recipient_seq: 1 }).unwrap();
    // The message row and alice's stream row go in, then bob's seq 1 is taken: all of m2 must be undone.
    let err = s.apply(&Mutation::StoreMessage { message: message("m2"), sender_seq: 2, recipient_seq: 1 });
    assert!(matches!(err, Err(StorageError::Sqlite(_))), "{err:?}");
    s.commit().unwrap();
    assert_eq!(s.load().unwrap().accounts, vec![account("a")]);
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m2").unwrap(), None);
    assert_eq!(s.stream_page(&addr("alice"), 0, 10, 10).unwrap().len(), 1);
    let page = s.history(&addr("alice"), &addr("bob"), HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(page.messages, vec![message("m1")]);
}

#[test]
fn duplicate_message_ids_and_client_ids_are_refused() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    s.apply(&Mutation::StoreMessage { message: message("m1"), sender_seq: 1, recipient_seq: 1 }).unwrap();
    let same_id = Message { client_msg_id: "other".to_owned(), ..message("m1") };
    assert!(s.apply(&Mutation::StoreMessage { message: same_id, sender_seq: 2, recipient_seq: 2 }).is_err());
    let same_client_id = Message { id: "m9".to_owned(), ..message("m1") };
    assert!(s.apply(&Mutation::StoreMessage { message: same_client_id, sender_seq: 3, recipient_seq: 3 }).is_err());
    let item =
        StreamItem { seq: 1, at: 0, body: ItemBody::Event { event: Event::RequestCancelled { peer: addr("x1") } } };
    assert!(s.apply(&Mutation::AppendEvent { handle: Handle::parse("bob").unwrap(), item }).is_err());
}

#[test]
fn a_message_item_in_append_event_is_refused() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let item = StreamItem { seq: 1, at: 0, body: ItemBody::Message { message: message("m1") } };
    let err = s.apply(&Mutation::AppendEvent { handle: Handle::parse("alice").unwrap(), item });
    assert!(matches!(err, Err(StorageError::Corrupt(_))), "{err:?}");
}

#[test]
fn seqs_beyond_i64_are_refused_rather_than_wrapped() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let err = s.apply(&Mutation::StoreMessage { message: message("m1"), sender_seq: u64::MAX, recipient_seq: 1 });
    assert!(err.is_err());
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m1").unwrap(), None);
}

fn corrupt_with(sql: &str) -> StorageError {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut s = open(&path);
    s.apply(&Mutation::StoreMessage { message: message("m1"), sender_seq: 1, recipient_seq: 1 }).unwrap();
    s.apply(&Mutation::PutEntry(EntryRec {
        owner: addr("alice"),
        peer: addr("bob"),
        nickname: None,
        note: None,
        since: 0,
        removed_you: false,
    }))
    .unwrap();
    s.commit().unwrap();
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    let loaded = s.load().err();
    let paged = s.stream_page(&addr("alice"), 0, 10, 10).err();
    let history = s.history(&addr("alice"), &addr("bob"), HistoryCursor::Latest, 10).err();
    loaded.or(paged).or(history).unwrap()
}

#[test]
fn unparsable_rows_are_corrupt() {
    for sql in [
        "UPDATE entries SET peer = 'Not An Address'",
        "UPDATE messages SET sender = 'a@b@c'",
        "UPDATE stream SET kind = 'event', message_ord = NULL, event_json = '{\"event\":\"nope\"}' WHERE handle = 'alice'",
        "PRAGMA ignore_check_constraints = ON; UPDATE stream SET kind = 'other' WHERE handle = 'alice'",
        "DELETE FROM messages",
        "INSERT INTO deletions VALUES ('alice@home.example', 'bob@home.example', 'sideways', 0)",
        "INSERT INTO retired_handles VALUES ('x')",
    ] {
        let err = corrupt_with(sql);
        assert!(matches!(err, StorageError::Corrupt(_)), "{sql}: {err:?}");
    }
}
