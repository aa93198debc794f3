//! Cold start: from starting the relay process on its data to the first successful login, on a database with two
//! people and on one holding `stored` messages besides (written straight through the storage layer, in large
//! transactions, so that filling it does not take as long as sending them would).

use std::time::Instant;

use anyhow::{Context, Result};
use huddle_relay::storage::{IntegrityCheck, Mutation, SqliteStorage, Storage};
use huddle_shared::model::{Message, RequestAnswer};
use huddle_shared::{Address, RelayName};
use huddle_tests::Client;

pub async fn compare(stored: u64, pin: bool) -> Result<()> {
    println!();
    println!("cold start — from starting the relay process to the first login answered");
    let empty = crate::DataDir::new("cold-empty")?;
    prepare(&empty, pin).await?;
    let full = crate::DataDir::new("cold-full")?;
    prepare(&full, pin).await?;
    let filling = Instant::now();
    fill(&full, stored)?;
    println!("  ({stored} messages stored in {:.1} s)", filling.elapsed().as_secs_f64());
    check_alone(&full)?;
    // Warm: the files are in the page cache, as after any earlier start; the median of 5.
    let mut rows = Vec::new();
    for (name, dir) in [("no messages", &empty), ("with the messages", &full)] {
        let mut times = Vec::new();
        for _ in 0..5 {
            times.push(first_login(dir, pin).await?);
        }
        times.sort();
        rows.push((name, times[times.len() / 2]));
    }
    for (name, t) in rows {
        println!("  {name:<20} {:>8.1} ms", t.as_secs_f64() * 1000.0);
    }
    Ok(())
}

/// The part of a start that reads the whole file for damage (`PRAGMA quick_check`, on unless
/// `check_database_at_start = false`), timed on its own: an open with the check less one without, median of 3.
fn check_alone(dir: &crate::DataDir) -> Result<()> {
    let name = RelayName::parse(huddle_tests::RELAY_NAME).context("the relay's name")?;
    let path = dir.path().join("relay.db");
    let mut took = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        drop(SqliteStorage::open_with(&path, &name, IntegrityCheck::Quick)?);
        let checked = started.elapsed();
        let started = Instant::now();
        drop(SqliteStorage::open_with(&path, &name, IntegrityCheck::Skip)?);
        took.push(checked.saturating_sub(started.elapsed()));
    }
    took.sort();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "  (the start-up check, PRAGMA quick_check, of that {:.0} MB file: {:.0} ms)",
        size as f64 / 1e6,
        took[1].as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Two people who are friends.
async fn prepare(dir: &crate::DataDir, pin: bool) -> Result<()> {
    let relay = dir.relay(pin)?;
    let mut a = Client::user_at(relay.addr, "ann").await;
    let mut b = Client::user_at(relay.addr, "ben").await;
    huddle_tests::befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    drop((a, b));
    relay.stop()
}

/// `count` messages from ann to ben, numbered and sequenced after what is stored.
fn fill(dir: &crate::DataDir, count: u64) -> Result<()> {
    let name = RelayName::parse(huddle_tests::RELAY_NAME).context("the relay's name")?;
    let mut storage = SqliteStorage::open(&dir.path().join("relay.db"), &name)?;
    let snapshot = storage.load()?;
    let ann = Address::parse(&format!("ann@{name}")).context("ann")?;
    let ben = Address::parse(&format!("ben@{name}")).context("ben")?;
    let room = huddle_relay::ids::direct_room_id(&ann, &ben);
    let head = |who: &Address| snapshot.heads.iter().find(|(h, _)| *h == who.handle).map_or(0, |(_, s)| *s);
    let (ann_head, ben_head) = (head(&ann), head(&ben));
    let number = snapshot.room_counts.iter().find(|(r, _)| *r == room).map_or(0, |(_, n)| *n);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).context("the clock")?;
    let start = i64::try_from(now.as_millis()).unwrap_or(i64::MAX) - i64::try_from(count).unwrap_or(0);
    for i in 1..=count {
        let at = start + i64::try_from(i).unwrap_or(0);
        let message = Message {
            id: huddle_relay::ids::new_message_id(at),
            room: room.clone(),
            from: ann.clone(),
            to: Some(ben.clone()),
            body: format!("stored message {i}, about a hundred bytes long like the rest of the benchmark's bodies."),
            sent_at: at,
            client_msg_id: format!("fill-{i}"),
            receipts: false,
        };
        let deliveries = vec![(ann.handle.clone(), ann_head + i), (ben.handle.clone(), ben_head + i)];
        storage.apply(&Mutation::StoreMessage { message, number: number + i, deliveries })?;
        if i % 50_000 == 0 {
            storage.commit()?;
        }
    }
    storage.commit()?;
    Ok(())
}

async fn first_login(dir: &crate::DataDir, pin: bool) -> Result<std::time::Duration> {
    let started = Instant::now();
    let relay = dir.relay(pin)?;
    let mut c = Client::connect(relay.addr).await;
    c.hello().await;
    c.login("ben").await;
    let took = started.elapsed();
    drop(c);
    relay.stop()?;
    Ok(took)
}
