//! Handles and addresses.
//!
//! A *handle* is an identity's name on one relay: 2–32 characters of `a-z 0-9 . _ -`, compared case-insensitively
//! (input is folded to lowercase, so `Alice` and `alice` are the same handle). An *address* names a handle anywhere:
//! `handle@relay-name`. Clients may write a local handle without the `@relay` part; relays always answer with full
//! addresses, so that stored data never needs migrating when relays federate.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a handle, relay name or address could not be parsed. The `Display` text is written for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("a handle must be 2 to 32 characters long (got {0})")]
    HandleLength(usize),
    #[error("a handle may only contain a-z, 0-9, '.', '_' and '-' (found {0:?})")]
    HandleChar(char),
    #[error("a relay name must be 1 to 253 characters of a-z, 0-9, '.', '-' and ':' (got {0:?})")]
    RelayName(String),
    #[error("an address has at most one '@' (got {0:?})")]
    TooManyAt(String),
}

/// A validated, lowercase handle such as `alice`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

impl Handle {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 32;

    /// Validates `raw` and folds it to lowercase.
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(AddressError::HandleLength(len));
        }
        let folded = raw.to_ascii_lowercase();
        if let Some(bad) =
            folded.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
        {
            return Err(AddressError::HandleChar(bad));
        }
        Ok(Self(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A relay's configured name, the part after `@`. Usually a DNS name (`chat.example.org`), or `localhost`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayName(String);

impl RelayName {
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let folded = raw.to_ascii_lowercase();
        let ok = !folded.is_empty()
            && folded.len() <= 253
            && folded.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | ':'));
        if ok { Ok(Self(folded)) } else { Err(AddressError::RelayName(raw.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RelayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `handle@relay`, or just `handle` as written by a client for a handle on the relay it is connected to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub handle: Handle,
    /// `None` only for addresses parsed from client input that omitted the relay part.
    pub relay: Option<RelayName>,
}

impl Address {
    pub fn new(handle: Handle, relay: RelayName) -> Self {
        Self { handle, relay: Some(relay) }
    }

    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let mut parts = raw.split('@');
        let handle = Handle::parse(parts.next().unwrap_or_default())?;
        let relay = parts.next().map(RelayName::parse).transpose()?;
        if parts.next().is_some() {
            return Err(AddressError::TooManyAt(raw.to_owned()));
        }
        Ok(Self { handle, relay })
    }

    /// Fills in `local` when the relay part was omitted.
    pub fn resolve(self, local: &RelayName) -> Self {
        Self { relay: Some(self.relay.unwrap_or_else(|| local.clone())), handle: self.handle }
    }

    /// True when this address names a handle of the relay called `local` (or omits the relay part).
    pub fn is_local_to(&self, local: &RelayName) -> bool {
        self.relay.as_ref().is_none_or(|r| r == local)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.relay {
            Some(relay) => write!(f, "{}@{}", self.handle, relay),
            None => write!(f, "{}", self.handle),
        }
    }
}

macro_rules! string_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = std::borrow::Cow::<'de, str>::deserialize(d)?;
                <$ty>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = AddressError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::parse(s)
            }
        }
    };
}

string_serde!(Handle);
string_serde!(RelayName);
string_serde!(Address);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_fold_case_and_reject_bad_input() {
        assert_eq!(Handle::parse("Alice_1").map(|h| h.0), Ok("alice_1".to_owned()));
        assert_eq!(Handle::parse("a"), Err(AddressError::HandleLength(1)));
        assert_eq!(Handle::parse(&"x".repeat(33)), Err(AddressError::HandleLength(33)));
        assert_eq!(Handle::parse("bob smith"), Err(AddressError::HandleChar(' ')));
        assert_eq!(Handle::parse("bøb"), Err(AddressError::HandleChar('ø')));
        assert!(Handle::parse("a.b-c_d").is_ok());
    }

    #[test]
    fn addresses_parse_with_and_without_relay() {
        let local = RelayName::parse("home.example").unwrap();
        let bare = Address::parse("Bob").unwrap();
        assert_eq!(bare.to_string(), "bob");
        assert!(bare.is_local_to(&local));
        assert_eq!(bare.resolve(&local).to_string(), "bob@home.example");
        let remote = Address::parse("bob@Other.example").unwrap();
        assert!(!remote.is_local_to(&local));
        assert_eq!(remote.to_string(), "bob@other.example");
        assert!(Address::parse("a@b@c").is_err());
        assert!(Address::parse("bob@").is_err());
    }

    #[test]
    fn serde_round_trip_and_rejects_invalid() {
        let a: Address = serde_json::from_str("\"carol@r.example\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"carol@r.example\"");
        let err = serde_json::from_str::<Handle>("\"no spaces\"").unwrap_err();
        assert!(err.to_string().contains("may only contain"));
    }
}
