//! Frames about the connection and the account: hello, registration, logins, sessions, handles.

use serde::{Deserialize, Serialize};

use crate::model::PresenceState;
use crate::{Handle, ProtocolVersion, RequestId, SessionId};

/// The first frame of a connection: which protocol versions and features the client speaks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The oldest version the client speaks; absent: only `max_version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<ProtocolVersion>,
    /// The newest version the client speaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<ProtocolVersion>,
    /// How protocol 1 said hello (`{"type":"hello","version":1}`): read only to tell such a client, in words, that
    /// it needs an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The client's name and version, for the relay's log ("huddle 0.2.0").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Optional behaviours the client asks for (see `version::FEATURES`); unknown names are ignored.
    #[serde(default, deserialize_with = "crate::model::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

impl Hello {
    /// The hello of a client of this build: every version it speaks (`version::SUPPORTED`), and `features`.
    pub fn current(client: Option<String>, features: &[&str]) -> Self {
        Self {
            min_version: Some(crate::version::SUPPORTED.min),
            max_version: Some(crate::version::SUPPORTED.max),
            version: None,
            client,
            features: features.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

/// Creates an account with its first handle and logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub id: RequestId,
    pub handle: Handle,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// Logs in with any handle of the account and its password; answered by `session` with a new token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub id: RequestId,
    pub handle: Handle,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceState>,
}

/// Logs in with a session token from an earlier `session` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginToken {
    pub id: RequestId,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceState>,
}

/// Revokes this connection's session; the connection goes back to unauthenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logout {
    pub id: RequestId,
}

/// Changes the password; every other session of the account is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub id: RequestId,
    pub old_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSessions {
    pub id: RequestId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeSession {
    pub id: RequestId,
    pub session: SessionId,
}

/// Adds a handle (identity) to the account; the connection acts for it at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddHandle {
    pub id: RequestId,
    pub handle: Handle,
}

/// Removes a handle; it disappears from every friend list, with a notice to those friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveHandle {
    pub id: RequestId,
    pub handle: Handle,
}
