//! Delivery and read receipts: recorded on ack and on read, reported once each as `receipt` items in the sender's
//! stream (batched per conversation), resumable with `sync`, shown in history, never across a block, never for
//! messages that did not ask, and never to anyone but the sender.

use huddle_shared::limits::MAX_READ_IDS;

use super::*;

/// Sends a direct message asking for receipts; returns (message id, tracked recipients).
fn dm_receipts(t: &mut Harness, from: ConnId, to: &str, body: &str) -> (MessageId, Vec<Address>) {
    let cmid = format!("r{}", t.id());
    let (to, body) = (addr(to), body.to_owned());
    match t.request(from, |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: None,
            to: Some(to),
            body,
            client_msg_id: cmid,
            receipts: true,
        })
    }) {
        ServerFrame::Stored { message_id, recipients, .. } => (message_id, recipients),
        other => panic!("expected stored, got {other:?}"),
    }
}

fn group_receipts(t: &mut Harness, from: ConnId, group: &RoomId, body: &str) -> (MessageId, Vec<Address>) {
    let cmid = format!("g{}", t.id());
    let (group, body) = (group.clone(), body.to_owned());
    match t.request(from, |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(group),
            to: None,
            body,
            client_msg_id: cmid,
            receipts: true,
        })
    }) {
        ServerFrame::Stored { message_id, recipients, .. } => (message_id, recipients),
        other => panic!("expected stored, got {other:?}"),
    }
}

/// The receipt items pushed to `conn` since the last take.
fn receipts(t: &mut Harness, conn: ConnId) -> Vec<Receipt> {
    t.take(conn)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Deliver { item: StreamItem { body: ItemBody::Receipt { receipt }, .. }, .. } => Some(receipt),
            _ => None,
        })
        .collect()
}

/// The direct room of two handles.
fn dm(a: &str, b: &str) -> RoomId {
    crate::ids::direct_room_id(&addr(a), &addr(b))
}

fn delivered(by: &str, ids: &[&MessageId], room: &RoomId) -> Receipt {
    Receipt {
        by: addr(by),
        state: ReceiptState::Delivered,
        message_ids: ids.iter().map(|id| (*id).clone()).collect(),
        room: room.clone(),
    }
}

fn read(by: &str, ids: &[&MessageId], room: &RoomId) -> Receipt {
    Receipt { state: ReceiptState::Read, ..delivered(by, ids, room) }
}

/// `conn` acknowledges its whole stream, as a client does after storing what it got.
fn ack_all(t: &mut Harness, conn: ConnId) {
    let head = t.core.state().head(&t.handle_of[&conn]);
    t.send(conn, ClientFrame::Ack(Ack { id: None, acting: None, seq: head }));
}

fn read_ids(t: &mut Harness, conn: ConnId, ids: &[&MessageId]) {
    let message_ids = ids.iter().map(|id| (*id).clone()).collect();
    t.ok(conn, |id| ClientFrame::Read(Read { id: Some(id), acting: None, message_ids }));
}

/// alice and bob, friends both ways, with a second connection of alice.
fn pair() -> (Harness, ConnId, ConnId, ConnId) {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    let a2 = t.login("alice");
    t.clear();
    (t, a, a2, b)
}

#[test]
fn an_ack_reports_delivery_to_the_sender_only() {
    let (mut t, a, a2, b) = pair();
    let (m, recipients) = dm_receipts(&mut t, a, "bob", "did you get this?");
    assert_eq!(recipients, vec![addr("bob")]);
    // The recipient's copy says receipts were asked, so its client knows to send `read`.
    let got = t.messages(b);
    assert!(got.len() == 1 && got[0].receipts, "{got:?}");
    assert!(receipts(&mut t, a).is_empty(), "nothing is delivered before an ack");
    ack_all(&mut t, b);
    assert_eq!(receipts(&mut t, a), vec![delivered("bob", &[&m], &dm("alice", "bob"))]);
    assert_eq!(
        receipts(&mut t, a2),
        vec![delivered("bob", &[&m], &dm("alice", "bob"))],
        "every connection of the sender"
    );
    assert!(receipts(&mut t, b).is_empty(), "the recipient hears nothing of it");
    // Acknowledged once, reported once: acking again, or further, reports nothing new.
    ack_all(&mut t, b);
    t.dm(a, "bob", "no receipts for this one");
    ack_all(&mut t, b);
    assert!(receipts(&mut t, a).is_empty());
}

#[test]
fn a_read_is_reported_after_the_delivery_and_only_once() {
    let (mut t, a, _a2, b) = pair();
    let (m, _) = dm_receipts(&mut t, a, "bob", "hello");
    ack_all(&mut t, b);
    assert_eq!(receipts(&mut t, a), vec![delivered("bob", &[&m], &dm("alice", "bob"))]);
    read_ids(&mut t, b, &[&m]);
    assert_eq!(receipts(&mut t, a), vec![read("bob", &[&m], &dm("alice", "bob"))]);
    // Without an id a read is not answered at all.
    t.take(b);
    t.send(b, ClientFrame::Read(Read { id: None, acting: None, message_ids: vec![m.clone()] }));
    assert!(t.take(b).is_empty());
    read_ids(&mut t, b, &[&m, &m]);
    assert!(receipts(&mut t, a).is_empty(), "a second read reports nothing");
}

#[test]
fn a_read_before_the_ack_reports_delivered_then_read() {
    let (mut t, a, _a2, b) = pair();
    let (m1, _) = dm_receipts(&mut t, a, "bob", "one");
    let (m2, _) = dm_receipts(&mut t, a, "bob", "two");
    read_ids(&mut t, b, &[&m2, &m1]);
    assert_eq!(
        receipts(&mut t, a),
        vec![delivered("bob", &[&m2, &m1], &dm("alice", "bob")), read("bob", &[&m2, &m1], &dm("alice", "bob"))]
    );
    ack_all(&mut t, b);
    assert!(receipts(&mut t, a).is_empty(), "the ack finds both delivered already");

    // With one of them acknowledged already, only the other is delivered by the read; every delivery still comes
    // before any read.
    let (m3, _) = dm_receipts(&mut t, a, "bob", "three");
    ack_all(&mut t, b);
    let (m4, _) = dm_receipts(&mut t, a, "bob", "four");
    assert_eq!(receipts(&mut t, a), vec![delivered("bob", &[&m3], &dm("alice", "bob"))]);
    read_ids(&mut t, b, &[&m3, &m4]);
    assert_eq!(
        receipts(&mut t, a),
        vec![delivered("bob", &[&m4], &dm("alice", "bob")), read("bob", &[&m3, &m4], &dm("alice", "bob"))]
    );
}

#[test]
fn no_receipts_are_tracked_unless_asked() {
    let (mut t, a, _a2, b) = pair();
    let ServerFrame::Stored { message_id, recipients, .. } = t.dm(a, "bob", "plain") else { panic!() };
    assert!(recipients.is_empty());
    assert!(!t.messages(b)[0].receipts);
    ack_all(&mut t, b);
    read_ids(&mut t, b, &[&message_id]);
    assert!(receipts(&mut t, a).is_empty());
    let ServerFrame::History { receipts, .. } = t.request(a, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: None,
            with: Some(addr("bob")),
            before: None,
            after: None,
            limit: None,
        })
    }) else {
        panic!()
    };
    assert!(receipts.is_empty());
}

#[test]
fn a_resend_answers_with_the_same_recipients() {
    let (mut t, a, _a2, _b) = pair();
    let send = |receipts: bool| {
        move |id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body: "once".into(),
                client_msg_id: "same".into(),
                receipts,
            })
        }
    };
    let ServerFrame::Stored { message_id, recipients, .. } = t.request(a, send(true)) else { panic!() };
    assert_eq!(recipients, vec![addr("bob")]);
    // The first send decides; `receipts` is not part of what a resend must repeat.
    for again in [true, false] {
        let ServerFrame::Stored { message_id: same, recipients: listed, .. } = t.request(a, send(again)) else {
            panic!()
        };
        assert_eq!((same.as_str(), listed.as_slice()), (message_id.as_str(), recipients.as_slice()));
    }
}

/// alice, bob, carol and dave in a group made by alice; dave blocked alice after joining.
fn group_with_a_blocker() -> (Harness, [ConnId; 4], RoomId) {
    let mut t = Harness::new();
    let conns = ["alice", "bob", "carol", "dave"].map(|h| t.register(h));
    // Everyone knows everyone, so all join at once.
    for (i, &one) in conns.iter().enumerate() {
        for &other in &conns[i + 1..] {
            t.befriend(one, other, RequestAnswer::AcceptMutual);
        }
    }
    let members = vec![addr("bob"), addr("carol"), addr("dave")];
    let ServerFrame::Room { room: group, .. } = t.request(conns[0], |id| {
        ClientFrame::CreateGroup(CreateGroup { id, acting: None, members, title: None, promoted: false, opening: None })
    }) else {
        panic!()
    };
    t.ok(conns[3], |id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") }));
    t.clear();
    (t, conns, group.id)
}

#[test]
fn a_group_message_counts_every_other_member_and_a_blocker_never_confirms() {
    let (mut t, [a, b, c, d], g) = group_with_a_blocker();
    let (m, recipients) = group_receipts(&mut t, a, &g, "who's in?");
    // dave is counted though he gets nothing: "read by 2 of 3" must not give his block away.
    assert_eq!(recipients, vec![addr("bob"), addr("carol"), addr("dave")]);
    let group = g.clone();
    let g = &group;
    ack_all(&mut t, b);
    assert_eq!(receipts(&mut t, a), vec![delivered("bob", &[&m], g)]);
    read_ids(&mut t, c, &[&m]);
    assert_eq!(receipts(&mut t, a), vec![delivered("carol", &[&m], g), read("carol", &[&m], g)]);
    read_ids(&mut t, b, &[&m]);
    assert_eq!(receipts(&mut t, a), vec![read("bob", &[&m], g)]);
    // dave has no copy: acking his stream and naming the id both change nothing.
    ack_all(&mut t, d);
    read_ids(&mut t, d, &[&m]);
    assert!(receipts(&mut t, a).is_empty());
    // Nobody but the sender heard of any of it.
    for conn in [b, c, d] {
        assert!(receipts(&mut t, conn).is_empty());
    }

    let ServerFrame::History { messages, receipts, .. } = t.request(a, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: Some(group.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })
    }) else {
        panic!()
    };
    assert!(messages[0].receipts);
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].message_id, m);
    let states: Vec<(String, bool, bool)> = receipts[0]
        .recipients
        .iter()
        .map(|r| (r.who.handle.to_string(), r.delivered_at.is_some(), r.read_at.is_some()))
        .collect();
    assert_eq!(
        states,
        vec![("bob".into(), true, true), ("carol".into(), true, true), ("dave".into(), false, false)],
        "read by 2 of 3"
    );
    // Other members see the message in history, but not its receipts: those are the sender's.
    let ServerFrame::History { receipts, .. } = t.request(b, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: Some(group.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })
    }) else {
        panic!()
    };
    assert!(receipts.is_empty());
}

#[test]
fn one_ack_reports_one_item_per_conversation() {
    let (mut t, [a, b, c, _d], g) = group_with_a_blocker();
    let (a1, _) = dm_receipts(&mut t, a, "bob", "a1");
    let (c1, _) = dm_receipts(&mut t, c, "bob", "c1");
    let (a2, _) = dm_receipts(&mut t, a, "bob", "a2");
    let (ag, _) = group_receipts(&mut t, a, &g, "ag");
    t.dm(a, "bob", "not tracked");
    let (a3, _) = dm_receipts(&mut t, a, "bob", "a3");
    t.clear();
    ack_all(&mut t, b);
    // alice's direct messages in one item (in bob's stream order), her group message in another; carol's in hers.
    assert_eq!(
        receipts(&mut t, a),
        vec![delivered("bob", &[&a1, &a2, &a3], &dm("alice", "bob")), delivered("bob", &[&ag], &g)]
    );
    assert_eq!(receipts(&mut t, c), vec![delivered("bob", &[&c1], &dm("carol", "bob"))]);
}

#[test]
fn long_lists_are_split_into_items_of_at_most_max_read_ids() {
    let (mut t, a, _a2, b) = pair();
    let ids: Vec<MessageId> =
        (0..MAX_READ_IDS + 10).map(|i| dm_receipts(&mut t, a, "bob", &format!("m{i}")).0).collect();
    t.clear();
    ack_all(&mut t, b);
    let got = receipts(&mut t, a);
    assert_eq!(got.iter().map(|r| r.message_ids.len()).collect::<Vec<_>>(), vec![MAX_READ_IDS, 10]);
    assert_eq!(got.into_iter().flat_map(|r| r.message_ids).collect::<Vec<_>>(), ids);
}

#[test]
fn receipts_wait_in_the_stream_for_a_sender_who_is_away() {
    let (mut t, a, a2, b) = pair();
    let (m, _) = dm_receipts(&mut t, a, "bob", "see you");
    for conn in [a, a2] {
        t.disconnect(conn);
    }
    ack_all(&mut t, b);
    read_ids(&mut t, b, &[&m]);
    let a = t.login("alice");
    let ServerFrame::Batch { items, .. } =
        t.request(a, |id| ClientFrame::Sync(Sync { id, acting: None, after: 0, limit: None }))
    else {
        panic!()
    };
    let reports: Vec<Receipt> = items
        .into_iter()
        .filter_map(|i| match i.body {
            ItemBody::Receipt { receipt } => Some(receipt),
            _ => None,
        })
        .collect();
    assert_eq!(reports, vec![delivered("bob", &[&m], &dm("alice", "bob")), read("bob", &[&m], &dm("alice", "bob"))]);
}

#[test]
fn history_shows_the_senders_receipts_for_their_own_messages() {
    let (mut t, a, _a2, b) = pair();
    let (m1, _) = dm_receipts(&mut t, a, "bob", "one");
    let (m2, _) = dm_receipts(&mut t, a, "bob", "two");
    let (from_bob, _) = dm_receipts(&mut t, b, "alice", "from bob");
    t.dm(a, "bob", "untracked");
    ack_all(&mut t, b);
    read_ids(&mut t, b, &[&m1]);
    let history = |t: &mut Harness, conn: ConnId, with: &str| {
        let with = addr(with);
        match t.request(conn, |id| {
            ClientFrame::History(History {
                id,
                acting: None,
                room: None,
                with: Some(with),
                before: None,
                after: None,
                limit: None,
            })
        }) {
            ServerFrame::History { receipts, .. } => receipts,
            other => panic!("{other:?}"),
        }
    };
    let mine = history(&mut t, a, "bob");
    assert_eq!(mine.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>(), vec![m1.as_str(), m2.as_str()]);
    let state = |r: &MessageReceipts| {
        let only = &r.recipients[..];
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].who, addr("bob"));
        (only[0].delivered_at.is_some(), only[0].read_at.is_some())
    };
    assert_eq!(state(&mine[0]), (true, true));
    assert_eq!(state(&mine[1]), (true, false));
    // bob sees the receipts of his own message only (none yet), never those of alice's.
    let his = history(&mut t, b, "alice");
    assert_eq!(his.len(), 1);
    assert_eq!(his[0].message_id, from_bob);
    assert_eq!(his[0].recipients[0].delivered_at, None);
}

#[test]
fn a_read_of_ids_the_handle_did_not_receive_with_receipts_is_ignored() {
    let (mut t, a, _a2, b) = pair();
    let c = t.register("carol");
    t.befriend(a, c, RequestAnswer::AcceptMutual);
    let (to_carol, _) = dm_receipts(&mut t, a, "carol", "for carol");
    let (own, _) = dm_receipts(&mut t, b, "alice", "bob's own");
    let ServerFrame::Stored { message_id: plain, .. } = t.dm(a, "bob", "no receipts") else { panic!() };
    t.clear();
    // Unknown, someone else's, one's own, one that did not ask: no error, no report, to anyone.
    let (unknown, empty) = (MessageId::new("no-such-message"), MessageId::new(""));
    read_ids(&mut t, b, &[&unknown, &to_carol, &own, &plain, &empty]);
    for conn in [a, b, c] {
        assert!(receipts(&mut t, conn).is_empty());
    }
    assert!(t.take(b).is_empty());
}

#[test]
fn a_read_naming_too_many_ids_is_refused() {
    let (mut t, a, _a2, b) = pair();
    let (m, _) = dm_receipts(&mut t, a, "bob", "hi");
    let mut too_many: Vec<MessageId> = (0..MAX_READ_IDS).map(|i| MessageId::new(format!("x{i}"))).collect();
    too_many.push(m.clone());
    let answer =
        t.request(b, |id| ClientFrame::Read(Read { id: Some(id), acting: None, message_ids: too_many.clone() }));
    let ServerFrame::Error { code, message, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(code, ErrorCode::BadFrame);
    assert!(message.contains("at most 256"), "{message}");
    // Refused as a whole; without an id not even the refusal is answered.
    t.take(b);
    t.send(b, ClientFrame::Read(Read { id: None, acting: None, message_ids: too_many }));
    assert!(t.take(b).is_empty());
    assert!(receipts(&mut t, a).is_empty());
    // Exactly the limit is fine.
    let mut at_limit: Vec<MessageId> = (1..MAX_READ_IDS).map(|i| MessageId::new(format!("x{i}"))).collect();
    at_limit.push(m.clone());
    t.ok(b, |id| ClientFrame::Read(Read { id: Some(id), acting: None, message_ids: at_limit }));
    assert_eq!(
        receipts(&mut t, a),
        vec![delivered("bob", &[&m], &dm("alice", "bob")), read("bob", &[&m], &dm("alice", "bob"))]
    );
}

#[test]
fn nothing_is_reported_while_the_recipient_blocks_the_sender() {
    let (mut t, a, _a2, b) = pair();
    let (m1, _) = dm_receipts(&mut t, a, "bob", "one");
    let (m2, _) = dm_receipts(&mut t, a, "bob", "two");
    t.ok(b, |id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") }));
    t.clear();
    ack_all(&mut t, b);
    read_ids(&mut t, b, &[&m1]);
    assert!(receipts(&mut t, a).is_empty(), "a block hides delivery and reading");
    let record = t.core.storage().receipt(&m1, &addr("bob")).unwrap().unwrap();
    assert_eq!((record.delivered_at, record.read_at), (None, None), "and records nothing");
    // After the unblock the ack already passed them: only reads report, and a read implies delivery.
    t.ok(b, |id| ClientFrame::Unblock(Unblock { id, acting: None, target: addr("alice") }));
    ack_all(&mut t, b);
    assert!(receipts(&mut t, a).is_empty());
    read_ids(&mut t, b, &[&m2]);
    assert_eq!(
        receipts(&mut t, a),
        vec![delivered("bob", &[&m2], &dm("alice", "bob")), read("bob", &[&m2], &dm("alice", "bob"))]
    );
}

#[test]
fn a_long_acknowledgement_is_read_page_by_page_past_blocked_senders() {
    // More tracked messages than one storage page, half of them from a sender bob blocks: those are passed over
    // without being read again, and the rest arrive in full items.
    let (mut t, a, _a2, b) = pair();
    let c = t.register("carol");
    t.befriend(c, b, RequestAnswer::AcceptMutual);
    let mut from_alice = Vec::new();
    for i in 0..300 {
        from_alice.push(dm_receipts(&mut t, a, "bob", &format!("a{i}")).0);
        dm_receipts(&mut t, c, "bob", &format!("c{i}"));
    }
    t.ok(b, |id| ClientFrame::Block(Block { id, acting: None, target: addr("carol") }));
    t.clear();
    ack_all(&mut t, b);
    let got = receipts(&mut t, a);
    assert_eq!(got.iter().map(|r| r.message_ids.len()).collect::<Vec<_>>(), vec![MAX_READ_IDS, 300 - MAX_READ_IDS]);
    assert_eq!(got.into_iter().flat_map(|r| r.message_ids).collect::<Vec<_>>(), from_alice);
    assert!(receipts(&mut t, c).is_empty());
}
