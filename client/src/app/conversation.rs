//! Conversations' logs: putting a message in its place (once, in the relay's order), sending ours, system lines,
//! and which conversation is open, with each conversation keeping its own draft.

use huddle_shared::Address;
use huddle_shared::model::Message;

use super::notices::notify;
use super::{Cmd, ConvKey, Conversation, Delivery, Focus, Level, LogLine, Model, SystemKind};
use crate::net;

/// Puts a message we are sending into the log (pending) and hands it to the worker.
pub fn send_message(model: &mut Model, index: usize, key: ConvKey, body: String, receipts: bool) -> Vec<Cmd> {
    let now = model.now;
    let Some(h) = model.handles.get_mut(index) else { return Vec::new() };
    let me = h.address.clone();
    let acting = me.handle.clone();
    let mut random = [0u8; 6];
    let _ = getrandom::fill(&mut random);
    let client_msg_id = format!("{now:x}-{}", random.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let c = h.conversation_mut(&key);
    c.lines.push(LogLine::Message {
        id: None,
        client_msg_id: client_msg_id.clone(),
        from: me,
        body: body.clone(),
        at: now,
        own: true,
        delivery: Delivery::Pending,
    });
    c.last_activity = now;
    c.exchanged_at = Some(now);
    c.scroll.to_bottom();
    let to = match key {
        ConvKey::Direct(peer) => net::Target::Direct(peer),
        ConvKey::Room(id) => net::Target::Room(id),
    };
    vec![Cmd::Net(net::Command::Message(net::OutgoingMessage { acting, to, body, client_msg_id, receipts }))]
}

/// Inserts a live message into a conversation, once; returns whether it was new.
pub fn insert_message(c: &mut Conversation, message: Message, own: bool) -> bool {
    super::timeline::insert_live(c, message, own).is_some()
}

pub fn is_open(model: &Model, index: usize, key: &ConvKey) -> bool {
    index == model.active && model.handles.get(index).and_then(|h| h.open.as_ref()) == Some(key)
}

pub fn say(model: &mut Model, index: usize, peer: &Address, at: i64, text: String, kind: SystemKind) {
    say_in(model, index, &ConvKey::Direct(peer.clone()), at, text, kind);
}

/// Adds a system line to a conversation of handle `index`.
pub fn say_in(model: &mut Model, index: usize, key: &ConvKey, at: i64, text: String, kind: SystemKind) {
    let Some(h) = model.handles.get_mut(index) else { return };
    let c = h.conversation_mut(key);
    c.lines.push(LogLine::System { at, text, kind });
    c.last_activity = c.last_activity.max(at);
}

/// Makes `key` the open conversation of the active handle. The draft being written stays with the conversation
/// it was written for, and the input shows the draft of the conversation opened: a message is never re-addressed.
pub fn set_open(model: &mut Model, key: Option<ConvKey>) {
    let Some(h) = model.handles.get_mut(model.active) else { return };
    if h.open == key {
        return;
    }
    let draft = std::mem::take(&mut model.input);
    // Text typed while nothing was open was addressed to nobody yet: it comes along to what opens.
    let mut unaddressed = Some(draft.clone()).filter(|_| h.open.is_none());
    if let Some(old) = h.open.clone() {
        if !draft.is_empty() {
            h.drafts.insert(old.clone(), draft);
        }
        // The "new" marker was for that visit.
        if let Some(c) = h.conversations.get_mut(&old) {
            c.new_from = None;
        }
    }
    let restored = key.as_ref().and_then(|k| h.drafts.remove(k)).or_else(|| unaddressed.take()).unwrap_or_default();
    if let Some(k) = &key {
        let c = h.conversation_mut(k);
        // The marker goes above the first line that was unread.
        if c.unread > 0 {
            let mut left = c.unread;
            let mut from = c.lines.len();
            for (i, line) in c.lines.iter().enumerate().rev() {
                if matches!(line, LogLine::Message { own: false, .. }) {
                    left -= 1;
                    from = i;
                    if left == 0 {
                        break;
                    }
                }
            }
            c.new_from = Some(from);
        }
        if let ConvKey::Room(id) = k {
            h.archived.remove(id);
        }
    }
    h.open = key;
    model.input = restored;
    model.history_pos = None;
    model.focus = Focus::Input;
    model.search = None;
}

/// Sends `text` to the open conversation; `receipts` asks for delivery confirmation.
pub fn send_text(model: &mut Model, text: String, receipts: bool) -> Vec<Cmd> {
    let Some(h) = model.handle() else { return Vec::new() };
    let Some(key) = h.open.clone() else {
        notify(model, Level::Info, "Open a conversation first: Alt-↑/↓ or Alt-1…9, or /msg NAME.");
        return Vec::new();
    };
    if let Some(group) = key.room().filter(|g| !h.session.groups.contains_key(*g)) {
        let name = h.group_name(group);
        notify(model, Level::Error, format!("You are no longer in {name}; nothing can be sent there."));
        return Vec::new();
    }
    if text.len() > huddle_shared::limits::MAX_BODY_BYTES {
        notify(model, Level::Error, format!("That message is too long ({} bytes; at most 8192).", text.len()));
        return Vec::new();
    }
    let acting = h.address.handle.clone();
    model.input.take();
    vec![Cmd::Do(super::intent::Intent::Send { acting, key, body: text, receipts })]
}

/// The start of a message, on one line, for a sentence that quotes it.
pub fn preview(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 60 { format!("{}…", flat.chars().take(59).collect::<String>()) } else { flat }
}
