//! The left pane: the active handle's friend list, in sections (requests, online, offline).
//!
//! Only the rows that fit are turned into lines: [`window`] picks them around the selected row, so a list of a
//! thousand friends costs no more to draw than one of twenty.

use std::ops::Range;

use huddle_shared::Millis;
use huddle_shared::model::{FriendEntry, ShownState};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{ConvKey, Focus, HandleView, Model, Row, Section, short};

use super::look::{Look, Styles};
use super::text::{clean, pad, truncate_spans, width};
use super::time::ago;

/// The rows of a `len`-row list shown in `height` lines: all of them if they fit, else a window that keeps
/// `selected` in view, near the middle so that moving either way shows what comes next. The view keeps no
/// scroll state of its own, so the window is a function of the selection alone.
pub fn window(len: usize, selected: usize, height: usize) -> Range<usize> {
    if len <= height {
        return 0..len;
    }
    let start = selected.saturating_sub(height / 2).min(len - height);
    start..start + height
}

/// The glyph and style of a presence state.
pub fn presence_glyph(state: &ShownState, s: &Styles) -> (&'static str, Style) {
    match state {
        ShownState::Online => ("●", s.online),
        ShownState::Away => ("◐", s.away),
        ShownState::Busy => ("⊘", s.busy),
        ShownState::Offline => ("○", s.offline),
        ShownState::Unknown => ("?", s.offline),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, rows: &[Row], look: &Look) {
    let s = &look.styles;
    let title = match model.handle() {
        Some(h) if model.handles.len() > 1 => format!(" Friends · {} ", h.address.handle),
        _ => " Friends ".to_owned(),
    };
    let border = if model.focus == Focus::List { s.border_focused } else { s.border };
    let block = Block::bordered().border_style(border).title(Span::styled(title, s.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(h) = model.handle() else {
        frame.render_widget(Paragraph::new(Span::styled("Loading your friend list…", s.hint)), inner);
        return;
    };
    let w = usize::from(inner.width);
    let height = usize::from(inner.height);
    // The highlight is on the row that shows what was highlighted, wherever the list's order put it.
    let selected = crate::app::selected_index(h, rows);
    let range = window(rows.len(), selected.unwrap_or(h.selected_hint).min(rows.len().saturating_sub(1)), height);
    let numbered = h.numbered();
    let mut lines: Vec<Line<'static>> = range
        .clone()
        .map(|i| {
            let number = rows[i].conv_key().and_then(|k| numbered.iter().position(|n| *n == k)).map(|n| n + 1);
            let muted = rows[i].conv_key().is_some_and(|k| h.muted.contains(&k));
            // Room is kept for the number before the row and for "muted" after it, so neither is cut off.
            const MUTED: &str = " muted";
            let row_w = w.saturating_sub(2 + if muted { MUTED.len() } else { 0 });
            let mut line = row_line(h, &rows[i], model.now, row_w, Some(i) == selected, look);
            // Alt-1…9 go to the numbered conversations.
            let mut prefix = match number {
                Some(n) => Span::styled(format!("{n} "), s.hint),
                None => Span::raw("  "),
            };
            if Some(i) == selected {
                prefix.style = prefix.style.patch(s.selected);
            }
            line.spans.insert(0, prefix);
            if muted {
                let style = if Some(i) == selected { s.hint.patch(s.selected) } else { s.hint };
                line.spans.push(Span::styled(MUTED, style));
            }
            line
        })
        .collect();
    if h.session.friends.entries.is_empty()
        && h.session.friends.requests_in.is_empty()
        && h.session.friends.requests_out.is_empty()
    {
        // A new account: say what to do instead of showing two empty sections only.
        lines.push(Line::default());
        let hint = format!("No friends yet. Press {} to add one.", look.hints.add);
        lines.extend(super::text::wrap(Vec::new(), &[Span::styled(hint, s.hint)], 0, w));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// One row of the list, exactly `w` cells wide when selected (so the highlight spans the pane).
fn row_line(h: &HandleView, row: &Row, now: Millis, w: usize, selected: bool, look: &Look) -> Line<'static> {
    let s = &look.styles;
    let (mut spans, badge) = match row {
        Row::Header(section, n) => {
            let name = match section {
                Section::Requests => "Requests",
                Section::Huddles => "Huddles",
                Section::PastHuddles => "Past huddles",
                Section::Groups => "Groups",
                Section::Online => "Online",
                Section::Offline => "Offline",
                Section::Archived => "Archived",
            };
            (vec![Span::styled(format!("{name} ({n})"), s.section)], None)
        }
        Row::RequestIn(r) => (
            vec![
                Span::styled("→ ", s.unread),
                Span::styled(clean(&short(&r.address), false), s.base.add_modifier(Modifier::BOLD)),
                Span::styled(" wants to be friends", s.base),
            ],
            None,
        ),
        Row::RequestOut(r) => {
            (vec![Span::styled(format!("⧗ {} (waiting)", clean(&short(&r.address), false)), s.pending)], None)
        }
        Row::GroupInvite(invite) => {
            let what = invite.title.clone().unwrap_or_else(|| format!("{}'s group", h.name_of(&invite.by)));
            (
                vec![
                    Span::styled("→ ", s.unread),
                    Span::styled(clean(&what, false), s.base.add_modifier(Modifier::BOLD)),
                    Span::styled(" invites you", s.base),
                ],
                None,
            )
        }
        Row::Group(id) if h.is_huddle(id) => {
            let unread = h.conversations.get(&ConvKey::Room(id.clone())).map_or(0, |c| c.unread);
            let name_style = if unread > 0 { s.base.add_modifier(Modifier::BOLD) } else { s.base };
            let badge = (unread > 0).then(|| Span::styled(format!(" {unread}"), s.unread));
            let left = match h.session.groups.get(id).and_then(|g| g.huddle.as_ref()) {
                Some(info) => crate::app::huddles::time_left(info, now),
                None => "ended".to_owned(),
            };
            (
                vec![
                    Span::styled("◆ ", s.section),
                    Span::styled(clean(&h.group_name(id), false), name_style),
                    Span::styled(format!("  {left}"), s.hint),
                ],
                badge,
            )
        }
        Row::Group(id) => {
            let unread = h.conversations.get(&ConvKey::Room(id.clone())).map_or(0, |c| c.unread);
            let name_style = if unread > 0 { s.base.add_modifier(Modifier::BOLD) } else { s.base };
            let members = h.session.groups.get(id).map_or(0, |g| g.members.len());
            let badge = (unread > 0).then(|| Span::styled(format!(" {unread}"), s.unread));
            (
                vec![
                    Span::styled("# ", s.section),
                    Span::styled(clean(&h.group_name(id), false), name_style),
                    Span::styled(format!("  {members}"), s.hint),
                ],
                badge,
            )
        }
        Row::Friend(address) => match h.entry(address) {
            Some(entry) => {
                let unread = h.conversations.get(&ConvKey::Direct(address.clone())).map_or(0, |c| c.unread);
                friend_spans(h, entry, unread, now, s)
            }
            // The list and the rows disagree only for a moment (an update in flight); show the address.
            None => (vec![Span::styled(format!("○ {}", short(address)), s.offline)], None),
        },
    };
    let badge_w = badge.as_ref().map_or(0, |b: &Span<'_>| width(&b.content));
    spans = truncate_spans(spans, w.saturating_sub(badge_w));
    if let Some(badge) = badge {
        let used: usize = spans.iter().map(|s| width(&s.content)).sum();
        spans.push(Span::raw(pad(used + badge_w, w)));
        spans.push(badge);
    }
    if selected {
        let used: usize = spans.iter().map(|s| width(&s.content)).sum();
        spans.push(Span::raw(pad(used, w)));
        for span in &mut spans {
            span.style = span.style.patch(s.selected);
        }
    }
    Line::from(spans)
}

/// `● name  activity` or `○ name  last seen 3h ago`, and the unread badge if any.
fn friend_spans(
    h: &HandleView,
    entry: &FriendEntry,
    unread: usize,
    now: Millis,
    s: &Styles,
) -> (Vec<Span<'static>>, Option<Span<'static>>) {
    let name = clean(&h.name_of(&entry.address), false);
    let badge = (unread > 0).then(|| Span::styled(format!(" {unread}"), s.unread));
    if entry.removed_you {
        return (vec![Span::styled(format!("○ {name} (removed you)"), s.removed)], badge);
    }
    let (glyph, glyph_style) = presence_glyph(&entry.presence.state, s);
    let name_style = if unread > 0 { s.base.add_modifier(Modifier::BOLD) } else { s.base };
    let mut spans = vec![Span::styled(format!("{glyph} "), glyph_style), Span::styled(name, name_style)];
    let detail = match entry.presence.state {
        ShownState::Offline => entry.presence.last_seen.map(|at| format!("last seen {}", ago(at, now))),
        _ => entry.presence.activity.as_deref().map(|a| clean(a, false)),
    };
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        spans.push(Span::styled(format!("  {detail}"), s.hint));
    }
    (spans, badge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_shows_everything_that_fits() {
        assert_eq!(window(5, 4, 10), 0..5);
        assert_eq!(window(0, 0, 10), 0..0);
    }

    #[test]
    fn window_keeps_the_selection_in_view_and_stays_within_the_list() {
        let (len, height) = (1000, 20);
        for selected in [0, 1, 9, 10, 11, 500, 989, 990, 999] {
            let r = window(len, selected, height);
            assert_eq!(r.len(), height, "selected {selected}");
            assert!(r.contains(&selected), "selected {selected}: {r:?}");
            assert!(r.end <= len);
        }
        assert_eq!(window(len, 0, height), 0..20);
        assert_eq!(window(len, 500, height), 490..510);
        assert_eq!(window(len, 999, height), 980..1000);
    }
}
