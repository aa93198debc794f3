//! Logging that never carries a secret, whatever filter the operator (or a person debugging their client) sets.
//!
//! Huddle's own code never logs a password, token, invite code or message body. Some dependencies do at their most
//! verbose level: tungstenite traces every WebSocket message it reads and writes in full ("Received message
//! {"type":"register",…,"password":…}"), and TLS libraries trace handshake contents. So every subscriber Huddle
//! installs caps those targets at DEBUG, above anything `log = "trace"` or `RUST_LOG=trace` can lift them;
//! `tests/tests/secrets.rs` runs the real relay at `trace` and searches its log for every secret it was given.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Targets whose TRACE events carry what went over the wire.
pub const PAYLOAD_TARGETS: &[&str] = &["tungstenite", "tokio_tungstenite", "rustls", "tokio_rustls"];

/// Lets everything through except the payload-carrying targets' TRACE events.
pub fn payload_cap() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(PAYLOAD_TARGETS.iter().map(|target| (*target, LevelFilter::DEBUG)))
}

/// Installs the global subscriber: `filter` as configured, then [`payload_cap`], written by `writer`.
pub fn init<W>(filter: EnvFilter, writer: W, ansi: bool)
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let layer = fmt::layer().with_writer(writer).with_ansi(ansi).with_filter(filter.and(payload_cap()));
    tracing_subscriber::registry().with(layer).init();
}
