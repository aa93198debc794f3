//! Huddle's terminal client.
pub mod app;
pub mod config;
pub mod keymap;
pub mod net;
pub mod theme;
pub mod token_store;
