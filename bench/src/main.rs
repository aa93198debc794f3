//! `huddle-bench`: the relay measured beside a bare tokio-tungstenite server in the same run, each as its own
//! process pinned to one core with the load driver on the other, and reported as ratios:
//!
//! - **1:1 delivery**: pairs of sender and receiver, a window of unanswered messages, 100-byte bodies; messages per
//!   second, server CPU per delivered message, and latency at half the maximum rate;
//! - **fan-out**: one member writing to a room of N (a huddle of a topic's subscribers on the relay, a group on the
//!   bare server); server CPU per delivery;
//! - **idle connections**: resident memory per logged-in connection;
//! - **stuck readers**: resident memory while messages pile up for connections that stopped reading, and after;
//! - **cold start**: from starting the relay on stored history to the first login.
//!
//! `cargo run --release -p huddle-bench` runs them all with the defaults (see `--help`). The servers are this
//! executable run with a hidden subcommand; nothing else needs installing (`taskset` pins when it is there).

mod client;
mod cold;
mod fanout;
mod idle;
mod load;
mod one_to_one;
mod proc;
mod report;
mod servers;
mod stuck;

use std::path::PathBuf;

/// The allocator of the `huddle-relay` binary, so that the relay measured here is the relay that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use load::Flavor;
use proc::Server;
use report::{median, ms};

#[derive(Parser)]
#[command(about = "Huddle's relay beside a bare tokio-tungstenite server, in one run")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Sender/receiver pairs of the 1:1 run.
    #[arg(long, default_value_t = 10)]
    pairs: usize,
    /// Messages each pair sends per run.
    #[arg(long, default_value_t = 2000)]
    messages: u64,
    /// Messages a sender keeps unanswered.
    #[arg(long, default_value_t = 100)]
    window: u64,
    /// Body size in bytes.
    #[arg(long, default_value_t = 100)]
    body: usize,
    /// Interleaved runs of each server; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Room sizes of the fan-out runs.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    fanout: Vec<usize>,
    /// Deliveries per fan-out run: the writer sends this many divided by the room's size.
    #[arg(long, default_value_t = 200_000)]
    fanout_deliveries: u64,
    /// Logged-in connections held idle for the memory figure.
    #[arg(long, default_value_t = 2000)]
    idle: usize,
    /// Members of the room whose other members stop reading, for the stuck-readers figure.
    #[arg(long, default_value_t = 1000)]
    stuck: usize,
    /// Messages the writer sends to the stuck readers, and their body size.
    #[arg(long, default_value_t = 500)]
    stuck_messages: u64,
    #[arg(long, default_value_t = 4096)]
    stuck_body: usize,
    /// Stored messages for the cold-start figure (the relay also starts on an empty database).
    #[arg(long, default_value_t = 1_000_000)]
    stored: u64,
    /// Messages in the client's conversation.
    #[arg(long, default_value_t = 100_000)]
    client_lines: u64,
    /// Only these parts: any of one-to-one, fanout, idle, stuck, cold, client.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// (Internal) serve the relay on a data directory until stdin closes.
    #[command(hide = true)]
    ServeRelay { dir: PathBuf },
    /// (Internal) serve the bare tokio-tungstenite forwarder until stdin closes.
    #[command(hide = true)]
    ServeBare,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::ServeRelay { dir }) => return servers::relay(dir),
        Some(Command::ServeBare) => return servers::bare(),
        None => {}
    }
    let pin = proc::can_pin();
    if pin {
        proc::pin_self(proc::DRIVER_CORE)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(run(cli, pin))
}

async fn run(cli: Cli, pin: bool) -> Result<()> {
    let wants = |part: &str| cli.only.is_empty() || cli.only.iter().any(|o| o == part);
    println!("huddle-bench {} — {}", env!("CARGO_PKG_VERSION"), machine());
    println!(
        "servers pinned to core {} and the driver to core {}: {}",
        proc::SERVER_CORE,
        proc::DRIVER_CORE,
        if pin { "yes" } else { "no (taskset not found)" }
    );
    if wants("one-to-one") {
        one_to_one(&cli, pin).await?;
    }
    if wants("fanout") {
        for &members in &cli.fanout {
            let messages = (cli.fanout_deliveries / (members.max(2) as u64 - 1)).max(1);
            // A size that cannot be set up is reported, and the other parts still run.
            if let Err(e) = fanout::compare(members, messages, cli.body, pin).await {
                println!("  fan-out to {members} could not be measured: {e:#}");
            }
        }
    }
    if wants("idle") {
        idle::compare(cli.idle, pin).await?;
    }
    if wants("stuck") {
        stuck::compare(cli.stuck, cli.stuck_messages, cli.stuck_body, pin).await?;
    }
    if wants("cold") {
        cold::compare(cli.stored, pin).await?;
    }
    if wants("client") {
        client::measure(cli.client_lines, 200, 60, pin).await?;
    }
    Ok(())
}

/// A fresh data directory for a relay, removed when dropped.
pub struct DataDir(PathBuf);

impl DataDir {
    pub fn new(tag: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("huddle-bench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).context("creating a data directory")?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn relay(&self, pin: bool) -> Result<Server> {
        let dir = self.0.to_str().context("a temporary path that is not UTF-8")?;
        Server::spawn(&["serve-relay", dir], pin)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn bare(pin: bool) -> Result<Server> {
    Server::spawn(&["serve-bare"], pin)
}

async fn one_to_one(cli: &Cli, pin: bool) -> Result<()> {
    let shape =
        one_to_one::Shape { pairs: cli.pairs, per_pair: cli.messages, window: cli.window, body: cli.body, rate: None };
    println!();
    println!(
        "1:1 delivery — {} pairs, window {}, {}-byte bodies, {} messages a run, median of {} interleaved runs",
        shape.pairs,
        shape.window,
        shape.body,
        shape.pairs as u64 * shape.per_pair,
        cli.runs
    );
    let data = DataDir::new("one-to-one")?;
    let relay = data.relay(pin)?;
    let bare = bare(pin)?;
    let (mut relay_runs, mut bare_runs) = (Vec::new(), Vec::new());
    for i in 0..cli.runs {
        relay_runs.push(one_to_one::measure(&relay, Flavor::Relay, shape, &format!("m{i}")).await?);
        bare_runs.push(one_to_one::measure(&bare, Flavor::Bare, shape, &format!("m{i}")).await?);
    }
    let r = median(&mut relay_runs).context("no relay run")?;
    let b = median(&mut bare_runs).context("no bare run")?;
    println!("  {:<28} {:>12} {:>14} {:>10} {:>10}", "", "msg/s", "CPU µs/msg", "p50", "p99");
    for (name, run) in [("relay (stored, fsync'd)", &r), ("bare tokio-tungstenite", &b)] {
        println!(
            "  {:<28} {:>12.0} {:>14.2} {:>10} {:>10}",
            name,
            run.per_second(),
            run.cpu_us(),
            ms(run.percentile(0.5)),
            ms(run.percentile(0.99))
        );
    }
    println!(
        "  relay / bare: {:.2}× the CPU per message, {:.2}× the throughput",
        r.cpu_us() / b.cpu_us(),
        r.per_second() / b.per_second()
    );
    // Latency where it is not queueing: half of each server's maximum rate.
    let (relay_half, bare_half) = (r.per_second() / 2.0, b.per_second() / 2.0);
    let paced = |rate| one_to_one::Shape { rate: Some(rate), ..shape };
    let rp = one_to_one::measure(&relay, Flavor::Relay, paced(relay_half), "half").await?;
    let bp = one_to_one::measure(&bare, Flavor::Bare, paced(bare_half), "half").await?;
    for (name, rate, run) in [("relay", relay_half, &rp), ("bare", bare_half, &bp)] {
        println!(
            "  at half its maximum ({:.0} msg/s) the {name} delivers at p50 {} and p99 {} ({:.2} µs CPU/msg)",
            rate,
            ms(run.percentile(0.5)),
            ms(run.percentile(0.99)),
            run.cpu_us()
        );
    }
    relay.stop()?;
    bare.stop()?;
    Ok(())
}

/// The CPU model and core count, for the report's header.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    // Counted from /proc/cpuinfo: the driver is pinned to one core by now, so available_parallelism says 1.
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    format!("{model}, {cores} cores")
}
