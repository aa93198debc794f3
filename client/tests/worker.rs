//! The network worker against a real relay: register, befriend, message, and survive a relay restart — the worker
//! reconnects by itself with its token, resumes, and delivers what was queued while the relay was down, once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use huddle_client::net::{self, Auth, Command, ConnState, Event, WorkerConfig, WorkerHandle};
use huddle_relay::config::Config;
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::SqliteStorage;
use huddle_relay::{RelaySetup, RunningRelay};
use huddle_shared::client::{AnswerRequest, FriendRequest};
use huddle_shared::model::{ItemBody, PresenceState, RequestAnswer};
use huddle_shared::{Address, ClientFrame, Handle, RelayName};

async fn relay(listen: SocketAddr, dir: &Path) -> RunningRelay {
    let name = RelayName::parse("localhost").unwrap();
    let storage = SqliteStorage::open(&dir.join("relay.db"), &name).unwrap();
    let config = Config { listen, ..Config::default() };
    RunningRelay::start(RelaySetup { config, relay: name, storage, params: PasswordParams::insecure_for_tests() })
        .await
        .unwrap()
}

fn worker(url: &str) -> WorkerHandle {
    net::spawn(WorkerConfig {
        url: url.into(),
        ca_file: None,
        client: "test".into(),
        device: None,
        presence: PresenceState::Online,
    })
}

async fn until<T>(w: &mut WorkerHandle, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let wait = async {
        loop {
            let event = w.events.recv().await.expect("the worker is running");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn register(url: &str, name: &str) -> WorkerHandle {
    let mut w = worker(url);
    let auth =
        Auth::Register { handle: Handle::parse(name).unwrap(), password: "a good password".into(), invite: None };
    w.commands.send(Command::Authenticate(auth)).await.unwrap();
    until(&mut w, "a session", |e| matches!(e, Event::Session { .. }).then_some(())).await;
    w
}

fn text_of(event: &Event) -> Option<String> {
    match event {
        Event::Item { item, .. } => match &item.body {
            ItemBody::Message { message } => Some(message.body.clone()),
            ItemBody::Event { .. } | ItemBody::Receipt { .. } | ItemBody::Unknown => None,
        },
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_resumes_and_delivers_what_was_queued_offline() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    let running = relay(listen, dir.path()).await;
    let url = format!("ws://{listen}");

    let mut alice = register(&url, "alice").await;
    let mut bob = register(&url, "bob").await;
    let to_bob = Address::parse("bob").unwrap();
    let frame = ClientFrame::FriendRequest(FriendRequest { id: 1, acting: None, to: to_bob.clone(), greeting: None });
    alice.commands.send(Command::Request { id: 1, frame }).await.unwrap();
    until(&mut alice, "ok", |e| matches!(e, Event::Answer { id: 1, .. }).then_some(())).await;
    let frame = ClientFrame::AnswerRequest(AnswerRequest {
        id: 1,
        acting: None,
        from: Address::parse("alice").unwrap(),
        answer: RequestAnswer::AcceptMutual,
    });
    bob.commands.send(Command::Request { id: 1, frame }).await.unwrap();
    until(&mut bob, "ok", |e| matches!(e, Event::Answer { id: 1, .. }).then_some(())).await;

    let message = |body: &str, cmid: &str| {
        Command::Message(net::OutgoingMessage {
            acting: Handle::parse("alice").unwrap(),
            to: net::Target::Direct(to_bob.clone()),
            body: body.into(),
            client_msg_id: cmid.into(),
            receipts: false,
        })
    };
    alice.commands.send(message("before the restart", "m1")).await.unwrap();
    until(&mut alice, "stored", |e| {
        matches!(e, Event::Stored { client_msg_id, .. } if client_msg_id == "m1").then_some(())
    })
    .await;
    assert_eq!(until(&mut bob, "the first message", text_of).await, "before the restart");

    // The relay goes away; alice notices and waits to retry.
    running.stop().await.unwrap();
    until(&mut alice, "waiting", |e| matches!(e, Event::Connection(ConnState::Waiting { .. })).then_some(())).await;
    alice.commands.send(message("sent while the relay was down", "m2")).await.unwrap();

    // It comes back on the same address: both reconnect with their tokens, alice's queued message goes out once.
    let _running = relay(listen, dir.path()).await;
    until(&mut alice, "stored after reconnect", |e| {
        matches!(e, Event::Stored { client_msg_id, .. } if client_msg_id == "m2").then_some(())
    })
    .await;
    assert_eq!(until(&mut bob, "the queued message", text_of).await, "sent while the relay was down");

    // Exactly once: after a moment nothing else arrives for bob.
    let extra = tokio::time::timeout(Duration::from_millis(700), async {
        loop {
            match bob.events.recv().await {
                Some(e) if text_of(&e).is_some() => return text_of(&e),
                Some(_) => {}
                None => return None,
            }
        }
    })
    .await;
    assert!(extra.is_err(), "no duplicate delivery: {extra:?}");
}

/// A relay of a protocol this build does not speak: it answers every `hello` with `version_mismatch`, as a real one
/// does, and counts the connections it gets.
async fn relay_of_another_version() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use futures_util::{SinkExt, StreamExt};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio_tungstenite::tungstenite::Message;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_text() {
                        let error = r#"{"type":"error","id":null,"code":"version_mismatch","message":"This relay speaks protocol 3.0 and your client speaks 2.0; update your client."}"#;
                        let bye = r#"{"type":"bye","code":"version_mismatch","message":"This relay speaks a different protocol version; update your client."}"#;
                        let _ = ws.send(Message::text(error)).await;
                        let _ = ws.send(Message::text(bye)).await;
                        let _ = ws.close(None).await;
                        // As a relay does: read on until the client's close, so that what the client sent meanwhile
                        // does not make the socket reset before it read the goodbye.
                        while let Some(Ok(message)) = ws.next().await {
                            if message.is_close() {
                                break;
                            }
                        }
                        return;
                    }
                }
            });
        }
    });
    (url, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_of_another_protocol_is_not_retried_and_the_person_is_told_why() {
    let (url, connections) = relay_of_another_version().await;
    let mut w = worker(&url);
    let auth = Auth::Login { handle: Handle::parse("alice").unwrap(), password: "a good password".into() };
    w.commands.send(Command::Authenticate(auth)).await.unwrap();
    let message = until(&mut w, "the relay's goodbye", |e| match e {
        Event::Bye { code: huddle_shared::ErrorCode::VersionMismatch, message } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(message.contains("update your client"), "{message}");
    until(&mut w, "the worker to stop trying", |e| matches!(e, Event::Connection(ConnState::Idle)).then_some(())).await;
    // Backing off would have tried again within a few seconds; it does not.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "connected again to a relay it cannot speak to"
    );
}
