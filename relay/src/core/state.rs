//! The relay's in-memory model. It changes only by [`State::apply`] of the same [`Mutation`]s that go to storage,
//! so memory and disk cannot drift apart.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use huddle_shared::model::{HuddleSettings, ItemBody, RoomKind, TopicId};
use huddle_shared::{Address, Handle, RelayName, RoomId, SessionId};

use super::relation::Relation;
use crate::storage::{
    AccountId, AccountRec, BlockRec, DeletionRec, EntryRec, HandleRec, HuddleRec, InviteRec, MemberRec, Mutation,
    RequestRec, RoomInviteRec, RoomRec, SessionRec, Snapshot, SubscriptionRec, TopicRec, WindowRec,
};

#[derive(Debug, Clone)]
pub struct State {
    pub relay: RelayName,
    pub accounts: HashMap<AccountId, AccountRec>,
    pub handles: BTreeMap<Handle, HandleRec>,
    pub heads: HashMap<Handle, u64>,
    pub retired: HashSet<Handle>,
    pub sessions: HashMap<SessionId, SessionRec>,
    /// token hash -> session id
    pub tokens: HashMap<String, SessionId>,
    pub invites: HashMap<String, InviteRec>,
    /// owner -> peer: peer is on owner's list.
    pub entries: Relation<EntryRec>,
    /// from -> to: a pending friend request.
    pub requests: Relation<RequestRec>,
    /// deleter -> deleted.
    pub deletions: Relation<DeletionRec>,
    /// owner -> target.
    pub blocks: Relation<BlockRec>,
    /// Every room: direct rooms once something was said in them, groups once made.
    pub rooms: HashMap<RoomId, RoomRec>,
    /// room -> member -> membership, in member order.
    pub members: HashMap<RoomId, BTreeMap<Address, MemberRec>>,
    /// member -> rooms they are in (direct ones included).
    pub member_of: HashMap<Address, BTreeSet<RoomId>>,
    /// room -> invitee -> invitation waiting for an answer.
    pub room_invites: HashMap<RoomId, BTreeMap<Address, RoomInviteRec>>,
    /// room -> who left or was removed (and has not joined again): never added back without being asked.
    pub former: HashMap<RoomId, BTreeSet<Address>>,
    /// room -> the number of its newest message (the next one is this + 1).
    pub room_counts: HashMap<RoomId, u64>,
    pub topics: BTreeMap<TopicId, TopicRec>,
    /// topic -> subscriber -> subscription.
    pub subscriptions: BTreeMap<TopicId, BTreeMap<Address, SubscriptionRec>>,
    /// Every huddle, ended ones included (room id -> record).
    pub huddles: HashMap<RoomId, HuddleRec>,
    /// The huddles running now (derived from `huddles`): what presence changes and topic deletions look through,
    /// so their cost follows the huddles running, not every huddle ever formed.
    pub running_huddles: BTreeSet<RoomId>,
    /// Huddle settings that are not the default.
    pub huddle_settings: HashMap<Address, HuddleSettings>,
    /// anchor -> who follows its coming online (derived from the settings' `follows`).
    pub followers: HashMap<Address, BTreeSet<Address>>,
    /// X -> who set "not with" X (derived from the settings' `not_with`).
    pub not_with_by: HashMap<Address, BTreeSet<Address>>,
    /// Report windows that may form a huddle when they close, by id.
    pub windows: BTreeMap<String, WindowRec>,
    /// The key activity reports are hashed with (hex).
    pub activity_secret: Option<String>,
}

impl State {
    pub fn new(relay: RelayName, snapshot: Snapshot) -> Self {
        let mut state = Self {
            relay,
            accounts: HashMap::new(),
            handles: BTreeMap::new(),
            heads: snapshot.heads.into_iter().collect(),
            retired: snapshot.retired.into_iter().collect(),
            sessions: HashMap::new(),
            tokens: HashMap::new(),
            invites: HashMap::new(),
            entries: Relation::default(),
            requests: Relation::default(),
            deletions: Relation::default(),
            blocks: Relation::default(),
            rooms: HashMap::new(),
            members: HashMap::new(),
            member_of: HashMap::new(),
            room_invites: HashMap::new(),
            former: HashMap::new(),
            room_counts: snapshot.room_counts.into_iter().collect(),
            topics: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            huddles: HashMap::new(),
            running_huddles: BTreeSet::new(),
            huddle_settings: HashMap::new(),
            followers: HashMap::new(),
            not_with_by: HashMap::new(),
            windows: BTreeMap::new(),
            activity_secret: snapshot.activity_secret.clone(),
        };
        let puts = snapshot
            .accounts
            .into_iter()
            .map(Mutation::PutAccount)
            .chain(snapshot.handles.into_iter().map(Mutation::PutHandle))
            .chain(snapshot.sessions.into_iter().map(Mutation::PutSession))
            .chain(snapshot.invites.into_iter().map(Mutation::PutInvite))
            .chain(snapshot.entries.into_iter().map(Mutation::PutEntry))
            .chain(snapshot.requests.into_iter().map(Mutation::PutRequest))
            .chain(snapshot.deletions.into_iter().map(Mutation::PutDeletion))
            .chain(snapshot.blocks.into_iter().map(Mutation::PutBlock))
            .chain(snapshot.rooms.into_iter().map(Mutation::PutRoom))
            .chain(snapshot.members.into_iter().map(Mutation::PutMember))
            .chain(snapshot.room_invites.into_iter().map(Mutation::PutRoomInvite))
            .chain(snapshot.former.into_iter().map(|(room, member)| Mutation::PutFormer { room, member }))
            .chain(snapshot.topics.into_iter().map(Mutation::PutTopic))
            .chain(snapshot.subscriptions.into_iter().map(Mutation::PutSubscription))
            .chain(snapshot.huddles.into_iter().map(Mutation::PutHuddle))
            .chain(snapshot.windows.into_iter().map(Mutation::PutWindow))
            .chain(
                snapshot
                    .huddle_settings
                    .into_iter()
                    .map(|(handle, settings)| Mutation::PutHuddleSettings { handle, settings }),
            );
        for m in puts {
            state.apply(&m);
        }
        state
    }

    pub fn apply(&mut self, mutation: &Mutation) {
        // The changes made for every message and acknowledgement, without copying the mutation.
        match mutation {
            Mutation::StoreMessage { message, number, deliveries } => {
                // Looked up before inserting: the room is nearly always known, and its id need not be copied.
                match self.room_counts.get_mut(&message.room) {
                    Some(count) => *count = (*count).max(*number),
                    None => {
                        self.room_counts.insert(message.room.clone(), *number);
                    }
                }
                for (handle, seq) in deliveries {
                    self.bump_head(handle, *seq);
                }
                return;
            }
            Mutation::SetAcked { handle, acked } => {
                if let Some(h) = self.handles.get_mut(handle) {
                    h.acked = *acked;
                }
                return;
            }
            // Receipt records stay in storage only: memory must not grow with every message ever sent.
            Mutation::PutReceipt(_) => return,
            _ => {}
        }
        match mutation.clone() {
            Mutation::PutAccount(a) => {
                self.accounts.insert(a.id.clone(), a);
            }
            Mutation::PutHandle(h) => {
                self.handles.insert(h.handle.clone(), h);
            }
            Mutation::RemoveHandle(h) => {
                self.handles.remove(&h);
                self.heads.remove(&h);
                self.retired.insert(h);
            }
            Mutation::PutSession(s) => {
                if let Some(old) = self.sessions.get(&s.id) {
                    self.tokens.remove(&old.token_hash);
                }
                self.tokens.insert(s.token_hash.clone(), s.id.clone());
                self.sessions.insert(s.id.clone(), s);
            }
            Mutation::DeleteSession { id } => {
                if let Some(old) = self.sessions.remove(&id) {
                    self.tokens.remove(&old.token_hash);
                }
            }
            Mutation::PutInvite(i) => {
                self.invites.insert(i.code.clone(), i);
            }
            Mutation::PutEntry(e) => self.entries.insert(e.owner.clone(), e.peer.clone(), e),
            Mutation::DeleteEntry { owner, peer } => {
                self.entries.remove(&owner, &peer);
            }
            Mutation::PutRequest(r) => self.requests.insert(r.from.clone(), r.to.clone(), r),
            Mutation::DeleteRequest { from, to } => {
                self.requests.remove(&from, &to);
            }
            Mutation::PutDeletion(d) => self.deletions.insert(d.deleter.clone(), d.deleted.clone(), d),
            Mutation::DeleteDeletion { deleter, deleted } => {
                self.deletions.remove(&deleter, &deleted);
            }
            Mutation::PutBlock(b) => self.blocks.insert(b.owner.clone(), b.target.clone(), b),
            Mutation::DeleteBlock { owner, target } => {
                self.blocks.remove(&owner, &target);
            }
            Mutation::PutRoom(r) => {
                self.rooms.insert(r.id.clone(), r);
            }
            Mutation::PutMember(m) => {
                self.member_of.entry(m.member.clone()).or_default().insert(m.room.clone());
                self.members.entry(m.room.clone()).or_default().insert(m.member.clone(), m);
            }
            Mutation::DeleteMember { room, member } => {
                if let Some(ms) = self.members.get_mut(&room) {
                    ms.remove(&member);
                }
                if let Some(rooms) = self.member_of.get_mut(&member) {
                    rooms.remove(&room);
                }
            }
            Mutation::PutFormer { room, member } => {
                self.former.entry(room).or_default().insert(member);
            }
            Mutation::DeleteFormer { room, member } => {
                if let Some(former) = self.former.get_mut(&room) {
                    former.remove(&member);
                }
            }
            Mutation::PutRoomInvite(i) => {
                self.room_invites.entry(i.room.clone()).or_default().insert(i.invitee.clone(), i);
            }
            Mutation::DeleteRoomInvite { room, invitee } => {
                if let Some(is) = self.room_invites.get_mut(&room) {
                    is.remove(&invitee);
                }
            }
            Mutation::StoreMessage { .. } | Mutation::SetAcked { .. } | Mutation::PutReceipt(_) => {}
            Mutation::AppendItem { handle, item } => {
                debug_assert!(!matches!(item.body, ItemBody::Message { .. }));
                self.bump_head(&handle, item.seq);
            }
            Mutation::PutTopic(t) => {
                self.topics.insert(t.id.clone(), t);
            }
            Mutation::DeleteTopic(topic) => {
                self.topics.remove(&topic);
                self.subscriptions.remove(&topic);
            }
            Mutation::PutSubscription(sub) => {
                self.subscriptions.entry(sub.topic.clone()).or_default().insert(sub.subscriber.clone(), sub);
            }
            Mutation::DeleteSubscription { topic, subscriber } => {
                if let Some(subs) = self.subscriptions.get_mut(&topic) {
                    subs.remove(&subscriber);
                }
            }
            Mutation::PutHuddle(h) => {
                if h.ended_at.is_none() {
                    self.running_huddles.insert(h.room.clone());
                } else {
                    self.running_huddles.remove(&h.room);
                }
                self.huddles.insert(h.room.clone(), h);
            }
            Mutation::PutWindow(w) => {
                self.windows.insert(w.id.clone(), w);
            }
            Mutation::DeleteWindow(id) => {
                self.windows.remove(&id);
            }
            Mutation::PutActivitySecret(secret) => self.activity_secret = Some(secret),
            Mutation::PutHuddleSettings { handle, settings } => {
                if let Some(old) = self.huddle_settings.remove(&handle) {
                    for anchor in &old.follows {
                        if let Some(set) = self.followers.get_mut(anchor) {
                            set.remove(&handle);
                        }
                    }
                    for other in &old.not_with {
                        if let Some(set) = self.not_with_by.get_mut(other) {
                            set.remove(&handle);
                        }
                    }
                }
                for anchor in &settings.follows {
                    self.followers.entry(anchor.clone()).or_default().insert(handle.clone());
                }
                for other in &settings.not_with {
                    self.not_with_by.entry(other.clone()).or_default().insert(handle.clone());
                }
                if settings != HuddleSettings::default() {
                    self.huddle_settings.insert(handle, settings);
                }
            }
        }
    }

    /// A handle's huddle settings (the default when it never changed them).
    pub fn settings_of(&self, who: &Address) -> HuddleSettings {
        self.huddle_settings.get(who).cloned().unwrap_or_default()
    }

    /// The huddles running now.
    pub fn running(&self) -> impl Iterator<Item = &HuddleRec> {
        self.running_huddles.iter().filter_map(|room| self.huddles.get(room))
    }

    /// The huddle `room` is, while it runs.
    pub fn active_huddle(&self, room: &RoomId) -> Option<&HuddleRec> {
        self.huddles.get(room).filter(|h| h.ended_at.is_none())
    }

    /// Whether two handles are together in a huddle that is running.
    pub fn share_huddle(&self, a: &Address, b: &Address) -> bool {
        self.member_of
            .get(a)
            .into_iter()
            .flatten()
            .any(|room| self.active_huddle(room).is_some() && self.is_member(room, b))
    }

    fn bump_head(&mut self, handle: &Handle, seq: u64) {
        match self.heads.get_mut(handle) {
            Some(head) => *head = (*head).max(seq),
            None => {
                self.heads.insert(handle.clone(), seq);
            }
        }
    }

    pub fn address(&self, handle: &Handle) -> Address {
        Address::new(handle.clone(), self.relay.clone())
    }

    pub fn head(&self, handle: &Handle) -> u64 {
        self.heads.get(handle).copied().unwrap_or(0)
    }

    /// The local handle an address names, if it is local and exists.
    pub fn local_handle(&self, address: &Address) -> Option<&HandleRec> {
        if address.is_local_to(&self.relay) { self.handles.get(&address.handle) } else { None }
    }

    /// The account's handles, first-made first.
    pub fn account_handles(&self, account: &str) -> Vec<&HandleRec> {
        let mut list: Vec<&HandleRec> = self.handles.values().filter(|h| h.account == account).collect();
        list.sort_by_key(|h| h.position);
        list
    }

    /// The room, unless it ended.
    pub fn open_room(&self, room: &RoomId) -> Option<&RoomRec> {
        self.rooms.get(room).filter(|r| !r.ended)
    }

    /// Whether `member` is in `room` (an ended room has no members left).
    pub fn is_member(&self, room: &RoomId, member: &Address) -> bool {
        self.members.get(room).is_some_and(|m| m.contains_key(member))
    }

    /// The members of a room, in address order.
    pub fn member_addresses(&self, room: &RoomId) -> Vec<Address> {
        self.members.get(room).map(|ms| ms.keys().cloned().collect()).unwrap_or_default()
    }

    pub fn is_invited(&self, room: &RoomId, who: &Address) -> bool {
        self.room_invites.get(room).is_some_and(|i| i.contains_key(who))
    }

    /// The rooms `who` is in that are not direct rooms (what `rooms` lists and the per-handle limit counts).
    pub fn shared_rooms_of(&self, who: &Address) -> impl Iterator<Item = &RoomId> {
        self.member_of
            .get(who)
            .into_iter()
            .flatten()
            .filter(|room| self.rooms.get(*room).is_some_and(|r| r.kind != RoomKind::Direct))
    }

    /// Whether two handles are together in a room that is not a direct room.
    pub fn share_room(&self, a: &Address, b: &Address) -> bool {
        self.shared_rooms_of(a).any(|room| self.is_member(room, b))
    }

    /// The number the next message of `room` gets.
    pub fn next_number(&self, room: &RoomId) -> u64 {
        self.room_counts.get(room).copied().unwrap_or(0) + 1
    }

    /// Whether a handle name is free to take (never used, not retired).
    pub fn handle_free(&self, handle: &Handle) -> bool {
        !self.handles.contains_key(handle) && !self.retired.contains(handle)
    }
}
