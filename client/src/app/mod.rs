//! The client as an Elm architecture: a [`Model`] (all state, plain data), [`Msg`] (everything that can happen),
//! `update(&mut Model, Msg) -> Vec<Cmd>` (the only place state changes; side effects come back as data), and a pure
//! view (`crate::view`) that draws the same screen for the same model.
//!
//! Input becomes actions like this: a key press → `keymap::action_for(mode, key)` → an [`crate::keymap::Action`] →
//! `update` changes the model and returns [`Cmd`]s → the runtime performs them (network commands go to the worker,
//! tokens to the keyring...) → results come back as [`Msg::Net`].

pub mod commands;
mod dialogs;
mod events;
mod groups;
pub mod history;
pub mod input;
pub mod model;
mod promotion;
pub mod receipts;
mod search;
pub mod update;

pub use model::*;
pub use update::update;

use crossterm::event::KeyEvent;
use huddle_shared::Millis;

use crate::net;

/// Everything that can happen to the client.
// Messages are handled one at a time and never stored, so their size does not matter; boxing the network event
// would only add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    /// About once a second, with the current time.
    Tick(Millis),
    Net(net::Event),
}

/// Side effects `update` asks for.
#[derive(Debug)]
pub enum Cmd {
    Net(net::Command),
    /// The welcome screen chose the personal relay: start it, then a worker for it.
    UsePersonalRelay,
    /// The welcome screen chose a relay: start a worker for it.
    UseRelay {
        url: String,
        ca_file: Option<String>,
    },
    /// Keep the session token (OS keyring or the private file).
    SaveToken {
        account: String,
        token: String,
    },
    /// Forget the stored token (logout, or the relay no longer accepts it).
    ForgetToken,
    Quit,
}

#[cfg(test)]
mod tests;
