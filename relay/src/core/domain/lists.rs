//! Friend lists with consent (seed 002): requests and their three answers, entries with private nickname and note,
//! the mutual-deletion protocol (delete → notice → request → confirm/refuse → answer → retry), and blocks.

use huddle_shared::limits::{MAX_FRIENDS_PER_HANDLE, MAX_GREETING_CHARS, MAX_NICKNAME_CHARS, MAX_NOTE_CHARS};
use huddle_shared::model::{DeletionAnswer, DeletionState, Event, RequestAnswer};
use huddle_shared::text::{check_line, check_multiline};
use huddle_shared::{Address, ErrorCode, Millis};

use super::{cleared, federation_unavailable, unreachable};
use crate::core::facts::Fact;
use crate::core::fail::{Outcome, refuse, refuse_with};
use crate::core::rules::{self, RequestBlocked, live_entry};
use crate::core::world::World;
use crate::storage::{BlockRec, DeletionRec, EntryRec, Mutation, RequestRec, Storage};

impl<S: Storage> World<S> {
    fn list_size(&self, owner: &Address) -> usize {
        self.state.entries.count_from(owner) + self.state.requests.count_from(owner)
    }

    /// Everything that could refuse a friend request from `me` to `to`, in the documented order; the greeting as it
    /// will be stored.
    pub fn check_friend_request(
        &self,
        me: &Address,
        to: &Address,
        greeting: Option<String>,
    ) -> Outcome<Option<String>> {
        let greeting = greeting.as_deref().and_then(cleared);
        if let Some(g) = &greeting {
            check_line(g, MAX_GREETING_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The greeting is too long or malformed: {e}.")))?;
        }
        if !to.is_local_to(self.relay()) {
            return Err(federation_unavailable(to));
        }
        if to == me {
            return Err(refuse(ErrorCode::SelfRequest));
        }
        match rules::may_request(&self.state, me, to) {
            Err(RequestBlocked::ByYou) => {
                return Err(refuse_with(ErrorCode::NotReachable, format!("You blocked {to}; unblock them first.")));
            }
            Err(RequestBlocked::Unreachable) => return Err(unreachable(to)),
            Ok(()) if self.state.local_handle(to).is_none() => return Err(unreachable(to)),
            Ok(()) => {}
        }
        if live_entry(&self.state, me, to) {
            return Err(refuse_with(ErrorCode::AlreadyFriends, format!("{to} is already on your friend list.")));
        }
        if self.state.requests.contains(me, to) {
            return Err(refuse_with(
                ErrorCode::RequestPending,
                format!("Your request to {to} is still waiting for an answer."),
            ));
        }
        if self.state.requests.contains(to, me) {
            return Err(refuse_with(
                ErrorCode::RequestPending,
                format!("{to} already sent you a friend request; answer it instead."),
            ));
        }
        if self.list_size(me) >= MAX_FRIENDS_PER_HANDLE {
            return Err(refuse(ErrorCode::ListFull));
        }
        Ok(greeting)
    }

    /// Records a friend request that [`World::check_friend_request`] allowed.
    pub fn friend_request(&mut self, me: &Address, to: &Address, greeting: Option<String>, now: Millis) -> Outcome {
        let request = RequestRec { from: me.clone(), to: to.clone(), greeting: greeting.clone(), at: now };
        self.write(Mutation::PutRequest(request))?;
        self.append_event(&to.handle, Event::RequestReceived { peer: me.clone(), greeting }, now)?;
        self.list_changed(me);
        self.list_changed(to);
        Ok(())
    }

    pub fn cancel_request(&mut self, me: &Address, to: &Address, now: Millis) -> Outcome {
        if !self.state.requests.contains(me, to) {
            return Err(refuse_with(ErrorCode::NoSuchRequest, format!("You have no pending request to {to}.")));
        }
        self.write(Mutation::DeleteRequest { from: me.clone(), to: to.clone() })?;
        self.append_event(&to.handle, Event::RequestCancelled { peer: me.clone() }, now)?;
        self.list_changed(me);
        self.list_changed(to);
        Ok(())
    }

    pub fn answer_request(&mut self, me: &Address, from: &Address, answer: RequestAnswer, now: Millis) -> Outcome {
        if !self.state.requests.contains(from, me) {
            return Err(refuse_with(ErrorCode::NoSuchRequest, format!("There is no friend request from {from}.")));
        }
        if answer == RequestAnswer::AcceptMutual
            && !self.state.entries.contains(me, from)
            && self.list_size(me) >= MAX_FRIENDS_PER_HANDLE
        {
            return Err(refuse(ErrorCode::ListFull));
        }
        self.write(Mutation::DeleteRequest { from: from.clone(), to: me.clone() })?;
        if answer != RequestAnswer::Reject {
            // I go on the requester's list.
            self.put_consented_entry(from, me, now)?;
            if answer == RequestAnswer::AcceptMutual {
                // The request itself was the requester's consent to be on my list.
                self.put_consented_entry(me, from, now)?;
            } else if let Some(mine) = self.state.entries.get(me, from).filter(|e| e.removed_you).cloned() {
                // The requester had deleted me; asking again withdraws that deletion.
                self.write(Mutation::PutEntry(EntryRec { removed_you: false, ..mine }))?;
            }
            // A fresh consent ends any earlier deletion between the two.
            for (deleter, deleted) in [(from, me), (me, from)] {
                if self.state.deletions.contains(deleter, deleted) {
                    self.write(Mutation::DeleteDeletion { deleter: deleter.clone(), deleted: deleted.clone() })?;
                }
            }
        }
        self.append_event(&from.handle, Event::RequestAnswered { peer: me.clone(), answer }, now)?;
        self.list_changed(me);
        self.list_changed(from);
        self.record(Fact::PresenceMayHaveChanged(me.handle.clone()));
        self.record(Fact::PresenceMayHaveChanged(from.handle.clone()));
        Ok(())
    }

    /// Puts `peer` on `owner`'s list with fresh consent, keeping the owner's private nickname and note if the entry
    /// existed (marked "removed you").
    fn put_consented_entry(&mut self, owner: &Address, peer: &Address, now: Millis) -> Outcome {
        let (nickname, note) = match self.state.entries.get(owner, peer) {
            Some(e) if !e.removed_you => return Ok(()),
            Some(e) => (e.nickname.clone(), e.note.clone()),
            None => (None, None),
        };
        let entry =
            EntryRec { owner: owner.clone(), peer: peer.clone(), nickname, note, since: now, removed_you: false };
        self.write(Mutation::PutEntry(entry))?;
        Ok(())
    }

    /// Step 1 of mutual deletion: off my list, and my consent withdrawn (their entry for me is marked).
    pub fn delete_friend(&mut self, me: &Address, friend: &Address, now: Millis) -> Outcome {
        if !self.state.entries.contains(me, friend) {
            return Err(refuse_with(ErrorCode::NotOnList, format!("{friend} is not on your friend list.")));
        }
        self.write(Mutation::DeleteEntry { owner: me.clone(), peer: friend.clone() })?;
        if let Some(theirs) = self.state.entries.get(friend, me).cloned() {
            self.write(Mutation::PutEntry(EntryRec { removed_you: true, ..theirs }))?;
        }
        if self.state.local_handle(friend).is_some() {
            let deletion =
                DeletionRec { deleter: me.clone(), deleted: friend.clone(), state: DeletionState::Deleted, at: now };
            self.write(Mutation::PutDeletion(deletion))?;
        }
        self.list_changed(me);
        self.list_changed(friend);
        self.record(Fact::PresenceMayHaveChanged(me.handle.clone()));
        Ok(())
    }

    /// Steps 2 and 3: the notice, optionally with the request to delete me too. Again after a refusal.
    pub fn notify_deletion(&mut self, me: &Address, to: &Address, ask_delete: bool, now: Millis) -> Outcome {
        let Some(record) = self.state.deletions.get(me, to).cloned() else {
            return Err(refuse_with(ErrorCode::NoDeletion, format!("You have not deleted {to} from your list.")));
        };
        if record.state == DeletionState::Requested {
            return Err(refuse_with(
                ErrorCode::RequestPending,
                format!("You already asked {to} to delete you; wait for their answer."),
            ));
        }
        if !rules::may_notify(&self.state, me, to) {
            return Err(unreachable(to));
        }
        let can_answer = self.state.entries.contains(to, me);
        let asks = ask_delete && can_answer;
        self.append_event(&to.handle, Event::DeletionNotice { peer: me.clone(), asks_delete: asks }, now)?;
        if ask_delete && !can_answer {
            // I am not on their list: the deletion is already mutual.
            self.write(Mutation::DeleteDeletion { deleter: me.clone(), deleted: to.clone() })?;
            let answered = Event::DeletionAnswered { peer: to.clone(), answer: DeletionAnswer::Confirm };
            self.append_event(&me.handle, answered, now)?;
        } else {
            let state = if asks { DeletionState::Requested } else { DeletionState::Notified };
            self.write(Mutation::PutDeletion(DeletionRec { state, at: now, ..record }))?;
        }
        self.list_changed(me);
        self.list_changed(to);
        Ok(())
    }

    pub fn answer_deletion(&mut self, me: &Address, from: &Address, answer: DeletionAnswer, now: Millis) -> Outcome {
        let Some(record) = self.state.deletions.get(from, me).cloned().filter(|r| r.state == DeletionState::Requested)
        else {
            return Err(refuse_with(ErrorCode::NoDeletionRequest, format!("{from} has not asked you to delete them.")));
        };
        match answer {
            DeletionAnswer::Confirm => {
                if self.state.entries.contains(me, from) {
                    self.write(Mutation::DeleteEntry { owner: me.clone(), peer: from.clone() })?;
                }
                self.write(Mutation::DeleteDeletion { deleter: from.clone(), deleted: me.clone() })?;
            }
            DeletionAnswer::Refuse => {
                self.write(Mutation::PutDeletion(DeletionRec { state: DeletionState::Refused, at: now, ..record }))?;
            }
        }
        self.append_event(&from.handle, Event::DeletionAnswered { peer: me.clone(), answer }, now)?;
        self.list_changed(me);
        self.list_changed(from);
        Ok(())
    }

    /// Edits the private nickname and note of an entry (absent: unchanged; empty: cleared).
    pub fn set_entry(
        &mut self,
        me: &Address,
        friend: &Address,
        nickname: Option<String>,
        note: Option<String>,
    ) -> Outcome {
        let Some(mut entry) = self.state.entries.get(me, friend).cloned() else {
            return Err(refuse_with(ErrorCode::NotOnList, format!("{friend} is not on your friend list.")));
        };
        if let Some(nickname) = nickname {
            check_line(&nickname, MAX_NICKNAME_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The nickname is not valid: {e}.")))?;
            entry.nickname = cleared(&nickname);
        }
        if let Some(note) = note {
            check_multiline(&note, MAX_NOTE_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The note is not valid: {e}.")))?;
            entry.note = cleared(&note);
        }
        self.write(Mutation::PutEntry(entry))?;
        self.list_changed(me);
        Ok(())
    }

    pub fn block(&mut self, me: &Address, target: &Address, now: Millis) -> Outcome {
        if target == me {
            return Err(refuse_with(ErrorCode::SelfRequest, "You cannot block yourself."));
        }
        if !rules::blocks(&self.state, me, target) {
            self.write(Mutation::PutBlock(BlockRec { owner: me.clone(), target: target.clone(), at: now }))?;
        }
        self.block_changed(me, target);
        Ok(())
    }

    pub fn unblock(&mut self, me: &Address, target: &Address) -> Outcome {
        if rules::blocks(&self.state, me, target) {
            self.write(Mutation::DeleteBlock { owner: me.clone(), target: target.clone() })?;
        }
        self.block_changed(me, target);
        Ok(())
    }

    fn block_changed(&mut self, me: &Address, target: &Address) {
        self.list_changed(me);
        if rules::notices_block(&self.state, me, target) {
            self.list_changed(target);
        }
        self.record(Fact::PresenceMayHaveChanged(me.handle.clone()));
    }
}
