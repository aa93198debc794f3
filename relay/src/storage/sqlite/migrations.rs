//! The schema, as an ordered list of migrations. `PRAGMA user_version` is the number of steps applied.
//!
//! Steps are append-only: a released step is never edited, because databases in the field already ran it. A change
//! to the schema is a new step at the end.
//!
//! Conventions of the schema:
//! - Addresses are stored as their canonical text (`handle@relay`), the form `Address` prints and parses, so that an
//!   operator can read and query them with the `sqlite3` shell.
//! - Booleans are 0/1 integers, times are `Millis` integers.
//! - Tables keyed by text are `WITHOUT ROWID`: the primary key is then the table itself instead of an extra index.
//! - No foreign keys: the reference semantics ([`MemoryStorage`](crate::storage::MemoryStorage)) enforce no
//!   referential integrity, and the core keeps it; constraints storage alone enforced would make the two backends
//!   disagree.
//! - No `STRICT` tables, so that operators' older `sqlite3` shells (before 3.37) can still open the file.

use rusqlite::{Connection, OptionalExtension};

use crate::storage::StorageError;

/// Each entry takes the schema from version `index` to `index + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE accounts (
        id           TEXT PRIMARY KEY,
        password_phc TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        disabled     INTEGER NOT NULL CHECK (disabled IN (0, 1))
    ) WITHOUT ROWID;

    CREATE TABLE handles (
        handle       TEXT PRIMARY KEY,
        account      TEXT NOT NULL,
        position     INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        display_name TEXT,
        bio          TEXT,
        activity     TEXT,
        location     TEXT,
        last_seen    INTEGER,
        acked        INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- The admin CLI lists an account's handles.
    CREATE INDEX handles_account ON handles (account, position);

    CREATE TABLE retired_handles (
        handle TEXT PRIMARY KEY
    ) WITHOUT ROWID;

    CREATE TABLE sessions (
        id           TEXT PRIMARY KEY,
        account      TEXT NOT NULL,
        token_hash   TEXT NOT NULL,
        device       TEXT,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- Resuming a session looks it up by the hash of the presented token.
    CREATE INDEX sessions_token_hash ON sessions (token_hash);
    -- Disabling an account or a password change drops all of its sessions.
    CREATE INDEX sessions_account ON sessions (account);

    CREATE TABLE invites (
        code       TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        used_by    TEXT,
        revoked    INTEGER NOT NULL CHECK (revoked IN (0, 1))
    ) WITHOUT ROWID;

    CREATE TABLE entries (
        owner       TEXT NOT NULL,
        peer        TEXT NOT NULL,
        nickname    TEXT,
        note        TEXT,
        since       INTEGER NOT NULL,
        removed_you INTEGER NOT NULL CHECK (removed_you IN (0, 1)),
        PRIMARY KEY (owner, peer)
    ) WITHOUT ROWID;
    -- "Whose lists am I on" (presence fan-out, handle removal).
    CREATE INDEX entries_peer ON entries (peer);

    -- `from` and `to` are SQL keywords, hence the suffixes.
    CREATE TABLE requests (
        from_addr TEXT NOT NULL,
        to_addr   TEXT NOT NULL,
        greeting  TEXT,
        at        INTEGER NOT NULL,
        PRIMARY KEY (from_addr, to_addr)
    ) WITHOUT ROWID;
    CREATE INDEX requests_to ON requests (to_addr);

    CREATE TABLE deletions (
        deleter TEXT NOT NULL,
        deleted TEXT NOT NULL,
        state   TEXT NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (deleter, deleted)
    ) WITHOUT ROWID;
    CREATE INDEX deletions_deleted ON deletions (deleted);

    CREATE TABLE blocks (
        owner  TEXT NOT NULL,
        target TEXT NOT NULL,
        at     INTEGER NOT NULL,
        PRIMARY KEY (owner, target)
    ) WITHOUT ROWID;
    CREATE INDEX blocks_target ON blocks (target);

    -- `ord` is the rowid: arrival order, which is the conversation order `history` pages through.
    -- `conversation` is both addresses sorted and joined by a space (which no address contains), so that the two
    -- directions of a conversation share one index range.
    CREATE TABLE messages (
        ord           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        sender        TEXT NOT NULL,
        recipient     TEXT NOT NULL,
        conversation  TEXT NOT NULL,
        body          TEXT NOT NULL,
        sent_at       INTEGER NOT NULL,
        client_msg_id TEXT NOT NULL,
        sender_seq    INTEGER NOT NULL,
        UNIQUE (sender, client_msg_id)
    );
    CREATE INDEX messages_conversation ON messages (conversation, ord);

    -- A message is stored once and referenced from both handles' streams; events live in the stream row itself.
    CREATE TABLE stream (
        handle      TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        message_ord INTEGER,
        event_json  TEXT,
        PRIMARY KEY (handle, seq),
        CHECK ((kind = 'message' AND message_ord IS NOT NULL AND event_json IS NULL)
            OR (kind = 'event' AND message_ord IS NULL AND event_json IS NOT NULL))
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this build writes.
pub(super) fn latest() -> i64 {
    // A list of migrations never gets anywhere near i64::MAX entries.
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

fn user_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the schema up to [`latest`], one transaction per step.
///
/// The relay and the admin CLI may open the same file at the same moment, so the version is re-read under the write
/// lock (`BEGIN IMMEDIATE`) before each step: whoever comes second finds the step done and skips it.
pub(super) fn migrate(conn: &Connection) -> Result<(), StorageError> {
    // The common case, an up-to-date file, costs no write lock: the admin CLI must not wait for the relay's batch.
    let current = user_version(conn)?;
    if current > latest() {
        return Err(StorageError::TooNew(current));
    }
    if current == latest() {
        return Ok(());
    }
    loop {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match step(conn) {
            Ok(true) => conn.execute_batch("COMMIT")?,
            Ok(false) => {
                conn.execute_batch("ROLLBACK")?;
                return Ok(());
            }
            Err(e) => {
                // The step's own error is the one worth reporting; a failed rollback is closed with the connection.
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
}

/// Applies the next step inside the caller's transaction. `Ok(false)` when there is none left.
fn step(conn: &Connection) -> Result<bool, StorageError> {
    let current = user_version(conn)?;
    if current > latest() {
        return Err(StorageError::TooNew(current));
    }
    let next = usize::try_from(current).map_err(|_| StorageError::Corrupt(format!("schema version {current}")))?;
    let Some(sql) = MIGRATIONS.get(next) else { return Ok(false) };
    conn.execute_batch(sql)?;
    conn.pragma_update(None, "user_version", current + 1)?;
    Ok(true)
}

/// Records the relay name at first open and refuses a file that belongs to another name.
pub(super) fn check_relay_name(conn: &Connection, configured: &str) -> Result<(), StorageError> {
    let read = || -> Result<Option<String>, StorageError> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = 'relay_name'", [], |row| row.get(0)).optional()?)
    };
    let stored = match read()? {
        Some(stored) => stored,
        None => {
            // OR IGNORE: a concurrent first open may have won the race; its name is then the one that counts.
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('relay_name', ?1)", [configured])?;
            read()?.ok_or_else(|| StorageError::Corrupt("the relay name vanished from meta".to_owned()))?
        }
    };
    if stored == configured {
        Ok(())
    } else {
        Err(StorageError::RelayNameMismatch { stored, configured: configured.to_owned() })
    }
}
