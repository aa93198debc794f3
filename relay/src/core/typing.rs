//! Typing indicators: ephemeral, never stored. Passed on only where a message could go (the direct-message rule,
//! or group membership without the recipient having blocked the typist), and at most once per
//! [`TYPING_INTERVAL_MS`] per conversation — the rest are dropped quietly, since a late "typing" is worthless.

use huddle_shared::{Address, ErrorCode, Handle, Millis, RequestId, ServerFrame};

use super::routing::may_message;
use super::{ConnId, Core, Outcome, refuse_with};
use crate::storage::Storage;

/// Least time between two indicators passed on for the same typist and conversation.
pub const TYPING_INTERVAL_MS: Millis = 2_000;
/// Most (typist, conversation) pairs remembered; beyond this the table is cleared (forgetting only lets one more
/// indicator through).
pub const MAX_TYPING_ENTRIES: usize = 10_000;

impl<S: Storage> Core<S> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn typing(
        &mut self,
        conn: ConnId,
        id: Option<RequestId>,
        me: &Handle,
        to: Option<Address>,
        group: Option<String>,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        // Who would see it (with the group it is in, if any), or why nobody may.
        let (recipients, group): (Vec<Address>, Option<String>) = match (to, group) {
            (Some(to), None) => {
                let to = to.resolve(&self.state.relay);
                if self.state.local_handle(&to).is_none() || !may_message(&self.state, &me_addr, &to) {
                    return Err(refuse_with(
                        ErrorCode::NotReachable,
                        format!("{to} cannot be reached from your handle."),
                    ));
                }
                (vec![to], None)
            }
            (None, Some(group)) => {
                let open = self.state.groups.get(&group).is_some_and(|g| !g.archived);
                if !open || !self.state.is_member(&group, &me_addr) {
                    return Err(refuse_with(ErrorCode::NotInGroup, ErrorCode::NotInGroup.sentence()));
                }
                let members = self
                    .state
                    .members
                    .get(&group)
                    .map(|m| {
                        m.keys()
                            .filter(|a| **a != me_addr && !self.state.blocks.contains(a, &me_addr))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                (members, Some(group))
            }
            _ => return Err(refuse_with(ErrorCode::BadFrame, "A typing frame names either \"to\" or \"group\".")),
        };
        let conversation = group
            .clone()
            .map_or_else(|| recipients.first().map(ToString::to_string).unwrap_or_default(), |g| format!("#{g}"));
        let slot = (me.clone(), conversation);
        let recent = self.typing_seen.get(&slot).is_some_and(|&at| now - at < TYPING_INTERVAL_MS);
        if !recent {
            if self.typing_seen.len() >= MAX_TYPING_ENTRIES {
                self.typing_seen.clear();
            }
            self.typing_seen.insert(slot, now);
            for recipient in recipients {
                for c in self.conns.acting_for(&recipient.handle) {
                    let frame =
                        ServerFrame::Typing { acting: recipient.clone(), from: me_addr.clone(), group: group.clone() };
                    self.send(c, frame);
                }
            }
        }
        if let Some(id) = id {
            self.ok(conn, id);
        }
        Ok(())
    }
}
