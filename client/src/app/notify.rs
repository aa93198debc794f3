//! Getting the person's attention, as terminal chatters expect: the bell and a desktop notification for a message
//! that is for them (by the `[notify]` settings), and the terminal title with the unread count. Muted
//! conversations do neither. A mention is a message that names the handle (or its display name) as a word.

use huddle_shared::model::Message;

use super::{Cmd, ConvKey, HandleView, Model};

/// Which messages ring the bell (and send a desktop notification, where enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ring {
    /// Never.
    Never,
    /// Messages that mention you.
    Mentions,
    /// Direct messages and mentions.
    #[default]
    Direct,
    /// Every message from someone else.
    All,
}

/// How a desktop notification is sent: by an escape sequence the terminal turns into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Desktop {
    #[default]
    Off,
    /// `OSC 777;notify` (rxvt-unicode, foot, Ghostty, WezTerm, VTE-based terminals with the patch).
    Osc777,
    /// `OSC 9` (iTerm2, Windows Terminal, WezTerm, kitty).
    Osc9,
    /// The desktop's notification service over D-Bus (Linux desktops).
    Dbus,
}

/// The `[notify]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyPrefs {
    pub bell: Ring,
    pub desktop: Desktop,
    /// Put the unread count in the terminal title.
    pub title: bool,
}

impl Default for NotifyPrefs {
    fn default() -> Self {
        Self { bell: Ring::Direct, desktop: Desktop::Off, title: true }
    }
}

/// A message older than this when it arrives (brought by a sync) calls for no attention.
const FRESH_MS: i64 = 60_000;

/// Whether `body` names `h` — its handle or display name — as a whole word, in any case, with or without '@'.
pub fn mentions(h: &HandleView, body: &str) -> bool {
    let mut names = vec![h.address.handle.to_string().to_lowercase()];
    if let Some(name) = h.session.profile.display_name.as_deref().filter(|n| !n.trim().is_empty()) {
        names.push(name.trim().to_lowercase());
    }
    let lower = body.to_lowercase();
    names.iter().any(|name| {
        lower.match_indices(name.as_str()).any(|(i, m)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + m.len()..].chars().next();
            let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '-');
            boundary(before.filter(|c| *c != '@')) && boundary(after)
        })
    })
}

/// What a message that just arrived for handle `index` in conversation `key` calls for.
pub fn arrived(model: &Model, index: usize, key: &ConvKey, message: &Message) -> Vec<Cmd> {
    let Some(h) = model.handles.get(index) else { return Vec::new() };
    if message.from == h.address || h.muted.contains(key) || model.now - message.sent_at > FRESH_MS {
        return Vec::new();
    }
    let mention = mentions(h, &message.body);
    let direct = matches!(key, ConvKey::Direct(_));
    let ring = match model.notify.bell {
        Ring::Never => false,
        Ring::Mentions => mention,
        Ring::Direct => mention || direct,
        Ring::All => true,
    };
    // Someone reading the conversation as the message arrives needs no bell, unless it is for them by name.
    let reading = index == model.active && h.open.as_ref() == Some(key);
    if !ring || (reading && !mention) {
        return Vec::new();
    }
    let mut cmds = vec![Cmd::Bell];
    if model.notify.desktop != Desktop::Off {
        let who = h.name_of(&message.from);
        let title = match key {
            ConvKey::Direct(_) => who.clone(),
            ConvKey::Room(id) => format!("{who} in {}", h.group_name(id)),
        };
        let body: String = message.body.chars().take(200).collect();
        cmds.push(Cmd::Notify { title, body });
    }
    cmds
}

/// The terminal title: "Huddle" with the unread count of every handle (muted conversations not counted).
pub fn title(model: &Model) -> String {
    let unread: usize = model
        .handles
        .iter()
        .flat_map(|h| h.conversations.iter().filter(|(k, _)| !h.muted.contains(*k)).map(|(_, c)| c.unread))
        .sum();
    let questions = model.questions.len();
    match (unread, questions) {
        (0, 0) => "Huddle".to_owned(),
        (n, 0) => format!("({n}) Huddle"),
        (0, q) => format!("(?{q}) Huddle"),
        (n, q) => format!("({n}, ?{q}) Huddle"),
    }
}
