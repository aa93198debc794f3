//! The Huddle relay.
pub mod core;
pub mod password;
pub mod storage;
