//! Typing indicators: ephemeral, never stored. Passed on only where a message could go (the direct-message rule, or
//! room membership without the recipient having blocked the typist), and at most once per [`TYPING_INTERVAL_MS`] per
//! typist and room — the rest are dropped quietly, since a late "typing" is worthless.
//!
//! The table that remembers what was passed on forgets each entry when its interval is over: it reports that moment
//! as a deadline ([`TypingTable::next_deadline`]) and is told when it has come ([`TypingTable::expire`]), so its size
//! follows the people typing now, and tests move time by hand.

use std::collections::{BTreeSet, HashMap};

use huddle_shared::model::RoomKind;
use huddle_shared::{Address, Handle, Millis, RoomId};

use super::messages::Target;
use super::{federation_unavailable, unreachable};
use crate::core::facts::Fact;
use crate::core::fail::Outcome;
use crate::core::rules;
use crate::core::world::World;
use crate::storage::Storage;

/// Least time between two indicators passed on for the same typist and room.
pub const TYPING_INTERVAL_MS: Millis = 2_000;
/// Most (typist, room) pairs remembered at once; beyond this the table is cleared (forgetting only lets one more
/// indicator through).
pub const MAX_TYPING_ENTRIES: usize = 10_000;

/// When each typist's indicator in each room was last passed on.
#[derive(Debug, Default)]
pub struct TypingTable {
    last: HashMap<(Handle, RoomId), Millis>,
    /// The same entries ordered by when they expire.
    expiries: BTreeSet<(Millis, Handle, RoomId)>,
}

impl TypingTable {
    /// Whether an indicator of `typist` in `room` may be passed on at `now`; remembers it if so.
    pub fn pass(&mut self, typist: &Handle, room: &RoomId, now: Millis) -> bool {
        let key = (typist.clone(), room.clone());
        if self.last.get(&key).is_some_and(|&at| now - at < TYPING_INTERVAL_MS) {
            return false;
        }
        if self.last.len() >= MAX_TYPING_ENTRIES {
            self.expire(now);
            if self.last.len() >= MAX_TYPING_ENTRIES {
                self.last.clear();
                self.expiries.clear();
            }
        }
        if let Some(old) = self.last.insert(key.clone(), now) {
            self.expiries.remove(&(old + TYPING_INTERVAL_MS, key.0.clone(), key.1.clone()));
        }
        self.expiries.insert((now + TYPING_INTERVAL_MS, key.0, key.1));
        true
    }

    /// When the next entry stops mattering.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.expiries.first().map(|(at, _, _)| *at)
    }

    /// Forgets every entry whose interval is over at `now`.
    pub fn expire(&mut self, now: Millis) {
        while let Some((at, typist, room)) = self.expiries.first().cloned() {
            if at > now {
                break;
            }
            self.expiries.pop_first();
            self.last.remove(&(typist, room));
        }
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

impl<S: Storage> World<S> {
    /// `me` is typing in the room `target` names: the others there who may see it are told, unless an indicator of
    /// `me` in that room was passed on less than [`TYPING_INTERVAL_MS`] ago.
    pub fn typing(&mut self, me: &Address, target: &Target, now: Millis) -> Outcome {
        let (room, to) = match &self.resolve(me, target) {
            Target::Direct(to) => {
                if !to.is_local_to(self.relay()) {
                    return Err(federation_unavailable(to));
                }
                (crate::ids::direct_room_id(me, to), vec![to.clone()])
            }
            Target::Room(room) => {
                let record = self.my_room(me, room)?;
                let others: Vec<Address> = self.state.member_addresses(room).into_iter().filter(|m| m != me).collect();
                if record.kind == RoomKind::Direct {
                    (room.clone(), others)
                } else {
                    let to = others.into_iter().filter(|m| rules::receives_from(&self.state, room, m, me)).collect();
                    return self.pass_typing(me, room.clone(), to, now);
                }
            }
        };
        // A direct room: the direct-message rule.
        for peer in &to {
            if self.state.local_handle(peer).is_none() || !rules::may_message(&self.state, me, peer) {
                return Err(unreachable(peer));
            }
        }
        self.pass_typing(me, room, to, now)
    }

    fn pass_typing(&mut self, me: &Address, room: RoomId, to: Vec<Address>, now: Millis) -> Outcome {
        if self.typing.pass(&me.handle, &room, now) && !to.is_empty() {
            self.record(Fact::Typing { from: me.clone(), room, to });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(s: &str) -> RoomId {
        RoomId::parse(&format!("{s}@r.example")).unwrap()
    }

    #[test]
    fn an_indicator_passes_once_per_interval_and_is_forgotten_at_its_deadline() {
        let mut table = TypingTable::default();
        let alice = Handle::parse("alice").unwrap();
        assert_eq!(table.next_deadline(), None);
        assert!(table.pass(&alice, &room("a"), 1_000));
        assert!(!table.pass(&alice, &room("a"), 2_999), "within the interval");
        assert!(table.pass(&alice, &room("b"), 1_500), "another room is another indicator");
        assert_eq!(table.next_deadline(), Some(3_000));
        table.expire(2_999);
        assert_eq!(table.len(), 2);
        table.expire(3_000);
        assert_eq!((table.len(), table.next_deadline()), (1, Some(3_500)));
        assert!(table.pass(&alice, &room("a"), 3_000), "forgotten, so it passes again");
        assert!(table.pass(&alice, &room("b"), 3_600), "the interval is over");
        assert_eq!(table.next_deadline(), Some(5_000));
        table.expire(10_000);
        assert!(table.is_empty());
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn a_full_table_forgets_rather_than_grows() {
        let mut table = TypingTable::default();
        for n in 0..MAX_TYPING_ENTRIES {
            let who = Handle::parse(&format!("user{n}")).unwrap();
            assert!(table.pass(&who, &room("a"), 0));
        }
        let one_more = Handle::parse("latecomer").unwrap();
        assert!(table.pass(&one_more, &room("a"), 1));
        assert!(table.len() <= MAX_TYPING_ENTRIES);
        assert_eq!(table.last.len(), table.expiries.len());
    }
}
