//! Who may hold a connection: per-address caps on connections and on connections that have not logged in, and a
//! relay-wide cap on the latter, so that one stranger cannot take the slots of everyone else and anonymous
//! connections can never take the slots kept for people who have logged in.
//!
//! A connection is admitted at TCP accept, before any handshake, and holds an [`Admitted`] until it ends; the ticket
//! moves between "not logged in" and "logged in" as the core reports (`Out::Authenticated`). Addresses are counted as
//! what one person controls: an IPv4 address, or an IPv6 /64 (the smallest block a provider hands out); an
//! IPv4-mapped IPv6 address counts as its IPv4 address.
//!
//! The counts are plain data behind a mutex (held for a few map operations), tested without sockets below.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::core::address_key;

/// The caps, from the config.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionLimits {
    pub per_address: usize,
    pub unauthenticated_per_address: usize,
    pub unauthenticated: usize,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address holds its share already (`too_many_connections`).
    Address,
    /// The relay holds as many not-logged-in connections as it allows (`server_busy`).
    Unauthenticated,
}

/// What one address (or IPv6 /64) holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Held {
    total: usize,
    unauthenticated: usize,
}

#[derive(Debug, Default)]
struct Counts {
    by_address: HashMap<IpAddr, Held>,
    unauthenticated: usize,
}

impl Counts {
    fn admit(&mut self, key: IpAddr, limits: &AdmissionLimits) -> Result<(), Refusal> {
        let held = self.by_address.get(&key).copied().unwrap_or_default();
        if held.total >= limits.per_address || held.unauthenticated >= limits.unauthenticated_per_address {
            return Err(Refusal::Address);
        }
        if self.unauthenticated >= limits.unauthenticated {
            return Err(Refusal::Unauthenticated);
        }
        let entry = self.by_address.entry(key).or_default();
        entry.total += 1;
        entry.unauthenticated += 1;
        self.unauthenticated += 1;
        Ok(())
    }

    /// A connection of `key` logged in (`true`) or out (`false`).
    fn authenticated(&mut self, key: IpAddr, authed: bool) {
        let Some(entry) = self.by_address.get_mut(&key) else { return };
        if authed {
            entry.unauthenticated = entry.unauthenticated.saturating_sub(1);
            self.unauthenticated = self.unauthenticated.saturating_sub(1);
        } else {
            // Logging out makes it an anonymous connection again; it may exceed the caps for a moment (it was
            // admitted), which only delays the next admission from that address.
            entry.unauthenticated += 1;
            self.unauthenticated += 1;
        }
    }

    fn release(&mut self, key: IpAddr, authed: bool) {
        if !authed {
            self.unauthenticated = self.unauthenticated.saturating_sub(1);
        }
        if let Some(entry) = self.by_address.get_mut(&key) {
            entry.total = entry.total.saturating_sub(1);
            if !authed {
                entry.unauthenticated = entry.unauthenticated.saturating_sub(1);
            }
            if entry.total == 0 {
                self.by_address.remove(&key);
            }
        }
    }
}

/// The relay's admission control, shared by the accept loop and the connection tasks.
#[derive(Debug)]
pub struct Admission {
    limits: AdmissionLimits,
    counts: Mutex<Counts>,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Arc<Self> {
        Arc::new(Self { limits, counts: Mutex::new(Counts::default()) })
    }

    /// Admits a new connection from `ip`, not logged in.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admitted, Refusal> {
        let key = address_key(ip);
        self.counts().admit(key, &self.limits)?;
        Ok(Admitted { admission: Arc::clone(self), key, authed: false })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The counts stay consistent whatever panicked while holding the lock: every change is one step.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection's place; given back when dropped.
#[derive(Debug)]
pub struct Admitted {
    admission: Arc<Admission>,
    key: IpAddr,
    authed: bool,
}

impl Admitted {
    pub fn set_authenticated(&mut self, authed: bool) {
        if self.authed != authed {
            self.authed = authed;
            self.admission.counts().authenticated(self.key, authed);
        }
    }

    pub fn authenticated(&self) -> bool {
        self.authed
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admission.counts().release(self.key, self.authed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> AdmissionLimits {
        AdmissionLimits { per_address: 3, unauthenticated_per_address: 2, unauthenticated: 4 }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share_of_anonymous_connections() {
        let a = Admission::new(limits());
        let first = a.admit(ip("10.0.0.1")).unwrap();
        let _second = a.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Address);
        // Another address is not affected.
        let _other = a.admit(ip("10.0.0.2")).unwrap();
        drop(first);
        assert!(a.admit(ip("10.0.0.1")).is_ok(), "a place given back can be taken again");
    }

    #[test]
    fn logged_in_connections_leave_the_anonymous_count_but_not_the_address_total() {
        let a = Admission::new(limits());
        let mut one = a.admit(ip("10.0.0.1")).unwrap();
        let mut two = a.admit(ip("10.0.0.1")).unwrap();
        one.set_authenticated(true);
        two.set_authenticated(true);
        let _three = a.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Address, "three in all from one address");
        two.set_authenticated(false);
        drop(two);
        drop(one);
        assert_eq!(a.counts().unauthenticated, 1);
        assert_eq!(a.counts().by_address.get(&ip("10.0.0.1")).copied(), Some(Held { total: 1, unauthenticated: 1 }));
    }

    #[test]
    fn anonymous_connections_relay_wide_are_capped_so_slots_stay_for_people_who_logged_in() {
        let a = Admission::new(limits());
        let held: Vec<Admitted> = (1..=4).map(|n| a.admit(ip(&format!("10.0.0.{n}"))).unwrap()).collect();
        assert_eq!(a.admit(ip("10.0.0.9")).unwrap_err(), Refusal::Unauthenticated);
        drop(held);
        assert!(a.counts().by_address.is_empty(), "nothing is kept for addresses that hold nothing");
        assert_eq!(a.counts().unauthenticated, 0);
    }

    #[test]
    fn an_ipv6_slash_64_is_one_address() {
        let a = Admission::new(limits());
        let _one = a.admit(ip("2001:db8:1:2:aaaa::1")).unwrap();
        let _two = a.admit(ip("2001:db8:1:2:bbbb::7")).unwrap();
        assert_eq!(a.admit(ip("2001:db8:1:2::9")).unwrap_err(), Refusal::Address);
        assert!(a.admit(ip("2001:db8:1:3::1")).is_ok());
    }
}
