//! The codec against literal JSON: what reads, what is refused with which code and id, and what a client of an older
//! minor version makes of things it does not know.

use super::*;
use crate::client::{Ack, AnswerRequest, Hello, Read, SendMessage};
use crate::model::{
    Event, ItemBody, Message, MessageReceipts, Receipt, ReceiptState, RecipientReceipt, RequestAnswer, RoomChange,
    StreamItem,
};
use crate::{Address, Handle, MessageId, RoomId};

fn a(s: &str) -> Address {
    Address::parse(s).unwrap()
}

fn room(s: &str) -> RoomId {
    RoomId::parse(s).unwrap()
}

#[test]
fn decodes_literal_frames() {
    let f = decode_client(r#"{"type":"hello","max_version":"2.0","features":["typing"]}"#).unwrap();
    assert_eq!(
        f,
        ClientFrame::Hello(Hello {
            min_version: None,
            max_version: crate::ProtocolVersion::parse("2.0"),
            version: None,
            client: None,
            features: vec!["typing".into()],
        })
    );
    let f = decode_client(
        r#"{"type":"answer_request","id":7,"as":"bob","from":"alice@r.example","answer":"accept_mutual"}"#,
    )
    .unwrap();
    assert_eq!(
        f,
        ClientFrame::AnswerRequest(AnswerRequest {
            id: 7,
            acting: Some(Handle::parse("bob").unwrap()),
            from: a("alice@r.example"),
            answer: RequestAnswer::AcceptMutual,
        })
    );
    assert_eq!((f.id(), f.kind(), f.acting().map(Handle::as_str)), (Some(7), "answer_request", Some("bob")));
    let f = decode_client(r#"{"type":"ack","as":"bob","seq":12}"#).unwrap();
    assert_eq!(f, ClientFrame::Ack(Ack { id: None, acting: Some(Handle::parse("bob").unwrap()), seq: 12 }));
    assert_eq!(f.id(), None);
}

#[test]
fn a_protocol_1_hello_still_reads_so_that_it_can_be_told_to_update() {
    let f = decode_client(r#"{"type":"hello","version":1}"#).unwrap();
    assert!(matches!(f, ClientFrame::Hello(Hello { version: Some(1), max_version: None, .. })), "{f:?}");
}

#[test]
fn refuses_bad_frames_with_the_right_code_and_id() {
    let e = decode_client("{nope").unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, None));
    let e = decode_client("[1,2]").unwrap_err();
    assert_eq!((e.code(), e.to_string()), (ErrorCode::BadFrame, "not a JSON object: expected an object".to_owned()));
    let e = decode_client(r#"{"id":3}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(3)));
    let e = decode_client(r#"{"type":7,"id":3}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(3)));
    let e = decode_client(r#"{"type":"teleport","id":4}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::UnknownType, Some(4)));
    let e = decode_client(r#"{"type":"send","id":5,"to":"bob"}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(5)));
    assert!(e.to_string().contains("missing field"), "{e}");
    let e = decode_client(r#"{"type":"friend_request","id":6,"to":"No Spaces"}"#).unwrap_err();
    assert!(e.to_string().contains("may only contain"), "{e}");
    let e = decode_client(r#"{"type":"logout","id":6,"extra":true}"#).unwrap_err();
    assert_eq!(e.to_string(), "invalid \"logout\" frame: unknown field `extra`, expected `id`");
    let big =
        format!(r#"{{"type":"send","id":1,"to":"bob","client_msg_id":"x","body":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES));
    assert_eq!(decode_client(&big).unwrap_err().code(), ErrorCode::FrameTooLarge);
}

#[test]
fn a_key_given_twice_is_refused_with_the_frames_id() {
    let e =
        decode_client(r#"{"type":"send","id":5,"to":"bob","body":"a","body":"b","client_msg_id":"c"}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(5)));
    assert!(e.to_string().contains("duplicate field `body`"), "{e}");
    // A repeated `id` or `type` cannot say which one the answer should carry.
    let e = decode_client(r#"{"type":"logout","id":1,"id":2}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, None));
    for twice in [r#"{"type":"logout","type":"logout","id":1}"#, r#"{"type":"get_rooms","id":1,"type":"logout"}"#] {
        let e = decode_client(twice).unwrap_err();
        assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, None), "{twice}");
    }
}

#[test]
fn a_broken_string_elsewhere_keeps_the_frames_id() {
    // A lone surrogate is not a character: the body cannot be read, but the id can.
    let e = decode_client(r#"{"type":"send","id":9,"to":"bob","body":"\ud800","client_msg_id":"c"}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(9)));
    let e = decode_client(r#"{"type":"send","id":9,"to":5,"body":"hi","client_msg_id":"c"}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(9)));
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
fn a_valid_body_fits_a_frame_however_it_is_escaped() {
    // Every byte of a maximal body written as a \u escape: six bytes each.
    let body: String = "\\u0022".repeat(crate::limits::MAX_BODY_BYTES);
    let text = format!(
        r#"{{"type":"send","id":18446744073709551615,"as":"{}","room":"{}@{}","body":"{body}","client_msg_id":"{}","receipts":true}}"#,
        "h".repeat(32),
        "r".repeat(64),
        "x".repeat(253),
        "!".repeat(64),
    );
    let f = decode_client(&text).unwrap();
    assert!(matches!(&f, ClientFrame::Send(SendMessage { body, .. }) if body.len() == crate::limits::MAX_BODY_BYTES));
}

#[test]
fn receipts_are_asked_per_send_and_omitted_when_not() {
    let f = decode_client(r#"{"type":"send","id":3,"to":"alice","body":"hi","client_msg_id":"b-1"}"#).unwrap();
    assert!(matches!(f, ClientFrame::Send(SendMessage { receipts: false, .. })), "{f:?}");
    let text = r#"{"type":"send","id":3,"to":"alice@localhost","body":"hi","client_msg_id":"b-1","receipts":true}"#;
    let f = decode_client(text).unwrap();
    assert!(matches!(f, ClientFrame::Send(SendMessage { receipts: true, .. })), "{f:?}");
    assert_eq!(encode_client(&f), text);
    let text = r#"{"type":"send","id":5,"room":"g1@localhost","body":"hi","client_msg_id":"c-1","receipts":true}"#;
    let f = decode_client(text).unwrap();
    assert!(matches!(&f, ClientFrame::Send(SendMessage { room: Some(r), .. }) if r.local() == "g1"), "{f:?}");
    assert_eq!(encode_client(&f), text);
    let e =
        decode_client(r#"{"type":"send","id":3,"to":"a","body":"hi","client_msg_id":"b","receipts":1}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(3)));
}

#[test]
fn read_frames_have_an_optional_id() {
    let text = r#"{"type":"read","as":"alice","message_ids":["m1","m2"]}"#;
    let f = decode_client(text).unwrap();
    assert_eq!(
        f,
        ClientFrame::Read(Read {
            id: None,
            acting: Some(Handle::parse("alice").unwrap()),
            message_ids: vec![MessageId::new("m1"), MessageId::new("m2")]
        })
    );
    assert_eq!((f.id(), f.kind()), (None, "read"));
    assert_eq!(encode_client(&f), text);
    let f = decode_client(r#"{"type":"read","id":9,"message_ids":[]}"#).unwrap();
    assert_eq!(f.id(), Some(9));
    let e = decode_client(r#"{"type":"read","id":9}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(9)));
}

#[test]
fn limits_take_any_unsigned_integer() {
    let f = decode_client(r#"{"type":"sync","id":1,"after":0,"limit":18446744073709551615}"#).unwrap();
    assert!(matches!(f, ClientFrame::Sync(crate::client::Sync { limit: Some(u64::MAX), .. })), "{f:?}");
    let e = decode_client(r#"{"type":"sync","id":1,"after":0,"limit":-1}"#).unwrap_err();
    assert_eq!((e.code(), e.id()), (ErrorCode::BadFrame, Some(1)));
}

#[test]
fn receipt_items_stored_answers_and_history_receipts_have_their_documented_shape() {
    let direct = room("dm.3b1f0c@localhost");
    let item = StreamItem {
        seq: 3,
        at: 7,
        body: ItemBody::Receipt {
            receipt: Receipt {
                by: a("bob@localhost"),
                state: ReceiptState::Delivered,
                message_ids: vec![MessageId::new("m1")],
                room: direct.clone(),
            },
        },
    };
    let text = serde_json::to_string(&item).unwrap();
    assert_eq!(
        text,
        r#"{"seq":3,"at":7,"kind":"receipt","receipt":{"by":"bob@localhost","state":"delivered","message_ids":["m1"],"room":"dm.3b1f0c@localhost"}}"#
    );
    assert_eq!(serde_json::from_str::<StreamItem>(&text).unwrap(), item);

    let stored = ServerFrame::Stored {
        id: 1,
        room: direct.clone(),
        message_id: MessageId::new("m"),
        seq: 2,
        sent_at: 3,
        recipients: vec![],
    };
    assert_eq!(
        encode_server(&stored),
        r#"{"type":"stored","id":1,"room":"dm.3b1f0c@localhost","message_id":"m","seq":2,"sent_at":3}"#
    );
    let stored = ServerFrame::Stored {
        id: 1,
        room: direct.clone(),
        message_id: MessageId::new("m"),
        seq: 2,
        sent_at: 3,
        recipients: vec![a("bob@localhost")],
    };
    let text = encode_server(&stored);
    assert!(text.ends_with(r#""recipients":["bob@localhost"]}"#), "{text}");
    assert_eq!(decode_server(&text).unwrap(), stored);

    let message = Message {
        id: MessageId::new("m"),
        room: direct.clone(),
        from: a("alice@localhost"),
        to: Some(a("bob@localhost")),
        body: "hi".into(),
        sent_at: 3,
        client_msg_id: "a-1".into(),
        receipts: true,
    };
    let history = ServerFrame::History {
        id: 4,
        room: direct,
        messages: vec![message],
        more: false,
        receipts: vec![MessageReceipts {
            message_id: MessageId::new("m"),
            recipients: vec![RecipientReceipt { who: a("bob@localhost"), delivered_at: Some(5), read_at: None }],
        }],
    };
    let text = encode_server(&history);
    assert_eq!(
        text,
        r#"{"type":"history","id":4,"room":"dm.3b1f0c@localhost","messages":[{"id":"m","room":"dm.3b1f0c@localhost","from":"alice@localhost","to":"bob@localhost","body":"hi","sent_at":3,"client_msg_id":"a-1","receipts":true}],"more":false,"receipts":[{"message_id":"m","recipients":[{"who":"bob@localhost","delivered_at":5}]}]}"#
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

/// What a client of protocol 2.0 makes of what a later minor version may send: it reads the frame, sees the new part
/// as unknown, and carries on.
#[test]
fn kinds_of_a_later_version_read_as_unknown() {
    let frame = decode_server(r#"{"type":"huddle_started","as":"bob@localhost","huddle":{"topic":"rust"}}"#).unwrap();
    assert_eq!(frame, ServerFrame::Unknown);
    let item: StreamItem =
        serde_json::from_str(r#"{"seq":7,"at":1,"kind":"huddle","huddle":{"topic":"rust","ends_at":9}}"#).unwrap();
    assert_eq!((item.seq, item.body), (7, ItemBody::Unknown));
    let item: StreamItem =
        serde_json::from_str(r#"{"seq":8,"at":1,"kind":"event","event":{"event":"topic_issue","peer":"x@y"}}"#)
            .unwrap();
    assert_eq!(item.body, ItemBody::Event { event: Event::Unknown });
    let event: Event = serde_json::from_str(
        r#"{"event":"room","peer":"bob@localhost","room":"g@localhost","change":{"change":"paused","until":5}}"#,
    )
    .unwrap();
    assert!(matches!(event, Event::Room { change: RoomChange::Unknown, .. }), "{event:?}");
    let error = decode_server(r#"{"type":"error","id":3,"code":"quota_refilled","message":"Your quota is back."}"#);
    assert!(matches!(error, Ok(ServerFrame::Error { code: ErrorCode::Unknown, .. })), "{error:?}");
}

#[test]
fn null_for_an_optional_field_means_absent_for_every_kind_of_field() {
    let hello = decode_client(r#"{"type":"hello","max_version":"2.0","features":null,"client":null}"#).unwrap();
    assert_eq!(hello, decode_client(r#"{"type":"hello","max_version":"2.0"}"#).unwrap());
    let send = r#"{"type":"send","id":1,"as":null,"to":"bob","body":"x","client_msg_id":"c","receipts":null}"#;
    assert_eq!(
        decode_client(send).unwrap(),
        decode_client(r#"{"type":"send","id":1,"to":"bob","body":"x","client_msg_id":"c"}"#).unwrap()
    );
    let group = r#"{"type":"create_group","id":5,"members":["bob"],"title":null,"promoted":null}"#;
    assert_eq!(
        decode_client(group).unwrap(),
        decode_client(r#"{"type":"create_group","id":5,"members":["bob"]}"#).unwrap()
    );
}
