//! The huddle engine's records: topics, subscriptions (deleted with their topic), huddles and huddle settings (the
//! default settings delete the record).

use huddle_shared::model::{HuddleSettings, HuddleTrigger, Issue, IssueSource, TopicId};

use super::*;
use crate::storage::{HuddleRec, SubscriptionRec, TopicRec};

fn topic_rec(id: &str, owner: &str) -> TopicRec {
    TopicRec {
        id: TopicId::parse(id).unwrap(),
        owner: addr(owner),
        title: format!("{id} «weekly»"),
        description: Some("News, \"quoted\"".to_owned()),
        duration_ms: 1_800_000,
        include_offline: true,
        publishers: vec![addr("bob")],
        token_hash: Some("ab".repeat(32)),
        issues: 41,
        created_at: 1_700_000_000_000,
        schedule: Some("0 18 * * FRI".to_owned()),
        time_zone: Some("Europe/Berlin".to_owned()),
        schedule_after: 1_700_000_000_001,
        feed: Some(crate::storage::FeedRec {
            url: "https://example.org/feed.xml".to_owned(),
            etag: Some("\"abc\"".to_owned()),
            last_modified: None,
            seen: vec!["tag:1".to_owned()],
            primed: true,
            failures: 2,
            last_error: Some("timed out".to_owned()),
        }),
    }
}

pub fn huddle_records_put_overwrite_delete(s: &mut dyn Storage) {
    let (weekly, daily) = (topic_rec("weekly", "alice"), topic_rec("daily", "bob"));
    let sub = |topic: &TopicRec, who: &str, duration_ms| SubscriptionRec {
        topic: topic.id.clone(),
        subscriber: addr(who),
        duration_ms,
        since: 5,
    };
    let huddle = HuddleRec {
        room: room("h-1"),
        trigger: HuddleTrigger::Issue {
            topic: weekly.id.clone(),
            topic_title: weekly.title.clone(),
            issue: Issue {
                number: 42,
                title: "Issue 42".into(),
                body: Some("Body\nlines".into()),
                link: Some("https://example.org/42".into()),
                source: IssueSource::Webhook,
                by: None,
            },
        },
        by: addr("alice"),
        anchor: None,
        ends_at: Some(99),
        idle_ms: None,
        member_ends: [(addr("carol").to_string(), 50)].into_iter().collect(),
        started_at: 9,
        ended_at: None,
    };
    let presence = HuddleRec {
        room: room("h-0"),
        trigger: HuddleTrigger::Presence { of: addr("bob") },
        anchor: Some(addr("bob")),
        idle_ms: Some(60_000),
        ends_at: None,
        member_ends: Default::default(),
        ended_at: Some(70),
        ..huddle.clone()
    };
    let carol_settings = HuddleSettings {
        off: false,
        share_presence: true,
        follows: vec![addr("alice")],
        muted_topics: vec![weekly.id.clone()],
        not_with: vec![addr("dave")],
    };
    for m in [
        Mutation::PutTopic(weekly.clone()),
        Mutation::PutTopic(daily.clone()),
        Mutation::PutSubscription(sub(&weekly, "carol", Some(60_000))),
        Mutation::PutSubscription(sub(&weekly, "bob", None)),
        Mutation::PutSubscription(sub(&daily, "carol", None)),
        Mutation::PutHuddle(huddle.clone()),
        Mutation::PutHuddle(presence.clone()),
        Mutation::PutHuddleSettings { handle: addr("carol"), settings: carol_settings.clone() },
        Mutation::PutHuddleSettings {
            handle: addr("bob"),
            settings: HuddleSettings { off: true, ..Default::default() },
        },
    ] {
        s.apply(&m).unwrap();
    }
    s.commit().unwrap();
    let loaded = load(s);
    assert_eq!(loaded.topics, vec![daily.clone(), weekly.clone()]);
    assert_eq!(loaded.subscriptions.len(), 3);
    assert_eq!(loaded.huddles, vec![presence.clone(), huddle.clone()]);
    assert_eq!(loaded.huddle_settings[1], (addr("carol"), carol_settings));

    // Overwrites, a topic deleted with its subscriptions, settings back to the default.
    let ended = HuddleRec { ended_at: Some(100), ..huddle };
    for m in [
        Mutation::PutHuddle(ended.clone()),
        Mutation::DeleteTopic(weekly.id.clone()),
        Mutation::DeleteSubscription { topic: daily.id.clone(), subscriber: addr("nobody") },
        Mutation::PutHuddleSettings { handle: addr("bob"), settings: HuddleSettings::default() },
    ] {
        s.apply(&m).unwrap();
    }
    s.commit().unwrap();
    let loaded = load(s);
    assert_eq!(loaded.topics, vec![daily.clone()]);
    assert_eq!(loaded.subscriptions, vec![sub(&daily, "carol", None)]);
    assert_eq!(loaded.huddles, vec![presence, ended]);
    assert_eq!(loaded.huddle_settings.len(), 1);

    // Report windows, and the activity key (kept once).
    let window = crate::storage::WindowRec {
        id: "activity:show:00ff".to_owned(),
        label: "show".to_owned(),
        place: false,
        opened_at: 1,
        closes_at: 600_001,
        reporters: vec![addr("bob"), addr("carol")],
    };
    let place = crate::storage::WindowRec { id: "place:u33d".to_owned(), place: true, ..window.clone() };
    for m in [
        Mutation::PutWindow(window.clone()),
        Mutation::PutWindow(place.clone()),
        Mutation::DeleteWindow(place.id.clone()),
        Mutation::PutActivitySecret("k".repeat(43)),
    ] {
        s.apply(&m).unwrap();
    }
    s.commit().unwrap();
    let loaded = load(s);
    assert_eq!(loaded.windows, vec![window]);
    assert_eq!(loaded.activity_secret, Some("k".repeat(43)));
}
