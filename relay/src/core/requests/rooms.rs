//! Groups and invitations: create, invite, answer, leave, remove, rename, list; the invitation setting.

use huddle_shared::client::{
    AnswerRoomInvite, CreateGroup, GetRooms, InviteToRoom, LeaveRoom, RemoveFromRoom, RenameRoom, SetInvitePolicy,
};
use huddle_shared::{Handle, Millis, RequestId, ServerFrame};

use super::{Caller, HandleRequest, Me, Reply};
use crate::core::Core;
use crate::core::fail::Fail;
use crate::storage::Storage;

impl HandleRequest for CreateGroup {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let relay = core.world.relay().clone();
        let invitees: Vec<_> = self.members.into_iter().map(|m| m.resolve(&relay)).collect();
        let opening = self.opening.filter(|_| self.promoted);
        let room = core.world.create_group(&me.address, &invitees, self.title, self.promoted, opening, now)?;
        let Some(info) = core.world.room_info(&room) else { return Ok(Reply::Ok) };
        Ok(Reply::Frame(ServerFrame::Room { id: Some(self.id), acting: me.address.clone(), room: info }))
    }
}

impl HandleRequest for InviteToRoom {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let who = self.who.resolve(core.world.relay());
        core.world.invite(&self.room, &me.address, &who, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for AnswerRoomInvite {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.answer_invite(&self.room, &me.address, self.accept, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for LeaveRoom {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.leave(&self.room, &me.address, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for RemoveFromRoom {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let who = self.who.resolve(core.world.relay());
        core.world.kick(&self.room, &me.address, &who, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for RenameRoom {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.rename(&self.room, &me.address, &self.title, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for SetInvitePolicy {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        core.world.set_invite_policy(&me.handle, self.policy)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for GetRooms {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        Ok(Reply::Frame(core.rooms_frame(Some(self.id), &me.handle)))
    }
}

impl<S: Storage> Core<S> {
    /// A handle's rooms, invitations and setting, as one frame.
    pub(in crate::core) fn rooms_frame(&self, id: Option<RequestId>, me: &Handle) -> ServerFrame {
        let address = self.world.address(me);
        let (rooms, invites) = self.world.rooms_of(&address);
        let policy = self.world.state.handles.get(me).map(|h| h.invite_policy).unwrap_or_default();
        ServerFrame::Rooms { id, acting: address, rooms, invites, policy }
    }
}
