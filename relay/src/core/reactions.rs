//! The step after every input: the facts the domain recorded become frames for the connections concerned. This is
//! the one place that knows which connection gets which push.
//!
//! Order, for one input: stream items (`deliver`), departures (`room_gone`) and typing indicators, in the order they
//! happened; then the account's `handles`, one `room` frame per changed room, one `friends` frame per changed list,
//! presence and profile pushes. The answer to the request that caused them comes after all of them, so a client that has the answer has
//! everything the request changed.

use std::collections::BTreeSet;

use huddle_shared::model::{ShownState, StreamItem};
use huddle_shared::version::FEATURE_TYPING;
use huddle_shared::{Address, Handle, Millis, RoomId, ServerFrame};

use super::facts::Fact;
use super::rules::viewers_of;
use super::{ConnId, Core};
use crate::storage::{Storage, StorageError};

impl<S: Storage> Core<S> {
    /// Turns the facts of the input just handled into pushes. `origin` is the connection whose request it was.
    pub(super) fn react(&mut self, origin: Option<ConnId>, now: Millis) -> Result<(), StorageError> {
        // Presence changes can form or end huddles, whose facts are reacted to in turn; that second round changes no
        // presence, so it ends there (the bound is a guard, not a limit that is ever reached).
        for _ in 0..4 {
            if self.world.facts.is_empty() {
                break;
            }
            self.react_once(origin, now)?;
        }
        Ok(())
    }

    fn react_once(&mut self, origin: Option<ConnId>, now: Millis) -> Result<(), StorageError> {
        let mut settings: Vec<Handle> = Vec::new();
        let mut rooms: Vec<(RoomId, bool)> = Vec::new();
        let mut lists: BTreeSet<Handle> = BTreeSet::new();
        let mut presence: BTreeSet<Handle> = BTreeSet::new();
        let mut profiles: Vec<Handle> = Vec::new();
        let mut accounts: Vec<String> = Vec::new();
        for fact in self.world.take_facts() {
            match fact {
                Fact::Appended { handle, item, origin_has_it } => {
                    self.deliver(&handle, item, origin.filter(|_| origin_has_it));
                }
                Fact::RoomGone { member, room } => self.push_room_gone(&member, &room),
                Fact::Typing { from, room, to } => self.push_typing(&from, &room, &to),
                Fact::RoomChanged { room, origin_has_it } => match rooms.iter_mut().find(|(r, _)| *r == room) {
                    Some((_, skip)) => *skip |= origin_has_it,
                    None => rooms.push((room, origin_has_it)),
                },
                Fact::ListChanged(handle) => {
                    lists.insert(handle);
                }
                Fact::PresenceMayHaveChanged(handle) => {
                    presence.insert(handle);
                }
                Fact::ProfileChanged(handle) => profiles.push(handle),
                Fact::HandlesChanged { account } => {
                    if !accounts.contains(&account) {
                        accounts.push(account);
                    }
                }
                Fact::HuddleSettingsChanged(handle) => {
                    if !settings.contains(&handle) {
                        settings.push(handle);
                    }
                }
            }
        }
        for handle in settings {
            self.push_huddle_settings(&handle, origin);
        }
        for account in accounts {
            self.push_handles(&account, origin);
        }
        for (room, origin_has_it) in rooms {
            self.push_room(&room, origin.filter(|_| origin_has_it));
        }
        for handle in lists {
            self.push_friends(&handle);
        }
        for handle in presence {
            self.push_presence(&handle, now)?;
        }
        for handle in profiles {
            self.push_profile(&handle);
        }
        Ok(())
    }

    /// A new stream item to every connection acting for `handle` that gets it live (but `except`).
    fn deliver(&mut self, handle: &Handle, item: StreamItem, except: Option<ConnId>) {
        let acting = self.world.address(handle);
        for conn in self.conns.acting_for(handle) {
            if Some(conn) != except && self.conns.live_from(conn, handle).is_some_and(|from| item.seq > from) {
                self.send(conn, ServerFrame::Deliver { acting: acting.clone(), item: item.clone() });
            }
        }
    }

    /// The account's handles to its connections, but `except` (the one that asked, which has them in its answer).
    fn push_handles(&mut self, account: &str, except: Option<ConnId>) {
        let handles = self.handle_infos(account);
        for conn in self.conns.conns_of_account(account) {
            if Some(conn) != except {
                self.send(conn, ServerFrame::Handles { id: None, handles: handles.clone() });
            }
        }
    }

    /// A handle's huddle settings to its connections but `except` (which has them in its answer).
    fn push_huddle_settings(&mut self, handle: &Handle, except: Option<ConnId>) {
        let acting = self.world.address(handle);
        let settings = self.world.state.settings_of(&acting);
        for conn in self.conns.acting_for(handle) {
            if Some(conn) != except {
                let frame =
                    ServerFrame::HuddleSettings { id: None, acting: acting.clone(), settings: settings.clone() };
                self.send(conn, frame);
            }
        }
    }

    fn push_room_gone(&mut self, member: &Address, room: &RoomId) {
        if self.world.state.local_handle(member).is_none() {
            return;
        }
        for conn in self.conns.acting_for(&member.handle) {
            self.send(conn, ServerFrame::RoomGone { acting: member.clone(), room: room.clone() });
        }
    }

    /// A room's state to every connection of every member (but `except`, which has it in its answer).
    fn push_room(&mut self, room: &RoomId, except: Option<ConnId>) {
        let Some(info) = self.world.room_info(room) else { return };
        for member in self.world.state.member_addresses(room) {
            if self.world.state.local_handle(&member).is_none() {
                continue;
            }
            for conn in self.conns.acting_for(&member.handle) {
                if Some(conn) != except {
                    self.send(conn, ServerFrame::Room { id: None, acting: member.clone(), room: info.clone() });
                }
            }
        }
    }

    /// Typing goes only to connections that asked for it.
    fn push_typing(&mut self, from: &Address, room: &RoomId, to: &[Address]) {
        for recipient in to {
            if self.world.state.local_handle(recipient).is_none() {
                continue;
            }
            for conn in self.conns.acting_for(&recipient.handle) {
                if self.conns.has_feature(conn, FEATURE_TYPING) {
                    let frame =
                        ServerFrame::Typing { acting: recipient.clone(), from: from.clone(), room: room.clone() };
                    self.send(conn, frame);
                }
            }
        }
    }

    fn push_friends(&mut self, handle: &Handle) {
        if !self.world.state.handles.contains_key(handle) {
            return;
        }
        let conns = self.conns.acting_for(handle);
        if conns.is_empty() {
            return;
        }
        let list = self.friend_list(handle);
        let acting = self.world.address(handle);
        for conn in conns {
            self.send(conn, ServerFrame::Friends { id: None, acting: acting.clone(), list: list.clone() });
        }
    }

    /// Pushes a handle's presence if it changed. One that went offline gets its `last_seen` recorded. Viewers who
    /// just lost sight of a handle (deleted, blocked) learn it from their fresh `friends` frame instead.
    fn push_presence(&mut self, handle: &Handle, now: Millis) -> Result<(), StorageError> {
        if !self.world.state.handles.contains_key(handle) {
            self.shown.remove(handle);
            self.world.online.remove(handle);
            return Ok(());
        }
        let mut shown = self.shown_presence(handle);
        let before = self.shown.get(handle).cloned();
        let went_offline =
            shown.state == ShownState::Offline && before.as_ref().is_some_and(|b| b.state != ShownState::Offline);
        if went_offline {
            self.world.set_last_seen(handle, now)?;
            shown = self.shown_presence(handle);
        }
        if before.as_ref() == Some(&shown) {
            return Ok(());
        }
        self.shown.insert(handle.clone(), shown.clone());
        let was_online = before.as_ref().is_some_and(|b| b.state != ShownState::Offline);
        let is_online = shown.state != ShownState::Offline;
        if was_online != is_online {
            // Huddles of people online follow who is shown online: an invisible handle is put in none.
            if is_online {
                self.world.online.insert(handle.clone());
            } else {
                self.world.online.remove(handle);
            }
            match self.world.presence_huddles(handle, is_online, now) {
                Err(super::Fail::Storage(e)) => return Err(e),
                Err(super::Fail::Refuse { .. }) | Ok(()) => {}
            }
        }
        if before.is_none() && shown.state == ShownState::Offline {
            // Nothing was shown before and nothing is now: no news.
            return Ok(());
        }
        let of = self.world.address(handle);
        self.push_to_viewers(&of, |viewer| ServerFrame::Presence {
            acting: viewer,
            of: of.clone(),
            presence: shown.clone(),
        });
        Ok(())
    }

    fn push_profile(&mut self, handle: &Handle) {
        let Some(profile) = self.world.state.handles.get(handle).map(|h| h.profile.clone()) else { return };
        let of = self.world.address(handle);
        self.push_to_viewers(&of, |viewer| ServerFrame::Profile {
            acting: viewer,
            of: of.clone(),
            profile: profile.clone(),
        });
    }

    /// A frame to every connection of everyone who may see `of`'s presence and profile.
    fn push_to_viewers(&mut self, of: &Address, frame: impl Fn(Address) -> ServerFrame) {
        let viewers: Vec<Address> = viewers_of(&self.world.state, of).cloned().collect();
        for viewer in viewers {
            if self.world.state.local_handle(&viewer).is_none() {
                continue;
            }
            for conn in self.conns.acting_for(&viewer.handle) {
                self.send(conn, frame(viewer.clone()));
            }
        }
    }
}
