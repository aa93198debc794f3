//! Automatic promotion, the client's side of "conversations that grow": while we are in a one-to-one exchange and
//! a third person writes, the exchange becomes a group of the three (setting `auto`), or we are asked first
//! (`ask`). While we are in a group, a message from someone outside it offers to add them, under the same setting.
//!
//! "In an exchange" means: the conversation is open on the active handle, and a message was sent or received in it
//! within the promotion window (by this machine's clock, so a skewed relay clock cannot fake it). The arriving
//! message must itself be recent: old messages that a reconnect brings in never promote anything.

use huddle_shared::client::InviteToRoom;
use huddle_shared::model::Message;
use huddle_shared::{Handle, RoomId};

use super::update::notify;
use super::{Cmd, ConvKey, Level, LogLine, Model, Pending, Promotion, PromptKind};

/// Whether a direct message that just arrived should grow the open conversation. Returns whether the message is
/// shown in a group (so it does not also count as unread in the writer's own conversation), and the requests to
/// send.
pub fn consider(model: &mut Model, index: usize, message: &Message) -> (bool, Vec<Cmd>) {
    let nothing = (false, Vec::new());
    if index != model.active || model.chat.promotion == Promotion::Off {
        return nothing;
    }
    let now = model.now;
    let window = model.chat.promotion_window_ms;
    let Some(h) = model.handles.get(index) else { return nothing };
    let Some(open) = h.open.clone() else { return nothing };
    let writer = &message.from;
    // A message from before the window (brought in by a sync after a reconnect) is not someone writing now.
    if now - message.sent_at > window {
        return nothing;
    }
    let in_exchange = h.conversations.get(&open).and_then(|c| c.exchanged_at).is_some_and(|at| now - at <= window);
    if !in_exchange {
        return nothing;
    }
    let acting = h.address.handle.clone();
    match &open {
        ConvKey::Direct(with) if with != writer => {
            let asked = model
                .pending
                .values()
                .any(|p| matches!(p, Pending::Promote { with: w, newcomer, .. } if w == with && newcomer == writer));
            if asked {
                return nothing;
            }
            match model.chat.promotion {
                Promotion::Auto => {
                    let cmd = super::groups::create_promoted(
                        model,
                        acting,
                        with.clone(),
                        writer.clone(),
                        Some(message.clone()),
                    );
                    (true, vec![cmd])
                }
                _ => {
                    let (with_name, writer_name) = (h.name_of(with), h.name_of(writer));
                    let text = format!(
                        "{writer_name} wrote to you: “{}” — make this a group with {with_name} and {writer_name}?",
                        preview(&message.body)
                    );
                    let kind = PromptKind::Promote { with: with.clone(), message: message.clone() };
                    prompt(model, index, &open, text, kind);
                    notify(
                        model,
                        Level::Info,
                        format!("{writer_name} wrote to you: answer y or n (Alt-y/Alt-n while typing)."),
                    );
                    nothing
                }
            }
        }
        ConvKey::Room(group) => {
            let Some(g) = h.groups.get(group) else { return nothing };
            if g.members.iter().any(|m| m.address == *writer) || g.invited.contains(writer) {
                return nothing;
            }
            let asked = model
                .pending
                .values()
                .any(|p| matches!(p, Pending::Invite { group: g, who, .. } if g == group && who == writer));
            if asked {
                return nothing;
            }
            match model.chat.promotion {
                Promotion::Auto => (true, vec![add_to_group(model, acting, group.clone(), message.clone())]),
                _ => {
                    let writer_name = h.name_of(writer);
                    let text = format!(
                        "{writer_name} wrote to you: “{}” — add {writer_name} to this group?",
                        preview(&message.body)
                    );
                    let kind = PromptKind::AddToGroup { group: group.clone(), message: message.clone() };
                    prompt(model, index, &open, text, kind);
                    notify(
                        model,
                        Level::Info,
                        format!("{writer_name} wrote to you: answer y or n (Alt-y/Alt-n while typing)."),
                    );
                    nothing
                }
            }
        }
        ConvKey::Direct(_) => nothing,
    }
}

/// Invites the writer of `message` to `group`; the message joins the group's log once they are in.
pub fn add_to_group(model: &mut Model, acting: Handle, group: RoomId, message: Message) -> Cmd {
    let who = message.from.clone();
    let pending =
        Pending::Invite { acting: acting.clone(), group: group.clone(), who: who.clone(), message: Some(message) };
    super::update::request(model, pending, |id| {
        huddle_shared::ClientFrame::InviteToRoom(InviteToRoom { id, acting: Some(acting), room: group, who })
    })
}

fn prompt(model: &mut Model, index: usize, key: &ConvKey, text: String, kind: PromptKind) {
    let at = model.now;
    if let Some(h) = model.handles.get_mut(index) {
        let c = h.conversation_mut(key);
        c.lines.push(LogLine::Prompt { at, text, kind, answer: None });
        c.scroll = 0;
    }
}

/// The start of a message, on one line, for a prompt.
fn preview(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 60 { format!("{}…", flat.chars().take(59).collect::<String>()) } else { flat }
}
