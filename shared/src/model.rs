//! Records carried inside frames: presence, profiles, friend-list entries, requests, messages, system events and
//! receipts.

use serde::{Deserialize, Serialize};

use crate::{Address, Millis};

/// Availability a connection sets. `invisible` is shown to everyone else as `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    Online,
    Away,
    Busy,
    Invisible,
}

impl PresenceState {
    /// Rank for "most available": a handle with several connections shows the state of the highest rank.
    pub fn availability(self) -> u8 {
        match self {
            Self::Online => 3,
            Self::Away => 2,
            Self::Busy => 1,
            Self::Invisible => 0,
        }
    }
}

/// Presence as another handle sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownState {
    Online,
    Away,
    Busy,
    Offline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub state: ShownState,
    /// Activity text, only while not offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// Coarse location the user opted to share, only while not offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// When the handle was last seen online (not reported while it is online, nor ever for a blocked viewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Millis>,
}

impl Presence {
    pub fn offline(last_seen: Option<Millis>) -> Self {
        Self { state: ShownState::Offline, activity: None, location: None, last_seen }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
}

/// One entry on the viewer's friend list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendEntry {
    pub address: Address,
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

/// How the addressee answers a friend request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAnswer {
    /// The addressee goes on the requester's list.
    Accept,
    /// Each goes on the other's list.
    AcceptMutual,
    Reject,
}

/// How the other side answers a deletion request.
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

/// A direct message as stored by the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Relay-assigned, globally unique (UUIDv7).
    pub id: String,
    pub from: Address,
    pub to: Address,
    pub body: String,
    /// Relay clock when it was stored.
    pub sent_at: Millis,
    /// The sender's idempotency key.
    pub client_msg_id: String,
    /// The sender asked for receipts: the recipient's client sends `read` once it displayed the message (unless its
    /// person turned read receipts off).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub receipts: bool,
}

/// A system event in a handle's stream. `peer` in each is the other handle concerned.
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
    /// `peer` invites you to a group, and your invitation setting says to ask: answer with `answer_group_invite`.
    GroupInvite {
        peer: Address,
        group: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// Something happened in a group you are in; `peer` is who did it. These lines make up the group's log.
    Group { peer: Address, group: String, change: GroupChange },
}

/// A change in a group, as a line of its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum GroupChange {
    /// The group was made with these members (`peer` made it). `promoted`: it grew out of `peer`'s one-to-one
    /// conversation when a third person wrote (clients say "alice made this a group: alice, bob, carol").
    Created {
        members: Vec<Address>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        promoted: bool,
    },
    /// `who` joined (added by `peer`, or `peer` accepted an invitation: then `who == peer`).
    Joined { who: Address },
    /// `peer` left.
    Left,
    /// `peer` (the owner) removed `who`.
    Removed { who: Address },
    /// `peer` (the owner) renamed the group; `None` goes back to the members' names.
    Renamed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// `peer` is the owner now (the previous owner left).
    OwnerChanged,
}

/// Whether group invitations join at once, ask first, or are refused.
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

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub address: Address,
    pub joined_at: Millis,
}

/// A group as its members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// Relay-assigned, globally unique.
    pub id: String,
    /// `None`: shown as the members' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub owner: Address,
    pub members: Vec<GroupMember>,
    /// Invited, and asked to answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invited: Vec<Address>,
    pub created_at: Millis,
}

/// An invitation waiting for the viewer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingGroupInvite {
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub by: Address,
    pub at: Millis,
}

/// A message to a group, as stored by the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMessage {
    pub id: String,
    pub group: String,
    pub from: Address,
    pub body: String,
    pub sent_at: Millis,
    pub client_msg_id: String,
    /// The sender asked for receipts, as in [`Message::receipts`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
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
}

/// A report in the sender's stream: `by` has these messages (all sent by the stream's handle, all in one
/// conversation) in `state` now. Each (message, recipient, state) is reported at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The recipient whose state changed.
    pub by: Address,
    pub state: ReceiptState,
    pub message_ids: Vec<String>,
    /// The group, for group messages; absent for direct messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// One tracked recipient of a message, as `history` and `group_history` report it to the message's sender.
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
    pub message_id: String,
    pub recipients: Vec<RecipientReceipt>,
}

impl Event {
    pub fn peer(&self) -> &Address {
        match self {
            Self::RequestReceived { peer, .. }
            | Self::RequestAnswered { peer, .. }
            | Self::RequestCancelled { peer }
            | Self::DeletionNotice { peer, .. }
            | Self::DeletionAnswered { peer, .. }
            | Self::HandleRemoved { peer }
            | Self::GroupInvite { peer, .. }
            | Self::Group { peer, .. } => peer,
        }
    }
}

/// What a stream item holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemBody {
    Message {
        message: Message,
    },
    Event {
        event: Event,
    },
    GroupMessage {
        message: GroupMessage,
    },
    /// Only in the stream of the messages' sender.
    Receipt {
        receipt: Receipt,
    },
}

/// One item of a handle's stream: everything the relay must never lose for that handle, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamItem {
    /// Per-handle sequence, starting at 1, increasing by exactly 1.
    pub seq: u64,
    pub at: Millis,
    #[serde(flatten)]
    pub body: ItemBody,
}

/// Who may register on a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationPolicy {
    #[default]
    Open,
    /// Registration needs an invite code made by the relay's admin.
    Invite,
    Closed,
}

/// Limits a relay announces in its `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_body_bytes: usize,
    pub max_handles: usize,
    pub max_sync_page: u32,
    pub max_history_page: u32,
    /// Frames per second a connection may send on average (bursts up to `frame_burst`).
    pub frames_per_second: u32,
    pub frame_burst: u32,
}

/// A session (a login) of the account, as listed by `list_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Millis,
    /// This is the session of the connection asking.
    pub current: bool,
}
