//! What one account may send, over all its connections and handles: messages per second, body bytes per second (token
//! buckets), and body bytes stored per day (a sliding 24 hours, counted by the hour). Per-connection frame limits
//! alone multiply with connections; these do not.
//!
//! Memory: one entry per account that sent in the last day (at most the number of accounts), 24 counters each;
//! entries with nothing left to remember are dropped by [`Budgets::prune`].

use std::collections::HashMap;

use huddle_shared::Millis;

const HOUR_MS: Millis = 3_600_000;
const DAY_HOURS: usize = 24;

/// The limits, from the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetLimits {
    pub messages_per_second: f64,
    pub message_burst: f64,
    pub bytes_per_second: f64,
    pub bytes_burst: f64,
    pub stored_bytes_per_day: u64,
}

/// Why a message was refused, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverBudget {
    /// Too many messages or bytes just now.
    Rate { retry_after_ms: u64 },
    /// The day's storage is used up.
    Quota { retry_after_ms: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Millis,
}

impl Bucket {
    fn full(burst: f64, now: Millis) -> Self {
        Self { tokens: burst, last: now }
    }

    /// Refills to `now`; how long until `cost` is available (0: now).
    fn wait(&mut self, cost: f64, rate: f64, burst: f64, now: Millis) -> u64 {
        #[allow(clippy::cast_precision_loss)] // milliseconds between two sends: far below 2^52
        let elapsed = (now - self.last).max(0) as f64 / 1000.0;
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        if self.tokens >= cost {
            0
        } else {
            // A hint in whole milliseconds, rounded up.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((cost - self.tokens) / rate * 1000.0).ceil() as u64;
            wait.max(1)
        }
    }
}

#[derive(Debug, Clone)]
struct Budget {
    messages: Bucket,
    bytes: Bucket,
    /// Bytes stored in each of the last 24 hours: (hour number, bytes), oldest first.
    stored: Vec<(i64, u64)>,
}

impl Budget {
    fn stored_in_day(&mut self, hour: i64) -> u64 {
        self.stored.retain(|(h, _)| hour - h < DAY_HOURS as i64);
        self.stored.iter().map(|(_, b)| b).sum()
    }
}

#[derive(Debug)]
pub struct Budgets {
    limits: BudgetLimits,
    accounts: HashMap<String, Budget>,
}

impl Budgets {
    pub fn new(limits: BudgetLimits) -> Self {
        Self { limits, accounts: HashMap::new() }
    }

    /// Whether `account` may send a message of `bytes` now; nothing is counted (see [`Self::spend`]).
    pub fn check(&mut self, account: &str, bytes: usize, now: Millis) -> Result<(), OverBudget> {
        self.evaluate(account, bytes, now, false)
    }

    /// Whether `account` may send a message of `bytes` now; if so, it is counted. Called once the message is sure to
    /// be stored (after [`Self::check`] and every other check): a message refused for another reason costs nothing.
    pub fn spend(&mut self, account: &str, bytes: usize, now: Millis) -> Result<(), OverBudget> {
        self.evaluate(account, bytes, now, true)
    }

    fn evaluate(&mut self, account: &str, bytes: usize, now: Millis, take: bool) -> Result<(), OverBudget> {
        let l = self.limits;
        // Looked up by reference first: a message from an account already known allocates nothing here.
        if !self.accounts.contains_key(account) {
            let fresh = Budget {
                messages: Bucket::full(l.message_burst, now),
                bytes: Bucket::full(l.bytes_burst, now),
                stored: Vec::new(),
            };
            self.accounts.insert(account.to_owned(), fresh);
        }
        let Some(budget) = self.accounts.get_mut(account) else { return Ok(()) };
        let hour = now.div_euclid(HOUR_MS);
        let size = u64::try_from(bytes).unwrap_or(u64::MAX);
        if budget.stored_in_day(hour).saturating_add(size) > l.stored_bytes_per_day {
            // Room comes back when the oldest hour leaves the day.
            let oldest = budget.stored.first().map_or(hour, |(h, _)| *h);
            let retry = (oldest + DAY_HOURS as i64) * HOUR_MS - now;
            return Err(OverBudget::Quota { retry_after_ms: u64::try_from(retry).unwrap_or(0).max(1) });
        }
        // A message larger than the whole burst costs the whole burst: it waits for a full bucket instead of for
        // ever (an issue's title, body and link together may pass the smallest burst the config allows).
        #[allow(clippy::cast_precision_loss)] // a body is at most a few KiB
        let cost = (bytes as f64).min(l.bytes_burst);
        let wait = budget.messages.wait(1.0, l.messages_per_second, l.message_burst, now).max(budget.bytes.wait(
            cost,
            l.bytes_per_second,
            l.bytes_burst,
            now,
        ));
        if wait > 0 {
            return Err(OverBudget::Rate { retry_after_ms: wait });
        }
        if !take {
            return Ok(());
        }
        budget.messages.tokens -= 1.0;
        budget.bytes.tokens -= cost;
        match budget.stored.last_mut() {
            Some((h, b)) if *h == hour => *b = b.saturating_add(size),
            _ => budget.stored.push((hour, size)),
        }
        Ok(())
    }

    /// Forgets accounts whose buckets are full again and that stored nothing in the last day.
    pub fn prune(&mut self, now: Millis) {
        let l = self.limits;
        let hour = now.div_euclid(HOUR_MS);
        self.accounts.retain(|_, b| {
            let idle_ms = (now - b.messages.last.max(b.bytes.last)).max(0);
            #[allow(clippy::cast_precision_loss)]
            let refilled = idle_ms as f64 / 1000.0;
            let messages_full = b.messages.tokens + refilled * l.messages_per_second >= l.message_burst;
            let bytes_full = b.bytes.tokens + refilled * l.bytes_per_second >= l.bytes_burst;
            !(messages_full && bytes_full && b.stored_in_day(hour) == 0)
        });
    }

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.accounts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BudgetLimits {
        BudgetLimits {
            messages_per_second: 2.0,
            message_burst: 3.0,
            bytes_per_second: 1000.0,
            bytes_burst: 2000.0,
            stored_bytes_per_day: 10_000,
        }
    }

    #[test]
    fn something_larger_than_the_byte_burst_waits_for_a_full_bucket_not_for_ever() {
        let mut b = Budgets::new(limits());
        let t = 1_700_000_000_000;
        assert!(b.check("acc", 3000, t).is_ok(), "a full bucket takes it");
        b.spend("acc", 3000, t).unwrap();
        assert_eq!(b.check("acc", 3000, t), Err(OverBudget::Rate { retry_after_ms: 2000 }));
        assert!(b.spend("acc", 3000, t + 2000).is_ok());
    }

    #[test]
    fn a_burst_then_the_rate_over_all_of_an_accounts_messages() {
        let mut b = Budgets::new(limits());
        let t = 1_700_000_000_000;
        for _ in 0..3 {
            b.spend("acc", 10, t).unwrap();
        }
        assert_eq!(b.spend("acc", 10, t), Err(OverBudget::Rate { retry_after_ms: 500 }));
        assert!(b.spend("other", 10, t).is_ok(), "another account has its own budget");
        assert!(b.spend("acc", 10, t + 500).is_ok());
    }

    #[test]
    fn bytes_are_limited_as_well_as_messages() {
        let mut b = Budgets::new(limits());
        let t = 1_700_000_000_000;
        b.spend("acc", 1500, t).unwrap();
        assert_eq!(b.spend("acc", 1000, t), Err(OverBudget::Rate { retry_after_ms: 500 }));
        assert!(b.spend("acc", 1000, t + 500).is_ok());
    }

    #[test]
    fn the_day_quota_comes_back_when_the_oldest_hour_leaves_the_day() {
        let mut b = Budgets::new(BudgetLimits { message_burst: 1000.0, bytes_burst: 1e9, ..limits() });
        let t = 1_700_000_000_000 / HOUR_MS * HOUR_MS; // the start of an hour
        for i in 0..10 {
            b.spend("acc", 1000, t + i).unwrap();
        }
        let refused = b.spend("acc", 1, t + 3 * HOUR_MS);
        assert_eq!(refused, Err(OverBudget::Quota { retry_after_ms: u64::try_from(21 * HOUR_MS).unwrap() }));
        assert!(b.spend("acc", 1000, t + 24 * HOUR_MS).is_ok());
    }

    #[test]
    fn idle_accounts_are_forgotten() {
        let mut b = Budgets::new(limits());
        let t = 1_700_000_000_000;
        b.spend("acc", 10, t).unwrap();
        b.prune(t + 10_000);
        assert_eq!(b.tracked(), 1, "it stored something today");
        b.prune(t + 25 * HOUR_MS);
        assert_eq!(b.tracked(), 0);
    }
}
