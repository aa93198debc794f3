//! Validation of text people type: message bodies and the short fields (greeting, activity, names, notes).

use crate::limits::{MAX_BODY_BYTES, MAX_CLIENT_MSG_ID_BYTES};

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("it is empty")]
    Empty,
    #[error("it is {len} long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("it contains the control character U+{0:04X}")]
    Control(u32),
}

/// A message body: 1..=8 KiB of UTF-8, no control characters but newline and tab.
pub fn check_body(body: &str) -> Result<(), TextError> {
    if body.trim().is_empty() {
        return Err(TextError::Empty);
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(TextError::TooLong { len: body.len(), max: MAX_BODY_BYTES });
    }
    reject_controls(body, true)
}

/// A short single-line field of at most `max_chars` characters (an empty string means "clear").
pub fn check_line(text: &str, max_chars: usize) -> Result<(), TextError> {
    let len = text.chars().count();
    if len > max_chars {
        return Err(TextError::TooLong { len, max: max_chars });
    }
    reject_controls(text, false)
}

/// A multi-line field such as a note or bio.
pub fn check_multiline(text: &str, max_chars: usize) -> Result<(), TextError> {
    let len = text.chars().count();
    if len > max_chars {
        return Err(TextError::TooLong { len, max: max_chars });
    }
    reject_controls(text, true)
}

/// A client message id: 1..=64 bytes of printable ASCII.
pub fn check_client_msg_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_MSG_ID_BYTES && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn reject_controls(text: &str, allow_newlines: bool) -> Result<(), TextError> {
    match text.chars().find(|&c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t'))) {
        Some(c) => Err(TextError::Control(c as u32)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert!(check_body("hi\n\tthere 日本語 🎉").is_ok());
        assert_eq!(check_body("  "), Err(TextError::Empty));
        assert_eq!(check_body("a\u{7}b"), Err(TextError::Control(7)));
        assert_eq!(check_body("a\rb"), Err(TextError::Control(13)));
        assert!(check_body(&"é".repeat(MAX_BODY_BYTES / 2)).is_ok());
        assert!(matches!(check_body(&"é".repeat(MAX_BODY_BYTES / 2 + 1)), Err(TextError::TooLong { .. })));
    }

    #[test]
    fn lines_and_ids() {
        assert!(check_line("", 10).is_ok());
        assert!(check_line("ünïcödé", 7).is_ok());
        assert!(check_line("eight!!!", 7).is_err());
        assert!(check_line("a\nb", 10).is_err());
        assert!(check_multiline("a\nb", 10).is_ok());
        assert!(check_client_msg_id("c-1"));
        assert!(!check_client_msg_id(""));
        assert!(!check_client_msg_id("has space"));
        assert!(!check_client_msg_id(&"x".repeat(65)));
    }
}
