//! Open files the relay needs for `max_connections`, checked against the process's limit (`RLIMIT_NOFILE`) when
//! `serve` starts. Every connection is a file descriptor; below the cap, a relay out of descriptors fails in `accept`
//! (EMFILE), so clients are neither served nor told `server_busy`: they hang. A common soft limit is 1,024, the
//! default `max_connections` too, so the soft limit is raised (as far as the hard limit allows) and a relay that
//! still could not reach its cap refuses to start, naming both numbers and both fixes.

use crate::config::Config;

/// Descriptors the relay holds besides its client connections, whatever its load: standard input, output and error;
/// the database, its `-wal`, `-shm` and SQLite's temporary files; the listener; the runtime's event and wake-up
/// descriptors; the feed fetches (four at once, each a socket and the files a DNS look-up reads); TLS files while
/// they are read at start. Generous on purpose: a spare descriptor costs nothing, a missing one is a hang.
pub const BASE_FILES: u64 = 64;

/// The webhook's listener and its connections (at most 64 at once, `MAX_WEBHOOK_CONNECTIONS` in `net::webhook`),
/// when `webhook_listen` is set.
pub const WEBHOOK_FILES: u64 = 1 + 64;

/// Descriptors `config` needs: `max_connections`, the connections beyond it that are being told `server_busy`, the
/// webhook's, and [`BASE_FILES`].
pub fn needed(config: &Config) -> u64 {
    let connections = u64::try_from(config.max_connections).unwrap_or(u64::MAX);
    let rejecting = u64::try_from(crate::net::MAX_REJECTING).unwrap_or(u64::MAX);
    let webhook = if config.webhook_listen.is_some() { WEBHOOK_FILES } else { 0 };
    connections.saturating_add(rejecting).saturating_add(webhook).saturating_add(BASE_FILES)
}

/// The limit could not be raised far enough for `max_connections`.
#[derive(Debug)]
pub struct TooFewFiles {
    pub max_connections: usize,
    pub needed: u64,
    /// Of `needed`, what is not connections.
    pub margin: u64,
    /// The soft limit, raised as far as it goes.
    pub soft: u64,
    pub hard: u64,
}

impl std::fmt::Display for TooFewFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { max_connections, needed, margin, soft, hard } = self;
        write!(
            f,
            "max_connections = {max_connections} needs {needed} open files ({max_connections} connections and {margin} \
             more for the database, the listeners and the rest), but this process may open only {soft} and cannot \
             raise that: the hard limit is {hard}. The relay did not start. "
        )?;
        match soft.checked_sub(*margin).filter(|fits| *fits > 0) {
            Some(fits) => write!(f, "Lower `max_connections` to {fits} or less in the config, or raise the limit")?,
            None => write!(f, "Raise the limit")?,
        }
        write!(
            f,
            " to at least {needed}: `LimitNOFILE={needed}` in the relay's systemd unit (assets/huddle-relay.service \
             sets {UNIT_LIMIT}), or `ulimit -n {needed}` in the shell that starts it"
        )
    }
}

impl std::error::Error for TooFewFiles {}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The soft limit already allowed `needed`.
    Enough { soft: u64, needed: u64 },
    /// The soft limit was raised from `from` to `to`.
    Raised { from: u64, to: u64, needed: u64 },
}

/// The `LimitNOFILE` of `assets/huddle-relay.service`, named in the refusal.
const UNIT_LIMIT: u64 = 8192;

/// Makes sure this process may open the files `config` needs: raises the soft limit up to the hard limit if it is
/// lower, and refuses if even the hard limit is too low. Without `RLIMIT_NOFILE` (not Unix), there is nothing to check.
pub fn ensure(config: &Config) -> Result<Outcome, anyhow::Error> {
    let needed = needed(config);
    #[cfg(unix)]
    {
        use anyhow::Context;
        let (soft, hard) = rlimit::Resource::NOFILE.get().context("cannot read the open-files limit")?;
        if soft >= needed {
            return Ok(Outcome::Enough { soft, needed });
        }
        // Up to the hard limit, not merely to `needed`: the margin is an estimate, and descriptors cost nothing until
        // used. (`increase_nofile_limit` also respects macOS's per-process maximum, which its hard limit may exceed.)
        let raised = rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open-files limit")?;
        if raised < needed {
            let margin = needed.saturating_sub(u64::try_from(config.max_connections).unwrap_or(u64::MAX));
            return Err(
                TooFewFiles { max_connections: config.max_connections, needed, margin, soft: raised, hard }.into()
            );
        }
        Ok(Outcome::Raised { from: soft, to: raised, needed })
    }
    #[cfg(not(unix))]
    Ok(Outcome::Enough { soft: needed, needed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_needs_more_than_a_common_soft_limit_and_less_than_the_unit_gives() {
        let config = Config::default();
        assert_eq!(needed(&config), 1024 + 32 + 64);
        assert!(needed(&config) > 1024, "a soft limit of 1,024 is raised, or the relay refuses");
        assert!(needed(&config) <= UNIT_LIMIT);
        let with_webhook = Config { webhook_listen: Some(([127, 0, 0, 1], 7301).into()), ..Config::default() };
        assert_eq!(needed(&with_webhook), needed(&config) + 65);
    }

    #[test]
    fn the_refusal_names_both_numbers_and_the_fixes_that_can_work() {
        let refusal = |soft| TooFewFiles { max_connections: 1024, needed: 1120, margin: 96, soft, hard: soft };
        let text = refusal(512).to_string();
        assert!(text.contains("max_connections = 1024 needs 1120 open files"), "{text}");
        assert!(text.contains("may open only 512 and cannot raise that: the hard limit is 512"), "{text}");
        assert!(text.contains("Lower `max_connections` to 416 or less in the config, or raise the limit"), "{text}");
        assert!(text.contains("`LimitNOFILE=1120`"), "{text}");
        // Below the margin, no number of connections fits: lowering them is not offered.
        let text = refusal(64).to_string();
        assert!(text.contains("Raise the limit to at least 1120"), "{text}");
        assert!(!text.contains("Lower"), "{text}");
    }

    #[test]
    fn the_unit_file_sets_the_limit_the_refusal_names() {
        let unit = include_str!("../../assets/huddle-relay.service");
        assert!(unit.lines().any(|line| line == format!("LimitNOFILE={UNIT_LIMIT}")), "{unit}");
    }
}
