//! Builds the view's [`Look`] from the user's theme and keymap, so the view shows the colours and the key names
//! this user actually has (a rebound key is named correctly in every hint and in the help screen).

use crate::keymap::{Action, Keymap, Mode};
use crate::theme::Theme;
use crate::view::look::{Hints, Look, Styles};

/// A key as the keymap spells it (`alt-y`, `shift-tab`, `pageup`), as people read it (`Alt-y`, `Shift-Tab`, `PgUp`).
pub fn pretty(key: &str) -> String {
    if key.chars().count() == 1 {
        return key.to_owned();
    }
    key.split('-')
        .map(|part| match part {
            "ctrl" => "Ctrl".to_owned(),
            "alt" => "Alt".to_owned(),
            "shift" => "Shift".to_owned(),
            "pageup" => "PgUp".to_owned(),
            "pagedown" => "PgDn".to_owned(),
            "esc" => "Esc".to_owned(),
            "up" => "↑".to_owned(),
            "down" => "↓".to_owned(),
            "left" => "←".to_owned(),
            "right" => "→".to_owned(),
            one if one.chars().count() == 1 => one.to_owned(),
            word => {
                let mut chars = word.chars();
                chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn styles(t: &Theme) -> Styles {
    Styles {
        base: t.base,
        border: t.border,
        border_focused: t.border_focused,
        title: t.title,
        section: t.section,
        selected: t.selected,
        online: t.online,
        away: t.away,
        busy: t.busy,
        offline: t.offline,
        removed: t.removed,
        unread: t.unread,
        own_message: t.own_message,
        peer_message: t.peer_message,
        timestamp: t.timestamp,
        system: t.system,
        prompt: t.prompt,
        pending: t.pending,
        error: t.error,
        status_bar: t.status_bar,
        hint: t.hint,
        dialog: t.dialog,
        dialog_selected: t.dialog_selected,
        day_separator: t.day_separator,
        search_match: t.search_match,
        mention: t.mention,
        new_marker: t.new_marker,
        // Names take colours of the terminal's palette, unless colours are off (NO_COLOR drops every colour of the
        // theme, the presence colours included).
        nick_colors: if t.online.fg.is_some() { Styles::default().nick_colors } else { Vec::new() },
    }
}

/// All keys bound to `action` in `mode`, joined ("k/↑").
fn keys(keymap: &Keymap, mode: Mode, action: Action) -> Option<String> {
    let list: Vec<String> =
        keymap.bindings(mode).into_iter().filter(|(_, a)| *a == action).map(|(k, _)| pretty(&k)).collect();
    (!list.is_empty()).then(|| list.join("/"))
}

pub fn look(theme: &Theme, keymap: &Keymap) -> Look {
    let defaults = Hints::default();
    let first = |mode: Mode, action: Action, fallback: &str| {
        keymap.key_for(mode, action).map_or_else(|| fallback.to_owned(), |k| pretty(&k))
    };
    let mut hints = Hints {
        help: first(Mode::Input, Action::Help, &defaults.help),
        add: first(Mode::Input, Action::AddFriend, &defaults.add),
        delete: first(Mode::Input, Action::DeleteFriend, &defaults.delete),
        block: first(Mode::Input, Action::Block, &defaults.block),
        note: first(Mode::Input, Action::EditEntry, &defaults.note),
        status: first(Mode::Input, Action::SetStatus, &defaults.status),
        handle: first(Mode::Input, Action::SwitchHandle, &defaults.handle),
        quit: first(Mode::Input, Action::Quit, &defaults.quit),
        question: first(Mode::Input, Action::OpenQuestion, &defaults.question),
        notices: first(Mode::Input, Action::Notices, &defaults.notices),
        switch: first(Mode::Input, Action::NextConversation, &defaults.switch),
        open: first(Mode::List, Action::Open, &defaults.open),
        send: first(Mode::Input, Action::Send, &defaults.send),
        focus: first(Mode::Input, Action::FocusNext, &defaults.focus),
        search: first(Mode::Log, Action::Search, &defaults.search),
        info: first(Mode::Input, Action::ToggleInfo, &defaults.info),
        next_field: defaults.next_field.clone(),
        choose: defaults.choose.clone(),
        choose_button: defaults.choose_button.clone(),
        submit: defaults.submit.clone(),
        cancel: first(Mode::Dialog, Action::Back, &defaults.cancel),
        switch_mode: defaults.switch_mode.clone(),
        force_quit: first(Mode::Input, Action::Quit, &defaults.force_quit),
        help_lines: Vec::new(),
    };
    // The help table: what works everywhere, then what the list, the conversation and the input line add.
    let mut lines = Vec::new();
    let mut seen = Vec::new();
    for (mode, suffix) in [
        (Mode::Main, ""),
        (Mode::List, " (in the list)"),
        (Mode::Log, " (in the conversation)"),
        (Mode::Input, " (while typing)"),
    ] {
        for action in Action::ALL {
            if seen.contains(&action) {
                continue;
            }
            if let Some(k) = keys(keymap, mode, action) {
                seen.push(action);
                lines.push((k, format!("{}{suffix}", action.describe())));
            }
        }
    }
    hints.help_lines = lines;
    Look { styles: styles(theme), hints }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_read_well() {
        assert_eq!(pretty("alt-y"), "Alt-y");
        assert_eq!(pretty("shift-tab"), "Shift-Tab");
        assert_eq!(pretty("pageup"), "PgUp");
        assert_eq!(pretty("?"), "?");
        assert_eq!(pretty("ctrl-c"), "Ctrl-c");
    }

    #[test]
    fn hints_follow_the_keymap() {
        let keymap = Keymap::load(Some("[main]\n\"f2\" = \"add_friend\"\n\"alt-n\" = \"none\"\n")).unwrap();
        let look = look(&Theme::default(), &keymap);
        assert_eq!(look.hints.add, "F2");
        assert!(look.hints.help_lines.iter().any(|(k, d)| k == "F2" && d == Action::AddFriend.describe()));
        assert!(
            !look.hints.help_lines.iter().any(|(k, _)| k.split('/').any(|k| k == "Alt-n")),
            "an unbound key is not shown"
        );
    }
}
