//! Presence and profiles: what each handle is shown as, and pushing changes only to those the routing rule allows.

use huddle_shared::limits::{MAX_ACTIVITY_CHARS, MAX_BIO_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_LOCATION_CHARS};
use huddle_shared::model::{Presence, PresenceState, ShownState};
use huddle_shared::text::{check_line, check_multiline};
use huddle_shared::{Address, ErrorCode, Handle, Millis, RequestId, ServerFrame};

use super::routing::{sees, viewers_of};
use super::{ConnId, Core, Outcome, refuse_with};
use crate::storage::{Mutation, Storage, StorageError};

fn cleared(text: String) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() { None } else { Some(trimmed.to_owned()) }
}

impl<S: Storage> Core<S> {
    /// How `of` looks to everyone allowed to see it.
    fn shown_presence(&self, handle: &Handle) -> Presence {
        let record = self.state.handles.get(handle);
        let state = match self.conns.best_state(handle) {
            Some(PresenceState::Online) => ShownState::Online,
            Some(PresenceState::Away) => ShownState::Away,
            Some(PresenceState::Busy) => ShownState::Busy,
            Some(PresenceState::Invisible) | None => ShownState::Offline,
        };
        if state == ShownState::Offline {
            return Presence::offline(record.and_then(|r| r.last_seen));
        }
        Presence {
            state,
            activity: record.and_then(|r| r.activity.clone()),
            location: record.and_then(|r| r.location.clone()),
            last_seen: None,
        }
    }

    /// How `of` looks to `viewer`: its real presence if the routing rule allows, else offline. A blocked viewer
    /// sees an ordinary offline friend, last seen when the block began (or earlier, if `of` was already offline),
    /// so the block cannot be told apart from someone who simply stopped coming online.
    pub(super) fn presence_for(&self, viewer: &Address, of: &Address) -> Presence {
        let Some(rec) = self.state.local_handle(of) else { return Presence::offline(None) };
        if sees(&self.state, viewer, of) {
            return self.shown_presence(&rec.handle);
        }
        match self.state.blocks.get(of, viewer) {
            Some(block) => {
                let online_now = self.conns.best_state(&rec.handle).is_some();
                let seen = match rec.last_seen {
                    Some(seen) if seen <= block.at && !online_now => seen,
                    _ => block.at,
                };
                Presence::offline(Some(seen))
            }
            None => Presence::offline(None),
        }
    }

    /// Pushes presence changes. A handle whose presence did not change pushes nothing; one that went offline gets
    /// its `last_seen` recorded. Viewers who just lost sight of a handle (deleted, blocked) learn it from their
    /// fresh `friends` frame, which `touched` already sends.
    pub(super) fn flush_presence(&mut self, now: Millis) -> Result<(), StorageError> {
        for handle in std::mem::take(&mut self.presence_dirty) {
            let Some(record) = self.state.handles.get(&handle).cloned() else { continue };
            let mut shown = self.shown_presence(&handle);
            let before = self.shown.get(&handle).cloned();
            let went_offline =
                shown.state == ShownState::Offline && before.as_ref().is_some_and(|b| b.state != ShownState::Offline);
            if went_offline {
                self.write(Mutation::PutHandle(with_last_seen(record, now)))?;
                shown = self.shown_presence(&handle);
            }
            if before.as_ref() == Some(&shown) {
                continue;
            }
            self.shown.insert(handle.clone(), shown.clone());
            if before.is_none() && shown.state == ShownState::Offline {
                // Nothing was shown before and nothing is now: no news.
                continue;
            }
            let of = self.state.address(&handle);
            let viewers: Vec<Address> = viewers_of(&self.state, &of).cloned().collect();
            for viewer in viewers {
                if self.state.local_handle(&viewer).is_none() {
                    continue;
                }
                for conn in self.conns.acting_for(&viewer.handle) {
                    self.send(
                        conn,
                        ServerFrame::Presence { acting: viewer.clone(), of: of.clone(), presence: shown.clone() },
                    );
                }
            }
        }
        Ok(())
    }

    pub(super) fn set_presence(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        state: Option<PresenceState>,
        activity: Option<String>,
        location: Option<String>,
    ) -> Outcome {
        if let Some(a) = &activity {
            check_line(a, MAX_ACTIVITY_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The activity text is not valid: {e}.")))?;
        }
        if let Some(l) = &location {
            check_line(l, MAX_LOCATION_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The location is not valid: {e}.")))?;
        }
        if let Some(state) = state {
            self.conns.set_state(conn, me, state);
        }
        if activity.is_some() || location.is_some() {
            if let Some(mut record) = self.state.handles.get(me).cloned() {
                if let Some(a) = activity {
                    record.activity = cleared(a);
                }
                if let Some(l) = location {
                    record.location = cleared(l);
                }
                self.write(Mutation::PutHandle(record))?;
            }
        }
        self.presence_dirty.insert(me.clone());
        self.ok(conn, id);
        Ok(())
    }

    pub(super) fn set_profile(
        &mut self,
        conn: ConnId,
        id: RequestId,
        me: &Handle,
        display_name: Option<String>,
        bio: Option<String>,
    ) -> Outcome {
        if let Some(n) = &display_name {
            check_line(n, MAX_DISPLAY_NAME_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The display name is not valid: {e}.")))?;
        }
        if let Some(b) = &bio {
            check_multiline(b, MAX_BIO_CHARS)
                .map_err(|e| refuse_with(ErrorCode::BadText, format!("The bio is not valid: {e}.")))?;
        }
        let Some(mut record) = self.state.handles.get(me).cloned() else { return Ok(()) };
        if let Some(n) = display_name {
            record.profile.display_name = cleared(n);
        }
        if let Some(b) = bio {
            record.profile.bio = cleared(b);
        }
        let profile = record.profile.clone();
        self.write(Mutation::PutHandle(record))?;
        let of = self.state.address(me);
        let viewers: Vec<Address> = viewers_of(&self.state, &of).cloned().collect();
        for viewer in viewers {
            if self.state.local_handle(&viewer).is_none() {
                continue;
            }
            for c in self.conns.acting_for(&viewer.handle) {
                self.send(c, ServerFrame::Profile { acting: viewer.clone(), of: of.clone(), profile: profile.clone() });
            }
        }
        self.ok(conn, id);
        Ok(())
    }
}

fn with_last_seen(mut record: crate::storage::HandleRec, now: Millis) -> crate::storage::HandleRec {
    record.last_seen = Some(now);
    record
}
