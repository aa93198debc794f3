//! Key bindings as data: which key does what in each part of the screen.
//!
//! The defaults live in `assets/keymap.toml` (embedded with `include_str!`), one table per [`Mode`] mapping a key
//! spec such as `"ctrl-c"` to an [`Action`]. A user's `keymap.toml` is laid over them key by key and may unbind a
//! default with `"none"`. The UI asks [`Keymap::action_for`] what a key press means in the focused mode; `None` means
//! "not bound", which in [`Mode::Input`] makes a character key (without ctrl or alt) text to type.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::{Deserialize, Serialize};

use crate::config::toml_error;

/// The documented default bindings.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// What a key can ask the client to do. The serde names (`add_friend`, `page_up`, …) are the names used in
/// `keymap.toml`. The declaration order is the order of the help screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    Back,
    AddFriend,
    DeleteFriend,
    Block,
    EditEntry,
    SetStatus,
    SwitchHandle,
    Search,
    SearchNext,
    Send,
    Newline,
    HistoryPrev,
    HistoryNext,
    Complete,
    ToggleInfo,
    NewGroup,
    ToggleMembers,
    Receipts,
    OpenQuestion,
    Notices,
    PreviousConversation,
    NextConversation,
    NextUnread,
    #[serde(rename = "go_to_1")]
    GoTo1,
    #[serde(rename = "go_to_2")]
    GoTo2,
    #[serde(rename = "go_to_3")]
    GoTo3,
    #[serde(rename = "go_to_4")]
    GoTo4,
    #[serde(rename = "go_to_5")]
    GoTo5,
    #[serde(rename = "go_to_6")]
    GoTo6,
    #[serde(rename = "go_to_7")]
    GoTo7,
    #[serde(rename = "go_to_8")]
    GoTo8,
    #[serde(rename = "go_to_9")]
    GoTo9,
    CloseConversation,
    ToggleMute,
    Redraw,
    DeleteBack,
    DeleteForward,
    LineStart,
    LineEnd,
    WordLeft,
    WordRight,
    DeleteWordBack,
    DeleteWordForward,
    DeleteToStart,
    DeleteToEnd,
    Yank,
    Undo,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 60] = [
        Action::Quit,
        Action::Help,
        Action::FocusNext,
        Action::FocusPrev,
        Action::Up,
        Action::Down,
        Action::Left,
        Action::Right,
        Action::PageUp,
        Action::PageDown,
        Action::Home,
        Action::End,
        Action::Open,
        Action::Back,
        Action::AddFriend,
        Action::DeleteFriend,
        Action::Block,
        Action::EditEntry,
        Action::SetStatus,
        Action::SwitchHandle,
        Action::Search,
        Action::SearchNext,
        Action::Send,
        Action::Newline,
        Action::HistoryPrev,
        Action::HistoryNext,
        Action::Complete,
        Action::ToggleInfo,
        Action::NewGroup,
        Action::ToggleMembers,
        Action::Receipts,
        Action::OpenQuestion,
        Action::Notices,
        Action::PreviousConversation,
        Action::NextConversation,
        Action::NextUnread,
        Action::GoTo1,
        Action::GoTo2,
        Action::GoTo3,
        Action::GoTo4,
        Action::GoTo5,
        Action::GoTo6,
        Action::GoTo7,
        Action::GoTo8,
        Action::GoTo9,
        Action::CloseConversation,
        Action::ToggleMute,
        Action::Redraw,
        Action::DeleteBack,
        Action::DeleteForward,
        Action::LineStart,
        Action::LineEnd,
        Action::WordLeft,
        Action::WordRight,
        Action::DeleteWordBack,
        Action::DeleteWordForward,
        Action::DeleteToStart,
        Action::DeleteToEnd,
        Action::Yank,
        Action::Undo,
    ];

    /// A short phrase for the help screen, e.g. "add a friend".
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit Huddle",
            Action::Help => "show the keys you can press",
            Action::FocusNext => "move to the next part of the screen",
            Action::FocusPrev => "move to the previous part of the screen",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::Left => "move left",
            Action::Right => "move right",
            Action::PageUp => "scroll up a page",
            Action::PageDown => "scroll down a page",
            Action::Home => "go to the top",
            Action::End => "go to the bottom",
            Action::Open => "open the highlighted entry, or choose the highlighted answer",
            Action::Back => "go back or cancel",
            Action::AddFriend => "add a friend",
            Action::DeleteFriend => "delete the highlighted friend, or leave the highlighted group",
            Action::Block => "block or unblock the highlighted person",
            Action::EditEntry => "nickname and note of the highlighted friend",
            Action::SetStatus => "set your status",
            Action::SwitchHandle => "switch to another of your handles",
            Action::Search => "search the conversation",
            Action::SearchNext => "find the next match",
            Action::Send => "send the message",
            Action::Newline => "start a new line",
            Action::HistoryPrev => "recall an earlier message you typed",
            Action::HistoryNext => "recall a later message you typed",
            Action::Complete => "complete a name or a command",
            Action::ToggleInfo => "show or hide details",
            Action::NewGroup => "start a group",
            Action::ToggleMembers => "show or hide a group's members",
            Action::Receipts => "who has received and read your messages",
            Action::OpenQuestion => "open the oldest question waiting for you",
            Action::Notices => "show every notice of this session",
            Action::PreviousConversation => "open the conversation above in the list",
            Action::NextConversation => "open the conversation below in the list",
            Action::NextUnread => "open the next conversation with unread messages",
            Action::GoTo1 => "open conversation 1 of the list",
            Action::GoTo2 => "open conversation 2 of the list",
            Action::GoTo3 => "open conversation 3 of the list",
            Action::GoTo4 => "open conversation 4 of the list",
            Action::GoTo5 => "open conversation 5 of the list",
            Action::GoTo6 => "open conversation 6 of the list",
            Action::GoTo7 => "open conversation 7 of the list",
            Action::GoTo8 => "open conversation 8 of the list",
            Action::GoTo9 => "open conversation 9 of the list",
            Action::CloseConversation => "close the conversation (a group is put away under Archived)",
            Action::ToggleMute => "mute or unmute the open conversation",
            Action::Redraw => "redraw the screen",
            Action::DeleteBack => "delete the character before the cursor",
            Action::DeleteForward => "delete the character under the cursor",
            Action::LineStart => "go to the start of the line",
            Action::LineEnd => "go to the end of the line",
            Action::WordLeft => "go back a word",
            Action::WordRight => "go forward a word",
            Action::DeleteWordBack => "delete the word before the cursor",
            Action::DeleteWordForward => "delete the word after the cursor",
            Action::DeleteToStart => "delete to the start of the line",
            Action::DeleteToEnd => "delete to the end of the line",
            Action::Yank => "put back the text deleted last",
            Action::Undo => "undo the last change",
        }
    }

    /// For `go_to_N`: N.
    pub fn go_to(self) -> Option<usize> {
        Some(match self {
            Action::GoTo1 => 1,
            Action::GoTo2 => 2,
            Action::GoTo3 => 3,
            Action::GoTo4 => 4,
            Action::GoTo5 => 5,
            Action::GoTo6 => 6,
            Action::GoTo7 => 7,
            Action::GoTo8 => 8,
            Action::GoTo9 => 9,
            _ => return None,
        })
    }
}

/// Which part of the screen has focus; each has its own table of bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Anywhere on the main screen: consulted when the focused part does not bind the key.
    Main,
    /// The friend list.
    List,
    /// The conversation.
    Log,
    /// The line where a message is typed.
    Input,
    /// A question or form drawn on top of the rest.
    Dialog,
}

impl Mode {
    pub const ALL: [Mode; 5] = [Mode::Main, Mode::List, Mode::Log, Mode::Input, Mode::Dialog];

    /// The table name in `keymap.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Main => "main",
            Mode::List => "list",
            Mode::Log => "log",
            Mode::Input => "input",
            Mode::Dialog => "dialog",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a keymap could not be read. The `Display` text is written for the person who edited the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    /// A key spec on its own (outside a file) is not understood.
    #[error("\"{spec}\" is not a key Huddle knows: {reason}")]
    Key { spec: String, reason: String },
    /// The file is not TOML at all.
    #[error("keymap: the file is not valid TOML: {0}")]
    Syntax(String),
    /// A top-level name that is not one of the modes.
    #[error("keymap: [{0}] is not a part of the screen; the tables are [main], [list], [log], [input] and [dialog]")]
    UnknownTable(String),
    /// A `"key" = "action"` line outside any table.
    #[error("keymap: \"{0}\" must be inside a table: [main], [list], [log], [input] or [dialog]")]
    OutsideTable(String),
    /// One `"key" = "action"` line is wrong.
    #[error("keymap: [{mode}] \"{key}\": {problem}")]
    Binding { mode: String, key: String, problem: String },
}

/// One key with its modifiers, normalized so that equal keys compare equal: SHIFT on a character is folded into the
/// character (`shift-a` is `A`), and shift-tab is [`KeyCode::BackTab`] without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl KeySpec {
    /// Parses the `keymap.toml` key syntax: `"ctrl-c"`, `"alt-enter"`, `"shift-tab"`, `"f5"`, `"space"`, `"?"`, `"N"`.
    pub fn parse(spec: &str) -> Result<KeySpec, KeymapError> {
        let fail = |reason: &str| KeymapError::Key { spec: spec.to_owned(), reason: reason.to_owned() };
        let mut rest = spec;
        let mut modifiers = KeyModifiers::NONE;
        // A key name never contains "-" except the "-" key itself, so prefixes are peeled off while something
        // remains after them ("ctrl--" is ctrl and the minus key).
        while let Some((prefix, after)) = rest.split_once('-').filter(|(_, after)| !after.is_empty()) {
            let modifier = match prefix.to_ascii_lowercase().as_str() {
                "ctrl" => KeyModifiers::CONTROL,
                "alt" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => return Err(fail("the modifiers are ctrl, alt and shift, joined to the key by \"-\"")),
            };
            if modifiers.contains(modifier) {
                return Err(fail("a modifier is written twice"));
            }
            modifiers |= modifier;
            rest = after;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(fail("the key is empty")),
            (Some(c), None) => {
                if c.is_whitespace() || c.is_control() {
                    return Err(fail("write a space as \"space\""));
                }
                if modifiers.contains(KeyModifiers::SHIFT) && !c.is_ascii_lowercase() {
                    return Err(fail(
                        "shift with a character: write the character shift gives, such as \"A\" or \"?\"",
                    ));
                }
                KeyCode::Char(c)
            }
            _ => match named_key(&rest.to_ascii_lowercase()) {
                Some(code) => code,
                None if rest.ends_with('-') => return Err(fail("there is no key after the modifiers")),
                None => {
                    return Err(fail(
                        "use a single character or one of enter, esc, tab, backspace, delete, insert, space, up, \
                         down, left, right, pageup, pagedown, home, end, f1 to f12",
                    ));
                }
            },
        };
        Ok(KeySpec::normalized(code, modifiers))
    }

    /// The spec a key event stands for, if it is a press. Release and repeat events are not actions.
    pub fn from_event(key: &KeyEvent) -> Option<KeySpec> {
        (key.kind == KeyEventKind::Press).then(|| KeySpec::normalized(key.code, key.modifiers))
    }

    /// Folds the ways one key can be reported into one form, both for parsed specs and for terminal events.
    fn normalized(code: KeyCode, mut modifiers: KeyModifiers) -> KeySpec {
        let shift = modifiers.contains(KeyModifiers::SHIFT);
        let code = match code {
            // Terminals report a shifted character as the character shift produced, with or without SHIFT set;
            // some (with keyboard enhancements) report the lowercase letter plus SHIFT instead.
            KeyCode::Char(c) => {
                modifiers.remove(KeyModifiers::SHIFT);
                if shift && c.is_ascii_lowercase() { KeyCode::Char(c.to_ascii_uppercase()) } else { KeyCode::Char(c) }
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if shift => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        KeySpec { code, modifiers }
    }

    /// Sorts the simplest key to write first: fewer modifiers, then named keys, then by name.
    fn rank(&self) -> (u32, bool, String) {
        (self.modifiers.bits().count_ones(), matches!(self.code, KeyCode::Char(_)), self.to_string())
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        _ => {
            let n: u8 = name.strip_prefix('f')?.parse().ok()?;
            if !(1..=12).contains(&n) {
                return None;
            }
            KeyCode::F(n)
        }
    })
}

/// The canonical spelling, as shown on the help screen: `ctrl-alt-x`, `shift-tab`, `space`, `N`.
impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, name) in
            [(KeyModifiers::CONTROL, "ctrl-"), (KeyModifiers::ALT, "alt-"), (KeyModifiers::SHIFT, "shift-")]
        {
            if self.modifiers.contains(flag) {
                f.write_str(name)?;
            }
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            // Parsing never produces other codes; this only matters for Debug-like output.
            other => write!(f, "{other:?}"),
        }
    }
}

/// The resolved bindings of every mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    modes: HashMap<Mode, HashMap<KeySpec, Action>>,
}

impl Default for Keymap {
    /// The built-in bindings. The embedded file is checked by a test, so failing here is a build mistake; it is
    /// logged and leaves no keys bound rather than stopping the client.
    fn default() -> Self {
        Keymap::load(None).unwrap_or_else(|e| {
            tracing::error!("the built-in keymap is broken, so no keys are bound: {e}");
            Keymap { modes: HashMap::new() }
        })
    }
}

impl Keymap {
    /// The defaults with the user's file (if any) laid over them: each line replaces the default for that key in
    /// that mode, and `"none"` removes it.
    pub fn load(user_toml: Option<&str>) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap { modes: HashMap::new() };
        keymap.apply(DEFAULT_KEYMAP)?;
        if let Some(text) = user_toml {
            keymap.apply(text)?;
        }
        Ok(keymap)
    }

    /// What a key press means in `mode` (for the list, the log and the input: their own table first, then
    /// `[main]`); `None` for unbound keys and for release and repeat events.
    pub fn action_for(&self, mode: Mode, key: &KeyEvent) -> Option<Action> {
        let spec = KeySpec::from_event(key)?;
        let own = self.modes.get(&mode).and_then(|m| m.get(&spec)).copied();
        let main = matches!(mode, Mode::List | Mode::Log | Mode::Input)
            .then(|| self.modes.get(&Mode::Main).and_then(|m| m.get(&spec)).copied())
            .flatten();
        own.or(main)
    }

    /// What a key means to a text field (the `[input]` table alone, without `[main]`).
    pub fn editing_action(&self, key: &KeyEvent) -> Option<Action> {
        let spec = KeySpec::from_event(key)?;
        self.modes.get(&Mode::Input).and_then(|m| m.get(&spec)).copied()
    }

    /// Every binding of `mode`, for the help screen: in action order, and for each action its simplest key first.
    pub fn bindings(&self, mode: Mode) -> Vec<(String, Action)> {
        let mut list: Vec<(KeySpec, Action)> =
            self.modes.get(&mode).map(|m| m.iter().map(|(k, a)| (*k, *a)).collect()).unwrap_or_default();
        list.sort_by_cached_key(|(key, action)| (*action, key.rank()));
        list.into_iter().map(|(key, action)| (key.to_string(), action)).collect()
    }

    /// The simplest key bound to `action` in `mode` (or, for the parts of the main screen, in `[main]`), for
    /// hints such as "F1 help".
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<String> {
        let find = |mode: Mode| {
            self.modes
                .get(&mode)?
                .iter()
                .filter(|(_, a)| **a == action)
                .map(|(key, _)| key)
                .min_by_key(|key| key.rank())
                .map(ToString::to_string)
        };
        find(mode).or_else(|| matches!(mode, Mode::List | Mode::Log | Mode::Input).then(|| find(Mode::Main)).flatten())
    }

    /// Lays one file over the current bindings. Checks the whole file before changing anything.
    fn apply(&mut self, text: &str) -> Result<(), KeymapError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| KeymapError::Syntax(toml_error(text, &e)))?;
        let mut changes: Vec<(Mode, KeySpec, Option<Action>)> = Vec::new();
        for (table_name, value) in &table {
            let toml::Value::Table(lines) = value else {
                return Err(KeymapError::OutsideTable(table_name.clone()));
            };
            let mode = Mode::ALL
                .into_iter()
                .find(|m| m.name() == table_name)
                .ok_or_else(|| KeymapError::UnknownTable(table_name.clone()))?;
            let mut seen: HashMap<KeySpec, &str> = HashMap::new();
            for (key, value) in lines {
                let problem =
                    |problem: String| KeymapError::Binding { mode: mode.name().to_owned(), key: key.clone(), problem };
                let spec = match KeySpec::parse(key) {
                    Ok(spec) => spec,
                    Err(KeymapError::Key { reason, .. }) => return Err(problem(reason)),
                    Err(other) => return Err(other),
                };
                if let Some(first) = seen.insert(spec, key) {
                    return Err(problem(format!("this is the same key as \"{first}\"")));
                }
                let toml::Value::String(name) = value else {
                    return Err(problem("the action must be a quoted name, like \"quit\"".to_owned()));
                };
                let action = if name == "none" {
                    None
                } else {
                    let parsed = toml::Value::String(name.clone()).try_into::<Action>();
                    Some(parsed.map_err(|_| problem(format!("unknown action \"{name}\"")))?)
                };
                changes.push((mode, spec, action));
            }
        }
        for (mode, spec, action) in changes {
            let bindings = self.modes.entry(mode).or_default();
            match action {
                Some(action) => bindings.insert(spec, action),
                None => bindings.remove(&spec),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn ch(c: char) -> KeyEvent {
        key(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn spec(s: &str) -> KeySpec {
        KeySpec::parse(s).unwrap()
    }

    #[test]
    fn parses_every_spec_form() {
        let cases: &[(&str, KeyCode, KeyModifiers)] = &[
            ("ctrl-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("alt-y", KeyCode::Char('y'), KeyModifiers::ALT),
            ("ctrl-alt-x", KeyCode::Char('x'), KeyModifiers::CONTROL.union(KeyModifiers::ALT)),
            ("shift-tab", KeyCode::BackTab, KeyModifiers::NONE),
            ("enter", KeyCode::Enter, KeyModifiers::NONE),
            ("alt-enter", KeyCode::Enter, KeyModifiers::ALT),
            ("esc", KeyCode::Esc, KeyModifiers::NONE),
            ("tab", KeyCode::Tab, KeyModifiers::NONE),
            ("backspace", KeyCode::Backspace, KeyModifiers::NONE),
            ("up", KeyCode::Up, KeyModifiers::NONE),
            ("down", KeyCode::Down, KeyModifiers::NONE),
            ("left", KeyCode::Left, KeyModifiers::NONE),
            ("right", KeyCode::Right, KeyModifiers::NONE),
            ("shift-up", KeyCode::Up, KeyModifiers::SHIFT),
            ("pageup", KeyCode::PageUp, KeyModifiers::NONE),
            ("pagedown", KeyCode::PageDown, KeyModifiers::NONE),
            ("home", KeyCode::Home, KeyModifiers::NONE),
            ("end", KeyCode::End, KeyModifiers::NONE),
            ("f1", KeyCode::F(1), KeyModifiers::NONE),
            ("f12", KeyCode::F(12), KeyModifiers::NONE),
            ("space", KeyCode::Char(' '), KeyModifiers::NONE),
            ("ctrl-space", KeyCode::Char(' '), KeyModifiers::CONTROL),
            ("a", KeyCode::Char('a'), KeyModifiers::NONE),
            ("?", KeyCode::Char('?'), KeyModifiers::NONE),
            ("/", KeyCode::Char('/'), KeyModifiers::NONE),
            ("A", KeyCode::Char('A'), KeyModifiers::NONE),
            ("shift-a", KeyCode::Char('A'), KeyModifiers::NONE),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE),
            ("ctrl--", KeyCode::Char('-'), KeyModifiers::CONTROL),
            ("é", KeyCode::Char('é'), KeyModifiers::NONE),
            ("Enter", KeyCode::Enter, KeyModifiers::NONE),
        ];
        for (text, code, modifiers) in cases {
            assert_eq!(spec(text), KeySpec { code: *code, modifiers: *modifiers }, "{text}");
        }
    }

    #[test]
    fn specs_display_in_canonical_form() {
        for (text, shown) in [
            ("ctrl-c", "ctrl-c"),
            ("alt-ctrl-x", "ctrl-alt-x"),
            ("shift-tab", "shift-tab"),
            ("shift-a", "A"),
            ("space", "space"),
            ("f5", "f5"),
            ("pagedown", "pagedown"),
            ("ctrl--", "ctrl--"),
        ] {
            assert_eq!(spec(text).to_string(), shown);
            assert_eq!(spec(shown), spec(text), "display must parse back to the same key");
        }
    }

    #[test]
    fn rejects_bad_specs_with_reasons() {
        for bad in ["", "ctrl-", "hyper-a", "ctrl-ctrl-a", "f13", "f0", "enterr", "shift-?", "shift-1", " "] {
            let err = KeySpec::parse(bad).unwrap_err();
            assert!(matches!(err, KeymapError::Key { .. }), "{bad}: {err}");
            assert!(err.to_string().contains(&format!("\"{bad}\"")), "{err}");
        }
    }

    #[test]
    fn events_match_specs() {
        let km = Keymap::default();
        // SHIFT on a character is already in the character, whether or not the terminal sets the flag.
        let user = Keymap::load(Some("[list]\n\"N\" = \"add_friend\"\n")).unwrap();
        assert_eq!(user.action_for(Mode::List, &ch('N')), Some(Action::AddFriend));
        assert_eq!(user.action_for(Mode::List, &key(KeyCode::Char('N'), KeyModifiers::SHIFT)), Some(Action::AddFriend));
        assert_eq!(user.action_for(Mode::List, &key(KeyCode::Char('n'), KeyModifiers::SHIFT)), Some(Action::AddFriend));
        assert_eq!(user.action_for(Mode::List, &ch('n')), None);
        // BackTab is shift-tab, reported with or without SHIFT; so is Tab with SHIFT.
        for event in [
            key(KeyCode::BackTab, KeyModifiers::NONE),
            key(KeyCode::BackTab, KeyModifiers::SHIFT),
            key(KeyCode::Tab, KeyModifiers::SHIFT),
        ] {
            assert_eq!(km.action_for(Mode::List, &event), Some(Action::FocusPrev));
        }
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        // Other modifiers make it a different key.
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('c'), KeyModifiers::ALT)), None);
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('q'), KeyModifiers::SUPER)), None);
    }

    #[test]
    fn only_presses_are_actions() {
        let km = Keymap::default();
        for kind in [KeyEventKind::Release, KeyEventKind::Repeat] {
            let event =
                KeyEvent::new_with_kind_and_state(KeyCode::Char('c'), KeyModifiers::CONTROL, kind, KeyEventState::NONE);
            assert_eq!(km.action_for(Mode::List, &event), None);
        }
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
    }

    #[test]
    fn the_embedded_default_parses() {
        let km = Keymap::load(None).unwrap();
        assert_eq!(km, Keymap::default());
        for mode in Mode::ALL {
            assert!(!km.bindings(mode).is_empty(), "{mode} has no bindings");
        }
    }

    #[test]
    fn the_defaults_bind_the_documented_keys() {
        use Action::*;
        let km = Keymap::default();
        let check = |mode: Mode, pairs: &[(&str, Action)]| {
            for (text, action) in pairs {
                let event = KeyEvent::new(spec(text).code, spec(text).modifiers);
                assert_eq!(km.action_for(mode, &event), Some(*action), "[{mode}] {text}");
            }
        };
        let everywhere = [
            ("ctrl-c", Quit),
            ("f1", Help),
            ("alt-q", OpenQuestion),
            ("alt-l", Notices),
            ("alt-up", PreviousConversation),
            ("ctrl-p", PreviousConversation),
            ("alt-down", NextConversation),
            ("ctrl-n", NextConversation),
            ("alt-a", NextUnread),
            ("alt-1", GoTo1),
            ("alt-9", GoTo9),
            ("alt-w", CloseConversation),
            ("alt-x", ToggleMute),
            ("ctrl-l", Redraw),
            ("alt-n", AddFriend),
            ("alt-k", DeleteFriend),
            ("f9", Block),
            ("alt-e", EditEntry),
            ("alt-s", SetStatus),
            ("alt-h", SwitchHandle),
            ("alt-g", NewGroup),
            ("alt-i", ToggleInfo),
            ("alt-m", ToggleMembers),
            ("alt-r", Receipts),
            ("ctrl-f", Search),
            ("tab", FocusNext),
            ("shift-tab", FocusPrev),
        ];
        for mode in [Mode::List, Mode::Log] {
            check(mode, &everywhere);
        }
        check(Mode::Dialog, &[("ctrl-c", Quit), ("left", Left), ("right", Right), ("enter", Open), ("esc", Back)]);
        check(Mode::List, &[("up", Up), ("down", Down), ("home", Home), ("end", End), ("enter", Open)]);
        check(Mode::Log, &[("up", Up), ("down", Down), ("pageup", PageUp), ("pagedown", PageDown)]);
        check(
            Mode::Input,
            &[
                ("enter", Send),
                ("alt-enter", Newline),
                ("up", HistoryPrev),
                ("tab", Complete),
                ("ctrl-a", LineStart),
                ("ctrl-e", LineEnd),
                ("ctrl-k", DeleteToEnd),
                ("ctrl-u", DeleteToStart),
                ("ctrl-w", DeleteWordBack),
                ("ctrl-y", Yank),
                ("alt-b", WordLeft),
                ("alt-f", WordRight),
                ("ctrl-left", WordLeft),
                ("ctrl-z", Undo),
                ("alt-q", OpenQuestion),
                ("ctrl-c", Quit),
            ],
        );
    }

    /// The rule of the defaults: no printable character (without Ctrl or Alt) is an action anywhere on the main
    /// screen, so text a person types is never taken as a command, whatever part of the screen has focus.
    #[test]
    fn no_default_binds_a_character_someone_types() {
        let km = Keymap::default();
        for mode in [Mode::Main, Mode::List, Mode::Log, Mode::Input, Mode::Dialog] {
            for (key, action) in km.bindings(mode) {
                let spec = spec(&key);
                let typed = matches!(spec.code, KeyCode::Char(_)) && spec.modifiers.is_empty();
                assert!(!typed, "[{mode}] \"{key}\" = {action:?}: a typed character must never be an action");
            }
        }
        for c in ['a', 'q', 'y', 'n', 'N', 'd', 'b', 's', '?', '/', ' ', 'j', 'k'] {
            for mode in [Mode::List, Mode::Log, Mode::Input] {
                assert_eq!(km.action_for(mode, &ch(c)), None, "{c:?} in {mode} must be typed, not bound");
            }
        }
    }

    #[test]
    fn every_action_has_a_description_and_a_file_name() {
        for action in Action::ALL {
            assert!(!action.describe().is_empty());
            let name = toml::Value::try_from(action).unwrap();
            let back: Action = name.clone().try_into().unwrap();
            assert_eq!(back, action, "{name}");
        }
        let page_up = toml::Value::try_from(Action::PageUp).unwrap();
        assert_eq!(page_up.as_str(), Some("page_up"));
    }

    #[test]
    fn user_files_override_extend_and_unbind() {
        let km = Keymap::load(Some(
            r#"
            [main]
            "ctrl-c" = "none"
            "ctrl-q" = "quit"
            [list]
            "shift-a" = "add_friend"
            [input]
            "ctrl-j" = "newline"
            "#,
        ))
        .unwrap();
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)), None);
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('q'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(km.action_for(Mode::List, &ch('A')), Some(Action::AddFriend));
        assert_eq!(km.action_for(Mode::Input, &ch('A')), None, "a [list] binding stays in the list");
        // Defaults the file does not mention stay.
        assert_eq!(km.action_for(Mode::List, &key(KeyCode::Char('n'), KeyModifiers::ALT)), Some(Action::AddFriend));
        assert_eq!(km.action_for(Mode::Input, &key(KeyCode::Char('j'), KeyModifiers::CONTROL)), Some(Action::Newline));
        assert_eq!(km.action_for(Mode::Input, &key(KeyCode::Enter, KeyModifiers::ALT)), Some(Action::Newline));
        // The user's binding replaces the default for the same key.
        let km = Keymap::load(Some("[log]\n\"up\" = \"page_up\"\n")).unwrap();
        assert_eq!(km.action_for(Mode::Log, &key(KeyCode::Up, KeyModifiers::NONE)), Some(Action::PageUp));
        // Unbinding a key that was never bound is harmless.
        Keymap::load(Some("[dialog]\n\"f9\" = \"none\"\n")).unwrap();
    }

    #[test]
    fn the_vi_preset_loads_over_the_defaults() {
        let km = Keymap::load(Some(include_str!("../../assets/keymap-vi.toml"))).unwrap();
        assert_eq!(km.action_for(Mode::List, &ch('j')), Some(Action::Down));
        assert_eq!(km.action_for(Mode::List, &ch('a')), Some(Action::AddFriend));
        assert_eq!(km.action_for(Mode::Input, &ch('a')), None, "the input line still types every letter");
    }

    #[test]
    fn help_lists_and_hints() {
        let km = Keymap::default();
        assert_eq!(km.key_for(Mode::List, Action::Help).as_deref(), Some("f1"));
        assert_eq!(km.key_for(Mode::Input, Action::Quit).as_deref(), Some("ctrl-c"));
        assert_eq!(km.key_for(Mode::Input, Action::OpenQuestion).as_deref(), Some("alt-q"));
        assert_eq!(km.key_for(Mode::Input, Action::Newline).as_deref(), Some("alt-enter"));
        assert_eq!(km.key_for(Mode::Dialog, Action::Help), None);

        let main = km.bindings(Mode::Main);
        assert_eq!(main.first(), Some(&("ctrl-c".to_owned(), Action::Quit)));
        assert!(main.windows(2).all(|w| w[0].1 <= w[1].1), "grouped by action");
        assert!(main.contains(&("shift-tab".to_owned(), Action::FocusPrev)));
        assert_eq!(km.bindings(Mode::Dialog).iter().filter(|(_, a)| *a == Action::Left).count(), 3);
    }

    #[test]
    fn user_file_errors_name_the_table_and_the_key() {
        let err = |text: &str| Keymap::load(Some(text)).unwrap_err().to_string();
        assert_eq!(err("[list]\n\"ctrl-q\" = \"quitt\"\n"), "keymap: [list] \"ctrl-q\": unknown action \"quitt\"");
        let bad_key = err("[log]\n\"ctrl-hyper-q\" = \"quit\"\n");
        assert!(bad_key.starts_with("keymap: [log] \"ctrl-hyper-q\": the modifiers are"), "{bad_key}");
        let not_string = err("[input]\n\"a\" = 3\n");
        assert!(not_string.contains("[input] \"a\": the action must be a quoted name"), "{not_string}");
        let same = err("[list]\n\"A\" = \"quit\"\n\"shift-a\" = \"help\"\n");
        assert!(same.contains("same key as"), "{same}");
        let table = err("[lists]\n\"a\" = \"quit\"\n");
        assert!(table.contains("[lists] is not a part of the screen"), "{table}");
        let top = err("\"a\" = \"quit\"\n");
        assert!(top.contains("\"a\" must be inside a table"), "{top}");
        assert!(err("[list\n").starts_with("keymap: the file is not valid TOML"));
        // A broken file changes nothing: the error comes before any binding is applied.
        assert!(Keymap::load(Some("[list]\n\"q\" = \"none\"\n\"x\" = \"nope\"\n")).is_err());
    }
}
