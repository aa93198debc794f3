//! The relay's TOML configuration. Every key is optional and documented in `assets/relay.toml`; the raw file is
//! read into [`Config`] with serde defaults, then checked once by [`Config::validate`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use huddle_shared::RelayName;
use huddle_shared::model::RegistrationPolicy;
use serde::Deserialize;

use crate::password::PasswordParams;

/// The documented default configuration, written by `huddle-relay init`.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/relay.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub name: String,
    pub listen: SocketAddr,
    /// Where the webhook endpoint listens (`POST /topics/{id}/issues`); `None`: no webhook.
    pub webhook_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub registration: RegistrationPolicy,
    pub allow_insecure: bool,
    pub max_connections: usize,
    /// Read the whole database at start (`PRAGMA quick_check`) and refuse a damaged one.
    pub check_database_at_start: bool,
    pub log: String,
    pub tls: TlsConfig,
    pub limits: LimitsConfig,
    pub passwords: PasswordConfig,
    pub huddles: HuddlesConfig,
}

/// Huddles the relay forms from reports, and feeds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HuddlesConfig {
    /// People who must report the same activity within the window for a huddle to form.
    pub activity_min_people: usize,
    pub activity_window_minutes: u64,
    pub activity_huddle_minutes: u64,
    /// How often each topic's feed is polled, in seconds (at least 10).
    pub feed_poll_seconds: u64,
    /// Let feeds be fetched from loopback and private addresses (off: a topic owner cannot make the relay read its
    /// own network).
    pub feed_allow_private_addresses: bool,
    /// Areas where people who report being there within the window are put in a huddle.
    pub places: Vec<PlaceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceConfig {
    pub name: String,
    /// A geohash prefix (`u33d` is about 20 × 20 km of Berlin).
    pub area: String,
    #[serde(default = "default_place_people")]
    pub min_people: usize,
    #[serde(default = "default_place_window")]
    pub window_minutes: u64,
    #[serde(default = "default_place_huddle")]
    pub huddle_minutes: u64,
}

fn default_place_people() -> usize {
    3
}

fn default_place_window() -> u64 {
    30
}

fn default_place_huddle() -> u64 {
    60
}

impl Default for HuddlesConfig {
    fn default() -> Self {
        Self {
            activity_min_people: 3,
            activity_window_minutes: 10,
            activity_huddle_minutes: 60,
            feed_poll_seconds: 900,
            feed_allow_private_addresses: false,
            places: Vec::new(),
        }
    }
}

impl HuddlesConfig {
    /// The core's rules from these settings (checked by [`Config::validate`]).
    pub fn rules(&self) -> crate::core::domain::windows::HuddleRules {
        use crate::core::domain::windows::{HuddleRules, PlaceRule, WindowRule};
        let ms = |minutes: u64| i64::try_from(minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
        HuddleRules {
            activity: WindowRule {
                min_people: self.activity_min_people,
                window_ms: ms(self.activity_window_minutes),
                huddle_ms: ms(self.activity_huddle_minutes),
            },
            places: self
                .places
                .iter()
                .map(|p| PlaceRule {
                    name: p.name.clone(),
                    area: p.area.to_ascii_lowercase(),
                    rule: WindowRule {
                        min_people: p.min_people,
                        window_ms: ms(p.window_minutes),
                        huddle_ms: ms(p.huddle_minutes),
                    },
                })
                .collect(),
            feed_interval_ms: i64::try_from(self.feed_poll_seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub frames_per_second: u32,
    pub frame_burst: u32,
    pub outbound_queue: usize,
    pub ping_interval_secs: u64,
    pub ping_misses: u32,
    pub handshake_timeout_secs: u64,
    /// Password tries per handle (as typed at login) per minute from addresses not known to it (all of them
    /// together), failed or still being checked: what brute force from many addresses gets at most.
    pub login_failures_per_handle: usize,
    pub login_failures_per_address: usize,
    pub login_failure_window_secs: u64,
    /// Failed logins one address may make for one account before each further try waits, the wait doubling from
    /// one second up to `login_max_delay_secs`.
    pub login_free_failures: u32,
    pub login_max_delay_secs: u64,
    pub registrations_per_address_per_hour: usize,
    /// `register` attempts per address per hour, those answered `handle_taken` included: what probing for
    /// existing handles gets at most.
    pub registration_attempts_per_address_per_hour: usize,
    pub friend_requests_per_hour: usize,
    /// Handles an account may add per day (removed handles are retired for good, so this also bounds retirement).
    pub new_handles_per_account_per_day: usize,
    /// Connections from one address (an IPv6 /64 counts as one address), logged in or not.
    pub connections_per_address: usize,
    /// Connections from one address that have not logged in yet.
    pub unauthenticated_per_address: usize,
    /// Connections relay-wide that have not logged in yet; the rest of `max_connections` is kept for people who
    /// have.
    pub unauthenticated_connections: usize,
    /// Seconds a connection has from TCP accept to a successful login.
    pub login_timeout_secs: u64,
    /// Logged-in connections of one account.
    pub connections_per_account: usize,
    /// Bytes of frames queued for one connection (a frame into an empty queue always fits).
    pub outbound_queue_bytes: usize,
    /// Bytes of frames queued for all connections together.
    pub outbound_total_bytes: usize,
    /// Messages one account may send per second on average, over all its connections and handles, and in a burst.
    pub messages_per_second_per_account: u32,
    pub message_burst_per_account: u32,
    /// Message body bytes one account may send per second on average, and in a burst.
    pub message_bytes_per_second_per_account: u32,
    pub message_bytes_burst_per_account: u32,
    /// Message body bytes the relay stores for one account per day (a sliding 24 hours).
    pub stored_mib_per_account_per_day: u64,
    /// Free space on the data directory's file system below which the relay stores no new messages.
    pub min_free_disk_mib: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent_hashes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: "localhost".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 7300)),
            webhook_listen: None,
            data_dir: None,
            registration: RegistrationPolicy::Open,
            allow_insecure: false,
            max_connections: 1024,
            check_database_at_start: true,
            log: "info".to_owned(),
            tls: TlsConfig::default(),
            limits: LimitsConfig::default(),
            passwords: PasswordConfig::default(),
            huddles: HuddlesConfig::default(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            frames_per_second: 20,
            frame_burst: 60,
            outbound_queue: 1024,
            ping_interval_secs: 20,
            ping_misses: 3,
            handshake_timeout_secs: 10,
            login_failures_per_handle: 3,
            login_failures_per_address: 20,
            login_failure_window_secs: 900,
            login_free_failures: 3,
            login_max_delay_secs: 300,
            registrations_per_address_per_hour: 10,
            registration_attempts_per_address_per_hour: 30,
            friend_requests_per_hour: 30,
            new_handles_per_account_per_day: 8,
            connections_per_address: 32,
            unauthenticated_per_address: 8,
            unauthenticated_connections: 256,
            login_timeout_secs: 30,
            connections_per_account: 16,
            outbound_queue_bytes: 1024 * 1024,
            outbound_total_bytes: 256 * 1024 * 1024,
            messages_per_second_per_account: 10,
            message_burst_per_account: 50,
            message_bytes_per_second_per_account: 64 * 1024,
            message_bytes_burst_per_account: 1024 * 1024,
            stored_mib_per_account_per_day: 64,
            min_free_disk_mib: 256,
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        let p = PasswordParams::default();
        Self {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
            max_concurrent_hashes: 2,
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse { path: path.to_owned(), message })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Checks what serde cannot: names, paths that must come in pairs, ranges, and the TLS rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        RelayName::parse(&self.name)
            .map_err(|e| ConfigError::Invalid(format!("`name` is not a valid relay name: {e}")))?;
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Invalid("`tls.cert` and `tls.key` must be given together".to_owned()));
        }
        // Canonical first: `[::ffff:127.0.0.1]` is 127.0.0.1 written as IPv6, and as local as it.
        let exposed_webhook = self.webhook_listen.filter(|w| !w.ip().to_canonical().is_loopback());
        if let Some(webhook) = exposed_webhook.filter(|_| !self.tls_enabled() && !self.allow_insecure) {
            return Err(ConfigError::Invalid(format!(
                "refusing to serve the webhook on {webhook} without TLS: its tokens would cross the network in clear. \
                 Set `tls.cert` and `tls.key`, or `allow_insecure = true` if a TLS proxy sits in front of the relay"
            )));
        }
        if !self.listen.ip().to_canonical().is_loopback() && !self.tls_enabled() && !self.allow_insecure {
            return Err(ConfigError::Invalid(format!(
                "refusing to listen on {} without TLS: passwords would cross the network in clear. Set `tls.cert` \
                 and `tls.key`, or `allow_insecure = true` if a TLS proxy sits in front of the relay",
                self.listen
            )));
        }
        let l = &self.limits;
        let positive = [
            ("max_connections", self.max_connections as u64),
            ("limits.frames_per_second", u64::from(l.frames_per_second)),
            ("limits.frame_burst", u64::from(l.frame_burst)),
            ("limits.outbound_queue", l.outbound_queue as u64),
            ("limits.ping_interval_secs", l.ping_interval_secs),
            ("limits.ping_misses", u64::from(l.ping_misses)),
            ("limits.handshake_timeout_secs", l.handshake_timeout_secs),
            ("limits.login_failures_per_handle", l.login_failures_per_handle as u64),
            ("limits.login_failures_per_address", l.login_failures_per_address as u64),
            ("limits.login_max_delay_secs", l.login_max_delay_secs),
            ("limits.registration_attempts_per_address_per_hour", l.registration_attempts_per_address_per_hour as u64),
            ("limits.new_handles_per_account_per_day", l.new_handles_per_account_per_day as u64),
            ("limits.connections_per_address", l.connections_per_address as u64),
            ("limits.unauthenticated_per_address", l.unauthenticated_per_address as u64),
            ("limits.unauthenticated_connections", l.unauthenticated_connections as u64),
            ("limits.login_timeout_secs", l.login_timeout_secs),
            ("limits.connections_per_account", l.connections_per_account as u64),
            ("limits.outbound_queue_bytes", l.outbound_queue_bytes as u64),
            ("limits.outbound_total_bytes", l.outbound_total_bytes as u64),
            ("limits.messages_per_second_per_account", u64::from(l.messages_per_second_per_account)),
            ("limits.message_burst_per_account", u64::from(l.message_burst_per_account)),
            ("limits.message_bytes_per_second_per_account", u64::from(l.message_bytes_per_second_per_account)),
            ("limits.message_bytes_burst_per_account", u64::from(l.message_bytes_burst_per_account)),
            ("limits.stored_mib_per_account_per_day", l.stored_mib_per_account_per_day),
            ("passwords.max_concurrent_hashes", self.passwords.max_concurrent_hashes as u64),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!("`{key}` must be at least 1")));
        }
        if l.outbound_queue_bytes < 64 * 1024 || l.outbound_total_bytes < l.outbound_queue_bytes {
            return Err(ConfigError::Invalid(
                "`limits.outbound_queue_bytes` must be at least 65536, and `limits.outbound_total_bytes` at least that"
                    .to_owned(),
            ));
        }
        if l.login_timeout_secs > 86_400 {
            return Err(ConfigError::Invalid("`limits.login_timeout_secs` must be at most 86400 (a day)".to_owned()));
        }
        if (l.message_bytes_burst_per_account as usize) < huddle_shared::limits::MAX_BODY_BYTES {
            return Err(ConfigError::Invalid(format!(
                "`limits.message_bytes_burst_per_account` must be at least {} (the largest message body)",
                huddle_shared::limits::MAX_BODY_BYTES
            )));
        }
        let h = &self.huddles;
        let at_least_one = [
            ("huddles.activity_window_minutes", h.activity_window_minutes),
            ("huddles.activity_huddle_minutes", h.activity_huddle_minutes),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!("`{key}` must be at least 1")));
        }
        if h.feed_poll_seconds < 10 {
            return Err(ConfigError::Invalid("`huddles.feed_poll_seconds` must be at least 10".to_owned()));
        }
        if h.activity_min_people < 2 {
            return Err(ConfigError::Invalid("`huddles.activity_min_people` must be at least 2".to_owned()));
        }
        for p in &h.places {
            if !crate::core::domain::windows::is_geohash(&p.area.to_ascii_lowercase()) {
                return Err(ConfigError::Invalid(format!(
                    "the area {:?} of place {:?} is not a geohash (1 to 12 of 0-9 and b-z without a, i, l, o)",
                    p.area, p.name
                )));
            }
            if p.min_people < 2 || p.window_minutes == 0 || p.huddle_minutes == 0 || p.name.trim().is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "place {:?} needs a name, min_people of at least 2 and windows of at least a minute",
                    p.name
                )));
            }
        }
        // A queue below the minimum (256 was the default of earlier versions, and copied config files say so) is
        // raised to it, with a warning at start (`outbound_queue_raised`), rather than refused: an upgrade must not
        // stop a relay that ran yesterday.
        self.password_params();
        Ok(())
    }

    /// The outbound queue the relay uses: the configured one, raised to the minimum a commit needs (the relay commits
    /// up to `net::MAX_BATCH` requests at once, and a connection that reads promptly must be able to take what one
    /// commit sends it).
    pub fn outbound_queue(&self) -> usize {
        self.limits.outbound_queue.max(crate::net::MIN_OUTBOUND_QUEUE)
    }

    /// Said at start when the configured outbound queue is below the minimum and was raised.
    pub fn outbound_queue_raised(&self) -> Option<String> {
        (self.limits.outbound_queue < crate::net::MIN_OUTBOUND_QUEUE).then(|| {
            format!(
                "limits.outbound_queue = {} is below the minimum of {}: using {}",
                self.limits.outbound_queue,
                crate::net::MIN_OUTBOUND_QUEUE,
                crate::net::MIN_OUTBOUND_QUEUE
            )
        })
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some() && self.tls.key.is_some()
    }

    pub fn relay_name(&self) -> Result<RelayName, ConfigError> {
        RelayName::parse(&self.name).map_err(|e| ConfigError::Invalid(format!("`name`: {e}")))
    }

    pub fn password_params(&self) -> PasswordParams {
        PasswordParams {
            memory_kib: self.passwords.memory_kib,
            iterations: self.passwords.iterations,
            parallelism: self.passwords.parallelism,
        }
    }

    /// The data directory: the configured one, else the platform's (`~/.local/share/huddle-relay` on Linux).
    pub fn resolved_data_dir(&self) -> Result<PathBuf, ConfigError> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        directories::ProjectDirs::from("org", "huddle", "huddle-relay")
            .map(|d| d.data_dir().to_owned())
            .ok_or_else(|| ConfigError::Invalid("no home directory to keep data in; set `data_dir`".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_default_file_parses_to_the_defaults() {
        let parsed = Config::parse(DEFAULT_CONFIG).unwrap();
        let default = Config::default();
        assert_eq!(parsed.name, default.name);
        assert_eq!(parsed.listen, default.listen);
        // Every limit the file shows is the default it claims to be.
        assert_eq!(format!("{:?}", parsed.limits), format!("{:?}", default.limits));
        assert_eq!(parsed.max_connections, default.max_connections);
        assert_eq!(parsed.passwords.memory_kib, 19 * 1024);
        assert_eq!(parsed.max_connections, default.max_connections);
        assert_eq!(parsed.check_database_at_start, default.check_database_at_start);
        parsed.validate().unwrap();
    }

    #[test]
    fn refuses_public_listen_without_tls_and_unknown_keys() {
        let c = Config::parse("listen = \"0.0.0.0:7300\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("without TLS"));
        let c = Config::parse("listen = \"0.0.0.0:7300\"\nallow_insecure = true").unwrap();
        c.validate().unwrap();
        assert!(Config::parse("lisen = \"x\"").unwrap_err().contains("unknown field"));
        let c = Config::parse("[tls]\ncert = \"a.pem\"").unwrap();
        assert!(c.validate().is_err());
        let c = Config::parse("name = \"not valid!\"").unwrap();
        assert!(c.validate().is_err());
        // An outbound queue below the minimum (the old default of 256 included) is raised, not refused.
        let c = Config::parse("[limits]\noutbound_queue = 256").unwrap();
        assert!(c.validate().is_ok());
        assert_eq!(c.outbound_queue(), crate::net::MIN_OUTBOUND_QUEUE);
        assert!(c.outbound_queue_raised().is_some_and(|w| w.contains("using 1024")));
        assert_eq!(Config::default().outbound_queue_raised(), None);
        // Byte bounds too small to hold a frame, or a total below one connection's, and a deadline that would
        // overflow the clock are refused.
        for bad in ["outbound_queue_bytes = 1", "outbound_total_bytes = 1000", "login_timeout_secs = 99999999999"] {
            let c = Config::parse(&format!("[limits]\n{bad}")).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv4_mapped_loopback_is_loopback() {
        for text in ["listen = \"[::ffff:127.0.0.1]:0\"", "webhook_listen = \"[::ffff:127.0.0.1]:7301\""] {
            Config::parse(text).unwrap().validate().unwrap();
        }
        // Mapped or not, a public address still needs TLS.
        let c = Config::parse("listen = \"[::ffff:192.0.2.1]:7300\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("without TLS"));
        let c = Config::parse("webhook_listen = \"[::ffff:192.0.2.1]:7301\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("without TLS"));
    }
}
