//! One-to-one delivery: `pairs` senders each write to their own receiver, keeping `window` messages unanswered,
//! receivers acknowledging what they get. Run against the relay (every message stored durably before it is
//! answered or delivered) and against the bare server, on the same pinned core, with the same bytes.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::{SinkExt, StreamExt};
use huddle_shared::model::RequestAnswer;
use huddle_tests::Client;
use tokio_tungstenite::tungstenite::Message;

use crate::load::{self, Flavor};
use crate::proc::Server;
use crate::report::Run;

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub pairs: usize,
    pub per_pair: u64,
    pub window: u64,
    pub body: usize,
    /// Messages per second over all pairs; `None`: as fast as answers come back.
    pub rate: Option<f64>,
}

/// Connections of one pair, ready to measure.
struct Pair {
    sender: load::Ws,
    receiver: load::Ws,
    to: String,
}

/// Registered, befriended pairs on the relay (names unique per `run`, so runs can share one relay).
async fn relay_pairs(server: &Server, pairs: usize, run: &str) -> Vec<Pair> {
    let mut out = Vec::new();
    for i in 0..pairs {
        let (s, r) = (format!("s{run}x{i}"), format!("r{run}x{i}"));
        let mut sender = Client::user_at(server.addr, &s).await;
        let mut receiver = Client::user_at(server.addr, &r).await;
        huddle_tests::befriend(&mut sender, &mut receiver, RequestAnswer::AcceptMutual).await;
        out.push(Pair { sender: sender.into_ws(), receiver: receiver.into_ws(), to: r });
    }
    out
}

async fn bare_pairs(server: &Server, pairs: usize, run: &str) -> Result<Vec<Pair>> {
    let mut out = Vec::new();
    for i in 0..pairs {
        let (s, r) = (format!("s{run}x{i}"), format!("r{run}x{i}"));
        let mut sender = Client::connect(server.addr).await.into_ws();
        sender.send(Message::text(s)).await?;
        let mut receiver = Client::connect(server.addr).await.into_ws();
        receiver.send(Message::text(r.clone())).await?;
        out.push(Pair { sender, receiver, to: r });
    }
    // The bare server registers a name when it reads it: give it a moment before anyone sends to it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(out)
}

/// One measured run.
pub async fn measure(server: &Server, flavor: Flavor, shape: Shape, run: &str) -> Result<Run> {
    let pairs = match flavor {
        Flavor::Relay => relay_pairs(server, shape.pairs, run).await,
        Flavor::Bare => bare_pairs(server, shape.pairs, run).await?,
    };
    let epoch = Instant::now();
    let cpu_before = server.cpu()?;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for pair in pairs {
        let (mut rx_sink, mut rx_stream) = pair.receiver.split();
        let receiving =
            tokio::spawn(
                async move { load::receive(flavor, &mut rx_sink, &mut rx_stream, shape.per_pair, epoch).await },
            );
        let sending = tokio::spawn(send(flavor, pair.sender, pair.to, shape, epoch));
        tasks.push((sending, receiving));
    }
    let mut latencies = Vec::new();
    for (sending, receiving) in tasks {
        sending.await??;
        latencies.extend(receiving.await??);
    }
    let wall = start.elapsed();
    let cpu = server.cpu()?.saturating_sub(cpu_before);
    Ok(Run::new(shape.pairs as u64 * shape.per_pair, wall, cpu, latencies))
}

/// A sender: keeps `window` messages unanswered (and, with a rate, no more than its share of the rate sent).
async fn send(flavor: Flavor, ws: load::Ws, to: String, shape: Shape, epoch: Instant) -> Result<()> {
    let (mut sink, mut stream) = ws.split();
    let per_pair_rate = shape.rate.map(|r| r / shape.pairs as f64);
    let started = Instant::now();
    let (mut sent, mut answered) = (0u64, 0u64);
    while answered < shape.per_pair {
        // Send what the window (and the rate) allows, in one flush.
        let allowed = match per_pair_rate {
            Some(rate) => (started.elapsed().as_secs_f64() * rate) as u64 + 1,
            None => u64::MAX,
        };
        let mut queued = false;
        while sent < shape.per_pair && sent - answered < shape.window && sent < allowed {
            sent += 1;
            let frame = load::send_frame(flavor, sent, &to, None, &load::body(epoch, shape.body));
            sink.feed(Message::text(frame)).await?;
            queued = true;
        }
        if queued {
            sink.flush().await?;
        }
        let wait = if per_pair_rate.is_some() && sent - answered < shape.window && sent < shape.per_pair {
            Duration::from_millis(1)
        } else {
            Duration::from_secs(30)
        };
        match tokio::time::timeout(wait, stream.next()).await {
            Ok(Some(message)) => {
                if let Message::Text(text) = message? {
                    if load::is_answer(flavor, text.as_str()) {
                        answered += 1;
                    }
                }
            }
            Ok(None) => anyhow::bail!("the server closed a sender's connection"),
            Err(_) if per_pair_rate.is_some() => {}
            Err(_) => anyhow::bail!("no answer for 30 s: {answered} of {sent} answered"),
        }
    }
    // The relay may deliver a sender's own copies and events: nothing else to read.
    Ok(())
}
