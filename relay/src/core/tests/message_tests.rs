//! Direct messages: store-then-ack, fan-out, idempotency, resume and history.

use super::*;

fn stored(frame: ServerFrame) -> (MessageId, u64) {
    match frame {
        ServerFrame::Stored { message_id, seq, .. } => (message_id, seq),
        other => panic!("expected stored, got {other:?}"),
    }
}

#[test]
fn messages_reach_every_connection_of_both_sides_once() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    let a2 = t.login("alice");
    let b2 = t.login("bob");
    t.clear();
    let (id, seq) = stored(t.dm(a, "bob", "hi bob 👋"));
    assert!(t.messages(a).is_empty(), "the sender's own connection has the `stored` answer instead");
    let mirror = t.messages(a2);
    assert_eq!(mirror.len(), 1);
    assert_eq!(mirror[0].id, id);
    for conn in [b, b2] {
        let got = t.messages(conn);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].id.as_str(), got[0].body.as_str(), &got[0].from),
            (id.as_str(), "hi bob 👋", &addr("alice"))
        );
    }
    assert!(seq > 0);
}

#[test]
fn resending_with_the_same_client_id_never_duplicates() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::Accept);
    let send = |body: &str| {
        let body = body.to_owned();
        move |id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body,
                client_msg_id: "m-1".into(),
                receipts: false,
            })
        }
    };
    let first = stored(t.request(a, send("once")));
    let again = stored(t.request(a, send("once")));
    assert_eq!(first, again);
    assert_eq!(t.messages(b).len(), 1);
    assert_eq!(t.err(a, send("different")), ErrorCode::DuplicateClientMsgId);
}

#[test]
fn invalid_bodies_and_ids_are_refused() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::Accept);
    let send = |body: String, cmid: &str| {
        let cmid = cmid.to_owned();
        move |id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body,
                client_msg_id: cmid,
                receipts: false,
            })
        }
    };
    assert_eq!(t.err(a, send("x".repeat(8193), "a")), ErrorCode::BadBody);
    assert_eq!(t.err(a, send("bell\u{7}".into(), "b")), ErrorCode::BadBody);
    assert_eq!(t.err(a, send("   ".into(), "c")), ErrorCode::BadBody);
    assert_eq!(t.err(a, send("fine".into(), "has space")), ErrorCode::BadClientMsgId);
    assert!(matches!(t.request(a, send("x".repeat(8192), "d")), ServerFrame::Stored { .. }));
    assert!(matches!(t.request(a, send("line one\n\tline two".into(), "e")), ServerFrame::Stored { .. }));
    assert!(t.take(b).len() >= 2);
}

#[test]
fn offline_recipients_resume_exactly_the_gap() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    // Bob reads and acks the first message, then goes offline.
    t.dm(a, "bob", "one");
    let seq1 = match t.take(b).into_iter().find_map(|f| match f {
        ServerFrame::Deliver { item, .. } => Some(item.seq),
        _ => None,
    }) {
        Some(seq) => seq,
        None => panic!("bob got nothing"),
    };
    t.send(b, ClientFrame::Ack(Ack { id: None, acting: None, seq: seq1 }));
    t.disconnect(b);
    for body in ["two", "three", "four"] {
        t.dm(a, "bob", body);
    }
    let b = t.connect();
    let session = t.request(b, |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("bob"),
            password: "bob-password".into(),
            device: None,
            presence: None,
        })
    });
    let ServerFrame::Session { handles, .. } = &session else { panic!("{session:?}") };
    assert_eq!(handles[0].acked, seq1);
    let head = handles[0].head;
    // Live items after login arrive as pushes, and sync covers exactly (acked, head].
    t.dm(a, "bob", "five");
    let live = t.messages(b);
    assert_eq!(live.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["five"]);
    let ServerFrame::Batch { items, more, .. } =
        t.request(b, |id| ClientFrame::Sync(Sync { id, acting: None, after: seq1, limit: Some(2) }))
    else {
        panic!()
    };
    assert!(more);
    let mut bodies: Vec<String> = Vec::new();
    let mut last = seq1;
    let mut page = items;
    loop {
        for item in &page {
            assert_eq!(item.seq, last + 1, "no gap, no duplicate");
            last = item.seq;
            if let ItemBody::Message { message } = &item.body {
                bodies.push(message.body.clone());
            }
        }
        let ServerFrame::Batch { items, more, .. } =
            t.request(b, |id| ClientFrame::Sync(Sync { id, acting: None, after: last, limit: Some(2) }))
        else {
            panic!()
        };
        page = items;
        if !more {
            assert!(page.is_empty() || page.last().map(|i| i.seq) == Some(head));
            for item in &page {
                if let ItemBody::Message { message } = &item.body {
                    bodies.push(message.body.clone());
                }
                last = item.seq;
            }
            break;
        }
    }
    assert_eq!(last, head);
    assert_eq!(bodies, vec!["two", "three", "four"]);
    assert_eq!(
        t.err(b, |id| ClientFrame::Sync(Sync { id, acting: None, after: head + 10, limit: None })),
        ErrorCode::BadCursor
    );
    assert_eq!(
        t.err(b, |id| ClientFrame::Ack(Ack { id: Some(id), acting: None, seq: head + 10 })),
        ErrorCode::BadCursor
    );
}

#[test]
fn history_pages_both_ways() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    for i in 0..7 {
        let from = if i % 2 == 0 { a } else { b };
        let to = if i % 2 == 0 { "bob" } else { "alice" };
        t.dm(from, to, &format!("m{i}"));
    }
    let ServerFrame::History { messages, more, .. } = t.request(a, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: None,
            with: Some(addr("bob")),
            before: None,
            after: None,
            limit: Some(3),
        })
    }) else {
        panic!()
    };
    assert_eq!(messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["m4", "m5", "m6"]);
    assert!(more);
    let oldest = messages[0].id.clone();
    let ServerFrame::History { messages, more, .. } = t.request(b, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: None,
            with: Some(addr("alice")),
            before: Some(oldest),
            after: None,
            limit: Some(10),
        })
    }) else {
        panic!()
    };
    assert_eq!(messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["m0", "m1", "m2", "m3"]);
    assert!(!more);
    let first = messages[0].id.clone();
    let ServerFrame::History { messages, more, .. } = t.request(a, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: None,
            with: Some(addr("bob")),
            before: None,
            after: Some(first),
            limit: Some(2),
        })
    }) else {
        panic!()
    };
    assert_eq!(messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["m1", "m2"]);
    assert!(more);
    assert_eq!(
        t.err(a, |id| ClientFrame::History(History {
            id,
            acting: None,
            room: None,
            with: Some(addr("bob")),
            before: Some("nope".into()),
            after: None,
            limit: None,
        })),
        ErrorCode::BadCursor
    );
}

#[test]
fn a_direct_room_can_be_named_by_its_id_before_anything_is_said_in_it() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    let ServerFrame::Friends { list, .. } = t.request(a, |id| ClientFrame::GetFriends(GetFriends { id, acting: None }))
    else {
        panic!("a friends answer")
    };
    let room = entry(&list, "bob").map(|e| e.room.clone()).unwrap();
    t.clear();
    // Every frame that names a room takes it, as the friend entry shows it, from the start.
    let page = t.request(a, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: Some(room.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })
    });
    assert!(
        matches!(&page, ServerFrame::History { room: r, messages, .. } if *r == room && messages.is_empty()),
        "{page:?}"
    );
    t.ok(a, |id| ClientFrame::Typing(Typing { id: Some(id), acting: None, room: Some(room.clone()), to: None }));
    assert!(t.take(b).iter().any(|f| matches!(f, ServerFrame::Typing { room: r, .. } if *r == room)));
    assert_eq!(
        t.err(a, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: room.clone() })),
        ErrorCode::BadFrame,
        "a direct room cannot be left, used or not"
    );
    let sent = t.request(a, |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(room.clone()),
            to: None,
            body: "first words".into(),
            client_msg_id: "first".into(),
            receipts: false,
        })
    });
    assert!(matches!(&sent, ServerFrame::Stored { room: r, .. } if *r == room), "{sent:?}");
    assert_eq!(t.messages(b).iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["first words"]);
    // Someone it does not belong to learns nothing from the id: the answer is the one for any room one is not in.
    let other = crate::ids::direct_room_id(&addr("alice"), &addr("dave"));
    assert_eq!(
        t.err(c, |id| ClientFrame::Typing(Typing { id: Some(id), acting: None, room: Some(room.clone()), to: None })),
        ErrorCode::NotInRoom
    );
    assert_eq!(
        t.err(a, |id| ClientFrame::Typing(Typing { id: Some(id), acting: None, room: Some(other.clone()), to: None })),
        ErrorCode::NotInRoom
    );
}
