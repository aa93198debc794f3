//! The message input under the log: the text being typed, wrapped over up to three rows, with the cursor on the
//! right cell also after wide characters.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::input::TextInput;
use crate::app::{Focus, Model};

use super::look::Look;
use super::text::{clean, clusters, truncate};

/// Rows the input grows to before it scrolls.
const MAX_ROWS: usize = 3;

/// The input's text cut into rows of `w` cells (by cluster: a wide character never straddles a row end), and the
/// cursor's (row, column). Newlines show as `⏎` and other control characters as spaces, one cell each, so the
/// cursor's character count still matches.
pub fn layout(input: &TextInput, w: usize) -> (Vec<String>, (usize, usize)) {
    let w = w.max(1);
    let mut rows = vec![String::new()];
    let (mut row, mut col, mut chars) = (0, 0, 0);
    let mut cursor = None;
    for (cluster, cw) in clusters(input.text()) {
        let (shown, cw) = match cluster {
            "\n" => ("⏎", 1),
            c if c.chars().all(char::is_control) => (" ", 1),
            c => (c, cw),
        };
        if col + cw > w && col > 0 {
            rows.push(String::new());
            row += 1;
            col = 0;
        }
        if cursor.is_none() && chars >= input.cursor() {
            cursor = Some((row, col));
        }
        rows[row].push_str(shown);
        col += cw;
        chars += cluster.chars().count();
    }
    let cursor = cursor.unwrap_or_else(|| {
        // After the last character: on the next row if this one is full, so the cursor has a cell to sit on.
        if col >= w {
            rows.push(String::new());
            (row + 1, 0)
        } else {
            (row, col)
        }
    });
    (rows, cursor)
}

/// Height of the input box for a pane `width` wide: one to three rows of text plus the border.
pub fn height(input: &TextInput, width: u16) -> u16 {
    let (rows, _) = layout(input, usize::from(width.saturating_sub(2)));
    u16::try_from(rows.len().clamp(1, MAX_ROWS)).unwrap_or(1) + 2
}

/// Draws the input; returns the cursor position when the input has the keyboard.
pub fn draw(frame: &mut Frame, area: Rect, model: &Model, look: &Look) -> Option<Position> {
    let s = &look.styles;
    let focused = model.focus == Focus::Input;
    let block = Block::bordered().border_style(if focused { s.border_focused } else { s.border });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = usize::from(inner.width);
    if model.input.is_empty() {
        let open = model.handle().and_then(|h| {
            let key = h.open.as_ref()?;
            let gone = key.room().is_some_and(|g| !h.session.groups.contains_key(g));
            Some((h.conversation_name(key), gone))
        });
        let text = match open {
            Some((_, true)) => "You are no longer in this group — / for commands".to_owned(),
            Some((name, false)) => {
                format!("Message {} — {} to send, / for commands", clean(&name, false), look.hints.send)
            }
            None => "Type / for commands — /help lists them".to_owned(),
        };
        frame.render_widget(Paragraph::new(Span::styled(truncate(&text, w), s.hint)), inner);
        return focused.then_some(Position::new(inner.x, inner.y));
    }
    let (rows, (row, col)) = layout(&model.input, w);
    let visible = usize::from(inner.height).max(1);
    // Keep the cursor's row in view: the last rows while typing at the end, earlier ones when moving back.
    let first = (row + 1).saturating_sub(visible).min(rows.len().saturating_sub(visible));
    let lines: Vec<Line<'static>> =
        rows.iter().skip(first).take(visible).map(|r| Line::from(Span::styled(r.clone(), s.base))).collect();
    frame.render_widget(Paragraph::new(lines), inner);
    let (y, x) = (u16::try_from(row - first).ok()?, u16::try_from(col).ok()?);
    (focused && y < inner.height && x < inner.width).then(|| Position::new(inner.x + x, inner.y + y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_the_cursor_after_wide_characters() {
        let mut t = TextInput::with("日本語");
        assert_eq!(layout(&t, 20), (vec!["日本語".to_owned()], (0, 6)));
        t.left();
        assert_eq!(layout(&t, 20).1, (0, 4));
        t.home();
        assert_eq!(layout(&t, 20).1, (0, 0));
    }

    #[test]
    fn wraps_without_splitting_wide_characters() {
        // 5 cells per row: two wide characters fit, the third goes to the next row.
        let t = TextInput::with("日本語です");
        let (rows, cursor) = layout(&t, 5);
        assert_eq!(rows, ["日本", "語で", "す"]);
        assert_eq!(cursor, (2, 2));
        // A full last row puts the cursor at the start of a new one.
        let (rows, cursor) = layout(&TextInput::with("abcde"), 5);
        assert_eq!((rows.len(), cursor), (2, (1, 0)));
    }

    #[test]
    fn pasted_control_characters_take_one_visible_cell() {
        let (rows, cursor) = layout(&TextInput::with("a\tb\nc"), 20);
        assert_eq!((rows, cursor), (vec!["a b⏎c".to_owned()], (0, 5)));
    }
}
