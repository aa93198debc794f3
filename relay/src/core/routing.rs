//! The routing rule, in one place. Every push and every refusal in the core goes through these predicates.
//!
//! - X may send a direct message to Y iff an entry links them (Y on X's list, or X on Y's list, without the
//!   "removed you" mark) and neither blocked the other.
//! - Y's presence and profile reach X iff Y is on X's list (not marked) and Y has not blocked X.
//! - Receipts of X's messages by Y (delivered, read) reach X, and only X, iff Y has not blocked X.

use huddle_shared::Address;

use super::state::State;

/// An unmarked entry: `peer` is on `owner`'s list and has not deleted `owner`.
pub fn live_entry(state: &State, owner: &Address, peer: &Address) -> bool {
    state.entries.get(owner, peer).is_some_and(|e| !e.removed_you)
}

pub fn blocked_either(state: &State, a: &Address, b: &Address) -> bool {
    state.blocks.contains(a, b) || state.blocks.contains(b, a)
}

pub fn may_message(state: &State, from: &Address, to: &Address) -> bool {
    from != to && (live_entry(state, from, to) || live_entry(state, to, from)) && !blocked_either(state, from, to)
}

/// Whether `viewer` may see `of`'s presence and profile.
pub fn sees(state: &State, viewer: &Address, of: &Address) -> bool {
    live_entry(state, viewer, of) && !state.blocks.contains(of, viewer)
}

/// Whether `recipient`'s receipts of `sender`'s messages may be recorded and reported to `sender` (whose stream is
/// the only place they go): not while the recipient blocks the sender.
pub fn receipts_reach(state: &State, recipient: &Address, sender: &Address) -> bool {
    !state.blocks.contains(recipient, sender)
}

/// Everyone who may see `of`'s presence: owners of an unmarked entry for `of` whom `of` has not blocked.
pub fn viewers_of<'a>(state: &'a State, of: &'a Address) -> impl Iterator<Item = &'a Address> {
    state.entries.to(of).filter(move |viewer| sees(state, viewer, of))
}
