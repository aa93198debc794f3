//! Huddle's terminal chat client, as a library the `huddle` binary and the end-to-end tests share.
//!
//! # Layout
//!
//! - [`keymap`]: key bindings as data (`assets/keymap.toml`), per focused part of the screen.
//! - [`config`]: where Huddle keeps its files, and the client settings (`assets/client.toml`).

pub mod config;
pub mod keymap;
