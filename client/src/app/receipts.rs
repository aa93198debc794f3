//! Delivery and read receipts in the client.
//!
//! Sending: a message asks for receipts when the person chose so by default (`[chat] receipts`) or used `/confirm`.
//! The relay's `stored` answer names the recipients it tracks; `receipt` items in our stream then say who got
//! (delivered) and who displayed (read) which of our messages, and `history` answers carry the same for older
//! ones. Each of our messages shows "sent", "delivered" or "read" (direct), or "read by 2 of 3" (groups); the
//! receipts key lists who has and who has not.
//!
//! Receiving: messages whose sender asked get a `read` once their conversation is on screen, unless the person
//! turned read receipts off (then the sender only ever sees "delivered").

use std::collections::BTreeMap;

use huddle_shared::client::Read;
use huddle_shared::limits::MAX_READ_IDS;
use huddle_shared::model::{MessageReceipts, Receipt, ReceiptState};
use huddle_shared::{Address, ClientFrame, MessageId, Millis};

use super::notices::notify;
use super::{Cmd, ConvKey, Conversation, Dialog, Level, LogLine, Model, Screen};
use crate::net;

/// Where one of our messages stands with each recipient the relay tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// In the relay's order.
    pub recipients: Vec<Address>,
    pub delivered: BTreeMap<Address, Millis>,
    pub read: BTreeMap<Address, Millis>,
}

impl Tracking {
    pub fn new(recipients: Vec<Address>) -> Self {
        Self { recipients, ..Self::default() }
    }

    /// The mark after the message: "sent", "delivered", "read" for one recipient; "read by 2 of 3" or
    /// "delivered to 1 of 3" for several.
    pub fn summary(&self) -> String {
        let total = self.recipients.len();
        let read = self.recipients.iter().filter(|r| self.read.contains_key(*r)).count();
        let delivered =
            self.recipients.iter().filter(|r| self.delivered.contains_key(*r) || self.read.contains_key(*r)).count();
        match (total, read, delivered) {
            (1, 1, _) => "✓✓ read".to_owned(),
            (1, _, 1) => "✓✓ delivered".to_owned(),
            (_, 0, 0) => "✓ sent".to_owned(),
            (_, 0, d) => format!("✓✓ delivered to {d} of {total}"),
            (_, r, _) => format!("✓✓ read by {r} of {total}"),
        }
    }
}

/// One of our messages that asked for receipts: stored by the relay for `recipients`, or seen again in our stream
/// (sent from another device). Nothing to track when `recipients` is empty (receipts were not asked for).
pub fn track(c: &mut Conversation, message_id: &MessageId, recipients: Vec<Address>) {
    if !recipients.is_empty() {
        c.receipts.entry(message_id.clone()).or_insert_with(|| Tracking::new(recipients));
    }
}

/// A `receipt` item of our stream.
pub fn arrived(model: &mut Model, index: usize, at: Millis, receipt: Receipt) {
    let Some(h) = model.handles.get_mut(index) else { return };
    // A receipt names the room; the direct room with someone is shown as the conversation with them.
    let group = h.session.groups.get(&receipt.room).or_else(|| h.session.left_groups.get(&receipt.room));
    let (key, everyone) = match group {
        Some(g) => {
            let members = g.members.iter().map(|m| m.address.clone()).filter(|a| *a != h.address).collect();
            (ConvKey::Room(receipt.room.clone()), members)
        }
        None => {
            // Not a group we know: the direct room with `by`, unless their friend entry names another room (then
            // it is a group this process never heard of, and there is nowhere to show it).
            let other_room =
                h.session.friends.entries.iter().any(|f| f.address == receipt.by && f.room != receipt.room);
            if other_room {
                return;
            }
            (ConvKey::Direct(receipt.by.clone()), vec![receipt.by.clone()])
        }
    };
    let Some(c) = h.conversations.get_mut(&key) else { return };
    for id in receipt.message_ids {
        // A receipt for a message this process never saw stored (sent before it started): its recipients were,
        // as far as we know, the conversation's others.
        let tracking = c.receipts.entry(id).or_insert_with(|| Tracking::new(everyone.clone()));
        if !tracking.recipients.contains(&receipt.by) {
            tracking.recipients.push(receipt.by.clone());
        }
        match receipt.state {
            ReceiptState::Delivered => {
                tracking.delivered.entry(receipt.by.clone()).or_insert(at);
            }
            ReceiptState::Read => {
                tracking.delivered.entry(receipt.by.clone()).or_insert(at);
                tracking.read.entry(receipt.by.clone()).or_insert(at);
            }
            // A state a newer relay knows and we do not: nothing we can show.
            ReceiptState::Unknown => {}
        }
    }
}

/// The receipts a `history` answer carries for our messages in the page.
pub fn from_history(c: &mut Conversation, receipts: Vec<MessageReceipts>) {
    for m in receipts {
        let mut tracking = Tracking::new(m.recipients.iter().map(|r| r.who.clone()).collect());
        for r in m.recipients {
            if let Some(at) = r.delivered_at {
                tracking.delivered.insert(r.who.clone(), at);
            }
            if let Some(at) = r.read_at {
                tracking.read.insert(r.who.clone(), at);
            }
        }
        c.receipts.insert(m.message_id, tracking);
    }
}

/// Tells the senders who asked that the open conversation's messages were displayed. Called after every update;
/// costs nothing when there is nothing to report.
pub fn report_read(model: &mut Model) -> Vec<Cmd> {
    if model.screen != Screen::Main {
        return Vec::new();
    }
    let read_receipts = model.chat.read_receipts;
    let Some(h) = model.handles.get_mut(model.active) else { return Vec::new() };
    let acting = h.address.handle.clone();
    let Some(key) = h.open.clone() else { return Vec::new() };
    let Some(c) = h.conversations.get_mut(&key) else { return Vec::new() };
    if c.to_report.is_empty() {
        return Vec::new();
    }
    let ids = std::mem::take(&mut c.to_report);
    if !read_receipts {
        return Vec::new();
    }
    ids.chunks(MAX_READ_IDS)
        .map(|chunk| {
            let frame = ClientFrame::Read(Read { id: None, acting: Some(acting.clone()), message_ids: chunk.to_vec() });
            Cmd::Net(net::Command::Signal(frame))
        })
        .collect()
}

/// The receipts key: who has and has not received our latest tracked message in the open conversation.
pub fn show(model: &mut Model) {
    let latest = model.handle().and_then(|h| {
        let key = h.open.clone()?;
        let c = h.conversations.get(&key)?;
        let id = tracked_ids(c).pop()?;
        Some((key, id))
    });
    match latest {
        Some((key, message_id)) => model.dialogs.push_back(Dialog::Receipts { key, message_id }),
        None => notify(
            model,
            Level::Info,
            "None of your messages here asked for receipts. Send one with /confirm TEXT, or set receipts = true.",
        ),
    }
}

/// Our messages in a conversation that have receipts, oldest first.
pub fn tracked_ids(c: &Conversation) -> Vec<MessageId> {
    c.lines
        .iter()
        .filter_map(|l| match l {
            LogLine::Message { id: Some(id), own: true, .. } if c.receipts.contains_key(id) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// The receipts dialog steps to the previous (`-1`) or next (`1`) tracked message.
pub fn step(model: &Model, key: &ConvKey, message_id: &MessageId, delta: isize) -> Option<MessageId> {
    let c = model.handle()?.conversations.get(key)?;
    let ids = tracked_ids(c);
    let at = ids.iter().position(|i| i == message_id)?;
    let next = at as isize + delta;
    usize::try_from(next).ok().and_then(|n| ids.get(n)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(&format!("{s}@localhost")).unwrap()
    }

    #[test]
    fn summaries_count_each_recipient_once() {
        let mut one = Tracking::new(vec![addr("bob")]);
        assert_eq!(one.summary(), "✓ sent");
        one.delivered.insert(addr("bob"), 1);
        assert_eq!(one.summary(), "✓✓ delivered");
        one.read.insert(addr("bob"), 2);
        assert_eq!(one.summary(), "✓✓ read");

        let mut three = Tracking::new(vec![addr("bob"), addr("carol"), addr("dave")]);
        assert_eq!(three.summary(), "✓ sent");
        three.delivered.insert(addr("bob"), 1);
        assert_eq!(three.summary(), "✓✓ delivered to 1 of 3");
        three.read.insert(addr("carol"), 2);
        three.delivered.insert(addr("carol"), 2);
        three.read.insert(addr("bob"), 3);
        assert_eq!(three.summary(), "✓✓ read by 2 of 3");
        // Read without a delivered report still counts as delivered.
        let mut odd = Tracking::new(vec![addr("bob"), addr("carol")]);
        odd.read.insert(addr("bob"), 1);
        assert_eq!(odd.summary(), "✓✓ read by 1 of 2");
    }
}
