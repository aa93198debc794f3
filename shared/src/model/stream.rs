//! A handle's stream: everything the relay must never lose for that handle, in order — messages, system events and
//! receipt reports.

use serde::{Deserialize, Serialize};

use super::lists::{DeletionAnswer, RequestAnswer};
use super::messages::{Message, Receipt};
use super::rooms::RoomChange;
use crate::{Address, Millis, RoomId};

/// A system event in a handle's stream. `peer` in each is the other handle concerned (in `room` events: who made
/// the change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// `peer` asked to be your friend.
    RequestReceived {
        peer: Address,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        greeting: Option<String>,
    },
    /// `peer` answered your friend request.
    RequestAnswered { peer: Address, answer: RequestAnswer },
    /// `peer` withdrew the friend request they had sent you.
    RequestCancelled { peer: Address },
    /// `peer` deleted you from their list. With `asks_delete`, they ask you to delete them too: answer with
    /// `answer_deletion`. (`asks_delete` is false when `peer` is not on your list: then there is nothing to delete.)
    DeletionNotice { peer: Address, asks_delete: bool },
    /// `peer` answered your deletion request. `confirm`: mutual deletion complete. `refuse`: they kept you.
    DeletionAnswered { peer: Address, answer: DeletionAnswer },
    /// The handle `peer` no longer exists (its owner removed it); it was taken off your list.
    HandleRemoved { peer: Address },
    /// `peer` invites you to a room, and your invitation setting says to ask: answer with `answer_room_invite`.
    RoomInvite {
        peer: Address,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// Something happened in a room you are in; `peer` is who did it. These lines make up the room's log.
    Room { peer: Address, room: RoomId, change: RoomChange },
    /// To a topic's owner (`peer` is the owner itself): polling the topic's feed failed; it is tried again at
    /// `retry_at`. Sent once per run of failures, not at every retry.
    FeedFailed { peer: Address, topic: super::huddles::TopicId, reason: String, retry_at: Millis },
    /// An event of a later protocol version: acknowledge it and skip it.
    #[serde(other)]
    Unknown,
}

impl Event {
    /// The other handle concerned (`None` for an event this build does not know).
    pub fn peer(&self) -> Option<&Address> {
        match self {
            Self::RequestReceived { peer, .. }
            | Self::RequestAnswered { peer, .. }
            | Self::RequestCancelled { peer }
            | Self::DeletionNotice { peer, .. }
            | Self::DeletionAnswered { peer, .. }
            | Self::HandleRemoved { peer }
            | Self::RoomInvite { peer, .. }
            | Self::Room { peer, .. }
            | Self::FeedFailed { peer, .. } => Some(peer),
            Self::Unknown => None,
        }
    }
}

/// What a stream item holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemBody {
    /// A message the handle sent or received, in any kind of room.
    Message {
        message: Message,
    },
    Event {
        event: Event,
    },
    /// Only in the stream of the messages' sender.
    Receipt {
        receipt: Receipt,
    },
    /// A kind of a later protocol version: the item still has its `seq` — acknowledge it and skip it, so that it never
    /// blocks the items after it.
    #[serde(other)]
    Unknown,
}

/// One item of a handle's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamItem {
    /// Per-handle sequence, starting at 1, increasing by exactly 1.
    pub seq: u64,
    pub at: Millis,
    #[serde(flatten)]
    pub body: ItemBody,
}
