//! `update` tested without a terminal: a model and messages in, the model and commands out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use huddle_shared::client::{
    AnswerDeletion, AnswerRequest, DeleteFriend, History, NotifyDeletion, SetPresence, Typing,
};
use huddle_shared::model::*;
use huddle_shared::server::HandleInfo;
use huddle_shared::{Address, ClientFrame, ErrorCode, RelayName, RoomId, ServerFrame};

use super::*;
use crate::keymap::Keymap;
use crate::net::{self, Command};

fn addr(s: &str) -> Address {
    Address::parse(&format!("{s}@localhost")).unwrap()
}

fn dm(s: &str) -> ConvKey {
    ConvKey::Direct(addr(s))
}

/// A room on the test relay, named by its local part.
fn room(local: &str) -> RoomId {
    RoomId::parse(&format!("{local}@localhost")).unwrap()
}

/// The direct room of two handles (any stable id will do for the client, which never makes one).
fn dm_room(a: &str, b: &str) -> RoomId {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    room(&format!("dm.{a}.{b}"))
}

/// A direct message from `from` arriving for `to`, as stream item `seq`.
pub(super) fn direct(seq: u64, from: &str, to: &str, body: &str, at: i64) -> net::Event {
    let message = Message {
        id: format!("m{seq}").into(),
        room: dm_room(from, to),
        from: addr(from),
        to: Some(addr(to)),
        body: body.into(),
        sent_at: at,
        client_msg_id: format!("c{seq}"),
        receipts: false,
    };
    net::Event::Item { acting: addr(to), item: StreamItem { seq, at, body: ItemBody::Message { message } } }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn alt(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

struct T {
    model: Model,
    keymap: Keymap,
}

impl T {
    fn main(me: &str) -> Self {
        let mut t = T {
            model: Model::new(Screen::Main, "ws://127.0.0.1:7300".into(), 1_700_000_000_000),
            keymap: Keymap::default(),
        };
        t.model.session.relay = Some(RelayName::parse("localhost").unwrap());
        let info = HandleInfo {
            address: addr(me),
            head: 0,
            acked: 0,
            profile: Profile::default(),
            activity: None,
            location: None,
        };
        t.net(net::Event::Session { token: None, handles: vec![info] });
        t
    }

    fn send(&mut self, msg: Msg) -> Vec<Cmd> {
        update(&mut self.model, msg, &self.keymap)
    }

    /// Draws a frame at 80×24 and tells `update` what it showed, as the runtime does after every change; returns
    /// the screen's text and the commands that caused.
    fn frame(&mut self) -> (String, Vec<Cmd>) {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        let mut drawn = None;
        let look = crate::view::look::Look::default();
        let frame = terminal.draw(|f| drawn = crate::view::draw(f, &self.model, &look)).unwrap();
        let area = frame.area;
        let text = (0..area.height)
            .map(|y| (0..area.width).map(|x| frame.buffer[(x, y)].symbol().to_owned()).collect::<String>() + "\n")
            .collect();
        let cmds = drawn.map(|d| self.send(Msg::Drawn(d))).unwrap_or_default();
        (text, cmds)
    }

    /// A key, then a frame: what the key asked for, and what showing its result asked for.
    fn press(&mut self, msg: Msg) -> Vec<Cmd> {
        let mut cmds = self.send(msg);
        cmds.extend(self.frame().1);
        cmds
    }

    fn net(&mut self, event: net::Event) -> Vec<Cmd> {
        self.send(Msg::Net(event))
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.send(key(KeyCode::Char(c)));
        }
    }

    fn friends(&mut self, me: &str, entries: &[(&str, ShownState)], requests_in: &[&str]) {
        let list = FriendList {
            entries: entries
                .iter()
                .map(|(name, state)| FriendEntry {
                    address: addr(name),
                    room: dm_room(me, name),
                    nickname: None,
                    note: None,
                    since: 0,
                    removed_you: false,
                    presence: Presence { state: state.clone(), activity: None, location: None, last_seen: None },
                    profile: Profile::default(),
                })
                .collect(),
            requests_in: requests_in
                .iter()
                .map(|n| PendingRequest { address: addr(n), greeting: Some("hi!".into()), at: 0 })
                .collect(),
            ..FriendList::default()
        };
        self.net(net::Event::Push(ServerFrame::Friends { id: None, acting: addr(me), list }));
    }

    /// The request frames among the commands.
    fn requests(cmds: &[Cmd]) -> Vec<(u64, ClientFrame)> {
        cmds.iter()
            .filter_map(|c| match c {
                Cmd::Net(Command::Request { id, frame }) => Some((*id, frame.clone())),
                _ => None,
            })
            .collect()
    }

    fn ok(&mut self, id: u64) -> Vec<Cmd> {
        self.net(net::Event::Answer { id, frame: ServerFrame::Ok { id } })
    }

    fn select(&mut self, peer: &str) {
        let rows = self.model.handle().unwrap().rows();
        let index = rows.iter().position(|r| r.peer() == Some(&addr(peer))).unwrap();
        self.model.handle_mut().unwrap().selected = rows[index].key();
        self.model.focus = Focus::List;
    }

    fn lines(&self, peer: &str) -> Vec<LogLine> {
        self.model.handle().unwrap().conversations.get(&dm(peer)).map(|c| c.lines.clone()).unwrap_or_default()
    }
}

#[test]
fn welcome_chooses_a_relay() {
    let mut t = T {
        model: Model::new(
            Screen::Welcome(WelcomeForm {
                choice: 0,
                field: 0,
                url: Default::default(),
                ca_file: Default::default(),
                error: None,
            }),
            String::new(),
            0,
        ),
        keymap: Keymap::default(),
    };
    assert!(matches!(t.send(key(KeyCode::Enter))[..], [Cmd::UsePersonalRelay]));
    t.send(key(KeyCode::Down));
    t.typed("http://nope");
    assert!(t.send(key(KeyCode::Enter)).is_empty());
    let Screen::Welcome(form) = &t.model.screen else { panic!() };
    assert!(form.error.as_deref().unwrap_or("").contains("ws://"), "{:?}", form.error);
    for _ in 0..11 {
        t.send(key(KeyCode::Backspace));
    }
    t.typed("wss://chat.example.org");
    assert!(
        matches!(&t.send(key(KeyCode::Enter))[..], [Cmd::UseRelay { url, ca_file: None }] if url == "wss://chat.example.org")
    );
}

#[test]
fn login_form_checks_input_then_authenticates() {
    let mut t = T {
        model: Model::new(
            Screen::Login(LoginForm {
                mode: LoginMode::Login,
                field: 0,
                handle: Default::default(),
                password: Default::default(),
                invite: Default::default(),
                error: None,
                busy: false,
            }),
            "ws://x".into(),
            0,
        ),
        keymap: Keymap::default(),
    };
    t.typed("bad name");
    assert!(t.send(key(KeyCode::Enter)).is_empty());
    let Screen::Login(form) = &t.model.screen else { panic!() };
    assert!(form.error.as_deref().unwrap_or("").contains("may only contain"));
    t.model.screen = Screen::Login(LoginForm {
        mode: LoginMode::Login,
        field: 0,
        handle: Default::default(),
        password: Default::default(),
        invite: Default::default(),
        error: None,
        busy: false,
    });
    t.typed("alice");
    t.send(key(KeyCode::Tab));
    t.typed("correct horse");
    t.send(ctrl('r'));
    let cmds = t.send(key(KeyCode::Enter));
    assert!(
        matches!(&cmds[..], [Cmd::Net(Command::Authenticate(net::Auth::Register { handle, .. }))] if handle.as_str() == "alice")
    );
    // The relay answers with a session: the main screen, and the token is kept.
    let cmds = t.net(net::Event::Session {
        token: Some("tok".into()),
        handles: vec![HandleInfo {
            address: addr("alice"),
            head: 0,
            acked: 0,
            profile: Profile::default(),
            activity: None,
            location: None,
        }],
    });
    assert_eq!(t.model.screen, Screen::Main);
    assert!(matches!(&cmds[..], [Cmd::SaveToken { account, token }] if account == "alice" && token == "tok"));
}

#[test]
fn an_incoming_request_waits_as_a_question_and_takes_no_key() {
    let mut t = T::main("bob");
    t.friends("bob", &[("carol", ShownState::Online)], &["alice"]);
    assert!(t.model.dialogs.is_empty(), "a question that arrives on its own opens nothing");
    assert_eq!(t.model.questions.len(), 1);
    // bob was typing to carol: his keys and his Enter are his message's.
    t.select("carol");
    t.send(key(KeyCode::Enter));
    t.typed("yes see you");
    let cmds = t.send(key(KeyCode::Enter));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Net(Command::Message(m)) if m.body == "yes see you")));
    assert!(T::requests(&cmds).is_empty(), "no answer was sent");
    // He opens it when he chooses; the highlighted answer is Later, so Enter alone answers nothing.
    t.send(alt('q'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!("{:?}", t.model.dialogs) };
    assert_eq!(c.choices[c.selected].label, "Later");
    t.send(key(KeyCode::Left));
    t.send(key(KeyCode::Left));
    let cmds = t.send(key(KeyCode::Enter));
    let sent = T::requests(&cmds);
    assert!(
        matches!(&sent[..], [(_, ClientFrame::AnswerRequest(AnswerRequest { answer: RequestAnswer::AcceptMutual, from, .. }))] if *from == addr("alice"))
    );
    assert!(t.model.dialogs.is_empty());
    assert!(t.model.questions.is_empty());
    // The same pending request, pushed again, does not ask twice.
    t.friends("bob", &[], &["alice"]);
    assert!(t.model.questions.is_empty());
}

#[test]
fn later_keeps_the_question_and_enter_on_its_row_asks_again() {
    let mut t = T::main("bob");
    t.friends("bob", &[], &["alice"]);
    t.send(alt('q'));
    assert!(T::requests(&t.send(key(KeyCode::Enter))).is_empty(), "Later sends nothing");
    assert_eq!(t.model.questions.len(), 1, "and the question still waits");
    t.select("alice");
    t.send(key(KeyCode::Enter));
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::Confirm(c)) if c.title == "Friend request"));
}

#[test]
fn deleting_asks_once_with_the_steps_as_answers_and_cancel_first() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(alt('k'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert_eq!(c.choices[c.selected].label, "Cancel");
    assert!(T::requests(&t.send(key(KeyCode::Enter))).is_empty(), "Enter alone deletes nobody");
    // Delete, tell bob, and ask bob to delete us too: the notice follows the relay's answer by itself.
    t.send(alt('k'));
    for _ in 0..3 {
        t.send(key(KeyCode::Right));
    }
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    let [(id, ClientFrame::DeleteFriend(DeleteFriend { friend, .. }))] = &sent[..] else { panic!("{sent:?}") };
    assert_eq!(*friend, addr("bob"));
    let sent = T::requests(&t.ok(*id));
    assert!(
        matches!(&sent[..], [(_, ClientFrame::NotifyDeletion(NotifyDeletion { ask_delete: true, to, .. }))] if *to == addr("bob"))
    );
    assert!(t.model.dialogs.is_empty(), "no further dialog opens on its own");

    // Deleting quietly tells nobody.
    t.friends("alice", &[("carol", ShownState::Online)], &[]);
    t.select("carol");
    t.send(alt('k'));
    t.send(key(KeyCode::Right));
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    assert!(T::requests(&t.ok(sent[0].0)).is_empty());
    assert!(t.model.dialogs.is_empty());
}

#[test]
fn a_deletion_request_waits_while_typing_and_is_answered_when_opened() {
    let mut t = T::main("bob");
    t.friends("bob", &[("alice", ShownState::Offline), ("carol", ShownState::Online)], &[]);
    t.select("carol");
    t.send(key(KeyCode::Enter));
    assert_eq!(t.model.handle().unwrap().open, Some(dm("carol")));
    t.typed("y");
    let item = StreamItem {
        seq: 3,
        at: 5,
        body: ItemBody::Event { event: Event::DeletionNotice { peer: addr("alice"), asks_delete: true } },
    };
    t.net(net::Event::Item { acting: addr("bob"), item });
    // With it, the relay pushes bob's list, where the request waits in `deletions_in`.
    let mut list = t.model.handle().unwrap().session.friends.clone();
    list.deletions_in.push(DeletionIn { address: addr("alice"), at: 5 });
    t.net(net::Event::Push(ServerFrame::Friends { id: None, acting: addr("bob"), list }));
    assert!(t.model.dialogs.is_empty());
    assert!(
        t.lines("alice")
            .iter()
            .any(|l| matches!(l, LogLine::System { text, .. } if text.contains("asks you to delete")))
    );
    // The Enter that follows sends what was typed.
    t.typed("es, lunch");
    let cmds = t.send(key(KeyCode::Enter));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Net(Command::Message(m)) if m.body == "yes, lunch")));
    assert!(T::requests(&cmds).is_empty());
    t.send(alt('q'));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert_eq!(c.text, "alice deleted you from their friend list and asks you to delete alice from yours.");
    t.send(key(KeyCode::Left));
    t.send(key(KeyCode::Left));
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    assert!(
        matches!(&sent[..], [(_, ClientFrame::AnswerDeletion(AnswerDeletion { answer: DeletionAnswer::Confirm, from, .. }))] if *from == addr("alice"))
    );
    assert!(t.model.questions.is_empty());
}

#[test]
fn a_refusal_offers_to_ask_again_as_a_question() {
    let mut t = T::main("alice");
    let item = StreamItem {
        seq: 4,
        at: 6,
        body: ItemBody::Event { event: Event::DeletionAnswered { peer: addr("bob"), answer: DeletionAnswer::Refuse } },
    };
    t.net(net::Event::Item { acting: addr("alice"), item });
    assert!(
        t.lines("bob")
            .iter()
            .any(|l| matches!(l, LogLine::System { text, .. } if text == "bob kept you on their list."))
    );
    assert!(t.model.dialogs.is_empty());
    t.send(alt('q'));
    assert!(T::requests(&t.send(key(KeyCode::Enter))).is_empty(), "the first answer is not to ask");
    assert!(t.model.questions.is_empty(), "that answered it");
}

#[test]
fn messages_are_pending_until_stored_and_never_shown_twice() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    t.typed("hi bob 👋");
    let cmds = t.send(key(KeyCode::Enter));
    let Some(Cmd::Net(Command::Message(m))) = cmds.iter().find(|c| matches!(c, Cmd::Net(Command::Message(_)))) else {
        panic!("{cmds:?}")
    };
    assert_eq!((m.body.as_str(), &m.to), ("hi bob 👋", &net::Target::Direct(addr("bob"))));
    let cmid = m.client_msg_id.clone();
    assert!(matches!(t.lines("bob").last(), Some(LogLine::Message { delivery: Delivery::Pending, own: true, .. })));
    t.net(net::Event::Stored {
        acting: addr("alice").handle,
        client_msg_id: cmid.clone(),
        message_id: "m1".into(),
        seq: 1,
        sent_at: 10,
        recipients: Vec::new(),
    });
    assert!(matches!(t.lines("bob").last(), Some(LogLine::Message { delivery: Delivery::Stored, .. })));
    // The relay's copy of our own message (from another device's view, or history) is not a second line.
    let own = Message {
        id: "m1".into(),
        room: dm_room("alice", "bob"),
        from: addr("alice"),
        to: Some(addr("bob")),
        body: "hi bob 👋".into(),
        sent_at: 10,
        client_msg_id: cmid,
        receipts: false,
    };
    t.net(net::Event::Item {
        acting: addr("alice"),
        item: StreamItem { seq: 1, at: 10, body: ItemBody::Message { message: own } },
    });
    assert_eq!(t.lines("bob").len(), 1);
    assert_eq!(t.model.input.text(), "");
    assert_eq!(t.model.sent_history, vec!["hi bob 👋".to_owned()]);
}

#[test]
fn unread_counts_and_ordering() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online), ("carol", ShownState::Online)], &[]);
    let m = Message {
        id: "x1".into(),
        room: dm_room("carol", "alice"),
        from: addr("carol"),
        to: Some(addr("alice")),
        body: "psst".into(),
        sent_at: 20,
        client_msg_id: "c1".into(),
        receipts: false,
    };
    t.net(net::Event::Item {
        acting: addr("alice"),
        item: StreamItem { seq: 1, at: 20, body: ItemBody::Message { message: m } },
    });
    let h = t.model.handle().unwrap();
    assert_eq!(h.conversations[&dm("carol")].unread, 1);
    let rows = h.rows();
    let first_friend = rows.iter().find_map(|r| match r {
        Row::Friend(a) => Some(a.clone()),
        _ => None,
    });
    assert_eq!(first_friend, Some(addr("carol")), "unread first");
    t.select("carol");
    t.send(key(KeyCode::Enter));
    assert_eq!(t.model.handle().unwrap().conversations[&dm("carol")].unread, 0);
}

#[test]
fn failures_are_sentences() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    t.typed("hello?");
    let cmds = t.send(key(KeyCode::Enter));
    let Some(Cmd::Net(Command::Message(m))) = cmds.into_iter().next() else { panic!() };
    let text = "bob@localhost cannot be reached from your handle.".to_owned();
    t.net(net::Event::MessageFailed {
        client_msg_id: m.client_msg_id,
        code: ErrorCode::NotReachable,
        message: text.clone(),
    });
    assert!(
        matches!(t.lines("bob").last(), Some(LogLine::Message { delivery: Delivery::Failed(reason), .. }) if *reason == text)
    );
    assert_eq!(t.model.notice.as_ref().map(|n| n.text.clone()), Some(text));
    // A refused friend request is a sentence naming who it was for; no form opens under the person's keys.
    t.send(key(KeyCode::Esc));
    t.typed("/add zed hi");
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    let id = sent[0].0;
    t.net(net::Event::Answer {
        id,
        frame: ServerFrame::error_with(
            Some(id),
            ErrorCode::NotReachable,
            "zed@localhost cannot be reached from your handle.",
        ),
    });
    assert!(t.model.dialogs.is_empty());
    assert!(t.model.notice.as_ref().is_some_and(|n| n.text.contains("zed") && n.text.contains("cannot be reached")));
    assert!(t.model.notices.iter().any(|n| n.text.contains("zed")), "and it can be read again in the notices");
}

#[test]
fn a_rejected_token_goes_back_to_login_and_forgets_it() {
    let mut t = T::main("alice");
    let cmds = t.net(net::Event::AuthFailed {
        code: ErrorCode::TokenInvalid,
        message: "Your session has ended; log in again with your password.".into(),
    });
    assert!(matches!(&cmds[..], [Cmd::ForgetToken]));
    assert!(
        matches!(&t.model.screen, Screen::Login(f) if f.error.as_deref() == Some("Your session has ended; log in again with your password."))
    );
}

#[test]
fn slash_commands_and_completion() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.model.focus = Focus::Input;
    t.typed("/del b");
    t.send(key(KeyCode::Tab));
    assert_eq!(t.model.input.text(), "/del bob ");
    t.send(key(KeyCode::Enter));
    assert!(
        matches!(t.model.dialogs.front(), Some(Dialog::Confirm(c)) if c.title == "Delete friend" && c.text.starts_with("Delete bob"))
    );
    t.send(key(KeyCode::Esc));
    t.typed("/status away having lunch");
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    assert!(
        matches!(&sent[..], [(_, ClientFrame::SetPresence(SetPresence { state: Some(PresenceState::Away), activity: Some(a), .. }))] if a == "having lunch")
    );
    t.typed("/nonsense");
    t.send(key(KeyCode::Enter));
    assert!(t.model.notice.as_ref().is_some_and(|n| n.level == Level::Error && n.text.contains("/help")));
}

#[test]
fn form_dialogs_take_letters_as_text_and_tab_moves_between_fields() {
    let mut t = T::main("bob");
    t.model.focus = Focus::List;
    t.send(alt('s'));
    t.send(key(KeyCode::Right));
    t.send(key(KeyCode::Tab));
    t.typed("lunch, then naps");
    assert!(
        matches!(t.model.dialogs.front(), Some(Dialog::SetStatus { field: 1, state: 1, activity, .. }) if activity.text() == "lunch, then naps")
    );
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    assert!(
        matches!(&sent[..], [(_, ClientFrame::SetPresence(SetPresence { state: Some(PresenceState::Away), activity: Some(a), .. }))] if a == "lunch, then naps")
    );
    // In the add-friend form, "n" and "y" are letters.
    t.send(alt('n'));
    t.typed("nyx");
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::AddFriend { handle, .. }) if handle.text() == "nyx"));
}

#[test]
fn scrolling_reaches_wrapped_rows_and_loads_older_history_at_the_top() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    let cmds = t.send(key(KeyCode::Enter));
    let (id, _) = T::requests(&cmds)[0].clone();
    let long = "word ".repeat(60);
    let messages: Vec<Message> = (0..3)
        .map(|i| Message {
            id: format!("h{i}").into(),
            room: dm_room("bob", "alice"),
            from: addr("bob"),
            to: Some(addr("alice")),
            body: long.clone(),
            sent_at: i,
            client_msg_id: format!("c{i}"),
            receipts: false,
        })
        .collect();
    t.net(net::Event::Answer {
        id,
        frame: ServerFrame::History { id, room: dm_room("alice", "bob"), messages, more: true, receipts: vec![] },
    });
    t.model.focus = Focus::Log;
    t.frame();
    // Three long messages are many more rows than three lines: each Up moves one row.
    let mut asked = Vec::new();
    let mut screens = vec![t.frame().0];
    for _ in 0..3 {
        asked.extend(T::requests(&t.press(key(KeyCode::Up))));
        screens.push(t.frame().0);
    }
    assert!(t.model.conversation().unwrap().scroll.anchor.is_some());
    assert!(screens.windows(2).all(|w| w[0] != w[1]), "every Up moved the view");
    for _ in 0..3 {
        asked.extend(T::requests(&t.press(key(KeyCode::PageUp))));
    }
    // At the top of what is held, the older page is asked for, once, before the oldest message of the page.
    assert!(
        matches!(&asked[..], [(_, ClientFrame::History(History { before: Some(b), .. }))] if b == "h0"),
        "{asked:?}"
    );
}

#[test]
fn quitting_with_unsent_messages_is_a_question_whose_first_answer_is_to_stay() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    t.typed("are you there?");
    t.send(key(KeyCode::Enter));
    assert!(t.send(ctrl('c')).is_empty(), "asked, not quit");
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert_eq!(c.text, "1 message is not sent yet and would be lost if you quit now.");
    assert!(t.send(ctrl('c')).is_empty(), "pressing quit again does not answer the question");
    assert_eq!(t.model.dialogs.len(), 1);
    assert!(t.send(key(KeyCode::Enter)).is_empty(), "Enter stays");
    assert!(!t.model.quit);
    t.send(ctrl('c'));
    t.send(key(KeyCode::Right));
    assert!(t.send(key(KeyCode::Enter)).iter().any(|c| matches!(c, Cmd::Quit)));
}

#[test]
fn typing_is_signalled_sparingly_and_shown_for_a_few_seconds() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    let signals = |cmds: Vec<Cmd>| {
        cmds.into_iter().filter(|c| matches!(c, Cmd::Net(Command::Signal(ClientFrame::Typing(Typing { .. }))))).count()
    };
    assert_eq!(signals(t.send(key(KeyCode::Char('h')))), 1, "the first key tells bob");
    assert_eq!(signals(t.send(key(KeyCode::Char('i')))), 0, "then not again for a while");
    t.send(Msg::Tick(t.model.now + 3_000));
    assert_eq!(signals(t.send(key(KeyCode::Char('!')))), 1);
    // Commands are not "typing".
    t.model.input.take();
    t.send(Msg::Tick(t.model.now + 3_000));
    assert_eq!(signals(t.send(key(KeyCode::Char('/')))), 0);

    // bob types: shown in the open conversation until his message comes, or a few seconds pass.
    t.net(net::Event::Push(ServerFrame::Typing {
        acting: addr("alice"),
        from: addr("bob"),
        room: dm_room("alice", "bob"),
    }));
    assert_eq!(t.model.typing_here().as_deref(), Some("bob"));
    let m = Message {
        id: "t1".into(),
        room: dm_room("bob", "alice"),
        from: addr("bob"),
        to: Some(addr("alice")),
        body: "yo".into(),
        sent_at: t.model.now,
        client_msg_id: "b1".into(),
        receipts: false,
    };
    t.net(net::Event::Item {
        acting: addr("alice"),
        item: StreamItem { seq: 1, at: t.model.now, body: ItemBody::Message { message: m } },
    });
    assert_eq!(t.model.typing_here(), None);
    t.net(net::Event::Push(ServerFrame::Typing {
        acting: addr("alice"),
        from: addr("bob"),
        room: dm_room("alice", "bob"),
    }));
    t.send(Msg::Tick(t.model.now + 7_000));
    assert_eq!(t.model.typing_here(), None, "it fades");
}

mod account;

mod consent;

mod groups;

mod huddles;

mod intents;

mod receipts;

mod scale;

#[test]
fn help_scrolls_with_the_arrows_and_closes_with_any_other_key() {
    let mut t = T::main("alice");
    t.send(key(KeyCode::F(1)));
    assert!(t.model.help);
    t.send(key(KeyCode::Down));
    t.send(key(KeyCode::PageDown));
    assert!(t.model.help && t.model.help_scroll == 11);
    t.send(key(KeyCode::Up));
    assert_eq!(t.model.help_scroll, 10);
    t.send(key(KeyCode::Esc));
    assert!(!t.model.help && t.model.help_scroll == 0);
}

#[test]
fn the_login_form_says_when_the_relay_cannot_be_reached_and_clears_a_wrong_password() {
    let mut t = T::main("alice");
    t.model.screen = Screen::Login(LoginForm {
        mode: LoginMode::Login,
        field: 0,
        handle: Default::default(),
        password: Default::default(),
        invite: Default::default(),
        error: None,
        busy: false,
    });
    t.net(net::Event::Connection(net::ConnState::Waiting {
        retry_in_secs: 4,
        reason: "cannot reach 127.0.0.1:7300: connection refused".into(),
    }));
    let Screen::Login(form) = &t.model.screen else { panic!() };
    let error = form.error.clone().unwrap_or_default();
    assert!(error.starts_with("Huddle cannot reach the relay at ws://127.0.0.1:7300"), "{error}");
    assert!(error.contains("connection refused") && error.contains("--relay"), "{error}");
    t.net(net::Event::Connection(net::ConnState::Online));
    let Screen::Login(form) = &t.model.screen else { panic!() };
    assert_eq!(form.error, None, "the sentence goes once connected");

    t.typed("alice");
    t.send(key(KeyCode::Tab));
    t.typed("wrong password");
    t.send(key(KeyCode::Enter));
    t.net(net::Event::AuthFailed { code: ErrorCode::BadCredentials, message: "Wrong handle or password.".into() });
    let Screen::Login(form) = &t.model.screen else { panic!() };
    assert_eq!((form.password.text(), form.field), ("", 1), "typed again from scratch");
    assert_eq!(form.handle.text(), "alice");
}

#[test]
fn a_deletion_request_answered_elsewhere_is_no_longer_asked() {
    let mut t = T::main("bob");
    t.friends("bob", &[("alice", ShownState::Offline)], &[]);
    let mut list = t.model.handle().unwrap().session.friends.clone();
    list.deletions_in.push(DeletionIn { address: addr("alice"), at: 5 });
    t.net(net::Event::Push(ServerFrame::Friends { id: None, acting: addr("bob"), list: list.clone() }));
    assert_eq!(t.model.questions.len(), 1);
    // Answered on another device: the list comes without it, and the question goes.
    list.deletions_in.clear();
    t.net(net::Event::Push(ServerFrame::Friends { id: None, acting: addr("bob"), list }));
    assert!(t.model.questions.is_empty());
    // An old notice a sync brings in asks nothing by itself.
    let item = StreamItem {
        seq: 3,
        at: 5,
        body: ItemBody::Event { event: Event::DeletionNotice { peer: addr("alice"), asks_delete: true } },
    };
    t.net(net::Event::Item { acting: addr("bob"), item });
    assert!(t.model.questions.is_empty());
}

#[test]
fn a_relay_dropped_for_misbehaving_is_said_so_on_the_login_form_and_in_the_notices() {
    let mut t = T::main("alice");
    t.model.screen = Screen::Login(LoginForm {
        mode: LoginMode::Login,
        field: 0,
        handle: Default::default(),
        password: Default::default(),
        invite: Default::default(),
        error: None,
        busy: true,
    });
    let sentence = "The relay sent a message of 67,108,864 bytes, more than the 16,777,216 this client accepts; \
                    disconnected. It may be misbehaving — tell its admin.";
    t.net(net::Event::Misbehaved { message: sentence.into() });
    // The countdown that follows keeps the sentence rather than saying the relay cannot be reached.
    t.net(net::Event::Connection(net::ConnState::Waiting { retry_in_secs: 2, reason: "the relay misbehaved".into() }));
    let Screen::Login(form) = &t.model.screen else { panic!() };
    let error = form.error.clone().unwrap_or_default();
    assert_eq!(error, format!("{sentence} Huddle tries again in 2 s."));
    assert_eq!(t.model.notices.back().map(|n| (n.level, n.text.as_str())), Some((Level::Error, sentence)));
    // Once online again, a later failure to connect is said as such.
    t.net(net::Event::Connection(net::ConnState::Online));
    assert_eq!(t.model.session.misbehaved, None);
    t.net(net::Event::Connection(net::ConnState::Waiting { retry_in_secs: 1, reason: "connection refused".into() }));
    let Screen::Login(form) = &t.model.screen else { panic!() };
    assert!(form.error.as_deref().is_some_and(|e| e.starts_with("Huddle cannot reach the relay")), "{form:?}");
}
