//! The `huddle-relay` binary's admin commands, run as a user would. (Having integration tests here also makes
//! `cargo test --workspace` build the binary that the end-to-end crate starts and kills.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn relay(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huddle-relay"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("HUDDLE_RELAY_CONFIG")
        .current_dir(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn init_writes_the_documented_config_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path(), &["init"], None);
    assert!(out.status.success(), "{out:?}");
    let written = std::fs::read_to_string(dir.path().join("relay.toml")).unwrap();
    assert!(written.contains("registration = \"open\""));
    let again = relay(dir.path(), &["init"], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn users_and_invites_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path(), &["user", "add", "Alice", "--password-stdin"], Some("a good password\n"));
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("Created alice@localhost"));
    let out = relay(dir.path(), &["user", "add", "bob"], None);
    assert!(stdout(&out).contains("Password: "), "a password is generated and shown once");
    let out = relay(dir.path(), &["user", "add", "alice"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
    relay(dir.path(), &["user", "disable", "bob"], None);
    let list = stdout(&relay(dir.path(), &["user", "list"], None));
    assert!(list.contains("alice@localhost  (0 sessions)"), "{list}");
    assert!(list.contains("bob@localhost  [disabled]"), "{list}");
    let out = relay(dir.path(), &["user", "disable", "nobody"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no handle nobody"));

    let code = stdout(&relay(dir.path(), &["invite", "create"], None)).trim().to_owned();
    assert!(!code.is_empty());
    assert!(stdout(&relay(dir.path(), &["invite", "list"], None)).contains(&format!("{code}  unused")));
    relay(dir.path(), &["invite", "revoke", &code], None);
    assert!(stdout(&relay(dir.path(), &["invite", "list"], None)).contains(&format!("{code}  revoked")));
}

#[test]
fn refuses_a_public_address_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path(), &["serve", "--listen", "0.0.0.0:0"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without TLS"), "{out:?}");
}

#[test]
fn backup_writes_a_database_that_opens_with_the_same_users() {
    let dir = tempfile::tempdir().unwrap();
    relay(dir.path(), &["user", "add", "carol"], None);
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    let out = relay(dir.path(), &["backup", copy.join("relay.db").to_str().unwrap()], None);
    assert!(out.status.success(), "{out:?}");
    let again = relay(dir.path(), &["backup", copy.join("relay.db").to_str().unwrap()], None);
    assert!(!again.status.success(), "never overwrites");
    // The copy is a complete relay data directory.
    let list = stdout(&relay(&copy, &["user", "list"], None));
    assert!(list.contains("carol@localhost"), "{list}");
}

#[cfg(unix)]
#[test]
fn a_new_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh").join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_huddle-relay"))
        .arg("--data-dir")
        .arg(&data)
        .args(["user", "add", "dave"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the database holds password hashes");
}

// Data at rest and start-up checks (docs/relay.md): the relay run as a service would run it, through `sh` so that a
// umask or ulimit applies to it alone, its standard error piped as under systemd.

#[cfg(unix)]
mod at_rest {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::time::{Duration, Instant};

    /// How long a relay may take to start, or to refuse.
    const WAIT: Duration = Duration::from_secs(30);

    /// `huddle-relay --data-dir DATA ARGS…` started by `sh -c "PRELUDE; exec huddle-relay …"` in `cwd`, its standard
    /// error read line by line. Killed when dropped.
    struct Run {
        child: Child,
        lines: mpsc::Receiver<String>,
        log: String,
    }

    impl Run {
        fn start(cwd: &Path, data: &Path, prelude: &str, args: &[&str]) -> Self {
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(format!("{prelude}\nexec \"$0\" \"$@\""))
                .arg(env!("CARGO_BIN_EXE_huddle-relay"))
                .arg("--data-dir")
                .arg(data)
                .args(args)
                .env_remove("HUDDLE_RELAY_CONFIG")
                .env_remove("RUST_LOG")
                .env_remove("NO_COLOR")
                .current_dir(cwd)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stderr = child.stderr.take().unwrap();
            let (tx, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            Self { child, lines, log: String::new() }
        }

        /// `serve` on a free loopback port.
        fn serve(cwd: &Path, data: &Path, prelude: &str) -> Self {
            Self::start(cwd, data, prelude, &["serve", "--listen", "127.0.0.1:0"])
        }

        /// Reads standard error until a line contains `text` (true), or to its end (false) when `text` is `None` or
        /// the relay ended first. Fails the test if neither comes in time.
        fn read(&mut self, text: Option<&str>) -> bool {
            let deadline = Instant::now() + WAIT;
            loop {
                match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(line) => {
                        self.log.push_str(&line);
                        self.log.push('\n');
                        if text.is_some_and(|text| line.contains(text)) {
                            return true;
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => return false,
                    Err(RecvTimeoutError::Timeout) => panic!("still running after {WAIT:?}; log:\n{}", self.log),
                }
            }
        }

        /// Reads standard error until a line contains `text`: true, or false if the relay ended first.
        fn wait_for(&mut self, text: &str) -> bool {
            self.read(Some(text))
        }

        /// Waits for the command to end by itself (a relay that should refuse to start, or an admin command): its
        /// status and all it wrote to standard error.
        fn ended(mut self) -> (ExitStatus, String) {
            self.read(None);
            (self.child.wait().unwrap(), std::mem::take(&mut self.log))
        }
    }

    impl Drop for Run {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn the_log_has_no_colour_codes_when_it_is_not_a_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let mut relay = Run::serve(dir.path(), &dir.path().join("data"), "");
        assert!(relay.wait_for("relay listening"), "{}", relay.log);
        assert!(!relay.log.contains('\u{1b}'), "{:?}", relay.log);
    }

    #[test]
    fn an_ipv4_mapped_loopback_address_needs_no_tls() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("relay.toml");
        std::fs::write(&config, "listen = \"[::ffff:127.0.0.1]:0\"\nwebhook_listen = \"[::ffff:127.0.0.1]:0\"\n")
            .unwrap();
        let args = ["--config", config.to_str().unwrap(), "user", "list"];
        let (status, log) = Run::start(dir.path(), &dir.path().join("data"), "", &args).ended();
        assert!(status.success(), "{log}");
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn the_database_its_companions_and_backups_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut relay = Run::serve(dir.path(), &data, "umask 000");
        assert!(relay.wait_for("relay listening"), "{}", relay.log);
        // While the relay runs, its write-ahead log and shared-memory index exist beside the database.
        for name in ["relay.db", "relay.db-wal", "relay.db-shm"] {
            assert_eq!(mode(&data.join(name)), 0o600, "{name}");
        }
        let backup = dir.path().join("copy.db");
        let out = Run::start(dir.path(), &data, "umask 000", &["backup", backup.to_str().unwrap()]);
        let (status, log) = out.ended();
        assert!(status.success(), "{log}");
        assert_eq!(mode(&backup), 0o600, "a backup holds everything the database does");
        assert!(std::fs::metadata(&backup).unwrap().len() > 0);
        // A relative name that SQLite could read as a URI is still the file it names.
        let (status, log) = Run::start(dir.path(), &data, "umask 000", &["backup", "file:copy.db"]).ended();
        assert!(status.success(), "{log}");
        let uri_like = dir.path().join("file:copy.db");
        assert_eq!(mode(&uri_like), 0o600);
        assert!(std::fs::metadata(&uri_like).unwrap().len() > 0);
    }

    #[test]
    fn files_that_others_could_read_are_made_private_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (status, log) = Run::start(dir.path(), &data, "", &["user", "add", "erin"]).ended();
        assert!(status.success(), "{log}");
        let db = data.join("relay.db");
        chmod(&db, 0o644);
        let (status, log) = Run::start(dir.path(), &data, "", &["user", "list"]).ended();
        assert!(status.success(), "{log}");
        assert_eq!(mode(&db), 0o600);
        assert!(log.contains("could be read by other users (mode 0644); it is now 0600"), "{log}");
    }

    #[test]
    fn a_data_directory_others_can_write_to_is_refused_and_one_they_can_list_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        chmod(&data, 0o777);
        for args in [&["serve", "--listen", "127.0.0.1:0"][..], &["user", "list"]] {
            let (status, log) = Run::start(dir.path(), &data, "", args).ended();
            assert!(!status.success(), "{args:?}: {log}");
            assert!(log.contains("can be written by other users (mode 0777)"), "{args:?}: {log}");
            assert!(log.contains(&format!("`chmod 700 {}`", data.display())), "{args:?}: {log}");
        }
        assert!(!data.join("relay.db").exists(), "nothing is created in it");

        chmod(&data, 0o755);
        let mut relay = Run::serve(dir.path(), &data, "");
        assert!(relay.wait_for("relay listening"), "{}", relay.log);
        assert!(relay.log.contains("can be listed by other users (mode 0755)"), "{}", relay.log);
    }

    /// A data directory made by the admin commands, with a few accounts and invite codes, the relay stopped.
    fn data_with_accounts(dir: &Path) -> std::path::PathBuf {
        let data = dir.join("data");
        for args in [&["user", "add", "ann"][..], &["user", "add", "ben"], &["invite", "create", "--count", "20"]] {
            let (status, log) = Run::start(dir, &data, "", args).ended();
            assert!(status.success(), "{args:?}: {log}");
        }
        assert!(!data.join("relay.db-wal").exists(), "everything is in relay.db");
        data
    }

    #[test]
    fn a_database_with_a_damaged_page_is_refused_at_start_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let data = data_with_accounts(dir.path());
        let db = data.join("relay.db");
        // The root page of the stored messages: not read when the relay loads, so without the check it started, and
        // stopped when a client first asked for history — over and over, under systemd.
        let (page, page_size): (u64, u64) = {
            let conn = rusqlite::Connection::open(&db).unwrap();
            let page = conn.query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'messages'", [], |r| r.get(0));
            (page.unwrap(), conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap())
        };
        let mut bytes = std::fs::read(&db).unwrap();
        let start = usize::try_from((page - 1) * page_size).unwrap();
        for (i, byte) in bytes[start..start + usize::try_from(page_size).unwrap()].iter_mut().enumerate() {
            *byte = u8::try_from(i * 7 % 251).unwrap();
        }
        std::fs::write(&db, &bytes).unwrap();

        let (status, log) = Run::serve(dir.path(), &data, "").ended();
        assert_eq!(status.code(), Some(78), "a refusal systemd must not restart (EX_CONFIG): {log}");
        assert!(log.contains(&format!("{} is damaged", db.display())), "{log}");
        assert!(log.contains("PRAGMA quick_check"), "{log}");
        assert!(log.contains("has not changed the file"), "{log}");
        assert!(log.contains("huddle-relay backup"), "{log}");
        assert!(std::fs::read(&db).unwrap() == bytes, "the damaged file is left exactly as it was");
    }

    #[test]
    fn an_empty_database_file_is_refused_and_a_missing_one_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        chmod(&data, 0o700);
        let db = data.join("relay.db");
        std::fs::write(&db, b"").unwrap();
        for args in [&["serve", "--listen", "127.0.0.1:0"][..], &["user", "add", "fay"]] {
            let (status, log) = Run::start(dir.path(), &data, "", args).ended();
            assert!(!status.success(), "{args:?}: {log}");
            assert!(
                log.contains(&format!("{} is empty (0 bytes) where a database was expected", db.display())),
                "{args:?}: {log}"
            );
            assert!(log.contains(&format!("delete {}", db.display())), "{args:?}: {log}");
        }
        assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "left as it was");

        std::fs::remove_file(&db).unwrap();
        let mut relay = Run::serve(dir.path(), &data, "");
        assert!(relay.wait_for("relay listening"), "{}", relay.log);
        assert!(std::fs::metadata(&db).unwrap().len() > 0);
    }

    #[test]
    fn an_open_files_limit_below_max_connections_is_raised_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Soft and hard limit 64: nothing to raise. 1,024 connections need 1,120 files (32 more being told
        // "server_busy", 64 for the rest), and no number of connections fits in 64.
        let (status, log) = Run::serve(dir.path(), &data, "ulimit -n 64").ended();
        assert!(!status.success(), "{log}");
        assert!(log.contains("max_connections = 1024 needs 1120 open files"), "{log}");
        assert!(log.contains("may open only 64 and cannot raise that: the hard limit is 64"), "{log}");
        assert!(log.contains("Raise the limit to at least 1120: `LimitNOFILE=1120`"), "{log}");
        assert!(log.contains("`ulimit -n 1120`"), "{log}");
        // With 512, fewer connections would fit.
        let (status, log) = Run::serve(dir.path(), &data, "ulimit -n 512").ended();
        assert!(!status.success(), "{log}");
        assert!(log.contains("Lower `max_connections` to 416 or less in the config, or raise the limit"), "{log}");

        // Soft limit 64, hard limit as it is: raised up to the hard limit, if that is enough.
        let hard: u64 = {
            let out = Command::new("sh").args(["-c", "ulimit -Hn"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(u64::MAX)
        };
        if hard < 1120 {
            eprintln!("skipped the raise: the hard limit here is {hard}");
            return;
        }
        let mut relay = Run::serve(dir.path(), &data, "ulimit -Sn 64");
        assert!(relay.wait_for("relay listening"), "{}", relay.log);
        assert!(relay.log.contains("raised the open-files limit from 64 to"), "{}", relay.log);
    }
}
