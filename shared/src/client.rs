//! Frames a client sends. Every frame but `hello`, `ack`, `typing` and `read` carries an `id` that the relay's
//! answer echoes. Frames that act for a handle carry `as`; it may be omitted when the connection acts for exactly one handle.
//!
//! Text fields that edit something (`activity`, `nickname`, ...) follow one rule: absent leaves the value as it is,
//! an empty string clears it.

use serde::{Deserialize, Serialize};

use crate::model::{DeletionAnswer, InvitePolicy, PresenceState, RequestAnswer};
use crate::{Address, Handle, RequestId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// The first frame of a connection.
    Hello {
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
    },
    /// Creates an account with its first handle and logs in.
    Register {
        id: RequestId,
        handle: Handle,
        password: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invite: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    /// Logs in with any handle of the account and its password; answered by `session` with a new token.
    Login {
        id: RequestId,
        handle: Handle,
        password: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presence: Option<PresenceState>,
    },
    /// Logs in with a session token from an earlier `session` answer.
    LoginToken {
        id: RequestId,
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presence: Option<PresenceState>,
    },
    /// Revokes this connection's session; the connection goes back to unauthenticated.
    Logout {
        id: RequestId,
    },
    /// Changes the password; every other session of the account is revoked.
    ChangePassword {
        id: RequestId,
        old_password: String,
        new_password: String,
    },
    ListSessions {
        id: RequestId,
    },
    RevokeSession {
        id: RequestId,
        session: String,
    },
    /// Adds a handle (identity) to the account; the connection acts for it at once.
    AddHandle {
        id: RequestId,
        handle: Handle,
    },
    /// Removes a handle; it disappears from every friend list, with a notice to those friends.
    RemoveHandle {
        id: RequestId,
        handle: Handle,
    },
    /// Sets this connection's availability for a handle and/or the handle's activity and location.
    SetPresence {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<PresenceState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        activity: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
    SetProfile {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bio: Option<String>,
    },
    /// Asks `to` to become a friend.
    FriendRequest {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        to: Address,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        greeting: Option<String>,
    },
    /// Withdraws a pending request this handle sent.
    CancelRequest {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        to: Address,
    },
    AnswerRequest {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        from: Address,
        answer: RequestAnswer,
    },
    /// Step 1 of mutual deletion: removes `friend` from this handle's list and withdraws this handle's consent.
    DeleteFriend {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        friend: Address,
    },
    /// Steps 2–3: tells `to` about an earlier deletion and, with `ask_delete`, asks them to delete this handle too.
    /// May be sent again after a refusal.
    NotifyDeletion {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        to: Address,
        ask_delete: bool,
    },
    /// Answers a deletion request from `from`.
    AnswerDeletion {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        from: Address,
        answer: DeletionAnswer,
    },
    /// Edits the private nickname and/or note of an entry on this handle's list.
    SetEntry {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        friend: Address,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nickname: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Block {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        target: Address,
    },
    Unblock {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        target: Address,
    },
    /// Asks for the handle's friend list again (it is also pushed at login and on every change).
    GetFriends {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
    },
    /// Sends a direct message. Resending with the same `client_msg_id` never duplicates it.
    Send {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        to: Address,
        body: String,
        client_msg_id: String,
        /// The sender asks for delivery and read receipts of this message.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        receipts: bool,
    },
    /// Asks for the stream items after `after`, up to the handle's head at login (`session.handles[].head`). Items
    /// after that head arrive as `deliver` pushes, so between the two every item reaches the connection exactly once;
    /// order them by `seq`.
    Sync {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        after: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Acknowledges every stream item up to and including `seq`. Answered with `ok` only when it carries an `id`;
    /// an invalid one is always answered with an error.
    Ack {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        seq: u64,
    },
    /// Pages through the messages exchanged with `with`, newest first from `before` (or the end), or oldest first
    /// from `after`.
    History {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        with: Address,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Makes a group of this handle and `members` (each invited under their invitation setting).
    CreateGroup {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        members: Vec<Address>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// The group continues a one-to-one conversation a third person joined (recorded in the `created` line).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        promoted: bool,
    },
    /// Invites `who` to a group this handle is in.
    InviteToGroup {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
        who: Address,
    },
    /// Answers an invitation that asked first.
    AnswerGroupInvite {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
        accept: bool,
    },
    LeaveGroup {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
    },
    /// The owner removes a member.
    RemoveFromGroup {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
        who: Address,
    },
    /// The owner renames the group; an empty title goes back to the members' names.
    RenameGroup {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
        title: String,
    },
    /// Sends a message to a group. Resending with the same `client_msg_id` never duplicates it.
    SendGroup {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
        body: String,
        client_msg_id: String,
        /// The sender asks for delivery and read receipts of this message.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        receipts: bool,
    },
    /// "This handle's client displayed these messages": the relay reports it to their senders where they asked for
    /// receipts. At most [`MAX_READ_IDS`](crate::limits::MAX_READ_IDS) ids; ids of messages this handle did not
    /// receive with receipts asked are ignored. No answer unless it has an `id` (then `ok`).
    Read {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        message_ids: Vec<String>,
    },
    /// Pages through a group's messages since this handle joined.
    GroupHistory {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        group: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Whether invitations join at once, ask, or are refused.
    SetInvitePolicy {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        policy: InvitePolicy,
    },
    /// "I am typing" to a friend (`to`) or a group (`group`): give exactly one. Ephemeral: never stored, at most
    /// one every 2 seconds per conversation is passed on (more are dropped quietly). No answer unless it has an
    /// `id` (then `ok`, or an error if the conversation cannot be reached).
    Typing {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Address>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
    },
    /// This handle's groups and pending invitations (also pushed at login).
    GetGroups {
        id: RequestId,
        #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
        acting: Option<Handle>,
    },
}

impl ClientFrame {
    /// Every `type` tag a client may send, for telling "unknown type" apart from "malformed frame".
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "register",
        "login",
        "login_token",
        "logout",
        "change_password",
        "list_sessions",
        "revoke_session",
        "add_handle",
        "remove_handle",
        "set_presence",
        "set_profile",
        "friend_request",
        "cancel_request",
        "answer_request",
        "delete_friend",
        "notify_deletion",
        "answer_deletion",
        "set_entry",
        "block",
        "unblock",
        "get_friends",
        "send",
        "sync",
        "ack",
        "history",
        "create_group",
        "invite_to_group",
        "answer_group_invite",
        "leave_group",
        "remove_from_group",
        "rename_group",
        "send_group",
        "group_history",
        "set_invite_policy",
        "get_groups",
        "typing",
        "read",
    ];

    /// The request id, if the frame has one.
    pub fn id(&self) -> Option<RequestId> {
        use ClientFrame::*;
        match self {
            Hello { .. } => None,
            Ack { id, .. } | Typing { id, .. } | Read { id, .. } => *id,
            Register { id, .. }
            | Login { id, .. }
            | LoginToken { id, .. }
            | Logout { id }
            | ChangePassword { id, .. }
            | ListSessions { id }
            | RevokeSession { id, .. }
            | AddHandle { id, .. }
            | RemoveHandle { id, .. }
            | SetPresence { id, .. }
            | SetProfile { id, .. }
            | FriendRequest { id, .. }
            | CancelRequest { id, .. }
            | AnswerRequest { id, .. }
            | DeleteFriend { id, .. }
            | NotifyDeletion { id, .. }
            | AnswerDeletion { id, .. }
            | SetEntry { id, .. }
            | Block { id, .. }
            | Unblock { id, .. }
            | GetFriends { id, .. }
            | Send { id, .. }
            | Sync { id, .. }
            | History { id, .. }
            | CreateGroup { id, .. }
            | InviteToGroup { id, .. }
            | AnswerGroupInvite { id, .. }
            | LeaveGroup { id, .. }
            | RemoveFromGroup { id, .. }
            | RenameGroup { id, .. }
            | SendGroup { id, .. }
            | GroupHistory { id, .. }
            | SetInvitePolicy { id, .. }
            | GetGroups { id, .. } => Some(*id),
        }
    }

    /// The frame's `type` tag.
    pub fn kind(&self) -> &'static str {
        use ClientFrame::*;
        match self {
            Hello { .. } => "hello",
            Register { .. } => "register",
            Login { .. } => "login",
            LoginToken { .. } => "login_token",
            Logout { .. } => "logout",
            ChangePassword { .. } => "change_password",
            ListSessions { .. } => "list_sessions",
            RevokeSession { .. } => "revoke_session",
            AddHandle { .. } => "add_handle",
            RemoveHandle { .. } => "remove_handle",
            SetPresence { .. } => "set_presence",
            SetProfile { .. } => "set_profile",
            FriendRequest { .. } => "friend_request",
            CancelRequest { .. } => "cancel_request",
            AnswerRequest { .. } => "answer_request",
            DeleteFriend { .. } => "delete_friend",
            NotifyDeletion { .. } => "notify_deletion",
            AnswerDeletion { .. } => "answer_deletion",
            SetEntry { .. } => "set_entry",
            Block { .. } => "block",
            Unblock { .. } => "unblock",
            GetFriends { .. } => "get_friends",
            Send { .. } => "send",
            Sync { .. } => "sync",
            Ack { .. } => "ack",
            History { .. } => "history",
            CreateGroup { .. } => "create_group",
            InviteToGroup { .. } => "invite_to_group",
            AnswerGroupInvite { .. } => "answer_group_invite",
            LeaveGroup { .. } => "leave_group",
            RemoveFromGroup { .. } => "remove_from_group",
            RenameGroup { .. } => "rename_group",
            SendGroup { .. } => "send_group",
            GroupHistory { .. } => "group_history",
            SetInvitePolicy { .. } => "set_invite_policy",
            GetGroups { .. } => "get_groups",
            Typing { .. } => "typing",
            Read { .. } => "read",
        }
    }
}
