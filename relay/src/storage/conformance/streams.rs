//! Messages and streams: one stored copy per message, referenced from every stream it went to; events; paging a
//! stream; finding a message by its sender's idempotency key; a room's history from when a member joined.

use huddle_shared::model::{DeletionAnswer, RequestAnswer, RoomChange};

use super::*;
use crate::storage::HistoryCursor;

/// alice's stream: 1 m1 (to bob), 2 event, 3 m2 (from bob), 4 g1 (her group message, not to carol who blocked her),
/// 5 m3 (to carol), 6 event.
fn stream_setup(s: &mut dyn Storage) -> (Vec<Message>, Vec<StreamItem>) {
    let m1 = message("m1", "alice", "bob", 1_000);
    let m2 = message("m2", "bob", "alice", 1_001);
    let g1 = room_message("g1", "crew", "alice", 1_002);
    let m3 = message("m3", "alice", "carol", 1_003);
    let ev2 = event_item(2, 1_000, Event::RequestReceived { peer: addr("dave"), greeting: Some("yo".to_owned()) });
    let ev6 = event_item(6, 1_004, Event::DeletionNotice { peer: addr("zed@far.example"), asks_delete: true });
    apply_all(
        s,
        &[
            store(&m1, 1, &[("alice", 1), ("bob", 1)]),
            Mutation::AppendItem { handle: handle("alice"), item: ev2.clone() },
            append_event(
                "bob",
                2,
                999,
                Event::RequestAnswered { peer: addr("alice"), answer: RequestAnswer::AcceptMutual },
            ),
            // The sender's own copy is not listed first: the sender's seq is found by handle, not by position.
            store(&m2, 2, &[("alice", 3), ("bob", 3)]),
            store(&g1, 1, &[("bob", 4), ("alice", 4)]),
            store(&m3, 1, &[("alice", 5), ("carol", 1)]),
            Mutation::AppendItem { handle: handle("alice"), item: ev6.clone() },
        ],
    );
    let alice_stream =
        vec![message_item(1, &m1), ev2, message_item(3, &m2), message_item(4, &g1), message_item(5, &m3), ev6];
    (vec![m1, m2, g1, m3], alice_stream)
}

pub fn stream_pages(s: &mut dyn Storage) {
    let (msgs, alice_stream) = stream_setup(s);
    let alice = addr("alice");
    assert_eq!(s.stream_page(&alice, 0, 6, 100).unwrap(), alice_stream);
    assert_eq!(s.stream_page(&alice, 0, u64::MAX, usize::MAX).unwrap(), alice_stream);
    assert_eq!(s.stream_page(&alice, 1, 3, 100).unwrap(), alice_stream[1..3].to_vec());
    assert_eq!(s.stream_page(&alice, 0, 6, 2).unwrap(), alice_stream[..2].to_vec());
    assert_eq!(s.stream_page(&alice, 2, 6, 2).unwrap(), alice_stream[2..4].to_vec());
    assert_eq!(s.stream_page(&alice, 4, 6, 0).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, 3, 3, 10).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, 4, 2, 10).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, 6, 100, 10).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, u64::MAX, u64::MAX, 10).unwrap(), vec![]);
    // The stream is the handle's: the relay part of the address does not matter.
    assert_eq!(s.stream_page(&Address::parse("alice").unwrap(), 0, 6, 100).unwrap(), alice_stream);

    // bob: 1 m1, 2 event, 3 m2, 4 g1; carol: 1 m3. Streams do not mix.
    let bob_page = s.stream_page(&addr("bob"), 0, 10, 10).unwrap();
    assert_eq!(seqs(&bob_page), vec![1, 2, 3, 4]);
    assert_eq!(bob_page[0], message_item(1, &msgs[0]));
    assert_eq!(bob_page[3], message_item(4, &msgs[2]));
    assert_eq!(s.stream_page(&addr("carol"), 0, 10, 10).unwrap(), vec![message_item(1, &msgs[3])]);
    assert_eq!(s.stream_page(&addr("dave"), 0, 10, 10).unwrap(), vec![]);

    let snap = load(s);
    assert_eq!(snap.heads, vec![(handle("alice"), 6), (handle("bob"), 4), (handle("carol"), 1)]);
}

/// A room whose only copy is the sender's (a group whose other members all blocked the sender, say).
pub fn a_room_of_one(s: &mut dyn Storage) {
    let m = room_message("solo", "crew", "carol", 5);
    apply_all(s, &[store(&m, 1, &[("carol", 1)])]);
    assert_eq!(s.stream_page(&addr("carol"), 0, 9, 9).unwrap(), vec![message_item(1, &m)]);
    assert_eq!(s.find_client_msg(&addr("carol"), "client-solo").unwrap(), Some((m.clone(), 1)));
    let page = s.history(&room("crew"), 0, HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![m]);
    assert_eq!(load(s).heads, vec![(handle("carol"), 1)]);
}

pub fn find_client_msg(s: &mut dyn Storage) {
    let m1 = message("m1", "alice", "bob", 1);
    // bob reuses alice's idempotency key: keys are per sender.
    let m2 = Message { client_msg_id: "client-m1".to_owned(), ..message("m2", "bob", "alice", 2) };
    let g3 = room_message("g3", "crew", "alice", 3);
    // A message from a remote sender: no copy in a stream of its sender here, so no seq to answer a resend with.
    let gz = room_message("gz", "crew", "zed@far.example", 4);
    apply_all(
        s,
        &[
            store(&m1, 1, &[("alice", 7), ("bob", 1)]),
            store(&m2, 2, &[("bob", 2), ("alice", 8)]),
            store(&g3, 1, &[("carol", 1), ("alice", 9)]),
            store(&gz, 2, &[("alice", 10)]),
        ],
    );
    // The seq is the sender's, not a recipient's.
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m1").unwrap(), Some((m1.clone(), 7)));
    assert_eq!(s.find_client_msg(&addr("bob"), "client-m1").unwrap(), Some((m2.clone(), 2)));
    // One key space per sender for every room.
    assert_eq!(s.find_client_msg(&addr("alice"), "client-g3").unwrap(), Some((g3, 9)));
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m2").unwrap(), None);
    assert_eq!(s.find_client_msg(&addr("carol"), "client-g3").unwrap(), None);
    assert_eq!(s.find_client_msg(&addr("zed@far.example"), "client-gz").unwrap(), None);
    // The same handle on another relay is another sender.
    assert_eq!(s.find_client_msg(&addr("alice@far.example"), "client-m1").unwrap(), None);
}

/// alice↔bob: a1..a7 (numbered 1..7), interleaved with alice↔carol: c1..c3 and group "g": g1..g8.
fn history_setup(s: &mut dyn Storage) -> (Vec<Message>, Vec<Message>) {
    let mut conv = Vec::new();
    let mut group = Vec::new();
    let mut mutations = Vec::new();
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq
    };
    for i in 1..=8u64 {
        if i <= 7 {
            let (from, to) = if i % 3 == 2 { ("bob", "alice") } else { ("alice", "bob") };
            let m = message(&format!("a{i}"), from, to, 100 + i as i64);
            mutations.push(store(&m, i, &[(from, next()), (to, next())]));
            conv.push(m);
        }
        if i <= 3 {
            let c = message(&format!("c{i}"), "carol", "alice", 200 + i as i64);
            mutations.push(store(&c, i, &[("carol", next()), ("alice", next())]));
        }
        let from = ["alice", "bob", "carol"][i as usize % 3];
        let g = room_message(&format!("g{i}"), "g", from, 300 + i as i64);
        mutations.push(store(&g, i, &[(from, next())]));
        group.push(g);
    }
    apply_all(s, &mutations);
    (conv, group)
}

fn page(
    s: &mut dyn Storage,
    room: &RoomId,
    since: u64,
    cursor: HistoryCursor<'_>,
    limit: usize,
) -> (Vec<String>, bool) {
    let page = s.history(room, since, cursor, limit).unwrap().unwrap();
    (ids(&page).into_iter().map(str::to_owned).collect(), page.more)
}

fn v(ids: &[&str], more: bool) -> (Vec<String>, bool) {
    (ids.iter().map(|&i| i.to_owned()).collect(), more)
}

pub fn history_latest_and_before(s: &mut dyn Storage) {
    let (conv, _) = history_setup(s);
    let ab = dm("alice", "bob");
    assert_eq!(page(s, &ab, 0, HistoryCursor::Latest, 3), v(&["a5", "a6", "a7"], true));
    assert_eq!(page(s, &ab, 0, HistoryCursor::Before(&mid("a5")), 3), v(&["a2", "a3", "a4"], true));
    assert_eq!(page(s, &ab, 0, HistoryCursor::Before(&mid("a2")), 3), v(&["a1"], false));
    assert_eq!(page(s, &ab, 0, HistoryCursor::Before(&mid("a1")), 3), v(&[], false));
    // Exactly the remaining count: no more.
    assert_eq!(page(s, &ab, 0, HistoryCursor::Before(&mid("a4")), 3), v(&["a1", "a2", "a3"], false));
    let all = s.history(&ab, 0, HistoryCursor::Latest, 7).unwrap().unwrap();
    assert_eq!(all, HistoryPage { messages: conv, more: false });
    assert_eq!(page(s, &ab, 0, HistoryCursor::Latest, usize::MAX).0.len(), 7);
    // A zero limit still tells whether there is anything in that direction.
    assert_eq!(page(s, &ab, 0, HistoryCursor::Latest, 0), v(&[], true));
    assert_eq!(page(s, &dm("carol", "alice"), 0, HistoryCursor::Latest, 10), v(&["c1", "c2", "c3"], false));
    // Rooms do not mix, even where their numbers coincide; a room without messages has an empty page.
    assert_eq!(page(s, &room("g"), 0, HistoryCursor::Latest, 2), v(&["g7", "g8"], true));
    assert_eq!(page(s, &dm("alice", "dave"), 0, HistoryCursor::Latest, 10), v(&[], false));
}

pub fn history_after(s: &mut dyn Storage) {
    let (conv, _) = history_setup(s);
    let ab = dm("alice", "bob");
    let p = s.history(&ab, 0, HistoryCursor::After(&mid("a1")), 3).unwrap().unwrap();
    assert_eq!((ids(&p), p.more), (vec!["a2", "a3", "a4"], true));
    assert_eq!(p.messages, conv[1..4].to_vec());
    assert_eq!(page(s, &ab, 0, HistoryCursor::After(&mid("a4")), 3), v(&["a5", "a6", "a7"], false));
    assert_eq!(page(s, &ab, 0, HistoryCursor::After(&mid("a6")), 3), v(&["a7"], false));
    assert_eq!(page(s, &ab, 0, HistoryCursor::After(&mid("a7")), 3), v(&[], false));
    assert_eq!(page(s, &ab, 0, HistoryCursor::After(&mid("a6")), 0), v(&[], true));
}

pub fn history_since_joining(s: &mut dyn Storage) {
    let (_, group) = history_setup(s);
    let g = room("g");
    // Joined after message 3: g4..g8 only, whichever way one pages.
    assert_eq!(page(s, &g, 3, HistoryCursor::Latest, 3), v(&["g6", "g7", "g8"], true));
    assert_eq!(page(s, &g, 3, HistoryCursor::Before(&mid("g6")), 3), v(&["g4", "g5"], false));
    assert_eq!(page(s, &g, 3, HistoryCursor::Before(&mid("g7")), 3), v(&["g4", "g5", "g6"], false));
    assert_eq!(page(s, &g, 3, HistoryCursor::Before(&mid("g8")), 3), v(&["g5", "g6", "g7"], true));
    assert_eq!(page(s, &g, 3, HistoryCursor::Before(&mid("g4")), 3), v(&[], false));
    assert_eq!(page(s, &g, 3, HistoryCursor::After(&mid("g4")), 2), v(&["g5", "g6"], true));
    assert_eq!(page(s, &g, 3, HistoryCursor::After(&mid("g5")), 3), v(&["g6", "g7", "g8"], false));
    assert_eq!(page(s, &g, 3, HistoryCursor::After(&mid("g8")), 3), v(&[], false));
    let visible = s.history(&g, 3, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(visible.messages, group[3..].to_vec());
    assert_eq!(page(s, &g, 3, HistoryCursor::Before(&mid("g5")), 0), v(&[], true));
    assert_eq!(page(s, &g, 3, HistoryCursor::Before(&mid("g4")), 0), v(&[], false));
    // Joined after the last message, or beyond any number: nothing yet.
    assert_eq!(page(s, &g, 8, HistoryCursor::Latest, 10), v(&[], false));
    assert_eq!(page(s, &g, u64::MAX, HistoryCursor::Latest, 10), v(&[], false));
}

pub fn history_bad_cursors(s: &mut dyn Storage) {
    history_setup(s);
    let (ab, g) = (dm("alice", "bob"), room("g"));
    for cursor in ["c1", "g5", "nope", ""] {
        assert_eq!(s.history(&ab, 0, HistoryCursor::Before(&mid(cursor)), 5).unwrap(), None, "{cursor}");
        assert_eq!(s.history(&ab, 0, HistoryCursor::After(&mid(cursor)), 5).unwrap(), None, "{cursor}");
    }
    // Sent before the member joined (numbered <= since), down to the boundary; another room's message.
    for cursor in ["g3", "g1", "a5"] {
        assert_eq!(s.history(&g, 3, HistoryCursor::Before(&mid(cursor)), 5).unwrap(), None, "{cursor}");
    }
    // The same cursor is fine for a member who sees it.
    assert!(s.history(&g, 2, HistoryCursor::Before(&mid("g3")), 5).unwrap().is_some());
    // a1 is alice↔bob, not alice↔carol.
    assert_eq!(s.history(&dm("alice", "carol"), 0, HistoryCursor::After(&mid("a1")), 5).unwrap(), None);
}

pub fn messages_survive_handle_removal(s: &mut dyn Storage) {
    let (msgs, _) = stream_setup(s);
    apply_all(s, &[Mutation::RemoveHandle(handle("alice"))]);
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(seqs(&s.stream_page(&addr("bob"), 0, u64::MAX, 100).unwrap()), vec![1, 2, 3, 4]);
    // Messages stay: they are also the other members' history, and a resend of the removed handle's is recognised.
    let page = s.history(&dm("bob", "alice"), 0, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(ids(&page), vec!["m1", "m2"]);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-g1").unwrap(), Some((msgs[2].clone(), 4)));
    assert_eq!(load(s).heads, vec![(handle("bob"), 4), (handle("carol"), 1)]);
}

pub fn reads_see_applied_but_uncommitted(s: &mut dyn Storage) {
    let m = message("m1", "alice", "bob", 1);
    s.apply(&Mutation::PutRoom(room_rec(&m.room, RoomKind::Direct, None))).unwrap();
    s.apply(&store(&m, 1, &[("alice", 1), ("bob", 1)])).unwrap();
    s.apply(&append_event("bob", 2, 2, Event::RequestCancelled { peer: addr("alice") })).unwrap();
    assert_eq!(s.load().unwrap().rooms, vec![room_rec(&m.room, RoomKind::Direct, None)]);
    assert_eq!(seqs(&s.stream_page(&addr("bob"), 0, 9, 9).unwrap()), vec![1, 2]);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m1").unwrap(), Some((m.clone(), 1)));
    let page = s.history(&m.room, 0, HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![m.clone()]);
    let tracked = receipt_rec("m1", "bob", "alice", &m.room, Some(1));
    s.apply(&Mutation::PutReceipt(tracked.clone())).unwrap();
    assert_eq!(s.receipt(&mid("m1"), &addr("bob")).unwrap(), Some(tracked.clone()));
    assert_eq!(s.message_receipts(&mid("m1"), 9).unwrap(), vec![tracked.clone()]);
    assert_eq!(s.undelivered_receipts(&addr("bob"), 0, 9, 9).unwrap(), vec![tracked]);
    s.commit().unwrap();
    s.commit().unwrap();
    assert_eq!(load(s).heads, vec![(handle("alice"), 1), (handle("bob"), 2)]);
}

pub fn every_event_round_trips(s: &mut dyn Storage) {
    let peer = addr("zed@far.example");
    let g = room("g-1");
    let change = |change| Event::Room { peer: peer.clone(), room: g.clone(), change };
    let events = vec![
        Event::RequestReceived { peer: peer.clone(), greeting: None },
        Event::RequestReceived { peer: peer.clone(), greeting: Some("hello\nthere".to_owned()) },
        Event::RequestAnswered { peer: peer.clone(), answer: RequestAnswer::Accept },
        Event::RequestAnswered { peer: peer.clone(), answer: RequestAnswer::Reject },
        Event::RequestCancelled { peer: peer.clone() },
        Event::DeletionNotice { peer: peer.clone(), asks_delete: false },
        Event::DeletionAnswered { peer: peer.clone(), answer: DeletionAnswer::Confirm },
        Event::DeletionAnswered { peer: peer.clone(), answer: DeletionAnswer::Refuse },
        Event::HandleRemoved { peer: peer.clone() },
        Event::RoomInvite { peer: peer.clone(), room: g.clone(), title: None },
        Event::RoomInvite { peer: peer.clone(), room: room("g-2@far.example"), title: Some("Crew ✓".to_owned()) },
        change(RoomChange::Created {
            members: vec![peer.clone(), addr("alice")],
            title: None,
            promoted: false,
            opening: None,
        }),
        change(RoomChange::Created { members: vec![], title: Some("t".to_owned()), promoted: true, opening: None }),
        change(RoomChange::Joined { who: addr("bob") }),
        change(RoomChange::Left),
        change(RoomChange::Removed { who: addr("bob") }),
        change(RoomChange::Renamed { title: None }),
        change(RoomChange::Renamed { title: Some("new".to_owned()) }),
        change(RoomChange::OwnerChanged),
        change(RoomChange::Ended { reason: None }),
    ];
    let items: Vec<StreamItem> =
        events.into_iter().zip(1..).map(|(event, seq)| event_item(seq, seq as i64 * 10, event)).collect();
    let mutations: Vec<Mutation> =
        items.iter().map(|item| Mutation::AppendItem { handle: handle("alice"), item: item.clone() }).collect();
    apply_all(s, &mutations);
    assert_eq!(s.stream_page(&addr("alice"), 0, 100, 100).unwrap(), items);
}

/// The messages table is the one copy of a message: a message item appended on its own, or an item of a kind this
/// build does not know, would be an orphan no history shows. Refused, and the batch goes on.
pub fn a_message_item_is_not_appended_on_its_own(s: &mut dyn Storage) {
    let m = message("m1", "alice", "bob", 1);
    for body in [ItemBody::Message { message: m }, ItemBody::Unknown] {
        let item = StreamItem { seq: 1, at: 1, body };
        assert!(s.apply(&Mutation::AppendItem { handle: handle("alice"), item }).is_err());
    }
    apply_all(s, &[append_event("alice", 1, 1, Event::HandleRemoved { peer: addr("bob") })]);
    assert_eq!(seqs(&s.stream_page(&addr("alice"), 0, 9, 9).unwrap()), vec![1]);
}
