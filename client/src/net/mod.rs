//! The network side of the client. A [`worker`] task owns the socket; the rest of the client (the TUI, the demo
//! bots, tests) talks to it only through [`Command`]s and [`Event`]s.
//!
//! - [`transport`]: ws:// and wss:// connections.
//! - [`streams`]: ordering a handle's stream items without gaps or duplicates.
//! - [`worker`]: connect, authenticate, resume, queue outgoing messages while offline, reconnect with backoff.

pub mod streams;
pub mod transport;
pub mod worker;

pub use worker::{Auth, Command, ConnState, Event, OutgoingMessage, Target, WorkerConfig, WorkerHandle, spawn};
