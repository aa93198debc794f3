//! Friend lists with consent (seed 002): requests and their three answers, entries with private nickname and note,
//! the mutual-deletion protocol (delete → notice → request → confirm/refuse → answer → retry), and blocks.

use huddle_shared::limits::{MAX_FRIENDS_PER_HANDLE, MAX_GREETING_CHARS, MAX_NICKNAME_CHARS, MAX_NOTE_CHARS};
use huddle_shared::model::{
    DeletionAnswer, DeletionIn, DeletionOut, DeletionState, Event, FriendEntry, FriendList, PendingRequest, Profile,
    RequestAnswer,
};
use huddle_shared::text::{check_line, check_multiline};
use huddle_shared::{Address, ErrorCode, Handle, Millis, RequestId};

use super::routing::{live_entry, sees};
use super::{ConnId, Core, Fail, Outcome, refuse, refuse_with};
use crate::storage::{BlockRec, DeletionRec, EntryRec, Mutation, RequestRec, Storage};

/// Empty text means "clear".
fn optional(text: String) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() { None } else { Some(trimmed.to_owned()) }
}

impl<S: Storage> Core<S> {
    /// Resolves an address a client wrote to a local, existing handle other than `me`. Unknown handles and
    /// blocked ones get the same answer, so nobody can probe who exists.
    fn peer(&self, me: &Handle, address: Address) -> Result<Address, Fail> {
        let address = address.resolve(&self.state.relay);
        if !address.is_local_to(&self.state.relay) {
            return Err(refuse_with(
                ErrorCode::FederationUnavailable,
                format!("{address} is on another relay, and this relay cannot reach other relays yet."),
            ));
        }
        if &address.handle == me {
            return Err(refuse(ErrorCode::SelfRequest));
        }
        Ok(address)
    }

    fn unreachable(address: &Address) -> Fail {
        refuse_with(ErrorCode::NotReachable, format!("{address} cannot be reached from your handle."))
    }

    pub(super) fn friend_request(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        to: Address,
        greeting: Option<String>,
        now: Millis,
    ) -> Outcome {
        let greeting = greeting.and_then(optional);
        if let Some(g) = &greeting {
            check_line(g, MAX_GREETING_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The greeting is too long or malformed: {e}.")))?;
        }
        let to = self.peer(me, to)?;
        let me_addr = self.state.address(me);
        if self.state.blocks.contains(&me_addr, &to) {
            return Err(refuse_with(ErrorCode::NotReachable, format!("You blocked {to}; unblock them first.")));
        }
        if self.state.local_handle(&to).is_none() || self.state.blocks.contains(&to, &me_addr) {
            return Err(Self::unreachable(&to));
        }
        if live_entry(&self.state, &me_addr, &to) {
            return Err(refuse_with(ErrorCode::AlreadyFriends, format!("{to} is already on your friend list.")));
        }
        if self.state.requests.contains(&me_addr, &to) {
            return Err(refuse_with(
                ErrorCode::RequestPending,
                format!("Your request to {to} is still waiting for an answer."),
            ));
        }
        if self.state.requests.contains(&to, &me_addr) {
            return Err(refuse_with(
                ErrorCode::RequestPending,
                format!("{to} already sent you a friend request; answer it instead."),
            ));
        }
        if self.list_size(&me_addr) >= MAX_FRIENDS_PER_HANDLE {
            return Err(refuse(ErrorCode::ListFull));
        }
        let key = format!("freq:{me}");
        let max = self.config.friend_requests_per_hour;
        if let Err(retry) = self.friend_requests.check(&key, max, now) {
            return Err(Fail::Refuse {
                code: ErrorCode::RateLimited,
                message: Some(
                    "You sent many friend requests in the last hour; wait a while before sending more.".to_owned(),
                ),
                retry_after_ms: Some(retry),
            });
        }
        self.friend_requests.record(&key, max, now);
        self.write(Mutation::PutRequest(RequestRec {
            from: me_addr.clone(),
            to: to.clone(),
            greeting: greeting.clone(),
            at: now,
        }))?;
        self.append_event(&to.handle, Event::RequestReceived { peer: me_addr, greeting }, now)?;
        self.touched.insert(me.clone());
        self.touched.insert(to.handle.clone());
        self.ok(conn, id);
        Ok(())
    }

    /// Marks a local handle's list as changed (remote addresses are not ours to push to).
    fn touch(&mut self, address: &Address) {
        if self.state.local_handle(address).is_some() {
            self.touched.insert(address.handle.clone());
        }
    }

    fn list_size(&self, owner: &Address) -> usize {
        self.state.entries.count_from(owner) + self.state.requests.count_from(owner)
    }

    pub(super) fn cancel_request(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        to: Address,
        now: Millis,
    ) -> Outcome {
        let to = to.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        if !self.state.requests.contains(&me_addr, &to) {
            return Err(refuse_with(ErrorCode::NoSuchRequest, format!("You have no pending request to {to}.")));
        }
        self.write(Mutation::DeleteRequest { from: me_addr.clone(), to: to.clone() })?;
        self.append_event(&to.handle, Event::RequestCancelled { peer: me_addr }, now)?;
        self.touched.insert(me.clone());
        self.touched.insert(to.handle);
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn answer_request(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        from: Address,
        answer: RequestAnswer,
        now: Millis,
    ) -> Outcome {
        let from = from.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        if !self.state.requests.contains(&from, &me_addr) {
            return Err(refuse_with(ErrorCode::NoSuchRequest, format!("There is no friend request from {from}.")));
        }
        if answer == RequestAnswer::AcceptMutual
            && !self.state.entries.contains(&me_addr, &from)
            && self.list_size(&me_addr) >= MAX_FRIENDS_PER_HANDLE
        {
            return Err(refuse(ErrorCode::ListFull));
        }
        self.write(Mutation::DeleteRequest { from: from.clone(), to: me_addr.clone() })?;
        if answer != RequestAnswer::Reject {
            // I go on the requester's list.
            self.put_consented_entry(&from, &me_addr, now)?;
            if answer == RequestAnswer::AcceptMutual {
                // The request itself was the requester's consent to be on my list.
                self.put_consented_entry(&me_addr, &from, now)?;
            } else if let Some(mine) = self.state.entries.get(&me_addr, &from).filter(|e| e.removed_you).cloned() {
                // The requester had deleted me; asking again withdraws that deletion.
                self.write(Mutation::PutEntry(EntryRec { removed_you: false, ..mine }))?;
            }
            // A fresh consent ends any earlier deletion between the two.
            for (deleter, deleted) in [(&from, &me_addr), (&me_addr, &from)] {
                if self.state.deletions.contains(deleter, deleted) {
                    self.write(Mutation::DeleteDeletion { deleter: deleter.clone(), deleted: deleted.clone() })?;
                }
            }
        }
        self.append_event(&from.handle, Event::RequestAnswered { peer: me_addr, answer }, now)?;
        self.touched.insert(me.clone());
        self.touched.insert(from.handle.clone());
        self.presence_dirty.insert(me.clone());
        self.presence_dirty.insert(from.handle);
        self.ok(conn, id);
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
        self.write(Mutation::PutEntry(EntryRec {
            owner: owner.clone(),
            peer: peer.clone(),
            nickname,
            note,
            since: now,
            removed_you: false,
        }))?;
        Ok(())
    }

    /// Step 1 of mutual deletion: off my list, and my consent withdrawn (their entry for me is marked).
    pub(super) fn delete_friend(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        friend: Address,
        now: Millis,
    ) -> Outcome {
        let friend = friend.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        if !self.state.entries.contains(&me_addr, &friend) {
            return Err(refuse_with(ErrorCode::NotOnList, format!("{friend} is not on your friend list.")));
        }
        self.write(Mutation::DeleteEntry { owner: me_addr.clone(), peer: friend.clone() })?;
        if let Some(theirs) = self.state.entries.get(&friend, &me_addr).cloned() {
            self.write(Mutation::PutEntry(EntryRec { removed_you: true, ..theirs }))?;
        }
        if self.state.local_handle(&friend).is_some() {
            self.write(Mutation::PutDeletion(DeletionRec {
                deleter: me_addr,
                deleted: friend.clone(),
                state: DeletionState::Deleted,
                at: now,
            }))?;
        }
        self.touched.insert(me.clone());
        self.touch(&friend);
        self.presence_dirty.insert(me.clone());
        self.ok(conn, id);
        Ok(())
    }

    /// Steps 2 and 3: the notice, optionally with the request to delete me too. Again after a refusal.
    pub(super) fn notify_deletion(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        to: Address,
        ask_delete: bool,
        now: Millis,
    ) -> Outcome {
        let to = to.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        let Some(record) = self.state.deletions.get(&me_addr, &to).cloned() else {
            return Err(refuse_with(ErrorCode::NoDeletion, format!("You have not deleted {to} from your list.")));
        };
        if record.state == DeletionState::Requested {
            return Err(refuse_with(
                ErrorCode::RequestPending,
                format!("You already asked {to} to delete you; wait for their answer."),
            ));
        }
        if self.state.blocks.contains(&to, &me_addr) {
            return Err(Self::unreachable(&to));
        }
        let can_answer = self.state.entries.contains(&to, &me_addr);
        let asks = ask_delete && can_answer;
        self.append_event(&to.handle, Event::DeletionNotice { peer: me_addr.clone(), asks_delete: asks }, now)?;
        if ask_delete && !can_answer {
            // I am not on their list: the deletion is already mutual.
            self.write(Mutation::DeleteDeletion { deleter: me_addr.clone(), deleted: to.clone() })?;
            self.append_event(me, Event::DeletionAnswered { peer: to.clone(), answer: DeletionAnswer::Confirm }, now)?;
        } else {
            let state = if asks { DeletionState::Requested } else { DeletionState::Notified };
            self.write(Mutation::PutDeletion(DeletionRec { state, at: now, ..record }))?;
        }
        self.touched.insert(me.clone());
        self.touched.insert(to.handle);
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn answer_deletion(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        from: Address,
        answer: DeletionAnswer,
        now: Millis,
    ) -> Outcome {
        let from = from.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        let Some(record) =
            self.state.deletions.get(&from, &me_addr).cloned().filter(|r| r.state == DeletionState::Requested)
        else {
            return Err(refuse_with(ErrorCode::NoDeletionRequest, format!("{from} has not asked you to delete them.")));
        };
        match answer {
            DeletionAnswer::Confirm => {
                if self.state.entries.contains(&me_addr, &from) {
                    self.write(Mutation::DeleteEntry { owner: me_addr.clone(), peer: from.clone() })?;
                }
                self.write(Mutation::DeleteDeletion { deleter: from.clone(), deleted: me_addr.clone() })?;
            }
            DeletionAnswer::Refuse => {
                self.write(Mutation::PutDeletion(DeletionRec { state: DeletionState::Refused, at: now, ..record }))?;
            }
        }
        self.append_event(&from.handle, Event::DeletionAnswered { peer: me_addr, answer }, now)?;
        self.touched.insert(me.clone());
        self.touched.insert(from.handle);
        self.ok(conn, id);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn set_entry(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        friend: Address,
        nickname: Option<String>,
        note: Option<String>,
    ) -> Outcome {
        let friend = friend.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        let Some(mut entry) = self.state.entries.get(&me_addr, &friend).cloned() else {
            return Err(refuse_with(ErrorCode::NotOnList, format!("{friend} is not on your friend list.")));
        };
        if let Some(nickname) = nickname {
            check_line(&nickname, MAX_NICKNAME_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The nickname is not valid: {e}.")))?;
            entry.nickname = optional(nickname);
        }
        if let Some(note) = note {
            check_multiline(&note, MAX_NOTE_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The note is not valid: {e}.")))?;
            entry.note = optional(note);
        }
        self.write(Mutation::PutEntry(entry))?;
        self.touched.insert(me.clone());
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn block(&mut self, conn: ConnId, id: RequestId, me: &Handle, target: Address, now: Millis) -> Outcome {
        let target = target.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        if target == me_addr {
            return Err(refuse_with(ErrorCode::SelfRequest, "You cannot block yourself."));
        }
        if !self.state.blocks.contains(&me_addr, &target) {
            self.write(Mutation::PutBlock(BlockRec { owner: me_addr.clone(), target: target.clone(), at: now }))?;
        }
        self.touched.insert(me.clone());
        // Only someone who lists me sees a difference; telling anyone else would give the block away.
        if self.state.entries.contains(&target, &me_addr) {
            self.touch(&target);
        }
        self.presence_dirty.insert(me.clone());
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn unblock(&mut self, conn: ConnId, id: RequestId, me: &Handle, target: Address) -> Outcome {
        let target = target.resolve(&self.state.relay);
        let me_addr = self.state.address(me);
        if self.state.blocks.contains(&me_addr, &target) {
            self.write(Mutation::DeleteBlock { owner: me_addr.clone(), target: target.clone() })?;
        }
        self.touched.insert(me.clone());
        if self.state.entries.contains(&target, &me_addr) {
            self.touch(&target);
        }
        self.presence_dirty.insert(me.clone());
        self.ok(conn, id);
        Ok(())
    }

    /// The whole friend-list state of `me`, as `me` may see it.
    pub(super) fn friend_list(&self, me: &Handle) -> FriendList {
        let me_addr = self.state.address(me);
        let blocked = |a: &Address| self.state.blocks.contains(&me_addr, a);
        let entries = self
            .state
            .entries
            .from(&me_addr)
            .map(|(peer, e)| {
                let visible = sees(&self.state, &me_addr, peer);
                FriendEntry {
                    address: peer.clone(),
                    nickname: e.nickname.clone(),
                    note: e.note.clone(),
                    since: e.since,
                    removed_you: e.removed_you,
                    presence: self.presence_for(&me_addr, peer),
                    profile: if visible {
                        self.state.local_handle(peer).map(|h| h.profile.clone()).unwrap_or_default()
                    } else {
                        Profile::default()
                    },
                }
            })
            .collect();
        let requests_in = self
            .state
            .requests
            .to(&me_addr)
            .filter(|from| !blocked(from))
            .filter_map(|from| self.state.requests.get(from, &me_addr))
            .map(|r| PendingRequest { address: r.from.clone(), greeting: r.greeting.clone(), at: r.at })
            .collect();
        let requests_out = self
            .state
            .requests
            .from(&me_addr)
            .map(|(to, r)| PendingRequest { address: to.clone(), greeting: r.greeting.clone(), at: r.at })
            .collect();
        let deletions_in = self
            .state
            .deletions
            .to(&me_addr)
            .filter_map(|deleter| self.state.deletions.get(deleter, &me_addr))
            .filter(|d| d.state == DeletionState::Requested)
            .map(|d| DeletionIn { address: d.deleter.clone(), at: d.at })
            .collect();
        let deletions_out = self
            .state
            .deletions
            .from(&me_addr)
            .map(|(deleted, d)| DeletionOut { address: deleted.clone(), state: d.state, at: d.at })
            .collect();
        let blocked = self.state.blocks.from(&me_addr).map(|(t, _)| t.clone()).collect();
        FriendList { entries, requests_in, requests_out, deletions_in, deletions_out, blocked }
    }
}
