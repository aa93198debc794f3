//! A conversation's history, whatever its kind: opening a conversation loads its newest page the first time, scrolling
//! past the top asks for the page before, and a page that arrives is merged into the log once, in the relay's order.

use huddle_shared::client::History;
use huddle_shared::model::{Message, MessageReceipts};
use huddle_shared::{ClientFrame, Handle, MessageId};

use super::conversation::{insert_message, set_open};
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
    c.scroll = 0;
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
    let pending = Pending::History { acting: acting.clone(), key };
    request(model, pending, |id| {
        ClientFrame::History(History { id, acting: Some(acting), room, with, before, after: None, limit: Some(PAGE) })
    })
}

/// A page arrived: its messages join the log (once each), and whether there is more before it is noted.
pub fn arrived(
    model: &mut Model,
    acting: &Handle,
    key: &ConvKey,
    messages: Vec<Message>,
    more: bool,
    receipts: Vec<MessageReceipts>,
) {
    let Some(h) = model.handles.iter_mut().find(|h| &h.address.handle == acting) else { return };
    let c = h.conversation_mut(key);
    super::receipts::from_history(c, receipts);
    for m in messages {
        let own = m.from.handle == *acting;
        insert_message(c, m, own);
    }
    c.history = if more { HistoryState::More } else { HistoryState::Complete };
}

/// The page could not be had: it may be asked for again.
pub fn failed(model: &mut Model, acting: &Handle, key: &ConvKey) {
    if let Some(h) = model.handles.iter_mut().find(|h| &h.address.handle == acting) {
        h.conversation_mut(key).history = HistoryState::NotLoaded;
    }
}
