//! Frames a client sends: one struct per frame (its fields are the frame's fields), gathered in [`ClientFrame`],
//! tagged by `type` in JSON. Every frame but `hello`, `ack`, `typing` and `read` carries an `id` that the relay's
//! answer echoes. Frames that act for a handle carry `as`; it may be omitted when the connection acts for exactly one
//! handle.
//!
//! Text fields that edit something (`activity`, `nickname`, ...) follow one rule: absent leaves the value as it is,
//! an empty string clears it.
//!
//! - [`account`]: hello, registration, logins, sessions, handles.
//! - [`lists`]: presence, profile, the friend list and the mutual-deletion protocol.
//! - [`messages`]: send, sync, ack, history, read, typing.
//! - [`rooms`]: groups: create, invite, answer, leave, remove, rename, list; the invitation setting.
//! - [`huddles`]: topics, subscriptions, publishing, huddle settings.

pub mod account;
pub mod huddles;
pub mod lists;
pub mod messages;
pub mod rooms;

pub use account::*;
pub use huddles::*;
pub use lists::*;
pub use messages::*;
pub use rooms::*;

use serde::{Deserialize, Serialize};

use crate::{Handle, RequestId};

/// What every client frame can say about itself.
pub trait Request {
    /// The request id, if the frame has one.
    fn request_id(&self) -> Option<RequestId>;
    /// The handle named by `as`, if the frame has that field and it was given.
    fn acting_handle(&self) -> Option<&Handle> {
        None
    }
}

macro_rules! request {
    ($ty:ident: none) => {
        impl Request for $ty {
            fn request_id(&self) -> Option<RequestId> {
                None
            }
        }
    };
    ($ty:ident: id) => {
        impl Request for $ty {
            fn request_id(&self) -> Option<RequestId> {
                Some(self.id)
            }
        }
    };
    ($ty:ident: id, acting) => {
        impl Request for $ty {
            fn request_id(&self) -> Option<RequestId> {
                Some(self.id)
            }
            fn acting_handle(&self) -> Option<&Handle> {
                self.acting.as_ref()
            }
        }
    };
    ($ty:ident: optional id, acting) => {
        impl Request for $ty {
            fn request_id(&self) -> Option<RequestId> {
                self.id
            }
            fn acting_handle(&self) -> Option<&Handle> {
                self.acting.as_ref()
            }
        }
    };
}

request!(Hello: none);
request!(Register: id);
request!(Login: id);
request!(LoginToken: id);
request!(Logout: id);
request!(ChangePassword: id);
request!(ListSessions: id);
request!(RevokeSession: id);
request!(AddHandle: id);
request!(RemoveHandle: id);
request!(SetPresence: id, acting);
request!(SetProfile: id, acting);
request!(FriendRequest: id, acting);
request!(CancelRequest: id, acting);
request!(AnswerRequest: id, acting);
request!(DeleteFriend: id, acting);
request!(NotifyDeletion: id, acting);
request!(AnswerDeletion: id, acting);
request!(SetEntry: id, acting);
request!(Block: id, acting);
request!(Unblock: id, acting);
request!(GetFriends: id, acting);
request!(SendMessage: id, acting);
request!(Sync: id, acting);
request!(Ack: optional id, acting);
request!(History: id, acting);
request!(Read: optional id, acting);
request!(Typing: optional id, acting);
request!(CreateGroup: id, acting);
request!(InviteToRoom: id, acting);
request!(AnswerRoomInvite: id, acting);
request!(LeaveRoom: id, acting);
request!(RemoveFromRoom: id, acting);
request!(RenameRoom: id, acting);
request!(SetInvitePolicy: id, acting);
request!(GetRooms: id, acting);
request!(CreateTopic: id, acting);
request!(UpdateTopic: id, acting);
request!(DeleteTopic: id, acting);
request!(GetTopics: id, acting);
request!(Subscribe: id, acting);
request!(Unsubscribe: id, acting);
request!(Publish: id, acting);
request!(SetHuddleSettings: id, acting);
request!(ReportActivity: id, acting);
request!(ReportPlace: id, acting);

macro_rules! client_frames {
    ($( $(#[$doc:meta])* $variant:ident($ty:ident) = $tag:literal, )*) => {
        /// Every frame a client may send.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum ClientFrame {
            $( $(#[$doc])* #[serde(rename = $tag)] $variant($ty), )*
        }

        impl ClientFrame {
            /// Every `type` tag a client may send, for telling "unknown type" apart from "malformed frame".
            pub const TYPES: &'static [&'static str] = &[ $( $tag, )* ];

            /// The frame's `type` tag.
            pub fn kind(&self) -> &'static str {
                match self { $( Self::$variant(_) => $tag, )* }
            }

            /// The request id, if the frame has one.
            pub fn id(&self) -> Option<RequestId> {
                match self { $( Self::$variant(f) => f.request_id(), )* }
            }

            /// The handle named by `as`, if any.
            pub fn acting(&self) -> Option<&Handle> {
                match self { $( Self::$variant(f) => f.acting_handle(), )* }
            }

            /// A `typing` or `read` without an `id`: fire and forget, never answered — not even to refuse it.
            pub fn is_unanswered(&self) -> bool {
                self.id().is_none() && matches!(self, Self::Typing(_) | Self::Read(_))
            }
        }

        $(
            impl From<$ty> for ClientFrame {
                fn from(frame: $ty) -> Self {
                    Self::$variant(frame)
                }
            }
        )*
    };
}

client_frames! {
    /// The first frame of a connection.
    Hello(Hello) = "hello",
    Register(Register) = "register",
    Login(Login) = "login",
    LoginToken(LoginToken) = "login_token",
    Logout(Logout) = "logout",
    ChangePassword(ChangePassword) = "change_password",
    ListSessions(ListSessions) = "list_sessions",
    RevokeSession(RevokeSession) = "revoke_session",
    AddHandle(AddHandle) = "add_handle",
    RemoveHandle(RemoveHandle) = "remove_handle",
    SetPresence(SetPresence) = "set_presence",
    SetProfile(SetProfile) = "set_profile",
    FriendRequest(FriendRequest) = "friend_request",
    CancelRequest(CancelRequest) = "cancel_request",
    AnswerRequest(AnswerRequest) = "answer_request",
    DeleteFriend(DeleteFriend) = "delete_friend",
    NotifyDeletion(NotifyDeletion) = "notify_deletion",
    AnswerDeletion(AnswerDeletion) = "answer_deletion",
    SetEntry(SetEntry) = "set_entry",
    Block(Block) = "block",
    Unblock(Unblock) = "unblock",
    GetFriends(GetFriends) = "get_friends",
    Send(SendMessage) = "send",
    Sync(Sync) = "sync",
    Ack(Ack) = "ack",
    History(History) = "history",
    Read(Read) = "read",
    Typing(Typing) = "typing",
    CreateGroup(CreateGroup) = "create_group",
    InviteToRoom(InviteToRoom) = "invite_to_room",
    AnswerRoomInvite(AnswerRoomInvite) = "answer_room_invite",
    LeaveRoom(LeaveRoom) = "leave_room",
    RemoveFromRoom(RemoveFromRoom) = "remove_from_room",
    RenameRoom(RenameRoom) = "rename_room",
    SetInvitePolicy(SetInvitePolicy) = "set_invite_policy",
    GetRooms(GetRooms) = "get_rooms",
    CreateTopic(CreateTopic) = "create_topic",
    UpdateTopic(UpdateTopic) = "update_topic",
    DeleteTopic(DeleteTopic) = "delete_topic",
    GetTopics(GetTopics) = "get_topics",
    Subscribe(Subscribe) = "subscribe",
    Unsubscribe(Unsubscribe) = "unsubscribe",
    Publish(Publish) = "publish",
    SetHuddleSettings(SetHuddleSettings) = "set_huddle_settings",
    ReportActivity(ReportActivity) = "report_activity",
    ReportPlace(ReportPlace) = "report_place",
}
