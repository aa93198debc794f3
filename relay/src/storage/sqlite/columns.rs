//! Reading and writing the column types the schema shares: addresses, handles and room ids as their canonical text,
//! enums as their wire names, unsigned positions as SQLite's signed integers.

use huddle_shared::{Address, Handle, RoomId};
use rusqlite::Row;

use crate::storage::StorageError;

/// SQLite integers are signed; stream positions and limits beyond `i64::MAX` mean "no bound", which is what the
/// clamped value says too (no stored seq can exceed it: binding one fails).
pub(super) fn clamp<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

pub(super) fn address_col(row: &Row<'_>, index: usize) -> Result<Address, StorageError> {
    let raw: String = row.get(index)?;
    Address::parse(&raw).map_err(|e| StorageError::Corrupt(format!("bad address {raw:?}: {e}")))
}

pub(super) fn optional_address_col(row: &Row<'_>, index: usize) -> Result<Option<Address>, StorageError> {
    let raw: Option<String> = row.get(index)?;
    raw.map(|raw| Address::parse(&raw).map_err(|e| StorageError::Corrupt(format!("bad address {raw:?}: {e}"))))
        .transpose()
}

pub(super) fn handle_col(row: &Row<'_>, index: usize) -> Result<Handle, StorageError> {
    let raw: String = row.get(index)?;
    Handle::parse(&raw).map_err(|e| StorageError::Corrupt(format!("bad handle {raw:?}: {e}")))
}

pub(super) fn room_col(row: &Row<'_>, index: usize) -> Result<RoomId, StorageError> {
    let raw: String = row.get(index)?;
    RoomId::parse(&raw).map_err(|e| StorageError::Corrupt(format!("bad room id {raw:?}: {e}")))
}

/// The snake_case name serde gives a unit variant (a deletion state, an invite policy, a room kind), so that the
/// column reads like the wire protocol.
pub(super) fn enum_text<T: serde::Serialize + std::fmt::Debug>(value: &T) -> Result<String, StorageError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        other => Err(StorageError::Corrupt(format!("{value:?} does not encode as a string: {other:?}"))),
    }
}

/// The inverse of [`enum_text`]; `what` names the column in the error.
pub(super) fn enum_from_text<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StorageError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| StorageError::Corrupt(format!("bad {what} {text:?}: {e}")))
}

/// A JSON column as the type it holds; `what` says which row, for the error.
pub(super) fn json_col<T: serde::de::DeserializeOwned>(
    json: &str,
    what: impl FnOnce() -> String,
) -> Result<T, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(format!("{}: bad JSON {json:?}: {e}", what())))
}

/// A value as JSON text for a column.
pub(super) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Corrupt(format!("cannot encode {what} as JSON: {e}")))
}
