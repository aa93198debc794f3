//! Property test of every rule in `core/rules.rs`: random sequences of requests, answers, deletions, notices, blocks,
//! presence and profile changes, reconnects, messages to direct rooms and groups (half of them asking for receipts),
//! typing in both, invitations, leaving, rooms the relay ends by itself, acks and reads. After every step:
//!
//! - a message reached only those the rules let it reach: in a direct room, someone the sender may write to; in any
//!   other room, a member who has not blocked the sender;
//! - a typing indicator, likewise; presence and profile only viewers who may see them; an invitation only someone
//!   the inviter may invite; a room's state only its members; a receipt only the sender of the messages it names,
//!   and never from someone who blocks them;
//! - a refused request reached nobody else;
//! - both sides' lists are consistent;
//! - huddles (issues of a topic everyone may subscribe to, presence huddles, time passing so that they end) are
//!   formed only of people who agreed — the publisher, subscribers not muting it, the anchor and its followers — and
//!   never put two together who block each other or are kept apart ("not with"), and inside a huddle nothing passes
//!   between two kept apart.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::core::rules::{
    follows_presence, joins_topic_huddles, live_entry, may_huddle_together, may_invite, may_message, receipts_reach,
    receives_from, sees,
};

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
    /// Types to another user (their direct room).
    Typing(usize, usize),
    /// Creates a group of the first user with the other two.
    CreateGroup(usize, usize, usize),
    /// Sends to the n-th group made so far (if any).
    SendGroup(usize, usize),
    /// Types in the n-th group.
    TypingInGroup(usize, usize),
    LeaveGroup(usize, usize),
    InviteToGroup(usize, usize, usize),
    AnswerInvite(usize, usize, bool),
    /// The relay itself ends the n-th group (as huddles end), with nobody's request.
    RelayEnds(usize),
    /// Acknowledges the user's whole stream.
    Ack(usize),
    /// Reads up to four of the message ids seen so far (anyone's), skipping the newest `n`.
    Read(usize, usize),
    /// Subscribes to the topic "news" (owned by the first user), or unsubscribes.
    Subscribe(usize, bool),
    /// Publishes an issue of "news" (refused for all but its owner).
    Publish(usize),
    /// Replaces the user's huddle settings: keep apart from one user, share presence, follow another, or turn huddles off.
    HuddleSettings {
        who: usize,
        not_with: Option<usize>,
        share: bool,
        follows: Option<usize>,
        off: bool,
    },
    /// Lets this many minutes pass (huddles end).
    Wait(u8),
    /// Reports one of two activities (a huddle forms when three report the same within ten minutes).
    ReportActivity(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let u = || 0..USERS.len();
    let g = || 0..4usize;
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
        2 => (u(), u()).prop_map(|(a, b)| Op::Typing(a, b)),
        2 => (u(), u(), u()).prop_map(|(a, b, c)| Op::CreateGroup(a, b, c)),
        4 => (u(), g()).prop_map(|(a, n)| Op::SendGroup(a, n)),
        2 => (u(), g()).prop_map(|(a, n)| Op::TypingInGroup(a, n)),
        1 => (u(), g()).prop_map(|(a, n)| Op::LeaveGroup(a, n)),
        1 => (u(), g(), u()).prop_map(|(a, n, b)| Op::InviteToGroup(a, n, b)),
        1 => (u(), g(), any::<bool>()).prop_map(|(a, n, x)| Op::AnswerInvite(a, n, x)),
        1 => g().prop_map(Op::RelayEnds),
        3 => u().prop_map(Op::Ack),
        3 => (u(), 0..3usize).prop_map(|(a, n)| Op::Read(a, n)),
        2 => (u(), any::<bool>()).prop_map(|(a, x)| Op::Subscribe(a, x)),
        2 => u().prop_map(Op::Publish),
        2 => (u(), proptest::option::of(u()), any::<bool>(), proptest::option::of(u()), proptest::bool::weighted(0.15))
            .prop_map(|(who, not_with, share, follows, off)| Op::HuddleSettings { who, not_with, share, follows, off }),
        1 => (1..40u8).prop_map(Op::Wait),
        2 => (u(), any::<bool>()).prop_map(|(a, x)| Op::ReportActivity(a, x)),
    ]
}

/// What the runner knows beside the operation: the groups made, every message id seen, the actor's stream head.
struct Context<'a> {
    groups: &'a [RoomId],
    seen: &'a [MessageId],
    head: u64,
}

fn frame(op: &Op, id: u64, cx: &Context<'_>) -> ClientFrame {
    let a = |i: usize| addr(USERS[i]);
    let g = |n: usize| cx.groups.get(n).cloned().unwrap_or_else(|| RoomId::parse("no-such-group@test.relay").unwrap());
    let send = |room: Option<RoomId>, to: Option<Address>| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room,
            to,
            body: format!("msg {id}"),
            client_msg_id: format!("m{id}"),
            receipts: id % 2 == 0,
        })
    };
    match op.clone() {
        Op::Request(_, b) => ClientFrame::FriendRequest(FriendRequest { id, acting: None, to: a(b), greeting: None }),
        Op::Cancel(_, b) => ClientFrame::CancelRequest(CancelRequest { id, acting: None, to: a(b) }),
        Op::Answer(_, b, answer) => ClientFrame::AnswerRequest(AnswerRequest { id, acting: None, from: a(b), answer }),
        Op::Delete(_, b) => ClientFrame::DeleteFriend(DeleteFriend { id, acting: None, friend: a(b) }),
        Op::Notify(_, b, ask_delete) => {
            ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: a(b), ask_delete })
        }
        Op::AnswerDeletion(_, b, answer) => {
            ClientFrame::AnswerDeletion(AnswerDeletion { id, acting: None, from: a(b), answer })
        }
        Op::Block(_, b) => ClientFrame::Block(Block { id, acting: None, target: a(b) }),
        Op::Unblock(_, b) => ClientFrame::Unblock(Unblock { id, acting: None, target: a(b) }),
        Op::Send(_, b) => send(None, Some(a(b))),
        Op::Presence(_, state) => ClientFrame::SetPresence(SetPresence {
            id,
            acting: None,
            state: Some(state),
            activity: Some(format!("doing {id}")),
            location: None,
        }),
        Op::Profile(_) => ClientFrame::SetProfile(SetProfile {
            id,
            acting: None,
            display_name: Some(format!("name {id}")),
            bio: None,
        }),
        Op::Typing(_, b) => ClientFrame::Typing(Typing { id: Some(id), acting: None, room: None, to: Some(a(b)) }),
        Op::CreateGroup(_, b, c) => ClientFrame::CreateGroup(CreateGroup {
            id,
            acting: None,
            members: vec![a(b), a(c)],
            title: None,
            promoted: false,
            opening: None,
        }),
        Op::SendGroup(_, n) => send(Some(g(n)), None),
        Op::TypingInGroup(_, n) => {
            ClientFrame::Typing(Typing { id: Some(id), acting: None, room: Some(g(n)), to: None })
        }
        Op::LeaveGroup(_, n) => ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: g(n) }),
        Op::InviteToGroup(_, n, b) => {
            ClientFrame::InviteToRoom(InviteToRoom { id, acting: None, room: g(n), who: a(b) })
        }
        Op::AnswerInvite(_, n, accept) => {
            ClientFrame::AnswerRoomInvite(AnswerRoomInvite { id, acting: None, room: g(n), accept })
        }
        Op::Ack(_) => ClientFrame::Ack(Ack { id: Some(id), acting: None, seq: cx.head }),
        Op::Read(_, n) => ClientFrame::Read(Read {
            id: Some(id),
            acting: None,
            message_ids: cx.seen.iter().rev().skip(n).take(4).cloned().collect(),
        }),
        Op::Subscribe(_, true) => {
            ClientFrame::Subscribe(Subscribe { id, acting: None, topic: news(), duration_ms: Some(10 * 60_000) })
        }
        Op::Subscribe(_, false) => ClientFrame::Unsubscribe(Unsubscribe { id, acting: None, topic: news() }),
        Op::Publish(_) => ClientFrame::Publish(Publish {
            id,
            acting: None,
            topic: news(),
            title: format!("issue {id}"),
            body: None,
            link: None,
        }),
        Op::HuddleSettings { not_with, share, follows, off, .. } => {
            let settings = HuddleSettings {
                off,
                share_presence: share,
                follows: follows.map(a).into_iter().collect(),
                muted_topics: Vec::new(),
                not_with: not_with.map(a).into_iter().collect(),
            };
            ClientFrame::SetHuddleSettings(SetHuddleSettings { id, acting: None, settings })
        }
        Op::ReportActivity(_, first) => ClientFrame::ReportActivity(ReportActivity {
            id,
            acting: None,
            kind: "show".into(),
            key: if first { "Hamlet, Saturday".into() } else { "Macbeth".into() },
        }),
        Op::Reconnect(_) | Op::RelayEnds(_) | Op::Wait(_) => unreachable!("handled by the runner"),
    }
}

fn news() -> TopicId {
    TopicId::parse("news").unwrap()
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
        | Op::Typing(a, _)
        | Op::CreateGroup(a, _, _)
        | Op::SendGroup(a, _)
        | Op::TypingInGroup(a, _)
        | Op::LeaveGroup(a, _)
        | Op::InviteToGroup(a, _, _)
        | Op::AnswerInvite(a, _, _)
        | Op::Ack(a)
        | Op::Read(a, _)
        | Op::Subscribe(a, _)
        | Op::Publish(a)
        | Op::HuddleSettings { who: a, .. }
        | Op::ReportActivity(a, _) => a,
        Op::RelayEnds(_) | Op::Wait(_) => 0,
    }
}

/// Notes who sent each message stored in this step (from the `stored` answers) and every message id seen.
fn note_messages(t: &Harness, conns: &[ConnId], sent_by: &mut HashMap<MessageId, Address>, seen: &mut Vec<MessageId>) {
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
                _ => continue,
            };
            if !seen.contains(id) {
                seen.push(id.clone());
            }
        }
    }
}

/// Whether what `from` says in `room` may reach `me` now: the direct-message rule in a direct room, membership and no
/// block in any other.
fn room_reaches(state: &State, room: &RoomId, from: &Address, me: &Address) -> bool {
    match state.rooms.get(room).map(|r| r.kind) {
        Some(RoomKind::Direct) | None => may_message(state, from, me),
        Some(_) => state.is_member(room, me) && receives_from(state, room, me, from),
    }
}

fn check_routing(
    t: &Harness,
    conns: &[ConnId],
    actor_conn: Option<ConnId>,
    refused: bool,
    sent_by: &HashMap<MessageId, Address>,
) {
    let state = t.core.state();
    for (conn, frames) in &t.inbox {
        if refused {
            assert_eq!(Some(*conn), actor_conn, "a refused request reached another connection: {frames:?}");
        }
        let Some(i) = conns.iter().position(|c| c == conn) else { continue };
        let me = addr(USERS[i]);
        for f in frames {
            match f {
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. }
                    if message.from != me =>
                {
                    assert!(
                        room_reaches(state, &message.room, &message.from, &me),
                        "{me} got a message from {} in {}",
                        message.from,
                        message.room
                    );
                    assert_eq!(message.to.is_some(), state.rooms[&message.room].kind == RoomKind::Direct);
                }
                ServerFrame::Typing { acting, from, room } => {
                    assert_eq!(acting, &me);
                    assert!(room_reaches(state, room, from, &me), "{me} was told {from} is typing in {room}");
                }
                ServerFrame::Presence { of, presence, .. } if presence.state != ShownState::Offline => {
                    assert!(sees(state, &me, of), "{me} saw presence of {of}");
                }
                ServerFrame::Profile { of, .. } => assert!(sees(state, &me, of), "{me} saw the profile of {of}"),
                ServerFrame::Deliver {
                    item: StreamItem { body: ItemBody::Event { event: Event::RoomInvite { peer, room, .. } }, .. },
                    ..
                } => {
                    assert!(may_invite(state, peer, &me), "{me} was invited by {peer}, who may not invite them");
                    assert!(state.is_invited(room, &me), "an invitation to {me} that is not pending");
                }
                ServerFrame::Room { room, .. } => {
                    assert!(room.members.iter().any(|m| m.address == me), "{me} was shown a room they are not in");
                    assert!(state.is_member(&room.id, &me));
                }
                ServerFrame::RoomGone { room, .. } => {
                    assert!(!state.is_member(room, &me), "{me} was told they left {room}, but they are in it");
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

/// Memory and storage hold the same records: the state rebuilt from what storage has equals the state the core
/// kept (every change went to both, as the same `Mutation`).
fn check_memory_matches_storage(t: &mut Harness) {
    fn relation<V: Clone>(r: &crate::core::relation::Relation<V>) -> Vec<(Address, Address, V)> {
        let mut all: Vec<_> = r.iter().map(|(a, b, v)| (a.clone(), b.clone(), v.clone())).collect();
        all.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        all
    }
    fn sorted<K: Ord, V>(m: impl IntoIterator<Item = (K, V)>) -> Vec<(K, V)> {
        let mut all: Vec<_> = m.into_iter().collect();
        all.sort_by(|x, y| x.0.cmp(&y.0));
        all
    }
    let relay = t.core.state().relay.clone();
    let snapshot = t.core.world.store.load().unwrap();
    let stored = State::new(relay, snapshot);
    let kept = t.core.state();
    assert_eq!(relation(&kept.entries), relation(&stored.entries), "entries");
    assert_eq!(relation(&kept.requests), relation(&stored.requests), "requests");
    assert_eq!(relation(&kept.deletions), relation(&stored.deletions), "deletions");
    assert_eq!(relation(&kept.blocks), relation(&stored.blocks), "blocks");
    assert_eq!(kept.handles, stored.handles, "handles");
    assert_eq!(sorted(kept.heads.clone()), sorted(stored.heads.clone()), "heads");
    assert_eq!(kept.rooms, stored.rooms, "rooms");
    fn non_empty<V: Clone>(
        m: &HashMap<RoomId, std::collections::BTreeMap<Address, V>>,
    ) -> Vec<(RoomId, std::collections::BTreeMap<Address, V>)> {
        sorted(m.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())))
    }
    assert_eq!(non_empty(&kept.members), non_empty(&stored.members), "members");
    assert_eq!(non_empty(&kept.room_invites), non_empty(&stored.room_invites), "invitations");
    let counts = |m: &HashMap<RoomId, u64>| sorted(m.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)));
    assert_eq!(counts(&kept.room_counts), counts(&stored.room_counts), "message counts");
}

fn check_consistency(t: &mut Harness) {
    check_memory_matches_storage(t);
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
    for (room, record) in &s.rooms {
        if record.ended {
            assert!(s.member_addresses(room).is_empty(), "{room} ended with members in it");
        }
    }
}

/// Every huddle formed since the last look was formed only of people who agreed to it, none of them kept apart.
fn check_new_huddles(t: &Harness, checked: &mut Vec<RoomId>, reporters: &[Address]) {
    let s = t.core.state();
    for (room, huddle) in &s.huddles {
        if checked.contains(room) {
            continue;
        }
        checked.push(room.clone());
        let members = s.member_addresses(room);
        for m in &members {
            let agreed = match &huddle.trigger {
                HuddleTrigger::Issue { topic, .. } => m == &huddle.by || joins_topic_huddles(s, m, topic),
                HuddleTrigger::Presence { of: anchor } => m == anchor || follows_presence(s, m, anchor),
                HuddleTrigger::Schedule { topic, .. } => joins_topic_huddles(s, m, topic),
                HuddleTrigger::Activity { .. } | HuddleTrigger::Place { .. } => reporters.contains(m),
                HuddleTrigger::Unknown => false,
            };
            assert!(agreed, "{m} was put in huddle {room} without agreeing");
            for other in members.iter().filter(|o| *o != m) {
                assert!(may_huddle_together(s, m, other), "{m} and {other} were put together in {room}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn every_rule_holds_for_every_push(ops in proptest::collection::vec(op(), 1..60)) {
        let mut t = Harness::new();
        let mut conns: Vec<ConnId> = USERS.iter().map(|u| t.register(u)).collect();
        // Everyone asks for typing pushes, so that they are checked too.
        for &conn in &conns {
            t.send(conn, ClientFrame::Hello(Hello { max_version: Some(huddle_shared::version::CURRENT), features: vec!["typing".into()], ..Hello::default() }));
        }
        // Everyone starts as friends of everyone, so groups form often; the operations then delete and block.
        for i in 0..USERS.len() {
            for j in i + 1..USERS.len() {
                t.befriend(conns[i], conns[j], RequestAnswer::AcceptMutual);
            }
        }
        // The first user owns a topic that anyone may subscribe to; huddles of it join the rooms the operations use.
        let topic = ClientFrame::CreateTopic(CreateTopic { id: 1, acting: None, topic: news(), title: "News".into(), description: None, duration_ms: Some(30 * 60_000), include_offline: false });
        t.send(conns[0], topic);
        let mut huddles_checked: Vec<RoomId> = Vec::new();
        let mut reporters: Vec<Address> = Vec::new();
        let mut groups: Vec<RoomId> = Vec::new();
        let mut sent_by: HashMap<MessageId, Address> = HashMap::new();
        let mut seen: Vec<MessageId> = Vec::new();
        for op in &ops {
            t.clear();
            let who = actor(op);
            match op {
                Op::Reconnect(i) => {
                    t.disconnect(conns[*i]);
                    conns[*i] = t.login(USERS[*i]);
                    check_routing(&t, &conns, Some(conns[*i]), false, &sent_by);
                    check_consistency(&mut t);
                    check_new_huddles(&t, &mut huddles_checked, &reporters);
                    for h in &huddles_checked {
                        if !groups.contains(h) {
                            groups.push(h.clone());
                        }
                    }
                    continue;
                }
                Op::Wait(minutes) => {
                    // One deadline at a time, each checked on its own: what one pushed is judged by the state right
                    // after it (a member taken out later may rightly have been told of the room before).
                    let until = t.now + i64::from(*minutes) * 60_000;
                    while t.core.poll_deadline() <= until {
                        let next = t.core.poll_deadline().max(t.now);
                        t.advance_to(next);
                        check_routing(&t, &conns, None, false, &sent_by);
                        t.clear();
                    }
                    t.advance_to(until);
                    check_routing(&t, &conns, None, false, &sent_by);
                    check_consistency(&mut t);
                    check_new_huddles(&t, &mut huddles_checked, &reporters);
                    continue;
                }
                Op::RelayEnds(n) => {
                    if let Some(room) = groups.get(*n).cloned() {
                        let relay = addr("relay-itself");
                        t.act(|world, now| world.end_room(&room, &relay, None, now)).unwrap();
                        check_routing(&t, &conns, None, false, &sent_by);
                        check_consistency(&mut t);
                    }
                    continue;
                }
                _ => {}
            }
            if matches!(op, Op::ReportActivity(..)) && !reporters.contains(&addr(USERS[who])) {
                reporters.push(addr(USERS[who]));
            }
            let id = t.id();
            let head = t.core.state().head(&h(USERS[who]));
            t.send(conns[who], frame(op, id, &Context { groups: &groups, seen: &seen, head }));
            note_messages(&t, &conns, &mut sent_by, &mut seen);
            let answer = t.inbox.get(&conns[who]).and_then(|fs| fs.iter().find(|f| f.answer_id() == Some(id)));
            match answer {
                Some(ServerFrame::Room { room, .. }) => groups.push(room.id.clone()),
                Some(ServerFrame::Published { room: Some(room), .. }) => groups.push(room.clone()),
                _ => {}
            }
            check_new_huddles(&t, &mut huddles_checked, &reporters);
            let refused = matches!(answer, Some(ServerFrame::Error { .. }));
            check_routing(&t, &conns, Some(conns[who]), refused, &sent_by);
            check_consistency(&mut t);
        }
    }
}
