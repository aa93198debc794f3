//! Huddle's wire contract: the frames a client and a relay exchange, the data they carry, the limits and the error
//! codes. Pure data and codec — no tokio, no sockets — so that the relay, the client and any third-party tool agree
//! on exactly one definition.
//!
//! # Layout
//! - [`address`]: handles (`alice`) and addresses (`alice@relay.example`), validated on parse.
//! - [`ids`]: typed ids of rooms (naming their relay, like addresses), messages and sessions.
//! - [`version`]: protocol versions and features, and their negotiation in `hello`.
//! - [`limits`]: every size limit of the protocol, in one place.
//! - [`model`]: records carried inside frames (presence, lists, rooms, messages, streams), one file per concept.
//! - [`client`] / [`server`]: the two frame enums, tagged by `type` in JSON; one struct per client frame.
//! - [`error`]: stable machine-readable error codes.
//! - [`codec`]: text ⇄ frame, with typed decode errors that keep the request id when one could be read.
//! - [`text`]: validation of user-supplied text (message bodies, greetings, activity...).
//!
//! The protocol is documented for humans in `docs/protocol.md`; that document and these types must agree.

pub mod address;
pub mod client;
pub mod codec;
pub mod error;
pub mod ids;
pub mod limits;
pub mod model;
pub mod server;
pub mod text;
pub mod version;

pub use address::{Address, AddressError, Handle, RelayName};
pub use client::ClientFrame;
pub use codec::DecodeError;
pub use error::ErrorCode;
pub use ids::{MessageId, RoomId, RoomIdError, SessionId};
pub use server::ServerFrame;
pub use version::ProtocolVersion;

/// A client-chosen request id, echoed by the answer: any integer from 0 to 2^64 − 1 (clients whose numbers are doubles
/// should stay below 2^53).
pub type RequestId = u64;

/// Milliseconds since the Unix epoch, UTC, as assigned by the relay's clock.
pub type Millis = i64;
