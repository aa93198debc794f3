//! Huddles over real WebSockets: the webhook of the real `huddle-relay` binary forms a huddle among the online
//! subscribers only, refuses a wrong token, and the huddle outlives a SIGKILL — after the restart it still ends on
//! time, with its message kept. A presence huddle starts with its anchor and ends when the anchor goes offline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use huddle_shared::client::*;
use huddle_shared::model::{
    EndReason, Event, HuddleSettings, ItemBody, RequestAnswer, RoomChange, RoomKind, StreamItem, TopicId,
};
use huddle_shared::{ClientFrame, ServerFrame};
use huddle_tests::{RelayProcess, TestRelay, addr, free_port, write_binary_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn news() -> TopicId {
    TopicId::parse("news").unwrap()
}

/// One HTTP/1.1 request to the webhook; returns the status and the body. (A test's own client: the relay's side is
/// hyper's.)
async fn post(port: u16, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut response)).await.unwrap().unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn is_end(f: &ServerFrame, reason: EndReason) -> bool {
    matches!(f, ServerFrame::Deliver { item: StreamItem { body: ItemBody::Event { event: Event::Room { change: RoomChange::Ended { reason: Some(r) }, .. } }, .. }, .. } if *r == reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_issue_forms_a_huddle_of_online_subscribers_that_ends_on_time_after_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hook = free_port();
    let config = write_binary_config(dir.path(), &format!("webhook_listen = \"127.0.0.1:{hook}\""));
    let mut relay = RelayProcess::spawn(&config, &data, dir.path()).await;

    let mut alice = relay.connect().await;
    alice.register("alice").await;
    let created = alice
        .request(|id| {
            ClientFrame::CreateTopic(CreateTopic {
                id,
                acting: None,
                topic: news(),
                title: "News".into(),
                description: None,
                duration_ms: Some(60_000),
                include_offline: false,
            })
        })
        .await;
    assert!(matches!(created, ServerFrame::Topic { .. }), "{created:?}");
    let answer = alice
        .request(|id| {
            ClientFrame::UpdateTopic(UpdateTopic {
                id,
                acting: None,
                topic: news(),
                title: None,
                description: None,
                duration_ms: None,
                include_offline: None,
                publishers: None,
                new_token: true,
                drop_token: false,
            })
        })
        .await;
    let ServerFrame::Topic { token: Some(token), .. } = answer else { panic!("{answer:?}") };
    let mut bob = relay.connect().await;
    bob.register("bob").await;
    let mut carol = relay.connect().await;
    carol.register("carol").await;
    for who in [&mut bob, &mut carol] {
        let answer = who
            .request(|id| ClientFrame::Subscribe(Subscribe { id, acting: None, topic: news(), duration_ms: None }))
            .await;
        assert!(matches!(answer, ServerFrame::Topic { .. }), "{answer:?}");
    }
    drop(carol);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let issue = r#"{"title":"Release 1.2","body":"What changed","link":"https://example.org/1.2"}"#;
    let (status, body) = post(hook, "/topics/news/issues", "not-the-token", issue).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(hook, "/topics/nothing/issues", &token, issue).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(hook, "/topics/news/issues", &token, r#"{"title":"x","colour":"red"}"#).await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");
    let (status, body) = post(hook, "/topics/news/issues", &token, issue).await;
    assert_eq!(status, 201, "{body}");
    let published: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(published["issue"], 1);
    assert_eq!(published["members"], 1, "bob only: carol is offline and the webhook is nobody");
    let room = huddle_shared::RoomId::parse(published["room"].as_str().unwrap()).unwrap();
    let pushed = bob.expect_push(|f| matches!(f, ServerFrame::Room { room: info, .. } if info.id == room)).await;
    let ServerFrame::Room { room: info, .. } = pushed else { unreachable!() };
    assert_eq!(info.kind, RoomKind::Huddle);
    let ends_at = info.huddle.as_ref().and_then(|h| h.ends_at).unwrap();
    let said = bob
        .request(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: Some(room.clone()),
                to: None,
                body: "first!".into(),
                client_msg_id: "h1".into(),
                receipts: false,
            })
        })
        .await;
    assert!(matches!(said, ServerFrame::Stored { .. }), "{said:?}");

    relay.kill();
    let relay = RelayProcess::spawn(&config, &data, dir.path()).await;
    let mut bob = relay.connect().await;
    let session = bob.login("bob").await;
    assert!(matches!(session, ServerFrame::Session { .. }));
    let rooms = bob.expect_push(|f| matches!(f, ServerFrame::Rooms { .. })).await;
    let ServerFrame::Rooms { rooms, .. } = rooms else { unreachable!() };
    assert!(rooms.iter().any(|r| r.id == room), "the huddle survived the kill");
    let (history, _) = bob.history_in(&room).await;
    assert_eq!(history.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["first!"]);
    let wait = Duration::from_millis(u64::try_from(ends_at - huddle_relay::net::now_millis()).unwrap_or(0) + 5_000);
    bob.expect_push_within(|f| is_end(f, EndReason::Time), wait).await;
    let ended_late = huddle_relay::net::now_millis() - ends_at;
    assert!(ended_late < 3_000, "it ended {ended_late} ms after its time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presence_huddle_starts_and_ends_with_its_anchor() {
    let relay = TestRelay::start().await;
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    alice.friend_request("bob", None).await;
    bob.answer_request("alice", RequestAnswer::AcceptMutual).await;
    let settings = |settings: HuddleSettings| {
        move |id| ClientFrame::SetHuddleSettings(SetHuddleSettings { id, acting: None, settings })
    };
    alice.request(settings(HuddleSettings { share_presence: true, ..HuddleSettings::default() })).await;
    bob.request(settings(HuddleSettings { follows: vec![addr("alice")], ..HuddleSettings::default() })).await;
    drop(alice);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let alice = relay.login("alice").await;
    let formed =
        bob.expect_push(|f| matches!(f, ServerFrame::Room { room, .. } if room.kind == RoomKind::Huddle)).await;
    let ServerFrame::Room { room, .. } = formed else { unreachable!() };
    assert_eq!(room.huddle.as_ref().and_then(|h| h.anchor.clone()), Some(addr("alice")));
    drop(alice);
    bob.expect_push(|f| is_end(f, EndReason::AnchorOffline)).await;
    bob.expect_push(|f| matches!(f, ServerFrame::RoomGone { room: gone, .. } if *gone == room.id)).await;
}
