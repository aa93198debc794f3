//! Friend lists with consent: entries, requests and the mutual-deletion records.

use serde::{Deserialize, Serialize};

use super::presence::{Presence, Profile};
use crate::{Address, Millis, RoomId};

/// One entry on the viewer's friend list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendEntry {
    pub address: Address,
    /// The direct room of the viewer and this friend (its id never changes).
    pub room: RoomId,
    /// The viewer's private nickname for this friend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// The viewer's private note (how they met, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the entry was made (the friend consented).
    pub since: Millis,
    /// The friend deleted the viewer from their list: the entry no longer links the two.
    pub removed_you: bool,
    /// Present unless `removed_you` or the friend blocked the viewer (then they look offline).
    pub presence: Presence,
    #[serde(default)]
    pub profile: Profile,
}

/// A friend request waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The other side: the requester for incoming requests, the addressee for outgoing ones.
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    pub at: Millis,
}

/// How the addressee answers a friend request. Closed: a client sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAnswer {
    /// The addressee goes on the requester's list.
    Accept,
    /// Each goes on the other's list.
    AcceptMutual,
    Reject,
}

/// How the other side answers a deletion request. Closed: a client sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionAnswer {
    /// Remove the deleter from my list too.
    Confirm,
    /// Keep the deleter on my list.
    Refuse,
}

/// Where a deletion the viewer made stands, as far as the other side is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionState {
    /// Deleted; the other side was not told.
    Deleted,
    /// The other side got a deletion notice.
    Notified,
    /// The other side was asked to delete the viewer too and has not answered.
    Requested,
    /// The other side refused; the viewer may ask again.
    Refused,
}

/// A deletion the viewer made, kept until the other side confirms or the two become friends again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionOut {
    pub address: Address,
    pub state: DeletionState,
    pub at: Millis,
}

/// A deletion request the viewer has to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionIn {
    pub address: Address,
    pub at: Millis,
}

/// The whole friend-list state of one handle, sent at login and whenever it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendList {
    pub entries: Vec<FriendEntry>,
    pub requests_in: Vec<PendingRequest>,
    pub requests_out: Vec<PendingRequest>,
    /// Deletion requests from others, waiting for `answer_deletion`.
    pub deletions_in: Vec<DeletionIn>,
    /// Deletions this handle made and may still notify about or ask again.
    pub deletions_out: Vec<DeletionOut>,
    pub blocked: Vec<Address>,
}
