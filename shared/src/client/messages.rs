//! Frames about messages and streams: send, sync, ack, history, read, typing. A conversation is named by its
//! `room`, or — for the direct room with someone — by their address (`to`, `with`): give exactly one.

use serde::{Deserialize, Serialize};

use crate::model::is_false;
use crate::{Address, Handle, MessageId, RequestId, RoomId};

/// Sends a message to a room (`room`), or to the direct room with `to`. Resending with the same `client_msg_id` never
/// duplicates it. (The frame's `type` is `send`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    pub body: String,
    pub client_msg_id: String,
    /// The sender asks for delivery and read receipts of this message.
    #[serde(default, deserialize_with = "crate::model::null_as_default", skip_serializing_if = "is_false")]
    pub receipts: bool,
}

/// Asks for the stream items after `after`, up to the handle's head at login (`session.handles[].head`). Items after
/// that head arrive as `deliver` pushes, so between the two every item reaches the connection exactly once; order them
/// by `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub after: u64,
    /// Clamped to 1 ..= the relay's `max_sync_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// Acknowledges every stream item up to and including `seq`. Answered with `ok` only when it carries an `id`; an
/// invalid one is always answered with an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub seq: u64,
}

/// Pages through a room's messages (`room`, or the direct room with `with`): newest first from `before` (or the end),
/// or oldest first from `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<MessageId>,
    /// Clamped to 1 ..= the relay's `max_history_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// "This handle's client displayed these messages": the relay reports it to their senders where they asked for
/// receipts. At most [`MAX_READ_IDS`](crate::limits::MAX_READ_IDS) ids; ids of messages this handle did not receive
/// with receipts asked are ignored. No answer unless it has an `id` (then `ok`, or an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub message_ids: Vec<MessageId>,
}

/// "I am typing" in a room (`room`, or the direct room with `to`). Ephemeral: never stored, at most one every 2 seconds
/// per room is passed on. No answer unless it has an `id` (then `ok`, or an error) — not even errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
}
