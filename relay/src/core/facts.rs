//! What happened, as the domain records it. The domain knows no connections; after each input the core's reaction step
//! (`reactions.rs`) turns these facts into frames for the connections concerned.

use huddle_shared::model::StreamItem;
use huddle_shared::{Address, Handle, RoomId};

#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// A new item in a local handle's stream (pushed as `deliver` to its live connections). `origin_has_it`: the
    /// connection whose request made it has it already (its own message, answered with `stored`).
    Appended { handle: Handle, item: StreamItem, origin_has_it: bool },
    /// A handle's friend list changed (a fresh `friends` frame to its connections).
    ListChanged(Handle),
    /// A handle's shown presence may have changed (pushed to its viewers if it did).
    PresenceMayHaveChanged(Handle),
    /// A handle set its profile (pushed to its viewers).
    ProfileChanged(Handle),
    /// A room's members, invitations, owner or title changed (a `room` frame to every member). `origin_has_it`: the
    /// requesting connection has it in its answer.
    RoomChanged { room: RoomId, origin_has_it: bool },
    /// `member` is no longer in `room` (`room_gone`).
    RoomGone { member: Address, room: RoomId },
    /// `from` is typing in `room`; `to` may be told.
    Typing { from: Address, room: RoomId, to: Vec<Address> },
    /// An account's handles changed (added or removed): its connections get the new list (`handles`), but the one whose
    /// request it was, which has it in its answer.
    HandlesChanged { account: String },
    /// A handle's huddle settings changed (pushed to its connections but the one that asked, which has the answer).
    HuddleSettingsChanged(Handle),
}
