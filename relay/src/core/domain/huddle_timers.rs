//! When each running huddle next needs looking at: its end time, the end of a member's own time, or the moment its
//! silence would reach its idle time. The core reports the earliest as a deadline and, when it comes, the huddle is
//! checked ([`World::check_huddle`](crate::core::world::World::check_huddle)), which ends it or sets its next time.
//!
//! The table is derived, never stored: it is rebuilt from the stored huddles at start, so a restart keeps every
//! huddle's timers.

use std::collections::{BTreeSet, HashMap};

use huddle_shared::{Millis, RoomId};

use crate::core::state::State;

#[derive(Debug, Default)]
pub struct HuddleTimers {
    by_room: HashMap<RoomId, Millis>,
    order: BTreeSet<(Millis, RoomId)>,
}

impl HuddleTimers {
    /// Every running huddle, to be checked at its earliest possible end (a check finds the precise one).
    pub fn from_state(state: &State) -> Self {
        let mut timers = Self::default();
        for h in state.huddles.values().filter(|h| h.ended_at.is_none()) {
            if let Some(at) = first_check(h) {
                timers.set(&h.room, at);
            }
        }
        timers
    }

    pub fn set(&mut self, room: &RoomId, at: Millis) {
        self.clear(room);
        self.by_room.insert(room.clone(), at);
        self.order.insert((at, room.clone()));
    }

    pub fn clear(&mut self, room: &RoomId) {
        if let Some(old) = self.by_room.remove(room) {
            self.order.remove(&(old, room.clone()));
        }
    }

    pub fn next(&self) -> Option<Millis> {
        self.order.first().map(|(at, _)| *at)
    }

    /// The huddles whose time has come, taken off the table (a check sets the next time of those that go on).
    pub fn take_due(&mut self, now: Millis) -> Vec<RoomId> {
        let mut due = Vec::new();
        while let Some((at, room)) = self.order.first().cloned() {
            if at > now {
                break;
            }
            self.order.remove(&(at, room.clone()));
            self.by_room.remove(&room);
            due.push(room);
        }
        due
    }
}

/// The earliest a huddle could end, from its record alone: its end, a member's own end, or its idle time after it
/// started (a check then finds when it was last written in). `None`: nothing but an event ends it (its anchor going
/// offline, everyone leaving).
pub fn first_check(h: &crate::storage::HuddleRec) -> Option<Millis> {
    let idle = h.idle_ms.map(|idle| h.started_at.saturating_add(idle));
    [h.ends_at, idle, h.member_ends.values().min().copied()].into_iter().flatten().min()
}
