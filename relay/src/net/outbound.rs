//! What the core sends a connection, and the byte count that bounds it: every connection's outbound queue is bounded
//! in frames (the channel's capacity, `limits.outbound_queue`) and in bytes (`limits.outbound_queue_bytes`), and all
//! queues together in bytes (`limits.outbound_total_bytes`). A frame that would go over either byte bound closes its
//! connection as a slow reader, unless the connection's queue is empty: one frame, however large, always fits, so a
//! reader that keeps up is never closed for the size of one answer.
//!
//! The core thread counts a frame in before it queues it ([`OutboundBytes::reserve`]); the connection task counts it
//! out when it takes it off the queue ([`OutboundBytes::release`]), and, when it ends, for every frame still queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use huddle_shared::ErrorCode;

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
}

impl OutboundBytes {
    pub fn new(all: Arc<AtomicUsize>) -> Self {
        Self { mine: AtomicUsize::new(0), all }
    }

    /// Counts `len` more bytes in, if they fit the bounds (or the queue is empty); `false`: the connection is a slow
    /// reader. Only the core thread reserves, so the check and the add cannot interleave with another reserve.
    pub fn reserve(&self, len: usize, bounds: ByteBounds) -> bool {
        let mine = self.mine.load(Ordering::Acquire);
        let all = self.all.load(Ordering::Acquire);
        let fits = mine.saturating_add(len) <= bounds.per_connection && all.saturating_add(len) <= bounds.total;
        if mine > 0 && !fits {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_bytes_per_connection_and_in_all_but_always_takes_one_frame() {
        let all = Arc::new(AtomicUsize::new(0));
        let bounds = ByteBounds { per_connection: 100, total: 150 };
        let a = OutboundBytes::new(Arc::clone(&all));
        let b = OutboundBytes::new(Arc::clone(&all));
        assert!(a.reserve(500, bounds), "one frame into an empty queue always fits");
        assert!(!a.reserve(1, bounds), "but nothing after it");
        a.release(500);
        assert!(a.reserve(60, bounds) && a.reserve(40, bounds));
        assert!(!a.reserve(1, bounds), "100 bytes for one connection");
        assert!(b.reserve(40, bounds));
        assert!(!b.reserve(20, bounds), "150 bytes in all");
        a.release(100);
        b.release(40);
        assert_eq!(all.load(Ordering::Acquire), 0);
        assert_eq!(a.queued(), 0);
    }
}
