//! Readers that stop reading: `members` connections join a room and never read again while one writer sends
//! `messages` messages of `body` bytes into it. Reports the server's resident memory before, at its peak while the
//! messages pile up for the stuck readers, and after they are gone. The relay bounds what waits for each connection in
//! frames and bytes and closes stuck readers (`slow_consumer`); the bare server queues up to 4096 messages per
//! connection, as a plain forwarder would.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::load::{self, Flavor};
use crate::proc::Server;
use crate::report::mib;

pub async fn compare(members: usize, messages: u64, body: usize, pin: bool) -> Result<()> {
    println!();
    println!(
        "stuck readers — {} of a room of {members} stop reading; one writer sends {messages} messages of {body} bytes",
        members - 1
    );
    let data = crate::DataDir::new("stuck")?;
    let relay = data.relay(pin)?;
    let (writer, room, receivers) = crate::fanout::relay_room(&relay, members).await?;
    let r = measure(&relay, Flavor::Relay, writer, Some(room), receivers, messages, body).await?;
    relay.stop()?;
    let bare = crate::bare(pin)?;
    let (writer, receivers) = crate::fanout::bare_room(&bare, members).await?;
    let b = measure(&bare, Flavor::Bare, writer, None, receivers, messages, body).await?;
    bare.stop()?;
    println!("  {:<28} {:>12} {:>12} {:>12}", "resident memory", "before", "peak", "after");
    for (name, m) in [("relay", &r), ("bare tokio-tungstenite", &b)] {
        println!("  {:<28} {:>12} {:>12} {:>12}", name, mib(m.before), mib(m.peak), mib(m.after));
    }
    let growth = |m: &Memory| m.peak.saturating_sub(m.before) as f64;
    println!("  relay / bare: {:.2}× the growth at the peak", growth(&r) / growth(&b).max(1.0));
    Ok(())
}

struct Memory {
    before: u64,
    peak: u64,
    after: u64,
}

async fn measure(
    server: &Server,
    flavor: Flavor,
    writer: load::Ws,
    room: Option<String>,
    receivers: Vec<load::Ws>,
    messages: u64,
    body: usize,
) -> Result<Memory> {
    settle().await;
    let before = server.rss()?;
    let epoch = Instant::now();
    let (mut sink, mut stream) = writer.split();
    let answers = tokio::spawn(async move {
        let mut answered = 0;
        load::read_until(&mut stream, |text| {
            answered += u64::from(load::is_answer(flavor, text));
            answered == messages
        })
        .await
    });
    let sending = async {
        for n in 1..=messages {
            let frame = load::send_frame(flavor, n, "#g", room.as_deref(), &load::body(epoch, body));
            sink.send(Message::text(frame)).await?;
        }
        Ok::<_, anyhow::Error>(())
    };
    // Memory is sampled while the messages go out, and for a few seconds after, while they wait for the stuck readers.
    let mut peak = before;
    let sampling = async {
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            peak = peak.max(server.rss().unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let (sent, ()) = tokio::join!(
        async {
            let sent = sending.await;
            let answered = answers.await;
            (sent, answered)
        },
        sampling
    );
    sent.0?;
    sent.1?.context("the writer's answers")?;
    drop(receivers);
    drop(sink);
    // The server notices the closed connections and frees what waited for them.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = server.rss()?;
    Ok(Memory { before, peak, after })
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}
