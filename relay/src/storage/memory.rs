//! In-memory storage for unit tests and the property test: the reference semantics of [`Storage`], with nothing
//! durable. `commit` is a no-op because nothing survives the process anyway.

use std::collections::{BTreeMap, HashMap};

use huddle_shared::model::{ItemBody, Message, StreamItem};
use huddle_shared::{Address, Handle, MessageId, RoomId};

use super::{HistoryCursor, HistoryPage, Mutation, ReceiptRec, Snapshot, Storage, StorageError};

#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    data: Snapshot,
    /// Every message with its number in its room, in arrival order.
    messages: Vec<(Message, u64)>,
    /// (sender, client_msg_id) -> (index into `messages`, sender's stream seq)
    client_ids: HashMap<(Address, String), (usize, u64)>,
    streams: BTreeMap<(Handle, u64), StreamItem>,
    /// (message id, recipient) -> receipt record
    receipts: BTreeMap<(MessageId, Address), ReceiptRec>,
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

    fn store_message(&mut self, message: &Message, number: u64, deliveries: &[(Handle, u64)]) {
        let index = self.messages.len();
        for (handle, seq) in deliveries {
            if handle == &message.from.handle {
                self.client_ids.insert((message.from.clone(), message.client_msg_id.clone()), (index, *seq));
            }
            let item =
                StreamItem { seq: *seq, at: message.sent_at, body: ItemBody::Message { message: message.clone() } };
            self.append(handle, item);
        }
        match self.data.room_counts.iter_mut().find(|(r, _)| *r == message.room) {
            Some((_, count)) => *count = (*count).max(number),
            None => self.data.room_counts.push((message.room.clone(), number)),
        }
        self.messages.push((message.clone(), number));
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
            Mutation::SetAcked { handle, acked } => {
                if let Some(h) = d.handles.iter_mut().find(|h| h.handle == handle) {
                    h.acked = acked;
                }
            }
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
            Mutation::PutRoom(r) => Self::upsert(&mut d.rooms, r, |x| x.id.clone()),
            Mutation::PutMember(m) => Self::upsert(&mut d.members, m, |x| (x.room.clone(), x.member.clone())),
            Mutation::DeleteMember { room, member } => d.members.retain(|m| !(m.room == room && m.member == member)),
            Mutation::PutFormer { room, member } => {
                if !d.former.contains(&(room.clone(), member.clone())) {
                    d.former.push((room, member));
                    // In the order SQLite loads them.
                    d.former.sort_by_key(|(room, member)| (room.to_string(), member.to_string()));
                }
            }
            Mutation::DeleteFormer { room, member } => d.former.retain(|(r, m)| !(*r == room && *m == member)),
            Mutation::PutRoomInvite(i) => Self::upsert(&mut d.room_invites, i, |x| (x.room.clone(), x.invitee.clone())),
            Mutation::DeleteRoomInvite { room, invitee } => {
                d.room_invites.retain(|i| !(i.room == room && i.invitee == invitee))
            }
            Mutation::StoreMessage { message, number, deliveries } => self.store_message(&message, number, &deliveries),
            Mutation::AppendItem { handle, item } => {
                if matches!(item.body, ItemBody::Message { .. } | ItemBody::Unknown) {
                    // The same refusal as SQLite's: a message item without its message would be an orphan.
                    return Err(StorageError::Corrupt(format!(
                        "AppendItem for {handle} seq {} carries no event or receipt; messages go through StoreMessage",
                        item.seq
                    )));
                }
                self.append(&handle, item);
            }
            Mutation::PutReceipt(r) => {
                self.receipts.insert((r.message_id.clone(), r.recipient.clone()), r);
            }
            // The huddle engine's records are kept in the order SQLite loads them: by their keys' text.
            Mutation::PutTopic(t) => {
                Self::upsert(&mut d.topics, t, |x| x.id.clone());
                d.topics.sort_by(|a, b| a.id.cmp(&b.id));
            }
            Mutation::DeleteTopic(topic) => {
                d.topics.retain(|t| t.id != topic);
                d.subscriptions.retain(|s| s.topic != topic);
            }
            Mutation::PutSubscription(sub) => {
                Self::upsert(&mut d.subscriptions, sub, |x| (x.topic.clone(), x.subscriber.clone()));
                d.subscriptions.sort_by_key(|s| (s.topic.clone(), s.subscriber.to_string()));
            }
            Mutation::DeleteSubscription { topic, subscriber } => {
                d.subscriptions.retain(|s| !(s.topic == topic && s.subscriber == subscriber))
            }
            Mutation::PutHuddle(h) => {
                Self::upsert(&mut d.huddles, h, |x| x.room.clone());
                d.huddles.sort_by_key(|h| h.room.to_string());
            }
            Mutation::PutWindow(w) => {
                Self::upsert(&mut d.windows, w, |x| x.id.clone());
                d.windows.sort_by(|a, b| a.id.cmp(&b.id));
            }
            Mutation::DeleteWindow(id) => d.windows.retain(|w| w.id != id),
            Mutation::PutActivitySecret(secret) => d.activity_secret = Some(secret),
            Mutation::PutHuddleSettings { handle, settings } => {
                d.huddle_settings.retain(|(h, _)| *h != handle);
                if settings != huddle_shared::model::HuddleSettings::default() {
                    d.huddle_settings.push((handle, settings));
                    d.huddle_settings.sort_by_key(|(h, _)| h.to_string());
                }
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
            .and_then(|&(index, seq)| self.messages.get(index).map(|(m, _)| (m.clone(), seq))))
    }

    fn history(
        &mut self,
        room: &RoomId,
        since: u64,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<HistoryPage>, StorageError> {
        let mut visible: Vec<&(Message, u64)> =
            self.messages.iter().filter(|(m, n)| m.room == *room && *n > since).collect();
        visible.sort_by_key(|(_, n)| *n);
        let position = |id: &MessageId| visible.iter().position(|(m, _)| m.id == *id);
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
                HistoryPage {
                    messages: visible[start..bound].iter().map(|(m, _)| m.clone()).collect(),
                    more: start > 0,
                }
            }
            HistoryCursor::After(id) => {
                let Some(i) = position(id) else { return Ok(None) };
                let newer = &visible[i + 1..];
                HistoryPage {
                    messages: newer.iter().take(limit).map(|(m, _)| m.clone()).collect(),
                    more: newer.len() > limit,
                }
            }
        };
        Ok(Some(page))
    }

    fn latest_undelivered_receipt(&mut self, recipient: &Address) -> Result<Option<u64>, StorageError> {
        Ok(self
            .receipts
            .values()
            .filter(|r| &r.recipient == recipient && r.delivered_at.is_none())
            .filter_map(|r| r.seq)
            .max())
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

    fn receipt(&mut self, message_id: &MessageId, recipient: &Address) -> Result<Option<ReceiptRec>, StorageError> {
        Ok(self.receipts.get(&(message_id.clone(), recipient.clone())).cloned())
    }

    fn message_receipts(&mut self, message_id: &MessageId, limit: usize) -> Result<Vec<ReceiptRec>, StorageError> {
        let mut found: Vec<&ReceiptRec> = self.receipts.values().filter(|r| r.message_id == *message_id).collect();
        // Address text, as SQLite orders it, which is not quite `Address`'s own order ('.' sorts before '@').
        found.sort_by_key(|r| r.recipient.to_string());
        Ok(found.into_iter().take(limit).cloned().collect())
    }

    fn external_change(&mut self) -> Result<bool, StorageError> {
        Ok(false)
    }
}
