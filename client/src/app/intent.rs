//! What the person (or their settings) decided to do, as data: slash commands, forms, answered questions and
//! automatic promotion all produce an [`Intent`], and `perform.rs` is the one place that acts on it. A
//! confirmation carries the intent it confirms, complete with the handle it acts as, so answering a question later
//! — or from another handle — does exactly what was asked.

use huddle_shared::model::{Message, PresenceState, RequestAnswer};
use huddle_shared::{Address, Handle, RoomId, SessionId};

use super::ConvKey;

/// A password on its way to the relay: never shown by `Debug`, so no log or test output can print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// What follows a deletion the person confirmed: the steps of mutual deletion, chosen in one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDelete {
    /// Nothing: they are not told.
    Quietly,
    /// They are told they were deleted.
    Tell,
    /// They are told, and asked to delete us too.
    TellAndAsk,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    SendFriendRequest {
        acting: Handle,
        to: Address,
        greeting: Option<String>,
    },
    CancelRequest {
        acting: Handle,
        to: Address,
    },
    AnswerRequest {
        acting: Handle,
        from: Address,
        answer: RequestAnswer,
    },
    DeleteFriend {
        acting: Handle,
        friend: Address,
        then: AfterDelete,
    },
    NotifyDeletion {
        acting: Handle,
        friend: Address,
        ask: bool,
    },
    AnswerDeletion {
        acting: Handle,
        from: Address,
        confirm: bool,
    },
    Block {
        acting: Handle,
        target: Address,
    },
    Unblock {
        acting: Handle,
        target: Address,
    },
    SetEntry {
        acting: Handle,
        friend: Address,
        nickname: Option<String>,
        note: Option<String>,
    },
    SetPresence {
        acting: Handle,
        state: Option<PresenceState>,
        activity: Option<String>,
    },
    CreateGroup {
        acting: Handle,
        members: Vec<Address>,
        title: Option<String>,
    },
    /// Grow the exchange with `with` into a group with `newcomer` (reusing a group of exactly the three if there is
    /// one). `message`: the newcomer's message that started it, shown to us only.
    Promote {
        acting: Handle,
        with: Address,
        newcomer: Address,
        message: Option<Message>,
    },
    /// Invite `who` to `group`; `message`: theirs, that made us do it.
    AddToGroup {
        acting: Handle,
        group: RoomId,
        who: Address,
        message: Option<Message>,
    },
    AnswerInvite {
        acting: Handle,
        room: RoomId,
        accept: bool,
    },
    LeaveRoom {
        acting: Handle,
        room: RoomId,
    },
    SetProfile {
        acting: Handle,
        display_name: String,
        bio: String,
    },
    ChangePassword {
        old: Secret,
        new: Secret,
    },
    RevokeSession {
        session: SessionId,
    },
    /// Subscribe to a topic (the consent to be put in its huddles), or leave it.
    Subscribe {
        acting: Handle,
        topic: huddle_shared::model::TopicId,
        subscribe: bool,
    },
    /// Publish an issue of a topic we own or publish to.
    Publish {
        acting: Handle,
        topic: huddle_shared::model::TopicId,
        title: String,
        body: Option<String>,
    },
    /// Send a message (ours, written for this conversation).
    Send {
        acting: Handle,
        key: ConvKey,
        body: String,
        receipts: bool,
    },
    Quit,
}
