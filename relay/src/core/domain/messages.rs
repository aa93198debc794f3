//! Messages that are never lost, in every kind of room, by one path: a message is numbered in its room, stored once,
//! appended to the stream of everyone it reaches (the sender included), and only then acknowledged. Resending with
//! the same idempotency key never stores it twice. Streams are read page by page (`sync`), acknowledged (`ack`, which
//! also confirms deliveries to senders who asked), and rooms paged through (`history`) from when the reader joined.

use huddle_shared::limits::{MAX_HISTORY_PAGE, MAX_SYNC_PAGE};
use huddle_shared::model::{ItemBody, Message, MessageReceipts, RoomKind, StreamItem};
use huddle_shared::text::{check_body, check_client_msg_id};
use huddle_shared::{Address, ErrorCode, Handle, MessageId, Millis, RoomId};

use super::federation_unavailable;
use crate::core::facts::Fact;
use crate::core::fail::{Outcome, refuse, refuse_with};
use crate::core::rules;
use crate::core::world::World;
use crate::storage::{HistoryCursor, HistoryPage, Mutation, Storage};

/// JSON overhead of one stream item beside its text fields, for sizing `batch` frames.
const ITEM_OVERHEAD_BYTES: usize = 384;

/// A conversation as a client names it: a room, or the direct room with someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Room(RoomId),
    Direct(Address),
}

/// What [`World::post`] asks of its gate (see there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// May this message be stored? Nothing is counted yet.
    Check,
    /// It will be stored: count it.
    Spend,
}

/// A message as its sender wrote it: the `send` frame's own fields.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub body: String,
    pub client_msg_id: String,
    pub receipts: bool,
}

/// A message stored (now, or by an earlier send with the same key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub message: Message,
    /// Its place in the sender's stream.
    pub seq: u64,
    /// Whose receipts are tracked (empty unless it asked for them).
    pub recipients: Vec<Address>,
}

/// Where a message to a room goes.
struct Reach {
    room: RoomId,
    /// The other member of a direct room.
    to: Option<Address>,
    /// Every member but the sender, in address order: who gets it (unless they block the sender) and whose receipts
    /// are tracked.
    others: Vec<Address>,
}

fn not_reachable_for_messages(to: &Address) -> crate::core::fail::Fail {
    refuse_with(
        ErrorCode::NotReachable,
        format!(
            "{to} cannot be reached from your handle. To write to someone, one of you needs the other on their friend \
             list: send a friend request first."
        ),
    )
}

impl<S: Storage> World<S> {
    /// The room `target` names for `me`, if `me` may write there now.
    fn reach(&mut self, me: &Address, target: &Target, now: Millis) -> Outcome<Reach> {
        let target = &self.resolve(me, target);
        let (to, room) = match target {
            Target::Direct(to) => {
                if !to.is_local_to(self.relay()) {
                    return Err(federation_unavailable(to));
                }
                (to.clone(), None)
            }
            Target::Room(room) => {
                let record = self.my_room(me, room)?;
                if record.kind != RoomKind::Direct {
                    let others = self.state.member_addresses(room).into_iter().filter(|m| m != me).collect();
                    return Ok(Reach { room: room.clone(), to: None, others });
                }
                let to = self.state.member_addresses(room).into_iter().find(|m| m != me).unwrap_or_else(|| me.clone());
                (to, Some(room.clone()))
            }
        };
        if self.state.local_handle(&to).is_none() || !rules::may_message(&self.state, me, &to) {
            return Err(not_reachable_for_messages(&to));
        }
        let room = match room {
            Some(room) => room,
            None => self.direct_room(me, &to, now)?,
        };
        Ok(Reach { room, to: Some(to.clone()), others: vec![to] })
    }

    /// A direct room named by its id before anything was said in it is the same as naming the other person.
    pub fn resolve(&self, me: &Address, target: &Target) -> Target {
        match target {
            Target::Room(room) => match self.unused_direct_room_peer(me, room) {
                Some(peer) => Target::Direct(peer),
                None => target.clone(),
            },
            Target::Direct(_) => target.clone(),
        }
    }

    /// The room a target names, without making anything (for comparing a resend with what was sent).
    fn target_room(me: &Address, target: &Target) -> RoomId {
        match target {
            Target::Room(room) => room.clone(),
            Target::Direct(to) => crate::ids::direct_room_id(me, to),
        }
    }

    /// Says `body` in the room `target` names, as `me`. Idempotent per (`me`, `client_msg_id`), across every room: the
    /// same key with the same room and body gets the first answer again, whatever happened since; with anything else
    /// it is refused.
    /// `admit` decides, for a message that is new and valid, whether its sender may store it now (the account's
    /// budget, the disk): asked [`Gate::Check`] before anything is done for the message, and [`Gate::Spend`] once
    /// it reaches someone and will be stored, so a message refused for any reason costs its sender nothing. A resend
    /// of a stored message is answered as the first time without asking it.
    pub fn post(
        &mut self,
        me: &Address,
        target: &Target,
        outgoing: Outgoing,
        now: Millis,
        mut admit: impl FnMut(&str, Gate) -> Result<(), crate::core::Fail>,
    ) -> Outcome<Posted> {
        let Outgoing { body, client_msg_id, receipts } = outgoing;
        if !check_client_msg_id(&client_msg_id) {
            return Err(refuse(ErrorCode::BadClientMsgId));
        }
        if let Some((earlier, seq)) = self.store.find_client_msg(me, &client_msg_id)? {
            if earlier.room != Self::target_room(me, target) || earlier.body != body {
                return Err(refuse(ErrorCode::DuplicateClientMsgId));
            }
            // The same recipients as the first answer: they were fixed when the message was stored.
            let recipients = if earlier.receipts { self.tracked_recipients(&earlier.id)? } else { Vec::new() };
            return Ok(Posted { message: earlier, seq, recipients });
        }
        if let Err(e) = check_body(&body) {
            return Err(refuse_with(ErrorCode::BadBody, format!("{} ({e})", ErrorCode::BadBody.sentence())));
        }
        admit(&body, Gate::Check)?;
        let reach = self.reach(me, target, now)?;
        admit(&body, Gate::Spend)?;
        let message = Message {
            id: self.message_ids.next(now),
            room: reach.room.clone(),
            from: me.clone(),
            to: reach.to,
            body,
            sent_at: now,
            client_msg_id,
            receipts,
        };
        // Blocks hold inside rooms: whoever blocked the sender gets nothing of theirs.
        let mut deliveries: Vec<(Handle, u64)> = Vec::with_capacity(reach.others.len() + 1);
        let mut tracked: Vec<(Address, Option<u64>)> = Vec::new();
        for member in std::iter::once(me).chain(&reach.others) {
            let seq = (self.state.local_handle(member).is_some()
                && rules::receives_from(&self.state, &reach.room, member, me))
            .then(|| self.state.head(&member.handle) + 1);
            if let Some(seq) = seq {
                deliveries.push((member.handle.clone(), seq));
            }
            if receipts && member != me {
                tracked.push((member.clone(), seq));
            }
        }
        let number = self.state.next_number(&reach.room);
        let seq = deliveries.first().map_or(0, |(_, seq)| *seq);
        self.write(Mutation::StoreMessage { message: message.clone(), number, deliveries: deliveries.clone() })?;
        // Receipts are tracked for every other member, those who blocked the sender included: they never get the
        // message, so they never confirm it, and the count does not give the block away.
        let recipients = self.track_receipts(&message, tracked)?;
        for (handle, item_seq) in deliveries {
            let origin_has_it = handle == me.handle;
            let item = StreamItem { seq: item_seq, at: now, body: ItemBody::Message { message: message.clone() } };
            self.record(Fact::Appended { handle, item, origin_has_it });
        }
        Ok(Posted { message, seq, recipients })
    }

    /// A page of a room's messages for `me`, from when `me` joined it, with the receipts of `me`'s own messages in it.
    /// The direct room with someone may be named by their address: any address, even one that names nobody, gives a
    /// page (empty if nothing was said).
    pub fn history(
        &mut self,
        me: &Address,
        target: &Target,
        cursor: HistoryCursor<'_>,
        limit: u64,
    ) -> Outcome<(RoomId, HistoryPage, Vec<MessageReceipts>)> {
        let (room, since) = match &self.resolve(me, target) {
            Target::Direct(with) => (crate::ids::direct_room_id(me, with), 0),
            Target::Room(room) => {
                self.my_room(me, room)?;
                let since = self.state.members.get(room).and_then(|m| m.get(me)).map_or(0, |m| m.since);
                (room.clone(), since)
            }
        };
        let limit = usize::try_from(limit.clamp(1, u64::from(MAX_HISTORY_PAGE))).unwrap_or(1);
        let Some(page) = self.store.history(&room, since, cursor, limit)? else {
            return Err(refuse_with(
                ErrorCode::BadCursor,
                "That message is not part of this room's history that you can see.",
            ));
        };
        let mine: Vec<&MessageId> =
            page.messages.iter().filter(|m| m.receipts && m.from == *me).map(|m| &m.id).collect();
        let receipts = self.page_receipts(&mine)?;
        Ok((room, page, receipts))
    }

    /// The stream items of `me` after `after` up to `upto` (where live pushes start), at most `limit` and about
    /// `budget` bytes of JSON (but always one item when there is one); and whether more follow up to `upto`.
    pub fn stream_page(
        &mut self,
        me: &Handle,
        after: u64,
        upto: u64,
        limit: u64,
        budget: usize,
    ) -> Outcome<(Vec<StreamItem>, bool)> {
        let head = self.state.head(me);
        if after > head {
            return Err(refuse_with(
                ErrorCode::BadCursor,
                format!("Your stream ends at {head}, so there is nothing after {after}."),
            ));
        }
        let max_items = usize::try_from(limit.clamp(1, u64::from(MAX_SYNC_PAGE))).unwrap_or(1);
        let address = self.address(me);
        let mut items = self.store.stream_page(&address, after, upto, max_items)?;
        let mut left = budget;
        let mut keep = 0;
        for item in &items {
            let size = ITEM_OVERHEAD_BYTES
                + match &item.body {
                    ItemBody::Message { message } => message.body.len(),
                    ItemBody::Event { .. } | ItemBody::Unknown => 300,
                    // Each id: a UUID in quotes and a comma.
                    ItemBody::Receipt { receipt } => 40 * receipt.message_ids.len(),
                };
            if keep > 0 && size > left {
                break;
            }
            left = left.saturating_sub(size);
            keep += 1;
        }
        items.truncate(keep);
        let last = items.last().map_or(upto.max(after), |i| i.seq);
        Ok((items, last < upto))
    }

    /// Every item of `me`'s stream up to `seq` is acknowledged: the position only moves forward, and the messages it
    /// passes are delivered (their senders learn it if they asked).
    pub fn ack(&mut self, me: &Handle, seq: u64, now: Millis) -> Outcome {
        let head = self.state.head(me);
        if seq > head {
            return Err(refuse_with(
                ErrorCode::BadCursor,
                format!("You acknowledged {seq}, but your stream ends at {head}."),
            ));
        }
        let Some(before) = self.state.handles.get(me).map(|h| h.acked) else { return Ok(()) };
        if seq > before {
            self.write(Mutation::SetAcked { handle: me.clone(), acked: seq })?;
            // The items between the old and the new position are delivered now (if any of them is tracked).
            if self.receipts_tracked_after(me, before)? {
                self.deliver_receipts(me, before, seq, now)?;
            }
        }
        Ok(())
    }
}
