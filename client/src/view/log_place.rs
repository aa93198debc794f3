//! Where the log pane stands in a conversation, and the rows it shows. The reader's place is a line (the
//! [`Anchor`] of the pane's bottom row), so moving a page wraps about a page of lines and drawing wraps about a pane
//! of them — never the lines scrolled past, however long the conversation.
//!
//! Each log line is a block of rows, top to bottom: what lies above the history (line 0 only), the day separator,
//! the "new" marker, then the line's own wrapped rows.

use ratatui::text::Line;

use crate::app::{Anchor, LogLine, Scroll};

/// The rows of one line's block at a width: [`super::log`] provides it.
pub trait Blocks {
    fn block(&self, lines: &[LogLine], i: usize) -> Vec<Line<'static>>;
    /// The rows shown when there are no lines at all.
    fn empty(&self) -> Vec<Line<'static>>;
}

/// What a frame showed and where it left the reader.
#[derive(Debug, Default)]
pub struct Placed {
    /// Top to bottom, at most the pane's height.
    pub rows: Vec<Line<'static>>,
    /// Where the reader is now (`None`: following the newest line).
    pub anchor: Option<Anchor>,
    /// The oldest line's top row is on screen.
    pub top_shown: bool,
    /// How many line blocks were wrapped. Only tests read it: it is how they check that a frame costs what is on
    /// screen, not what is in the log.
    #[cfg_attr(not(test), allow(dead_code))]
    pub wrapped: usize,
}

struct Placer<'a, B: Blocks> {
    lines: &'a [LogLine],
    blocks: &'a B,
    height: usize,
    wrapped: std::cell::Cell<usize>,
    /// Blocks wrapped while moving, kept for drawing: a page up wraps each line once, not twice.
    made: std::cell::RefCell<std::collections::HashMap<usize, Vec<Line<'static>>>>,
}

impl<B: Blocks> Placer<'_, B> {
    fn rows(&self, i: usize) -> usize {
        if let Some(block) = self.made.borrow().get(&i) {
            return block.len().max(1);
        }
        let block = self.wrap(i);
        let rows = block.len().max(1);
        self.made.borrow_mut().insert(i, block);
        rows
    }

    fn block(&self, i: usize) -> Vec<Line<'static>> {
        // Taken, not copied: a line is drawn once per frame.
        let made = self.made.borrow_mut().remove(&i);
        made.unwrap_or_else(|| self.wrap(i))
    }

    fn wrap(&self, i: usize) -> Vec<Line<'static>> {
        self.wrapped.set(self.wrapped.get() + 1);
        self.blocks.block(self.lines, i)
    }

    fn bottom(&self) -> Anchor {
        Anchor { line: self.lines.len() - 1, below: 0 }
    }

    /// `k` rows up from `at`, stopping at the oldest line's top row.
    fn up(&self, at: Anchor, k: usize) -> Anchor {
        let (mut line, mut below) = (at.line, at.below.saturating_add(k));
        loop {
            let rows = self.rows(line);
            if below < rows {
                return Anchor { line, below };
            }
            if line == 0 {
                return Anchor { line, below: rows - 1 };
            }
            below -= rows;
            line -= 1;
        }
    }

    /// `k` rows down from `at`; `None` once the newest line's bottom row is reached.
    fn down(&self, at: Anchor, k: usize) -> Option<Anchor> {
        let (mut line, mut below) = (at.line, at.below);
        let mut k = k;
        while k > below {
            k -= below + 1;
            line += 1;
            if line >= self.lines.len() {
                return None;
            }
            below = self.rows(line) - 1;
        }
        below -= k;
        (line + 1 < self.lines.len() || below > 0).then_some(Anchor { line, below })
    }

    /// The anchor that shows the oldest line's top row at the top of the pane, or `None` if everything fits.
    fn top(&self) -> Option<Anchor> {
        let mut filled = 0;
        for line in 0..self.lines.len() {
            let rows = self.rows(line);
            if filled + rows >= self.height {
                let anchor = Anchor { line, below: filled + rows - self.height };
                return (line + 1 < self.lines.len() || anchor.below > 0).then_some(anchor);
            }
            filled += rows;
        }
        None
    }

    /// The rows of a pane whose bottom row is `at`, top first, and whether the oldest line's top is among them.
    fn rows_above(&self, at: Anchor) -> (Vec<Line<'static>>, bool, usize) {
        let mut acc: Vec<Line<'static>> = Vec::with_capacity(self.height);
        let mut line = at.line;
        let mut skip = at.below;
        let first_line;
        loop {
            let block = self.block(line);
            let keep = block.len().saturating_sub(skip);
            acc.extend(block.into_iter().take(keep).rev());
            skip = 0;
            if acc.len() >= self.height || line == 0 {
                first_line = line;
                break;
            }
            line -= 1;
        }
        let top_shown = first_line == 0 && acc.len() <= self.height;
        acc.truncate(self.height);
        acc.reverse();
        (acc, top_shown, first_line)
    }
}

/// Places the pane: applies the moves `scroll` asks for, keeps the pane full, brings `scroll.reveal` on screen,
/// and returns the rows.
pub fn place<B: Blocks>(lines: &[LogLine], blocks: &B, height: usize, scroll: &Scroll) -> Placed {
    if lines.is_empty() || height == 0 {
        let mut rows = blocks.empty();
        let cut = rows.len().saturating_sub(height);
        rows.drain(..cut);
        return Placed { rows, anchor: None, top_shown: true, wrapped: 0 };
    }
    let p = Placer { lines, blocks, height, wrapped: std::cell::Cell::new(0), made: Default::default() };
    let mut anchor = scroll.anchor.filter(|a| a.line < lines.len());
    if scroll.jump_top {
        anchor = p.top();
    } else if scroll.pending > 0 {
        anchor = Some(p.up(anchor.unwrap_or_else(|| p.bottom()), scroll.pending.unsigned_abs()));
    } else if scroll.pending < 0 {
        anchor = anchor.and_then(|a| p.down(a, scroll.pending.unsigned_abs()));
    }
    let (mut rows, mut top_shown, mut first) = p.rows_above(anchor.unwrap_or_else(|| p.bottom()));
    // Scrolled past the top: the pane would not be full, so it shows the top instead.
    if anchor.is_some() && top_shown && rows.len() < height {
        anchor = p.top();
        (rows, top_shown, first) = p.rows_above(anchor.unwrap_or_else(|| p.bottom()));
    }
    if let Some(target) = scroll.reveal.filter(|&i| i < lines.len()) {
        let last = anchor.map_or(lines.len() - 1, |a| a.line);
        let fully_shown = target > first && target < last || target == last && anchor.is_none_or(|a| a.below == 0);
        if !fully_shown {
            // The match in the middle of the pane (its top at the top if it is taller than the pane).
            let own = p.rows(target);
            let k = if own >= height { height - 1 } else { own - 1 + (height - own) / 2 };
            anchor = p.down(Anchor { line: target, below: own - 1 }, k);
            (rows, top_shown, _) = p.rows_above(anchor.unwrap_or_else(|| p.bottom()));
            if anchor.is_some() && top_shown && rows.len() < height {
                anchor = p.top();
                (rows, top_shown, _) = p.rows_above(anchor.unwrap_or_else(|| p.bottom()));
            }
        }
    }
    Placed { rows, anchor, top_shown, wrapped: p.wrapped.get() }
}
