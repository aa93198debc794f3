//! The network side of the client. A [`worker`] task owns the socket; the rest of the client (the TUI, the demo
//! bots, tests) talks to it only through [`Command`]s and [`Event`]s.
//!
//! - [`transport`]: ws:// and wss:// connections, and the largest message read from a relay.
//! - [`streams`]: ordering a handle's stream items without gaps or duplicates.
//! - [`bounds`]: text from the relay cut to the protocol's limits.
//! - [`warnings`]: rate-limited warnings, and when a relay has sent too much it cannot use.
//! - [`outbox`]: outgoing messages, sent one at a time in the order typed, again after a pause the relay asks for.
//! - [`worker`]: connect, authenticate, resume, queue outgoing messages while offline, reconnect with backoff.

pub mod bounds;
pub mod outbox;
pub mod streams;
pub mod transport;
pub mod warnings;
pub mod worker;

pub use worker::{Auth, Command, ConnState, Event, OutgoingMessage, Target, WorkerConfig, WorkerHandle, spawn};
