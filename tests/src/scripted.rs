//! Frames for scripted relays: bare WebSocket servers in tests that answer the client's `hello` and login as a relay
//! of this release would, then do what the test needs (misbehave, refuse a message, …).

use huddle_shared::model::{Limits, RegistrationPolicy};
use huddle_shared::server::HandleInfo;
use huddle_shared::{RelayName, ServerFrame, SessionId};

use crate::addr;

/// The `hello` a relay named `localhost` of this release answers with.
pub fn hello() -> ServerFrame {
    ServerFrame::Hello {
        version: huddle_shared::version::CURRENT,
        features: vec![huddle_shared::version::FEATURE_TYPING.to_owned()],
        relay: RelayName::parse("localhost").unwrap_or_else(|e| panic!("{e}")),
        registration: RegistrationPolicy::Open,
        limits: Limits {
            max_frame_bytes: huddle_shared::limits::MAX_FRAME_BYTES,
            max_body_bytes: huddle_shared::limits::MAX_BODY_BYTES,
            max_handles: huddle_shared::limits::MAX_HANDLES_PER_ACCOUNT,
            max_sync_page: huddle_shared::limits::MAX_SYNC_PAGE,
            max_history_page: huddle_shared::limits::MAX_HISTORY_PAGE,
            frames_per_second: 20,
            frame_burst: 60,
        },
    }
}

/// The answer to request `id` that logs the client in as `alice@localhost`, with an empty stream, and `token`.
pub fn session(id: u64, token: &str) -> ServerFrame {
    ServerFrame::Session {
        id,
        session: SessionId::new("0123456789abcdef0123456789abcdef"),
        token: Some(token.to_owned()),
        handles: vec![HandleInfo {
            address: addr("alice"),
            head: 0,
            acked: 0,
            profile: Default::default(),
            activity: None,
            location: None,
        }],
    }
}
