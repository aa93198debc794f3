//! Huddle's terminal chat client, as a library the `huddle` binary and the end-to-end tests share.
//!
//! # Layout
//!
//! - [`keymap`]: key bindings as data (`assets/keymap.toml`), per focused part of the screen.
//! - [`theme`]: the colors and text styles of every element (`assets/theme.toml`), with `NO_COLOR` support.
//! - [`config`]: where Huddle keeps its files, and the client settings (`assets/client.toml`).
//! - [`token_store`]: where the login token lives: the OS keyring, or a private file where there is none.

pub mod config;
pub mod keymap;
pub mod theme;
pub mod token_store;
