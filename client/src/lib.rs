//! Huddle's terminal client.
pub mod net;
