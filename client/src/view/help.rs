//! The help overlay: the key table (from [`super::look::Hints::help_lines`]) and the slash commands, side by side
//! when there is room, one above the other otherwise.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Padding, Paragraph};

use super::look::Look;
use super::text::{pad, width, wrap};

/// Every slash command with what it does.
pub const COMMANDS: [(&str, &str); 40] = [
    ("/msg NAME [text]", "open a chat (and send)"),
    ("/add NAME [greeting]", "ask to be friends"),
    ("/del NAME", "delete a friend"),
    ("/block NAME", "block someone"),
    ("/unblock NAME", "unblock someone"),
    ("/status online|away|busy|invisible [activity]", "set your status"),
    ("/handle [NAME]", "switch handle"),
    ("/nick NAME NICK", "set a nickname"),
    ("/note NAME TEXT", "set a private note"),
    ("/invite NAME", "add someone (makes a group)"),
    ("/group NAME…", "start a group"),
    ("/leave", "leave the group"),
    ("/rename [TITLE]", "rename the group"),
    ("/kick NAME", "remove from the group"),
    ("/share [N]", "send N earlier lines"),
    ("/confirm TEXT", "send, asking for receipts"),
    ("/mute", "mute or unmute this chat"),
    ("/close", "close this chat (archive a group)"),
    ("/answer", "open a question waiting for you"),
    ("/notices", "every notice of this session"),
    ("/profile", "your name and bio"),
    ("/password", "change your password"),
    ("/sessions", "your devices; log one out"),
    ("/topics", "list the relay's topics"),
    ("/subscribe ID [30m]", "join a topic's huddles"),
    ("/unsubscribe ID", "leave a topic"),
    ("/newtopic ID [45m] TITLE", "make a topic"),
    ("/publish ID TITLE [| BODY]", "publish an issue: a huddle forms"),
    ("/webhook ID", "a token to publish over HTTP"),
    ("/schedule ID CRON [| ZONE]", "huddles on a schedule"),
    ("/feed ID URL", "each new feed entry is an issue"),
    ("/activity KIND WHAT", "huddle with others doing the same"),
    ("/place GEOHASH", "huddle with others in the same area"),
    ("/follow NAME", "huddle when they come online"),
    ("/sharepresence on|off", "let friends follow you"),
    ("/notwith NAME", "never in a huddle with them"),
    ("/huddles on|off", "put in huddles at all"),
    ("/logout", "log out"),
    ("/quit", "quit Huddle"),
    ("/help", "this help"),
];

/// Where command descriptions start: after the usual command, not the one very long `/status`.
const COMMAND_COL: usize = 22;

/// A two-column table of `w` cells: `left` padded to `col`, then `right` wrapped under itself. A `left` too long
/// for its column gets a row of its own and `right` goes under it, so nothing is cut.
fn table(pairs: &[(String, String)], col: usize, w: usize, look: &Look) -> Vec<Line<'static>> {
    let s = &look.styles;
    let mut lines = Vec::new();
    for (left, right) in pairs {
        let lw = width(left);
        let desc = [Span::styled(right.clone(), s.base)];
        if lw + 2 > col {
            lines.extend(wrap(Vec::new(), &[Span::styled(left.clone(), s.title)], 2, w));
            lines.extend(wrap(vec![Span::raw(pad(0, col))], &desc, col, w));
        } else {
            let prefix = vec![Span::styled(left.clone(), s.title), Span::raw(pad(lw, col))];
            lines.extend(wrap(prefix, &desc, col, w));
        }
    }
    lines
}

/// The first column's width in a table `w` wide: `want`, less if that would leave descriptions too little room.
fn first_col(want: usize, w: usize) -> usize {
    want.min(w.saturating_sub(14))
}

/// The commands' first column: narrower if that lets every description fit on its line (the few longer commands
/// then take a row of their own).
fn command_col(w: usize) -> usize {
    let longest = COMMANDS.iter().map(|(_, d)| width(d)).max().unwrap_or(0);
    COMMAND_COL.min(w.saturating_sub(longest)).max(first_col(COMMAND_COL, w).min(12))
}

/// Cells a table needs to show every row on one line (the over-long first columns aside).
fn natural_width(pairs: &[(String, String)], col: usize) -> usize {
    col + pairs.iter().map(|(_, d)| width(d)).max().unwrap_or(0)
}

/// Draws the help `scroll` rows down (clamped to what there is to see).
pub fn draw(frame: &mut Frame, area: Rect, look: &Look, scroll: usize) {
    let s = &look.styles;
    let h = &look.hints;
    let keys: Vec<(String, String)> = h.help_lines.clone();
    let commands: Vec<(String, String)> = COMMANDS.iter().map(|(c, d)| ((*c).to_owned(), (*d).to_owned())).collect();
    let key_col = keys.iter().map(|(k, _)| width(k)).max().unwrap_or(0) + 2;
    let (keys_w, commands_w) = (natural_width(&keys, key_col), natural_width(&commands, COMMAND_COL));

    // Two border columns and a column of padding on each side.
    let max_w = usize::from(area.width.saturating_sub(4));
    let heading = |t: &str| Line::from(Span::styled(t.to_owned(), s.section));
    let side_by_side = max_w >= 70;
    let (columns, inner_w): (Vec<(Vec<Line<'static>>, usize)>, usize) = if side_by_side {
        // Share the room in proportion to what each table would like.
        let want = keys_w + 3 + commands_w;
        let (left_w, right_w) = if want <= max_w {
            (keys_w, commands_w)
        } else {
            let left_w = (max_w - 3) * keys_w / (keys_w + commands_w);
            (left_w, max_w - 3 - left_w)
        };
        let mut left = vec![heading("Keys")];
        left.extend(table(&keys, first_col(key_col, left_w), left_w, look));
        let mut right = vec![heading("Commands")];
        right.extend(table(&commands, command_col(right_w), right_w, look));
        (vec![(left, left_w), (right, right_w)], left_w + 3 + right_w)
    } else {
        let w = max_w.min(keys_w.max(commands_w));
        let mut lines = vec![heading("Keys")];
        lines.extend(table(&keys, first_col(key_col, w), w, look));
        lines.push(Line::default());
        lines.push(heading("Commands"));
        lines.extend(table(&commands, command_col(w), w, look));
        (vec![(lines, w)], w)
    };
    let rows = columns.iter().map(|(lines, _)| lines.len()).max().unwrap_or(0);
    let outer_w = u16::try_from(inner_w + 4).unwrap_or(area.width);
    let outer_h = u16::try_from(rows + 2).unwrap_or(area.height);
    let rect = super::form::centered(area, outer_w, outer_h);
    // On a short terminal the tables scroll: say so, and how far there is to go.
    let visible = usize::from(rect.height.saturating_sub(2));
    let scroll = scroll.min(rows.saturating_sub(visible));
    let closes = if rows > visible {
        let more = if scroll + visible < rows { "↓ more · " } else { "" };
        format!(" {more}↑/↓ scroll · {} or {} closes ", h.cancel, h.help)
    } else {
        format!(" {} or {} closes ", h.cancel, h.help)
    };
    let block = Block::bordered()
        .border_style(s.border_focused)
        .style(s.dialog)
        .padding(Padding::horizontal(1))
        .title(Span::styled(" Help ", s.title))
        .title_bottom(Line::from(Span::styled(closes, s.hint)).right_aligned());
    let inner = block.inner(rect);
    super::form::clear(frame, rect);
    frame.render_widget(block, rect);
    let mut x = inner.x;
    for (lines, w) in columns {
        let w = u16::try_from(w).unwrap_or(0).min(inner.right().saturating_sub(x));
        let shown: Vec<Line<'static>> = lines.into_iter().skip(scroll).collect();
        frame.render_widget(Paragraph::new(shown), Rect::new(x, inner.y, w, inner.height));
        x = x.saturating_add(w).saturating_add(3);
    }
}
