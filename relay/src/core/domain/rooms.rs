//! Rooms. Every conversation is one: a direct room of two (made the first time something is said in it; who may
//! write there is the friend relation's to say), or a group that its members make, grow and leave.
//!
//! The general operations take no consent decisions of their own — [`World::create_room`], [`World::add_member`],
//! [`World::remove_member`], [`World::end_room`] — so that the relay's own rooms can use them under their own rules.
//! The group operations put the consent rules around them: invitations under each invitee's setting, answers,
//! leaving, the owner's removals and renames. Every change of membership, owner or title is a line of the room's log
//! (a `room` event in the stream of every member, so never lost), and the member list is pushed on every change.

use huddle_shared::limits::{MAX_ROOM_MEMBERS, MAX_ROOM_TITLE_CHARS, MAX_ROOMS_PER_HANDLE};
use huddle_shared::model::{EndReason, Event, PendingInvite, RoomChange, RoomInfo, RoomKind, RoomMember};
use huddle_shared::text::check_line;
use huddle_shared::{Address, ErrorCode, MessageId, Millis, RoomId};

use super::{federation_unavailable, unreachable};
use crate::core::facts::Fact;
use crate::core::fail::{Fail, Outcome, refuse, refuse_with};
use crate::core::rules::{self, InviteOutcome};
use crate::core::world::World;
use crate::storage::{MemberRec, Mutation, RoomInviteRec, RoomRec, Storage};

/// What an invitation led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    Joined,
    Asked,
}

fn not_in_room() -> Fail {
    refuse(ErrorCode::NotInRoom)
}

fn check_title(title: &str) -> Outcome {
    check_line(title, MAX_ROOM_TITLE_CHARS)
        .map_err(|e| refuse_with(ErrorCode::BadText, format!("The room's title is not valid: {e}.")))
}

impl<S: Storage> World<S> {
    // --- what rooms look like ------------------------------------------------------------------------------------

    /// The room, if it is open and `me` is in it. Unknown rooms, ended ones and rooms one is not in get the same
    /// answer, so nobody can probe which ids exist.
    pub fn my_room(&self, me: &Address, room: &RoomId) -> Outcome<RoomRec> {
        match self.state.open_room(room) {
            Some(r) if self.state.is_member(room, me) => Ok(r.clone()),
            _ => Err(not_in_room()),
        }
    }

    /// The person whose direct room with `me` this is, if `room` names one that was never used: its id is known to
    /// both (it is in their friend entries) before anything is said in it. Only people linked to `me` by a friend
    /// entry, either way, are looked at, so an id tells nobody about anyone else.
    pub fn unused_direct_room_peer(&self, me: &Address, room: &RoomId) -> Option<Address> {
        if self.state.rooms.contains_key(room)
            || !room.local().starts_with("dm.")
            || room.relay() != self.relay().as_str()
        {
            return None;
        }
        let linked = self.state.entries.from(me).map(|(peer, _)| peer).chain(self.state.entries.to(me));
        linked.into_iter().find(|peer| crate::ids::direct_room_id(me, peer) == *room).cloned()
    }

    /// Like [`World::my_room`], but a direct room never used yet is made now (see
    /// [`World::unused_direct_room_peer`]), so that every frame can name it by its id from the start.
    pub fn my_room_made(&mut self, me: &Address, room: &RoomId, now: Millis) -> Outcome<RoomRec> {
        if let Some(peer) = self.unused_direct_room_peer(me, room) {
            self.direct_room(me, &peer, now)?;
        }
        self.my_room(me, room)
    }

    /// A room as its members see it.
    pub fn room_info(&self, room: &RoomId) -> Option<RoomInfo> {
        let r = self.state.rooms.get(room)?;
        let mut members: Vec<(Millis, Address)> = self
            .state
            .members
            .get(room)
            .map(|ms| ms.values().map(|m| (m.joined_at, m.member.clone())).collect())
            .unwrap_or_default();
        members.sort();
        let invited = self.state.room_invites.get(room).map(|is| is.keys().cloned().collect()).unwrap_or_default();
        Some(RoomInfo {
            id: r.id.clone(),
            kind: r.kind,
            title: r.title.clone(),
            owner: r.owner.clone(),
            members: members.into_iter().map(|(joined_at, address)| RoomMember { address, joined_at }).collect(),
            invited,
            created_at: r.created_at,
            huddle: self.huddle_info(room).map(Box::new),
        })
    }

    /// The rooms `me` is in (direct ones aside), and the invitations waiting for its answer, oldest first.
    pub fn rooms_of(&self, me: &Address) -> (Vec<RoomInfo>, Vec<PendingInvite>) {
        let rooms = self.state.shared_rooms_of(me).filter_map(|room| self.room_info(room)).collect();
        let mut invites: Vec<PendingInvite> = self
            .state
            .room_invites
            .iter()
            .filter_map(|(room, invites)| invites.get(me).map(|i| (room, i)))
            .map(|(room, i)| PendingInvite {
                room: room.clone(),
                title: self.state.rooms.get(room).and_then(|r| r.title.clone()),
                by: i.by.clone(),
                at: i.at,
            })
            .collect();
        invites.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.room.cmp(&b.room)));
        (rooms, invites)
    }

    fn shared_room_count(&self, who: &Address) -> usize {
        self.state.shared_rooms_of(who).count()
    }

    // --- the general operations ----------------------------------------------------------------------------------

    /// Makes an empty room of `kind` (and records it).
    pub fn create_room(
        &mut self,
        kind: RoomKind,
        owner: Option<Address>,
        title: Option<String>,
        now: Millis,
    ) -> Outcome<RoomId> {
        let id = crate::ids::new_room_id(self.relay(), now);
        self.write(Mutation::PutRoom(RoomRec { id: id.clone(), kind, title, owner, created_at: now, ended: false }))?;
        Ok(id)
    }

    /// The direct room of `a` and `b`, recorded (with both as members) the first time it is needed.
    pub fn direct_room(&mut self, a: &Address, b: &Address, now: Millis) -> Outcome<RoomId> {
        let id = crate::ids::direct_room_id(a, b);
        match self.state.rooms.get(&id) {
            Some(room)
                if room.kind == RoomKind::Direct && self.state.is_member(&id, a) && self.state.is_member(&id, b) =>
            {
                Ok(id)
            }
            // A different pair with the same id: 2^-128 by chance, impossible by choice of handles. Refused rather
            // than letting anyone into someone else's conversation.
            Some(_) => {
                tracing::error!(room = %id, "two pairs of handles share a direct room id; refusing");
                Err(refuse(ErrorCode::Internal))
            }
            None => {
                let room = RoomRec {
                    id: id.clone(),
                    kind: RoomKind::Direct,
                    title: None,
                    owner: None,
                    created_at: now,
                    ended: false,
                };
                self.write(Mutation::PutRoom(room))?;
                for member in [a, b] {
                    let rec = MemberRec { room: id.clone(), member: member.clone(), joined_at: now, since: 0 };
                    self.write(Mutation::PutMember(rec))?;
                }
                Ok(id)
            }
        }
    }

    /// Puts `who` in `room` now: they see its messages from now on, never earlier ones. No consent is decided here:
    /// the caller did (an accepted invitation, an invitee's setting, a relay room's own rules).
    pub fn add_member(&mut self, room: &RoomId, who: &Address, now: Millis) -> Outcome {
        let since = self.state.room_counts.get(room).copied().unwrap_or(0);
        if self.state.is_invited(room, who) {
            self.write(Mutation::DeleteRoomInvite { room: room.clone(), invitee: who.clone() })?;
        }
        self.write(Mutation::PutMember(MemberRec { room: room.clone(), member: who.clone(), joined_at: now, since }))?;
        if self.state.former.get(room).is_some_and(|f| f.contains(who)) {
            self.write(Mutation::DeleteFormer { room: room.clone(), member: who.clone() })?;
        }
        Ok(())
    }

    /// A line in the room's log: an event in the stream of every member (and of `also`, e.g. someone who left).
    pub(in crate::core) fn room_event(
        &mut self,
        room: &RoomId,
        actor: &Address,
        change: RoomChange,
        also: Option<&Address>,
        now: Millis,
    ) -> Outcome {
        let mut to = self.state.member_addresses(room);
        if let Some(extra) = also.filter(|extra| !to.contains(extra)) {
            to.push(extra.clone());
        }
        for member in to {
            if self.state.local_handle(&member).is_some() {
                let event = Event::Room { peer: actor.clone(), room: room.clone(), change: change.clone() };
                self.append_event(&member.handle, event, now)?;
            }
        }
        Ok(())
    }

    fn room_changed(&mut self, room: &RoomId) {
        self.record(Fact::RoomChanged { room: room.clone(), origin_has_it: false });
    }

    /// Takes `who` out of `room`, with the log line `change` made by `actor`: the one who goes sees it too, ownership
    /// passes to the member who joined earliest, and a room left empty ends.
    pub fn remove_member(
        &mut self,
        room: &RoomId,
        who: &Address,
        change: RoomChange,
        actor: &Address,
        now: Millis,
    ) -> Outcome {
        let Some(mut record) = self.state.rooms.get(room).cloned() else { return Ok(()) };
        self.write(Mutation::DeleteMember { room: room.clone(), member: who.clone() })?;
        if record.kind == RoomKind::Group {
            self.write(Mutation::PutFormer { room: room.clone(), member: who.clone() })?;
        }
        self.room_event(room, actor, change, Some(who), now)?;
        let mut remaining: Vec<MemberRec> =
            self.state.members.get(room).map(|m| m.values().cloned().collect()).unwrap_or_default();
        remaining.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then_with(|| a.member.cmp(&b.member)));
        self.record(Fact::RoomGone { member: who.clone(), room: room.clone() });
        if remaining.is_empty() {
            // Nobody is left to tell: the room simply ends (a huddle says why).
            if self.state.active_huddle(room).is_some() {
                return self.end_huddle(room, EndReason::Empty, now);
            }
            return self.end_room(room, actor, None, now);
        }
        if record.owner.as_ref() == Some(who) {
            let heir = remaining[0].member.clone();
            record.owner = Some(heir.clone());
            self.write(Mutation::PutRoom(record))?;
            self.room_event(room, &heir, RoomChange::OwnerChanged, None, now)?;
        }
        self.room_changed(room);
        Ok(())
    }

    /// Ends a room: its members (if any are left) get an `ended` line by `actor` (with the reason, for a huddle) and
    /// are out, its pending invitations are dropped, and nothing more can happen in it. The log stays in everyone's
    /// stream; the id is never reused.
    pub fn end_room(&mut self, room: &RoomId, actor: &Address, reason: Option<EndReason>, now: Millis) -> Outcome {
        let Some(mut record) = self.state.rooms.get(room).cloned().filter(|r| !r.ended) else { return Ok(()) };
        let members = self.state.member_addresses(room);
        if !members.is_empty() {
            self.room_event(room, actor, RoomChange::Ended { reason }, None, now)?;
        }
        for member in members {
            self.write(Mutation::DeleteMember { room: room.clone(), member: member.clone() })?;
            self.record(Fact::RoomGone { member, room: room.clone() });
        }
        let invitees: Vec<Address> =
            self.state.room_invites.get(room).map(|i| i.keys().cloned().collect()).unwrap_or_default();
        for invitee in invitees {
            self.write(Mutation::DeleteRoomInvite { room: room.clone(), invitee })?;
        }
        record.ended = true;
        self.write(Mutation::PutRoom(record))?;
        Ok(())
    }

    /// Leaves every room quietly (a handle being removed).
    pub fn leave_all_rooms(&mut self, me: &Address, now: Millis) -> Outcome {
        let rooms: Vec<RoomId> = self.state.shared_rooms_of(me).cloned().collect();
        for room in rooms {
            self.remove_member(&room, me, RoomChange::Left, &me.clone(), now)?;
        }
        let invited: Vec<RoomId> =
            self.state.room_invites.iter().filter(|(_, i)| i.contains_key(me)).map(|(r, _)| r.clone()).collect();
        for room in invited {
            self.write(Mutation::DeleteRoomInvite { room: room.clone(), invitee: me.clone() })?;
            self.room_changed(&room);
        }
        Ok(())
    }

    // --- groups: the consent rules around them -------------------------------------------------------------------

    /// Makes a group of `creator` and `invitees` (each invited under their setting; those who refuse are left out).
    /// Everything that could refuse is checked before anything is written, so a refusal leaves no half-made group.
    pub fn create_group(
        &mut self,
        creator: &Address,
        invitees: &[Address],
        title: Option<String>,
        promoted: bool,
        opening: Option<MessageId>,
        now: Millis,
    ) -> Outcome<RoomId> {
        let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &title {
            check_title(t)?;
        }
        let mut others: Vec<Address> = Vec::new();
        for who in invitees {
            if !who.is_local_to(self.relay()) {
                return Err(federation_unavailable(who));
            }
            if who != creator && !others.contains(who) {
                others.push(who.clone());
            }
        }
        if others.is_empty() {
            return Err(refuse_with(ErrorCode::BadFrame, "A group needs at least one other member."));
        }
        if others.len() + 1 > MAX_ROOM_MEMBERS {
            return Err(refuse(ErrorCode::RoomFull));
        }
        if self.shared_room_count(creator) >= MAX_ROOMS_PER_HANDLE {
            return Err(refuse_with(
                ErrorCode::RoomFull,
                "You are in as many rooms as a handle can be; leave one first.",
            ));
        }
        for who in &others {
            if self.state.local_handle(who).is_none() || !rules::may_invite(&self.state, creator, who) {
                return Err(unreachable(who));
            }
        }
        let room = self.create_room(RoomKind::Group, Some(creator.clone()), title.clone(), now)?;
        self.add_member(&room, creator, now)?;
        for who in &others {
            // Each invitee is checked against who is in the group when it would join (as a later invitation
            // would be): those asked first are not in it yet. A refusing invitee simply is not in the group.
            let members = self.state.member_addresses(&room);
            match self.invite_one(&room, creator, who, &members, now) {
                Ok(_) | Err(Fail::Refuse { .. }) => {}
                Err(e @ Fail::Storage(_)) => return Err(e),
            }
        }
        let members = self.state.member_addresses(&room);
        self.room_event(&room, creator, RoomChange::Created { members, title, promoted, opening }, None, now)?;
        self.record(Fact::RoomChanged { room: room.clone(), origin_has_it: true });
        Ok(room)
    }

    /// Invites `who` to `room` on behalf of `by`, a member, following `who`'s invitation setting.
    pub fn invite(&mut self, room: &RoomId, by: &Address, who: &Address, now: Millis) -> Outcome<Invited> {
        let record = self.my_room_made(by, room, now)?;
        if record.kind == RoomKind::Direct {
            return Err(refuse_with(
                ErrorCode::RoomFull,
                "A direct room is the two of you only; make a group with them and others instead.",
            ));
        }
        let members = self.state.member_addresses(room);
        let invited = self.invite_one(room, by, who, &members, now)?;
        if invited == Invited::Joined {
            self.room_event(room, by, RoomChange::Joined { who: who.clone() }, None, now)?;
        }
        self.room_changed(room);
        Ok(invited)
    }

    /// `others`: the members the invitee would be put with (checked against the invitee's list by the rules).
    fn invite_one(
        &mut self,
        room: &RoomId,
        by: &Address,
        who: &Address,
        others: &[Address],
        now: Millis,
    ) -> Outcome<Invited> {
        let Some(policy) = self.state.local_handle(who).map(|h| h.invite_policy) else {
            return Err(unreachable(who));
        };
        if !rules::may_invite(&self.state, by, who) {
            return Err(unreachable(who));
        }
        if self.state.is_member(room, who) || self.state.is_invited(room, who) {
            return Err(refuse_with(ErrorCode::AlreadyInRoom, format!("{who} is already in that room (or invited).")));
        }
        let size = self.state.member_addresses(room).len() + self.state.room_invites.get(room).map_or(0, |i| i.len());
        if size >= MAX_ROOM_MEMBERS {
            return Err(refuse(ErrorCode::RoomFull));
        }
        if self.shared_room_count(who) >= MAX_ROOMS_PER_HANDLE {
            return Err(refuse_with(ErrorCode::RoomFull, format!("{who} is in as many rooms as a handle can be.")));
        }
        let former = self.state.former.get(room).is_some_and(|f| f.contains(who));
        match rules::invite_outcome(&self.state, policy, who, by, others, former) {
            InviteOutcome::Refuse => {
                Err(refuse_with(ErrorCode::NotReachable, format!("{who} does not accept invitations.")))
            }
            InviteOutcome::Join => {
                self.add_member(room, who, now)?;
                Ok(Invited::Joined)
            }
            InviteOutcome::Ask => {
                let invite = RoomInviteRec { room: room.clone(), invitee: who.clone(), by: by.clone(), at: now };
                self.write(Mutation::PutRoomInvite(invite))?;
                let title = self.state.rooms.get(room).and_then(|r| r.title.clone());
                let event = Event::RoomInvite { peer: by.clone(), room: room.clone(), title };
                self.append_event(&who.handle, event, now)?;
                Ok(Invited::Asked)
            }
        }
    }

    /// `who` answers an invitation that asked first.
    pub fn answer_invite(&mut self, room: &RoomId, who: &Address, accept: bool, now: Millis) -> Outcome {
        if !self.state.is_invited(room, who) {
            return Err(refuse(ErrorCode::NoSuchInvite));
        }
        // Everything that could refuse is checked before the invitation is used up.
        if accept && self.shared_room_count(who) >= MAX_ROOMS_PER_HANDLE {
            return Err(refuse_with(
                ErrorCode::RoomFull,
                "You are in as many rooms as a handle can be; leave one first.",
            ));
        }
        self.write(Mutation::DeleteRoomInvite { room: room.clone(), invitee: who.clone() })?;
        if accept && self.state.open_room(room).is_some() {
            self.add_member(room, who, now)?;
            self.room_event(room, who, RoomChange::Joined { who: who.clone() }, None, now)?;
        }
        self.room_changed(room);
        Ok(())
    }

    pub fn leave(&mut self, room: &RoomId, who: &Address, now: Millis) -> Outcome {
        let record = self.my_room_made(who, room, now)?;
        if record.kind == RoomKind::Direct {
            return Err(refuse_with(
                ErrorCode::BadFrame,
                "A direct room cannot be left: delete the friend, or block them, to stop their messages.",
            ));
        }
        self.remove_member(room, who, RoomChange::Left, who, now)
    }

    /// The owner takes `who` out (a member), or withdraws `who`'s pending invitation.
    pub fn kick(&mut self, room: &RoomId, owner: &Address, who: &Address, now: Millis) -> Outcome {
        let record = self.my_room_made(owner, room, now)?;
        if record.owner.as_ref() != Some(owner) {
            return Err(refuse(ErrorCode::NotOwner));
        }
        if who == owner {
            return Err(refuse_with(ErrorCode::BadFrame, "To leave your own room, use leave_room."));
        }
        if self.state.is_member(room, who) {
            return self.remove_member(room, who, RoomChange::Removed { who: who.clone() }, owner, now);
        }
        if self.state.is_invited(room, who) {
            self.write(Mutation::DeleteRoomInvite { room: room.clone(), invitee: who.clone() })?;
            self.room_changed(room);
            return Ok(());
        }
        Err(refuse_with(ErrorCode::NotInRoom, format!("{who} is not in that room.")))
    }

    /// The owner renames the room (an empty title: back to the members' names).
    pub fn rename(&mut self, room: &RoomId, owner: &Address, title: &str, now: Millis) -> Outcome {
        let mut record = self.my_room_made(owner, room, now)?;
        if record.owner.as_ref() != Some(owner) {
            return Err(refuse(ErrorCode::NotOwner));
        }
        let title = Some(title.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &title {
            check_title(t)?;
        }
        record.title = title.clone();
        self.write(Mutation::PutRoom(record))?;
        self.room_event(room, owner, RoomChange::Renamed { title }, None, now)?;
        self.room_changed(room);
        Ok(())
    }
}
