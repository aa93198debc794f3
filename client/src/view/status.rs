//! The status bar on the last line: connection, the active handle, unread elsewhere, the latest notice, help key.

use huddle_shared::model::PresenceState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Level, Model, Screen};
use crate::net::ConnState;

use super::look::Look;
use super::text::{clean, pad, truncate, truncate_spans, width};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, look: &Look) {
    let s = &look.styles;
    let bar = s.status_bar;
    let on = |style: Style| bar.patch(style);
    let sep = || Span::styled(" │ ", bar);

    let (glyph, glyph_style, conn) = match &model.session.conn {
        ConnState::Online => ("●", s.online, "online".to_owned()),
        ConnState::Connecting => ("◌", s.away, "connecting…".to_owned()),
        ConnState::Waiting { retry_in_secs, reason } => {
            ("○", s.error, format!("reconnecting in {retry_in_secs} s — {}", clean(reason, false)))
        }
        // Not `offline`'s style: on the bar's background a dimmed glyph could vanish.
        ConnState::Idle => ("○", bar, "offline".to_owned()),
    };
    let conn =
        vec![Span::styled(" ", bar), Span::styled(glyph, on(glyph_style)), Span::styled(format!(" {conn}"), bar)];
    // Then groups in order of importance, each after a separator.
    let mut groups: Vec<Span<'static>> = Vec::new();
    if model.screen == Screen::Main {
        // Questions wait here until the person opens them; they never take the keyboard themselves.
        let questions = model.questions.len();
        if questions > 0 {
            let what = if questions == 1 { "1 question".to_owned() } else { format!("{questions} questions") };
            groups.push(Span::styled(format!("{what} — {} to answer", look.hints.question), on(s.prompt)));
        }
        // The latest notice comes before who you are: on a narrow bar it is what must not be cut off.
        if let Some(notice) = &model.notice {
            let style = match notice.level {
                Level::Error => on(s.error),
                Level::Info => bar,
            };
            groups.push(Span::styled(clean(&notice.text, false), style));
        }
        if let Some(h) = model.handle() {
            let mut me = h.address.to_string();
            let state = match h.state {
                PresenceState::Online => None,
                PresenceState::Away => Some("away"),
                PresenceState::Busy => Some("busy"),
                PresenceState::Invisible => Some("invisible"),
            };
            if let Some(state) = state {
                me.push_str(&format!(" ({state})"));
            }
            if let Some(activity) = h.activity.as_deref().filter(|a| !a.is_empty()) {
                me.push_str(&format!(" — {}", clean(activity, false)));
            }
            groups.push(Span::styled(me, on(s.title)));
        }
        let elsewhere = model.unread_elsewhere();
        if elsewhere > 0 {
            groups.push(Span::styled(format!("{elsewhere} unread on other handles"), on(s.unread)));
        }
        if let Some(who) = model.typing_here() {
            groups.push(Span::styled(format!("{} is typing…", clean(&who, false)), on(s.hint)));
        }
    } else if let Some(notice) = &model.notice {
        let style = if notice.level == Level::Error { on(s.error) } else { bar };
        groups.push(Span::styled(clean(&notice.text, false), style));
    }
    // The help key (main screen only: elsewhere it may be typed into fields) stays at the right; the groups give way
    // on narrow terminals, the last one shown cut short if at least a few cells of it fit.
    let right = if model.screen == Screen::Main { format!("{} help ", look.hints.help) } else { String::new() };
    let w = usize::from(area.width);
    let right_w = width(&right);
    let room = w.saturating_sub(right_w + 1);
    let mut spans = truncate_spans(conn, room);
    let mut used: usize = spans.iter().map(|s| width(&s.content)).sum();
    for group in groups {
        let group_w = width(&group.content);
        if used + 3 + group_w <= room {
            spans.push(sep());
            spans.push(group);
            used += 3 + group_w;
        } else {
            if room.saturating_sub(used + 3) >= 8 {
                spans.push(sep());
                spans.push(Span::styled(truncate(&group.content, room - used - 3), group.style));
                used = room;
            }
            break;
        }
    }
    spans.push(Span::styled(pad(used + right_w, w), bar));
    spans.push(Span::styled(right, bar.add_modifier(Modifier::BOLD)));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}
