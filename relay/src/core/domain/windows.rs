//! Huddles of people who report the same thing within a window: the same activity (the seed's "called the same
//! number, mailed the same address, bought a ticket to the same show") or the same place (a coarse geohash inside one
//! of the relay's areas). The first report opens a window; when it closes, a huddle forms if enough of the reporters
//! may be put together.
//!
//! Privacy: an activity is kept only as a keyed hash (HMAC-SHA-256 with the relay's secret, made at first use and
//! never shown), so the stored window names no show and no number, and nobody can test a guess against it without the
//! secret; a place is kept only as the relay area it fell in. Reporting is the consent to be put with the others who
//! reported the same; "no huddles", blocks and "not with" still hold.

use hmac::{Hmac, Mac};
use huddle_shared::model::HuddleTrigger;
use huddle_shared::{Address, ErrorCode, Millis};
use sha2::Sha256;

use super::huddles::{Candidate, HuddlePlan};
use crate::core::fail::{Outcome, refuse, refuse_with};
use crate::core::rules;
use crate::core::world::World;
use crate::storage::{Mutation, Storage, WindowRec};

/// Longest activity key, in bytes (it is hashed, never stored).
pub const MAX_ACTIVITY_KEY_BYTES: usize = 256;
/// Longest activity kind (`show`, `number`), in characters.
pub const MAX_ACTIVITY_KIND_CHARS: usize = 32;
/// Longest geohash (about 4 cm); the shortest is 1 (a fifth of a continent).
pub const MAX_GEOHASH_CHARS: usize = 12;
/// Reporters one window keeps (the first ones).
pub const MAX_WINDOW_REPORTERS: usize = huddle_shared::limits::MAX_HUDDLE_MEMBERS;

/// How many reports within how long form a huddle, and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRule {
    pub min_people: usize,
    pub window_ms: Millis,
    pub huddle_ms: Millis,
}

/// One of the relay's areas: people who report a place inside it within its window are put together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceRule {
    pub name: String,
    /// A geohash prefix: every geohash that starts with it is inside.
    pub area: String,
    pub rule: WindowRule,
}

/// The relay's rules for huddles it forms from reports, and how often it polls feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuddleRules {
    pub activity: WindowRule,
    pub places: Vec<PlaceRule>,
    pub feed_interval_ms: Millis,
}

impl Default for HuddleRules {
    fn default() -> Self {
        Self {
            activity: WindowRule { min_people: 3, window_ms: 10 * 60_000, huddle_ms: 60 * 60_000 },
            places: Vec::new(),
            feed_interval_ms: 15 * 60_000,
        }
    }
}

/// Whether `text` is a geohash (its base-32 alphabet has no a, i, l, o).
pub fn is_geohash(text: &str) -> bool {
    (1..=MAX_GEOHASH_CHARS).contains(&text.len())
        && text.bytes().all(|b| b"0123456789bcdefghjkmnpqrstuvwxyz".contains(&b))
}

impl<S: Storage> World<S> {
    /// The key activity reports are hashed with, made (and stored) at first use.
    fn activity_key(&mut self) -> Outcome<String> {
        if let Some(key) = &self.state.activity_secret {
            return Ok(key.clone());
        }
        let key = crate::password::new_secret().map_err(|e| {
            tracing::error!(error = %e, "the system random source failed making the activity key");
            refuse(ErrorCode::Internal)
        })?;
        self.write(Mutation::PutActivitySecret(key.clone()))?;
        Ok(key)
    }

    /// `me` reports an activity of `kind` whose identity is `key`.
    pub fn report_activity(&mut self, me: &Address, kind: &str, key: &str, now: Millis) -> Outcome {
        let kind = kind.trim().to_ascii_lowercase();
        let kind_ok = !kind.is_empty()
            && kind.chars().count() <= MAX_ACTIVITY_KIND_CHARS
            && kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !kind_ok {
            return Err(refuse_with(
                ErrorCode::BadText,
                format!(
                    "An activity's kind is 1 to {MAX_ACTIVITY_KIND_CHARS} of a-z, 0-9 and '-' (like show or number)."
                ),
            ));
        }
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_ACTIVITY_KEY_BYTES || key.chars().any(char::is_control) {
            return Err(refuse_with(
                ErrorCode::BadText,
                format!("An activity is 1 to {MAX_ACTIVITY_KEY_BYTES} bytes of text on one line."),
            ));
        }
        let secret = self.activity_key()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| refuse(ErrorCode::Internal))?;
        mac.update(kind.as_bytes());
        mac.update(b"\n");
        // Case and spacing do not make two reports of the same show different.
        mac.update(key.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ").as_bytes());
        let hash: String = mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect();
        let rule = self.rules.activity.clone();
        self.add_report(format!("activity:{kind}:{hash}"), kind, false, &rule, me, now)
    }

    /// `me` reports being at `geohash`: it counts in every area of the relay that contains it.
    pub fn report_place(&mut self, me: &Address, geohash: &str, now: Millis) -> Outcome {
        let geohash = geohash.trim().to_ascii_lowercase();
        if !is_geohash(&geohash) {
            return Err(refuse_with(
                ErrorCode::BadText,
                format!("A place is a geohash of 1 to {MAX_GEOHASH_CHARS} characters (like u33dc)."),
            ));
        }
        let areas: Vec<PlaceRule> =
            self.rules.places.iter().filter(|p| geohash.starts_with(&p.area)).cloned().collect();
        for area in areas {
            self.add_report(format!("place:{}", area.area), area.name.clone(), true, &area.rule, me, now)?;
        }
        Ok(())
    }

    fn add_report(
        &mut self,
        id: String,
        label: String,
        place: bool,
        rule: &WindowRule,
        me: &Address,
        now: Millis,
    ) -> Outcome {
        let mut window = match self.state.windows.get(&id) {
            Some(w) => w.clone(),
            None => WindowRec {
                id: id.clone(),
                label,
                place,
                opened_at: now,
                closes_at: now + rule.window_ms,
                reporters: Vec::new(),
            },
        };
        if window.reporters.contains(me) || window.reporters.len() >= MAX_WINDOW_REPORTERS {
            return Ok(());
        }
        window.reporters.push(me.clone());
        self.timers.windows.set(&id, window.closes_at);
        self.write(Mutation::PutWindow(window))?;
        Ok(())
    }

    /// A window closed: a huddle forms if enough of its reporters may be put together.
    pub(super) fn window_closed(&mut self, id: &str, now: Millis) -> Outcome {
        let Some(window) = self.state.windows.get(id).cloned() else { return Ok(()) };
        self.write(Mutation::DeleteWindow(id.to_owned()))?;
        let rule = if window.place {
            match self.rules.places.iter().find(|p| id == format!("place:{}", p.area)) {
                Some(p) => p.rule.clone(),
                // The area was taken out of the config: its window forms nothing.
                None => return Ok(()),
            }
        } else {
            self.rules.activity.clone()
        };
        // The same choice forming makes, so the count is the huddle's.
        let mut agreed: Vec<Address> = Vec::new();
        let mut chosen: std::collections::HashSet<Address> = std::collections::HashSet::new();
        for who in window.reporters {
            let exists = self.state.local_handle(&who).is_some();
            let off = self.state.huddle_settings.get(&who).is_some_and(|s| s.off);
            let room_left = self.state.shared_rooms_of(&who).count() < huddle_shared::limits::MAX_ROOMS_PER_HANDLE;
            let apart = rules::huddle_apart_from(&self.state, &who).any(|other| chosen.contains(other));
            if exists && !off && room_left && !apart {
                chosen.insert(who.clone());
                agreed.push(who);
            }
        }
        if agreed.len() < rule.min_people.max(2) {
            return Ok(());
        }
        let count = u32::try_from(agreed.len()).unwrap_or(u32::MAX);
        let (trigger, title) = if window.place {
            (HuddleTrigger::Place { area: window.label.clone(), count }, format!("{count} people at {}", window.label))
        } else {
            (
                HuddleTrigger::Activity { kind: window.label.clone(), count },
                format!("{count} people, same {}", window.label),
            )
        };
        let plan = HuddlePlan {
            trigger,
            title,
            by: agreed[0].clone(),
            anchor: None,
            ends_at: Some(now + rule.huddle_ms),
            idle_ms: None,
        };
        let candidates = agreed.into_iter().map(|who| Candidate { who, until: None }).collect();
        self.form_huddle(plan, candidates, now)?;
        Ok(())
    }
}
