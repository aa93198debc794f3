//! Delivery and read receipts. A sender asks for them per message (`receipts` in `send`); the relay
//! then tracks one record per recipient — every other member of the room at send time — and
//! reports each change of state once, as `receipt` items in the **sender's** stream:
//!
//! - *delivered* when an `ack` of the recipient moves its acknowledged position over its copy of the message;
//! - *read* when the recipient's client says, with `read`, that it displayed the message (which implies delivered).
//!
//! The records live in storage only and are read when an ack or a read needs them, so memory does not grow with the
//! number of messages ever sent. While the recipient blocks the sender nothing of its state is recorded or reported
//! ([`receipts_reach`]); the records are left as they were.

use std::collections::{HashMap, HashSet};

use huddle_shared::limits::{MAX_READ_IDS, MAX_ROOM_MEMBERS};
use huddle_shared::model::{ItemBody, Message, MessageReceipts, Receipt, ReceiptState, RecipientReceipt};
use huddle_shared::{Address, ErrorCode, Handle, MessageId, Millis, RoomId};

use crate::core::fail::{Fail, Outcome, refuse_with};
use crate::core::rules::receipts_reach;
use crate::core::world::World;
use crate::storage::{Mutation, ReceiptRec, Storage, StorageError};

/// Records read from storage at a time while an acknowledgement is turned into deliveries.
const ACK_PAGE: usize = 512;
/// Conversations one report may gather before it is written out. Only a huge acknowledgement (months of messages
/// from very many people) reaches it; it then reports in more items than strictly needed, which clients accept (each
/// id is still reported once), rather than holding an unbounded table.
const MAX_OPEN_CONVERSATIONS: usize = 1024;
/// Tracked recipients of one message: every member but the sender, at most.
const MAX_TRACKED: usize = MAX_ROOM_MEMBERS;

/// A conversation, as receipts are batched: the messages' sender and their room.
type Conversation = (Address, RoomId);

/// The receipt items one operation produces for one recipient and one state: message ids gathered per
/// conversation, in the order the conversations first came up.
struct Report {
    by: Address,
    state: ReceiptState,
    order: Vec<Conversation>,
    ids: HashMap<Conversation, Vec<MessageId>>,
}

impl Report {
    fn new(by: Address, state: ReceiptState) -> Self {
        Self { by, state, order: Vec::new(), ids: HashMap::new() }
    }

    /// Adds a message to its conversation's list; returns the conversation.
    fn push(&mut self, record: &ReceiptRec) -> Conversation {
        let key = (record.sender.clone(), record.room.clone());
        let ids = self.ids.entry(key.clone()).or_insert_with(|| {
            self.order.push(key.clone());
            Vec::new()
        });
        ids.push(record.message_id.clone());
        key
    }

    /// Takes a conversation's ids out if they fill an item.
    fn take_full(&mut self, key: &Conversation) -> Option<Vec<MessageId>> {
        self.ids.get_mut(key).filter(|ids| ids.len() >= MAX_READ_IDS).map(std::mem::take)
    }

    fn is_crowded(&self) -> bool {
        self.order.len() >= MAX_OPEN_CONVERSATIONS
    }

    /// Every gathered list, in order, leaving the report empty.
    fn drain(&mut self) -> Vec<(Conversation, Vec<MessageId>)> {
        let mut ids = std::mem::take(&mut self.ids);
        std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|key| ids.remove(&key).filter(|list| !list.is_empty()).map(|list| (key, list)))
            .collect()
    }
}

impl<S: Storage> World<S> {
    /// Starts tracking a message just stored with receipts: one record per recipient, with the recipient's stream
    /// seq of its copy (`None` for a member who had blocked the sender and got none). Returns the recipients, as the
    /// `stored` answer lists them (nothing when the message did not ask).
    pub(super) fn track_receipts(
        &mut self,
        message: &Message,
        recipients: Vec<(Address, Option<u64>)>,
    ) -> Result<Vec<Address>, StorageError> {
        let mut tracked = Vec::with_capacity(recipients.len());
        for (recipient, seq) in recipients {
            tracked.push(recipient.clone());
            if let (Some(seq), Some(horizon)) = (seq, self.receipt_horizon.get_mut(&recipient.handle)) {
                *horizon = (*horizon).max(seq);
            }
            self.write(Mutation::PutReceipt(ReceiptRec {
                message_id: message.id.clone(),
                recipient,
                sender: message.from.clone(),
                room: message.room.clone(),
                seq,
                delivered_at: None,
                read_at: None,
            }))?;
        }
        tracked.sort();
        Ok(tracked)
    }

    /// The recipients whose receipts are tracked for a message, for repeating a `stored` answer.
    pub(super) fn tracked_recipients(&mut self, message_id: &MessageId) -> Result<Vec<Address>, StorageError> {
        let mut tracked: Vec<Address> =
            self.store.message_receipts(message_id, MAX_TRACKED)?.into_iter().map(|r| r.recipient).collect();
        tracked.sort();
        Ok(tracked)
    }

    /// The receipts of these messages, in their order: for a history page, the requester's own messages that asked
    /// for receipts (nobody else sees them).
    pub(super) fn page_receipts(&mut self, mine: &[&MessageId]) -> Result<Vec<MessageReceipts>, StorageError> {
        let mut out = Vec::new();
        for &message_id in mine {
            let mut recipients: Vec<RecipientReceipt> = self
                .store
                .message_receipts(message_id, MAX_TRACKED)?
                .into_iter()
                .map(|r| RecipientReceipt { who: r.recipient, delivered_at: r.delivered_at, read_at: r.read_at })
                .collect();
            recipients.sort_by(|a, b| a.who.cmp(&b.who));
            out.push(MessageReceipts { message_id: message_id.clone(), recipients });
        }
        Ok(out)
    }

    /// Whether a receipt record of `me` not delivered yet may lie after stream position `after`.
    pub(super) fn receipts_tracked_after(&mut self, me: &Handle, after: u64) -> Result<bool, StorageError> {
        let horizon = match self.receipt_horizon.get(me) {
            Some(horizon) => *horizon,
            None => {
                let latest = self.store.latest_undelivered_receipt(&self.address(me))?.unwrap_or(0);
                self.receipt_horizon.insert(me.clone(), latest);
                latest
            }
        };
        Ok(horizon > after)
    }

    /// `me`'s acknowledged position moved from `from` to `to`: every tracked message in between is delivered now.
    pub(super) fn deliver_receipts(&mut self, me: &Handle, from: u64, to: u64, now: Millis) -> Outcome {
        let me_addr = self.address(me);
        let mut report = Report::new(me_addr.clone(), ReceiptState::Delivered);
        let mut after = from;
        loop {
            let page = self.store.undelivered_receipts(&me_addr, after, to, ACK_PAGE)?;
            let last_page = page.len() < ACK_PAGE;
            for mut record in page {
                // Records come in stream order; a skipped (blocked) one must not be read again.
                after = record.seq.unwrap_or(after).max(after);
                if !receipts_reach(&self.state, &me_addr, &record.sender) {
                    continue;
                }
                record.delivered_at = Some(now);
                self.write(Mutation::PutReceipt(record.clone()))?;
                // A full item goes out at once, so no list grows past what one item holds.
                let key = report.push(&record);
                if let Some(ids) = report.take_full(&key) {
                    self.append_receipt(&report, (key, ids), now)?;
                }
                if report.is_crowded() {
                    self.flush_report(&mut report, now)?;
                }
            }
            if last_page {
                break;
            }
        }
        self.flush_report(&mut report, now)
    }

    /// `me`'s client displayed these messages.
    pub fn read(&mut self, me: &Handle, message_ids: Vec<MessageId>, now: Millis) -> Outcome {
        if message_ids.len() > MAX_READ_IDS {
            return Err(refuse_with(
                ErrorCode::BadFrame,
                format!(
                    "A read frame names at most {MAX_READ_IDS} messages, and this one names {}; send the rest in \
                     another.",
                    message_ids.len()
                ),
            ));
        }
        let me_addr = self.address(me);
        let mut delivered = Report::new(me_addr.clone(), ReceiptState::Delivered);
        let mut read = Report::new(me_addr.clone(), ReceiptState::Read);
        let mut seen = HashSet::new();
        for message_id in message_ids {
            if !seen.insert(message_id.clone()) {
                continue;
            }
            // Anything but a message this handle received with receipts asked is ignored without a word, so that
            // `read` tells nobody which ids exist.
            let Some(mut record) = self.store.receipt(&message_id, &me_addr)? else { continue };
            if record.seq.is_none()
                || record.read_at.is_some()
                || !receipts_reach(&self.state, &me_addr, &record.sender)
            {
                continue;
            }
            // Read implies delivered: a read that overtakes the ack reports both.
            if record.delivered_at.is_none() {
                record.delivered_at = Some(now);
                delivered.push(&record);
            }
            record.read_at = Some(now);
            read.push(&record);
            self.write(Mutation::PutReceipt(record))?;
        }
        // Written only now (a read names at most MAX_READ_IDS messages, so the reports stay small), every delivery
        // before any read, so that no message is reported read before it is reported delivered.
        self.flush_report(&mut delivered, now)?;
        self.flush_report(&mut read, now)
    }

    fn flush_report(&mut self, report: &mut Report, now: Millis) -> Result<(), Fail> {
        for chunk in report.drain() {
            self.append_receipt(report, chunk, now)?;
        }
        Ok(())
    }

    /// Appends one receipt item to the sender's stream (in chunks of at most [`MAX_READ_IDS`] ids) and pushes it.
    fn append_receipt(
        &mut self,
        report: &Report,
        ((sender, room), message_ids): (Conversation, Vec<MessageId>),
        now: Millis,
    ) -> Result<(), Fail> {
        // A sender whose handle was removed since has no stream to report to.
        if self.state.local_handle(&sender).is_none() {
            return Ok(());
        }
        for ids in message_ids.chunks(MAX_READ_IDS) {
            let receipt =
                Receipt { by: report.by.clone(), state: report.state, message_ids: ids.to_vec(), room: room.clone() };
            self.append_item(&sender.handle, ItemBody::Receipt { receipt }, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, sender: &str, room: Option<&str>) -> ReceiptRec {
        ReceiptRec {
            message_id: MessageId::new(id),
            recipient: Address::parse("bob@r.example").unwrap(),
            sender: Address::parse(sender).unwrap(),
            room: RoomId::parse(&format!("{}@r.example", room.unwrap_or("dm.0"))).unwrap(),
            seq: Some(1),
            delivered_at: None,
            read_at: None,
        }
    }

    #[test]
    fn a_report_keeps_conversations_in_first_seen_order_and_hands_out_full_items() {
        let mut report = Report::new(Address::parse("bob@r.example").unwrap(), ReceiptState::Delivered);
        report.push(&record("1", "alice@r.example", None));
        report.push(&record("2", "carol@r.example", None));
        report.push(&record("3", "alice@r.example", Some("g")));
        let key = report.push(&record("4", "alice@r.example", None));
        assert_eq!(report.take_full(&key), None);
        let drained = report.drain();
        let ids: Vec<Vec<&str>> = drained.iter().map(|(_, ids)| ids.iter().map(MessageId::as_str).collect()).collect();
        assert_eq!(ids, vec![vec!["1", "4"], vec!["2"], vec!["3"]]);
        assert!(report.drain().is_empty());

        for n in 0..MAX_READ_IDS {
            let key = report.push(&record(&n.to_string(), "alice@r.example", None));
            let full = report.take_full(&key);
            assert_eq!(full.map(|ids| ids.len()), (n + 1 == MAX_READ_IDS).then_some(MAX_READ_IDS));
        }
        // A taken list leaves nothing behind to report twice.
        assert!(report.drain().is_empty());

        for n in 0..MAX_OPEN_CONVERSATIONS {
            assert!(!report.is_crowded());
            report.push(&record("x", "alice@r.example", Some(&n.to_string())));
        }
        assert!(report.is_crowded());
        assert_eq!(report.drain().len(), MAX_OPEN_CONVERSATIONS);
        assert!(!report.is_crowded());
    }
}
