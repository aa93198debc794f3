//! Sliding-window limits keyed by text ("acct:…", "ip:…", a handle). Memory is bounded: at most [`MAX_KEYS`] keys
//! and `max` timestamps per key; when the table is full of live keys, new keys are refused (fail closed) rather
//! than grown without bound.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};

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
}

/// An address as one person holds it, for every limit kept per address: IPv4 as is (an IPv4-mapped IPv6 address
/// too), IPv6 by its /64 — the smallest block a provider hands out, so one person cannot pass for thousands.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
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

    #[test]
    fn an_ipv6_slash_64_is_one_address_and_mapped_ipv4_is_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), address_key(ip("2001:db8:1:2:bbbb::7")));
        assert_ne!(address_key(ip("2001:db8:1:2::1")), address_key(ip("2001:db8:1:3::1")));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(address_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }
}
