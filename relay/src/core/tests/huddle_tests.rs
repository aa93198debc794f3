//! Huddles with the clock passed in: topics and their issues, presence huddles, every end event (time, a member's own
//! time, the anchor going offline, silence, everyone leaving, the topic deleted), restarts mid-huddle, opting out,
//! "not with" and the settings. Nothing sleeps: time moves by [`Harness::advance_to`].

use super::*;
use crate::core::domain::topics::{IssueDraft, Publisher};

const MINUTE: Millis = 60_000;

fn topic(id: &str) -> TopicId {
    TopicId::parse(id).unwrap()
}

fn create_topic(t: &mut Harness, conn: ConnId, id: &str, minutes: i64, include_offline: bool) -> TopicInfo {
    match t.request(conn, |rid| {
        ClientFrame::CreateTopic(CreateTopic {
            id: rid,
            acting: None,
            topic: topic(id),
            title: format!("{id} title"),
            description: None,
            duration_ms: Some(minutes * MINUTE),
            include_offline,
        })
    }) {
        ServerFrame::Topic { topic, token: None, .. } => *topic,
        other => panic!("expected a topic, got {other:?}"),
    }
}

fn subscribe(t: &mut Harness, conn: ConnId, id: &str, minutes: Option<i64>) {
    let answer = t.request(conn, |rid| {
        ClientFrame::Subscribe(Subscribe {
            id: rid,
            acting: None,
            topic: topic(id),
            duration_ms: minutes.map(|m| m * MINUTE),
        })
    });
    assert!(matches!(&answer, ServerFrame::Topic { topic, .. } if topic.subscription.is_some()), "{answer:?}");
}

fn publish(t: &mut Harness, conn: ConnId, id: &str, title: &str) -> (Option<RoomId>, u32) {
    match t.request(conn, |rid| {
        ClientFrame::Publish(Publish {
            id: rid,
            acting: None,
            topic: topic(id),
            title: title.to_owned(),
            body: None,
            link: None,
        })
    }) {
        ServerFrame::Published { room, members, .. } => (room, members),
        other => panic!("expected published, got {other:?}"),
    }
}

fn settings(t: &mut Harness, conn: ConnId, settings: HuddleSettings) {
    let answer = t.request(conn, |id| ClientFrame::SetHuddleSettings(SetHuddleSettings { id, acting: None, settings }));
    assert!(matches!(answer, ServerFrame::HuddleSettings { .. }), "{answer:?}");
}

fn changes(t: &mut Harness, conn: ConnId) -> Vec<RoomChange> {
    t.events(conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::Room { change, .. } => Some(change),
            _ => None,
        })
        .collect()
}

fn members(t: &Harness, room: &RoomId) -> Vec<String> {
    t.core.state().member_addresses(room).iter().map(|a| a.handle.to_string()).collect()
}

fn say(t: &mut Harness, conn: ConnId, room: Option<&RoomId>, to: Option<&str>, body: &str) -> ServerFrame {
    let cmid = format!("h{}", t.id());
    let (room, to) = (room.cloned(), to.map(addr));
    t.request(conn, |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room,
            to,
            body: body.to_owned(),
            client_msg_id: cmid,
            receipts: false,
        })
    })
}

fn ended_reason(changes: &[RoomChange]) -> Option<Option<EndReason>> {
    changes.iter().find_map(|c| match c {
        RoomChange::Ended { reason } => Some(*reason),
        _ => None,
    })
}

/// alice owns "rust-weekly" (30 minutes); bob and carol subscribe; dave subscribes and goes offline.
fn newsletter() -> (Harness, ConnId, ConnId, ConnId) {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    let d = t.register("dave");
    create_topic(&mut t, a, "rust-weekly", 30, false);
    for conn in [b, c, d] {
        subscribe(&mut t, conn, "rust-weekly", None);
    }
    t.disconnect(d);
    t.clear();
    (t, a, b, c)
}

#[test]
fn an_issue_forms_a_huddle_of_the_online_subscribers_that_ends_on_time() {
    let (mut t, a, b, c) = newsletter();
    let start = t.now;
    let (room, count) = publish(&mut t, a, "rust-weekly", "Issue 612");
    let room = room.expect("a huddle formed");
    assert_eq!(count, 3, "the publisher, bob and carol; dave is offline");
    assert_eq!(members(&t, &room), ["alice", "bob", "carol"]);
    for conn in [b, c] {
        let frames = t.take(conn);
        let info = frames.iter().find_map(|f| match f {
            ServerFrame::Room { room: info, .. } => Some(info.clone()),
            _ => None,
        });
        let info = info.expect("the member list is pushed");
        assert_eq!(info.kind, RoomKind::Huddle);
        let huddle = info.huddle.expect("a huddle says what formed it");
        assert!(
            matches!(&huddle.trigger, HuddleTrigger::Issue { issue, .. } if issue.number == 1 && issue.title == "Issue 612")
        );
        assert_eq!(huddle.ends_at, Some(start + 1 + 30 * MINUTE));
        let formed = frames.iter().any(|f| {
            matches!(f, ServerFrame::Deliver { item: StreamItem { body: ItemBody::Event { event: Event::Room { change: RoomChange::Formed { members, .. }, .. } }, .. }, .. } if members.len() == 3)
        });
        assert!(formed, "the formed line names the members: {frames:?}");
    }
    // Members who are not friends may write to each other while it lasts.
    assert!(matches!(say(&mut t, b, None, Some("carol"), "hi from the huddle"), ServerFrame::Stored { .. }));
    t.advance_to(start + 30 * MINUTE - 1);
    assert!(t.core.state().active_huddle(&room).is_some(), "not a moment early");
    t.clear();
    t.advance_to(start + 30 * MINUTE + 1);
    assert!(t.core.state().active_huddle(&room).is_none());
    assert_eq!(ended_reason(&changes(&mut t, b)), Some(Some(EndReason::Time)));
    // The ad hoc relation went with it.
    assert!(matches!(
        say(&mut t, b, None, Some("carol"), "still there?"),
        ServerFrame::Error { code: ErrorCode::NotReachable, .. }
    ));
}

#[test]
fn offline_subscribers_are_included_when_the_topic_says_so() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    create_topic(&mut t, a, "digest", 10, true);
    subscribe(&mut t, b, "digest", None);
    t.disconnect(b);
    let (room, count) = publish(&mut t, a, "digest", "Monday");
    assert_eq!(count, 2);
    assert_eq!(members(&t, &room.unwrap()), ["alice", "bob"]);
}

#[test]
fn a_subscribers_own_duration_takes_them_out_before_the_huddle_ends() {
    let (mut t, a, b, c) = newsletter();
    subscribe(&mut t, c, "rust-weekly", Some(5));
    let start = t.now;
    let (room, _) = publish(&mut t, a, "rust-weekly", "Short for carol");
    let room = room.unwrap();
    t.clear();
    t.advance_to(start + 6 * MINUTE);
    assert_eq!(members(&t, &room), ["alice", "bob"]);
    assert!(changes(&mut t, b).iter().any(|c| matches!(c, RoomChange::TimeUp { who } if *who == addr("carol"))));
    assert!(t.take(c).iter().any(|f| matches!(f, ServerFrame::RoomGone { .. })));
    assert!(t.core.state().active_huddle(&room).is_some());
}

#[test]
fn nobody_is_put_in_a_huddle_against_their_settings_or_with_someone_they_keep_apart() {
    let (mut t, a, b, c) = newsletter();
    let e = t.register("erin");
    subscribe(&mut t, e, "rust-weekly", None);
    // bob turned huddles off, carol keeps away from erin, and nobody is put with someone they blocked.
    settings(&mut t, b, HuddleSettings { off: true, ..HuddleSettings::default() });
    settings(&mut t, c, HuddleSettings { not_with: vec![addr("erin")], ..HuddleSettings::default() });
    let (room, _) = publish(&mut t, a, "rust-weekly", "One");
    assert_eq!(members(&t, &room.unwrap()), ["alice", "carol"], "carol subscribed before erin, so erin is left out");
    // Muting the topic keeps the subscription but sits its huddles out.
    settings(&mut t, b, HuddleSettings::default());
    settings(&mut t, c, HuddleSettings { muted_topics: vec![topic("rust-weekly")], ..HuddleSettings::default() });
    t.ok(e, |id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") }));
    let (room, _) = publish(&mut t, a, "rust-weekly", "Two");
    assert_eq!(members(&t, &room.unwrap()), ["alice", "bob"], "erin blocked the publisher");
}

#[test]
fn inside_a_huddle_nothing_passes_between_two_kept_apart() {
    let (mut t, a, b, c) = newsletter();
    let (room, _) = publish(&mut t, a, "rust-weekly", "Talk");
    let room = room.unwrap();
    settings(&mut t, c, HuddleSettings { not_with: vec![addr("bob")], ..HuddleSettings::default() });
    t.clear();
    assert!(matches!(say(&mut t, b, Some(&room), None, "hello all"), ServerFrame::Stored { .. }));
    assert_eq!(t.messages(a).len(), 1);
    assert!(t.messages(c).is_empty(), "carol gets nothing of bob's");
    assert!(matches!(
        say(&mut t, b, None, Some("carol"), "psst"),
        ServerFrame::Error { code: ErrorCode::NotReachable, .. }
    ));
}

#[test]
fn a_presence_huddle_forms_when_its_anchor_comes_online_and_ends_when_it_leaves() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.befriend(a, c, RequestAnswer::AcceptMutual);
    settings(&mut t, a, HuddleSettings { share_presence: true, ..HuddleSettings::default() });
    settings(&mut t, b, HuddleSettings { follows: vec![addr("alice")], ..HuddleSettings::default() });
    settings(&mut t, c, HuddleSettings { follows: vec![addr("alice")], ..HuddleSettings::default() });
    t.disconnect(a);
    t.disconnect(c);
    t.clear();
    let a = t.login("alice");
    let room = t.core.state().huddles.values().find(|h| h.ended_at.is_none()).map(|h| h.room.clone()).expect("formed");
    assert_eq!(members(&t, &room), ["alice", "bob"], "carol is offline");
    assert!(
        changes(&mut t, b)
            .iter()
            .any(|ch| matches!(ch, RoomChange::Formed { huddle, .. } if huddle.anchor == Some(addr("alice"))))
    );
    // carol comes online while it runs and joins it.
    let _c = t.login("carol");
    assert_eq!(members(&t, &room), ["alice", "bob", "carol"]);
    t.clear();
    t.disconnect(a);
    assert!(t.core.state().active_huddle(&room).is_none());
    assert_eq!(ended_reason(&changes(&mut t, b)), Some(Some(EndReason::AnchorOffline)));
}

#[test]
fn nobody_follows_someone_who_does_not_share_their_presence() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    settings(&mut t, b, HuddleSettings { follows: vec![addr("alice")], ..HuddleSettings::default() });
    t.disconnect(a);
    t.login("alice");
    assert!(t.core.state().huddles.is_empty());
}

#[test]
fn a_silent_presence_huddle_ends_after_its_idle_time_and_a_message_postpones_it() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    settings(&mut t, a, HuddleSettings { share_presence: true, ..HuddleSettings::default() });
    settings(&mut t, b, HuddleSettings { follows: vec![addr("alice")], ..HuddleSettings::default() });
    t.disconnect(a);
    let a = t.login("alice");
    let start = t.now;
    let room = t.core.state().huddles.values().next().map(|h| h.room.clone()).unwrap();
    t.advance_to(start + 20 * MINUTE);
    assert!(matches!(say(&mut t, a, Some(&room), None, "anyone?"), ServerFrame::Stored { .. }));
    t.advance_to(start + 45 * MINUTE);
    assert!(t.core.state().active_huddle(&room).is_some(), "the message restarted the idle time");
    t.clear();
    t.advance_to(start + 51 * MINUTE);
    assert!(t.core.state().active_huddle(&room).is_none());
    assert_eq!(ended_reason(&changes(&mut t, b)), Some(Some(EndReason::Idle)));
}

#[test]
fn a_huddle_everyone_left_ends_and_leaving_updates_the_others() {
    let (mut t, a, b, c) = newsletter();
    let (room, _) = publish(&mut t, a, "rust-weekly", "Bye");
    let room = room.unwrap();
    t.clear();
    t.ok(b, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: room.clone() }));
    assert!(t.take(c).iter().any(|f| matches!(f, ServerFrame::Room { room: info, .. } if info.members.len() == 2)));
    t.ok(c, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: room.clone() }));
    t.ok(a, |id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: room.clone() }));
    let record = t.core.state().huddles.get(&room).unwrap();
    assert!(record.ended_at.is_some());
    assert!(t.core.state().rooms.get(&room).unwrap().ended);
}

#[test]
fn a_restart_mid_huddle_keeps_it_and_its_timer() {
    let (mut t, a, _b, _c) = newsletter();
    let start = t.now;
    let (room, _) = publish(&mut t, a, "rust-weekly", "Survives");
    let room = room.unwrap();
    t.advance_to(start + 10 * MINUTE);
    t.restart();
    assert!(t.core.state().active_huddle(&room).is_some(), "still running after the restart");
    assert_eq!(members(&t, &room), ["alice", "bob", "carol"]);
    assert!(t.core.poll_deadline() <= start + 30 * MINUTE + 1, "its end is a deadline again");
    let b = t.login("bob");
    t.advance_to(start + 31 * MINUTE);
    assert!(t.core.state().active_huddle(&room).is_none());
    assert_eq!(ended_reason(&changes(&mut t, b)), Some(Some(EndReason::Time)));
}

#[test]
fn the_webhook_publishes_with_its_token_only() {
    let (mut t, a, _b, _c) = newsletter();
    let answer = t.request(a, |id| {
        ClientFrame::UpdateTopic(UpdateTopic { new_token: true, ..UpdateTopic::new(id, topic("rust-weekly")) })
    });
    let ServerFrame::Topic { token: Some(token), topic: info, .. } = answer else { panic!("{answer:?}") };
    assert!(info.webhook);
    let stored = t.core.state().topics.get(&topic("rust-weekly")).unwrap().token_hash.clone().unwrap();
    assert!(!stored.contains(&token), "only a hash is kept");
    let draft = || IssueDraft {
        title: "From CI".into(),
        body: Some("Release 1.2".into()),
        link: Some("https://example.org/1.2".into()),
    };
    let wrong =
        t.act(|w, now| w.publish(&topic("rust-weekly"), Publisher::Webhook { token: "guess".into() }, draft(), now));
    assert!(matches!(wrong, Err(Fail::Refuse { code: ErrorCode::NotPublisher, .. })));
    let published = t
        .act(|w, now| w.publish(&topic("rust-weekly"), Publisher::Webhook { token: token.clone() }, draft(), now))
        .unwrap();
    assert_eq!(published.issue, 1);
    let names: Vec<String> = published.members.iter().map(|m| m.handle.to_string()).collect();
    assert_eq!(names, ["bob", "carol"], "the webhook is no member; online subscribers are");
    let bad_link = t.act(|w, now| {
        w.publish(
            &topic("rust-weekly"),
            Publisher::Webhook { token: token.clone() },
            IssueDraft { link: Some("javascript:x".into()), ..draft() },
            now,
        )
    });
    assert!(matches!(bad_link, Err(Fail::Refuse { code: ErrorCode::BadText, .. })));
}

fn update() -> UpdateTopic {
    UpdateTopic::new(0, topic("x"))
}

#[test]
fn only_the_owner_and_publishers_publish_and_deleting_a_topic_ends_its_huddles() {
    let (mut t, a, b, c) = newsletter();
    let code = t.err(b, |id| {
        ClientFrame::Publish(Publish {
            id,
            acting: None,
            topic: topic("rust-weekly"),
            title: "x".into(),
            body: None,
            link: None,
        })
    });
    assert_eq!(code, ErrorCode::NotPublisher);
    let answer = t.request(a, |id| {
        ClientFrame::UpdateTopic(UpdateTopic {
            id,
            topic: topic("rust-weekly"),
            publishers: Some(vec![addr("bob")]),
            ..update()
        })
    });
    assert!(matches!(answer, ServerFrame::Topic { .. }), "{answer:?}");
    let (room, _) = publish(&mut t, b, "rust-weekly", "Guest issue");
    let room = room.unwrap();
    assert_eq!(
        t.err(c, |id| ClientFrame::DeleteTopic(DeleteTopic { id, acting: None, topic: topic("rust-weekly") })),
        ErrorCode::NotPublisher
    );
    t.clear();
    t.ok(a, |id| ClientFrame::DeleteTopic(DeleteTopic { id, acting: None, topic: topic("rust-weekly") }));
    assert_eq!(ended_reason(&changes(&mut t, c)), Some(Some(EndReason::TopicDeleted)));
    assert!(t.core.state().active_huddle(&room).is_none());
    assert_eq!(
        t.err(b, |id| ClientFrame::Subscribe(Subscribe {
            id,
            acting: None,
            topic: topic("rust-weekly"),
            duration_ms: None
        })),
        ErrorCode::NoSuchTopic
    );
}

#[test]
fn topics_are_listed_with_the_viewers_subscription_and_ids_are_unique() {
    let (mut t, a, b, _c) = newsletter();
    let code = t.err(b, |id| {
        ClientFrame::CreateTopic(CreateTopic {
            id,
            acting: None,
            topic: topic("Rust-Weekly"),
            title: "Mine".into(),
            description: None,
            duration_ms: None,
            include_offline: false,
        })
    });
    assert_eq!(code, ErrorCode::TopicTaken);
    let ServerFrame::Topics { topics, .. } = t.request(b, |id| ClientFrame::GetTopics(GetTopics { id, acting: None }))
    else {
        panic!()
    };
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].subscribers, 3);
    assert!(topics[0].subscription.is_some());
    assert!(!topics[0].webhook, "only the owner sees whether a webhook is set");
    t.ok(b, |id| ClientFrame::Unsubscribe(Unsubscribe { id, acting: None, topic: topic("rust-weekly") }));
    let ServerFrame::Topics { topics, .. } = t.request(a, |id| ClientFrame::GetTopics(GetTopics { id, acting: None }))
    else {
        panic!()
    };
    assert_eq!(topics[0].subscribers, 2);
    assert!(topics[0].subscription.is_none());
    let code = t.err(a, |id| {
        ClientFrame::CreateTopic(CreateTopic {
            id,
            acting: None,
            topic: topic("quick"),
            title: "Q".into(),
            description: None,
            duration_ms: Some(1_000),
            include_offline: false,
        })
    });
    assert_eq!(code, ErrorCode::BadFrame, "a huddle lasts at least a minute");
}

fn set_topic(t: &mut Harness, conn: ConnId, change: impl FnOnce(&mut UpdateTopic)) -> ServerFrame {
    let mut frame = update();
    frame.topic = topic("rust-weekly");
    change(&mut frame);
    t.request(conn, |id| ClientFrame::UpdateTopic(UpdateTopic { id, ..frame }))
}

fn formed_triggers(t: &Harness) -> Vec<HuddleTrigger> {
    let mut hs: Vec<&crate::storage::HuddleRec> = t.core.state().huddles.values().collect();
    hs.sort_by_key(|h| h.started_at);
    hs.into_iter().map(|h| h.trigger.clone()).collect()
}

#[test]
fn a_schedule_forms_huddles_at_its_times_in_its_time_zone() {
    let (mut t, a, _b, _c) = newsletter();
    // The harness starts at 2023-11-14 22:13:20 UTC; 18:00 in Berlin is 17:00 UTC in November.
    let answer = set_topic(&mut t, a, |u| {
        u.schedule = Some("0 18 * * *".into());
        u.time_zone = Some("Europe/Berlin".into());
    });
    let ServerFrame::Topic { topic: info, .. } = answer else { panic!("{answer:?}") };
    let due = 1_700_067_600_000;
    assert_eq!(info.next_at, Some(due));
    t.advance_to(due - 1);
    assert!(formed_triggers(&t).is_empty(), "not a moment early");
    t.advance_to(due + 1);
    let triggers = formed_triggers(&t);
    assert!(matches!(&triggers[..], [HuddleTrigger::Schedule { topic: tp, .. }] if *tp == topic("rust-weekly")));
    let room = t.core.state().huddles.values().next().unwrap().room.clone();
    assert_eq!(members(&t, &room), ["bob", "carol"], "its online subscribers; dave is offline");
    let next = t.core.state().topics.get(&topic("rust-weekly")).map(|tp| tp.schedule_after).unwrap();
    assert!(next >= due, "the next time counts from this one");
    let bad = set_topic(&mut t, a, |u| u.schedule = Some("every friday".into()));
    assert!(matches!(bad, ServerFrame::Error { code: ErrorCode::BadText, .. }), "{bad:?}");
}

#[test]
fn a_scheduled_time_the_relay_slept_through_is_not_made_up_for() {
    let (mut t, a, _b, _c) = newsletter();
    set_topic(&mut t, a, |u| u.schedule = Some("0 17 * * *".into()));
    let due = 1_700_067_600_000;
    t.restart();
    // Back up an hour after the time: its 30-minute huddle would be over already.
    t.now = due + 3_600_000;
    t.advance_to(t.now);
    assert!(formed_triggers(&t).is_empty());
    let next = t.core.world().timers.schedules.get(&topic("rust-weekly"));
    assert_eq!(next, Some(due + 86_400_000), "the next day's time is next");
}

fn three_reporters(t: &mut Harness) -> (ConnId, ConnId, ConnId, ConnId) {
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    let d = t.register("dave");
    (a, b, c, d)
}

fn report(t: &mut Harness, conn: ConnId, kind: &str, key: &str) {
    let (kind, key) = (kind.to_owned(), key.to_owned());
    t.ok(conn, |id| ClientFrame::ReportActivity(ReportActivity { id, acting: None, kind, key }));
}

#[test]
fn people_who_report_the_same_activity_in_a_window_are_put_together_and_the_activity_is_never_kept() {
    let mut t = Harness::new();
    let (a, b, c, d) = three_reporters(&mut t);
    let start = t.now;
    report(&mut t, a, "show", "Hamlet, Globe, Saturday");
    report(&mut t, b, "show", "hamlet,  globe, saturday");
    report(&mut t, c, "show", "HAMLET, Globe, Saturday");
    report(&mut t, d, "show", "Macbeth");
    let windows: Vec<&crate::storage::WindowRec> = t.core.state().windows.values().collect();
    assert_eq!(windows.len(), 2, "one window per activity: case and spacing do not count");
    assert!(
        windows.iter().all(|w| !w.id.to_lowercase().contains("hamlet") && !w.id.to_lowercase().contains("macbeth"))
    );
    t.advance_to(start + 10 * MINUTE + 10);
    let triggers = formed_triggers(&t);
    assert_eq!(triggers, [HuddleTrigger::Activity { kind: "show".into(), count: 3 }], "dave alone forms nothing");
    let room = t.core.state().huddles.values().next().unwrap().room.clone();
    assert_eq!(members(&t, &room), ["alice", "bob", "carol"]);
    assert!(t.core.state().windows.is_empty());
    let code = t.err(a, |id| {
        ClientFrame::ReportActivity(ReportActivity { id, acting: None, kind: "Show Time".into(), key: "x".into() })
    });
    assert_eq!(code, ErrorCode::BadText);
}

#[test]
fn people_in_the_same_area_are_put_together_and_their_places_are_never_kept() {
    let mut config = test_config(RegistrationPolicy::Open);
    config.huddles.places = vec![crate::core::domain::windows::PlaceRule {
        name: "Kreuzberg".into(),
        area: "u33dc".into(),
        rule: crate::core::domain::windows::WindowRule {
            min_people: 2,
            window_ms: 30 * MINUTE,
            huddle_ms: 60 * MINUTE,
        },
    }];
    let mut t = Harness::with_config(config);
    let (a, b, c, _d) = three_reporters(&mut t);
    let start = t.now;
    for (conn, place) in [(a, "u33dc1k"), (b, "U33DCB9"), (c, "u33db")] {
        let place = place.to_owned();
        t.ok(conn, |id| ClientFrame::ReportPlace(ReportPlace { id, acting: None, geohash: place }));
    }
    let stored = format!("{:?}", t.core.state().windows);
    assert!(!stored.contains("u33dc1k") && !stored.contains("u33dcb9"), "only the area is kept: {stored}");
    t.advance_to(start + 31 * MINUTE);
    assert_eq!(formed_triggers(&t), [HuddleTrigger::Place { area: "Kreuzberg".into(), count: 2 }]);
    let room = t.core.state().huddles.values().next().unwrap().room.clone();
    assert_eq!(members(&t, &room), ["alice", "bob"], "carol was outside the area");
    let code = t.err(a, |id| ClientFrame::ReportPlace(ReportPlace { id, acting: None, geohash: "u33a".into() }));
    assert_eq!(code, ErrorCode::BadText, "'a' is not a geohash letter");
}

fn entry(id: &str, title: &str) -> crate::core::domain::feeds::FeedEntry {
    crate::core::domain::feeds::FeedEntry {
        id: id.into(),
        title: title.into(),
        link: Some(format!("https://example.org/{id}")),
    }
}

fn answer_fetch(t: &mut Harness, fetch: crate::core::domain::feeds::FeedFetch) {
    let poll = t.fetches.pop().expect("a fetch was asked for");
    t.input(Input::FeedFetched { topic: poll.topic, url: poll.url, fetch });
}

#[test]
fn a_feeds_new_entries_are_issues_and_what_was_there_before_is_not() {
    use crate::core::domain::feeds::FeedFetch;
    let (mut t, a, _b, _c) = newsletter();
    set_topic(&mut t, a, |u| u.feed = Some("https://example.org/feed.xml".into()));
    t.advance_to(t.now + 1);
    assert_eq!(t.fetches.len(), 1, "a new feed is read at once");
    let two = vec![entry("2", "Second"), entry("1", "First")];
    answer_fetch(&mut t, FeedFetch::Fetched { etag: Some("\"v1\"".into()), last_modified: None, entries: two.clone() });
    assert!(formed_triggers(&t).is_empty(), "the entries there when it was attached are not issues");
    let start = t.now;
    t.advance_to(start + 15 * MINUTE);
    assert_eq!(t.fetches.last().and_then(|p| p.etag.clone()), Some("\"v1\"".into()), "a conditional GET");
    answer_fetch(&mut t, FeedFetch::NotModified);
    assert!(formed_triggers(&t).is_empty(), "an unchanged feed forms nothing");
    t.advance_to(t.now + 15 * MINUTE);
    let three = [vec![entry("3", "Third\nedition")], two].concat();
    answer_fetch(&mut t, FeedFetch::Fetched { etag: None, last_modified: None, entries: three });
    let triggers = formed_triggers(&t);
    assert!(
        matches!(&triggers[..], [HuddleTrigger::Issue { issue, .. }] if issue.title == "Third edition" && issue.source == IssueSource::Feed && issue.link.as_deref() == Some("https://example.org/3")),
        "{triggers:?}"
    );
    // Failures: the owner is told once, and the feed is tried again sooner.
    t.clear();
    t.advance_to(t.now + 15 * MINUTE);
    answer_fetch(&mut t, FeedFetch::Failed("the feed's server answered 503".into()));
    let told = t.events(a);
    assert!(matches!(&told[..], [Event::FeedFailed { reason, .. }] if reason.contains("503")), "{told:?}");
    let failed_at = t.now;
    t.advance_to(failed_at + MINUTE);
    answer_fetch(&mut t, FeedFetch::Failed("the feed's server answered 503".into()));
    assert!(t.events(a).is_empty(), "once per run of failures");
    let ServerFrame::Topics { topics, .. } = t.request(a, |id| ClientFrame::GetTopics(GetTopics { id, acting: None }))
    else {
        panic!()
    };
    assert!(topics[0].feed_error.as_deref().is_some_and(|e| e.contains("503")), "the owner sees why");
    // A poll that is never answered (the fetcher was busy, its answer lost) only delays the next one.
    t.fetches.clear();
    t.advance_to(t.now + 15 * MINUTE + 1);
    assert_eq!(t.fetches.len(), 1);
    t.fetches.clear();
    t.advance_to(t.now + 15 * MINUTE + 1);
    assert_eq!(t.fetches.len(), 1, "polled again although the last poll never came back");
}

#[test]
fn delivery_confirmation_works_in_a_huddle_as_in_a_group() {
    let (mut t, a, b, c) = newsletter();
    let (room, _) = publish(&mut t, a, "rust-weekly", "Receipts");
    let room = room.unwrap();
    t.clear();
    let answer = t.request(b, |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: Some(room.clone()),
            to: None,
            body: "did everyone get this?".into(),
            client_msg_id: "r1".into(),
            receipts: true,
        })
    });
    let ServerFrame::Stored { message_id, recipients, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(recipients, vec![addr("alice"), addr("carol")]);
    let got = t.messages(c);
    assert_eq!(got.len(), 1);
    t.ok(c, |id| ClientFrame::Read(Read { id: Some(id), acting: None, message_ids: vec![message_id.clone()] }));
    let reports: Vec<Receipt> = t
        .take(b)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Deliver { item: StreamItem { body: ItemBody::Receipt { receipt }, .. }, .. } => Some(receipt),
            _ => None,
        })
        .collect();
    assert!(reports.iter().any(|r| r.by == addr("carol") && r.message_ids.contains(&message_id)), "{reports:?}");
}
