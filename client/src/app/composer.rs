//! The input line: the message being written (each conversation keeps its own draft), sending it, recalling
//! earlier lines, completing names and commands, and telling the peer we are typing. A line that starts with '/'
//! is a command; nothing else typed here is ever taken as one.

use crossterm::event::KeyEvent;
use huddle_shared::ClientFrame;
use huddle_shared::client::Typing;

use super::notices::notify;
use super::{Cmd, ConvKey, Focus, Level, Model, editing};
use crate::keymap::Action;
use crate::net;

/// A key for the input line: `action` is what it means there (with `[main]`), `edit_action` what it means to a
/// text field.
pub fn key(model: &mut Model, key: &KeyEvent, action: Option<Action>, edit_action: Option<Action>) -> Vec<Cmd> {
    match action {
        Some(Action::Send) => return send_input(model),
        Some(Action::Newline) => model.input.insert('\n'),
        Some(Action::Back) => {
            if model.input.is_empty() {
                model.focus = Focus::List;
            } else {
                // The draft is kept for undo: Esc clears the message (every line of it), Ctrl-Z brings it back.
                model.input.clear();
            }
        }
        Some(Action::HistoryPrev) => recall(model, true),
        Some(Action::HistoryNext) => recall(model, false),
        Some(Action::PageUp) => return super::navigation::scroll(model, model.page_rows() as isize),
        Some(Action::PageDown) => return super::navigation::scroll(model, -(model.page_rows() as isize)),
        // With nothing typed there is nothing to complete: Tab moves on to the conversation, as it does elsewhere.
        Some(Action::Complete) if model.input.is_empty() => model.focus = super::Focus::Log,
        Some(Action::Complete) => complete(model),
        _ => {
            if editing::apply(&mut model.input, key, edit_action) {
                model.history_pos = None;
                return typing_signal(model);
            }
        }
    }
    Vec::new()
}

/// Tab: a command, a name after a command, or a name in the message.
fn complete(model: &mut Model) {
    let mut names: Vec<String> = Vec::new();
    if let Some(h) = model.handle() {
        for e in &h.session.friends.entries {
            names.push(e.address.handle.to_string());
            if let Some(nick) = &e.nickname {
                names.push(nick.clone());
            }
        }
        if let Some(group) = h.open.as_ref().and_then(|k| k.room()).and_then(|id| h.session.groups.get(id)) {
            names.extend(group.members.iter().filter(|m| m.address != h.address).map(|m| m.address.handle.to_string()));
        }
    }
    names.sort();
    names.dedup();
    if let Some(line) = super::commands::complete(model.input.text(), &names) {
        model.input.set(&line);
    }
}

/// Tells the open conversation's peer we are typing, at most every few seconds, and never for /commands.
fn typing_signal(model: &mut Model) -> Vec<Cmd> {
    if model.input.text().starts_with('/') || model.input.is_empty() {
        return Vec::new();
    }
    let Some(h) = model.handle() else { return Vec::new() };
    let Some(key) = h.open.clone() else { return Vec::new() };
    if key.room().is_some_and(|g| !h.session.groups.contains_key(g)) {
        return Vec::new();
    }
    let acting = Some(h.address.handle.clone());
    let recent =
        model.typing_sent.as_ref().is_some_and(|(k, at)| *k == key && model.now - at < super::TYPING_RESEND_MS);
    if recent {
        return Vec::new();
    }
    model.typing_sent = Some((key.clone(), model.now));
    let (to, room) = match key {
        ConvKey::Direct(peer) => (Some(peer), None),
        ConvKey::Room(id) => (None, Some(id)),
    };
    vec![Cmd::Net(net::Command::Signal(ClientFrame::Typing(Typing { id: None, acting, to, room })))]
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
    if text.starts_with('/') && !text.starts_with("//") {
        model.input.take();
        return match super::commands::parse(&text) {
            Ok(command) => super::slash::run(model, command),
            Err(sentence) => {
                notify(model, Level::Error, sentence);
                Vec::new()
            }
        };
    }
    // "//text" sends "/text": a message may start with a slash.
    let text = text.strip_prefix('/').filter(|t| t.starts_with('/')).map_or(text.clone(), str::to_owned);
    let receipts = model.chat.receipts;
    super::conversation::send_text(model, text, receipts)
}
