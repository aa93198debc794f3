//! Search within the open conversation: `/` then text, Enter jumps to the newest match, `n` to the next older one.
//! When the lines held have no (older) match and the relay has older history, it is fetched a page at a time and
//! searched as it arrives, so a search covers the whole conversation, not only what happens to be loaded.

use huddle_shared::Handle;

use super::{Cmd, ConvKey, HistoryState, Level, LogLine, Model};

/// Moves to the next (older) match of the search query and asks the view to bring it on screen.
pub fn next(model: &mut Model) -> Vec<Cmd> {
    let Some(c) = model.conversation() else { return Vec::new() };
    let end = c.search_match.unwrap_or(c.lines.len()).min(c.lines.len());
    look(model, 0..end)
}

/// Looks for the query in `range` of the open conversation's lines, newest first; without a match there, asks for
/// the page before the oldest held (if there is one) and looks in it when it comes.
fn look(model: &mut Model, range: std::ops::Range<usize>) -> Vec<Cmd> {
    let Some(search) = model.search.as_mut() else { return Vec::new() };
    search.looking_back = false;
    let query = search.query.text().to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let Some(h) = model.handle_mut() else { return Vec::new() };
    let acting = h.address.handle.clone();
    let Some(key) = h.open.clone() else { return Vec::new() };
    let Some(c) = h.conversations.get_mut(&key) else { return Vec::new() };
    let range = range.start.min(c.lines.len())..range.end.min(c.lines.len());
    let found = c.lines[range.clone()].iter().rposition(|line| matches(line, &query)).map(|i| range.start + i);
    if let Some(i) = found {
        c.search_match = Some(i);
        c.scroll.reveal = Some(i);
        return Vec::new();
    }
    match c.history {
        HistoryState::More | HistoryState::NotLoaded => {
            let before = c.oldest.clone();
            c.history = HistoryState::Loading;
            if let Some(s) = model.search.as_mut() {
                s.looking_back = true;
            }
            vec![super::history::request_page(model, acting, key, before)]
        }
        HistoryState::Loading => {
            if let Some(s) = model.search.as_mut() {
                s.looking_back = true;
            }
            Vec::new()
        }
        HistoryState::Complete => {
            let searched = c.search_match.is_some();
            let text = if searched { "No older matches." } else { "No matches in this conversation." };
            super::notices::notify(model, Level::Info, text);
            Vec::new()
        }
    }
}

/// A page of history arrived and took lines `added`: a search waiting for it goes on looking, in those lines.
pub fn page_arrived(model: &mut Model, acting: &Handle, key: &ConvKey, added: std::ops::Range<usize>) -> Vec<Cmd> {
    let waiting = model.search.as_ref().is_some_and(|s| s.looking_back);
    let open = model.handle().is_some_and(|h| &h.address.handle == acting && h.open.as_ref() == Some(key));
    if waiting && open { look(model, added) } else { Vec::new() }
}

fn matches(line: &LogLine, query: &str) -> bool {
    let text = match line {
        LogLine::Message { body, .. } => body,
        LogLine::System { text, .. } => text,
    };
    // Most lines are ASCII: compare without building a lowercase copy of each.
    if text.is_ascii() && query.is_ascii() {
        let (hay, needle) = (text.as_bytes(), query.as_bytes());
        return needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle));
    }
    text.to_lowercase().contains(query)
}

/// Opens the in-conversation search bar.
pub fn start(model: &mut Model) {
    model.search =
        Some(super::Search { query: super::input::TextInput::default(), editing: true, looking_back: false });
    forget_match(model);
}

/// The query changed: the next search starts again from the newest line.
pub fn forget_match(model: &mut Model) {
    if let Some(c) = model.handle_mut().and_then(|h| h.open.clone().and_then(|k| h.conversations.get_mut(&k))) {
        c.search_match = None;
    }
}
