//! Topics (the seed's mail magazines): a handle makes one, others subscribe — the consent to be put in its huddles —
//! and each issue published forms a huddle of its subscribers that ends after the topic's duration (or, for each
//! subscriber, after the duration they chose). Issues come from the owner or a publisher (`publish`), or from an
//! external system through the topic's webhook, authenticated by a bearer token whose hash alone is stored.

use huddle_shared::limits::{
    DEFAULT_HUDDLE_MS, MAX_HUDDLE_MS, MAX_ISSUE_TITLE_CHARS, MAX_LINK_BYTES, MAX_PUBLISHERS,
    MAX_SUBSCRIPTIONS_PER_HANDLE, MAX_TOPIC_DESCRIPTION_CHARS, MAX_TOPIC_TITLE_CHARS, MAX_TOPICS_PER_HANDLE,
    MIN_HUDDLE_MS,
};
use huddle_shared::model::{EndReason, HuddleTrigger, Issue, IssueSource, Subscription, TopicId, TopicInfo};
use huddle_shared::text::{check_body, check_line};
use huddle_shared::{Address, ErrorCode, Millis, RoomId};

use super::cleared;
use super::federation_unavailable;
use super::huddles::{Candidate, HuddlePlan};
use crate::core::fail::{Fail, Outcome, refuse, refuse_with};
use crate::core::rules;
use crate::core::world::World;
use crate::storage::{Mutation, Storage, SubscriptionRec, TopicRec};

/// Who publishes an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publisher {
    /// The owner or a listed publisher, from a client.
    Handle(Address),
    /// The topic's webhook, with the bearer token it was called with.
    Webhook { token: String },
}

/// An issue as it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueDraft {
    pub title: String,
    pub body: Option<String>,
    pub link: Option<String>,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub topic: TopicId,
    pub issue: u64,
    pub room: Option<RoomId>,
    pub members: Vec<Address>,
}

/// A topic as its owner asks for it.
#[derive(Debug, Clone)]
pub struct NewTopic {
    pub id: TopicId,
    pub title: String,
    pub description: Option<String>,
    /// `None`: [`DEFAULT_HUDDLE_MS`].
    pub duration_ms: Option<Millis>,
    pub include_offline: bool,
}

/// Changes the owner asks for (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct TopicChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub duration_ms: Option<Millis>,
    pub include_offline: Option<bool>,
    pub publishers: Option<Vec<Address>>,
    pub new_token: bool,
    pub drop_token: bool,
    /// `Some("")` removes it.
    pub schedule: Option<String>,
    /// `Some("")`: UTC.
    pub time_zone: Option<String>,
    /// `Some("")` removes it.
    pub feed: Option<String>,
}

fn no_such_topic() -> Fail {
    refuse(ErrorCode::NoSuchTopic)
}

fn check_duration(ms: Millis) -> Outcome {
    if (MIN_HUDDLE_MS..=MAX_HUDDLE_MS).contains(&ms) {
        Ok(())
    } else {
        Err(refuse_with(ErrorCode::BadFrame, "A huddle lasts at least one minute and at most seven days."))
    }
}

fn check_title(title: &str) -> Outcome<String> {
    let title = title.trim().to_owned();
    if title.is_empty() {
        return Err(refuse_with(ErrorCode::BadText, "A topic needs a title."));
    }
    check_line(&title, MAX_TOPIC_TITLE_CHARS)
        .map_err(|e| refuse_with(ErrorCode::BadText, format!("The topic's title is not valid: {e}.")))?;
    Ok(title)
}

fn check_description(text: &str) -> Outcome<Option<String>> {
    let text = cleared(text);
    if let Some(t) = &text {
        check_line(t, MAX_TOPIC_DESCRIPTION_CHARS)
            .map_err(|e| refuse_with(ErrorCode::BadText, format!("The topic's description is not valid: {e}.")))?;
    }
    Ok(text)
}

/// An issue's fields: a title of one line, a body that is a valid message body, a link that is an http(s) URL.
pub fn check_issue(draft: IssueDraft) -> Outcome<IssueDraft> {
    let title = draft.title.trim().to_owned();
    if title.is_empty() {
        return Err(refuse_with(ErrorCode::BadText, "An issue needs a title."));
    }
    check_line(&title, MAX_ISSUE_TITLE_CHARS)
        .map_err(|e| refuse_with(ErrorCode::BadText, format!("The issue's title is not valid: {e}.")))?;
    let body = draft.body.and_then(|b| cleared(&b));
    if let Some(b) = &body {
        check_body(b).map_err(|e| refuse_with(ErrorCode::BadBody, format!("The issue's body is not valid: {e}.")))?;
    }
    let link = draft.link.and_then(|l| cleared(&l));
    if let Some(l) = &link {
        let web = l.starts_with("https://") || l.starts_with("http://");
        if !web || l.len() > MAX_LINK_BYTES || l.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse_with(
                ErrorCode::BadText,
                format!("An issue's link is an http:// or https:// address of at most {MAX_LINK_BYTES} bytes."),
            ));
        }
    }
    Ok(IssueDraft { title, body, link })
}

impl<S: Storage> World<S> {
    /// A topic as `viewer` sees it.
    pub fn topic_info(&self, topic: &TopicRec, viewer: &Address) -> TopicInfo {
        let subs = self.state.subscriptions.get(&topic.id);
        TopicInfo {
            id: topic.id.clone(),
            title: topic.title.clone(),
            description: topic.description.clone(),
            owner: topic.owner.clone(),
            duration_ms: topic.duration_ms,
            include_offline: topic.include_offline,
            publishers: topic.publishers.clone(),
            subscribers: subs.map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX)),
            subscription: subs
                .and_then(|s| s.get(viewer))
                .map(|s| Subscription { duration_ms: s.duration_ms, since: s.since }),
            issues: topic.issues,
            webhook: &topic.owner == viewer && topic.token_hash.is_some(),
            schedule: topic.schedule.clone(),
            time_zone: topic.time_zone.clone(),
            next_at: self.timers.schedules.get(&topic.id),
            feed: topic.feed.as_ref().map(|f| f.url.clone()),
            feed_error: topic.feed.as_ref().filter(|_| &topic.owner == viewer).and_then(|f| f.last_error.clone()),
            created_at: topic.created_at,
        }
    }

    /// The topic, unless it does not exist or its owner blocked `viewer` (the same answer for both).
    fn visible_topic(&self, topic: &TopicId, viewer: &Address) -> Outcome<TopicRec> {
        match self.state.topics.get(topic) {
            Some(t) if !rules::blocks(&self.state, &t.owner, viewer) => Ok(t.clone()),
            _ => Err(no_such_topic()),
        }
    }

    /// The topic, if `me` owns it.
    fn owned_topic(&self, topic: &TopicId, me: &Address) -> Outcome<TopicRec> {
        let t = self.visible_topic(topic, me)?;
        if &t.owner == me {
            Ok(t)
        } else {
            Err(refuse_with(ErrorCode::NotPublisher, "Only the topic's owner can change it."))
        }
    }

    /// Every topic `viewer` may see, by id.
    pub fn topics_for(&self, viewer: &Address) -> Vec<TopicInfo> {
        self.state
            .topics
            .values()
            .filter(|t| !rules::blocks(&self.state, &t.owner, viewer))
            .map(|t| self.topic_info(t, viewer))
            .collect()
    }

    pub fn create_topic(&mut self, owner: &Address, new: NewTopic, now: Millis) -> Outcome<TopicRec> {
        let NewTopic { id, title, description, duration_ms, include_offline } = new;
        let title = check_title(&title)?;
        let description = match description.as_deref() {
            Some(d) => check_description(d)?,
            None => None,
        };
        let duration_ms = duration_ms.unwrap_or(DEFAULT_HUDDLE_MS);
        check_duration(duration_ms)?;
        if self.state.topics.contains_key(&id) {
            return Err(refuse(ErrorCode::TopicTaken));
        }
        if self.state.topics.values().filter(|t| &t.owner == owner).count() >= MAX_TOPICS_PER_HANDLE {
            return Err(refuse_with(
                ErrorCode::BadFrame,
                format!("A handle can own at most {MAX_TOPICS_PER_HANDLE} topics; delete one first."),
            ));
        }
        let topic = TopicRec {
            id,
            owner: owner.clone(),
            title,
            description,
            duration_ms,
            include_offline,
            publishers: Vec::new(),
            token_hash: None,
            issues: 0,
            created_at: now,
            schedule: None,
            time_zone: None,
            schedule_after: now,
            feed: None,
        };
        self.write(Mutation::PutTopic(topic.clone()))?;
        Ok(topic)
    }

    /// The owner changes a topic. Returns it, and the new webhook token when one was asked for.
    pub fn update_topic(
        &mut self,
        me: &Address,
        topic: &TopicId,
        changes: TopicChanges,
        now: Millis,
    ) -> Outcome<(TopicRec, Option<String>)> {
        let mut t = self.owned_topic(topic, me)?;
        if changes.schedule.is_some() || changes.time_zone.is_some() {
            if let Some(text) = &changes.schedule {
                t.schedule = cleared(text);
            }
            if let Some(zone) = &changes.time_zone {
                t.time_zone = cleared(zone);
            }
            if let Some(schedule) = &t.schedule {
                super::schedules::check(schedule, t.time_zone.as_deref())
                    .map_err(|e| refuse_with(ErrorCode::BadText, format!("The schedule is not valid: {e}.")))?;
            }
            // A schedule counts from now: a time it named in the past is not made up for.
            t.schedule_after = now;
        }
        if let Some(url) = &changes.feed {
            t.feed = match cleared(url) {
                None => None,
                Some(url) if t.feed.as_ref().is_some_and(|f| f.url == url) => t.feed.clone(),
                Some(url) => {
                    super::feeds::check_url(&url).map_err(|e| refuse_with(ErrorCode::BadText, e))?;
                    Some(crate::storage::FeedRec {
                        url,
                        etag: None,
                        last_modified: None,
                        seen: Vec::new(),
                        primed: false,
                        failures: 0,
                        last_error: None,
                    })
                }
            };
        }
        if let Some(title) = &changes.title {
            t.title = check_title(title)?;
        }
        if let Some(d) = &changes.description {
            t.description = check_description(d)?;
        }
        if let Some(ms) = changes.duration_ms {
            check_duration(ms)?;
            t.duration_ms = ms;
        }
        if let Some(include) = changes.include_offline {
            t.include_offline = include;
        }
        if let Some(publishers) = changes.publishers {
            let relay = self.relay().clone();
            let mut list: Vec<Address> = Vec::new();
            for p in publishers.into_iter().map(|p| p.resolve(&relay)) {
                if !p.is_local_to(&relay) {
                    return Err(federation_unavailable(&p));
                }
                if self.state.local_handle(&p).is_none() {
                    return Err(super::unreachable(&p));
                }
                if &p != me && !list.contains(&p) {
                    list.push(p);
                }
            }
            if list.len() > MAX_PUBLISHERS {
                return Err(refuse_with(
                    ErrorCode::BadFrame,
                    format!("A topic has at most {MAX_PUBLISHERS} publishers."),
                ));
            }
            t.publishers = list;
        }
        let token = if changes.new_token {
            let token = crate::password::new_secret().map_err(|e| {
                tracing::error!(error = %e, "the system random source failed making a webhook token");
                refuse(ErrorCode::Internal)
            })?;
            t.token_hash = Some(crate::password::token_hash(&token));
            Some(token)
        } else {
            if changes.drop_token {
                t.token_hash = None;
            }
            None
        };
        self.write(Mutation::PutTopic(t.clone()))?;
        self.timers.set_schedule(&t);
        match &t.feed {
            // A new feed is read at once (to learn what is there already); an unchanged one keeps its time.
            Some(_) if self.timers.feeds.get(&t.id).is_none() => self.timers.feeds.set(&t.id, now),
            Some(_) => {}
            None => self.timers.feeds.clear(&t.id),
        }
        Ok((t, token))
    }

    /// The owner deletes a topic.
    pub fn delete_topic(&mut self, me: &Address, topic: &TopicId, now: Millis) -> Outcome {
        self.owned_topic(topic, me)?;
        self.remove_topic(topic, now)
    }

    /// Deletes a topic and its subscriptions; its huddles that are running end.
    pub(super) fn remove_topic(&mut self, topic: &TopicId, now: Millis) -> Outcome {
        let running: Vec<RoomId> = self
            .state
            .running()
            .filter(|h| matches!(&h.trigger, HuddleTrigger::Issue { topic: t, .. } if t == topic))
            .map(|h| h.room.clone())
            .collect();
        for room in running {
            self.end_huddle(&room, EndReason::TopicDeleted, now)?;
        }
        self.write(Mutation::DeleteTopic(topic.clone()))?;
        self.timers.schedules.clear(topic);
        self.timers.feeds.clear(topic);
        Ok(())
    }

    /// Subscribes `me` (or changes its duration).
    pub fn subscribe(
        &mut self,
        me: &Address,
        topic: &TopicId,
        duration_ms: Option<Millis>,
        now: Millis,
    ) -> Outcome<TopicRec> {
        let t = self.visible_topic(topic, me)?;
        if let Some(ms) = duration_ms {
            check_duration(ms)?;
        }
        let existing = self.state.subscriptions.get(topic).and_then(|s| s.get(me)).cloned();
        if existing.is_none() {
            let count = self.state.subscriptions.values().filter(|s| s.contains_key(me)).count();
            if count >= MAX_SUBSCRIPTIONS_PER_HANDLE {
                return Err(refuse_with(
                    ErrorCode::BadFrame,
                    format!("A handle can subscribe to at most {MAX_SUBSCRIPTIONS_PER_HANDLE} topics."),
                ));
            }
        }
        let since = existing.map_or(now, |s| s.since);
        self.write(Mutation::PutSubscription(SubscriptionRec {
            topic: topic.clone(),
            subscriber: me.clone(),
            duration_ms,
            since,
        }))?;
        Ok(t)
    }

    pub fn unsubscribe(&mut self, me: &Address, topic: &TopicId) -> Outcome {
        self.visible_topic(topic, me)?;
        if self.state.subscriptions.get(topic).is_some_and(|s| s.contains_key(me)) {
            self.write(Mutation::DeleteSubscription { topic: topic.clone(), subscriber: me.clone() })?;
        }
        Ok(())
    }

    /// Publishes an issue: numbered, then a huddle of the topic's subscribers who agreed (online ones, or all when the
    /// topic includes offline subscribers) and, for a publisher handle, the publisher.
    pub fn publish(&mut self, topic: &TopicId, by: Publisher, draft: IssueDraft, now: Millis) -> Outcome<Published> {
        let mut t = match &by {
            Publisher::Handle(me) => {
                let t = self.visible_topic(topic, me)?;
                if &t.owner != me && !t.publishers.contains(me) {
                    return Err(refuse(ErrorCode::NotPublisher));
                }
                t
            }
            Publisher::Webhook { token } => {
                let t = self.state.topics.get(topic).cloned().ok_or_else(no_such_topic)?;
                // Hashes of equal length compared whole: the comparison says nothing about how much of a guess matched.
                let given = crate::password::token_hash(token);
                let matches = t.token_hash.as_ref().is_some_and(|h| {
                    h.len() == given.len() && h.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
                });
                if !matches {
                    return Err(refuse_with(ErrorCode::NotPublisher, "That token does not publish to this topic."));
                }
                t
            }
        };
        let draft = check_issue(draft)?;
        let (source, publisher) = match &by {
            Publisher::Handle(me) => (IssueSource::Client, Some(me.clone())),
            Publisher::Webhook { .. } => (IssueSource::Webhook, None),
        };
        self.publish_issue(&mut t, draft, source, publisher, now)
    }

    /// Numbers an issue of `t` and forms its huddle.
    pub(super) fn publish_issue(
        &mut self,
        t: &mut TopicRec,
        draft: IssueDraft,
        source: IssueSource,
        publisher: Option<Address>,
        now: Millis,
    ) -> Outcome<Published> {
        t.issues += 1;
        self.write(Mutation::PutTopic(t.clone()))?;
        let issue = Issue {
            number: t.issues,
            title: draft.title,
            body: draft.body,
            link: draft.link,
            source,
            by: publisher.clone(),
        };
        let trigger = HuddleTrigger::Issue { topic: t.id.clone(), topic_title: t.title.clone(), issue };
        let title = format!("{} #{}", t.title, t.issues);
        let (room, members) = self.topic_huddle(t, trigger, title, publisher, now)?;
        Ok(Published { topic: t.id.clone(), issue: t.issues, room, members })
    }

    /// Forms a huddle of a topic: `publisher` (if a handle) first, then the subscribers who agreed and are online (or
    /// all, per topic), each until their own time; it lasts as long as the longest of them.
    pub(super) fn topic_huddle(
        &mut self,
        t: &TopicRec,
        trigger: HuddleTrigger,
        title: String,
        publisher: Option<Address>,
        now: Millis,
    ) -> Outcome<(Option<RoomId>, Vec<Address>)> {
        let mut candidates: Vec<Candidate> = Vec::new();
        if let Some(me) = &publisher {
            candidates.push(Candidate { who: me.clone(), until: None });
        }
        let mut subs: Vec<&SubscriptionRec> =
            self.state.subscriptions.get(&t.id).map(|s| s.values().collect()).unwrap_or_default();
        subs.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.subscriber.cmp(&b.subscriber)));
        let mut longest = t.duration_ms;
        for sub in subs {
            let who = &sub.subscriber;
            let present = t.include_offline || self.online.contains(&who.handle);
            let blocked = publisher.as_ref().is_some_and(|p| !rules::may_huddle_together(&self.state, p, who));
            if !present || blocked || !rules::joins_topic_huddles(&self.state, who, &t.id) {
                continue;
            }
            let own = sub.duration_ms.unwrap_or(t.duration_ms);
            longest = longest.max(own);
            candidates.push(Candidate { who: who.clone(), until: Some(now.saturating_add(own)) });
        }
        let plan = HuddlePlan {
            title,
            trigger,
            by: publisher.unwrap_or_else(|| t.owner.clone()),
            anchor: None,
            ends_at: Some(now.saturating_add(longest)),
            idle_ms: None,
        };
        Ok(match self.form_huddle(plan, candidates, now)? {
            Some((room, members)) => (Some(room), members),
            None => (None, Vec::new()),
        })
    }

    /// A topic's scheduled time came: a huddle of its subscribers forms (unless the time is long past — the relay was
    /// down through the whole of it), and the next time is set.
    pub(super) fn schedule_fired(&mut self, topic: &TopicId, now: Millis) -> Outcome {
        let Some(mut t) = self.state.topics.get(topic).cloned() else { return Ok(()) };
        let Some(schedule) = t.schedule.clone() else { return Ok(()) };
        let Some(due) = super::schedules::next_after(&schedule, t.time_zone.as_deref(), t.schedule_after) else {
            return Ok(());
        };
        if due > now {
            // Not yet (a timer set before the schedule changed): look again then.
            self.timers.schedules.set(topic, due);
            return Ok(());
        }
        if now < due.saturating_add(t.duration_ms) {
            let trigger = HuddleTrigger::Schedule { topic: t.id.clone(), topic_title: t.title.clone() };
            self.topic_huddle(&t, trigger, t.title.clone(), None, now)?;
        }
        // The next time counts from now, so a relay that was down long fires once, not once per missed time.
        t.schedule_after = now.max(due);
        self.write(Mutation::PutTopic(t.clone()))?;
        self.timers.set_schedule(&t);
        Ok(())
    }
}
