//! The Huddle relay: accounts, consent-based friend lists, presence and never-lost message routing over WebSocket.
//!
//! # Layout
//! - [`core`]: the logic, a state machine that reads no clock and touches no socket (`Core::handle(input, now) ->
//!   effects`, `Core::poll_deadline()`); its only I/O is storage.
//! - [`storage`]: the `Storage` trait, SQLite (default) and in-memory implementations.
//! - [`net`]: the thin network shell: accept loop, TLS, one task per connection, the core thread, shutdown.
//! - [`config`]: the TOML configuration (`assets/relay.toml` documents every key).
//! - [`admin`]: the admin CLI's operations (users, invites) on the database.
//! - [`password`]: Argon2id hashing and session tokens.
//! - [`ids`]: the ids the relay makes (accounts, messages, rooms), the same wherever they are made.
//! - [`logging`]: the log subscriber, which keeps what dependencies trace of the wire out of every log.
//! - [`open_files`]: the open-files limit `max_connections` needs, checked (and raised) when `serve` starts.
//!
//! Data flows one way: socket → connection task (decode, rate limit) → core thread (handle, commit) → per-connection
//! outbound queue → socket.

pub mod admin;
pub mod config;
pub mod core;
pub mod ids;
pub mod logging;
pub mod net;
pub mod open_files;
pub mod password;
pub mod storage;

pub use net::{RelaySetup, RunningRelay, serve};
