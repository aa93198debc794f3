//! What the relay sustains for huddles, on SQLite in a temporary file, each operation committed as the relay commits
//! a batch:
//!
//! - `form/N`: an issue published to a topic of N subscribers (all put in its huddle: N memberships and N `formed`
//!   lines in N streams, one commit);
//! - `fan_out/N`: one message in a running huddle of N members (N stream items, one commit);
//! - `form_small`: huddles of 10 forming one after the other (the rate a relay forms huddles at).
//!
//! Run with `cargo bench -p huddle-relay --bench huddles`; figures are in docs/relay.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use huddle_relay::config::Config;
use huddle_relay::core::domain::messages::{Outgoing, Target};
use huddle_relay::core::domain::topics::{IssueDraft, NewTopic, Publisher};
use huddle_relay::core::{Core, CoreConfig};
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::{HandleRec, Mutation, SqliteStorage, SubscriptionRec};
use huddle_shared::model::{EndReason, TopicId};
use huddle_shared::{Address, Handle, Millis, RelayName, RoomId};

const NOW: Millis = 1_800_000_000_000;

struct Bench {
    core: Core<SqliteStorage>,
    owner: Address,
    topic: TopicId,
    now: Millis,
    _dir: tempfile::TempDir,
}

fn config() -> CoreConfig {
    huddle_relay::net::core_config(&Config::default(), PasswordParams::insecure_for_tests()).expect("core config")
}

/// A relay with `subscribers` handles subscribed to one topic that includes offline subscribers (so nobody needs a
/// connection to be put in its huddles).
fn relay(subscribers: usize) -> Bench {
    let dir = tempfile::tempdir().expect("temporary directory");
    let relay = RelayName::parse("bench.example").expect("relay name");
    let storage = SqliteStorage::open(&dir.path().join("relay.db"), &relay).expect("storage");
    let mut core = Core::new(storage, relay.clone(), config()).expect("core");
    let address = |name: &str| Address::new(Handle::parse(name).expect("handle"), relay.clone());
    let owner = address("owner");
    let topic = TopicId::parse("bench").expect("topic id");
    let world = core.world();
    for i in 0..=subscribers {
        let name = if i == 0 { "owner".to_owned() } else { format!("s{i}") };
        let handle = Handle::parse(&name).expect("handle");
        world.write(Mutation::PutHandle(HandleRec::new(handle, format!("acct-{i}"), 0, NOW))).expect("handle");
    }
    let new = NewTopic {
        id: topic.clone(),
        title: "Bench".into(),
        description: None,
        duration_ms: Some(3_600_000),
        include_offline: true,
    };
    world.create_topic(&owner, new, NOW).expect("topic");
    for i in 1..=subscribers {
        let sub = SubscriptionRec {
            topic: topic.clone(),
            subscriber: address(&format!("s{i}")),
            duration_ms: None,
            since: NOW,
        };
        world.write(Mutation::PutSubscription(sub)).expect("subscription");
    }
    core.commit().expect("commit");
    Bench { core, owner, topic, now: NOW, _dir: dir }
}

impl Bench {
    /// Publishes an issue; returns its huddle.
    fn publish(&mut self) -> RoomId {
        self.now += 1;
        let (topic, owner) = (self.topic.clone(), self.owner.clone());
        let draft = IssueDraft { title: "Issue".into(), body: None, link: None };
        let acted =
            self.core.act(self.now, |w, now| w.publish(&topic, Publisher::Handle(owner), draft, now)).expect("storage");
        self.core.commit().expect("commit");
        acted.result.ok().and_then(|p| p.room).expect("a huddle formed")
    }

    fn end(&mut self, room: &RoomId) {
        self.now += 1;
        let room = room.clone();
        self.core.act(self.now, |w, now| w.end_huddle(&room, EndReason::Time, now)).expect("storage");
        self.core.commit().expect("commit");
    }
}

/// Times `op` only, `iters` times, with `after` (untimed) after each.
fn timed(iters: u64, mut op: impl FnMut() -> RoomId, mut after: impl FnMut(RoomId)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let room = op();
        total += start.elapsed();
        after(room);
    }
    total
}

fn forming(c: &mut Criterion) {
    let mut group = c.benchmark_group("form");
    group.sample_size(10);
    for n in [100usize, 1_000] {
        let bench = std::cell::RefCell::new(relay(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| timed(iters, || bench.borrow_mut().publish(), |room| bench.borrow_mut().end(&room)));
        });
    }
    group.finish();
    let mut small = c.benchmark_group("form_small");
    let bench = std::cell::RefCell::new(relay(10));
    small.throughput(Throughput::Elements(1));
    small.bench_function("10_members", |b| {
        b.iter_custom(|iters| timed(iters, || bench.borrow_mut().publish(), |room| bench.borrow_mut().end(&room)));
    });
    small.finish();
}

fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("fan_out");
    group.sample_size(10);
    for n in [100usize, 1_000] {
        let mut bench = relay(n);
        let room = bench.publish();
        let sender = bench.owner.clone();
        let mut next = 0u64;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                next += 1;
                bench.now += 1;
                let (room, sender) = (room.clone(), sender.clone());
                let id = format!("m{next}");
                bench
                    .core
                    .act(bench.now, |w, now| {
                        w.post(
                            &sender,
                            &Target::Room(room),
                            Outgoing { body: "hello all".into(), client_msg_id: id, receipts: false },
                            now,
                            |_, _| Ok(()),
                        )
                    })
                    .expect("storage");
                bench.core.commit().expect("commit");
            });
        });
    }
    group.finish();
}

criterion_group!(benches, forming, fan_out);
criterion_main!(benches);
