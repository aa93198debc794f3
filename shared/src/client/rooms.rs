//! Frames that make and change rooms: create a group, invite, answer, leave, remove, rename, list, and the
//! invitation setting.

use serde::{Deserialize, Serialize};

use crate::MessageId;
use crate::model::{InvitePolicy, is_false};
use crate::{Address, Handle, RequestId, RoomId};

/// Makes a group room of this handle and `members` (each invited under their invitation setting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub members: Vec<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The group continues a one-to-one conversation a third person joined (recorded in the `created` line).
    #[serde(default, deserialize_with = "crate::model::null_as_default", skip_serializing_if = "is_false")]
    pub promoted: bool,
    /// With `promoted`: the message (written to the creator alone) that made the conversation grow, so that its
    /// writer's client can ask them whether to share it with the group. Recorded in the `created` line as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<MessageId>,
}

/// Invites `who` to a room this handle is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteToRoom {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub room: RoomId,
    pub who: Address,
}

/// Answers an invitation that asked first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRoomInvite {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub room: RoomId,
    pub accept: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveRoom {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub room: RoomId,
}

/// The owner removes a member (or withdraws an invitation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveFromRoom {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub room: RoomId,
    pub who: Address,
}

/// The owner renames the room; an empty title goes back to the members' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRoom {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub room: RoomId,
    pub title: String,
}

/// Whether invitations join at once, ask, or are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetInvitePolicy {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub policy: InvitePolicy,
}

/// This handle's rooms (other than direct ones) and pending invitations (also pushed at login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetRooms {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
}
