//! Differential property test: random valid mutation sequences applied to the in-memory reference and to SQLite side
//! by side, and every read compared between the two.

use huddle_shared::model::{DeletionState, Event, InvitePolicy, ItemBody, Receipt, ReceiptState, RoomKind, StreamItem};
use huddle_shared::{MessageId, RoomId};
use proptest::prelude::*;

use super::conformance::{addr, dm, handle, handle_rec, load, message, relay, room, room_message};
use super::{
    BlockRec, DeletionRec, EntryRec, HistoryCursor, MemberRec, MemoryStorage, Mutation, ReceiptRec, RoomInviteRec,
    RoomRec, SqliteStorage, Storage,
};

const NAMES: [&str; 4] = ["alice", "bob", "carol", "zed@far.example"];
const GROUPS: [&str; 2] = ["g0", "g1@far.example"];
const POLICIES: [InvitePolicy; 3] = [InvitePolicy::Auto, InvitePolicy::Ask, InvitePolicy::Refuse];

#[derive(Debug, Clone)]
enum Op {
    Entry {
        owner: usize,
        peer: usize,
        nickname: Option<u8>,
    },
    DeleteEntry {
        owner: usize,
        peer: usize,
    },
    Block {
        owner: usize,
        target: usize,
        at: i64,
    },
    DeleteBlock {
        owner: usize,
        target: usize,
    },
    Deletion {
        deleter: usize,
        deleted: usize,
        state: usize,
    },
    /// An acknowledgement: the handle's position alone.
    Ack {
        who: usize,
        acked: u64,
    },
    Handle {
        who: usize,
        acked: u64,
    },
    /// A direct message, in the direct room of the two.
    Message {
        from: usize,
        to: usize,
    },
    Event {
        who: usize,
        about: usize,
    },
    Remove {
        who: usize,
    },
    Room {
        group: usize,
        owner: usize,
        ended: bool,
    },
    Member {
        group: usize,
        who: usize,
        since: u64,
    },
    DeleteMember {
        group: usize,
        who: usize,
    },
    Invite {
        group: usize,
        invitee: usize,
        by: usize,
    },
    DeleteInvite {
        group: usize,
        invitee: usize,
    },
    /// A message to `group` from `from`, delivered to the local handles whose bit is set in `to`.
    RoomMessage {
        group: usize,
        from: usize,
        to: u8,
    },
    Policy {
        who: usize,
        policy: usize,
    },
    /// Upserts the receipt of the `message`-th message made so far for `recipient`.
    Receipt {
        message: usize,
        recipient: usize,
        seq: Option<u8>,
        delivered: bool,
        read: bool,
    },
    /// Appends a receipt report to a local handle's stream.
    ReceiptItem {
        who: usize,
        by: usize,
        read: bool,
        group: bool,
    },
    Commit,
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..NAMES.len();
    let local = 0..NAMES.len() - 1;
    let group = 0..GROUPS.len();
    prop_oneof![
        1 => (who.clone(), who.clone(), proptest::option::of(any::<u8>()))
            .prop_map(|(owner, peer, nickname)| Op::Entry { owner, peer, nickname }),
        1 => (who.clone(), who.clone()).prop_map(|(owner, peer)| Op::DeleteEntry { owner, peer }),
        1 => (who.clone(), who.clone(), -5i64..5).prop_map(|(owner, target, at)| Op::Block { owner, target, at }),
        1 => (who.clone(), who.clone()).prop_map(|(owner, target)| Op::DeleteBlock { owner, target }),
        1 => (who.clone(), who.clone(), 0..4usize)
            .prop_map(|(deleter, deleted, state)| Op::Deletion { deleter, deleted, state }),
        1 => (local.clone(), any::<u64>()).prop_map(|(who, acked)| Op::Handle { who, acked: acked >> 1 }),
        2 => (local.clone(), any::<u64>()).prop_map(|(who, acked)| Op::Ack { who, acked: acked >> 1 }),
        4 => (local.clone(), who.clone()).prop_map(|(from, to)| Op::Message { from, to }),
        1 => (local.clone(), who.clone()).prop_map(|(who, about)| Op::Event { who, about }),
        1 => local.clone().prop_map(|who| Op::Remove { who }),
        1 => (group.clone(), who.clone(), any::<bool>()).prop_map(|(group, owner, ended)| Op::Room { group, owner, ended }),
        1 => (group.clone(), who.clone(), 0..6u64).prop_map(|(group, who, since)| Op::Member { group, who, since }),
        1 => (group.clone(), who.clone()).prop_map(|(group, who)| Op::DeleteMember { group, who }),
        1 => (group.clone(), who.clone(), who.clone()).prop_map(|(group, invitee, by)| Op::Invite { group, invitee, by }),
        1 => (group.clone(), who.clone()).prop_map(|(group, invitee)| Op::DeleteInvite { group, invitee }),
        4 => (group, who.clone(), 0..8u8).prop_map(|(group, from, to)| Op::RoomMessage { group, from, to }),
        1 => (local.clone(), 0..POLICIES.len()).prop_map(|(who, policy)| Op::Policy { who, policy }),
        3 => (any::<usize>(), who.clone(), proptest::option::of(0..8u8), any::<bool>(), any::<bool>())
            .prop_map(|(message, recipient, seq, delivered, read)| Op::Receipt { message, recipient, seq, delivered, read }),
        1 => (local, who, any::<bool>(), any::<bool>()).prop_map(|(who, by, read, group)| Op::ReceiptItem { who, by, read, group }),
        1 => Just(Op::Commit),
    ]
}

/// Turns ops into valid mutations: fresh message ids, stream seqs counting up per handle, each room numbering its
/// messages 1, 2, ... as the core does, each name removed once.
fn mutations(ops: &[Op]) -> Vec<Option<Mutation>> {
    let mut heads = [0u64; NAMES.len()];
    let mut removed = [false; NAMES.len()];
    let mut numbers: std::collections::HashMap<RoomId, u64> = std::collections::HashMap::new();
    let mut next_seq = |who: usize| {
        heads[who] += 1;
        heads[who]
    };
    let mut number = |room: &RoomId| {
        let n = numbers.entry(room.clone()).or_default();
        *n += 1;
        *n
    };
    let states = [DeletionState::Deleted, DeletionState::Notified, DeletionState::Requested, DeletionState::Refused];
    // The messages made so far, for receipts to refer to: (id, room, sender).
    let mut made: Vec<(MessageId, RoomId, usize)> = Vec::new();
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            Some(match *op {
                Op::Entry { owner, peer, nickname } => Mutation::PutEntry(EntryRec {
                    owner: addr(NAMES[owner]),
                    peer: addr(NAMES[peer]),
                    nickname: nickname.map(|n| n.to_string()),
                    note: None,
                    since: i as i64,
                    removed_you: nickname.is_some_and(|n| n % 2 == 0),
                }),
                Op::DeleteEntry { owner, peer } => {
                    Mutation::DeleteEntry { owner: addr(NAMES[owner]), peer: addr(NAMES[peer]) }
                }
                Op::Block { owner, target, at } => {
                    Mutation::PutBlock(BlockRec { owner: addr(NAMES[owner]), target: addr(NAMES[target]), at })
                }
                Op::DeleteBlock { owner, target } => {
                    Mutation::DeleteBlock { owner: addr(NAMES[owner]), target: addr(NAMES[target]) }
                }
                Op::Deletion { deleter, deleted, state } => Mutation::PutDeletion(DeletionRec {
                    deleter: addr(NAMES[deleter]),
                    deleted: addr(NAMES[deleted]),
                    state: states[state],
                    at: i as i64,
                }),
                Op::Ack { who, acked } => Mutation::SetAcked { handle: handle(NAMES[who]), acked },
                Op::Handle { who, acked } => Mutation::PutHandle(crate::storage::HandleRec {
                    acked,
                    ..handle_rec(NAMES[who], "acc", who as u32)
                }),
                Op::Message { from, to } => {
                    let m = message(&format!("m{i}"), NAMES[from], NAMES[to], i as i64);
                    made.push((m.id.clone(), m.room.clone(), from));
                    let mut deliveries = vec![(handle(NAMES[from]), next_seq(from))];
                    if to != NAMES.len() - 1 && to != from {
                        deliveries.push((handle(NAMES[to]), next_seq(to)));
                    }
                    let number = number(&m.room);
                    Mutation::StoreMessage { message: m, number, deliveries }
                }
                Op::Event { who, about } => Mutation::AppendItem {
                    handle: handle(NAMES[who]),
                    item: StreamItem {
                        seq: next_seq(who),
                        at: i as i64,
                        body: ItemBody::Event { event: Event::HandleRemoved { peer: addr(NAMES[about]) } },
                    },
                },
                Op::Remove { who } => {
                    if std::mem::replace(&mut removed[who], true) {
                        return None;
                    }
                    Mutation::RemoveHandle(handle(NAMES[who]))
                }
                Op::Room { group, owner, ended } => Mutation::PutRoom(RoomRec {
                    id: room(GROUPS[group]),
                    kind: RoomKind::Group,
                    title: ended.then(|| format!("title {i}")),
                    owner: Some(addr(NAMES[owner])),
                    created_at: i as i64,
                    ended,
                }),
                Op::Member { group, who, since } => Mutation::PutMember(MemberRec {
                    room: room(GROUPS[group]),
                    member: addr(NAMES[who]),
                    joined_at: i as i64,
                    since,
                }),
                Op::DeleteMember { group, who } => {
                    Mutation::DeleteMember { room: room(GROUPS[group]), member: addr(NAMES[who]) }
                }
                Op::Invite { group, invitee, by } => Mutation::PutRoomInvite(RoomInviteRec {
                    room: room(GROUPS[group]),
                    invitee: addr(NAMES[invitee]),
                    by: addr(NAMES[by]),
                    at: i as i64,
                }),
                Op::DeleteInvite { group, invitee } => {
                    Mutation::DeleteRoomInvite { room: room(GROUPS[group]), invitee: addr(NAMES[invitee]) }
                }
                Op::RoomMessage { group, from, to } => {
                    let m = room_message(&format!("gm{i}"), GROUPS[group], NAMES[from], i as i64);
                    made.push((m.id.clone(), m.room.clone(), from));
                    // Local handles only (the last name is remote), the sender's copy wherever its bit says.
                    let deliveries = (0..NAMES.len() - 1)
                        .filter(|&who| to & (1 << who) != 0)
                        .map(|who| (handle(NAMES[who]), next_seq(who)))
                        .collect();
                    let number = number(&m.room);
                    Mutation::StoreMessage { message: m, number, deliveries }
                }
                Op::Policy { who, policy } => Mutation::PutHandle(crate::storage::HandleRec {
                    invite_policy: POLICIES[policy],
                    ..handle_rec(NAMES[who], "acc", who as u32)
                }),
                Op::Receipt { message, recipient, seq, delivered, read } => {
                    let (id, room, from) = made.get(message % made.len().max(1))?;
                    Mutation::PutReceipt(ReceiptRec {
                        message_id: id.clone(),
                        recipient: addr(NAMES[recipient]),
                        sender: addr(NAMES[*from]),
                        room: room.clone(),
                        seq: seq.map(u64::from),
                        delivered_at: (delivered || read).then_some(i as i64),
                        read_at: read.then_some(i as i64),
                    })
                }
                Op::ReceiptItem { who, by, read, group } => Mutation::AppendItem {
                    handle: handle(NAMES[who]),
                    item: StreamItem {
                        seq: next_seq(who),
                        at: i as i64,
                        body: ItemBody::Receipt {
                            receipt: Receipt {
                                by: addr(NAMES[by]),
                                state: if read { ReceiptState::Read } else { ReceiptState::Delivered },
                                message_ids: made.iter().rev().take(3).map(|(id, _, _)| id.clone()).collect(),
                                room: if group { room(GROUPS[0]) } else { dm(NAMES[who], NAMES[by]) },
                            },
                        },
                    },
                },
                Op::Commit => return None,
            })
        })
        .collect()
}

fn compare(mem: &mut MemoryStorage, sql: &mut SqliteStorage, messages: &[(MessageId, RoomId)]) {
    assert_eq!(load(mem), load(sql));
    let mut rooms: Vec<RoomId> = GROUPS.iter().map(|g| room(g)).collect();
    for (i, a) in NAMES.iter().enumerate() {
        for b in &NAMES[i..] {
            rooms.push(dm(a, b));
        }
    }
    for room in &rooms {
        let mut cursors = vec![HistoryCursor::Latest];
        for (id, _) in messages.iter().step_by(2) {
            cursors.push(HistoryCursor::Before(id));
            cursors.push(HistoryCursor::After(id));
        }
        for since in [0, 2, 5] {
            for &cursor in &cursors {
                for limit in [0, 1, 3] {
                    assert_eq!(
                        mem.history(room, since, cursor, limit).unwrap(),
                        sql.history(room, since, cursor, limit).unwrap(),
                        "{room} {since} {cursor:?} {limit}"
                    );
                }
            }
        }
    }
    for (id, _) in messages {
        for limit in [0, 2, 10] {
            assert_eq!(mem.message_receipts(id, limit).unwrap(), sql.message_receipts(id, limit).unwrap(), "{id}");
        }
    }
    for name in NAMES {
        let a = addr(name);
        for (after, upto, max) in [(0, u64::MAX, usize::MAX), (1, 4, 2), (2, 3, 9)] {
            assert_eq!(mem.stream_page(&a, after, upto, max).unwrap(), sql.stream_page(&a, after, upto, max).unwrap());
        }
        for (id, _) in messages.iter().step_by(2) {
            let client = format!("client-{id}");
            assert_eq!(mem.find_client_msg(&a, &client).unwrap(), sql.find_client_msg(&a, &client).unwrap());
        }
        for (after, upto, limit) in [(0, u64::MAX, usize::MAX), (1, 5, 2), (3, 4, 9), (0, 8, 1)] {
            assert_eq!(
                mem.undelivered_receipts(&a, after, upto, limit).unwrap(),
                sql.undelivered_receipts(&a, after, upto, limit).unwrap(),
                "{name} {after} {upto} {limit}"
            );
        }
        for (id, _) in messages {
            assert_eq!(mem.receipt(id, &a).unwrap(), sql.receipt(id, &a).unwrap(), "{id} {name}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_answers_like_memory(ops in proptest::collection::vec(op(), 1..40)) {
        let mut mem = MemoryStorage::default();
        let mut sql = SqliteStorage::open_in_memory(&relay()).unwrap();
        let mut messages = Vec::new();
        for (i, mutation) in mutations(&ops).into_iter().enumerate() {
            match mutation {
                Some(m) => {
                    if let Mutation::StoreMessage { message, .. } = &m {
                        messages.push((message.id.clone(), message.room.clone()));
                    }
                    mem.apply(&m).unwrap();
                    sql.apply(&m).unwrap();
                }
                None => {
                    mem.commit().unwrap();
                    sql.commit().unwrap();
                }
            }
            if i % 8 == 7 {
                compare(&mut mem, &mut sql, &messages);
            }
        }
        mem.commit().unwrap();
        sql.commit().unwrap();
        compare(&mut mem, &mut sql, &messages);
    }
}
