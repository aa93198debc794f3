//! The files at rest: private modes whatever the umask, an empty file refused unchanged, and the data directory's
//! checks. (`relay/tests/cli.rs` runs the same through the binary.)

use super::*;
use crate::storage::check_data_dir;

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
