//! What a relay says about itself in `hello`, and the sessions of an account.

use serde::{Deserialize, Serialize};

use crate::{Millis, SessionId};

/// Who may register on a relay. Closed within a major version (it is also the relay's configuration value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationPolicy {
    #[default]
    Open,
    /// Registration needs an invite code made by the relay's admin.
    Invite,
    Closed,
}

/// Limits a relay announces in its `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_body_bytes: usize,
    pub max_handles: usize,
    pub max_sync_page: u32,
    pub max_history_page: u32,
    /// Frames per second a connection may send on average (bursts up to `frame_burst`).
    pub frames_per_second: u32,
    pub frame_burst: u32,
}

/// A session (a login) of the account, as listed by `list_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub session: SessionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Millis,
    /// This is the session of the connection asking.
    pub current: bool,
}
