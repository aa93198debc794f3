//! Huddles: rooms the relay forms when something happens, with members who agreed to it, and ends when it is over.
//!
//! A huddle is formed by [`World::form_huddle`] from a trigger and a list of candidates; who may be a candidate is the
//! rules' to say (subscribed and not muting, following an anchor who shares its presence), and forming keeps apart
//! whoever must not be related (blocks and "not with", either way: a candidate is left out when they must be kept
//! apart from someone already in it). Nobody is invited and nobody is asked: the subscription or the follow was the
//! consent, and leaving is always possible.
//!
//! A huddle ends on the first of: its end time, its anchor going offline, its idle time without a message, everyone
//! having left, its topic being deleted. Ending is [`World::end_room`] with the reason: every member gets the `ended`
//! line, the log stays readable, and the relations it made (one-to-one messages between members) go with it.
//!
//! Time is passed in: [`World::huddle_deadlines`] runs the checks whose time has come (see `huddle_timers`).

use std::collections::BTreeMap;

use huddle_shared::limits::{MAX_HUDDLE_MEMBERS, MAX_ROOMS_PER_HANDLE, MAX_SETTINGS_ENTRIES, PRESENCE_HUDDLE_IDLE_MS};
use huddle_shared::model::{EndReason, HuddleInfo, HuddleSettings, HuddleTrigger, RoomChange, RoomKind};
use huddle_shared::{Address, ErrorCode, Handle, Millis, RoomId};

use super::federation_unavailable;
use crate::core::facts::Fact;
use crate::core::fail::{Outcome, refuse_with};
use crate::core::rules;
use crate::core::world::World;
use crate::storage::{HuddleRec, Mutation, Storage};

/// Someone the relay would put in a huddle, with when their own time in it is up (if before the huddle's end).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub who: Address,
    pub until: Option<Millis>,
}

/// What a huddle is to be: its trigger and how it ends.
#[derive(Debug, Clone)]
pub struct HuddlePlan {
    pub trigger: HuddleTrigger,
    pub title: String,
    /// Named as the one who formed it in the `formed` line: the anchor, the publisher, or the topic's owner.
    pub by: Address,
    pub anchor: Option<Address>,
    pub ends_at: Option<Millis>,
    pub idle_ms: Option<Millis>,
}

impl<S: Storage> World<S> {
    /// What a huddle's members are told about it.
    pub fn huddle_info(&self, room: &RoomId) -> Option<HuddleInfo> {
        let h = self.state.huddles.get(room)?;
        Some(HuddleInfo {
            trigger: h.trigger.clone(),
            ends_at: h.ends_at,
            anchor: h.anchor.clone(),
            idle_ms: h.idle_ms,
        })
    }

    /// Forms a huddle of the candidates (in order; see the module's rules on who is left out). Returns the room and
    /// its members, or `None` when nobody could be put in it.
    pub fn form_huddle(
        &mut self,
        plan: HuddlePlan,
        candidates: Vec<Candidate>,
        now: Millis,
    ) -> Outcome<Option<(RoomId, Vec<Address>)>> {
        let mut members: Vec<Candidate> = Vec::new();
        let mut chosen: std::collections::HashSet<Address> = std::collections::HashSet::new();
        for c in candidates {
            if members.len() >= MAX_HUDDLE_MEMBERS {
                break;
            }
            let exists = self.state.local_handle(&c.who).is_some();
            let room_for_one_more = self.state.shared_rooms_of(&c.who).count() < MAX_ROOMS_PER_HANDLE;
            let apart = chosen.contains(&c.who)
                || rules::huddle_apart_from(&self.state, &c.who).any(|other| chosen.contains(other));
            if exists && room_for_one_more && !apart {
                chosen.insert(c.who.clone());
                members.push(c);
            }
        }
        if members.is_empty() {
            return Ok(None);
        }
        let room = self.create_room(RoomKind::Huddle, None, Some(plan.title.clone()), now)?;
        let ends_at = plan.ends_at;
        let member_ends: BTreeMap<String, Millis> = members
            .iter()
            .filter_map(|m| {
                m.until.filter(|until| ends_at.is_none_or(|end| *until < end)).map(|u| (m.who.to_string(), u))
            })
            .collect();
        for m in &members {
            self.add_member(&room, &m.who, now)?;
        }
        let record = HuddleRec {
            room: room.clone(),
            trigger: plan.trigger,
            by: plan.by.clone(),
            anchor: plan.anchor,
            ends_at,
            idle_ms: plan.idle_ms,
            member_ends,
            started_at: now,
            ended_at: None,
        };
        if let Some(at) = super::huddle_timers::first_check(&record) {
            self.timers.huddles.set(&room, at);
        }
        self.write(Mutation::PutHuddle(record))?;
        let addresses: Vec<Address> = members.into_iter().map(|m| m.who).collect();
        let huddle = self.huddle_info(&room).ok_or_else(|| refuse_with(ErrorCode::Internal, "The huddle vanished."))?;
        self.room_event(
            &room,
            &plan.by,
            RoomChange::Formed {
                members: addresses.iter().take(huddle_shared::limits::FORMED_MEMBERS_NAMED).cloned().collect(),
                count: u32::try_from(addresses.len()).unwrap_or(u32::MAX),
                huddle: Box::new(huddle),
            },
            None,
            now,
        )?;
        self.record(Fact::RoomChanged { room: room.clone(), origin_has_it: false });
        Ok(Some((room, addresses)))
    }

    /// Ends a running huddle for `reason` (nothing if it already ended).
    pub fn end_huddle(&mut self, room: &RoomId, reason: EndReason, now: Millis) -> Outcome {
        let Some(mut record) = self.state.active_huddle(room).cloned() else { return Ok(()) };
        record.ended_at = Some(now);
        self.timers.huddles.clear(room);
        let actor = record.by.clone();
        self.write(Mutation::PutHuddle(record))?;
        self.end_room(room, &actor, Some(reason), now)
    }

    /// Runs what the huddle engine's clock says is due: huddle checks, schedules, windows closing. Feeds due are
    /// returned: fetching them is the shell's work.
    pub fn huddle_deadlines(&mut self, now: Millis) -> Outcome<Vec<super::feeds::FeedPoll>> {
        for room in self.timers.huddles.take_due(now) {
            self.check_huddle(&room, now)?;
        }
        for topic in self.timers.schedules.take_due(now) {
            self.schedule_fired(&topic, now)?;
        }
        for window in self.timers.windows.take_due(now) {
            self.window_closed(&window, now)?;
        }
        Ok(self.feeds_due(now))
    }

    /// Ends the huddle if its time is up or it was silent for its idle time, takes out members whose own time is up,
    /// and otherwise sets when to look again.
    pub fn check_huddle(&mut self, room: &RoomId, now: Millis) -> Outcome {
        let Some(record) = self.state.active_huddle(room).cloned() else { return Ok(()) };
        if record.ends_at.is_some_and(|end| end <= now) {
            return self.end_huddle(room, EndReason::Time, now);
        }
        let idle_end = match record.idle_ms {
            Some(idle) => {
                // Read from the log rather than tracked per message, so a restart knows it too.
                let newest = self.store.history(room, 0, crate::storage::HistoryCursor::Latest, 1)?;
                let last = newest.and_then(|p| p.messages.last().map(|m| m.sent_at)).unwrap_or(0);
                Some(last.max(record.started_at).saturating_add(idle))
            }
            None => None,
        };
        if idle_end.is_some_and(|end| end <= now) {
            return self.end_huddle(room, EndReason::Idle, now);
        }
        let (due, later): (BTreeMap<String, Millis>, BTreeMap<String, Millis>) =
            record.member_ends.clone().into_iter().partition(|(_, until)| *until <= now);
        if !due.is_empty() {
            let mut updated = record.clone();
            updated.member_ends = later.clone();
            self.write(Mutation::PutHuddle(updated))?;
            for who in due.keys().filter_map(|text| Address::parse(text).ok()) {
                if self.state.is_member(room, &who) {
                    self.remove_member(room, &who, RoomChange::TimeUp { who: who.clone() }, &who.clone(), now)?;
                }
            }
        }
        if self.state.active_huddle(room).is_none() {
            return Ok(());
        }
        let next = [record.ends_at, idle_end, later.values().min().copied()].into_iter().flatten().min();
        if let Some(at) = next {
            self.timers.huddles.set(room, at);
        }
        Ok(())
    }

    /// A handle's presence changed: a presence huddle forms when a handle that shares its presence comes online with
    /// followers online (or takes in a follower who comes online while it runs), and ends when its anchor goes
    /// offline. `online`: whether `handle` is shown online now.
    pub fn presence_huddles(&mut self, handle: &Handle, online: bool, now: Millis) -> Outcome {
        let me = self.address(handle);
        if !online {
            let anchored: Vec<RoomId> =
                self.state.running().filter(|h| h.anchor.as_ref() == Some(&me)).map(|h| h.room.clone()).collect();
            for room in anchored {
                self.end_huddle(&room, EndReason::AnchorOffline, now)?;
            }
            return Ok(());
        }
        // A follower coming online joins the running huddles of those it follows.
        let running: Vec<(RoomId, Address)> = self
            .state
            .running()
            .filter(|h| matches!(h.trigger, HuddleTrigger::Presence { .. }))
            .filter_map(|h| h.anchor.clone().map(|a| (h.room.clone(), a)))
            .filter(|(_, anchor)| rules::follows_presence(&self.state, &me, anchor))
            .collect();
        for (room, _) in running {
            let members = self.state.member_addresses(&room);
            let fits = members.len() < MAX_HUDDLE_MEMBERS
                && self.state.shared_rooms_of(&me).count() < MAX_ROOMS_PER_HANDLE
                && members.iter().all(|m| m != &me && rules::may_huddle_together(&self.state, m, &me));
            if fits {
                self.add_member(&room, &me, now)?;
                self.room_event(&room, &me, RoomChange::Joined { who: me.clone() }, None, now)?;
                self.record(Fact::RoomChanged { room, origin_has_it: false });
            }
        }
        let already = self.state.running().any(|h| h.anchor.as_ref() == Some(&me));
        if already {
            return Ok(());
        }
        let followers: Vec<Address> = self
            .state
            .followers
            .get(&me)
            .into_iter()
            .flatten()
            .filter(|f| self.online.contains(&f.handle) && f.is_local_to(self.relay()))
            .filter(|f| rules::follows_presence(&self.state, f, &me))
            .cloned()
            .collect();
        if followers.is_empty() {
            return Ok(());
        }
        let candidates =
            std::iter::once(&me).chain(&followers).map(|who| Candidate { who: who.clone(), until: None }).collect();
        let plan = HuddlePlan {
            trigger: HuddleTrigger::Presence { of: me.clone() },
            title: format!("{} is online", me.handle),
            by: me.clone(),
            anchor: Some(me.clone()),
            ends_at: None,
            idle_ms: Some(PRESENCE_HUDDLE_IDLE_MS),
        };
        self.form_huddle(plan, candidates, now)?;
        Ok(())
    }

    /// Replaces a handle's huddle settings (addresses resolved to this relay, lists deduplicated). Turning on
    /// "not with" someone takes effect at once inside the huddles the two share.
    pub fn set_huddle_settings(&mut self, me: &Address, mut settings: HuddleSettings) -> Outcome<HuddleSettings> {
        let relay = self.relay().clone();
        for list in [&mut settings.follows, &mut settings.not_with] {
            let resolved: Vec<Address> = list.drain(..).map(|a| a.resolve(&relay)).collect();
            if let Some(far) = resolved.iter().find(|a| !a.is_local_to(&relay)) {
                return Err(federation_unavailable(far));
            }
            for a in resolved {
                if &a != me && !list.contains(&a) {
                    list.push(a);
                }
            }
        }
        settings.muted_topics.sort();
        settings.muted_topics.dedup();
        let longest = settings.follows.len().max(settings.not_with.len()).max(settings.muted_topics.len());
        if longest > MAX_SETTINGS_ENTRIES {
            return Err(refuse_with(
                ErrorCode::BadFrame,
                format!("Each list of the huddle settings holds at most {MAX_SETTINGS_ENTRIES} entries."),
            ));
        }
        self.write(Mutation::PutHuddleSettings { handle: me.clone(), settings: settings.clone() })?;
        self.record(Fact::HuddleSettingsChanged(me.handle.clone()));
        Ok(settings)
    }

    /// A handle being removed: out of every subscription, its topics deleted, its settings gone.
    pub fn forget_huddle_records(&mut self, me: &Address, now: Millis) -> Outcome {
        let owned: Vec<_> = self.state.topics.values().filter(|t| &t.owner == me).map(|t| t.id.clone()).collect();
        for topic in owned {
            self.remove_topic(&topic, now)?;
        }
        let subscribed: Vec<_> =
            self.state.subscriptions.iter().filter(|(_, subs)| subs.contains_key(me)).map(|(t, _)| t.clone()).collect();
        for topic in subscribed {
            self.write(Mutation::DeleteSubscription { topic, subscriber: me.clone() })?;
        }
        if self.state.huddle_settings.contains_key(me) {
            self.write(Mutation::PutHuddleSettings { handle: me.clone(), settings: HuddleSettings::default() })?;
        }
        Ok(())
    }
}
