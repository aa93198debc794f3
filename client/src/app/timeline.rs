//! A conversation's lines in the relay's order. A stored message is placed once (a set of the ids held answers
//! "seen it?" without scanning the log); a live message goes at the bottom, above our own messages still waiting for
//! the relay; a history page goes as one block right above the message it was asked before, whatever the
//! timestamps say (messages of one millisecond are still in the relay's order). Whatever points into the log — the
//! reader's place, the "new" marker — moves with its line when lines are inserted above it.

use huddle_shared::MessageId;
use huddle_shared::model::Message;

use super::model::{Conversation, Delivery, LogLine};

/// Where the lines after the last stored message begin: our own messages still waiting (or failed) and system lines
/// said since. The tail is short, so this looks only there.
fn unstored_tail(lines: &[LogLine]) -> usize {
    lines.iter().rposition(|l| matches!(l, LogLine::Message { id: Some(_), .. })).map_or(0, |i| i + 1)
}

/// Where the lines waiting for the relay begin: our own unsent messages stay below everything stored until the relay
/// gives them their place (system lines said after them may follow them).
pub fn first_pending(lines: &[LogLine]) -> usize {
    let tail = unstored_tail(lines);
    lines[tail..]
        .iter()
        .position(|l| matches!(l, LogLine::Message { own: true, delivery: Delivery::Pending, .. }))
        .map_or(lines.len(), |i| tail + i)
}

/// Whether a message is held already: by its relay id, or — for our own — as a line we are still waiting on.
pub fn holds(c: &Conversation, message: &Message, own: bool) -> bool {
    if c.held.contains(&message.id) {
        return true;
    }
    own && c.lines[unstored_tail(&c.lines)..].iter().any(
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

/// Our message at `index` was stored: it takes its place among the stored lines — below them all, but above any line
/// the relay stored after it (someone else's message that reached us before the relay's answer to ours did) and above
/// our messages still waiting. Marks stay on their lines.
pub fn settle_stored(c: &mut Conversation, index: usize) {
    let Some(LogLine::Message { id: Some(id), at: sent_at, .. }) = c.lines.get(index) else { return };
    let (id, sent_at) = (id.clone(), *sent_at);
    c.held.insert(&id);
    let mut to = index;
    while to > 0 {
        let later = match &c.lines[to - 1] {
            LogLine::Message { id: Some(other), at: t, .. } => (*t, other.as_str()) > (sent_at, id.as_str()),
            LogLine::Message { id: None, .. } => true,
            LogLine::System { at: t, .. } => *t > sent_at,
        };
        if !later {
            break;
        }
        to -= 1;
    }
    if to == index {
        return;
    }
    c.lines[to..=index].rotate_right(1);
    let moved = |mark: &mut usize| {
        if *mark == index {
            *mark = to;
        } else if (to..index).contains(mark) {
            *mark += 1;
        }
    };
    if let Some(anchor) = c.scroll.anchor.as_mut() {
        moved(&mut anchor.line);
    }
    for mark in [&mut c.new_from, &mut c.scroll.reveal, &mut c.search_match].into_iter().flatten() {
        moved(mark);
    }
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
    for mark in [&mut c.new_from, &mut c.scroll.reveal, &mut c.search_match].into_iter().flatten() {
        if *mark >= at {
            *mark += n;
        }
    }
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
/// yet go as one block — a page is a run of the relay's order — and the range they took is returned.
///
/// - An older page goes right above the highest line that must follow it: the cursor's line, or a line it holds
///   already (live messages that came in before the conversation was opened).
/// - The newest page goes above the first line that is newer than it: a message of it already held, any other
///   stored message (it arrived while the page was on its way), or a line said after its last message.
pub fn merge_page(
    c: &mut Conversation,
    cursor: Option<&MessageId>,
    page: Vec<Message>,
    acting_is_sender: impl Fn(&Message) -> bool,
) -> std::ops::Range<usize> {
    let at = match cursor {
        Some(cursor) => {
            // One pass from the top: the first line that is the cursor or a message of the page is the highest.
            let follow: std::collections::HashSet<&MessageId> =
                std::iter::once(cursor).chain(page.iter().map(|m| &m.id).filter(|id| c.held.contains(id))).collect();
            c.lines.iter().position(|l| matches!(l, LogLine::Message { id: Some(id), .. } if follow.contains(id)))
        }
        None => {
            let last_at = page.last().map_or(i64::MIN, |m| m.sent_at);
            c.lines.iter().position(|l| match l {
                LogLine::Message { id: Some(_), .. } => true,
                LogLine::Message { id: None, .. } => false,
                LogLine::System { at, .. } => *at > last_at,
            })
        }
    };
    let at = at.unwrap_or_else(|| first_pending(&c.lines)).min(first_pending(&c.lines));
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
    let n = block.len();
    insert_lines(c, at, block);
    at..at + n
}

fn block_holds(block: &[LogLine], m: &Message) -> bool {
    block.iter().any(|l| matches!(l, LogLine::Message { id: Some(id), .. } if *id == m.id))
}
