//! Direct messages that are never lost: store first, acknowledge after the commit, push to every connection of both
//! sides, resume with `sync`, page with `history`. An `ack` also delivers the receipts it covers (`receipts.rs`).

use huddle_shared::limits::{MAX_HISTORY_PAGE, MAX_SYNC_PAGE};
use huddle_shared::model::{GroupMessage, ItemBody, Message, StreamItem};
use huddle_shared::text::{check_body, check_client_msg_id};
use huddle_shared::{Address, ErrorCode, Handle, Millis, RequestId, ServerFrame};

use super::routing::may_message;
use super::{ConnId, Core, Fail, Outcome, refuse, refuse_with};
use crate::storage::{HistoryCursor, Mutation, Storage};

/// JSON overhead of one stream item beside its text fields, for sizing `batch` frames.
const ITEM_OVERHEAD_BYTES: usize = 320;

/// A message stored earlier under a `client_msg_id`.
pub(super) enum Sent {
    Direct(Message),
    Group(GroupMessage),
}

impl<S: Storage> Core<S> {
    /// Idempotency, one key space per sender across direct and group messages: `Some(stored)` if `client_msg_id`
    /// already names the same message (the resend gets the first answer again, whatever happened since), an error if
    /// it names a different one, `None` if it is new.
    pub(super) fn resend_answer(
        &mut self,
        id: RequestId,
        sender: &Address,
        client_msg_id: &str,
        same: impl FnOnce(&Sent) -> bool,
    ) -> Result<Option<ServerFrame>, Fail> {
        let found = match self.store.find_client_msg(sender, client_msg_id)? {
            Some((m, seq)) => Some((Sent::Direct(m), seq)),
            None => self.store.find_group_client_msg(sender, client_msg_id)?.map(|(m, seq)| (Sent::Group(m), seq)),
        };
        let Some((sent, seq)) = found else { return Ok(None) };
        if !same(&sent) {
            return Err(refuse(ErrorCode::DuplicateClientMsgId));
        }
        let (message_id, sent_at, receipts) = match sent {
            Sent::Direct(m) => (m.id, m.sent_at, m.receipts),
            Sent::Group(m) => (m.id, m.sent_at, m.receipts),
        };
        // The same recipients as the first answer: they were fixed when the message was stored.
        let recipients = if receipts { self.tracked_recipients(&message_id)? } else { Vec::new() };
        Ok(Some(ServerFrame::Stored { id, message_id, seq, sent_at, recipients }))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_message(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        to: Address,
        body: String,
        client_msg_id: String,
        receipts: bool,
        now: Millis,
    ) -> Outcome {
        if !check_client_msg_id(&client_msg_id) {
            return Err(refuse(ErrorCode::BadClientMsgId));
        }
        let me_addr = self.state.address(me);
        let to = to.resolve(&self.state.relay);
        let same = |sent: &Sent| matches!(sent, Sent::Direct(m) if m.to == to && m.body == body);
        if let Some(answer) = self.resend_answer(id, &me_addr, &client_msg_id, same)? {
            self.send(conn, answer);
            return Ok(());
        }
        if let Err(e) = check_body(&body) {
            return Err(refuse_with(ErrorCode::BadBody, format!("{} ({e})", ErrorCode::BadBody.sentence())));
        }
        if !to.is_local_to(&self.state.relay) {
            return Err(refuse_with(
                ErrorCode::FederationUnavailable,
                format!("{to} is on another relay, and this relay cannot reach other relays yet."),
            ));
        }
        if self.state.local_handle(&to).is_none() || !may_message(&self.state, &me_addr, &to) {
            return Err(refuse_with(
                ErrorCode::NotReachable,
                format!(
                    "{to} cannot be reached from your handle. To write to someone, one of you needs the other on their \
                     friend list: send a friend request first."
                ),
            ));
        }
        let message = Message {
            id: super::auth::new_account_id(now),
            from: me_addr,
            to: to.clone(),
            body,
            sent_at: now,
            client_msg_id,
            receipts,
        };
        let sender_seq = self.state.head(me) + 1;
        let recipient_seq = self.state.head(&to.handle) + 1;
        self.write(Mutation::StoreMessage { message: message.clone(), sender_seq, recipient_seq })?;
        let recipients = if receipts {
            self.track_receipts(&message.id, &message.from, None, vec![(to.clone(), Some(recipient_seq))])?
        } else {
            Vec::new()
        };
        self.send(
            conn,
            ServerFrame::Stored { id, message_id: message.id.clone(), seq: sender_seq, sent_at: now, recipients },
        );
        let item = |seq| StreamItem { seq, at: now, body: ItemBody::Message { message: message.clone() } };
        self.deliver(&to.handle, item(recipient_seq), None);
        self.deliver(me, item(sender_seq), Some(conn));
        Ok(())
    }

    /// Pages through the part of the stream this connection did not get live: `after < seq <= live_from`.
    pub(super) fn sync(&mut self, conn: ConnId, id: RequestId, me: &Handle, after: u64, limit: Option<u32>) -> Outcome {
        let head = self.state.head(me);
        if after > head {
            return Err(refuse_with(
                ErrorCode::BadCursor,
                format!("Your stream ends at {head}, so there is nothing after {after}."),
            ));
        }
        let live_from = self.conns.live_from(conn, me).unwrap_or(head);
        let max_items = limit.unwrap_or(MAX_SYNC_PAGE).clamp(1, MAX_SYNC_PAGE) as usize;
        let me_addr = self.state.address(me);
        let mut items = self.store.stream_page(&me_addr, after, live_from, max_items)?;
        // Keep each batch frame to a bounded size: stop before the byte budget, but always carry one item.
        let mut budget = self.config.sync_batch_bytes;
        let mut keep = 0;
        for item in &items {
            let size = ITEM_OVERHEAD_BYTES
                + match &item.body {
                    ItemBody::Message { message } => message.body.len(),
                    ItemBody::GroupMessage { message } => message.body.len() + 64,
                    ItemBody::Event { .. } => 300,
                    // `by` and `group`, then each id: a UUID in quotes and a comma.
                    ItemBody::Receipt { receipt } => 64 + 40 * receipt.message_ids.len(),
                };
            if keep > 0 && size > budget {
                break;
            }
            budget = budget.saturating_sub(size);
            keep += 1;
        }
        items.truncate(keep);
        let last = items.last().map_or(live_from.max(after), |i| i.seq);
        let more = last < live_from;
        self.send(conn, ServerFrame::Batch { id, acting: me_addr, items, more, head });
        Ok(())
    }

    pub(super) fn ack(&mut self, conn: ConnId, id: Option<RequestId>, me: &Handle, seq: u64, now: Millis) -> Outcome {
        let head = self.state.head(me);
        if seq > head {
            return Err(refuse_with(
                ErrorCode::BadCursor,
                format!("You acknowledged {seq}, but your stream ends at {head}."),
            ));
        }
        if let Some(mut record) = self.state.handles.get(me).cloned() {
            if seq > record.acked {
                let before = std::mem::replace(&mut record.acked, seq);
                self.write(Mutation::PutHandle(record))?;
                // The items between the old and the new position are delivered now.
                self.deliver_receipts(me, before, seq, now)?;
            }
        }
        if let Some(id) = id {
            self.ok(conn, id);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn history(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        with: Address,
        before: Option<String>,
        after: Option<String>,
        limit: Option<u32>,
    ) -> Outcome {
        let with = with.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        let cursor = match (&before, &after) {
            (Some(_), Some(_)) => {
                return Err(refuse_with(ErrorCode::BadFrame, "Give either \"before\" or \"after\", not both."));
            }
            (Some(b), None) => HistoryCursor::Before(b),
            (None, Some(a)) => HistoryCursor::After(a),
            (None, None) => HistoryCursor::Latest,
        };
        let limit = limit.unwrap_or(50).clamp(1, MAX_HISTORY_PAGE) as usize;
        let Some(page) = self.store.history(&me_addr, &with, cursor, limit)? else {
            return Err(refuse_with(ErrorCode::BadCursor, "That message is not part of this conversation."));
        };
        let mine = page.messages.iter().filter(|m| m.receipts && m.from == me_addr).map(|m| m.id.as_str());
        let receipts = self.page_receipts(mine)?;
        self.send(conn, ServerFrame::History { id, with, messages: page.messages, more: page.more, receipts });
        Ok(())
    }
}
