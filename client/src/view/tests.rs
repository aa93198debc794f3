//! Snapshot tests of the view: fixture models rendered into ratatui's `TestBackend` at 80×24 and 120×40, the
//! buffer turned into text and compared with the `.snap` files next to this one. Plus checks that long lists and
//! long histories are drawn by their visible part only, and that the cursor lands on the right cell.

use std::collections::BTreeMap;

use huddle_shared::model::{FriendEntry, PendingRequest, Presence, Profile, RegistrationPolicy, ShownState};
use huddle_shared::{Address, Millis, RelayName, RoomId};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::style::Color;
use unicode_width::UnicodeWidthStr;

use crate::app::confirm;
use crate::app::input::TextInput;
use crate::app::{
    ConvKey, Conversation, Delivery, Dialog, Focus, HandleView, HistoryState, Level, LogLine, LoginForm, LoginMode,
    Model, Notice, Question, QuestionAbout, RowKey, Screen, Scroll, Search, SystemKind, WelcomeForm,
};
use crate::net::ConnState;

use super::log::{LogCtx, place};
use super::look::Look;

/// Sat 21 Nov 2026, 14:30 UTC.
const NOW: Millis = 1_795_271_400_000;
const MIN: Millis = 60_000;
const HOUR: Millis = 60 * MIN;
const DAY: Millis = 24 * HOUR;
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

// ---- fixtures -------------------------------------------------------------------------------------------------

fn addr(handle: &str) -> Address {
    Address::parse(&format!("{handle}@relay.example")).unwrap()
}

/// A room on the fixture relay, named by its local part.
fn room(local: &str) -> RoomId {
    RoomId::parse(&format!("{local}@relay.example")).unwrap()
}

fn entry(handle: &str, presence: Presence, since: Millis) -> FriendEntry {
    FriendEntry {
        address: addr(handle),
        room: room(&format!("dm.{handle}")),
        nickname: None,
        note: None,
        since,
        removed_you: false,
        presence,
        profile: Profile::default(),
    }
}

fn online(state: ShownState, activity: Option<&str>) -> Presence {
    Presence { state, activity: activity.map(str::to_owned), location: None, last_seen: None }
}

fn msg(at: Millis, from: &str, own: bool, body: &str, delivery: Delivery) -> LogLine {
    LogLine::Message {
        id: None,
        client_msg_id: format!("c{at}"),
        from: addr(from),
        body: body.to_owned(),
        at,
        own,
        delivery,
    }
}

fn system(at: Millis, text: &str, kind: SystemKind) -> LogLine {
    LogLine::System { at, text: text.to_owned(), kind }
}

fn conversation(peer: &str, unread: usize, lines: Vec<LogLine>) -> Conversation {
    let mut c = Conversation::new(ConvKey::Direct(addr(peer)));
    c.unread = unread;
    c.last_activity = lines.last().map_or(0, LogLine::at);
    c.lines = lines;
    c.history = HistoryState::Complete;
    c
}

/// The conversation with bob: a day change, own, peer, pending and failed messages, system lines, a prompt,
/// CJK and emoji, and a message long enough to wrap.
fn bob_lines() -> Vec<LogLine> {
    let yesterday = NOW - DAY;
    vec![
        system(yesterday - 30 * MIN, "bob accepted your friend request", SystemKind::Info),
        system(
            yesterday - 25 * MIN,
            "dave deleted you from their friend list and asks you to delete dave from yours.",
            SystemKind::Info,
        ),
        msg(yesterday - 20 * MIN, "bob", false, "hey! are you coming to the climbing gym tomorrow?", Delivery::Stored),
        msg(yesterday - 18 * MIN, "sam", true, "yes, around 10", Delivery::Stored),
        msg(
            NOW - 5 * HOUR,
            "bob",
            false,
            "Great. I'll bring the spare harness and the chalk bag, and if the weather holds we could go bouldering \
             outside afterwards — the forecast says sunny all afternoon.",
            Delivery::Stored,
        ),
        msg(NOW - 5 * HOUR + MIN, "sam", true, "好的！明日見よう 🎉🧗 see you there", Delivery::Stored),
        system(NOW - 4 * HOUR, "bob is now away", SystemKind::Presence),
        system(
            NOW - 32 * MIN,
            "alice deleted you from their friend list and asks you to delete alice from yours.",
            SystemKind::Info,
        ),
        msg(
            NOW - 10 * MIN,
            "sam",
            true,
            "did you get my photo?",
            Delivery::Failed("bob's relay is not reachable".into()),
        ),
        msg(NOW - MIN, "sam", true, "see you at 10!", Delivery::Pending),
    ]
}

/// The active handle, sam: requests both ways, friends online (with activity) and offline (last seen), one who
/// removed sam, unread badges, and the conversation with bob open.
fn sam() -> HandleView {
    let mut h = HandleView::new(addr("sam"));
    h.session.friends.requests_in.push(PendingRequest {
        address: addr("alice"),
        greeting: Some("hi, it's Alice from the climbing gym".into()),
        at: NOW - 2 * HOUR,
    });
    h.session.friends.requests_out.push(PendingRequest { address: addr("dana"), greeting: None, at: NOW - DAY });
    let mut bob = entry("bob", online(ShownState::Online, Some("playing chess")), NOW - 250 * DAY);
    bob.profile = Profile { display_name: Some("Bob Lee".into()), bio: Some("Chess, climbing and bad puns.".into()) };
    bob.note = Some("met at the climbing gym".into());
    let carol = entry("carol", online(ShownState::Away, Some("lunch")), NOW - 40 * DAY);
    let mut lee = entry("lee", online(ShownState::Busy, Some("会議中")), NOW - 10 * DAY);
    lee.nickname = Some("小龙".into());
    let erin = entry("erin", Presence::offline(Some(NOW - 3 * HOUR)), NOW - 90 * DAY);
    let frank = entry("frank", Presence::offline(Some(NOW - 9 * DAY)), NOW - 400 * DAY);
    let mut gus = entry("gus", Presence::offline(None), NOW - 30 * DAY);
    gus.removed_you = true;
    h.session.friends.entries = vec![bob, carol, lee, erin, frank, gus];
    h.conversations = BTreeMap::from([
        (ConvKey::Direct(addr("bob")), conversation("bob", 0, bob_lines())),
        (
            ConvKey::Direct(addr("carol")),
            conversation("carol", 2, vec![msg(NOW - 20 * MIN, "carol", false, "lunch?", Delivery::Stored)]),
        ),
        (
            ConvKey::Direct(addr("erin")),
            conversation("erin", 1, vec![msg(NOW - 4 * HOUR, "erin", false, "call me", Delivery::Stored)]),
        ),
    ]);
    h.open = Some(ConvKey::Direct(addr("bob")));
    // Rows: Requests header, alice, dana, Online header, carol (unread first), bob, ...: select bob.
    h.selected = Some(RowKey::Friend(addr("bob")));
    h
}

/// A second handle with unread messages, for "unread on other handles" and the handle switcher.
fn work() -> HandleView {
    let mut h = HandleView::new(addr("sam-work"));
    h.session.friends.entries = vec![entry("boss", online(ShownState::Online, None), NOW - 100 * DAY)];
    h.conversations = BTreeMap::from([(
        ConvKey::Direct(addr("boss")),
        conversation("boss", 3, vec![msg(NOW - HOUR, "boss", false, "status report?", Delivery::Stored)]),
    )]);
    h
}

fn main_model() -> Model {
    let mut m = Model::new(Screen::Main, "wss://relay.example".into(), NOW);
    m.session.relay = Some(RelayName::parse("relay.example").unwrap());
    m.session.conn = ConnState::Online;
    m.handles = vec![sam(), work()];
    m.focus = Focus::Input;
    m.notice = Some(Notice { text: "carol is now away".into(), level: Level::Info, at: NOW - MIN });
    m
}

fn welcome(choice: usize) -> Model {
    let form = WelcomeForm {
        choice,
        field: 0,
        url: TextInput::with(if choice == 1 { "wss://chat.example.org" } else { "" }),
        ca_file: TextInput::default(),
        error: (choice == 1).then(|| "Could not reach wss://chat.example.org: connection refused.".to_owned()),
    };
    Model::new(Screen::Welcome(form), String::new(), NOW)
}

fn login(mode: LoginMode) -> Model {
    let register = mode == LoginMode::Register;
    let form = LoginForm {
        mode,
        field: if register { 2 } else { 1 },
        handle: TextInput::with("sam"),
        password: TextInput::with("hunter22"),
        invite: TextInput::with(if register { "X7K2-9QPL" } else { "" }),
        error: register.then(|| "That handle is taken. Try another one.".to_owned()),
        busy: register,
    };
    let mut m = Model::new(Screen::Login(form), "wss://chat.example.org".into(), NOW);
    m.session.registration = if register { RegistrationPolicy::Invite } else { RegistrationPolicy::Open };
    m.session.conn = if register {
        ConnState::Online
    } else {
        ConnState::Waiting { retry_in_secs: 4, reason: "connection refused".into() }
    };
    m
}

fn with_dialog(dialog: Dialog) -> Model {
    let mut m = main_model();
    m.dialogs.push_back(dialog);
    m
}

// ---- rendering helpers ----------------------------------------------------------------------------------------

fn terminal(model: &Model, look: &Look, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|frame| {
            super::draw(frame, model, look);
        })
        .unwrap();
    terminal
}

/// The buffer as text, one line per row, trailing spaces trimmed. A wide character takes its cells; the cell it
/// covers must be blank, else something was drawn into the second half of a wide character and the test fails.
fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut rows = Vec::new();
    for y in 0..area.height {
        let mut row = String::new();
        let mut covered = 0;
        for x in 0..area.width {
            let symbol = buffer[(x, y)].symbol();
            if covered > 0 {
                assert_eq!(symbol, " ", "cell ({x}, {y}) is drawn over the second half of a wide character");
                covered -= 1;
                continue;
            }
            row.push_str(symbol);
            covered = symbol.width().saturating_sub(1);
        }
        rows.push(row.trim_end().to_owned());
    }
    rows.join("\n")
}

/// The frame's own buffer, not the backend's: the backend only receives the cells the diff sends, and the diff
/// skips cells hidden under wide characters, which is exactly what [`text`] must see to catch overlaps.
fn render(model: &Model, look: &Look, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let frame = terminal
        .draw(|frame| {
            super::draw(frame, model, look);
        })
        .unwrap();
    text(frame.buffer)
}

/// Snapshots `model` at both sizes, as `{name}_80x24` and `{name}_120x40`.
fn snap(name: &str, model: &Model) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(model, &Look::default(), w, h));
    }
}

// ---- snapshots ------------------------------------------------------------------------------------------------

#[test]
fn welcome_screens() {
    snap("welcome_start", &welcome(0));
    snap("welcome_connect", &welcome(1));
}

#[test]
fn login_screens() {
    snap("login", &login(LoginMode::Login));
    snap("register", &login(LoginMode::Register));
}

#[test]
fn main_screen_with_a_conversation() {
    snap("main", &main_model());
}

#[test]
fn main_screen_without_a_conversation_shows_what_to_do() {
    let mut m = main_model();
    m.handles[0].open = None;
    m.focus = Focus::List;
    m.notice = None;
    snap("empty", &m);
}

/// sam's exchange with bob became a group when carol wrote; the group is open, with its member panel.
fn group_model() -> Model {
    use huddle_shared::model::{RoomInfo, RoomKind, RoomMember};
    let mut m = main_model();
    let h = &mut m.handles[0];
    let members =
        ["sam", "bob", "carol"].iter().map(|n| RoomMember { address: addr(n), joined_at: NOW - 10 * MIN }).collect();
    h.session.groups.insert(
        room("g-1"),
        RoomInfo {
            id: room("g-1"),
            kind: RoomKind::Group,
            title: None,
            owner: Some(addr("sam")),
            members,
            invited: vec![addr("erin")],
            created_at: NOW - 10 * MIN,
            huddle: None,
        },
    );
    let key = ConvKey::Room(room("g-1"));
    let mut c = Conversation::new(key.clone());
    c.lines = vec![
        system(NOW - 14 * MIN, "Your earlier conversation with bob — only you see these lines.", SystemKind::Info),
        msg(NOW - 14 * MIN, "bob", false, "climbing tonight?", Delivery::Stored),
        msg(NOW - 12 * MIN, "sam", true, "yes! 7pm?", Delivery::Stored),
        system(NOW - 10 * MIN, "— became a group with carol —", SystemKind::Info),
        msg(NOW - 10 * MIN, "carol", false, "can I come too?", Delivery::Stored),
        msg(NOW - 8 * MIN, "bob", false, "the more the merrier", Delivery::Stored),
        system(NOW - 7 * MIN, "sam invited erin.", SystemKind::Info),
        LogLine::Message {
            id: Some("s1".into()),
            client_msg_id: "c-s1".into(),
            from: addr("sam"),
            body: "bring chalk please".into(),
            at: NOW - 6 * MIN,
            own: true,
            delivery: Delivery::Stored,
        },
        msg(NOW - 5 * MIN, "sam", true, "see you both at 7", Delivery::Pending),
    ];
    let mut tracking = crate::app::receipts::Tracking::new(vec![addr("bob"), addr("carol")]);
    tracking.delivered.insert(addr("bob"), NOW - 6 * MIN);
    tracking.delivered.insert(addr("carol"), NOW - 6 * MIN);
    tracking.read.insert(addr("bob"), NOW - 5 * MIN);
    c.receipts.insert("s1".into(), tracking);
    c.history = HistoryState::Complete;
    h.conversations.insert(key.clone(), c);
    let mut other = Conversation::new(ConvKey::Room(room("g-2")));
    other.unread = 4;
    h.conversations.insert(ConvKey::Room(room("g-2")), other);
    h.session.groups.insert(
        room("g-2"),
        RoomInfo {
            id: room("g-2"),
            kind: RoomKind::Group,
            title: Some("book club".into()),
            owner: Some(addr("erin")),
            members: vec![
                RoomMember { address: addr("erin"), joined_at: 0 },
                RoomMember { address: addr("sam"), joined_at: 0 },
            ],
            invited: Vec::new(),
            created_at: NOW - DAY,
            huddle: None,
        },
    );
    h.selected = Some(RowKey::Group(key.room().cloned().unwrap()));
    h.open = Some(key);
    m.typing = vec![crate::app::Typing {
        acting: addr("sam").handle,
        from: addr("carol"),
        key: ConvKey::Room(room("g-1")),
        at: NOW,
    }];
    m
}

#[test]
fn a_group_with_its_member_panel() {
    snap("group", &group_model());
    let mut m = group_model();
    m.members_panel = false;
    insta::assert_snapshot!("group_no_panel_120x40", render(&m, &Look::default(), 120, 40));
    let mut m = group_model();
    m.dialogs.push_back(Dialog::Receipts { key: ConvKey::Room(room("g-1")), message_id: "s1".into() });
    insta::assert_snapshot!("group_receipts_80x24", render(&m, &Look::default(), 80, 24));
}

#[test]
fn help_overlay() {
    let mut m = main_model();
    m.help = true;
    snap("help", &m);
    // Scrolled to the end on a short terminal.
    m.help_scroll = 100;
    insta::assert_snapshot!("help_scrolled_80x24", render(&m, &Look::default(), 80, 24));
}

#[test]
fn dialogs() {
    let m = main_model();
    let h = &m.handles[0];
    let acting = h.address.handle.clone();
    let question = |about: QuestionAbout| confirm::for_question(h, &about);
    let message = |from: &str, body: &str| huddle_shared::model::Message {
        id: "m9".into(),
        room: room("dm.x"),
        from: addr(from),
        to: Some(addr("sam")),
        body: body.into(),
        sent_at: NOW,
        client_msg_id: "c9".into(),
        receipts: false,
    };
    let mut quit = confirm::quit_with_unsent(&m);
    quit.text = "2 messages are not sent yet and would be lost if you quit now.".into();
    let cases = [
        (
            "dialog_friend_request",
            Dialog::Confirm(Box::new(question(QuestionAbout::FriendRequest {
                from: addr("alice"),
                greeting: Some("hi, it's Alice from the climbing gym".into()),
            }))),
        ),
        ("dialog_delete_confirm", Dialog::Confirm(Box::new(confirm::delete_friend(h, &addr("bob"))))),
        (
            "dialog_deletion_request",
            Dialog::Confirm(Box::new(question(QuestionAbout::DeletionRequest { from: addr("bob") }))),
        ),
        ("dialog_ask_again", Dialog::Confirm(Box::new(question(QuestionAbout::AskAgain { friend: addr("bob") })))),
        (
            "dialog_promote",
            Dialog::Confirm(Box::new(question(QuestionAbout::Promote {
                with: addr("bob"),
                message: message("carol", "are you two at the gym? can I come?"),
            }))),
        ),
        (
            "dialog_share_opening",
            Dialog::Confirm(Box::new(question(QuestionAbout::ShareOpening {
                room: room("g-1"),
                to: addr("bob"),
                body: "are you two at the gym? can I come?".into(),
            }))),
        ),
        ("dialog_quit", Dialog::Confirm(Box::new(quit))),
        (
            "dialog_add_friend",
            Dialog::AddFriend {
                field: 0,
                handle: TextInput::with("zoe@other.example"),
                greeting: TextInput::default(),
                error: Some("There is no handle zoe on other.example.".into()),
            },
        ),
        (
            "dialog_edit_entry",
            Dialog::EditEntry {
                friend: addr("lee"),
                field: 1,
                nickname: TextInput::with("小龙"),
                note: TextInput::with("from the 日本語 class"),
            },
        ),
        ("dialog_set_status", Dialog::SetStatus { field: 0, state: 1, activity: TextInput::with("lunch") }),
        ("dialog_block", Dialog::Confirm(Box::new(confirm::block(h, &addr("frank"), true)))),
        ("dialog_unblock", Dialog::Confirm(Box::new(confirm::block(h, &addr("frank"), false)))),
        ("dialog_switch_handle", Dialog::SwitchHandle { selected: 1 }),
        (
            "dialog_profile",
            Dialog::Profile { field: 1, display_name: TextInput::with("Sam Okafor"), bio: TextInput::with("chess") },
        ),
        (
            "dialog_password",
            Dialog::Password {
                field: 2,
                old: TextInput::with("correct horse"),
                new: TextInput::with("battery staple"),
                repeat: TextInput::default(),
                error: Some("The two new passwords differ; type the new one again.".into()),
            },
        ),
        (
            "dialog_sessions",
            Dialog::Sessions {
                sessions: vec![
                    huddle_shared::model::SessionInfo {
                        session: "s1".into(),
                        device: Some("huddle on laptop".into()),
                        created_at: NOW - DAY,
                        last_used_at: NOW,
                        current: true,
                    },
                    huddle_shared::model::SessionInfo {
                        session: "s2".into(),
                        device: Some("huddle on old-phone".into()),
                        created_at: NOW - 30 * DAY,
                        last_used_at: NOW - 3 * DAY,
                        current: false,
                    },
                ],
                selected: 1,
            },
        ),
    ];
    let _ = acting;
    for (name, dialog) in cases {
        snap(name, &with_dialog(dialog));
    }
}

#[test]
fn the_notices_view_lists_every_notice_newest_first() {
    let mut m = main_model();
    for (i, text) in [
        "Friend request sent to zoe.",
        "bob accepted your friend request.",
        "Your friend request to yan was not sent: there is no handle yan.",
    ]
    .iter()
    .enumerate()
    {
        let level = if i == 2 { Level::Error } else { Level::Info };
        m.notices.push_back(Notice { text: (*text).into(), level, at: NOW - (3 - i as i64) * MIN });
    }
    m.notices_view = Some(0);
    snap("notices", &m);
}

#[test]
fn waiting_questions_are_counted_in_the_status_bar_and_open_nothing() {
    let mut m = main_model();
    let acting = m.handles[0].address.handle.clone();
    for from in ["yan", "zoe"] {
        m.questions.push(Question {
            acting: acting.clone(),
            at: NOW,
            about: QuestionAbout::FriendRequest { from: addr(from), greeting: None },
        });
    }
    let screen = render(&m, &Look::default(), 120, 40);
    assert!(screen.contains("2 questions — Alt-q to answer"), "{screen}");
}

#[test]
fn the_new_line_marks_the_first_unread_message() {
    let mut m = main_model();
    let c = m.handles[0].conversations.get_mut(&ConvKey::Direct(addr("bob"))).unwrap();
    // Above bob's long message, the first he sent since sam last looked.
    c.new_from = Some(4);
    snap("unread_marker", &m);
}

#[test]
fn too_small_terminal_gets_a_notice_only() {
    let screen = render(&main_model(), &Look::default(), 30, 10);
    insta::assert_snapshot!("too_small_30x10", screen);
    // Just below the minimum in one direction is still too small.
    assert!(render(&main_model(), &Look::default(), 39, 30).contains("too small"));
    assert!(!render(&main_model(), &Look::default(), 40, 12).contains("too small"));
}

#[test]
fn smallest_main_screen() {
    insta::assert_snapshot!("main_40x12", render(&main_model(), &Look::default(), 40, 12));
}

#[test]
fn wide_terminal_puts_the_info_panel_at_the_right() {
    insta::assert_snapshot!("main_160x40", render(&main_model(), &Look::default(), 160, 40));
}

#[test]
fn search_bar_and_matches() {
    let mut m = main_model();
    m.focus = Focus::Log;
    m.search = Some(Search { query: TextInput::with("harness"), editing: false, looking_back: false });
    if let Some(c) = m.handles[0].conversations.get_mut(&ConvKey::Direct(addr("bob"))) {
        c.search_match = Some(4);
    }
    insta::assert_snapshot!("search_80x24", render(&m, &Look::default(), 80, 24));
}

#[test]
fn no_color_look_uses_no_colours() {
    let m = main_model();
    let look = Look::plain();
    insta::assert_snapshot!("no_color_80x24", render(&m, &look, 80, 24));
    // Check the point of NO_COLOR on every cell, dialogs and overlays included.
    let mut all = vec![m.clone()];
    let request = QuestionAbout::FriendRequest { from: addr("alice"), greeting: None };
    all.push(with_dialog(Dialog::Confirm(Box::new(confirm::for_question(&m.handles[0], &request)))));
    let mut help = m.clone();
    help.help = true;
    all.push(help);
    all.push(welcome(1));
    all.push(login(LoginMode::Register));
    for model in &all {
        let terminal = terminal(model, &look, 80, 24);
        for cell in terminal.backend().buffer().content() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{:?} has a colour", cell.symbol());
        }
    }
}

// ---- cursor ---------------------------------------------------------------------------------------------------

fn cursor(model: &Model, w: u16, h: u16) -> Option<Position> {
    let terminal = terminal(model, &Look::default(), w, h);
    // The terminal shows the cursor only when the frame placed it.
    let backend = terminal.backend();
    backend.cursor_visible().then(|| backend.cursor_position())
}

#[test]
fn cursor_sits_after_wide_characters_in_the_input() {
    let mut m = main_model();
    m.input = TextInput::with("日本語 ok");
    // Cursor between 本 and 語: two wide characters, four cells, in from the input's left border.
    m.input.home();
    m.input.right();
    m.input.right();
    let at = cursor(&m, 80, 24).unwrap();
    // The input is the right pane's last box: its text starts one cell in from the pane's left edge (x 28).
    assert_eq!(at, Position::new(28 + 1 + 4, 24 - 1 - 2));
    // No cursor while the list has the keyboard, nor under a dialog without text fields.
    m.focus = Focus::List;
    assert_eq!(cursor(&m, 80, 24), None);
    m.focus = Focus::Input;
    let question = confirm::delete_friend(&m.handles[0], &addr("bob"));
    m.dialogs.push_back(Dialog::Confirm(Box::new(question)));
    assert_eq!(cursor(&m, 80, 24), None);
}

#[test]
fn cursor_goes_to_the_active_dialog_field() {
    let m = with_dialog(Dialog::AddFriend {
        field: 1,
        handle: TextInput::with("zoe"),
        greeting: TextInput::with("hé 🎉"),
        error: None,
    });
    let at = cursor(&m, 80, 24).unwrap();
    let screen = render(&m, &Look::default(), 80, 24);
    let row = screen.lines().nth(usize::from(at.y)).unwrap();
    // The cursor is right after the emoji of the greeting field's text.
    let before: String = row.chars().take_while(|c| *c != '🎉').collect();
    assert!(row.contains("Greeting"), "{row}");
    assert_eq!(usize::from(at.x), before.width() + 2, "{row}");
}

// ---- only the visible part is drawn ---------------------------------------------------------------------------

fn long_history(n: usize) -> Vec<LogLine> {
    (0..n)
        .map(|i| {
            let at = NOW - Millis::try_from(n - i).unwrap() * MIN;
            msg(
                at,
                if i % 2 == 0 { "bob" } else { "sam" },
                i % 2 == 1,
                &format!("message number {i}"),
                Delivery::Stored,
            )
        })
        .collect()
}

#[test]
fn log_wraps_only_the_lines_that_fit() {
    let lines = long_history(100_000);
    let look = Look::default();
    let ctx = LogCtx {
        styles: &look.styles,
        peer_name: "bob".into(),
        group: false,
        huddle: false,
        names: Default::default(),
        receipts: None,
        new_from: None,
        seconds: false,
        me: None,
        history: HistoryState::More,
        query: None,
        current: None,
    };
    let height = 20;
    let row = |rows: &[ratatui::text::Line<'_>], i: usize| -> String {
        rows[i].spans.iter().map(|s| s.content.as_ref()).collect()
    };
    let bottom = Scroll::default();
    let p = place(&lines, &ctx, 50, height, &bottom);
    assert_eq!(p.rows.len(), height);
    assert!(p.wrapped <= height + 1, "wrapped {} lines for {height} rows", p.wrapped);
    assert!(row(&p.rows, height - 1).ends_with("message number 99999"));

    // A page up wraps about a page of lines, nothing else, and lands a page up.
    let up = Scroll { pending: 30, ..Scroll::default() };
    let p = place(&lines, &ctx, 50, height, &up);
    assert!(p.wrapped <= 2 * (height + 30) + 4, "wrapped {} lines", p.wrapped);
    assert!(row(&p.rows, height - 1).ends_with("message number 99969"), "{}", row(&p.rows, height - 1));
    let anchor = p.anchor.unwrap();
    assert_eq!(anchor.line, 99_969);

    // Home goes to the top at once, wrapping a pane's worth; a page down from there moves a page.
    let top = Scroll { jump_top: true, ..Scroll::default() };
    let p = place(&lines, &ctx, 50, height, &top);
    assert!(p.top_shown && p.wrapped <= 3 * height, "wrapped {}", p.wrapped);
    assert!(row(&p.rows, 0).contains("Older messages"));
    let down = Scroll { anchor: p.anchor, pending: -(height as isize - 1), ..Scroll::default() };
    let p = place(&lines, &ctx, 50, height, &down);
    assert!(!p.top_shown);
    assert!(p.wrapped <= 4 * height, "wrapped {}", p.wrapped);

    // Scrolled past the top: the top of the history shows, with what lies above it.
    let few = long_history(3);
    let p = place(&few, &ctx, 50, height, &Scroll { pending: 1000, ..Scroll::default() });
    assert!(p.top_shown);
    assert!(row(&p.rows, 0).contains("Older messages"), "{}", row(&p.rows, 0));
}

#[test]
fn a_huge_conversation_renders() {
    let mut m = main_model();
    if let Some(c) = m.handles[0].conversations.get_mut(&ConvKey::Direct(addr("bob"))) {
        c.lines = long_history(100_000);
    }
    let screen = render(&m, &Look::default(), 80, 24);
    assert!(screen.contains("message number 99999"), "{screen}");
}

#[test]
fn the_current_search_match_is_scrolled_into_view() {
    let mut m = main_model();
    if let Some(c) = m.handles[0].conversations.get_mut(&ConvKey::Direct(addr("bob"))) {
        c.lines = long_history(1000);
        c.search_match = Some(100);
        c.scroll.reveal = Some(100);
    }
    m.search = Some(Search { query: TextInput::with("number 100"), editing: false, looking_back: false });
    let screen = render(&m, &Look::default(), 80, 24);
    assert!(screen.contains("message number 100\n") || screen.contains("message number 100 "), "{screen}");
    assert!(!screen.contains("message number 999"), "{screen}");
}

#[test]
fn a_long_friend_list_shows_the_window_around_the_selection() {
    let mut m = main_model();
    let h = &mut m.handles[0];
    h.session.friends.requests_in.clear();
    h.session.friends.requests_out.clear();
    h.session.friends.entries =
        (0..1000).map(|i| entry(&format!("friend{i:04}"), Presence::offline(Some(NOW - HOUR)), NOW)).collect();
    h.conversations.clear();
    h.open = None;
    // Row 0 is "Online (0)", row 1 "Offline (1000)", then friend0000...
    h.selected = Some(RowKey::Friend(addr("friend0700")));
    let screen = render(&m, &Look::default(), 80, 24);
    assert!(screen.contains("friend0700"), "{screen}");
    assert!(!screen.contains("friend0000"), "{screen}");
    assert!(!screen.contains("friend0999"), "{screen}");
}

#[test]
fn the_selected_row_is_highlighted_across_the_pane() {
    let m = main_model();
    let look = Look::default();
    let terminal = terminal(&m, &look, 80, 24);
    let buffer = terminal.backend().buffer();
    let screen = render(&m, &look, 80, 24);
    let y = screen.lines().position(|l| l.contains("● bob")).unwrap();
    let y = u16::try_from(y).unwrap();
    // Every cell of the row inside the list's borders, the padding after the text included.
    for x in 1..27 {
        assert_eq!(buffer[(x, y)].bg, Color::Cyan, "({x}, {y})");
    }
    assert_ne!(buffer[(1, y + 1)].bg, Color::Cyan);
}

#[test]
fn a_new_conversation_is_shown_empty_with_its_peer() {
    let mut m = main_model();
    m.handles[0].open = Some(ConvKey::Direct(addr("frank")));
    let screen = render(&m, &Look::default(), 80, 24);
    assert!(screen.contains("frank — frank@relay.example"), "{screen}");
    assert!(screen.contains("No messages with frank yet. Say hello!"), "{screen}");
    assert!(screen.contains("Message frank — Enter to send"), "{screen}");
}

#[test]
fn same_model_same_screen() {
    let m = main_model();
    assert_eq!(render(&m, &Look::default(), 120, 40), render(&m, &Look::default(), 120, 40));
}

#[test]
fn glyphs_are_single_width() {
    // The view's layout assumes these take one cell each.
    for g in ["●", "◐", "⊘", "○", "⧗", "→", "✗", "▸", "•", "…", "─", "◌", "│", "⏎"] {
        assert_eq!(g.width(), 1, "{g}");
    }
}

/// Our measure of a cluster and the cells ratatui's buffer gives it agree, for flags, ZWJ families, skin tones,
/// combining marks and CJK: a disagreement is what leaves ghost glyphs behind.
#[test]
fn composed_characters_take_the_cells_the_buffer_gives_them() {
    for text in [
        "🇫🇷 ok",
        "👨\u{200d}👩\u{200d}👧 family",
        "👋🏽 wave",
        "e\u{301}te\u{301}",
        "日本語",
        "❤\u{fe0f} love",
        "🏳\u{fe0f}\u{200d}🌈 flag",
    ] {
        let mut buffer = Buffer::empty(ratatui::layout::Rect::new(0, 0, 40, 1));
        let (x, _) = buffer.set_stringn(0, 0, text, 40, ratatui::style::Style::default());
        assert_eq!(usize::from(x), super::text::width(text), "{text:?}");
    }
}

/// A huddle running (with its countdown) beside a group, and the topic browser.
#[test]
fn a_huddle_with_its_countdown_and_the_topic_browser() {
    use huddle_shared::model::{
        HuddleInfo, HuddleTrigger, Issue, IssueSource, RoomInfo, RoomKind, RoomMember, TopicId,
    };
    let mut m = group_model();
    let h = &mut m.handles[0];
    let topic = TopicId::parse("rust-weekly").unwrap();
    let info = HuddleInfo {
        trigger: HuddleTrigger::Issue {
            topic: topic.clone(),
            topic_title: "Rust Weekly".into(),
            issue: Issue {
                number: 612,
                title: "Async closures".into(),
                body: None,
                link: None,
                source: IssueSource::Feed,
                by: None,
            },
        },
        ends_at: Some(NOW + 25 * MIN + 30_000),
        anchor: None,
        idle_ms: None,
    };
    h.session.groups.insert(
        room("h-1"),
        RoomInfo {
            id: room("h-1"),
            kind: RoomKind::Huddle,
            title: Some("Rust Weekly #612".into()),
            owner: None,
            members: ["sam", "bob", "dana"]
                .iter()
                .map(|n| RoomMember { address: addr(n), joined_at: NOW - 5 * MIN })
                .collect(),
            invited: Vec::new(),
            created_at: NOW - 5 * MIN,
            huddle: Some(Box::new(info)),
        },
    );
    let key = ConvKey::Room(room("h-1"));
    let mut c = Conversation::new(key.clone());
    c.lines = vec![
        system(
            NOW - 5 * MIN,
            "Huddle formed — newsletter “Rust Weekly” #612: Async closures — with sam, bob, dana. It lasts 30 minutes.",
            SystemKind::Info,
        ),
        msg(NOW - 4 * MIN, "dana", false, "the section on closures was great", Delivery::Stored),
    ];
    c.history = HistoryState::Complete;
    h.conversations.insert(key.clone(), c);
    h.selected = Some(RowKey::Group(room("h-1")));
    h.open = Some(key);
    snap("huddle", &m);
    let topics = vec![
        huddle_shared::model::TopicInfo {
            id: topic,
            title: "Rust Weekly".into(),
            description: None,
            owner: addr("erin"),
            duration_ms: 30 * MIN,
            include_offline: false,
            publishers: Vec::new(),
            subscribers: 14,
            subscription: Some(huddle_shared::model::Subscription { duration_ms: None, since: 0 }),
            issues: 612,
            webhook: false,
            schedule: None,
            time_zone: None,
            next_at: None,
            feed: None,
            feed_error: None,
            created_at: 0,
        },
        huddle_shared::model::TopicInfo {
            id: TopicId::parse("climbing").unwrap(),
            title: "Climbing meetups".into(),
            description: None,
            owner: addr("sam"),
            duration_ms: 120 * MIN,
            include_offline: true,
            publishers: Vec::new(),
            subscribers: 1,
            subscription: None,
            issues: 3,
            webhook: true,
            schedule: Some("0 18 * * FRI".into()),
            time_zone: Some("Europe/Berlin".into()),
            next_at: Some(NOW + DAY),
            feed: None,
            feed_error: None,
            created_at: 0,
        },
    ];
    snap("dialog_topics", &with_dialog(Dialog::Topics { topics, selected: 1 }));
}
