//! SQLite storage: the relay's durable [`Storage`], one file shared with the admin CLI.
//!
//! # Durability
//! The relay acknowledges nothing before the commit that contains it, so a returned [`Storage::commit`] must survive
//! SIGKILL and power loss. The file runs in WAL mode with `synchronous=FULL`: every commit fsyncs the WAL before it
//! returns. (`NORMAL`, the usual companion of WAL, defers that fsync to checkpoints and may roll the last commits
//! back after a power cut — acknowledged messages would be gone.) WAL rather than a rollback journal because readers
//! and the single writer do not block each other, so the admin CLI can read while the relay writes, and a commit is
//! one sequential append plus one fsync. `synchronous` is per connection, which is why everything — relay and admin
//! CLI alike — opens the file through [`SqliteStorage::open`].
//!
//! # One connection
//! The relay owns exactly one connection, and reads go through it too, so they see mutations that were applied but
//! not yet committed. That is the behaviour of the in-memory reference (an applied mutation is visible at once); what
//! is durable is decided by `commit` alone. One connection also makes `PRAGMA data_version` meaningful: it moves only
//! for commits of *other* connections, which is exactly "the admin CLI changed something".
//!
//! # Batching
//! `apply` opens a transaction lazily and `commit` ends it, so the core pays one fsync per batch of mutations rather
//! than per mutation. The transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so a batch never fails
//! halfway because another writer got in between its first read and its first write; a concurrent admin CLI write
//! waits on `busy_timeout` instead. A mutation that takes several statements runs inside a savepoint, so a failing
//! `apply` leaves nothing half done in the batch.

mod accounts;
mod at_rest;
mod columns;
mod huddles;
mod lists;
mod migrate_v4;
mod migrations;
mod receipts;
mod rooms;
mod streams;

use std::path::Path;
use std::time::{Duration, Instant};

use huddle_shared::model::{Message, StreamItem};
use huddle_shared::{Address, MessageId, RelayName, RoomId};
use rusqlite::Connection;

use super::{HistoryCursor, HistoryPage, Mutation, ReceiptRec, Snapshot, Storage, StorageError};
use lists::Edge;

pub use at_rest::check_data_dir;

/// How long a statement waits for a lock held by another connection (the admin CLI, or the relay as seen from it).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Room for every distinct statement this module prepares, so that none is ever re-prepared.
const STATEMENT_CACHE: usize = 128;

#[derive(Debug)]
pub struct SqliteStorage {
    conn: Connection,
    /// `PRAGMA data_version` as last seen by [`Storage::external_change`].
    data_version: i64,
    /// Acknowledged positions set in this transaction, written at its commit: one statement per handle and batch,
    /// however many acknowledgements the batch holds. Bounded by the number of handles.
    acks: std::collections::HashMap<huddle_shared::Handle, u64>,
}

/// How much [`SqliteStorage::open_with`] reads of an existing file to find damage before it writes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrityCheck {
    /// Nothing beyond what opening reads: a damaged page is found when it is first used, and stops the relay then.
    /// For the admin commands, which touch a few rows.
    Skip,
    /// `PRAGMA quick_check`: every page is read and every table and index checked as a b-tree (not that each index
    /// matches its table, which the full `integrity_check` adds at several times the cost). For `serve`, so that a
    /// damaged file is refused at start rather than stopping the relay when a client first reads the bad page, over
    /// and over under a service manager that restarts it.
    Quick,
}

impl SqliteStorage {
    /// Opens (creating if need be) the database at `path`, migrates it, and checks it belongs to `relay_name`.
    pub fn open(path: &Path, relay_name: &RelayName) -> Result<Self, StorageError> {
        Self::open_with(path, relay_name, IntegrityCheck::Skip)
    }

    /// [`SqliteStorage::open`], checking the file first as `check` says. The database and its companion files are
    /// made private to their owner (new ones created so, existing ones tightened), and an empty `relay.db` is refused
    /// rather than taken for a new database (see `at_rest`).
    pub fn open_with(path: &Path, relay_name: &RelayName, check: IntegrityCheck) -> Result<Self, StorageError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            // The database holds password and token hashes: a new data directory is private to its owner.
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|source| StorageError::DataDir { path: dir.display().to_string(), source })?;
        }
        at_rest::prepare(path)?;
        let conn = Connection::open(path)?;
        let shown = path.display().to_string();
        let setup = match check {
            IntegrityCheck::Quick => quick_check(&conn, &shown).and_then(|()| Self::setup(conn, relay_name)),
            IntegrityCheck::Skip => Self::setup(conn, relay_name),
        };
        // Damage met while migrating or reading the relay name is reported as such too.
        setup.map_err(|e| match e {
            StorageError::Sqlite(e) if is_damage(&e) => StorageError::Damaged { path: shown, report: e.to_string() },
            e => e,
        })
    }

    /// Writes a consistent, compacted copy of the database to `dest` (which must not exist), while the relay may
    /// keep running: SQLite's `VACUUM INTO` reads one snapshot and never blocks writers for long. The copy holds
    /// everything the database does, so it is created private to its owner before SQLite writes a byte of it.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StorageError> {
        // Absolute, so that SQLite never reads a name beginning with `file:` as a URI and writes somewhere else.
        let absolute = std::path::absolute(dest).map_err(|source| StorageError::File {
            action: "resolve",
            path: dest.display().to_string(),
            source,
        })?;
        let dest_text =
            absolute.to_str().ok_or_else(|| StorageError::Corrupt("the backup path is not valid UTF-8".to_owned()))?;
        drop(at_rest::create_private(dest)?);
        if let Err(e) = self.conn.execute("VACUUM INTO ?1", [dest_text]) {
            // The file is ours (created just now), and a half-written copy must not pass for a backup.
            let _ = std::fs::remove_file(dest);
            return Err(e.into());
        }
        Ok(())
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory(relay_name: &RelayName) -> Result<Self, StorageError> {
        Self::setup(Connection::open_in_memory()?, relay_name)
    }

    fn setup(conn: Connection, relay_name: &RelayName) -> Result<Self, StorageError> {
        // First (the integrity check aside, which runs before it), so that even switching the journal mode waits for a
        // concurrent opener instead of failing.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        // An in-memory database reports "memory"; a file that cannot do WAL (no shared memory, as on some network
        // file systems) keeps a rollback journal, which is as durable with synchronous=FULL, only less concurrent.
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            tracing::warn!(
                journal_mode = %mode,
                "the database could not switch to WAL; the admin CLI's writes will block the relay's reads"
            );
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrations::migrate(&conn)?;
        migrations::check_relay_name(&conn, relay_name.as_str())?;
        // Taken now rather than at the first `external_change`, so that an admin change landing between the core's
        // `load` and its first poll is not mistaken for the baseline.
        let data_version = data_version(&conn)?;
        Ok(Self { conn, data_version, acks: std::collections::HashMap::new() })
    }

    /// Writes the acknowledged positions gathered in this transaction.
    fn write_acks(&mut self) -> Result<(), StorageError> {
        if self.acks.is_empty() {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached("UPDATE handles SET acked = ?2 WHERE handle = ?1")?;
        for (handle, acked) in self.acks.drain() {
            stmt.execute(rusqlite::params![handle.as_str(), acked])?;
        }
        Ok(())
    }

    fn in_transaction(&self) -> bool {
        // The connection's own state rather than a flag of ours: after a failed COMMIT, SQLite decides whether the
        // transaction is still open, and a flag could disagree.
        !self.conn.is_autocommit()
    }
}

impl Storage for SqliteStorage {
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        let path = Path::new(self.conn.path().filter(|p| !p.is_empty())?);
        path.parent().map(Path::to_owned)
    }

    fn load(&mut self) -> Result<Snapshot, StorageError> {
        // What this transaction changed is read back as it stands, acknowledgements included.
        self.write_acks()?;
        let conn = &self.conn;
        Ok(Snapshot {
            accounts: accounts::load_accounts(conn)?,
            handles: accounts::load_handles(conn)?,
            heads: streams::load_heads(conn)?,
            retired: accounts::load_retired(conn)?,
            sessions: accounts::load_sessions(conn)?,
            invites: accounts::load_invites(conn)?,
            entries: lists::load_entries(conn)?,
            requests: lists::load_requests(conn)?,
            deletions: lists::load_deletions(conn)?,
            blocks: lists::load_blocks(conn)?,
            rooms: rooms::load_rooms(conn)?,
            members: rooms::load_members(conn)?,
            room_invites: rooms::load_invites(conn)?,
            former: rooms::load_former(conn)?,
            room_counts: rooms::load_counts(conn)?,
            topics: huddles::load_topics(conn)?,
            subscriptions: huddles::load_subscriptions(conn)?,
            huddles: huddles::load_huddles(conn)?,
            huddle_settings: huddles::load_settings(conn)?,
            windows: huddles::load_windows(conn)?,
            activity_secret: huddles::load_secret(conn)?,
        })
    }

    fn apply(&mut self, mutation: &Mutation) -> Result<(), StorageError> {
        if !self.in_transaction() {
            self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        }
        let conn = &self.conn;
        match mutation {
            Mutation::SetAcked { handle, acked } => {
                // A handle removed later in the batch takes its pending position with it.
                self.acks.insert(handle.clone(), *acked);
                Ok(())
            }
            Mutation::PutAccount(a) => accounts::put_account(conn, a),
            Mutation::PutHandle(h) => {
                // The record carries its own position, which the one set earlier in the batch must not undo.
                self.acks.remove(&h.handle);
                accounts::put_handle(conn, h)
            }
            Mutation::RemoveHandle(handle) => {
                self.acks.remove(handle);
                accounts::remove_handle(conn, handle)
            }
            Mutation::PutSession(s) => accounts::put_session(conn, s),
            Mutation::DeleteSession { id } => accounts::delete_session(conn, id),
            Mutation::PutInvite(i) => accounts::put_invite(conn, i),
            Mutation::PutEntry(e) => lists::put_entry(conn, e),
            Mutation::DeleteEntry { owner, peer } => lists::delete_edge(conn, Edge::Entry, owner, peer),
            Mutation::PutRequest(r) => lists::put_request(conn, r),
            Mutation::DeleteRequest { from, to } => lists::delete_edge(conn, Edge::Request, from, to),
            Mutation::PutDeletion(d) => lists::put_deletion(conn, d),
            Mutation::DeleteDeletion { deleter, deleted } => lists::delete_edge(conn, Edge::Deletion, deleter, deleted),
            Mutation::PutBlock(b) => lists::put_block(conn, b),
            Mutation::DeleteBlock { owner, target } => lists::delete_edge(conn, Edge::Block, owner, target),
            Mutation::PutRoom(r) => rooms::put_room(conn, r),
            Mutation::PutMember(m) => rooms::put_member(conn, m),
            Mutation::DeleteMember { room, member } => rooms::delete_member(conn, room, member),
            Mutation::PutFormer { room, member } => rooms::put_former(conn, room, member),
            Mutation::DeleteFormer { room, member } => rooms::delete_former(conn, room, member),
            Mutation::PutRoomInvite(i) => rooms::put_invite(conn, i),
            Mutation::DeleteRoomInvite { room, invitee } => rooms::delete_invite(conn, room, invitee),
            Mutation::StoreMessage { message, number, deliveries } => {
                streams::store_message(conn, message, *number, deliveries)
            }
            Mutation::AppendItem { handle, item } => streams::append_item(conn, handle, item),
            Mutation::PutReceipt(r) => receipts::put_receipt(conn, r),
            Mutation::PutTopic(t) => huddles::put_topic(conn, t),
            Mutation::DeleteTopic(topic) => huddles::delete_topic(conn, topic),
            Mutation::PutSubscription(sub) => huddles::put_subscription(conn, sub),
            Mutation::DeleteSubscription { topic, subscriber } => huddles::delete_subscription(conn, topic, subscriber),
            Mutation::PutHuddle(h) => huddles::put_huddle(conn, h),
            Mutation::PutHuddleSettings { handle, settings } => huddles::put_settings(conn, handle, settings),
            Mutation::PutWindow(w) => huddles::put_window(conn, w),
            Mutation::DeleteWindow(id) => huddles::delete_window(conn, id),
            Mutation::PutActivitySecret(secret) => huddles::put_secret(conn, secret),
        }
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        if self.in_transaction() {
            self.write_acks()?;
            self.conn.prepare_cached("COMMIT")?.execute([])?;
        }
        Ok(())
    }

    fn stream_page(
        &mut self,
        handle: &Address,
        after: u64,
        upto: u64,
        max_items: usize,
    ) -> Result<Vec<StreamItem>, StorageError> {
        streams::stream_page(&self.conn, handle, after, upto, max_items)
    }

    fn find_client_msg(
        &mut self,
        sender: &Address,
        client_msg_id: &str,
    ) -> Result<Option<(Message, u64)>, StorageError> {
        streams::find_client_msg(&self.conn, sender, client_msg_id)
    }

    fn history(
        &mut self,
        room: &RoomId,
        since: u64,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<HistoryPage>, StorageError> {
        streams::history(&self.conn, room, since, cursor, limit)
    }

    fn undelivered_receipts(
        &mut self,
        recipient: &Address,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<ReceiptRec>, StorageError> {
        receipts::undelivered(&self.conn, recipient, after, upto, limit)
    }

    fn latest_undelivered_receipt(&mut self, recipient: &Address) -> Result<Option<u64>, StorageError> {
        receipts::latest_undelivered(&self.conn, recipient)
    }

    fn receipt(&mut self, message_id: &MessageId, recipient: &Address) -> Result<Option<ReceiptRec>, StorageError> {
        receipts::receipt(&self.conn, message_id, recipient)
    }

    fn message_receipts(&mut self, message_id: &MessageId, limit: usize) -> Result<Vec<ReceiptRec>, StorageError> {
        receipts::message_receipts(&self.conn, message_id, limit)
    }

    fn external_change(&mut self) -> Result<bool, StorageError> {
        let now = data_version(&self.conn)?;
        let changed = now != self.data_version;
        self.data_version = now;
        Ok(changed)
    }
}

/// Runs `PRAGMA quick_check` before anything is written, so that a damaged file is refused unchanged.
fn quick_check(conn: &Connection, path: &str) -> Result<(), StorageError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let started = Instant::now();
    // At most this many problems are listed: enough to tell a damaged page from a damaged file.
    let found: Result<Vec<String>, rusqlite::Error> = conn
        .prepare("PRAGMA quick_check(10)")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get::<_, String>(0))?.collect());
    let report = match found {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => {
            tracing::info!(took_ms = started.elapsed().as_millis(), "checked {path} (PRAGMA quick_check): no damage");
            return Ok(());
        }
        Ok(rows) => rows.join("; "),
        Err(e) if is_damage(&e) => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    // Closing would otherwise checkpoint the write-ahead log into the damaged file: leave both as they were found.
    let _ = conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
    Err(StorageError::Damaged { path: path.to_owned(), report })
}

/// SQLite found the file damaged, or not a database at all.
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
}

fn data_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.pragma_query_value(None, "data_version", |row| row.get(0))?)
}

#[cfg(test)]
mod tests;
