//! How the view looks: the styles it paints with and the key names it shows in hints.
//!
//! The view owns this small struct so that it does not depend on the theme and keymap modules; the runtime builds a
//! [`Look`] from those (colours from the theme, key names from the keymap) and passes it to [`crate::view::draw`].

use ratatui::style::{Color, Modifier, Style};

/// Everything the view needs to know about appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Look {
    pub styles: Styles,
    pub hints: Hints,
}

impl Look {
    /// The `NO_COLOR` look: modifiers only, no foreground or background colours.
    pub fn plain() -> Self {
        Self { styles: Styles::plain(), hints: Hints::default() }
    }
}

/// The styles of every kind of thing the view draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Styles {
    /// Everything not covered by a more specific style.
    pub base: Style,
    pub border: Style,
    /// The border of the pane that has the keyboard.
    pub border_focused: Style,
    pub title: Style,
    /// Friend-list section headers ("Online (3)").
    pub section: Style,
    /// The highlighted row of a list.
    pub selected: Style,
    pub online: Style,
    pub away: Style,
    pub busy: Style,
    pub offline: Style,
    /// Entries whose friend deleted us.
    pub removed: Style,
    /// Unread-count badges.
    pub unread: Style,
    pub own_message: Style,
    pub peer_message: Style,
    pub timestamp: Style,
    pub system: Style,
    /// Inline questions in a conversation.
    pub prompt: Style,
    /// Messages not yet stored by the relay.
    pub pending: Style,
    pub error: Style,
    pub status_bar: Style,
    /// Key hints and placeholders.
    pub hint: Style,
    pub dialog: Style,
    /// The highlighted button or choice of a dialog.
    pub dialog_selected: Style,
    pub day_separator: Style,
    pub search_match: Style,
    /// Messages that name you.
    pub mention: Style,
    /// The "new" line above the first unread message.
    pub new_marker: Style,
    /// Colours for other people's names in groups, one per person (chosen by a hash of the address, so a person
    /// keeps their colour); empty: names take `peer_message`.
    pub nick_colors: Vec<Color>,
}

impl Default for Styles {
    /// A calm scheme in the 16 ANSI colours, so it follows the terminal's palette (light or dark).
    fn default() -> Self {
        let fg = |c: Color| Style::new().fg(c);
        Self {
            base: Style::new(),
            border: fg(Color::DarkGray),
            border_focused: fg(Color::Cyan),
            title: Style::new().add_modifier(Modifier::BOLD),
            section: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            selected: Style::new().fg(Color::Black).bg(Color::Cyan),
            online: fg(Color::Green),
            away: fg(Color::Yellow),
            busy: fg(Color::Red),
            offline: fg(Color::DarkGray),
            removed: fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
            unread: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            own_message: fg(Color::Cyan),
            peer_message: Style::new(),
            timestamp: fg(Color::DarkGray),
            system: fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
            prompt: fg(Color::Magenta).add_modifier(Modifier::BOLD),
            pending: fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            status_bar: Style::new().fg(Color::White).bg(Color::DarkGray),
            hint: fg(Color::DarkGray),
            dialog: Style::new(),
            dialog_selected: Style::new().fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD),
            day_separator: fg(Color::DarkGray),
            search_match: Style::new().fg(Color::Black).bg(Color::Yellow),
            mention: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            new_marker: fg(Color::Red),
            nick_colors: vec![
                Color::Green,
                Color::Yellow,
                Color::Blue,
                Color::Magenta,
                Color::Cyan,
                Color::LightRed,
                Color::LightGreen,
                Color::LightBlue,
                Color::LightMagenta,
                Color::LightCyan,
            ],
        }
    }
}

impl Styles {
    /// For `NO_COLOR`: only bold, reversed, dim, italic and underline, so nothing depends on colour.
    pub fn plain() -> Self {
        let m = |m: Modifier| Style::new().add_modifier(m);
        Self {
            base: Style::new(),
            border: Style::new(),
            border_focused: m(Modifier::BOLD),
            title: m(Modifier::BOLD),
            section: m(Modifier::BOLD),
            selected: m(Modifier::REVERSED),
            online: Style::new(),
            away: Style::new(),
            busy: Style::new(),
            offline: m(Modifier::DIM),
            removed: m(Modifier::DIM | Modifier::ITALIC),
            unread: m(Modifier::BOLD),
            own_message: m(Modifier::BOLD),
            peer_message: Style::new(),
            timestamp: m(Modifier::DIM),
            system: m(Modifier::DIM | Modifier::ITALIC),
            prompt: m(Modifier::BOLD),
            pending: m(Modifier::DIM | Modifier::ITALIC),
            error: m(Modifier::BOLD),
            status_bar: m(Modifier::REVERSED),
            hint: m(Modifier::DIM),
            dialog: Style::new(),
            dialog_selected: m(Modifier::REVERSED | Modifier::BOLD),
            day_separator: m(Modifier::DIM),
            search_match: m(Modifier::REVERSED | Modifier::UNDERLINED),
            mention: m(Modifier::BOLD | Modifier::UNDERLINED),
            new_marker: m(Modifier::BOLD),
            nick_colors: Vec::new(),
        }
    }
}

/// The names of the keys the view mentions, as the keymap binds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Hints {
    pub help: String,
    pub add: String,
    pub delete: String,
    pub block: String,
    pub note: String,
    pub status: String,
    pub handle: String,
    pub quit: String,
    /// Open the oldest question waiting.
    pub question: String,
    /// Show the notices view.
    pub notices: String,
    /// Go to the next conversation.
    pub switch: String,
    /// Open the selected conversation.
    pub open: String,
    pub send: String,
    /// Move the keyboard between list, log and input.
    pub focus: String,
    pub search: String,
    pub info: String,
    /// Move between the fields of a form.
    pub next_field: String,
    /// Move between choices or list rows.
    pub choose: String,
    /// Move between the buttons of a dialog.
    pub choose_button: String,
    pub submit: String,
    pub cancel: String,
    /// Switch the login screen between logging in and creating an account.
    pub switch_mode: String,
    /// Quit from anywhere, also while typing.
    pub force_quit: String,
    /// The key table of the help screen: (keys, what they do).
    pub help_lines: Vec<(String, String)>,
}

impl Default for Hints {
    fn default() -> Self {
        let s = |v: &str| v.to_owned();
        let mut hints = Self {
            help: s("F1"),
            add: s("Alt-n"),
            delete: s("Alt-k"),
            block: s("F9"),
            note: s("Alt-e"),
            status: s("Alt-s"),
            handle: s("Alt-h"),
            quit: s("Ctrl-c"),
            question: s("Alt-q"),
            notices: s("Alt-l"),
            switch: s("Alt-↓"),
            open: s("Enter"),
            send: s("Enter"),
            focus: s("Tab"),
            search: s("Ctrl-f"),
            info: s("Alt-i"),
            next_field: s("Tab"),
            choose: s("↑/↓"),
            choose_button: s("←/→"),
            submit: s("Enter"),
            cancel: s("Esc"),
            switch_mode: s("Ctrl-R"),
            force_quit: s("Ctrl-C"),
            help_lines: Vec::new(),
        };
        hints.help_lines = hints.default_help_lines();
        hints
    }
}

impl Hints {
    /// The built-in help table, worded from this struct's key names so that it agrees with the hints elsewhere.
    pub fn default_help_lines(&self) -> Vec<(String, String)> {
        [
            (self.focus.as_str(), "next pane: list, chat, input"),
            (self.switch.as_str(), "next conversation"),
            ("PgUp/PgDn", "scroll the chat by a page"),
            (self.open.as_str(), "open the chat; send"),
            (self.question.as_str(), "open a question waiting for you"),
            (self.notices.as_str(), "every notice of this session"),
            (self.add.as_str(), "add a friend"),
            (self.delete.as_str(), "delete the highlighted friend"),
            (self.block.as_str(), "block or unblock"),
            (self.note.as_str(), "nickname and private note"),
            (self.status.as_str(), "your status and activity"),
            (self.handle.as_str(), "switch handle"),
            (self.info.as_str(), "show or hide the info panel"),
            (self.search.as_str(), "search the chat"),
            (self.help.as_str(), "show or hide this help"),
            (self.quit.as_str(), "quit"),
        ]
        .into_iter()
        .map(|(k, d)| (k.to_owned(), d.to_owned()))
        .collect()
    }
}
