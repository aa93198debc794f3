//! The friend list's highlighted row. It is held by what the row shows (a friend, a group, a request), never by
//! its position: the list re-sorts whenever a message arrives or someone comes online, and a key pressed a moment
//! later must act on the row the person saw highlighted.

use super::{HandleView, Model, Row};

/// The index of the highlighted row in [`HandleView::rows`], if it is still there.
pub fn index(h: &HandleView, rows: &[Row]) -> Option<usize> {
    let key = h.selected.as_ref()?;
    rows.iter().position(|r| r.key().as_ref() == Some(key))
}

/// The highlighted row.
pub fn selected_row(model: &Model) -> Option<Row> {
    let h = model.handle()?;
    let rows = h.rows();
    index(h, &rows).and_then(|i| rows.into_iter().nth(i))
}

/// Moves the highlight `delta` selectable rows down (negative: up), stopping at the ends.
pub fn move_by(model: &mut Model, delta: isize) {
    let Some(h) = model.handle_mut() else { return };
    let rows = h.rows();
    let selectable: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| r.selectable()).map(|(i, _)| i).collect();
    if selectable.is_empty() {
        h.selected = None;
        return;
    }
    let next = match (index(h, &rows), &h.selected) {
        (Some(at), _) => {
            let current = selectable.iter().position(|&i| i >= at).unwrap_or(selectable.len() - 1);
            (current as isize + delta).clamp(0, selectable.len() as isize - 1) as usize
        }
        // Nothing highlighted yet: the first key lands on the first row (or the last, going up).
        (None, None) if delta < 0 => selectable.len() - 1,
        (None, None) => 0,
        // What was highlighted went away: the nearest row to where it was.
        (None, Some(_)) => selectable.iter().position(|&i| i >= h.selected_hint).unwrap_or(selectable.len() - 1),
    };
    let row = selectable[next];
    h.selected = rows[row].key();
    h.selected_hint = row;
}

/// After the list changed: the highlight stays on its row wherever that row went; only if the row is gone does it
/// land on the row now nearest to where it was.
pub fn fix(model: &mut Model) {
    let Some(h) = model.handle_mut() else { return };
    let rows = h.rows();
    match index(h, &rows) {
        Some(i) => h.selected_hint = i,
        None => move_by(model, 0),
    }
}

/// Highlights the row showing `key`, if there is one.
pub fn select(model: &mut Model, key: super::RowKey) {
    let Some(h) = model.handle_mut() else { return };
    let rows = h.rows();
    if let Some(i) = rows.iter().position(|r| r.key().as_ref() == Some(&key)) {
        h.selected = Some(key);
        h.selected_hint = i;
    }
}
