//! Persistence behind one trait, so the core never knows whether it talks to SQLite or memory.
//!
//! The core keeps the relationship data (accounts, handles, lists, requests, blocks, sessions, invites, rooms and their
//! members) in memory and writes every change through [`Storage::apply`]; it reads it back only at start and after an
//! admin changed the database ([`Storage::external_change`]). Streams, messages and receipts live only in storage and
//! are read page by page.
//!
//! Durability contract: a [`Mutation`] is durable once [`Storage::commit`] returns `Ok`. The relay acknowledges
//! nothing (no `stored`, no `ok`) before the commit that contains it. Any storage error is fatal to the relay: the
//! core stops instead of letting memory and disk disagree, and a restart reloads the last committed state.

mod memory;
mod records;
mod sqlite;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod differential;

pub use memory::MemoryStorage;
pub use records::*;
pub use sqlite::{IntegrityCheck, SqliteStorage, check_data_dir};

use huddle_shared::model::{Message, StreamItem};
use huddle_shared::{Address, MessageId, RoomId};

/// A storage failure. The relay treats it as fatal.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "the database belongs to relay {stored:?}, but the config names this relay {configured:?}; addresses embed the relay name, so it cannot change"
    )]
    RelayNameMismatch { stored: String, configured: String },
    #[error("the database schema version {0} is newer than this relay understands; upgrade huddle-relay")]
    TooNew(i64),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(
        "the data directory {path} can be written by other users (mode {mode:04o}): whoever can write there can \
         delete or replace the database, or put files beside it that SQLite will open as its own. The relay did not \
         start. Make the directory private with `chmod 700 {path}` and start again"
    )]
    DataDirWritable { path: String, mode: u32 },
    #[error(
        "{path} is empty (0 bytes) where a database was expected. The relay did not start and has not changed it. \
         If this relay had data, stop here and restore the newest copy made with `huddle-relay backup` to {path}; to \
         start a new, empty relay instead, delete {path}"
    )]
    EmptyDatabase { path: String },
    #[error(
        "{path} is damaged: SQLite's check of the file (PRAGMA quick_check) found: {report}. The relay did not start \
         and has not changed the file. Restore the newest copy made with `huddle-relay backup`: move {path} and any \
         relay.db-wal and relay.db-shm beside it elsewhere (keep them), copy the backup to {path}, and start the relay \
         again (see \"Data at rest and start-up checks\" in docs/relay.md)"
    )]
    Damaged { path: String, report: String },
    #[error("cannot {action} {path}: {source}")]
    File { action: &'static str, path: String, source: std::io::Error },
}

/// Which slice of a room's messages `history` wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryCursor<'a> {
    /// The newest messages.
    Latest,
    /// Messages strictly older than this message, newest first.
    Before(&'a MessageId),
    /// Messages strictly newer than this message, oldest first.
    After(&'a MessageId),
}

/// One page of a room's history, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    /// There are further messages (visible to the asker) in the direction of travel.
    pub more: bool,
}

pub trait Storage: Send {
    /// Reads everything the core keeps in memory.
    fn load(&mut self) -> Result<Snapshot, StorageError>;
    /// Records one change; it becomes durable at the next [`Storage::commit`]. After an error the uncommitted batch
    /// is in no defined state and must never be committed: the core stops the relay on any storage error, and the
    /// next start finds the last commit. (So a mutation needs no savepoint of its own, which would cost every message
    /// a sub-journal of the pages it touches.)
    fn apply(&mut self, mutation: &Mutation) -> Result<(), StorageError>;
    /// Makes every applied mutation durable.
    fn commit(&mut self) -> Result<(), StorageError>;
    /// The directory of the durable files, if there are any: the relay watches its file system's free space.
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// Stream items of `handle` with `after < seq <= upto`, in order, at most `max_items`.
    fn stream_page(
        &mut self,
        handle: &Address,
        after: u64,
        upto: u64,
        max_items: usize,
    ) -> Result<Vec<StreamItem>, StorageError>;
    /// The message `sender` sent with this idempotency key (in any room), with its place in the sender's stream.
    fn find_client_msg(
        &mut self,
        sender: &Address,
        client_msg_id: &str,
    ) -> Result<Option<(Message, u64)>, StorageError>;
    /// Messages of `room` numbered above `since` (what a member who joined then may see), oldest first, paged from the
    /// cursor. `None` if the cursor is not such a message.
    fn history(
        &mut self,
        room: &RoomId,
        since: u64,
        cursor: HistoryCursor<'_>,
        limit: usize,
    ) -> Result<Option<HistoryPage>, StorageError>;
    /// Receipt records of `recipient` that are not delivered yet, for its stream items `after < seq <= upto`, in
    /// `seq` order, at most `limit`. Records without a seq (never delivered to the recipient) are never among them.
    fn undelivered_receipts(
        &mut self,
        recipient: &Address,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<ReceiptRec>, StorageError>;
    /// The largest stream position among `recipient`'s receipt records not delivered yet (`None` if there is none):
    /// an acknowledgement that does not pass it has no receipt to deliver, and need not look.
    fn latest_undelivered_receipt(&mut self, recipient: &Address) -> Result<Option<u64>, StorageError>;
    /// The receipt record of one message for one recipient, if its receipts are tracked.
    fn receipt(&mut self, message_id: &MessageId, recipient: &Address) -> Result<Option<ReceiptRec>, StorageError>;
    /// The receipt records of one message (one per tracked recipient), ordered by the recipient's address text, at
    /// most `limit`.
    fn message_receipts(&mut self, message_id: &MessageId, limit: usize) -> Result<Vec<ReceiptRec>, StorageError>;
    /// True when another process (the admin CLI) changed the data since the last call.
    fn external_change(&mut self) -> Result<bool, StorageError>;
}
