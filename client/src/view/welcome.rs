//! The first-start screen: start a personal relay here, or connect to one (URL and optional CA file).

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use crate::app::WelcomeForm;

use super::form::{Content, Field, hint_lines, inner_width, panel};
use super::look::Look;
use super::text::truncate;

const CHOICES: [(&str, &str); 2] = [
    ("Start a personal relay here", "for trying Huddle alone or with friends on this machine"),
    ("Connect to a relay", "a friend's or your own"),
];

pub fn draw(frame: &mut Frame, area: Rect, form: &WelcomeForm, look: &Look) -> Option<Position> {
    let s = &look.styles;
    let h = &look.hints;
    let w = inner_width(area, 66);
    let wu = usize::from(w);
    let mut c = Content::default();
    c.para("Huddle is a chat for you and your friends.", s.base, wu);
    c.para("Where should it connect?", s.base, wu);
    c.blank();
    for (i, (label, about)) in CHOICES.iter().enumerate() {
        let chosen = i == form.choice;
        let (mark, style) = if chosen { ("▸ (•) ", s.dialog_selected) } else { ("  ( ) ", s.base) };
        c.push(Line::from(vec![Span::styled(mark, style), Span::styled(truncate(label, wu.saturating_sub(6)), style)]));
        // The description is indented under the label; on a narrow box it is cut rather than wrapped.
        c.push(Line::from(Span::styled(format!("      {}", truncate(about, wu.saturating_sub(6))), s.hint)));
    }
    if form.choice == 1 {
        c.blank();
        let fields = [("Relay URL", &form.url, "wss://chat.example.org"), ("CA file", &form.ca_file, "optional")];
        for (i, (label, input, placeholder)) in fields.into_iter().enumerate() {
            let spec = Field { label, label_w: 10, input, width: wu, active: form.field == i, mask: None, placeholder };
            c.field(spec, look);
        }
    }
    if let Some(error) = &form.error {
        c.blank();
        c.para(error, s.error, wu);
    }
    c.blank();
    let mut pairs = vec![(h.choose.as_str(), "choose")];
    if form.choice == 1 {
        pairs.push((h.next_field.as_str(), "next field"));
    }
    pairs.extend([(h.submit.as_str(), "continue"), (h.force_quit.as_str(), "quit")]);
    c.lines.extend(hint_lines(&pairs, wu, look));
    let cursor = panel(frame, area, "Welcome to Huddle", c, w, look);
    // The cursor only means something while a field is shown.
    cursor.filter(|_| form.choice == 1)
}
