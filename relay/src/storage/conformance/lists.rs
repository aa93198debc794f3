//! Friend lists: entries, requests, deletion records, blocks — edges between addresses, local or remote.

use huddle_shared::model::DeletionState;

use super::*;
use crate::storage::{BlockRec, DeletionRec, EntryRec, RequestRec};

pub fn list_records_put_overwrite_delete(s: &mut dyn Storage) {
    let (alice, bob, remote) = (addr("alice"), addr("bob"), addr("zed@far.example"));
    let e1 = EntryRec {
        owner: alice.clone(),
        peer: bob.clone(),
        nickname: Some("bobby".to_owned()),
        note: Some("met at school".to_owned()),
        since: 100,
        removed_you: false,
    };
    let e2 = EntryRec {
        owner: alice.clone(),
        peer: remote.clone(),
        nickname: None,
        note: None,
        since: 101,
        removed_you: true,
    };
    let r1 = RequestRec { from: bob.clone(), to: alice.clone(), greeting: Some("hi".to_owned()), at: 5 };
    let r2 = RequestRec { from: remote.clone(), to: bob.clone(), greeting: None, at: 6 };
    let d1 = DeletionRec { deleter: alice.clone(), deleted: bob.clone(), state: DeletionState::Deleted, at: 7 };
    let d2 = DeletionRec { deleter: bob.clone(), deleted: remote.clone(), state: DeletionState::Requested, at: 8 };
    let b1 = BlockRec { owner: alice.clone(), target: remote.clone(), at: 9 };
    let b2 = BlockRec { owner: bob.clone(), target: alice.clone(), at: 10 };
    apply_all(
        s,
        &[
            Mutation::PutEntry(e1.clone()),
            Mutation::PutEntry(e2.clone()),
            Mutation::PutRequest(r1.clone()),
            Mutation::PutRequest(r2.clone()),
            Mutation::PutDeletion(d1.clone()),
            Mutation::PutDeletion(d2.clone()),
            Mutation::PutBlock(b1.clone()),
            Mutation::PutBlock(b2.clone()),
        ],
    );
    let snapshot = |entries, requests, deletions, blocks| {
        normalized(Snapshot { entries, requests, deletions, blocks, ..Snapshot::default() })
    };
    assert_eq!(
        load(s),
        snapshot(
            vec![e1.clone(), e2.clone()],
            vec![r1.clone(), r2.clone()],
            vec![d1.clone(), d2.clone()],
            vec![b1.clone(), b2.clone()]
        )
    );

    // Overwrites replace the whole record, keyed by its key only.
    let e1b = EntryRec { nickname: None, removed_you: true, ..e1.clone() };
    let r1b = RequestRec { greeting: None, at: 55, ..r1.clone() };
    let d1b = DeletionRec { state: DeletionState::Refused, ..d1.clone() };
    let d2b = DeletionRec { state: DeletionState::Notified, ..d2.clone() };
    let b1b = BlockRec { at: 99, ..b1.clone() };
    apply_all(
        s,
        &[
            Mutation::PutEntry(e1b.clone()),
            Mutation::PutRequest(r1b.clone()),
            Mutation::PutDeletion(d1b.clone()),
            Mutation::PutDeletion(d2b.clone()),
            Mutation::PutBlock(b1b.clone()),
        ],
    );
    assert_eq!(
        load(s),
        snapshot(vec![e1b, e2.clone()], vec![r1b, r2.clone()], vec![d1b, d2b.clone()], vec![b1b, b2.clone()])
    );

    // Deletes remove exactly the keyed record; deleting what is not there is not an error.
    apply_all(
        s,
        &[
            Mutation::DeleteEntry { owner: alice.clone(), peer: bob.clone() },
            Mutation::DeleteRequest { from: bob.clone(), to: alice.clone() },
            Mutation::DeleteDeletion { deleter: alice.clone(), deleted: bob.clone() },
            Mutation::DeleteBlock { owner: alice.clone(), target: remote.clone() },
            // Reversed keys name other records, which do not exist.
            Mutation::DeleteEntry { owner: remote.clone(), peer: alice.clone() },
            Mutation::DeleteRequest { from: alice.clone(), to: remote.clone() },
            Mutation::DeleteDeletion { deleter: remote.clone(), deleted: bob.clone() },
            Mutation::DeleteBlock { owner: alice.clone(), target: bob.clone() },
        ],
    );
    assert_eq!(load(s), snapshot(vec![e2], vec![r2], vec![d2b], vec![b2]));
}

pub fn every_deletion_state_round_trips(s: &mut dyn Storage) {
    let states = [DeletionState::Deleted, DeletionState::Notified, DeletionState::Requested, DeletionState::Refused];
    let recs: Vec<DeletionRec> = states
        .iter()
        .enumerate()
        .map(|(i, &state)| DeletionRec { deleter: addr("alice"), deleted: addr(&format!("peer{i}")), state, at: 1 })
        .collect();
    apply_all(s, &recs.iter().cloned().map(Mutation::PutDeletion).collect::<Vec<_>>());
    assert_eq!(load(s).deletions, recs);
}
