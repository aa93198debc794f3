//! Groups and automatic promotion, tested through `update` like the rest.

use super::*;
use huddle_shared::client::{AnswerRoomInvite, CreateGroup, InviteToRoom};

const MINUTE: i64 = 60_000;

fn in_group(seq: u64, me: &str, group: &str, from: &str, body: &str, at: i64) -> net::Event {
    let message = Message {
        id: format!("g{seq}").into(),
        room: room(group),
        from: addr(from),
        to: None,
        body: body.into(),
        sent_at: at,
        client_msg_id: format!("gc{seq}"),
        receipts: false,
    };
    net::Event::Item { acting: addr(me), item: StreamItem { seq, at, body: ItemBody::Message { message } } }
}

fn group_event(seq: u64, me: &str, group: &str, peer: &str, change: RoomChange, at: i64) -> net::Event {
    let event = Event::Room { peer: addr(peer), room: room(group), change };
    net::Event::Item { acting: addr(me), item: StreamItem { seq, at, body: ItemBody::Event { event } } }
}

fn info(id: &str, owner: &str, members: &[&str]) -> RoomInfo {
    RoomInfo {
        id: room(id),
        kind: RoomKind::Group,
        title: None,
        owner: Some(addr(owner)),
        members: members.iter().map(|m| RoomMember { address: addr(m), joined_at: 0 }).collect(),
        invited: Vec::new(),
        created_at: 0,
        huddle: None,
    }
}

/// alice, friends with bob, carol and dave, chatting with bob: his conversation is open and he just wrote.
fn chatting_with_bob() -> T {
    let mut t = T::main("alice");
    let online = ShownState::Online;
    t.friends("alice", &[("bob", online.clone()), ("carol", online.clone()), ("dave", online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    let now = t.model.now;
    t.net(direct(1, "bob", "alice", "are you coming tonight?", now - 1000));
    t
}

fn view(t: &T, key: &ConvKey) -> Vec<LogLine> {
    t.model.handle().unwrap().conversations.get(key).map(|c| c.lines.clone()).unwrap_or_default()
}

fn texts(lines: &[LogLine]) -> Vec<String> {
    lines
        .iter()
        .map(|l| match l {
            LogLine::Message { from, body, .. } => format!("{}: {body}", from.handle),
            LogLine::System { text, .. } => text.clone(),
        })
        .collect()
}

#[test]
fn a_third_friend_writing_during_an_exchange_makes_it_a_group() {
    let mut t = chatting_with_bob();
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "can I join you two?", now));
    let asked = T::requests(&cmds);
    let [(id, ClientFrame::CreateGroup(CreateGroup { members, promoted: true, title: None, .. }))] = &asked[..] else {
        panic!("expected one promoting create_group: {asked:?}")
    };
    assert_eq!(members, &vec![addr("bob"), addr("carol")]);
    // carol's message is also where it belongs, her own conversation, and counts as seen (it opens the group).
    assert_eq!(texts(&t.lines("carol")), vec!["carol: can I join you two?"]);
    assert_eq!(t.model.handle().unwrap().conversations[&dm("carol")].unread, 0);

    let group = info("g-1", "alice", &["alice", "bob", "carol"]);
    t.net(net::Event::Answer {
        id: *id,
        frame: ServerFrame::Room { id: Some(*id), acting: addr("alice"), room: group },
    });
    let h = t.model.handle().unwrap();
    let group_key = ConvKey::Room(room("g-1"));
    assert_eq!(h.open, Some(group_key.clone()), "the group opens in place of bob");
    assert_eq!(
        texts(&view(&t, &group_key)),
        vec![
            "Your earlier conversation with bob — only you see these lines.",
            "bob: are you coming tonight?",
            "— became a group with carol —",
            "carol wrote to you only: “can I join you two?”",
        ]
    );
    // The bob conversation stays as it was.
    assert_eq!(texts(&t.lines("bob")), vec!["bob: are you coming tonight?"]);
    // Our own "created" line adds nothing to the divider.
    t.net(group_event(
        3,
        "alice",
        "g-1",
        "alice",
        RoomChange::Created {
            members: vec![addr("alice"), addr("bob"), addr("carol")],
            title: None,
            promoted: true,
            opening: None,
        },
        now,
    ));
    assert_eq!(view(&t, &group_key).len(), 4);
    // The list shows the group; sending goes to it.
    let rows = t.model.handle().unwrap().rows();
    assert!(rows.contains(&Row::Header(Section::Groups, 1)) && rows.contains(&Row::Group(room("g-1"))), "{rows:?}");
    t.typed("sure, come along");
    let cmds = t.send(key_enter());
    let sent = cmds.iter().find_map(|c| match c {
        Cmd::Net(Command::Message(m)) => Some(m.to.clone()),
        _ => None,
    });
    assert_eq!(sent, Some(net::Target::Room(room("g-1"))));
}

fn key_enter() -> Msg {
    key(KeyCode::Enter)
}

#[test]
fn no_promotion_outside_an_exchange() {
    // The last message with bob is older than the window.
    let mut t = chatting_with_bob();
    t.send(Msg::Tick(t.model.now + 6 * MINUTE));
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "hi", now));
    assert!(T::requests(&cmds).is_empty());
    assert_eq!(t.model.handle().unwrap().conversations[&dm("carol")].unread, 1);

    // An old message brought in by a sync after a reconnect is not someone writing now.
    let mut t = chatting_with_bob();
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "from this morning", now - 3 * 60 * MINUTE));
    assert!(T::requests(&cmds).is_empty());

    // bob writing again is the exchange itself.
    let mut t = chatting_with_bob();
    let now = t.model.now;
    assert!(T::requests(&t.net(direct(2, "bob", "alice", "?", now))).is_empty());
}

#[test]
fn promotion_off_leaves_the_message_in_its_own_conversation() {
    let mut t = chatting_with_bob();
    t.model.chat.promotion = Promotion::Off;
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "hi", now));
    assert!(T::requests(&cmds).is_empty());
    assert_eq!(t.model.handle().unwrap().open, Some(dm("bob")));
    assert_eq!(t.model.handle().unwrap().conversations[&dm("carol")].unread, 1);
    assert_eq!(texts(&t.lines("bob")), vec!["bob: are you coming tonight?"]);
}

#[test]
fn promotion_ask_asks_by_a_question_and_acts_on_the_answer() {
    let mut t = chatting_with_bob();
    t.model.chat.promotion = Promotion::Ask;
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "can I join?", now));
    assert!(T::requests(&cmds).is_empty(), "nothing happens before the answer");
    assert!(t.model.dialogs.is_empty(), "and the question waits to be opened");
    assert_eq!(t.model.questions.len(), 1);
    assert_eq!(t.model.handle().unwrap().conversations[&dm("carol")].unread, 1);

    t.send(alt('q'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert_eq!(c.text, "carol wrote to you while you were talking with bob. Make a group of the three of you?");
    assert_eq!(c.quote.as_deref(), Some("can I join?"));
    t.send(key(KeyCode::Left));
    t.send(key(KeyCode::Left));
    let asked = T::requests(&t.send(key_enter()));
    assert!(
        matches!(&asked[..], [(_, ClientFrame::CreateGroup(CreateGroup { promoted: true, members, .. }))] if members == &vec![addr("bob"), addr("carol")]),
        "{asked:?}"
    );

    // Keep apart answers it and does nothing.
    let mut t = chatting_with_bob();
    t.model.chat.promotion = Promotion::Ask;
    let now = t.model.now;
    t.net(direct(2, "carol", "alice", "can I join?", now));
    t.send(alt('q'));
    t.send(key(KeyCode::Left));
    assert!(T::requests(&t.send(key_enter())).is_empty());
    assert!(t.model.questions.is_empty());
}

#[test]
fn a_failed_promotion_says_why_and_keeps_the_message_unread() {
    let mut t = chatting_with_bob();
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "hi", now));
    let (id, _) = T::requests(&cmds)[0].clone();
    t.net(net::Event::Answer {
        id,
        frame: ServerFrame::error_with(Some(id), ErrorCode::NotReachable, "bob cannot be reached from your handle."),
    });
    assert_eq!(t.model.handle().unwrap().open, Some(dm("bob")));
    assert_eq!(t.model.handle().unwrap().conversations[&dm("carol")].unread, 1);
    let notice = t.model.notice.clone().unwrap().text;
    assert!(notice.starts_with("Could not make a group with bob and carol"), "{notice}");
}

/// alice in the group g-1 with bob and carol, talking there.
fn in_the_group() -> T {
    let mut t = chatting_with_bob();
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "hi all", now));
    let (id, _) = T::requests(&cmds)[0].clone();
    let group = info("g-1", "alice", &["alice", "bob", "carol"]);
    t.net(net::Event::Answer { id, frame: ServerFrame::Room { id: Some(id), acting: addr("alice"), room: group } });
    t.net(in_group(3, "alice", "g-1", "bob", "welcome carol", now));
    t
}

#[test]
fn a_fourth_friend_writing_in_a_group_is_added() {
    let mut t = in_the_group();
    let now = t.model.now;
    let cmds = t.net(direct(4, "dave", "alice", "what are you all up to?", now));
    let asked = T::requests(&cmds);
    let [(id, ClientFrame::InviteToRoom(InviteToRoom { room: group, who, .. }))] = &asked[..] else {
        panic!("{asked:?}")
    };
    assert_eq!((group, who), (&room("g-1"), &addr("dave")));
    // The relay adds dave (the group push comes before the ok), and his message joins the group's log.
    let mut group = info("g-1", "alice", &["alice", "bob", "carol", "dave"]);
    group.members[3].joined_at = now;
    t.net(net::Event::Push(ServerFrame::Room { id: None, acting: addr("alice"), room: group }));
    t.ok(*id);
    // What dave wrote went to alice alone: it is shown to her as such, never as a message of the group.
    let lines = texts(&view(&t, &ConvKey::Room(room("g-1"))));
    assert_eq!(lines.last().map(String::as_str), Some("dave wrote to you only: “what are you all up to?”"));
    assert_eq!(t.model.notice.clone().unwrap().text, "dave is in the group now.");
    // A member writing directly is not a newcomer.
    assert!(T::requests(&t.net(direct(5, "bob", "alice", "psst", now))).is_empty());
}

#[test]
fn invite_by_hand_promotes_or_extends() {
    let mut t = chatting_with_bob();
    t.typed("/invite carol");
    let asked = T::requests(&t.send(key_enter()));
    assert!(
        matches!(&asked[..], [(_, ClientFrame::CreateGroup(CreateGroup { promoted: true, members, .. }))] if members == &vec![addr("bob"), addr("carol")]),
        "{asked:?}"
    );
    let (id, _) = asked[0].clone();
    let group = info("g-1", "alice", &["alice", "bob", "carol"]);
    t.net(net::Event::Answer { id, frame: ServerFrame::Room { id: Some(id), acting: addr("alice"), room: group } });
    let gk = ConvKey::Room(room("g-1"));
    assert_eq!(t.model.handle().unwrap().open, Some(gk.clone()));
    assert_eq!(texts(&view(&t, &gk)).last().map(String::as_str), Some("— became a group with carol —"));

    t.typed("/invite dave");
    let asked = T::requests(&t.send(key_enter()));
    assert!(
        matches!(&asked[..], [(_, ClientFrame::InviteToRoom(InviteToRoom { who, .. }))] if *who == addr("dave")),
        "{asked:?}"
    );
}

#[test]
fn the_others_see_who_made_the_group_and_follow_into_it() {
    // bob was chatting with alice when she made it a group with carol.
    let mut t = T::main("bob");
    let online = ShownState::Online;
    t.friends("bob", &[("alice", online.clone())], &[]);
    t.select("alice");
    t.send(key(KeyCode::Enter));
    let now = t.model.now;
    t.net(net::Event::Push(ServerFrame::Room {
        id: None,
        acting: addr("bob"),
        room: info("g-1", "alice", &["alice", "bob", "carol"]),
    }));
    t.net(group_event(
        5,
        "bob",
        "g-1",
        "alice",
        RoomChange::Created {
            members: vec![addr("alice"), addr("bob"), addr("carol")],
            title: None,
            promoted: true,
            opening: None,
        },
        now,
    ));
    let gk = ConvKey::Room(room("g-1"));
    assert_eq!(texts(&view(&t, &gk)), vec!["alice made this a group: alice, bob, carol"]);
    assert_eq!(t.model.handle().unwrap().open, Some(gk.clone()));
    assert_eq!(
        texts(&t.lines("alice")).last().map(String::as_str),
        Some("alice made this a group; it continues there.")
    );

    // Group messages go to the group; unread counts when it is not open.
    t.net(in_group(6, "bob", "g-1", "carol", "hello both", now));
    assert_eq!(t.model.handle().unwrap().conversations[&gk].unread, 0);
    t.select("alice");
    t.send(key_enter());
    t.net(in_group(7, "bob", "g-1", "alice", "and again", now));
    assert_eq!(t.model.handle().unwrap().conversations[&gk].unread, 1);

    // Leaving, joining, renaming read as sentences.
    t.net(group_event(8, "bob", "g-1", "carol", RoomChange::Left, now));
    t.net(group_event(9, "bob", "g-1", "alice", RoomChange::Joined { who: addr("dave") }, now));
    t.net(group_event(10, "bob", "g-1", "alice", RoomChange::Renamed { title: Some("crew".into()) }, now));
    t.net(group_event(11, "bob", "g-1", "bob", RoomChange::OwnerChanged, now));
    let lines = texts(&view(&t, &gk));
    assert_eq!(
        lines[lines.len() - 4..],
        ["carol left.", "alice added dave.", "alice renamed the group “crew”.", "You are the owner now."]
    );
    // Gone: the log stays, sending is refused with a sentence.
    let mut renamed = info("g-1", "bob", &["bob", "alice", "dave"]);
    renamed.title = Some("crew".into());
    t.net(net::Event::Push(ServerFrame::Room { id: None, acting: addr("bob"), room: renamed }));
    t.net(net::Event::Push(ServerFrame::RoomGone { acting: addr("bob"), room: room("g-1") }));
    assert_eq!(texts(&view(&t, &gk)).last().map(String::as_str), Some("You are no longer in crew."));
    assert!(t.model.handle().unwrap().session.groups.is_empty());
    t.select("alice");
    t.model.handle_mut().unwrap().open = Some(gk.clone());
    t.model.focus = Focus::Input;
    t.typed("anyone?");
    assert!(!t.send(key_enter()).iter().any(|c| matches!(c, Cmd::Net(Command::Message(_)))));
    assert_eq!(t.model.notice.clone().unwrap().text, "You are no longer in crew; nothing can be sent there.");
}

#[test]
fn invitations_that_ask_get_a_question_and_a_row() {
    let mut t = T::main("bob");
    t.friends("bob", &[("alice", ShownState::Online)], &[]);
    let now = t.model.now;
    let event = Event::RoomInvite { peer: addr("alice"), room: room("g-9"), title: Some("climbing".into()) };
    t.net(net::Event::Item {
        acting: addr("bob"),
        item: StreamItem { seq: 1, at: now, body: ItemBody::Event { event } },
    });
    assert!(t.model.dialogs.is_empty());
    assert!(t.model.handle().unwrap().rows().iter().any(|r| matches!(r, Row::GroupInvite(i) if i.room == room("g-9"))));
    t.send(alt('q'));
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::Confirm(c)) if c.title == "Group invitation"));
    t.send(key(KeyCode::Left));
    t.send(key(KeyCode::Left));
    let asked = T::requests(&t.send(key_enter()));
    let [(id, ClientFrame::AnswerRoomInvite(AnswerRoomInvite { room: group, accept: true, .. }))] = &asked[..] else {
        panic!("{asked:?}")
    };
    assert_eq!(*group, room("g-9"));
    t.ok(*id);
    assert!(!t.model.handle().unwrap().rows().iter().any(|r| matches!(r, Row::GroupInvite(_))));
}

#[test]
fn typing_in_a_group_is_shown_there_only() {
    let mut t = in_the_group();
    t.net(net::Event::Push(ServerFrame::Typing { acting: addr("alice"), from: addr("bob"), room: room("g-1") }));
    assert_eq!(t.model.typing_here(), Some("bob".into()));
    t.net(net::Event::Push(ServerFrame::Typing { acting: addr("alice"), from: addr("carol"), room: room("g-1") }));
    assert_eq!(t.model.typing_here(), Some("bob and carol".into()));
    // Typing to us directly is not typing in the group.
    t.net(net::Event::Push(ServerFrame::Typing {
        acting: addr("alice"),
        from: addr("dave"),
        room: dm_room("alice", "dave"),
    }));
    assert_eq!(t.model.typing_here(), Some("bob and carol".into()));
    // Our own typing goes to the group.
    let cmds = t.send(Msg::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
    assert!(cmds.iter().any(
        |c| matches!(c, Cmd::Net(Command::Signal(ClientFrame::Typing(Typing { room: Some(g), to: None, .. }))) if *g == room("g-1"))
    ));
}

#[test]
fn share_sends_earlier_lines_on_request_only() {
    let mut t = in_the_group();
    t.typed("/share 1");
    let cmds = t.send(key_enter());
    let body = cmds.iter().find_map(|c| match c {
        Cmd::Net(Command::Message(m)) => Some((m.to.clone(), m.body.clone())),
        _ => None,
    });
    assert_eq!(
        body,
        Some((net::Target::Room(room("g-1")), "Earlier (1 line):\n> bob: are you coming tonight?".to_owned()))
    );
}

#[test]
fn our_message_takes_its_place_by_the_relays_time_once_stored() {
    let mut t = in_the_group();
    let now = t.model.now;
    t.typed("first");
    let mut cmids = Vec::new();
    for c in t.send(key_enter()) {
        if let Cmd::Net(Command::Message(m)) = c {
            cmids.push(m.client_msg_id);
        }
    }
    t.typed("second");
    for c in t.send(key_enter()) {
        if let Cmd::Net(Command::Message(m)) = c {
            cmids.push(m.client_msg_id);
        }
    }
    // carol's message was stored before ours reached the relay.
    t.net(in_group(10, "alice", "g-1", "carol", "quick!", now + 5));
    let stored = |cmid: &str, id: &str, at: i64| net::Event::Stored {
        acting: addr("alice").handle,
        client_msg_id: cmid.into(),
        message_id: id.into(),
        seq: 11,
        sent_at: at,
        recipients: Vec::new(),
    };
    t.net(stored(&cmids[0], "s1", now + 10));
    let lines = texts(&view(&t, &ConvKey::Room(room("g-1"))));
    assert_eq!(lines[lines.len() - 3..], ["carol: quick!", "alice: first", "alice: second"]);
    t.net(stored(&cmids[1], "s2", now + 11));
    let lines = texts(&view(&t, &ConvKey::Room(room("g-1"))));
    assert_eq!(lines[lines.len() - 3..], ["carol: quick!", "alice: first", "alice: second"]);
}

#[test]
fn old_messages_brought_in_by_a_sync_make_no_exchange() {
    let mut t = T::main("alice");
    let online = ShownState::Online;
    t.friends("alice", &[("bob", online.clone()), ("carol", online)], &[]);
    let now = t.model.now;
    // Yesterday's line with bob arrives after a reconnect; then alice opens bob's conversation.
    t.net(direct(1, "bob", "alice", "see you tomorrow", now - 24 * 60 * MINUTE));
    t.select("bob");
    t.send(key_enter());
    assert!(T::requests(&t.net(direct(2, "carol", "alice", "hi", now))).is_empty());
}

#[test]
fn a_draft_stays_with_its_conversation_through_a_promotion() {
    let mut t = chatting_with_bob();
    t.typed("just between us: carol is late again");
    let now = t.model.now;
    let cmds = t.net(direct(2, "carol", "alice", "hi both", now));
    let (id, _) = T::requests(&cmds)[0].clone();
    let group = info("g-1", "alice", &["alice", "bob", "carol"]);
    t.net(net::Event::Answer { id, frame: ServerFrame::Room { id: Some(id), acting: addr("alice"), room: group } });
    assert_eq!(t.model.handle().unwrap().open, Some(ConvKey::Room(room("g-1"))));
    assert_eq!(t.model.input.text(), "", "the private draft is not addressed to the group");
    // Back in the conversation with bob, the draft is there, and goes to bob alone.
    t.select("bob");
    t.send(key_enter());
    assert_eq!(t.model.input.text(), "just between us: carol is late again");
    let cmds = t.send(key_enter());
    let sent = cmds.iter().find_map(|c| match c {
        Cmd::Net(Command::Message(m)) => Some(m.to.clone()),
        _ => None,
    });
    assert_eq!(sent, Some(net::Target::Direct(addr("bob"))));
}

#[test]
fn promotion_reuses_a_group_of_exactly_these_three() {
    let mut t = in_the_group();
    // Back to bob alone; carol writes again.
    t.select("bob");
    t.send(key(KeyCode::Enter));
    t.net(direct(10, "bob", "alice", "still there?", t.model.now));
    let now = t.model.now;
    let cmds = t.net(direct(11, "carol", "alice", "me again", now));
    assert!(T::requests(&cmds).is_empty(), "no second group with the same people");
    assert_eq!(t.model.handle().unwrap().open, Some(ConvKey::Room(room("g-1"))));
    assert_eq!(t.model.handle().unwrap().session.groups.len(), 1);
}

#[test]
fn someone_who_left_is_never_added_back_without_a_question() {
    let mut t = in_the_group();
    let now = t.model.now;
    t.net(group_event(5, "alice", "g-1", "carol", RoomChange::Left, now));
    t.net(net::Event::Push(ServerFrame::Room {
        id: None,
        acting: addr("alice"),
        room: info("g-1", "alice", &["alice", "bob"]),
    }));
    let cmds = t.net(direct(6, "carol", "alice", "oops, wrong window", now));
    assert!(T::requests(&cmds).is_empty(), "carol left: she is not invited back by the setting");
    assert_eq!(t.model.questions.len(), 1);
    t.send(alt('q'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert!(c.text.contains("carol left g-1") || c.text.contains("left"), "{}", c.text);
    assert_eq!(c.choices[c.selected].label, "Later");
}

#[test]
fn the_writer_of_the_opening_message_is_asked_before_the_group_reads_it() {
    // carol wrote to alice; alice's client made a group of alice, bob and carol.
    let mut t = T::main("carol");
    t.friends("carol", &[("alice", ShownState::Online)], &[]);
    t.select("alice");
    t.send(key(KeyCode::Enter));
    t.typed("are you two at the gym?");
    let cmds = t.send(key(KeyCode::Enter));
    let Some(Cmd::Net(Command::Message(m))) = cmds.iter().find(|c| matches!(c, Cmd::Net(Command::Message(_)))) else {
        panic!()
    };
    t.net(net::Event::Stored {
        acting: addr("carol").handle,
        client_msg_id: m.client_msg_id.clone(),
        message_id: "c-1".into(),
        seq: 1,
        sent_at: t.model.now,
        recipients: Vec::new(),
    });
    let now = t.model.now;
    t.net(net::Event::Push(ServerFrame::Room {
        id: None,
        acting: addr("carol"),
        room: info("g-1", "alice", &["alice", "bob", "carol"]),
    }));
    // Someone else's message named as the opening asks carol nothing.
    let other = RoomChange::Created {
        members: vec![addr("alice"), addr("bob"), addr("carol")],
        title: None,
        promoted: true,
        opening: Some("b-1".into()),
    };
    t.net(group_event(2, "carol", "g-0", "alice", other, now));
    assert!(t.model.questions.is_empty());
    let created = RoomChange::Created {
        members: vec![addr("alice"), addr("bob"), addr("carol")],
        title: None,
        promoted: true,
        opening: Some("c-1".into()),
    };
    let cmds = t.net(group_event(3, "carol", "g-1", "alice", created, now));
    assert!(!cmds.iter().any(|c| matches!(c, Cmd::Net(Command::Message(_)))), "nothing is shared unasked");
    t.send(alt('q'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!("{:?}", t.model.questions) };
    assert_eq!(c.quote.as_deref(), Some("are you two at the gym?"));
    assert_eq!(c.choices[c.selected].label, "Keep it private");
    t.send(key(KeyCode::Right));
    let cmds = t.send(key_enter());
    let shared = cmds.iter().find_map(|c| match c {
        Cmd::Net(Command::Message(m)) => Some((m.to.clone(), m.body.clone())),
        _ => None,
    });
    assert_eq!(shared, Some((net::Target::Room(room("g-1")), "are you two at the gym?".to_owned())));
}
