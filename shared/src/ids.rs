//! Typed ids: rooms, messages and sessions. Each is its own type so that a message id can never be passed where a
//! room id belongs.
//!
//! A [`RoomId`] names the relay that owns the room the way an address names the relay of its handle
//! (`0195e3c2-…@chat.example.org`), so that rooms stay unambiguous when relays federate and stored ids never need
//! migrating. [`MessageId`] and [`SessionId`] are opaque strings the relay makes; clients compare and echo them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::RelayName;

/// Why a room id could not be parsed. The `Display` text is written for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomIdError {
    #[error("a room id is written local@relay (got {0:?})")]
    Shape(String),
    #[error("the part of a room id before '@' is 1 to 64 characters of a-z, 0-9, '.', '_' and '-' (got {0:?})")]
    Local(String),
    #[error("{0}")]
    Relay(#[from] crate::AddressError),
}

/// A room: a direct conversation, a group or (later) a huddle. `local@relay`, compared case-insensitively (stored and
/// written in lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId {
    /// The whole text, `local@relay`, lowercase.
    text: String,
    /// Where the `@` is in `text`.
    at: usize,
}

impl RoomId {
    /// Longest local part.
    pub const MAX_LOCAL: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, RoomIdError> {
        let (local, relay) = raw.split_once('@').ok_or_else(|| RoomIdError::Shape(raw.to_owned()))?;
        let relay = RelayName::parse(relay)?;
        Self::new(local, &relay)
    }

    /// A room id with this local part on `relay`.
    pub fn new(local: &str, relay: &RelayName) -> Result<Self, RoomIdError> {
        let local = local.to_ascii_lowercase();
        let valid = !local.is_empty()
            && local.len() <= Self::MAX_LOCAL
            && local.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(RoomIdError::Local(local));
        }
        Ok(Self { at: local.len(), text: format!("{local}@{relay}") })
    }

    /// The part before `@`, unique on its relay.
    pub fn local(&self) -> &str {
        &self.text[..self.at]
    }

    /// The relay that owns the room.
    pub fn relay(&self) -> &str {
        &self.text[self.at + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for RoomId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for RoomId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for RoomId {
    type Err = RoomIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: impl Into<String>) -> Self {
                Self(text.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(text)
            }
        }
    };
}

opaque_id! {
    /// A message, as the relay named it (a UUIDv7, unique across the relay and never reused). Opaque: any string is
    /// accepted where a client names a message, and one that names no message is treated as such.
    MessageId
}

opaque_id! {
    /// A session (a login) of an account: public, shown by `list_sessions`, named by `revoke_session`. Not a secret.
    SessionId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_name_their_relay_and_fold_case() {
        let id = RoomId::parse("0195E3C2-7D8E@Chat.Example.org").unwrap();
        assert_eq!(id.as_str(), "0195e3c2-7d8e@chat.example.org");
        assert_eq!((id.local(), id.relay()), ("0195e3c2-7d8e", "chat.example.org"));
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0195e3c2-7d8e@chat.example.org\"");
        assert_eq!(serde_json::from_str::<RoomId>("\"dm.0a1b@localhost\"").unwrap().local(), "dm.0a1b");
        for bad in ["no-at", "@localhost", "a b@localhost", "x@", "x@bad relay", &format!("{}@r", "a".repeat(65))] {
            assert!(RoomId::parse(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<RoomId>("\"plain\"").unwrap_err();
        assert!(err.to_string().contains("local@relay"), "{err}");
    }

    #[test]
    fn opaque_ids_are_plain_strings_on_the_wire() {
        let id = MessageId::new("019b76db-4828-7d8e-9022-21b1048087b9");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"019b76db-4828-7d8e-9022-21b1048087b9\"");
        assert_eq!(serde_json::from_str::<SessionId>("\"8S3aCxPBRpvDZEwB\"").unwrap().as_str(), "8S3aCxPBRpvDZEwB");
    }
}
