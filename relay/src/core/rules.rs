//! Every consent and visibility rule of the relay, in one place. Nothing elsewhere in the core looks at blocks, list
//! entries or invitation settings to decide who may reach whom: it asks these predicates (a check in
//! `relay/tests/boundaries.rs` keeps block lookups here).
//!
//! - **Direct messages** (and typing in a direct room): X may write to Y iff an entry links them (Y on X's list, or X
//!   on Y's list, without the "removed you" mark) or they are together in a huddle that is running and neither set
//!   "not with" the other, and neither blocked the other. The huddle's relation is ad hoc: it goes when the huddle
//!   ends.
//! - **Presence and profile**: Y's reach X iff Y is on X's list (not marked) and Y has not blocked X.
//! - **Rooms other than direct ones**: a member's message (and typing) reaches every other member who has not blocked
//!   the sender — and, in a huddle, who is not kept apart from the sender by "not with" (either way). Someone may invite P iff the two are related — the direct-message rule, or a shared room — and
//!   neither blocked the other; P's invitation setting then decides between joining at once, being asked, or refusing.
//! - **Receipts** of X's messages by Y reach X, and only X, iff Y has not blocked X.
//! - **Huddles**: a handle is put in a huddle only with its consent — subscribed to the topic (and not muting it),
//!   following the anchor who shares its presence, huddles not turned off — and never with someone it blocked, was
//!   blocked by, or keeps apart ("not with", either way).
//! - **Friend requests and deletion notices** do not reach someone who blocked the sender; a request from someone the
//!   viewer blocked is not shown to the viewer.

use huddle_shared::model::{InvitePolicy, RoomKind, TopicId};
use huddle_shared::{Address, RoomId};

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
    let friends = live_entry(state, from, to) || live_entry(state, to, from);
    let huddled = || state.share_huddle(from, to) && !kept_apart(state, from, to);
    from != to && (friends || huddled()) && !blocked_either(state, from, to)
}

/// Whether either of the two set "not with" the other (huddles keep them apart).
pub fn kept_apart(state: &State, a: &Address, b: &Address) -> bool {
    let sets = |x: &Address, y: &Address| state.huddle_settings.get(x).is_some_and(|s| s.not_with.contains(y));
    sets(a, b) || sets(b, a)
}

/// Whether `a` and `b` may be put in the same huddle: not blocked either way, not kept apart.
pub fn may_huddle_together(state: &State, a: &Address, b: &Address) -> bool {
    !blocked_either(state, a, b) && !kept_apart(state, a, b)
}

/// Everyone `who` may not be put in a huddle with (blocks and "not with", either way): forming a huddle of N people
/// looks at these lists instead of at every pair, so it costs N plus the lists, not N².
pub fn huddle_apart_from<'a>(state: &'a State, who: &'a Address) -> impl Iterator<Item = &'a Address> + 'a {
    let blocked = state.blocks.from(who).map(|(target, _)| target);
    let blocked_by = state.blocks.to(who);
    let not_with = state.huddle_settings.get(who).into_iter().flat_map(|s| s.not_with.iter());
    let not_with_by = state.not_with_by.get(who).into_iter().flatten();
    blocked.chain(blocked_by).chain(not_with).chain(not_with_by)
}

/// Whether `who` agreed to be put in huddles of `topic`: subscribed, not muting it, huddles not turned off.
pub fn joins_topic_huddles(state: &State, who: &Address, topic: &TopicId) -> bool {
    let settings = state.huddle_settings.get(who);
    let subscribed = state.subscriptions.get(topic).is_some_and(|s| s.contains_key(who));
    subscribed && !settings.is_some_and(|s| s.off || s.muted_topics.contains(topic))
}

/// Whether `follower` is put in a huddle when `anchor` comes online: `anchor` shares its presence, `follower` follows
/// it and may see its presence, huddles are not off for either.
pub fn follows_presence(state: &State, follower: &Address, anchor: &Address) -> bool {
    let settings = |who: &Address| state.huddle_settings.get(who);
    let shares = settings(anchor).is_some_and(|s| s.share_presence && !s.off);
    let follows = settings(follower).is_some_and(|s| s.follows.contains(anchor) && !s.off);
    shares && follows && sees(state, follower, anchor)
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

/// Rooms: a message or typing indicator of `sender` in `room` reaches `member` (blocks hold inside rooms; in a
/// huddle, so does "not with").
pub fn receives_from(state: &State, room: &RoomId, member: &Address, sender: &Address) -> bool {
    let huddle = state.rooms.get(room).is_some_and(|r| r.kind == RoomKind::Huddle);
    let blocked = state.blocks.contains(member, sender);
    let apart = huddle && kept_apart(state, member, sender);
    member == sender || !(blocked || apart)
}

/// Receipts: `recipient`'s delivery and reading of `sender`'s messages may be recorded and reported to `sender`.
pub fn receipts_reach(state: &State, recipient: &Address, sender: &Address) -> bool {
    !state.blocks.contains(recipient, sender)
}

/// Invitations: `inviter` may invite `invitee` to a room (the invitee exists is checked by the caller).
pub fn may_invite(state: &State, inviter: &Address, invitee: &Address) -> bool {
    let related = may_message(state, inviter, invitee) || state.share_room(inviter, invitee);
    related && !blocked_either(state, inviter, invitee) && !kept_apart(state, inviter, invitee)
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
