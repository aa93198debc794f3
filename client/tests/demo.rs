//! `huddle demo` prepares a session and its scripted friends really show up: cy greets you and ada asks to be your
//! friend, both within seconds; chatting with cy makes ben write in (the moment the client promotes), and both bots
//! answer in the group. dee's scenes follow what you do: subscribing to Demo News makes her publish through the
//! relay's webhook (a huddle forms), and following her then saying "ok" makes her log off and on (a presence
//! huddle forms).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use huddle_client::net::{self, Auth, Command, Event, WorkerConfig};
use huddle_shared::ServerFrame;
use huddle_shared::model::{HuddleSettings, HuddleTrigger, ItemBody, PresenceState, RoomKind, TopicId};

/// A connection acting for you with the session the demo prepared.
async fn log_in(demo: &huddle_client::demo::Demo) -> net::WorkerHandle {
    let me = net::spawn(WorkerConfig {
        url: demo.url.clone(),
        ca_file: None,
        client: "test".into(),
        device: None,
        presence: PresenceState::Online,
    });
    me.commands.send(Command::Authenticate(Auth::Token { token: demo.token.clone() })).await.unwrap();
    me
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_friends_greet_and_ask() {
    let dir = tempfile::tempdir().unwrap();
    let demo = huddle_client::demo::start(&dir.path().join("demo")).await.unwrap();
    let mut me = log_in(&demo).await;
    let (mut greeted, mut asked, mut friends) = (false, false, Vec::new());
    let wait = async {
        while !(greeted && asked) {
            match me.events.recv().await.expect("the worker runs") {
                Event::Item { item, .. } => {
                    if let ItemBody::Message { message } = item.body {
                        greeted |= message.from.handle.as_str() == "cy" && message.body.contains("are you there");
                    }
                }
                Event::Push(ServerFrame::Friends { list, .. }) => {
                    asked |=
                        list.requests_in.iter().any(|r| r.address.handle.as_str() == "ada" && r.greeting.is_some());
                    friends = list.entries.iter().map(|e| e.address.handle.to_string()).collect();
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait).await.expect("cy greets and ada asks within 30 s");
    friends.sort();
    assert_eq!(friends, vec!["ben", "cy", "dee"], "ben, cy and dee are already friends");

    // Chat with cy: two lines, two answers; then ben writes in.
    let cy = huddle_shared::Address::parse("cy").unwrap();
    let ben = huddle_shared::Address::parse("ben").unwrap();
    for (i, body) in ["hi cy!", "not bad"].into_iter().enumerate() {
        let message = net::OutgoingMessage {
            acting: demo.account.clone(),
            to: net::Target::Direct(cy.clone()),
            body: body.into(),
            client_msg_id: format!("t{i}"),
            receipts: false,
        };
        me.commands.send(Command::Message(message)).await.unwrap();
    }
    let wait = async {
        loop {
            if let Event::Item { item, .. } = me.events.recv().await.expect("the worker runs") {
                if let ItemBody::Message { message } = item.body {
                    if message.from.handle.as_str() == "ben" && message.body.contains("you two") {
                        return;
                    }
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait).await.expect("ben writes in while we chat with cy");

    // The client promotes: a group of cy and ben; both answer there.
    let frame = huddle_shared::ClientFrame::CreateGroup(huddle_shared::client::CreateGroup {
        id: 7,
        acting: None,
        members: vec![cy, ben],
        title: None,
        promoted: true,
        opening: None,
    });
    me.commands.send(Command::Request { id: 7, frame }).await.unwrap();
    let mut answered = std::collections::BTreeSet::new();
    let wait = async {
        while answered.len() < 2 {
            match me.events.recv().await.expect("the worker runs") {
                Event::Answer { id: 7, frame: ServerFrame::Room { room: group, .. } } => {
                    assert_eq!(group.members.len(), 3, "cy and ben joined at once: {group:?}");
                    let message = net::OutgoingMessage {
                        acting: demo.account.clone(),
                        to: net::Target::Room(group.id.clone()),
                        body: "welcome ben".into(),
                        client_msg_id: "t9".into(),
                        receipts: false,
                    };
                    me.commands.send(Command::Message(message)).await.unwrap();
                }
                Event::Item { item, .. } => {
                    if let ItemBody::Message { message } = item.body {
                        let bot = ["cy", "ben"].contains(&message.from.handle.as_str());
                        if bot && message.to.is_none() {
                            answered.insert(message.from.handle.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait).await.expect("both bots answer in the group");
    demo.relay.stop().await.unwrap();
}

/// The huddle a push announces, if the event is one.
fn huddle(event: &Event) -> Option<HuddleTrigger> {
    match event {
        Event::Push(ServerFrame::Room { room, .. }) if room.kind == RoomKind::Huddle => {
            room.huddle.as_ref().map(|h| h.trigger.clone())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dee_publishes_through_the_webhook_once_you_subscribe_and_huddles_when_she_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let demo = huddle_client::demo::start(&dir.path().join("demo")).await.unwrap();
    let mut me = log_in(&demo).await;
    let topic = TopicId::parse("demo-news").unwrap();
    let subscribe = huddle_shared::ClientFrame::Subscribe(huddle_shared::client::Subscribe {
        id: 30,
        acting: None,
        topic,
        duration_ms: None,
    });
    me.commands.send(Command::Request { id: 30, frame: subscribe }).await.unwrap();
    let wait = async {
        loop {
            let event = me.events.recv().await.expect("the worker runs");
            if matches!(huddle(&event), Some(HuddleTrigger::Issue { .. })) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(45), wait).await.expect("dee publishes once we subscribed");

    let dee = huddle_shared::Address::parse("dee").unwrap();
    let settings = HuddleSettings { follows: vec![dee.clone()], ..HuddleSettings::default() };
    let follow = huddle_shared::ClientFrame::SetHuddleSettings(huddle_shared::client::SetHuddleSettings {
        id: 31,
        acting: None,
        settings,
    });
    me.commands.send(Command::Request { id: 31, frame: follow }).await.unwrap();
    let ok = net::OutgoingMessage {
        acting: demo.account.clone(),
        to: net::Target::Direct(dee),
        body: "ok".into(),
        client_msg_id: "ok1".into(),
        receipts: false,
    };
    // dee asks for the "ok" after the newsletter scene; said early, it waits for her to ask.
    let wait = async {
        let mut said = false;
        loop {
            let event = me.events.recv().await.expect("the worker runs");
            if let Event::Item { item, .. } = &event {
                if let ItemBody::Message { message } = &item.body {
                    if !said && message.from.handle.as_str() == "dee" && message.body.contains("/follow dee") {
                        said = true;
                        me.commands.send(Command::Message(ok.clone())).await.unwrap();
                    }
                }
            }
            if matches!(huddle(&event), Some(HuddleTrigger::Presence { .. })) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait).await.expect("a presence huddle forms when dee comes back");
    demo.relay.stop().await.unwrap();
}
