//! `huddle demo`: a personal relay on a free port with three scripted friends, so a newcomer sees every flow alone in
//! about two minutes. The bots are ordinary clients built on [`crate::net`]:
//!
//! - **cy** is already your friend and chats: says hello, answers what you write.
//! - **ben** is already your friend; he comes online playing FFXI, goes away, comes back. Once you and cy have
//!   exchanged a few lines he writes to you too — while cy's conversation is open, so Huddle makes it a group of the
//!   three of you (automatic promotion), where both bots answer. About 45 s after that scene (or after four minutes
//!   if you never chat) he deletes you and asks you to delete him too — the question waits, counted in the status bar, until you open it with Alt-q. If you refuse, he asks
//!   once more.
//! - **ada** sends you a friend request with a greeting; accept it and she says thanks.
//! - **dee** is already your friend and edits the topic *Demo News*. She tells you how to subscribe (`/topics`, Enter);
//!   once you have, she publishes an issue through the relay's webhook — as a blog or a CI job would — and a huddle of
//!   its readers forms, counts down and ends by itself. Then she shows a presence huddle: `/follow dee`, tell her
//!   "ok", she logs off and on, and you are in a huddle with her until she logs off again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use huddle_relay::RunningRelay;
use huddle_shared::client::{
    AnswerRequest, CreateTopic, DeleteFriend, FriendRequest, GetTopics, NotifyDeletion, SetHuddleSettings, SetPresence,
    Subscribe, UpdateTopic,
};
use huddle_shared::model::{
    DeletionAnswer, Event, HuddleSettings, HuddleTrigger, ItemBody, PresenceState, RequestAnswer, RoomKind, TopicId,
};
use huddle_shared::{Address, ClientFrame, Handle, RoomId, ServerFrame};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use crate::net::{self, Auth, Command, WorkerConfig, WorkerHandle};

/// What the demo prepared: the relay, and a session for you.
pub struct Demo {
    pub relay: RunningRelay,
    pub url: String,
    pub account: Handle,
    pub token: String,
}

const YOU: &str = "you";

fn handle(name: &str) -> anyhow::Result<Handle> {
    Handle::parse(name).with_context(|| format!("{name} is a valid handle"))
}

fn worker(url: &str, name: &str) -> WorkerHandle {
    net::spawn(WorkerConfig {
        url: url.to_owned(),
        ca_file: None,
        client: format!("huddle-demo {name}"),
        device: Some("demo".to_owned()),
        presence: PresenceState::Online,
    })
}

/// Registers `name` and waits for its session.
async fn register(url: &str, name: &str) -> anyhow::Result<(WorkerHandle, String)> {
    register_with(url, name, &crate::random_hex(16)).await
}

/// Registers `name` with `password` (a bot that logs in again later) and waits for its session.
async fn register_with(url: &str, name: &str, password: &str) -> anyhow::Result<(WorkerHandle, String)> {
    let mut w = worker(url, name);
    let auth = Auth::Register { handle: handle(name)?, password: password.to_owned(), invite: None };
    w.commands.send(Command::Authenticate(auth)).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, w.events.recv())
            .await
            .with_context(|| format!("the demo relay did not register {name} in time"))?;
        match event {
            Some(net::Event::Session { token: Some(token), .. }) => return Ok((w, token)),
            Some(net::Event::AuthFailed { message, .. }) => anyhow::bail!("demo account {name}: {message}"),
            Some(_) => {}
            None => anyhow::bail!("the demo's connection for {name} ended"),
        }
    }
}

/// Waits (at most 20 s) for an event of `w` that `done` accepts.
async fn until(w: &mut WorkerHandle, what: &str, done: impl Fn(&net::Event) -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, w.events.recv()).await {
            Ok(Some(event)) if done(&event) => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => anyhow::bail!("the demo's connection ended while waiting for {what}"),
            Err(_) => anyhow::bail!("the demo relay did not show {what} in time"),
        }
    }
}

async fn request(w: &WorkerHandle, id: u64, frame: ClientFrame) {
    let _ = w.commands.send(Command::Request { id, frame }).await;
}

/// Starts the relay and the bots. `data_dir` is wiped: the demo starts fresh every time.
pub async fn start(data_dir: &Path) -> anyhow::Result<Demo> {
    let _ = std::fs::remove_dir_all(data_dir);
    let relay = crate::embedded::start_with(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), data_dir, true).await?;
    let url = format!("ws://{}", relay.addr);
    let you = Address::parse(YOU).context("address")?;

    let (mut me, token) = register(&url, YOU).await?;
    let (ben, _) = register(&url, "ben").await?;
    let (mut cy, _) = register(&url, "cy").await?;
    let (ada, _) = register(&url, "ada").await?;
    let dee_password = crate::random_hex(16);
    let (mut dee, _) = register_with(&url, "dee", &dee_password).await?;

    // ben, cy and dee are old friends: they ask, you (the demo, on your behalf) accept both ways.
    for bot in [&ben, &cy, &dee] {
        request(
            bot,
            1,
            ClientFrame::FriendRequest(FriendRequest { id: 1, acting: None, to: you.clone(), greeting: None }),
        )
        .await;
    }
    until(&mut me, "the old friends' requests", |e| match e {
        net::Event::Push(ServerFrame::Friends { list, .. }) => list.requests_in.len() == 3,
        _ => false,
    })
    .await?;
    for (id, name) in [(1, "ben"), (2, "cy"), (3, "dee")] {
        let from = Address::parse(name).context("address")?;
        let frame =
            ClientFrame::AnswerRequest(AnswerRequest { id, acting: None, from, answer: RequestAnswer::AcceptMutual });
        request(&me, id, frame).await;
    }
    until(&mut me, "both acceptances", |e| match e {
        net::Event::Push(ServerFrame::Friends { list, .. }) => list.entries.len() == 3,
        _ => false,
    })
    .await?;
    let _ = me.commands.send(Command::Shutdown).await;
    let token_for_webhook = prepare_dee(&mut dee).await?;
    let webhook = relay.webhook_addr.context("the demo relay serves its webhook")?;

    // ben and cy know each other too: a group with both of them puts nobody with a stranger, so they join at once.
    let cy_address = Address::parse("cy").context("address")?;
    let ask = ClientFrame::FriendRequest(FriendRequest { id: 2, acting: None, to: cy_address, greeting: None });
    request(&ben, 2, ask).await;
    until(&mut cy, "ben's request", |e| match e {
        net::Event::Push(ServerFrame::Friends { list, .. }) => !list.requests_in.is_empty(),
        _ => false,
    })
    .await?;
    let from = Address::parse("ben").context("address")?;
    let accept =
        ClientFrame::AnswerRequest(AnswerRequest { id: 3, acting: None, from, answer: RequestAnswer::AcceptMutual });
    request(&cy, 3, accept).await;
    until(&mut cy, "ben and cy's friendship", |e| match e {
        net::Event::Push(ServerFrame::Friends { list, .. }) => list.entries.len() == 2,
        _ => false,
    })
    .await?;

    // cy tells ben when you two are in an exchange, so that ben's message arrives during it.
    let chatting = Arc::new(Notify::new());
    tokio::spawn(cy_script(cy, you.clone(), chatting.clone()));
    tokio::spawn(ben_script(ben, you.clone(), chatting));
    tokio::spawn(ada_script(ada, you.clone()));
    let setup = DeeSetup { url: url.clone(), password: dee_password, webhook, token: token_for_webhook, you };
    tokio::spawn(dee_script(dee, setup));
    Ok(Demo { relay, url, account: handle(YOU)?, token })
}

/// A message from a bot (its only handle acts).
fn message(me: &Handle, to: &Address, body: &str) -> Command {
    Command::Message(net::OutgoingMessage {
        acting: me.clone(),
        to: net::Target::Direct(to.clone()),
        body: body.to_owned(),
        client_msg_id: crate::random_hex(12),
        receipts: false,
    })
}

/// A message to a group from a bot.
fn group_message(me: &Handle, group: &RoomId, body: &str) -> Command {
    Command::Message(net::OutgoingMessage {
        acting: me.clone(),
        to: net::Target::Room(group.clone()),
        body: body.to_owned(),
        client_msg_id: crate::random_hex(12),
        receipts: false,
    })
}

/// A direct message `from` sent to this bot, if the event is one.
fn incoming_text(event: &net::Event, bot: &Handle) -> Option<(Address, String)> {
    match event {
        net::Event::Item { item, .. } => match &item.body {
            ItemBody::Message { message } if &message.from.handle != bot && message.to.is_some() => {
                Some((message.from.clone(), message.body.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The group a message from someone else to a group this bot is in came to, if the event is one.
fn incoming_group(event: &net::Event, bot: &Handle) -> Option<RoomId> {
    match event {
        net::Event::Item { item, .. } => match &item.body {
            ItemBody::Message { message } if &message.from.handle != bot && message.to.is_none() => {
                Some(message.room.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

async fn cy_script(mut w: WorkerHandle, you: Address, chatting: Arc<Notify>) {
    let Ok(me) = handle("cy") else { return };
    let replies = [
        "Ha, nice. How's your week going?",
        "Same here. Did you see ben is back on FFXI?",
        "Try Alt-s to set your own status, and F1 for every key. Whatever you type is a message — keys never act by surprise.",
        "Brb, tea. ☕ Keep exploring!",
    ];
    let mut next_reply = 0;
    let start = Instant::now();
    let mut greeted = false;
    let mut in_group = false;
    loop {
        let greet_at = start + Duration::from_secs(4);
        tokio::select! {
            _ = sleep_until(greet_at), if !greeted => {
                greeted = true;
                let _ = w.commands.send(message(&me, &you, "hey! are you there? 👋 (this is the Huddle demo — I answer what you write)")).await;
            }
            event = w.events.recv() => {
                let Some(event) = event else { return };
                if let Some((from, _)) = incoming_text(&event, &me) {
                    if let Some(reply) = replies.get(next_reply) {
                        tokio::time::sleep(Duration::from_millis(1200)).await;
                        let _ = w.commands.send(message(&me, &from, reply)).await;
                        next_reply += 1;
                        if next_reply == 2 {
                            chatting.notify_one();
                        }
                    }
                }
                if let Some(group) = incoming_group(&event, &me).filter(|_| !in_group) {
                    in_group = true;
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    let text = "Oh, a group! One log for the three of us. Alt-m shows who's here, /leave leaves, Alt-↑/↓ moves between chats.";
                    let _ = w.commands.send(group_message(&me, &group, text)).await;
                }
            }
        }
    }
}

async fn ben_script(mut w: WorkerHandle, you: Address, chatting: Arc<Notify>) {
    let Ok(me) = handle("ben") else { return };
    let start = Instant::now();
    let presence = |id: u64, state: PresenceState, activity: &str| Command::Request {
        id,
        frame: ClientFrame::SetPresence(SetPresence {
            id,
            acting: None,
            state: Some(state),
            activity: Some(activity.to_owned()),
            location: None,
        }),
    };
    let steps: Vec<(u64, Command)> = vec![
        (2, presence(10, PresenceState::Online, "playing FFXI — waiting for a table")),
        (25, presence(11, PresenceState::Away, "brb, dinner")),
        (40, presence(12, PresenceState::Online, "back, still no table")),
    ];
    // The deletion scene comes after the group scene, paced by when you got there (or, if you never chat, late).
    let mut delete = vec![
        Command::Request {
            id: 13,
            frame: ClientFrame::DeleteFriend(DeleteFriend { id: 13, acting: None, friend: you.clone() }),
        },
        Command::Request {
            id: 14,
            frame: ClientFrame::NotifyDeletion(NotifyDeletion {
                id: 14,
                acting: None,
                to: you.clone(),
                ask_delete: true,
            }),
        },
    ];
    let mut delete_at = Some(start + Duration::from_secs(240));
    let mut steps = steps.into_iter().peekable();
    let mut asked_again = false;
    let mut joined_in = false;
    let mut greeted_group = false;
    loop {
        let next_at = steps.peek().map(|(secs, _)| start + Duration::from_secs(*secs));
        tokio::select! {
            _ = async { if let Some(at) = next_at { sleep_until(at).await } else { std::future::pending::<()>().await } } => {
                if let Some((_, command)) = steps.next() {
                    let _ = w.commands.send(command).await;
                }
            }
            _ = async { if let Some(at) = delete_at { sleep_until(at).await } else { std::future::pending::<()>().await } } => {
                delete_at = None;
                for command in std::mem::take(&mut delete) {
                    let _ = w.commands.send(command).await;
                }
            }
            // You and cy are chatting: write in, so the conversation grows into a group (before the deletion).
            _ = chatting.notified(), if !joined_in && delete_at.is_some() => {
                joined_in = true;
                tokio::time::sleep(Duration::from_secs(3)).await;
                let text = "ugh, this queue. what are you two up to? 👀";
                let _ = w.commands.send(message(&me, &you, text)).await;
            }
            event = w.events.recv() => {
                let Some(event) = event else { return };
                let refused = matches!(&event, net::Event::Item { item, .. }
                    if matches!(&item.body, ItemBody::Event { event: Event::DeletionAnswered { answer: DeletionAnswer::Refuse, .. } }));
                if let Some(group) = incoming_group(&event, &me).filter(|_| !greeted_group) {
                    greeted_group = true;
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    let text = "hi both! Huddle turned our chats into this group when I wrote. neat. (In a bit I'll \
                                show you deleting a friend with consent: the question waits for you — Alt-q.)";
                    let _ = w.commands.send(group_message(&me, &group, text)).await;
                    delete_at = delete_at.map(|at| at.min(Instant::now() + Duration::from_secs(45)));
                }
                if refused && !asked_again {
                    asked_again = true;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    let frame = ClientFrame::NotifyDeletion(NotifyDeletion { id: 15, acting: None, to: you.clone(), ask_delete: true });
                    let _ = w.commands.send(Command::Request { id: 15, frame }).await;
                }
            }
        }
    }
}

async fn ada_script(mut w: WorkerHandle, you: Address) {
    let Ok(me) = handle("ada") else { return };
    tokio::time::sleep(Duration::from_secs(8)).await;
    let greeting = Some("Hi! I'm Ada — we met in the FFXI lobby last night.".to_owned());
    let frame = ClientFrame::FriendRequest(FriendRequest { id: 1, acting: None, to: you.clone(), greeting });
    let _ = w.commands.send(Command::Request { id: 1, frame }).await;
    let mut thanked = false;
    while let Some(event) = w.events.recv().await {
        let accepted = match &event {
            net::Event::Item { item, .. } => matches!(
                &item.body,
                ItemBody::Event {
                    event: Event::RequestAnswered { answer: RequestAnswer::Accept | RequestAnswer::AcceptMutual, .. }
                }
            ),
            net::Event::Push(ServerFrame::Friends { list, .. }) => {
                list.entries.iter().any(|e| e.address.handle == you.handle)
            }
            _ => false,
        };
        if accepted && !thanked {
            thanked = true;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = w
                .commands
                .send(message(&me, &you, "Thanks for accepting! 🎉 日本語も大丈夫です — wide characters work too."))
                .await;
        }
        if let Some((from, _)) = incoming_text(&event, &me) {
            let _ = w.commands.send(message(&me, &from, "😊")).await;
        }
    }
}

/// The demo's topic.
const DEMO_TOPIC: &str = "demo-news";

fn demo_topic() -> anyhow::Result<TopicId> {
    TopicId::parse(DEMO_TOPIC).context("the demo topic's id")
}

/// What dee needs beside her connection.
struct DeeSetup {
    url: String,
    password: String,
    webhook: std::net::SocketAddr,
    /// The webhook token of Demo News.
    token: String,
    you: Address,
}

/// The answer to a request of `w` with this id.
async fn answer(w: &mut WorkerHandle, id: u64, what: &str) -> anyhow::Result<ServerFrame> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, w.events.recv()).await {
            Ok(Some(net::Event::Answer { id: got, frame })) if got == id => return Ok(frame),
            Ok(Some(_)) => {}
            Ok(None) => anyhow::bail!("the demo's connection ended while waiting for {what}"),
            Err(_) => anyhow::bail!("the demo relay did not answer {what} in time"),
        }
    }
}

/// dee makes Demo News (two-minute huddles), subscribes to it herself, shares her coming online, and gets the
/// webhook's token.
async fn prepare_dee(dee: &mut WorkerHandle) -> anyhow::Result<String> {
    let topic = demo_topic()?;
    let create = ClientFrame::CreateTopic(CreateTopic {
        id: 20,
        acting: None,
        topic: topic.clone(),
        title: "Demo News".into(),
        description: Some("What is new in Huddle".into()),
        duration_ms: Some(2 * 60_000),
        include_offline: false,
    });
    request(dee, 20, create).await;
    answer(dee, 20, "the demo topic").await?;
    let subscribe = ClientFrame::Subscribe(Subscribe { id: 21, acting: None, topic: topic.clone(), duration_ms: None });
    request(dee, 21, subscribe).await;
    answer(dee, 21, "dee's subscription").await?;
    let settings = HuddleSettings { share_presence: true, ..HuddleSettings::default() };
    request(dee, 22, ClientFrame::SetHuddleSettings(SetHuddleSettings { id: 22, acting: None, settings })).await;
    answer(dee, 22, "dee's huddle settings").await?;
    let token = ClientFrame::UpdateTopic(UpdateTopic { new_token: true, ..UpdateTopic::new(23, topic) });
    request(dee, 23, token).await;
    match answer(dee, 23, "the webhook token").await? {
        ServerFrame::Topic { token: Some(token), .. } => Ok(token),
        other => anyhow::bail!("the demo relay gave no webhook token: {other:?}"),
    }
}

/// Publishes an issue of Demo News through the relay's webhook, as an outside system would (`POST
/// /topics/demo-news/issues` with the topic's bearer token).
async fn publish_by_webhook(setup: &DeeSetup) {
    let url = format!("http://{}/topics/{DEMO_TOPIC}/issues", setup.webhook);
    let bearer = format!("Bearer {}", setup.token);
    let body = r#"{"title":"Huddles are here","body":"Rooms the relay forms when something happens, and ends when it is over. This one counts down in your list.","link":"https://example.org/demo-news/1"}"#;
    let posted = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        agent.post(&url).header("Authorization", &bearer).header("Content-Type", "application/json").send(body)
    })
    .await;
    match posted {
        Ok(Ok(response)) if response.status().as_u16() == 201 => {}
        Ok(Ok(response)) => tracing::warn!(status = response.status().as_u16(), "the demo's webhook call was refused"),
        Ok(Err(e)) => tracing::warn!(error = %e, "the demo's webhook call failed"),
        Err(e) => tracing::warn!(error = %e, "the demo's webhook call did not run"),
    }
}

/// The huddle a push announces, with its trigger, if the event is one.
fn huddle_pushed(event: &net::Event) -> Option<(RoomId, HuddleTrigger)> {
    match event {
        net::Event::Push(ServerFrame::Room { room, .. }) if room.kind == RoomKind::Huddle => {
            room.huddle.as_ref().map(|h| (room.id.clone(), h.trigger.clone()))
        }
        _ => None,
    }
}

/// Where dee's scenes stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeeScene {
    /// Waiting for you to subscribe to Demo News (she looks at its subscriber count).
    Newsletter,
    /// The issue is out; waiting for its huddle.
    Published,
    /// Waiting for your "ok" after `/follow dee`.
    Follow,
    /// Logged off and on again; waiting for the presence huddle.
    Back,
}

async fn dee_script(mut w: WorkerHandle, setup: DeeSetup) {
    let Ok(me) = handle("dee") else { return };
    let you = setup.you.clone();
    let Ok(topic) = demo_topic() else { return };
    let start = Instant::now();
    let mut scene = DeeScene::Newsletter;
    let mut tipped = false;
    let mut next_id = 100;
    let mut look = tokio::time::interval(Duration::from_secs(2));
    let mut back_at: Option<Instant> = None;
    loop {
        let tip_at = start + Duration::from_secs(20);
        tokio::select! {
            _ = sleep_until(tip_at), if !tipped => {
                tipped = true;
                let text = "I edit a topic, Demo News. Type /topics and press Enter on it to subscribe — its next issue \
                            puts every reader who is online into a huddle that ends by itself.";
                let _ = w.commands.send(message(&me, &you, text)).await;
            }
            _ = look.tick(), if tipped && scene == DeeScene::Newsletter => {
                next_id += 1;
                let frame = ClientFrame::GetTopics(GetTopics { id: next_id, acting: None });
                let _ = w.commands.send(Command::Request { id: next_id, frame }).await;
            }
            _ = async { if let Some(at) = back_at { sleep_until(at).await } else { std::future::pending::<()>().await } } => {
                // No huddle formed when dee came back: you did not follow her (yet).
                back_at = None;
                scene = DeeScene::Follow;
                let text = "No huddle formed — did you /follow dee first? Do it, then tell me ok and I'll try again.";
                let _ = w.commands.send(message(&me, &you, text)).await;
            }
            event = w.events.recv() => {
                let Some(event) = event else { return };
                if let net::Event::Answer { frame: ServerFrame::Topics { topics, .. }, .. } = &event {
                    let readers = topics.iter().find(|t| t.id == topic).map_or(0, |t| t.subscribers);
                    if scene == DeeScene::Newsletter && readers >= 2 {
                        scene = DeeScene::Published;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        publish_by_webhook(&setup).await;
                    }
                }
                if let Some((room, trigger)) = huddle_pushed(&event) {
                    match (scene, trigger) {
                        (DeeScene::Published, HuddleTrigger::Issue { .. }) => {
                            scene = DeeScene::Follow;
                            tokio::time::sleep(Duration::from_secs(2)).await;
                            let text = "Welcome to the huddle of Demo News #1! It was published through the relay's \
                                        webhook, and it ends by itself in two minutes — the countdown is in the list.";
                            let _ = w.commands.send(group_message(&me, &room, text)).await;
                            tokio::time::sleep(Duration::from_secs(4)).await;
                            let text = "One more kind: type /follow dee, then tell me ok here. I'll log off and on \
                                        again, and we'll be in a huddle for as long as I'm online.";
                            let _ = w.commands.send(message(&me, &you, text)).await;
                        }
                        (DeeScene::Back, HuddleTrigger::Presence { .. }) => {
                            tokio::time::sleep(Duration::from_secs(2)).await;
                            let text = "Here we are: a huddle because I came online and you follow me. I'll log off in \
                                        a minute, and it ends.";
                            let _ = w.commands.send(group_message(&me, &room, text)).await;
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            let _ = w.commands.send(Command::Shutdown).await;
                            return;
                        }
                        _ => {}
                    }
                }
                if let Some((from, _)) = incoming_text(&event, &me).filter(|(from, _)| from.handle == you.handle) {
                    if scene == DeeScene::Follow {
                        scene = DeeScene::Back;
                        let text = "Logging off now — back in a few seconds.";
                        let _ = w.commands.send(message(&me, &from, text)).await;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        let _ = w.commands.send(Command::Shutdown).await;
                        tokio::time::sleep(Duration::from_secs(4)).await;
                        w = worker(&setup.url, "dee");
                        let auth = Auth::Login { handle: me.clone(), password: setup.password.clone() };
                        let _ = w.commands.send(Command::Authenticate(auth)).await;
                        back_at = Some(Instant::now() + Duration::from_secs(15));
                    }
                }
            }
        }
    }
}
