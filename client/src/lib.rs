//! Huddle's terminal client.
//!
//! # Layout
//! - [`app`]: the Elm core: model, messages, `update` (no I/O).
//! - [`view`]: the pure view, drawing a model.
//! - [`net`]: the network worker that owns the socket.
//! - [`runtime`]: the event loop that performs `update`'s commands; [`terminal`]: entering/leaving the TUI.
//! - [`keymap`], [`theme`], [`config`], [`token_store`]: data the user can change, and where the login is kept.
//! - [`embedded`]: the personal relay; [`demo`]: `huddle demo`'s scripted friends.
//! - [`desktop`]: desktop notifications over D-Bus.
//! - [`cli`]: the command line, and the man page and completions generated from it.
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod desktop;
pub mod embedded;
pub mod keymap;
pub mod look;
pub mod net;
pub mod runtime;
pub mod terminal;
pub mod theme;
pub mod token_store;
pub mod view;

/// `bytes` random bytes as hex (ids, demo passwords).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // Without system randomness, ids are still unique enough from the clock; nothing secret uses this fallback.
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        return format!("{nanos:x}");
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
