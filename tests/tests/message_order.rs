//! The client's network worker sends a person's messages in the order they were typed, also when the relay asks it
//! to slow down. A pasted burst over the account's rate limit used to reach friends reordered: every message went
//! out at once, and a refused one was sent again after later ones had been stored.
//!
//! - against a real relay with a small per-account message burst, a burst of 80 messages is stored, and reaches the
//!   friend, in the order typed, each once;
//! - against a scripted relay that answers one message `rate_limited`, that message is sent again before any later
//!   one, and the later ones are stored after it;
//! - while the worker waits to send a refused message again, it keeps reading the relay (a message from a friend
//!   arrives) and taking commands (a request is answered): the pause is a timer, not a sleep.
//!
//! Waits are generous deadlines, never measurements of speed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huddle_client::net::{self, Auth, Command, Event, OutgoingMessage, Target, WorkerConfig, WorkerHandle};
use huddle_shared::client::{GetFriends, Login, LoginToken, SendMessage, Sync};
use huddle_shared::codec::{decode_client, encode_server};
use huddle_shared::model::{FriendList, ItemBody, Message, PresenceState, StreamItem};
use huddle_shared::{ClientFrame, ErrorCode, MessageId, RoomId, ServerFrame};
use huddle_tests::{TestRelay, addr, befriend, bodies, h, messages_of, password_for, scripted};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long waiting for one event may take before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(30);

fn worker(url: &str) -> WorkerHandle {
    net::spawn(WorkerConfig {
        url: url.to_owned(),
        ca_file: None,
        client: "test".to_owned(),
        device: None,
        presence: PresenceState::Online,
    })
}

/// The next event `pick` takes, skipping others; a message the worker gives up on fails the test.
async fn until<T>(w: &mut WorkerHandle, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let wait = async {
        loop {
            let event = w.events.recv().await.expect("the worker is running");
            if let Event::MessageFailed { client_msg_id, code, message } = &event {
                panic!("{client_msg_id} failed while waiting for {what}: {code} {message}");
            }
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    };
    tokio::time::timeout(WAIT, wait).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn log_in(w: &mut WorkerHandle, handle: &str) {
    let auth = Auth::Login { handle: h(handle), password: password_for(handle) };
    w.commands.send(Command::Authenticate(auth)).await.unwrap();
    until(w, "a session", |e| matches!(e, Event::Session { .. }).then_some(())).await;
}

/// alice's message `body` to bob, with `body` as its client_msg_id too.
fn to_bob(body: &str) -> Command {
    Command::Message(OutgoingMessage {
        acting: h("alice"),
        to: Target::Direct(addr("bob")),
        body: body.to_owned(),
        client_msg_id: body.to_owned(),
        receipts: false,
    })
}

/// The client_msg_ids of the next `n` `stored` events, in the order they came.
async fn stored(w: &mut WorkerHandle, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let id = until(w, "stored", |e| match e {
            Event::Stored { client_msg_id, .. } => Some(client_msg_id.clone()),
            _ => None,
        })
        .await;
        ids.push(id);
    }
    ids
}

fn numbered(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("m{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_the_account_rate_limit_reaches_the_friend_in_the_order_typed() {
    // A small burst, and a rate at which the budget refills between the relay's batches of frames while the burst
    // is still arriving (on a real link, where a burst takes longer to arrive, a lower rate does the same): a
    // message sent later could be let in while an earlier one was refused. A client with several messages on their
    // way got them stored out of order here (m32 before m6, say); sent one at a time, some are still refused and
    // sent again.
    let relay = TestRelay::start_with(|c| {
        c.limits.messages_per_second_per_account = 1000;
        c.limits.message_burst_per_account = 5;
    })
    .await;
    let mut alice_ws = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    befriend(&mut alice_ws, &mut bob, huddle_shared::model::RequestAnswer::AcceptMutual).await;

    let mut alice = worker(&relay.url());
    log_in(&mut alice, "alice").await;
    let typed = numbered(80);
    for body in &typed {
        alice.commands.send(to_bob(body)).await.unwrap();
    }
    assert_eq!(stored(&mut alice, typed.len()).await, typed, "stored in the order typed");

    // bob's stream, as the relay numbered it, read again from the start: every message once, in the order typed.
    drop(bob);
    let mut bob = relay.login("bob").await;
    let items = bob.sync_all(None, 0, None).await;
    let from_alice: Vec<String> =
        messages_of(&items).into_iter().filter(|m| m.from == addr("alice")).map(|m| m.body.clone()).collect();
    assert_eq!(from_alice, typed, "bob's stream: {:?}", bodies(&items));
    relay.stop().await;
}

// ---------------------------------------------------------------------------------------------------------------
// A scripted relay
// ---------------------------------------------------------------------------------------------------------------

/// What the scripted relay received after the login, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Send(String),
    Request,
}

/// A relay for one connection that logs alice in, stores every message except the first `send` of `refuse`, which
/// it answers `rate_limited` with `retry_after_ms` followed at once by a message from bob, and answers
/// `get_friends` with an empty list. What it receives comes out of the channel, with when.
async fn scripted_relay(refuse: &str, retry_after_ms: u64) -> (String, mpsc::UnboundedReceiver<(Seen, Instant)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (seen, received) = mpsc::unbounded_channel();
    let refuse = refuse.to_owned();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut refused = false;
        // alice's stream: her stored messages and bob's message, numbered as a relay would.
        let mut head = 0;
        while let Some(Ok(message)) = ws.next().await {
            let WsMessage::Text(text) = message else { continue };
            let mut answers = Vec::new();
            match decode_client(text.as_str()).unwrap() {
                ClientFrame::Hello(_) => answers.push(scripted::hello()),
                ClientFrame::Login(Login { id, .. }) | ClientFrame::LoginToken(LoginToken { id, .. }) => {
                    answers.push(scripted::session(id, "a-token-of-the-scripted-relay"));
                }
                ClientFrame::Sync(Sync { id, .. }) => {
                    answers.push(ServerFrame::Batch { id, acting: addr("alice"), items: Vec::new(), more: false, head })
                }
                ClientFrame::Send(SendMessage { id, client_msg_id, .. }) => {
                    seen.send((Seen::Send(client_msg_id.clone()), Instant::now())).unwrap();
                    if client_msg_id == refuse && !refused {
                        refused = true;
                        answers.push(ServerFrame::Error {
                            id: Some(id),
                            code: ErrorCode::RateLimited,
                            message: "You are sending messages too fast; wait a moment.".to_owned(),
                            retry_after_ms: Some(retry_after_ms),
                        });
                        head += 1;
                        answers.push(from_bob(head, "meanwhile"));
                    } else {
                        head += 1;
                        answers.push(ServerFrame::Stored {
                            id,
                            room: room(),
                            message_id: message_id(head),
                            seq: head,
                            sent_at: 1_700_000_000_000,
                            recipients: Vec::new(),
                        });
                    }
                }
                ClientFrame::GetFriends(GetFriends { id, .. }) => {
                    seen.send((Seen::Request, Instant::now())).unwrap();
                    let list = FriendList::default();
                    answers.push(ServerFrame::Friends { id: Some(id), acting: addr("alice"), list });
                }
                _ => {}
            }
            for answer in answers {
                if ws.send(WsMessage::text(encode_server(&answer))).await.is_err() {
                    return;
                }
            }
        }
    });
    (url, received)
}

fn room() -> RoomId {
    RoomId::parse("d.alice.bob@localhost").unwrap()
}

fn message_id(seq: u64) -> MessageId {
    MessageId::new(format!("00000000-0000-4000-8000-{seq:012}"))
}

/// A `deliver` to alice of bob's message `body` at `seq` of her stream.
fn from_bob(seq: u64, body: &str) -> ServerFrame {
    let message = Message {
        id: message_id(seq),
        room: room(),
        from: addr("bob"),
        to: Some(addr("alice")),
        body: body.to_owned(),
        sent_at: 1_700_000_000_000,
        client_msg_id: format!("bob-{seq}"),
        receipts: false,
    };
    let item = StreamItem { seq, at: 1_700_000_000_000, body: ItemBody::Message { message } };
    ServerFrame::Deliver { acting: addr("alice"), item }
}

/// What the relay has received so far.
fn received_so_far(received: &mut mpsc::UnboundedReceiver<(Seen, Instant)>) -> Vec<(Seen, Instant)> {
    let mut all = Vec::new();
    while let Ok(seen) = received.try_recv() {
        all.push(seen);
    }
    all
}

fn what(seen: &[(Seen, Instant)]) -> Vec<Seen> {
    seen.iter().map(|(s, _)| s.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_relay_asks_to_send_again_later_keeps_its_place() {
    let (url, mut received) = scripted_relay("m2", 200).await;
    let mut alice = worker(&url);
    log_in(&mut alice, "alice").await;
    let typed = numbered(8);
    for body in &typed {
        alice.commands.send(to_bob(body)).await.unwrap();
    }
    assert_eq!(stored(&mut alice, typed.len()).await, typed, "stored in the order typed");
    // m2 is sent again before anything typed after it, and nothing is sent while an earlier message is unanswered.
    let mut expected: Vec<Seen> = typed.iter().cloned().map(Seen::Send).collect();
    expected.insert(2, Seen::Send("m2".to_owned()));
    assert_eq!(what(&received_so_far(&mut received)), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_keeps_reading_and_answering_while_it_waits_to_send_again() {
    const PAUSE: Duration = Duration::from_secs(3);
    let (url, mut received) = scripted_relay("m1", PAUSE.as_millis() as u64).await;
    let mut alice = worker(&url);
    log_in(&mut alice, "alice").await;
    alice.commands.send(to_bob("m1")).await.unwrap();

    // The relay refused m1 and at once delivered bob's message: it arrives during the pause.
    let body = until(&mut alice, "bob's message", |e| match e {
        Event::Item { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } => Some(message.body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(body, "meanwhile");
    // A request made during the pause is answered during the pause.
    let frame = ClientFrame::GetFriends(GetFriends { id: 7, acting: None });
    alice.commands.send(Command::Request { id: 7, frame }).await.unwrap();
    until(&mut alice, "the answer", |e| matches!(e, Event::Answer { id: 7, .. }).then_some(())).await;
    let m1 = Seen::Send("m1".to_owned());
    let mut seen = received_so_far(&mut received);
    let first: Vec<Seen> = what(&seen).into_iter().take(2).collect();
    assert_eq!(first, [m1.clone(), Seen::Request], "the request went out during the pause");

    assert_eq!(stored(&mut alice, 1).await, ["m1"]);
    seen.extend(received_so_far(&mut received));
    assert_eq!(what(&seen), [m1.clone(), Seen::Request, m1], "m1 was sent again once");
    // And m1 was sent again no sooner than the relay asked.
    assert!(seen[2].1 - seen[0].1 >= PAUSE, "sent again after {:?}", seen[2].1 - seen[0].1);
}
