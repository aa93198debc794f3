//! The database as files: who may read and write them, and whether what is there is a database at all. Checked before
//! SQLite opens anything, because SQLite creates a new file as 0644 less the umask (readable by every local user,
//! while it holds password and token hashes and every stored message) and takes an empty file for a new, empty
//! database (a relay whose file was truncated would start as if it had never had users).
//!
//! SQLite creates a database's `-wal`, `-shm` and journal files with the database file's own mode, so a database
//! file made 0600 here keeps its companions 0600 too, whatever the umask.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::storage::StorageError;

/// Read and write for the owner alone.
#[cfg(unix)]
const PRIVATE_FILE: u32 = 0o600;

/// Makes `path` ready for SQLite: refuses an empty file where a database should be, creates a missing database file
/// private to its owner, and takes other users' access away from an existing database, `-wal` or `-shm` file (with a
/// warning in the log, as these files were readable before).
pub(super) fn prepare(path: &Path) -> Result<(), StorageError> {
    match std::fs::metadata(path) {
        // A database whose pages are all still in its write-ahead log is not empty; SQLite reads it from there.
        Ok(meta) if meta.len() == 0 && !has_content(&companion(path, "-wal")) => {
            return Err(StorageError::EmptyDatabase { path: path.display().to_string() });
        }
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => match create_private(path) {
            Ok(_) => {}
            // Another process (the relay and an admin command started together) made it first: it is private
            // already, and SQLite's locks let one of the two fill it.
            Err(StorageError::File { source, .. }) if source.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        },
        Err(source) => return Err(file_error("read the metadata of", path, source)),
    }
    for file in [path.to_owned(), companion(path, "-wal"), companion(path, "-shm")] {
        tighten(&file)?;
    }
    Ok(())
}

/// Creates `path`, which must not exist, readable and writable by its owner alone whatever the umask. Used for the
/// database before SQLite first opens it and for a backup before `VACUUM INTO` fills it (which accepts an empty file),
/// so that neither is ever readable by others, not even for a moment.
pub(super) fn create_private(path: &Path) -> Result<File, StorageError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
    let file = options.open(path).map_err(|source| file_error("create", path, source))?;
    // The umask can only take bits away from 0600; this puts back an owner bit a strange umask (0200, say) removed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE))
            .map_err(|source| file_error("set the mode of", path, source))?;
    }
    Ok(file)
}

/// Checks the data directory before the relay uses it. A directory other users can write to is refused: they could
/// delete or replace the database, or plant a `-wal` that SQLite would read as the database's own. What only lets
/// others look in (the names of the files, not what is in them), and a directory owned by another user, are returned
/// as warnings for the log. A directory that does not exist yet is fine: [`super::SqliteStorage::open`] creates it
/// 0700.
pub fn check_data_dir(dir: &Path) -> Result<Vec<String>, StorageError> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(file_error("read the metadata of", dir, source)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.permissions().mode() & 0o7777;
        let shown = dir.display();
        if mode & 0o022 != 0 {
            return Err(StorageError::DataDirWritable { path: shown.to_string(), mode });
        }
        let mut warnings = Vec::new();
        if mode & 0o005 != 0 {
            warnings.push(format!(
                "the data directory {shown} can be listed by other users (mode {mode:04o}): they see the names of the \
                 files in it, not what is in them; `chmod 700 {shown}` makes it private"
            ));
        }
        let me = nix::unistd::geteuid().as_raw();
        if meta.uid() != me {
            warnings.push(format!(
                "the data directory {shown} belongs to user id {}, not to the user running the relay ({me}): that user \
                 can change or remove the database; run the relay as the directory's owner, or `chown` it",
                meta.uid()
            ));
        }
        Ok(warnings)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(Vec::new())
    }
}

/// `relay.db` → `relay.db-wal`, as SQLite names its companions.
fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn has_content(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.len() > 0)
}

/// Removes group and other access from `path` if it exists (files made by earlier versions, or copied in by hand).
/// A file this process may not change (another user's) is left with a warning: the relay can still use it.
fn tighten(path: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(file_error("read the metadata of", path, source)),
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 == 0 {
            return Ok(());
        }
        let private = mode & 0o700;
        let shown = path.display();
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(private)) {
            Ok(()) => tracing::warn!("{shown} could be read by other users (mode {mode:04o}); it is now {private:04o}"),
            Err(e) => tracing::warn!(
                "{shown} can be read by other users (mode {mode:04o}) and could not be made private ({e}); run \
                 `chmod 600 {shown}` as its owner"
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn file_error(action: &'static str, path: &Path, source: std::io::Error) -> StorageError {
    StorageError::File { action, path: path.display().to_string(), source }
}
