//! Pieces shared by the welcome and login screens and the dialogs: a centred box of lines, text fields with a
//! cursor, and rows of buttons.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use crate::app::input::TextInput;

use super::look::Look;
use super::text::{clusters, pad, truncate, width, wrap};

/// A `w` × `h` rectangle in the middle of `area` (shrunk to fit).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// Content of a box: its lines and, when a field is being edited, where the cursor goes (row, column).
#[derive(Default)]
pub struct Content {
    pub lines: Vec<Line<'static>>,
    pub cursor: Option<(usize, usize)>,
}

impl Content {
    pub fn push(&mut self, line: impl Into<Line<'static>>) {
        self.lines.push(line.into());
    }

    pub fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    /// A paragraph word-wrapped to `width`.
    pub fn para(&mut self, text: &str, style: Style, width: usize) {
        self.lines.extend(wrap(Vec::new(), &[Span::styled(text.to_owned(), style)], 0, width));
    }

    /// A text field; when `active`, it takes the cursor.
    pub fn field(&mut self, spec: Field<'_>, look: &Look) {
        let (line, cursor_x) = field_line(&spec, look);
        if spec.active {
            self.cursor = Some((self.lines.len(), cursor_x));
        }
        self.lines.push(line);
    }
}

/// Draws `content` in a bordered box of inner width `inner_w` centred in `area`, over whatever is below, and
/// returns the cursor's screen position if the content has one that is visible.
pub fn panel(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    content: Content,
    inner_w: u16,
    look: &Look,
) -> Option<Position> {
    let s = &look.styles;
    // Two border columns and one column of padding on each side.
    let outer_w = inner_w.saturating_add(4);
    let outer_h = u16::try_from(content.lines.len()).unwrap_or(u16::MAX).saturating_add(2);
    let rect = centered(area, outer_w, outer_h);
    let block = Block::bordered()
        .border_style(s.border_focused)
        .style(s.dialog)
        .padding(Padding::horizontal(1))
        .title(Span::styled(format!(" {title} "), s.title));
    let inner = block.inner(rect);
    clear(frame, rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(content.lines), inner);
    let (row, col) = content.cursor?;
    let (row, col) = (u16::try_from(row).ok()?, u16::try_from(col).ok()?);
    (row < inner.height && col < inner.width).then(|| Position::new(inner.x + col, inner.y + row))
}

/// Clears `rect` for an overlay. A wide character just left of it would cover the overlay's first column (the
/// terminal draws it two cells wide whatever comes next), so it is blanked too.
pub fn clear(frame: &mut Frame, rect: Rect) {
    frame.render_widget(Clear, rect);
    if rect.x == 0 {
        return;
    }
    let buffer = frame.buffer_mut();
    for y in rect.top()..rect.bottom() {
        if let Some(cell) = buffer.cell_mut((rect.x - 1, y)) {
            if width(cell.symbol()) > 1 {
                cell.set_symbol(" ");
            }
        }
    }
}

/// The inner width of a box for `area`: `preferred`, shrunk on narrow terminals.
pub fn inner_width(area: Rect, preferred: u16) -> u16 {
    preferred.min(area.width.saturating_sub(6)).max(10)
}

/// A labelled single-line text field.
pub struct Field<'a> {
    pub label: &'a str,
    /// Cells the label column takes (with the colon after the label), so fields line up.
    pub label_w: usize,
    pub input: &'a TextInput,
    /// The whole line's width.
    pub width: usize,
    pub active: bool,
    /// Show this character instead of each typed one (passwords).
    pub mask: Option<char>,
    /// Shown, dimmed, while the field is empty.
    pub placeholder: &'a str,
}

/// `▸ Label  value`, the value scrolled sideways so the cursor stays in view; returns the line and the cursor's
/// column within it.
fn field_line(f: &Field<'_>, look: &Look) -> (Line<'static>, usize) {
    let s = &look.styles;
    let marker = if f.active { "▸ " } else { "  " };
    let label = truncate(&format!("{}:", f.label), f.label_w);
    let head = format!("{marker}{label}{} ", pad(width(&label), f.label_w));
    let head_w = width(&head);
    let value_w = f.width.saturating_sub(head_w).max(1);
    let shown: String = match f.mask {
        Some(m) => f.input.text().chars().map(|_| m).collect(),
        None => f.input.text().chars().map(|c| if c.is_control() { ' ' } else { c }).collect(),
    };
    // Clusters with the character index each starts at, to find the cursor's cell.
    let mut cells = Vec::new();
    let mut chars = 0;
    for (c, w) in clusters(&shown) {
        cells.push((c, w, chars));
        chars += c.chars().count();
    }
    let cursor_col: usize = cells.iter().take_while(|(_, _, at)| *at < f.input.cursor()).map(|(_, w, _)| w).sum();
    // Scroll so that the cursor cell (and one more for it to sit on) fits.
    let mut skip_w = 0;
    let mut skip = 0;
    while cursor_col - skip_w >= value_w && skip < cells.len() {
        skip_w += cells[skip].1;
        skip += 1;
    }
    let mut value = String::new();
    let mut used = 0;
    for (c, w, _) in &cells[skip..] {
        if used + w > value_w {
            break;
        }
        value.push_str(c);
        used += w;
    }
    let field_style = s.base.add_modifier(Modifier::UNDERLINED);
    let mut spans = vec![Span::styled(head, if f.active { s.title } else { s.base })];
    if f.input.is_empty() && !f.placeholder.is_empty() {
        let ph = truncate(f.placeholder, value_w);
        let ph_w = width(&ph);
        spans.push(Span::styled(ph, s.hint.add_modifier(Modifier::UNDERLINED)));
        spans.push(Span::styled(pad(ph_w, value_w), field_style));
    } else {
        spans.push(Span::styled(value, field_style));
        spans.push(Span::styled(pad(used, value_w), field_style));
    }
    (Line::from(spans), head_w + cursor_col - skip_w)
}

/// Buttons in a row (several rows when they do not fit), centred in `width`. The selected one is bracketed and
/// highlighted, so it shows without colour too.
pub fn buttons(labels: &[&str], selected: usize, width_cells: usize, look: &Look) -> Vec<Line<'static>> {
    let s = &look.styles;
    let mut lines = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (i, label) in labels.iter().enumerate() {
        let (text, style) = if i == selected {
            (format!("[ {label} ]"), s.dialog_selected)
        } else {
            (format!("  {label}  "), s.dialog)
        };
        let w = width(&text);
        if used > 0 && used + 1 + w > width_cells {
            lines.push(centre(std::mem::take(&mut row), used, width_cells));
            used = 0;
        }
        if used > 0 {
            row.push(Span::raw(" "));
            used += 1;
        }
        row.push(Span::styled(text, style));
        used += w;
    }
    if !row.is_empty() {
        lines.push(centre(row, used, width_cells));
    }
    lines
}

fn centre(mut spans: Vec<Span<'static>>, used: usize, width_cells: usize) -> Line<'static> {
    spans.insert(0, Span::raw(pad(0, width_cells.saturating_sub(used) / 2)));
    Line::from(spans)
}

/// `key what · key what`, the key names emphasised, wrapped to `width`.
pub fn hint_lines(pairs: &[(&str, &str)], width_cells: usize, look: &Look) -> Vec<Line<'static>> {
    let s = &look.styles;
    let mut lines = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (key, what) in pairs {
        let w = width(key) + 1 + width(what);
        if used > 0 && used + 3 + w > width_cells {
            lines.push(Line::from(std::mem::take(&mut row)));
            used = 0;
        }
        if used > 0 {
            row.push(Span::styled(" · ", s.hint));
            used += 3;
        }
        row.push(Span::styled((*key).to_owned(), s.hint.add_modifier(Modifier::BOLD)));
        row.push(Span::styled(format!(" {what}"), s.hint));
        used += w;
    }
    if !row.is_empty() {
        lines.push(Line::from(row));
    }
    lines
}
