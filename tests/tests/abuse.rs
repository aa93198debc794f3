//! One determined stranger against the relay, with the relay's own default limits (the other test files lift the
//! limits kept per address and per account, since all their clients share 127.0.0.1): a flood of connections that
//! never log in while a real person logs in, the login deadline, connections per account, one account sending from
//! many connections, probing for handles, guessing a password without locking its owner out, a reader that stops
//! reading and reads again later, and the close handshake.
//!
//! Other addresses are other loopback addresses (127.0.0.2 …), which Linux routes to the relay like 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huddle_relay::config::{Config, LimitsConfig};
use huddle_shared::client::*;
use huddle_shared::model::RequestAnswer;
use huddle_shared::{ClientFrame, ErrorCode, ServerFrame};
use huddle_tests::{Client, Recv, TestRelay, WAIT, befriend, h};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A relay with the documented defaults for everything kept per address and per account.
async fn relay_with_defaults(change: impl FnOnce(&mut Config)) -> TestRelay {
    TestRelay::start_with(|c| {
        let defaults = LimitsConfig::default();
        c.limits.connections_per_address = defaults.connections_per_address;
        c.limits.unauthenticated_per_address = defaults.unauthenticated_per_address;
        c.limits.unauthenticated_connections = defaults.unauthenticated_connections;
        c.limits.registration_attempts_per_address_per_hour = defaults.registration_attempts_per_address_per_hour;
        c.limits.messages_per_second_per_account = defaults.messages_per_second_per_account;
        c.limits.message_burst_per_account = defaults.message_burst_per_account;
        c.limits.message_bytes_per_second_per_account = defaults.message_bytes_per_second_per_account;
        c.limits.message_bytes_burst_per_account = defaults.message_bytes_burst_per_account;
        c.limits.stored_mib_per_account_per_day = defaults.stored_mib_per_account_per_day;
        change(c);
    })
    .await
}

fn stranger(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, n)
}

/// Opens a WebSocket from `source` and says hello; `Err` with the `bye` code if the relay turned it away.
async fn anonymous_from(relay: SocketAddr, source: Ipv4Addr) -> Result<Client, Option<ErrorCode>> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    let tcp: Box<dyn huddle_tests::Io> = Box::new(socket.connect(relay).await.unwrap());
    let url = format!("ws://{relay}/");
    let Ok(Ok((ws, _))) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(url, tcp)).await else {
        return Err(None);
    };
    let mut client = Client::over_ws(ws);
    client.send_frame(&ClientFrame::Hello(Hello::current(None, &[]))).await;
    match client.recv(WAIT).await {
        Recv::Frame(ServerFrame::Hello { .. }) => Ok(client),
        Recv::Frame(ServerFrame::Bye { code, .. }) => Err(Some(code)),
        other => panic!("neither hello nor bye: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_connections_that_never_log_in_does_not_lock_out_a_real_person() {
    let relay = relay_with_defaults(|c| c.limits.login_timeout_secs = 3).await;
    let a = relay.addr();
    // One stranger opens 200 connections that say hello and nothing else.
    let mut admitted = Vec::new();
    let mut turned_away = 0;
    for _ in 0..200 {
        match anonymous_from(a, stranger(2)).await {
            Ok(client) => admitted.push(client),
            Err(Some(ErrorCode::TooManyConnections)) => turned_away += 1,
            Err(other) => panic!("turned away without the right reason: {other:?}"),
        }
    }
    assert_eq!(admitted.len(), LimitsConfig::default().unauthenticated_per_address, "its share, no more");
    assert_eq!(turned_away, 200 - admitted.len());

    // Meanwhile a real person registers and logs in at once.
    let mut ann = relay.user("ann").await;
    ann.barrier().await;
    let mut again = relay.login("ann").await;
    again.barrier().await;

    // The stranger's connections end at the login deadline, with the reason and the close code.
    for mut client in admitted {
        let close = client.expect_bye(ErrorCode::LoginTimeout).await;
        assert_eq!(close.map(|c| c.code), Some(CloseCode::Policy));
    }
    // The logged-in connections stay.
    ann.barrier().await;
    again.barrier().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_a_bounded_number_of_connections_logged_in_or_not() {
    let relay = relay_with_defaults(|c| {
        c.limits.connections_per_address = 3;
        c.limits.connections_per_account = 10;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut client = Client::connect_from(relay.addr(), stranger(3)).await;
        client.hello().await;
        held.push(client);
    }
    held[0].register("cat").await;
    let refused = anonymous_from(relay.addr(), stranger(3)).await;
    assert!(matches!(refused, Err(Some(ErrorCode::TooManyConnections))), "{:?}", refused.err());
    // Another address is not affected, and a place given back can be taken again.
    assert!(anonymous_from(relay.addr(), stranger(4)).await.is_ok());
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(anonymous_from(relay.addr(), stranger(3)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_multiply_its_sending_rate_with_connections() {
    let relay = relay_with_defaults(|_| {}).await;
    let mut ann = relay.user("ann").await;
    let mut ben = relay.user("ben").await;
    befriend(&mut ann, &mut ben, RequestAnswer::AcceptMutual).await;
    let cap = LimitsConfig::default().connections_per_account;
    let mut conns = vec![ann];
    while conns.len() < cap {
        conns.push(relay.login("ann").await);
    }
    let mut one_more = relay.connect().await;
    one_more.hello().await;
    let (code, message, _) = one_more
        .error(|id| {
            ClientFrame::Login(Login {
                id,
                handle: h("ann"),
                password: huddle_tests::password_for("ann"),
                device: None,
                presence: None,
            })
        })
        .await;
    assert_eq!(code, ErrorCode::TooManyConnections, "{message}");

    // Every connection sends 20 messages of 8 KiB as fast as it can: the account's budget, not the connections'
    // count, decides how many are stored.
    let body = "x".repeat(huddle_shared::limits::MAX_BODY_BYTES);
    let started = std::time::Instant::now();
    let mut ids = Vec::new();
    for (c, conn) in conns.iter_mut().enumerate() {
        for n in 0..20 {
            ids.push((c, conn.send_unanswered("ben", &body, &format!("flood-{c}-{n}")).await));
        }
    }
    let (mut stored, mut limited) = (0u64, 0u64);
    for (c, id) in ids {
        match conns[c].wait_answer(id).await {
            ServerFrame::Stored { .. } => stored += 1,
            ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(_), .. } => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    let limits = LimitsConfig::default();
    let elapsed = started.elapsed().as_secs() + 1;
    let by_count =
        u64::from(limits.message_burst_per_account) + u64::from(limits.messages_per_second_per_account) * elapsed;
    let by_bytes = (u64::from(limits.message_bytes_burst_per_account)
        + u64::from(limits.message_bytes_per_second_per_account) * elapsed)
        / huddle_shared::limits::MAX_BODY_BYTES as u64;
    assert!(stored <= by_count.min(by_bytes), "{stored} stored in {elapsed} s");
    assert!(stored > 0 && limited > 0, "stored {stored}, limited {limited}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_cannot_be_used_to_find_out_which_handles_exist() {
    let relay = relay_with_defaults(|_| {}).await;
    relay.user("ann").await;
    let mut probe = Client::connect_from(relay.addr(), stranger(5)).await;
    probe.hello().await;
    let attempt = |handle: &str| {
        let handle = h(handle);
        move |id| {
            ClientFrame::Register(Register {
                id,
                handle,
                password: "probe-password".into(),
                invite: None,
                device: None,
            })
        }
    };
    let allowed = LimitsConfig::default().registration_attempts_per_address_per_hour;
    for _ in 0..allowed {
        assert_eq!(probe.err(attempt("ann")).await, ErrorCode::HandleTaken);
    }
    // From here on the answer is the same for a handle that exists and one that does not.
    assert_eq!(probe.err(attempt("ann")).await, ErrorCode::RateLimited);
    assert_eq!(probe.err(attempt("nobody-here")).await, ErrorCode::RateLimited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_guessing_a_password_slows_only_itself() {
    let relay = relay_with_defaults(|_| {}).await;
    relay.user("ann").await;
    let mut guesser = Client::connect_from(relay.addr(), stranger(6)).await;
    guesser.hello().await;
    let guess = |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("ann"),
            password: "is-it-this-one".into(),
            device: None,
            presence: None,
        })
    };
    let mut codes = Vec::new();
    for _ in 0..20 {
        codes.push(guesser.err(guess).await);
    }
    let wrong = codes.iter().filter(|c| **c == ErrorCode::BadCredentials).count();
    assert_eq!(wrong, LimitsConfig::default().login_free_failures as usize, "{codes:?}");
    assert!(codes[wrong..].iter().all(|c| *c == ErrorCode::RateLimited), "{codes:?}");
    // Ann logs in with her password at once: the guesser did not lock her out.
    let mut her = relay.login("ann").await;
    her.barrier().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_for_a_while_learns_why_it_was_closed() {
    let relay = relay_with_defaults(|c| {
        c.limits.outbound_queue_bytes = 64 * 1024;
        c.limits.messages_per_second_per_account = 100_000;
        c.limits.message_burst_per_account = 100_000;
        c.limits.message_bytes_per_second_per_account = u32::MAX;
        c.limits.message_bytes_burst_per_account = u32::MAX;
    })
    .await;
    let mut ann = relay.user("ann").await;
    let mut ben = relay.user("ben").await;
    befriend(&mut ann, &mut ben, RequestAnswer::AcceptMutual).await;
    drop(ben);
    let mut slow = Client::connect_small_buffer(relay.addr()).await;
    slow.hello().await;
    slow.login("ben").await;
    slow.barrier().await;
    // Ben stops reading; ann sends more than the socket and the queue hold.
    let body = "s".repeat(8000);
    for n in 0..600 {
        ann.dm("ben", &body, &format!("m{n}")).await;
    }
    // Longer than the relay used to wait for its goodbye to go out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let close = slow.expect_bye(ErrorCode::SlowConsumer).await;
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Policy));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_answers_a_close_frame_with_a_close_frame() {
    let relay = relay_with_defaults(|_| {}).await;
    let mut client = relay.connect().await;
    client.hello().await;
    let mut ws = client.into_ws();
    ws.send(WsMessage::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye now".into() }))).await.unwrap();
    let reply = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Close(frame))) => return Some(frame),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the relay answers in time");
    assert!(reply.is_some(), "the relay answered the close frame with its own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_its_disk_floor_the_relay_refuses_new_writes_with_a_reason_and_keeps_serving() {
    // A floor no disk can meet: the relay sees itself below it at its first look.
    let relay = relay_with_defaults(|c| c.limits.min_free_disk_mib = u64::MAX / (1024 * 1024)).await;
    let mut client = relay.connect().await;
    client.hello().await;
    let register = |id| {
        ClientFrame::Register(Register {
            id,
            handle: h("ann"),
            password: huddle_tests::password_for("ann"),
            invite: None,
            device: None,
        })
    };
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (code, message, _) = client.error(register).await;
        if code == ErrorCode::StorageFull {
            assert!(message.contains("disk space"), "{message}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {code}: {message}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The relay is up: it still answers.
    client.barrier().await;
}

/// A logged-in connection from 127.0.0.1 with a tiny receive buffer that says hello and logs in as `handle`.
async fn slow_login(relay: &TestRelay, handle: &str) -> Client {
    let mut slow = Client::connect_small_buffer(relay.addr()).await;
    slow.hello().await;
    slow.login(handle).await;
    slow.barrier().await;
    slow
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_that_fill_the_relay_wide_pool_are_closed_not_the_people_who_keep_reading() {
    let relay = relay_with_defaults(|c| {
        c.limits.outbound_queue_bytes = 256 * 1024;
        c.limits.outbound_total_bytes = 512 * 1024;
        c.limits.messages_per_second_per_account = 100_000;
        c.limits.message_burst_per_account = 100_000;
        c.limits.message_bytes_per_second_per_account = u32::MAX;
        c.limits.message_bytes_burst_per_account = u32::MAX;
    })
    .await;
    let mut ann = relay.user("ann").await;
    let mut ben = relay.user("ben").await;
    let mut cat = relay.user("cat").await;
    befriend(&mut ann, &mut ben, RequestAnswer::AcceptMutual).await;
    befriend(&mut ann, &mut cat, RequestAnswer::AcceptMutual).await;
    drop(ben);
    // Four of ben's connections stop reading: together they can hold more than the whole pool (and each more than
    // the kernel's buffers take).
    let mut stuck = Vec::new();
    for _ in 0..4 {
        stuck.push(slow_login(&relay, "ben").await);
    }
    cat.barrier().await;
    const ROUNDS: usize = 80;
    const PER_ROUND: usize = 10;
    // Cat reads everything, as a person's client does.
    let reader = tokio::spawn(async move {
        let mut delivered = 0;
        while delivered < ROUNDS * PER_ROUND {
            match cat.recv(WAIT).await {
                Recv::Frame(ServerFrame::Deliver { .. }) => delivered += 1,
                Recv::Frame(ServerFrame::Bye { code, .. }) => panic!("cat was closed: {code}"),
                Recv::Frame(_) => {}
                other => panic!("cat stopped hearing after {delivered}: {other:?}"),
            }
        }
        cat
    });
    // Ann sends to both in bursts, so several frames wait in cat's queue at once while the pool is full.
    let body = "p".repeat(8000);
    for round in 0..ROUNDS {
        let mut ids = Vec::new();
        for n in 0..PER_ROUND {
            for to in ["ben", "cat"] {
                ids.push(ann.send_unanswered(to, &body, &format!("{to}-{round}-{n}")).await);
            }
        }
        for id in ids {
            assert!(matches!(ann.wait_answer(id).await, ServerFrame::Stored { .. }));
        }
    }
    let mut cat = tokio::time::timeout(Duration::from_secs(60), reader).await.unwrap().unwrap();
    cat.barrier().await;
    ann.barrier().await;
    // The readers that held the most were closed and told why (those whose kernel buffers took it all may live on).
    let mut closed = 0;
    for mut slow in stuck {
        loop {
            match slow.recv(Duration::from_secs(3)).await {
                Recv::Frame(ServerFrame::Bye { code, .. }) => {
                    assert_eq!(code, ErrorCode::SlowConsumer);
                    closed += 1;
                    break;
                }
                Recv::Frame(_) => {}
                Recv::Closed(_) | Recv::Timeout => break,
            }
        }
    }
    assert!(closed > 0, "the pool was reached, and someone holding it was closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_starts_the_login_deadline_again() {
    let relay = relay_with_defaults(|c| c.limits.login_timeout_secs = 2).await;
    let mut ann = relay.user("ann").await;
    // Logged in, the deadline does not apply.
    tokio::time::sleep(Duration::from_secs(3)).await;
    ann.barrier().await;
    ann.ok(|id| ClientFrame::Logout(Logout { id })).await;
    let close = ann.expect_bye(ErrorCode::LoginTimeout).await;
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Policy));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_connections_relay_wide_are_capped_and_people_logged_in_keep_their_place() {
    let relay = relay_with_defaults(|c| c.limits.unauthenticated_connections = 5).await;
    let mut ann = relay.user("ann").await;
    let mut held = Vec::new();
    for n in 0..5 {
        held.push(anonymous_from(relay.addr(), stranger(20 + n)).await.expect("admitted"));
    }
    let refused = anonymous_from(relay.addr(), stranger(30)).await;
    assert!(matches!(refused, Err(Some(ErrorCode::ServerBusy))), "{:?}", refused.err());
    ann.barrier().await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(anonymous_from(relay.addr(), stranger(30)).await.is_ok(), "places given back are taken again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_deadline_holds_while_a_write_to_a_stranger_waits() {
    let relay = relay_with_defaults(|c| c.limits.login_timeout_secs = 2).await;
    let source = stranger(40);
    // A stranger with a tiny receive buffer asks for answers and never reads them: the relay's writes wait.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    let tcp: Box<dyn huddle_tests::Io> = Box::new(socket.connect(relay.addr()).await.unwrap());
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{}/", relay.addr()), tcp).await.unwrap();
    let mut flooder = Client::over_ws(ws);
    let hello = huddle_shared::codec::encode_client(&ClientFrame::Hello(Hello::current(None, &[])));
    for _ in 0..2000 {
        if flooder.try_send_ws(WsMessage::text(hello.clone())).await.is_err() {
            break;
        }
    }
    // Past the deadline and the goodbye's grace, its place is given back although it never read a byte: the address
    // may open its whole share again.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut again = Vec::new();
    for _ in 0..LimitsConfig::default().unauthenticated_per_address {
        again.push(anonymous_from(relay.addr(), source).await.expect("the stranger's old place was given back"));
    }
    drop(flooder);
}
