//! A handle's presence and profile, and its friend list: requests and answers, the mutual-deletion protocol, private
//! entries, blocks.

use huddle_shared::client::{
    AnswerDeletion, AnswerRequest, Block, CancelRequest, DeleteFriend, FriendRequest, GetFriends, NotifyDeletion,
    SetEntry, SetPresence, SetProfile, Unblock,
};
use huddle_shared::{Address, Millis, ServerFrame};

use super::{Caller, HandleRequest, Me, Reply};
use crate::core::Core;
use crate::core::fail::{Fail, rate_limited};
use crate::storage::Storage;

fn resolved<S: Storage>(core: &Core<S>, address: Address) -> Address {
    address.resolve(core.world.relay())
}

impl HandleRequest for SetPresence {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        // The texts are checked (and stored) first, so a refused frame changes nothing, not even the state.
        core.world.set_activity(&me.handle, self.activity, self.location)?;
        if let Some(state) = self.state {
            core.conns.set_state(caller.conn, &me.handle, state);
        }
        Ok(Reply::Ok)
    }
}

impl HandleRequest for SetProfile {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        core.world.set_profile(&me.handle, self.display_name, self.bio)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for FriendRequest {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let to = resolved(core, self.to);
        let greeting = core.world.check_friend_request(&me.address, &to, self.greeting)?;
        let key = format!("freq:{}", me.handle);
        let max = core.config.friend_requests_per_hour;
        if let Err(retry) = core.friend_requests.check(&key, max, now) {
            return Err(rate_limited(
                "You sent many friend requests in the last hour; wait a while before sending more.",
                retry,
            ));
        }
        core.friend_requests.record(&key, max, now);
        core.world.friend_request(&me.address, &to, greeting, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for CancelRequest {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let to = resolved(core, self.to);
        core.world.cancel_request(&me.address, &to, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for AnswerRequest {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let from = resolved(core, self.from);
        core.world.answer_request(&me.address, &from, self.answer, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for DeleteFriend {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let friend = resolved(core, self.friend);
        core.world.delete_friend(&me.address, &friend, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for NotifyDeletion {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let to = resolved(core, self.to);
        core.world.notify_deletion(&me.address, &to, self.ask_delete, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for AnswerDeletion {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let from = resolved(core, self.from);
        core.world.answer_deletion(&me.address, &from, self.answer, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for SetEntry {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let friend = resolved(core, self.friend);
        core.world.set_entry(&me.address, &friend, self.nickname, self.note)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for Block {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let target = resolved(core, self.target);
        core.world.block(&me.address, &target, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for Unblock {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let target = resolved(core, self.target);
        core.world.unblock(&me.address, &target)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for GetFriends {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let list = core.friend_list(&me.handle);
        Ok(Reply::Frame(ServerFrame::Friends { id: Some(self.id), acting: me.address.clone(), list }))
    }
}
