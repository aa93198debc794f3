//! The wire itself: malformed and oversize input, the frame rate limit, graceful shutdown, TLS, and the config rule
//! that refuses plain text on a public address.

use std::time::Duration;

use huddle_relay::config::Config;
use huddle_shared::client::*;
use huddle_shared::limits::{MAX_BODY_BYTES, MAX_FRAME_BYTES};
use huddle_shared::model::{RegistrationPolicy, RequestAnswer};
use huddle_shared::version::{CURRENT, FEATURE_TYPING};
use huddle_shared::{ClientFrame, ErrorCode, ServerFrame};
use huddle_tests::{Client, SelfSigned, TestRelay, WAIT, addr, befriend};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn bad_frame_without_id(frame: &ServerFrame) -> bool {
    matches!(frame, ServerFrame::Error { id: None, code: ErrorCode::BadFrame, .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_answered_and_the_connection_keeps_working() {
    let relay = TestRelay::start().await;
    let mut c = relay.connect().await;

    c.send_text("{this is not json").await;
    let answer = c.expect_push(|f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(bad_frame_without_id(&answer), "{answer:?}");

    c.send_text("[1, 2, 3]").await;
    let answer = c.expect_push(|f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(bad_frame_without_id(&answer), "{answer:?}");

    // An unknown type keeps its id, and is told apart from a malformed known type.
    c.send_text(r#"{"type":"teleport","id":41}"#).await;
    match c.wait_answer(41).await {
        ServerFrame::Error { code: ErrorCode::UnknownType, message, .. } => assert!(message.contains("teleport")),
        other => panic!("{other:?}"),
    }
    c.send_text(r#"{"type":"send","id":42,"to":"bob"}"#).await;
    assert!(matches!(c.wait_answer(42).await, ServerFrame::Error { code: ErrorCode::BadFrame, id: Some(42), .. }));
    c.send_text(r#"{"type":"logout","id":43,"extra":true}"#).await;
    assert!(matches!(c.wait_answer(43).await, ServerFrame::Error { code: ErrorCode::BadFrame, .. }));
    c.send_text(r#"{"id":44}"#).await;
    assert!(matches!(c.wait_answer(44).await, ServerFrame::Error { code: ErrorCode::BadFrame, .. }));

    // A lone surrogate escape is not text: refused, and the answer still names the frame.
    c.send_text(r#"{"type":"get_friends","id":45,"acting":"\ud800"}"#).await;
    assert!(matches!(c.wait_answer(45).await, ServerFrame::Error { code: ErrorCode::BadFrame, id: Some(45), .. }));
    // A key twice is ambiguous: refused rather than guessed.
    c.send_text(r#"{"type":"get_friends","id":46,"id":47}"#).await;
    let answer = c.expect_push(|f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::BadFrame, .. }), "{answer:?}");
    c.send_text(r#"{"type":"get_friends","id":48,"acting":"a","acting":"b"}"#).await;
    match c.wait_answer(48).await {
        ServerFrame::Error { code: ErrorCode::BadFrame, message, .. } => {
            assert!(message.contains("acting"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    // Binary WebSocket messages are refused, not fatal.
    c.send_ws(WsMessage::binary(b"{\"type\":\"hello\",\"version\":1}".to_vec())).await;
    let answer = c.expect_push(|f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(bad_frame_without_id(&answer), "{answer:?}");

    // After all that, the same connection registers and works normally.
    c.register("alice").await;
    let list = c.friends().await;
    assert!(list.entries.is_empty());
    assert!(
        c.drain().iter().all(|f| !matches!(f, ServerFrame::Error { .. } | ServerFrame::Bye { .. })),
        "no stray errors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_before_hello_and_before_login_are_refused() {
    let relay = TestRelay::start().await;
    let mut c = relay.connect_raw().await;
    c.send_frame(&ClientFrame::GetFriends(GetFriends { id: 7, acting: None })).await;
    assert!(matches!(c.wait_answer(7).await, ServerFrame::Error { code: ErrorCode::HelloRequired, .. }));
    c.send_frame(&ClientFrame::Login(Login {
        id: 8,
        handle: huddle_tests::h("alice"),
        password: "x".repeat(10),
        device: None,
        presence: None,
    }))
    .await;
    assert!(matches!(c.wait_answer(8).await, ServerFrame::Error { code: ErrorCode::HelloRequired, .. }));

    match c.hello().await {
        ServerFrame::Hello { version, features, relay: name, registration, limits } => {
            assert_eq!(version, CURRENT);
            assert_eq!(features, vec![FEATURE_TYPING.to_owned()], "the feature the client asked for");
            assert_eq!(name.as_str(), "localhost");
            assert_eq!(registration, RegistrationPolicy::Open);
            assert_eq!((limits.max_frame_bytes, limits.max_body_bytes), (MAX_FRAME_BYTES, MAX_BODY_BYTES));
            assert_eq!(limits.max_handles, 4);
            assert_eq!((limits.frames_per_second, limits.frame_burst), (1000, 1000), "the configured limits");
        }
        other => panic!("{other:?}"),
    }
    for make in [
        (|id| ClientFrame::GetFriends(GetFriends { id, acting: None })) as fn(u64) -> ClientFrame,
        |id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body: "hi".into(),
                client_msg_id: "c1".into(),
                receipts: false,
            })
        },
        |id| ClientFrame::Sync(Sync { id, acting: None, after: 0, limit: None }),
        |id| ClientFrame::ListSessions(ListSessions { id }),
    ] {
        assert_eq!(c.err(make).await, ErrorCode::NotAuthenticated);
    }

    // A client speaking only other protocol versions is told so and closed: a protocol-1 client as it says hello,
    // and one from the future that has dropped 2.x.
    let v1 = r#"{"type":"hello","version":1}"#;
    let future = r#"{"type":"hello","min_version":"3.0","max_version":"3.2"}"#;
    for hello in [v1, future] {
        let mut old = relay.connect_raw().await;
        old.send_text(hello).await;
        let answer = old.expect_push(|f| matches!(f, ServerFrame::Error { .. })).await;
        let ServerFrame::Error { code: ErrorCode::VersionMismatch, message, .. } = &answer else {
            panic!("{answer:?}")
        };
        assert!(message.contains("update your client"), "{message}");
        let close = old.expect_bye(ErrorCode::VersionMismatch).await;
        assert_eq!(close.map(|c| c.code), Some(CloseCode::Protocol));
    }

    // A newer client that still speaks 2.x gets the relay's newest, and only the features the relay has.
    let mut newer = relay.connect_raw().await;
    newer
        .send_text(r#"{"type":"hello","min_version":"2.0","max_version":"2.9","features":["typing","teleport"]}"#)
        .await;
    match newer.expect_push(|f| matches!(f, ServerFrame::Hello { .. })).await {
        ServerFrame::Hello { version, features, .. } => {
            assert_eq!(version, CURRENT);
            assert_eq!(features, vec!["typing".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_bodies_are_refused_and_oversize_frames_close_the_connection() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;

    // A body over 8 KiB in a frame under 16 KiB: refused, the connection lives on.
    let (code, message, _) = a
        .error(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body: "x".repeat(MAX_BODY_BYTES + 1),
                client_msg_id: "big".into(),
                receipts: false,
            })
        })
        .await;
    assert_eq!(code, ErrorCode::BadBody, "{message}");
    let exact = "y".repeat(MAX_BODY_BYTES);
    a.dm("bob", &exact, "exact").await;
    let got = b.expect_push(|f| matches!(f, ServerFrame::Deliver { .. })).await;
    match got {
        ServerFrame::Deliver { item, .. } => assert_eq!(huddle_tests::bodies(&[item]), vec![exact]),
        other => panic!("{other:?}"),
    }

    // Any body within the limit fits a frame however a client escapes it: 8,192 quotes are 16,384 bytes of JSON,
    // and 8,192 letters each written as a \u escape are 49,152.
    let quotes = "\"".repeat(MAX_BODY_BYTES);
    a.dm("bob", &quotes, "quotes").await;
    let escaped = "\\u0061".repeat(MAX_BODY_BYTES);
    let frame = format!(r#"{{"type":"send","id":98,"to":"bob","client_msg_id":"escaped","body":"{escaped}"}}"#);
    assert!(frame.len() > 48 * 1024 && frame.len() <= MAX_FRAME_BYTES, "{}", frame.len());
    a.send_text(&frame).await;
    let answer = a.wait_answer(98).await;
    assert!(matches!(answer, ServerFrame::Stored { .. }), "{answer:?}");
    b.drain();

    // A frame over 64 KiB: `bye` frame_too_large, then the close.
    let huge = format!(
        r#"{{"type":"send","id":99,"to":"bob","client_msg_id":"huge","body":"{}"}}"#,
        "z".repeat(MAX_FRAME_BYTES)
    );
    a.send_text(&huge).await;
    let close = a.expect_bye(ErrorCode::FrameTooLarge).await;
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Size));
    // Nothing of it was stored: bob's stream holds the friend request event and the three messages.
    drop(b);
    let mut b = relay.login("bob").await;
    let (items, more, head) = b.sync_page(None, 0, None).await;
    assert!(!more);
    assert_eq!(huddle_tests::messages_of(&items).len(), 3, "{items:?}");
    assert_eq!(head, items.last().map_or(0, |i| i.seq));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_rate_limited_while_others_are_still_served() {
    let relay = TestRelay::start_with(|c| {
        c.limits.frames_per_second = 5;
        c.limits.frame_burst = 20;
    })
    .await;
    let mut flooder = relay.user("alice").await;
    let mut other = relay.user("bob").await;

    let ids: Vec<u64> = (0..60).map(|_| flooder.next_id()).collect();
    for &id in &ids {
        flooder.send_frame(&ClientFrame::GetFriends(GetFriends { id, acting: None })).await;
    }
    let mut served = 0;
    let mut limited = Vec::new();
    for &id in &ids {
        match flooder.wait_answer(id).await {
            ServerFrame::Friends { id: Some(got), .. } => {
                assert_eq!(got, id);
                served += 1;
            }
            ServerFrame::Error { id: got, code: ErrorCode::RateLimited, retry_after_ms, .. } => {
                assert_eq!(got, Some(id), "a refused frame is answered with its own id");
                let wait = retry_after_ms.expect("rate_limited says when to retry");
                assert!(wait > 0 && wait <= 1000, "retry after {wait} ms at 5 frames per second");
                limited.push(wait);
            }
            other => panic!("unexpected answer to {id}: {other:?}"),
        }
    }
    assert_eq!(served + limited.len(), ids.len(), "every frame got exactly one answer");
    assert!(!limited.is_empty(), "60 frames at once exceed a burst of 20");
    assert!(served >= 15, "the burst is served ({served} served)");

    // Fire-and-forget frames over the limit are dropped without a word, as they are never answered.
    for _ in 0..30 {
        flooder
            .send_frame(&ClientFrame::Typing(Typing { id: None, acting: None, room: None, to: Some(addr("bob")) }))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut answered = Vec::new();
    while let huddle_tests::Recv::Frame(frame) = flooder.recv(Duration::from_millis(50)).await {
        answered.push(frame);
    }
    assert!(answered.is_empty(), "typing without an id is never answered: {answered:?}");

    // Another connection is not affected, and the flooder is served again after waiting.
    assert!(other.friends().await.entries.is_empty());
    let wait = limited.iter().copied().max().unwrap_or(200).max(1000);
    tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    assert!(flooder.friends().await.entries.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_says_bye_to_every_connection() {
    let relay = TestRelay::start().await;
    let mut authed = relay.user("alice").await;
    let mut greeted = relay.connect().await;
    let mut fresh = relay.connect_raw().await;
    relay.stop().await;
    for c in [&mut authed, &mut greeted, &mut fresh] {
        let close = c.expect_bye(ErrorCode::ShuttingDown).await;
        assert_eq!(close.map(|c| c.code), Some(CloseCode::Away));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_relay_serves_wss_and_only_wss() {
    let relay = TestRelay::start_tls().await;
    assert!(relay.url().starts_with("wss://localhost:"));
    let mut a = relay.connect().await;
    a.register("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    a.dm("bob", "over TLS", "t1").await;
    let items = b.delivered().await;
    assert_eq!(huddle_tests::bodies(&items), vec!["over TLS"]);

    // Plain WebSocket to the TLS port fails the handshake.
    let tcp = tokio::net::TcpStream::connect(relay.addr()).await.unwrap();
    let plain =
        tokio::time::timeout(WAIT, tokio_tungstenite::client_async(format!("ws://{}/", relay.addr()), tcp)).await;
    assert!(matches!(plain, Ok(Err(_))), "plain ws must not get through: {:?}", plain.map(|r| r.map(|_| ())));

    // A client that does not trust this certificate refuses the relay.
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = SelfSigned::write(other_dir.path());
    assert!(Client::tls_stream(relay.addr(), "localhost", stranger.der).await.is_err());
}

#[test]
fn config_refuses_public_listen_without_tls() {
    let public = Config::parse("listen = \"0.0.0.0:7300\"").unwrap();
    let err = public.validate().unwrap_err().to_string();
    assert!(err.contains("without TLS"), "{err}");
    let v6 = Config::parse("listen = \"[::]:7300\"").unwrap();
    assert!(v6.validate().is_err());
    let with_tls =
        Config::parse("listen = \"0.0.0.0:7300\"\n[tls]\ncert = \"/x/cert.pem\"\nkey = \"/x/key.pem\"").unwrap();
    with_tls.validate().unwrap();
    let proxied = Config::parse("listen = \"0.0.0.0:7300\"\nallow_insecure = true").unwrap();
    proxied.validate().unwrap();
    for loopback in ["127.0.0.1:7300", "[::1]:7300"] {
        Config::parse(&format!("listen = \"{loopback}\"")).unwrap().validate().unwrap();
    }
    let half_tls = Config::parse("listen = \"0.0.0.0:7300\"\n[tls]\ncert = \"/x/cert.pem\"").unwrap();
    assert!(half_tls.validate().is_err(), "cert without key");
}

/// Regression test: the core used to commit up to 256 requests at once and queue all their answers at once, so a
/// client that pipelined more requests than its outbound queue held was cut off although it read promptly. Now a
/// batch is at most `MAX_BATCH` inputs and the queue must hold four batches' worth (`Config::validate`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_reader_that_pipelines_is_not_taken_for_a_slow_one() {
    // Within the frame rate limit (burst 1000), with the smallest allowed outbound queue. The client reads all the time.
    let relay = TestRelay::start_with(|c| c.limits.outbound_queue = huddle_relay::net::MIN_OUTBOUND_QUEUE).await;
    let mut c = relay.user("alice").await;
    let ids: Vec<u64> = (0..3 * huddle_relay::net::MAX_BATCH).map(|_| c.next_id()).collect();
    for &id in &ids {
        c.send_frame(&ClientFrame::GetFriends(GetFriends { id, acting: None })).await;
    }
    for &id in &ids {
        assert!(matches!(c.wait_answer(id).await, ServerFrame::Friends { .. }));
    }
}

/// Flow control lets few requests into the core at once when the byte bound is small (one, at 64 KiB). A connection
/// that stopped reading for want of places must be woken when a place comes back, even when nothing else is coming
/// for it: it once slept for good as soon as the core gave a place back after the connection had last looked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelining_client_with_nothing_else_coming_is_answered_to_the_last_request() {
    let relay = TestRelay::start_with(|c| {
        c.limits.outbound_queue_bytes = 64 * 1024;
        c.limits.frames_per_second = 100_000;
        c.limits.frame_burst = 100_000;
    })
    .await;
    let mut c = relay.user("alice").await;
    for _ in 0..20 {
        let ids: Vec<u64> = (0..200).map(|_| c.next_id()).collect();
        for &id in &ids {
            c.send_frame(&ClientFrame::ListSessions(ListSessions { id })).await;
        }
        for &id in &ids {
            assert!(matches!(c.wait_answer(id).await, ServerFrame::Sessions { .. }));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_pipelines_far_more_than_its_queue_holds_is_slowed_not_cut_off() {
    use futures_util::{SinkExt, StreamExt};

    // A rate limit raised far above the queue: 1,000 requests, each answered with a push and an `ok`, are 2,000
    // frames for a queue of 256. The client reads all the time, but more slowly than the relay answers (a pause
    // every few frames, through a small socket buffer), while it writes as fast as it can. The relay reads its
    // frames only as fast as it takes its answers: TCP slows it down, and it is never taken for a slow reader.
    let relay = TestRelay::start_with(|c| {
        c.limits.outbound_queue = huddle_relay::net::MIN_OUTBOUND_QUEUE;
        c.limits.frames_per_second = 100_000;
        c.limits.frame_burst = 100_000;
    })
    .await;
    // Ten friends with long private notes make every `friends` push about 11 KB: more than the kernel's socket
    // buffers can hide.
    let mut a = relay.user("alice").await;
    for i in 0..10 {
        let name = format!("friend{i}");
        let mut f = relay.user(&name).await;
        befriend(&mut a, &mut f, RequestAnswer::AcceptMutual).await;
        let note = Some("n".repeat(1000));
        a.ok(|id| ClientFrame::SetEntry(SetEntry { id, acting: None, friend: addr(&name), nickname: None, note }))
            .await;
    }
    drop(a);
    let mut piped = Client::connect_small_buffer(relay.addr()).await;
    piped.hello().await;
    piped.login("alice").await;
    piped.barrier().await;
    piped.drain();

    let (mut sink, mut stream) = piped.into_ws().split();
    const REQUESTS: u64 = 1000;
    let reader = tokio::spawn(async move {
        let mut oks = 0;
        let mut seen = 0u64;
        while oks < REQUESTS {
            let next = tokio::time::timeout(WAIT, stream.next()).await.expect("the relay keeps answering");
            let Some(Ok(WsMessage::Text(text))) = next else { panic!("the connection ended: {next:?}") };
            let frame = huddle_shared::codec::decode_server(text.as_str()).unwrap();
            assert!(!matches!(frame, ServerFrame::Bye { .. }), "after {oks} answers: {frame:?}");
            if matches!(frame, ServerFrame::Ok { .. }) {
                oks += 1;
            }
            seen += 1;
            if seen % 4 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        oks
    });
    for id in 1..=REQUESTS {
        let note = Some(format!("note {id}"));
        let frame = ClientFrame::SetEntry(SetEntry { id, acting: None, friend: addr("friend0"), nickname: None, note });
        let text = huddle_shared::codec::encode_client(&frame);
        tokio::time::timeout(WAIT, sink.send(WsMessage::text(text))).await.expect("the relay keeps reading").unwrap();
    }
    assert_eq!(reader.await.unwrap(), REQUESTS, "every request answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_that_is_not_utf8_and_oversize_binary_close_the_connection_with_a_reason() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

    let relay = TestRelay::start().await;
    // A text message whose bytes are not UTF-8 (a lone continuation byte): `bye` bad_frame, close 1007.
    let mut c = relay.connect().await;
    let bytes = b"{\"type\":\"get_friends\",\"id\":1,\"acting\":\"\x80\"}".to_vec();
    c.send_ws(WsMessage::Frame(Frame::message(bytes, OpCode::Data(Data::Text), true))).await;
    let close = c.expect_bye(ErrorCode::BadFrame).await;
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Invalid));

    // A binary message over the frame limit is never read, like a text one: `bye` frame_too_large, close 1009.
    let mut c = relay.connect().await;
    c.send_ws(WsMessage::binary(vec![b'x'; MAX_FRAME_BYTES + 1])).await;
    let close = c.expect_bye(ErrorCode::FrameTooLarge).await;
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Size));

    // Others are unaffected.
    let mut d = relay.user("dora").await;
    assert!(d.friends().await.entries.is_empty());
}

/// An upgrade must not stop a relay that ran yesterday: a config written for an earlier release, whose outbound queue
/// (256, the old default) is below what a commit now needs, starts, serves, and says in its log that it raised it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_config_with_a_small_outbound_queue_starts_and_says_it_raised_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        "name = \"localhost\"\nlog = \"info\"\n[limits]\noutbound_queue = 256\nregistrations_per_address_per_hour = 1000\n",
    )
    .unwrap();
    let relay = huddle_tests::RelayProcess::spawn(&config, &dir.path().join("data"), dir.path()).await;
    let mut client = relay.connect().await;
    client.register("alice").await;
    let log = relay.log_text();
    assert!(log.contains("limits.outbound_queue = 256 is below the minimum of 1024: using 1024"), "{log}");
}
