//! `huddle demo` prepares a session and its scripted friends really show up: cy greets you and ada asks to be your
//! friend, both within seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use huddle_client::net::{self, Auth, Command, Event, WorkerConfig};
use huddle_shared::ServerFrame;
use huddle_shared::model::{ItemBody, PresenceState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_friends_greet_and_ask() {
    let dir = tempfile::tempdir().unwrap();
    let demo = huddle_client::demo::start(&dir.path().join("demo")).await.unwrap();
    let mut me = net::spawn(WorkerConfig {
        url: demo.url.clone(),
        ca_file: None,
        client: "test".into(),
        device: None,
        presence: PresenceState::Online,
    });
    me.commands.send(Command::Authenticate(Auth::Token { token: demo.token.clone() })).await.unwrap();
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
    assert_eq!(friends, vec!["ben", "cy"], "ben and cy are already friends");
    demo.relay.stop().await.unwrap();
}
