//! In-memory storage for unit tests and the property test: the reference semantics of [`Storage`], with nothing
//! durable. `commit` is a no-op because nothing survives the process anyway.

use std::collections::{BTreeMap, HashMap};

use huddle_shared::model::{GroupMessage, ItemBody, Message, StreamItem};
use huddle_shared::{Address, Handle};

use super::{GroupHistoryPage, HistoryCursor, HistoryPage, Mutation, ReceiptRec, Snapshot, Storage, StorageError};

#[derive(Debug, Default)]
pub struct MemoryStorage {
    data: Snapshot,
    /// Every message in arrival order; the index is the conversation order.
    messages: Vec<Message>,
    message_index: HashMap<String, usize>,
    /// (sender, client_msg_id) -> (message index, sender's stream seq)
    client_ids: HashMap<(Address, String), (usize, u64)>,
    streams: BTreeMap<(Handle, u64), StreamItem>,
    /// Group messages with their number in the group, in arrival order.
    group_messages: Vec<(GroupMessage, u64)>,
    /// (sender, client_msg_id) -> (index into group_messages, sender's stream seq)
    group_client_ids: HashMap<(Address, String), (usize, u64)>,
    /// (message id, recipient) -> receipt record
    receipts: BTreeMap<(String, Address), ReceiptRec>,
}

impl MemoryStorage {
    fn upsert<T, K: PartialEq>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> K) {
        let k = key(&item);
        match list.iter_mut().find(|x| key(x) == k) {
            Some(slot) => *slot = item,
            None => list.push(item),
        }
    }

    fn append(&mut self, handle: &Handle, item: StreamItem) {
        match self.data.heads.iter_mut().find(|(h, _)| h == handle) {
            Some((_, head)) => *head = (*head).max(item.seq),
            None => self.data.heads.push((handle.clone(), item.seq)),
        }
        self.streams.insert((handle.clone(), item.seq), item);
    }
}

impl Storage for MemoryStorage {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        Ok(self.data.clone())
    }

    fn apply(&mut self, mutation: &Mutation) -> Result<(), StorageError> {
        let d = &mut self.data;
        match mutation.clone() {
            Mutation::PutAccount(a) => Self::upsert(&mut d.accounts, a, |x| x.id.clone()),
            Mutation::PutHandle(h) => Self::upsert(&mut d.handles, h, |x| x.handle.clone()),
            Mutation::RemoveHandle(handle) => {
                d.handles.retain(|h| h.handle != handle);
                d.heads.retain(|(h, _)| *h != handle);
                d.retired.push(handle.clone());
                self.streams.retain(|(h, _), _| *h != handle);
            }
            Mutation::PutSession(s) => Self::upsert(&mut d.sessions, s, |x| x.id.clone()),
            Mutation::DeleteSession { id } => d.sessions.retain(|s| s.id != id),
            Mutation::PutInvite(i) => Self::upsert(&mut d.invites, i, |x| x.code.clone()),
            Mutation::PutEntry(e) => Self::upsert(&mut d.entries, e, |x| (x.owner.clone(), x.peer.clone())),
            Mutation::DeleteEntry { owner, peer } => d.entries.retain(|e| !(e.owner == owner && e.peer == peer)),
            Mutation::PutRequest(r) => Self::upsert(&mut d.requests, r, |x| (x.from.clone(), x.to.clone())),
            Mutation::DeleteRequest { from, to } => d.requests.retain(|r| !(r.from == from && r.to == to)),
            Mutation::PutDeletion(r) => Self::upsert(&mut d.deletions, r, |x| (x.deleter.clone(), x.deleted.clone())),
            Mutation::DeleteDeletion { deleter, deleted } => {
                d.deletions.retain(|r| !(r.deleter == deleter && r.deleted == deleted))
            }
            Mutation::PutBlock(b) => Self::upsert(&mut d.blocks, b, |x| (x.owner.clone(), x.target.clone())),
            Mutation::DeleteBlock { owner, target } => d.blocks.retain(|b| !(b.owner == owner && b.target == target)),
            Mutation::StoreMessage { message, sender_seq, recipient_seq } => {
                let index = self.messages.len();
                self.message_index.insert(message.id.clone(), index);
                self.client_ids.insert((message.from.clone(), message.client_msg_id.clone()), (index, sender_seq));
                let item =
                    |seq| StreamItem { seq, at: message.sent_at, body: ItemBody::Message { message: message.clone() } };
                self.append(&message.from.handle, item(sender_seq));
                self.append(&message.to.handle, item(recipient_seq));
                self.messages.push(message);
            }
            Mutation::AppendEvent { handle, item } => self.append(&handle, item),
            Mutation::PutGroup(g) => Self::upsert(&mut d.groups, g, |x| x.id.clone()),
            Mutation::PutMember(m) => Self::upsert(&mut d.members, m, |x| (x.group.clone(), x.member.clone())),
            Mutation::DeleteMember { group, member } => d.members.retain(|m| !(m.group == group && m.member == member)),
            Mutation::PutGroupInvite(i) => {
                Self::upsert(&mut d.group_invites, i, |x| (x.group.clone(), x.invitee.clone()))
            }
            Mutation::DeleteGroupInvite { group, invitee } => {
                d.group_invites.retain(|i| !(i.group == group && i.invitee == invitee))
            }
            Mutation::StoreGroupMessage { message, number, deliveries } => {
                let index = self.group_messages.len();
                for (handle, seq) in &deliveries {
                    if handle == &message.from.handle {
                        self.group_client_ids
                            .insert((message.from.clone(), message.client_msg_id.clone()), (index, *seq));
                    }
                    let item = StreamItem {
                        seq: *seq,
                        at: message.sent_at,
                        body: ItemBody::GroupMessage { message: message.clone() },
                    };
                    self.append(handle, item);
                }
                self.group_messages.push((message, number));
            }
            Mutation::PutReceipt(r) => {
                self.receipts.insert((r.message_id.clone(), r.recipient.clone()), r);
            }
            Mutation::AppendReceipt { handle, seq, at, receipt } => {
                self.append(&handle, StreamItem { seq, at, body: ItemBody::Receipt { receipt } })
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        Ok(())
    }

    fn stream_page(
        &mut self,
        handle: &Address,
        after: u64,
        upto: u64,
        max_items: usize,
    ) -> Result<Vec<StreamItem>, StorageError> {
        if upto <= after {
            return Ok(Vec::new());
        }
        let range = (handle.handle.clone(), after + 1)..=(handle.handle.clone(), upto);
        Ok(self.streams.range(range).take(max_items).map(|(_, item)| item.clone()).collect())
    }

    fn find_client_msg(
        &mut self,
        sender: &Address,
        client_msg_id: &str,
    ) -> Result<Option<(Message, u64)>, StorageError> {
        Ok(self
            .client_ids
            .get(&(sender.clone(), client_msg_id.to_owned()))
            .and_then(|&(index, seq)| self.messages.get(index).map(|m| (m.clone(), seq))))
    }

    fn history(
        &mut self,
        a: &Address,
        b: &Address,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<HistoryPage>, StorageError> {
        let in_conversation = |m: &Message| (&m.from == a && &m.to == b) || (&m.from == b && &m.to == a);
        let position = |id: &str| {
            self.message_index.get(id).copied().filter(|&i| self.messages.get(i).is_some_and(in_conversation))
        };
        let conversation = self.messages.iter().enumerate().filter(|(_, m)| in_conversation(m));
        let page = match cursor {
            HistoryCursor::Latest | HistoryCursor::Before(_) => {
                let bound = match cursor {
                    HistoryCursor::Before(id) => match position(id) {
                        Some(i) => i,
                        None => return Ok(None),
                    },
                    _ => usize::MAX,
                };
                let mut older: Vec<&Message> = conversation.filter(|(i, _)| *i < bound).map(|(_, m)| m).collect();
                let more = older.len() > limit;
                let start = older.len().saturating_sub(limit);
                let messages = older.drain(start..).cloned().collect();
                HistoryPage { messages, more }
            }
            HistoryCursor::After(id) => {
                let Some(bound) = position(id) else { return Ok(None) };
                let newer: Vec<&Message> = conversation.filter(|(i, _)| *i > bound).map(|(_, m)| m).collect();
                let more = newer.len() > limit;
                HistoryPage { messages: newer.into_iter().take(limit).cloned().collect(), more }
            }
        };
        Ok(Some(page))
    }

    fn find_group_client_msg(
        &mut self,
        sender: &Address,
        client_msg_id: &str,
    ) -> Result<Option<(GroupMessage, u64)>, StorageError> {
        Ok(self
            .group_client_ids
            .get(&(sender.clone(), client_msg_id.to_owned()))
            .and_then(|&(index, seq)| self.group_messages.get(index).map(|(m, _)| (m.clone(), seq))))
    }

    fn group_history(
        &mut self,
        group: &str,
        since: u64,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<GroupHistoryPage>, StorageError> {
        let visible: Vec<&(GroupMessage, u64)> =
            self.group_messages.iter().filter(|(m, n)| m.group == group && *n > since).collect();
        let position = |id: &str| visible.iter().position(|(m, _)| m.id == id);
        let page = match cursor {
            HistoryCursor::Latest | HistoryCursor::Before(_) => {
                let bound = match cursor {
                    HistoryCursor::Before(id) => match position(id) {
                        Some(i) => i,
                        None => return Ok(None),
                    },
                    _ => visible.len(),
                };
                let start = bound.saturating_sub(limit);
                GroupHistoryPage {
                    messages: visible[start..bound].iter().map(|(m, _)| m.clone()).collect(),
                    more: start > 0,
                }
            }
            HistoryCursor::After(id) => {
                let Some(i) = position(id) else { return Ok(None) };
                let newer = &visible[i + 1..];
                GroupHistoryPage {
                    messages: newer.iter().take(limit).map(|(m, _)| m.clone()).collect(),
                    more: newer.len() > limit,
                }
            }
        };
        Ok(Some(page))
    }

    fn undelivered_receipts(
        &mut self,
        recipient: &Address,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<ReceiptRec>, StorageError> {
        let mut found: Vec<&ReceiptRec> = self
            .receipts
            .values()
            .filter(|r| &r.recipient == recipient && r.delivered_at.is_none())
            .filter(|r| r.seq.is_some_and(|seq| after < seq && seq <= upto))
            .collect();
        found.sort_by_key(|r| r.seq);
        Ok(found.into_iter().take(limit).cloned().collect())
    }

    fn receipt(&mut self, message_id: &str, recipient: &Address) -> Result<Option<ReceiptRec>, StorageError> {
        Ok(self.receipts.get(&(message_id.to_owned(), recipient.clone())).cloned())
    }

    fn message_receipts(&mut self, message_id: &str, limit: usize) -> Result<Vec<ReceiptRec>, StorageError> {
        let mut found: Vec<&ReceiptRec> = self.receipts.values().filter(|r| r.message_id == message_id).collect();
        // Address text, as SQLite orders it, which is not quite `Address`'s own order ('.' sorts before '@').
        found.sort_by_key(|r| r.recipient.to_string());
        Ok(found.into_iter().take(limit).cloned().collect())
    }

    fn external_change(&mut self) -> Result<bool, StorageError> {
        Ok(false)
    }
}
