//! The notices view: every notice of this session, newest first, with its time — the place where a sentence that
//! went by in the status bar can be read again (as WeeChat's core buffer).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Padding, Paragraph};

use crate::app::{Level, Model};

use super::look::Look;
use super::text::{clean, wrap};
use super::time::clock;

/// Draws the notices `scroll` rows down from the newest.
pub fn draw(frame: &mut Frame, area: Rect, model: &Model, look: &Look, scroll: usize) {
    let s = &look.styles;
    let w = usize::from(area.width.saturating_sub(4)).min(100);
    let text_w = w.saturating_sub(2);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if model.notices.is_empty() {
        lines.push(Line::from(Span::styled("Nothing has happened yet.", s.hint)));
    }
    for notice in model.notices.iter().rev() {
        let style = match notice.level {
            Level::Error => s.error,
            Level::Info => s.base,
        };
        let prefix = vec![Span::styled(clock(notice.at), s.timestamp), Span::raw(" ")];
        lines.extend(wrap(prefix, &[Span::styled(clean(&notice.text, false), style)], 6, text_w));
    }
    let outer_w = u16::try_from(w + 2).unwrap_or(area.width).min(area.width);
    let outer_h = u16::try_from(lines.len() + 2).unwrap_or(area.height).min(area.height);
    let rect = super::form::centered(area, outer_w, outer_h);
    let visible = usize::from(rect.height.saturating_sub(2));
    let scroll = scroll.min(lines.len().saturating_sub(visible));
    let bottom = format!(" ↑/↓ scroll · {} closes ", look.hints.cancel);
    let block = Block::bordered()
        .border_style(s.border_focused)
        .style(s.dialog)
        .padding(Padding::horizontal(1))
        .title(Span::styled(format!(" Notices ({}) ", model.notices.len()), s.title))
        .title_bottom(Line::from(Span::styled(bottom, s.hint)).right_aligned());
    let inner = block.inner(rect);
    super::form::clear(frame, rect);
    frame.render_widget(block, rect);
    let shown: Vec<Line<'static>> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
