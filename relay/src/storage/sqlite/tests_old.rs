//! What only a file-backed database has: durability across reopen, the relay-name guard, migrations, concurrent
//! connections, and refusal of corrupt rows. Behaviour shared with memory is in `storage::conformance`.

use std::path::{Path, PathBuf};

use huddle_shared::model::{Event, GroupMessage, InvitePolicy, ItemBody, Message, Receipt, ReceiptState, StreamItem};
use huddle_shared::{Address, Handle, RelayName};
use rusqlite::Connection;

use super::SqliteStorage;
use super::migrations::{MIGRATIONS, latest};
use crate::storage::{
    AccountRec, EntryRec, GroupInviteRec, GroupRec, HandleRec, HistoryCursor, MemberRec, Mutation, ReceiptRec, Storage,
    StorageError,
};

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
        receipts: false,
    }
}

fn h(name: &str) -> Handle {
    Handle::parse(name).unwrap()
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

// ---------------------------------------------------------------------------------------------------------------
// Group rooms (schema version 2)
// ---------------------------------------------------------------------------------------------------------------

fn group_message(id: &str, from: &str) -> GroupMessage {
    GroupMessage {
        id: id.to_owned(),
        group: "g".to_owned(),
        from: addr(from),
        body: "hello all".to_owned(),
        sent_at: 9,
        client_msg_id: format!("c-{id}"),
        receipts: false,
    }
}

fn store_group(message: GroupMessage, number: u64, deliveries: &[(&str, u64)]) -> Mutation {
    Mutation::StoreGroupMessage {
        message,
        number,
        deliveries: deliveries.iter().map(|&(h, seq)| (Handle::parse(h).unwrap(), seq)).collect(),
    }
}

fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A file as the relay before group rooms left it: migration 1 only, with the data its code wrote.
fn v1_file(path: &Path) -> Event {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    let event = Event::RequestReceived { peer: addr("carol"), greeting: Some("hi ✓".to_owned()) };
    let event_json = serde_json::to_string(&event).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO meta VALUES ('relay_name', 'home.example');
         INSERT INTO accounts VALUES ('acc', 'phc', 1, 0);
         INSERT INTO handles VALUES ('alice', 'acc', 0, 1, 'Alice', NULL, 'coding', NULL, 5, 2);
         INSERT INTO handles VALUES ('bob', 'acc', 1, 1, NULL, NULL, NULL, NULL, NULL, 0);
         INSERT INTO entries VALUES ('alice@home.example', 'bob@home.example', 'bobby', NULL, 3, 0);
         INSERT INTO messages (id, sender, recipient, conversation, body, sent_at, client_msg_id, sender_seq)
             VALUES ('m1', 'alice@home.example', 'bob@home.example', 'alice@home.example bob@home.example',
                     'hi', 7, 'c-m1', 1);
         INSERT INTO stream (handle, seq, at, kind, message_ord) VALUES ('alice', 1, 7, 'message', 1);
         INSERT INTO stream (handle, seq, at, kind, message_ord) VALUES ('bob', 1, 7, 'message', 1);
         INSERT INTO stream (handle, seq, at, kind, event_json) VALUES ('alice', 2, 8, 'event', '{}');",
        event_json.replace('\'', "''")
    ))
    .unwrap();
    event
}

#[test]
fn a_v1_database_with_data_is_migrated_to_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let event = v1_file(&path);
    assert_eq!(user_version(&path), 1);

    let mut s = open(&path);
    assert_eq!(user_version(&path), latest());
    let snap = s.load().unwrap();
    assert_eq!(snap.accounts, vec![account("acc")]);
    let handles: Vec<_> = snap.handles.iter().map(|h| (h.handle.as_str(), h.acked, h.invite_policy)).collect();
    // Existing handles get the default policy.
    assert_eq!(handles, vec![("alice", 2, InvitePolicy::Auto), ("bob", 0, InvitePolicy::Auto)]);
    assert_eq!(snap.handles[0].profile.display_name.as_deref(), Some("Alice"));
    assert_eq!(snap.handles[0].activity.as_deref(), Some("coding"));
    assert_eq!(snap.handles[0].last_seen, Some(5));
    assert_eq!(snap.entries.len(), 1);
    assert_eq!(snap.heads, vec![(Handle::parse("alice").unwrap(), 2), (Handle::parse("bob").unwrap(), 1)]);
    assert!(snap.groups.is_empty() && snap.members.is_empty() && snap.group_invites.is_empty());
    // The rebuilt stream kept every row, of both kinds.
    assert_eq!(
        s.stream_page(&addr("alice"), 0, u64::MAX, 10).unwrap(),
        vec![
            StreamItem { seq: 1, at: 7, body: ItemBody::Message { message: message("m1") } },
            StreamItem { seq: 2, at: 8, body: ItemBody::Event { event } },
        ]
    );
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m1").unwrap(), Some((message("m1"), 1)));
    let page = s.history(&addr("alice"), &addr("bob"), HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(page.messages, vec![message("m1")]);

    // The migrated file takes group data, and streams go on from where they were.
    let mut alice = s.load().unwrap().handles.remove(0);
    alice.invite_policy = InvitePolicy::Ask;
    s.apply(&Mutation::PutHandle(alice.clone())).unwrap();
    s.apply(&store_group(group_message("g1", "alice"), 1, &[("alice", 3), ("bob", 2)])).unwrap();
    s.commit().unwrap();
    drop(s);

    // Reopening finds the latest version and runs nothing again.
    let mut s = open(&path);
    assert_eq!(user_version(&path), latest());
    assert_eq!(s.load().unwrap().handles[0], alice);
    let item = StreamItem { seq: 2, at: 9, body: ItemBody::GroupMessage { message: group_message("g1", "alice") } };
    assert_eq!(s.stream_page(&addr("bob"), 1, 10, 10).unwrap(), vec![item]);
    assert_eq!(s.find_group_client_msg(&addr("alice"), "c-g1").unwrap(), Some((group_message("g1", "alice"), 3)));

    // The migrated schema is the one a new file gets, with no trace of the rebuild.
    let migrated = schema(&s.conn);
    let fresh = SqliteStorage::open_in_memory(&relay()).unwrap();
    assert_eq!(migrated, schema(&fresh.conn));
    assert!(migrated.iter().all(|(_, name, _)| name != "stream_v2" && name != "stream_v3"));
    let check: String = s.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_stream_row_holds_exactly_one_reference_of_its_kind() {
    let s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let insert = |kind: &str, message_ord: Option<i64>, group_message_ord: Option<i64>, event_json: Option<&str>| {
        s.conn.execute(
            "INSERT INTO stream (handle, seq, at, kind, message_ord, group_message_ord, event_json)
             VALUES ('alice', 1, 0, ?1, ?2, ?3, ?4)",
            rusqlite::params![kind, message_ord, group_message_ord, event_json],
        )
    };
    for (kind, m, g, e) in [
        ("group_message", None, None, None),
        ("group_message", Some(1), None, None),
        ("group_message", None, Some(1), Some("{}")),
        ("group_message", Some(1), Some(1), None),
        ("message", Some(1), Some(1), None),
        ("event", None, Some(1), Some("{}")),
        ("other", None, Some(1), None),
    ] {
        assert!(insert(kind, m, g, e).is_err(), "{kind} {m:?} {g:?} {e:?}");
    }
    for (kind, m, g, e) in
        [("message", Some(1), None, None), ("group_message", None, Some(1), None), ("event", None, None, Some("{}"))]
    {
        insert(kind, m, g, e).unwrap();
        s.conn.execute("DELETE FROM stream", []).unwrap();
    }
}

#[test]
fn a_group_message_item_in_append_event_is_refused() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let item = StreamItem { seq: 1, at: 0, body: ItemBody::GroupMessage { message: group_message("g1", "alice") } };
    let err = s.apply(&Mutation::AppendEvent { handle: Handle::parse("alice").unwrap(), item });
    assert!(matches!(err, Err(StorageError::Corrupt(_))), "{err:?}");
    assert_eq!(s.stream_page(&addr("alice"), 0, 10, 10).unwrap(), vec![]);
}

#[test]
fn a_failed_group_message_leaves_the_rest_of_the_batch_intact() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    s.apply(&store_group(group_message("g1", "alice"), 1, &[("alice", 1), ("bob", 1)])).unwrap();
    // The message row and alice's copy go in, then bob's seq 1 is taken: all of g2 must be undone.
    let err = s.apply(&store_group(group_message("g2", "alice"), 2, &[("alice", 2), ("carol", 1), ("bob", 1)]));
    assert!(matches!(err, Err(StorageError::Sqlite(_))), "{err:?}");
    s.commit().unwrap();
    assert_eq!(s.find_group_client_msg(&addr("alice"), "c-g2").unwrap(), None);
    assert_eq!(s.stream_page(&addr("alice"), 0, 10, 10).unwrap().len(), 1);
    assert_eq!(s.stream_page(&addr("carol"), 0, 10, 10).unwrap(), vec![]);
    let page = s.group_history("g", 0, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(page.messages, vec![group_message("g1", "alice")]);
}

#[test]
fn duplicate_group_message_ids_and_client_ids_are_refused() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    s.apply(&store_group(group_message("g1", "alice"), 1, &[("alice", 1)])).unwrap();
    let same_id = GroupMessage { client_msg_id: "other".to_owned(), ..group_message("g1", "bob") };
    assert!(s.apply(&store_group(same_id, 2, &[("bob", 1)])).is_err());
    let same_client_id = GroupMessage { id: "g9".to_owned(), ..group_message("g1", "alice") };
    assert!(s.apply(&store_group(same_client_id, 3, &[("alice", 2)])).is_err());
    // A group message id is not a direct message id, and the other way round: the tables are separate.
    s.apply(&Mutation::StoreMessage { message: message("g1"), sender_seq: 2, recipient_seq: 1 }).unwrap();
}

#[test]
fn group_history_pages_cost_the_same_anywhere_in_a_long_group() {
    // A page walks the (grp, number) index from the cursor: no sort of the group, no scan from its start or from
    // `since`. Counted in VM steps, a page near the start costs what a page near the end does.
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    for n in 1..=2000u64 {
        s.apply(&store_group(group_message(&format!("g{n}"), "alice"), n, &[("alice", n)])).unwrap();
    }
    s.commit().unwrap();
    for sql in [super::GROUP_HISTORY_OLDER, super::GROUP_HISTORY_NEWER] {
        let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params!["g", 0, 5, 5, 3], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("USING INDEX group_messages_grp")), "{sql}: {plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{sql}: {plan:?}");

        let steps = |since: i64, at: i64| {
            let mut stmt = s.conn.prepare(sql).unwrap();
            // Here ord = number: one group, stored in order.
            let rows = stmt.query_map(rusqlite::params!["g", since, at, at, 4], |r| r.get::<_, String>(0)).unwrap();
            assert_eq!(rows.count(), 4);
            stmt.get_status(rusqlite::StatementStatus::VmStep)
        };
        let near_start = steps(0, 10);
        for (since, at) in [(0, 1000), (0, 1990), (1000, 1990), (1980, 1990)] {
            assert_eq!(steps(since, at), near_start, "{sql}: since {since}, at {at}");
        }
    }
}

#[test]
fn unparsable_group_rows_are_corrupt() {
    for sql in [
        "UPDATE handles SET invite_policy = 'sometimes'",
        "UPDATE groups SET owner = 'Not An Address'",
        "UPDATE group_members SET member = 'a@b@c'",
        "UPDATE group_invites SET by_addr = ''",
        "UPDATE group_messages SET sender = 'a@b@c'",
        "DELETE FROM group_messages",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(&dir);
        let mut s = open(&path);
        let mut alice = HandleRec::new(Handle::parse("alice").unwrap(), "acc".to_owned(), 0, 0);
        alice.invite_policy = InvitePolicy::Refuse;
        s.apply(&Mutation::PutHandle(alice)).unwrap();
        s.apply(&Mutation::PutGroup(GroupRec {
            id: "g".to_owned(),
            title: None,
            owner: addr("alice"),
            created_at: 0,
            archived: false,
            messages: 1,
        }))
        .unwrap();
        s.apply(&Mutation::PutMember(MemberRec {
            group: "g".to_owned(),
            member: addr("alice"),
            joined_at: 0,
            since: 0,
        }))
        .unwrap();
        s.apply(&Mutation::PutGroupInvite(GroupInviteRec {
            group: "g".to_owned(),
            invitee: addr("bob"),
            by: addr("alice"),
            at: 0,
        }))
        .unwrap();
        s.apply(&store_group(group_message("g1", "alice"), 1, &[("alice", 1)])).unwrap();
        s.commit().unwrap();
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let loaded = s.load().err();
        let paged = s.stream_page(&addr("alice"), 0, 10, 10).err();
        let history = s.group_history("g", 0, HistoryCursor::Latest, 10).err();
        let err = loaded.or(paged).or(history).unwrap();
        assert!(matches!(err, StorageError::Corrupt(_)), "{sql}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Receipts (schema version 3)
// ---------------------------------------------------------------------------------------------------------------

fn receipt_rec(message_id: &str, recipient: &str, seq: Option<u64>) -> ReceiptRec {
    ReceiptRec {
        message_id: message_id.to_owned(),
        recipient: addr(recipient),
        sender: addr("alice"),
        group: None,
        seq,
        delivered_at: None,
        read_at: None,
    }
}

fn read_receipt(ids: &[&str]) -> Receipt {
    Receipt {
        by: addr("bob"),
        state: ReceiptState::Read,
        message_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
        group: None,
    }
}

/// A file as the relay before receipts left it: migrations 1 and 2, with a row of each stream kind.
fn v2_file(path: &Path) -> Event {
    let event = v1_file(path);
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(MIGRATIONS[1]).unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    conn.execute_batch(
        "INSERT INTO group_messages (id, grp, number, sender, body, sent_at, client_msg_id, sender_seq)
             VALUES ('g1', 'g', 1, 'alice@home.example', 'hello all', 9, 'c-g1', 3);
         INSERT INTO stream (handle, seq, at, kind, group_message_ord) VALUES ('alice', 3, 9, 'group_message', 1);
         INSERT INTO stream (handle, seq, at, kind, group_message_ord) VALUES ('bob', 2, 9, 'group_message', 1);",
    )
    .unwrap();
    event
}

#[test]
fn a_v2_database_with_data_is_migrated_to_v3() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let event = v2_file(&path);
    assert_eq!(user_version(&path), 2);

    let mut s = open(&path);
    assert_eq!(user_version(&path), 3);
    // Every stream row of every kind is still there, and old messages did not ask for receipts.
    assert_eq!(
        s.stream_page(&addr("alice"), 0, u64::MAX, 10).unwrap(),
        vec![
            StreamItem { seq: 1, at: 7, body: ItemBody::Message { message: message("m1") } },
            StreamItem { seq: 2, at: 8, body: ItemBody::Event { event } },
            StreamItem { seq: 3, at: 9, body: ItemBody::GroupMessage { message: group_message("g1", "alice") } },
        ]
    );
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m1").unwrap(), Some((message("m1"), 1)));
    assert_eq!(s.find_group_client_msg(&addr("alice"), "c-g1").unwrap(), Some((group_message("g1", "alice"), 3)));

    // The migrated file takes receipts, and streams go on from where they were.
    let m2 = Message { receipts: true, ..message("m2") };
    s.apply(&Mutation::StoreMessage { message: m2.clone(), sender_seq: 4, recipient_seq: 3 }).unwrap();
    s.apply(&Mutation::PutReceipt(receipt_rec("m2", "bob", Some(3)))).unwrap();
    s.apply(&Mutation::AppendReceipt { handle: h("alice"), seq: 5, at: 10, receipt: read_receipt(&["m2"]) }).unwrap();
    s.commit().unwrap();
    drop(s);

    let mut s = open(&path);
    assert_eq!(user_version(&path), 3);
    assert_eq!(
        s.stream_page(&addr("alice"), 3, u64::MAX, 10).unwrap(),
        vec![
            StreamItem { seq: 4, at: 7, body: ItemBody::Message { message: m2 } },
            StreamItem { seq: 5, at: 10, body: ItemBody::Receipt { receipt: read_receipt(&["m2"]) } },
        ]
    );
    assert_eq!(s.undelivered_receipts(&addr("bob"), 0, 9, 9).unwrap(), vec![receipt_rec("m2", "bob", Some(3))]);

    // The migrated schema is the one a new file gets, with no trace of the rebuild.
    let migrated = schema(&s.conn);
    let fresh = SqliteStorage::open_in_memory(&relay()).unwrap();
    assert_eq!(migrated, schema(&fresh.conn));
    assert!(migrated.iter().all(|(_, name, _)| name != "stream_v3"));
    let check: String = s.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn receipts_survive_a_restart_and_uncommitted_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let delivered = ReceiptRec { delivered_at: Some(20), ..receipt_rec("m1", "bob", Some(1)) };
    {
        let mut s = open(&path);
        let m1 = Message { receipts: true, ..message("m1") };
        s.apply(&Mutation::StoreMessage { message: m1, sender_seq: 1, recipient_seq: 1 }).unwrap();
        s.apply(&Mutation::PutReceipt(receipt_rec("m1", "bob", Some(1)))).unwrap();
        s.commit().unwrap();
        s.apply(&Mutation::PutReceipt(delivered.clone())).unwrap();
        s.apply(&Mutation::AppendReceipt {
            handle: h("alice"),
            seq: 2,
            at: 20,
            receipt: Receipt { state: ReceiptState::Delivered, ..read_receipt(&["m1"]) },
        })
        .unwrap();
        s.commit().unwrap();
        // Lost with the connection, as in a crash.
        s.apply(&Mutation::PutReceipt(ReceiptRec { read_at: Some(30), ..delivered.clone() })).unwrap();
        s.apply(&Mutation::AppendReceipt { handle: h("alice"), seq: 3, at: 30, receipt: read_receipt(&["m1"]) })
            .unwrap();
    }
    let mut s = open(&path);
    assert_eq!(s.receipt("m1", &addr("bob")).unwrap(), Some(delivered.clone()));
    assert_eq!(s.message_receipts("m1", 9).unwrap(), vec![delivered]);
    assert_eq!(s.undelivered_receipts(&addr("bob"), 0, u64::MAX, 9).unwrap(), vec![]);
    let alice = s.stream_page(&addr("alice"), 0, u64::MAX, 9).unwrap();
    assert_eq!(alice.len(), 2);
    assert!(matches!(&alice[0].body, ItemBody::Message { message } if message.receipts));
    assert!(
        matches!(&alice[1].body, ItemBody::Receipt { receipt } if receipt.state == ReceiptState::Delivered),
        "{alice:?}"
    );
    assert_eq!(s.load().unwrap().heads, vec![(h("alice"), 2), (h("bob"), 1)]);
}

#[test]
fn acknowledging_reads_only_receipts_still_to_be_delivered() {
    // The ack query seeks the partial index: however many receipts were delivered before, it steps over none of them.
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let mut stmt_plan = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {}", super::RECEIPTS_UNDELIVERED)).unwrap();
    let plan: Vec<String> = stmt_plan
        .query_map(rusqlite::params!["bob@home.example", 0, 10, 5], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(stmt_plan);
    assert!(plan.iter().any(|step| step.contains("USING INDEX receipts_undelivered")), "{plan:?}");
    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{plan:?}");

    let steps = |s: &SqliteStorage| {
        let mut stmt = s.conn.prepare(super::RECEIPTS_UNDELIVERED).unwrap();
        let rows = stmt.query_map(rusqlite::params!["bob@home.example", 0, i64::MAX, 100], |r| r.get::<_, String>(0));
        assert_eq!(rows.unwrap().count(), 3);
        stmt.get_status(rusqlite::StatementStatus::VmStep)
    };
    for n in 1..=3u64 {
        s.apply(&Mutation::PutReceipt(receipt_rec(&format!("p{n}"), "bob", Some(10_000 + n)))).unwrap();
    }
    let pending_only = steps(&s);
    for n in 1..=2000u64 {
        let rec = receipt_rec(&format!("d{n}"), "bob", Some(n));
        s.apply(&Mutation::PutReceipt(ReceiptRec { delivered_at: Some(1), ..rec })).unwrap();
        // A blocker's record (no seq) is not in the index either.
        s.apply(&Mutation::PutReceipt(receipt_rec(&format!("d{n}"), "dave", None))).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(steps(&s), pending_only);
}

#[test]
fn a_receipt_row_holds_only_its_json() {
    let s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let insert = |kind: &str, message_ord: Option<i64>, event_json: Option<&str>, receipt_json: Option<&str>| {
        s.conn.execute(
            "INSERT INTO stream (handle, seq, at, kind, message_ord, event_json, receipt_json)
             VALUES ('alice', 1, 0, ?1, ?2, ?3, ?4)",
            rusqlite::params![kind, message_ord, event_json, receipt_json],
        )
    };
    for (kind, m, e, r) in [
        ("receipt", None, None, None),
        ("receipt", Some(1), None, Some("{}")),
        ("receipt", None, Some("{}"), Some("{}")),
        ("event", None, Some("{}"), Some("{}")),
        ("message", Some(1), None, Some("{}")),
    ] {
        assert!(insert(kind, m, e, r).is_err(), "{kind} {m:?} {e:?} {r:?}");
    }
    insert("receipt", None, None, Some("{}")).unwrap();
}

#[test]
fn unparsable_receipt_rows_are_corrupt() {
    for sql in [
        "UPDATE stream SET receipt_json = '{\"by\":\"bob@home.example\",\"state\":\"seen\",\"message_ids\":[]}'
         WHERE kind = 'receipt'",
        "UPDATE receipts SET recipient = 'Not An Address'",
        "UPDATE receipts SET sender = 'a@b@c'",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(&dir);
        let mut s = open(&path);
        s.apply(&Mutation::PutReceipt(receipt_rec("m1", "bob", Some(1)))).unwrap();
        s.apply(&Mutation::AppendReceipt { handle: h("alice"), seq: 1, at: 0, receipt: read_receipt(&["m1"]) })
            .unwrap();
        s.commit().unwrap();
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let paged = s.stream_page(&addr("alice"), 0, 10, 10).err();
        let one = s.receipt("m1", &addr("bob")).err();
        let all = s.message_receipts("m1", 10).err();
        let pending = s.undelivered_receipts(&addr("bob"), 0, 10, 10).err();
        let err = paged.or(one).or(all).or(pending).unwrap();
        assert!(matches!(err, StorageError::Corrupt(_)), "{sql}: {err:?}");
    }
}
