//! The conversation log: messages, system lines and inline prompts, newest at the bottom, with day separators.
//!
//! Lines are wrapped lazily from the bottom up until the pane (plus the scrolled-away part) is full — see
//! [`visible_rows`] — so a conversation of a hundred thousand lines costs the same per frame as one of ten.

use ratatui::Frame;
use ratatui::layout::{Alignment, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use std::collections::{BTreeMap, HashMap};

use huddle_shared::Address;

use crate::app::receipts::Tracking;
use crate::app::{ConvKey, Delivery, Focus, HistoryState, LogDrawn, LogLine, Model, Scroll, Search, SystemKind};

use super::log_place::Placed;

use super::look::{Look, Styles};
use super::text::{clean, highlight, pad, truncate, width, wrap};
use super::time::{clock, clock_with_seconds, day, weekday_date};

/// Longest sender label before it is cut, so that message text keeps most of the pane.
const MAX_NAME_W: usize = 12;
/// Continuation lines hang under the text only if that leaves at least this many cells for it.
const MIN_TEXT_W: usize = 16;

/// What the rows of one conversation depend on besides the lines themselves.
pub struct LogCtx<'a> {
    pub styles: &'a Styles,
    /// How the conversation is named: the peer's nickname or handle, or the group's name.
    pub peer_name: String,
    /// A group conversation (senders are named one by one).
    pub group: bool,
    /// The room is a huddle.
    pub huddle: bool,
    /// Senders' names by address (for groups; a direct conversation names every other sender `peer_name`).
    pub names: HashMap<Address, String>,
    /// Receipts of our messages, by message id.
    pub receipts: Option<&'a BTreeMap<huddle_shared::MessageId, Tracking>>,
    /// The "new" marker goes above this line.
    pub new_from: Option<usize>,
    /// Times with seconds (`timestamps = "%H:%M:%S"`).
    pub seconds: bool,
    /// Whose conversation it is: messages naming this handle are highlighted.
    pub me: Option<&'a crate::app::HandleView>,
    pub history: HistoryState,
    /// The search query to highlight, if searching.
    pub query: Option<String>,
    /// Index of the current search match.
    pub current: Option<usize>,
}

impl LogCtx<'_> {
    /// Width of the sender column: the longest of "me" and the senders' names, capped.
    fn name_w(&self) -> usize {
        let longest =
            if self.group { self.names.values().map(|n| width(n)).max().unwrap_or(0) } else { width(&self.peer_name) };
        longest.clamp(2, MAX_NAME_W)
    }

    fn sender(&self, from: &Address) -> String {
        if self.group {
            self.names.get(from).cloned().unwrap_or_else(|| clean(from.handle.as_str(), false))
        } else {
            self.peer_name.clone()
        }
    }

    fn body(&self, text: &str, style: Style) -> Vec<Span<'static>> {
        match self.query.as_deref() {
            Some(q) if !q.is_empty() => highlight(text, q, style, self.styles.search_match),
            _ => vec![Span::styled(text.to_owned(), style)],
        }
    }
}

/// A conversation's line blocks at one width, for [`super::log_place`].
struct LineBlocks<'a> {
    ctx: &'a LogCtx<'a>,
    width: usize,
}

impl super::log_place::Blocks for LineBlocks<'_> {
    fn block(&self, lines: &[LogLine], i: usize) -> Vec<Line<'static>> {
        let (ctx, w) = (self.ctx, self.width);
        let mut rows = Vec::new();
        if i == 0 {
            rows.extend(history_rows(ctx, false, w));
        }
        if starts_day(lines, i) {
            rows.push(separator(lines[i].at(), w, ctx.styles));
        }
        if ctx.new_from == Some(i) {
            rows.push(marker(w, ctx.styles));
        }
        rows.extend(entry_rows(ctx, lines, i, w));
        rows
    }

    fn empty(&self) -> Vec<Line<'static>> {
        history_rows(self.ctx, true, self.width)
    }
}

/// The rows of `lines` a pane of `width` × `height` shows with `scroll`, and where that leaves the reader.
pub fn place(lines: &[LogLine], ctx: &LogCtx<'_>, width: usize, height: usize, scroll: &Scroll) -> Placed {
    super::log_place::place(lines, &LineBlocks { ctx, width }, height, scroll)
}

/// Whether a day separator goes above line `i`.
fn starts_day(lines: &[LogLine], i: usize) -> bool {
    i == 0 || day(lines[i - 1].at()) != day(lines[i].at())
}

/// `──── Sat 21 Nov 2026 ────`, centred.
fn separator(at: huddle_shared::Millis, w: usize, s: &Styles) -> Line<'static> {
    let label = format!(" {} ", weekday_date(at));
    let label_w = width(&label);
    if w < label_w + 4 {
        return Line::from(Span::styled(truncate(label.trim(), w), s.day_separator));
    }
    let left = (w - label_w) / 2;
    let right = w - label_w - left;
    Line::from(Span::styled(format!("{}{label}{}", "─".repeat(left), "─".repeat(right)), s.day_separator))
}

/// `──── new ────`: the first unread line is below it.
fn marker(w: usize, s: &Styles) -> Line<'static> {
    let label = " new ";
    if w < 9 {
        return Line::from(Span::styled(truncate(label.trim(), w), s.new_marker));
    }
    let left = (w - 5) / 2;
    Line::from(Span::styled(format!("{}{label}{}", "─".repeat(left), "─".repeat(w - 5 - left)), s.new_marker))
}

/// A person's colour in a group: the same every time (a hash of the address picks it from the palette).
fn nick_style(s: &Styles, base: Style, from: &Address) -> Style {
    if s.nick_colors.is_empty() {
        return base;
    }
    // FNV-1a: stable across runs and builds, unlike the std hasher.
    let hash = from
        .to_string()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    base.fg(s.nick_colors[(hash % s.nick_colors.len() as u64) as usize])
}

/// What lies above the oldest line held.
fn history_rows(ctx: &LogCtx<'_>, empty: bool, w: usize) -> Vec<Line<'static>> {
    let text = match (&ctx.history, empty) {
        (HistoryState::Loading, _) => "Loading older messages…".to_owned(),
        (HistoryState::NotLoaded | HistoryState::More, _) => "↑ Older messages: scroll up to load them.".to_owned(),
        (HistoryState::Complete, true) if ctx.group => "No messages in this group yet. Say hello!".to_owned(),
        (HistoryState::Complete, false) if ctx.huddle => "This is the start of the huddle.".to_owned(),
        (HistoryState::Complete, false) if ctx.group => "This is the start of the group.".to_owned(),
        (HistoryState::Complete, true) => format!("No messages with {} yet. Say hello!", ctx.peer_name),
        (HistoryState::Complete, false) => format!("This is the start of your conversation with {}.", ctx.peer_name),
    };
    wrap(Vec::new(), &[Span::styled(text, ctx.styles.hint)], 0, w)
}

/// The rows of log line `i` at width `w`.
fn entry_rows(ctx: &LogCtx<'_>, lines: &[LogLine], i: usize, w: usize) -> Vec<Line<'static>> {
    let s = ctx.styles;
    let stamp_style = if ctx.current == Some(i) { s.search_match } else { s.timestamp };
    let (time, stamp_w) = if ctx.seconds { (clock_with_seconds(lines[i].at()), 8) } else { (clock(lines[i].at()), 5) };
    let stamp = Span::styled(time, stamp_style);
    match &lines[i] {
        LogLine::Message { id, body, own, delivery, from, .. } => {
            let name_w = ctx.name_w();
            let (label, label_style, body_style) = match (own, delivery) {
                (true, Delivery::Pending) => ("me".to_owned(), s.own_message, s.pending),
                (true, _) => ("me".to_owned(), s.own_message, s.own_message),
                (false, _) => {
                    let mention = ctx.me.is_some_and(|h| crate::app::notify::mentions(h, body));
                    let name_style = if ctx.group { nick_style(s, s.peer_message, from) } else { s.peer_message };
                    (truncate(&ctx.sender(from), name_w), name_style, if mention { s.mention } else { s.peer_message })
                }
            };
            let label = format!("{label}{}", pad(width(&label), name_w));
            let prefix = vec![
                stamp,
                Span::raw(" "),
                Span::styled(label, label_style.add_modifier(Modifier::BOLD)),
                Span::raw(" "),
            ];
            let indent = hanging_indent(stamp_w + 1 + name_w + 1, w);
            let mut text = Vec::new();
            if *delivery == Delivery::Pending {
                text.push(Span::styled("⧗ ", s.pending));
            }
            text.extend(ctx.body(&clean(body, true), body_style));
            let tracking = id.as_ref().filter(|_| *own).and_then(|id| ctx.receipts?.get(id));
            if let Some(tracking) = tracking {
                text.push(Span::styled(format!("  {}", tracking.summary()), s.hint));
            }
            let mut rows = wrap(prefix, &text, indent, w);
            if let Delivery::Failed(reason) = delivery {
                let note = [Span::styled(format!("✗ not sent: {}", clean(reason, false)), s.error)];
                rows.extend(wrap(vec![Span::raw(" ".repeat(indent))], &note, indent, w));
            }
            rows
        }
        LogLine::System { text, kind, .. } => {
            let (glyph, style) = match kind {
                SystemKind::Error => ("! ", s.error),
                SystemKind::Info | SystemKind::Presence => ("· ", s.system),
            };
            let prefix = vec![stamp, Span::raw(" "), Span::styled(glyph, style)];
            wrap(prefix, &ctx.body(&clean(text, true), style), hanging_indent(stamp_w + 3, w), w)
        }
    }
}

/// Indent continuation rows under the text when there is room for it, else start them at the edge.
fn hanging_indent(indent: usize, w: usize) -> usize {
    if w >= indent + MIN_TEXT_W { indent } else { 0 }
}

/// Draws the open conversation; returns where it left the reader.
pub fn draw(frame: &mut Frame, area: Rect, model: &Model, look: &Look) -> Option<LogDrawn> {
    let s = &look.styles;
    let border = if model.focus == Focus::Log { s.border_focused } else { s.border };
    let Some((h, key)) = model.handle().and_then(|h| h.open.as_ref().map(|p| (h, p))) else {
        empty_state(frame, area, look, border);
        return None;
    };
    // A conversation opened with someone never talked to has no entry yet: show it empty, not the start screen.
    let (lines, history, scroll, receipts) = match h.conversations.get(key) {
        Some(conv) => (conv.lines.as_slice(), conv.history.clone(), conv.scroll.clone(), Some(&conv.receipts)),
        None => (&[][..], HistoryState::Complete, Scroll::default(), None),
    };
    let name = clean(&h.conversation_name(key), false);
    let (subtitle, names) = match key {
        ConvKey::Direct(peer) => (peer.to_string(), HashMap::new()),
        ConvKey::Room(id) => {
            // The members' names (at most 100, so drawing costs the same however long the log is); someone who
            // has left is named by their handle.
            let names: HashMap<Address, String> = h
                .session
                .groups
                .get(id)
                .or_else(|| h.session.left_groups.get(id))
                .map(|g| {
                    g.members
                        .iter()
                        .filter(|m| m.address != h.address)
                        .map(|m| (m.address.clone(), clean(&h.name_of(&m.address), false)))
                        .collect()
                })
                .unwrap_or_default();
            let subtitle = match h.session.groups.get(id) {
                Some(g) if g.huddle.is_some() => {
                    let others: Vec<String> =
                        g.members.iter().filter(|m| m.address != h.address).map(|m| h.name_of(&m.address)).collect();
                    let left = g
                        .huddle
                        .as_ref()
                        .map(|info| crate::app::huddles::time_left(info, model.now))
                        .unwrap_or_default();
                    if others.is_empty() {
                        format!("huddle: just you · {left}")
                    } else {
                        format!("huddle: you, {} · {left}", others.join(", "))
                    }
                }
                None if h.is_huddle(id) => "this huddle has ended".to_owned(),
                Some(g) if g.title.is_some() => {
                    let others: Vec<String> =
                        g.members.iter().filter(|m| m.address != h.address).map(|m| h.name_of(&m.address)).collect();
                    format!("group: you, {}", others.join(", "))
                }
                Some(g) => format!("group of {}", g.members.len()),
                None => "you left this group".to_owned(),
            };
            (subtitle, names)
        }
    };
    let title = Line::from(vec![
        Span::styled(format!(" {name}"), s.title),
        Span::styled(format!(" — {} ", clean(&subtitle, false)), s.hint),
    ]);
    let ctx = LogCtx {
        styles: s,
        peer_name: name,
        group: key.room().is_some(),
        huddle: key.room().is_some_and(|id| h.is_huddle(id)),
        names,
        receipts,
        new_from: h.conversations.get(key).and_then(|c| c.new_from),
        seconds: model.timestamps_with_seconds,
        me: Some(h),
        history,
        query: model.search.as_ref().map(|q| q.query.text().to_owned()),
        current: model.search.as_ref().and(h.conversations.get(key)).and_then(|c| c.search_match),
    };
    let mut block = Block::bordered().border_style(border).title(title);
    let inner = block.inner(area);
    let (w, height) = (usize::from(inner.width), usize::from(inner.height));
    let placed = place(lines, &ctx, w, height, &scroll);
    if placed.anchor.is_some() {
        block = block.title_bottom(Line::from(Span::styled(" ↓ newer messages below ", s.hint)).right_aligned());
    }
    frame.render_widget(block, area);
    // Newest at the bottom: a short conversation sits just above the input, as in other chats.
    let used = u16::try_from(placed.rows.len()).unwrap_or(inner.height).min(inner.height);
    let rows_area = Rect::new(inner.x, inner.y + inner.height - used, inner.width, used);
    frame.render_widget(Paragraph::new(placed.rows), rows_area);
    Some(LogDrawn { key: key.clone(), anchor: placed.anchor, top_shown: placed.top_shown, height })
}

fn empty_state(frame: &mut Frame, area: Rect, look: &Look, border: Style) {
    let s = &look.styles;
    let h = &look.hints;
    let block = Block::bordered().border_style(border).title(Span::styled(" Huddle ", s.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = [
        format!("Pick a friend and press {} to talk.", h.open),
        format!("Press {} to add a friend, {} for help.", h.add, h.help),
    ];
    let w = usize::from(inner.width);
    let lines: Vec<Line<'static>> = text
        .iter()
        .flat_map(|t| wrap(Vec::new(), &[Span::styled(t.clone(), s.hint)], 0, w))
        .map(|l| l.alignment(Alignment::Center))
        .collect();
    let n = u16::try_from(lines.len()).unwrap_or(0).min(inner.height);
    let rect = Rect::new(inner.x, inner.y + (inner.height - n) / 2, inner.width, n);
    frame.render_widget(Paragraph::new(lines), rect);
}

/// The one-line search bar under the log; returns where the cursor goes while the query is being typed.
pub fn draw_search(frame: &mut Frame, area: Rect, search: &Search, found: bool, look: &Look) -> Option<Position> {
    let s = &look.styles;
    let h = &look.hints;
    let label = "Search: ";
    let query = clean(search.query.text(), false);
    let mut spans = vec![Span::styled(label, s.title), Span::styled(query.clone(), s.search_match)];
    if !search.editing && !query.is_empty() && !found && !search.looking_back {
        spans.push(Span::styled("  no match", s.error));
    }
    if search.looking_back {
        spans.push(Span::styled("  searching older messages…", s.hint));
    }
    let tail = if search.editing {
        format!("  {} find · {} close", h.submit, h.cancel)
    } else {
        format!("  {} next · {} close", h.submit, h.cancel)
    };
    spans.push(Span::styled(tail, s.hint));
    let spans = super::text::truncate_spans(spans, usize::from(area.width));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let before: String = search.query.text().chars().take(search.query.cursor()).collect();
    let x = width(label) + width(&clean(&before, false));
    let x = u16::try_from(x).ok()?;
    (search.editing && x < area.width).then(|| Position::new(area.x + x, area.y))
}
