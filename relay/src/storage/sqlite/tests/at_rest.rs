//! The files at rest: private modes whatever the umask, an empty file and a damaged one refused unchanged, and the
//! data directory's checks. (`relay/tests/cli.rs` runs the same through the binary.)

use super::*;
use crate::storage::{IntegrityCheck, check_data_dir};

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(unix)]
#[test]
fn a_new_database_and_its_companions_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let mut s = open(&path);
    s.apply(&Mutation::PutAccount(account("a"))).unwrap();
    s.commit().unwrap();
    for file in [path.clone(), with_suffix(&path, "-wal"), with_suffix(&path, "-shm")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[cfg(unix)]
#[test]
fn existing_files_others_could_read_are_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let s = open(&path);
    for file in [path.clone(), with_suffix(&path, "-wal"), with_suffix(&path, "-shm")] {
        chmod(&file, 0o644);
    }
    let again = open(&path);
    for file in [path.clone(), with_suffix(&path, "-wal"), with_suffix(&path, "-shm")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop((s, again));
}

#[cfg(unix)]
#[test]
fn a_backup_is_private_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&db_path(&dir));
    s.apply(&Mutation::PutAccount(account("a"))).unwrap();
    s.commit().unwrap();
    let copy = dir.path().join("copy.db");
    s.backup_to(&copy).unwrap();
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(open(&copy).load().unwrap().accounts, vec![account("a")]);
    let before = std::fs::read(&copy).unwrap();
    assert!(matches!(s.backup_to(&copy), Err(StorageError::File { .. })));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

#[test]
fn an_empty_file_is_refused_unchanged_and_a_missing_one_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::create_dir(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"").unwrap();
    match SqliteStorage::open(&path, &relay()) {
        Err(e @ StorageError::EmptyDatabase { .. }) => {
            let text = e.to_string();
            assert!(text.contains("is empty (0 bytes) where a database was expected"), "{text}");
            assert!(text.contains(&format!("delete {}", path.display())), "{text}");
        }
        other => panic!("expected EmptyDatabase, got {other:?}"),
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert!(!with_suffix(&path, "-wal").exists(), "SQLite never opened it");
    std::fs::remove_file(&path).unwrap();
    drop(open(&path));
    assert!(std::fs::metadata(&path).unwrap().len() > 0, "a new database");
}

/// A database with rows in its message table, closed, then with the table's root page overwritten.
fn damaged(dir: &tempfile::TempDir) -> (PathBuf, Vec<u8>) {
    let path = db_path(dir);
    {
        let mut s = open(&path);
        s.apply(&store_dm("m1", 1, 1)).unwrap();
        s.commit().unwrap();
    }
    let (page, size): (usize, usize) = {
        let conn = Connection::open(&path).unwrap();
        let page: i64 =
            conn.query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'messages'", [], |r| r.get(0)).unwrap();
        let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        (usize::try_from(page).unwrap(), usize::try_from(size).unwrap())
    };
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(page - 1) * size..page * size].fill(0xa5);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

#[test]
fn a_damaged_file_is_refused_by_the_check_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = damaged(&dir);
    match SqliteStorage::open_with(&path, &relay(), IntegrityCheck::Quick) {
        Err(e @ StorageError::Damaged { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&format!("{} is damaged", path.display())), "{text}");
            assert!(text.contains("has not changed the file"), "{text}");
            assert!(text.contains("huddle-relay backup"), "{text}");
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
    assert!(std::fs::read(&path).unwrap() == bytes);
    // Without the check the file opens, and the damage is met where the page is read.
    let mut s = SqliteStorage::open_with(&path, &relay(), IntegrityCheck::Skip).unwrap();
    assert!(s.history(&dm("alice", "bob"), 0, crate::storage::HistoryCursor::Latest, 10).is_err());
}

#[test]
fn a_failed_backup_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = damaged(&dir);
    let s = SqliteStorage::open_with(&path, &relay(), IntegrityCheck::Skip).unwrap();
    let copy = dir.path().join("copy.db");
    assert!(s.backup_to(&copy).is_err(), "the copy reads every page");
    assert!(!copy.exists(), "a half-written copy must not pass for a backup");
}

#[test]
fn a_sound_file_passes_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    drop(open(&path));
    drop(SqliteStorage::open_with(&path, &relay(), IntegrityCheck::Quick).unwrap());
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::create_dir(path.parent().unwrap()).unwrap();
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    for check in [IntegrityCheck::Quick, IntegrityCheck::Skip] {
        match SqliteStorage::open_with(&path, &relay(), check) {
            Err(StorageError::Damaged { report, .. }) => assert!(report.contains("not a database"), "{report}"),
            other => panic!("expected Damaged, got {other:?}"),
        }
    }
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_refused_if_others_can_write_and_warned_about_if_they_can_look() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert_eq!(check_data_dir(&data).unwrap(), Vec::<String>::new(), "missing: created 0700 later");
    std::fs::create_dir(&data).unwrap();
    chmod(&data, 0o700);
    assert_eq!(check_data_dir(&data).unwrap(), Vec::<String>::new());
    for unsafe_mode in [0o777, 0o770, 0o702, 0o1777] {
        chmod(&data, unsafe_mode);
        match check_data_dir(&data) {
            Err(e @ StorageError::DataDirWritable { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&format!("(mode {unsafe_mode:04o})")), "{text}");
                assert!(text.contains(&format!("`chmod 700 {}`", data.display())), "{text}");
            }
            other => panic!("{unsafe_mode:o}: expected DataDirWritable, got {other:?}"),
        }
    }
    chmod(&data, 0o755);
    let warnings = check_data_dir(&data).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("can be listed by other users (mode 0755)"), "{warnings:?}");
    chmod(&data, 0o750);
    assert_eq!(check_data_dir(&data).unwrap(), Vec::<String>::new(), "the owner's group may look");
}

#[cfg(unix)]
#[test]
fn a_data_directory_owned_by_another_user_is_warned_about() {
    // Only root can give a directory away; elsewhere there is nothing to set up.
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    chmod(&data, 0o700);
    std::os::unix::fs::chown(&data, Some(65534), None).unwrap();
    let warnings = check_data_dir(&data).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("belongs to user id 65534, not to the user running the relay (0)"), "{warnings:?}");
}
