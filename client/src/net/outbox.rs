//! The person's messages waiting to be sent, and the rule that keeps them in the order they were typed: only the
//! front message is ever on its way, and the next goes once the relay has answered it. A message the relay refuses
//! for now (rate limited, busy, an internal error) stays at the front and goes again after the pause the relay
//! asked for, before anything typed after it. Pure data, no I/O: the worker asks [`Outbox::next`] what to send and
//! reports the answers; the pause is a deadline ([`Outbox::retry_at`]) it waits for beside the socket and its
//! commands, so it keeps reading and answering meanwhile. Time is passed in, so the tests need no clock.
//!
//! Why one at a time and not a window of several: the relay stores each `send` as it handles it, so with two on
//! their way, the first can be refused while the second is stored, and nothing sent afterwards puts the first back
//! before it (a window that went back and sent everything again from the refused one would not help: the relay
//! answers a resend of a stored `client_msg_id` with the place it already has). The cost is one round trip per
//! message: nothing next to typing, and a paste of many lines goes at one line per round trip (10 a second at
//! 100 ms), about what the relay lets one account send anyway after its first burst (10 a second by default).

use std::collections::VecDeque;

use huddle_shared::RequestId;
use tokio::time::Instant;

use super::worker::OutgoingMessage;

/// Most messages waiting to be sent.
pub const MAX_OUTBOX: usize = 500;

/// How many times in a row the front may be refused for a fault of the relay (`internal`, `server_busy`) before it is
/// given up as failed, so that one message the relay cannot store does not hold back everything typed after it.
/// (`rate_limited` is always tried again: the relay says when it will take it.)
pub const MAX_FAULTS: u32 = 5;

#[derive(Debug, Default)]
pub struct Outbox {
    /// Oldest first; the front is the one being sent.
    queue: VecDeque<OutgoingMessage>,
    /// The wire id of the front's `send` while it waits for its answer.
    in_flight: Option<RequestId>,
    /// The relay asked to wait until then before sending the front again.
    retry_at: Option<Instant>,
    /// Times in a row the front was refused for now.
    refusals: u32,
}

impl Outbox {
    /// Whether [`MAX_OUTBOX`] messages are waiting already: [`Outbox::push`] takes no more.
    pub fn is_full(&self) -> bool {
        self.queue.len() >= MAX_OUTBOX
    }

    /// Queues `message` behind the others, unless the outbox [is full](Outbox::is_full).
    pub fn push(&mut self, message: OutgoingMessage) {
        if !self.is_full() {
            self.queue.push_back(message);
        }
    }

    /// Forgets every message (logging out).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The connection ended: no answer will come for what was on its way, and the next connection sends the front
    /// at once (reconnecting took longer than any pause the relay asked for).
    pub fn disconnected(&mut self) {
        self.in_flight = None;
        self.retry_at = None;
    }

    /// The message to send now, if any: the front, unless it is on its way already or its pause has not passed.
    /// Once sent, say so with [`Outbox::sent`].
    pub fn next(&mut self, now: Instant) -> Option<&OutgoingMessage> {
        if self.in_flight.is_some() {
            return None;
        }
        match self.retry_at {
            Some(at) if now < at => return None,
            Some(_) => self.retry_at = None,
            None => {}
        }
        self.queue.front()
    }

    /// The front went out as request `id`.
    pub fn sent(&mut self, id: RequestId) {
        self.in_flight = Some(id);
    }

    /// Whether `id` is the request of the message on its way (its answer is ours to handle).
    pub fn awaits(&self, id: RequestId) -> bool {
        self.in_flight == Some(id)
    }

    /// When the relay allows the front to go again, while it waits.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The answer to request `id` settles its message (stored, or refused for good): it leaves the queue.
    pub fn settled(&mut self, id: RequestId) -> Option<OutgoingMessage> {
        if !self.awaits(id) {
            return None;
        }
        self.in_flight = None;
        self.refusals = 0;
        self.queue.pop_front()
    }

    /// The relay refused request `id` for now: its message stays at the front and goes again at `at`.
    pub fn later(&mut self, id: RequestId, at: Instant) {
        if self.awaits(id) {
            self.in_flight = None;
            self.retry_at = Some(at);
            self.refusals = self.refusals.saturating_add(1);
        }
    }

    /// Times in a row the front was refused for now.
    pub fn refusals(&self) -> u32 {
        self.refusals
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use huddle_shared::Handle;

    use super::*;
    use crate::net::Target;

    fn message(n: usize) -> OutgoingMessage {
        OutgoingMessage {
            acting: Handle::parse("alice").unwrap(),
            to: Target::Direct(huddle_shared::Address::parse("bob").unwrap()),
            body: format!("line {n}"),
            client_msg_id: format!("m{n}"),
            receipts: false,
        }
    }

    fn with(n: usize) -> Outbox {
        let mut outbox = Outbox::default();
        for i in 1..=n {
            outbox.push(message(i));
        }
        outbox
    }

    /// Sends what is due as request `id`; its client_msg_id.
    fn send(outbox: &mut Outbox, id: RequestId, now: Instant) -> Option<String> {
        let cmid = outbox.next(now)?.client_msg_id.clone();
        outbox.sent(id);
        Some(cmid)
    }

    #[test]
    fn one_message_is_on_its_way_at_a_time_in_the_order_typed() {
        let now = Instant::now();
        let mut outbox = with(3);
        assert_eq!(send(&mut outbox, 1, now).as_deref(), Some("m1"));
        assert_eq!(outbox.next(now), None, "m2 waits for m1's answer");
        assert!(!outbox.awaits(2));
        assert_eq!(outbox.settled(1).map(|m| m.client_msg_id).as_deref(), Some("m1"));
        assert_eq!(send(&mut outbox, 2, now).as_deref(), Some("m2"));
        // Refused for good: it leaves, and the next goes.
        assert_eq!(outbox.settled(2).map(|m| m.client_msg_id).as_deref(), Some("m2"));
        assert_eq!(send(&mut outbox, 3, now).as_deref(), Some("m3"));
        assert_eq!(outbox.settled(3).map(|m| m.client_msg_id).as_deref(), Some("m3"));
        assert!(outbox.is_empty());
        assert_eq!(outbox.next(now), None);
    }

    #[test]
    fn a_message_refused_for_now_goes_again_after_the_pause_before_the_rest() {
        let now = Instant::now();
        let pause = Duration::from_millis(500);
        let mut outbox = with(3);
        assert_eq!(send(&mut outbox, 1, now).as_deref(), Some("m1"));
        outbox.later(1, now + pause);
        assert_eq!(outbox.retry_at(), Some(now + pause));
        assert_eq!(outbox.next(now + pause / 2), None, "nothing goes during the pause");
        assert_eq!(send(&mut outbox, 2, now + pause).as_deref(), Some("m1"), "the same message, first");
        assert_eq!(outbox.retry_at(), None);
        assert_eq!(outbox.settled(2).map(|m| m.client_msg_id).as_deref(), Some("m1"));
        assert_eq!(send(&mut outbox, 3, now + pause).as_deref(), Some("m2"));
    }

    #[test]
    fn refusals_in_a_row_are_counted_for_the_front_only() {
        let now = Instant::now();
        let mut outbox = with(2);
        for id in 1..=3 {
            assert_eq!(send(&mut outbox, id, now).as_deref(), Some("m1"));
            outbox.later(id, now);
        }
        assert_eq!(outbox.refusals(), 3);
        assert_eq!(send(&mut outbox, 4, now).as_deref(), Some("m1"));
        outbox.settled(4);
        assert_eq!(outbox.refusals(), 0, "the next message starts afresh");
    }

    #[test]
    fn answers_to_other_requests_change_nothing() {
        let now = Instant::now();
        let mut outbox = with(2);
        send(&mut outbox, 1, now);
        assert_eq!(outbox.settled(9), None);
        outbox.later(9, now + Duration::from_secs(1));
        assert_eq!(outbox.retry_at(), None);
        assert!(outbox.awaits(1));
        assert_eq!(outbox.len(), 2);
    }

    #[test]
    fn a_new_connection_sends_the_front_at_once_and_logging_out_forgets_all() {
        let now = Instant::now();
        let mut outbox = with(2);
        send(&mut outbox, 1, now);
        outbox.disconnected();
        assert!(!outbox.awaits(1), "no answer comes on a connection that ended");
        assert_eq!(send(&mut outbox, 2, now).as_deref(), Some("m1"));
        outbox.later(2, now + Duration::from_secs(30));
        outbox.disconnected();
        assert_eq!(send(&mut outbox, 3, now).as_deref(), Some("m1"), "the pause ended with the connection");
        outbox.clear();
        assert!(outbox.is_empty());
        assert_eq!(outbox.next(now), None);
        assert!(!outbox.awaits(3));
    }

    #[test]
    fn it_holds_at_most_max_outbox() {
        let mut outbox = with(MAX_OUTBOX - 1);
        assert!(!outbox.is_full());
        outbox.push(message(MAX_OUTBOX));
        assert!(outbox.is_full());
        outbox.push(message(MAX_OUTBOX + 1));
        assert_eq!(outbox.len(), MAX_OUTBOX);
    }
}
