//! Stable error codes. Clients branch on the code; the sentence beside it is for people and may change.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, $sentence:literal; )*) => {
        /// A machine-readable reason, serialized as the snake_case string shown in `docs/protocol.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            /// A code of a later protocol version (clients only: a relay never sends it). Show the error's message.
            #[serde(other)]
            Unknown,
        }

        impl ErrorCode {
            /// Every code a relay sends, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* ErrorCode::Unknown => "unknown" }
            }

            /// The standard sentence for this code.
            pub fn sentence(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $sentence, )*
                    ErrorCode::Unknown => "The relay refused that for a reason this client does not know.",
                }
            }
        }
    };
}

error_codes! {
    /// The frame is not valid JSON or lacks/mistypes a field.
    BadFrame => "bad_frame", "That frame could not be read.";
    /// The `type` is not one this relay knows.
    UnknownType => "unknown_type", "This relay does not know that kind of frame.";
    /// The frame is larger than `max_frame_bytes`; the connection is closed.
    FrameTooLarge => "frame_too_large", "That frame is too large.";
    /// The client and the relay have no protocol version in common.
    VersionMismatch => "version_mismatch", "This relay speaks a different protocol version; update your client.";
    /// The first frame must be `hello`.
    HelloRequired => "hello_required", "Say hello first.";
    /// The frame needs a logged-in connection.
    NotAuthenticated => "not_authenticated", "Log in first.";
    /// `register`/`login` on a connection that is already logged in.
    AlreadyAuthenticated => "already_authenticated", "You are already logged in on this connection.";
    /// The handle is taken (by anyone, case-insensitively).
    HandleTaken => "handle_taken", "That handle is taken; pick another.";
    /// The relay does not accept new accounts.
    RegistrationClosed => "registration_closed", "This relay does not accept new accounts.";
    /// Registration needs a valid, unused invite code.
    InviteInvalid => "invite_invalid", "That invite code is not valid (it may be used up or revoked).";
    /// The password is shorter than 8 or longer than 1024 bytes.
    WeakPassword => "weak_password", "Passwords must be 8 to 1024 bytes long.";
    /// Wrong handle or password (never says which).
    BadCredentials => "bad_credentials", "Wrong handle or password.";
    /// The admin disabled this account.
    AccountDisabled => "account_disabled", "This account has been disabled by the relay's admin.";
    /// Too many attempts or frames; see `retry_after_ms`.
    RateLimited => "rate_limited", "Too many attempts; wait a moment and try again.";
    /// The session token is unknown or was revoked (logout, password change, admin).
    TokenInvalid => "token_invalid", "Your session has ended; log in again with your password.";
    /// `as` names a handle this connection does not act for, or is missing while it acts for several.
    NotYourHandle => "not_your_handle", "This connection does not act for that handle.";
    /// The account already has the maximum number of handles.
    HandleLimit => "handle_limit", "An account can have at most 4 handles.";
    /// The last handle of an account cannot be removed.
    LastHandle => "last_handle", "You cannot remove your only handle.";
    /// The addressee does not exist, blocked you, or is not related to you. Deliberately one code for all three.
    NotReachable => "not_reachable", "That handle cannot be reached from yours.";
    /// The address is on another relay and this relay does not federate yet.
    FederationUnavailable => "federation_unavailable", "This relay cannot reach other relays yet.";
    /// A friend request to oneself.
    SelfRequest => "self_request", "You cannot send a friend request to yourself.";
    /// The two are already on each other's lists as the request would make them.
    AlreadyFriends => "already_friends", "You are already friends.";
    /// A request between the two is already waiting.
    RequestPending => "request_pending", "A friend request is already waiting for an answer.";
    /// No such pending request.
    NoSuchRequest => "no_such_request", "There is no such friend request.";
    /// The address is not on your list.
    NotOnList => "not_on_list", "That handle is not on your friend list.";
    /// `notify_deletion` without an earlier deletion of that handle.
    NoDeletion => "no_deletion", "You have not deleted that handle.";
    /// `answer_deletion` without a pending deletion request from that handle.
    NoDeletionRequest => "no_deletion_request", "There is no deletion request from that handle.";
    /// The friend list (plus pending requests) is full.
    ListFull => "list_full", "Your friend list is full.";
    /// The message body is empty, too long, or contains control characters.
    BadBody => "bad_body", "Messages must be 1 to 8192 bytes of text without control characters (newline and tab are fine).";
    /// A text field (greeting, activity, nickname, ...) is too long or contains control characters.
    BadText => "bad_text", "That text is too long or contains control characters.";
    /// `client_msg_id` must be 1–64 bytes of printable ASCII.
    BadClientMsgId => "bad_client_msg_id", "The client message id must be 1 to 64 printable ASCII characters.";
    /// A cursor (`seq`, `before`, `after`) does not exist.
    BadCursor => "bad_cursor", "That position does not exist in the stream or history.";
    /// The `client_msg_id` was already used for a different message.
    DuplicateClientMsgId => "duplicate_client_msg_id", "That client message id was already used for another message.";
    /// The room does not exist, has ended, or this handle is not in it (deliberately one code for all three).
    NotInRoom => "not_in_room", "You are not in that room.";
    /// Only the room's owner may do that.
    NotOwner => "not_owner", "Only the room's owner can do that.";
    /// The invitee is already in the room or already invited.
    AlreadyInRoom => "already_in_room", "They are already in that room (or invited).";
    /// The room, or this handle's list of rooms, is full.
    RoomFull => "room_full", "That room is full.";
    /// There is no invitation to that room.
    NoSuchInvite => "no_such_invite", "There is no invitation to that room.";
    /// The topic does not exist.
    NoSuchTopic => "no_such_topic", "There is no such topic.";
    /// A topic with that id exists already.
    TopicTaken => "topic_taken", "A topic with that id exists already; pick another.";
    /// Only the topic's owner (and, for publishing, its publishers) may do that.
    NotPublisher => "not_publisher", "Only the topic's owner or its publishers can do that.";
    /// The session to revoke does not exist on this account.
    NoSuchSession => "no_such_session", "There is no such session on your account.";
    /// The relay is at its connection cap.
    ServerBusy => "server_busy", "The relay is full right now; try again in a minute.";
    /// Too many connections from one address (or IPv6 /64), not-yet-logged-in ones from one address, or logged-in
    /// ones of one account.
    TooManyConnections => "too_many_connections", "Too many connections from your address or account; close some and try again.";
    /// The connection did not log in within `login_timeout_secs` of connecting.
    LoginTimeout => "login_timeout", "You did not log in in time; connect again.";
    /// The account used up its daily allowance of stored message bytes; see `retry_after_ms`.
    QuotaExceeded => "quota_exceeded", "You have sent as much as this relay stores for one account in a day; try again later.";
    /// The relay's disk is nearly full: it stores nothing new until its admin makes room.
    StorageFull => "storage_full", "The relay is out of disk space and cannot store that right now; try again later.";
    /// The connection could not keep up with its outbound queue and is being closed; reconnect and `sync`.
    SlowConsumer => "slow_consumer", "Your connection fell behind; reconnect to catch up.";
    /// The session was revoked (log out elsewhere, password change, admin).
    SessionRevoked => "session_revoked", "This session was ended; log in again.";
    /// No pong to the relay's pings in time.
    PingTimeout => "ping_timeout", "The connection stopped answering.";
    /// The relay is shutting down; reconnect later.
    ShuttingDown => "shutting_down", "The relay is restarting; reconnect in a moment.";
    /// A fault on the relay (storage); the request was not carried out.
    Internal => "internal", "The relay had a problem and did not carry that out; try again.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(code.sentence().ends_with('.'), "{code} sentence should be a sentence");
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
    }

    #[test]
    fn a_code_of_a_later_version_reads_as_unknown() {
        assert_eq!(serde_json::from_str::<ErrorCode>("\"quota_refilled\"").unwrap(), ErrorCode::Unknown);
        assert!(!ErrorCode::ALL.contains(&ErrorCode::Unknown));
    }
}
