//! When each thing the huddle engine waits for next needs looking at: a running huddle (its end, a member's own end,
//! its idle time), a topic's schedule, a report window closing, a feed to poll. The core reports the earliest as a
//! deadline; when it comes, the thing is checked, which acts or sets its next time.
//!
//! The tables are derived, never stored: they are rebuilt from the stored records at start, so a restart keeps every
//! timer.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use huddle_shared::model::TopicId;
use huddle_shared::{Millis, RoomId};

use crate::core::state::State;

/// Every timer of the huddle engine.
#[derive(Debug, Default)]
pub struct EngineTimers {
    /// Running huddles: their next check.
    pub huddles: Timers<RoomId>,
    /// Topics with a schedule: its next time.
    pub schedules: Timers<TopicId>,
    /// Report windows: when each closes.
    pub windows: Timers<String>,
    /// Topics with a feed: the next poll (not stored: every feed is polled soon after a start).
    pub feeds: Timers<TopicId>,
}

impl EngineTimers {
    /// Every timer, from the stored records.
    pub fn from_state(state: &State) -> Self {
        let mut timers = Self::default();
        for h in state.running() {
            if let Some(at) = first_check(h) {
                timers.huddles.set(&h.room, at);
            }
        }
        for t in state.topics.values() {
            timers.set_schedule(t);
            if t.feed.is_some() {
                timers.feeds.set(&t.id, 0);
            }
        }
        for w in state.windows.values() {
            timers.windows.set(&w.id, w.closes_at);
        }
        timers
    }

    /// The topic's next scheduled time after the last one it fired for (or when the schedule was set).
    pub fn set_schedule(&mut self, t: &crate::storage::TopicRec) {
        let next = t
            .schedule
            .as_deref()
            .and_then(|s| super::schedules::next_after(s, t.time_zone.as_deref(), t.schedule_after));
        match next {
            Some(at) => self.schedules.set(&t.id, at),
            None => self.schedules.clear(&t.id),
        }
    }

    pub fn next(&self) -> Option<Millis> {
        [self.huddles.next(), self.schedules.next(), self.windows.next(), self.feeds.next()].into_iter().flatten().min()
    }
}

/// One timer per key, ordered by when it is due.
#[derive(Debug)]
pub struct Timers<K> {
    by_key: HashMap<K, Millis>,
    order: BTreeSet<(Millis, K)>,
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Self { by_key: HashMap::new(), order: BTreeSet::new() }
    }
}

impl<K: Ord + Hash + Clone> Timers<K> {
    pub fn set(&mut self, key: &K, at: Millis) {
        self.clear(key);
        self.by_key.insert(key.clone(), at);
        self.order.insert((at, key.clone()));
    }

    pub fn clear(&mut self, key: &K) {
        if let Some(old) = self.by_key.remove(key) {
            self.order.remove(&(old, key.clone()));
        }
    }

    pub fn next(&self) -> Option<Millis> {
        self.order.first().map(|(at, _)| *at)
    }

    pub fn get(&self, key: &K) -> Option<Millis> {
        self.by_key.get(key).copied()
    }

    /// The keys whose time has come, taken off the table (a check sets the next time of those that go on).
    pub fn take_due(&mut self, now: Millis) -> Vec<K> {
        let mut due = Vec::new();
        while let Some((at, key)) = self.order.first().cloned() {
            if at > now {
                break;
            }
            self.order.remove(&(at, key.clone()));
            self.by_key.remove(&key);
            due.push(key);
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
