//! A topic's RSS or Atom feed: the relay polls it (the shell fetches, with a conditional GET; the core decides) and
//! each new entry is an issue of the topic. The entries there when the feed is attached are not issues — only those
//! that appear later. A feed that fails is tried again with a growing delay, and its owner is told once per run of
//! failures; nothing about a feed ever stops the relay.

use huddle_shared::Millis;
use huddle_shared::limits::{MAX_ISSUE_TITLE_CHARS, MAX_LINK_BYTES};
use huddle_shared::model::{Event, IssueSource, TopicId};

use super::topics::IssueDraft;
use crate::core::fail::Outcome;
use crate::core::world::World;
use crate::storage::{FEED_SEEN_KEPT, Mutation, Storage};

/// Issues one poll publishes at most (the newest ones): a feed that suddenly lists a hundred new entries does not
/// form a hundred huddles.
pub const MAX_ISSUES_PER_POLL: usize = 5;
/// The longest wait before a failing feed is tried again.
pub const MAX_FEED_BACKOFF_MS: Millis = 6 * 3_600_000;
/// How long a poll may go unanswered before the feed is polled again (well beyond a fetch's own time limit).
pub const ANSWER_OVERDUE_MS: Millis = 60_000;
/// The first wait after a failure; it doubles with each failure in a row.
pub const FIRST_FEED_BACKOFF_MS: Millis = 60_000;

/// A feed to fetch, with the validators of its last answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPoll {
    pub topic: TopicId,
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One entry of a feed, as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub id: String,
    pub title: String,
    pub link: Option<String>,
}

/// What fetching a feed gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedFetch {
    /// `304 Not Modified`.
    NotModified,
    /// The feed, entries in its own order (newest first, as feeds list them).
    Fetched { etag: Option<String>, last_modified: Option<String>, entries: Vec<FeedEntry> },
    /// Why it could not be read, as a sentence for its owner.
    Failed(String),
}

/// A feed's address: `http://` or `https://`, at most [`MAX_LINK_BYTES`], without spaces.
pub fn check_url(url: &str) -> Result<(), String> {
    let web = url.starts_with("https://") || url.starts_with("http://");
    if web && url.len() <= MAX_LINK_BYTES && !url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err(format!("A feed is an http:// or https:// address of at most {MAX_LINK_BYTES} bytes."))
    }
}

/// The wait before the next try after `failures` failures in a row.
pub fn backoff(failures: u32) -> Millis {
    let doublings = failures.saturating_sub(1).min(20);
    FIRST_FEED_BACKOFF_MS.saturating_mul(1 << doublings).min(MAX_FEED_BACKOFF_MS)
}

/// An entry as an issue: its title on one line (cut to fit), its link if it is a web address.
fn draft(entry: &FeedEntry) -> IssueDraft {
    let flat: String = entry.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let title: String = flat.chars().filter(|c| !c.is_control()).take(MAX_ISSUE_TITLE_CHARS).collect();
    let title = if title.is_empty() { "(untitled)".to_owned() } else { title };
    let link = entry.link.clone().filter(|l| check_url(l).is_ok());
    IssueDraft { title, body: None, link }
}

impl<S: Storage> World<S> {
    /// The feeds whose poll is due. Each keeps a timer for when its answer is overdue (a fetch that never answers —
    /// the fetcher busy, a core inbox full, a thread that could not start — only delays the next poll; it never stops
    /// the feed); the answer sets the real next time.
    pub(super) fn feeds_due(&mut self, now: Millis) -> Vec<FeedPoll> {
        let overdue = now + self.rules.feed_interval_ms.max(ANSWER_OVERDUE_MS);
        let due = self.timers.feeds.take_due(now);
        let mut polls = Vec::new();
        for topic in due {
            let Some(feed) = self.state.topics.get(&topic).and_then(|t| t.feed.as_ref()) else { continue };
            polls.push(FeedPoll {
                topic: topic.clone(),
                url: feed.url.clone(),
                etag: feed.etag.clone(),
                last_modified: feed.last_modified.clone(),
            });
            self.timers.feeds.set(&topic, overdue);
        }
        polls
    }

    /// The answer to a poll: new entries become issues (the first read only learns what is there), failures are
    /// counted and told, and the next poll is set.
    pub fn feed_fetched(&mut self, topic: &TopicId, url: &str, fetch: FeedFetch, now: Millis) -> Outcome {
        let Some(mut t) = self.state.topics.get(topic).cloned() else { return Ok(()) };
        // The feed was removed or replaced while this poll was under way: its answer is for nobody.
        let Some(mut feed) = t.feed.clone().filter(|f| f.url == url) else { return Ok(()) };
        let mut new_entries = Vec::new();
        let next = match fetch {
            FeedFetch::NotModified => {
                feed.failures = 0;
                feed.last_error = None;
                now + self.rules.feed_interval_ms
            }
            FeedFetch::Fetched { etag, last_modified, entries } => {
                feed.failures = 0;
                feed.last_error = None;
                feed.etag = etag;
                feed.last_modified = last_modified;
                let unseen: Vec<FeedEntry> = entries.into_iter().filter(|e| !feed.seen.contains(&e.id)).collect();
                let mut seen: Vec<String> = unseen.iter().map(|e| e.id.clone()).collect();
                seen.dedup();
                seen.append(&mut feed.seen);
                seen.truncate(FEED_SEEN_KEPT);
                feed.seen = seen;
                if feed.primed {
                    new_entries = unseen.into_iter().take(MAX_ISSUES_PER_POLL).collect();
                }
                feed.primed = true;
                now + self.rules.feed_interval_ms
            }
            FeedFetch::Failed(reason) => {
                feed.failures = feed.failures.saturating_add(1);
                feed.last_error = Some(reason.clone());
                let retry_at = now + backoff(feed.failures).min(self.rules.feed_interval_ms.max(FIRST_FEED_BACKOFF_MS));
                if feed.failures == 1 {
                    let event = Event::FeedFailed { peer: t.owner.clone(), topic: topic.clone(), reason, retry_at };
                    self.append_event(&t.owner.handle.clone(), event, now)?;
                }
                retry_at
            }
        };
        t.feed = Some(feed);
        self.write(Mutation::PutTopic(t.clone()))?;
        self.timers.feeds.set(topic, next);
        // Oldest first, as they were published.
        for entry in new_entries.iter().rev() {
            self.publish_issue(&mut t, draft(entry), IssueSource::Feed, None, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_feed_waits_longer_each_time_up_to_a_bound() {
        assert_eq!(backoff(1), 60_000);
        assert_eq!(backoff(2), 120_000);
        assert_eq!(backoff(40), MAX_FEED_BACKOFF_MS);
    }

    #[test]
    fn an_entry_becomes_a_one_line_issue() {
        let entry =
            FeedEntry { id: "1".into(), title: " Big\nnews\t today ".into(), link: Some("javascript:x".into()) };
        let d = draft(&entry);
        assert_eq!(d.title, "Big news today");
        assert_eq!(d.link, None, "only web links");
    }
}
