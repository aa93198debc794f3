//! Huddles over the real `huddle-relay` binary: its webhook forms a huddle among the online subscribers only,
//! refuses a wrong token, and the huddle outlives a SIGKILL — after the restart it still ends on time, with its
//! message kept. A presence huddle starts with its anchor and ends when the anchor goes offline. A
//! local HTTP server serves an Atom feed: the entries there when it is attached form nothing, an unchanged feed
//! (`304`) forms nothing, a new entry forms a huddle. A one-off schedule fires; an activity reported by two forms
//! one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use huddle_shared::client::*;
use huddle_shared::model::{
    EndReason, Event, HuddleSettings, HuddleTrigger, IssueSource, ItemBody, RequestAnswer, RoomChange, RoomInfo,
    RoomKind, StreamItem, TopicId,
};
use huddle_shared::{ClientFrame, ServerFrame};
use huddle_tests::{RelayProcess, addr, free_port, http_post, write_binary_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The real binary with `extra` in its config file (before `[limits]`).
async fn binary(extra: &str) -> (tempfile::TempDir, RelayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_binary_config(dir.path(), extra);
    let relay = RelayProcess::spawn(&config, &dir.path().join("data"), dir.path()).await;
    (dir, relay)
}

fn news() -> TopicId {
    TopicId::parse("news").unwrap()
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

    let (mut alice, mut bob) = news_with_bob(&relay).await;
    let answer = alice.request(|id| ClientFrame::UpdateTopic(UpdateTopic { new_token: true, ..update(id) })).await;
    let ServerFrame::Topic { token: Some(token), .. } = answer else { panic!("{answer:?}") };
    let mut carol = relay.user("carol").await;
    let answer = carol
        .request(|id| ClientFrame::Subscribe(Subscribe { id, acting: None, topic: news(), duration_ms: None }))
        .await;
    assert!(matches!(answer, ServerFrame::Topic { .. }), "{answer:?}");
    drop(carol);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let issue = r#"{"title":"Release 1.2","body":"What changed","link":"https://example.org/1.2"}"#;
    let (status, body) = http_post(hook, "/topics/news/issues", "not-the-token", issue).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = http_post(hook, "/topics/nothing/issues", &token, issue).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = http_post(hook, "/topics/news/issues", &token, r#"{"title":"x","colour":"red"}"#).await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");
    let (status, body) = http_post(hook, "/topics/news/issues", &token, issue).await;
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
    let (_dir, relay) = binary("").await;
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

/// Alice's topic "news" (one minute), with bob subscribed; both stay online.
async fn news_with_bob(relay: &RelayProcess) -> (huddle_tests::Client, huddle_tests::Client) {
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
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
    let sub = bob
        .request(|id| ClientFrame::Subscribe(Subscribe { id, acting: None, topic: news(), duration_ms: None }))
        .await;
    assert!(matches!(sub, ServerFrame::Topic { .. }), "{sub:?}");
    (alice, bob)
}

fn update(id: u64) -> UpdateTopic {
    UpdateTopic::new(id, news())
}

fn huddle_of(frame: &ServerFrame) -> Option<&RoomInfo> {
    match frame {
        ServerFrame::Room { room, .. } if room.kind == RoomKind::Huddle => Some(room),
        _ => None,
    }
}

const FEED_V1: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title><id>urn:news</id><updated>2026-11-30T10:00:00Z</updated>
<entry><id>urn:news:2</id><title>Second</title><updated>2026-11-30T10:00:00Z</updated><link href="https://example.org/2"/></entry>
<entry><id>urn:news:1</id><title>First</title><updated>2026-11-29T10:00:00Z</updated><link href="https://example.org/1"/></entry>
</feed>"#;

/// A feed server: answers with `feed` (and an ETag that follows it), `304` when the ETag matches; counts requests.
async fn feed_server(
    feed: std::sync::Arc<std::sync::Mutex<String>>,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let feed = feed.clone();
            hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let body = feed.lock().unwrap().clone();
                let etag = format!("\"{}\"", body.len());
                let fresh =
                    request.to_ascii_lowercase().contains(&format!("if-none-match: {}", etag.to_ascii_lowercase()));
                let response = if fresh {
                    format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_atom_entry_forms_a_huddle_and_an_unchanged_feed_forms_none() {
    let (_dir, relay) = binary("[huddles]\nfeed_poll_seconds = 10\nfeed_allow_private_addresses = true").await;
    let (mut alice, mut bob) = news_with_bob(&relay).await;
    let feed = std::sync::Arc::new(std::sync::Mutex::new(FEED_V1.to_owned()));
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let port = feed_server(feed.clone(), hits.clone()).await;
    let url = format!("http://127.0.0.1:{port}/atom.xml");
    let answer = alice.request(|id| ClientFrame::UpdateTopic(UpdateTopic { feed: Some(url), ..update(id) })).await;
    assert!(matches!(&answer, ServerFrame::Topic { topic, .. } if topic.feed.is_some()), "{answer:?}");
    // The first read learns what is there; the second finds it unchanged (304). Neither forms a huddle.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while hits.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(std::time::Instant::now() < deadline, "the feed was not polled twice");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(bob.drain().iter().all(|f| huddle_of(f).is_none()), "nothing new, no huddle");
    *feed.lock().unwrap() = FEED_V1.replace(
        "<entry><id>urn:news:2</id>",
        "<entry><id>urn:news:3</id><title>Third</title><updated>2026-11-30T11:00:00Z</updated><link href=\"https://example.org/3\"/></entry>\n<entry><id>urn:news:2</id>",
    );
    let formed = bob.expect_push_within(|f| huddle_of(f).is_some(), Duration::from_secs(30)).await;
    let info = huddle_of(&formed).unwrap().huddle.clone().unwrap();
    match info.trigger {
        HuddleTrigger::Issue { issue, .. } => {
            assert_eq!((issue.title.as_str(), issue.source, issue.number), ("Third", IssueSource::Feed, 1));
            assert_eq!(issue.link.as_deref(), Some("https://example.org/3"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_schedule_fires_at_its_time() {
    let (_dir, relay) = binary("").await;
    let (mut alice, mut bob) = news_with_bob(&relay).await;
    // Three seconds from now, written as a UTC wall-clock time.
    let at = huddle_relay::net::now_millis() + 3_000;
    let text = jiff_like_utc(at);
    let answer = alice
        .request(|id| {
            ClientFrame::UpdateTopic(UpdateTopic { schedule: Some(text), time_zone: Some("UTC".into()), ..update(id) })
        })
        .await;
    let ServerFrame::Topic { topic, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(topic.next_at, Some(at / 1000 * 1000));
    let formed = bob.expect_push_within(|f| huddle_of(f).is_some(), Duration::from_secs(15)).await;
    assert!(matches!(
        huddle_of(&formed).unwrap().huddle.as_ref().map(|h| &h.trigger),
        Some(HuddleTrigger::Schedule { .. })
    ));
    let fired_late = huddle_relay::net::now_millis() - at;
    assert!(fired_late < 3_000, "fired {fired_late} ms after its time");
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC for a time in milliseconds (civil arithmetic, to keep the test free of a date crate).
fn jiff_like_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_reporting_the_same_show_are_put_in_a_huddle_when_the_window_closes() {
    let (_dir, relay) = binary("[huddles]\nactivity_min_people = 2\nactivity_window_minutes = 1").await;
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    let mut carol = relay.user("carol").await;
    for (who, show) in [(&mut alice, "Hamlet at the Globe"), (&mut bob, "hamlet at the globe"), (&mut carol, "Macbeth")]
    {
        let key = show.to_owned();
        who.ok(|id| ClientFrame::ReportActivity(ReportActivity { id, acting: None, kind: "show".into(), key })).await;
    }
    let formed = bob.expect_push_within(|f| huddle_of(f).is_some(), Duration::from_secs(75)).await;
    let room = huddle_of(&formed).unwrap();
    assert_eq!(room.members.len(), 2);
    assert!(
        matches!(room.huddle.as_ref().map(|h| &h.trigger), Some(HuddleTrigger::Activity { kind, count: 2 }) if kind == "show")
    );
    assert!(carol.drain().iter().all(|f| huddle_of(f).is_none()), "carol's show was another");
}
