//! Search within the open conversation: `/` then text, Enter jumps to the newest match, `n` to the next older one.

use super::{LogLine, Model};

/// Moves to the next (older) match of the search query, scrolling it into view.
pub fn next(model: &mut Model) {
    let Some(search) = model.search.clone() else { return };
    let query = search.query.text().to_lowercase();
    if query.is_empty() {
        return;
    }
    let Some(c) = model.conversation() else { return };
    let start = search.current.unwrap_or(c.lines.len());
    let found = c.lines[..start.min(c.lines.len())].iter().rposition(|line| match line {
        LogLine::Message { body, .. } => body.to_lowercase().contains(&query),
        LogLine::System { text, .. } => text.to_lowercase().contains(&query),
    });
    let total = c.lines.len();
    match found {
        Some(i) => {
            if let Some(s) = model.search.as_mut() {
                s.current = Some(i);
            }
            if let Some(h) = model.handle_mut() {
                if let Some(c) = h.open.clone().and_then(|p| h.conversations.get_mut(&p)) {
                    c.scroll = total.saturating_sub(i + 1);
                }
            }
        }
        None => {
            let text = if search.current.is_some() { "No older matches." } else { "No matches in this conversation." };
            super::notices::notify(model, super::Level::Info, text);
        }
    }
}

/// Opens the in-conversation search bar.
pub fn start(model: &mut Model) {
    model.search = Some(super::Search { query: super::input::TextInput::default(), editing: true, current: None });
}
