//! Text ⇄ frame. Decoding reports *why* a frame was refused and keeps the request id when it could be read, so the
//! relay can answer the right request with the right code.

use crate::limits::MAX_FRAME_BYTES;
use crate::{ClientFrame, ErrorCode, RequestId, ServerFrame};

/// Why a client frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {0} bytes is larger than the limit of {MAX_FRAME_BYTES}")]
    TooLarge(usize),
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("frame has no \"type\" field")]
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

/// Reads one client frame from the text of a WebSocket message.
pub fn decode_client(text: &str) -> Result<ClientFrame, DecodeError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(text.len()));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let object = value.as_object().ok_or_else(|| DecodeError::NotJson("expected an object".to_owned()))?;
    let id = object.get("id").and_then(serde_json::Value::as_u64);
    let kind = match object.get("type").and_then(serde_json::Value::as_str) {
        Some(kind) => kind.to_owned(),
        None => return Err(DecodeError::MissingType { id }),
    };
    if !ClientFrame::TYPES.contains(&kind.as_str()) {
        return Err(DecodeError::UnknownType { id, kind });
    }
    serde_json::from_value(value).map_err(|e| DecodeError::Invalid { id, kind, reason: e.to_string() })
}

/// Writes a client frame (used by clients and tests).
pub fn encode_client(frame: &ClientFrame) -> String {
    // Serializing these plain data types cannot fail: no maps with non-string keys, no failing Serialize impls.
    serde_json::to_string(frame).unwrap_or_default()
}

/// Reads one server frame (used by clients and tests).
pub fn decode_server(text: &str) -> Result<ServerFrame, serde_json::Error> {
    serde_json::from_str(text)
}

/// Writes a server frame.
pub fn encode_server(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RequestAnswer;
    use crate::{Address, Handle};

    #[test]
    fn decodes_literal_frames() {
        let f = decode_client(r#"{"type":"hello","version":1}"#).unwrap();
        assert_eq!(f, ClientFrame::Hello { version: 1, client: None });
        let f = decode_client(
            r#"{"type":"answer_request","id":7,"as":"bob","from":"alice@r.example","answer":"accept_mutual"}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            ClientFrame::AnswerRequest {
                id: 7,
                acting: Some(Handle::parse("bob").unwrap()),
                from: Address::parse("alice@r.example").unwrap(),
                answer: RequestAnswer::AcceptMutual,
            }
        );
        let f = decode_client(r#"{"type":"ack","as":"bob","seq":12}"#).unwrap();
        assert_eq!(f.id(), None);
    }

    #[test]
    fn refuses_bad_frames_with_the_right_code_and_id() {
        let e = decode_client("{nope").unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, None));
        let e = decode_client("[1,2]").unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadFrame);
        let e = decode_client(r#"{"id":3}"#).unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(3)));
        let e = decode_client(r#"{"type":"teleport","id":4}"#).unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::UnknownType, Some(4)));
        let e = decode_client(r#"{"type":"send","id":5,"to":"bob"}"#).unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(5)));
        assert!(e.to_string().contains("body") || e.to_string().contains("missing"), "{e}");
        let e = decode_client(r#"{"type":"friend_request","id":6,"to":"No Spaces"}"#).unwrap_err();
        assert!(e.to_string().contains("may only contain"), "{e}");
        let e = decode_client(r#"{"type":"logout","id":6,"extra":true}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadFrame);
        let big = format!(
            r#"{{"type":"send","id":1,"to":"bob","client_msg_id":"x","body":"{}"}}"#,
            "a".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(decode_client(&big).unwrap_err().code(), ErrorCode::FrameTooLarge);
    }

    #[test]
    fn every_type_tag_is_listed() {
        // A frame of each listed type with a wrong shape is "invalid", never "unknown".
        for kind in ClientFrame::TYPES {
            let e = decode_client(&format!(r#"{{"type":"{kind}","id":1,"bogus_field":0}}"#)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadFrame, "{kind}");
        }
    }

    #[test]
    fn receipts_are_asked_per_send_and_omitted_when_not() {
        let f = decode_client(r#"{"type":"send","id":3,"to":"alice","body":"hi","client_msg_id":"b-1"}"#).unwrap();
        assert!(matches!(f, ClientFrame::Send { receipts: false, .. }), "{f:?}");
        let text = r#"{"type":"send","id":3,"to":"alice@localhost","body":"hi","client_msg_id":"b-1","receipts":true}"#;
        let f = decode_client(text).unwrap();
        assert!(matches!(f, ClientFrame::Send { receipts: true, .. }), "{f:?}");
        assert_eq!(encode_client(&f), text);
        let text = r#"{"type":"send_group","id":5,"group":"g","body":"hi","client_msg_id":"c-1","receipts":true}"#;
        let f = decode_client(text).unwrap();
        assert!(matches!(f, ClientFrame::SendGroup { receipts: true, .. }), "{f:?}");
        assert_eq!(encode_client(&f), text);
        let e = decode_client(r#"{"type":"send","id":3,"to":"a","body":"hi","client_msg_id":"b","receipts":1}"#)
            .unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(3)));
    }

    #[test]
    fn read_frames_have_an_optional_id() {
        let text = r#"{"type":"read","as":"alice","message_ids":["m1","m2"]}"#;
        let f = decode_client(text).unwrap();
        assert_eq!(
            f,
            ClientFrame::Read {
                id: None,
                acting: Some(Handle::parse("alice").unwrap()),
                message_ids: vec!["m1".into(), "m2".into()]
            }
        );
        assert_eq!((f.id(), f.kind()), (None, "read"));
        assert_eq!(encode_client(&f), text);
        let f = decode_client(r#"{"type":"read","id":9,"message_ids":[]}"#).unwrap();
        assert_eq!(f.id(), Some(9));
        let e = decode_client(r#"{"type":"read","id":9}"#).unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(9)));
    }

    #[test]
    fn receipt_items_stored_answers_and_history_receipts_have_their_documented_shape() {
        use crate::model::{ItemBody, Message, MessageReceipts, Receipt, ReceiptState, RecipientReceipt, StreamItem};
        let a = |s: &str| Address::parse(s).unwrap();
        let item = StreamItem {
            seq: 3,
            at: 7,
            body: ItemBody::Receipt {
                receipt: Receipt {
                    by: a("bob@localhost"),
                    state: ReceiptState::Delivered,
                    message_ids: vec!["m1".into()],
                    group: None,
                },
            },
        };
        let text = serde_json::to_string(&item).unwrap();
        assert_eq!(
            text,
            r#"{"seq":3,"at":7,"kind":"receipt","receipt":{"by":"bob@localhost","state":"delivered","message_ids":["m1"]}}"#
        );
        assert_eq!(serde_json::from_str::<StreamItem>(&text).unwrap(), item);
        let group =
            Receipt { by: a("bob@localhost"), state: ReceiptState::Read, message_ids: vec![], group: Some("g".into()) };
        assert_eq!(
            serde_json::to_string(&group).unwrap(),
            r#"{"by":"bob@localhost","state":"read","message_ids":[],"group":"g"}"#
        );

        let stored = ServerFrame::Stored { id: 1, message_id: "m".into(), seq: 2, sent_at: 3, recipients: vec![] };
        assert_eq!(encode_server(&stored), r#"{"type":"stored","id":1,"message_id":"m","seq":2,"sent_at":3}"#);
        let stored = ServerFrame::Stored {
            id: 1,
            message_id: "m".into(),
            seq: 2,
            sent_at: 3,
            recipients: vec![a("bob@localhost")],
        };
        let text = encode_server(&stored);
        assert_eq!(
            text,
            r#"{"type":"stored","id":1,"message_id":"m","seq":2,"sent_at":3,"recipients":["bob@localhost"]}"#
        );
        assert_eq!(decode_server(&text).unwrap(), stored);

        let message = Message {
            id: "m".into(),
            from: a("alice@localhost"),
            to: a("bob@localhost"),
            body: "hi".into(),
            sent_at: 3,
            client_msg_id: "a-1".into(),
            receipts: true,
        };
        let history = ServerFrame::History {
            id: 4,
            with: a("bob@localhost"),
            messages: vec![message],
            more: false,
            receipts: vec![MessageReceipts {
                message_id: "m".into(),
                recipients: vec![RecipientReceipt { who: a("bob@localhost"), delivered_at: Some(5), read_at: None }],
            }],
        };
        let text = encode_server(&history);
        assert_eq!(
            text,
            r#"{"type":"history","id":4,"with":"bob@localhost","messages":[{"id":"m","from":"alice@localhost","to":"bob@localhost","body":"hi","sent_at":3,"client_msg_id":"a-1","receipts":true}],"more":false,"receipts":[{"message_id":"m","recipients":[{"who":"bob@localhost","delivered_at":5}]}]}"#
        );
        assert_eq!(decode_server(&text).unwrap(), history);
    }

    #[test]
    fn server_frames_round_trip() {
        let f = ServerFrame::error(Some(9), ErrorCode::NotReachable);
        let text = encode_server(&f);
        assert!(text.contains(r#""code":"not_reachable""#), "{text}");
        assert_eq!(decode_server(&text).unwrap(), f);
    }
}
