//! Modal dialogs, centred over the main screen: a question with its answers (friend requests, deletion, blocking,
//! invitations, promotion, quitting), adding a friend, nickname and note, status, switching handles, a new group,
//! receipts. The wording of each question is in `app::confirm`; every answer says exactly what it does to whom.

use huddle_shared::Address;
use huddle_shared::model::{PresenceState, ShownState};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::app::{Dialog, Model, short};

use super::form::{Content, Field, buttons, hint_lines, inner_width, panel};
use super::friends::presence_glyph;
use super::look::Look;
use super::text::{clean, pad, truncate, width};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, dialog: &Dialog, look: &Look) -> Option<Position> {
    let s = &look.styles;
    let h = &look.hints;
    let w = inner_width(area, 56);
    let wu = usize::from(w);
    // The name the user knows the person by: their nickname on the active handle's list, else the handle.
    let name = |a: &Address| clean(&model.handle().map_or_else(|| short(a), |hv| hv.name_of(a)), false);
    let mut c = Content::default();
    let title = match dialog {
        Dialog::Confirm(confirm) => {
            c.para(&clean(&confirm.text, false), s.dialog, wu);
            if let Some(quote) = confirm.quote.as_deref() {
                c.blank();
                c.para(&format!("“{}”", clean(quote, true)), s.dialog.add_modifier(Modifier::ITALIC), wu);
            }
            c.blank();
            let labels: Vec<&str> = confirm.choices.iter().map(|c| c.label.as_str()).collect();
            c.lines.extend(buttons(&labels, confirm.selected, wu, look));
            c.blank();
            let pairs =
                [(h.choose_button.as_str(), "choose"), (h.submit.as_str(), "answer"), (h.cancel.as_str(), "close")];
            c.lines.extend(hint_lines(&pairs, wu, look));
            confirm.title.clone()
        }
        Dialog::AddFriend { field, handle, greeting, error } => {
            c.para(
                "Who would you like to add? Their handle, or handle@relay for someone on another relay.",
                s.dialog,
                wu,
            );
            let fields = [("Handle", handle, "e.g. alice"), ("Greeting", greeting, "optional, e.g. who you are")];
            form(&mut c, fields, *field, error.as_deref(), "send request", wu, look);
            "Add a friend".to_owned()
        }
        Dialog::EditEntry { friend, field, nickname, note } => {
            c.para(
                &format!("Only you see the nickname and note for {}.", clean(&friend.to_string(), false)),
                s.dialog,
                wu,
            );
            let fields = [("Nickname", nickname, "none"), ("Note", note, "e.g. how you met")];
            form(&mut c, fields, *field, None, "save", wu, look);
            format!("Edit {}", name(friend))
        }
        Dialog::SetStatus { field, state, activity } => {
            for (i, st) in Dialog::STATES.iter().enumerate() {
                let (shown, label, about) = match st {
                    PresenceState::Online => (ShownState::Online, "Online", ""),
                    PresenceState::Away => (ShownState::Away, "Away", ""),
                    PresenceState::Busy => (ShownState::Busy, "Busy", ""),
                    PresenceState::Invisible => (ShownState::Offline, "Invisible", " — you look offline to others"),
                };
                let (glyph, glyph_style) = presence_glyph(&shown, s);
                let chosen = i == *state;
                let mark = match (chosen, *field == 0) {
                    (true, true) => "▸ (•) ",
                    (true, false) => "  (•) ",
                    (false, _) => "  ( ) ",
                };
                let style = if chosen { s.dialog_selected } else { s.dialog };
                c.push(Line::from(vec![
                    Span::styled(mark, style),
                    Span::styled(format!("{glyph} "), glyph_style),
                    Span::styled(label, style),
                    Span::styled(truncate(about, wu.saturating_sub(8 + label.len())), s.hint),
                ]));
            }
            c.blank();
            let spec = Field {
                label: "Activity",
                label_w: 9,
                input: activity,
                width: wu,
                active: *field == 1,
                mask: None,
                placeholder: "e.g. playing chess",
            };
            c.field(spec, look);
            c.blank();
            let pairs = [
                (h.choose.as_str(), "choose"),
                (h.next_field.as_str(), "next field"),
                (h.submit.as_str(), "save"),
                (h.cancel.as_str(), "cancel"),
            ];
            c.lines.extend(hint_lines(&pairs, wu, look));
            "Your status".to_owned()
        }
        Dialog::SwitchHandle { selected } => {
            for (i, hv) in model.handles.iter().enumerate() {
                let unread = hv.unread();
                let mut right = String::new();
                if unread > 0 {
                    right.push_str(&format!("{unread} unread"));
                }
                if i == model.active {
                    right.push_str(if unread > 0 { " · active" } else { "active" });
                }
                let mark = if i == *selected { "▸ " } else { "  " };
                let right_w = width(&right);
                let left = truncate(&format!("{mark}{}", hv.address), wu.saturating_sub(right_w + 1));
                let text = format!("{left}{}{right}", pad(width(&left) + right_w, wu));
                let style = if i == *selected { s.dialog_selected } else { s.dialog };
                c.push(Line::from(Span::styled(text, style)));
            }
            c.blank();
            let pairs = [(h.choose.as_str(), "choose"), (h.submit.as_str(), "switch"), (h.cancel.as_str(), "cancel")];
            c.lines.extend(hint_lines(&pairs, wu, look));
            "Switch handle".to_owned()
        }
        Dialog::Receipts { key, message_id } => {
            receipts(&mut c, model, key, message_id, wu, look);
            "Receipts".to_owned()
        }
        Dialog::Profile { field, display_name, bio } => {
            c.para("What your friends see of you (every handle has its own).", s.dialog, wu);
            let fields = [("Name", display_name, "e.g. Alice Liddell"), ("Bio", bio, "optional, a line about you")];
            form(&mut c, fields, *field, None, "save", wu, look);
            "Your profile".to_owned()
        }
        Dialog::Password { field, old, new, repeat, error } => {
            c.para("Your other devices will be logged out; this one stays logged in.", s.dialog, wu);
            c.blank();
            let fields = [("Current", old, ""), ("New", new, "at least 8 characters"), ("New again", repeat, "")];
            for (i, (label, input, placeholder)) in fields.into_iter().enumerate() {
                let spec =
                    Field { label, label_w: 10, input, width: wu, active: *field == i, mask: Some('•'), placeholder };
                c.field(spec, look);
            }
            if let Some(error) = error {
                c.blank();
                c.para(error, s.error, wu);
            }
            c.blank();
            let pairs =
                [(h.next_field.as_str(), "next field"), (h.submit.as_str(), "change"), (h.cancel.as_str(), "cancel")];
            c.lines.extend(hint_lines(&pairs, wu, look));
            "Change your password".to_owned()
        }
        Dialog::Sessions { sessions, selected } => {
            for (i, session) in sessions.iter().enumerate() {
                let device = clean(session.device.as_deref().unwrap_or("a device without a name"), false);
                let right = if session.current {
                    "this one".to_owned()
                } else {
                    format!("used {}", super::time::ago(session.last_used_at, model.now))
                };
                let mark = if i == *selected { "▸ " } else { "  " };
                let right_w = width(&right);
                let left = truncate(&format!("{mark}{device}"), wu.saturating_sub(right_w + 1));
                let text = format!("{left}{}{right}", pad(width(&left) + right_w, wu));
                let style = if i == *selected { s.dialog_selected } else { s.dialog };
                c.push(Line::from(Span::styled(text, style)));
            }
            c.blank();
            let pairs =
                [(h.choose.as_str(), "choose"), (h.submit.as_str(), "log it out"), (h.cancel.as_str(), "close")];
            c.lines.extend(hint_lines(&pairs, wu, look));
            "Your sessions".to_owned()
        }
        Dialog::Topics { topics, selected } => {
            c.para(
                "Topics on this relay. Each issue of one you subscribe to puts you in a huddle with its readers.",
                s.dialog,
                wu,
            );
            c.blank();
            for (i, topic) in topics.iter().enumerate() {
                let mark = if i == *selected { "▸ " } else { "  " };
                let text = truncate(&format!("{mark}{}", clean(&crate::app::huddles::topic_line(topic), false)), wu);
                let text = format!("{text}{}", pad(width(&text), wu));
                let style = if i == *selected { s.dialog_selected } else { s.dialog };
                c.push(Line::from(Span::styled(text, style)));
            }
            c.blank();
            let pairs = [
                (h.choose.as_str(), "choose"),
                (h.submit.as_str(), "subscribe, leave, or publish (your own)"),
                (h.cancel.as_str(), "close"),
            ];
            c.lines.extend(hint_lines(&pairs, wu, look));
            "Topics".to_owned()
        }
        Dialog::Publish { topic, field, title, body, error } => {
            let intro = format!(
                "A new issue of {}: a huddle of its subscribers who are online forms.",
                clean(&topic.title, false)
            );
            c.para(&intro, s.dialog, wu);
            let fields = [("Title", title, "what is new"), ("Text", body, "optional")];
            form(&mut c, fields, *field, error.as_deref(), "publish", wu, look);
            "Publish".to_owned()
        }
        Dialog::NewGroup { field, members, title, error } => {
            c.para("Who should be in it? Friends' handles, separated by spaces.", s.dialog, wu);
            let fields = [("Members", members, "e.g. bob carol"), ("Title", title, "optional")];
            form(&mut c, fields, *field, error.as_deref(), "make the group", wu, look);
            "New group".to_owned()
        }
    };
    panel(frame, area, &title, c, w, look)
}

/// The body of a two-field form under its introduction: the fields (label, input, placeholder), the error if
/// any, and the keys, with `submit` saying what Enter does.
fn form(
    c: &mut Content,
    fields: [(&'static str, &crate::app::input::TextInput, &'static str); 2],
    active: usize,
    error: Option<&str>,
    submit: &str,
    wu: usize,
    look: &Look,
) {
    let (s, h) = (&look.styles, &look.hints);
    c.blank();
    for (i, (label, input, placeholder)) in fields.into_iter().enumerate() {
        let spec = Field { label, label_w: 9, input, width: wu, active: active == i, mask: None, placeholder };
        c.field(spec, look);
    }
    if let Some(error) = error {
        c.blank();
        c.para(error, s.error, wu);
    }
    c.blank();
    let pairs = [(h.next_field.as_str(), "next field"), (h.submit.as_str(), submit), (h.cancel.as_str(), "cancel")];
    c.lines.extend(hint_lines(&pairs, wu, look));
}

/// Who has received and read one of our messages, and who has not.
fn receipts(
    c: &mut Content,
    model: &Model,
    key: &crate::app::ConvKey,
    message_id: &huddle_shared::MessageId,
    wu: usize,
    look: &Look,
) {
    let s = &look.styles;
    let h = &look.hints;
    let Some(hv) = model.handle() else { return };
    let Some(conv) = hv.conversations.get(key) else { return };
    let body = conv.lines.iter().find_map(|l| match l {
        crate::app::LogLine::Message { id: Some(id), body, at, .. } if id == message_id => Some((body.clone(), *at)),
        _ => None,
    });
    let Some(tracking) = conv.receipts.get(message_id) else { return };
    if let Some((body, at)) = body {
        let first_line = body.lines().next().unwrap_or_default();
        c.para(&format!("“{}” ({})", clean(first_line, false), super::time::clock(at)), s.dialog, wu);
        c.blank();
    }
    for who in &tracking.recipients {
        let name = clean(&hv.name_of(who), false);
        let (mark, state, style) = match (tracking.read.get(who), tracking.delivered.get(who)) {
            (Some(at), _) => ("✓✓", format!("read {}", super::time::clock(*at)), s.dialog),
            (None, Some(at)) => ("✓ ", format!("delivered {}", super::time::clock(*at)), s.dialog),
            (None, None) => ("· ", "not received yet".to_owned(), s.pending),
        };
        let left = format!("{mark} {name}");
        let text = format!("{left}{}{state}", pad(width(&left), 18.min(wu.saturating_sub(width(&state)))));
        c.push(Line::from(Span::styled(truncate(&text, wu), style)));
    }
    c.blank();
    c.para(
        &format!("{} — {}", clean(&tracking.summary(), false), "read receipts are each reader's choice"),
        s.hint,
        wu,
    );
    c.blank();
    let pairs = [(h.choose_button.as_str(), "earlier/later message"), (h.cancel.as_str(), "close")];
    c.lines.extend(hint_lines(&pairs, wu, look));
}
