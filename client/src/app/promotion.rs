//! Automatic promotion, the client's side of "conversations that grow": while we are in a one-to-one exchange and
//! a third person writes, the exchange becomes a group of the three (setting `auto`), or we are asked first
//! (`ask`). While we are in a group, a message from someone outside it offers to add them, under the same setting.
//!
//! "In an exchange" means: the conversation is open on the active handle, and a message was sent or received in it
//! within the promotion window (by this machine's clock, so a skewed relay clock cannot fake it). The arriving
//! message must itself be recent: old messages that a reconnect brings in never promote anything.
//!
//! Consent: the setting `auto` is the person's standing yes to growing their own conversation; even so, someone who
//! left a group is never added back to it without a question, and the newcomer's message — written to us alone —
//! is shown in the group to us only, while its writer is asked whether to share it.

use huddle_shared::model::Message;

use super::intent::Intent;
use super::questions;
use super::{Cmd, ConvKey, Model, Pending, Promotion, QuestionAbout};

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
                    let intent = Intent::Promote {
                        acting,
                        with: with.clone(),
                        newcomer: writer.clone(),
                        message: Some(message.clone()),
                    };
                    (true, vec![Cmd::Do(intent)])
                }
                _ => {
                    let (with_name, writer_name) = (h.name_of(with), h.name_of(writer));
                    let text = format!("{writer_name} wrote to you while you were talking with {with_name}.");
                    let about = QuestionAbout::Promote { with: with.clone(), message: message.clone() };
                    questions::ask(model, index, about, text);
                    nothing
                }
            }
        }
        ConvKey::Room(group) => {
            let Some(g) = h.session.groups.get(group) else { return nothing };
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
            // Someone who left (or was removed) is never added back without a question.
            let left = h.former.get(group).is_some_and(|f| f.contains(writer));
            match model.chat.promotion {
                Promotion::Auto if !left => {
                    let intent = Intent::AddToGroup {
                        acting,
                        group: group.clone(),
                        who: writer.clone(),
                        message: Some(message.clone()),
                    };
                    (true, vec![Cmd::Do(intent)])
                }
                _ => {
                    let writer_name = h.name_of(writer);
                    let text = format!("{writer_name} wrote to you while you were in {}.", h.group_name(group));
                    let about = QuestionAbout::AddToGroup { group: group.clone(), message: message.clone() };
                    questions::ask(model, index, about, text);
                    nothing
                }
            }
        }
        ConvKey::Direct(_) => nothing,
    }
}
