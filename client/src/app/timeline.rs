//! A conversation's lines in the relay's order. A stored message is placed once (a set of the ids held answers
//! "seen it?" without scanning the log); a live message goes at the bottom, above our own messages still waiting for
//! the relay; a history page goes as one block right above the message it was asked before, whatever the
//! timestamps say (messages of one millisecond are still in the relay's order). Whatever points into the log — the
//! reader's place, the "new" marker — moves with its line when lines are inserted above it.

use huddle_shared::MessageId;
use huddle_shared::model::Message;

use super::model::{Conversation, Delivery, LogLine};

/// Where the lines waiting for the relay begin: our own unsent messages stay at the bottom, below everything stored,
/// until the relay gives them their place. They are the last few lines, so this looks only at the tail.
pub fn first_pending(lines: &[LogLine]) -> usize {
    let pending = lines
        .iter()
        .rev()
        .take_while(|l| matches!(l, LogLine::Message { own: true, delivery: Delivery::Pending, .. }))
        .count();
    lines.len() - pending
}

/// Whether a message is held already: by its relay id, or — for our own — as the line we are still waiting on.
pub fn holds(c: &Conversation, message: &Message, own: bool) -> bool {
    if c.held.contains(&message.id) {
        return true;
    }
    own && c.lines[first_pending(&c.lines)..].iter().any(
        |l| matches!(l, LogLine::Message { id: None, client_msg_id, .. } if *client_msg_id == message.client_msg_id),
    )
}

/// The line of a stored message.
pub fn stored_line(message: Message, own: bool) -> LogLine {
    LogLine::Message {
        id: Some(message.id),
        // Only our own lines are ever matched by it (to the relay's answer): others' lines do not keep it.
        client_msg_id: if own { message.client_msg_id } else { String::new() },
        from: message.from,
        body: message.body,
        at: message.sent_at,
        own,
        delivery: Delivery::Stored,
    }
}

/// Where our message goes once the relay stored it: at the bottom of the stored lines, but above any line the relay
/// stored after it (someone else's message that reached us before the relay's answer to ours did).
pub fn stored_position(lines: &[LogLine], sent_at: i64, id: &MessageId) -> usize {
    let mut at = first_pending(lines);
    while at > 0 {
        let later = match &lines[at - 1] {
            LogLine::Message { id: Some(other), at: t, .. } => (*t, other.as_str()) > (sent_at, id.as_str()),
            LogLine::Message { id: None, .. } => false,
            LogLine::System { at: t, .. } => *t > sent_at,
        };
        if !later {
            break;
        }
        at -= 1;
    }
    at
}

/// Inserts `new` lines at `at`, keeping every mark on the line it pointed at.
pub fn insert_lines(c: &mut Conversation, at: usize, new: Vec<LogLine>) {
    let n = new.len();
    if n == 0 {
        return;
    }
    for line in &new {
        if let LogLine::Message { id: Some(id), .. } = line {
            c.held.insert(id);
        }
    }
    if at >= c.lines.len() {
        c.lines.extend(new);
    } else {
        c.lines.splice(at..at, new);
    }
    shift_marks(c, at, n);
}

/// Lines were inserted at `at`: marks on lines at or below it move down with them.
fn shift_marks(c: &mut Conversation, at: usize, n: usize) {
    if let Some(anchor) = c.scroll.anchor.as_mut() {
        if anchor.line >= at {
            anchor.line += n;
        }
    }
    for mark in [&mut c.new_from, &mut c.scroll.reveal, &mut c.search_match, &mut c.search_floor].into_iter().flatten()
    {
        if *mark >= at {
            *mark += n;
        }
    }
}

/// Removes line `at`, keeping marks on the lines they pointed at (a mark on the removed line moves to the next).
pub fn remove_line(c: &mut Conversation, at: usize) -> Option<LogLine> {
    if at >= c.lines.len() {
        return None;
    }
    let line = c.lines.remove(at);
    if let Some(anchor) = c.scroll.anchor.as_mut() {
        if anchor.line > at {
            anchor.line -= 1;
        }
    }
    let last = c.lines.len().saturating_sub(1);
    for mark in [&mut c.new_from, &mut c.scroll.reveal, &mut c.search_match, &mut c.search_floor].into_iter().flatten()
    {
        if *mark > at {
            *mark -= 1;
        }
        *mark = (*mark).min(last);
    }
    Some(line)
}

/// A live message, in the order the relay delivers them: at the bottom, above our own messages still waiting.
/// Returns where it went, or `None` if it was held already.
pub fn insert_live(c: &mut Conversation, message: Message, own: bool) -> Option<usize> {
    if holds(c, &message, own) {
        return None;
    }
    if message.receipts && !own {
        c.to_report.push(message.id.clone());
    }
    let at = first_pending(&c.lines);
    insert_lines(c, at, vec![stored_line(message, own)]);
    Some(at)
}

/// A page of history (oldest first), asked for before `cursor` (or the newest page if `None`): its messages not held
/// yet go as one block above the cursor's line — a page is a run of the relay's order ending right before it. The
/// newest page goes above the first line that is held from it, or at the bottom if none is.
pub fn merge_page(
    c: &mut Conversation,
    cursor: Option<&MessageId>,
    page: Vec<Message>,
    acting_is_sender: impl Fn(&Message) -> bool,
) {
    // Where the block goes: above the cursor's line, or above the first line of this page we already hold
    // (live messages that arrived while it was on its way), or at the bottom.
    let held_from_page: Vec<&MessageId> = page.iter().map(|m| &m.id).filter(|id| c.held.contains(id)).collect();
    let above = cursor.into_iter().chain(held_from_page).find_map(|id| position_of(c, id));
    let at = above.unwrap_or_else(|| first_pending(&c.lines));
    let mut block = Vec::with_capacity(page.len());
    for m in page {
        let own = acting_is_sender(&m);
        if holds(c, &m, own) || block_holds(&block, &m) {
            continue;
        }
        if m.receipts && !own {
            c.to_report.push(m.id.clone());
        }
        block.push(stored_line(m, own));
    }
    insert_lines(c, at, block);
}

fn block_holds(block: &[LogLine], m: &Message) -> bool {
    block.iter().any(|l| matches!(l, LogLine::Message { id: Some(id), .. } if *id == m.id))
}

/// The index of a stored message's line. Pages are merged near the top, where older lines are, so it looks there
/// first.
fn position_of(c: &Conversation, id: &MessageId) -> Option<usize> {
    if !c.held.contains(id) {
        return None;
    }
    c.lines.iter().position(|l| matches!(l, LogLine::Message { id: Some(i), .. } if i == id))
}
