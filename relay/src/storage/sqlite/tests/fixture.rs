//! The migration to one room model, on a database the schema-3 relay wrote through its own protocol
//! (`relay/tests/fixtures/relay-v3.db`, see the README beside it). The file is read as it was — its tables, with
//! plain SQL — and then through today's storage after migrating: every account, handle, session, invite code, list
//! entry, request, deletion, block, group, member, invitation, message, stream item and receipt must be there, with
//! the same content, in today's shapes.

use std::collections::BTreeMap;

use huddle_shared::model::{DeletionState, InvitePolicy, RoomChange};
use huddle_shared::{Millis, SessionId};
use serde_json::Value;

use super::*;
use crate::storage::{HistoryCursor, Snapshot};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/relay-v3.db");

fn localhost() -> RelayName {
    RelayName::parse("localhost").unwrap()
}

fn a(raw: &str) -> Address {
    Address::parse(raw).unwrap()
}

/// A schema-3 group id as a room id.
fn group_room(group: &str) -> RoomId {
    RoomId::new(group, &localhost()).unwrap()
}

/// Every row of a query, each column as JSON (SQLite's types map onto it without loss for this schema).
fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |row| {
        (0..columns)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(n) => Value::from(n),
                    rusqlite::types::ValueRef::Real(x) => Value::from(x),
                    rusqlite::types::ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                    rusqlite::types::ValueRef::Blob(_) => Value::from("<blob>"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("{v} is not text")).to_owned()
}

fn opt_text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("{v} is not an integer"))
}

fn opt_int(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// One message as schema 3 stored it, with where it went.
struct OldMessage {
    id: String,
    /// The group, for a group message.
    group: Option<String>,
    sender: String,
    recipient: Option<String>,
    body: String,
    sent_at: Millis,
    client_msg_id: String,
    sender_seq: Option<i64>,
    receipts: bool,
}

/// What schema 3 held, read with SQL alone.
struct Old {
    tables: BTreeMap<&'static str, Vec<Vec<Value>>>,
    /// Direct messages in arrival order, then group messages in arrival order.
    messages: Vec<OldMessage>,
}

fn read_old(path: &Path) -> Old {
    let conn = Connection::open(path).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 3, "the fixture is a schema-3 database");
    let mut tables = BTreeMap::new();
    for (name, sql) in [
        ("accounts", "SELECT id, password_phc, created_at, disabled FROM accounts ORDER BY id"),
        (
            "handles",
            "SELECT handle, account, position, created_at, display_name, bio, activity, location, last_seen, acked, invite_policy FROM handles ORDER BY handle",
        ),
        ("retired", "SELECT handle FROM retired_handles ORDER BY handle"),
        ("sessions", "SELECT id, account, token_hash, device, created_at, last_used_at FROM sessions ORDER BY id"),
        ("invites", "SELECT code, created_at, used_by, revoked FROM invites ORDER BY code"),
        ("entries", "SELECT owner, peer, nickname, note, since, removed_you FROM entries ORDER BY owner, peer"),
        ("requests", "SELECT from_addr, to_addr, greeting, at FROM requests ORDER BY from_addr, to_addr"),
        ("deletions", "SELECT deleter, deleted, state, at FROM deletions ORDER BY deleter, deleted"),
        ("blocks", "SELECT owner, target, at FROM blocks ORDER BY owner, target"),
        ("groups", "SELECT id, title, owner, created_at, archived FROM groups ORDER BY id"),
        ("members", "SELECT grp, member, joined_at, since FROM group_members ORDER BY grp, member"),
        ("group_invites", "SELECT grp, invitee, by_addr, at FROM group_invites ORDER BY grp, invitee"),
        (
            "receipts",
            "SELECT message_id, recipient, sender, grp, seq, delivered_at, read_at FROM receipts ORDER BY message_id, recipient",
        ),
        // Each stream row with the id of the message it refers to, if any.
        (
            "stream",
            "SELECT s.handle, s.seq, s.at, s.kind, COALESCE(m.id, g.id), s.event_json, s.receipt_json
                    FROM stream s LEFT JOIN messages m ON m.ord = s.message_ord
                    LEFT JOIN group_messages g ON g.ord = s.group_message_ord ORDER BY s.handle, s.seq",
        ),
    ] {
        tables.insert(name, rows(&conn, sql));
    }
    let mut messages = Vec::new();
    for row in rows(&conn, "SELECT id, NULL, sender, recipient, body, sent_at, client_msg_id, sender_seq, receipts FROM messages ORDER BY ord")
        .into_iter()
        .chain(rows(&conn, "SELECT id, grp, sender, NULL, body, sent_at, client_msg_id, sender_seq, receipts FROM group_messages ORDER BY ord"))
    {
        messages.push(OldMessage {
            id: text(&row[0]),
            group: opt_text(&row[1]),
            sender: text(&row[2]),
            recipient: opt_text(&row[3]),
            body: text(&row[4]),
            sent_at: int(&row[5]),
            client_msg_id: text(&row[6]),
            sender_seq: opt_int(&row[7]),
            receipts: int(&row[8]) == 1,
        });
    }
    Old { tables, messages }
}

impl OldMessage {
    fn room(&self) -> RoomId {
        match (&self.group, &self.recipient) {
            (Some(group), _) => group_room(group),
            (None, Some(recipient)) => crate::ids::direct_room_id(&a(&self.sender), &a(recipient)),
            (None, None) => panic!("a direct message without a recipient"),
        }
    }

    /// The message as today's code must read it.
    fn as_message(&self) -> Message {
        Message {
            id: MessageId::new(self.id.clone()),
            room: self.room(),
            from: a(&self.sender),
            to: self.recipient.as_deref().map(a),
            body: self.body.clone(),
            sent_at: self.sent_at,
            client_msg_id: self.client_msg_id.clone(),
            receipts: self.receipts,
        }
    }
}

#[test]
fn the_schema_3_fixture_migrates_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.db");
    std::fs::copy(FIXTURE, &path).unwrap();
    let old = read_old(&path);
    let t = &old.tables;
    // The fixture has some of everything, or this test would prove little.
    for (table, at_least) in [
        ("accounts", 6),
        ("handles", 7),
        ("retired", 1),
        ("entries", 5),
        ("requests", 1),
        ("deletions", 2),
        ("blocks", 2),
        ("groups", 2),
        ("members", 2),
        ("group_invites", 1),
        ("receipts", 9),
        ("stream", 78),
    ] {
        assert!(t[table].len() >= at_least, "{table}: {}", t[table].len());
    }
    assert!(old.messages.len() >= 19);

    let mut s = SqliteStorage::open(&path, &localhost()).unwrap();
    assert_eq!(user_version(&path), super::super::migrations::latest());
    let snap: Snapshot = s.load().unwrap();

    // Accounts, handles, retired names, sessions, invite codes: as they were.
    let accounts: Vec<_> =
        snap.accounts.iter().map(|x| (x.id.clone(), x.password_phc.clone(), x.created_at, x.disabled)).collect();
    let old_accounts: Vec<_> =
        t["accounts"].iter().map(|r| (text(&r[0]), text(&r[1]), int(&r[2]), int(&r[3]) == 1)).collect();
    assert_eq!(accounts, old_accounts);
    assert!(snap.accounts.iter().any(|x| x.disabled), "the disabled account is still disabled");
    assert_eq!(snap.handles.len(), t["handles"].len());
    for (h, r) in snap.handles.iter().zip(&t["handles"]) {
        assert_eq!(h.handle.as_str(), text(&r[0]));
        assert_eq!((h.account.clone(), i64::from(h.position), h.created_at), (text(&r[1]), int(&r[2]), int(&r[3])));
        assert_eq!((h.profile.display_name.clone(), h.profile.bio.clone()), (opt_text(&r[4]), opt_text(&r[5])));
        assert_eq!(
            (h.activity.clone(), h.location.clone(), h.last_seen),
            (opt_text(&r[6]), opt_text(&r[7]), opt_int(&r[8]))
        );
        assert_eq!(h.acked as i64, int(&r[9]));
        let policy = match text(&r[10]).as_str() {
            "auto" => InvitePolicy::Auto,
            "ask" => InvitePolicy::Ask,
            _ => InvitePolicy::Refuse,
        };
        assert_eq!(h.invite_policy, policy);
    }
    assert_eq!(
        snap.retired.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        t["retired"].iter().map(|r| text(&r[0])).collect::<Vec<_>>()
    );
    let sessions: Vec<_> = snap
        .sessions
        .iter()
        .map(|x| {
            (x.id.clone(), x.account.clone(), x.token_hash.clone(), x.device.clone(), x.created_at, x.last_used_at)
        })
        .collect();
    let old_sessions: Vec<_> = t["sessions"]
        .iter()
        .map(|r| (SessionId::new(text(&r[0])), text(&r[1]), text(&r[2]), opt_text(&r[3]), int(&r[4]), int(&r[5])))
        .collect();
    assert_eq!(sessions, old_sessions);
    let invites: Vec<_> =
        snap.invites.iter().map(|x| (x.code.clone(), x.created_at, x.used_by.clone(), x.revoked)).collect();
    let old_invites: Vec<_> =
        t["invites"].iter().map(|r| (text(&r[0]), int(&r[1]), opt_text(&r[2]), int(&r[3]) == 1)).collect();
    assert_eq!(invites, old_invites);

    // Friend lists: entries with their private nickname and note, requests, every deletion state, blocks.
    let entries: Vec<_> = snap
        .entries
        .iter()
        .map(|e| (e.owner.to_string(), e.peer.to_string(), e.nickname.clone(), e.note.clone(), e.since, e.removed_you))
        .collect();
    let old_entries: Vec<_> = t["entries"]
        .iter()
        .map(|r| (text(&r[0]), text(&r[1]), opt_text(&r[2]), opt_text(&r[3]), int(&r[4]), int(&r[5]) == 1))
        .collect();
    assert_eq!(entries, old_entries);
    assert!(snap.entries.iter().any(|e| e.note.as_deref() == Some("met at the gym\nlikes tea")));
    let requests: Vec<_> =
        snap.requests.iter().map(|x| (x.from.to_string(), x.to.to_string(), x.greeting.clone(), x.at)).collect();
    let old_requests: Vec<_> =
        t["requests"].iter().map(|r| (text(&r[0]), text(&r[1]), opt_text(&r[2]), int(&r[3]))).collect();
    assert_eq!(requests, old_requests);
    let deletions: Vec<_> = snap
        .deletions
        .iter()
        .map(|x| (x.deleter.to_string(), x.deleted.to_string(), serde_json::to_value(x.state).unwrap(), x.at))
        .collect();
    let old_deletions: Vec<_> =
        t["deletions"].iter().map(|r| (text(&r[0]), text(&r[1]), r[2].clone(), int(&r[3]))).collect();
    assert_eq!(deletions, old_deletions);
    assert!(snap.deletions.iter().any(|d| d.state == DeletionState::Refused));
    let blocks: Vec<_> = snap.blocks.iter().map(|x| (x.owner.to_string(), x.target.to_string(), x.at)).collect();
    let old_blocks: Vec<_> = t["blocks"].iter().map(|r| (text(&r[0]), text(&r[1]), int(&r[2]))).collect();
    assert_eq!(blocks, old_blocks);

    // Groups are rooms of kind group, with their members (and when they joined) and pending invitations.
    for r in &t["groups"] {
        let id = group_room(&text(&r[0]));
        let room = snap.rooms.iter().find(|x| x.id == id).unwrap_or_else(|| panic!("group {id} is gone"));
        assert_eq!(room.kind, RoomKind::Group);
        assert_eq!(
            (room.title.clone(), room.owner.as_ref().map(ToString::to_string), room.created_at, room.ended),
            (opt_text(&r[1]), Some(text(&r[2])), int(&r[3]), int(&r[4]) == 1)
        );
    }
    let group_members: Vec<_> = snap
        .members
        .iter()
        .filter(|m| snap.rooms.iter().any(|x| x.id == m.room && x.kind == RoomKind::Group))
        .map(|m| (m.room.clone(), m.member.to_string(), m.joined_at, m.since as i64))
        .collect();
    let mut old_members: Vec<_> =
        t["members"].iter().map(|r| (group_room(&text(&r[0])), text(&r[1]), int(&r[2]), int(&r[3]))).collect();
    old_members.sort();
    let mut sorted = group_members.clone();
    sorted.sort();
    assert_eq!(sorted, old_members);
    let invites: Vec<_> =
        snap.room_invites.iter().map(|i| (i.room.clone(), i.invitee.to_string(), i.by.to_string(), i.at)).collect();
    let old_group_invites: Vec<_> =
        t["group_invites"].iter().map(|r| (group_room(&text(&r[0])), text(&r[1]), text(&r[2]), int(&r[3]))).collect();
    assert_eq!(invites, old_group_invites);

    // Every conversation became a direct room with both sides as members.
    for m in old.messages.iter().filter(|m| m.group.is_none()) {
        let room = m.room();
        assert!(snap.rooms.iter().any(|x| x.id == room && x.kind == RoomKind::Direct), "no direct room for {}", m.id);
        for side in [&m.sender, m.recipient.as_ref().unwrap()] {
            assert!(snap.members.iter().any(|x| x.room == room && x.member == a(side)), "{side} is not in {room}");
        }
    }

    // Every message reads the same in its room's history, in the order it was stored, and a resend of it is
    // still recognised with its sender's seq.
    let mut by_room: BTreeMap<RoomId, Vec<Message>> = BTreeMap::new();
    for m in &old.messages {
        by_room.entry(m.room()).or_default().push(m.as_message());
        if let Some(seq) = m.sender_seq {
            let found = s.find_client_msg(&a(&m.sender), &m.client_msg_id).unwrap();
            assert_eq!(found, Some((m.as_message(), seq as u64)), "the resend of {}", m.id);
        }
    }
    for (room, expected) in &by_room {
        let page = s.history(room, 0, HistoryCursor::Latest, 1000).unwrap().unwrap();
        assert_eq!(&page.messages, expected, "the history of {room}");
        let count = snap.room_counts.iter().find(|(r, _)| r == room).map(|(_, n)| *n);
        assert_eq!(count, Some(expected.len() as u64), "{room} counts its messages");
    }

    // Every stream item is where it was, with the same content in today's shapes.
    let heads: Vec<(String, u64)> = snap.heads.iter().map(|(h, n)| (h.to_string(), *n)).collect();
    let mut old_heads: BTreeMap<String, u64> = BTreeMap::new();
    for r in &t["stream"] {
        let head = old_heads.entry(text(&r[0])).or_default();
        *head = (*head).max(int(&r[1]) as u64);
    }
    assert_eq!(heads, old_heads.into_iter().collect::<Vec<_>>());
    let messages: BTreeMap<&str, &OldMessage> = old.messages.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut kinds = BTreeMap::new();
    for r in &t["stream"] {
        let (handle, seq, at, kind) = (text(&r[0]), int(&r[1]) as u64, int(&r[2]), text(&r[3]));
        *kinds.entry(kind.clone()).or_insert(0) += 1;
        let item = s.stream_page(&a(&handle), seq - 1, seq, 1).unwrap();
        assert_eq!(item.len(), 1, "{handle} {seq} is gone");
        let item = &item[0];
        assert_eq!((item.seq, item.at), (seq, at));
        match (kind.as_str(), &item.body) {
            ("message" | "group_message", ItemBody::Message { message }) => {
                assert_eq!(message, &messages[text(&r[4]).as_str()].as_message(), "{handle} {seq}");
            }
            ("event", ItemBody::Event { event }) => assert_same_event(&text(&r[5]), event),
            ("receipt", ItemBody::Receipt { receipt }) => {
                let old: Value = serde_json::from_str(&text(&r[6])).unwrap();
                assert_eq!(receipt.by, a(old["by"].as_str().unwrap()));
                assert_eq!(serde_json::to_value(receipt.state).unwrap(), old["state"]);
                assert_eq!(serde_json::to_value(&receipt.message_ids).unwrap(), old["message_ids"]);
                let room = match old["group"].as_str() {
                    Some(group) => group_room(group),
                    None => crate::ids::direct_room_id(&a(&format!("{handle}@localhost")), &receipt.by),
                };
                assert_eq!(receipt.room, room);
            }
            (kind, body) => panic!("{handle} {seq}: a {kind} row became {body:?}"),
        }
    }
    assert!(kinds.len() == 4, "the fixture has every kind of stream row: {kinds:?}");

    // Every receipt record, with its room.
    for r in &t["receipts"] {
        let (id, recipient) = (MessageId::new(text(&r[0])), a(&text(&r[1])));
        let record =
            s.receipt(&id, &recipient).unwrap().unwrap_or_else(|| panic!("the receipt of {id} for {recipient}"));
        let room = match opt_text(&r[3]) {
            Some(group) => group_room(&group),
            None => crate::ids::direct_room_id(&a(&text(&r[2])), &recipient),
        };
        assert_eq!(
            (record.sender.to_string(), record.room, record.seq.map(|n| n as i64), record.delivered_at, record.read_at),
            (text(&r[2]), room, opt_int(&r[4]), opt_int(&r[5]), opt_int(&r[6]))
        );
    }
    assert_same_schema_as_a_new_file(&s);

    // The migrated database runs: the relay loads it, and a member can write to their group where they left off.
    let group = t["members"].first().map(|r| group_room(&text(&r[0]))).unwrap();
    let next = snap.room_counts.iter().find(|(r, _)| *r == group).map_or(1, |(_, n)| n + 1);
    let author = snap.members.iter().find(|m| m.room == group).unwrap().member.clone();
    let head = snap.heads.iter().find(|(h, _)| *h == author.handle).map_or(0, |(_, n)| *n);
    let later = Message {
        id: MessageId::new("after-the-migration"),
        room: group.clone(),
        from: author.clone(),
        to: None,
        body: "still here".to_owned(),
        sent_at: 1,
        client_msg_id: "after-1".to_owned(),
        receipts: false,
    };
    s.apply(&Mutation::StoreMessage {
        message: later,
        number: next,
        deliveries: vec![(author.handle.clone(), head + 1)],
    })
    .unwrap();
    s.commit().unwrap();
    let relay_name = localhost();
    let config = crate::core::tests::test_config(huddle_shared::model::RegistrationPolicy::Open);
    let core = crate::core::Core::new(s, relay_name, config).unwrap();
    assert_eq!(core.state().room_counts[&group], next);
}

/// A stored protocol-1 event, as today's relay must read it: `group` events are `room` events naming the room.
fn assert_same_event(old_json: &str, event: &Event) {
    let old: Value = serde_json::from_str(old_json).unwrap();
    match old["event"].as_str().unwrap() {
        "group" => {
            let Event::Room { peer, room, change } = event else { panic!("{old_json} became {event:?}") };
            assert_eq!(peer, &a(old["peer"].as_str().unwrap()));
            assert_eq!(room, &group_room(old["group"].as_str().unwrap()));
            let change: RoomChange = change.clone();
            assert_eq!(serde_json::to_value(&change).unwrap(), old["change"], "{old_json}");
        }
        "group_invite" => {
            let Event::RoomInvite { peer, room, title } = event else { panic!("{old_json} became {event:?}") };
            assert_eq!(peer, &a(old["peer"].as_str().unwrap()));
            assert_eq!(room, &group_room(old["group"].as_str().unwrap()));
            assert_eq!(title.as_deref(), old["title"].as_str());
        }
        _ => assert_eq!(serde_json::to_value(event).unwrap(), old, "{old_json}"),
    }
}
