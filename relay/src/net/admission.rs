//! Who may hold a connection: per-address caps on connections and on connections that have not logged in, and a
//! relay-wide cap on the latter, so that one stranger cannot take the slots of everyone else and anonymous
//! connections can never take the slots kept for people who have logged in.
//!
//! A connection is admitted at TCP accept, before any handshake, and holds an [`Admitted`] until it ends; the ticket
//! moves between "not logged in" and "logged in" as the core reports (`Out::Authenticated`). Addresses are counted as
//! what one person controls: an IPv4 address, or an IPv6 /64 (the smallest block a provider hands out); an
//! IPv4-mapped IPv6 address counts as its IPv4 address. Since one customer may be handed a /56 or a /48, those
//! blocks are capped too, at [`SLASH_56_SHARES`] and [`SLASH_48_SHARES`] times the per-address caps.
//!
//! The counts are plain data behind a mutex (held for a few map operations), tested without sockets below.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use crate::core::address_key;

/// How many addresses' worth an IPv6 /56 may hold.
pub const SLASH_56_SHARES: usize = 4;
/// How many addresses' worth an IPv6 /48 may hold.
pub const SLASH_48_SHARES: usize = 16;

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
    /// This address (or its IPv6 block) holds its share already (`too_many_connections`).
    Address,
    /// The relay holds as many not-logged-in connections as it allows (`server_busy`).
    Unauthenticated,
}

/// An address block and how many addresses' worth of connections it may hold.
type Block = ((IpAddr, u8), usize);

/// The blocks `ip` counts in: its address (IPv4, or IPv6 /64), and for IPv6 its /56 and /48 too.
fn blocks(ip: IpAddr) -> Vec<Block> {
    match address_key(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let slash_56 = Ipv6Addr::new(s[0], s[1], s[2], s[3] & 0xff00, 0, 0, 0, 0);
            let slash_48 = Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            vec![
                ((IpAddr::V6(v6), 64), 1),
                ((IpAddr::V6(slash_56), 56), SLASH_56_SHARES),
                ((IpAddr::V6(slash_48), 48), SLASH_48_SHARES),
            ]
        }
        v4 => vec![((v4, 32), 1)],
    }
}

/// What one address block holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Held {
    total: usize,
    unauthenticated: usize,
}

#[derive(Debug, Default)]
struct Counts {
    by_block: HashMap<(IpAddr, u8), Held>,
    unauthenticated: usize,
}

impl Counts {
    fn admit(&mut self, blocks: &[Block], limits: &AdmissionLimits) -> Result<(), Refusal> {
        for (key, shares) in blocks {
            let held = self.by_block.get(key).copied().unwrap_or_default();
            if held.total >= limits.per_address.saturating_mul(*shares)
                || held.unauthenticated >= limits.unauthenticated_per_address.saturating_mul(*shares)
            {
                return Err(Refusal::Address);
            }
        }
        if self.unauthenticated >= limits.unauthenticated {
            return Err(Refusal::Unauthenticated);
        }
        for (key, _) in blocks {
            let entry = self.by_block.entry(*key).or_default();
            entry.total += 1;
            entry.unauthenticated += 1;
        }
        self.unauthenticated += 1;
        Ok(())
    }

    /// A connection in `blocks` logged in (`true`) or out (`false`). Logged out, it is an anonymous connection again:
    /// `false` if that puts its address or the relay over a cap on anonymous connections (it is then closed).
    fn authenticated(&mut self, blocks: &[Block], authed: bool, limits: &AdmissionLimits) -> bool {
        let mut within = true;
        for (key, shares) in blocks {
            let Some(entry) = self.by_block.get_mut(key) else { continue };
            if authed {
                entry.unauthenticated = entry.unauthenticated.saturating_sub(1);
            } else {
                entry.unauthenticated += 1;
                within &= entry.unauthenticated <= limits.unauthenticated_per_address.saturating_mul(*shares);
            }
        }
        if authed {
            self.unauthenticated = self.unauthenticated.saturating_sub(1);
        } else {
            self.unauthenticated += 1;
            within &= self.unauthenticated <= limits.unauthenticated;
        }
        within
    }

    fn release(&mut self, blocks: &[Block], authed: bool) {
        if !authed {
            self.unauthenticated = self.unauthenticated.saturating_sub(1);
        }
        for (key, _) in blocks {
            if let Some(entry) = self.by_block.get_mut(key) {
                entry.total = entry.total.saturating_sub(1);
                if !authed {
                    entry.unauthenticated = entry.unauthenticated.saturating_sub(1);
                }
                if entry.total == 0 {
                    self.by_block.remove(key);
                }
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
        let blocks = blocks(ip);
        self.counts().admit(&blocks, &self.limits)?;
        Ok(Admitted { admission: Arc::clone(self), blocks, authed: false })
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
    blocks: Vec<Block>,
    authed: bool,
}

impl Admitted {
    /// The connection logged in or out. `false`: logged out, it is over a cap on anonymous connections, and must
    /// close (`too_many_connections`) — else logging in and out would pass the caps.
    pub fn set_authenticated(&mut self, authed: bool) -> bool {
        if self.authed == authed {
            return true;
        }
        self.authed = authed;
        let limits = self.admission.limits;
        self.admission.counts().authenticated(&self.blocks, authed, &limits)
    }

    pub fn authenticated(&self) -> bool {
        self.authed
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admission.counts().release(&self.blocks, self.authed);
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
        assert!(two.set_authenticated(false), "two anonymous connections are within the caps");
        drop(two);
        drop(one);
        assert_eq!(a.counts().unauthenticated, 1);
        let key = (ip("10.0.0.1"), 32);
        assert_eq!(a.counts().by_block.get(&key).copied(), Some(Held { total: 1, unauthenticated: 1 }));
    }

    #[test]
    fn anonymous_connections_relay_wide_are_capped_so_slots_stay_for_people_who_logged_in() {
        let a = Admission::new(limits());
        let held: Vec<Admitted> = (1..=4).map(|n| a.admit(ip(&format!("10.0.0.{n}"))).unwrap()).collect();
        assert_eq!(a.admit(ip("10.0.0.9")).unwrap_err(), Refusal::Unauthenticated);
        drop(held);
        assert!(a.counts().by_block.is_empty(), "nothing is kept for addresses that hold nothing");
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

    #[test]
    fn an_ipv6_slash_56_and_slash_48_hold_a_few_addresses_worth_not_thousands() {
        let limits = AdmissionLimits { per_address: 3, unauthenticated_per_address: 2, unauthenticated: 1000 };
        let a = Admission::new(limits);
        // Two anonymous connections from each /64 of one /56: four /64s' worth, then the /56 is full.
        let mut held = Vec::new();
        for n in 0..4 {
            for _ in 0..2 {
                held.push(a.admit(ip(&format!("2001:db8:1:{n}::1"))).unwrap());
            }
        }
        assert_eq!(a.admit(ip("2001:db8:1:ff::1")).unwrap_err(), Refusal::Address, "the /56 holds 4 × 2");
        // Other /56s of the same /48 fill it at 16 × 2.
        for n in 1..7u16 {
            for block in [n << 8, (n << 8) + 1] {
                for _ in 0..2 {
                    held.push(a.admit(ip(&format!("2001:db8:1:{block:x}::1"))).unwrap());
                }
            }
        }
        // 8 + 6 × 4 = 32 held in the /48.
        assert_eq!(a.admit(ip("2001:db8:1:ff00::1")).unwrap_err(), Refusal::Address, "the /48 holds 16 × 2");
        assert!(a.admit(ip("2001:db8:2::1")).is_ok(), "another /48 is not affected");
        drop(held);
        assert!(a.counts().by_block.is_empty());
    }

    #[test]
    fn logging_out_over_the_anonymous_caps_says_so() {
        let a = Admission::new(limits());
        let mut one = a.admit(ip("10.0.0.1")).unwrap();
        assert!(one.set_authenticated(true));
        let _two = a.admit(ip("10.0.0.1")).unwrap();
        let _three = a.admit(ip("10.0.0.1")).unwrap();
        assert!(!one.set_authenticated(false), "a third anonymous connection from one address is over the cap");
    }
}
