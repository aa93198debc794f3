//! Frames about a handle's presence, profile and friend list.

use serde::{Deserialize, Serialize};

use crate::model::{DeletionAnswer, PresenceState, RequestAnswer};
use crate::{Address, Handle, RequestId};

/// Sets this connection's availability for a handle and/or the handle's activity and location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPresence {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PresenceState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetProfile {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
}

/// Asks `to` to become a friend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FriendRequest {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub to: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
}

/// Withdraws a pending request this handle sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub to: Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub from: Address,
    pub answer: RequestAnswer,
}

/// Step 1 of mutual deletion: removes `friend` from this handle's list and withdraws this handle's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteFriend {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub friend: Address,
}

/// Steps 2–3: tells `to` about an earlier deletion and, with `ask_delete`, asks them to delete this handle too.
/// May be sent again after a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyDeletion {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub to: Address,
    pub ask_delete: bool,
}

/// Answers a deletion request from `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerDeletion {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub from: Address,
    pub answer: DeletionAnswer,
}

/// Edits the private nickname and/or note of an entry on this handle's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetEntry {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub friend: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub target: Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unblock {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub target: Address,
}

/// Asks for the handle's friend list again (it is also pushed at login and on every change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetFriends {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
}
