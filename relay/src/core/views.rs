//! What one handle is shown of others: presence (which depends on who is connected, so it lives beside the
//! connections rather than in the domain) and the whole friend-list snapshot.

use huddle_shared::model::{
    DeletionIn, DeletionOut, DeletionState, FriendEntry, FriendList, PendingRequest, Presence, PresenceState, Profile,
    ShownState,
};
use huddle_shared::{Address, Handle};

use super::Core;
use super::rules::{self, sees};
use crate::storage::Storage;

impl<S: Storage> Core<S> {
    /// How `handle` looks to everyone allowed to see it.
    pub(super) fn shown_presence(&self, handle: &Handle) -> Presence {
        let record = self.world.state.handles.get(handle);
        let state = match self.conns.best_state(handle) {
            Some(PresenceState::Online) => ShownState::Online,
            Some(PresenceState::Away) => ShownState::Away,
            Some(PresenceState::Busy) => ShownState::Busy,
            Some(PresenceState::Invisible) | None => ShownState::Offline,
        };
        if state == ShownState::Offline {
            return Presence::offline(record.and_then(|r| r.last_seen));
        }
        Presence {
            state,
            activity: record.and_then(|r| r.activity.clone()),
            location: record.and_then(|r| r.location.clone()),
            last_seen: None,
        }
    }

    /// How `of` looks to `viewer`: its real presence if the rules allow, else offline. A blocked viewer sees an
    /// ordinary offline friend, last seen when the block began (or earlier, if `of` was already offline), so the block
    /// cannot be told apart from someone who simply stopped coming online.
    pub(super) fn presence_for(&self, viewer: &Address, of: &Address) -> Presence {
        let state = &self.world.state;
        let Some(rec) = state.local_handle(of) else { return Presence::offline(None) };
        if sees(state, viewer, of) {
            return self.shown_presence(&rec.handle);
        }
        match rules::hides_presence_from(state, of, viewer) {
            Some(block) => {
                let online_now = self.conns.best_state(&rec.handle).is_some();
                let seen = match rec.last_seen {
                    Some(seen) if seen <= block.at && !online_now => seen,
                    _ => block.at,
                };
                Presence::offline(Some(seen))
            }
            None => Presence::offline(None),
        }
    }

    /// The whole friend-list state of `me`, as `me` may see it.
    pub(super) fn friend_list(&self, me: &Handle) -> FriendList {
        let state = &self.world.state;
        let me_addr = state.address(me);
        let entries = state
            .entries
            .from(&me_addr)
            .map(|(peer, e)| FriendEntry {
                address: peer.clone(),
                room: crate::ids::direct_room_id(&me_addr, peer),
                nickname: e.nickname.clone(),
                note: e.note.clone(),
                since: e.since,
                removed_you: e.removed_you,
                presence: self.presence_for(&me_addr, peer),
                profile: if sees(state, &me_addr, peer) {
                    state.local_handle(peer).map(|h| h.profile.clone()).unwrap_or_default()
                } else {
                    Profile::default()
                },
            })
            .collect();
        let requests_in = state
            .requests
            .to(&me_addr)
            .filter(|from| rules::shows_request(state, &me_addr, from))
            .filter_map(|from| state.requests.get(from, &me_addr))
            .map(|r| PendingRequest { address: r.from.clone(), greeting: r.greeting.clone(), at: r.at })
            .collect();
        let requests_out = state
            .requests
            .from(&me_addr)
            .map(|(to, r)| PendingRequest { address: to.clone(), greeting: r.greeting.clone(), at: r.at })
            .collect();
        let deletions_in = state
            .deletions
            .to(&me_addr)
            .filter_map(|deleter| state.deletions.get(deleter, &me_addr))
            .filter(|d| d.state == DeletionState::Requested)
            .map(|d| DeletionIn { address: d.deleter.clone(), at: d.at })
            .collect();
        let deletions_out = state
            .deletions
            .from(&me_addr)
            .map(|(deleted, d)| DeletionOut { address: deleted.clone(), state: d.state, at: d.at })
            .collect();
        let blocked = state.blocks.from(&me_addr).map(|(t, _)| t.clone()).collect();
        FriendList { entries, requests_in, requests_out, deletions_in, deletions_out, blocked }
    }
}
