//! The client as an Elm architecture: a [`Model`] (all state, plain data), [`Msg`] (everything that can happen),
//! `update(&mut Model, Msg) -> Vec<Cmd>` (the only place state changes; side effects come back as data), and a pure
//! view (`crate::view`) that draws the same screen for the same model.
//!
//! Input becomes actions like this: a key press → `keymap::action_for(mode, key)` → an [`crate::keymap::Action`] →
//! the part of the screen it is for (`navigation`, `composer`, `dialogs`) changes its state and returns [`Cmd`]s;
//! what the person decided is a [`Cmd::Do`] carrying an [`intent::Intent`], which `update` hands to
//! `perform::perform`, the one place that acts → the runtime performs the other commands (network commands go to the
//! worker, tokens to the keyring, the bell to the terminal...) → results come back as [`Msg::Net`].
//!
//! The modules form layers, and none calls a module of a layer above it (checked by `tests/boundaries.rs`):
//! `model`, `intent`, `input` · `kept`, `notices`, `requests`, `selection`, `conversation`, `handles`, `confirm`,
//! `questions` · `history`, `receipts`, `search`, `groups`, `promotion`, `notify` · `events`, `perform` · `dialogs`,
//! `composer`, `slash`, `navigation` · `update`.

pub mod commands;
mod composer;
pub mod confirm;
mod conversation;
mod dialogs;
mod editing;
mod events;
mod groups;
mod handles;
mod held;
pub mod history;
pub mod huddles;
pub mod input;
pub mod intent;
pub mod kept;
pub mod model;
mod navigation;
mod notices;
pub mod notify;
pub mod perform;
mod promotion;
mod questions;
pub mod receipts;
mod requests;
mod search;
mod selection;
mod slash;
mod timeline;
pub mod update;

pub use model::*;
pub use notices::notify;
pub use selection::{index as selected_index, selected_row};
pub use update::{clock_face, update};

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
    /// The terminal's new size (columns, rows); also sent once at start.
    Resize(u16, u16),
    Net(net::Event),
    /// What the frame just drawn showed of the open conversation.
    Drawn(LogDrawn),
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
    /// Something the person decided, for `update` to perform (never reaches the runtime).
    Do(intent::Intent),
    /// Ring the terminal bell.
    Bell,
    /// A desktop notification (by the terminal's escape sequence, where the person enabled one).
    Notify {
        title: String,
        body: String,
    },
    /// Clear and draw the whole screen again.
    Redraw,
    /// Keep these choices about conversations (mutes, archives) for the next start.
    SaveKept(kept::Kept),
    Quit,
}

#[cfg(test)]
mod tests;
