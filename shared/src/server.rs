//! Frames a relay sends: answers (carrying the request's `id`) and pushes (no `id`).

use serde::{Deserialize, Serialize};

use crate::model::{
    FriendList, HuddleSettings, InvitePolicy, Limits, Message, MessageReceipts, PendingInvite, Presence, Profile,
    RegistrationPolicy, RoomInfo, SessionInfo, StreamItem, TopicId, TopicInfo,
};
use crate::{Address, ErrorCode, MessageId, Millis, ProtocolVersion, RelayName, RequestId, RoomId, SessionId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Answer to the client's `hello`: the version and features this connection uses.
    Hello {
        version: ProtocolVersion,
        features: Vec<String>,
        relay: RelayName,
        registration: RegistrationPolicy,
        limits: Limits,
    },
    /// Success of a request that returns nothing else.
    Ok { id: RequestId },
    /// A request failed (`id` set) or a frame could not be read at all (`id` null).
    Error {
        id: Option<RequestId>,
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Answer to `register`, `login` and `login_token`: the connection now acts for `handles`.
    Session {
        id: RequestId,
        /// The session's public id (for `revoke_session`); not a secret.
        session: SessionId,
        /// The secret token for `login_token`; only sent by `register` and `login`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        handles: Vec<HandleInfo>,
    },
    /// Answer to `list_sessions`.
    Sessions { id: RequestId, sessions: Vec<SessionInfo> },
    /// Answer to `add_handle` / `remove_handle` (with `id`), and pushed to the account's other connections (without
    /// `id`): the account's handles now.
    Handles {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        handles: Vec<HandleInfo>,
    },
    /// A handle's whole friend-list state: at login, on `get_friends` (with `id`), and pushed after any change.
    Friends {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as")]
        acting: Address,
        list: FriendList,
    },
    /// Push: a friend's presence changed.
    Presence {
        #[serde(rename = "as")]
        acting: Address,
        of: Address,
        presence: Presence,
    },
    /// Push: a friend's profile changed.
    Profile {
        #[serde(rename = "as")]
        acting: Address,
        of: Address,
        profile: Profile,
    },
    /// Answer to `send`: the message is durably stored in `room`. `seq` is its place in the sender's own stream.
    /// `recipients`: when the send asked for receipts, whose receipts are tracked (empty otherwise).
    Stored {
        id: RequestId,
        room: RoomId,
        message_id: MessageId,
        seq: u64,
        sent_at: Millis,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recipients: Vec<Address>,
    },
    /// Push: a new item of a handle's stream.
    Deliver {
        #[serde(rename = "as")]
        acting: Address,
        item: StreamItem,
    },
    /// Answer to `sync`. `head` is the stream's last sequence at the time of the answer.
    Batch {
        id: RequestId,
        #[serde(rename = "as")]
        acting: Address,
        items: Vec<StreamItem>,
        more: bool,
        head: u64,
    },
    /// Answer to `history`: a page of `room`'s messages, oldest first. `receipts`: the state of each message in the page
    /// that the requester sent with receipts.
    History {
        id: RequestId,
        room: RoomId,
        messages: Vec<Message>,
        more: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        receipts: Vec<MessageReceipts>,
    },
    /// A room: the answer to `create_group` (with `id`), and pushed to every member's connections whenever its members,
    /// owner or title change.
    Room {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as")]
        acting: Address,
        room: RoomInfo,
    },
    /// Push: the handle is no longer in this room (left, removed, or the room ended).
    RoomGone {
        #[serde(rename = "as")]
        acting: Address,
        room: RoomId,
    },
    /// A handle's rooms (other than direct ones), invitations waiting for an answer, and invitation setting: at login
    /// and on `get_rooms`.
    Rooms {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as")]
        acting: Address,
        rooms: Vec<RoomInfo>,
        invites: Vec<PendingInvite>,
        policy: InvitePolicy,
    },
    /// Push: `from` is typing in `room` (to the handle `as`). Ephemeral; clients show it for a few seconds. Only to
    /// connections that asked for the `typing` feature.
    Typing {
        #[serde(rename = "as")]
        acting: Address,
        from: Address,
        room: RoomId,
    },
    /// Answer to `create_topic`, `update_topic` and `subscribe`: the topic as the handle sees it now. `token`: the new
    /// webhook token, only in the answer to an `update_topic` that asked for one; it is not stored and never sent
    /// again.
    Topic {
        id: RequestId,
        #[serde(rename = "as")]
        acting: Address,
        topic: Box<TopicInfo>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Answer to `get_topics`: every topic on the relay, by id.
    Topics {
        id: RequestId,
        #[serde(rename = "as")]
        acting: Address,
        topics: Vec<TopicInfo>,
    },
    /// Answer to `publish`: the issue's number, and the huddle it formed (`room` absent when no subscriber could be
    /// put in one; `members` counts the publisher too when they are in it).
    Published {
        id: RequestId,
        topic: TopicId,
        issue: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomId>,
        members: u32,
    },
    /// A handle's huddle settings: at login, as the answer to `set_huddle_settings` (with `id`), and pushed to its
    /// other connections after a change.
    HuddleSettings {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as")]
        acting: Address,
        settings: HuddleSettings,
    },
    /// Push before the relay closes the connection on purpose (shutdown, revoked session, slow reader...).
    Bye { code: ErrorCode, message: String },
    /// A frame of a later protocol version: ignore it.
    #[serde(other)]
    Unknown,
}

/// A handle of the logged-in account, with the state of its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleInfo {
    pub address: Address,
    /// The last sequence of the handle's stream.
    pub head: u64,
    /// The highest sequence any connection of the account acknowledged.
    pub acked: u64,
    pub profile: Profile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl ServerFrame {
    /// The request id this frame answers, or `None` for pushes (and for errors about unreadable frames).
    pub fn answer_id(&self) -> Option<RequestId> {
        match self {
            Self::Ok { id }
            | Self::Session { id, .. }
            | Self::Sessions { id, .. }
            | Self::Stored { id, .. }
            | Self::Batch { id, .. }
            | Self::History { id, .. }
            | Self::Topic { id, .. }
            | Self::Topics { id, .. }
            | Self::Published { id, .. } => Some(*id),
            Self::Error { id, .. }
            | Self::Friends { id, .. }
            | Self::Handles { id, .. }
            | Self::Room { id, .. }
            | Self::Rooms { id, .. }
            | Self::HuddleSettings { id, .. } => *id,
            Self::Hello { .. }
            | Self::Presence { .. }
            | Self::Profile { .. }
            | Self::Deliver { .. }
            | Self::Bye { .. }
            | Self::RoomGone { .. }
            | Self::Typing { .. }
            | Self::Unknown => None,
        }
    }

    /// Shorthand for an error answer with the code's standard sentence.
    pub fn error(id: Option<RequestId>, code: ErrorCode) -> Self {
        Self::Error { id, code, message: code.sentence().to_owned(), retry_after_ms: None }
    }

    /// An error answer with a sentence specific to the case.
    pub fn error_with(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error { id, code, message: message.into(), retry_after_ms: None }
    }
}
