//! The relay's in-memory model. It changes only by [`State::apply`] of the same [`Mutation`]s that go to storage,
//! so memory and disk cannot drift apart.

use std::collections::{BTreeMap, HashMap, HashSet};

use huddle_shared::model::ItemBody;
use huddle_shared::{Address, Handle, RelayName};

use super::relation::Relation;
use crate::storage::{
    AccountId, AccountRec, BlockRec, DeletionRec, EntryRec, GroupInviteRec, GroupRec, HandleRec, InviteRec, MemberRec,
    Mutation, RequestRec, SessionRec, Snapshot,
};

#[derive(Debug, Clone)]
pub struct State {
    pub relay: RelayName,
    pub accounts: HashMap<AccountId, AccountRec>,
    pub handles: BTreeMap<Handle, HandleRec>,
    pub heads: HashMap<Handle, u64>,
    pub retired: HashSet<Handle>,
    pub sessions: HashMap<String, SessionRec>,
    /// token hash -> session id
    pub tokens: HashMap<String, String>,
    pub invites: HashMap<String, InviteRec>,
    /// owner -> peer: peer is on owner's list.
    pub entries: Relation<EntryRec>,
    /// from -> to: a pending friend request.
    pub requests: Relation<RequestRec>,
    /// deleter -> deleted.
    pub deletions: Relation<DeletionRec>,
    /// owner -> target.
    pub blocks: Relation<BlockRec>,
    pub groups: HashMap<String, GroupRec>,
    /// group -> member -> membership, in member order.
    pub members: HashMap<String, BTreeMap<Address, MemberRec>>,
    /// member -> groups they are in.
    pub member_of: HashMap<Address, std::collections::BTreeSet<String>>,
    /// group -> invitee -> invitation waiting for an answer.
    pub group_invites: HashMap<String, BTreeMap<Address, GroupInviteRec>>,
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
            groups: HashMap::new(),
            members: HashMap::new(),
            member_of: HashMap::new(),
            group_invites: HashMap::new(),
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
            .chain(snapshot.groups.into_iter().map(Mutation::PutGroup))
            .chain(snapshot.members.into_iter().map(Mutation::PutMember))
            .chain(snapshot.group_invites.into_iter().map(Mutation::PutGroupInvite));
        for m in puts {
            state.apply(&m);
        }
        state
    }

    pub fn apply(&mut self, mutation: &Mutation) {
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
            Mutation::StoreMessage { message, sender_seq, recipient_seq } => {
                self.bump_head(&message.from.handle, sender_seq);
                self.bump_head(&message.to.handle, recipient_seq);
            }
            Mutation::AppendEvent { handle, item } => {
                debug_assert!(matches!(item.body, ItemBody::Event { .. }));
                self.bump_head(&handle, item.seq);
            }
            Mutation::PutGroup(g) => {
                self.groups.insert(g.id.clone(), g);
            }
            Mutation::PutMember(m) => {
                self.member_of.entry(m.member.clone()).or_default().insert(m.group.clone());
                self.members.entry(m.group.clone()).or_default().insert(m.member.clone(), m);
            }
            Mutation::DeleteMember { group, member } => {
                if let Some(ms) = self.members.get_mut(&group) {
                    ms.remove(&member);
                }
                if let Some(gs) = self.member_of.get_mut(&member) {
                    gs.remove(&group);
                }
            }
            Mutation::PutGroupInvite(i) => {
                self.group_invites.entry(i.group.clone()).or_default().insert(i.invitee.clone(), i);
            }
            Mutation::DeleteGroupInvite { group, invitee } => {
                if let Some(is) = self.group_invites.get_mut(&group) {
                    is.remove(&invitee);
                }
            }
            Mutation::StoreGroupMessage { deliveries, .. } => {
                for (handle, seq) in deliveries {
                    self.bump_head(&handle, seq);
                }
            }
            // Receipt records stay in storage only: memory must not grow with every message ever sent.
            Mutation::PutReceipt(_) => {}
            Mutation::AppendReceipt { handle, seq, .. } => self.bump_head(&handle, seq),
        }
    }

    fn bump_head(&mut self, handle: &Handle, seq: u64) {
        let head = self.heads.entry(handle.clone()).or_default();
        *head = (*head).max(seq);
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

    /// Whether `member` is in `group` (an archived group has no members).
    pub fn is_member(&self, group: &str, member: &Address) -> bool {
        self.members.get(group).is_some_and(|m| m.contains_key(member))
    }

    /// Whether two handles share a group.
    pub fn share_group(&self, a: &Address, b: &Address) -> bool {
        match (self.member_of.get(a), self.member_of.get(b)) {
            (Some(ga), Some(gb)) => ga.intersection(gb).next().is_some(),
            _ => false,
        }
    }

    /// Whether a handle name is free to take (never used, not retired).
    pub fn handle_free(&self, handle: &Handle) -> bool {
        !self.handles.contains_key(handle) && !self.retired.contains(handle)
    }
}
