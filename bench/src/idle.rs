//! Memory of idle connections: the server's resident memory before and after `count` connections that logged in
//! (relay) or named themselves (bare) and then say nothing.

use std::time::Duration;

use anyhow::Result;
use futures_util::SinkExt;
use huddle_shared::ServerFrame;
use huddle_tests::Client;
use tokio_tungstenite::tungstenite::Message;

use crate::report::kib;

pub async fn compare(count: usize, pin: bool) -> Result<()> {
    println!();
    println!("idle connections — {count} logged in and silent; the server's resident memory per connection");
    let data = crate::DataDir::new("idle")?;
    let relay = data.relay(pin)?;
    let mut first = Client::connect(relay.addr).await;
    first.hello().await;
    let ServerFrame::Session { token: Some(token), .. } = first.register("idle").await else {
        anyhow::bail!("no token")
    };
    settle().await;
    let before = relay.rss()?;
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let mut c = Client::connect(relay.addr).await;
        c.hello().await;
        c.login_token(&token).await;
        c.barrier().await;
        held.push(c);
    }
    settle().await;
    let relay_per = (relay.rss()?.saturating_sub(before)) as f64 / count as f64;
    drop(held);
    relay.stop()?;

    let bare = crate::bare(pin)?;
    settle().await;
    let before = bare.rss()?;
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let mut ws = Client::connect(bare.addr).await.into_ws();
        ws.send(Message::text(format!("idle{i}"))).await?;
        held.push(ws);
    }
    settle().await;
    let bare_per = (bare.rss()?.saturating_sub(before)) as f64 / count as f64;
    drop(held);
    bare.stop()?;
    println!(
        "  relay {} · bare tokio-tungstenite {} · relay / bare {:.2}×",
        kib(relay_per),
        kib(bare_per),
        relay_per / bare_per
    );
    Ok(())
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}
