//! Notices: sentences for the person about what happened. The newest shows in the status bar; all of them are kept
//! (up to [`NOTICES_KEPT`](super::NOTICES_KEPT)) for the notices view, where a notice that went by can be read again.

use super::{Level, Model, NOTICES_KEPT, Notice};

/// Tells the person something: in the status bar now, and in the notices view for later.
pub fn notify(model: &mut Model, level: Level, text: impl Into<String>) {
    let notice = Notice { text: text.into(), level, at: model.now };
    if model.notices.len() >= NOTICES_KEPT {
        model.notices.pop_front();
    }
    model.notices.push_back(notice.clone());
    model.notice = Some(notice);
}

/// Makes the first letter a capital, for sentences built from error texts.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
