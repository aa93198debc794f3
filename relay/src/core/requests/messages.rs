//! Messages and streams: send (to any room, by one path), sync, ack, history, read, typing.

use huddle_shared::client::{Ack, History, Read, SendMessage, Sync, Typing};
use huddle_shared::limits::MAX_SYNC_PAGE;
use huddle_shared::{ErrorCode, Millis, ServerFrame};

use super::{Caller, HandleRequest, Me, Reply, one_target};
use crate::core::Core;
use crate::core::budget::{Budgets, OverBudget};
use crate::core::domain::messages::{Gate, Outgoing};
use crate::core::fail::{Fail, rate_limited, refuse, refuse_with};
use crate::storage::{HistoryCursor, Storage};

/// Whether the sender's account may store a new message of `bytes` now: the disk floor, then its budget, counted
/// when `gate` says it will be stored. Publishing an issue is counted the same way (see `huddles`).
pub(super) fn admit(
    disk_low: bool,
    budgets: &mut Budgets,
    (account, bytes): (&str, usize),
    gate: Gate,
    now: Millis,
) -> Result<(), Fail> {
    if disk_low {
        return Err(refuse(ErrorCode::StorageFull));
    }
    let verdict = match gate {
        Gate::Check => budgets.check(account, bytes, now),
        Gate::Spend => budgets.spend(account, bytes, now),
    };
    match verdict {
        Ok(()) => Ok(()),
        Err(OverBudget::Rate { retry_after_ms }) => Err(rate_limited(
            "You are sending messages too fast (from all your devices together); wait a moment.",
            retry_after_ms,
        )),
        Err(OverBudget::Quota { retry_after_ms }) => {
            let hours = retry_after_ms.div_ceil(3_600_000).max(1);
            Err(Fail::Refuse {
                code: ErrorCode::QuotaExceeded,
                message: Some(format!(
                    "You have sent as much as this relay stores for one account in a day; try again in {hours} \
                     hour(s)."
                )),
                retry_after_ms: Some(retry_after_ms),
            })
        }
    }
}

/// The default number of messages in a `history` page.
const HISTORY_PAGE: u64 = 50;

impl HandleRequest for SendMessage {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let target = one_target(self.room, self.to, "to", core.world.relay())?;
        let account = core.conns.account(caller.conn).map_or("", String::as_str);
        let outgoing = Outgoing { body: self.body, client_msg_id: self.client_msg_id, receipts: self.receipts };
        let disk_low = core.disk_low;
        let budgets = &mut core.budgets;
        let admit = |body: &str, gate: Gate| admit(disk_low, budgets, (account, body.len()), gate, now);
        let posted = core.world.post(&me.address, &target, outgoing, now, admit)?;
        Ok(Reply::Frame(ServerFrame::Stored {
            id: caller.id(),
            room: posted.message.room,
            message_id: posted.message.id,
            seq: posted.seq,
            sent_at: posted.message.sent_at,
            recipients: posted.recipients,
        }))
    }
}

impl HandleRequest for Sync {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let head = core.world.state.head(&me.handle);
        // Items above where this connection's live pushes start come as `deliver`, never here.
        let live_from = core.conns.live_from(caller.conn, &me.handle).unwrap_or(head);
        let limit = self.limit.unwrap_or(u64::from(MAX_SYNC_PAGE));
        let budget = core.config.sync_batch_bytes;
        let (items, more) = core.world.stream_page(&me.handle, self.after, live_from, limit, budget)?;
        Ok(Reply::Frame(ServerFrame::Batch { id: self.id, acting: me.address.clone(), items, more, head }))
    }
}

impl HandleRequest for Ack {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.ack(&me.handle, self.seq, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for History {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let target = one_target(self.room, self.with, "with", core.world.relay())?;
        let cursor = match (&self.before, &self.after) {
            (Some(_), Some(_)) => {
                return Err(refuse_with(ErrorCode::BadFrame, "Give either \"before\" or \"after\", not both."));
            }
            (Some(b), None) => HistoryCursor::Before(b),
            (None, Some(a)) => HistoryCursor::After(a),
            (None, None) => HistoryCursor::Latest,
        };
        let limit = self.limit.unwrap_or(HISTORY_PAGE);
        let (room, page, receipts) = core.world.history(&me.address, &target, cursor, limit)?;
        Ok(Reply::Frame(ServerFrame::History { id: self.id, room, messages: page.messages, more: page.more, receipts }))
    }
}

impl HandleRequest for Read {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.read(&me.handle, self.message_ids, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for Typing {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let target = one_target(self.room, self.to, "to", core.world.relay())?;
        core.world.typing(&me.address, &target, now)?;
        Ok(Reply::Ok)
    }
}
