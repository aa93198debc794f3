//! The protocol can grow without stranding older clients (docs/protocol.md §11): a client written before a kind of
//! stream item existed reads it as "unknown", acknowledges it with the rest, and still receives what follows.
//!
//! The older client here brings its own, smaller idea of the protocol — the serde types such a client would have
//! had, knowing stream items of kind `message` and `event` only — and reads the real relay's frames with them.

use huddle_shared::client::*;
use huddle_shared::model::RequestAnswer;
use huddle_shared::{ClientFrame, ServerFrame};
use huddle_tests::{TestRelay, WAIT, addr, befriend};
use serde::Deserialize;

/// The frames the older client knows; everything else it passes over.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OldFrame {
    Deliver {
        item: OldItem,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct OldItem {
    seq: u64,
    #[serde(flatten)]
    body: OldBody,
}

/// Stream items as the older client knows them: no `receipt`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum OldBody {
    Message {
        message: OldMessage,
    },
    #[allow(dead_code)]
    Event {
        event: serde_json::Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct OldMessage {
    from: String,
    body: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_client_skips_a_kind_it_does_not_know_and_receives_what_follows() {
    let relay = TestRelay::start().await;
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    befriend(&mut alice, &mut bob, RequestAnswer::AcceptMutual).await;

    // alice's message asks for receipts; bob's ack puts a `receipt` item in her stream, then bob writes back.
    let asked = alice
        .request(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body: "did you get this?".into(),
                client_msg_id: "ask-1".into(),
                receipts: true,
            })
        })
        .await;
    assert!(matches!(asked, ServerFrame::Stored { .. }), "{asked:?}");
    alice.barrier().await;
    alice.drain();
    let delivered = bob.expect_push(|f| matches!(f, ServerFrame::Deliver { .. })).await;
    let ServerFrame::Deliver { item, .. } = delivered else { unreachable!() };
    bob.ack(None, item.seq).await;
    bob.dm("alice", "yes, got it", "reply-1").await;

    // From here alice reads with the older schema.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let text = alice.recv_text(WAIT).await.expect("the relay keeps sending");
        let frame: OldFrame = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        if let OldFrame::Deliver { item } = frame {
            seen.push(item);
        }
    }
    assert!(matches!(seen[0].body, OldBody::Unknown), "the receipt is an unknown kind to this client: {seen:?}");
    let OldBody::Message { message } = &seen[1].body else { panic!("{seen:?}") };
    assert_eq!((message.from.as_str(), message.body.as_str()), ("bob@localhost", "yes, got it"));
    assert_eq!(seen[1].seq, seen[0].seq + 1, "the unknown item took its place in the sequence");

    // Acknowledging the last item covers the unknown one: nothing waits for the older client after a reconnect.
    let last = seen[1].seq;
    alice.ack(None, last).await;
    drop(alice);
    let mut alice = relay.login("alice").await;
    assert_eq!(alice.handle_info("alice").acked, last);
    let (rest, more, head) = alice.sync_page(None, last, None).await;
    assert!(rest.is_empty() && !more && head == last, "{rest:?}");
}
