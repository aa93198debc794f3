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

/// One step of the schema.
pub(super) enum Step {
    /// Plain SQL.
    Sql(&'static str),
    /// SQL that needs code: conversions of stored JSON, ids computed as the relay computes them, checks that nothing
    /// was lost on the way.
    Code(fn(&Connection) -> Result<(), StorageError>),
}

/// Each entry takes the schema from version `index` to `index + 1`.
pub(super) const MIGRATIONS: &[Step] =
    &[Step::Sql(V1), Step::Sql(V2), Step::Sql(V3), Step::Code(super::migrate_v4::run), Step::Sql(V5), Step::Sql(V6)];

/// 1: the initial schema.
const V1: &str = r#"
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
    "#;

/// 2: group rooms.
const V2: &str = r#"
    -- Existing handles get the default policy, the one `InvitePolicy::default()` names.
    ALTER TABLE handles ADD COLUMN invite_policy TEXT NOT NULL DEFAULT 'auto';

    -- `messages` is the number of messages sent so far, so the next one is numbered `messages + 1`.
    CREATE TABLE groups (
        id         TEXT PRIMARY KEY,
        title      TEXT,
        owner      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        archived   INTEGER NOT NULL CHECK (archived IN (0, 1)),
        messages   INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- `group` is an SQL keyword, hence `grp`. `since` is the group's message count when the member joined.
    CREATE TABLE group_members (
        grp       TEXT NOT NULL,
        member    TEXT NOT NULL,
        joined_at INTEGER NOT NULL,
        since     INTEGER NOT NULL,
        PRIMARY KEY (grp, member)
    ) WITHOUT ROWID;
    -- "Which groups is this handle in", as `entries_peer` answers "whose lists is it on".
    CREATE INDEX group_members_member ON group_members (member);

    CREATE TABLE group_invites (
        grp     TEXT NOT NULL,
        invitee TEXT NOT NULL,
        by_addr TEXT NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (grp, invitee)
    ) WITHOUT ROWID;
    CREATE INDEX group_invites_invitee ON group_invites (invitee);

    -- Like `messages`: stored once, referenced from the stream of every member it was delivered to. `number` is the
    -- message's place in its group (1, 2, ...), which history pages by and membership's `since` compares with.
    -- `sender_seq` is the sender's own stream seq, kept here (as `messages` does) so that a resend finds it even after
    -- the stream is gone; NULL when the sender got no copy in their stream (then there is no seq to answer with).
    CREATE TABLE group_messages (
        ord           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        grp           TEXT NOT NULL,
        number        INTEGER NOT NULL,
        sender        TEXT NOT NULL,
        body          TEXT NOT NULL,
        sent_at       INTEGER NOT NULL,
        client_msg_id TEXT NOT NULL,
        sender_seq    INTEGER,
        UNIQUE (sender, client_msg_id)
    );
    CREATE INDEX group_messages_grp ON group_messages (grp, number);

    -- The stream gains a third kind of row, a group message. Migration 1's CHECK admits only 'message' rows (with
    -- message_ord) and 'event' rows (with event_json), and SQLite cannot alter a CHECK, so the table is rebuilt with
    -- the table-rebuild procedure of https://www.sqlite.org/lang_altertable.html#otheralter: create the new table,
    -- copy the rows, drop the old one, rename the new one into its place. This runs inside the migration's
    -- transaction, so a failure leaves the v1 table untouched. The procedure's other steps do not apply: the schema
    -- has no foreign keys, and the stream has no secondary indexes, triggers or views to recreate. (Smuggling the
    -- group message's reference into event_json or message_ord would have kept the old CHECK, but every reader would
    -- then have to know that a 'message' row might not point into `messages`; one rebuild is cheaper than that.)
    --
    -- Exactly one reference is set per row, according to `kind`:
    --   'message'        message_ord       -> messages.ord        (a direct message)
    --   'group_message'  group_message_ord -> group_messages.ord  (a group message)
    --   'event'          event_json        (the event itself, as JSON)
    CREATE TABLE stream_v2 (
        handle            TEXT NOT NULL,
        seq               INTEGER NOT NULL,
        at                INTEGER NOT NULL,
        kind              TEXT NOT NULL,
        message_ord       INTEGER,
        event_json        TEXT,
        group_message_ord INTEGER,
        PRIMARY KEY (handle, seq),
        CHECK ((kind = 'message' AND message_ord IS NOT NULL AND group_message_ord IS NULL AND event_json IS NULL)
            OR (kind = 'group_message' AND message_ord IS NULL AND group_message_ord IS NOT NULL
                AND event_json IS NULL)
            OR (kind = 'event' AND message_ord IS NULL AND group_message_ord IS NULL AND event_json IS NOT NULL))
    ) WITHOUT ROWID;
    INSERT INTO stream_v2 (handle, seq, at, kind, message_ord, event_json)
        SELECT handle, seq, at, kind, message_ord, event_json FROM stream;
    DROP TABLE stream;
    ALTER TABLE stream_v2 RENAME TO stream;
    "#;

/// 3: delivery and read receipts.
const V3: &str = r#"
    -- Whether the sender asked for receipts; every message stored before this step did not.
    ALTER TABLE messages ADD COLUMN receipts INTEGER NOT NULL DEFAULT 0 CHECK (receipts IN (0, 1));
    ALTER TABLE group_messages ADD COLUMN receipts INTEGER NOT NULL DEFAULT 0 CHECK (receipts IN (0, 1));

    -- One row per (message, recipient) of a message sent with receipts: a direct message's addressee, or every other
    -- member of the group when it was sent. `sender` and `grp` (NULL for a direct message) say where a report goes
    -- without a join. `seq` is the recipient's stream seq of its copy, NULL when it got none (a member who had
    -- blocked the sender); `delivered_at` and `read_at` are NULL until they happen. Nothing of this is held in
    -- memory: an acknowledgement looks up the rows it covers through `receipts_undelivered`.
    CREATE TABLE receipts (
        message_id   TEXT NOT NULL,
        recipient    TEXT NOT NULL,
        sender       TEXT NOT NULL,
        grp          TEXT,
        seq          INTEGER,
        delivered_at INTEGER,
        read_at      INTEGER,
        PRIMARY KEY (message_id, recipient)
    ) WITHOUT ROWID;
    -- "Which of the items an ack covers still wait for their delivery": partial, so it holds only rows still to be
    -- delivered and stays small however many receipts the relay has recorded.
    CREATE INDEX receipts_undelivered ON receipts (recipient, seq) WHERE delivered_at IS NULL AND seq IS NOT NULL;

    -- The stream gains a fourth kind of row, a receipt report, kept as JSON like an event. The CHECK cannot be
    -- altered, so the table is rebuilt as in step 2 (see there): new table, copy, drop, rename, inside this step's
    -- transaction. Exactly one reference or body is set per row, according to `kind`:
    --   'message'        message_ord       -> messages.ord
    --   'group_message'  group_message_ord -> group_messages.ord
    --   'event'          event_json        (the event, as JSON)
    --   'receipt'        receipt_json      (the receipt, as JSON)
    CREATE TABLE stream_v3 (
        handle            TEXT NOT NULL,
        seq               INTEGER NOT NULL,
        at                INTEGER NOT NULL,
        kind              TEXT NOT NULL,
        message_ord       INTEGER,
        event_json        TEXT,
        group_message_ord INTEGER,
        receipt_json      TEXT,
        PRIMARY KEY (handle, seq),
        CHECK ((kind = 'message' AND message_ord IS NOT NULL AND group_message_ord IS NULL AND event_json IS NULL
                AND receipt_json IS NULL)
            OR (kind = 'group_message' AND message_ord IS NULL AND group_message_ord IS NOT NULL
                AND event_json IS NULL AND receipt_json IS NULL)
            OR (kind = 'event' AND message_ord IS NULL AND group_message_ord IS NULL AND event_json IS NOT NULL
                AND receipt_json IS NULL)
            OR (kind = 'receipt' AND message_ord IS NULL AND group_message_ord IS NULL AND event_json IS NULL
                AND receipt_json IS NOT NULL))
    ) WITHOUT ROWID;
    INSERT INTO stream_v3 (handle, seq, at, kind, message_ord, event_json, group_message_ord)
        SELECT handle, seq, at, kind, message_ord, event_json, group_message_ord FROM stream;
    DROP TABLE stream;
    ALTER TABLE stream_v3 RENAME TO stream;
    "#;

/// 5: who left or was removed from each group, so that nobody is added back without being asked. Filled from the
/// rooms' logs as every member's stream holds them (`left`: the event's `peer`; `removed`: its `who`), less those who
/// are members again.
const V5: &str = r#"
    CREATE TABLE room_former (
        room TEXT NOT NULL,
        member TEXT NOT NULL,
        PRIMARY KEY (room, member)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO room_former (room, member)
        SELECT json_extract(body_json, '$.room'), json_extract(body_json, '$.peer') FROM stream
        WHERE kind = 'event' AND json_extract(body_json, '$.event') = 'room'
            AND json_extract(body_json, '$.change.change') = 'left';
    INSERT OR IGNORE INTO room_former (room, member)
        SELECT json_extract(body_json, '$.room'), json_extract(body_json, '$.change.who') FROM stream
        WHERE kind = 'event' AND json_extract(body_json, '$.event') = 'room'
            AND json_extract(body_json, '$.change.change') = 'removed';
    DELETE FROM room_former WHERE room IS NULL OR member IS NULL
        OR EXISTS (SELECT 1 FROM room_members m WHERE m.room = room_former.room AND m.member = room_former.member)
        OR NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = room_former.room AND r.kind = 'group');
    "#;

/// The schema version this build writes.
/// 6: the huddle engine — topics, subscriptions, huddles, huddle settings and report windows. Their records are stored as JSON in
/// `body_json` (the serde form of the relay's records): they are few, read only at start, and gain fields as triggers
/// are added, which JSON takes without a migration. The keys are columns, so the `sqlite3` shell can still find them.
const V6: &str = r#"
    CREATE TABLE topics (
        id        TEXT PRIMARY KEY,
        body_json TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE subscriptions (
        topic      TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        body_json  TEXT NOT NULL,
        PRIMARY KEY (topic, subscriber)
    ) WITHOUT ROWID;

    CREATE TABLE huddles (
        room      TEXT PRIMARY KEY,
        ended     INTEGER NOT NULL CHECK (ended IN (0, 1)),
        body_json TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE huddle_settings (
        handle    TEXT PRIMARY KEY,
        body_json TEXT NOT NULL
    ) WITHOUT ROWID;

    -- Windows of activity and place reports that may form a huddle when they close: reporters only, never what
    -- they reported.
    CREATE TABLE huddle_windows (
        id        TEXT PRIMARY KEY,
        body_json TEXT NOT NULL
    ) WITHOUT ROWID;
"#;

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
    let Some(step) = MIGRATIONS.get(next) else { return Ok(false) };
    match step {
        Step::Sql(sql) => conn.execute_batch(sql)?,
        Step::Code(run) => run(conn)?,
    }
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
