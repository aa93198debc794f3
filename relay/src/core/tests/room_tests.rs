//! Group rooms: creation under each invitee's setting, the log of membership changes, messages to every member
//! but those who blocked the sender, history only since joining, leaving, removal, renaming, ownership, archiving.

use super::*;

fn group_of(frame: &ServerFrame) -> RoomInfo {
    match frame {
        ServerFrame::Room { room: group, .. } => group.clone(),
        other => panic!("expected a group, got {other:?}"),
    }
}

fn members(info: &RoomInfo) -> Vec<String> {
    info.members.iter().map(|m| m.address.handle.to_string()).collect()
}

fn group_messages(t: &mut Harness, conn: ConnId) -> Vec<Message> {
    t.take(conn)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } => Some(message),
            _ => None,
        })
        .collect()
}

fn group_changes(t: &mut Harness, conn: ConnId) -> Vec<RoomChange> {
    t.events(conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::Room { change, .. } => Some(change),
            _ => None,
        })
        .collect()
}

fn post_in(t: &mut Harness, conn: ConnId, group: &RoomId, body: &str) -> ServerFrame {
    let cmid = format!("g{}", t.id());
    let group = group.clone();
    let body = body.to_owned();
    t.request(conn, |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(group),
            to: None,
            body,
            client_msg_id: cmid,
            receipts: false,
        })
    })
}

/// alice, bob and carol, all friends of each other (both ways).
fn three() -> (Harness, ConnId, ConnId, ConnId) {
    let (mut t, a, b, c) = three_through_alice();
    t.befriend(b, c, RequestAnswer::AcceptMutual);
    (t, a, b, c)
}

/// alice, bob and carol: alice is friends with both (both ways); bob and carol do not know each other.
fn three_through_alice() -> (Harness, ConnId, ConnId, ConnId) {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.befriend(a, c, RequestAnswer::AcceptMutual);
    (t, a, b, c)
}

#[test]
fn nobody_is_put_with_a_stranger_without_being_asked() {
    let (mut t, a, b, c) = three_through_alice();
    let g = create(&mut t, a, &["bob", "carol"]);
    // bob joins alice at once; carol would be put with bob, whom she does not know: she is asked.
    assert_eq!(members(&g), vec!["alice", "bob"]);
    assert_eq!(g.invited, vec![addr("carol")]);
    assert!(!t.events(b).iter().any(|e| matches!(e, Event::RoomInvite { .. })));
    assert!(t.events(c).iter().any(|e| matches!(e, Event::RoomInvite { room, .. } if *room == g.id)));
    // Inviting carol into alice and bob's group asks carol too.
    let g2 = create(&mut t, a, &["bob"]);
    assert_eq!(members(&g2), vec!["alice", "bob"], "friends of everyone in it join at once");
    let room = g2.id.clone();
    let answer =
        t.request(a, |id| ClientFrame::InviteToRoom(InviteToRoom { id, acting: None, room, who: addr("carol") }));
    assert!(!matches!(answer, ServerFrame::Error { .. }), "{answer:?}");
    assert!(t.events(c).iter().any(|e| matches!(e, Event::RoomInvite { room, .. } if *room == g2.id)));
}

fn create(t: &mut Harness, conn: ConnId, with: &[&str]) -> RoomInfo {
    let members: Vec<Address> = with.iter().map(|w| addr(w)).collect();
    group_of(&t.request(conn, |id| {
        ClientFrame::CreateGroup(CreateGroup { id, acting: None, members, title: None, promoted: false, opening: None })
    }))
}

#[test]
fn friends_join_at_once_and_everyone_sees_the_same_messages_in_order() {
    let (mut t, a, b, c) = three();
    let g = create(&mut t, a, &["bob", "carol"]);
    assert_eq!(members(&g), vec!["alice", "bob", "carol"]);
    assert_eq!(g.owner, Some(addr("alice")));
    for conn in [b, c] {
        let frames = t.take(conn);
        assert!(
            frames.iter().any(|f| matches!(f, ServerFrame::Room { room: group, .. } if group.id == g.id)),
            "member list pushed"
        );
        assert!(frames.iter().any(|f| matches!(
            f,
            ServerFrame::Deliver {
                item: StreamItem {
                    body: ItemBody::Event { event: Event::Room { change: RoomChange::Created { .. }, .. } },
                    ..
                },
                ..
            }
        )));
    }
    t.take(a);
    assert!(matches!(post_in(&mut t, a, &g.id, "one"), ServerFrame::Stored { .. }));
    assert!(matches!(post_in(&mut t, b, &g.id, "two"), ServerFrame::Stored { .. }));
    assert!(matches!(post_in(&mut t, c, &g.id, "three"), ServerFrame::Stored { .. }));
    // Each sees the others' messages live (their own come as `stored`), in the relay's order.
    let bodies = |ms: Vec<Message>| ms.into_iter().map(|m| m.body).collect::<Vec<_>>();
    assert_eq!(bodies(group_messages(&mut t, a)), vec!["two", "three"]);
    assert_eq!(bodies(group_messages(&mut t, b)), vec!["one", "three"]);
    assert_eq!(bodies(group_messages(&mut t, c)), vec!["one", "two"]);
    let ServerFrame::History { messages, .. } = t.request(c, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: Some(g.id.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })
    }) else {
        panic!()
    };
    assert_eq!(bodies(messages), vec!["one", "two", "three"]);
}

#[test]
fn invitations_follow_the_invitees_setting() {
    let (mut t, a, b, c) = three_through_alice();
    let g = create(&mut t, a, &["bob"]);
    t.clear();
    // bob and carol are not related and share no group: bob cannot invite her.
    assert_eq!(
        t.err(b, |id| ClientFrame::InviteToRoom(InviteToRoom {
            id,
            acting: None,
            room: g.id.clone(),
            who: addr("carol")
        })),
        ErrorCode::NotReachable
    );
    // alice, her friend, can; carol's setting says to ask her.
    t.ok(c, |id| ClientFrame::SetInvitePolicy(SetInvitePolicy { id, acting: None, policy: InvitePolicy::Ask }));
    t.ok(a, |id| ClientFrame::InviteToRoom(InviteToRoom { id, acting: None, room: g.id.clone(), who: addr("carol") }));
    let asked = t.events(c);
    assert!(
        matches!(&asked[..], [Event::RoomInvite { peer, room: group, .. }] if *peer == addr("alice") && *group == g.id),
        "{asked:?}"
    );
    let ServerFrame::Rooms { invites, policy, .. } =
        t.request(c, |id| ClientFrame::GetRooms(GetRooms { id, acting: None }))
    else {
        panic!()
    };
    assert_eq!((invites.len(), policy), (1, InvitePolicy::Ask));
    t.ok(c, |id| {
        ClientFrame::AnswerRoomInvite(AnswerRoomInvite { id, acting: None, room: g.id.clone(), accept: true })
    });
    assert!(group_changes(&mut t, a).contains(&RoomChange::Joined { who: addr("carol") }));
    assert_eq!(
        t.err(c, |id| ClientFrame::AnswerRoomInvite(AnswerRoomInvite {
            id,
            acting: None,
            room: g.id.clone(),
            accept: true
        })),
        ErrorCode::NoSuchInvite
    );

    // Someone who refuses invitations is not added, and the inviter is told.
    let d = t.register("dave");
    t.befriend(a, d, RequestAnswer::AcceptMutual);
    t.ok(d, |id| ClientFrame::SetInvitePolicy(SetInvitePolicy { id, acting: None, policy: InvitePolicy::Refuse }));
    let code = t.err(a, |id| {
        ClientFrame::InviteToRoom(InviteToRoom { id, acting: None, room: g.id.clone(), who: addr("dave") })
    });
    assert_eq!(code, ErrorCode::NotReachable);
    // An unrelated handle cannot be invited at all.
    let e = t.register("erin");
    let _ = e;
    assert_eq!(
        t.err(a, |id| ClientFrame::InviteToRoom(InviteToRoom {
            id,
            acting: None,
            room: g.id.clone(),
            who: addr("erin")
        })),
        ErrorCode::NotReachable
    );
    assert_eq!(
        t.err(a, |id| ClientFrame::InviteToRoom(InviteToRoom {
            id,
            acting: None,
            room: g.id.clone(),
            who: addr("bob")
        })),
        ErrorCode::AlreadyInRoom
    );
}

#[test]
fn new_members_see_history_only_from_when_they_joined() {
    let (mut t, a, _b, c) = three();
    let g = create(&mut t, a, &["bob"]);
    post_in(&mut t, a, &g.id, "before carol");
    t.ok(a, |id| ClientFrame::InviteToRoom(InviteToRoom { id, acting: None, room: g.id.clone(), who: addr("carol") }));
    post_in(&mut t, a, &g.id, "after carol");
    let ServerFrame::History { messages, more, .. } = t.request(c, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: Some(g.id.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })
    }) else {
        panic!()
    };
    assert_eq!(messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["after carol"]);
    assert!(!more);
    assert_eq!(group_messages(&mut t, c).len(), 1, "nothing from before reaches carol live either");
}

#[test]
fn blocks_hold_inside_groups() {
    let (mut t, a, b, c) = three();
    let g = create(&mut t, a, &["bob", "carol"]);
    t.ok(c, |id| ClientFrame::Block(Block { id, acting: None, target: addr("bob") }));
    t.clear();
    post_in(&mut t, b, &g.id, "hi all");
    assert_eq!(group_messages(&mut t, a).len(), 1, "alice still sees bob");
    assert!(group_messages(&mut t, c).is_empty(), "nothing of bob's reaches carol");
    post_in(&mut t, c, &g.id, "hello");
    assert_eq!(group_messages(&mut t, b).len(), 1, "bob still sees carol: the block is carol's");
    let ServerFrame::History { messages, .. } = t.request(c, |id| {
        ClientFrame::History(History {
            id,
            acting: None,
            room: Some(g.id.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })
    }) else {
        panic!()
    };
    // History is the group's record; the client hides blocked senders there (documented).
    assert_eq!(messages.len(), 2);
}

#[test]
fn leaving_removing_renaming_and_ownership() {
    let (mut t, a, b, c) = three();
    let g = create(&mut t, a, &["bob", "carol"]);
    assert_eq!(
        t.err(b, |id| ClientFrame::RenameRoom(RenameRoom { id, acting: None, room: g.id.clone(), title: "x".into() })),
        ErrorCode::NotOwner
    );
    t.ok(a, |id| {
        ClientFrame::RenameRoom(RenameRoom { id, acting: None, room: g.id.clone(), title: "climbing".into() })
    });
    assert!(group_changes(&mut t, b).contains(&RoomChange::Renamed { title: Some("climbing".into()) }));
    assert_eq!(
        t.err(b, |id| ClientFrame::RemoveFromRoom(RemoveFromRoom {
            id,
            acting: None,
            room: g.id.clone(),
            who: addr("carol")
        })),
        ErrorCode::NotOwner
    );
    t.ok(a, |id| {
        ClientFrame::RemoveFromRoom(RemoveFromRoom { id, acting: None, room: g.id.clone(), who: addr("carol") })
    });
    let carol = t.take(c);
    assert!(carol.iter().any(|f| matches!(f, ServerFrame::RoomGone { room: group, .. } if *group == g.id)));
    assert_eq!(
        t.err(c, |id| ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(g.id.clone()),
            to: None,
            body: "hey".into(),
            client_msg_id: "x1".into(),
            receipts: false,
        })),
        ErrorCode::NotInRoom
    );
    // The owner leaves: bob owns it now.
    t.clear();
    t.ok(a, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: g.id.clone() }));
    let changes = group_changes(&mut t, b);
    assert!(changes.contains(&RoomChange::Left) && changes.contains(&RoomChange::OwnerChanged), "{changes:?}");
    assert_eq!(t.core.state().rooms[&g.id].owner, Some(addr("bob")));
    // The last member leaves: the group is archived and nobody can use it.
    t.ok(b, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: g.id.clone() }));
    assert!(t.core.state().rooms[&g.id].ended);
    assert_eq!(
        t.err(b, |id| ClientFrame::History(History {
            id,
            acting: None,
            room: Some(g.id.clone()),
            with: None,
            before: None,
            after: None,
            limit: None,
        })),
        ErrorCode::NotInRoom
    );
}

#[test]
fn unknown_groups_and_strangers_get_one_answer_and_resends_are_idempotent() {
    let (mut t, a, b, _c) = three();
    let e = t.register("erin");
    let g = create(&mut t, a, &["bob"]);
    assert_eq!(
        t.err(e, |id| ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(g.id.clone()),
            to: None,
            body: "x".into(),
            client_msg_id: "e1".into(),
            receipts: false,
        })),
        ErrorCode::NotInRoom
    );
    assert_eq!(
        t.err(e, |id| ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(RoomId::parse("no-such-group@test.relay").unwrap()),
            to: None,
            body: "x".into(),
            client_msg_id: "e2".into(),
            receipts: false,
        })),
        ErrorCode::NotInRoom
    );
    let send = |body: &str| {
        let (group, body) = (g.id.clone(), body.to_owned());
        move |id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: Some(group),
                to: None,
                body,
                client_msg_id: "same".into(),
                receipts: false,
            })
        }
    };
    let first = t.request(a, send("once"));
    let again = t.request(a, send("once"));
    assert_eq!(first, again.clone().with_id_of(&first));
    assert_eq!(group_messages(&mut t, b).len(), 1);
    assert_eq!(t.err(a, send("other")), ErrorCode::DuplicateClientMsgId);
    assert!(t.core.state().rooms.contains_key(&g.id));
}

trait SameIdAs {
    fn with_id_of(self, other: &ServerFrame) -> ServerFrame;
}

impl SameIdAs for ServerFrame {
    /// The same answer with another request's id, to compare answers to two requests.
    fn with_id_of(self, other: &ServerFrame) -> ServerFrame {
        match (self, other) {
            (
                ServerFrame::Stored { room, message_id, seq, sent_at, recipients, .. },
                ServerFrame::Stored { id, .. },
            ) => ServerFrame::Stored { id: *id, room, message_id, seq, sent_at, recipients },
            (frame, _) => frame,
        }
    }
}

#[test]
fn typing_reaches_only_who_could_read_the_message_and_is_rate_limited() {
    let (mut t, a, b, c) = three();
    let e = t.register("erin");
    let typing_seen = |t: &mut Harness, conn: ConnId| {
        t.take(conn).into_iter().filter(|f| matches!(f, ServerFrame::Typing { .. })).count()
    };
    t.send(a, ClientFrame::Typing(Typing { id: None, acting: None, to: Some(addr("bob")), room: None }));
    assert_eq!(typing_seen(&mut t, b), 1);
    assert_eq!(typing_seen(&mut t, c), 0);
    // Within two seconds, the same conversation passes nothing more; later it does.
    t.send(a, ClientFrame::Typing(Typing { id: None, acting: None, to: Some(addr("bob")), room: None }));
    assert_eq!(typing_seen(&mut t, b), 0);
    t.now += 2_000;
    t.send(a, ClientFrame::Typing(Typing { id: None, acting: None, to: Some(addr("bob")), room: None }));
    assert_eq!(typing_seen(&mut t, b), 1);
    // Strangers get nothing, and hear the usual refusal when they ask with an id.
    assert_eq!(
        t.err(e, |id| ClientFrame::Typing(Typing { id: Some(id), acting: None, to: Some(addr("alice")), room: None })),
        ErrorCode::NotReachable
    );
    assert_eq!(typing_seen(&mut t, a), 0);
    // In a group: every member but the typist and those who blocked them.
    let g = create(&mut t, a, &["bob", "carol"]);
    t.ok(c, |id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") }));
    t.clear();
    t.ok(a, |id| ClientFrame::Typing(Typing { id: Some(id), acting: None, to: None, room: Some(g.id.clone()) }));
    assert_eq!((typing_seen(&mut t, b), typing_seen(&mut t, c), typing_seen(&mut t, a)), (1, 0, 0));
    assert_eq!(
        t.err(e, |id| ClientFrame::Typing(Typing { id: Some(id), acting: None, to: None, room: Some(g.id.clone()) })),
        ErrorCode::NotInRoom
    );
}

#[test]
fn someone_who_left_or_was_removed_is_asked_before_coming_back() {
    let (mut t, a, b, c) = three();
    let g = create(&mut t, a, &["bob", "carol"]);
    assert_eq!(members(&g), vec!["alice", "bob", "carol"]);
    let room = g.id.clone();
    t.ok(c, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: room.clone() }));
    t.ok(a, |id| {
        ClientFrame::RemoveFromRoom(RemoveFromRoom { id, acting: None, room: room.clone(), who: addr("bob") })
    });
    t.clear();
    // Friends of everyone, setting auto: still asked, because they were in it before.
    for (who, conn) in [("carol", c), ("bob", b)] {
        t.ok(a, |id| ClientFrame::InviteToRoom(InviteToRoom { id, acting: None, room: room.clone(), who: addr(who) }));
        assert!(
            t.events(conn).iter().any(|e| matches!(e, Event::RoomInvite { room: r, .. } if *r == room)),
            "{who} is asked"
        );
    }
    assert_eq!(t.core.state().member_addresses(&room), vec![addr("alice")], "nobody is back unasked");
    // carol accepts: she is in again, and is no longer a former member.
    t.ok(c, |id| {
        ClientFrame::AnswerRoomInvite(AnswerRoomInvite { id, acting: None, room: room.clone(), accept: true })
    });
    let former = t.core.state().former.get(&room).cloned().unwrap_or_default();
    assert!(!former.contains(&addr("carol")) && former.contains(&addr("bob")), "{former:?}");
}
