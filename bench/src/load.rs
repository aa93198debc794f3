//! The load driver's connections: how a message is written and an answer or delivery recognised, for the relay's
//! protocol and for the bare server's, so that both servers carry the same bytes for the same work.

use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// The test client's WebSocket (it does the set-up: register, befriend) taken over for the measured part.
pub type Ws = WebSocketStream<Box<dyn huddle_tests::Io>>;
pub type Sink = SplitSink<Ws, Message>;
pub type Stream = SplitStream<Ws>;

/// Which server the driver talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Relay,
    Bare,
}

/// A message body of `len` bytes that carries when it was sent (nanoseconds since `epoch`), for latency.
pub fn body(epoch: Instant, len: usize) -> String {
    let mut body = format!("t={};", epoch.elapsed().as_nanos());
    while body.len() < len {
        body.push('x');
    }
    body
}

/// The nanoseconds a received frame's body says it was sent at.
pub fn sent_at(frame: &str) -> Option<u128> {
    let start = frame.find("t=")? + 2;
    let end = start + frame[start..].find(';')?;
    frame[start..end].parse().ok()
}

/// The frame that sends `body` to `to` (a handle, or with the bare server also `#group`); `room` for the relay's
/// group messages.
pub fn send_frame(flavor: Flavor, n: u64, to: &str, room: Option<&str>, body: &str) -> String {
    let target = match room {
        Some(room) => format!(r#""room":"{room}""#),
        None => format!(r#""to":"{to}""#),
    };
    let json = format!(r#"{{"type":"send","id":{n},{target},"body":"{body}","client_msg_id":"b{n}"}}"#);
    match flavor {
        Flavor::Relay => json,
        Flavor::Bare => format!("to {to}|{json}"),
    }
}

/// Whether a frame answers a send.
pub fn is_answer(flavor: Flavor, frame: &str) -> bool {
    match flavor {
        Flavor::Relay => frame.starts_with(r#"{"type":"stored""#),
        Flavor::Bare => frame == "ok",
    }
}

/// The stream sequence of a delivered message (the bare server has none: each delivery counts as the next).
pub fn delivery_seq(flavor: Flavor, frame: &str, count: u64) -> Option<u64> {
    match flavor {
        Flavor::Relay if frame.starts_with(r#"{"type":"deliver""#) && frame.contains(r#""kind":"message""#) => {
            let start = frame.find(r#""seq":"#)? + 6;
            let end = start + frame[start..].find(|c: char| !c.is_ascii_digit())?;
            frame[start..end].parse().ok()
        }
        Flavor::Relay => None,
        Flavor::Bare => frame.starts_with("to ").then_some(count + 1),
    }
}

pub fn ack_frame(seq: u64) -> Message {
    Message::text(format!(r#"{{"type":"ack","seq":{seq}}}"#))
}

/// Reads text frames until `done` says so; `each` sees every text frame.
pub async fn read_until(stream: &mut Stream, mut each: impl FnMut(&str) -> bool) -> anyhow::Result<()> {
    while let Some(message) = stream.next().await {
        if let Message::Text(text) = message? {
            if each(text.as_str()) {
                return Ok(());
            }
        }
    }
    anyhow::bail!("the server closed the connection")
}

/// A receiver: counts `expected` deliveries, acknowledging each as a client does, and returns their latencies.
pub async fn receive(
    flavor: Flavor,
    sink: &mut Sink,
    stream: &mut Stream,
    expected: u64,
    epoch: Instant,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let mut count = 0;
    let mut note = |text: &str, count: &mut u64, to_ack: &mut Option<u64>| {
        if let Some(seq) = delivery_seq(flavor, text, *count) {
            *count += 1;
            if let Some(at) = sent_at(text) {
                let now = epoch.elapsed().as_nanos();
                latencies.push(Duration::from_nanos(u64::try_from(now.saturating_sub(at)).unwrap_or(u64::MAX)));
            }
            *to_ack = Some(seq);
        }
    };
    while count < expected {
        let mut to_ack = None;
        // A delivery that never comes fails the run instead of hanging it.
        let next = tokio::time::timeout(Duration::from_secs(60), stream.next()).await;
        let Ok(next) = next else { anyhow::bail!("no delivery for a minute: {count} of {expected} arrived") };
        let Some(message) = next else { anyhow::bail!("the server closed the connection") };
        if let Message::Text(text) = message? {
            note(text.as_str(), &mut count, &mut to_ack);
        }
        // What has already arrived is read before acknowledging: one ack for a burst, as the client does.
        while let Some(Some(message)) = stream.next().now_or_never() {
            if let Message::Text(text) = message? {
                note(text.as_str(), &mut count, &mut to_ack);
            }
        }
        if let Some(seq) = to_ack {
            sink.send(ack_frame(seq)).await?;
        }
    }
    Ok(latencies)
}
