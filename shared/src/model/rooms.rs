//! Rooms. Every conversation is a room: a *direct* room of two people whose membership follows the friend relation,
//! a *group* room that people create, join and leave, or a *huddle* the relay forms by itself when something happens
//! and ends when it is over (protocol 2.2). A client that does not know a kind sees [`RoomKind::Unknown`].

use serde::{Deserialize, Serialize};

use super::huddles::{EndReason, HuddleInfo};
use super::is_false;
use crate::{Address, Millis, RoomId};

/// What kind of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// Two people; whether they may write to each other is the friend-list routing rule. Never listed in `rooms`.
    Direct,
    /// Made by a member (`create_group`); members invite, join under their invitation setting, and leave.
    Group,
    /// Formed by the relay (a topic's issue, a person coming online); time-limited. Members leave but nobody invites,
    /// renames or removes; while it lasts members may also write to each other one to one.
    Huddle,
    /// A kind of a later protocol version.
    #[serde(other)]
    Unknown,
}

/// A member of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomMember {
    pub address: Address,
    pub joined_at: Millis,
}

/// A room as its members see it (`room` and `rooms` frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: RoomId,
    pub kind: RoomKind,
    /// `None`: shown as the members' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The member who may rename the room and remove members; every group has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Address>,
    pub members: Vec<RoomMember>,
    /// Invited, and asked to answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invited: Vec<Address>,
    pub created_at: Millis,
    /// Huddles only: what formed it and how it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huddle: Option<Box<HuddleInfo>>,
}

/// An invitation waiting for the viewer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInvite {
    pub room: RoomId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub by: Address,
    pub at: Millis,
}

/// Whether invitations to groups join at once, ask first, or are refused. Closed: a client sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InvitePolicy {
    /// Join at once when invited by someone on your friend list; ask otherwise. The default.
    #[default]
    Auto,
    /// Always ask.
    Ask,
    /// Refuse every invitation.
    Refuse,
}

/// A change in a room, as a line of its log (the `change` of a `room` event). `peer` in the event is who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum RoomChange {
    /// The room was made with these members (`peer` made it). `promoted`: it grew out of `peer`'s one-to-one
    /// conversation when a third person wrote (clients say "alice made this a group: alice, bob, carol").
    Created {
        members: Vec<Address>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        promoted: bool,
        /// With `promoted`: the message that made the conversation grow, as the creator named it (its writer's
        /// client may offer to share it; nobody else is shown anything by it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opening: Option<crate::MessageId>,
    },
    /// `who` joined (added by `peer`, or `peer` accepted an invitation: then `who == peer`).
    Joined { who: Address },
    /// `peer` left.
    Left,
    /// `peer` (the owner) removed `who`.
    Removed { who: Address },
    /// `peer` (the owner) renamed the room; `None` goes back to the members' names.
    Renamed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// `peer` is the owner now (the previous owner left).
    OwnerChanged,
    /// The room ended with its members still in it: nothing more can be said there, its log stays readable. `peer` is
    /// who ended it (the relay's own rooms: the room itself).
    Ended {
        /// Huddles: why it ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<EndReason>,
    },
    /// A huddle formed (`peer`: its anchor, publisher or the topic's owner) of `count` members; `members` names the
    /// first [`FORMED_MEMBERS_NAMED`](crate::limits::FORMED_MEMBERS_NAMED) taken in (the whole list is in the `room`
    /// frame), so the line every member gets stays small however large the huddle.
    Formed { members: Vec<Address>, count: u32, huddle: Box<HuddleInfo> },
    /// `who`'s own time in a huddle was up (the duration they chose for the topic), so they are out of it.
    TimeUp { who: Address },
    /// A change of a later protocol version.
    #[serde(other)]
    Unknown,
}
