//! Accounts, handles, sessions and invite codes.

use huddle_shared::SessionId;
use huddle_shared::model::{InvitePolicy, Profile};

use super::*;
use crate::storage::{AccountRec, EntryRec, HistoryCursor, InviteRec, SessionRec};

fn account(id: &str, disabled: bool) -> AccountRec {
    AccountRec { id: id.to_owned(), password_phc: format!("$argon2id$v=19${id}"), created_at: -5, disabled }
}

fn session(id: &str, account: &str, device: Option<&str>) -> SessionRec {
    SessionRec {
        id: SessionId::new(id),
        account: account.to_owned(),
        token_hash: format!("hash-of-{id}"),
        device: device.map(str::to_owned),
        created_at: 10,
        last_used_at: 20,
    }
}

pub fn empty_storage_loads_nothing(s: &mut dyn Storage) {
    assert_eq!(load(s), Snapshot::default());
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(s.find_client_msg(&addr("alice"), "x").unwrap(), None);
    let page = s.history(&dm("alice", "bob"), 0, HistoryCursor::Latest, 10).unwrap();
    assert_eq!(page, Some(HistoryPage { messages: vec![], more: false }));
    // A commit with nothing applied is fine.
    s.commit().unwrap();
}

pub fn account_records_put_overwrite_delete(s: &mut dyn Storage) {
    let mut acc1 = account("acc-1", false);
    let acc2 = account("acc-2", true);
    let mut h_alice = handle_rec("alice", "acc-1", 0);
    let h_bob = HandleRec {
        profile: Profile { display_name: Some("Bob B.".to_owned()), bio: Some("likes \"quotes\"".to_owned()) },
        activity: Some("coding".to_owned()),
        location: Some("Lyon".to_owned()),
        last_seen: Some(1_234),
        acked: 1 << 40,
        ..handle_rec("bob", "acc-2", 1)
    };
    let s1 = session("s1", "acc-1", Some("laptop"));
    let s2 = session("s2", "acc-2", None);
    let inv1 = InviteRec { code: "inv-1".to_owned(), created_at: 1, used_by: None, revoked: false };
    let inv2 = InviteRec { code: "inv-2".to_owned(), created_at: 2, used_by: Some("acc-2".to_owned()), revoked: true };
    apply_all(
        s,
        &[
            Mutation::PutAccount(acc1.clone()),
            Mutation::PutAccount(acc2.clone()),
            Mutation::PutHandle(h_alice.clone()),
            Mutation::PutHandle(h_bob.clone()),
            Mutation::PutSession(s1.clone()),
            Mutation::PutSession(s2.clone()),
            Mutation::PutInvite(inv1.clone()),
            Mutation::PutInvite(inv2.clone()),
        ],
    );
    let snapshot = |accounts, handles, sessions, invites| {
        normalized(Snapshot { accounts, handles, sessions, invites, ..Snapshot::default() })
    };
    assert_eq!(
        load(s),
        snapshot(
            vec![acc1.clone(), acc2.clone()],
            vec![h_alice.clone(), h_bob.clone()],
            vec![s1.clone(), s2.clone()],
            vec![inv1.clone(), inv2.clone()]
        )
    );

    // Overwrites replace the whole record, keyed by its key only.
    acc1.disabled = true;
    acc1.password_phc = "$argon2id$new".to_owned();
    h_alice.profile = Profile { display_name: Some("Alice".to_owned()), bio: None };
    h_alice.acked = 42;
    h_alice.last_seen = Some(-1);
    h_alice.position = 3;
    let s1b = SessionRec { device: None, last_used_at: 99, ..s1.clone() };
    let inv1b = InviteRec { used_by: Some("acc-1".to_owned()), ..inv1.clone() };
    apply_all(
        s,
        &[
            Mutation::PutAccount(acc1.clone()),
            Mutation::PutHandle(h_alice.clone()),
            Mutation::PutSession(s1b.clone()),
            Mutation::PutInvite(inv1b.clone()),
        ],
    );
    assert_eq!(
        load(s),
        snapshot(
            vec![acc1.clone(), acc2.clone()],
            vec![h_alice.clone(), h_bob.clone()],
            vec![s1b, s2.clone()],
            vec![inv1b.clone(), inv2.clone()]
        )
    );

    // Deleting a session removes exactly it; deleting one that is not there is not an error.
    apply_all(
        s,
        &[Mutation::DeleteSession { id: SessionId::new("s1") }, Mutation::DeleteSession { id: SessionId::new("nope") }],
    );
    assert_eq!(load(s), snapshot(vec![acc1, acc2], vec![h_alice, h_bob], vec![s2], vec![inv1b, inv2]));
}

pub fn invite_policy_round_trips(s: &mut dyn Storage) {
    let policies = [InvitePolicy::Auto, InvitePolicy::Ask, InvitePolicy::Refuse];
    let mut handles: Vec<HandleRec> = policies
        .iter()
        .enumerate()
        .map(|(i, &invite_policy)| HandleRec { invite_policy, ..handle_rec(&format!("h{i}"), "acc", i as u32) })
        .collect();
    apply_all(s, &handles.iter().cloned().map(Mutation::PutHandle).collect::<Vec<_>>());
    assert_eq!(load(s).handles, handles);
    // A changed policy replaces the old one, in both directions.
    handles[0].invite_policy = InvitePolicy::Refuse;
    handles[2].invite_policy = InvitePolicy::Auto;
    apply_all(s, &[Mutation::PutHandle(handles[0].clone()), Mutation::PutHandle(handles[2].clone())]);
    assert_eq!(load(s).handles, handles);
}

pub fn remove_handle_takes_its_stream_and_retires_the_name(s: &mut dyn Storage) {
    let m1 = message("m1", "alice", "bob", 1);
    let h_alice = handle_rec("alice", "acc", 0);
    let h_bob = handle_rec("bob", "acc", 1);
    let entry =
        EntryRec { owner: addr("bob"), peer: addr("alice"), nickname: None, note: None, since: 1, removed_you: false };
    apply_all(
        s,
        &[
            Mutation::PutHandle(h_alice),
            Mutation::PutHandle(h_bob.clone()),
            Mutation::PutEntry(entry.clone()),
            store(&m1, 1, &[("alice", 1), ("bob", 1)]),
            append_event("alice", 2, 2, Event::HandleRemoved { peer: addr("carol") }),
        ],
    );
    apply_all(s, &[Mutation::RemoveHandle(handle("alice"))]);
    let snap = load(s);
    assert_eq!(snap.handles, vec![h_bob]);
    assert_eq!(snap.retired, vec![handle("alice")]);
    assert_eq!(snap.heads, vec![(handle("bob"), 1)]);
    // Other records are the core's to clean up; storage removes only the handle and its stream.
    assert_eq!(snap.entries, vec![entry]);
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(s.stream_page(&addr("bob"), 0, u64::MAX, 100).unwrap(), vec![message_item(1, &m1)]);
    // Removing a handle that has no record still retires the name.
    apply_all(s, &[Mutation::RemoveHandle(handle("ghost"))]);
    assert_eq!(load(s).retired, vec![handle("alice"), handle("ghost")]);
}
