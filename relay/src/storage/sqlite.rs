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

mod migrations;

use std::path::Path;
use std::time::Duration;

use huddle_shared::model::{Event, GroupMessage, ItemBody, Message, Profile, Receipt, StreamItem};
use huddle_shared::{Address, Handle, RelayName};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    AccountRec, BlockRec, DeletionRec, EntryRec, GroupHistoryPage, GroupInviteRec, GroupRec, HandleRec, HistoryCursor,
    HistoryPage, InviteRec, MemberRec, Mutation, ReceiptRec, RequestRec, SessionRec, Snapshot, Storage, StorageError,
};

/// How long a statement waits for a lock held by another connection (the admin CLI, or the relay as seen from it).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Room for every distinct statement this module prepares, so that none is ever re-prepared.
const STATEMENT_CACHE: usize = 64;

#[derive(Debug)]
pub struct SqliteStorage {
    conn: Connection,
    /// `PRAGMA data_version` as last seen by [`Storage::external_change`].
    data_version: i64,
}

impl SqliteStorage {
    /// Opens (creating if need be) the database at `path`, migrates it, and checks it belongs to `relay_name`.
    pub fn open(path: &Path, relay_name: &RelayName) -> Result<Self, StorageError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            // The database holds password and token hashes: a new data directory is private to its owner.
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|source| StorageError::DataDir { path: dir.display().to_string(), source })?;
        }
        Self::setup(Connection::open(path)?, relay_name)
    }

    /// Writes a consistent, compacted copy of the database to `dest` (which must not exist), while the relay may
    /// keep running: SQLite's `VACUUM INTO` reads one snapshot and never blocks writers for long.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StorageError> {
        let dest =
            dest.to_str().ok_or_else(|| StorageError::Corrupt("the backup path is not valid UTF-8".to_owned()))?;
        self.conn.execute("VACUUM INTO ?1", [dest])?;
        Ok(())
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory(relay_name: &RelayName) -> Result<Self, StorageError> {
        Self::setup(Connection::open_in_memory()?, relay_name)
    }

    fn setup(conn: Connection, relay_name: &RelayName) -> Result<Self, StorageError> {
        // First, so that even switching the journal mode waits for a concurrent opener instead of failing.
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
        Ok(Self { conn, data_version })
    }

    fn in_transaction(&self) -> bool {
        // The connection's own state rather than a flag of ours: after a failed COMMIT, SQLite decides whether the
        // transaction is still open, and a flag could disagree.
        !self.conn.is_autocommit()
    }

    /// Runs `f` so that either all of its statements take effect or none does, leaving the rest of the batch as is.
    fn atomically(&self, f: impl FnOnce(&Connection) -> Result<(), StorageError>) -> Result<(), StorageError> {
        self.conn.execute_batch("SAVEPOINT mutation")?;
        match f(&self.conn) {
            Ok(()) => Ok(self.conn.execute_batch("RELEASE mutation")?),
            Err(e) => {
                // The mutation's error is the one to report; should the rollback fail too, the relay stops on `e`
                // anyway and the uncommitted batch dies with the connection.
                let _ = self.conn.execute_batch("ROLLBACK TO mutation; RELEASE mutation");
                Err(e)
            }
        }
    }

    fn load_accounts(&self) -> Result<Vec<AccountRec>, StorageError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT id, password_phc, created_at, disabled FROM accounts ORDER BY id")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(AccountRec {
                id: row.get(0)?,
                password_phc: row.get(1)?,
                created_at: row.get(2)?,
                disabled: row.get(3)?,
            })
        })?;
        rows.collect()
    }

    fn load_handles(&self) -> Result<Vec<HandleRec>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT handle, account, position, created_at, display_name, bio, activity, location, last_seen, acked,
                    invite_policy
             FROM handles ORDER BY handle",
        )?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(HandleRec {
                handle: handle_col(row, 0)?,
                account: row.get(1)?,
                position: row.get(2)?,
                created_at: row.get(3)?,
                profile: Profile { display_name: row.get(4)?, bio: row.get(5)? },
                activity: row.get(6)?,
                location: row.get(7)?,
                last_seen: row.get(8)?,
                acked: row.get(9)?,
                invite_policy: enum_from_text("invite policy", &row.get::<_, String>(10)?)?,
            })
        })?;
        rows.collect()
    }

    fn load_heads(&self) -> Result<Vec<(Handle, u64)>, StorageError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT handle, MAX(seq) FROM stream GROUP BY handle ORDER BY handle")?;
        let rows =
            stmt.query_and_then([], |row| -> Result<_, StorageError> { Ok((handle_col(row, 0)?, row.get(1)?)) })?;
        rows.collect()
    }

    fn load_retired(&self) -> Result<Vec<Handle>, StorageError> {
        let mut stmt = self.conn.prepare_cached("SELECT handle FROM retired_handles ORDER BY handle")?;
        let rows = stmt.query_and_then([], |row| handle_col(row, 0))?;
        rows.collect()
    }

    fn load_sessions(&self) -> Result<Vec<SessionRec>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, account, token_hash, device, created_at, last_used_at FROM sessions ORDER BY id",
        )?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(SessionRec {
                id: row.get(0)?,
                account: row.get(1)?,
                token_hash: row.get(2)?,
                device: row.get(3)?,
                created_at: row.get(4)?,
                last_used_at: row.get(5)?,
            })
        })?;
        rows.collect()
    }

    fn load_invites(&self) -> Result<Vec<InviteRec>, StorageError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT code, created_at, used_by, revoked FROM invites ORDER BY code")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(InviteRec { code: row.get(0)?, created_at: row.get(1)?, used_by: row.get(2)?, revoked: row.get(3)? })
        })?;
        rows.collect()
    }

    fn load_entries(&self) -> Result<Vec<EntryRec>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT owner, peer, nickname, note, since, removed_you FROM entries ORDER BY owner, peer",
        )?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(EntryRec {
                owner: address_col(row, 0)?,
                peer: address_col(row, 1)?,
                nickname: row.get(2)?,
                note: row.get(3)?,
                since: row.get(4)?,
                removed_you: row.get(5)?,
            })
        })?;
        rows.collect()
    }

    fn load_requests(&self) -> Result<Vec<RequestRec>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT from_addr, to_addr, greeting, at FROM requests ORDER BY from_addr, to_addr")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(RequestRec {
                from: address_col(row, 0)?,
                to: address_col(row, 1)?,
                greeting: row.get(2)?,
                at: row.get(3)?,
            })
        })?;
        rows.collect()
    }

    fn load_deletions(&self) -> Result<Vec<DeletionRec>, StorageError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT deleter, deleted, state, at FROM deletions ORDER BY deleter, deleted")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(DeletionRec {
                deleter: address_col(row, 0)?,
                deleted: address_col(row, 1)?,
                state: enum_from_text("deletion state", &row.get::<_, String>(2)?)?,
                at: row.get(3)?,
            })
        })?;
        rows.collect()
    }

    fn load_blocks(&self) -> Result<Vec<BlockRec>, StorageError> {
        let mut stmt = self.conn.prepare_cached("SELECT owner, target, at FROM blocks ORDER BY owner, target")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(BlockRec { owner: address_col(row, 0)?, target: address_col(row, 1)?, at: row.get(2)? })
        })?;
        rows.collect()
    }

    fn load_groups(&self) -> Result<Vec<GroupRec>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, title, owner, created_at, archived, messages FROM groups ORDER BY id")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(GroupRec {
                id: row.get(0)?,
                title: row.get(1)?,
                owner: address_col(row, 2)?,
                created_at: row.get(3)?,
                archived: row.get(4)?,
                messages: row.get(5)?,
            })
        })?;
        rows.collect()
    }

    fn load_members(&self) -> Result<Vec<MemberRec>, StorageError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT grp, member, joined_at, since FROM group_members ORDER BY grp, member")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(MemberRec {
                group: row.get(0)?,
                member: address_col(row, 1)?,
                joined_at: row.get(2)?,
                since: row.get(3)?,
            })
        })?;
        rows.collect()
    }

    fn load_group_invites(&self) -> Result<Vec<GroupInviteRec>, StorageError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT grp, invitee, by_addr, at FROM group_invites ORDER BY grp, invitee")?;
        let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
            Ok(GroupInviteRec {
                group: row.get(0)?,
                invitee: address_col(row, 1)?,
                by: address_col(row, 2)?,
                at: row.get(3)?,
            })
        })?;
        rows.collect()
    }

    fn store_message(
        conn: &Connection,
        message: &Message,
        sender_seq: u64,
        recipient_seq: u64,
    ) -> Result<(), StorageError> {
        let from = message.from.to_string();
        let to = message.to.to_string();
        conn.prepare_cached(
            "INSERT INTO messages
             (id, sender, recipient, conversation, body, sent_at, client_msg_id, sender_seq, receipts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            message.id,
            from,
            to,
            conversation_key(&from, &to),
            message.body,
            message.sent_at,
            message.client_msg_id,
            sender_seq,
            message.receipts,
        ])?;
        let ord = conn.last_insert_rowid();
        let mut stmt = conn.prepare_cached(
            "INSERT INTO stream (handle, seq, at, kind, message_ord) VALUES (?1, ?2, ?3, 'message', ?4)",
        )?;
        stmt.execute(params![message.from.handle.as_str(), sender_seq, message.sent_at, ord])?;
        stmt.execute(params![message.to.handle.as_str(), recipient_seq, message.sent_at, ord])?;
        Ok(())
    }

    fn store_group_message(
        conn: &Connection,
        message: &GroupMessage,
        number: u64,
        deliveries: &[(Handle, u64)],
    ) -> Result<(), StorageError> {
        // The last matching delivery, as the reference keeps it (a sender listed twice is the core's bug, not ours).
        let sender_seq =
            deliveries.iter().rev().find(|(handle, _)| *handle == message.from.handle).map(|(_, seq)| *seq);
        conn.prepare_cached(
            "INSERT INTO group_messages (id, grp, number, sender, body, sent_at, client_msg_id, sender_seq, receipts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            message.id,
            message.group,
            number,
            message.from.to_string(),
            message.body,
            message.sent_at,
            message.client_msg_id,
            sender_seq,
            message.receipts,
        ])?;
        let ord = conn.last_insert_rowid();
        let mut stmt = conn.prepare_cached(
            "INSERT INTO stream (handle, seq, at, kind, group_message_ord) VALUES (?1, ?2, ?3, 'group_message', ?4)",
        )?;
        for (handle, seq) in deliveries {
            stmt.execute(params![handle.as_str(), seq, message.sent_at, ord])?;
        }
        Ok(())
    }

    fn remove_handle(conn: &Connection, handle: &Handle) -> Result<(), StorageError> {
        let h = handle.as_str();
        conn.prepare_cached("DELETE FROM handles WHERE handle = ?1")?.execute([h])?;
        conn.prepare_cached("DELETE FROM stream WHERE handle = ?1")?.execute([h])?;
        // OR IGNORE: retiring is idempotent; the name stays retired once.
        conn.prepare_cached("INSERT OR IGNORE INTO retired_handles (handle) VALUES (?1)")?.execute([h])?;
        Ok(())
    }

    /// The conversation order (`ord`) of message `id` if it belongs to the conversation `key`.
    fn position(&self, key: &str, id: &str) -> Result<Option<i64>, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT ord FROM messages WHERE id = ?1 AND conversation = ?2")?
            .query_row(params![id, key], |row| row.get(0))
            .optional()?)
    }

    /// The place (`number`, `ord`) of message `id` in `group` if a member who joined at `since` can see it.
    fn group_position(&self, group: &str, since: i64, id: &str) -> Result<Option<(i64, i64)>, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT number, ord FROM group_messages WHERE id = ?1 AND grp = ?2 AND number > ?3")?
            .query_row(params![id, group, since], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }
}

impl Storage for SqliteStorage {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        Ok(Snapshot {
            accounts: self.load_accounts()?,
            handles: self.load_handles()?,
            heads: self.load_heads()?,
            retired: self.load_retired()?,
            sessions: self.load_sessions()?,
            invites: self.load_invites()?,
            entries: self.load_entries()?,
            requests: self.load_requests()?,
            deletions: self.load_deletions()?,
            blocks: self.load_blocks()?,
            groups: self.load_groups()?,
            members: self.load_members()?,
            group_invites: self.load_group_invites()?,
        })
    }

    fn apply(&mut self, mutation: &Mutation) -> Result<(), StorageError> {
        if !self.in_transaction() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let conn = &self.conn;
        match mutation {
            Mutation::PutAccount(a) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO accounts (id, password_phc, created_at, disabled) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![a.id, a.password_phc, a.created_at, a.disabled])?;
            }
            Mutation::PutHandle(h) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO handles
                     (handle, account, position, created_at, display_name, bio, activity, location, last_seen, acked,
                      invite_policy)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?
                .execute(params![
                    h.handle.as_str(),
                    h.account,
                    h.position,
                    h.created_at,
                    h.profile.display_name,
                    h.profile.bio,
                    h.activity,
                    h.location,
                    h.last_seen,
                    h.acked,
                    enum_text(&h.invite_policy)?,
                ])?;
            }
            Mutation::RemoveHandle(handle) => self.atomically(|conn| Self::remove_handle(conn, handle))?,
            Mutation::PutSession(s) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO sessions (id, account, token_hash, device, created_at, last_used_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    s.id,
                    s.account,
                    s.token_hash,
                    s.device,
                    s.created_at,
                    s.last_used_at
                ])?;
            }
            Mutation::DeleteSession { id } => {
                conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?.execute([id])?;
            }
            Mutation::PutInvite(i) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO invites (code, created_at, used_by, revoked) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![i.code, i.created_at, i.used_by, i.revoked])?;
            }
            Mutation::PutEntry(e) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO entries (owner, peer, nickname, note, since, removed_you)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    e.owner.to_string(),
                    e.peer.to_string(),
                    e.nickname,
                    e.note,
                    e.since,
                    e.removed_you
                ])?;
            }
            Mutation::DeleteEntry { owner, peer } => {
                conn.prepare_cached("DELETE FROM entries WHERE owner = ?1 AND peer = ?2")?
                    .execute([owner.to_string(), peer.to_string()])?;
            }
            Mutation::PutRequest(r) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO requests (from_addr, to_addr, greeting, at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![r.from.to_string(), r.to.to_string(), r.greeting, r.at])?;
            }
            Mutation::DeleteRequest { from, to } => {
                conn.prepare_cached("DELETE FROM requests WHERE from_addr = ?1 AND to_addr = ?2")?
                    .execute([from.to_string(), to.to_string()])?;
            }
            Mutation::PutDeletion(d) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO deletions (deleter, deleted, state, at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    d.deleter.to_string(),
                    d.deleted.to_string(),
                    enum_text(&d.state)?,
                    d.at
                ])?;
            }
            Mutation::DeleteDeletion { deleter, deleted } => {
                conn.prepare_cached("DELETE FROM deletions WHERE deleter = ?1 AND deleted = ?2")?
                    .execute([deleter.to_string(), deleted.to_string()])?;
            }
            Mutation::PutBlock(b) => {
                conn.prepare_cached("INSERT OR REPLACE INTO blocks (owner, target, at) VALUES (?1, ?2, ?3)")?
                    .execute(params![b.owner.to_string(), b.target.to_string(), b.at])?;
            }
            Mutation::DeleteBlock { owner, target } => {
                conn.prepare_cached("DELETE FROM blocks WHERE owner = ?1 AND target = ?2")?
                    .execute([owner.to_string(), target.to_string()])?;
            }
            Mutation::StoreMessage { message, sender_seq, recipient_seq } => {
                self.atomically(|conn| Self::store_message(conn, message, *sender_seq, *recipient_seq))?;
            }
            Mutation::AppendEvent { handle, item } => {
                let ItemBody::Event { event } = &item.body else {
                    // The messages tables are the one copy of a message; a message item without it would be an
                    // orphan that history never shows. The core stores messages with StoreMessage and
                    // StoreGroupMessage only, and receipts with AppendReceipt.
                    return Err(StorageError::Corrupt(format!(
                        "AppendEvent for {handle} seq {} carries no event; messages go through StoreMessage or \
                         StoreGroupMessage, receipts through AppendReceipt",
                        item.seq
                    )));
                };
                let json = serde_json::to_string(event)
                    .map_err(|e| StorageError::Corrupt(format!("cannot encode an event as JSON: {e}")))?;
                conn.prepare_cached(
                    "INSERT INTO stream (handle, seq, at, kind, event_json) VALUES (?1, ?2, ?3, 'event', ?4)",
                )?
                .execute(params![handle.as_str(), item.seq, item.at, json])?;
            }
            Mutation::PutGroup(g) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO groups (id, title, owner, created_at, archived, messages)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    g.id,
                    g.title,
                    g.owner.to_string(),
                    g.created_at,
                    g.archived,
                    g.messages
                ])?;
            }
            Mutation::PutMember(m) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO group_members (grp, member, joined_at, since) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![m.group, m.member.to_string(), m.joined_at, m.since])?;
            }
            Mutation::DeleteMember { group, member } => {
                conn.prepare_cached("DELETE FROM group_members WHERE grp = ?1 AND member = ?2")?
                    .execute(params![group, member.to_string()])?;
            }
            Mutation::PutGroupInvite(i) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO group_invites (grp, invitee, by_addr, at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![i.group, i.invitee.to_string(), i.by.to_string(), i.at])?;
            }
            Mutation::DeleteGroupInvite { group, invitee } => {
                conn.prepare_cached("DELETE FROM group_invites WHERE grp = ?1 AND invitee = ?2")?
                    .execute(params![group, invitee.to_string()])?;
            }
            Mutation::StoreGroupMessage { message, number, deliveries } => {
                self.atomically(|conn| Self::store_group_message(conn, message, *number, deliveries))?;
            }
            Mutation::PutReceipt(r) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO receipts (message_id, recipient, sender, grp, seq, delivered_at, read_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    r.message_id,
                    r.recipient.to_string(),
                    r.sender.to_string(),
                    r.group,
                    r.seq,
                    r.delivered_at,
                    r.read_at
                ])?;
            }
            Mutation::AppendReceipt { handle, seq, at, receipt } => {
                let json = serde_json::to_string(receipt)
                    .map_err(|e| StorageError::Corrupt(format!("cannot encode a receipt as JSON: {e}")))?;
                conn.prepare_cached(
                    "INSERT INTO stream (handle, seq, at, kind, receipt_json) VALUES (?1, ?2, ?3, 'receipt', ?4)",
                )?
                .execute(params![handle.as_str(), seq, at, json])?;
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        if self.in_transaction() {
            self.conn.execute_batch("COMMIT")?;
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
        if upto <= after || max_items == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.seq, s.at, s.kind, s.event_json, s.receipt_json,
                    m.id, m.sender, m.recipient, m.body, m.sent_at, m.client_msg_id, m.receipts,
                    g.id, g.grp, g.sender, g.body, g.sent_at, g.client_msg_id, g.receipts
             FROM stream s
             LEFT JOIN messages m ON m.ord = s.message_ord
             LEFT JOIN group_messages g ON g.ord = s.group_message_ord
             WHERE s.handle = ?1 AND s.seq > ?2 AND s.seq <= ?3
             ORDER BY s.seq
             LIMIT ?4",
        )?;
        let rows = stmt.query_and_then(
            params![handle.handle.as_str(), clamp(after), clamp(upto), clamp(max_items)],
            |row| -> Result<_, StorageError> {
                let seq: u64 = row.get(0)?;
                let kind: String = row.get(2)?;
                let body = match kind.as_str() {
                    "event" => {
                        let json: String = row.get(3)?;
                        let event: Event = serde_json::from_str(&json).map_err(|e| {
                            StorageError::Corrupt(format!(
                                "stream item {}/{seq}: bad event {json:?}: {e}",
                                handle.handle
                            ))
                        })?;
                        ItemBody::Event { event }
                    }
                    "receipt" => {
                        let json: String = row.get(4)?;
                        let receipt: Receipt = serde_json::from_str(&json).map_err(|e| {
                            StorageError::Corrupt(format!(
                                "stream item {}/{seq}: bad receipt {json:?}: {e}",
                                handle.handle
                            ))
                        })?;
                        ItemBody::Receipt { receipt }
                    }
                    "message" => {
                        if row.get_ref(5)?.data_type() == rusqlite::types::Type::Null {
                            return Err(StorageError::Corrupt(format!(
                                "stream item {}/{seq} refers to a message that does not exist",
                                handle.handle
                            )));
                        }
                        ItemBody::Message { message: message_cols(row, 5)? }
                    }
                    "group_message" => {
                        if row.get_ref(12)?.data_type() == rusqlite::types::Type::Null {
                            return Err(StorageError::Corrupt(format!(
                                "stream item {}/{seq} refers to a group message that does not exist",
                                handle.handle
                            )));
                        }
                        ItemBody::GroupMessage { message: group_message_cols(row, 12)? }
                    }
                    other => {
                        return Err(StorageError::Corrupt(format!(
                            "stream item {}/{seq} has unknown kind {other:?}",
                            handle.handle
                        )));
                    }
                };
                Ok(StreamItem { seq, at: row.get(1)?, body })
            },
        )?;
        rows.collect()
    }

    fn find_client_msg(
        &mut self,
        sender: &Address,
        client_msg_id: &str,
    ) -> Result<Option<(Message, u64)>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, sender, recipient, body, sent_at, client_msg_id, receipts, sender_seq
             FROM messages WHERE sender = ?1 AND client_msg_id = ?2",
        )?;
        let mut rows = stmt.query_and_then(params![sender.to_string(), client_msg_id], |row| {
            Ok::<_, StorageError>((message_cols(row, 0)?, row.get(7)?))
        })?;
        rows.next().transpose()
    }

    fn history(
        &mut self,
        a: &Address,
        b: &Address,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<HistoryPage>, StorageError> {
        let key = conversation_key(&a.to_string(), &b.to_string());
        // One row beyond the page tells whether there are more.
        let fetch = clamp(limit).saturating_add(1);
        let (sql, bound, newest_first) = match cursor {
            HistoryCursor::Latest => (HISTORY_OLDER, i64::MAX, true),
            HistoryCursor::Before(id) => match self.position(&key, id)? {
                Some(ord) => (HISTORY_OLDER, ord, true),
                None => return Ok(None),
            },
            HistoryCursor::After(id) => match self.position(&key, id)? {
                Some(ord) => (HISTORY_NEWER, ord, false),
                None => return Ok(None),
            },
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_and_then(params![key, bound, fetch], |row| message_cols(row, 0))?;
        let mut messages = rows.collect::<Result<Vec<_>, _>>()?;
        let more = messages.len() > limit;
        messages.truncate(limit);
        if newest_first {
            // Fetched newest first to take the newest `limit`; pages are oldest first.
            messages.reverse();
        }
        Ok(Some(HistoryPage { messages, more }))
    }

    fn find_group_client_msg(
        &mut self,
        sender: &Address,
        client_msg_id: &str,
    ) -> Result<Option<(GroupMessage, u64)>, StorageError> {
        // Without a copy in the sender's stream there is no seq to answer with: the reference then knows no such
        // message either.
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, grp, sender, body, sent_at, client_msg_id, receipts, sender_seq
             FROM group_messages WHERE sender = ?1 AND client_msg_id = ?2 AND sender_seq IS NOT NULL",
        )?;
        let mut rows = stmt.query_and_then(params![sender.to_string(), client_msg_id], |row| {
            Ok::<_, StorageError>((group_message_cols(row, 0)?, row.get(7)?))
        })?;
        rows.next().transpose()
    }

    fn group_history(
        &mut self,
        group: &str,
        since: u64,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<GroupHistoryPage>, StorageError> {
        let since = clamp(since);
        // One row beyond the page tells whether there are more.
        let fetch = clamp(limit).saturating_add(1);
        let (sql, (number, ord), newest_first) = match cursor {
            HistoryCursor::Latest => (GROUP_HISTORY_OLDER, (i64::MAX, i64::MAX), true),
            HistoryCursor::Before(id) => match self.group_position(group, since, id)? {
                Some(place) => (GROUP_HISTORY_OLDER, place, true),
                None => return Ok(None),
            },
            HistoryCursor::After(id) => match self.group_position(group, since, id)? {
                Some(place) => (GROUP_HISTORY_NEWER, place, false),
                None => return Ok(None),
            },
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_and_then(params![group, since, number, ord, fetch], |row| group_message_cols(row, 0))?;
        let mut messages = rows.collect::<Result<Vec<_>, _>>()?;
        let more = messages.len() > limit;
        messages.truncate(limit);
        if newest_first {
            // Fetched newest first to take the newest `limit`; pages are oldest first.
            messages.reverse();
        }
        Ok(Some(GroupHistoryPage { messages, more }))
    }

    fn undelivered_receipts(
        &mut self,
        recipient: &Address,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<ReceiptRec>, StorageError> {
        if upto <= after || limit == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(RECEIPTS_UNDELIVERED)?;
        let rows =
            stmt.query_and_then(params![recipient.to_string(), clamp(after), clamp(upto), clamp(limit)], receipt_cols)?;
        rows.collect()
    }

    fn receipt(&mut self, message_id: &str, recipient: &Address) -> Result<Option<ReceiptRec>, StorageError> {
        let mut stmt = self.conn.prepare_cached(RECEIPT)?;
        let mut rows = stmt.query_and_then(params![message_id, recipient.to_string()], receipt_cols)?;
        rows.next().transpose()
    }

    fn message_receipts(&mut self, message_id: &str, limit: usize) -> Result<Vec<ReceiptRec>, StorageError> {
        let mut stmt = self.conn.prepare_cached(MESSAGE_RECEIPTS)?;
        let rows = stmt.query_and_then(params![message_id, clamp(limit)], receipt_cols)?;
        rows.collect()
    }

    fn external_change(&mut self) -> Result<bool, StorageError> {
        let now = data_version(&self.conn)?;
        let changed = now != self.data_version;
        self.data_version = now;
        Ok(changed)
    }
}

/// The newest messages of a conversation older than a position, newest first.
const HISTORY_OLDER: &str = "SELECT id, sender, recipient, body, sent_at, client_msg_id, receipts FROM messages
     WHERE conversation = ?1 AND ord < ?2 ORDER BY ord DESC LIMIT ?3";
/// The oldest messages of a conversation newer than a position, oldest first.
const HISTORY_NEWER: &str = "SELECT id, sender, recipient, body, sent_at, client_msg_id, receipts FROM messages
     WHERE conversation = ?1 AND ord > ?2 ORDER BY ord ASC LIMIT ?3";

// A group's order is its numbering: the core numbers a group's messages 1, 2, ... as they arrive, so ordering by
// `number` is arrival order (which is what the reference pages by) and walks the (grp, number) index instead of
// sorting the group. `ord` (the arrival order proper, and implicitly the index's last column) only breaks ties, which
// a correctly numbered group never has. `number > since` hides what was sent before the member joined.

/// The newest visible messages of a group older than a place (number, ord), newest first.
const GROUP_HISTORY_OLDER: &str = "SELECT id, grp, sender, body, sent_at, client_msg_id, receipts FROM group_messages
     WHERE grp = ?1 AND number > ?2 AND (number, ord) < (?3, ?4) ORDER BY number DESC, ord DESC LIMIT ?5";
/// The oldest visible messages of a group newer than a place (number, ord), oldest first. The index seek starts at the
/// place (`number >= ?3`), the tighter lower bound: the cursor is visible, so its number is above `since`. Offered
/// both bounds, the planner seeks on `number > ?2` and steps through every message between `since` and the cursor;
/// the unary `+` keeps that term out of the index, a mere filter.
const GROUP_HISTORY_NEWER: &str = "SELECT id, grp, sender, body, sent_at, client_msg_id, receipts FROM group_messages
     WHERE grp = ?1 AND number >= ?3 AND (number, ord) > (?3, ?4) AND +number > ?2
     ORDER BY number ASC, ord ASC LIMIT ?5";

// Every receipt query selects the columns `receipt_cols` reads, in its order.

/// One message's receipt for one recipient: a primary-key lookup.
const RECEIPT: &str = "SELECT message_id, recipient, sender, grp, seq, delivered_at, read_at
     FROM receipts WHERE message_id = ?1 AND recipient = ?2";
/// Every tracked recipient of one message: a primary-key prefix, already in recipient order.
const MESSAGE_RECEIPTS: &str = "SELECT message_id, recipient, sender, grp, seq, delivered_at, read_at
     FROM receipts WHERE message_id = ?1 ORDER BY recipient LIMIT ?2";
/// A recipient's receipts still to be delivered over a range of its stream, in stream order. Its terms match the
/// partial index `receipts_undelivered` (`seq > ?2` alone would imply `seq IS NOT NULL`, but spelling out the index's
/// condition keeps the planner from having to prove it), so the range is an index seek over pending rows only.
const RECEIPTS_UNDELIVERED: &str = "SELECT message_id, recipient, sender, grp, seq, delivered_at, read_at
     FROM receipts
     WHERE recipient = ?1 AND seq > ?2 AND seq <= ?3 AND delivered_at IS NULL AND seq IS NOT NULL
     ORDER BY seq LIMIT ?4";

fn data_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.pragma_query_value(None, "data_version", |row| row.get(0))?)
}

/// The key both directions of a conversation share. A space cannot occur in an address, so keys never collide.
fn conversation_key(a: &str, b: &str) -> String {
    if a <= b { format!("{a} {b}") } else { format!("{b} {a}") }
}

/// SQLite integers are signed; stream positions and limits beyond `i64::MAX` mean "no bound", which is what the
/// clamped value says too (no stored seq can exceed it: binding one fails).
fn clamp<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn address_col(row: &Row<'_>, index: usize) -> Result<Address, StorageError> {
    let raw: String = row.get(index)?;
    Address::parse(&raw).map_err(|e| StorageError::Corrupt(format!("bad address {raw:?}: {e}")))
}

fn handle_col(row: &Row<'_>, index: usize) -> Result<Handle, StorageError> {
    let raw: String = row.get(index)?;
    Handle::parse(&raw).map_err(|e| StorageError::Corrupt(format!("bad handle {raw:?}: {e}")))
}

/// A message from the columns id, sender, recipient, body, sent_at, client_msg_id, receipts starting at `first`.
fn message_cols(row: &Row<'_>, first: usize) -> Result<Message, StorageError> {
    Ok(Message {
        id: row.get(first)?,
        from: address_col(row, first + 1)?,
        to: address_col(row, first + 2)?,
        body: row.get(first + 3)?,
        sent_at: row.get(first + 4)?,
        client_msg_id: row.get(first + 5)?,
        receipts: row.get(first + 6)?,
    })
}

/// A group message from the columns id, grp, sender, body, sent_at, client_msg_id, receipts starting at `first`.
fn group_message_cols(row: &Row<'_>, first: usize) -> Result<GroupMessage, StorageError> {
    Ok(GroupMessage {
        id: row.get(first)?,
        group: row.get(first + 1)?,
        from: address_col(row, first + 2)?,
        body: row.get(first + 3)?,
        sent_at: row.get(first + 4)?,
        client_msg_id: row.get(first + 5)?,
        receipts: row.get(first + 6)?,
    })
}

/// A receipt record from the columns message_id, recipient, sender, grp, seq, delivered_at, read_at.
fn receipt_cols(row: &Row<'_>) -> Result<ReceiptRec, StorageError> {
    Ok(ReceiptRec {
        message_id: row.get(0)?,
        recipient: address_col(row, 1)?,
        sender: address_col(row, 2)?,
        group: row.get(3)?,
        seq: row.get(4)?,
        delivered_at: row.get(5)?,
        read_at: row.get(6)?,
    })
}

/// The snake_case name serde gives a unit variant (a deletion state, an invite policy), so that the column reads like
/// the wire protocol.
fn enum_text<T: serde::Serialize + std::fmt::Debug>(value: &T) -> Result<String, StorageError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        other => Err(StorageError::Corrupt(format!("{value:?} does not encode as a string: {other:?}"))),
    }
}

/// The inverse of [`enum_text`]; `what` names the column in the error.
fn enum_from_text<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StorageError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| StorageError::Corrupt(format!("bad {what} {text:?}: {e}")))
}

#[cfg(test)]
mod tests;
