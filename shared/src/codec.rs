//! Text ⇄ frame. Decoding reports *why* a frame was refused and keeps the request id when it could be read, so the
//! relay can answer the right request with the right code.
//!
//! A client frame is read straight from the text, strictly: unknown fields, missing ones and repeated keys are refused
//! (a JSON object with a key twice is ambiguous, and readers disagree on which one counts). Only a refused frame is
//! read a second time, by a light pass that reads `type` and `id` and skips every other value without decoding it, so
//! that the answer names the frame's id even when another value is broken (a lone surrogate escape, a mistyped
//! field), and says whether the type was unknown or the frame malformed.

use serde::Deserialize;

use crate::limits::MAX_FRAME_BYTES;
use crate::{ClientFrame, ErrorCode, RequestId, ServerFrame};

/// Why a client frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {0} bytes is larger than the limit of {MAX_FRAME_BYTES}")]
    TooLarge(usize),
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("frame has no \"type\" field with a string")]
    MissingType { id: Option<RequestId> },
    #[error("unknown frame type {kind:?}")]
    UnknownType { id: Option<RequestId>, kind: String },
    #[error("invalid {kind:?} frame: {reason}")]
    Invalid { id: Option<RequestId>, kind: String, reason: String },
}

impl DecodeError {
    /// The request id read from the frame, if any.
    pub fn id(&self) -> Option<RequestId> {
        match self {
            Self::TooLarge(_) | Self::NotJson(_) => None,
            Self::MissingType { id } | Self::UnknownType { id, .. } | Self::Invalid { id, .. } => *id,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge(_) => ErrorCode::FrameTooLarge,
            Self::UnknownType { .. } => ErrorCode::UnknownType,
            Self::NotJson(_) | Self::MissingType { .. } | Self::Invalid { .. } => ErrorCode::BadFrame,
        }
    }

    /// The `error` frame answering this failure.
    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::error_with(self.id(), self.code(), self.to_string())
    }
}

/// The first pass: `type` and `id` only; every other member is skipped unread.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "type", default)]
    kind: Option<serde_json::Value>,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

/// Reads one client frame from the text of a WebSocket message.
pub fn decode_client(text: &str) -> Result<ClientFrame, DecodeError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(text.len()));
    }
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) => DecodeError::NotJson(e.to_string()),
            Ok(_) => DecodeError::NotJson("expected an object".to_owned()),
        });
    }
    // The frame itself first: nearly every frame is valid, and then one pass is enough. Only a refused one is read
    // again, lightly, to answer it with its id and the right code.
    let strict = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => return Ok(frame),
        Err(e) => e,
    };
    let probe: Probe = serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let id = probe.id.as_ref().and_then(serde_json::Value::as_u64);
    let kind = match probe.kind {
        Some(serde_json::Value::String(kind)) => kind,
        _ => return Err(DecodeError::MissingType { id }),
    };
    if !ClientFrame::TYPES.contains(&kind.as_str()) {
        return Err(DecodeError::UnknownType { id, kind });
    }
    Err(DecodeError::Invalid { id, kind, reason: strict.to_string() })
}

/// Writes a client frame (used by clients and tests).
pub fn encode_client(frame: &ClientFrame) -> String {
    // Serializing these plain data types cannot fail: no maps with non-string keys, no failing Serialize impls.
    serde_json::to_string(frame).unwrap_or_default()
}

/// Reads one server frame (used by clients and tests). A frame of a later protocol version reads as
/// [`ServerFrame::Unknown`].
pub fn decode_server(text: &str) -> Result<ServerFrame, serde_json::Error> {
    serde_json::from_str(text)
}

/// Writes a server frame.
pub fn encode_server(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

#[cfg(test)]
mod tests;
