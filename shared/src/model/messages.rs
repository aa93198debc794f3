//! Messages and their delivery and read receipts. One message type for every kind of room.

use serde::{Deserialize, Serialize};

use super::is_false;
use crate::{Address, MessageId, Millis, RoomId};

/// A message as stored by the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Relay-assigned, globally unique (UUIDv7).
    pub id: MessageId,
    /// The room it was said in.
    pub room: RoomId,
    pub from: Address,
    /// In a direct room, the other person; absent in every other kind of room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    pub body: String,
    /// Relay clock when it was stored.
    pub sent_at: Millis,
    /// The sender's idempotency key.
    pub client_msg_id: String,
    /// The sender asked for receipts: a recipient's client sends `read` once it displayed the message (unless its
    /// person turned read receipts off).
    #[serde(default, skip_serializing_if = "is_false")]
    pub receipts: bool,
}

/// How far a message got with one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptState {
    /// A connection of the recipient acknowledged the stream item holding the message.
    Delivered,
    /// The recipient's client displayed it.
    Read,
    /// A state of a later protocol version.
    #[serde(other)]
    Unknown,
}

/// A report in the sender's stream: `by` has these messages (all sent by the stream's handle, all in `room`) in
/// `state` now. Each (message, recipient, state) is reported at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The recipient whose state changed.
    pub by: Address,
    pub state: ReceiptState,
    pub message_ids: Vec<MessageId>,
    pub room: RoomId,
}

/// One tracked recipient of a message, as `history` reports it to the message's sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientReceipt {
    pub who: Address,
    /// When a connection of `who` acknowledged the message (absent: not yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Millis>,
    /// When `who`'s client reported displaying it (absent: not yet, or never: read receipts are the reader's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Millis>,
}

/// The receipts of one message the requester sent with `receipts`: every recipient tracked when it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReceipts {
    pub message_id: MessageId,
    pub recipients: Vec<RecipientReceipt>,
}
