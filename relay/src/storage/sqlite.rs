//! SQLite storage: to be written.
use huddle_shared::Address;
use huddle_shared::model::{Message, StreamItem};

use super::{HistoryCursor, HistoryPage, Mutation, Snapshot, Storage, StorageError};

#[derive(Debug)]
pub struct SqliteStorage {}

impl Storage for SqliteStorage {
    fn load(&mut self) -> Result<Snapshot, StorageError> {
        todo!()
    }
    fn apply(&mut self, _m: &Mutation) -> Result<(), StorageError> {
        todo!()
    }
    fn commit(&mut self) -> Result<(), StorageError> {
        todo!()
    }
    fn stream_page(&mut self, _h: &Address, _a: u64, _u: u64, _m: usize) -> Result<Vec<StreamItem>, StorageError> {
        todo!()
    }
    fn find_client_msg(&mut self, _s: &Address, _c: &str) -> Result<Option<(Message, u64)>, StorageError> {
        todo!()
    }
    fn history(
        &mut self,
        _a: &Address,
        _b: &Address,
        _c: HistoryCursor<'_>,
        _l: usize,
    ) -> Result<Option<HistoryPage>, StorageError> {
        todo!()
    }
    fn external_change(&mut self) -> Result<bool, StorageError> {
        todo!()
    }
}
