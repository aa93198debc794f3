//! Moving around the main screen: actions that work from any part of it (conversation switching, dialogs the
//! person opens, overlays), the friend list's own keys and the conversation log's. Opening a dialog here is always
//! the person's doing; nothing here answers a question.

use super::input::TextInput;
use super::notices::notify;
use super::selection;
use super::{Cmd, ConvKey, Dialog, Focus, Level, Model, Row, RowKey};
use crate::keymap::Action;

/// Whether an action means the same from the list, the log and the input line.
pub fn is_global(action: Action) -> bool {
    action.go_to().is_some()
        || matches!(
            action,
            Action::Help
                | Action::FocusNext
                | Action::FocusPrev
                | Action::ToggleInfo
                | Action::ToggleMembers
                | Action::OpenQuestion
                | Action::Notices
                | Action::PreviousConversation
                | Action::NextConversation
                | Action::NextUnread
                | Action::CloseConversation
                | Action::ToggleMute
                | Action::Redraw
                | Action::AddFriend
                | Action::DeleteFriend
                | Action::Block
                | Action::EditEntry
                | Action::SetStatus
                | Action::SwitchHandle
                | Action::NewGroup
                | Action::Receipts
                | Action::Search
                | Action::SearchNext
        )
}

pub fn global(model: &mut Model, action: Action) -> Vec<Cmd> {
    if let Some(n) = action.go_to() {
        return go_to(model, n);
    }
    match action {
        Action::Help => model.help = true,
        Action::FocusNext => model.focus = next_focus(model.focus, true),
        Action::FocusPrev => model.focus = next_focus(model.focus, false),
        Action::ToggleInfo => model.info = !model.info,
        Action::ToggleMembers => toggle_members(model),
        Action::OpenQuestion if !super::questions::open_next(model) => {
            notify(model, Level::Info, "No question is waiting for an answer.");
        }
        Action::Notices => model.notices_view = Some(0),
        Action::PreviousConversation => return step_conversation(model, -1),
        Action::NextConversation => return step_conversation(model, 1),
        Action::NextUnread => return next_unread(model),
        Action::CloseConversation => {
            close(model);
            return super::kept::save(model).into_iter().collect();
        }
        Action::ToggleMute => {
            toggle_mute(model);
            return super::kept::save(model).into_iter().collect();
        }
        Action::Redraw => return vec![Cmd::Redraw],
        Action::AddFriend => model.dialogs.push_back(Dialog::AddFriend {
            field: 0,
            handle: TextInput::default(),
            greeting: TextInput::default(),
            error: None,
        }),
        Action::NewGroup => model.dialogs.push_back(Dialog::NewGroup {
            field: 0,
            members: TextInput::default(),
            title: TextInput::default(),
            error: None,
        }),
        Action::DeleteFriend => return delete_selected(model),
        Action::Block => block_selected(model),
        Action::EditEntry => edit_selected(model),
        Action::SetStatus => open_status_dialog(model),
        Action::SwitchHandle => open_handle_dialog(model),
        Action::Receipts => super::receipts::show(model),
        Action::Search => {
            if model.conversation().is_some() {
                super::search::start(model);
            } else {
                notify(model, Level::Info, "Open a conversation to search it.");
            }
        }
        Action::SearchNext => return super::search::next(model),
        _ => {}
    }
    Vec::new()
}

fn next_focus(focus: Focus, forward: bool) -> Focus {
    match (focus, forward) {
        (Focus::List, true) | (Focus::Log, false) => Focus::Input,
        (Focus::Input, true) | (Focus::List, false) => Focus::Log,
        (Focus::Log, true) | (Focus::Input, false) => Focus::List,
    }
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

/// Opens a conversation of the active handle and highlights its row.
pub fn open(model: &mut Model, key: ConvKey) -> Vec<Cmd> {
    let row = match &key {
        ConvKey::Direct(peer) => RowKey::Friend(peer.clone()),
        ConvKey::Room(id) => RowKey::Group(id.clone()),
    };
    let mut cmds = super::history::open(model, key);
    selection::select(model, row);
    // Opening an archived group brings it back.
    cmds.extend(super::kept::save(model));
    cmds
}

/// Alt-1…9: the Nth conversation of the list.
fn go_to(model: &mut Model, n: usize) -> Vec<Cmd> {
    let Some(key) = model.handle().and_then(|h| h.numbered().into_iter().nth(n - 1)) else {
        notify(model, Level::Info, format!("There is no conversation {n} in the list."));
        return Vec::new();
    };
    open(model, key)
}

/// The conversations of the list in order (groups, then friends; archived groups last).
fn conversations(model: &Model) -> Vec<ConvKey> {
    model
        .handle()
        .map(|h| {
            h.rows()
                .into_iter()
                .filter_map(|r| match r {
                    Row::Group(id) => Some(ConvKey::Room(id)),
                    Row::Friend(a) => Some(ConvKey::Direct(a)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Alt-↑/↓: the conversation above or below the open one (or the highlighted row) in the list.
fn step_conversation(model: &mut Model, delta: isize) -> Vec<Cmd> {
    let list = conversations(model);
    if list.is_empty() {
        return Vec::new();
    }
    let current = model.handle().and_then(|h| h.open.clone()).and_then(|k| list.iter().position(|c| *c == k));
    let next = match current {
        Some(i) => (i as isize + delta).clamp(0, list.len() as isize - 1) as usize,
        None if delta > 0 => 0,
        None => list.len() - 1,
    };
    if Some(next) == current {
        return Vec::new();
    }
    open(model, list[next].clone())
}

/// Alt-a: the next conversation with unread messages, on this handle or another.
fn next_unread(model: &mut Model) -> Vec<Cmd> {
    let here = conversations(model)
        .into_iter()
        .find(|k| model.handle().and_then(|h| h.conversations.get(k)).is_some_and(|c| c.unread > 0));
    if let Some(key) = here {
        return open(model, key);
    }
    let elsewhere = model.handles.iter().position(|h| h.unread() > 0);
    match elsewhere {
        Some(index) => {
            super::handles::switch_handle(model, index);
            next_unread(model)
        }
        None => {
            notify(model, Level::Info, "Nothing unread.");
            Vec::new()
        }
    }
}

/// Alt-w: closes the open conversation; a group is also put away under Archived until it is opened again or
/// someone writes in it.
fn close(model: &mut Model) {
    let Some(key) = model.handle().and_then(|h| h.open.clone()) else {
        notify(model, Level::Info, "No conversation is open.");
        return;
    };
    super::conversation::set_open(model, None);
    let Some(h) = model.handle_mut() else { return };
    let text = match &key {
        ConvKey::Room(id) if h.session.groups.contains_key(id) => {
            h.archived.insert(id.clone());
            format!("{} is under Archived; Enter on it, or a new message, brings it back.", h.group_name(id))
        }
        _ => format!("Closed your conversation with {}.", h.conversation_name(&key)),
    };
    model.focus = Focus::List;
    selection::fix(model);
    notify(model, Level::Info, text);
}

fn toggle_mute(model: &mut Model) {
    let Some(h) = model.handle_mut() else { return };
    let Some(key) = h.open.clone() else {
        notify(model, Level::Info, "Open a conversation to mute it.");
        return;
    };
    let name = h.conversation_name(&key);
    let text = if h.muted.remove(&key) {
        format!("{name} is no longer muted.")
    } else {
        h.muted.insert(key);
        format!("{name} is muted: no bell, no notification, not counted in the title.")
    };
    notify(model, Level::Info, text);
}

/// Delete on the highlighted row: delete a friend, leave a group, decline an invitation, withdraw a request.
fn delete_selected(model: &mut Model) -> Vec<Cmd> {
    let Some(h) = model.handle() else { return Vec::new() };
    let acting = h.address.handle.clone();
    match selection::selected_row(model) {
        Some(Row::Friend(friend)) => {
            let question = super::confirm::delete_friend(h, &friend);
            model.dialogs.push_back(Dialog::Confirm(Box::new(question)));
        }
        Some(Row::Group(group)) => {
            let question = super::confirm::leave(h, &group);
            model.dialogs.push_back(Dialog::Confirm(Box::new(question)));
        }
        Some(Row::GroupInvite(invite)) => {
            super::questions::open(model, &super::QuestionAbout::GroupInvite { invite });
        }
        Some(Row::RequestIn(r)) => {
            super::questions::open(
                model,
                &super::QuestionAbout::FriendRequest { from: r.address, greeting: r.greeting },
            );
        }
        Some(Row::RequestOut(r)) => {
            return vec![Cmd::Do(super::intent::Intent::CancelRequest { acting, to: r.address })];
        }
        _ => notify(model, Level::Info, "Highlight a friend in the list first (Alt-↑/↓, or Tab to the list)."),
    }
    Vec::new()
}

fn block_selected(model: &mut Model) {
    let Some(target) = selection::selected_row(model).and_then(|r| r.peer().cloned()) else {
        notify(model, Level::Info, "Highlight the person in the list first, or use /block NAME.");
        return;
    };
    let Some(h) = model.handle() else { return };
    let blocked = h.session.friends.blocked.contains(&target);
    let question = super::confirm::block(h, &target, !blocked);
    model.dialogs.push_back(Dialog::Confirm(Box::new(question)));
}

fn edit_selected(model: &mut Model) {
    match selection::selected_row(model) {
        Some(Row::Friend(friend)) => {
            let entry = model.handle().and_then(|h| h.entry(&friend)).cloned();
            model.dialogs.push_back(Dialog::EditEntry {
                friend,
                field: 0,
                nickname: TextInput::with(entry.as_ref().and_then(|e| e.nickname.as_deref()).unwrap_or("")),
                note: TextInput::with(entry.as_ref().and_then(|e| e.note.as_deref()).unwrap_or("")),
            });
        }
        _ => notify(model, Level::Info, "Highlight a friend to write a nickname or note for."),
    }
}

pub fn open_status_dialog(model: &mut Model) {
    let (state, activity) = model
        .handle()
        .map(|h| {
            (Dialog::STATES.iter().position(|s| *s == h.state).unwrap_or(0), h.activity.clone().unwrap_or_default())
        })
        .unwrap_or_default();
    model.dialogs.push_back(Dialog::SetStatus { field: 0, state, activity: TextInput::with(&activity) });
}

pub fn open_handle_dialog(model: &mut Model) {
    if model.handles.len() < 2 {
        notify(model, Level::Info, "You have one handle. Add another with /handle add NAME.");
    } else {
        model.dialogs.push_back(Dialog::SwitchHandle { selected: model.active });
    }
}

/// Keys of the friend list.
pub fn list_key(model: &mut Model, action: Option<Action>) -> Vec<Cmd> {
    let page = model.page_rows().max(1) as isize;
    match action {
        Some(Action::Up) => selection::move_by(model, -1),
        Some(Action::Down) => selection::move_by(model, 1),
        Some(Action::PageUp) => selection::move_by(model, -page),
        Some(Action::PageDown) => selection::move_by(model, page),
        Some(Action::Home) => selection::move_by(model, -100_000),
        Some(Action::End) => selection::move_by(model, 100_000),
        Some(Action::Open) => return open_selected(model),
        Some(Action::Back) => model.focus = Focus::Input,
        _ => {}
    }
    Vec::new()
}

/// Enter on a row: a conversation opens; a request or invitation opens its question.
fn open_selected(model: &mut Model) -> Vec<Cmd> {
    match selection::selected_row(model) {
        Some(Row::RequestIn(r)) => {
            super::questions::open(
                model,
                &super::QuestionAbout::FriendRequest { from: r.address, greeting: r.greeting },
            );
        }
        Some(Row::RequestOut(r)) => {
            let name = r.address.handle.to_string();
            notify(model, Level::Info, format!("Waiting for {name} to answer. Alt-k withdraws the request."));
        }
        Some(Row::Friend(peer)) => return open(model, ConvKey::Direct(peer)),
        Some(Row::Group(group)) => return open(model, ConvKey::Room(group)),
        Some(Row::GroupInvite(invite)) => {
            super::questions::open(model, &super::QuestionAbout::GroupInvite { invite });
        }
        _ => {}
    }
    Vec::new()
}

/// Keys of the conversation log.
pub fn log_key(model: &mut Model, action: Option<Action>) -> Vec<Cmd> {
    let page = model.page_rows() as isize;
    match action {
        Some(Action::Up) => return scroll(model, 1),
        Some(Action::Down) => return scroll(model, -1),
        Some(Action::PageUp) => return scroll(model, page),
        Some(Action::PageDown) => return scroll(model, -page),
        Some(Action::Home) => return to_top(model),
        Some(Action::End) => {
            if let Some(c) = open_conversation(model) {
                c.scroll.to_bottom();
            }
        }
        Some(Action::Back) => {
            model.search = None;
            model.focus = Focus::Input;
        }
        _ => {}
    }
    Vec::new()
}

fn open_conversation(model: &mut Model) -> Option<&mut super::Conversation> {
    let h = model.handle_mut()?;
    let key = h.open.clone()?;
    h.conversations.get_mut(&key)
}

/// Scrolls the open conversation by `rows` (up is positive), applied at the next frame; scrolling up with the top
/// of what is held on screen asks for the page before it.
pub fn scroll(model: &mut Model, rows: isize) -> Vec<Cmd> {
    let Some(c) = open_conversation(model) else { return Vec::new() };
    c.scroll.pending = c.scroll.pending.saturating_add(rows);
    c.scroll.jump_top = false;
    if rows > 0 && c.scroll.top_shown { older_page(model) } else { Vec::new() }
}

/// Home: the oldest line held; pressed there, the page before it.
fn to_top(model: &mut Model) -> Vec<Cmd> {
    let Some(c) = open_conversation(model) else { return Vec::new() };
    let there = c.scroll.top_shown;
    c.scroll.pending = 0;
    c.scroll.jump_top = true;
    if there { older_page(model) } else { Vec::new() }
}

/// Asks for the page of history before the oldest one held, if there is one and it is not on its way.
fn older_page(model: &mut Model) -> Vec<Cmd> {
    let Some(h) = model.handle_mut() else { return Vec::new() };
    let acting = h.address.handle.clone();
    let Some(key) = h.open.clone() else { return Vec::new() };
    let Some(c) = h.conversations.get_mut(&key) else { return Vec::new() };
    if c.history != super::HistoryState::More {
        return Vec::new();
    }
    c.history = super::HistoryState::Loading;
    let before = c.oldest.clone();
    vec![super::history::request_page(model, acting, key, before)]
}

/// The view drew the open conversation: the reader is where it put them. Having read up to the top of what is
/// held fetches the page before it.
pub fn drawn(model: &mut Model, drawn: super::LogDrawn) -> Vec<Cmd> {
    model.log_height = drawn.height;
    let Some(h) = model.handle_mut() else { return Vec::new() };
    if h.open.as_ref() != Some(&drawn.key) {
        return Vec::new();
    }
    let Some(c) = h.conversations.get_mut(&drawn.key) else { return Vec::new() };
    let read_up = drawn.top_shown && drawn.anchor.is_some();
    c.scroll = super::Scroll { anchor: drawn.anchor, top_shown: drawn.top_shown, ..Default::default() };
    if read_up { older_page(model) } else { Vec::new() }
}
