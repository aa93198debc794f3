//! A conversation's history, whatever its kind: opening a conversation loads its newest page the first time, scrolling
//! past the top asks for the page before, and a page that arrives is merged into the log once, in the relay's order.

use huddle_shared::client::History;
use huddle_shared::model::{Message, MessageReceipts};
use huddle_shared::{ClientFrame, Handle, MessageId};

use super::conversation::set_open;
use super::requests::request;
use super::{Cmd, ConvKey, HistoryState, Model, Pending};

/// Messages asked for at a time.
pub const PAGE: u64 = 100;

/// Opens a conversation on the active handle, loading its history the first time.
pub fn open(model: &mut Model, key: ConvKey) -> Vec<Cmd> {
    set_open(model, Some(key.clone()));
    let Some(h) = model.handle_mut() else { return Vec::new() };
    let acting = h.address.handle.clone();
    let c = h.conversation_mut(&key);
    c.unread = 0;
    c.scroll.to_bottom();
    let load = c.history == HistoryState::NotLoaded;
    if load {
        c.history = HistoryState::Loading;
    }
    if !load {
        return Vec::new();
    }
    vec![request_page(model, acting, key, None)]
}

/// Asks for a page of a conversation's history: the newest, or the one before `before`.
pub fn request_page(model: &mut Model, acting: Handle, key: ConvKey, before: Option<MessageId>) -> Cmd {
    let (room, with) = match &key {
        ConvKey::Direct(peer) => (None, Some(peer.clone())),
        ConvKey::Room(room) => (Some(room.clone()), None),
    };
    let pending = Pending::History { acting: acting.clone(), key, before: before.clone() };
    request(model, pending, |id| {
        ClientFrame::History(History { id, acting: Some(acting), room, with, before, after: None, limit: Some(PAGE) })
    })
}

/// A page of history as the relay answered it, with the cursor it was asked before.
pub struct Page {
    pub before: Option<MessageId>,
    pub messages: Vec<Message>,
    pub more: bool,
    pub receipts: Vec<MessageReceipts>,
}

/// A page arrived: its messages not held yet join the log as one block, in the relay's order, right above the
/// message it was asked before; the next page will be asked before its oldest message.
/// Returns the lines the page added (where a search waiting for it looks).
pub fn arrived(model: &mut Model, acting: &Handle, key: &ConvKey, page: Page) -> std::ops::Range<usize> {
    let Page { before, messages, more, receipts } = page;
    let before = before.as_ref();
    let Some(h) = model.handles.iter_mut().find(|h| &h.address.handle == acting) else { return 0..0 };
    let c = h.conversation_mut(key);
    super::receipts::from_history(c, receipts);
    if let Some(first) = messages.first() {
        c.oldest = Some(first.id.clone());
    }
    let mine = |m: &Message| m.from.handle == *acting;
    let added = super::timeline::merge_page(c, before, messages, mine);
    // An empty page with "more" would be asked for again and again: only a page that moved the cursor may lead on.
    let moved = c.oldest.as_ref() != before;
    c.history = if more && moved { HistoryState::More } else { HistoryState::Complete };
    added
}

/// The page could not be had: it may be asked for again — the page before the oldest held if there is one (scrolling
/// up asks again), else the newest. A search waiting for it stops looking (the error says why).
pub fn failed(model: &mut Model, acting: &Handle, key: &ConvKey) {
    if let Some(h) = model.handles.iter_mut().find(|h| &h.address.handle == acting) {
        let c = h.conversation_mut(key);
        c.history = if c.oldest.is_some() { HistoryState::More } else { HistoryState::NotLoaded };
    }
    if let Some(search) = model.search.as_mut() {
        search.looking_back = false;
    }
}
