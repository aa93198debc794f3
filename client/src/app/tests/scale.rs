//! A conversation far longer than a screen: paging through history when many messages share a millisecond, page
//! keys that move a page both ways, and a search that looks in history not loaded yet.

use super::*;
use huddle_shared::MessageId;

/// A conversation with bob held by a relay: `n` messages in the relay's order, all stored in the same millisecond,
/// with ids that do not sort in that order (as UUIDv7s of one millisecond need not).
struct Stored {
    messages: Vec<Message>,
}

impl Stored {
    fn new(n: usize, at: Millis) -> Self {
        let messages = (0..n)
            .map(|i| Message {
                // Descending hex: id order is the reverse of the relay's.
                id: format!("019b0000-0000-7000-8000-{:012x}", 0xffff_ffff_ffff_u64 - i as u64).into(),
                room: dm_room("bob", "alice"),
                from: addr("bob"),
                to: Some(addr("alice")),
                body: format!("message {i}"),
                sent_at: at,
                client_msg_id: format!("c{i}"),
                receipts: false,
            })
            .collect();
        Self { messages }
    }

    /// What the relay answers to a `history` request: the `limit` messages before the cursor, oldest first.
    fn page(&self, frame: &ClientFrame) -> ServerFrame {
        let ClientFrame::History(History { id, before, limit, .. }) = frame else { panic!("{frame:?}") };
        let end = match before {
            Some(b) => self.messages.iter().position(|m| m.id == *b).expect("the cursor is a message of the room"),
            None => self.messages.len(),
        };
        let start = end.saturating_sub(limit.unwrap_or(50) as usize);
        ServerFrame::History {
            id: *id,
            room: dm_room("alice", "bob"),
            messages: self.messages[start..end].to_vec(),
            more: start > 0,
            receipts: vec![],
        }
    }
}

fn bodies(t: &T) -> Vec<String> {
    t.model
        .conversation()
        .unwrap()
        .lines
        .iter()
        .filter_map(|l| match l {
            LogLine::Message { body, .. } => Some(body.clone()),
            LogLine::System { .. } => None,
        })
        .collect()
}

/// Answers every history request among `cmds` (and those the answers lead to) from `relay`; returns the cursors
/// asked for.
fn serve(t: &mut T, relay: &Stored, cmds: Vec<Cmd>) -> Vec<Option<MessageId>> {
    let mut cursors = Vec::new();
    let mut queue = T::requests(&cmds);
    while let Some((id, frame)) = queue.pop() {
        if let ClientFrame::History(h) = &frame {
            cursors.push(h.before.clone());
            queue.extend(T::requests(&t.net(net::Event::Answer { id, frame: relay.page(&frame) })));
        }
    }
    cursors
}

fn open_bob(t: &mut T, relay: &Stored) -> Vec<Option<MessageId>> {
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    let cmds = t.send(key(KeyCode::Enter));
    serve(t, relay, cmds)
}

#[test]
fn paging_through_messages_of_one_millisecond_never_repeats_a_page_and_keeps_the_relays_order() {
    let relay = Stored::new(1000, 1_700_000_000_000);
    let mut t = T::main("alice");
    let mut cursors = open_bob(&mut t, &relay);
    t.model.focus = Focus::Log;
    // Reading up: Home goes to the top of what is held, and showing the top asks for the page before it.
    for _ in 0..40 {
        let cmds = t.press(key(KeyCode::Home));
        cursors.extend(serve(&mut t, &relay, cmds));
        if t.model.conversation().unwrap().history == HistoryState::Complete {
            break;
        }
    }
    let expected: Vec<String> = (0..1000).map(|i| format!("message {i}")).collect();
    assert_eq!(bodies(&t), expected, "every message once, in the relay's order");
    assert_eq!(t.model.conversation().unwrap().history, HistoryState::Complete);
    let mut seen = std::collections::HashSet::new();
    assert!(cursors.iter().all(|c| seen.insert(c.clone())), "a page was asked for twice: {cursors:?}");
    assert_eq!(cursors.len(), 1000 / super::history::PAGE as usize);
}

#[test]
fn after_home_page_down_moves_a_page_and_comes_back_to_the_bottom() {
    let relay = Stored::new(150, 1_700_000_000_000);
    let mut t = T::main("alice");
    open_bob(&mut t, &relay);
    t.model.focus = Focus::Log;
    let (bottom, _) = t.frame();
    let cmds = t.press(key(KeyCode::Home));
    serve(&mut t, &relay, cmds);
    t.press(key(KeyCode::Home));
    let (top, _) = t.frame();
    assert!(top.contains("message 0 ") || top.contains("message 0\n") || top.contains("message 0│"), "{top}");
    // The pane has 15 rows of one line each here: a page moves 14 of them.
    let first_shown = |screen: &str| -> usize {
        screen
            .split("message ")
            .skip(1)
            .filter_map(|s| s.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
            .min()
            .unwrap()
    };
    let mut screens = vec![top];
    for _ in 0..30 {
        t.press(key(KeyCode::PageDown));
        let (screen, _) = t.frame();
        if screen == *screens.last().unwrap() {
            break;
        }
        screens.push(screen);
    }
    let page = t.model.page_rows();
    assert!(page >= 10, "a page is the pane, not 10 rows: {page}");
    let firsts: Vec<usize> = screens.iter().map(|s| first_shown(s)).collect();
    assert!(firsts.windows(2).all(|w| w[1] > w[0]), "every PgDn moved down: {firsts:?}");
    // (The first page also leaves the two rows above the oldest line: the history hint and the day.)
    assert!(firsts.windows(2).skip(1).take(3).all(|w| w[1] - w[0] == page), "by a page: {firsts:?} (page {page})");
    assert_eq!(screens.last().unwrap(), &bottom, "PgDn comes back to the bottom");
    assert_eq!(t.model.conversation().unwrap().scroll.anchor, None, "following new messages again");
}

#[test]
fn search_looks_in_history_not_loaded_yet() {
    let mut relay = Stored::new(500, 1_700_000_000_000);
    relay.messages[42].body = "the address is 12 Harbour Lane".into();
    let mut t = T::main("alice");
    open_bob(&mut t, &relay);
    assert_eq!(t.model.conversation().unwrap().lines.len(), super::history::PAGE as usize);
    t.send(ctrl('f'));
    t.typed("harbour");
    let cmds = t.send(key(KeyCode::Enter));
    let cursors = serve(&mut t, &relay, cmds);
    assert_eq!(cursors.len(), 4, "pages fetched until the match: {cursors:?}");
    let c = t.model.conversation().unwrap();
    let at = c.search_match.expect("found");
    assert!(matches!(&c.lines[at], LogLine::Message { body, .. } if body.contains("Harbour")));
    let (screen, _) = t.frame();
    assert!(screen.contains("Harbour Lane"), "{screen}");
    // Nothing older matches: the rest is fetched, then it says so.
    let cmds = t.send(key(KeyCode::F(3)));
    serve(&mut t, &relay, cmds);
    assert_eq!(t.model.conversation().unwrap().history, HistoryState::Complete);
    assert_eq!(t.model.notice.as_ref().map(|n| n.text.as_str()), Some("No older matches."));
}

#[test]
fn tab_on_an_empty_line_moves_to_the_conversation_and_esc_closes_the_search_from_anywhere() {
    let relay = Stored::new(10, 1_700_000_000_000);
    let mut t = T::main("alice");
    open_bob(&mut t, &relay);
    assert_eq!(t.model.focus, Focus::Input);
    t.typed("/ms");
    t.send(key(KeyCode::Tab));
    assert_eq!(t.model.input.text(), "/msg ", "Tab completes what is typed");
    assert_eq!(t.model.focus, Focus::Input);
    while !t.model.input.is_empty() {
        t.send(key(KeyCode::Backspace));
    }
    t.send(key(KeyCode::Tab));
    assert_eq!(t.model.focus, Focus::Log, "with nothing typed, Tab moves on");
    t.send(key(KeyCode::Tab));
    t.send(ctrl('f'));
    t.typed("message 3");
    t.send(key(KeyCode::Enter));
    assert!(t.model.search.is_some());
    t.send(key(KeyCode::Esc));
    assert!(t.model.search.is_none(), "Esc closes the search bar, as it says");
}

/// Messages that came in live before the conversation was opened (a login sync) are held: the pages that reach back
/// past them go above them, and a line said meanwhile stays below the history. (Review of issue 11.)
#[test]
fn pages_reaching_past_messages_held_already_go_above_them_and_later_lines_stay_below() {
    let relay = Stored::new(200, 1_700_000_000_000);
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    for (seq, message) in relay.messages[50..].iter().enumerate() {
        let item = StreamItem {
            seq: seq as u64 + 1,
            at: message.sent_at,
            body: ItemBody::Message { message: message.clone() },
        };
        t.net(net::Event::Item { acting: addr("alice"), item });
    }
    let conv = ConvKey::Direct(addr("bob"));
    let said = LogLine::System { at: 1_700_000_000_500, text: "bob is away".into(), kind: SystemKind::Presence };
    t.model.handles[0].conversation_mut(&conv).lines.push(said);
    t.select("bob");
    let cmds = t.send(key(KeyCode::Enter));
    let mut cursors = serve(&mut t, &relay, cmds);
    t.model.focus = Focus::Log;
    for _ in 0..10 {
        let cmds = t.press(key(KeyCode::Home));
        cursors.extend(serve(&mut t, &relay, cmds));
    }
    let expected: Vec<String> = (0..200).map(|i| format!("message {i}")).collect();
    assert_eq!(bodies(&t), expected, "in the relay's order, once each");
    let lines = &t.model.conversation().unwrap().lines;
    assert!(matches!(lines.last(), Some(LogLine::System { text, .. }) if text == "bob is away"), "said after them all");
    // A search then finds what the pages brought, wherever they went.
    t.send(ctrl('f'));
    t.typed("message 7");
    t.send(key(KeyCode::Enter));
    let c = t.model.conversation().unwrap();
    assert!(matches!(&c.lines[c.search_match.unwrap()], LogLine::Message { body, .. } if body == "message 79"));
}
