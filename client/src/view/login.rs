//! The login screen: log in or create an account on the chosen relay.

use huddle_shared::model::RegistrationPolicy;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};

use crate::app::{LoginForm, LoginMode, Model};

use super::form::{Content, Field, hint_lines, inner_width, panel};
use super::look::Look;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, form: &LoginForm, look: &Look) -> Option<Position> {
    let s = &look.styles;
    let h = &look.hints;
    let w = inner_width(area, 60);
    let wu = usize::from(w);
    let register = form.mode == LoginMode::Register;
    let (title, heading, other) = if register {
        ("Create an account", format!("Create an account on {}", model.relay_url), "log in instead")
    } else {
        ("Log in", format!("Log in to {}", model.relay_url), "create an account instead")
    };
    let mut c = Content::default();
    c.para(&heading, s.title, wu);
    c.blank();
    let invite = register && model.session.registration == RegistrationPolicy::Invite;
    let mut fields = vec![("Handle", &form.handle, None, ""), ("Password", &form.password, Some('•'), "")];
    if invite {
        fields.push(("Invite code", &form.invite, None, "from the relay's admin"));
    }
    for (i, (label, input, mask, placeholder)) in fields.into_iter().enumerate() {
        let spec = Field { label, label_w: 12, input, width: wu, active: form.field == i, mask, placeholder };
        c.field(spec, look);
    }
    if register && model.session.registration == RegistrationPolicy::Closed {
        c.blank();
        c.para("This relay does not take new accounts; its admin can make one for you.", s.error, wu);
    }
    if let Some(error) = &form.error {
        c.blank();
        c.para(error, s.error, wu);
    }
    if form.busy {
        c.blank();
        c.para(if register { "Creating your account…" } else { "Logging in…" }, s.pending, wu);
    }
    c.blank();
    let submit = if register { "create account" } else { "log in" };
    let pairs =
        [(h.next_field.as_str(), "switches fields"), (h.switch_mode.as_str(), other), (h.submit.as_str(), submit)];
    c.lines.extend(hint_lines(&pairs, wu, look));
    panel(frame, area, title, c, w, look)
}
