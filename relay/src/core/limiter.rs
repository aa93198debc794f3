//! Sliding-window limits keyed by text ("acct:…", "ip:…", a handle). Memory is bounded: at most [`MAX_KEYS`] keys
//! and `max` timestamps per key; when the table is full of live keys, new keys are refused (fail closed) rather
//! than grown without bound.

use std::collections::{HashMap, VecDeque};

use huddle_shared::Millis;

/// Most keys tracked at once.
pub const MAX_KEYS: usize = 100_000;

#[derive(Debug)]
pub struct Limiter {
    window: Millis,
    hits: HashMap<String, VecDeque<Millis>>,
}

impl Limiter {
    pub fn new(window: Millis) -> Self {
        Self { window, hits: HashMap::new() }
    }

    /// `Err(retry_after_ms)` if `key` already has `max` hits inside the window.
    pub fn check(&mut self, key: &str, max: usize, now: Millis) -> Result<(), u64> {
        let window = self.window;
        let full = self.hits.len() >= MAX_KEYS;
        match self.hits.get_mut(key) {
            Some(hits) => {
                while hits.front().is_some_and(|&t| t + window <= now) {
                    hits.pop_front();
                }
                match hits.front() {
                    Some(&oldest) if hits.len() >= max => Err(u64::try_from(oldest + window - now).unwrap_or(0)),
                    _ => Ok(()),
                }
            }
            None if full => {
                self.prune(now);
                if self.hits.len() >= MAX_KEYS { Err(u64::try_from(window).unwrap_or(0)) } else { Ok(()) }
            }
            None => Ok(()),
        }
    }

    /// Counts one hit for `key` (keeping at most `max`).
    pub fn record(&mut self, key: &str, max: usize, now: Millis) {
        if !self.hits.contains_key(key) && self.hits.len() >= MAX_KEYS {
            return;
        }
        let hits = self.hits.entry(key.to_owned()).or_default();
        hits.push_back(now);
        while hits.len() > max.max(1) {
            hits.pop_front();
        }
    }

    /// Forgets keys whose hits all left the window.
    pub fn prune(&mut self, now: Millis) {
        let window = self.window;
        self.hits.retain(|_, hits| hits.back().is_some_and(|&t| t + window > now));
    }

    pub fn forget(&mut self, key: &str) {
        self.hits.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_within_window_and_recovers() {
        let mut l = Limiter::new(1000);
        for t in 0..3 {
            assert!(l.check("k", 3, t).is_ok());
            l.record("k", 3, t);
        }
        assert_eq!(l.check("k", 3, 10), Err(990));
        assert!(l.check("k", 3, 1000).is_ok(), "the first hit left the window");
        assert!(l.check("other", 3, 10).is_ok());
        l.prune(5000);
        assert!(l.hits.is_empty());
    }
}
