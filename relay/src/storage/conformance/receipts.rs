//! Receipt records and receipt reports in streams.

use huddle_shared::model::{Receipt, ReceiptState};

use super::*;
use crate::storage::HistoryCursor;

/// Receipts of "m1" (alice to bob) and of room message "ga" (alice to bob, carol, and dave who blocked her: no seq).
fn receipts_setup(s: &mut dyn Storage) -> Vec<ReceiptRec> {
    let g = room("g1");
    let records = vec![
        receipt_rec("m1", "bob", "alice", &dm("alice", "bob"), Some(1)),
        receipt_rec("ga", "carol", "alice", &g, Some(1)),
        receipt_rec("ga", "bob", "alice", &g, Some(2)),
        receipt_rec("ga", "dave", "alice", &g, None),
    ];
    apply_all(s, &records.iter().cloned().map(Mutation::PutReceipt).collect::<Vec<_>>());
    records
}

pub fn receipt_records_put_and_overwrite(s: &mut dyn Storage) {
    let records = receipts_setup(s);
    assert_eq!(s.receipt(&mid("m1"), &addr("bob")).unwrap(), Some(records[0].clone()));
    assert_eq!(s.receipt(&mid("ga"), &addr("dave")).unwrap(), Some(records[3].clone()));
    // Unknown message, recipient not tracked, the same handle on another relay, the sender itself.
    assert_eq!(s.receipt(&mid("m9"), &addr("bob")).unwrap(), None);
    assert_eq!(s.receipt(&mid("m1"), &addr("carol")).unwrap(), None);
    assert_eq!(s.receipt(&mid("m1"), &addr("bob@far.example")).unwrap(), None);
    assert_eq!(s.receipt(&mid("m1"), &addr("alice")).unwrap(), None);
    // Every tracked recipient of a message, by address text, limited.
    assert_eq!(
        receipt_ids(&s.message_receipts(&mid("ga"), 10).unwrap()),
        vec![("ga", "bob"), ("ga", "carol"), ("ga", "dave")]
    );
    assert_eq!(receipt_ids(&s.message_receipts(&mid("ga"), 2).unwrap()), vec![("ga", "bob"), ("ga", "carol")]);
    assert_eq!(s.message_receipts(&mid("ga"), 0).unwrap(), vec![]);
    assert_eq!(s.message_receipts(&mid("m9"), 10).unwrap(), vec![]);

    // An upsert replaces the whole record.
    let delivered = ReceiptRec { delivered_at: Some(-7), ..records[0].clone() };
    apply_all(s, &[Mutation::PutReceipt(delivered.clone())]);
    assert_eq!(s.receipt(&mid("m1"), &addr("bob")).unwrap(), Some(delivered.clone()));
    let read = ReceiptRec { read_at: Some(9), ..delivered };
    apply_all(s, &[Mutation::PutReceipt(read.clone())]);
    assert_eq!(s.message_receipts(&mid("m1"), 10).unwrap(), vec![read]);
    // Nothing of it is loaded into memory.
    assert_eq!(load(s), Snapshot::default());
}

pub fn undelivered_receipts_by_stream_range(s: &mut dyn Storage) {
    let mut records = receipts_setup(s);
    for (n, id) in ["b3", "b4", "b5", "b6"].into_iter().enumerate() {
        records.push(receipt_rec(id, "bob", "carol", &dm("carol", "bob"), Some(n as u64 + 3)));
    }
    // b4 was read before any ack: delivered with it.
    records[5].delivered_at = Some(40);
    records[5].read_at = Some(40);
    apply_all(s, &records[4..].iter().cloned().map(Mutation::PutReceipt).collect::<Vec<_>>());
    let bob = addr("bob");
    let pending = |s: &mut dyn Storage, after, upto, limit| {
        receipt_ids(&s.undelivered_receipts(&bob, after, upto, limit).unwrap())
            .into_iter()
            .map(|(id, _)| id.to_owned())
            .collect::<Vec<_>>()
    };
    // In bob's stream order, whatever the order they were tracked in; never the read one.
    assert_eq!(pending(s, 0, u64::MAX, 100), vec!["m1", "ga", "b3", "b5", "b6"]);
    assert_eq!(pending(s, 1, 5, 100), vec!["ga", "b3", "b5"]);
    assert_eq!(pending(s, 0, u64::MAX, 2), vec!["m1", "ga"]);
    assert_eq!(pending(s, 2, u64::MAX, 2), vec!["b3", "b5"]);
    assert_eq!(pending(s, 6, u64::MAX, 100), Vec::<String>::new());
    assert_eq!(pending(s, 3, 3, 100), Vec::<String>::new());
    assert_eq!(pending(s, 0, 9, 0), Vec::<String>::new());
    assert_eq!(s.undelivered_receipts(&bob, 0, 1, 10).unwrap(), vec![records[0].clone()]);
    // Per recipient; a record without a seq (dave never got "ga") is never pending.
    assert_eq!(receipt_ids(&s.undelivered_receipts(&addr("carol"), 0, 9, 9).unwrap()), vec![("ga", "carol")]);
    assert_eq!(s.undelivered_receipts(&addr("dave"), 0, u64::MAX, 9).unwrap(), vec![]);
    assert_eq!(s.undelivered_receipts(&addr("alice"), 0, u64::MAX, 9).unwrap(), vec![]);
    assert_eq!(s.latest_undelivered_receipt(&bob).unwrap(), Some(6));
    assert_eq!(s.latest_undelivered_receipt(&addr("carol")).unwrap(), Some(1));
    assert_eq!(s.latest_undelivered_receipt(&addr("dave")).unwrap(), None, "a record without a seq is not pending");
    assert_eq!(s.latest_undelivered_receipt(&addr("alice")).unwrap(), None);

    // Delivering takes a record out of the range at once, before the commit too.
    s.apply(&Mutation::PutReceipt(ReceiptRec { delivered_at: Some(50), ..records[4].clone() })).unwrap();
    assert_eq!(pending(s, 0, u64::MAX, 100), vec!["m1", "ga", "b5", "b6"]);
    s.apply(&Mutation::PutReceipt(ReceiptRec { delivered_at: Some(50), ..records[7].clone() })).unwrap();
    assert_eq!(s.latest_undelivered_receipt(&bob).unwrap(), Some(5), "b6 delivered: b5 is the latest");
    s.commit().unwrap();
    assert_eq!(s.receipt(&mid("b3"), &bob).unwrap().and_then(|r| r.delivered_at), Some(50));
}

/// alice: 1 her message m1 with receipts, 2 a delivered receipt from bob, 3 a room read receipt from carol.
pub fn receipt_items_in_streams(s: &mut dyn Storage) {
    let m1 = Message { receipts: true, ..message("m1", "alice", "bob", 10) };
    let ga = Message { receipts: true, ..room_message("ga", "g1", "carol", 11) };
    let delivered = Receipt {
        by: addr("bob"),
        state: ReceiptState::Delivered,
        message_ids: vec![mid("m1"), mid("m0")],
        room: dm("alice", "bob"),
    };
    let read = Receipt {
        by: addr("carol@far.example"),
        state: ReceiptState::Read,
        message_ids: vec![mid("g ✓")],
        room: room("g1"),
    };
    let receipt = |seq, at, receipt| StreamItem { seq, at, body: ItemBody::Receipt { receipt } };
    apply_all(
        s,
        &[
            store(&m1, 1, &[("alice", 1), ("bob", 1)]),
            Mutation::AppendItem { handle: handle("alice"), item: receipt(2, 20, delivered.clone()) },
            Mutation::AppendItem { handle: handle("alice"), item: receipt(3, 30, read.clone()) },
            store(&ga, 1, &[("carol", 1), ("bob", 2)]),
        ],
    );
    assert_eq!(
        s.stream_page(&addr("alice"), 0, u64::MAX, 10).unwrap(),
        vec![message_item(1, &m1), receipt(2, 20, delivered), receipt(3, 30, read)]
    );
    assert_eq!(load(s).heads, vec![(handle("alice"), 3), (handle("bob"), 2), (handle("carol"), 1)]);
    // Messages keep their receipts flag wherever they are read.
    assert_eq!(s.stream_page(&addr("bob"), 0, 9, 9).unwrap(), vec![message_item(1, &m1), message_item(2, &ga)]);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m1").unwrap(), Some((m1.clone(), 1)));
    assert_eq!(s.find_client_msg(&addr("carol"), "client-ga").unwrap(), Some((ga.clone(), 1)));
    let page = s.history(&dm("bob", "alice"), 0, HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![m1]);
    let page = s.history(&room("g1"), 0, HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![ga]);
}

pub fn receipts_survive_handle_removal(s: &mut dyn Storage) {
    let records = receipts_setup(s);
    let report =
        Receipt { by: addr("bob"), state: ReceiptState::Read, message_ids: vec![mid("m1")], room: dm("alice", "bob") };
    apply_all(
        s,
        &[
            Mutation::AppendItem {
                handle: handle("alice"),
                item: StreamItem { seq: 1, at: 5, body: ItemBody::Receipt { receipt: report } },
            },
            Mutation::RemoveHandle(handle("alice")),
            Mutation::RemoveHandle(handle("bob")),
        ],
    );
    // The stream goes with the handle; the records are the core's to keep or drop, as other records are.
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 9).unwrap(), vec![]);
    assert_eq!(s.message_receipts(&mid("ga"), 9).unwrap().len(), 3);
    assert_eq!(
        s.undelivered_receipts(&addr("bob"), 0, u64::MAX, 9).unwrap(),
        vec![records[0].clone(), records[2].clone()]
    );
}
