//! A token bucket for the per-connection frame rate limit.

use std::time::Instant;

#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(per_second: u32, burst: u32, now: Instant) -> Self {
        Self { rate: f64::from(per_second), burst: f64::from(burst), tokens: f64::from(burst), last: now }
    }

    /// Takes one token; `Err(ms)` says how long until one is available.
    pub fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            // Truncation is fine: this is a hint in milliseconds.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((1.0 - self.tokens) / self.rate * 1000.0).ceil() as u64;
            Err(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_bursts_then_the_rate() {
        let start = Instant::now();
        let mut b = TokenBucket::new(10, 3, start);
        assert!((0..3).all(|_| b.take(start).is_ok()));
        assert_eq!(b.take(start), Err(100));
        assert!(b.take(start + Duration::from_millis(100)).is_ok());
        assert!(b.take(start + Duration::from_millis(100)).is_err());
    }
}
