//! Every consent and visibility rule of the relay, in one place. Nothing elsewhere in the core looks at blocks, list
//! entries or invitation settings to decide who may reach whom: it asks these predicates (a check in
//! `relay/tests/boundaries.rs` keeps block lookups here).
//!
//! - **Direct messages** (and typing in a direct room): X may write to Y iff an entry links them (Y on X's list, or X
//!   on Y's list, without the "removed you" mark) and neither blocked the other.
//! - **Presence and profile**: Y's reach X iff Y is on X's list (not marked) and Y has not blocked X.
//! - **Rooms other than direct ones**: a member's message (and typing) reaches every other member who has not blocked
//!   the sender. Someone may invite P iff the two are related — the direct-message rule, or a shared room — and
//!   neither blocked the other; P's invitation setting then decides between joining at once, being asked, or refusing.
//! - **Receipts** of X's messages by Y reach X, and only X, iff Y has not blocked X.
//! - **Friend requests and deletion notices** do not reach someone who blocked the sender; a request from someone the
//!   viewer blocked is not shown to the viewer.

use huddle_shared::Address;
use huddle_shared::model::InvitePolicy;

use super::state::State;
use crate::storage::BlockRec;

/// An unmarked entry: `peer` is on `owner`'s list and has not deleted `owner`.
pub fn live_entry(state: &State, owner: &Address, peer: &Address) -> bool {
    state.entries.get(owner, peer).is_some_and(|e| !e.removed_you)
}

fn blocked_either(state: &State, a: &Address, b: &Address) -> bool {
    state.blocks.contains(a, b) || state.blocks.contains(b, a)
}

/// Whether `a` blocked `b`.
pub fn blocks(state: &State, a: &Address, b: &Address) -> bool {
    state.blocks.contains(a, b)
}

/// Direct messages and typing in a direct room: `from` may write to `to`.
pub fn may_message(state: &State, from: &Address, to: &Address) -> bool {
    from != to && (live_entry(state, from, to) || live_entry(state, to, from)) && !blocked_either(state, from, to)
}

/// Presence and profile: `viewer` may see `of`'s.
pub fn sees(state: &State, viewer: &Address, of: &Address) -> bool {
    live_entry(state, viewer, of) && !state.blocks.contains(of, viewer)
}

/// Everyone who may see `of`'s presence and profile.
pub fn viewers_of<'a>(state: &'a State, of: &'a Address) -> impl Iterator<Item = &'a Address> {
    state.entries.to(of).filter(move |viewer| sees(state, viewer, of))
}

/// When `of` blocks `viewer`, the block — so that `viewer` is shown an ordinary offline friend, last seen when the
/// block began, and cannot tell the block from someone who stopped coming online.
pub fn hides_presence_from<'a>(state: &'a State, of: &Address, viewer: &Address) -> Option<&'a BlockRec> {
    state.blocks.get(of, viewer)
}

/// Rooms: a message or typing indicator of `sender` reaches `member` (blocks hold inside rooms).
pub fn receives_from(state: &State, member: &Address, sender: &Address) -> bool {
    member == sender || !state.blocks.contains(member, sender)
}

/// Receipts: `recipient`'s delivery and reading of `sender`'s messages may be recorded and reported to `sender`.
pub fn receipts_reach(state: &State, recipient: &Address, sender: &Address) -> bool {
    !state.blocks.contains(recipient, sender)
}

/// Invitations: `inviter` may invite `invitee` to a room (the invitee exists is checked by the caller).
pub fn may_invite(state: &State, inviter: &Address, invitee: &Address) -> bool {
    let related = may_message(state, inviter, invitee) || state.share_room(inviter, invitee);
    related && !blocked_either(state, inviter, invitee)
}

/// What an invitation does, under the invitee's setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteOutcome {
    /// The invitee is in the room at once.
    Join,
    /// The invitee is asked and answers with `answer_room_invite`.
    Ask,
    /// The invitee refuses every invitation.
    Refuse,
}

/// `auto` joins at once when the inviter and every member the invitee would be put with (`others`: the room's
/// members at that moment) are on the invitee's list (unmarked), and asks otherwise — nobody is put in a room with
/// someone who is not their friend without being asked; someone who left the room or was removed from it
/// (`former`) is always asked; `ask` always asks; `refuse` refuses.
pub fn invite_outcome(
    state: &State,
    policy: InvitePolicy,
    invitee: &Address,
    inviter: &Address,
    others: &[Address],
    former: bool,
) -> InviteOutcome {
    let all_friends = live_entry(state, invitee, inviter)
        && others.iter().filter(|o| *o != invitee && *o != inviter).all(|o| live_entry(state, invitee, o));
    match policy {
        InvitePolicy::Auto if all_friends && !former => InviteOutcome::Join,
        InvitePolicy::Auto | InvitePolicy::Ask => InviteOutcome::Ask,
        InvitePolicy::Refuse => InviteOutcome::Refuse,
    }
}

/// Why a friend request may not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBlocked {
    /// The sender blocked the addressee (and may be told so: it is their own block).
    ByYou,
    /// The addressee blocked the sender: answered exactly as a handle that does not exist.
    Unreachable,
}

/// Friend requests: whether `from` may ask `to`.
pub fn may_request(state: &State, from: &Address, to: &Address) -> Result<(), RequestBlocked> {
    if state.blocks.contains(from, to) {
        Err(RequestBlocked::ByYou)
    } else if state.blocks.contains(to, from) {
        Err(RequestBlocked::Unreachable)
    } else {
        Ok(())
    }
}

/// Deletion notices and requests: `deleter`'s reach `to` unless `to` blocked `deleter`.
pub fn may_notify(state: &State, deleter: &Address, to: &Address) -> bool {
    !state.blocks.contains(to, deleter)
}

/// A friend request from `from` is listed to `viewer` unless `viewer` blocked `from`.
pub fn shows_request(state: &State, viewer: &Address, from: &Address) -> bool {
    !state.blocks.contains(viewer, from)
}

/// A block or unblock by `blocker` changes what `target` sees only if `target` lists `blocker`; telling anyone else
/// (with a fresh friend list) would give the block away.
pub fn notices_block(state: &State, blocker: &Address, target: &Address) -> bool {
    state.entries.contains(target, blocker)
}
