//! Counting what a relay does wrong, so that its mistakes cost a few log lines and not the disk: the first few
//! warnings of a kind are logged one line each, the rest are counted and summed up in one line at most every
//! [`SUMMARY_EVERY`]; and a relay that keeps sending what this client cannot use is, past a point, dropped as
//! misbehaving. Pure counting, no I/O: the worker decides what to log and when to disconnect. Time is passed in, so
//! the tests need no clock.

use std::time::{Duration, Instant};

/// How many warnings of one kind are logged one line each before they are only counted.
pub const LOGGED_EACH: u32 = 3;
/// The shortest time between two summary lines of one kind.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// What to log for one more occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// A line of its own.
    Each,
    /// One line for this occurrence and the `more - 1` before it that were not logged, over `over`.
    Summary { more: u64, over: Duration },
    /// Nothing now: it is counted for the next summary.
    Counted,
}

/// One kind of repeated warning.
#[derive(Debug, Clone)]
pub struct Repeated {
    logged: u32,
    /// Occurrences not logged yet, and when the first of them came.
    held: u64,
    held_since: Option<Instant>,
    /// When the last line (of either sort) was written.
    last_line: Option<Instant>,
}

impl Default for Repeated {
    fn default() -> Self {
        Self::new()
    }
}

impl Repeated {
    pub const fn new() -> Self {
        Self { logged: 0, held: 0, held_since: None, last_line: None }
    }

    /// One more occurrence at `now`: what to log for it.
    pub fn note(&mut self, now: Instant) -> Report {
        // After a quiet spell the next few get lines of their own again: a rare problem stays visible in full.
        if self.held == 0 && self.last_line.is_some_and(|at| now.saturating_duration_since(at) >= SUMMARY_EVERY) {
            self.logged = 0;
        }
        if self.logged < LOGGED_EACH {
            self.logged += 1;
            self.last_line = Some(now);
            return Report::Each;
        }
        let since = *self.held_since.get_or_insert(now);
        self.held += 1;
        if self.last_line.is_none_or(|at| now.saturating_duration_since(at) >= SUMMARY_EVERY) {
            return self.summary(now, since);
        }
        Report::Counted
    }

    /// The summary of what is counted and not logged yet, if anything (when the connection ends, say).
    pub fn flush(&mut self, now: Instant) -> Option<Report> {
        let since = self.held_since?;
        Some(self.summary(now, since))
    }

    fn summary(&mut self, now: Instant, since: Instant) -> Report {
        let more = std::mem::take(&mut self.held);
        self.held_since = None;
        self.last_line = Some(now);
        Report::Summary { more, over: now.saturating_duration_since(since) }
    }
}

/// How often something may happen in a window before it is too often: a fixed window, started by the first
/// occurrence.
#[derive(Debug, Clone)]
pub struct Burst {
    limit: u32,
    window: Duration,
    started: Option<Instant>,
    count: u32,
}

impl Burst {
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, started: None, count: 0 }
    }

    /// One more at `now`; true once more than `limit` came within the window.
    pub fn hit(&mut self, now: Instant) -> bool {
        match self.started {
            Some(at) if now.saturating_duration_since(at) < self.window => {}
            _ => {
                self.started = Some(now);
                self.count = 0;
            }
        }
        self.count = self.count.saturating_add(1);
        self.count > self.limit
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }
}

/// `n` with a comma every three digits: sizes and counts a person reads.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_few_get_a_line_each_then_a_summary_at_most_every_period() {
        let t0 = Instant::now();
        let mut r = Repeated::new();
        for _ in 0..LOGGED_EACH {
            assert_eq!(r.note(t0), Report::Each);
        }
        // 20,000 more within a second: all counted, none logged.
        for i in 0..20_000u64 {
            assert_eq!(r.note(t0 + Duration::from_micros(i * 50)), Report::Counted);
        }
        // The first one a period after the last line carries the count.
        let later = t0 + SUMMARY_EVERY;
        assert_eq!(r.note(later), Report::Summary { more: 20_001, over: SUMMARY_EVERY });
        assert_eq!(r.note(later + Duration::from_secs(1)), Report::Counted);
        assert_eq!(
            r.flush(later + Duration::from_secs(2)),
            Some(Report::Summary { more: 1, over: Duration::from_secs(1) })
        );
        assert_eq!(r.flush(later + Duration::from_secs(3)), None, "nothing left to sum up");
    }

    #[test]
    fn lines_per_hour_stay_bounded_however_fast_they_come() {
        let t0 = Instant::now();
        let mut r = Repeated::new();
        let mut lines = 0;
        // One per millisecond for an hour.
        for ms in 0..3_600_000u64 {
            if r.note(t0 + Duration::from_millis(ms)) != Report::Counted {
                lines += 1;
            }
        }
        assert!(lines <= LOGGED_EACH as usize + 60, "{lines} lines");
    }

    #[test]
    fn after_a_quiet_spell_the_next_ones_are_logged_in_full_again() {
        let t0 = Instant::now();
        let mut r = Repeated::new();
        for _ in 0..LOGGED_EACH {
            r.note(t0);
        }
        assert_eq!(r.note(t0), Report::Counted);
        assert!(matches!(r.note(t0 + SUMMARY_EVERY), Report::Summary { more: 2, .. }));
        let quiet = t0 + SUMMARY_EVERY * 3;
        assert_eq!(r.note(quiet), Report::Each);
    }

    #[test]
    fn a_burst_is_too_much_only_past_its_limit_within_its_window() {
        let t0 = Instant::now();
        let mut b = Burst::new(3, Duration::from_secs(10));
        assert!(!b.hit(t0));
        assert!(!b.hit(t0 + Duration::from_secs(1)));
        assert!(!b.hit(t0 + Duration::from_secs(2)));
        assert!(b.hit(t0 + Duration::from_secs(3)));
        // A new window starts fresh.
        let mut b = Burst::new(3, Duration::from_secs(10));
        for s in 0..100 {
            assert!(!b.hit(t0 + Duration::from_secs(s * 5)), "one every five seconds is fine");
        }
    }

    #[test]
    fn groups_digits() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(8_192), "8,192");
        assert_eq!(grouped(67_108_864), "67,108,864");
    }
}
