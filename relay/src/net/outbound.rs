//! What the core sends a connection, and the byte count that bounds it: every connection's outbound queue is bounded
//! in frames (the channel's capacity, `limits.outbound_queue`) and in bytes, and all connections together in bytes
//! (`limits.outbound_total_bytes`).
//!
//! **Per connection**, what waits in its queue may not pass its bound, or the connection is closed as a slow reader —
//! unless the queue is empty: one frame, however large, always fits, so a reader that keeps up is never closed for
//! the size of one answer. The bound depends on whether it keeps up. A connection whose socket has taken nothing for
//! more than [`STUCK_AFTER_MS`] while a write waits is stuck, and may hold `limits.outbound_queue_bytes`; one whose
//! socket keeps taking bytes — however slowly — may hold [`BURST_FACTOR`] times that (logging in queues a session, a
//! friend list, rooms and settings per handle at once, which can pass a megabyte for someone with four handles in
//! many large rooms). Progress is what the socket takes, not how long a write lasts: a slow link that reads is not a
//! stuck one.
//!
//! **In all**, the bytes waiting in queues *and* the bytes being written (handed to the WebSocket, at most
//! `connection::COALESCED_BYTES` or one larger frame per connection) are counted against the total. When a frame
//! would pass it, the connections holding the most are closed as slow readers until it fits — a prompt reader holds
//! little, so whoever fills the pool is the one closed, never a bystander. What they held when they were closed is
//! left out of the total until they are gone (an estimate: they give their bytes back as they go, so for those
//! moments the total may be passed by what they gave back already). Bytes handed to the WebSocket leave the count
//! when the write is done or abandoned; an abandoned write's bytes stay in the WebSocket's buffer until its goodbye
//! is over (at most 30 s).
//!
//! The core thread counts a frame in before it queues it ([`OutboundBytes::reserve`]); the connection task moves it
//! to "being written" when it takes it off the queue ([`OutboundBytes::take`]), and out when the write is over
//! ([`OutboundBytes::written`]); whatever is still counted when the count is dropped leaves the total then.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

use huddle_shared::{ErrorCode, Millis};

/// A socket that has taken nothing for this long while a write waits means the peer is not reading. Long enough
/// for a link that pauses without being gone (TCP retransmissions back off from a second; a phone busy reading a
/// large frame), short enough that a reader that stopped holds its larger allowance only for moments.
pub const STUCK_AFTER_MS: Millis = 5000;
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

/// What [`OutboundBytes::reserve`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// Counted in.
    Fits,
    /// Over the connection's own bound: it is a slow reader. Nothing was counted.
    OverOwn,
    /// Within its own bound but over the total by `over` bytes. Nothing was counted: the caller makes room (closing
    /// the connections that hold the most) and then [`OutboundBytes::force`]s it in.
    OverTotal { over: usize },
}

/// One connection's queued bytes, and (shared by all) everyone's.
#[derive(Debug)]
pub struct OutboundBytes {
    /// In the queue.
    queued: AtomicUsize,
    /// Taken off the queue and handed to the WebSocket, not yet written.
    writing: AtomicUsize,
    all: Arc<AtomicUsize>,
    /// Since when a write has waited with the socket taking nothing (0: no write waiting), in the relay's
    /// milliseconds.
    waiting_since: AtomicI64,
    /// The core has logged the connection in: set by the core thread when it says so, before the connection task
    /// reads the news from its queue, so the login deadline never ends a connection whose login is already done.
    logged_in: AtomicBool,
}

impl OutboundBytes {
    pub fn new(all: Arc<AtomicUsize>) -> Self {
        Self {
            queued: AtomicUsize::new(0),
            writing: AtomicUsize::new(0),
            all,
            waiting_since: AtomicI64::new(0),
            logged_in: AtomicBool::new(false),
        }
    }

    /// Counts `len` more bytes in, if they fit the bounds (or the queue is empty). Only the core thread reserves, so
    /// the check and the add cannot interleave with another reserve. `closing`: bytes that connections already told
    /// to close still hold, left out of the total (they are on their way out).
    pub fn reserve(&self, len: usize, bounds: ByteBounds, now: Millis, closing: usize) -> Reserve {
        // A control item (close, logged in or out) carries no bytes and always goes in: it must never turn a
        // `session_revoked` into a `slow_consumer`.
        if len == 0 {
            return Reserve::Fits;
        }
        let mine = self.queued.load(Ordering::Acquire);
        let own =
            if self.stuck(now) { bounds.per_connection } else { bounds.per_connection.saturating_mul(BURST_FACTOR) };
        if mine > 0 && mine.saturating_add(len) > own {
            return Reserve::OverOwn;
        }
        let all = self.all.load(Ordering::Acquire).saturating_sub(closing).saturating_add(len);
        if all > bounds.total {
            return Reserve::OverTotal { over: all - bounds.total };
        }
        self.force(len);
        Reserve::Fits
    }

    /// Counts `len` bytes in whatever the bounds say.
    pub fn force(&self, len: usize) {
        self.queued.fetch_add(len, Ordering::AcqRel);
        self.all.fetch_add(len, Ordering::AcqRel);
    }

    /// A frame of `len` bytes left the queue without being written (the connection ended).
    pub fn release(&self, len: usize) {
        if len > 0 {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            self.all.fetch_sub(len, Ordering::AcqRel);
        }
    }

    /// A frame of `len` bytes left the queue for the WebSocket: it still counts in the total until [`Self::written`].
    pub fn take(&self, len: usize) {
        if len > 0 {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            self.writing.fetch_add(len, Ordering::AcqRel);
        }
    }

    /// `len` bytes handed to the WebSocket are written (or the write failed): they leave the total.
    pub fn written(&self, len: usize) {
        if len > 0 {
            self.writing.fetch_sub(len, Ordering::AcqRel);
            self.all.fetch_sub(len, Ordering::AcqRel);
        }
    }

    /// What waits in the queue.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// What this connection holds: its queue and the write in progress.
    pub fn held(&self) -> usize {
        self.queued().saturating_add(self.writing.load(Ordering::Acquire))
    }

    /// The connection task starts (`Some(now)`) or ends (`None`) a write to the socket.
    pub fn waiting(&self, since: Option<Millis>) {
        self.waiting_since.store(since.unwrap_or(0).max(0), Ordering::Release);
    }

    /// The socket took bytes at `now`: a write in progress is not stuck.
    pub fn progress(&self, now: Millis) {
        // Only the connection task writes, and it sets and clears `waiting_since` around its writes: no other
        // writer can interleave between this load and store.
        if self.waiting_since.load(Ordering::Acquire) != 0 {
            self.waiting_since.store(now.max(1), Ordering::Release);
        }
    }

    /// How long a write has waited with the socket taking nothing (zero: no write waiting).
    pub fn stalled_for(&self, now: Millis) -> Millis {
        let since = self.waiting_since.load(Ordering::Acquire);
        if since == 0 { 0 } else { (now - since).max(0) }
    }

    /// Whether a write has waited with the socket taking nothing for more than [`STUCK_AFTER_MS`].
    pub fn stuck(&self, now: Millis) -> bool {
        self.stalled_for(now) > STUCK_AFTER_MS
    }

    pub fn set_logged_in(&self, logged_in: bool) {
        self.logged_in.store(logged_in, Ordering::Release);
    }

    pub fn logged_in(&self) -> bool {
        self.logged_in.load(Ordering::Acquire)
    }
}

impl Drop for OutboundBytes {
    /// Whatever is still counted (a task that ended without draining its queue) leaves the total.
    fn drop(&mut self) {
        let left = self.held();
        if left > 0 {
            self.all.fetch_sub(left, Ordering::AcqRel);
        }
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
        assert_eq!(a.reserve(900, bounds, t, 0), Reserve::Fits, "one frame into an empty queue always fits");
        assert_eq!(a.reserve(1, bounds, t, 0), Reserve::OverOwn, "but nothing after it");
        a.release(900);
        // Writing freely, a connection may hold eight times its bound for a moment.
        assert_eq!(a.reserve(400, bounds, t, 0), Reserve::Fits);
        assert_eq!(a.reserve(400, bounds, t, 0), Reserve::Fits);
        assert_eq!(a.reserve(1, bounds, t, 0), Reserve::OverOwn, "800 bytes for a connection that keeps up");
        a.release(800);
        // Its socket taking nothing for over five seconds, it may hold its bound only.
        a.waiting(Some(t));
        let later = t + STUCK_AFTER_MS + 1;
        assert_eq!(a.reserve(60, bounds, later, 0), Reserve::Fits);
        assert_eq!(a.reserve(40, bounds, later, 0), Reserve::Fits);
        assert_eq!(a.reserve(1, bounds, later, 0), Reserve::OverOwn, "100 bytes for a stuck connection");
        a.waiting(None);
        let c = OutboundBytes::new(Arc::clone(&all));
        assert_eq!(b.reserve(500, bounds, t, 0), Reserve::Fits);
        assert_eq!(b.reserve(300, bounds, t, 0), Reserve::Fits);
        assert_eq!(c.reserve(50, bounds, t, 0), Reserve::Fits);
        assert_eq!(c.reserve(60, bounds, t, 0), Reserve::OverTotal { over: 10 }, "1000 bytes in all");
        assert_eq!(c.reserve(60, bounds, t, 800), Reserve::Fits, "unless the connections closing make room");
        a.release(100);
        b.release(800);
        c.release(110);
        assert_eq!(all.load(Ordering::Acquire), 0);
        assert_eq!(a.queued(), 0);
    }

    #[test]
    fn bytes_being_written_count_in_all_until_written_and_a_dropped_count_gives_back_what_it_held() {
        let all = Arc::new(AtomicUsize::new(0));
        let bounds = ByteBounds { per_connection: 100, total: 1000 };
        let a = OutboundBytes::new(Arc::clone(&all));
        assert_eq!(a.reserve(700, bounds, 1, 0), Reserve::Fits);
        a.take(700);
        assert_eq!((a.queued(), a.held(), all.load(Ordering::Acquire)), (0, 700, 700));
        // The queue is empty, so one more frame fits the connection, but not the total while the write goes on.
        assert_eq!(a.reserve(400, bounds, 1, 0), Reserve::OverTotal { over: 100 });
        a.written(700);
        assert_eq!(a.reserve(400, bounds, 1, 0), Reserve::Fits);
        a.take(100);
        drop(a);
        assert_eq!(all.load(Ordering::Acquire), 0, "what the connection held left the total with it");
    }

    #[test]
    fn a_socket_that_keeps_taking_bytes_is_not_stuck_however_long_the_write() {
        let a = OutboundBytes::new(Arc::new(AtomicUsize::new(0)));
        let t = 1_000_000;
        a.waiting(Some(t));
        assert!(!a.stuck(t + 4900));
        a.progress(t + 4900);
        a.progress(t + 9800);
        assert!(!a.stuck(t + 14_000), "it took bytes 4.2 s ago");
        assert!(a.stuck(t + 14_900));
        assert_eq!(a.stalled_for(t + 14_900), 5100);
        a.waiting(None);
        a.progress(t + 15_000);
        assert!(!a.stuck(t + 99_000), "no write waiting, nothing stuck");
    }
}
