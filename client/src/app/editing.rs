//! Editing keys for any text field, as the keymap's `[input]` table names them: a key bound to an editing action
//! does that; an unbound character without Ctrl or Alt is typed. Nothing here knows which key is which.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::input::TextInput;
use crate::keymap::Action;

/// Applies `key` (meaning `action` in the `[input]` table) to `field`. True if the field used it.
pub fn apply(field: &mut TextInput, key: &KeyEvent, action: Option<Action>) -> bool {
    match action {
        Some(Action::Left) => field.left(),
        Some(Action::Right) => field.right(),
        Some(Action::DeleteBack) => field.backspace(),
        Some(Action::DeleteForward) => field.delete(),
        Some(Action::LineStart) => field.home(),
        Some(Action::LineEnd) => field.end(),
        Some(Action::WordLeft) => field.word_left(),
        Some(Action::WordRight) => field.word_right(),
        Some(Action::DeleteWordBack) => field.delete_word(),
        Some(Action::DeleteWordForward) => field.delete_next_word(),
        Some(Action::DeleteToStart) => field.delete_to_start(),
        Some(Action::DeleteToEnd) => field.delete_to_end(),
        Some(Action::Yank) => field.yank(),
        Some(Action::Undo) => field.undo(),
        Some(_) => return false,
        None => match typed(key) {
            Some(c) => field.insert(c),
            None => return false,
        },
    }
    true
}

/// The character a key types, if it is a plain character (no Ctrl, no Alt).
pub fn typed(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Some(c),
        _ => None,
    }
}
