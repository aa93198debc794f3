//! Huddles in the client: the lines of their logs (formed, a member's time up, ended and why), their countdowns, and
//! the huddle commands — topics (`/topics`, `/newtopic`, `/subscribe`, `/unsubscribe`, `/publish`, `/webhook`) and
//! the settings (`/follow`, `/unfollow`, `/sharepresence`, `/huddles`, `/notwith`, `/with`). A huddle is a room, so
//! its messages, members and leaving are the groups' (`groups.rs`).

use std::time::Duration;

use huddle_shared::client::{
    CreateTopic, GetTopics, Publish, ReportActivity, ReportPlace, SetHuddleSettings, Subscribe, Unsubscribe,
    UpdateTopic,
};
use huddle_shared::model::{EndReason, HuddleInfo, HuddleSettings, HuddleTrigger, TopicId, TopicInfo};
use huddle_shared::{Address, ClientFrame, Handle, Millis, ServerFrame};

use super::notices::notify;
use super::requests::request;
use super::{Cmd, HandleView, Level, Model, Pending};

/// A huddle command, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HuddleCommand {
    Topics,
    NewTopic {
        topic: String,
        duration: Option<Duration>,
        title: String,
    },
    Subscribe {
        topic: String,
        duration: Option<Duration>,
    },
    Unsubscribe {
        topic: String,
    },
    Publish {
        topic: String,
        title: String,
        body: Option<String>,
    },
    Webhook {
        topic: String,
    },
    /// A schedule (`None`: remove it), with its time zone.
    Schedule {
        topic: String,
        schedule: Option<String>,
        zone: Option<String>,
    },
    /// A feed to poll (`None`: remove it).
    Feed {
        topic: String,
        url: Option<String>,
    },
    Activity {
        kind: String,
        key: String,
    },
    Place {
        geohash: String,
    },
    Follow {
        handle: String,
        follow: bool,
    },
    SharePresence {
        on: bool,
    },
    Huddles {
        on: bool,
    },
    NotWith {
        handle: String,
        apart: bool,
    },
}

/// What a huddle request was for, to word its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HuddleAsk {
    Topics,
    Created,
    Subscribed,
    Unsubscribed(TopicId),
    Published,
    Webhook,
    Scheduled,
    FeedSet,
    Reported(String),
    /// The settings were changed; this sentence says how.
    Settings(String),
}

/// "25m left", "1h 05m left", "40s left", or what else ends it.
pub fn time_left(info: &HuddleInfo, now: Millis) -> String {
    match (info.ends_at, &info.anchor) {
        (Some(end), _) => {
            let secs = (end - now).max(0) / 1000;
            match secs {
                s if s >= 3600 => format!("{}h {:02}m left", s / 3600, (s % 3600) / 60),
                s if s >= 60 => format!("{}m left", s / 60),
                s => format!("{s}s left"),
            }
        }
        (None, Some(_)) => "till offline".to_owned(),
        (None, None) => "running".to_owned(),
    }
}

/// What formed a huddle, as a phrase: "newsletter “Rust Weekly” #612: Title", "ben came online".
pub fn trigger_phrase(h: &HandleView, trigger: &HuddleTrigger) -> String {
    match trigger {
        HuddleTrigger::Issue { topic_title, issue, .. } => {
            format!("newsletter “{topic_title}” #{}: {}", issue.number, issue.title)
        }
        HuddleTrigger::Presence { of: anchor } => format!("{} came online", h.name_of(anchor)),
        HuddleTrigger::Schedule { topic_title, .. } => format!("“{topic_title}”, on schedule"),
        HuddleTrigger::Activity { kind, count } => format!("{count} people, same {kind}"),
        HuddleTrigger::Place { area, count } => format!("{count} people at {area}"),
        HuddleTrigger::Unknown => "something happened".to_owned(),
    }
}

/// The `formed` line (formed at `at`): what formed it, who is in it, and how long it lasts; an issue's body and link
/// follow it.
pub fn formed_lines(h: &HandleView, info: &HuddleInfo, members: &str, at: Millis) -> Vec<String> {
    let ends = match (info.ends_at, &info.anchor) {
        (Some(end), _) => format!(" It lasts {}.", span((end - at).max(0))),
        (None, Some(anchor)) => format!(" It ends when {} goes offline.", h.name_of(anchor)),
        (None, None) => String::new(),
    };
    let mut lines = vec![format!("Huddle formed — {} — with {members}.{ends}", trigger_phrase(h, &info.trigger))];
    if let HuddleTrigger::Issue { issue, .. } = &info.trigger {
        if let Some(body) = &issue.body {
            lines.push(body.clone());
        }
        if let Some(link) = &issue.link {
            lines.push(link.clone());
        }
    }
    lines
}

/// A length of time in words: "45 minutes", "2 hours", "1 hour 30 minutes", "20 seconds".
fn span(ms: Millis) -> String {
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    let mins = (ms + 30_000) / 60_000;
    match (mins / 60, mins % 60) {
        (0, 0) => plural(ms / 1000, "second"),
        (0, m) => plural(m, "minute"),
        (h, 0) => plural(h, "hour"),
        (h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
    }
}

/// Why a huddle ended, as a sentence.
pub fn ended_sentence(reason: Option<EndReason>) -> String {
    let why = match reason {
        Some(EndReason::Time) => "its time was up",
        Some(EndReason::AnchorOffline) => "the person it was about went offline",
        Some(EndReason::Idle) => "nobody wrote for a while",
        Some(EndReason::Empty) => "everyone left",
        Some(EndReason::TopicDeleted) => "its topic was deleted",
        Some(EndReason::Unknown) | None => "it is over",
    };
    format!("This huddle has ended ({why}): nothing more can be said here, and its log stays.")
}

fn minutes(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

fn topic_id(raw: &str) -> Result<TopicId, String> {
    TopicId::parse(raw).map_err(|e| format!("{}.", super::notices::capitalize(&e.to_string())))
}

fn address(model: &Model, name: &str) -> Result<Address, String> {
    Address::parse(name.trim_start_matches('@'))
        .map(|a| super::handles::resolve(model, a))
        .map_err(|e| format!("{}.", super::notices::capitalize(&e.to_string())))
}

/// Runs a huddle command for the active handle.
pub fn run(model: &mut Model, acting: Handle, command: HuddleCommand) -> Result<Vec<Cmd>, String> {
    let me = Some(acting.clone());
    let ask = |what: HuddleAsk| Pending::Huddle(what);
    Ok(vec![match command {
        HuddleCommand::Topics => {
            request(model, ask(HuddleAsk::Topics), |id| ClientFrame::GetTopics(GetTopics { id, acting: me }))
        }
        HuddleCommand::NewTopic { topic, duration, title } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::Created), |id| {
                ClientFrame::CreateTopic(CreateTopic {
                    id,
                    acting: me,
                    topic,
                    title,
                    description: None,
                    duration_ms: duration.map(minutes),
                    include_offline: false,
                })
            })
        }
        HuddleCommand::Subscribe { topic, duration } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::Subscribed), |id| {
                ClientFrame::Subscribe(Subscribe { id, acting: me, topic, duration_ms: duration.map(minutes) })
            })
        }
        HuddleCommand::Unsubscribe { topic } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::Unsubscribed(topic.clone())), |id| {
                ClientFrame::Unsubscribe(Unsubscribe { id, acting: me, topic })
            })
        }
        HuddleCommand::Publish { topic, title, body } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::Published), |id| {
                ClientFrame::Publish(Publish { id, acting: me, topic, title, body, link: None })
            })
        }
        HuddleCommand::Webhook { topic } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::Webhook), |id| {
                ClientFrame::UpdateTopic(UpdateTopic { acting: me, new_token: true, ..UpdateTopic::new(id, topic) })
            })
        }
        HuddleCommand::Schedule { topic, schedule, zone } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::Scheduled), |id| {
                ClientFrame::UpdateTopic(UpdateTopic {
                    acting: me,
                    schedule: Some(schedule.unwrap_or_default()),
                    time_zone: Some(zone.unwrap_or_default()),
                    ..UpdateTopic::new(id, topic)
                })
            })
        }
        HuddleCommand::Feed { topic, url } => {
            let topic = topic_id(&topic)?;
            request(model, ask(HuddleAsk::FeedSet), |id| {
                ClientFrame::UpdateTopic(UpdateTopic {
                    acting: me,
                    feed: Some(url.unwrap_or_default()),
                    ..UpdateTopic::new(id, topic)
                })
            })
        }
        HuddleCommand::Activity { kind, key } => {
            let sentence = format!(
                "Reported. If others report the same {kind} soon, you are put in a huddle with them; only a keyed hash of it is kept."
            );
            request(model, ask(HuddleAsk::Reported(sentence)), |id| {
                ClientFrame::ReportActivity(ReportActivity { id, acting: me, kind, key })
            })
        }
        HuddleCommand::Place { geohash } => {
            let sentence = "Reported. If others are in the same area of this relay soon, you are put in a huddle with them; only the area is kept.".to_owned();
            request(model, ask(HuddleAsk::Reported(sentence)), |id| {
                ClientFrame::ReportPlace(ReportPlace { id, acting: me, geohash })
            })
        }
        settings_command => {
            let current = model.handle().map(|h| h.session.huddle_settings.clone()).unwrap_or_default();
            let (settings, sentence) = change_settings(model, current, settings_command)?;
            request(model, ask(HuddleAsk::Settings(sentence)), |id| {
                ClientFrame::SetHuddleSettings(SetHuddleSettings { id, acting: me, settings })
            })
        }
    }])
}

/// The settings a settings command asks for, and the sentence that confirms it.
fn change_settings(
    model: &Model,
    mut s: HuddleSettings,
    command: HuddleCommand,
) -> Result<(HuddleSettings, String), String> {
    let sentence = match command {
        HuddleCommand::Follow { handle, follow } => {
            let who = address(model, &handle)?;
            s.follows.retain(|a| *a != who);
            if follow {
                s.follows.push(who.clone());
                format!(
                    "You follow {}: when they come online and share it, you are put in a huddle with them.",
                    who.handle
                )
            } else {
                format!("You no longer follow {}.", who.handle)
            }
        }
        HuddleCommand::SharePresence { on } => {
            s.share_presence = on;
            if on {
                "Friends who follow you are put in a huddle with you when you come online.".to_owned()
            } else {
                "Your coming online no longer forms a huddle.".to_owned()
            }
        }
        HuddleCommand::Huddles { on } => {
            s.off = !on;
            if on { "Huddles are on again.".to_owned() } else { "You will be put in no huddles.".to_owned() }
        }
        HuddleCommand::NotWith { handle, apart } => {
            let who = address(model, &handle)?;
            s.not_with.retain(|a| *a != who);
            if apart {
                s.not_with.push(who.clone());
                format!(
                    "You and {} will not be put in a huddle together, and nothing passes between you in one.",
                    who.handle
                )
            } else {
                format!("You and {} may be in huddles together again.", who.handle)
            }
        }
        _ => return Err("That is not a setting.".to_owned()),
    };
    Ok((s, sentence))
}

/// Changes the topic `id` in every open topic browser.
fn browsed(model: &mut Model, id: &TopicId, change: impl Fn(&mut TopicInfo)) {
    for dialog in &mut model.dialogs {
        if let super::Dialog::Topics { topics, .. } = dialog {
            topics.iter_mut().filter(|t| t.id == *id).for_each(&change);
        }
    }
}

/// A topic as one line of the browser: id, title, subscribers, length, and whether we are subscribed.
pub fn topic_line(t: &TopicInfo) -> String {
    let mins = t.duration_ms / 60_000;
    let mine = match &t.subscription {
        Some(_) => " · subscribed",
        None => "",
    };
    let plural = if t.subscribers == 1 { "" } else { "s" };
    format!("{} — {} · {} subscriber{plural} · {mins} min huddles{mine}", t.id, t.title, t.subscribers)
}

/// The answer to a huddle request, for the person. (Settings answers are applied in `events.rs`, where session state
/// is written.)
pub fn answered(model: &mut Model, what: HuddleAsk, frame: ServerFrame) {
    match (what, frame) {
        (HuddleAsk::Topics, ServerFrame::Topics { topics, .. }) => {
            if topics.is_empty() {
                notify(model, Level::Info, "There are no topics on this relay yet; make one with /newtopic.");
                return;
            }
            // The person asked for this list a moment ago (/topics).
            model.dialogs.push_back(super::Dialog::Topics { topics, selected: 0 });
        }
        (HuddleAsk::Created, ServerFrame::Topic { topic, .. }) => {
            let text = format!(
                "Topic {} is made. Others join with /subscribe {}; publish with /publish {} TITLE.",
                topic.id, topic.id, topic.id
            );
            notify(model, Level::Info, text);
        }
        (HuddleAsk::Subscribed, ServerFrame::Topic { topic, .. }) => {
            let text = format!("Subscribed to {}: each issue puts you in a huddle with its readers.", topic.title);
            notify(model, Level::Info, text);
            // An open topic browser shows the subscription, so Enter on it next asks to leave, not to subscribe.
            browsed(model, &topic.id, |t| *t = (*topic).clone());
        }
        (HuddleAsk::Unsubscribed(id), ServerFrame::Ok { .. }) => {
            notify(model, Level::Info, format!("You left the topic {id}."));
            browsed(model, &id, |t| {
                if t.subscription.take().is_some() {
                    t.subscribers = t.subscribers.saturating_sub(1);
                }
            });
        }
        (HuddleAsk::Published, ServerFrame::Published { issue, members, room, .. }) => {
            let text = match room {
                Some(_) => format!("Issue #{issue} is out: a huddle of {members} formed."),
                None => format!("Issue #{issue} is out; no subscriber could be put in a huddle right now."),
            };
            notify(model, Level::Info, text);
        }
        (HuddleAsk::Scheduled, ServerFrame::Topic { topic, .. }) => {
            let text = match (&topic.schedule, topic.next_at) {
                (Some(s), Some(_)) => format!("{} now forms a huddle on schedule ({s}).", topic.title),
                (Some(s), None) => format!("{}'s schedule ({s}) names no time to come.", topic.title),
                (None, _) => format!("{} has no schedule now.", topic.title),
            };
            notify(model, Level::Info, text);
        }
        (HuddleAsk::FeedSet, ServerFrame::Topic { topic, .. }) => {
            let text = match &topic.feed {
                Some(url) => {
                    format!("{} follows {url}: each new entry is an issue (those there now are not).", topic.title)
                }
                None => format!("{} follows no feed now.", topic.title),
            };
            notify(model, Level::Info, text);
        }
        (HuddleAsk::Reported(sentence), _) => notify(model, Level::Info, sentence),
        (HuddleAsk::Webhook, ServerFrame::Topic { topic, token: Some(token), .. }) => {
            // Shown once, to the owner who asked; the relay keeps only its hash.
            let text = format!(
                "Webhook token for {} (shown once; it replaces any earlier one): {token} — POST /topics/{}/issues with \"Authorization: Bearer TOKEN\".",
                topic.id, topic.id
            );
            notify(model, Level::Info, text);
        }
        _ => {}
    }
}
