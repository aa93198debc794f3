//! What the relay does, as operations on the [`World`](super::world::World) alone: they take no connection and no
//! request id, validate what they must, change state through storage mutations, and record what happened as facts.
//! Request handlers (`core/requests`) call them on behalf of a client; the relay itself and, later, a peer relay call
//! them the same way.
//!
//! - [`lists`]: friend requests and their answers, the mutual-deletion protocol, entries, blocks.
//! - [`accounts`]: accounts, sessions, handles and what a handle says about itself (profile, activity, setting).
//! - [`rooms`]: rooms of every kind: create, invite, answer, leave, remove, rename, end; direct rooms.
//! - [`messages`]: posting to a room (one path for every kind), streams, acknowledgements, history.
//! - [`receipts`]: delivery and read receipts.
//! - [`typing`]: typing indicators and the table that rate-limits them, with its deadlines.
//! - [`topics`]: topics, subscriptions and publishing an issue.
//! - [`huddles`]: forming and ending huddles, presence huddles, huddle settings; [`huddle_timers`]: their deadlines.
//! - [`schedules`]: topic schedules (cron or a one-off time, in a time zone); [`windows`]: activity and place
//!   reports that form a huddle when their window closes; [`feeds`]: a topic's feed, polled by the shell.

pub mod accounts;
pub mod feeds;
pub mod huddle_timers;
pub mod huddles;
pub mod lists;
pub mod messages;
pub mod receipts;
pub mod rooms;
pub mod schedules;
pub mod topics;
pub mod typing;
pub mod windows;

use huddle_shared::{Address, ErrorCode};

use super::fail::{Fail, refuse_with};

/// The one answer for a handle that does not exist, blocked the asker, or is not related to it: nobody can probe who
/// exists through it.
pub fn unreachable(address: &Address) -> Fail {
    refuse_with(ErrorCode::NotReachable, format!("{address} cannot be reached from your handle."))
}

/// An address on another relay, which this relay cannot reach yet.
pub fn federation_unavailable(address: &Address) -> Fail {
    refuse_with(
        ErrorCode::FederationUnavailable,
        format!("{address} is on another relay, and this relay cannot reach other relays yet."),
    )
}

/// Empty (or only whitespace) means "clear"; anything else is kept trimmed.
pub fn cleared(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() { None } else { Some(trimmed.to_owned()) }
}
