//! Huddles in the client, through `update`: the Huddles section with its countdown, the log lines of a huddle's life,
//! Past huddles, the topic browser (subscribing is asked, and the first answer changes nothing), the publish form,
//! and the huddle commands' frames.

use super::*;
use huddle_shared::model::{EndReason, HuddleInfo, HuddleTrigger, Issue, IssueSource, TopicId, TopicInfo};

const MINUTE: i64 = 60_000;

fn huddle_info(t: &T, id: &str, members: &[&str]) -> RoomInfo {
    RoomInfo {
        id: room(id),
        kind: RoomKind::Huddle,
        title: Some("Rust Weekly #612".into()),
        owner: None,
        members: members.iter().map(|m| RoomMember { address: addr(m), joined_at: 0 }).collect(),
        invited: Vec::new(),
        created_at: t.model.now,
        huddle: Some(Box::new(HuddleInfo {
            trigger: issue_trigger(),
            ends_at: Some(t.model.now + 25 * MINUTE),
            anchor: None,
            idle_ms: None,
        })),
    }
}

fn issue_trigger() -> HuddleTrigger {
    HuddleTrigger::Issue {
        topic: TopicId::parse("rust-weekly").unwrap(),
        topic_title: "Rust Weekly".into(),
        issue: Issue {
            number: 612,
            title: "Async closures".into(),
            body: Some("This week in Rust.".into()),
            link: Some("https://example.org/612".into()),
            source: IssueSource::Webhook,
            by: None,
        },
    }
}

fn line_texts(t: &T, id: &str) -> Vec<String> {
    let key = ConvKey::Room(room(id));
    let lines = t.model.handle().unwrap().conversations.get(&key).map(|c| c.lines.clone()).unwrap_or_default();
    lines
        .into_iter()
        .filter_map(|l| match l {
            LogLine::System { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

fn room_line(seq: u64, me: &str, id: &str, peer: &str, change: RoomChange, at: i64) -> net::Event {
    let event = Event::Room { peer: addr(peer), room: room(id), change };
    net::Event::Item { acting: addr(me), item: StreamItem { seq, at, body: ItemBody::Event { event } } }
}

#[test]
fn a_huddle_is_listed_with_its_countdown_says_what_formed_it_and_opens_nothing_by_itself() {
    let mut t = T::main("bob");
    t.friends("bob", &[("alice", ShownState::Online)], &[]);
    let info = huddle_info(&t, "h-1", &["alice", "bob"]);
    let huddle = info.huddle.clone().unwrap();
    t.net(net::Event::Push(ServerFrame::Room { id: None, acting: addr("bob"), room: info }));
    let now = t.model.now;
    t.net(room_line(
        1,
        "bob",
        "h-1",
        "alice",
        RoomChange::Formed { members: vec![addr("alice"), addr("bob")], count: 2, huddle: huddle.clone() },
        now,
    ));
    let rows = t.model.handle().unwrap().rows();
    assert_eq!(rows[0], Row::Header(Section::Huddles, 1), "huddles come first: {rows:?}");
    assert_eq!(rows[1], Row::Group(room("h-1")));
    assert_eq!(crate::app::huddles::time_left(&huddle, now), "25m left");
    assert_eq!(crate::app::huddles::time_left(&huddle, now + 24 * MINUTE + 20_000), "40s left");
    let lines = line_texts(&t, "h-1");
    assert_eq!(
        lines[..3],
        [
            "Huddle formed — newsletter “Rust Weekly” #612: Async closures — with alice, bob. It lasts 25 minutes."
                .to_owned(),
            "This week in Rust.".to_owned(),
            "https://example.org/612".to_owned(),
        ]
    );
    assert_eq!(t.model.handle().unwrap().open, None, "nothing opens by itself");
    assert!(t.model.notice.as_ref().is_some_and(|n| n.text.starts_with("Huddle: newsletter “Rust Weekly” #612")));
}

#[test]
fn an_ended_huddle_says_why_and_stays_readable_under_past_huddles() {
    let mut t = T::main("bob");
    let info = huddle_info(&t, "h-1", &["alice", "bob"]);
    t.net(net::Event::Push(ServerFrame::Room { id: None, acting: addr("bob"), room: info }));
    let now = t.model.now;
    t.net(room_line(1, "bob", "h-1", "alice", RoomChange::Ended { reason: Some(EndReason::Time) }, now));
    t.net(net::Event::Push(ServerFrame::RoomGone { acting: addr("bob"), room: room("h-1") }));
    let lines = line_texts(&t, "h-1");
    assert_eq!(lines, ["This huddle has ended (its time was up): nothing more can be said here, and its log stays."]);
    let rows = t.model.handle().unwrap().rows();
    assert!(
        rows.contains(&Row::Header(Section::PastHuddles, 1)) && !rows.contains(&Row::Header(Section::Huddles, 1)),
        "{rows:?}"
    );
}

fn topic(owner: &str, subscribed: bool) -> TopicInfo {
    TopicInfo {
        id: TopicId::parse("rust-weekly").unwrap(),
        title: "Rust Weekly".into(),
        description: None,
        owner: addr(owner),
        duration_ms: 30 * MINUTE,
        include_offline: false,
        publishers: Vec::new(),
        subscribers: 3,
        subscription: subscribed.then_some(huddle_shared::model::Subscription { duration_ms: None, since: 0 }),
        issues: 611,
        webhook: false,
        schedule: None,
        time_zone: None,
        next_at: None,
        feed: None,
        feed_error: None,
        created_at: 0,
    }
}

fn open_topics(t: &mut T, topics: Vec<TopicInfo>) {
    t.typed("/topics");
    let cmds = t.send(key(KeyCode::Enter));
    let (id, frame) = T::requests(&cmds).pop().expect("a request");
    assert!(matches!(frame, ClientFrame::GetTopics(_)));
    t.net(net::Event::Answer { id, frame: ServerFrame::Topics { id, acting: addr("bob"), topics } });
}

#[test]
fn subscribing_from_the_topic_browser_is_asked_and_the_first_answer_changes_nothing() {
    let mut t = T::main("bob");
    open_topics(&mut t, vec![topic("alice", false)]);
    assert!(
        matches!(t.model.dialogs.front(), Some(Dialog::Topics { .. })),
        "{:?} {:?}",
        t.model.dialogs,
        t.model.notice
    );
    t.send(key(KeyCode::Enter));
    let Some(Dialog::Confirm(question)) = t.model.dialogs.front() else { panic!("{:?}", t.model.dialogs) };
    assert!(question.text.contains("Each issue will put you in a huddle"), "{}", question.text);
    assert_eq!((question.choices[0].label.as_str(), question.choices[0].intent.is_none()), ("Not now", true));
    let cmds = t.send(key(KeyCode::Enter));
    assert!(T::requests(&cmds).is_empty(), "Enter alone subscribes to nothing");
    // Asked again, and this time chosen.
    t.send(key(KeyCode::Enter));
    t.send(key(KeyCode::Right));
    let cmds = t.send(key(KeyCode::Enter));
    let frames = T::requests(&cmds);
    assert!(matches!(&frames[..], [(_, ClientFrame::Subscribe(s))] if s.topic.as_str() == "rust-weekly"), "{frames:?}");
    // The browser, still open, shows the subscription: Enter on the topic now asks to leave it.
    let id = frames[0].0;
    let answer = ServerFrame::Topic { id, acting: addr("bob"), topic: Box::new(topic("alice", true)), token: None };
    t.net(net::Event::Answer { id, frame: answer });
    t.send(key(KeyCode::Enter));
    let Some(Dialog::Confirm(question)) = t.model.dialogs.front() else { panic!("{:?}", t.model.dialogs) };
    assert!(question.text.starts_with("Leave Rust Weekly?"), "{}", question.text);
}

#[test]
fn the_owner_publishes_an_issue_from_the_browser_with_a_form() {
    let mut t = T::main("bob");
    open_topics(&mut t, vec![topic("bob", false)]);
    t.send(key(KeyCode::Enter));
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::Publish { .. })));
    t.typed("Issue 612");
    t.send(key(KeyCode::Enter));
    t.typed("What changed");
    let cmds = t.send(key(KeyCode::Enter));
    let frames = T::requests(&cmds);
    assert!(
        matches!(&frames[..], [(_, ClientFrame::Publish(p))] if p.title == "Issue 612" && p.body.as_deref() == Some("What changed")),
        "{frames:?}"
    );
}

#[test]
fn huddle_commands_become_their_frames() {
    let mut t = T::main("bob");
    let frame_of = |t: &mut T, line: &str| {
        t.typed(line);
        let cmds = t.send(key(KeyCode::Enter));
        T::requests(&cmds).pop().map(|(_, f)| f)
    };
    let schedule = frame_of(&mut t, "/schedule rust-weekly 0 18 * * FRI | Europe/Berlin");
    assert!(
        matches!(schedule, Some(ClientFrame::UpdateTopic(u)) if u.schedule.as_deref() == Some("0 18 * * FRI") && u.time_zone.as_deref() == Some("Europe/Berlin"))
    );
    let off = frame_of(&mut t, "/schedule rust-weekly off");
    assert!(matches!(off, Some(ClientFrame::UpdateTopic(u)) if u.schedule.as_deref() == Some("")));
    let feed = frame_of(&mut t, "/feed rust-weekly https://example.org/atom.xml");
    assert!(
        matches!(feed, Some(ClientFrame::UpdateTopic(u)) if u.feed.as_deref() == Some("https://example.org/atom.xml"))
    );
    let show = frame_of(&mut t, "/activity show Hamlet, Globe, Saturday");
    assert!(
        matches!(show, Some(ClientFrame::ReportActivity(r)) if r.kind == "show" && r.key == "Hamlet, Globe, Saturday")
    );
    let place = frame_of(&mut t, "/place u33dc");
    assert!(matches!(place, Some(ClientFrame::ReportPlace(r)) if r.geohash == "u33dc"));
    let sub = frame_of(&mut t, "/subscribe rust-weekly 20m");
    assert!(matches!(sub, Some(ClientFrame::Subscribe(s)) if s.duration_ms == Some(20 * MINUTE)));
    let follow = frame_of(&mut t, "/follow alice");
    assert!(matches!(follow, Some(ClientFrame::SetHuddleSettings(s)) if s.settings.follows == vec![addr("alice")]));
}
