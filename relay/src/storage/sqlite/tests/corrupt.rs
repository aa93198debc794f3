//! A row that does not read as what it should be (changed by hand, or by a bug) is reported as corrupt data, never
//! taken for something else.

use super::*;
use crate::storage::{EntryRec, HandleRec, HistoryCursor, MemberRec, RoomInviteRec};

/// A file with one of everything, changed by `sql` behind the storage's back; the first error any read meets.
fn corrupt_with(sql: &str) -> StorageError {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut s = open(&path);
    let mut alice = HandleRec::new(h("alice"), "acc".to_owned(), 0, 0);
    alice.invite_policy = huddle_shared::model::InvitePolicy::Refuse;
    s.apply(&Mutation::PutHandle(alice)).unwrap();
    s.apply(&store_dm("m1", 1, 1)).unwrap();
    let entry =
        EntryRec { owner: addr("alice"), peer: addr("bob"), nickname: None, note: None, since: 0, removed_you: false };
    s.apply(&Mutation::PutEntry(entry)).unwrap();
    let g = RoomRec {
        id: room("g"),
        kind: RoomKind::Group,
        title: None,
        owner: Some(addr("alice")),
        created_at: 0,
        ended: false,
    };
    s.apply(&Mutation::PutRoom(g)).unwrap();
    s.apply(&Mutation::PutMember(MemberRec { room: room("g"), member: addr("alice"), joined_at: 0, since: 0 }))
        .unwrap();
    let invite = RoomInviteRec { room: room("g"), invitee: addr("bob"), by: addr("alice"), at: 0 };
    s.apply(&Mutation::PutRoomInvite(invite)).unwrap();
    s.apply(&store(group_message("g1", "alice"), 1, &[("alice", 2)])).unwrap();
    s.apply(&Mutation::PutReceipt(receipt_rec("m1", "bob", Some(1)))).unwrap();
    s.apply(&receipt_item(3, 0, read_receipt(&["m1"]))).unwrap();
    s.commit().unwrap();
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    let errors = [
        s.load().err(),
        s.stream_page(&addr("alice"), 0, 10, 10).err(),
        s.history(&dm("alice", "bob"), 0, HistoryCursor::Latest, 10).err(),
        s.history(&room("g"), 0, HistoryCursor::Latest, 10).err(),
        s.receipt(&mid("m1"), &addr("bob")).err(),
        s.message_receipts(&mid("m1"), 10).err(),
        s.undelivered_receipts(&addr("bob"), 0, 10, 10).err(),
    ];
    errors.into_iter().flatten().next().unwrap_or_else(|| panic!("{sql}: every read succeeded"))
}

#[test]
fn unparsable_rows_are_corrupt() {
    for sql in [
        "UPDATE entries SET peer = 'Not An Address'",
        "UPDATE messages SET sender = 'a@b@c'",
        "UPDATE messages SET room = 'no relay' WHERE id = 'm1'",
        "UPDATE messages SET recipient = '' WHERE recipient IS NOT NULL",
        "UPDATE stream SET kind = 'event', message_ord = NULL, body_json = '{\"event\":\"nope\"}' WHERE seq = 1",
        "UPDATE stream SET kind = 'event', message_ord = NULL, body_json = '{\"event\":' WHERE seq = 1",
        "PRAGMA ignore_check_constraints = ON; UPDATE stream SET kind = 'other' WHERE handle = 'alice'",
        "DELETE FROM messages",
        "INSERT INTO deletions VALUES ('alice@home.example', 'bob@home.example', 'sideways', 0)",
        "INSERT INTO retired_handles VALUES ('x')",
        "UPDATE handles SET invite_policy = 'sometimes'",
        "UPDATE rooms SET owner = 'Not An Address'",
        "UPDATE rooms SET kind = 'party'",
        "UPDATE rooms SET id = 'g'",
        "UPDATE room_members SET member = 'a@b@c'",
        "UPDATE room_invites SET by_addr = ''",
        "UPDATE stream SET body_json = '{\"by\":\"bob@home.example\",\"state\":\"seen\"}' WHERE kind = 'receipt'",
        "UPDATE receipts SET recipient = 'Not An Address'",
        "UPDATE receipts SET room = 'nowhere'",
    ] {
        let err = corrupt_with(sql);
        assert!(matches!(err, StorageError::Corrupt(_)), "{sql}: {err:?}");
    }
}
