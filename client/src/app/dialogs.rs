//! Keys inside the dialog on top: a question ([`Confirm`]) whose answers carry their intents, the forms (add a
//! friend, nickname and note, status, new group), the handle picker and the receipts view. Answering returns the
//! chosen intent as [`Cmd::Do`]; this module performs nothing itself.

use crossterm::event::{KeyCode, KeyEvent};
use huddle_shared::Address;

use super::input::TextInput;
use super::intent::{Intent, Secret};
use super::notices::capitalize;
use super::{Cmd, Confirm, Dialog, Model};
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
        Dialog::Profile { field: 0, display_name, .. } => Some(display_name),
        Dialog::Profile { bio, .. } => Some(bio),
        Dialog::Publish { field: 0, title, .. } => Some(title),
        Dialog::Publish { body, .. } => Some(body),
        Dialog::Password { field: 0, old, .. } => Some(old),
        Dialog::Password { field: 1, new, .. } => Some(new),
        Dialog::Password { repeat, .. } => Some(repeat),
        _ => None,
    }
}

fn is_form(dialog: &Dialog) -> bool {
    matches!(
        dialog,
        Dialog::AddFriend { .. }
            | Dialog::EditEntry { .. }
            | Dialog::SetStatus { .. }
            | Dialog::NewGroup { .. }
            | Dialog::Profile { .. }
            | Dialog::Publish { .. }
            | Dialog::Password { .. }
    )
}

/// A key while a dialog is shown: `action` is what it means in `[dialog]`, `edit_action` what it means to a text
/// field.
pub fn key(model: &mut Model, key: KeyEvent, action: Option<Action>, edit_action: Option<Action>) -> Vec<Cmd> {
    let handles = model.handles.len().max(1);
    if let Some(Dialog::Receipts { key: conv, message_id }) = model.dialogs.front() {
        // Steps through our tracked messages; anything else closes it.
        let delta = match action {
            Some(Action::Left) => -1,
            Some(Action::Right) => 1,
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
            KeyCode::Enter => return submit(model),
            KeyCode::Tab | KeyCode::Down => next_field(dialog, 1),
            KeyCode::BackTab | KeyCode::Up => next_field(dialog, -1),
            KeyCode::Left | KeyCode::Right if matches!(dialog, Dialog::SetStatus { field: 0, .. }) => {
                step(dialog, if key.code == KeyCode::Left { -1 } else { 1 }, handles);
            }
            _ => {
                if let Some(field) = text_field(dialog) {
                    super::editing::apply(field, &key, edit_action);
                }
                if let Dialog::AddFriend { error, .. }
                | Dialog::NewGroup { error, .. }
                | Dialog::Password { error, .. } = dialog
                {
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
        Some(Action::Open) => submit(model),
        _ => Vec::new(),
    }
}

/// Moves between the fields of a form dialog.
fn next_field(dialog: &mut Dialog, delta: isize) {
    if let Dialog::AddFriend { field, .. }
    | Dialog::EditEntry { field, .. }
    | Dialog::SetStatus { field, .. }
    | Dialog::NewGroup { field, .. }
    | Dialog::Publish { field, .. }
    | Dialog::Profile { field, .. } = dialog
    {
        *field = ((*field as isize + delta).rem_euclid(2)) as usize;
    }
    if let Dialog::Password { field, .. } = dialog {
        *field = ((*field as isize + delta).rem_euclid(3)) as usize;
    }
}

/// Moves the highlighted answer or choice within a dialog.
fn step(dialog: &mut Dialog, delta: isize, handles: usize) {
    let wrap = |value: usize, count: usize| ((value as isize + delta).rem_euclid(count.max(1) as isize)) as usize;
    match dialog {
        Dialog::Confirm(c) => c.selected = wrap(c.selected, c.choices.len()),
        Dialog::SetStatus { state, .. } => *state = wrap(*state, Dialog::STATES.len()),
        Dialog::SwitchHandle { selected } => *selected = wrap(*selected, handles),
        Dialog::Sessions { sessions, selected } => *selected = wrap(*selected, sessions.len()),
        Dialog::Topics { topics, selected } => *selected = wrap(*selected, topics.len()),
        Dialog::Publish { .. }
        | Dialog::AddFriend { .. }
        | Dialog::EditEntry { .. }
        | Dialog::NewGroup { .. }
        | Dialog::Receipts { .. }
        | Dialog::Profile { .. }
        | Dialog::Password { .. } => {}
    }
}

/// The answer highlighted in a question: its intent (if any), and the question leaves the list unless it was put
/// off.
fn answer(model: &mut Model, confirm: Confirm) -> Vec<Cmd> {
    let Some(choice) = confirm.choices.into_iter().nth(confirm.selected) else { return Vec::new() };
    if let Some(about) = confirm.question.filter(|_| !choice.later) {
        super::questions::answered(model, &about);
    }
    choice.intent.map(Cmd::Do).into_iter().collect()
}

/// Enter on the front dialog.
fn submit(model: &mut Model) -> Vec<Cmd> {
    let Some(dialog) = model.dialogs.pop_front() else { return Vec::new() };
    let Some(acting) = model.handle().map(|h| h.address.handle.clone()) else { return Vec::new() };
    let resolve = |model: &Model, a: Address| super::handles::resolve(model, a);
    match dialog {
        Dialog::Confirm(confirm) => answer(model, *confirm),
        Dialog::AddFriend { field, handle, greeting, error } => {
            if field == 0 && !handle.is_empty() && greeting.is_empty() {
                // Enter in the handle field moves on to the greeting.
                model.dialogs.push_front(Dialog::AddFriend { field: 1, handle, greeting, error });
                return Vec::new();
            }
            match Address::parse(handle.text().trim().trim_start_matches('@')) {
                Ok(to) => {
                    let text = greeting.text().trim();
                    let greeting = (!text.is_empty()).then(|| text.to_owned());
                    let to = resolve(model, to);
                    vec![Cmd::Do(Intent::SendFriendRequest { acting, to, greeting })]
                }
                Err(e) => {
                    let error = Some(format!("{}.", capitalize(&e.to_string())));
                    model.dialogs.push_front(Dialog::AddFriend { field: 0, handle, greeting, error });
                    Vec::new()
                }
            }
        }
        Dialog::EditEntry { friend, nickname, note, .. } => vec![Cmd::Do(Intent::SetEntry {
            acting,
            friend,
            nickname: Some(nickname.text().trim().to_owned()),
            note: Some(note.text().trim().to_owned()),
        })],
        Dialog::SetStatus { state, activity, .. } => {
            let state = Dialog::STATES.get(state).copied();
            let activity = Some(activity.text().trim().to_owned());
            vec![Cmd::Do(Intent::SetPresence { acting, state, activity })]
        }
        Dialog::SwitchHandle { selected } => {
            super::handles::switch_handle(model, selected.min(model.handles.len().saturating_sub(1)));
            Vec::new()
        }
        Dialog::Receipts { .. } => Vec::new(),
        Dialog::Profile { field, display_name, bio } => {
            if field == 0 && bio.is_empty() {
                model.dialogs.push_front(Dialog::Profile { field: 1, display_name, bio });
                return Vec::new();
            }
            let (display_name, bio) = (display_name.text().trim().to_owned(), bio.text().trim().to_owned());
            vec![Cmd::Do(Intent::SetProfile { acting, display_name, bio })]
        }
        Dialog::Password { field, old, new, repeat, .. } => {
            let problem = if field < 2 && repeat.is_empty() {
                // Enter moves on until the last field.
                model.dialogs.push_front(Dialog::Password { field: field + 1, old, new, repeat, error: None });
                return Vec::new();
            } else if old.is_empty() {
                Some((0, "Type your current password first."))
            } else if new.text().len() < huddle_shared::limits::MIN_PASSWORD_BYTES {
                Some((1, "A password is at least 8 characters long."))
            } else if new.text() != repeat.text() {
                Some((2, "The two new passwords differ; type the new one again."))
            } else {
                None
            };
            match problem {
                Some((field, text)) => {
                    let repeat = if field == 2 { TextInput::default() } else { repeat };
                    let error = Some(text.to_owned());
                    model.dialogs.push_front(Dialog::Password { field, old, new, repeat, error });
                    Vec::new()
                }
                None => {
                    let (old, new) = (Secret(old.text().to_owned()), Secret(new.text().to_owned()));
                    vec![Cmd::Do(Intent::ChangePassword { old, new })]
                }
            }
        }
        Dialog::Sessions { sessions, selected } => {
            let Some(session) = sessions.get(selected).cloned() else { return Vec::new() };
            if session.current {
                model.dialogs.push_front(Dialog::Sessions { sessions, selected });
                super::notices::notify(model, super::Level::Info, "That is this session: /logout ends it.");
                return Vec::new();
            }
            let question = super::confirm::revoke_session(&session);
            model.dialogs.push_front(Dialog::Confirm(Box::new(question)));
            Vec::new()
        }
        Dialog::Topics { topics, selected } => {
            let Some(topic) = topics.get(selected).cloned() else { return Vec::new() };
            let mine =
                model.handle().is_some_and(|h| topic.owner == h.address || topic.publishers.contains(&h.address));
            model.dialogs.push_front(Dialog::Topics { topics, selected });
            if mine {
                let form = Dialog::Publish {
                    topic: Box::new(topic),
                    field: 0,
                    title: TextInput::default(),
                    body: TextInput::default(),
                    error: None,
                };
                model.dialogs.push_front(form);
            } else if let Some(h) = model.handle() {
                let question = super::confirm::subscribe(h, &topic);
                model.dialogs.push_front(Dialog::Confirm(Box::new(question)));
            }
            Vec::new()
        }
        Dialog::Publish { topic, field, title, body, error } => {
            if field == 0 && body.is_empty() && !title.is_empty() {
                model.dialogs.push_front(Dialog::Publish { topic, field: 1, title, body, error });
                return Vec::new();
            }
            let heading = title.text().trim().to_owned();
            if heading.is_empty() {
                let error = Some("An issue needs a title.".to_owned());
                model.dialogs.push_front(Dialog::Publish { topic, field: 0, title, body, error });
                return Vec::new();
            }
            let text = body.text().trim();
            let body = (!text.is_empty()).then(|| text.to_owned());
            vec![Cmd::Do(Intent::Publish { acting, topic: topic.id, title: heading, body })]
        }
        Dialog::NewGroup { field, members, title, error } => {
            if field == 0 && title.is_empty() && !members.is_empty() {
                // Enter in the members field moves on to the title.
                model.dialogs.push_front(Dialog::NewGroup { field: 1, members, title, error });
                return Vec::new();
            }
            match parse_members(members.text()) {
                Ok(list) if !list.is_empty() => {
                    let members = list.into_iter().map(|a| resolve(model, a)).collect();
                    let t = title.text().trim();
                    let title = (!t.is_empty()).then(|| t.to_owned());
                    vec![Cmd::Do(Intent::CreateGroup { acting, members, title })]
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
