//! The huddle engine's records: topics, subscriptions, huddles and huddle settings, each a JSON document under its
//! key columns (schema 6).

use huddle_shared::Address;
use huddle_shared::model::{HuddleSettings, TopicId};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::columns::address_col;
use crate::storage::{HuddleRec, StorageError, SubscriptionRec, TopicRec, WindowRec};

fn to_json(what: &str, value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Corrupt(format!("cannot write a {what} record: {e}")))
}

fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(format!("a stored {what} record is not valid: {e}")))
}

fn load_docs<T: DeserializeOwned>(conn: &Connection, what: &str, sql: &str) -> Result<Vec<T>, StorageError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_and_then([], |row| -> Result<T, StorageError> {
        let json: String = row.get(0)?;
        from_json(what, &json)
    })?;
    rows.collect()
}

pub(super) fn load_topics(conn: &Connection) -> Result<Vec<TopicRec>, StorageError> {
    load_docs(conn, "topic", "SELECT body_json FROM topics ORDER BY id")
}

pub(super) fn load_subscriptions(conn: &Connection) -> Result<Vec<SubscriptionRec>, StorageError> {
    load_docs(conn, "subscription", "SELECT body_json FROM subscriptions ORDER BY topic, subscriber")
}

pub(super) fn load_huddles(conn: &Connection) -> Result<Vec<HuddleRec>, StorageError> {
    load_docs(conn, "huddle", "SELECT body_json FROM huddles ORDER BY room")
}

pub(super) fn load_settings(conn: &Connection) -> Result<Vec<(Address, HuddleSettings)>, StorageError> {
    let mut stmt = conn.prepare_cached("SELECT handle, body_json FROM huddle_settings ORDER BY handle")?;
    let rows = stmt.query_and_then([], |row| -> Result<_, StorageError> {
        let json: String = row.get(1)?;
        Ok((address_col(row, 0)?, from_json("huddle settings", &json)?))
    })?;
    rows.collect()
}

pub(super) fn put_topic(conn: &Connection, t: &TopicRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO topics (id, body_json) VALUES (?1, ?2)")?
        .execute(params![t.id.as_str(), to_json("topic", t)?])?;
    Ok(())
}

pub(super) fn delete_topic(conn: &Connection, topic: &TopicId) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM subscriptions WHERE topic = ?1")?.execute([topic.as_str()])?;
    conn.prepare_cached("DELETE FROM topics WHERE id = ?1")?.execute([topic.as_str()])?;
    Ok(())
}

pub(super) fn put_subscription(conn: &Connection, s: &SubscriptionRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO subscriptions (topic, subscriber, body_json) VALUES (?1, ?2, ?3)")?
        .execute(params![s.topic.as_str(), s.subscriber.to_string(), to_json("subscription", s)?])?;
    Ok(())
}

pub(super) fn delete_subscription(conn: &Connection, topic: &TopicId, who: &Address) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM subscriptions WHERE topic = ?1 AND subscriber = ?2")?
        .execute(params![topic.as_str(), who.to_string()])?;
    Ok(())
}

pub(super) fn put_huddle(conn: &Connection, h: &HuddleRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO huddles (room, ended, body_json) VALUES (?1, ?2, ?3)")?
        .execute(params![h.room.as_str(), h.ended_at.is_some(), to_json("huddle", h)?])?;
    Ok(())
}

pub(super) fn put_settings(conn: &Connection, handle: &Address, settings: &HuddleSettings) -> Result<(), StorageError> {
    if *settings == HuddleSettings::default() {
        conn.prepare_cached("DELETE FROM huddle_settings WHERE handle = ?1")?.execute([handle.to_string()])?;
    } else {
        conn.prepare_cached("INSERT OR REPLACE INTO huddle_settings (handle, body_json) VALUES (?1, ?2)")?
            .execute(params![handle.to_string(), to_json("huddle settings", settings)?])?;
    }
    Ok(())
}

pub(super) fn load_windows(conn: &Connection) -> Result<Vec<WindowRec>, StorageError> {
    load_docs(conn, "window", "SELECT body_json FROM huddle_windows ORDER BY id")
}

pub(super) fn put_window(conn: &Connection, w: &WindowRec) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO huddle_windows (id, body_json) VALUES (?1, ?2)")?
        .execute(params![w.id, to_json("window", w)?])?;
    Ok(())
}

pub(super) fn delete_window(conn: &Connection, id: &str) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM huddle_windows WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// The activity hash key, kept in `meta` beside the relay's name.
pub(super) fn load_secret(conn: &Connection) -> Result<Option<String>, StorageError> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT value FROM meta WHERE key = 'activity_secret'", [], |row| row.get(0)).optional()?)
}

pub(super) fn put_secret(conn: &Connection, secret: &str) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('activity_secret', ?1)")?
        .execute([secret])?;
    Ok(())
}
