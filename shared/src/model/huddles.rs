//! Huddles: rooms the relay forms by itself when something happens, and ends when it is over. A huddle has a
//! [`HuddleTrigger`] (what formed it), members chosen by a relation (a topic's subscribers, a person's followers) and
//! an end (a time, its anchor going offline, silence, nobody left). Topics are what people subscribe to: an issue
//! published to a topic forms a huddle of its subscribers.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::is_false;
use crate::{Address, Millis};

/// Why a topic id could not be read. The `Display` text is written for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a topic id is 1 to 32 characters of a-z, 0-9 and '-', starting with a letter or digit (got {0:?})")]
pub struct TopicIdError(pub String);

/// A topic's name on its relay (`rust-weekly`): what people subscribe to and what the webhook's URL names. Compared
/// case-insensitively (stored and written in lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(String);

impl TopicId {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, TopicIdError> {
        let id = raw.to_ascii_lowercase();
        let valid = !id.is_empty()
            && id.len() <= Self::MAX_LEN
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !id.starts_with('-');
        if valid { Ok(Self(id)) } else { Err(TopicIdError(raw.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TopicId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TopicId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A topic as a handle sees it (`topic` and `topics` frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicInfo {
    pub id: TopicId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub owner: Address,
    /// How long a huddle of this topic lasts unless a subscriber chose otherwise for themselves.
    pub duration_ms: Millis,
    /// Subscribers who are offline are put in its huddles too (they read them later); otherwise only those online.
    #[serde(default, skip_serializing_if = "is_false")]
    pub include_offline: bool,
    /// Who besides the owner may publish issues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<Address>,
    pub subscribers: u32,
    /// The viewer's subscription, if subscribed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    /// Issues published so far (the next one is numbered this + 1).
    pub issues: u64,
    /// Shown to the owner only: whether a webhook token is set.
    #[serde(default, skip_serializing_if = "is_false")]
    pub webhook: bool,
    /// When huddles form by the clock: a cron expression (`0 18 * * FRI`) or a one-off local time
    /// (`2026-12-24T18:00`), read in `time_zone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The IANA time zone the schedule is read in (`Europe/Berlin`); absent: UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// When the schedule next forms a huddle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<Millis>,
    /// An RSS or Atom feed the relay polls: each new entry is an issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<String>,
    /// Shown to the owner only: why the feed's last poll failed, while it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_error: Option<String>,
    pub created_at: Millis,
}

/// A handle's subscription to a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// How long this subscriber stays in the topic's huddles; `None`: the topic's duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Millis>,
    pub since: Millis,
}

/// Where an issue came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueSource {
    /// A client's `publish` (the publisher is named in `by`).
    Client,
    /// The topic's webhook (`POST /topics/{id}/issues`).
    Webhook,
    /// A new entry of the topic's feed.
    Feed,
    #[serde(other)]
    Unknown,
}

/// One published issue of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// 1 for the topic's first issue, then one more each time.
    pub number: u64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub source: IssueSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Address>,
}

/// What formed a huddle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum HuddleTrigger {
    /// An issue of a topic was published; its subscribers are the members.
    Issue { topic: TopicId, topic_title: String, issue: Issue },
    /// `of` came online; the members are it and its followers who were online.
    Presence { of: Address },
    /// The topic's schedule: its time came.
    Schedule { topic: TopicId, topic_title: String },
    /// `count` people reported the same activity of this kind (the seed's "bought a ticket to the same show") within
    /// the relay's window. The activity itself is never stored or shown.
    Activity { kind: String, count: u32 },
    /// `count` people reported being in the relay's area `area` within its window.
    Place { area: String, count: u32 },
    /// A trigger of a later protocol version.
    #[serde(other)]
    Unknown,
}

/// Why a huddle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Its time was up.
    Time,
    /// Its anchor went offline.
    AnchorOffline,
    /// Nobody wrote for its idle time.
    Idle,
    /// Everyone left.
    Empty,
    /// Its topic was deleted.
    TopicDeleted,
    #[serde(other)]
    Unknown,
}

/// What a huddle's members are told about it, in its `room` frame (`huddle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuddleInfo {
    #[serde(flatten)]
    pub trigger: HuddleTrigger,
    /// When it ends by time, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Millis>,
    /// It ends when this handle goes offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Address>,
    /// It ends after this long without a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_ms: Option<Millis>,
}

/// A handle's huddle settings: what it lets the relay put it in. Sent whole by `set_huddle_settings`, pushed as
/// `huddle_settings` at login and after every change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuddleSettings {
    /// No huddles at all (subscriptions and follows are kept, and count again when this is turned off).
    #[serde(default, deserialize_with = "super::null_as_default", skip_serializing_if = "is_false")]
    pub off: bool,
    /// Friends may follow this handle's coming online (`follows`): a huddle of it and them forms when it does.
    #[serde(default, deserialize_with = "super::null_as_default", skip_serializing_if = "is_false")]
    pub share_presence: bool,
    /// Friends whose coming online puts this handle in a huddle with them (when they share their presence).
    #[serde(default, deserialize_with = "super::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub follows: Vec<Address>,
    /// Topics whose huddles this handle sits out while staying subscribed.
    #[serde(default, deserialize_with = "super::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub muted_topics: Vec<TopicId>,
    /// Handles never related to this one in huddles: not put in the same huddle, and nothing passes between the two
    /// in one they already share.
    #[serde(default, deserialize_with = "super::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub not_with: Vec<Address>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids_are_short_lowercase_names() {
        assert_eq!(TopicId::parse("Rust-Weekly").unwrap().as_str(), "rust-weekly");
        for bad in ["", "-x", "a b", "a_b", "ä", &"x".repeat(33)] {
            assert!(TopicId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<TopicId>("\"no spaces\"").is_err());
    }

    #[test]
    fn a_huddle_info_writes_each_field_once() {
        let info = HuddleInfo {
            trigger: HuddleTrigger::Presence { of: "ben@x.example".parse().unwrap() },
            ends_at: None,
            anchor: Some("ben@x.example".parse().unwrap()),
            idle_ms: Some(5),
        };
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(json, r#"{"trigger":"presence","of":"ben@x.example","anchor":"ben@x.example","idle_ms":5}"#);
        assert_eq!(serde_json::from_str::<HuddleInfo>(&json).unwrap(), info);
    }

    #[test]
    fn a_huddle_of_a_later_kind_still_reads() {
        let info: HuddleInfo = serde_json::from_str(r#"{"trigger":"weather","ends_at":5}"#).unwrap();
        assert_eq!(info.trigger, HuddleTrigger::Unknown);
        assert_eq!(info.ends_at, Some(5));
    }
}
