//! Fetching topic feeds for the core ([`Effect::FetchFeed`](crate::core::Effect::FetchFeed)): a conditional GET with
//! ureq on a thread of its own, the body read within [`MAX_FEED_BYTES`] and parsed by feed-rs, and the answer sent
//! back as [`Input::FeedFetched`](crate::core::Input::FeedFetched). Every failure becomes a sentence for the topic's
//! owner; none stops anything.
//!
//! Bounds: [`MAX_FETCHES`] fetches at once (more are answered "busy" and retried by the core's backoff),
//! [`FETCH_TIMEOUT`] per fetch, [`MAX_FEED_BYTES`] per body, and at most [`MAX_ENTRIES`] entries read. Unless the
//! config allows it, a feed whose host resolves to a loopback, private or link-local address is refused, so a
//! topic's owner cannot make the relay read its own network.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use super::core_loop::CoreMsg;
use crate::core::Input;
use crate::core::domain::feeds::{FeedEntry, FeedFetch, FeedPoll};

/// Fetches running at once.
pub const MAX_FETCHES: usize = 4;
/// Time for one fetch, connection to last byte.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest feed document read.
pub const MAX_FEED_BYTES: u64 = 2 * 1024 * 1024;
/// Entries read from one document (feeds list their newest first).
pub const MAX_ENTRIES: usize = 100;

#[derive(Clone)]
pub struct FeedFetcher {
    core: mpsc::Sender<CoreMsg>,
    running: Arc<AtomicUsize>,
    allow_private: bool,
}

impl FeedFetcher {
    pub fn new(core: mpsc::Sender<CoreMsg>, allow_private: bool) -> Self {
        Self { core, running: Arc::new(AtomicUsize::new(0)), allow_private }
    }

    /// Starts a fetch; its answer comes back to the core as an input.
    pub fn fetch(&self, poll: FeedPoll) {
        let answer = |fetch: FeedFetch| Input::FeedFetched { topic: poll.topic.clone(), url: poll.url.clone(), fetch };
        if self.running.fetch_add(1, Ordering::SeqCst) >= MAX_FETCHES {
            self.running.fetch_sub(1, Ordering::SeqCst);
            let busy = answer(FeedFetch::Failed("the relay is busy fetching other feeds".to_owned()));
            let _ = self.core.try_send(CoreMsg::Input(busy));
            return;
        }
        let this = self.clone();
        let spawned = std::thread::Builder::new().name("huddle-feed".to_owned()).spawn(move || {
            let fetch = fetch(&poll, this.allow_private);
            this.running.fetch_sub(1, Ordering::SeqCst);
            let input = Input::FeedFetched { topic: poll.topic, url: poll.url, fetch };
            // A full inbox waits (this is the fetcher's own thread); a stopped core drops the answer, and the next
            // start polls again.
            let _ = this.core.blocking_send(CoreMsg::Input(input));
        });
        if spawned.is_err() {
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            let mapped = v6.to_ipv4_mapped().is_some_and(|v4| private(IpAddr::V4(v4)));
            // Unique local (fc00::/7) and link-local (fe80::/10) addresses.
            let local = (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80;
            v6.is_loopback() || v6.is_unspecified() || mapped || local
        }
    }
}

/// The host and port a URL names (its authority), for the address check.
fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let default = if scheme == "https" { 443 } else { 80 };
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        let port = tail.strip_prefix(':').map_or(Some(default), |p| p.parse().ok())?;
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((authority.to_owned(), default)),
    }
}

fn fetch(poll: &FeedPoll, allow_private: bool) -> FeedFetch {
    match try_fetch(poll, allow_private) {
        Ok(fetch) => fetch,
        Err(reason) => FeedFetch::Failed(reason),
    }
}

fn try_fetch(poll: &FeedPoll, allow_private: bool) -> Result<FeedFetch, String> {
    if !allow_private {
        let (host, port) = host_port(&poll.url).ok_or("the feed's address cannot be read")?;
        let addrs: Vec<IpAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|_| format!("{host} could not be found"))?
            .map(|a| a.ip())
            .collect();
        if addrs.iter().any(|ip| private(*ip)) {
            return Err(format!("{host} is a local or private address, which this relay does not fetch"));
        }
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(5)
        .user_agent(concat!("huddle-relay/", env!("CARGO_PKG_VERSION"), " (feed poller)"))
        .build()
        .into();
    let mut request = agent.get(&poll.url);
    if let Some(etag) = &poll.etag {
        request = request.header("If-None-Match", etag);
    }
    if let Some(modified) = &poll.last_modified {
        request = request.header("If-Modified-Since", modified);
    }
    let mut response = request.call().map_err(|e| format!("the feed could not be fetched: {e}"))?;
    let status = response.status().as_u16();
    if status == 304 {
        return Ok(FeedFetch::NotModified);
    }
    if !(200..300).contains(&status) {
        return Err(format!("the feed's server answered {status}"));
    }
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_FEED_BYTES)
        .read_to_vec()
        .map_err(|e| format!("the feed could not be read (at most {MAX_FEED_BYTES} bytes): {e}"))?;
    let feed = feed_rs::parser::parse(&body[..]).map_err(|e| format!("the feed is not RSS or Atom: {e}"))?;
    let entries = feed
        .entries
        .into_iter()
        .take(MAX_ENTRIES)
        .map(|e| FeedEntry {
            title: e.title.map(|t| t.content).unwrap_or_default(),
            link: e.links.into_iter().next().map(|l| l.href),
            id: e.id,
        })
        .collect();
    Ok(FeedFetch::Fetched { etag, last_modified, entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_a_feed_is_found_for_the_address_check() {
        assert_eq!(host_port("https://example.org/feed.xml"), Some(("example.org".into(), 443)));
        assert_eq!(host_port("http://user@10.0.0.1:8080/x?y"), Some(("10.0.0.1".into(), 8080)));
        assert_eq!(host_port("http://[::1]:81/"), Some(("::1".into(), 81)));
        assert!(private("127.0.0.1".parse().unwrap()) && private("192.168.1.2".parse().unwrap()));
        assert!(private("::ffff:10.1.2.3".parse().unwrap()) && private("fd00::1".parse().unwrap()));
        assert!(!private("93.184.216.34".parse().unwrap()));
    }
}
