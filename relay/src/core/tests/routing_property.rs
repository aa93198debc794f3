//! Property test: random sequences of requests, answers, deletions, notices, blocks, presence changes, reconnects,
//! messages (half of them asking for receipts), acks and reads. After every step, nothing reached a handle the
//! routing rule does not allow, a receipt reached only the sender of the messages it names, a refused request
//! reached nobody else, and both sides' lists are consistent.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::core::routing::{live_entry, may_message, receipts_reach, sees};

const USERS: [&str; 4] = ["ann", "ben", "cat", "dan"];

#[derive(Debug, Clone)]
enum Op {
    Request(usize, usize),
    Cancel(usize, usize),
    Answer(usize, usize, RequestAnswer),
    Delete(usize, usize),
    Notify(usize, usize, bool),
    AnswerDeletion(usize, usize, DeletionAnswer),
    Block(usize, usize),
    Unblock(usize, usize),
    Send(usize, usize),
    Presence(usize, PresenceState),
    Profile(usize),
    Reconnect(usize),
    /// Creates a group of the first user with the other two.
    CreateGroup(usize, usize, usize),
    /// Sends to the n-th group made so far (if any).
    SendGroup(usize, usize),
    LeaveGroup(usize, usize),
    InviteToGroup(usize, usize, usize),
    /// Acknowledges the user's whole stream.
    Ack(usize),
    /// Reads up to four of the message ids seen so far (anyone's), skipping the newest `n`.
    Read(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let u = || 0..USERS.len();
    let answer =
        prop_oneof![Just(RequestAnswer::Accept), Just(RequestAnswer::AcceptMutual), Just(RequestAnswer::Reject)];
    let dans = prop_oneof![Just(DeletionAnswer::Confirm), Just(DeletionAnswer::Refuse)];
    let state = prop_oneof![
        Just(PresenceState::Online),
        Just(PresenceState::Away),
        Just(PresenceState::Busy),
        Just(PresenceState::Invisible)
    ];
    prop_oneof![
        4 => (u(), u()).prop_map(|(a, b)| Op::Request(a, b)),
        1 => (u(), u()).prop_map(|(a, b)| Op::Cancel(a, b)),
        4 => (u(), u(), answer).prop_map(|(a, b, x)| Op::Answer(a, b, x)),
        2 => (u(), u()).prop_map(|(a, b)| Op::Delete(a, b)),
        2 => (u(), u(), any::<bool>()).prop_map(|(a, b, x)| Op::Notify(a, b, x)),
        2 => (u(), u(), dans).prop_map(|(a, b, x)| Op::AnswerDeletion(a, b, x)),
        1 => (u(), u()).prop_map(|(a, b)| Op::Block(a, b)),
        1 => (u(), u()).prop_map(|(a, b)| Op::Unblock(a, b)),
        5 => (u(), u()).prop_map(|(a, b)| Op::Send(a, b)),
        2 => (u(), state).prop_map(|(a, s)| Op::Presence(a, s)),
        1 => u().prop_map(Op::Profile),
        1 => u().prop_map(Op::Reconnect),
        2 => (u(), u(), u()).prop_map(|(a, b, c)| Op::CreateGroup(a, b, c)),
        4 => (u(), 0..4usize).prop_map(|(a, g)| Op::SendGroup(a, g)),
        1 => (u(), 0..4usize).prop_map(|(a, g)| Op::LeaveGroup(a, g)),
        1 => (u(), 0..4usize, u()).prop_map(|(a, g, b)| Op::InviteToGroup(a, g, b)),
        3 => u().prop_map(Op::Ack),
        3 => (u(), 0..3usize).prop_map(|(a, n)| Op::Read(a, n)),
    ]
}

/// What the runner knows beside the operation: the groups made, every message id seen, the actor's stream head.
struct Context<'a> {
    groups: &'a [String],
    seen: &'a [String],
    head: u64,
}

fn frame(op: &Op, id: u64, cx: &Context<'_>) -> ClientFrame {
    let groups = cx.groups;
    let a = |i: usize| addr(USERS[i]);
    let g = |n: usize| groups.get(n).cloned().unwrap_or_else(|| "no-such-group".to_owned());
    match op.clone() {
        Op::Request(_, b) => ClientFrame::FriendRequest { id, acting: None, to: a(b), greeting: None },
        Op::Cancel(_, b) => ClientFrame::CancelRequest { id, acting: None, to: a(b) },
        Op::Answer(_, b, answer) => ClientFrame::AnswerRequest { id, acting: None, from: a(b), answer },
        Op::Delete(_, b) => ClientFrame::DeleteFriend { id, acting: None, friend: a(b) },
        Op::Notify(_, b, ask_delete) => ClientFrame::NotifyDeletion { id, acting: None, to: a(b), ask_delete },
        Op::AnswerDeletion(_, b, answer) => ClientFrame::AnswerDeletion { id, acting: None, from: a(b), answer },
        Op::Block(_, b) => ClientFrame::Block { id, acting: None, target: a(b) },
        Op::Unblock(_, b) => ClientFrame::Unblock { id, acting: None, target: a(b) },
        Op::Send(_, b) => ClientFrame::Send {
            id,
            acting: None,
            to: a(b),
            body: format!("msg {id}"),
            client_msg_id: format!("m{id}"),
            receipts: id % 2 == 0,
        },
        Op::Presence(_, state) => ClientFrame::SetPresence {
            id,
            acting: None,
            state: Some(state),
            activity: Some(format!("doing {id}")),
            location: None,
        },
        Op::Profile(_) => {
            ClientFrame::SetProfile { id, acting: None, display_name: Some(format!("name {id}")), bio: None }
        }
        Op::Reconnect(_) => unreachable!("handled by the runner"),
        Op::CreateGroup(_, b, c) => {
            ClientFrame::CreateGroup { id, acting: None, members: vec![a(b), a(c)], title: None, promoted: false }
        }
        Op::SendGroup(_, n) => ClientFrame::SendGroup {
            id,
            acting: None,
            group: g(n),
            body: format!("g {id}"),
            client_msg_id: format!("g{id}"),
            receipts: id % 2 == 0,
        },
        Op::LeaveGroup(_, n) => ClientFrame::LeaveGroup { id, acting: None, group: g(n) },
        Op::InviteToGroup(_, n, b) => ClientFrame::InviteToGroup { id, acting: None, group: g(n), who: a(b) },
        Op::Ack(_) => ClientFrame::Ack { id: Some(id), acting: None, seq: cx.head },
        Op::Read(_, n) => ClientFrame::Read {
            id: Some(id),
            acting: None,
            message_ids: cx.seen.iter().rev().skip(n).take(4).cloned().collect(),
        },
    }
}

fn actor(op: &Op) -> usize {
    match *op {
        Op::Request(a, _)
        | Op::Cancel(a, _)
        | Op::Answer(a, _, _)
        | Op::Delete(a, _)
        | Op::Notify(a, _, _)
        | Op::AnswerDeletion(a, _, _)
        | Op::Block(a, _)
        | Op::Unblock(a, _)
        | Op::Send(a, _)
        | Op::Presence(a, _)
        | Op::Profile(a)
        | Op::Reconnect(a)
        | Op::CreateGroup(a, _, _)
        | Op::SendGroup(a, _)
        | Op::LeaveGroup(a, _)
        | Op::InviteToGroup(a, _, _)
        | Op::Ack(a)
        | Op::Read(a, _) => a,
    }
}

/// Notes who sent each message stored in this step (from the `stored` answers) and every message id seen.
fn note_messages(t: &Harness, conns: &[ConnId], sent_by: &mut HashMap<String, Address>, seen: &mut Vec<String>) {
    for (conn, frames) in &t.inbox {
        let Some(i) = conns.iter().position(|c| c == conn) else { continue };
        for f in frames {
            let id = match f {
                ServerFrame::Stored { message_id, .. } => {
                    sent_by.insert(message_id.clone(), addr(USERS[i]));
                    message_id
                }
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } => {
                    &message.id
                }
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::GroupMessage { message }, .. }, .. } => {
                    &message.id
                }
                _ => continue,
            };
            if !seen.contains(id) {
                seen.push(id.clone());
            }
        }
    }
}

fn check_routing(t: &Harness, conns: &[ConnId], actor_conn: ConnId, refused: bool, sent_by: &HashMap<String, Address>) {
    let state = t.core.state();
    for (conn, frames) in &t.inbox {
        if refused {
            assert_eq!(*conn, actor_conn, "a refused request reached another connection: {frames:?}");
        }
        let Some(i) = conns.iter().position(|c| c == conn) else { continue };
        let me = addr(USERS[i]);
        for f in frames {
            match f {
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. }
                    if message.from != me =>
                {
                    assert!(may_message(state, &message.from, &me), "{me} got a message from {}", message.from);
                }
                ServerFrame::Presence { of, presence, .. } if presence.state != ShownState::Offline => {
                    assert!(sees(state, &me, of), "{me} saw presence of {of}");
                }
                ServerFrame::Profile { of, .. } => assert!(sees(state, &me, of), "{me} saw the profile of {of}"),
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::GroupMessage { message }, .. }, .. } => {
                    assert!(state.is_member(&message.group, &me), "{me} got a message of a group they are not in");
                    assert!(
                        !state.blocks.contains(&me, &message.from),
                        "{me} got a group message from {}, whom they blocked",
                        message.from
                    );
                }
                ServerFrame::Group { group, .. } => {
                    assert!(group.members.iter().any(|m| m.address == me), "{me} was shown a group they are not in");
                }
                ServerFrame::Deliver { acting, item: StreamItem { body: ItemBody::Receipt { receipt }, .. } } => {
                    assert_eq!(acting, &me, "a receipt outside {me}'s stream");
                    assert_ne!(receipt.by, me, "{me} got a receipt of their own");
                    assert!(!receipt.message_ids.is_empty());
                    for id in &receipt.message_ids {
                        assert_eq!(sent_by.get(id), Some(&me), "{me} got a receipt for {id}, which they did not send");
                    }
                    assert!(
                        receipts_reach(state, &receipt.by, &me),
                        "{me} got a receipt from {}, who blocks them",
                        receipt.by
                    );
                }
                ServerFrame::Friends { list, .. } => {
                    for e in &list.entries {
                        if e.presence.state != ShownState::Offline || e.profile != Profile::default() {
                            assert!(sees(state, &me, &e.address), "{me}'s list shows {} as visible", e.address);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn check_consistency(t: &Harness) {
    let s = t.core.state();
    for (owner, peer, e) in s.entries.iter() {
        if e.removed_you {
            assert!(
                !s.entries.contains(peer, owner),
                "{owner}'s entry for {peer} is marked, yet {peer} still lists {owner}"
            );
        }
    }
    for (deleter, deleted, _) in s.deletions.iter() {
        assert!(!s.entries.contains(deleter, deleted), "{deleter} deleted {deleted} but still lists them");
    }
    for (from, to, _) in s.requests.iter() {
        assert!(!live_entry(s, from, to), "a request from {from} to {to} who is already on the list");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn routing_rule_and_list_consistency_hold(ops in proptest::collection::vec(op(), 1..60)) {
        let mut t = Harness::new();
        let mut conns: Vec<ConnId> = USERS.iter().map(|u| t.register(u)).collect();
        // Everyone starts as friends of everyone, so groups form often; the operations then delete and block.
        for i in 0..USERS.len() {
            for j in i + 1..USERS.len() {
                t.befriend(conns[i], conns[j], RequestAnswer::AcceptMutual);
            }
        }
        let mut groups: Vec<String> = Vec::new();
        let mut sent_by: HashMap<String, Address> = HashMap::new();
        let mut seen: Vec<String> = Vec::new();
        for op in &ops {
            t.clear();
            let who = actor(op);
            if let Op::Reconnect(i) = op {
                t.disconnect(conns[*i]);
                conns[*i] = t.login(USERS[*i]);
                check_routing(&t, &conns, conns[*i], false, &sent_by);
                check_consistency(&t);
                continue;
            }
            let id = t.id();
            let head = t.core.state().head(&h(USERS[who]));
            t.send(conns[who], frame(op, id, &Context { groups: &groups, seen: &seen, head }));
            note_messages(&t, &conns, &mut sent_by, &mut seen);
            if let Some(ServerFrame::Group { group, .. }) = t.inbox.get(&conns[who]).and_then(|fs| fs.iter().find(|f| f.answer_id() == Some(id))) {
                groups.push(group.id.clone());
            }
            let refused = t.inbox.get(&conns[who]).is_some_and(|frames| {
                frames.iter().any(|f| matches!(f, ServerFrame::Error { id: Some(x), .. } if *x == id))
            });
            check_routing(&t, &conns, conns[who], refused, &sent_by);
            check_consistency(&t);
        }
    }
}
