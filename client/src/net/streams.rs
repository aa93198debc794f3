//! Turning what arrives for a handle's stream — live `deliver` pushes, `sync` pages, and the sequence numbers our
//! own `stored` answers reveal — into one ordered sequence without gaps or duplicates. Pure logic, no I/O.

use std::collections::BTreeMap;

use huddle_shared::model::StreamItem;

/// One handle's position in its stream.
#[derive(Debug, Clone, Default)]
pub struct StreamCursor {
    /// Every item up to here has been handed on (or was our own message, already known).
    pub cursor: u64,
    /// The highest sequence acknowledged to the relay.
    pub acked: u64,
    /// A `sync` is in flight.
    pub syncing: bool,
    /// Items above `cursor + 1` waiting for the gap to fill. `None`: known already (our own `stored` message).
    ahead: BTreeMap<u64, Option<StreamItem>>,
}

/// What the worker should do after feeding a cursor.
#[derive(Debug, Default, PartialEq)]
pub struct Progress {
    /// Items to hand to the application, in order.
    pub ready: Vec<StreamItem>,
    /// A gap remains and no sync is running: ask for the items after this sequence.
    pub sync_after: Option<u64>,
}

/// Most items kept waiting for a gap to fill. Beyond this the oldest wait is abandoned to a fresh `sync`, which
/// the relay answers from storage, so memory stays bounded even if pushes race far ahead.
pub const MAX_AHEAD: usize = 10_000;

impl StreamCursor {
    pub fn starting_at(cursor: u64) -> Self {
        Self { cursor, acked: cursor, ..Self::default() }
    }

    /// An item arrived (live or from a sync page).
    pub fn item(&mut self, item: StreamItem) -> Progress {
        let seq = item.seq;
        self.note(seq, Some(item))
    }

    /// Our own message was stored at `seq`: its item need not be handed on again.
    pub fn known(&mut self, seq: u64) -> Progress {
        self.note(seq, None)
    }

    fn note(&mut self, seq: u64, item: Option<StreamItem>) -> Progress {
        if seq > self.cursor {
            match self.ahead.get(&seq) {
                // Already waiting, either as an item or as "known already" (our own message): keep what is there.
                Some(_) => {}
                None => {
                    self.ahead.insert(seq, item);
                }
            }
        }
        if self.ahead.len() > MAX_AHEAD {
            // Keep the nearest items; the rest will come again from the relay.
            while self.ahead.len() > MAX_AHEAD {
                self.ahead.pop_last();
            }
        }
        self.drain()
    }

    fn drain(&mut self) -> Progress {
        let mut progress = Progress::default();
        while let Some(entry) = self.ahead.first_entry() {
            if *entry.key() != self.cursor + 1 {
                break;
            }
            let (seq, item) = entry.remove_entry();
            self.cursor = seq;
            if let Some(item) = item {
                progress.ready.push(item);
            }
        }
        if !self.ahead.is_empty() && !self.syncing {
            self.syncing = true;
            progress.sync_after = Some(self.cursor);
        }
        progress
    }

    /// A sync page was answered. `more`: the relay has further items up to the head it had at login.
    pub fn page_done(&mut self, last_in_page: Option<u64>, more: bool) -> Option<u64> {
        self.syncing = false;
        if more {
            self.syncing = true;
            return Some(last_in_page.unwrap_or(self.cursor).max(self.cursor));
        }
        if !self.ahead.is_empty() {
            self.syncing = true;
            return Some(self.cursor);
        }
        None
    }

    /// Starts a sync from the cursor (at login or reconnect).
    pub fn begin_sync(&mut self) -> u64 {
        self.syncing = true;
        self.cursor
    }

    /// The sequence to acknowledge, if it moved.
    pub fn ack_due(&mut self) -> Option<u64> {
        (self.cursor > self.acked).then(|| {
            self.acked = self.cursor;
            self.cursor
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_shared::Address;
    use huddle_shared::model::{Event, ItemBody};

    fn item(seq: u64) -> StreamItem {
        StreamItem {
            seq,
            at: 0,
            body: ItemBody::Event { event: Event::RequestCancelled { peer: Address::parse("peer@relay").unwrap() } },
        }
    }

    fn seqs(p: &Progress) -> Vec<u64> {
        p.ready.iter().map(|i| i.seq).collect()
    }

    #[test]
    fn in_order_items_pass_straight_through() {
        let mut c = StreamCursor::starting_at(0);
        assert_eq!(seqs(&c.item(item(1))), vec![1]);
        assert_eq!(seqs(&c.item(item(2))), vec![2]);
        assert_eq!(c.ack_due(), Some(2));
        assert_eq!(c.ack_due(), None);
    }

    #[test]
    fn a_gap_asks_for_a_sync_and_fills_in_order_without_duplicates() {
        let mut c = StreamCursor::starting_at(3);
        let p = c.item(item(6));
        assert!(p.ready.is_empty());
        assert_eq!(p.sync_after, Some(3));
        assert_eq!(c.item(item(7)).sync_after, None, "one sync at a time");
        assert_eq!(seqs(&c.item(item(4))), vec![4]);
        assert_eq!(seqs(&c.item(item(5))), vec![5, 6, 7]);
        assert!(c.item(item(5)).ready.is_empty(), "a duplicate is dropped");
        assert_eq!(c.page_done(Some(5), false), None);
    }

    #[test]
    fn our_own_stored_messages_are_not_handed_on_twice() {
        let mut c = StreamCursor::starting_at(0);
        assert!(c.known(1).ready.is_empty());
        assert_eq!(c.cursor, 1);
        assert!(c.item(item(1)).ready.is_empty());
        // Stored answer racing ahead of a delivery still counts.
        assert!(c.known(3).ready.is_empty());
        assert_eq!(seqs(&c.item(item(2))), vec![2]);
        assert!(c.item(item(3)).ready.is_empty());
        assert_eq!(c.cursor, 3);
    }

    #[test]
    fn paging_continues_while_the_relay_has_more() {
        let mut c = StreamCursor::starting_at(0);
        assert_eq!(c.begin_sync(), 0);
        for s in 1..=3 {
            c.item(item(s));
        }
        assert_eq!(c.page_done(Some(3), true), Some(3));
        c.item(item(4));
        assert_eq!(c.page_done(Some(4), false), None);
        assert!(!c.syncing);
    }
}
