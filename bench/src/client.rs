//! The client with a conversation of `lines` messages, as a person would meet it: the messages are sent through a
//! relay while the reader is away, then the real `huddle` binary starts in a pseudo-terminal, logs in (syncing
//! them all), opens the conversation, pages through it and searches it. What it costs is read from the kernel
//! (CPU time, resident memory), and timings from the screen as a terminal emulator shows it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use huddle_shared::model::RequestAnswer;
use huddle_tests::Client;
use huddle_tests::pty::Tui;
use tokio_tungstenite::tungstenite::Message;

use crate::proc::{precise_cpu_of as cpu_of, rss_of};
use crate::report::ms;

pub async fn measure(lines: u64, cols: u16, rows: u16, pin: bool) -> Result<()> {
    println!();
    println!("client — {lines} messages from ben synced at ann's login, in a {cols}×{rows} terminal");
    let data = crate::DataDir::new("client")?;
    let relay = data.relay(pin)?;
    let mut ann = Client::user_at(relay.addr, "ann").await;
    let mut ben = Client::user_at(relay.addr, "ben").await;
    huddle_tests::befriend(&mut ann, &mut ben, RequestAnswer::AcceptMutual).await;
    drop(ann);
    let filling = Instant::now();
    send_all(ben.into_ws(), lines).await?;
    println!("  ({lines} messages sent through the relay in {:.1} s)", filling.elapsed().as_secs_f64());

    let home = data.path().join("ann-home");
    let url = format!("ws://{}", relay.addr);
    // The client's work happens on its own threads; the measurement reads them from outside.
    let result = tokio::task::spawn_blocking(move || drive(&home, &url, lines, cols, rows)).await?;
    relay.stop()?;
    result
}

/// Ben's messages, pipelined (a window of 1,000 unanswered).
async fn send_all(ws: crate::load::Ws, lines: u64) -> Result<()> {
    let (mut sink, mut stream) = ws.split();
    let (mut sent, mut answered) = (0u64, 0u64);
    while answered < lines {
        while sent < lines && sent - answered < 1000 {
            sent += 1;
            let body = format!("message number {sent} of the long conversation, about as long as a chat line is");
            let frame =
                format!(r#"{{"type":"send","id":{sent},"to":"ann","body":"{body}","client_msg_id":"c{sent}"}}"#);
            sink.feed(Message::text(frame)).await?;
        }
        sink.flush().await?;
        match stream.next().await {
            Some(Ok(Message::Text(text))) if text.as_str().starts_with(r#"{"type":"stored""#) => answered += 1,
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("the relay closed ben's connection"),
        }
    }
    Ok(())
}

fn drive(home: &std::path::Path, url: &str, lines: u64, cols: u16, rows: u16) -> Result<()> {
    let binary = std::env::current_exe()?.with_file_name("huddle");
    if !binary.is_file() {
        anyhow::bail!("{} is missing: build it first with `cargo build --release -p huddle-client`", binary.display());
    }
    let started = Instant::now();
    let mut tui = Tui::start_binary(&binary, "ann", home, &["--relay", url], cols, rows);
    let pid = tui.pid().context("the client's pid")?;
    poll_until(&tui, Duration::from_secs(20), |s| s.contains("Log in")).context("the login form never showed")?;
    let first_frame = started.elapsed();
    settle(pid)?;
    let rss_before = rss_of(pid)?;
    tui.log_in("ann");
    // The sync: until the client is idle again.
    let cpu_at_login = cpu_of(pid)?;
    let sync_wall = Instant::now();
    settle(pid)?;
    let sync_cpu = cpu_of(pid)?.saturating_sub(cpu_at_login);
    let sync_wall = sync_wall.elapsed();
    // Open ben's conversation: select him (friends are listed online first) and press Enter.
    let last = format!("message number {lines} ");
    tui.down();
    let opened = Instant::now();
    tui.keys_now("\r");
    poll_until(&tui, Duration::from_secs(20), |s| s.contains(&last)).context("the conversation never showed")?;
    let open_time = opened.elapsed();
    settle(pid)?;
    let rss = rss_of(pid)?.saturating_sub(rss_before);

    // Pages: near the bottom, then from the top down.
    tui.tab();
    let pages = 100;
    let near_bottom = per_key(&mut tui, pid, "\x1b[5~", pages)?;
    tui.keys("\x1b[H");
    settle(pid)?;
    let near_top = per_key(&mut tui, pid, "\x1b[6~", pages)?;
    // Idle while scrolled up.
    let idle_before = cpu_of(pid)?;
    std::thread::sleep(Duration::from_secs(3));
    let idle = cpu_of(pid)?.saturating_sub(idle_before) / 3;

    // Search for an early message from the bottom.
    tui.keys("\x1b[F");
    tui.ctrl('f');
    let target = "message number 17 ";
    tui.type_text("number 17 of");
    let cpu_before = cpu_of(pid)?;
    let searching = Instant::now();
    tui.keys_now("\r");
    let search_wall = poll_until(&tui, Duration::from_secs(60), |s| s.contains(target));
    let search_cpu = cpu_of(pid)?.saturating_sub(cpu_before);

    println!("  first frame (start to the login form)     {}", ms(first_frame));
    println!(
        "  login with {lines} unsynced messages           {} of CPU, {:.2} s until idle",
        ms(sync_cpu),
        sync_wall.as_secs_f64()
    );
    println!("  opening the conversation                    {}", ms(open_time));
    println!(
        "  memory for the conversation                 {:.1} MiB ({:.0} bytes a line; resident, after the login form)",
        rss as f64 / (1024.0 * 1024.0),
        rss as f64 / lines as f64
    );
    println!("  CPU per PgUp near the bottom                {}", ms(near_bottom));
    println!("  CPU per PgDn from the top                   {}", ms(near_top));
    println!("  CPU per second, idle and scrolled up        {}", ms(idle));
    match search_wall {
        Some(wall) => println!(
            "  search to the oldest match shown            {} ({} of CPU)",
            ms(wall.min(searching.elapsed())),
            ms(search_cpu)
        ),
        None => println!("  search: the match never showed"),
    }
    match which("irssi") {
        Some(_) => println!("  irssi is installed, but no side-by-side run is scripted here yet"),
        None => println!("  irssi: not installed on this machine, so no side-by-side figure"),
    }
    Ok(())
}

/// Sends `key` `count` times, each once the previous was drawn, and returns the client's CPU per key.
fn per_key(tui: &mut Tui, pid: u32, key: &str, count: u32) -> Result<Duration> {
    settle(pid)?;
    let before = cpu_of(pid)?;
    for _ in 0..count {
        tui.keys(key);
    }
    settle(pid)?;
    Ok(cpu_of(pid)?.saturating_sub(before) / count)
}

/// Waits until the process has used no CPU for half a second (at most a minute).
fn settle(pid: u32) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = cpu_of(pid)?;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let now = cpu_of(pid)?;
        // Less than a millisecond in half a second: the clock tick at most.
        if now.saturating_sub(last) < Duration::from_millis(1) {
            return Ok(());
        }
        last = now;
    }
    anyhow::bail!("the client never went idle")
}

/// How long until the screen satisfies `ok`, polled every millisecond.
fn poll_until(tui: &Tui, limit: Duration, ok: impl Fn(&str) -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ok(&tui.screen()) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| std::path::Path::new(d).join(program)).find(|p| p.is_file())
}
