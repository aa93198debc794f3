//! Group rooms: create, invite (under each invitee's setting: join at once, ask, or refuse), answer, leave,
//! remove, rename, send, and history since joining. Membership changes are system events in every member's stream
//! (so they are never lost and form the group's log), and the member list is pushed on every change.
//!
//! Routing inside groups: a member's message reaches every other member except those who blocked the sender; an
//! invitation needs the inviter to be related to the invitee (the direct-message rule) or to share a group with them.

use huddle_shared::limits::{MAX_GROUP_MEMBERS, MAX_GROUP_TITLE_CHARS, MAX_GROUPS_PER_HANDLE, MAX_HISTORY_PAGE};
use huddle_shared::model::{
    Event, GroupChange, GroupInfo, GroupMember, GroupMessage, InvitePolicy, ItemBody, PendingGroupInvite, StreamItem,
};
use huddle_shared::text::{check_body, check_client_msg_id, check_line};
use huddle_shared::{Address, ErrorCode, Handle, Millis, RequestId, ServerFrame};

use super::routing::{live_entry, may_message};
use super::{ConnId, Core, Fail, Outcome, refuse, refuse_with};
use crate::storage::{GroupInviteRec, GroupRec, HistoryCursor, MemberRec, Mutation, Storage};

/// What an invitation led to.
enum Invited {
    Joined,
    Asked,
}

impl<S: Storage> Core<S> {
    fn not_in_group() -> Fail {
        refuse(ErrorCode::NotInGroup)
    }

    /// The group, if `me` is in it. Unknown groups and groups one is not in get the same answer.
    fn my_group(&self, me: &Address, group: &str) -> Result<GroupRec, Fail> {
        match self.state.groups.get(group) {
            Some(g) if !g.archived && self.state.is_member(group, me) => Ok(g.clone()),
            _ => Err(Self::not_in_group()),
        }
    }

    pub(super) fn group_info(&self, group: &str) -> Option<GroupInfo> {
        let g = self.state.groups.get(group)?;
        let mut members: Vec<GroupMember> = self
            .state
            .members
            .get(group)
            .map(|ms| ms.values().map(|m| GroupMember { address: m.member.clone(), joined_at: m.joined_at }).collect())
            .unwrap_or_default();
        members.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then_with(|| a.address.cmp(&b.address)));
        let invited = self.state.group_invites.get(group).map(|is| is.keys().cloned().collect()).unwrap_or_default();
        Some(GroupInfo {
            id: g.id.clone(),
            title: g.title.clone(),
            owner: g.owner.clone(),
            members,
            invited,
            created_at: g.created_at,
        })
    }

    fn member_addresses(&self, group: &str) -> Vec<Address> {
        self.state.members.get(group).map(|ms| ms.keys().cloned().collect()).unwrap_or_default()
    }

    /// Pushes the group's current state to every member's connections.
    fn push_group(&mut self, group: &str) {
        self.push_group_except(group, None);
    }

    /// The same, but not to `except` (which has the group in its answer already).
    fn push_group_except(&mut self, group: &str, except: Option<ConnId>) {
        let Some(info) = self.group_info(group) else { return };
        for member in self.member_addresses(group) {
            if self.state.local_handle(&member).is_none() {
                continue;
            }
            for conn in self.conns.acting_for(&member.handle) {
                if Some(conn) != except {
                    self.send(conn, ServerFrame::Group { id: None, acting: member.clone(), group: info.clone() });
                }
            }
        }
    }

    fn push_gone(&mut self, member: &Address, group: &str) {
        for conn in self.conns.acting_for(&member.handle) {
            self.send(conn, ServerFrame::GroupGone { acting: member.clone(), group: group.to_owned() });
        }
    }

    /// A line in the group's log: an event in the stream of every member (and of `also`, e.g. someone removed).
    fn group_event(
        &mut self,
        group: &str,
        actor: &Address,
        change: GroupChange,
        also: Option<&Address>,
        now: Millis,
    ) -> Outcome {
        let mut to = self.member_addresses(group);
        if let Some(extra) = also {
            if !to.contains(extra) {
                to.push(extra.clone());
            }
        }
        for member in to {
            if self.state.local_handle(&member).is_some() {
                let event = Event::Group { peer: actor.clone(), group: group.to_owned(), change: change.clone() };
                self.append_event(&member.handle, event, now)?;
            }
        }
        Ok(())
    }

    fn check_title(title: &str) -> Outcome {
        check_line(title, MAX_GROUP_TITLE_CHARS)
            .map_err(|e| refuse_with(ErrorCode::BadText, format!("The group title is not valid: {e}.")))
    }

    fn groups_of(&self, who: &Address) -> usize {
        self.state.member_of.get(who).map_or(0, |g| g.len())
    }

    /// Invites `who` to `group` on behalf of `by`, following `who`'s invitation setting.
    fn invite_one(&mut self, group: &str, by: &Address, who: &Address, now: Millis) -> Result<Invited, Fail> {
        let Some(record) = self.state.local_handle(who).cloned() else {
            return Err(refuse_with(ErrorCode::NotReachable, format!("{who} cannot be reached from your handle.")));
        };
        let related = may_message(&self.state, by, who) || self.state.share_group(by, who);
        if !related || self.state.blocks.contains(who, by) || self.state.blocks.contains(by, who) {
            return Err(refuse_with(ErrorCode::NotReachable, format!("{who} cannot be reached from your handle.")));
        }
        if self.state.is_member(group, who) || self.state.group_invites.get(group).is_some_and(|i| i.contains_key(who))
        {
            return Err(refuse_with(
                ErrorCode::AlreadyInGroup,
                format!("{who} is already in that group (or invited)."),
            ));
        }
        let size = self.member_addresses(group).len() + self.state.group_invites.get(group).map_or(0, |i| i.len());
        if size >= MAX_GROUP_MEMBERS {
            return Err(refuse(ErrorCode::GroupFull));
        }
        if self.groups_of(who) >= MAX_GROUPS_PER_HANDLE {
            return Err(refuse_with(ErrorCode::GroupFull, format!("{who} is in as many groups as a handle can be.")));
        }
        let friend_of_invitee = live_entry(&self.state, who, by);
        match record.invite_policy {
            InvitePolicy::Refuse => {
                Err(refuse_with(ErrorCode::NotReachable, format!("{who} does not accept group invitations.")))
            }
            InvitePolicy::Auto if friend_of_invitee => {
                let since = self.state.groups.get(group).map_or(0, |g| g.messages);
                self.write(Mutation::PutMember(MemberRec {
                    group: group.to_owned(),
                    member: who.clone(),
                    joined_at: now,
                    since,
                }))?;
                Ok(Invited::Joined)
            }
            InvitePolicy::Auto | InvitePolicy::Ask => {
                self.write(Mutation::PutGroupInvite(GroupInviteRec {
                    group: group.to_owned(),
                    invitee: who.clone(),
                    by: by.clone(),
                    at: now,
                }))?;
                let title = self.state.groups.get(group).and_then(|g| g.title.clone());
                self.append_event(
                    &who.handle,
                    Event::GroupInvite { peer: by.clone(), group: group.to_owned(), title },
                    now,
                )?;
                Ok(Invited::Asked)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_group(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        members: Vec<Address>,
        title: Option<String>,
        promoted: bool,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &title {
            Self::check_title(t)?;
        }
        let mut invitees: Vec<Address> = Vec::new();
        for m in members {
            let m = m.resolve(&self.state.relay);
            if !m.is_local_to(&self.state.relay) {
                return Err(refuse_with(
                    ErrorCode::FederationUnavailable,
                    format!("{m} is on another relay, and this relay cannot reach other relays yet."),
                ));
            }
            if m != me_addr && !invitees.contains(&m) {
                invitees.push(m);
            }
        }
        if invitees.is_empty() {
            return Err(refuse_with(ErrorCode::BadFrame, "A group needs at least one other member."));
        }
        if invitees.len() + 1 > MAX_GROUP_MEMBERS {
            return Err(refuse(ErrorCode::GroupFull));
        }
        if self.groups_of(&me_addr) >= MAX_GROUPS_PER_HANDLE {
            return Err(refuse_with(
                ErrorCode::GroupFull,
                "You are in as many groups as a handle can be; leave one first.",
            ));
        }
        // Everyone must be invitable before anything is written, so a refusal leaves no half-made group.
        for who in &invitees {
            let reachable = self.state.local_handle(who).is_some()
                && (may_message(&self.state, &me_addr, who) || self.state.share_group(&me_addr, who))
                && !self.state.blocks.contains(who, &me_addr)
                && !self.state.blocks.contains(&me_addr, who);
            if !reachable {
                return Err(refuse_with(ErrorCode::NotReachable, format!("{who} cannot be reached from your handle.")));
            }
        }
        let group = super::auth::new_account_id(now);
        self.write(Mutation::PutGroup(GroupRec {
            id: group.clone(),
            title: title.clone(),
            owner: me_addr.clone(),
            created_at: now,
            archived: false,
            messages: 0,
        }))?;
        self.write(Mutation::PutMember(MemberRec {
            group: group.clone(),
            member: me_addr.clone(),
            joined_at: now,
            since: 0,
        }))?;
        for who in &invitees {
            // A refusing invitee simply is not in the group; the creator sees who is.
            match self.invite_one(&group, &me_addr, who, now) {
                Ok(_) | Err(Fail::Refuse { .. }) => {}
                Err(e @ Fail::Storage(_)) => return Err(e),
            }
        }
        let members = self.member_addresses(&group);
        self.group_event(&group, &me_addr, GroupChange::Created { members, title, promoted }, None, now)?;
        if let Some(info) = self.group_info(&group) {
            self.send(conn, ServerFrame::Group { id: Some(id), acting: me_addr, group: info });
        }
        self.push_group_except(&group, Some(conn));
        Ok(())
    }

    pub(super) fn invite_to_group(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: &str,
        who: Address,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        self.my_group(&me_addr, group)?;
        let who = who.resolve(&self.state.relay);
        match self.invite_one(group, &me_addr, &who, now)? {
            Invited::Joined => self.group_event(group, &me_addr, GroupChange::Joined { who }, None, now)?,
            Invited::Asked => {}
        }
        self.push_group(group);
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn answer_group_invite(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: &str,
        accept: bool,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        if !self.state.group_invites.get(group).is_some_and(|i| i.contains_key(&me_addr)) {
            return Err(refuse(ErrorCode::NoSuchInvite));
        }
        // Everything that could refuse is checked before the invitation is used up.
        let group_record = self.state.groups.get(group).filter(|g| !g.archived).cloned();
        if accept && self.groups_of(&me_addr) >= MAX_GROUPS_PER_HANDLE {
            return Err(refuse_with(
                ErrorCode::GroupFull,
                "You are in as many groups as a handle can be; leave one first.",
            ));
        }
        self.write(Mutation::DeleteGroupInvite { group: group.to_owned(), invitee: me_addr.clone() })?;
        if let (true, Some(g)) = (accept, group_record) {
            self.write(Mutation::PutMember(MemberRec {
                group: g.id.clone(),
                member: me_addr.clone(),
                joined_at: now,
                since: g.messages,
            }))?;
            self.group_event(group, &me_addr, GroupChange::Joined { who: me_addr.clone() }, None, now)?;
        }
        self.push_group(group);
        self.ok(conn, id);
        Ok(())
    }

    /// Takes `who` out of `group`: the log says why, ownership passes on, an empty group is archived.
    fn depart(&mut self, group: &str, who: &Address, change: GroupChange, actor: &Address, now: Millis) -> Outcome {
        let Some(mut record) = self.state.groups.get(group).cloned() else { return Ok(()) };
        self.write(Mutation::DeleteMember { group: group.to_owned(), member: who.clone() })?;
        // The one who left or was removed sees the line too, then the group goes from their list.
        self.group_event(group, actor, change, Some(who), now)?;
        let remaining: Vec<MemberRec> = {
            let mut ms: Vec<MemberRec> =
                self.state.members.get(group).map(|m| m.values().cloned().collect()).unwrap_or_default();
            ms.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then_with(|| a.member.cmp(&b.member)));
            ms
        };
        if remaining.is_empty() {
            record.archived = true;
            self.write(Mutation::PutGroup(record))?;
            let invitees: Vec<Address> =
                self.state.group_invites.get(group).map(|i| i.keys().cloned().collect()).unwrap_or_default();
            for invitee in invitees {
                self.write(Mutation::DeleteGroupInvite { group: group.to_owned(), invitee })?;
            }
        } else if &record.owner == who {
            let heir = remaining[0].member.clone();
            record.owner = heir.clone();
            self.write(Mutation::PutGroup(record))?;
            self.group_event(group, &heir, GroupChange::OwnerChanged, None, now)?;
        }
        self.push_gone(who, group);
        self.push_group(group);
        Ok(())
    }

    pub(super) fn leave_group(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: &str,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        self.my_group(&me_addr, group)?;
        self.depart(group, &me_addr, GroupChange::Left, &me_addr.clone(), now)?;
        self.ok(conn, id);
        Ok(())
    }

    /// Leaves every group quietly (used when a handle is removed).
    pub(super) fn leave_all_groups(&mut self, me: &Address, now: Millis) -> Outcome {
        let groups: Vec<String> = self.state.member_of.get(me).map(|g| g.iter().cloned().collect()).unwrap_or_default();
        for group in groups {
            self.depart(&group, me, GroupChange::Left, &me.clone(), now)?;
        }
        let invited: Vec<String> =
            self.state.group_invites.iter().filter(|(_, i)| i.contains_key(me)).map(|(g, _)| g.clone()).collect();
        for group in invited {
            self.write(Mutation::DeleteGroupInvite { group: group.clone(), invitee: me.clone() })?;
            self.push_group(&group);
        }
        Ok(())
    }

    pub(super) fn remove_from_group(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: &str,
        who: Address,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        let record = self.my_group(&me_addr, group)?;
        if record.owner != me_addr {
            return Err(refuse(ErrorCode::NotOwner));
        }
        let who = who.resolve(&self.state.relay);
        if who == me_addr {
            return Err(refuse_with(ErrorCode::BadFrame, "To leave your own group, use leave_group."));
        }
        if !self.state.is_member(group, &who) {
            // An invitation not yet answered can be withdrawn the same way.
            if self.state.group_invites.get(group).is_some_and(|i| i.contains_key(&who)) {
                self.write(Mutation::DeleteGroupInvite { group: group.to_owned(), invitee: who })?;
                self.push_group(group);
                self.ok(conn, id);
                return Ok(());
            }
            return Err(refuse_with(ErrorCode::NotInGroup, format!("{who} is not in that group.")));
        }
        self.depart(group, &who, GroupChange::Removed { who: who.clone() }, &me_addr, now)?;
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn rename_group(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: &str,
        title: String,
        now: Millis,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        let mut record = self.my_group(&me_addr, group)?;
        if record.owner != me_addr {
            return Err(refuse(ErrorCode::NotOwner));
        }
        let title = Some(title.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &title {
            Self::check_title(t)?;
        }
        record.title = title.clone();
        self.write(Mutation::PutGroup(record))?;
        self.group_event(group, &me_addr, GroupChange::Renamed { title }, None, now)?;
        self.push_group(group);
        self.ok(conn, id);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_group(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: &str,
        body: String,
        client_msg_id: String,
        receipts: bool,
        now: Millis,
    ) -> Outcome {
        if !check_client_msg_id(&client_msg_id) {
            return Err(refuse(ErrorCode::BadClientMsgId));
        }
        let me_addr = self.state.address(me);
        let same = |sent: &super::messages::Sent| matches!(sent, super::messages::Sent::Group(m) if m.group == group && m.body == body);
        if let Some(answer) = self.resend_answer(id, &me_addr, &client_msg_id, same)? {
            self.send(conn, answer);
            return Ok(());
        }
        if let Err(e) = check_body(&body) {
            return Err(refuse_with(ErrorCode::BadBody, format!("{} ({e})", ErrorCode::BadBody.sentence())));
        }
        let mut record = self.my_group(&me_addr, group)?;
        record.messages += 1;
        let number = record.messages;
        let message = GroupMessage {
            id: super::auth::new_account_id(now),
            group: group.to_owned(),
            from: me_addr.clone(),
            body,
            sent_at: now,
            client_msg_id,
            receipts,
        };
        // Blocks hold inside groups: whoever blocked the sender gets nothing of theirs.
        let deliveries: Vec<(Handle, u64)> = self
            .member_addresses(group)
            .into_iter()
            .filter(|m| m == &me_addr || !self.state.blocks.contains(m, &me_addr))
            .filter(|m| self.state.local_handle(m).is_some())
            .map(|m| (m.handle.clone(), self.state.head(&m.handle) + 1))
            .collect();
        self.write(Mutation::PutGroup(record))?;
        self.write(Mutation::StoreGroupMessage { message: message.clone(), number, deliveries: deliveries.clone() })?;
        // Receipts are tracked for every other member, those who blocked the sender included: they never get the
        // message, so they never confirm it, and the count does not give the block away.
        let recipients = if receipts {
            let tracked: Vec<(Address, Option<u64>)> = self
                .member_addresses(group)
                .into_iter()
                .filter(|m| m != &me_addr)
                .map(|m| {
                    let seq = deliveries.iter().find(|(h, _)| *h == m.handle).map(|(_, seq)| *seq);
                    (m, seq)
                })
                .collect();
            self.track_receipts(&message.id, &me_addr, Some(group), tracked)?
        } else {
            Vec::new()
        };
        let own_seq = deliveries.iter().find(|(h, _)| h == me).map_or(0, |(_, s)| *s);
        self.send(
            conn,
            ServerFrame::Stored { id, message_id: message.id.clone(), seq: own_seq, sent_at: now, recipients },
        );
        for (handle, seq) in deliveries {
            let item = StreamItem { seq, at: now, body: ItemBody::GroupMessage { message: message.clone() } };
            let except = (&handle == me).then_some(conn);
            self.deliver(&handle, item, except);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn group_history(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        group: String,
        before: Option<String>,
        after: Option<String>,
        limit: Option<u32>,
    ) -> Outcome {
        let me_addr = self.state.address(me);
        self.my_group(&me_addr, &group)?;
        let since = self.state.members.get(&group).and_then(|m| m.get(&me_addr)).map_or(0, |m| m.since);
        let cursor = match (&before, &after) {
            (Some(_), Some(_)) => {
                return Err(refuse_with(ErrorCode::BadFrame, "Give either \"before\" or \"after\", not both."));
            }
            (Some(b), None) => HistoryCursor::Before(b),
            (None, Some(a)) => HistoryCursor::After(a),
            (None, None) => HistoryCursor::Latest,
        };
        let limit = limit.unwrap_or(50).clamp(1, MAX_HISTORY_PAGE) as usize;
        let Some(page) = self.store.group_history(&group, since, cursor, limit)? else {
            return Err(refuse_with(
                ErrorCode::BadCursor,
                "That message is not part of this group's history you can see.",
            ));
        };
        let mine = page.messages.iter().filter(|m| m.receipts && m.from == me_addr).map(|m| m.id.as_str());
        let receipts = self.page_receipts(mine)?;
        self.send(conn, ServerFrame::GroupHistory { id, group, messages: page.messages, more: page.more, receipts });
        Ok(())
    }

    pub(super) fn set_invite_policy(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        policy: InvitePolicy,
    ) -> Outcome {
        if let Some(mut record) = self.state.handles.get(me).cloned() {
            record.invite_policy = policy;
            self.write(Mutation::PutHandle(record))?;
        }
        self.ok(conn, id);
        Ok(())
    }

    /// A handle's groups, invitations and setting, as one frame.
    pub(super) fn groups_frame(&self, id: Option<RequestId>, me: &Handle) -> ServerFrame {
        let me_addr = self.state.address(me);
        let groups = self
            .state
            .member_of
            .get(&me_addr)
            .map(|gs| gs.iter().filter_map(|g| self.group_info(g)).collect())
            .unwrap_or_default();
        let mut invites: Vec<PendingGroupInvite> = self
            .state
            .group_invites
            .iter()
            .filter_map(|(group, invites)| invites.get(&me_addr).map(|i| (group, i)))
            .map(|(group, i)| PendingGroupInvite {
                group: group.clone(),
                title: self.state.groups.get(group).and_then(|g| g.title.clone()),
                by: i.by.clone(),
                at: i.at,
            })
            .collect();
        invites.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.group.cmp(&b.group)));
        let policy = self.state.handles.get(me).map(|h| h.invite_policy).unwrap_or_default();
        ServerFrame::Groups { id, acting: me_addr, groups, invites, policy }
    }
}
