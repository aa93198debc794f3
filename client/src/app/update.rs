//! `update`: the only place the model changes, and a router. A key becomes an action through the keymap and goes to
//! the part of the screen it is for; network events go to `events`. Whatever is decided comes back as [`Cmd`]s;
//! intents among them ([`Cmd::Do`]) are performed here, by `perform::perform`, and the rest is for the runtime.

use crossterm::event::{KeyEvent, KeyEventKind};
use huddle_shared::model::RegistrationPolicy;
use huddle_shared::{Handle, Millis};

use super::editing;
use super::input::TextInput;
use super::notices::capitalize;
use super::{Cmd, Focus, Level, LoginForm, LoginMode, Model, Msg, Screen};
use crate::keymap::{Action, Keymap, Mode};
use crate::net;

/// How long an informational notice stays in the status bar.
const NOTICE_MS: i64 = 8_000;
/// How many intents one message may set off in a chain (an intent's follow-ups are performed too); a bound, so a
/// mistake can never loop.
const MAX_CHAIN: usize = 16;

pub fn update(model: &mut Model, msg: Msg, keymap: &Keymap) -> Vec<Cmd> {
    let mut pending = step(model, msg, keymap);
    let mut out = Vec::new();
    for _ in 0..MAX_CHAIN {
        let (intents, rest): (Vec<Cmd>, Vec<Cmd>) = pending.into_iter().partition(|c| matches!(c, Cmd::Do(_)));
        out.extend(rest);
        if intents.is_empty() {
            break;
        }
        pending = intents
            .into_iter()
            .flat_map(|c| match c {
                Cmd::Do(intent) => super::perform::perform(model, intent),
                other => vec![other],
            })
            .collect();
    }
    // Whatever changed, the open conversation is on screen now: tell the senders who asked.
    out.extend(super::receipts::report_read(model));
    out
}

fn step(model: &mut Model, msg: Msg, keymap: &Keymap) -> Vec<Cmd> {
    match msg {
        Msg::Tick(now) => {
            model.now = now;
            model.typing.retain(|t| now - t.at < super::TYPING_SHOWN_MS);
            if model.notice.as_ref().is_some_and(|n| n.level == Level::Info && now - n.at > NOTICE_MS) {
                model.notice = None;
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            model.size = (w, h);
            Vec::new()
        }
        Msg::Net(event) => super::events::apply(model, event),
        Msg::Drawn(drawn) => super::navigation::drawn(model, drawn),
        Msg::Paste(text) => {
            paste(model, &text);
            Vec::new()
        }
        Msg::Key(key) if key.kind == KeyEventKind::Press => match &model.screen {
            Screen::Welcome(_) => welcome_key(model, key, keymap),
            Screen::Login(_) => login_key(model, key, keymap),
            Screen::Main => main_key(model, key, keymap),
        },
        Msg::Key(_) => Vec::new(),
    }
}

fn paste(model: &mut Model, text: &str) {
    // A paste goes where typing would go; newlines stay in messages, not in one-line fields.
    let single = text.replace(['\r', '\n'], " ");
    match &mut model.screen {
        Screen::Welcome(form) => {
            let field = if form.field == 0 { &mut form.url } else { &mut form.ca_file };
            field.insert_str(single.trim());
        }
        Screen::Login(form) => field_of(form).insert_str(single.trim()),
        Screen::Main => {
            if let Some(field) = model.dialogs.front_mut().and_then(super::dialogs::text_field) {
                field.insert_str(&single);
            } else if model.dialogs.is_empty() {
                model.focus = Focus::Input;
                model.input.insert_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
            }
            // A question on top takes no paste: pasted text is never an answer.
        }
    }
}

fn welcome_key(model: &mut Model, key: KeyEvent, keymap: &Keymap) -> Vec<Cmd> {
    let action = keymap.action_for(Mode::Dialog, &key);
    if action == Some(Action::Quit) {
        return vec![Cmd::Do(super::intent::Intent::Quit)];
    }
    let Screen::Welcome(form) = &mut model.screen else { return Vec::new() };
    use crossterm::event::KeyCode;
    match key.code {
        KeyCode::Esc if form.choice == 1 => form.choice = 0,
        KeyCode::Esc => return vec![Cmd::Do(super::intent::Intent::Quit)],
        KeyCode::Up | KeyCode::BackTab if form.choice == 1 && form.field == 1 => form.field = 0,
        KeyCode::Up | KeyCode::BackTab => form.choice = 0,
        KeyCode::Down | KeyCode::Tab if form.choice == 0 => form.choice = 1,
        KeyCode::Down | KeyCode::Tab => form.field = 1,
        KeyCode::Enter if form.choice == 0 => return vec![Cmd::UsePersonalRelay],
        KeyCode::Enter => {
            let url = form.url.text().trim().to_owned();
            if let Err(e) = crate::net::transport::RelayUrl::parse(&url) {
                form.error = Some(capitalize(&e.to_string()));
                return Vec::new();
            }
            let ca = form.ca_file.text().trim();
            let ca_file = (!ca.is_empty()).then(|| ca.to_owned());
            return vec![Cmd::UseRelay { url, ca_file }];
        }
        _ if form.choice == 1 => {
            let field = if form.field == 0 { &mut form.url } else { &mut form.ca_file };
            editing::apply(field, &key, keymap.editing_action(&key));
            form.error = None;
        }
        _ => {}
    }
    Vec::new()
}

fn field_of(form: &mut LoginForm) -> &mut TextInput {
    match form.field {
        0 => &mut form.handle,
        1 => &mut form.password,
        _ => &mut form.invite,
    }
}

fn login_key(model: &mut Model, key: KeyEvent, keymap: &Keymap) -> Vec<Cmd> {
    use crossterm::event::{KeyCode, KeyModifiers};
    if keymap.action_for(Mode::Dialog, &key) == Some(Action::Quit) {
        return vec![Cmd::Do(super::intent::Intent::Quit)];
    }
    let invite = model.session.registration == RegistrationPolicy::Invite;
    let Screen::Login(form) = &mut model.screen else { return Vec::new() };
    let fields = if form.mode == LoginMode::Register && invite { 3 } else { 2 };
    match key.code {
        KeyCode::Esc => return vec![Cmd::Do(super::intent::Intent::Quit)],
        KeyCode::Char('r') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            form.mode = if form.mode == LoginMode::Login { LoginMode::Register } else { LoginMode::Login };
            form.field = form.field.min(1);
            form.error = None;
        }
        KeyCode::Tab | KeyCode::Down => form.field = (form.field + 1) % fields,
        KeyCode::BackTab | KeyCode::Up => form.field = (form.field + fields - 1) % fields,
        KeyCode::Enter if !form.busy => {
            let handle = match Handle::parse(form.handle.text().trim()) {
                Ok(h) => h,
                Err(e) => {
                    form.error = Some(format!("{}.", capitalize(&e.to_string())));
                    form.field = 0;
                    return Vec::new();
                }
            };
            let password = form.password.text().to_owned();
            if password.len() < huddle_shared::limits::MIN_PASSWORD_BYTES {
                form.error = Some("Passwords are at least 8 characters long.".to_owned());
                form.field = 1;
                return Vec::new();
            }
            form.busy = true;
            form.error = None;
            let auth = match form.mode {
                LoginMode::Login => net::Auth::Login { handle, password },
                LoginMode::Register => {
                    let code = form.invite.text().trim();
                    let invite = (!code.is_empty()).then(|| code.to_owned());
                    net::Auth::Register { handle, password, invite }
                }
            };
            return vec![Cmd::Net(net::Command::Authenticate(auth))];
        }
        _ => {
            editing::apply(field_of(form), &key, keymap.editing_action(&key));
            form.error = None;
        }
    }
    Vec::new()
}

/// The keymap table consulted for a key on the main screen.
fn mode(model: &Model) -> Mode {
    if !model.dialogs.is_empty() {
        return Mode::Dialog;
    }
    match model.focus {
        Focus::List => Mode::List,
        Focus::Log => Mode::Log,
        Focus::Input => Mode::Input,
    }
}

fn main_key(model: &mut Model, key: KeyEvent, keymap: &Keymap) -> Vec<Cmd> {
    let mode = mode(model);
    let action = keymap.action_for(mode, &key);
    if action == Some(Action::Quit) {
        return super::confirm::ask_quit(model);
    }
    if model.help {
        scroll_overlay(&mut model.help_scroll, action, || model.help = false);
        if !model.help {
            model.help_scroll = 0;
        }
        return Vec::new();
    }
    if let Some(mut scroll) = model.notices_view {
        let mut open = true;
        scroll_overlay(&mut scroll, action, || open = false);
        model.notices_view = open.then_some(scroll);
        return Vec::new();
    }
    if mode == Mode::Dialog {
        return super::dialogs::key(model, key, action, keymap.editing_action(&key));
    }
    if let Some(search) = model.search.as_mut().filter(|s| s.editing) {
        match action {
            Some(Action::Back) => model.search = None,
            Some(Action::Send | Action::SearchNext) => {
                search.editing = false;
                return super::search::next(model);
            }
            _ => {
                editing::apply(&mut search.query, &key, keymap.editing_action(&key));
                super::search::forget_match(model);
            }
        }
        return Vec::new();
    }
    // The search bar says "Esc close" wherever the focus is.
    if action == Some(Action::Back) && model.search.is_some() {
        model.search = None;
        return Vec::new();
    }
    match action {
        Some(a) if super::navigation::is_global(a) => super::navigation::global(model, a),
        // A character typed anywhere is text of the message being written.
        None if mode != Mode::Input && editing::typed(&key).is_some() => {
            model.focus = Focus::Input;
            super::composer::key(model, &key, None, keymap.editing_action(&key))
        }
        _ => match mode {
            Mode::List => super::navigation::list_key(model, action),
            Mode::Log => super::navigation::log_key(model, action),
            _ => super::composer::key(model, &key, action, keymap.editing_action(&key)),
        },
    }
}

/// Keys over a scrollable overlay (help, notices): arrows and page keys scroll it; any other key closes it.
fn scroll_overlay(scroll: &mut usize, action: Option<Action>, close: impl FnOnce()) {
    let rows: isize = match action {
        Some(Action::Up | Action::HistoryPrev) => -1,
        Some(Action::Down | Action::HistoryNext) => 1,
        Some(Action::PageUp) => -10,
        Some(Action::PageDown) => 10,
        _ => 0,
    };
    if rows == 0 {
        close();
    } else {
        // The view stops at the end; keep the number within what any screen could show.
        *scroll = scroll.saturating_add_signed(rows).min(10_000);
    }
}

/// What the screen shows of the passing time: ten-second steps (clocks, "5 min ago", countdowns), the second while a
/// huddle's countdown is under a minute, who is typing, and whether a notice is up. A tick that leaves it unchanged
/// draws nothing.
pub fn clock_face(model: &Model) -> (Millis, usize, bool) {
    let final_minute = model.handles.iter().any(|h| {
        h.session
            .groups
            .values()
            .filter_map(|g| g.huddle.as_ref()?.ends_at)
            .any(|end| (0..61_000).contains(&(end - model.now)))
    });
    // "3 min ago" counts from the event, not from the wall clock's minute: ten seconds keeps it within that of true.
    let unit = if final_minute { 1000 } else { 10_000 };
    (model.now / unit, model.typing.len(), model.notice.is_some())
}
