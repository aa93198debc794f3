//! The text being written — the message in the input line, or a form field — edited by `ratatui-textarea`'s
//! editor: readline motions and kills, a yank buffer, undo, several lines. Keys reach it only through the keymap
//! (`crate::app::editing`); the editor's own key handling is never used. The text is kept joined as well, so
//! reading it costs nothing, and the cursor is reported in characters from the start (wide and multi-byte
//! characters edit correctly).

use std::fmt;

use ratatui_textarea::{CursorMove, TextArea};
use unicode_segmentation::UnicodeSegmentation;

#[derive(Clone, Default)]
pub struct TextInput {
    /// Boxed: the editor with its undo history is large, and forms hold several inputs.
    editor: Box<TextArea<'static>>,
    /// The editor's lines joined with '\n', refreshed after every change.
    text: String,
}

impl fmt::Debug for TextInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextInput").field("text", &self.text).field("cursor", &self.cursor()).finish()
    }
}

/// Two inputs are equal when they hold the same text with the cursor at the same place (undo history aside).
impl PartialEq for TextInput {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.cursor() == other.cursor()
    }
}

impl TextInput {
    pub fn with(text: &str) -> Self {
        let mut input = Self::default();
        input.insert_str(text);
        input
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor in characters from the start of the text (a line break counts as one).
    pub fn cursor(&self) -> usize {
        let cursor = self.editor.cursor();
        let (row, col) = (cursor.0, cursor.1);
        self.editor.lines().iter().take(row).map(|l| l.chars().count() + 1).sum::<usize>() + col
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn changed(&mut self) {
        self.text = self.editor.lines().join("\n");
    }

    pub fn insert(&mut self, c: char) {
        if c == '\n' {
            self.editor.insert_newline();
        } else {
            self.editor.insert_char(c);
        }
        self.changed();
    }

    pub fn insert_str(&mut self, s: &str) {
        // The editor splits on line breaks itself.
        self.editor.insert_str(s);
        self.changed();
    }

    /// The characters of the grapheme cluster before (or after) the cursor on its line: 0 at the line's start
    /// (end). The cursor moves and deletes by whole clusters, so a flag or a ZWJ family is never cut in half.
    fn cluster_chars(&self, before: bool) -> usize {
        let cursor = self.editor.cursor();
        let Some(line) = self.editor.lines().get(cursor.0) else { return 0 };
        let at = line.char_indices().nth(cursor.1).map_or(line.len(), |(i, _)| i);
        let (head, tail) = line.split_at(at);
        let cluster = if before { head.graphemes(true).next_back() } else { tail.graphemes(true).next() };
        cluster.map_or(0, |g| g.chars().count())
    }

    pub fn backspace(&mut self) {
        match self.cluster_chars(true) {
            // At a line's start: join it to the line before.
            0 => {
                self.editor.delete_char();
            }
            n => {
                for _ in 0..n {
                    self.editor.move_cursor(CursorMove::Back);
                }
                self.editor.delete_str(n);
            }
        }
        self.changed();
    }

    pub fn delete(&mut self) {
        match self.cluster_chars(false) {
            0 => {
                self.editor.delete_next_char();
            }
            n => {
                self.editor.delete_str(n);
            }
        }
        self.changed();
    }

    pub fn left(&mut self) {
        for _ in 0..self.cluster_chars(true).max(1) {
            self.editor.move_cursor(CursorMove::Back);
        }
    }

    pub fn right(&mut self) {
        for _ in 0..self.cluster_chars(false).max(1) {
            self.editor.move_cursor(CursorMove::Forward);
        }
    }

    pub fn home(&mut self) {
        self.editor.move_cursor(CursorMove::Head);
    }

    pub fn end(&mut self) {
        self.editor.move_cursor(CursorMove::End);
    }

    pub fn word_left(&mut self) {
        self.editor.move_cursor(CursorMove::WordBack);
    }

    pub fn word_right(&mut self) {
        self.editor.move_cursor(CursorMove::WordForward);
    }

    /// Deletes the word before the cursor (Ctrl-W), keeping it for yank.
    pub fn delete_word(&mut self) {
        self.editor.delete_word();
        self.changed();
    }

    pub fn delete_next_word(&mut self) {
        self.editor.delete_next_word();
        self.changed();
    }

    /// Deletes from the start of the line to the cursor (Ctrl-U), keeping it for yank.
    pub fn delete_to_start(&mut self) {
        self.editor.delete_line_by_head();
        self.changed();
    }

    /// Deletes from the cursor to the end of the line (Ctrl-K), keeping it for yank.
    pub fn delete_to_end(&mut self) {
        self.editor.delete_line_by_end();
        self.changed();
    }

    /// Puts back the text deleted last (Ctrl-Y).
    pub fn yank(&mut self) {
        self.editor.paste();
        self.changed();
    }

    pub fn undo(&mut self) {
        self.editor.undo();
        self.changed();
    }

    /// Empties the input as one edit that `undo` brings back (Esc in the input line).
    pub fn clear(&mut self) {
        self.editor.select_all();
        self.editor.cut();
        self.changed();
    }

    /// Replaces the whole text, the cursor at its end.
    pub fn set(&mut self, text: &str) {
        *self = Self::with(text);
    }

    /// Empties the input and returns what it held.
    pub fn take(&mut self) -> String {
        let text = std::mem::take(&mut self.text);
        *self.editor = TextArea::default();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_by_character_also_for_wide_text() {
        let mut t = TextInput::default();
        t.insert_str("日本語");
        t.left();
        t.insert('x');
        assert_eq!(t.text(), "日本x語");
        t.backspace();
        t.backspace();
        assert_eq!(t.text(), "日語");
        t.home();
        t.delete();
        assert_eq!(t.text(), "語");
        t.end();
        t.insert_str(" 🎉 ok");
        t.delete_word();
        assert_eq!(t.text(), "語 🎉 ");
        t.delete_to_start();
        assert_eq!((t.text(), t.cursor()), ("", 0));
    }

    #[test]
    fn flags_and_zwj_families_move_and_delete_as_one() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let flag = "🇫🇷";
        let mut t = TextInput::with(&format!("a{family}{flag}é\u{301}b"));
        t.left(); // before b
        t.left(); // before é + combining accent
        t.backspace(); // the flag, whole
        assert_eq!(t.text(), format!("a{family}é\u{301}b"));
        t.left(); // before the family
        assert_eq!(t.cursor(), 1);
        t.delete(); // the family, whole
        assert_eq!(t.text(), "aé\u{301}b");
        t.right();
        assert_eq!(t.cursor(), 3, "past the accented e, two characters");
        t.undo();
        t.undo();
        assert_eq!(t.text(), format!("a{family}{flag}é\u{301}b"));
    }

    #[test]
    fn readline_kills_yank_and_undo() {
        let mut t = TextInput::with("see you at noon");
        t.word_left();
        t.delete_to_end();
        assert_eq!(t.text(), "see you at ");
        t.home();
        t.yank();
        assert_eq!(t.text(), "noonsee you at ");
        t.undo();
        assert_eq!(t.text(), "see you at ");
        t.end();
        t.insert('\n');
        t.insert_str("bring cake");
        assert_eq!(t.text(), "see you at \nbring cake");
        assert_eq!(t.cursor(), t.text().chars().count());
        t.clear();
        assert!(t.is_empty());
        t.undo();
        assert_eq!(t.text(), "see you at \nbring cake", "every line comes back");
        assert_eq!(t.take(), "see you at \nbring cake");
        assert!(t.is_empty());
    }
}
