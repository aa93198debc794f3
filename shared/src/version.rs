//! Protocol versions and features, and how a client and a relay agree on them in `hello`.
//!
//! A version is `MAJOR.MINOR`. Within a major version the protocol only grows: a minor version may add frames, optional
//! fields, cases of the open enums (stream item kinds, events, room changes, server frames, error codes...) and
//! features, never change or remove what exists. A client ignores what it does not know, so it keeps working with a
//! relay of a later minor version; a relay speaks its own minor version and the one before it
//! ([`SUPPORTED`]), so a relay upgrade never strands the clients of the previous release.
//!
//! A *feature* is an optional behaviour a client asks for by name in `hello`; the relay answers with the ones it will
//! use. Unknown names are ignored, so clients may ask for features of later versions.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `MAJOR.MINOR`, written as a string (`"2.0"`) on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion {
    pub major: u16,
    pub minor: u16,
}

impl ProtocolVersion {
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Reads `MAJOR.MINOR` (decimal digits only, e.g. `2.0`).
    pub fn parse(raw: &str) -> Option<Self> {
        let (major, minor) = raw.split_once('.')?;
        let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return None;
        }
        Some(Self { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom(format!("a protocol version is written MAJOR.MINOR, like \"2.0\" (got {raw:?})"))
        })
    }
}

/// A closed range of versions, `min ..= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRange {
    pub min: ProtocolVersion,
    pub max: ProtocolVersion,
}

impl VersionRange {
    pub fn contains(&self, v: ProtocolVersion) -> bool {
        self.min <= v && v <= self.max
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max { write!(f, "{}", self.min) } else { write!(f, "{} to {}", self.min, self.max) }
    }
}

/// The version this build speaks (and writes in its frames).
pub const CURRENT: ProtocolVersion = ProtocolVersion::new(2, 2);

/// What a relay of this build accepts: the current minor version and the previous one of the same major version
/// (none before 2.0, the first version of this shape).
pub const SUPPORTED: VersionRange = VersionRange { min: ProtocolVersion::new(2, 1), max: CURRENT };

/// `typing`: push `typing` frames to this connection. Without it the relay sends none (a client that shows no typing
/// indicators is spared the traffic).
pub const FEATURE_TYPING: &str = "typing";

/// Every feature a relay of this build can use.
pub const FEATURES: &[&str] = &[FEATURE_TYPING];

/// The highest version both sides speak, if any: the lower of the two maxima, if it is within both ranges.
pub fn negotiate(client: VersionRange, relay: VersionRange) -> Option<ProtocolVersion> {
    let best = client.max.min(relay.max);
    (client.contains(best) && relay.contains(best)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ProtocolVersion {
        ProtocolVersion::parse(s).unwrap()
    }

    fn range(min: &str, max: &str) -> VersionRange {
        VersionRange { min: v(min), max: v(max) }
    }

    #[test]
    fn versions_read_and_write_as_major_dot_minor() {
        assert_eq!(v("2.0"), ProtocolVersion::new(2, 0));
        assert_eq!(v("2.13").to_string(), "2.13");
        assert!(v("2.10") > v("2.9"), "minor versions compare as numbers, not text");
        for bad in ["2", "2.", ".1", "2.0.1", "two.0", "-1.0", "2.0 ", "123456.0"] {
            assert_eq!(ProtocolVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(serde_json::to_string(&v("2.0")).unwrap(), "\"2.0\"");
        assert!(serde_json::from_str::<ProtocolVersion>("2").is_err());
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        // Today's client and relay.
        assert_eq!(negotiate(SUPPORTED, SUPPORTED), Some(CURRENT));
        // A relay one minor version ahead still serves a client of the previous one, at the client's version...
        assert_eq!(negotiate(range("2.0", "2.0"), range("2.0", "2.1")), Some(v("2.0")));
        // ...and a newer client talks to an older relay at the relay's version.
        assert_eq!(negotiate(range("2.0", "2.3"), range("2.0", "2.1")), Some(v("2.1")));
        // A client that only speaks versions the relay dropped, or another major version, is refused.
        assert_eq!(negotiate(range("2.0", "2.0"), range("2.1", "2.2")), None);
        assert_eq!(negotiate(range("1.0", "1.9"), SUPPORTED), None);
        assert_eq!(negotiate(range("3.0", "3.0"), SUPPORTED), None);
    }
}
