//! Records carried inside frames, one file per concept:
//!
//! - [`presence`]: availability, shown presence, profiles.
//! - [`lists`]: friend-list entries, requests, the mutual-deletion records.
//! - [`rooms`]: rooms (direct, group, huddle), their members, invitations and the lines of their logs.
//! - [`huddles`]: topics, issues, what formed a huddle and how it ends, huddle settings.
//! - [`messages`]: messages and their receipts.
//! - [`stream`]: a handle's stream: items and system events.
//! - [`relay`]: what a relay announces about itself, and sessions.
//!
//! Enums a client decodes from the relay and that a later minor version may extend carry an `Unknown` case
//! (`#[serde(other)]`): a client meets a newer relay's new kind of item, event or change as `Unknown` and skips it
//! instead of failing to read the frame around it. Enums a client also sends (answers, settings) are closed within a
//! major version.

pub mod huddles;
pub mod lists;
pub mod messages;
pub mod presence;
pub mod relay;
pub mod rooms;
pub mod stream;

pub use huddles::*;
pub use lists::*;
pub use messages::*;
pub use presence::*;
pub use relay::*;
pub use rooms::*;
pub use stream::*;

/// `serde(skip_serializing_if)` for booleans that default to `false`.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Reads an optional field whose absence means its default (`false`, an empty list): `null` means the same, as for
/// every optional field of a client frame.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
