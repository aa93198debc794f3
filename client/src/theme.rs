//! The look of every screen element as data: colors and text styles read from `assets/theme.toml` (embedded) with
//! the user's `theme.toml` laid over it field by field, resolved once into ratatui [`Style`]s.
//!
//! With `NO_COLOR` set (<https://no-color.org>) every color is dropped and only text modifiers remain, so the
//! screen must stay usable with modifiers alone: the defaults mark selections with `reversed`.

use std::ffi::OsStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::config::toml_error;

/// The documented default theme.
pub const DEFAULT_THEME: &str = include_str!("../../assets/theme.toml");

/// Why a theme could not be read. The `Display` text is written for the person who edited the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    /// Not TOML, or an entry or field name Huddle does not know.
    #[error("theme: {0}")]
    Syntax(String),
    #[error(
        "theme: {entry}.{field} = \"{value}\" is not a color; use a name such as \"cyan\" or \"light_blue\", a \
         palette number from 0 to 255, or \"#rrggbb\""
    )]
    Color { entry: &'static str, field: &'static str, value: String },
}

/// One entry as written in the file: every field optional, so a user's entry can change one field of the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<String>,
    bg: Option<String>,
    bold: Option<bool>,
    italic: Option<bool>,
    dim: Option<bool>,
    underline: Option<bool>,
    reversed: Option<bool>,
}

impl RawStyle {
    /// `over`'s fields where it has them, else `self`'s.
    fn merge(self, over: RawStyle) -> RawStyle {
        RawStyle {
            fg: over.fg.or(self.fg),
            bg: over.bg.or(self.bg),
            bold: over.bold.or(self.bold),
            italic: over.italic.or(self.italic),
            dim: over.dim.or(self.dim),
            underline: over.underline.or(self.underline),
            reversed: over.reversed.or(self.reversed),
        }
    }

    fn resolve(&self, entry: &'static str, no_color: bool) -> Result<Style, ThemeError> {
        let color = |field: &'static str, value: &Option<String>| -> Result<Option<Color>, ThemeError> {
            let Some(value) = value else { return Ok(None) };
            let parsed: Color = value.parse().map_err(|_| ThemeError::Color { entry, field, value: value.clone() })?;
            // Colors are still checked under NO_COLOR, so a mistake shows up the day colors are turned back on.
            Ok((!no_color).then_some(parsed))
        };
        let mut style = Style::new();
        if let Some(fg) = color("fg", &self.fg)? {
            style = style.fg(fg);
        }
        if let Some(bg) = color("bg", &self.bg)? {
            style = style.bg(bg);
        }
        for (flag, modifier) in [
            (self.bold, Modifier::BOLD),
            (self.italic, Modifier::ITALIC),
            (self.dim, Modifier::DIM),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            // An explicit `false` removes the modifier, so a style laid over `base` can turn off what base sets.
            style = match flag {
                Some(true) => style.add_modifier(modifier),
                Some(false) => style.remove_modifier(modifier),
                None => style,
            };
        }
        Ok(style)
    }
}

/// Declares the entries once; the macro writes the resolved [`Theme`], the raw file form, and the merge and
/// resolve steps, so an entry cannot be added to one and forgotten in another.
macro_rules! theme_entries {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// The resolved styles of every screen element.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            $($(#[doc = $doc])* pub $name: Style,)*
        }

        #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawTheme {
            $($name: Option<RawStyle>,)*
        }

        impl RawTheme {
            fn merge(self, over: RawTheme) -> RawTheme {
                RawTheme {
                    $($name: match (self.$name, over.$name) {
                        (Some(base), Some(over)) => Some(base.merge(over)),
                        (base, over) => over.or(base),
                    },)*
                }
            }

            fn resolve(&self, no_color: bool) -> Result<Theme, ThemeError> {
                Ok(Theme {
                    $($name: self.$name.clone().unwrap_or_default().resolve(stringify!($name), no_color)?,)*
                })
            }

            /// Entry names the file leaves out (the embedded default must name them all, to document them).
            #[cfg(test)]
            fn missing(&self) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $(if self.$name.is_none() { missing.push(stringify!($name)); })*
                missing
            }
        }
    };
}

theme_entries! {
    /// The whole screen, under everything else.
    base,
    /// Pane borders.
    border,
    /// The border of the pane that has focus.
    border_focused,
    /// Pane and dialog titles.
    title,
    /// Section headers in the friend list.
    section,
    /// The highlighted line in a list.
    selected,
    online,
    away,
    busy,
    offline,
    /// Greyed entries of people who removed you.
    removed,
    /// Unread message counts.
    unread,
    own_message,
    peer_message,
    timestamp,
    /// Events shown inline in the conversation.
    system,
    /// The count of questions waiting for you, in the status bar.
    prompt,
    /// Messages that name you.
    mention,
    /// The "new" line above the first message you had not read.
    new_marker,
    /// Own messages the relay has not stored yet.
    pending,
    error,
    status_bar,
    /// Key hints such as "press ? for help".
    hint,
    dialog,
    dialog_selected,
    /// The line between days in the conversation.
    day_separator,
    search_match,
}

impl Default for Theme {
    /// The built-in theme. The embedded file is checked by a test, so failing here is a build mistake; it is
    /// logged and gives plain text with reversed selections rather than stopping the client.
    fn default() -> Self {
        Theme::load(None, false).unwrap_or_else(|e| {
            tracing::error!("the built-in theme is broken, so the screen is drawn without styles: {e}");
            Theme::unstyled()
        })
    }
}

impl Theme {
    /// The default theme with the user's file (if any) laid over it, resolved once. With `no_color`, colors are
    /// dropped and modifiers kept; selections that would be invisible without color are shown reversed.
    pub fn load(user_toml: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        let mut raw = parse(DEFAULT_THEME)?;
        if let Some(text) = user_toml {
            raw = raw.merge(parse(text)?);
        }
        let mut theme = raw.resolve(no_color)?;
        if no_color {
            // Without color these would look like any other line; a user theme may have styled them with color only.
            for style in [&mut theme.selected, &mut theme.dialog_selected, &mut theme.search_match] {
                if style.add_modifier.is_empty() {
                    *style = style.add_modifier(Modifier::REVERSED);
                }
            }
        }
        Ok(theme)
    }

    /// Plain text with reversed selections: usable, and needs no file.
    fn unstyled() -> Theme {
        let s = Style::new();
        let r = Style::new().add_modifier(Modifier::REVERSED);
        Theme {
            base: s,
            border: s,
            border_focused: s,
            title: s,
            section: s,
            selected: r,
            online: s,
            away: s,
            busy: s,
            offline: s,
            removed: s,
            unread: s,
            own_message: s,
            peer_message: s,
            timestamp: s,
            system: s,
            prompt: s,
            pending: s,
            error: s,
            status_bar: s,
            hint: s,
            dialog: s,
            dialog_selected: r,
            day_separator: s,
            search_match: r,
            mention: r,
            new_marker: s,
        }
    }
}

fn parse(text: &str) -> Result<RawTheme, ThemeError> {
    toml::from_str(text).map_err(|e| ThemeError::Syntax(toml_error(text, &e)))
}

/// Whether the user asked for no color: `NO_COLOR` is set and not empty (<https://no-color.org>).
pub fn no_color_from_env() -> bool {
    no_color_requested(std::env::var_os("NO_COLOR").as_deref())
}

fn no_color_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_parses_and_documents_every_entry() {
        let raw = parse(DEFAULT_THEME).unwrap();
        assert_eq!(raw.missing(), Vec::<&str>::new(), "assets/theme.toml must show every entry");
        let theme = Theme::load(None, false).unwrap();
        assert_eq!(theme, Theme::default());
        assert_eq!(theme.online.fg, Some(Color::Green));
        assert_eq!(theme.border_focused, Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
        assert_eq!(theme.search_match, Style::new().fg(Color::Black).bg(Color::Yellow));
        assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn a_user_file_overrides_one_field_and_keeps_the_rest() {
        let theme = Theme::load(Some("online = { fg = \"#00ff7f\" }\nunread = { bold = false }\n"), false).unwrap();
        assert_eq!(theme.online, Style::new().fg(Color::Rgb(0, 0xff, 0x7f)));
        // Only `bold` changed: the default's color stays, and bold is now explicitly off.
        assert_eq!(theme.unread.fg, Some(Color::Cyan));
        assert!(theme.unread.sub_modifier.contains(Modifier::BOLD));
        assert!(!theme.unread.add_modifier.contains(Modifier::BOLD));
        // Entries the user did not mention are the defaults.
        assert_eq!(theme.error, Theme::default().error);
        let named = Theme::load(Some("away = { fg = \"light-blue\", bg = \"dark_grey\", underline = true }"), false);
        let away = named.unwrap().away;
        assert_eq!(away, Style::new().fg(Color::LightBlue).bg(Color::DarkGray).add_modifier(Modifier::UNDERLINED));
    }

    #[test]
    fn no_color_strips_colors_and_keeps_selection_visible() {
        let theme = Theme::load(None, true).unwrap();
        let all = [
            theme.base,
            theme.border,
            theme.border_focused,
            theme.selected,
            theme.online,
            theme.status_bar,
            theme.search_match,
            theme.own_message,
            theme.error,
        ];
        for style in all {
            assert_eq!((style.fg, style.bg), (None, None), "{style:?}");
        }
        assert!(theme.selected.add_modifier.intersects(Modifier::REVERSED | Modifier::BOLD));
        assert!(theme.error.add_modifier.contains(Modifier::BOLD), "modifiers stay");
        assert!(theme.search_match.add_modifier.contains(Modifier::REVERSED), "a color-only default gets reversed");
        // A user theme that marks the selection with color only is still visible without color.
        let user = "selected = { bg = \"blue\", reversed = false, bold = false }";
        let theme = Theme::load(Some(user), true).unwrap();
        assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(theme.selected.bg, None);
        // The fallback for a broken built-in theme keeps selections visible too.
        assert!(Theme::unstyled().selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = Theme::load(Some("online = { fg = \"greenish\" }"), false).unwrap_err();
        assert_eq!(err, ThemeError::Color { entry: "online", field: "fg", value: "greenish".to_owned() });
        assert!(err.to_string().starts_with("theme: online.fg = \"greenish\" is not a color"), "{err}");
        // A bad color is reported under NO_COLOR too.
        assert!(Theme::load(Some("away = { bg = \"#12345\" }"), true).is_err());
        let unknown_entry = Theme::load(Some("selectd = { bold = true }"), false).unwrap_err().to_string();
        assert!(unknown_entry.contains("unknown field `selectd`"), "{unknown_entry}");
        let unknown_field = Theme::load(Some("selected = { blink = true }"), false).unwrap_err().to_string();
        assert!(unknown_field.contains("unknown field `blink`"), "{unknown_field}");
        let wrong_type = Theme::load(Some("selected = { bold = \"yes\" }"), false).unwrap_err();
        assert!(matches!(wrong_type, ThemeError::Syntax(_)));
    }

    #[test]
    fn no_color_follows_the_convention() {
        assert!(!no_color_requested(None));
        assert!(!no_color_requested(Some(OsStr::new(""))));
        assert!(no_color_requested(Some(OsStr::new("1"))));
        assert!(no_color_requested(Some(OsStr::new("0"))), "any non-empty value counts, even 0");
    }
}
