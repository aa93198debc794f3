//! Password guessing, limited without handing anyone a way to lock someone else out, or to learn anything.
//!
//! Failures count against a *key*: the handle as it was typed at login (`handle:ann`, whether or not it exists), or
//! the account for `change_password` (whose caller is logged in already). Keying by the handle typed, never by the
//! account behind it, means a limit reached on one handle says nothing about which other handles share its account.
//!
//! - **Per address and key**: the first `free_failures` failed logins from one address (an IPv6 /64 counts as one)
//!   for one key cost nothing; after that each try from that pair waits, the wait doubling from one second up to
//!   `max_delay_ms`. A guesser slows only itself.
//! - **Per key, from all addresses not known to it**: at most `per_key_per_minute` tries a minute, counting the
//!   failures of the last minute *and the tries still being checked* (so many logins at once cannot all pass before
//!   the first failure is counted); then such addresses wait. This bounds a guesser with many addresses; an account
//!   with the most handles (`MAX_HANDLES_PER_ACCOUNT`) can be guessed at that many times the rate.
//! - **Known addresses** are exempt from the per-key cap, so strangers cannot lock the owner out: an address becomes
//!   known to a handle when someone logs in to its account from it (password or token), registers it or adds it, or
//!   changes the account's password from it. Each key remembers its [`MAX_KNOWN_PER_KEY`] most recent addresses for
//!   [`KNOWN_FOR_MS`]. Token logins, which most clients use, are not limited here at all.
//!
//! Memory: at most [`MAX_PAIRS`] pairs and [`MAX_PAIRS`] keys with known addresses (pairs are forgotten a window
//! after their last failure, known addresses after [`KNOWN_FOR_MS`]); beyond that, new pairs are refused as if
//! delayed (fail closed) and new known addresses are not remembered. The known addresses live in memory: after a
//! restart the owner's addresses are known again from their next token login.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use huddle_shared::Millis;

use super::limiter::{Limiter, address_key};

/// Most (key, address) pairs with failures, and most keys with known addresses, kept at once.
pub const MAX_PAIRS: usize = 100_000;
/// Most addresses remembered as known per key (the most recent).
pub const MAX_KNOWN_PER_KEY: usize = 8;
/// How long an address stays known after its last login: 30 days.
pub const KNOWN_FOR_MS: Millis = 30 * 24 * 3_600_000;
/// How long to wait when the tries still being checked fill the per-key cap: about one password check.
const IN_FLIGHT_WAIT_MS: u64 = 1000;

#[derive(Debug, Clone, Copy)]
pub struct GuardLimits {
    pub free_failures: u32,
    pub max_delay_ms: Millis,
    pub per_key_per_minute: usize,
    /// How long a pair's failures are remembered after the last one.
    pub forget_after_ms: Millis,
}

/// The key failures of a login count against.
pub fn handle_key(handle: &str) -> String {
    format!("handle:{handle}")
}

/// The key failures of `change_password` count against.
pub fn account_key(account: &str) -> String {
    format!("account:{account}")
}

/// A try being checked: handed back to the guard with its outcome ([`LoginGuard::failed`],
/// [`LoginGuard::succeeded`], [`LoginGuard::abandoned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    key: String,
    ip: IpAddr,
    /// Counted among the tries in flight for the per-key cap (the address was not known).
    in_flight: bool,
}

#[derive(Debug, Clone, Copy)]
struct Pair {
    failures: u32,
    last: Millis,
    next_try: Millis,
}

#[derive(Debug)]
pub struct LoginGuard {
    limits: GuardLimits,
    pairs: HashMap<(String, IpAddr), Pair>,
    /// Per key, its known addresses and when each was last used, oldest first.
    known: HashMap<String, VecDeque<(IpAddr, Millis)>>,
    per_key: Limiter,
    in_flight: HashMap<String, usize>,
}

impl LoginGuard {
    pub fn new(limits: GuardLimits) -> Self {
        Self {
            limits,
            pairs: HashMap::new(),
            known: HashMap::new(),
            per_key: Limiter::new(60_000),
            in_flight: HashMap::new(),
        }
    }

    fn is_known(&self, key: &str, ip: IpAddr) -> bool {
        self.known.get(key).is_some_and(|addresses| addresses.iter().any(|(known, _)| *known == ip))
    }

    /// A try for `key` from `ip` may go ahead (`Ok`, to be handed back with its outcome), or must wait
    /// (`Err(retry_after_ms)`).
    pub fn begin(&mut self, key: &str, ip: IpAddr, now: Millis) -> Result<Attempt, u64> {
        let ip = address_key(ip);
        let pair_key = (key.to_owned(), ip);
        if let Some(pair) = self.pairs.get(&pair_key) {
            if pair.next_try > now {
                return Err(u64::try_from(pair.next_try - now).unwrap_or(0));
            }
        } else if self.pairs.len() >= MAX_PAIRS {
            self.prune(now);
            if self.pairs.len() >= MAX_PAIRS {
                return Err(1000);
            }
        }
        let known = self.is_known(key, ip);
        if !known {
            let cap = self.limits.per_key_per_minute;
            let in_flight = self.in_flight.get(key).copied().unwrap_or(0);
            if in_flight >= cap {
                return Err(IN_FLIGHT_WAIT_MS);
            }
            // The tries in flight take their places among the minute's failures.
            self.per_key.check(key, cap - in_flight, now)?;
            *self.in_flight.entry(key.to_owned()).or_insert(0) += 1;
        }
        Ok(Attempt { key: key.to_owned(), ip, in_flight: !known })
    }

    fn landed(&mut self, attempt: &Attempt) {
        if attempt.in_flight {
            if let Some(count) = self.in_flight.get_mut(&attempt.key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.in_flight.remove(&attempt.key);
                }
            }
        }
    }

    /// The try was wrong.
    pub fn failed(&mut self, attempt: &Attempt, now: Millis) {
        self.landed(attempt);
        let Attempt { key, ip, in_flight } = attempt;
        if *in_flight {
            self.per_key.record(key, self.limits.per_key_per_minute, now);
        }
        let pair_key = (key.clone(), *ip);
        if !self.pairs.contains_key(&pair_key) && self.pairs.len() >= MAX_PAIRS {
            return;
        }
        let l = self.limits;
        let pair = self.pairs.entry(pair_key).or_insert(Pair { failures: 0, last: now, next_try: now });
        pair.failures = pair.failures.saturating_add(1);
        pair.last = now;
        if pair.failures >= l.free_failures {
            let doublings = (pair.failures - l.free_failures).min(30);
            let delay = 1000i64.saturating_mul(1 << doublings).min(l.max_delay_ms);
            pair.next_try = now.saturating_add(delay);
        }
    }

    /// The try was right: its pair is cleared, and its address becomes known to its key and to `also` (the keys of
    /// the account's other handles).
    pub fn succeeded(&mut self, attempt: &Attempt, also: &[String], now: Millis) {
        self.landed(attempt);
        self.pairs.remove(&(attempt.key.clone(), attempt.ip));
        self.know(&attempt.key, attempt.ip, now);
        for key in also {
            self.know(key, attempt.ip, now);
        }
    }

    /// The try ended without an answer (the connection went, the check failed): it no longer counts.
    pub fn abandoned(&mut self, attempt: &Attempt) {
        self.landed(attempt);
    }

    /// `ip` is its owner's for `key` (a login by token, registering, adding a handle).
    pub fn know(&mut self, key: &str, ip: IpAddr, now: Millis) {
        let ip = address_key(ip);
        if !self.known.contains_key(key) && self.known.len() >= MAX_PAIRS {
            return;
        }
        let addresses = self.known.entry(key.to_owned()).or_default();
        addresses.retain(|(known, _)| *known != ip);
        addresses.push_back((ip, now));
        while addresses.len() > MAX_KNOWN_PER_KEY {
            addresses.pop_front();
        }
    }

    pub fn prune(&mut self, now: Millis) {
        let l = self.limits;
        self.pairs.retain(|_, p| p.next_try > now || p.last + l.forget_after_ms > now);
        self.per_key.prune(now);
        self.known.retain(|_, addresses| {
            addresses.retain(|(_, at)| at.saturating_add(KNOWN_FOR_MS) > now);
            !addresses.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn guard() -> LoginGuard {
        LoginGuard::new(GuardLimits {
            free_failures: 3,
            max_delay_ms: 300_000,
            per_key_per_minute: 10,
            forget_after_ms: 900_000,
        })
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    fn fail(g: &mut LoginGuard, key: &str, n: u8, t: Millis) {
        let attempt = g.begin(key, ip(n), t).unwrap();
        g.failed(&attempt, t);
    }

    #[test]
    fn a_guesser_waits_longer_and_longer_but_only_it() {
        let mut g = guard();
        let t = 1_000_000;
        for _ in 0..3 {
            fail(&mut g, "handle:ann", 1, t);
        }
        assert_eq!(g.begin("handle:ann", ip(1), t).unwrap_err(), 1000, "the third failure costs a second");
        fail(&mut g, "handle:ann", 1, t + 1000);
        assert_eq!(g.begin("handle:ann", ip(1), t + 1000).unwrap_err(), 2000, "then two");
        assert!(g.begin("handle:ann", ip(2), t + 1000).is_ok(), "another address is not held back");
        let pair = ("handle:ann".to_owned(), ip(1));
        for n in 0..40 {
            g.pairs.get_mut(&pair).unwrap().next_try = 0;
            fail(&mut g, "handle:ann", 1, t + 60_000 * (n + 1));
        }
        let last = t + 60_000 * 40;
        assert_eq!(g.begin("handle:ann", ip(1), last).unwrap_err(), 300_000, "the wait stops doubling at the maximum");
    }

    #[test]
    fn many_addresses_get_ten_tries_a_minute_but_the_owner_still_gets_in() {
        let mut g = guard();
        let t = 1_000_000;
        let owner = g.begin("handle:ann", ip(200), 0).unwrap();
        g.succeeded(&owner, &[], 0);
        for n in 0..10 {
            fail(&mut g, "handle:ann", n, t);
        }
        assert!(g.begin("handle:ann", ip(50), t).is_err(), "an eleventh address waits for the minute");
        assert!(g.begin("handle:ann", ip(200), t).is_ok(), "the owner's known address is not locked out");
        assert!(g.begin("handle:ann", ip(50), t + 60_000).is_ok());
    }

    #[test]
    fn tries_still_being_checked_count_against_the_cap() {
        let mut g = guard();
        let t = 1_000_000;
        // Twenty addresses try at once, before any answer is known: ten go ahead.
        let attempts: Vec<Result<Attempt, u64>> = (0..20).map(|n| g.begin("handle:ann", ip(n), t)).collect();
        assert_eq!(attempts.iter().filter(|a| a.is_ok()).count(), 10);
        // Their failures fill the minute; a try abandoned gives its place back.
        let mut ok = attempts.into_iter().flatten();
        let first = ok.next().unwrap();
        g.abandoned(&first);
        assert!(g.begin("handle:ann", ip(100), t).is_ok());
        for attempt in ok {
            g.failed(&attempt, t);
        }
        assert_eq!(g.in_flight.get("handle:ann"), Some(&1), "the one begun after the abandoned try");
    }

    #[test]
    fn a_limit_on_one_handle_says_nothing_of_the_others_and_a_login_makes_the_address_known_to_all() {
        let mut g = guard();
        let t = 1_000_000;
        for n in 0..10 {
            fail(&mut g, "handle:ann", n, t);
        }
        assert!(g.begin("handle:ann", ip(60), t).is_err());
        assert!(g.begin("handle:ann-work", ip(60), t).is_ok(), "another handle of the same account is not limited");
        // The owner logs in as ann-work from a new address: it becomes known to ann as well.
        let login = g.begin("handle:ann-work", ip(70), t).unwrap();
        g.succeeded(&login, &["handle:ann".to_owned()], t);
        assert!(g.begin("handle:ann", ip(70), t).is_ok());
    }

    #[test]
    fn known_addresses_are_bounded_per_key_and_forgotten_after_a_while() {
        let mut g = guard();
        for n in 0..20 {
            g.know("handle:ann", ip(n), Millis::from(n));
        }
        let known = &g.known["handle:ann"];
        assert_eq!(known.len(), MAX_KNOWN_PER_KEY);
        assert!(!g.is_known("handle:ann", ip(0)), "the oldest went first");
        assert!(g.is_known("handle:ann", ip(19)));
        g.prune(19 + KNOWN_FOR_MS);
        assert!(g.known.is_empty());
    }

    #[test]
    fn success_clears_the_pair_and_old_failures_are_forgotten() {
        let mut g = guard();
        let t = 1_000_000;
        for _ in 0..3 {
            fail(&mut g, "handle:ann", 1, t);
        }
        let pair = ("handle:ann".to_owned(), ip(1));
        g.pairs.get_mut(&pair).unwrap().next_try = 0;
        let attempt = g.begin("handle:ann", ip(1), t).unwrap();
        g.succeeded(&attempt, &[], t);
        assert!(g.begin("handle:ann", ip(1), t).is_ok());
        fail(&mut g, "handle:other", 1, t);
        g.prune(t + 900_001);
        assert!(g.pairs.is_empty());
    }
}
