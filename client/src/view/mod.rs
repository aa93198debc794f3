//! The view: one pure function, [`draw`], that paints a [`Model`] with a [`Look`]. It reads the model and nothing
//! else (no clock, no I/O, no state of its own), so the same model always gives the same screen, and tests render
//! it into ratatui's `TestBackend` and compare snapshots.
//!
//! # Layout
//! - [`look`]: the styles and key names the view uses ([`Look`]).
//! - `welcome`, `login`: the screens before the main one.
//! - `friends` (left pane: requests, groups, friends), `info` (the selected row; also a group's member panel), `log`
//!   (the conversation), `input`, `status` (last line): the main screen.
//! - `dialog`, `help`, `notices`: overlays drawn over the main screen.
//! - `form` (boxes, fields, buttons), `text` (measuring and wrapping by terminal cells), `time` (UTC dates): helpers.
//!
//! Long lists are never drawn whole: the friend list shows a window around the selection and the log wraps from the
//! bottom up only what fits.

mod dialog;
mod form;
mod friends;
mod help;
mod info;
mod input;
mod log;
mod log_place;
mod login;
pub mod look;
mod notices;
mod status;
mod text;
mod time;
mod welcome;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{Model, Screen};

pub use look::{Hints, Look, Styles};

/// Below this size the main screen cannot be laid out usefully.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;
/// From this width the info panel goes to the right of the log instead of under the friend list.
const INFO_RIGHT_FROM: u16 = 140;
/// The member panel shows beside a group's log when the log is at least this wide, and is this wide.
const MEMBERS_FROM: u16 = 64;
const MEMBERS_W: u16 = 22;

/// Draws the whole screen for `model`. Also places the terminal cursor in the field being typed into, if any.
/// Draws a frame; returns what it showed of the open conversation, for `update` to learn where the reader is.
pub fn draw(frame: &mut Frame, model: &Model, look: &Look) -> Option<crate::app::LogDrawn> {
    let area = frame.area();
    frame.render_widget(Block::new().style(look.styles.base), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, look);
        return None;
    }
    let mut drawn = None;
    let cursor = match &model.screen {
        Screen::Welcome(form) => welcome::draw(frame, area, form, look),
        Screen::Login(form) => {
            let [body, bar] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
            let cursor = login::draw(frame, body, model, form, look);
            status::draw(frame, bar, model, look);
            cursor
        }
        Screen::Main => main_screen(frame, area, model, look, &mut drawn),
    };
    if let Some(position) = cursor {
        frame.set_cursor_position(position);
    }
    drawn
}

fn too_small(frame: &mut Frame, area: Rect, look: &Look) {
    let text = format!("Terminal too small — make it at least {MIN_WIDTH}×{MIN_HEIGHT}");
    let lines: Vec<Line<'static>> =
        text::wrap(Vec::new(), &[Span::styled(text, look.styles.title)], 0, usize::from(area.width))
            .into_iter()
            .map(|l| l.alignment(Alignment::Center))
            .collect();
    let n = u16::try_from(lines.len()).unwrap_or(0).min(area.height);
    let rect = Rect::new(area.x, area.y + (area.height - n) / 2, area.width, n);
    frame.render_widget(Paragraph::new(lines), rect);
}

/// Width of the friend list: about 30 columns, less on narrow terminals so the log keeps most of the room.
fn left_width(total: u16) -> u16 {
    match total {
        120.. => 32,
        80.. => 28,
        _ => (total * 2 / 5).max(16),
    }
}

fn main_screen(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    look: &Look,
    drawn: &mut Option<crate::app::LogDrawn>,
) -> Option<Position> {
    let [body, bar] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let rows = model.handle().map(|h| h.rows()).unwrap_or_default();
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_width(area.width)), Constraint::Fill(1)]).areas(body);

    // The info panel, if shown: at the right on wide terminals, else under the list.
    let info_right = body.width >= INFO_RIGHT_FROM;
    let (list_area, right, info) = if model.info {
        let panel_w = if info_right { 34 } else { left.width };
        let lines = info::lines(model, &rows, look, usize::from(panel_w.saturating_sub(2)));
        match lines {
            Some(lines) if info_right => {
                let [log_side, info_area] =
                    Layout::horizontal([Constraint::Fill(1), Constraint::Length(panel_w)]).areas(right);
                (left, log_side, Some((info_area, lines)))
            }
            Some(lines) => {
                // Under the list, at most half of the pane so the list stays usable.
                let want = u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2);
                let h = want.min(left.height / 2).max(3);
                let [list, info_area] = Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(left);
                (list, right, Some((info_area, lines)))
            }
            None => (left, right, None),
        }
    } else {
        (left, right, None)
    };

    let search_h = u16::from(model.search.is_some());
    let input_h = input::height(&model.input, right.width);
    let [log_area, search_area, input_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(search_h), Constraint::Length(input_h)]).areas(right);

    friends::draw(frame, list_area, model, &rows, look);
    if let Some((info_area, lines)) = info {
        info::draw(frame, info_area, lines, look);
    }
    // The member panel beside an open group, when there is room for both.
    // (Only a group we are still in: a group we left has no members to show.)
    let open_group = model
        .handle()
        .and_then(|h| h.open.as_ref().and_then(|k| k.room()).filter(|g| h.session.groups.contains_key(*g)));
    let (log_area, members) = match open_group {
        Some(group) if model.members_panel && log_area.width >= MEMBERS_FROM => {
            let [log_side, panel] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Length(MEMBERS_W)]).areas(log_area);
            (log_side, Some((panel, info::member_lines(model, group, look, usize::from(MEMBERS_W - 2)))))
        }
        _ => (log_area, None),
    };
    *drawn = log::draw(frame, log_area, model, look);
    if let Some((panel, lines)) = members {
        let n = open_group.and_then(|g| model.handle()?.session.groups.get(g)).map_or(0, |g| g.members.len());
        info::draw_titled(frame, panel, &format!(" Members ({n}) "), lines, look);
    }
    let found = model.conversation().is_some_and(|c| c.search_match.is_some());
    let search_cursor = model.search.as_ref().and_then(|s| log::draw_search(frame, search_area, s, found, look));
    let input_cursor = input::draw(frame, input_area, model, look);
    status::draw(frame, bar, model, look);

    // Overlays last, over everything; the cursor belongs to the topmost thing being typed into. What lies behind
    // a modal is dimmed, so text cut off at the modal's edge reads as background, not as part of the dialog.
    if model.help || model.notices_view.is_some() || !model.dialogs.is_empty() {
        frame
            .buffer_mut()
            .set_style(body, ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::DIM));
    }
    if model.help {
        help::draw(frame, body, look, model.help_scroll);
        return None;
    }
    if let Some(scroll) = model.notices_view {
        notices::draw(frame, body, model, look, scroll);
        return None;
    }
    if let Some(dialog) = model.dialogs.front() {
        return dialog::draw(frame, body, model, dialog, look);
    }
    search_cursor.or(input_cursor)
}
