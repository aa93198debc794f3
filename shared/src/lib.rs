//! Huddle's wire contract: the frames a client and a relay exchange, the data they carry, the limits and the error
//! codes. Pure data and codec — no tokio, no sockets — so that the relay, the client and any third-party tool agree
//! on exactly one definition.
//!
//! # Layout
//! - [`address`]: handles (`alice`) and addresses (`alice@relay.example`), validated on parse.
//! - [`limits`]: every size limit of the protocol, in one place.
//! - [`model`]: records carried inside frames (presence, profiles, friend entries, messages, system events).
//! - [`client`] / [`server`]: the two frame enums, tagged by `type` in JSON.
//! - [`error`]: stable machine-readable error codes.
//! - [`codec`]: text ⇄ frame, with typed decode errors that keep the request id when one could be read.
//! - [`text`]: validation of user-supplied text (message bodies, greetings, activity...).
//!
//! The protocol is documented for humans in `docs/protocol.md`; that document and these types must agree.

pub mod address;
pub mod client;
pub mod codec;
pub mod error;
pub mod limits;
pub mod model;
pub mod server;
pub mod text;

pub use address::{Address, AddressError, Handle, RelayName};
pub use client::ClientFrame;
pub use codec::DecodeError;
pub use error::ErrorCode;
pub use server::ServerFrame;

/// The protocol version spoken by this build. A relay refuses a `hello` with any other version (`version_mismatch`).
pub const PROTOCOL_VERSION: u32 = 1;

/// A client-chosen request id, echoed by the answer. Integers up to 2^53 − 1 so that JavaScript clients are exact.
pub type RequestId = u64;

/// Milliseconds since the Unix epoch, UTC, as assigned by the relay's clock.
pub type Millis = i64;
