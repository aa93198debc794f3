//! What the core sends a connection, and the byte count that bounds it: every connection's outbound queue is bounded
//! in frames (the channel's capacity, `limits.outbound_queue`) and in bytes, and all queues together in bytes
//! (`limits.outbound_total_bytes`). A frame that would go over a bound closes its connection as a slow reader, unless
//! the connection's queue is empty: one frame, however large, always fits, so a reader that keeps up is never closed
//! for the size of one answer.
//!
//! The bound per connection depends on whether it keeps up. A connection whose last write has waited on its socket for
//! more than [`STUCK_AFTER_MS`] is stuck, and may hold `limits.outbound_queue_bytes`; one that is writing freely may
//! hold [`BURST_FACTOR`] times that for a moment — logging in queues a session, a friend list, rooms and settings per
//! handle at once, which can pass a megabyte for someone with four handles in many large rooms.
//!
//! The core thread counts a frame in before it queues it ([`OutboundBytes::reserve`]); the connection task counts it
//! out when it takes it off the queue ([`OutboundBytes::release`]), and, when it ends, for every frame still queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use huddle_shared::{ErrorCode, Millis};

/// A write waiting on the socket longer than this means the peer is not reading.
pub const STUCK_AFTER_MS: Millis = 1000;
/// How much more than `outbound_queue_bytes` a connection that keeps up may hold for a moment.
pub const BURST_FACTOR: usize = 8;

/// What a connection task receives from the core.
#[derive(Debug)]
pub enum Out {
    Frame(String),
    /// Send `bye` with this code and close.
    Close(ErrorCode),
    /// The connection logged in (`true`) or out (`false`): it moves between the admission counts, and the login
    /// deadline stops (or starts again).
    Authenticated(bool),
}

impl Out {
    /// Bytes this item counts for in the queue.
    pub fn bytes(&self) -> usize {
        match self {
            Out::Frame(text) => text.len(),
            Out::Close(_) | Out::Authenticated(_) => 0,
        }
    }
}

/// The byte bounds, from the config.
#[derive(Debug, Clone, Copy)]
pub struct ByteBounds {
    pub per_connection: usize,
    pub total: usize,
}

/// One connection's queued bytes, and (shared by all) everyone's.
#[derive(Debug)]
pub struct OutboundBytes {
    mine: AtomicUsize,
    all: Arc<AtomicUsize>,
    /// When the write in progress started (0: none), in the relay's milliseconds.
    writing_since: AtomicI64,
}

impl OutboundBytes {
    pub fn new(all: Arc<AtomicUsize>) -> Self {
        Self { mine: AtomicUsize::new(0), all, writing_since: AtomicI64::new(0) }
    }

    /// Counts `len` more bytes in, if they fit the bounds (or the queue is empty); `false`: the connection is a slow
    /// reader. Only the core thread reserves, so the check and the add cannot interleave with another reserve.
    pub fn reserve(&self, len: usize, bounds: ByteBounds, now: Millis) -> bool {
        let mine = self.mine.load(Ordering::Acquire);
        let all = self.all.load(Ordering::Acquire);
        let since = self.writing_since.load(Ordering::Acquire);
        let stuck = since != 0 && now - since > STUCK_AFTER_MS;
        let own = if stuck { bounds.per_connection } else { bounds.per_connection.saturating_mul(BURST_FACTOR) };
        let fits = mine.saturating_add(len) <= own && all.saturating_add(len) <= bounds.total;
        // A control item (close, logged in or out) carries no bytes and always goes in: it must never turn a
        // `session_revoked` into a `slow_consumer`.
        if len > 0 && mine > 0 && !fits {
            return false;
        }
        self.mine.fetch_add(len, Ordering::AcqRel);
        self.all.fetch_add(len, Ordering::AcqRel);
        true
    }

    pub fn release(&self, len: usize) {
        if len > 0 {
            self.mine.fetch_sub(len, Ordering::AcqRel);
            self.all.fetch_sub(len, Ordering::AcqRel);
        }
    }

    pub fn queued(&self) -> usize {
        self.mine.load(Ordering::Acquire)
    }

    /// The connection task starts (`Some(now)`) or ends (`None`) a write to the socket.
    pub fn writing(&self, since: Option<Millis>) {
        self.writing_since.store(since.unwrap_or(0).max(0), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_bytes_per_connection_and_in_all_but_always_takes_one_frame() {
        let all = Arc::new(AtomicUsize::new(0));
        let bounds = ByteBounds { per_connection: 100, total: 1000 };
        let t = 1_000_000;
        let a = OutboundBytes::new(Arc::clone(&all));
        let b = OutboundBytes::new(Arc::clone(&all));
        assert!(a.reserve(5000, bounds, t), "one frame into an empty queue always fits");
        assert!(!a.reserve(1, bounds, t), "but nothing after it");
        a.release(5000);
        // Writing freely, a connection may hold eight times its bound for a moment.
        assert!(a.reserve(400, bounds, t) && a.reserve(400, bounds, t));
        assert!(!a.reserve(1, bounds, t), "800 bytes for a connection that keeps up");
        a.release(800);
        // Stuck on its socket for over a second, it may hold its bound only.
        a.writing(Some(t));
        assert!(a.reserve(60, bounds, t + 2000) && a.reserve(40, bounds, t + 2000));
        assert!(!a.reserve(1, bounds, t + 2000), "100 bytes for a stuck connection");
        a.writing(None);
        let c = OutboundBytes::new(Arc::clone(&all));
        assert!(b.reserve(500, bounds, t) && b.reserve(300, bounds, t));
        assert!(c.reserve(50, bounds, t));
        assert!(!c.reserve(60, bounds, t), "1000 bytes in all");
        a.release(100);
        b.release(800);
        c.release(50);
        assert_eq!(all.load(Ordering::Acquire), 0);
        assert_eq!(a.queued(), 0);
    }
}
