//! Presence and profiles.

use serde::{Deserialize, Serialize};

use crate::Millis;

/// Availability a connection sets. `invisible` is shown to everyone else as `offline`. Closed: a client sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    Online,
    Away,
    Busy,
    Invisible,
}

impl PresenceState {
    /// Rank for "most available": a handle with several connections shows the state of the highest rank.
    pub fn availability(self) -> u8 {
        match self {
            Self::Online => 3,
            Self::Away => 2,
            Self::Busy => 1,
            Self::Invisible => 0,
        }
    }
}

/// Presence as another handle sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownState {
    Online,
    Away,
    Busy,
    Offline,
    /// A state of a later protocol version; show it as available but unspecific.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub state: ShownState,
    /// Activity text, only while not offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// Coarse location the user opted to share, only while not offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// When the handle was last seen online (not reported while it is online, nor ever for a blocked viewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Millis>,
}

impl Presence {
    pub fn offline(last_seen: Option<Millis>) -> Self {
        Self { state: ShownState::Offline, activity: None, location: None, last_seen }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
}
