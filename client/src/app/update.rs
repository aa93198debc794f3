//! `update`: the only place the model changes. Keys become actions through the keymap; the results are side
//! effects returned as [`Cmd`]s for the runtime to perform.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use huddle_shared::client::{AddHandle, AnswerDeletion, CancelRequest, SetEntry, SetPresence, Typing, Unblock};
use huddle_shared::model::RegistrationPolicy;
use huddle_shared::{Address, ClientFrame, Handle, RequestId};

use super::commands::{self, SlashCommand};
use super::input::TextInput;
use super::{Cmd, Dialog, Focus, Level, LoginForm, LoginMode, Model, Msg, Notice, Pending, Row, Screen, Search};
use crate::keymap::{Action, Keymap, Mode};
use crate::net;

/// How long an informational notice stays in the status bar.
const NOTICE_MS: i64 = 8_000;

pub fn update(model: &mut Model, msg: Msg, keymap: &Keymap) -> Vec<Cmd> {
    let mut cmds = step(model, msg, keymap);
    // Whatever changed, the open conversation is on screen now: tell the senders who asked.
    cmds.extend(super::receipts::report_read(model));
    cmds
}

fn step(model: &mut Model, msg: Msg, keymap: &Keymap) -> Vec<Cmd> {
    match msg {
        Msg::Tick(now) => {
            model.now = now;
            model.typing.retain(|t| now - t.at < super::TYPING_SHOWN_MS);
            if model.notice.as_ref().is_some_and(|n| n.level == Level::Info && now - n.at > NOTICE_MS) {
                model.notice = None;
            }
            Vec::new()
        }
        Msg::Net(event) => super::events::apply(model, event),
        Msg::Paste(text) => {
            paste(model, &text);
            Vec::new()
        }
        Msg::Key(key) if key.kind == KeyEventKind::Press => match &model.screen {
            Screen::Welcome(_) => welcome_key(model, key),
            Screen::Login(_) => login_key(model, key),
            Screen::Main => main_key(model, key, keymap),
        },
        Msg::Key(_) => Vec::new(),
    }
}

/// Sets a notice for the status bar.
pub fn notify(model: &mut Model, level: Level, text: impl Into<String>) {
    model.notice = Some(Notice { text: text.into(), level, at: model.now });
}

/// Sends a one-shot request, remembering what it was for.
pub fn request(model: &mut Model, pending: Pending, frame: impl FnOnce(RequestId) -> ClientFrame) -> Cmd {
    let id = model.next_id;
    model.next_id += 1;
    model.pending.insert(id, pending);
    Cmd::Net(net::Command::Request { id, frame: frame(id) })
}

fn paste(model: &mut Model, text: &str) {
    // A paste goes where typing would go; newlines stay in messages, not in one-line fields.
    let single = text.replace(['\r', '\n'], " ");
    match &mut model.screen {
        Screen::Welcome(form) => {
            let field = if form.field == 0 { &mut form.url } else { &mut form.ca_file };
            field.insert_str(single.trim());
        }
        Screen::Login(form) => field_of(form).insert_str(single.trim()),
        Screen::Main => {
            if let Some(field) = model.dialogs.front_mut().and_then(super::dialogs::text_field) {
                field.insert_str(&single);
            } else {
                model.focus = Focus::Input;
                model.input.insert_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
            }
        }
    }
}

/// Plain editing keys shared by every text field. True if the key was used.
pub fn edit(field: &mut TextInput, key: &KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('w') if ctrl => field.delete_word(),
        KeyCode::Char('u') if ctrl => field.delete_to_start(),
        KeyCode::Char('a') if ctrl => field.home(),
        KeyCode::Char('e') if ctrl => field.end(),
        KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => field.insert(c),
        KeyCode::Backspace => field.backspace(),
        KeyCode::Delete => field.delete(),
        KeyCode::Left => field.left(),
        KeyCode::Right => field.right(),
        KeyCode::Home => field.home(),
        KeyCode::End => field.end(),
        _ => return false,
    }
    true
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

fn welcome_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    if is_ctrl_c(&key) {
        model.quit = true;
        return vec![Cmd::Quit];
    }
    let Screen::Welcome(form) = &mut model.screen else { return Vec::new() };
    match key.code {
        KeyCode::Esc if form.choice == 1 => form.choice = 0,
        KeyCode::Esc => {
            model.quit = true;
            return vec![Cmd::Quit];
        }
        KeyCode::Up | KeyCode::BackTab if form.choice == 1 && form.field == 1 => form.field = 0,
        KeyCode::Up | KeyCode::BackTab => form.choice = 0,
        KeyCode::Down | KeyCode::Tab if form.choice == 0 => form.choice = 1,
        KeyCode::Down | KeyCode::Tab => form.field = 1,
        KeyCode::Enter if form.choice == 0 => return vec![Cmd::UsePersonalRelay],
        KeyCode::Enter => {
            let url = form.url.text().trim().to_owned();
            if let Err(e) = crate::net::transport::RelayUrl::parse(&url) {
                form.error = Some(capitalize(&e.to_string()));
                return Vec::new();
            }
            let ca = form.ca_file.text().trim();
            let ca_file = (!ca.is_empty()).then(|| ca.to_owned());
            return vec![Cmd::UseRelay { url, ca_file }];
        }
        _ if form.choice == 1 => {
            let field = if form.field == 0 { &mut form.url } else { &mut form.ca_file };
            edit(field, &key);
            form.error = None;
        }
        _ => {}
    }
    Vec::new()
}

fn field_of(form: &mut LoginForm) -> &mut TextInput {
    match form.field {
        0 => &mut form.handle,
        1 => &mut form.password,
        _ => &mut form.invite,
    }
}

fn login_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    if is_ctrl_c(&key) {
        model.quit = true;
        return vec![Cmd::Quit];
    }
    let invite = model.registration == RegistrationPolicy::Invite;
    let Screen::Login(form) = &mut model.screen else { return Vec::new() };
    let fields = if form.mode == LoginMode::Register && invite { 3 } else { 2 };
    match key.code {
        KeyCode::Esc => {
            model.quit = true;
            return vec![Cmd::Quit];
        }
        KeyCode::Char('r') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            form.mode = if form.mode == LoginMode::Login { LoginMode::Register } else { LoginMode::Login };
            form.field = form.field.min(1);
            form.error = None;
        }
        KeyCode::Tab | KeyCode::Down => form.field = (form.field + 1) % fields,
        KeyCode::BackTab | KeyCode::Up => form.field = (form.field + fields - 1) % fields,
        KeyCode::Enter if !form.busy => {
            let handle = match Handle::parse(form.handle.text().trim()) {
                Ok(h) => h,
                Err(e) => {
                    form.error = Some(format!("{}.", capitalize(&e.to_string())));
                    form.field = 0;
                    return Vec::new();
                }
            };
            let password = form.password.text().to_owned();
            if password.len() < huddle_shared::limits::MIN_PASSWORD_BYTES {
                form.error = Some("Passwords are at least 8 characters long.".to_owned());
                form.field = 1;
                return Vec::new();
            }
            form.busy = true;
            form.error = None;
            let auth = match form.mode {
                LoginMode::Login => net::Auth::Login { handle, password },
                LoginMode::Register => {
                    let code = form.invite.text().trim();
                    let invite = (!code.is_empty()).then(|| code.to_owned());
                    net::Auth::Register { handle, password, invite }
                }
            };
            return vec![Cmd::Net(net::Command::Authenticate(auth))];
        }
        _ => {
            edit(field_of(form), &key);
            form.error = None;
        }
    }
    Vec::new()
}

/// The mode the keymap is consulted in.
fn mode(model: &Model) -> Mode {
    if !model.dialogs.is_empty() {
        return Mode::Dialog;
    }
    match model.focus {
        Focus::List => Mode::List,
        Focus::Log => Mode::Log,
        Focus::Input => Mode::Input,
    }
}

fn main_key(model: &mut Model, key: KeyEvent, keymap: &Keymap) -> Vec<Cmd> {
    let mode = mode(model);
    let action = keymap.action_for(mode, &key);
    if action == Some(Action::Quit) && (is_ctrl_c(&key) || mode == Mode::List) {
        let unsent = model.unsent();
        if unsent > 0 && !model.quit_warned {
            // They live only in this process: quitting now would lose them.
            model.quit_warned = true;
            let what = if unsent == 1 { "1 message is".to_owned() } else { format!("{unsent} messages are") };
            notify(model, Level::Error, format!("{what} not sent yet and would be lost; quit again to quit anyway."));
            return Vec::new();
        }
        model.quit = true;
        return vec![Cmd::Net(net::Command::Shutdown), Cmd::Quit];
    }
    model.quit_warned = false;
    if model.help {
        // Arrows and page keys scroll it on short terminals; any other key closes it (the one that opened it too).
        let rows: isize = match key.code {
            KeyCode::Up | KeyCode::Char('k') => -1,
            KeyCode::Down | KeyCode::Char('j') => 1,
            KeyCode::PageUp => -10,
            KeyCode::PageDown | KeyCode::Char(' ') => 10,
            _ => 0,
        };
        if rows == 0 {
            model.help = false;
            model.help_scroll = 0;
        } else {
            // The view stops at the end; keep the number within what any screen could show.
            model.help_scroll = model.help_scroll.saturating_add_signed(rows).min(200);
        }
        return Vec::new();
    }
    if mode == Mode::Dialog {
        return super::dialogs::key(model, key, action);
    }
    if let Some(search) = model.search.as_mut().filter(|s| s.editing) {
        match key.code {
            KeyCode::Esc => model.search = None,
            KeyCode::Enter => {
                search.editing = false;
                super::search::next(model);
            }
            _ => {
                edit(&mut search.query, &key);
                search.current = None;
            }
        }
        return Vec::new();
    }
    match action {
        Some(Action::Help) if mode != Mode::Input || model.input.is_empty() => model.help = true,
        Some(Action::FocusNext) => model.focus = next_focus(model.focus, true),
        Some(Action::FocusPrev) => model.focus = next_focus(model.focus, false),
        Some(Action::AnswerYes) => return answer_prompt(model, true),
        Some(Action::AnswerNo) => return answer_prompt(model, false),
        Some(Action::ToggleInfo) => model.info = !model.info,
        Some(Action::ToggleMembers) => toggle_members(model),
        // An unbound character typed in the list starts a message (or a /command) in the input line.
        None if mode == Mode::List && is_plain_char(&key) => {
            model.focus = Focus::Input;
            edit(&mut model.input, &key);
        }
        _ => {
            return match mode {
                Mode::List => list_key(model, action),
                Mode::Log => log_key(model, action),
                _ => input_key(model, key, action),
            };
        }
    }
    Vec::new()
}

/// Shows or hides the member panel; says why nothing changes when no group is open.
fn toggle_members(model: &mut Model) {
    let group_open = model.handle().and_then(|h| h.open.as_ref()).is_some_and(|k| k.room().is_some());
    if group_open {
        model.members_panel = !model.members_panel;
    } else {
        notify(model, Level::Info, "Open a group to see its members.");
    }
}

fn is_plain_char(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_)) && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

fn next_focus(focus: Focus, forward: bool) -> Focus {
    match (focus, forward) {
        (Focus::List, true) | (Focus::Log, false) => Focus::Input,
        (Focus::Input, true) | (Focus::List, false) => Focus::Log,
        (Focus::Log, true) | (Focus::Input, false) => Focus::List,
    }
}

/// The row under the cursor in the friend list.
pub fn selected_row(model: &Model) -> Option<Row> {
    let h = model.handle()?;
    h.rows().into_iter().nth(h.selected).filter(Row::selectable)
}

fn move_selection(model: &mut Model, delta: isize) {
    let Some(h) = model.handle_mut() else { return };
    let rows = h.rows();
    let selectable: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| r.selectable()).map(|(i, _)| i).collect();
    if selectable.is_empty() {
        h.selected = 0;
        return;
    }
    let current = selectable.iter().position(|&i| i >= h.selected).unwrap_or(selectable.len() - 1);
    let next = (current as isize + delta).clamp(0, selectable.len() as isize - 1) as usize;
    h.selected = selectable[next];
}

/// Keeps the selection on a selectable row after the list changed.
pub fn fix_selection(model: &mut Model) {
    move_selection(model, 0);
}

fn list_key(model: &mut Model, action: Option<Action>) -> Vec<Cmd> {
    match action {
        Some(Action::Up) => move_selection(model, -1),
        Some(Action::Down) => move_selection(model, 1),
        Some(Action::PageUp) => move_selection(model, -10),
        Some(Action::PageDown) => move_selection(model, 10),
        Some(Action::Home) => move_selection(model, -100_000),
        Some(Action::End) => move_selection(model, 100_000),
        Some(Action::Open) => return open_selected(model),
        Some(Action::Back) => model.notice = None,
        Some(Action::AddFriend) => model.dialogs.push_back(Dialog::AddFriend {
            field: 0,
            handle: TextInput::default(),
            greeting: TextInput::default(),
            error: None,
        }),
        Some(Action::NewGroup) => model.dialogs.push_back(Dialog::NewGroup {
            field: 0,
            members: TextInput::default(),
            title: TextInput::default(),
            error: None,
        }),
        Some(Action::DeleteFriend) => match selected_row(model) {
            Some(Row::Friend(friend)) => model.dialogs.push_back(Dialog::DeleteConfirm { friend, yes: false }),
            Some(Row::Group(group)) => model.dialogs.push_back(Dialog::LeaveGroup { group, yes: false }),
            Some(Row::GroupInvite(invite)) => model.dialogs.push_back(Dialog::GroupInvite { invite, selected: 1 }),
            Some(Row::RequestOut(r)) => {
                let to = r.address.clone();
                let acting = model.handle().map(|h| h.address.handle.clone());
                return vec![request(model, Pending::CancelRequest { to: to.clone() }, |id| {
                    ClientFrame::CancelRequest(CancelRequest { id, acting, to })
                })];
            }
            Some(Row::RequestIn(r)) => {
                model.dialogs.push_back(Dialog::FriendRequest { from: r.address, greeting: r.greeting, selected: 2 })
            }
            _ => notify(model, Level::Info, "Select a friend first (arrows or j/k)."),
        },
        Some(Action::Block) => {
            if let Some(target) = selected_row(model).and_then(|r| r.peer().cloned()) {
                let blocked = model.handle().is_some_and(|h| h.friends.blocked.contains(&target));
                model.dialogs.push_back(Dialog::Block { target, block: !blocked, yes: false });
            }
        }
        Some(Action::EditEntry) => match selected_row(model) {
            Some(Row::Friend(friend)) => {
                let entry = model.handle().and_then(|h| h.entry(&friend)).cloned();
                model.dialogs.push_back(Dialog::EditEntry {
                    friend,
                    field: 0,
                    nickname: TextInput::with(entry.as_ref().and_then(|e| e.nickname.as_deref()).unwrap_or("")),
                    note: TextInput::with(entry.as_ref().and_then(|e| e.note.as_deref()).unwrap_or("")),
                });
            }
            _ => notify(model, Level::Info, "Select a friend to write a nickname or note for."),
        },
        Some(Action::SetStatus) => open_status_dialog(model),
        Some(Action::SwitchHandle) => open_handle_dialog(model),
        _ => {}
    }
    Vec::new()
}

fn open_status_dialog(model: &mut Model) {
    let (state, activity) = model
        .handle()
        .map(|h| {
            (Dialog::STATES.iter().position(|s| *s == h.state).unwrap_or(0), h.activity.clone().unwrap_or_default())
        })
        .unwrap_or_default();
    model.dialogs.push_back(Dialog::SetStatus { field: 0, state, activity: TextInput::with(&activity) });
}

fn open_handle_dialog(model: &mut Model) {
    if model.handles.len() < 2 {
        notify(model, Level::Info, "You have one handle. Add another with /handle add NAME.");
    } else {
        model.dialogs.push_back(Dialog::SwitchHandle { selected: model.active });
    }
}

fn open_selected(model: &mut Model) -> Vec<Cmd> {
    match selected_row(model) {
        Some(Row::RequestIn(r)) => {
            model.dialogs.push_back(Dialog::FriendRequest { from: r.address, greeting: r.greeting, selected: 0 });
            Vec::new()
        }
        Some(Row::RequestOut(r)) => {
            let name = r.address.handle.to_string();
            notify(model, Level::Info, format!("Waiting for {name} to answer. Press d to withdraw the request."));
            Vec::new()
        }
        Some(Row::Friend(peer)) => open_conversation(model, peer),
        Some(Row::Group(group)) => super::history::open(model, super::ConvKey::Room(group)),
        Some(Row::GroupInvite(invite)) => {
            model.dialogs.push_back(Dialog::GroupInvite { invite, selected: 0 });
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Opens the conversation with `peer` on the active handle, loading its history the first time.
pub fn open_conversation(model: &mut Model, peer: Address) -> Vec<Cmd> {
    super::history::open(model, super::ConvKey::Direct(peer))
}

fn log_key(model: &mut Model, action: Option<Action>) -> Vec<Cmd> {
    match action {
        Some(Action::Up) => return scroll(model, 1),
        Some(Action::Down) => return scroll(model, -1),
        Some(Action::PageUp) => return scroll(model, 10),
        Some(Action::PageDown) => return scroll(model, -10),
        Some(Action::Home) => return scroll(model, 1_000_000),
        Some(Action::End) => return scroll(model, -1_000_000),
        Some(Action::Search) => {
            model.search = Some(Search { query: TextInput::default(), editing: true, current: None });
        }
        Some(Action::SearchNext) => super::search::next(model),
        Some(Action::Receipts) => super::receipts::show(model),
        Some(Action::Back) => {
            model.search = None;
            model.focus = Focus::Input;
        }
        _ => {}
    }
    Vec::new()
}

/// Scrolls the open conversation by `lines` (up is positive); at the top, asks for older history.
pub fn scroll(model: &mut Model, lines: isize) -> Vec<Cmd> {
    let Some(h) = model.handle_mut() else { return Vec::new() };
    let acting = h.address.handle.clone();
    let Some(key) = h.open.clone() else { return Vec::new() };
    let Some(c) = h.conversations.get_mut(&key) else { return Vec::new() };
    // `scroll` counts screen rows, and only the view knows the width the lines wrap at; allow up to a generous
    // estimate (every 20 characters a row) and let the view stop at the real top.
    let rows: usize = c.lines.iter().map(|l| line_chars(l) / 20 + 1).sum();
    let wanted = c.scroll as isize + lines;
    c.scroll = wanted.clamp(0, rows.saturating_sub(1) as isize) as usize;
    // Older history is fetched as soon as the reader is back past the lines we hold.
    let at_top = wanted >= c.lines.len().saturating_sub(1) as isize && lines > 0;
    if !(at_top && c.history == super::HistoryState::More) {
        return Vec::new();
    }
    let oldest = c.lines.iter().find_map(|l| match l {
        super::LogLine::Message { id: Some(id), .. } => Some(id.clone()),
        _ => None,
    });
    let Some(before) = oldest else { return Vec::new() };
    c.history = super::HistoryState::Loading;
    vec![super::history::request_page(model, acting, key, Some(before))]
}

fn line_chars(line: &super::LogLine) -> usize {
    match line {
        super::LogLine::Message { body, .. } => body.chars().count() + 12,
        super::LogLine::System { text, .. } | super::LogLine::Prompt { text, .. } => text.chars().count() + 8,
    }
}

fn input_key(model: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Cmd> {
    match action {
        Some(Action::Send) => return send_input(model),
        Some(Action::Newline) => model.input.insert('\n'),
        Some(Action::Back) => {
            if model.input.is_empty() {
                model.focus = Focus::List;
            } else {
                model.input.take();
            }
        }
        Some(Action::HistoryPrev) => recall(model, true),
        Some(Action::HistoryNext) => recall(model, false),
        Some(Action::PageUp) => return scroll(model, 10),
        Some(Action::PageDown) => return scroll(model, -10),
        Some(Action::Complete) => {
            let handles: Vec<String> = model
                .handle()
                .map(|h| h.friends.entries.iter().map(|e| e.address.handle.to_string()).collect())
                .unwrap_or_default();
            match commands::complete(model.input.text(), &handles) {
                Some(line) => model.input.set(&line),
                None if model.input.text().starts_with('/') => {}
                None => model.focus = next_focus(model.focus, true),
            }
        }
        _ => {
            if edit(&mut model.input, &key) {
                model.history_pos = None;
                return typing_signal(model);
            }
        }
    }
    Vec::new()
}

/// Tells the open conversation's peer we are typing, at most every few seconds, and never for /commands.
fn typing_signal(model: &mut Model) -> Vec<Cmd> {
    if model.input.text().starts_with('/') || model.input.is_empty() {
        return Vec::new();
    }
    let Some(h) = model.handle() else { return Vec::new() };
    let Some(key) = h.open.clone() else { return Vec::new() };
    if key.room().is_some_and(|g| !h.groups.contains_key(g)) {
        return Vec::new();
    }
    let acting = Some(h.address.handle.clone());
    let recent =
        model.typing_sent.as_ref().is_some_and(|(k, at)| *k == key && model.now - at < super::TYPING_RESEND_MS);
    if recent {
        return Vec::new();
    }
    model.typing_sent = Some((key.clone(), model.now));
    let (to, group) = match key {
        super::ConvKey::Direct(peer) => (Some(peer), None),
        super::ConvKey::Room(id) => (None, Some(id)),
    };
    vec![Cmd::Net(net::Command::Signal(ClientFrame::Typing(Typing { id: None, acting, to, room: group })))]
}

fn recall(model: &mut Model, older: bool) {
    if model.sent_history.is_empty() {
        return;
    }
    let last = model.sent_history.len() - 1;
    let pos = match (model.history_pos, older) {
        (None, true) => Some(last),
        (None, false) => None,
        (Some(p), true) => Some(p.saturating_sub(1)),
        (Some(p), false) if p >= last => None,
        (Some(p), false) => Some(p + 1),
    };
    model.history_pos = pos;
    let text = pos.and_then(|p| model.sent_history.get(p)).cloned().unwrap_or_default();
    model.input.set(&text);
}

fn send_input(model: &mut Model) -> Vec<Cmd> {
    let text = model.input.text().trim_end().to_owned();
    if text.trim().is_empty() {
        return Vec::new();
    }
    model.history_pos = None;
    if model.sent_history.last() != Some(&text) {
        model.sent_history.push(text.clone());
        if model.sent_history.len() > 500 {
            model.sent_history.remove(0);
        }
    }
    if text.starts_with('/') {
        model.input.take();
        return match commands::parse(&text) {
            Ok(command) => run_command(model, command),
            Err(sentence) => {
                notify(model, Level::Error, sentence);
                Vec::new()
            }
        };
    }
    send_text(model, text, model.chat.receipts)
}

/// Sends `text` to the open conversation; `confirm` asks for delivery confirmation.
fn send_text(model: &mut Model, text: String, confirm: bool) -> Vec<Cmd> {
    let Some(h) = model.handle() else { return Vec::new() };
    let Some(key) = h.open.clone() else {
        notify(model, Level::Info, "Open a conversation first: pick a friend in the list and press Enter.");
        return Vec::new();
    };
    if let Some(group) = key.room().filter(|g| !h.groups.contains_key(*g)) {
        let name = h.group_name(group);
        notify(model, Level::Error, format!("You are no longer in {name}; nothing can be sent there."));
        return Vec::new();
    }
    if text.len() > huddle_shared::limits::MAX_BODY_BYTES {
        notify(model, Level::Error, format!("That message is too long ({} bytes; at most 8192).", text.len()));
        return Vec::new();
    }
    model.input.take();
    super::events::send_message(model, key, text, confirm)
}

fn find_address(name: &str) -> Result<Address, String> {
    Address::parse(name.trim_start_matches('@')).map_err(|e| format!("{}.", capitalize(&e.to_string())))
}

fn run_command(model: &mut Model, command: SlashCommand) -> Vec<Cmd> {
    let acting = model.handle().map(|h| h.address.handle.clone());
    match command {
        SlashCommand::Add { handle, greeting } => match find_address(&handle) {
            Ok(to) => return vec![super::dialogs::send_friend_request(model, to, greeting)],
            Err(e) => notify(model, Level::Error, e),
        },
        SlashCommand::Del { handle } => match find_address(&handle) {
            Ok(friend) => model.dialogs.push_back(Dialog::DeleteConfirm { friend: resolve(model, friend), yes: false }),
            Err(e) => notify(model, Level::Error, e),
        },
        SlashCommand::Block { handle } | SlashCommand::Unblock { handle } if find_address(&handle).is_err() => {
            notify(model, Level::Error, find_address(&handle).err().unwrap_or_default());
        }
        SlashCommand::Block { handle } => {
            if let Ok(target) = find_address(&handle) {
                model.dialogs.push_back(Dialog::Block { target: resolve(model, target), block: true, yes: false });
            }
        }
        SlashCommand::Unblock { handle } => {
            if let Ok(target) = find_address(&handle) {
                let target = resolve(model, target);
                return vec![request(model, Pending::Block { target: target.clone(), block: false }, |id| {
                    ClientFrame::Unblock(Unblock { id, acting, target })
                })];
            }
        }
        SlashCommand::Status { state, activity } => {
            if let Some(h) = model.handle_mut() {
                if let Some(s) = state {
                    h.state = s;
                }
                if let Some(a) = &activity {
                    h.activity = Some(a.clone()).filter(|a| !a.is_empty());
                }
            }
            return vec![request(model, Pending::Presence, |id| {
                ClientFrame::SetPresence(SetPresence { id, acting, state, activity, location: None })
            })];
        }
        SlashCommand::Handle { handle: None } => open_handle_dialog(model),
        SlashCommand::Handle { handle: Some(name) } => {
            match model.handles.iter().position(|h| h.address.handle.as_str() == name) {
                Some(i) => switch_handle(model, i),
                None => notify(
                    model,
                    Level::Error,
                    format!("{name} is not one of your handles. /handle add {name} creates it."),
                ),
            }
        }
        SlashCommand::HandleAdd { handle } => match Handle::parse(&handle) {
            Ok(handle) => {
                return vec![request(model, Pending::Other("add_handle"), |id| {
                    ClientFrame::AddHandle(AddHandle { id, handle })
                })];
            }
            Err(e) => notify(model, Level::Error, format!("{}.", capitalize(&e.to_string()))),
        },
        SlashCommand::Nick { handle, nickname } => return set_entry(model, &handle, Some(nickname), None),
        SlashCommand::Note { handle, note } => return set_entry(model, &handle, None, Some(note)),
        SlashCommand::Msg { handle, text } => match find_address(&handle) {
            Ok(peer) => {
                let peer = resolve(model, peer);
                let mut cmds = open_conversation(model, peer.clone());
                if let Some(text) = text {
                    let confirm = model.chat.receipts;
                    cmds.extend(super::events::send_message(model, super::ConvKey::Direct(peer), text, confirm));
                }
                return cmds;
            }
            Err(e) => notify(model, Level::Error, e),
        },
        SlashCommand::Invite { handle } => match find_address(&handle) {
            Ok(who) => {
                let who = resolve(model, who);
                return super::groups::invite(model, who);
            }
            Err(e) => notify(model, Level::Error, e),
        },
        SlashCommand::Group { handles } => match handles.iter().map(|h| find_address(h)).collect::<Result<Vec<_>, _>>()
        {
            Ok(members) => {
                let members = members.into_iter().map(|m| resolve(model, m)).collect();
                return super::groups::create(model, members, None);
            }
            Err(e) => notify(model, Level::Error, e),
        },
        SlashCommand::Leave => return super::groups::leave(model),
        SlashCommand::Rename { title } => return super::groups::rename(model, title),
        SlashCommand::Kick { handle } => match find_address(&handle) {
            Ok(who) => {
                let who = resolve(model, who);
                return super::groups::kick(model, who);
            }
            Err(e) => notify(model, Level::Error, e),
        },
        SlashCommand::Share { count } => return super::groups::share(model, count),
        SlashCommand::Confirm { text } => return send_text(model, text, true),
        SlashCommand::Logout => {
            model.screen = Screen::Login(LoginForm {
                mode: LoginMode::Login,
                field: 0,
                handle: TextInput::default(),
                password: TextInput::default(),
                invite: TextInput::default(),
                error: None,
                busy: false,
            });
            model.handles.clear();
            return vec![Cmd::Net(net::Command::Logout), Cmd::ForgetToken];
        }
        SlashCommand::Quit => {
            model.quit = true;
            return vec![Cmd::Net(net::Command::Shutdown), Cmd::Quit];
        }
        SlashCommand::Help => model.help = true,
    }
    Vec::new()
}

/// `/nick` and `/note`: edit one field of an entry (an empty text clears it).
fn set_entry(model: &mut Model, handle: &str, nickname: Option<String>, note: Option<String>) -> Vec<Cmd> {
    let acting = model.handle().map(|h| h.address.handle.clone());
    match find_address(handle) {
        Ok(friend) => {
            let friend = resolve(model, friend);
            vec![request(model, Pending::SetEntry, |id| {
                ClientFrame::SetEntry(SetEntry { id, acting, friend, nickname, note })
            })]
        }
        Err(e) => {
            notify(model, Level::Error, e);
            Vec::new()
        }
    }
}

/// Fills in our relay for an address typed without one.
pub fn resolve(model: &Model, address: Address) -> Address {
    match &model.relay {
        Some(relay) => address.resolve(relay),
        None => address,
    }
}

pub fn switch_handle(model: &mut Model, index: usize) {
    if index < model.handles.len() {
        model.active = index;
        model.search = None;
        let name = model.handles[index].address.to_string();
        notify(model, Level::Info, format!("Now acting as {name}."));
    }
}

/// Answers the newest unanswered inline prompt of the open conversation (or, if it has none, of any conversation).
fn answer_prompt(model: &mut Model, yes: bool) -> Vec<Cmd> {
    let Some(h) = model.handle_mut() else { return Vec::new() };
    let acting = h.address.handle.clone();
    let open = h.open.clone();
    let mut target = None;
    let candidates: Vec<super::ConvKey> = open.into_iter().chain(h.conversations.keys().cloned()).collect();
    'search: for key in candidates {
        if let Some(c) = h.conversations.get_mut(&key) {
            for line in c.lines.iter_mut().rev() {
                if let super::LogLine::Prompt { kind, answer: answer @ None, .. } = line {
                    *answer = Some(prompt_answer(kind, yes).to_owned());
                    target = Some(kind.clone());
                    break 'search;
                }
            }
        }
    }
    match target {
        Some(super::PromptKind::DeletionRequest { peer }) => {
            let answer = if yes {
                huddle_shared::model::DeletionAnswer::Confirm
            } else {
                huddle_shared::model::DeletionAnswer::Refuse
            };
            let pending = Pending::AnswerDeletion { from: peer.clone(), confirm: yes };
            vec![request(model, pending, |id| {
                ClientFrame::AnswerDeletion(AnswerDeletion { id, acting: Some(acting), from: peer, answer })
            })]
        }
        Some(super::PromptKind::Promote { with, message }) if yes => {
            let newcomer = message.from.clone();
            notify(model, Level::Info, format!("Making a group with {} and {}…", with.handle, newcomer.handle));
            vec![super::groups::create_promoted(model, acting, with, newcomer, Some(message))]
        }
        Some(super::PromptKind::AddToGroup { group, message }) if yes => {
            notify(model, Level::Info, format!("Adding {} to the group…", message.from.handle));
            vec![super::promotion::add_to_group(model, acting, group, message)]
        }
        Some(super::PromptKind::Promote { message, .. } | super::PromptKind::AddToGroup { message, .. }) => {
            let who = message.from.handle.to_string();
            notify(model, Level::Info, format!("Kept apart; {who}'s message is in your conversation with {who}."));
            Vec::new()
        }
        None => {
            notify(model, Level::Info, "There is nothing to answer.");
            Vec::new()
        }
    }
}

/// What an answered prompt says after it.
fn prompt_answer(kind: &super::PromptKind, yes: bool) -> &'static str {
    match (kind, yes) {
        (super::PromptKind::DeletionRequest { .. }, true) => "you deleted them too",
        (super::PromptKind::DeletionRequest { .. }, false) => "you kept them",
        (super::PromptKind::Promote { .. }, true) => "making the group",
        (super::PromptKind::Promote { .. }, false) => "kept apart",
        (super::PromptKind::AddToGroup { .. }, true) => "adding them",
        (super::PromptKind::AddToGroup { .. }, false) => "not added",
    }
}

pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
