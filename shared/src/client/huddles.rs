//! Frames for huddles: topics (create, change, delete, list), subscriptions, publishing an issue, and the handle's
//! huddle settings (protocol 2.2).

use serde::{Deserialize, Serialize};

use crate::model::{HuddleSettings, TopicId, is_false};
use crate::{Address, Handle, Millis, RequestId};

/// Makes a topic owned by this handle. Answered with `topic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTopic {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub topic: TopicId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How long its huddles last; absent: one hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Millis>,
    #[serde(default, deserialize_with = "crate::model::null_as_default", skip_serializing_if = "is_false")]
    pub include_offline: bool,
}

/// The owner changes a topic. Absent fields stay as they are; `publishers` replaces the list; `new_token` makes a
/// new webhook token (the answer carries it, once) and `drop_token` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTopic {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub topic: TopicId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// An empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_offline: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishers: Option<Vec<Address>>,
    #[serde(default, deserialize_with = "crate::model::null_as_default", skip_serializing_if = "is_false")]
    pub new_token: bool,
    #[serde(default, deserialize_with = "crate::model::null_as_default", skip_serializing_if = "is_false")]
    pub drop_token: bool,
    /// A cron expression or a one-off local time (`2026-12-24T18:00`); `""` removes the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The IANA time zone of the schedule; `""`: UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// An `http(s)://` RSS or Atom feed to poll; `""` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<String>,
}

impl UpdateTopic {
    /// An `update_topic` of `topic` that changes nothing yet: set the fields to change.
    pub fn new(id: RequestId, topic: TopicId) -> Self {
        Self {
            id,
            acting: None,
            topic,
            title: None,
            description: None,
            duration_ms: None,
            include_offline: None,
            publishers: None,
            new_token: false,
            drop_token: false,
            schedule: None,
            time_zone: None,
            feed: None,
        }
    }
}

/// The owner deletes a topic: its subscriptions go, and its huddles that are running end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTopic {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub topic: TopicId,
}

/// Every topic on the relay, as this handle sees it. Answered with `topics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetTopics {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
}

/// Subscribes to a topic — the consent to be put in its huddles — or changes the subscription's duration. Answered
/// with `topic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub topic: TopicId,
    /// How long to stay in its huddles; absent: the topic's duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub topic: TopicId,
}

/// Publishes an issue of a topic (its owner or a publisher): a huddle of its subscribers forms. Answered with
/// `published`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub topic: TopicId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Replaces this handle's huddle settings. Answered with `huddle_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetHuddleSettings {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub settings: HuddleSettings,
}

/// Reports an activity (the seed's "called the same number, bought a ticket to the same show"): when enough people
/// report the same `key` of the same `kind` within the relay's window, a huddle of them forms. The relay keeps only a
/// keyed hash of `key`, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportActivity {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    /// What kind of activity, shown to the huddle ("show", "number"): 1 to 32 of `a-z`, `0-9`, `-`.
    pub kind: String,
    /// The activity itself (a show's name, a number): 1 to 256 bytes; hashed, never stored.
    pub key: String,
}

/// Reports where this handle is, as a geohash at the precision it chooses (1 to 12 characters; fewer is coarser).
/// The relay keeps only which of its areas it falls in, never the geohash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPlace {
    pub id: RequestId,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub acting: Option<Handle>,
    pub geohash: String,
}
