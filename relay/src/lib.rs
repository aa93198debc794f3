//! The Huddle relay.
pub mod storage;
