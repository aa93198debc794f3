//! The info panel: who the selected friend (or requester) is — display name, bio, presence, since when you are
//! friends, and your private nickname and note.

use huddle_shared::RoomId;
use huddle_shared::model::ShownState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{Model, Row, short};

use super::friends::presence_glyph;
use super::look::Look;
use super::text::{clean, truncate, wrap};
use super::time::{ago, date};

/// The panel's lines for the selected row at inner width `w`, or `None` when the selection is not a person.
pub fn lines(model: &Model, rows: &[Row], look: &Look, w: usize) -> Option<Vec<Line<'static>>> {
    let s = &look.styles;
    let h = model.handle()?;
    let row = rows.get(crate::app::selected_index(h, rows)?)?;
    let mut out: Vec<Line<'static>> = Vec::new();
    let para = |out: &mut Vec<Line<'static>>, text: &str, style: Style| {
        out.extend(wrap(Vec::new(), &[Span::styled(clean(text, true), style)], 0, w));
    };
    match row {
        Row::Header(..) => return None,
        Row::RequestIn(r) | Row::RequestOut(r) => {
            out.push(Line::from(Span::styled(truncate(&clean(&short(&r.address), false), w), s.title)));
            out.push(Line::from(Span::styled(truncate(&r.address.to_string(), w), s.hint)));
            let when = ago(r.at, model.now);
            if matches!(row, Row::RequestIn(_)) {
                para(&mut out, &format!("Wants to be your friend (asked {when})."), s.base);
            } else {
                para(&mut out, &format!("You asked {when}; waiting for an answer."), s.pending);
            }
            if let Some(greeting) = &r.greeting {
                para(&mut out, &format!("“{greeting}”"), s.base);
            }
        }
        Row::GroupInvite(invite) => {
            let name = invite.title.clone().unwrap_or_else(|| "A group".to_owned());
            out.push(Line::from(Span::styled(truncate(&clean(&name, false), w), s.title)));
            let by = h.name_of(&invite.by);
            para(&mut out, &format!("{by} invited you {}. Enter to answer.", ago(invite.at, model.now)), s.base);
        }
        Row::Group(id) => {
            let g = h.session.groups.get(id)?;
            out.push(Line::from(Span::styled(truncate(&clean(&h.group_name(id), false), w), s.title)));
            let text = match &g.owner {
                Some(owner) if *owner == h.address => format!("{} members · owner you", g.members.len()),
                Some(owner) => format!("{} members · owner {}", g.members.len(), h.name_of(owner)),
                None => format!("{} members", g.members.len()),
            };
            para(&mut out, &text, s.hint);
            out.extend(member_lines(model, id, look, w));
        }
        Row::Friend(address) => {
            let e = h.entry(address)?;
            let name = clean(e.profile.display_name.as_deref().unwrap_or(&h.name_of(address)), false);
            out.push(Line::from(Span::styled(truncate(&name, w), s.title)));
            out.push(Line::from(Span::styled(truncate(&address.to_string(), w), s.hint)));
            if e.removed_you {
                para(&mut out, "Removed you from their friend list.", s.removed);
            } else {
                let (glyph, style) = presence_glyph(&e.presence.state, s);
                let state = match e.presence.state {
                    ShownState::Online => "online".to_owned(),
                    ShownState::Away => "away".to_owned(),
                    ShownState::Busy => "busy".to_owned(),
                    ShownState::Offline => match e.presence.last_seen {
                        Some(at) => format!("offline, last seen {}", ago(at, model.now)),
                        None => "offline".to_owned(),
                    },
                    // A state from a newer relay: say nothing we do not know.
                    ShownState::Unknown => "status unknown".to_owned(),
                };
                let mut text = state;
                if let Some(activity) = e.presence.activity.as_deref().filter(|a| !a.is_empty()) {
                    text.push_str(" — ");
                    text.push_str(activity);
                }
                if let Some(location) = e.presence.location.as_deref().filter(|l| !l.is_empty()) {
                    text.push_str(" · ");
                    text.push_str(location);
                }
                let prefix = vec![Span::styled(format!("{glyph} "), style)];
                out.extend(wrap(prefix, &[Span::styled(clean(&text, false), s.base)], 2, w));
            }
            if let Some(bio) = e.profile.bio.as_deref().filter(|b| !b.is_empty()) {
                para(&mut out, bio, s.base);
            }
            para(&mut out, &format!("Friends since {}", date(e.since)), s.hint);
            if let Some(nick) = e.nickname.as_deref().filter(|n| !n.is_empty()) {
                para(&mut out, &format!("Nickname: {nick}"), s.base);
            }
            if let Some(note) = e.note.as_deref().filter(|n| !n.is_empty()) {
                para(&mut out, &format!("Note: {note}"), s.base);
            }
        }
    }
    Some(out)
}

/// A group's members, one a line with their presence (as far as we see it: friends' presence; others show `·`),
/// then those invited who have not answered.
pub fn member_lines(model: &Model, group: &RoomId, look: &Look, w: usize) -> Vec<Line<'static>> {
    let s = &look.styles;
    let Some(h) = model.handle() else { return Vec::new() };
    let Some(g) = h.session.groups.get(group) else { return Vec::new() };
    let mut out = Vec::new();
    for m in &g.members {
        let (glyph, style) = if m.address == h.address {
            presence_glyph(&ShownState::Online, s)
        } else {
            match h.entry(&m.address) {
                Some(e) if !e.removed_you => presence_glyph(&e.presence.state, s),
                _ => ("·", s.hint),
            }
        };
        let mut name = if m.address == h.address { "you".to_owned() } else { h.name_of(&m.address) };
        if g.owner.as_ref() == Some(&m.address) {
            name.push_str(" ★");
        }
        let typing = model.typing.iter().any(|t| {
            t.from == m.address && t.key.room() == Some(group) && model.now - t.at < crate::app::TYPING_SHOWN_MS
        });
        let mut spans = vec![Span::styled(format!("{glyph} "), style), Span::styled(clean(&name, false), s.base)];
        if typing {
            spans.push(Span::styled(" typing…", s.hint));
        }
        out.push(Line::from(super::text::truncate_spans(spans, w)));
    }
    for invited in &g.invited {
        let text = format!("⧗ {} (invited)", clean(&h.name_of(invited), false));
        out.push(Line::from(Span::styled(truncate(&text, w), s.pending)));
    }
    out
}

pub fn draw(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, look: &Look) {
    draw_titled(frame, area, " Info ", lines, look);
}

pub fn draw_titled(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, look: &Look) {
    let block =
        Block::bordered().border_style(look.styles.border).title(Span::styled(title.to_owned(), look.styles.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), inner);
}
