//! Where the client keeps its files ([`Paths`]) and its settings ([`ClientConfig`], from `client.toml`).
//!
//! Every setting is optional and documented in `assets/client.toml`, which is embedded as [`DEFAULT_CONFIG`]. The
//! user's file is read into raw structs of `Option`s, laid over [`ClientConfig::default`] and checked once; a test
//! keeps the documented file and the `Default` impl in agreement. Unknown keys are errors, so a typo is reported
//! rather than silently ignored.
//!
//! The directories come from the platform (`~/.config/huddle` and `~/.local/share/huddle` on Linux) unless the
//! caller overrides them. The binary takes `--config-dir`/`--data-dir` and the `HUDDLE_CONFIG_DIR`/
//! `HUDDLE_DATA_DIR` environment variables and passes whichever it got to [`Paths::new`]; this module reads no
//! environment itself, so tests never depend on it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::app::notify::{Desktop, NotifyPrefs, Ring};
use crate::app::{ChatPrefs, Promotion};
use huddle_shared::Handle;
use serde::{Deserialize, Serialize};

/// The documented default settings.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/client.toml");

/// File names inside the config and data directories.
pub const CONFIG_FILE: &str = "client.toml";
pub const KEYMAP_FILE: &str = "keymap.toml";
pub const THEME_FILE: &str = "theme.toml";
pub const LOG_FILE: &str = "huddle.log";

/// Why settings could not be found, read or saved. The `Display` text is a sentence for the user.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "Huddle cannot find your home directory to keep its files in. Start it with --config-dir and --data-dir, \
         or set HUDDLE_CONFIG_DIR and HUDDLE_DATA_DIR."
    )]
    NoHome,
    #[error("Huddle could not read {}: {source}.", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("Huddle could not save {}: {source}.", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// The file is not valid TOML, has an unknown key, or a value Huddle cannot use.
    #[error("There is a mistake in {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("The relay address must start with ws:// or wss://, like wss://chat.example.org (\"{0}\" does not).")]
    BadRelayUrl(String),
}

/// The files the client reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Settings the user may edit: `client.toml`, `keymap.toml`, `theme.toml`.
    pub config_dir: PathBuf,
    /// What Huddle keeps for itself: the log, the token file where there is no keyring, the personal relay.
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
    pub keymap_file: PathBuf,
    pub theme_file: PathBuf,
    pub log_file: PathBuf,
}

impl Paths {
    /// The platform's directories for Huddle, each replaced by the given override. Fails only when an override is
    /// missing and there is no home directory to derive it from. Creates nothing.
    pub fn new(config_dir: Option<PathBuf>, data_dir: Option<PathBuf>) -> Result<Paths, ConfigError> {
        let project = || directories::ProjectDirs::from("org", "huddle", "huddle").ok_or(ConfigError::NoHome);
        let config_dir = match config_dir {
            Some(dir) => dir,
            None => project()?.config_dir().to_owned(),
        };
        let data_dir = match data_dir {
            Some(dir) => dir,
            None => project()?.data_dir().to_owned(),
        };
        Ok(Paths {
            config_file: config_dir.join(CONFIG_FILE),
            keymap_file: config_dir.join(KEYMAP_FILE),
            theme_file: config_dir.join(THEME_FILE),
            log_file: data_dir.join(LOG_FILE),
            config_dir,
            data_dir,
        })
    }
}

/// Reads a user file that may not exist (`keymap.toml`, `theme.toml`): `None` when it is absent.
pub fn load_user_file(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read { path: path.to_owned(), source }),
    }
}

/// Which relay the client connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayChoice {
    /// The relay that runs inside the client (`relay = "personal"`).
    Personal,
    /// A relay elsewhere, by its `ws://` or `wss://` address.
    Remote { url: String },
}

impl RelayChoice {
    /// Reads the `relay` setting: `"personal"` or a `ws://`/`wss://` address with a host.
    pub fn parse(value: &str) -> Result<RelayChoice, ConfigError> {
        let value = value.trim();
        if value == "personal" {
            return Ok(RelayChoice::Personal);
        }
        let lower = value.to_ascii_lowercase();
        let rest = lower.strip_prefix("wss://").or_else(|| lower.strip_prefix("ws://"));
        let has_host = rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', ':', '?', '#']));
        if !has_host || value.contains(char::is_whitespace) {
            return Err(ConfigError::BadRelayUrl(value.to_owned()));
        }
        Ok(RelayChoice::Remote { url: value.to_owned() })
    }

    /// How the choice is written in `client.toml`.
    pub fn as_config_value(&self) -> &str {
        match self {
            RelayChoice::Personal => "personal",
            RelayChoice::Remote { url } => url,
        }
    }
}

/// How times are shown next to messages. Only these two patterns are supported, not general strftime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// `"%H:%M"`, e.g. 14:05.
    #[default]
    HourMinute,
    /// `"%H:%M:%S"`, e.g. 14:05:09.
    HourMinuteSecond,
}

impl TimestampFormat {
    pub fn parse(pattern: &str) -> Option<TimestampFormat> {
        match pattern {
            "%H:%M" => Some(TimestampFormat::HourMinute),
            "%H:%M:%S" => Some(TimestampFormat::HourMinuteSecond),
            _ => None,
        }
    }

    /// The pattern as written in `client.toml`.
    pub fn pattern(self) -> &'static str {
        match self {
            TimestampFormat::HourMinute => "%H:%M",
            TimestampFormat::HourMinuteSecond => "%H:%M:%S",
        }
    }

    /// Formats a local time of day, e.g. `14:05` or `14:05:09`.
    pub fn format(self, hour: u32, minute: u32, second: u32) -> String {
        match self {
            TimestampFormat::HourMinute => format!("{hour:02}:{minute:02}"),
            TimestampFormat::HourMinuteSecond => format!("{hour:02}:{minute:02}:{second:02}"),
        }
    }
}

/// The client settings, resolved and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `None` until the welcome screen (or the user) chooses one.
    pub relay: Option<RelayChoice>,
    /// A CA certificate to trust in addition to the system's, for a self-signed relay.
    pub ca_file: Option<PathBuf>,
    /// The handle to log in with, folded to lowercase.
    pub account: Option<String>,
    pub personal_relay: PersonalRelay,
    pub ui: UiConfig,
    pub chat: ChatPrefs,
    pub notify: NotifyPrefs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalRelay {
    /// Where the relay inside the client listens.
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    pub timestamps: TimestampFormat,
    /// Whether friends' presence changes appear as system lines in the conversation.
    pub show_presence_changes: bool,
}

impl Default for ClientConfig {
    /// The values documented in `assets/client.toml` (a test checks that they agree).
    fn default() -> Self {
        ClientConfig {
            relay: None,
            ca_file: None,
            account: None,
            personal_relay: PersonalRelay { listen: SocketAddr::from(([127, 0, 0, 1], 7300)) },
            ui: UiConfig { timestamps: TimestampFormat::HourMinute, show_presence_changes: true },
            chat: ChatPrefs::default(),
            notify: NotifyPrefs::default(),
        }
    }
}

impl ClientConfig {
    /// Reads `paths.config_file`; a missing file means the defaults.
    pub fn load(paths: &Paths) -> Result<ClientConfig, ConfigError> {
        match load_user_file(&paths.config_file)? {
            Some(text) => ClientConfig::parse(&text, &paths.config_file),
            None => Ok(ClientConfig::default()),
        }
    }

    /// Writes the settings that differ from the defaults to `paths.config_file`, followed by the documented
    /// defaults as comments. Comments the user added to the file are not kept. The file is replaced atomically,
    /// so a crash leaves either the old or the new one.
    pub fn save(&self, paths: &Paths) -> Result<(), ConfigError> {
        let path = &paths.config_file;
        let changed = toml::to_string(&self.differences())
            .map_err(|e| ConfigError::Invalid { path: path.clone(), message: format!("{e}.") })?;
        let mut text = String::from(
            "# Huddle client settings. Huddle writes the settings you chose here; edit freely.\n\
             # Only settings that differ from the defaults are listed. The documented defaults follow, commented out.\n\n",
        );
        text.push_str(&changed);
        text.push_str("\n# ---- The defaults, for reference ----\n#\n");
        for line in DEFAULT_CONFIG.lines() {
            match line {
                "" => text.push_str("#\n"),
                comment if comment.starts_with('#') => {
                    text.push_str(comment);
                    text.push('\n');
                }
                setting => {
                    text.push_str("# ");
                    text.push_str(setting);
                    text.push('\n');
                }
            }
        }
        write_atomically(&paths.config_dir, path, text.as_bytes())
    }

    fn parse(text: &str, path: &Path) -> Result<ClientConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        let raw: RawConfig = toml::from_str(text).map_err(|e| invalid(toml_error(text, &e)))?;
        raw.resolve().map_err(invalid)
    }

    /// The raw form holding only what differs from the defaults, for [`ClientConfig::save`].
    fn differences(&self) -> RawConfig {
        let default = ClientConfig::default();
        let mut ui = RawUi::default();
        if self.ui.timestamps != default.ui.timestamps {
            ui.timestamps = Some(self.ui.timestamps.pattern().to_owned());
        }
        if self.ui.show_presence_changes != default.ui.show_presence_changes {
            ui.show_presence_changes = Some(self.ui.show_presence_changes);
        }
        let default_chat = ChatPrefs::default();
        let chat = RawChat {
            promotion: (self.chat.promotion != default_chat.promotion)
                .then(|| promotion_name(self.chat.promotion).to_owned()),
            promotion_window_minutes: (self.chat.promotion_window_ms != default_chat.promotion_window_ms)
                .then_some(self.chat.promotion_window_ms / 60_000),
            receipts: (self.chat.receipts != default_chat.receipts).then_some(self.chat.receipts),
            read_receipts: (self.chat.read_receipts != default_chat.read_receipts).then_some(self.chat.read_receipts),
        };
        let default_notify = NotifyPrefs::default();
        let notify = RawNotify {
            bell: (self.notify.bell != default_notify.bell).then(|| ring_name(self.notify.bell).to_owned()),
            desktop: (self.notify.desktop != default_notify.desktop)
                .then(|| desktop_name(self.notify.desktop).to_owned()),
            title: (self.notify.title != default_notify.title).then_some(self.notify.title),
        };
        RawConfig {
            chat: (chat != RawChat::default()).then_some(chat),
            notify: (notify != RawNotify::default()).then_some(notify),
            relay: self.relay.as_ref().map(|r| r.as_config_value().to_owned()),
            ca_file: self.ca_file.clone(),
            account: self.account.clone(),
            personal_relay: (self.personal_relay != default.personal_relay)
                .then_some(RawPersonalRelay { listen: Some(self.personal_relay.listen) }),
            ui: (ui != RawUi::default()).then_some(ui),
        }
    }
}

/// `client.toml` as written: every key optional.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    relay: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    personal_relay: Option<RawPersonalRelay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ui: Option<RawUi>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat: Option<RawChat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify: Option<RawNotify>,
}

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    #[serde(skip_serializing_if = "Option::is_none")]
    bell: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    desktop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<bool>,
}

fn ring_name(r: Ring) -> &'static str {
    match r {
        Ring::Never => "never",
        Ring::Mentions => "mentions",
        Ring::Direct => "direct",
        Ring::All => "all",
    }
}

fn desktop_name(d: Desktop) -> &'static str {
    match d {
        Desktop::Off => "off",
        Desktop::Osc777 => "osc777",
        Desktop::Osc9 => "osc9",
        Desktop::Dbus => "dbus",
    }
}

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChat {
    #[serde(skip_serializing_if = "Option::is_none")]
    promotion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    promotion_window_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipts: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_receipts: Option<bool>,
}

fn promotion_name(p: Promotion) -> &'static str {
    match p {
        Promotion::Auto => "auto",
        Promotion::Ask => "ask",
        Promotion::Off => "off",
    }
}

/// The longest promotion window accepted, in minutes (a day: longer would promote conversations long over).
const MAX_PROMOTION_WINDOW_MINUTES: i64 = 24 * 60;

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPersonalRelay {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUi {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamps: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    show_presence_changes: Option<bool>,
}

impl RawConfig {
    /// Lays the file over the defaults and checks what serde cannot. The error is a sentence about the file.
    fn resolve(self) -> Result<ClientConfig, String> {
        let mut config = ClientConfig::default();
        if let Some(relay) = self.relay {
            config.relay = Some(RelayChoice::parse(&relay).map_err(|e| e.to_string())?);
        }
        config.ca_file = self.ca_file;
        if let Some(account) = self.account {
            let handle = Handle::parse(account.trim())
                .map_err(|e| format!("The account \"{account}\" is not a valid handle: {e}."))?;
            config.account = Some(handle.as_str().to_owned());
        }
        if let Some(listen) = self.personal_relay.and_then(|p| p.listen) {
            config.personal_relay.listen = listen;
        }
        if let Some(ui) = self.ui {
            if let Some(pattern) = ui.timestamps {
                config.ui.timestamps = TimestampFormat::parse(&pattern).ok_or_else(|| {
                    format!("ui.timestamps is \"{pattern}\", but only \"%H:%M\" and \"%H:%M:%S\" are supported.")
                })?;
            }
            if let Some(show) = ui.show_presence_changes {
                config.ui.show_presence_changes = show;
            }
        }
        if let Some(chat) = self.chat {
            if let Some(p) = chat.promotion {
                config.chat.promotion = match p.as_str() {
                    "auto" => Promotion::Auto,
                    "ask" => Promotion::Ask,
                    "off" => Promotion::Off,
                    other => {
                        return Err(format!(
                            "chat.promotion is \"{other}\", but it must be \"auto\", \"ask\" or \"off\"."
                        ));
                    }
                };
            }
            if let Some(minutes) = chat.promotion_window_minutes {
                if !(1..=MAX_PROMOTION_WINDOW_MINUTES).contains(&minutes) {
                    return Err(format!(
                        "chat.promotion_window_minutes is {minutes}, but it must be between 1 and {MAX_PROMOTION_WINDOW_MINUTES}."
                    ));
                }
                config.chat.promotion_window_ms = minutes * 60_000;
            }
            if let Some(r) = chat.receipts {
                config.chat.receipts = r;
            }
            if let Some(r) = chat.read_receipts {
                config.chat.read_receipts = r;
            }
        }
        if let Some(notify) = self.notify {
            if let Some(bell) = notify.bell {
                config.notify.bell = [Ring::Never, Ring::Mentions, Ring::Direct, Ring::All]
                    .into_iter()
                    .find(|r| ring_name(*r) == bell)
                    .ok_or_else(|| {
                        format!(
                            "notify.bell is \"{bell}\", but it must be \"direct\", \"mentions\", \"all\" or \"never\"."
                        )
                    })?;
            }
            if let Some(desktop) = notify.desktop {
                config.notify.desktop = [Desktop::Off, Desktop::Osc777, Desktop::Osc9, Desktop::Dbus]
                    .into_iter()
                    .find(|d| desktop_name(*d) == desktop)
                    .ok_or_else(|| {
                        format!(
                            "notify.desktop is \"{desktop}\", but it must be \"off\", \"osc777\", \"osc9\" or \"dbus\"."
                        )
                    })?;
            }
            if let Some(title) = notify.title {
                config.notify.title = title;
            }
        }
        Ok(config)
    }
}

/// A TOML error as one line that says where: "line 3: unknown field `relai`, expected one of …".
pub(crate) fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    match error.span() {
        Some(span) => {
            let line = text.get(..span.start).map_or(0, |before| before.matches('\n').count()) + 1;
            format!("line {line}: {message}")
        }
        None => message.to_owned(),
    }
}

/// Writes `path` by writing a temporary file next to it and renaming it over, creating `dir` if need be.
pub(crate) fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = std::fs::File::create(tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(tmp, path)
    }
    let write_err = |source| ConfigError::Write { path: path.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let tmp = path.with_extension("toml.tmp");
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        // Best effort: a leftover temporary file is harmless; the error returned is what matters.
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths_in(dir: &Path) -> Paths {
        Paths::new(Some(dir.join("config")), Some(dir.join("data"))).unwrap()
    }

    fn parse(text: &str) -> Result<ClientConfig, ConfigError> {
        ClientConfig::parse(text, Path::new("client.toml"))
    }

    #[test]
    fn the_documented_file_gives_the_defaults() {
        assert_eq!(parse(DEFAULT_CONFIG).unwrap(), ClientConfig::default());
        // Uncommenting the documented examples is valid, too.
        let examples: String = DEFAULT_CONFIG
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.starts_with("relay = \"wss") || rest.starts_with("ca_file") => rest,
                Some(rest) if rest.starts_with("account") => rest,
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let c = parse(&examples).unwrap();
        assert_eq!(c.relay, Some(RelayChoice::Remote { url: "wss://chat.example.org".to_owned() }));
        assert_eq!(c.account.as_deref(), Some("alice"));
        assert!(c.ca_file.is_some());
    }

    #[test]
    fn a_missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths_in(dir.path());
        assert_eq!(ClientConfig::load(&paths).unwrap(), ClientConfig::default());
        assert_eq!(load_user_file(&paths.keymap_file).unwrap(), None);
        std::fs::create_dir_all(&paths.config_dir).unwrap();
        std::fs::write(&paths.theme_file, "base = {}\n").unwrap();
        assert_eq!(load_user_file(&paths.theme_file).unwrap().as_deref(), Some("base = {}\n"));
    }

    #[test]
    fn paths_follow_the_overrides() {
        let p = Paths::new(Some("/c".into()), Some("/d".into())).unwrap();
        assert_eq!(p.config_file, Path::new("/c/client.toml"));
        assert_eq!(p.keymap_file, Path::new("/c/keymap.toml"));
        assert_eq!(p.theme_file, Path::new("/c/theme.toml"));
        assert_eq!(p.log_file, Path::new("/d/huddle.log"));
        assert_eq!(p.data_dir, Path::new("/d"));
    }

    #[test]
    fn saves_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths_in(dir.path());
        // Defaults save to a file with no settings, which loads back as the defaults.
        ClientConfig::default().save(&paths).unwrap();
        assert_eq!(ClientConfig::load(&paths).unwrap(), ClientConfig::default());

        let config = ClientConfig {
            relay: Some(RelayChoice::Remote { url: "wss://chat.example.org:8443/huddle".to_owned() }),
            ca_file: Some(PathBuf::from("/etc/huddle/ca.pem")),
            account: Some("alice".to_owned()),
            personal_relay: PersonalRelay { listen: "127.0.0.1:7400".parse().unwrap() },
            ui: UiConfig { timestamps: TimestampFormat::HourMinuteSecond, show_presence_changes: true },
            chat: ChatPrefs {
                promotion: Promotion::Ask,
                promotion_window_ms: 10 * 60_000,
                receipts: true,
                read_receipts: false,
            },
            notify: NotifyPrefs { bell: Ring::Mentions, desktop: Desktop::Osc777, title: false },
        };
        config.save(&paths).unwrap();
        assert_eq!(ClientConfig::load(&paths).unwrap(), config);
        let text = std::fs::read_to_string(&paths.config_file).unwrap();
        assert!(text.contains("relay = \"wss://chat.example.org:8443/huddle\""), "{text}");
        assert!(text.contains("timestamps = \"%H:%M:%S\""), "{text}");
        assert!(!text.contains("\nshow_presence_changes"), "unchanged settings are not written: {text}");
        assert!(text.contains("# show_presence_changes = true"), "the defaults follow as comments: {text}");

        let personal = ClientConfig { relay: Some(RelayChoice::Personal), ..ClientConfig::default() };
        personal.save(&paths).unwrap();
        assert_eq!(ClientConfig::load(&paths).unwrap(), personal);
        assert!(!paths.config_dir.join("client.toml.tmp").exists());
    }

    #[test]
    fn relay_addresses_must_be_websocket_urls() {
        assert_eq!(RelayChoice::parse("personal").unwrap(), RelayChoice::Personal);
        assert!(matches!(RelayChoice::parse("ws://127.0.0.1:7300"), Ok(RelayChoice::Remote { .. })));
        for bad in ["chat.example.org", "https://chat.example.org", "wss://", "ws:///x", "wss://a b", ""] {
            let err = RelayChoice::parse(bad).unwrap_err().to_string();
            assert!(
                err.starts_with("The relay address must start with ws:// or wss://, like wss://chat.example.org"),
                "{bad}: {err}"
            );
        }
        let err = parse("relay = \"http://chat.example.org\"").unwrap_err().to_string();
        assert!(err.starts_with("There is a mistake in client.toml: The relay address must start"), "{err}");
    }

    #[test]
    fn mistakes_are_reported_with_where_they_are() {
        let err = parse("relay = \"personal\"\nrelai = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("line 2: unknown field `relai`"), "{err}");
        let err = parse("[ui]\ntimestamps = \"%I:%M %p\"\n").unwrap_err().to_string();
        assert!(err.contains("only \"%H:%M\" and \"%H:%M:%S\" are supported"), "{err}");
        let err = parse("[ui]\ncolour = true\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = parse("account = \"a\"\n").unwrap_err().to_string();
        assert!(err.contains("The account \"a\" is not a valid handle"), "{err}");
        let err = parse("[personal_relay]\nlisten = \"localhost\"\n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        // Handles are folded to lowercase, as the relay does.
        assert_eq!(parse("account = \"Alice\"").unwrap().account.as_deref(), Some("alice"));
    }

    #[test]
    fn timestamps_format_both_patterns() {
        assert_eq!(TimestampFormat::HourMinute.format(9, 5, 7), "09:05");
        assert_eq!(TimestampFormat::HourMinuteSecond.format(14, 5, 9), "14:05:09");
        for f in [TimestampFormat::HourMinute, TimestampFormat::HourMinuteSecond] {
            assert_eq!(TimestampFormat::parse(f.pattern()), Some(f));
        }
    }
}
