//! Load generator: measures what a relay costs and how fast it stores and delivers.
//!
//! ```sh
//! cargo build --release -p huddle-relay --bins --examples
//! target/release/examples/loadgen --pairs 50 --messages 200 --window 8 --idle 1000
//! ```
//!
//! It starts the real `huddle-relay` binary from the same target directory (fresh data dir, generous rate limits),
//! opens `--idle` connections that only say hello to measure memory per connection (from /proc), registers
//! `--pairs` pairs of friends, and has one side of each pair send `--messages` messages with up to `--window`
//! unacknowledged at a time. It reports throughput, `stored` latency percentiles, and checks that every message was
//! delivered exactly once. Traffic goes only to 127.0.0.1; every loop is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle_shared::client::*;
use huddle_shared::codec::{decode_server, encode_client};
use huddle_shared::model::{ItemBody, RequestAnswer};
use huddle_shared::{Address, ClientFrame, Handle, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Args {
    pairs: usize,
    messages: usize,
    window: usize,
    idle: usize,
}

fn args() -> Args {
    let mut a = Args { pairs: 20, messages: 100, window: 8, idle: 500 };
    let list: Vec<String> = std::env::args().skip(1).collect();
    for pair in list.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{} needs a number", pair[0]));
        match pair[0].as_str() {
            "--pairs" => a.pairs = value,
            "--messages" => a.messages = value,
            "--window" => a.window = value.max(1),
            "--idle" => a.idle = value,
            other => panic!("unknown option {other}; see the header of examples/loadgen.rs"),
        }
    }
    a
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn start_relay(dir: &std::path::Path, port: u16) -> Child {
    let exe = std::env::current_exe().unwrap();
    let binary = exe.parent().and_then(|p| p.parent()).unwrap().join("huddle-relay");
    assert!(binary.exists(), "build the relay first: cargo build --release -p huddle-relay");
    let config = dir.join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nmax_connections = 100000\nlog = \"warn\"\n[limits]\nframes_per_second = 100000\n\
             frame_burst = 100000\noutbound_queue = 4096\nregistrations_per_address_per_hour = 1000000\n\
             login_failures_per_address = 1000000\n"
        ),
    )
    .unwrap();
    Command::new(binary)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .envs(std::env::vars().filter(|(k, _)| k.starts_with("MALLOC_")))
        .spawn()
        .unwrap()
}

async fn connect(port: u16) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}")).await.unwrap();
    ws
}

async fn send(ws: &mut Ws, frame: &ClientFrame) {
    ws.send(Message::text(encode_client(frame))).await.unwrap();
}

async fn recv(ws: &mut Ws) -> ServerFrame {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next()).await.expect("relay stopped answering");
        if let Some(Ok(Message::Text(t))) = msg {
            return decode_server(t.as_str()).unwrap();
        }
        assert!(!matches!(msg, None | Some(Err(_))), "connection lost");
    }
}

/// Waits for the answer to request `id`, dropping pushes.
async fn answer(ws: &mut Ws, id: u64) -> ServerFrame {
    loop {
        let f = recv(ws).await;
        let matches = match &f {
            ServerFrame::Ok { id: x } | ServerFrame::Session { id: x, .. } | ServerFrame::Stored { id: x, .. } => {
                *x == id
            }
            ServerFrame::Error { id: Some(x), .. } => *x == id,
            _ => false,
        };
        if matches {
            return f;
        }
    }
}

async fn user(port: u16, name: &str) -> Ws {
    let mut ws = connect(port).await;
    send(&mut ws, &ClientFrame::Hello(Hello::current(Some("loadgen".into()), &[]))).await;
    recv(&mut ws).await;
    let register = ClientFrame::Register(Register {
        id: 1,
        handle: Handle::parse(name).unwrap(),
        password: "load-test-password".into(),
        invite: None,
        device: None,
    });
    send(&mut ws, &register).await;
    assert!(matches!(answer(&mut ws, 1).await, ServerFrame::Session { .. }));
    ws
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut relay = start_relay(dir.path(), port);
    let pid = relay.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "relay did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Memory per idle connection (hello only).
    let before = rss_kib(pid);
    let mut idle = Vec::with_capacity(a.idle);
    for _ in 0..a.idle {
        let mut ws = connect(port).await;
        send(&mut ws, &ClientFrame::Hello(Hello::current(None, &[]))).await;
        recv(&mut ws).await;
        idle.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rss_kib(pid);
    if a.idle > 0 {
        #[allow(clippy::cast_precision_loss)]
        let per = (after.saturating_sub(before)) as f64 / a.idle as f64;
        println!(
            "memory: relay RSS {before} KiB -> {after} KiB with {} idle connections: {per:.1} KiB per connection",
            a.idle
        );
    }

    // Pairs of friends.
    let setup = Instant::now();
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for p in 0..a.pairs {
        let mut s = user(port, &format!("s{p}")).await;
        let mut r = user(port, &format!("r{p}")).await;
        let to = Address::parse(&format!("r{p}")).unwrap();
        send(&mut s, &ClientFrame::FriendRequest(FriendRequest { id: 2, acting: None, to, greeting: None })).await;
        assert!(matches!(answer(&mut s, 2).await, ServerFrame::Ok { .. }));
        let from = Address::parse(&format!("s{p}")).unwrap();
        send(
            &mut r,
            &ClientFrame::AnswerRequest(AnswerRequest {
                id: 2,
                acting: None,
                from,
                answer: RequestAnswer::AcceptMutual,
            }),
        )
        .await;
        assert!(matches!(answer(&mut r, 2).await, ServerFrame::Ok { .. }));
        senders.push(s);
        receivers.push(r);
    }
    println!(
        "setup: {} users registered and befriended in {:.1?} (Argon2id at OWASP cost); relay RSS {} KiB",
        a.pairs * 2,
        setup.elapsed(),
        rss_kib(pid)
    );

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (p, (mut s, mut r)) in senders.into_iter().zip(receivers).enumerate() {
        let (messages, window) = (a.messages, a.window);
        tasks.push(tokio::spawn(async move {
            let receiver = tokio::spawn(async move {
                let mut seen = std::collections::HashSet::new();
                while seen.len() < messages {
                    if let ServerFrame::Deliver { item, .. } = recv(&mut r).await {
                        if let ItemBody::Message { message } = item.body {
                            assert!(seen.insert(message.client_msg_id), "duplicate delivery");
                        }
                    }
                }
                seen.len()
            });
            let to = Address::parse(&format!("r{p}")).unwrap();
            let mut in_flight: VecDeque<(u64, Instant)> = VecDeque::new();
            let mut latencies = Vec::with_capacity(messages);
            for i in 0..messages {
                let id = 100 + i as u64;
                let frame = ClientFrame::Send(SendMessage {
                    id,
                    acting: None,
                    room: None,
                    to: Some(to.clone()),
                    body: format!("message {i} of a load test, about the length of a chat line"),
                    client_msg_id: format!("m{i}"),
                    receipts: false,
                });
                send(&mut s, &frame).await;
                in_flight.push_back((id, Instant::now()));
                while in_flight.len() >= window || (i + 1 == messages && !in_flight.is_empty()) {
                    let (id, at) = in_flight.pop_front().unwrap();
                    assert!(matches!(answer(&mut s, id).await, ServerFrame::Stored { .. }));
                    latencies.push(at.elapsed());
                }
            }
            let delivered = receiver.await.unwrap();
            (latencies, delivered)
        }));
    }
    let mut latencies = Vec::new();
    let mut delivered = 0;
    for t in tasks {
        let (l, d) = t.await.unwrap();
        latencies.extend(l);
        delivered += d;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let total = a.pairs * a.messages;
    #[allow(clippy::cast_precision_loss)]
    let rate = total as f64 / elapsed.as_secs_f64();
    println!(
        "messages: {total} stored and delivered ({delivered} deliveries) in {elapsed:.2?}: {rate:.0} msg/s; \
         stored latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!("memory: relay RSS {} KiB at the end", rss_kib(pid));
    assert_eq!(delivered, total, "every stored message must be delivered exactly once");
    drop(idle);
    let _ = relay.kill();
    let _ = relay.wait();
}
