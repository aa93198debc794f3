//! Fan-out: one member writes into a room of `members`, everyone else receives and acknowledges every message. On
//! the relay the room is a huddle formed by publishing an issue of a topic they all subscribe to (the only rooms
//! above 100 members); on the bare server it is a group every connection joined by name.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use huddle_shared::ServerFrame;
use huddle_tests::{Client, Recv};
use tokio_tungstenite::tungstenite::Message;

use crate::load::{self, Flavor};
use crate::proc::Server;
use crate::report::Run;

/// Relay and bare side by side for one room size.
pub async fn compare(members: usize, messages: u64, body: usize, pin: bool) -> Result<()> {
    println!();
    println!(
        "fan-out — one writer, a room of {members}, {messages} messages, each delivered to {} others",
        members - 1
    );
    let data = crate::DataDir::new(&format!("fanout-{members}"))?;
    let relay = data.relay(pin)?;
    let set_up = Instant::now();
    let (writer, room, receivers) = relay_room(&relay, members).await?;
    println!("  (the relay's huddle of {members} was set up in {:.1} s)", set_up.elapsed().as_secs_f64());
    let r = measure(&relay, Flavor::Relay, writer, Some(room), receivers, messages, body).await?;
    relay.stop()?;
    let bare = crate::bare(pin)?;
    let (writer, receivers) = bare_room(&bare, members).await?;
    let b = measure(&bare, Flavor::Bare, writer, None, receivers, messages, body).await?;
    bare.stop()?;
    println!("  {:<28} {:>14} {:>16}", "", "deliveries/s", "CPU µs/delivery");
    for (name, run) in [("relay (huddle, stored)", &r), ("bare tokio-tungstenite", &b)] {
        println!("  {:<28} {:>14.0} {:>16.2}", name, run.per_second(), run.cpu_us());
    }
    println!("  relay / bare: {:.2}× the CPU per delivery", r.cpu_us() / b.cpu_us());
    Ok(())
}

/// Registers `members - 1` subscribers of a topic, publishes an issue (its owner, the publisher, is the huddle's first
/// member), and returns the owner (the writer), the huddle's room and everyone else's connection.
pub async fn relay_room(server: &Server, members: usize) -> Result<(load::Ws, String, Vec<load::Ws>)> {
    let mut owner = Client::user_at(server.addr, "owner").await;
    request(&mut owner, r#""type":"create_topic","topic":"bench","title":"Bench""#).await?;
    let mut clients = Vec::with_capacity(members);
    for i in 1..members {
        let mut c = Client::user_at(server.addr, &format!("m{i}")).await;
        request(&mut c, r#""type":"subscribe","topic":"bench""#).await?;
        clients.push(c);
    }
    let published = request(&mut owner, r#""type":"publish","topic":"bench","title":"Go""#).await?;
    let ServerFrame::Published { room: Some(room), members: count, .. } = published else {
        anyhow::bail!("no huddle formed: {published:?}")
    };
    if count as usize != members {
        anyhow::bail!("the huddle took {count} of {members}");
    }
    // Everyone is told of the huddle before the answer: drop what they were sent so far.
    let mut conns = Vec::with_capacity(members);
    for mut c in clients {
        c.barrier().await;
        c.drain();
        conns.push(c.into_ws());
    }
    owner.barrier().await;
    owner.drain();
    Ok((owner.into_ws(), room.to_string(), conns))
}

/// Sends a request and waits up to two minutes for its answer (forming a large huddle takes a while).
async fn request(client: &mut Client, fields: &str) -> Result<ServerFrame> {
    let id = client.next_id();
    client.send_text(&format!("{{{fields},\"id\":{id}}}")).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.recv(left).await {
            Recv::Frame(frame) if frame.answer_id() == Some(id) => {
                if let ServerFrame::Error { .. } = frame {
                    anyhow::bail!("{fields}: {frame:?}");
                }
                return Ok(frame);
            }
            Recv::Frame(_) => {}
            Recv::Closed(close) => anyhow::bail!("{fields}: the relay closed the connection ({close:?})"),
            Recv::Timeout => anyhow::bail!("{fields}: no answer within two minutes"),
        }
    }
}

pub async fn bare_room(server: &Server, members: usize) -> Result<(load::Ws, Vec<load::Ws>)> {
    let mut conns = Vec::with_capacity(members);
    for i in 0..members {
        let mut ws = Client::connect(server.addr).await.into_ws();
        ws.send(Message::text(format!("m{i} in g"))).await?;
        conns.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let writer = conns.remove(0);
    Ok((writer, conns))
}

async fn measure(
    server: &Server,
    flavor: Flavor,
    writer: load::Ws,
    room: Option<String>,
    receivers: Vec<load::Ws>,
    messages: u64,
    body: usize,
) -> Result<Run> {
    let epoch = Instant::now();
    let others = receivers.len() as u64;
    let cpu_before = server.cpu()?;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(receivers.len());
    for ws in receivers {
        let (mut sink, mut stream) = ws.split();
        tasks.push(tokio::spawn(async move { load::receive(flavor, &mut sink, &mut stream, messages, epoch).await }));
    }
    let (mut sink, mut stream) = writer.split();
    for n in 1..=messages {
        let frame = load::send_frame(flavor, n, "#g", room.as_deref(), &load::body(epoch, body));
        sink.send(Message::text(frame)).await?;
    }
    let mut answered = 0;
    load::read_until(&mut stream, |text| {
        answered += u64::from(load::is_answer(flavor, text));
        answered == messages
    })
    .await
    .context("the writer's answers")?;
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let wall = start.elapsed();
    let cpu = server.cpu()?.saturating_sub(cpu_before);
    Ok(Run::new(messages * others, wall, cpu, latencies))
}
