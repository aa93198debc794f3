//! Schema versions: each step runs once, a newer file is refused, and a file of every earlier version arrives at the
//! latest schema with its data — read through today's code, in today's shapes.

use huddle_shared::model::{InvitePolicy, RoomChange};

use super::super::migrations::{MIGRATIONS, Step, latest};
use super::*;
use crate::storage::HistoryCursor;

/// The SQL of one of the first (plain SQL) steps.
fn sql(step: usize) -> &'static str {
    match MIGRATIONS[step] {
        Step::Sql(sql) => sql,
        Step::Code(_) => panic!("step {} needs code", step + 1),
    }
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

/// A file as the relay before group rooms left it: migration 1 only, with the data its code wrote: alice's message
/// m1 to bob (her seq 1, his seq 1) and an event in her stream (seq 2).
fn v1_file(path: &Path) -> Event {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(sql(0)).unwrap();
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
    assert_eq!(snap.heads, vec![(h("alice"), 2), (h("bob"), 1)]);
    // The conversation became a direct room, with both as members and one message.
    let direct = dm("alice", "bob");
    assert_eq!(
        snap.rooms,
        vec![RoomRec {
            id: direct.clone(),
            kind: RoomKind::Direct,
            title: None,
            owner: None,
            created_at: 7,
            ended: false
        }]
    );
    assert_eq!(snap.members.iter().map(|m| m.member.handle.as_str()).collect::<Vec<_>>(), vec!["alice", "bob"]);
    assert_eq!(snap.room_counts, vec![(direct.clone(), 1)]);
    // Every stream row is still there, in today's shapes.
    assert_eq!(
        s.stream_page(&addr("alice"), 0, u64::MAX, 10).unwrap(),
        vec![
            StreamItem { seq: 1, at: 7, body: ItemBody::Message { message: message("m1") } },
            StreamItem { seq: 2, at: 8, body: ItemBody::Event { event } },
        ]
    );
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m1").unwrap(), Some((message("m1"), 1)));
    let page = s.history(&direct, 0, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(page.messages, vec![message("m1")]);

    // The migrated file takes new data, and streams and numbering go on from where they were.
    s.apply(&store(message("m2"), 2, &[("alice", 3), ("bob", 2)])).unwrap();
    s.commit().unwrap();
    drop(s);
    let mut s = open(&path);
    assert_eq!(user_version(&path), latest());
    assert_eq!(ids_of(&s.history(&direct, 0, HistoryCursor::Latest, 10).unwrap().unwrap()), vec!["m1", "m2"]);
    assert_same_schema_as_a_new_file(&s);
}

fn ids_of(page: &crate::storage::HistoryPage) -> Vec<&str> {
    page.messages.iter().map(|m| m.id.as_str()).collect()
}

/// A file as the relay before receipts left it: migrations 1 and 2, a group "g" of alice and bob, alice's group
/// message g1 in both streams, and her invitation of carol. Its group id has no relay name yet.
fn v2_file(path: &Path) -> Event {
    let event = v1_file(path);
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(sql(1)).unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    conn.execute_batch(
        "INSERT INTO groups VALUES ('g', 'crew', 'alice@home.example', 6, 0, 1);
         INSERT INTO group_members VALUES ('g', 'alice@home.example', 6, 0);
         INSERT INTO group_members VALUES ('g', 'bob@home.example', 6, 0);
         INSERT INTO group_invites VALUES ('g', 'carol@home.example', 'alice@home.example', 6);
         INSERT INTO group_messages (id, grp, number, sender, body, sent_at, client_msg_id, sender_seq)
             VALUES ('g1', 'g', 1, 'alice@home.example', 'hello all', 9, 'c-g1', 3);
         INSERT INTO stream (handle, seq, at, kind, group_message_ord) VALUES ('alice', 3, 9, 'group_message', 1);
         INSERT INTO stream (handle, seq, at, kind, group_message_ord) VALUES ('bob', 2, 9, 'group_message', 1);
         INSERT INTO stream (handle, seq, at, kind, event_json) VALUES ('bob', 3, 10, 'event',
             '{\"event\":\"group\",\"peer\":\"alice@home.example\",\"group\":\"g\",\"change\":{\"change\":\"renamed\",\"title\":\"crew\"}}');",
    )
    .unwrap();
    event
}

#[test]
fn a_v2_database_with_groups_is_migrated_to_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let event = v2_file(&path);
    let mut s = open(&path);
    assert_eq!(user_version(&path), latest());
    let snap = s.load().unwrap();
    let group = RoomRec {
        id: room("g"),
        kind: RoomKind::Group,
        title: Some("crew".to_owned()),
        owner: Some(addr("alice")),
        created_at: 6,
        ended: false,
    };
    assert!(snap.rooms.contains(&group), "{:?}", snap.rooms);
    assert_eq!(snap.room_invites.len(), 1);
    assert_eq!(snap.room_invites[0].room, room("g"));
    assert_eq!(snap.members.iter().filter(|m| m.room == room("g")).count(), 2);
    assert_eq!(
        s.stream_page(&addr("alice"), 0, u64::MAX, 10).unwrap(),
        vec![
            StreamItem { seq: 1, at: 7, body: ItemBody::Message { message: message("m1") } },
            StreamItem { seq: 2, at: 8, body: ItemBody::Event { event } },
            StreamItem { seq: 3, at: 9, body: ItemBody::Message { message: group_message("g1", "alice") } },
        ]
    );
    // The group's log lines became room events naming the room.
    let renamed = Event::Room {
        peer: addr("alice"),
        room: room("g"),
        change: RoomChange::Renamed { title: Some("crew".to_owned()) },
    };
    assert_eq!(
        s.stream_page(&addr("bob"), 1, u64::MAX, 10).unwrap(),
        vec![
            StreamItem { seq: 2, at: 9, body: ItemBody::Message { message: group_message("g1", "alice") } },
            StreamItem { seq: 3, at: 10, body: ItemBody::Event { event: renamed } },
        ]
    );
    assert_eq!(s.find_client_msg(&addr("alice"), "c-g1").unwrap(), Some((group_message("g1", "alice"), 3)));
    assert_same_schema_as_a_new_file(&s);
}

/// Schema 3 kept direct and group messages apart, each with its own idempotency keys; now a sender has one key space.
/// A handle that used one key for both keeps both messages: the group message's key gets a suffix.
#[test]
fn a_key_used_for_a_direct_and_a_group_message_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    v2_file(&path);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(sql(2)).unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.execute_batch(
        "INSERT INTO group_messages (id, grp, number, sender, body, sent_at, client_msg_id, sender_seq, receipts)
             VALUES ('g2', 'g', 2, 'alice@home.example', 'same key', 11, 'c-m1', 4, 1);
         INSERT INTO stream (handle, seq, at, kind, group_message_ord) VALUES ('alice', 4, 11, 'group_message', 2);
         INSERT INTO receipts VALUES ('g2', 'bob@home.example', 'alice@home.example', 'g', NULL, NULL, NULL);
         INSERT INTO receipts VALUES ('m1', 'bob@home.example', 'alice@home.example', NULL, 1, 12, NULL);
         INSERT INTO stream (handle, seq, at, kind, receipt_json) VALUES ('alice', 5, 12, 'receipt',
             '{\"by\":\"bob@home.example\",\"state\":\"delivered\",\"message_ids\":[\"m1\"]}');",
    )
    .unwrap();
    drop(conn);
    let mut s = open(&path);
    assert_eq!(s.find_client_msg(&addr("alice"), "c-m1").unwrap(), Some((message("m1"), 1)));
    let (g2, seq) = s.find_client_msg(&addr("alice"), "c-m1~group").unwrap().unwrap();
    assert_eq!((g2.id.as_str(), g2.room.clone(), g2.receipts, seq), ("g2", room("g"), true, 4));
    // Receipt records and reports name their room: the group's, or the direct room of sender and recipient.
    assert_eq!(s.receipt(&mid("g2"), &addr("bob")).unwrap().map(|r| r.room), Some(room("g")));
    assert_eq!(
        s.receipt(&mid("m1"), &addr("bob")).unwrap().map(|r| (r.room, r.delivered_at)),
        Some((dm("alice", "bob"), Some(12)))
    );
    let report = s.stream_page(&addr("alice"), 4, 5, 1).unwrap();
    assert_eq!(
        report,
        vec![StreamItem {
            seq: 5,
            at: 12,
            body: ItemBody::Receipt {
                receipt: Receipt {
                    by: addr("bob"),
                    state: ReceiptState::Delivered,
                    message_ids: vec![mid("m1")],
                    room: dm("alice", "bob")
                }
            }
        }]
    );
    assert_same_schema_as_a_new_file(&s);
}

/// A stream row whose message is gone cannot be carried over: the step refuses rather than leave a gap in a stream.
#[test]
fn a_migration_that_would_lose_a_row_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    v2_file(&path);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(sql(2)).unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.execute_batch("INSERT INTO stream (handle, seq, at, kind, message_ord) VALUES ('bob', 9, 1, 'message', 77);")
        .unwrap();
    drop(conn);
    match SqliteStorage::open(&path, &relay()) {
        Err(StorageError::Corrupt(why)) => assert!(why.contains("would lose data"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(user_version(&path), 3, "the step's transaction was rolled back");
}

#[test]
fn schema_5_learns_who_left_each_group_from_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let g = room("g-1");
    let event = |seq: u64, peer: &str, change: RoomChange| Mutation::AppendItem {
        handle: h("alice"),
        item: StreamItem {
            seq,
            at: 10,
            body: ItemBody::Event { event: Event::Room { peer: addr(peer), room: g.clone(), change } },
        },
    };
    {
        let mut s = open(&path);
        s.apply(&Mutation::PutRoom(RoomRec {
            id: g.clone(),
            kind: RoomKind::Group,
            title: None,
            owner: Some(addr("alice")),
            created_at: 1,
            ended: false,
        }))
        .unwrap();
        for member in ["alice", "dave"] {
            s.apply(&Mutation::PutMember(crate::storage::MemberRec {
                room: g.clone(),
                member: addr(member),
                joined_at: 1,
                since: 0,
            }))
            .unwrap();
        }
        s.apply(&event(1, "bob", RoomChange::Left)).unwrap();
        s.apply(&event(2, "alice", RoomChange::Removed { who: addr("carol") })).unwrap();
        // dave left and came back: he is a member, not a former one.
        s.apply(&event(3, "dave", RoomChange::Left)).unwrap();
        s.commit().unwrap();
    }
    // The file as schema 4 left it.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE room_former; DROP TABLE topics; DROP TABLE subscriptions; DROP TABLE huddles; \
         DROP TABLE huddle_settings; DROP TABLE huddle_windows;",
    )
    .unwrap();
    conn.pragma_update(None, "user_version", 4).unwrap();
    drop(conn);

    let mut s = open(&path);
    assert_eq!(user_version(&path), latest());
    assert_eq!(s.load().unwrap().former, vec![(g.clone(), addr("bob")), (g, addr("carol"))]);
    assert_same_schema_as_a_new_file(&s);
}
