//! The in-process parts of delivering a message, each alone (the whole path, sockets included, is measured beside a
//! bare server by `huddle-bench`):
//!
//! - `codec/decode_send`, `codec/encode_deliver`: a `send` frame read, a `deliver` frame written;
//! - `core/post`: the core handling one message (rules, numbering, the SQL statements, stream items), uncommitted;
//! - `batch/256`: 256 messages and the commit that makes them durable, as the core loop does per batch.
//!
//! Run with `cargo bench -p huddle-relay --bench delivery`; figures are in docs/relay.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huddle_relay::config::Config;
use huddle_relay::core::domain::messages::{Outgoing, Target};
use huddle_relay::core::domain::topics::{IssueDraft, NewTopic, Publisher};
use huddle_relay::core::{Core, CoreConfig};
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::{HandleRec, Mutation, SqliteStorage, SubscriptionRec};
use huddle_shared::codec::{decode_client, encode_server};
use huddle_shared::model::{ItemBody, Message, StreamItem, TopicId};
use huddle_shared::{Address, Handle, Millis, RelayName, RoomId, ServerFrame};

const NOW: Millis = 1_800_000_000_000;
const BODY: &str = "a message of about a hundred bytes, which is what people write in a chat most of the time, ok?";

struct Room {
    core: Core<SqliteStorage>,
    writer: Address,
    room: RoomId,
    now: Millis,
    sent: u64,
    _dir: tempfile::TempDir,
}

/// Two people in a room (a huddle of a topic both subscribe to: no friendship needed), on SQLite in a file.
fn room() -> Room {
    let dir = tempfile::tempdir().expect("temporary directory");
    let relay = RelayName::parse("bench.example").expect("relay name");
    let storage = SqliteStorage::open(&dir.path().join("relay.db"), &relay).expect("storage");
    let config: CoreConfig =
        huddle_relay::net::core_config(&Config::default(), PasswordParams::insecure_for_tests()).expect("config");
    let mut core = Core::new(storage, relay.clone(), config).expect("core");
    let address = |name: &str| Address::new(Handle::parse(name).expect("handle"), relay.clone());
    let topic = TopicId::parse("bench").expect("topic id");
    let world = core.world();
    for (i, name) in ["owner", "ann", "ben"].into_iter().enumerate() {
        let handle = Handle::parse(name).expect("handle");
        world.write(Mutation::PutHandle(HandleRec::new(handle, format!("acct-{i}"), 0, NOW))).expect("handle");
    }
    let new = NewTopic {
        id: topic.clone(),
        title: "Bench".into(),
        description: None,
        duration_ms: None,
        include_offline: true,
    };
    world.create_topic(&address("owner"), new, NOW).expect("topic");
    for name in ["ann", "ben"] {
        let sub = SubscriptionRec { topic: topic.clone(), subscriber: address(name), duration_ms: None, since: NOW };
        world.write(Mutation::PutSubscription(sub)).expect("subscription");
    }
    let draft = IssueDraft { title: "Go".into(), body: None, link: None };
    let owner = address("owner");
    let acted = core.act(NOW, |w, now| w.publish(&topic, Publisher::Handle(owner), draft, now)).expect("storage");
    core.commit().expect("commit");
    let room = acted.result.ok().and_then(|p| p.room).expect("a huddle formed");
    Room { core, writer: address("ann"), room, now: NOW, sent: 0, _dir: dir }
}

impl Room {
    fn post(&mut self) {
        self.now += 1;
        self.sent += 1;
        let (writer, target) = (self.writer.clone(), Target::Room(self.room.clone()));
        let id = format!("b{}", self.sent);
        let acted = self.core.act(self.now, |w, now| {
            w.post(&writer, &target, Outgoing { body: BODY.into(), client_msg_id: id, receipts: false }, now, |_, _| {
                Ok(())
            })
        });
        assert!(acted.expect("storage").result.is_ok());
    }
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    let send = format!(
        r#"{{"type":"send","id":7,"room":"0190b5a2-0000-7000-8000-000000000000@localhost","body":"{BODY}","client_msg_id":"b7"}}"#
    );
    group.bench_function("decode_send", |b| b.iter(|| decode_client(std::hint::black_box(&send)).expect("valid")));
    let message = Message {
        id: huddle_relay::ids::new_message_id(NOW),
        room: RoomId::parse("0190b5a2-0000-7000-8000-000000000000@localhost").expect("room id"),
        from: Address::parse("ann@localhost").expect("address"),
        to: None,
        body: BODY.into(),
        sent_at: NOW,
        client_msg_id: "b7".into(),
        receipts: false,
    };
    let deliver = ServerFrame::Deliver {
        acting: Address::parse("ben@localhost").expect("address"),
        item: StreamItem { seq: 12, at: NOW, body: ItemBody::Message { message } },
    };
    group.bench_function("encode_deliver", |b| b.iter(|| encode_server(std::hint::black_box(&deliver))));
    group.finish();
}

fn core_post(c: &mut Criterion) {
    let mut group = c.benchmark_group("core");
    let mut room = room();
    group.throughput(Throughput::Elements(1));
    group.bench_function("post", |b| {
        b.iter(|| room.post());
    });
    // What the loop above left uncommitted.
    room.core.commit().expect("commit");
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.sample_size(20);
    let mut room = room();
    group.throughput(Throughput::Elements(256));
    group.bench_function("256", |b| {
        b.iter(|| {
            for _ in 0..256 {
                room.post();
            }
            room.core.commit().expect("commit");
        });
    });
    group.finish();
}

criterion_group!(benches, codec, core_post, batch);
criterion_main!(benches);
