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
