//! Costs that must not grow with the data: a history page walks the room's index from its cursor, and an
//! acknowledgement reads only receipts still to be delivered. Counted in SQLite VM steps, which are exact.

use super::super::receipts::RECEIPTS_UNDELIVERED;
use super::super::streams::{HISTORY_NEWER, HISTORY_OLDER};
use super::*;

fn plan(s: &SqliteStorage, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
    let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    stmt.query_map(params, |r| r.get(3)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn history_pages_cost_the_same_anywhere_in_a_long_room() {
    // A page walks the (room, number) index from the cursor: no sort of the room, no scan from its start or from
    // `since`. A page near the start costs what a page near the end does.
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    for n in 1..=2000u64 {
        s.apply(&store(group_message(&format!("g{n}"), "alice"), n, &[("alice", n)])).unwrap();
    }
    // Another room's messages interleaved in the table must not be stepped over either.
    for n in 1..=500u64 {
        s.apply(&store(Message { room: room("other"), ..group_message(&format!("o{n}"), "bob") }, n, &[("bob", n)]))
            .unwrap();
    }
    s.commit().unwrap();
    for sql in [HISTORY_OLDER, HISTORY_NEWER] {
        let steps = plan(&s, sql, rusqlite::params![room("g").as_str(), 0, 5, 3]);
        assert!(steps.iter().any(|step| step.contains("USING INDEX messages_room")), "{sql}: {steps:?}");
        assert!(!steps.iter().any(|step| step.contains("TEMP B-TREE")), "{sql}: {steps:?}");

        let vm_steps = |since: i64, at: i64| {
            let mut stmt = s.conn.prepare(sql).unwrap();
            let rows = stmt.query_map(rusqlite::params![room("g").as_str(), since, at, 4], |r| r.get::<_, String>(0));
            assert_eq!(rows.unwrap().count(), 4);
            stmt.get_status(rusqlite::StatementStatus::VmStep)
        };
        let near_start = vm_steps(0, 10);
        for (since, at) in [(0, 1000), (0, 1990), (1000, 1990), (1980, 1990)] {
            assert_eq!(vm_steps(since, at), near_start, "{sql}: since {since}, at {at}");
        }
    }
}

#[test]
fn acknowledging_reads_only_receipts_still_to_be_delivered() {
    // The ack query seeks the partial index: however many receipts were delivered before, it steps over none of them.
    let mut s = SqliteStorage::open_in_memory(&relay()).unwrap();
    let steps = plan(&s, RECEIPTS_UNDELIVERED, rusqlite::params!["bob@home.example", 0, 10, 5]);
    assert!(steps.iter().any(|step| step.contains("USING INDEX receipts_undelivered")), "{steps:?}");
    assert!(!steps.iter().any(|step| step.contains("TEMP B-TREE")), "{steps:?}");

    let vm_steps = |s: &SqliteStorage| {
        let mut stmt = s.conn.prepare(RECEIPTS_UNDELIVERED).unwrap();
        let rows = stmt.query_map(rusqlite::params!["bob@home.example", 0, i64::MAX, 100], |r| r.get::<_, String>(0));
        assert_eq!(rows.unwrap().count(), 3);
        stmt.get_status(rusqlite::StatementStatus::VmStep)
    };
    for n in 1..=3u64 {
        s.apply(&Mutation::PutReceipt(receipt_rec(&format!("p{n}"), "bob", Some(10_000 + n)))).unwrap();
    }
    let pending_only = vm_steps(&s);
    for n in 1..=2000u64 {
        let rec = receipt_rec(&format!("d{n}"), "bob", Some(n));
        s.apply(&Mutation::PutReceipt(ReceiptRec { delivered_at: Some(1), ..rec })).unwrap();
        // A blocker's record (no seq) is not in the index either.
        s.apply(&Mutation::PutReceipt(receipt_rec(&format!("d{n}"), "dave", None))).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(vm_steps(&s), pending_only);
}
