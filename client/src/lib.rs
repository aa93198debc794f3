//! Huddle's terminal client.
//!
//! # Layout
//! - [`app`]: the Elm core: model, messages, update.
//! - [`net`]: the network worker that owns the socket.
pub mod app;
pub mod net;
pub mod view;
