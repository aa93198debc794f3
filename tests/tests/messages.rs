//! Direct messages over real WebSockets: stored before delivered, fan-out to every connection, idempotent resends,
//! offline delivery, resuming exactly the gap, history paging, and slow readers.

use std::collections::BTreeSet;

use huddle_shared::client::*;
use huddle_shared::model::{ItemBody, RequestAnswer, ShownState, StreamItem};
use huddle_shared::{ClientFrame, ErrorCode, MessageId, ServerFrame};
use huddle_tests::{Client, Recv, Stored, TestRelay, WAIT, addr, befriend, bodies, messages_of};

/// The message items of `deliver` pushes this connection got (after a barrier).
async fn delivered_messages(c: &mut Client) -> Vec<StreamItem> {
    c.delivered().await.into_iter().filter(|i| matches!(i.body, ItemBody::Message { .. })).collect()
}

fn message_id(item: &StreamItem) -> &MessageId {
    match &item.body {
        ItemBody::Message { message } => &message.id,
        other => panic!("expected a direct message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_stored_then_reaches_every_connection_of_both_sides_once() {
    let relay = TestRelay::start().await;
    let mut a1 = relay.user("alice").await;
    let mut b1 = relay.user("bob").await;
    befriend(&mut a1, &mut b1, RequestAnswer::AcceptMutual).await;
    let mut a2 = relay.login("alice").await;
    let mut b2 = relay.login("bob").await;
    for c in [&mut a1, &mut a2, &mut b1, &mut b2] {
        c.barrier().await;
        c.drain();
    }

    let stored = a1.dm("bob", "hi bob 👋\nsecond line", "m-1").await;
    assert!(delivered_messages(&mut a1).await.is_empty(), "the sending connection has its `stored` answer instead");
    let mirror = delivered_messages(&mut a2).await;
    assert_eq!(mirror.len(), 1, "the sender's other connection gets a copy");
    assert_eq!((message_id(&mirror[0]), mirror[0].seq), (&stored.message_id, stored.seq));
    let mut recipient_seqs = BTreeSet::new();
    for b in [&mut b1, &mut b2] {
        let got = delivered_messages(b).await;
        assert_eq!(got.len(), 1, "each of bob's connections gets it once");
        let msgs = messages_of(&got);
        assert_eq!(msgs[0].id, stored.message_id);
        assert_eq!((msgs[0].from.clone(), msgs[0].to.clone()), (addr("alice"), Some(addr("bob"))));
        assert_eq!((msgs[0].body.as_str(), msgs[0].client_msg_id.as_str()), ("hi bob 👋\nsecond line", "m-1"));
        recipient_seqs.insert(got[0].seq);
    }
    assert_eq!(recipient_seqs.len(), 1, "the same stream position on both of bob's connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_with_the_same_client_msg_id_is_stored_and_delivered_once() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;

    let first = a.dm("bob", "only once", "retry-me").await;
    let again = a.dm("bob", "only once", "retry-me").await;
    assert_eq!(first, again, "a resend gets the same `stored`");
    // Also from another connection of the same handle (a client that reconnected before seeing `stored`).
    let mut a2 = relay.login("alice").await;
    assert_eq!(a2.dm("bob", "only once", "retry-me").await, first);
    let got = delivered_messages(&mut b).await;
    assert_eq!(got.len(), 1, "one delivery: {got:?}");
    assert_eq!(message_id(&got[0]), &first.message_id);
    let reused = a.send_message("bob", "something else", "retry-me").await;
    assert!(matches!(reused, ServerFrame::Error { code: ErrorCode::DuplicateClientMsgId, .. }), "{reused:?}");
    let bad = a.send_message("bob", "fine", "has space").await;
    assert!(matches!(bad, ServerFrame::Error { code: ErrorCode::BadClientMsgId, .. }), "{bad:?}");
    let (history, _) = a.history("bob", None, None, None).await;
    assert_eq!(history.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["only once"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_recipient_gets_everything_at_the_next_login() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    drop(b);

    let sent: Vec<Stored> = send_all(&mut a, "bob", &["one", "two", "three"]).await;
    let mut b = relay.connect().await;
    b.login("bob").await;
    let info = b.handle_info("bob").clone();
    assert_eq!(info.acked, 0);
    let items = b.sync_all(None, info.acked, None).await;
    assert_eq!(items.last().map(|i| i.seq), Some(info.head), "sync reaches the head announced at login");
    assert_eq!(bodies(&items), vec!["one", "two", "three"]);
    let ids: Vec<&str> = messages_of(&items).iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, sent.iter().map(|s| s.message_id.as_str()).collect::<Vec<_>>());
}

async fn send_all(from: &mut Client, to: &str, texts: &[&str]) -> Vec<Stored> {
    let mut out = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        out.push(from.dm(to, text, &format!("{to}-{n}-{text}")).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_resumes_exactly_the_gap_without_duplicates() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;

    // Bob reads five messages live and acknowledges the first three, then drops off.
    let texts: Vec<String> = (1..=12).map(|n| format!("m{n:02}")).collect();
    for t in &texts[..5] {
        a.dm("bob", t, t).await;
    }
    let live = delivered_messages(&mut b).await;
    assert_eq!(bodies(&live), texts[..5]);
    let acked = live[2].seq;
    b.ack(None, acked).await;
    let token = b.token.clone().unwrap();
    drop(b);

    // Four more while he is away.
    for t in &texts[5..9] {
        a.dm("bob", t, t).await;
    }

    // Back with his token: the relay remembers the ack; sync covers (acked, head] and live pushes start after head.
    let mut b = relay.connect().await;
    assert!(matches!(b.login_token(&token).await, ServerFrame::Session { .. }));
    let info = b.handle_info("bob").clone();
    assert_eq!(info.acked, acked);
    assert_eq!(info.head, acked + 6, "two read-but-unacked plus four new");
    a.dm("bob", &texts[9], &texts[9]).await; // arrives live while bob pages
    let mut seen: Vec<StreamItem> = Vec::new();
    let mut cursor = info.acked;
    loop {
        let (items, more, _) = b.sync_page(None, cursor, Some(2)).await;
        assert!(items.len() <= 2);
        if let Some(last) = items.last() {
            cursor = last.seq;
        }
        seen.extend(items);
        if !more {
            break;
        }
        a.dm("bob", &texts[10], &texts[10]).await; // another one mid-sync: live too, never in a batch
    }
    let synced_seqs: Vec<u64> = seen.iter().map(|i| i.seq).collect();
    assert_eq!(synced_seqs, ((acked + 1)..=info.head).collect::<Vec<_>>(), "exactly the gap, in order");
    assert_eq!(bodies(&seen), texts[3..9]);
    let live = delivered_messages(&mut b).await;
    assert_eq!(bodies(&live), texts[9..11], "the live ones arrive as pushes");
    assert_eq!(live.iter().map(|i| i.seq).collect::<Vec<_>>(), vec![info.head + 1, info.head + 2]);

    // Acknowledge everything; the next connection has nothing to catch up on.
    b.ack(None, info.head + 2).await;
    drop(b);
    a.dm("bob", &texts[11], &texts[11]).await;
    let mut b = relay.login("bob").await;
    let info = b.handle_info("bob").clone();
    let rest = b.sync_all(None, info.acked, None).await;
    assert_eq!(bodies(&rest), texts[11..]);
    assert_eq!(
        b.err(|id| ClientFrame::Sync(Sync { id, acting: None, after: info.head + 1, limit: None })).await,
        ErrorCode::BadCursor
    );
    assert_eq!(
        b.err(|id| ClientFrame::Ack(Ack { id: Some(id), acting: None, seq: info.head + 1 })).await,
        ErrorCode::BadCursor
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_backwards_and_forwards() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    let texts: Vec<String> = (1..=25).map(|n| format!("h{n:02}")).collect();
    for (n, t) in texts.iter().enumerate() {
        if n % 2 == 0 {
            a.dm("bob", t, t).await
        } else {
            b.dm("alice", t, t).await
        };
    }
    let body_list = |ms: &[huddle_shared::model::Message]| ms.iter().map(|m| m.body.clone()).collect::<Vec<_>>();

    let (latest, more) = a.history("bob", None, None, Some(10)).await;
    assert!(more);
    assert_eq!(body_list(&latest), texts[15..25], "the newest page, oldest first");
    let (older, more) = a.history("bob", Some(&latest[0].id), None, Some(10)).await;
    assert!(more);
    assert_eq!(body_list(&older), texts[5..15]);
    let (oldest, more) = a.history("bob", Some(&older[0].id), None, Some(10)).await;
    assert!(!more);
    assert_eq!(body_list(&oldest), texts[..5]);

    let (forward, more) = b.history("alice", None, Some(&oldest[4].id), Some(10)).await;
    assert!(more);
    assert_eq!(body_list(&forward), texts[5..15], "bob pages the same conversation forwards");
    let (end, more) = b.history("alice", None, Some(&latest[9].id), Some(10)).await;
    assert!(end.is_empty() && !more);
    // h16 (index 15) was bob's, h17 alice's: both sides' messages are in one conversation.
    assert_eq!((latest[0].from.clone(), latest[0].to.clone()), (addr("bob"), Some(addr("alice"))));
    assert_eq!((latest[1].from.clone(), latest[1].to.clone()), (addr("alice"), Some(addr("bob"))));

    let (code, _, _) = a
        .error(|id| {
            ClientFrame::History(History {
                id,
                acting: None,
                room: None,
                with: Some(addr("bob")),
                before: Some("no-such-message".into()),
                after: None,
                limit: None,
            })
        })
        .await;
    assert_eq!(code, ErrorCode::BadCursor);
    let (code, _, _) = a
        .error(|id| {
            ClientFrame::History(History {
                id,
                acting: None,
                room: None,
                with: Some(addr("bob")),
                before: Some(latest[0].id.clone()),
                after: Some(latest[1].id.clone()),
                limit: None,
            })
        })
        .await;
    assert_eq!(code, ErrorCode::BadFrame);
}

const SLOW_BODY_BYTES: usize = 8000;
/// Enough 8 KB messages (16 MB) to overflow the kernel's socket buffers (send buffer up to 4 MiB), tungstenite's
/// write buffer (1 MiB) and an outbound queue of 256 frames (2 MB) together, twice over.
const SLOW_MESSAGES: usize = 2000;

/// Sends `count` big messages from `a` to bob, a few in flight at a time, and returns their ids in order.
async fn flood(a: &mut Client, count: usize) -> Vec<MessageId> {
    let body = "s".repeat(SLOW_BODY_BYTES);
    let mut ids = Vec::with_capacity(count);
    for window in (0..count).collect::<Vec<_>>().chunks(3) {
        let mut pending = Vec::new();
        for &n in window {
            let id = a.next_id();
            a.send_frame(&ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body: format!("{n:05} {body}"),
                client_msg_id: format!("slow-{n}"),
                receipts: false,
            }))
            .await;
            pending.push(id);
        }
        for id in pending {
            match a.wait_answer(id).await {
                ServerFrame::Stored { message_id, .. } => ids.push(message_id),
                other => panic!("{other:?}"),
            }
        }
        a.drain();
    }
    ids
}

/// Sets up alice and a bob whose connection has a tiny receive buffer, friends, both buffers empty.
async fn slow_setup(relay: &TestRelay) -> (Client, Client) {
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    drop(b);
    let mut slow = Client::connect_small_buffer(relay.addr()).await;
    slow.hello().await;
    slow.login("bob").await;
    slow.barrier().await;
    slow.drain();
    a.barrier().await;
    a.drain();
    (a, slow)
}

/// After being cut off: bob logs in again and syncs from the last item he saw; together with what he saw, that is
/// every message, once each, in order.
async fn resume_after_cut(relay: &TestRelay, seen: &[StreamItem], sent: &[MessageId]) {
    let mut b = relay.login("bob").await;
    let after = seen.last().map_or(b.handle_info("bob").acked, |i| i.seq);
    let rest = b.sync_all(None, after, None).await;
    let all: Vec<&StreamItem> = seen.iter().chain(rest.iter()).collect();
    for pair in all.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "contiguous across the cut");
    }
    let got: Vec<&MessageId> = all
        .iter()
        .filter_map(|i| match &i.body {
            ItemBody::Message { message } => Some(&message.id),
            ItemBody::Event { .. } | ItemBody::Receipt { .. } | ItemBody::Unknown => None,
        })
        .collect();
    assert_eq!(got, sent.iter().collect::<Vec<_>>(), "every message once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_cut_off_with_slow_consumer_and_resumes_without_loss() {
    let relay = TestRelay::start_with(|c| c.limits.outbound_queue = huddle_relay::net::MIN_OUTBOUND_QUEUE).await;
    let (mut a, mut slow) = slow_setup(&relay).await;

    // Bob reads nothing while alice sends; then he starts reading again.
    let sent = flood(&mut a, SLOW_MESSAGES).await;
    let mut seen = Vec::new();
    let (bye, _close) = {
        let mut bye = None;
        loop {
            match slow.recv(WAIT).await {
                Recv::Frame(ServerFrame::Deliver { item, .. }) => seen.push(item),
                Recv::Frame(frame @ ServerFrame::Bye { .. }) => bye = Some(frame),
                Recv::Frame(other) => panic!("unexpected {other:?}"),
                Recv::Closed(close) => break (bye, close),
                Recv::Timeout => panic!("slow reader neither cut off nor fed; saw {} items", seen.len()),
            }
        }
    };
    assert!(
        matches!(bye, Some(ServerFrame::Bye { code: ErrorCode::SlowConsumer, .. })),
        "expected bye slow_consumer, got {bye:?} after {} items",
        seen.len()
    );
    assert!(seen.len() < sent.len(), "the cut happened before everything was pushed");
    resume_after_cut(&relay, &seen, &sent).await;
}

/// Regression test: the connection task used to await `ws.send(..)` without looking at the core's `slow_consumer`
/// kill, so once a peer stopped reading and the socket buffers were full, its connection stayed open (and its handle
/// "online") for as long as the peer kept the TCP connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_is_disconnected() {
    let relay = TestRelay::start_with(|c| c.limits.outbound_queue = huddle_relay::net::MIN_OUTBOUND_QUEUE).await;
    let (mut a, slow) = slow_setup(&relay).await;
    let sent = flood(&mut a, SLOW_MESSAGES).await;
    // Bob's connection never reads again. The relay must drop it (alice, his friend, sees him go offline) rather
    // than keep a connection slot and a stale "online" forever. (The push may have come during the flood, which
    // drains alice's pushes: her friend list says it either way.)
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let list = a.friends().await;
        if huddle_tests::entry(&list, "bob").is_some_and(|e| e.presence.state == ShownState::Offline) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "bob still shows online: {list:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(slow);
    resume_after_cut(&relay, &[], &sent).await;
}
