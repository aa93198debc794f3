//! The world the domain acts on: the in-memory state, the storage it mirrors, and the facts recorded since the last
//! reaction step. It holds no connections, so nothing done through it can depend on who asked or how: request
//! handlers, the relay itself and (later) a peer relay act on it the same way.

use huddle_shared::model::{Event, ItemBody, StreamItem};
use huddle_shared::{Address, Handle, Millis, RelayName};

use std::collections::HashSet;

use super::domain::huddle_timers::EngineTimers;
use super::domain::typing::TypingTable;
use super::domain::windows::HuddleRules;
use super::facts::Fact;
use super::state::State;
use crate::storage::{Mutation, Storage, StorageError};

pub struct World<S> {
    pub state: State,
    pub(super) store: S,
    pub(super) facts: Vec<Fact>,
    pub(super) typing: TypingTable,
    /// The handles shown online now (kept by the core, which knows the connections): whom a huddle of online people
    /// takes in.
    pub(super) online: HashSet<Handle>,
    pub(super) timers: EngineTimers,
    /// The relay's rules for activity and place huddles, and how often feeds are polled.
    pub(super) rules: HuddleRules,
    /// Message ids in the order messages are stored.
    pub(super) message_ids: crate::ids::MessageIds,
    /// Per handle, a stream position no undelivered receipt record lies beyond (read from storage the first time it
    /// is needed, raised as receipts are tracked): most acknowledgements pass no tracked message and skip the look.
    pub(super) receipt_horizon: std::collections::HashMap<Handle, u64>,
}

impl<S: Storage> World<S> {
    pub fn new(mut store: S, relay: RelayName) -> Result<Self, StorageError> {
        let snapshot = store.load()?;
        let state = State::new(relay, snapshot);
        let timers = EngineTimers::from_state(&state);
        Ok(Self {
            state,
            store,
            facts: Vec::new(),
            typing: TypingTable::default(),
            online: HashSet::new(),
            timers,
            rules: HuddleRules::default(),
            message_ids: crate::ids::MessageIds::new(),
            receipt_horizon: std::collections::HashMap::new(),
        })
    }

    /// Re-reads everything from storage (after an admin changed it).
    pub fn reload(&mut self) -> Result<(), StorageError> {
        let snapshot = self.store.load()?;
        self.state = State::new(self.state.relay.clone(), snapshot);
        self.timers = EngineTimers::from_state(&self.state);
        self.receipt_horizon.clear();
        Ok(())
    }

    /// Applies a change to storage and memory alike.
    pub fn write(&mut self, mutation: Mutation) -> Result<(), StorageError> {
        self.store.apply(&mutation)?;
        self.state.apply(&mutation);
        Ok(())
    }

    pub fn record(&mut self, fact: Fact) {
        self.facts.push(fact);
    }

    /// The facts recorded since the last call, in order.
    pub fn take_facts(&mut self) -> Vec<Fact> {
        std::mem::take(&mut self.facts)
    }

    pub fn relay(&self) -> &RelayName {
        &self.state.relay
    }

    pub fn address(&self, handle: &Handle) -> Address {
        self.state.address(handle)
    }

    /// Appends a system event to a local handle's stream (nothing for a handle that does not exist).
    pub fn append_event(&mut self, handle: &Handle, event: Event, now: Millis) -> Result<(), StorageError> {
        if self.state.handles.contains_key(handle) {
            self.append_item(handle, ItemBody::Event { event }, now)?;
        }
        Ok(())
    }

    /// Appends an event or a receipt report to a stream; returns its seq.
    pub(super) fn append_item(&mut self, handle: &Handle, body: ItemBody, now: Millis) -> Result<u64, StorageError> {
        let item = StreamItem { seq: self.state.head(handle) + 1, at: now, body };
        let seq = item.seq;
        self.write(Mutation::AppendItem { handle: handle.clone(), item: item.clone() })?;
        self.record(Fact::Appended { handle: handle.clone(), item, origin_has_it: false });
        Ok(seq)
    }

    /// Marks a local handle's friend list as changed (remote addresses are not ours to push to).
    pub fn list_changed(&mut self, address: &Address) {
        if self.state.local_handle(address).is_some() {
            self.record(Fact::ListChanged(address.handle.clone()));
        }
    }

    /// Whether a handle is shown online now.
    pub fn is_online(&self, handle: &Handle) -> bool {
        self.online.contains(handle)
    }

    /// Sets the relay's huddle rules (from its config).
    pub fn set_rules(&mut self, rules: HuddleRules) {
        self.rules = rules;
    }

    /// When the huddle engine next needs the clock: a huddle to check, a schedule, a window closing, a feed to poll.
    pub fn next_huddle_check(&self) -> Option<Millis> {
        self.timers.next()
    }

    pub fn storage(&mut self) -> &mut S {
        &mut self.store
    }
}
