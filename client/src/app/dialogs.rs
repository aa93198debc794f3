//! Keys inside dialogs, and what each dialog does when answered. The deletion dialogs chain: confirm → (relay
//! deletes) → tell? → ask to delete you too? — "No" at step 2 ends quietly, "No" at step 3 sends only the notice.

use crossterm::event::{KeyCode, KeyEvent};
use huddle_shared::client::{
    AnswerRequest, AnswerRoomInvite, Block, DeleteFriend, FriendRequest, NotifyDeletion, SetEntry, SetPresence, Unblock,
};
use huddle_shared::model::RequestAnswer;
use huddle_shared::{Address, ClientFrame};

use super::input::TextInput;
use super::update::{capitalize, edit, request, resolve, switch_handle};
use super::{Cmd, Dialog, Model, Pending};
use crate::keymap::Action;

/// The text field a dialog is editing, if any (for pastes).
pub fn text_field(dialog: &mut Dialog) -> Option<&mut TextInput> {
    match dialog {
        Dialog::AddFriend { field: 0, handle, .. } => Some(handle),
        Dialog::AddFriend { greeting, .. } => Some(greeting),
        Dialog::EditEntry { field: 0, nickname, .. } => Some(nickname),
        Dialog::EditEntry { note, .. } => Some(note),
        Dialog::SetStatus { field: 1, activity, .. } => Some(activity),
        Dialog::NewGroup { field: 0, members, .. } => Some(members),
        Dialog::NewGroup { title, .. } => Some(title),
        _ => None,
    }
}

fn acting(model: &Model) -> Option<huddle_shared::Handle> {
    model.handle().map(|h| h.address.handle.clone())
}

pub fn send_friend_request(model: &mut Model, to: Address, greeting: Option<String>) -> Cmd {
    let to = resolve(model, to);
    let acting = acting(model);
    request(model, Pending::FriendRequest { to: to.clone() }, |id| {
        ClientFrame::FriendRequest(FriendRequest { id, acting, to, greeting })
    })
}

fn is_form(dialog: &Dialog) -> bool {
    matches!(
        dialog,
        Dialog::AddFriend { .. } | Dialog::EditEntry { .. } | Dialog::SetStatus { .. } | Dialog::NewGroup { .. }
    )
}

pub fn key(model: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Cmd> {
    let handles = model.handles.len().max(1);
    if let Some(Dialog::Receipts { key: conv, message_id }) = model.dialogs.front() {
        // Steps through our tracked messages; anything else closes it.
        let delta = match action {
            Some(Action::Left) => -1,
            Some(Action::Right) => 1,
            Some(Action::Quit) => {
                model.quit = true;
                return vec![Cmd::Net(crate::net::Command::Shutdown), Cmd::Quit];
            }
            _ => {
                model.dialogs.pop_front();
                return Vec::new();
            }
        };
        if let Some(next) = super::receipts::step(model, conv, message_id, delta) {
            if let Some(Dialog::Receipts { message_id, .. }) = model.dialogs.front_mut() {
                *message_id = next;
            }
        }
        return Vec::new();
    }
    let Some(dialog) = model.dialogs.front_mut() else { return Vec::new() };
    if is_form(dialog) {
        // Forms: Tab and the arrows move between fields, Enter submits, Esc cancels; letters are always text.
        match key.code {
            KeyCode::Esc => {
                model.dialogs.pop_front();
            }
            KeyCode::Enter => return choose(model, None),
            KeyCode::Tab | KeyCode::Down => next_field(dialog, 1),
            KeyCode::BackTab | KeyCode::Up => next_field(dialog, -1),
            KeyCode::Left | KeyCode::Right if matches!(dialog, Dialog::SetStatus { field: 0, .. }) => {
                step(dialog, if key.code == KeyCode::Left { -1 } else { 1 }, handles);
            }
            _ if action == Some(Action::Quit) => {
                model.quit = true;
                return vec![Cmd::Net(crate::net::Command::Shutdown), Cmd::Quit];
            }
            _ => {
                if let Some(field) = text_field(dialog) {
                    edit(field, &key);
                }
                if let Dialog::AddFriend { error, .. } | Dialog::NewGroup { error, .. } = dialog {
                    *error = None;
                }
            }
        }
        return Vec::new();
    }
    match action {
        Some(Action::Back) => {
            model.dialogs.pop_front();
            Vec::new()
        }
        Some(Action::Left) => {
            step(dialog, -1, handles);
            Vec::new()
        }
        Some(Action::Right) => {
            step(dialog, 1, handles);
            Vec::new()
        }
        Some(Action::Yes) => choose(model, Some(true)),
        Some(Action::No) => choose(model, Some(false)),
        Some(Action::Open) => choose(model, None),
        Some(Action::Quit) => {
            model.quit = true;
            vec![Cmd::Net(crate::net::Command::Shutdown), Cmd::Quit]
        }
        _ => Vec::new(),
    }
}

/// Moves between the fields of a form dialog.
fn next_field(dialog: &mut Dialog, delta: isize) {
    if let Dialog::AddFriend { field, .. }
    | Dialog::EditEntry { field, .. }
    | Dialog::SetStatus { field, .. }
    | Dialog::NewGroup { field, .. } = dialog
    {
        *field = ((*field as isize + delta).rem_euclid(2)) as usize;
    }
}

/// Moves the selection or the field within a dialog.
fn step(dialog: &mut Dialog, delta: isize, handles: usize) {
    let wrap = |value: usize, count: usize| ((value as isize + delta).rem_euclid(count as isize)) as usize;
    match dialog {
        Dialog::FriendRequest { selected, .. } => *selected = wrap(*selected, Dialog::REQUEST_CHOICES.len()),
        Dialog::DeleteConfirm { yes, .. }
        | Dialog::DeleteNotify { yes, .. }
        | Dialog::DeleteAsk { yes, .. }
        | Dialog::AskAgain { yes, .. }
        | Dialog::Block { yes, .. }
        | Dialog::LeaveGroup { yes, .. } => *yes = !*yes,
        Dialog::GroupInvite { selected, .. } => *selected = wrap(*selected, Dialog::INVITE_CHOICES.len()),
        Dialog::AddFriend { .. } | Dialog::EditEntry { .. } | Dialog::NewGroup { .. } | Dialog::Receipts { .. } => {}
        Dialog::SetStatus { state, .. } => *state = wrap(*state, Dialog::STATES.len()),
        Dialog::SwitchHandle { selected } => *selected = wrap(*selected, handles),
    }
}

/// Answers the front dialog: `Some(yes/no)` from y/n, `None` from Enter (the highlighted choice).
fn choose(model: &mut Model, shortcut: Option<bool>) -> Vec<Cmd> {
    let Some(dialog) = model.dialogs.pop_front() else { return Vec::new() };
    let acting = acting(model);
    match dialog {
        Dialog::FriendRequest { from, selected, .. } => {
            let choice = match shortcut {
                Some(true) => 0,
                Some(false) => 2,
                None => selected,
            };
            let answer = match choice {
                0 => RequestAnswer::Accept,
                1 => RequestAnswer::AcceptMutual,
                2 => RequestAnswer::Reject,
                // Later: it stays under Requests; Enter on it asks again.
                _ => return Vec::new(),
            };
            let pending = Pending::Answer { from: from.clone(), accept: answer != RequestAnswer::Reject };
            vec![request(model, pending, |id| ClientFrame::AnswerRequest(AnswerRequest { id, acting, from, answer }))]
        }
        Dialog::DeleteConfirm { friend, yes } => {
            if !shortcut.unwrap_or(yes) {
                return Vec::new();
            }
            vec![request(model, Pending::Delete { friend: friend.clone() }, |id| {
                ClientFrame::DeleteFriend(DeleteFriend { id, acting, friend })
            })]
        }
        Dialog::DeleteNotify { friend, yes } => {
            if shortcut.unwrap_or(yes) {
                model.dialogs.push_front(Dialog::DeleteAsk { friend, yes: true });
            }
            Vec::new()
        }
        Dialog::DeleteAsk { friend, yes } | Dialog::AskAgain { friend, yes } => {
            let ask = shortcut.unwrap_or(yes);
            vec![request(model, Pending::Notify { friend: friend.clone(), ask }, |id| {
                ClientFrame::NotifyDeletion(NotifyDeletion { id, acting, to: friend, ask_delete: ask })
            })]
        }
        Dialog::Block { target, block, yes } => {
            if !shortcut.unwrap_or(yes) {
                return Vec::new();
            }
            let pending = Pending::Block { target: target.clone(), block };
            vec![request(model, pending, |id| {
                if block {
                    ClientFrame::Block(Block { id, acting, target })
                } else {
                    ClientFrame::Unblock(Unblock { id, acting, target })
                }
            })]
        }
        Dialog::AddFriend { field, handle, greeting, error } => {
            if field == 0 && shortcut.is_none() && !handle.is_empty() && greeting.is_empty() {
                // Enter in the handle field moves on to the greeting.
                model.dialogs.push_front(Dialog::AddFriend { field: 1, handle, greeting, error });
                return Vec::new();
            }
            match Address::parse(handle.text().trim().trim_start_matches('@')) {
                Ok(to) => {
                    let text = greeting.text().trim();
                    let greeting = (!text.is_empty()).then(|| text.to_owned());
                    vec![send_friend_request(model, to, greeting)]
                }
                Err(e) => {
                    let error = Some(format!("{}.", capitalize(&e.to_string())));
                    model.dialogs.push_front(Dialog::AddFriend { field: 0, handle, greeting, error });
                    Vec::new()
                }
            }
        }
        Dialog::EditEntry { friend, nickname, note, .. } => {
            let pending = Pending::SetEntry;
            vec![request(model, pending, |id| {
                ClientFrame::SetEntry(SetEntry {
                    id,
                    acting,
                    friend,
                    nickname: Some(nickname.text().trim().to_owned()),
                    note: Some(note.text().trim().to_owned()),
                })
            })]
        }
        Dialog::SetStatus { state, activity, .. } => {
            let state = Dialog::STATES.get(state).copied();
            let text = activity.text().trim().to_owned();
            if let Some(h) = model.handle_mut() {
                if let Some(s) = state {
                    h.state = s;
                }
                h.activity = (!text.is_empty()).then(|| text.clone());
            }
            vec![request(model, Pending::Presence, |id| {
                ClientFrame::SetPresence(SetPresence { id, acting, state, activity: Some(text), location: None })
            })]
        }
        Dialog::SwitchHandle { selected } => {
            switch_handle(model, selected.min(model.handles.len().saturating_sub(1)));
            Vec::new()
        }
        Dialog::GroupInvite { invite, selected } => {
            let accept = match shortcut {
                Some(yes) => yes,
                // Later: it stays under Requests; Enter on it asks again.
                None if selected == 2 => return Vec::new(),
                None => selected == 0,
            };
            let group = invite.room;
            let pending = Pending::AnswerInvite { group: group.clone(), accept };
            vec![request(model, pending, |id| {
                ClientFrame::AnswerRoomInvite(AnswerRoomInvite { id, acting, room: group, accept })
            })]
        }
        Dialog::Receipts { .. } => Vec::new(),
        Dialog::LeaveGroup { group, yes } => {
            if !shortcut.unwrap_or(yes) {
                return Vec::new();
            }
            vec![super::groups::leave_now(model, group)]
        }
        Dialog::NewGroup { field, members, title, error } => {
            if field == 0 && shortcut.is_none() && title.is_empty() && !members.is_empty() {
                // Enter in the members field moves on to the title.
                model.dialogs.push_front(Dialog::NewGroup { field: 1, members, title, error });
                return Vec::new();
            }
            match parse_members(members.text()) {
                Ok(list) if !list.is_empty() => {
                    let list = list.into_iter().map(|a| resolve(model, a)).collect();
                    let t = title.text().trim();
                    super::groups::create(model, list, (!t.is_empty()).then(|| t.to_owned()))
                }
                Ok(_) => {
                    let error = Some("Name at least one friend.".to_owned());
                    model.dialogs.push_front(Dialog::NewGroup { field: 0, members, title, error });
                    Vec::new()
                }
                Err(e) => {
                    model.dialogs.push_front(Dialog::NewGroup { field: 0, members, title, error: Some(e) });
                    Vec::new()
                }
            }
        }
    }
}

/// Names separated by spaces or commas, each a handle or handle@relay (an `@` in front is allowed).
pub fn parse_members(text: &str) -> Result<Vec<Address>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| {
            Address::parse(w.trim_start_matches('@')).map_err(|e| format!("“{w}”: {}.", capitalize(&e.to_string())))
        })
        .collect()
}

/// After the relay deleted a friend: step 2.
pub fn deleted(model: &mut Model, friend: Address) {
    model.dialogs.push_front(Dialog::DeleteNotify { friend, yes: true });
}

/// After a refusal: "bob kept you on their list. Ask again?"
pub fn refused(model: &mut Model, friend: Address) {
    model.dialogs.push_back(Dialog::AskAgain { friend, yes: true });
}
