//! The rule of the keyboard and of attention: text typed is text, whatever has focus; the highlight stays on its
//! row; a message for you rings and shows in the title, unless muted.

use super::*;

/// Every letter that was once an action in the list or the log, at the start of a message typed from that focus,
/// is sent as typed.
#[test]
fn a_message_starting_with_any_letter_is_sent_as_typed_from_every_focus() {
    for focus in [Focus::List, Focus::Log, Focus::Input] {
        for first in ['q', 's', 'a', 'd', 'b', 'n', 'h', 'i', 'g', 'm', 'y', 'N', 'j', 'k', 'r', '/', '?'] {
            let mut t = T::main("alice");
            t.friends("alice", &[("bob", ShownState::Online)], &[]);
            t.select("bob");
            t.send(key(KeyCode::Enter));
            t.model.focus = focus;
            let text = format!("{first}uick question about tonight");
            t.typed(&text);
            assert!(t.model.dialogs.is_empty() && !t.model.help && !t.model.quit, "{focus:?} {first}");
            let cmds = t.send(key(KeyCode::Enter));
            let expected = if first == '/' { None } else { Some(text.clone()) };
            let sent = cmds.iter().find_map(|c| match c {
                Cmd::Net(Command::Message(m)) => Some(m.body.clone()),
                _ => None,
            });
            if first == '/' {
                // A line starting with '/' is a command by design; "//" sends a slash.
                assert_eq!(sent, expected, "{focus:?}");
            } else {
                assert_eq!(sent, expected, "{focus:?} {first}");
            }
        }
    }
}

#[test]
fn a_double_slash_sends_a_message_that_starts_with_a_slash() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    t.typed("//shrug");
    let cmds = t.send(key(KeyCode::Enter));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Net(Command::Message(m)) if m.body == "/shrug")));
}

#[test]
fn the_highlight_stays_on_its_friend_when_the_list_re_sorts() {
    let mut t = T::main("alice");
    t.friends(
        "alice",
        &[("bob", ShownState::Online), ("carol", ShownState::Online), ("dave", ShownState::Online)],
        &[],
    );
    t.select("carol");
    let now = t.model.now;
    // dave writes: he moves to the top of the list, and every row under him moves down.
    t.net(direct(1, "dave", "alice", "hello", now));
    assert_eq!(selected_row(&t.model), Some(Row::Friend(addr("carol"))));
    // Delete acts on carol, the row the person saw highlighted.
    t.send(alt('k'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert!(c.text.starts_with("Delete carol"), "{}", c.text);
    t.send(key(KeyCode::Esc));
    // A friend request arriving adds a Requests section above: still carol.
    t.friends(
        "alice",
        &[("bob", ShownState::Online), ("carol", ShownState::Online), ("dave", ShownState::Online)],
        &["erin"],
    );
    assert_eq!(selected_row(&t.model), Some(Row::Friend(addr("carol"))));
    t.send(key(KeyCode::Enter));
    assert_eq!(t.model.handle().unwrap().open, Some(dm("carol")));
    // When the highlighted friend goes away, the highlight lands on a row near where it was.
    t.friends("alice", &[("bob", ShownState::Online), ("dave", ShownState::Online)], &[]);
    assert!(selected_row(&t.model).is_some());
}

#[test]
fn alt_keys_move_between_conversations_as_in_weechat() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online), ("carol", ShownState::Online)], &[]);
    t.send(alt('1'));
    let first = t.model.handle().unwrap().open.clone();
    assert!(first.is_some());
    t.send(Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::ALT)));
    let second = t.model.handle().unwrap().open.clone();
    assert!(second.is_some() && second != first);
    t.send(ctrl('p'));
    assert_eq!(t.model.handle().unwrap().open, first);
    // Alt-a: the conversation with unread messages.
    let now = t.model.now;
    let other = if first == Some(dm("bob")) { "carol" } else { "bob" };
    t.net(direct(1, other, "alice", "news", now));
    t.send(alt('a'));
    assert_eq!(t.model.handle().unwrap().open, Some(dm(other)));
    // The draft being written stays with its conversation.
    t.typed("for you only");
    t.send(ctrl('n'));
    t.send(ctrl('p'));
    assert_eq!(t.model.input.text(), "for you only");
}

#[test]
fn a_direct_message_rings_a_mention_rings_and_a_muted_conversation_does_not() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online), ("carol", ShownState::Online)], &[]);
    let now = t.model.now;
    let rang = |cmds: &[Cmd]| cmds.iter().any(|c| matches!(c, Cmd::Bell));
    assert!(rang(&t.net(direct(1, "bob", "alice", "hi", now))), "a direct message");
    assert_eq!(notify::title(&t.model), "(1) Huddle");
    // Reading it: no bell for the next one, unless it names us.
    t.select("bob");
    t.send(key(KeyCode::Enter));
    assert!(!rang(&t.net(direct(2, "bob", "alice", "still here", now))));
    assert!(rang(&t.net(direct(3, "bob", "alice", "ALICE, look", now))));
    // Muted: nothing, and not in the title.
    t.send(alt('x'));
    t.send(alt('w'));
    assert!(!rang(&t.net(direct(4, "bob", "alice", "alice?", now))));
    assert_eq!(notify::title(&t.model), "Huddle");
    // Old messages a sync brings in ring nothing.
    assert!(!rang(&t.net(direct(5, "carol", "alice", "from yesterday", now - 86_400_000))));
}

#[test]
fn mentions_are_whole_words() {
    let t = T::main("al");
    let h = t.model.handle().unwrap();
    assert!(notify::mentions(h, "hey al, lunch?"));
    assert!(notify::mentions(h, "@al"));
    assert!(notify::mentions(h, "AL!"));
    assert!(!notify::mentions(h, "also"));
    assert!(!notify::mentions(h, "sal"));
}

#[test]
fn every_notice_can_be_read_again() {
    let mut t = T::main("alice");
    t.typed("/nonsense");
    t.send(key(KeyCode::Enter));
    t.typed("/mute");
    t.send(key(KeyCode::Enter));
    assert_eq!(t.model.notices.len(), 2);
    t.send(alt('l'));
    assert_eq!(t.model.notices_view, Some(0));
    t.send(key(KeyCode::Down));
    assert_eq!(t.model.notices_view, Some(1));
    t.send(key(KeyCode::Esc));
    assert_eq!(t.model.notices_view, None);
}

#[test]
fn a_paste_never_answers_a_question() {
    let mut t = T::main("bob");
    t.friends("bob", &[], &["alice"]);
    t.send(alt('q'));
    t.send(Msg::Paste("yes\n".into()));
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::Confirm(_))));
    assert_eq!(t.model.input.text(), "");
}

#[test]
fn closing_a_group_archives_it_until_someone_writes() {
    let mut t = T::main("alice");
    let group = RoomInfo {
        id: room("g-1"),
        kind: RoomKind::Group,
        title: Some("crew".into()),
        owner: Some(addr("alice")),
        members: vec![
            RoomMember { address: addr("alice"), joined_at: 0 },
            RoomMember { address: addr("bob"), joined_at: 0 },
        ],
        invited: Vec::new(),
        created_at: 0,
        huddle: None,
    };
    t.net(net::Event::Push(ServerFrame::Room { id: None, acting: addr("alice"), room: group }));
    t.send(alt('1'));
    t.send(alt('w'));
    let rows = t.model.handle().unwrap().rows();
    assert!(rows.contains(&Row::Header(Section::Archived, 1)), "{rows:?}");
    assert!(!rows.contains(&Row::Header(Section::Groups, 1)));
    let m = Message {
        id: "g1".into(),
        room: room("g-1"),
        from: addr("bob"),
        to: None,
        body: "back?".into(),
        sent_at: t.model.now,
        client_msg_id: "x".into(),
        receipts: false,
    };
    t.net(net::Event::Item {
        acting: addr("alice"),
        item: StreamItem { seq: 9, at: t.model.now, body: ItemBody::Message { message: m } },
    });
    assert!(t.model.handle().unwrap().rows().contains(&Row::Header(Section::Groups, 1)));
}

#[test]
fn a_reader_scrolled_up_keeps_their_place_when_a_message_arrives() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    let now = t.model.now;
    for i in 0..30 {
        t.net(direct(i + 1, "bob", "alice", &format!("line {i}"), now));
    }
    t.model.focus = Focus::Log;
    t.frame();
    for _ in 0..5 {
        t.press(key(KeyCode::Up));
    }
    let (before, _) = t.frame();
    t.net(direct(99, "bob", "alice", "a new one", now));
    let (after, _) = t.frame();
    assert_eq!(before, after, "the reader's view did not move");
    assert!(!after.contains("a new one"));
    // At the bottom, new lines simply show.
    t.press(key(KeyCode::End));
    t.net(direct(100, "bob", "alice", "another", now));
    let (screen, _) = t.frame();
    assert!(screen.contains("another") && screen.contains("a new one"), "{screen}");
    assert_eq!(t.model.conversation().unwrap().scroll.anchor, None);
}

#[test]
fn mutes_and_archives_are_kept_for_the_next_start() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    let cmds = t.send(alt('x'));
    let Some(Cmd::SaveKept(kept)) = cmds.iter().find(|c| matches!(c, Cmd::SaveKept(_))) else { panic!("{cmds:?}") };
    let text = toml::to_string(kept).unwrap();
    assert!(text.contains("with:bob@localhost"), "{text}");
    // The next start: the same choices come back when the handle appears.
    let mut next = T::main("zed");
    next.model.kept = toml::from_str(&text).unwrap();
    let info = HandleInfo {
        address: addr("alice"),
        head: 0,
        acked: 0,
        profile: Profile::default(),
        activity: None,
        location: None,
    };
    next.net(net::Event::Session { token: None, handles: vec![info] });
    assert!(next.model.handle().unwrap().muted.contains(&dm("bob")));
    // Unmuting saves again; nothing changed saves nothing.
    assert!(t.send(alt('x')).iter().any(|c| matches!(c, Cmd::SaveKept(k) if k.handles.is_empty())));
    assert!(!t.send(key(KeyCode::Down)).iter().any(|c| matches!(c, Cmd::SaveKept(_))));
}

#[test]
fn text_typed_with_nothing_open_comes_along_to_the_conversation_opened() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.typed("quick question");
    t.send(key(KeyCode::Enter));
    assert_eq!(t.model.input.text(), "quick question", "nothing is open: the text waits");
    t.send(alt('1'));
    assert_eq!(t.model.handle().unwrap().open, Some(dm("bob")));
    assert_eq!(t.model.input.text(), "quick question");
}
