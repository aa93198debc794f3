//! The file itself: pragmas, the data directory, durability across reopen, other connections, the relay-name guard,
//! and a failed batch that is never committed.

use super::*;
use crate::storage::HistoryCursor;

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
        s.apply(&store_dm("m1", 1, 1)).unwrap();
        s.commit().unwrap();
        s.apply(&Mutation::PutAccount(account("lost"))).unwrap();
        s.apply(&store_dm("m2", 2, 2)).unwrap();
        // Visible to this connection, but never committed: dropping the connection discards it, as a crash would.
        assert_eq!(s.load().unwrap().accounts.len(), 2);
    }
    let mut s = open(&path);
    let snap = s.load().unwrap();
    assert_eq!(snap.accounts, vec![account("committed")]);
    assert_eq!(snap.heads, vec![(h("alice"), 1), (h("bob"), 1)]);
    assert_eq!(snap.room_counts, vec![(dm("alice", "bob"), 1)]);
    let page = s.stream_page(&addr("bob"), 0, u64::MAX, 10).unwrap();
    assert_eq!(page, vec![StreamItem { seq: 1, at: 7, body: ItemBody::Message { message: message("m1") } }]);
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m2").unwrap(), None);
    // The next batch may reuse the seqs and the number of the lost one.
    s.apply(&store_dm("m2", 2, 2)).unwrap();
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
fn a_failed_batch_is_never_committed_and_the_last_commit_is_what_remains() {
    // The core stops the relay on a storage error and never commits the batch; what the next start finds is the last
    // commit, whole, and nothing of the failed batch.
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let mut s = open(&path);
        s.apply(&Mutation::PutAccount(account("a"))).unwrap();
        s.apply(&store(group_message("g1", "alice"), 1, &[("alice", 1), ("bob", 1)])).unwrap();
        s.commit().unwrap();
        s.apply(&Mutation::PutAccount(account("b"))).unwrap();
        // The message row and alice's copy go in, then bob's seq 1 is taken: the mutation fails half done.
        let err = s.apply(&store(group_message("g2", "alice"), 2, &[("alice", 2), ("carol", 1), ("bob", 1)]));
        assert!(matches!(err, Err(StorageError::Sqlite(_))), "{err:?}");
    }
    let mut s = open(&path);
    assert_eq!(s.load().unwrap().accounts, vec![account("a")]);
    assert_eq!(s.find_client_msg(&addr("alice"), "c-g2").unwrap(), None);
    assert_eq!(s.stream_page(&addr("alice"), 0, 10, 10).unwrap().len(), 1);
    assert_eq!(s.stream_page(&addr("carol"), 0, 10, 10).unwrap(), vec![]);
    let page = s.history(&room("g"), 0, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(page.messages, vec![group_message("g1", "alice")]);
}

#[test]
fn duplicate_ids_keys_numbers_and_seqs_are_refused() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    s.apply(&store_dm("m1", 1, 1)).unwrap();
    // The same message id, even in another room.
    let same_id = Message { client_msg_id: "other".to_owned(), ..group_message("m1", "carol") };
    assert!(s.apply(&store(same_id, 1, &[("carol", 1)])).is_err());
    // The same sender's key, in any room: one key space per sender.
    let same_key = Message { id: mid("g9"), client_msg_id: "c-m1".to_owned(), ..group_message("g9", "alice") };
    assert!(s.apply(&store(same_key, 1, &[("alice", 2)])).is_err());
    // The same number in the same room.
    assert!(s.apply(&store(message("m2"), 1, &[("alice", 3)])).is_err());
    // A stream seq that is taken.
    let event = Event::RequestCancelled { peer: addr("x1") };
    let item = StreamItem { seq: 1, at: 0, body: ItemBody::Event { event } };
    assert!(s.apply(&Mutation::AppendItem { handle: h("bob"), item }).is_err());
    // Numbers are per room: number 1 of another room is fine.
    s.apply(&store(group_message("g1", "carol"), 1, &[("carol", 1)])).unwrap();
}

#[test]
fn seqs_beyond_i64_are_refused_rather_than_wrapped() {
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let err = s.apply(&store(message("m1"), 1, &[("alice", u64::MAX), ("bob", 1)]));
    assert!(err.is_err());
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m1").unwrap(), None);
}

#[test]
fn a_stream_row_holds_exactly_one_reference_or_body() {
    let s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let insert = |kind: &str, message_ord: Option<i64>, body_json: Option<&str>| {
        s.conn.execute(
            "INSERT INTO stream (handle, seq, at, kind, message_ord, body_json) VALUES ('alice', 1, 0, ?1, ?2, ?3)",
            rusqlite::params![kind, message_ord, body_json],
        )
    };
    for (kind, m, b) in [
        ("message", None, None),
        ("message", Some(1), Some("{}")),
        ("event", Some(1), Some("{}")),
        ("event", None, None),
        ("receipt", Some(1), None),
        ("group_message", Some(1), None),
        ("other", None, Some("{}")),
    ] {
        assert!(insert(kind, m, b).is_err(), "{kind} {m:?} {b:?}");
    }
    for (kind, m, b) in [("message", Some(1), None), ("event", None, Some("{}")), ("receipt", None, Some("{}"))] {
        insert(kind, m, b).unwrap();
        s.conn.execute("DELETE FROM stream", []).unwrap();
    }
}

#[test]
fn receipts_survive_a_restart_and_uncommitted_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let delivered = ReceiptRec { delivered_at: Some(20), ..receipt_rec("m1", "bob", Some(1)) };
    {
        let mut s = open(&path);
        let m1 = Message { receipts: true, ..message("m1") };
        s.apply(&store(m1, 1, &[("alice", 1), ("bob", 1)])).unwrap();
        s.apply(&Mutation::PutReceipt(receipt_rec("m1", "bob", Some(1)))).unwrap();
        s.commit().unwrap();
        s.apply(&Mutation::PutReceipt(delivered.clone())).unwrap();
        s.apply(&receipt_item(2, 20, Receipt { state: ReceiptState::Delivered, ..read_receipt(&["m1"]) })).unwrap();
        s.commit().unwrap();
        // Lost with the connection, as in a crash.
        s.apply(&Mutation::PutReceipt(ReceiptRec { read_at: Some(30), ..delivered.clone() })).unwrap();
        s.apply(&receipt_item(3, 30, read_receipt(&["m1"]))).unwrap();
    }
    let mut s = open(&path);
    assert_eq!(s.receipt(&mid("m1"), &addr("bob")).unwrap(), Some(delivered.clone()));
    assert_eq!(s.message_receipts(&mid("m1"), 9).unwrap(), vec![delivered]);
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
fn rooms_and_members_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let g = RoomRec {
        id: room("g"),
        kind: RoomKind::Group,
        title: Some("crew".to_owned()),
        owner: Some(addr("alice")),
        created_at: 3,
        ended: false,
    };
    let member = crate::storage::MemberRec { room: room("g"), member: addr("bob"), joined_at: 4, since: 2 };
    {
        let mut s = open(&path);
        s.apply(&Mutation::PutRoom(g.clone())).unwrap();
        s.apply(&Mutation::PutMember(member.clone())).unwrap();
        s.apply(&store(group_message("g1", "alice"), 1, &[("alice", 1)])).unwrap();
        s.commit().unwrap();
    }
    let snap = open(&path).load().unwrap();
    assert_eq!((snap.rooms, snap.members, snap.room_counts), (vec![g], vec![member], vec![(room("g"), 1)]));
}
