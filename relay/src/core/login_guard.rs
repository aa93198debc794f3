//! Password guessing, limited without handing anyone a way to lock someone else out.
//!
//! - **Per address and account**: the first `free_failures` failed logins from one address for one account cost
//!   nothing; after that each try from that pair waits, the wait doubling from one second up to `max_delay_ms`. A
//!   guesser slows only itself.
//! - **Per account, from all addresses that never logged in to it**: at most `per_account_per_minute` failures a
//!   minute, then such addresses wait for the minute to pass. This bounds a guesser with many addresses. An address
//!   that logged in to the account before (its owner's) is not held back by it, so strangers cannot lock the owner
//!   out; neither are token logins, which most clients use.
//! - A successful login clears its pair and makes the address known to the account.
//!
//! Memory: at most [`MAX_PAIRS`] pairs and known addresses each (pairs are forgotten a window after their last
//! failure); beyond that, new pairs are refused as if delayed (fail closed).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use huddle_shared::Millis;

use super::limiter::Limiter;

/// Most (account, address) pairs with failures, and most known pairs, kept at once.
pub const MAX_PAIRS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub struct GuardLimits {
    pub free_failures: u32,
    pub max_delay_ms: Millis,
    pub per_account_per_minute: usize,
    /// How long a pair's failures are remembered after the last one.
    pub forget_after_ms: Millis,
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
    known: HashSet<(String, IpAddr)>,
    per_account: Limiter,
}

impl LoginGuard {
    pub fn new(limits: GuardLimits) -> Self {
        Self { limits, pairs: HashMap::new(), known: HashSet::new(), per_account: Limiter::new(60_000) }
    }

    /// `Err(retry_after_ms)` if a login for `account` from `ip` must wait.
    pub fn check(&mut self, account: &str, ip: IpAddr, now: Millis) -> Result<(), u64> {
        let key = (account.to_owned(), ip);
        if let Some(pair) = self.pairs.get(&key) {
            if pair.next_try > now {
                return Err(u64::try_from(pair.next_try - now).unwrap_or(0));
            }
        } else if self.pairs.len() >= MAX_PAIRS {
            self.prune(now);
            if self.pairs.len() >= MAX_PAIRS {
                return Err(1000);
            }
        }
        if !self.known.contains(&key) {
            self.per_account.check(account, self.limits.per_account_per_minute, now)?;
        }
        Ok(())
    }

    pub fn failed(&mut self, account: &str, ip: IpAddr, now: Millis) {
        let key = (account.to_owned(), ip);
        if !self.known.contains(&key) {
            self.per_account.record(account, self.limits.per_account_per_minute, now);
        }
        if !self.pairs.contains_key(&key) && self.pairs.len() >= MAX_PAIRS {
            return;
        }
        let l = self.limits;
        let pair = self.pairs.entry(key).or_insert(Pair { failures: 0, last: now, next_try: now });
        pair.failures = pair.failures.saturating_add(1);
        pair.last = now;
        if pair.failures >= l.free_failures {
            let doublings = (pair.failures - l.free_failures).min(30);
            let delay = 1000i64.saturating_mul(1 << doublings).min(l.max_delay_ms);
            pair.next_try = now.saturating_add(delay);
        }
    }

    pub fn succeeded(&mut self, account: &str, ip: IpAddr) {
        let key = (account.to_owned(), ip);
        self.pairs.remove(&key);
        if self.known.len() < MAX_PAIRS {
            self.known.insert(key);
        }
    }

    pub fn prune(&mut self, now: Millis) {
        let l = self.limits;
        self.pairs.retain(|_, p| p.next_try > now || p.last + l.forget_after_ms > now);
        self.per_account.prune(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> LoginGuard {
        LoginGuard::new(GuardLimits {
            free_failures: 3,
            max_delay_ms: 300_000,
            per_account_per_minute: 10,
            forget_after_ms: 900_000,
        })
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn a_guesser_waits_longer_and_longer_but_only_it() {
        let mut g = guard();
        let t = 1_000_000;
        for _ in 0..2 {
            g.check("acc", ip(1), t).unwrap();
            g.failed("acc", ip(1), t);
        }
        g.check("acc", ip(1), t).unwrap();
        g.failed("acc", ip(1), t);
        assert_eq!(g.check("acc", ip(1), t), Err(1000), "the third failure costs a second");
        g.failed("acc", ip(1), t + 1000);
        assert_eq!(g.check("acc", ip(1), t + 1000), Err(2000), "then two");
        assert!(g.check("acc", ip(2), t + 1000).is_ok(), "another address is not held back");
        for n in 0..40 {
            g.failed("acc", ip(1), t + n);
        }
        assert_eq!(g.check("acc", ip(1), t + 39), Err(300_000), "the wait stops doubling at the maximum");
    }

    #[test]
    fn many_addresses_get_ten_tries_a_minute_but_the_owner_still_gets_in() {
        let mut g = guard();
        let t = 1_000_000;
        g.succeeded("acc", ip(200)); // the owner logged in from here before
        for n in 0..10 {
            g.check("acc", ip(n), t).unwrap();
            g.failed("acc", ip(n), t);
        }
        assert!(g.check("acc", ip(50), t).is_err(), "an eleventh address waits for the minute");
        assert!(g.check("acc", ip(200), t).is_ok(), "the owner's known address is not locked out");
        assert!(g.check("acc", ip(50), t + 60_000).is_ok());
    }

    #[test]
    fn success_clears_the_pair_and_old_failures_are_forgotten() {
        let mut g = guard();
        let t = 1_000_000;
        for _ in 0..3 {
            g.failed("acc", ip(1), t);
        }
        g.succeeded("acc", ip(1));
        assert!(g.check("acc", ip(1), t).is_ok());
        g.failed("other", ip(1), t);
        g.prune(t + 900_001);
        assert!(g.pairs.is_empty());
    }
}
