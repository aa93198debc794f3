//! The same scenarios against every [`Storage`]: the in-memory reference, SQLite in memory and SQLite on a file.
//!
//! Each scenario states its expectations explicitly (so that a bug shared by both backends still fails), and the
//! differential property test at the end runs random mutation sequences against memory and SQLite side by side and
//! demands identical answers from every read.

use huddle_shared::model::{DeletionState, Event, ItemBody, Message, Profile, RequestAnswer, StreamItem};
use huddle_shared::{Address, Handle, RelayName};

use super::{
    AccountRec, BlockRec, DeletionRec, EntryRec, HandleRec, HistoryCursor, HistoryPage, InviteRec, MemoryStorage,
    Mutation, RequestRec, SessionRec, Snapshot, SqliteStorage, Storage,
};

const RELAY: &str = "home.example";

fn relay() -> RelayName {
    RelayName::parse(RELAY).unwrap()
}

fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

/// A local address, or a remote one when `name` has an `@`.
fn addr(name: &str) -> Address {
    Address::parse(name).unwrap().resolve(&relay())
}

/// Sorts every list by its key: the backends agree on content, not on order.
fn normalized(mut s: Snapshot) -> Snapshot {
    s.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    s.handles.sort_by(|a, b| a.handle.cmp(&b.handle));
    s.heads.sort();
    s.retired.sort();
    s.sessions.sort_by(|a, b| a.id.cmp(&b.id));
    s.invites.sort_by(|a, b| a.code.cmp(&b.code));
    s.entries.sort_by(|a, b| (&a.owner, &a.peer).cmp(&(&b.owner, &b.peer)));
    s.requests.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    s.deletions.sort_by(|a, b| (&a.deleter, &a.deleted).cmp(&(&b.deleter, &b.deleted)));
    s.blocks.sort_by(|a, b| (&a.owner, &a.target).cmp(&(&b.owner, &b.target)));
    s
}

fn load(s: &mut dyn Storage) -> Snapshot {
    normalized(s.load().unwrap())
}

fn apply_all(s: &mut dyn Storage, mutations: &[Mutation]) {
    for m in mutations {
        s.apply(m).unwrap();
    }
    s.commit().unwrap();
}

fn account(id: &str, disabled: bool) -> AccountRec {
    AccountRec { id: id.to_owned(), password_phc: format!("$argon2id$v=19${id}"), created_at: -5, disabled }
}

fn handle_rec(name: &str, account: &str, position: u32) -> HandleRec {
    HandleRec {
        handle: handle(name),
        account: account.to_owned(),
        position,
        created_at: 1_700_000_000_000,
        profile: Profile::default(),
        activity: None,
        location: None,
        last_seen: None,
        acked: 0,
    }
}

fn session(id: &str, account: &str, device: Option<&str>) -> SessionRec {
    SessionRec {
        id: id.to_owned(),
        account: account.to_owned(),
        token_hash: format!("hash-of-{id}"),
        device: device.map(str::to_owned),
        created_at: 10,
        last_used_at: 20,
    }
}

fn message(id: &str, from: &str, to: &str, at: i64) -> Message {
    Message {
        id: id.to_owned(),
        from: addr(from),
        to: addr(to),
        body: format!("body of {id} ✓"),
        sent_at: at,
        client_msg_id: format!("client-{id}"),
    }
}

fn store(m: &Message, sender_seq: u64, recipient_seq: u64) -> Mutation {
    Mutation::StoreMessage { message: m.clone(), sender_seq, recipient_seq }
}

fn event_item(seq: u64, at: i64, event: Event) -> StreamItem {
    StreamItem { seq, at, body: ItemBody::Event { event } }
}

fn message_item(seq: u64, m: &Message) -> StreamItem {
    StreamItem { seq, at: m.sent_at, body: ItemBody::Message { message: m.clone() } }
}

fn ids(page: &HistoryPage) -> Vec<&str> {
    page.messages.iter().map(|m| m.id.as_str()).collect()
}

fn seqs(items: &[StreamItem]) -> Vec<u64> {
    items.iter().map(|i| i.seq).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------------------

fn empty_storage_loads_nothing(s: &mut dyn Storage) {
    assert_eq!(load(s), Snapshot::default());
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(s.find_client_msg(&addr("alice"), "x").unwrap(), None);
    let page = s.history(&addr("alice"), &addr("bob"), HistoryCursor::Latest, 10).unwrap();
    assert_eq!(page, Some(HistoryPage { messages: vec![], more: false }));
    // A commit with nothing applied is fine.
    s.commit().unwrap();
}

fn records_put_overwrite_delete(s: &mut dyn Storage) {
    let alice = addr("alice");
    let bob = addr("bob");
    let remote = addr("zed@far.example");

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
            Mutation::PutAccount(acc1.clone()),
            Mutation::PutAccount(acc2.clone()),
            Mutation::PutHandle(h_alice.clone()),
            Mutation::PutHandle(h_bob.clone()),
            Mutation::PutSession(s1.clone()),
            Mutation::PutSession(s2.clone()),
            Mutation::PutInvite(inv1.clone()),
            Mutation::PutInvite(inv2.clone()),
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
    let expected = normalized(Snapshot {
        accounts: vec![acc1.clone(), acc2.clone()],
        handles: vec![h_alice.clone(), h_bob.clone()],
        heads: vec![],
        retired: vec![],
        sessions: vec![s1.clone(), s2.clone()],
        invites: vec![inv1.clone(), inv2.clone()],
        entries: vec![e1.clone(), e2.clone()],
        requests: vec![r1.clone(), r2.clone()],
        deletions: vec![d1.clone(), d2.clone()],
        blocks: vec![b1.clone(), b2.clone()],
    });
    assert_eq!(load(s), expected);

    // Overwrites replace the whole record, keyed by its key only.
    acc1.disabled = true;
    acc1.password_phc = "$argon2id$new".to_owned();
    h_alice.profile = Profile { display_name: Some("Alice".to_owned()), bio: None };
    h_alice.acked = 42;
    h_alice.last_seen = Some(-1);
    h_alice.position = 3;
    let s1b = SessionRec { device: None, last_used_at: 99, ..s1.clone() };
    let inv1b = InviteRec { used_by: Some("acc-1".to_owned()), ..inv1.clone() };
    let e1b = EntryRec { nickname: None, removed_you: true, ..e1.clone() };
    let r1b = RequestRec { greeting: None, at: 55, ..r1.clone() };
    let d1b = DeletionRec { state: DeletionState::Refused, ..d1.clone() };
    let d2b = DeletionRec { state: DeletionState::Notified, ..d2.clone() };
    let b1b = BlockRec { at: 99, ..b1.clone() };
    apply_all(
        s,
        &[
            Mutation::PutAccount(acc1.clone()),
            Mutation::PutHandle(h_alice.clone()),
            Mutation::PutSession(s1b.clone()),
            Mutation::PutInvite(inv1b.clone()),
            Mutation::PutEntry(e1b.clone()),
            Mutation::PutRequest(r1b.clone()),
            Mutation::PutDeletion(d1b.clone()),
            Mutation::PutDeletion(d2b.clone()),
            Mutation::PutBlock(b1b.clone()),
        ],
    );
    let expected = normalized(Snapshot {
        accounts: vec![acc1.clone(), acc2.clone()],
        handles: vec![h_alice.clone(), h_bob.clone()],
        heads: vec![],
        retired: vec![],
        sessions: vec![s1b.clone(), s2.clone()],
        invites: vec![inv1b.clone(), inv2.clone()],
        entries: vec![e1b.clone(), e2.clone()],
        requests: vec![r1b.clone(), r2.clone()],
        deletions: vec![d1b.clone(), d2b.clone()],
        blocks: vec![b1b.clone(), b2.clone()],
    });
    assert_eq!(load(s), expected);

    // Deletes remove exactly the keyed record; deleting what is not there is not an error.
    apply_all(
        s,
        &[
            Mutation::DeleteSession { id: "s1".to_owned() },
            Mutation::DeleteEntry { owner: alice.clone(), peer: bob.clone() },
            Mutation::DeleteRequest { from: bob.clone(), to: alice.clone() },
            Mutation::DeleteDeletion { deleter: alice.clone(), deleted: bob.clone() },
            Mutation::DeleteBlock { owner: alice.clone(), target: remote.clone() },
            // Reversed keys name other records, which do not exist.
            Mutation::DeleteEntry { owner: remote.clone(), peer: alice.clone() },
            Mutation::DeleteRequest { from: alice.clone(), to: remote.clone() },
            Mutation::DeleteDeletion { deleter: remote.clone(), deleted: bob.clone() },
            Mutation::DeleteBlock { owner: alice.clone(), target: bob.clone() },
            Mutation::DeleteSession { id: "nope".to_owned() },
        ],
    );
    let expected = normalized(Snapshot {
        accounts: vec![acc1, acc2],
        handles: vec![h_alice, h_bob],
        heads: vec![],
        retired: vec![],
        sessions: vec![s2],
        invites: vec![inv1b, inv2],
        entries: vec![e2],
        requests: vec![r2],
        deletions: vec![d2b],
        blocks: vec![b2],
    });
    assert_eq!(load(s), expected);
}

fn every_deletion_state_round_trips(s: &mut dyn Storage) {
    let states = [DeletionState::Deleted, DeletionState::Notified, DeletionState::Requested, DeletionState::Refused];
    let recs: Vec<DeletionRec> = states
        .iter()
        .enumerate()
        .map(|(i, &state)| DeletionRec { deleter: addr("alice"), deleted: addr(&format!("peer{i}")), state, at: 1 })
        .collect();
    apply_all(s, &recs.iter().cloned().map(Mutation::PutDeletion).collect::<Vec<_>>());
    assert_eq!(load(s).deletions, recs);
}

/// alice's stream: 1 m1 (to bob), 2 event, 3 m2 (from bob), 4 m3 (to carol), 5 event.
fn stream_setup(s: &mut dyn Storage) -> (Vec<Message>, Vec<StreamItem>) {
    let m1 = message("m1", "alice", "bob", 1_000);
    let m2 = message("m2", "bob", "alice", 1_001);
    let m3 = message("m3", "alice", "carol", 1_002);
    let ev2 = event_item(2, 1_000, Event::RequestReceived { peer: addr("dave"), greeting: Some("yo".to_owned()) });
    let ev5 = event_item(5, 1_003, Event::DeletionNotice { peer: addr("zed@far.example"), asks_delete: true });
    let bob_ev =
        event_item(2, 999, Event::RequestAnswered { peer: addr("alice"), answer: RequestAnswer::AcceptMutual });
    apply_all(
        s,
        &[
            store(&m1, 1, 1),
            Mutation::AppendEvent { handle: handle("alice"), item: ev2.clone() },
            Mutation::AppendEvent { handle: handle("bob"), item: bob_ev },
            store(&m2, 3, 3),
            store(&m3, 4, 1),
            Mutation::AppendEvent { handle: handle("alice"), item: ev5.clone() },
        ],
    );
    let alice_stream = vec![message_item(1, &m1), ev2, message_item(3, &m2), message_item(4, &m3), ev5];
    (vec![m1, m2, m3], alice_stream)
}

fn stream_pages(s: &mut dyn Storage) {
    let (msgs, alice_stream) = stream_setup(s);
    let alice = addr("alice");
    assert_eq!(s.stream_page(&alice, 0, 5, 100).unwrap(), alice_stream);
    assert_eq!(s.stream_page(&alice, 0, u64::MAX, usize::MAX).unwrap(), alice_stream);
    assert_eq!(s.stream_page(&alice, 1, 3, 100).unwrap(), alice_stream[1..3].to_vec());
    assert_eq!(s.stream_page(&alice, 0, 5, 2).unwrap(), alice_stream[..2].to_vec());
    assert_eq!(s.stream_page(&alice, 2, 5, 2).unwrap(), alice_stream[2..4].to_vec());
    assert_eq!(s.stream_page(&alice, 4, 5, 0).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, 3, 3, 10).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, 4, 2, 10).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, 5, 100, 10).unwrap(), vec![]);
    assert_eq!(s.stream_page(&alice, u64::MAX, u64::MAX, 10).unwrap(), vec![]);
    // The stream is the handle's: the relay part of the address does not matter.
    assert_eq!(s.stream_page(&Address::parse("alice").unwrap(), 0, 5, 100).unwrap(), alice_stream);

    // bob: 1 m1, 2 event, 3 m2; carol: 1 m3. Streams do not mix.
    let bob_page = s.stream_page(&addr("bob"), 0, 10, 10).unwrap();
    assert_eq!(seqs(&bob_page), vec![1, 2, 3]);
    assert_eq!(bob_page[0], message_item(1, &msgs[0]));
    assert_eq!(bob_page[2], message_item(3, &msgs[1]));
    assert_eq!(s.stream_page(&addr("carol"), 0, 10, 10).unwrap(), vec![message_item(1, &msgs[2])]);
    assert_eq!(s.stream_page(&addr("dave"), 0, 10, 10).unwrap(), vec![]);

    let snap = load(s);
    assert_eq!(snap.heads, vec![(handle("alice"), 5), (handle("bob"), 3), (handle("carol"), 1)]);
}

fn message_to_self(s: &mut dyn Storage) {
    let m = message("self", "alice", "alice", 5);
    apply_all(s, &[store(&m, 1, 2)]);
    assert_eq!(s.stream_page(&addr("alice"), 0, 9, 9).unwrap(), vec![message_item(1, &m), message_item(2, &m)]);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-self").unwrap(), Some((m.clone(), 1)));
    let page = s.history(&addr("alice"), &addr("alice"), HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![m]);
    let other = s.history(&addr("alice"), &addr("bob"), HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(other.messages, vec![]);
    assert_eq!(load(s).heads, vec![(handle("alice"), 2)]);
}

fn find_client_msg(s: &mut dyn Storage) {
    let m1 = message("m1", "alice", "bob", 1);
    // bob reuses alice's idempotency key: keys are per sender.
    let m2 = Message { client_msg_id: "client-m1".to_owned(), ..message("m2", "bob", "alice", 2) };
    let m3 = message("m3", "alice", "carol", 3);
    apply_all(s, &[store(&m1, 7, 1), store(&m2, 2, 8), store(&m3, 9, 1)]);
    // The seq is the sender's, not the recipient's.
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m1").unwrap(), Some((m1.clone(), 7)));
    assert_eq!(s.find_client_msg(&addr("bob"), "client-m1").unwrap(), Some((m2.clone(), 2)));
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m3").unwrap(), Some((m3, 9)));
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m2").unwrap(), None);
    assert_eq!(s.find_client_msg(&addr("carol"), "client-m1").unwrap(), None);
    // The same handle on another relay is another sender.
    assert_eq!(s.find_client_msg(&addr("alice@far.example"), "client-m1").unwrap(), None);
}

/// alice↔bob: a0..a6 interleaved with alice↔carol: c0..c2 and bob↔carol: x0.
fn history_setup(s: &mut dyn Storage) -> Vec<Message> {
    let mut conv = Vec::new();
    let mut mutations = Vec::new();
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq
    };
    for i in 0..7 {
        let (from, to) = if i % 3 == 1 { ("bob", "alice") } else { ("alice", "bob") };
        let m = message(&format!("a{i}"), from, to, 100 + i);
        mutations.push(store(&m, next(), next()));
        conv.push(m);
        if i < 3 {
            let c = message(&format!("c{i}"), "carol", "alice", 200 + i);
            mutations.push(store(&c, next(), next()));
        }
        if i == 4 {
            mutations.push(store(&message("x0", "bob", "carol", 300), next(), next()));
        }
    }
    apply_all(s, &mutations);
    conv
}

fn history_latest_and_before(s: &mut dyn Storage) {
    history_setup(s);
    let (alice, bob) = (addr("alice"), addr("bob"));
    let page = s.history(&alice, &bob, HistoryCursor::Latest, 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a4", "a5", "a6"], true));
    // Both argument orders name the same conversation.
    assert_eq!(s.history(&bob, &alice, HistoryCursor::Latest, 3).unwrap().unwrap(), page);

    let page = s.history(&alice, &bob, HistoryCursor::Before("a4"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a1", "a2", "a3"], true));
    let page = s.history(&alice, &bob, HistoryCursor::Before("a1"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a0"], false));
    let page = s.history(&alice, &bob, HistoryCursor::Before("a0"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec![], false));
    // Exactly the remaining count: no more.
    let page = s.history(&alice, &bob, HistoryCursor::Before("a3"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a0", "a1", "a2"], false));

    let page = s.history(&alice, &bob, HistoryCursor::Latest, 7).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a0", "a1", "a2", "a3", "a4", "a5", "a6"], false));
    let page = s.history(&alice, &bob, HistoryCursor::Latest, usize::MAX).unwrap().unwrap();
    assert_eq!((page.messages.len(), page.more), (7, false));
    let page = s.history(&alice, &bob, HistoryCursor::Latest, 0).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec![], true));

    let page = s.history(&alice, &addr("carol"), HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["c0", "c1", "c2"], false));
    let page = s.history(&addr("carol"), &bob, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(ids(&page), vec!["x0"]);
    let page = s.history(&alice, &addr("dave"), HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec![], false));
}

fn history_after(s: &mut dyn Storage) {
    let conv = history_setup(s);
    let (alice, bob) = (addr("alice"), addr("bob"));
    let page = s.history(&alice, &bob, HistoryCursor::After("a0"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a1", "a2", "a3"], true));
    assert_eq!(page.messages, conv[1..4].to_vec());
    let page = s.history(&bob, &alice, HistoryCursor::After("a3"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a4", "a5", "a6"], false));
    let page = s.history(&alice, &bob, HistoryCursor::After("a5"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec!["a6"], false));
    let page = s.history(&alice, &bob, HistoryCursor::After("a6"), 3).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec![], false));
    let page = s.history(&alice, &bob, HistoryCursor::After("a5"), 0).unwrap().unwrap();
    assert_eq!((ids(&page), page.more), (vec![], true));
}

fn history_bad_cursors(s: &mut dyn Storage) {
    history_setup(s);
    let (alice, bob, carol) = (addr("alice"), addr("bob"), addr("carol"));
    for cursor in [HistoryCursor::Before("c1"), HistoryCursor::After("c1"), HistoryCursor::Before("x0")] {
        assert_eq!(s.history(&alice, &bob, cursor, 5).unwrap(), None, "{cursor:?}");
    }
    assert_eq!(s.history(&alice, &bob, HistoryCursor::Before("nope"), 5).unwrap(), None);
    assert_eq!(s.history(&alice, &bob, HistoryCursor::After(""), 5).unwrap(), None);
    // a0 is alice↔bob: not a cursor for alice↔carol, nor for bob↔carol.
    assert_eq!(s.history(&alice, &carol, HistoryCursor::After("a0"), 5).unwrap(), None);
    assert_eq!(s.history(&bob, &carol, HistoryCursor::Before("a0"), 5).unwrap(), None);
    // alice@far.example is not alice.
    assert_eq!(s.history(&addr("alice@far.example"), &bob, HistoryCursor::Before("a2"), 5).unwrap(), None);
}

fn remove_handle(s: &mut dyn Storage) {
    stream_setup(s);
    let h_alice = handle_rec("alice", "acc", 0);
    let h_bob = handle_rec("bob", "acc", 1);
    let entry =
        EntryRec { owner: addr("bob"), peer: addr("alice"), nickname: None, note: None, since: 1, removed_you: false };
    apply_all(
        s,
        &[Mutation::PutHandle(h_alice), Mutation::PutHandle(h_bob.clone()), Mutation::PutEntry(entry.clone())],
    );
    apply_all(s, &[Mutation::RemoveHandle(handle("alice"))]);

    let snap = load(s);
    assert_eq!(snap.handles, vec![h_bob]);
    assert_eq!(snap.retired, vec![handle("alice")]);
    assert_eq!(snap.heads, vec![(handle("bob"), 3), (handle("carol"), 1)]);
    // Other records are the core's to clean up; storage removes only the handle and its stream.
    assert_eq!(snap.entries, vec![entry]);
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(seqs(&s.stream_page(&addr("bob"), 0, u64::MAX, 100).unwrap()), vec![1, 2, 3]);
    assert_eq!(seqs(&s.stream_page(&addr("carol"), 0, u64::MAX, 100).unwrap()), vec![1]);
    // Messages stay: they are also the other side's history.
    let page = s.history(&addr("bob"), &addr("alice"), HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(ids(&page), vec!["m1", "m2"]);
    assert_eq!(
        s.find_client_msg(&addr("alice"), "client-m1").unwrap().map(|(m, seq)| (m.id, seq)),
        Some(("m1".to_owned(), 1))
    );

    // Removing a handle that has no record still retires the name.
    apply_all(s, &[Mutation::RemoveHandle(handle("ghost"))]);
    assert_eq!(load(s).retired, vec![handle("alice"), handle("ghost")]);
}

fn reads_see_applied_but_uncommitted(s: &mut dyn Storage) {
    let m = message("m1", "alice", "bob", 1);
    s.apply(&Mutation::PutAccount(account("acc", false))).unwrap();
    s.apply(&store(&m, 1, 1)).unwrap();
    s.apply(&Mutation::AppendEvent {
        handle: handle("bob"),
        item: event_item(2, 2, Event::RequestCancelled { peer: addr("alice") }),
    })
    .unwrap();
    assert_eq!(s.load().unwrap().accounts, vec![account("acc", false)]);
    assert_eq!(seqs(&s.stream_page(&addr("bob"), 0, 9, 9).unwrap()), vec![1, 2]);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m1").unwrap(), Some((m.clone(), 1)));
    let page = s.history(&addr("alice"), &addr("bob"), HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![m]);
    s.commit().unwrap();
    s.commit().unwrap();
    assert_eq!(load(s).heads, vec![(handle("alice"), 1), (handle("bob"), 2)]);
}

fn every_event_round_trips(s: &mut dyn Storage) {
    use huddle_shared::model::DeletionAnswer;
    let peer = addr("zed@far.example");
    let events = vec![
        Event::RequestReceived { peer: peer.clone(), greeting: None },
        Event::RequestReceived { peer: peer.clone(), greeting: Some("hello\nthere".to_owned()) },
        Event::RequestAnswered { peer: peer.clone(), answer: RequestAnswer::Accept },
        Event::RequestAnswered { peer: peer.clone(), answer: RequestAnswer::Reject },
        Event::RequestCancelled { peer: peer.clone() },
        Event::DeletionNotice { peer: peer.clone(), asks_delete: false },
        Event::DeletionAnswered { peer: peer.clone(), answer: DeletionAnswer::Confirm },
        Event::DeletionAnswered { peer: peer.clone(), answer: DeletionAnswer::Refuse },
        Event::HandleRemoved { peer },
    ];
    let items: Vec<StreamItem> =
        events.into_iter().zip(1..).map(|(event, seq)| event_item(seq, seq as i64 * 10, event)).collect();
    let mutations: Vec<Mutation> =
        items.iter().map(|item| Mutation::AppendEvent { handle: handle("alice"), item: item.clone() }).collect();
    apply_all(s, &mutations);
    assert_eq!(s.stream_page(&addr("alice"), 0, 100, 100).unwrap(), items);
}

macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $scenario() { super::$scenario(&mut super::MemoryStorage::default()) })*
        }
        mod sqlite_in_memory {
            $(#[test] fn $scenario() {
                super::$scenario(&mut super::SqliteStorage::open_in_memory(&super::relay()).unwrap())
            })*
        }
        mod sqlite_file {
            $(#[test] fn $scenario() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("relay.db");
                super::$scenario(&mut super::SqliteStorage::open(&path, &super::relay()).unwrap());
                // Everything the scenario committed must also read back after a reopen.
                let before = super::load(&mut super::SqliteStorage::open(&path, &super::relay()).unwrap());
                let mut reference = super::MemoryStorage::default();
                super::$scenario(&mut reference);
                assert_eq!(before, super::load(&mut reference));
            })*
        }
    };
}

conformance!(
    empty_storage_loads_nothing,
    records_put_overwrite_delete,
    every_deletion_state_round_trips,
    stream_pages,
    message_to_self,
    find_client_msg,
    history_latest_and_before,
    history_after,
    history_bad_cursors,
    remove_handle,
    reads_see_applied_but_uncommitted,
    every_event_round_trips,
);

// ---------------------------------------------------------------------------------------------------------------
// Differential: random valid mutation sequences, every read compared between memory and SQLite.
// ---------------------------------------------------------------------------------------------------------------

mod differential {
    use proptest::prelude::*;

    use super::*;

    const NAMES: [&str; 4] = ["alice", "bob", "carol", "zed@far.example"];

    #[derive(Debug, Clone)]
    enum Op {
        Entry { owner: usize, peer: usize, nickname: Option<u8> },
        DeleteEntry { owner: usize, peer: usize },
        Block { owner: usize, target: usize, at: i64 },
        DeleteBlock { owner: usize, target: usize },
        Deletion { deleter: usize, deleted: usize, state: usize },
        Handle { who: usize, acked: u64 },
        Message { from: usize, to: usize },
        Event { who: usize, about: usize },
        Remove { who: usize },
        Commit,
    }

    fn op() -> impl Strategy<Value = Op> {
        let who = 0..NAMES.len();
        let local = 0..NAMES.len() - 1;
        prop_oneof![
            1 => (who.clone(), who.clone(), proptest::option::of(any::<u8>()))
                .prop_map(|(owner, peer, nickname)| Op::Entry { owner, peer, nickname }),
            1 => (who.clone(), who.clone()).prop_map(|(owner, peer)| Op::DeleteEntry { owner, peer }),
            1 => (who.clone(), who.clone(), -5i64..5).prop_map(|(owner, target, at)| Op::Block { owner, target, at }),
            1 => (who.clone(), who.clone()).prop_map(|(owner, target)| Op::DeleteBlock { owner, target }),
            1 => (who.clone(), who.clone(), 0..4usize)
                .prop_map(|(deleter, deleted, state)| Op::Deletion { deleter, deleted, state }),
            1 => (local.clone(), any::<u64>()).prop_map(|(who, acked)| Op::Handle { who, acked: acked >> 1 }),
            4 => (who.clone(), who.clone()).prop_map(|(from, to)| Op::Message { from, to }),
            1 => (local.clone(), who).prop_map(|(who, about)| Op::Event { who, about }),
            1 => local.prop_map(|who| Op::Remove { who }),
            1 => Just(Op::Commit),
        ]
    }

    /// Turns ops into valid mutations: fresh message ids, stream seqs counting up per handle, each name removed once.
    fn mutations(ops: &[Op]) -> Vec<Option<Mutation>> {
        let mut heads = [0u64; NAMES.len()];
        let mut removed = [false; NAMES.len()];
        let mut next_seq = |who: usize| {
            heads[who] += 1;
            heads[who]
        };
        let states =
            [DeletionState::Deleted, DeletionState::Notified, DeletionState::Requested, DeletionState::Refused];
        ops.iter()
            .enumerate()
            .map(|(i, op)| {
                Some(match *op {
                    Op::Entry { owner, peer, nickname } => Mutation::PutEntry(EntryRec {
                        owner: addr(NAMES[owner]),
                        peer: addr(NAMES[peer]),
                        nickname: nickname.map(|n| n.to_string()),
                        note: None,
                        since: i as i64,
                        removed_you: nickname.is_some_and(|n| n % 2 == 0),
                    }),
                    Op::DeleteEntry { owner, peer } => {
                        Mutation::DeleteEntry { owner: addr(NAMES[owner]), peer: addr(NAMES[peer]) }
                    }
                    Op::Block { owner, target, at } => {
                        Mutation::PutBlock(BlockRec { owner: addr(NAMES[owner]), target: addr(NAMES[target]), at })
                    }
                    Op::DeleteBlock { owner, target } => {
                        Mutation::DeleteBlock { owner: addr(NAMES[owner]), target: addr(NAMES[target]) }
                    }
                    Op::Deletion { deleter, deleted, state } => Mutation::PutDeletion(DeletionRec {
                        deleter: addr(NAMES[deleter]),
                        deleted: addr(NAMES[deleted]),
                        state: states[state],
                        at: i as i64,
                    }),
                    Op::Handle { who, acked } => {
                        Mutation::PutHandle(HandleRec { acked, ..handle_rec(NAMES[who], "acc", who as u32) })
                    }
                    Op::Message { from, to } => {
                        let m = message(&format!("m{i}"), NAMES[from], NAMES[to], i as i64);
                        let sender_seq = next_seq(from);
                        let recipient_seq = next_seq(to);
                        store(&m, sender_seq, recipient_seq)
                    }
                    Op::Event { who, about } => Mutation::AppendEvent {
                        handle: handle(NAMES[who]),
                        item: event_item(next_seq(who), i as i64, Event::HandleRemoved { peer: addr(NAMES[about]) }),
                    },
                    Op::Remove { who } => {
                        if std::mem::replace(&mut removed[who], true) {
                            return None;
                        }
                        Mutation::RemoveHandle(handle(NAMES[who]))
                    }
                    Op::Commit => return None,
                })
            })
            .collect()
    }

    fn compare(mem: &mut MemoryStorage, sql: &mut SqliteStorage, message_ids: &[String]) {
        assert_eq!(load(mem), load(sql));
        for name in NAMES {
            let a = addr(name);
            for (after, upto, max) in [(0, u64::MAX, usize::MAX), (1, 4, 2), (2, 3, 9)] {
                assert_eq!(
                    mem.stream_page(&a, after, upto, max).unwrap(),
                    sql.stream_page(&a, after, upto, max).unwrap()
                );
            }
            for id in message_ids.iter().step_by(3) {
                let client = format!("client-{id}");
                assert_eq!(mem.find_client_msg(&a, &client).unwrap(), sql.find_client_msg(&a, &client).unwrap());
            }
            for other in NAMES {
                let b = addr(other);
                let mut cursors = vec![HistoryCursor::Latest];
                for id in message_ids.iter().step_by(2) {
                    cursors.push(HistoryCursor::Before(id));
                    cursors.push(HistoryCursor::After(id));
                }
                for cursor in cursors {
                    for limit in [0, 1, 3] {
                        assert_eq!(
                            mem.history(&a, &b, cursor, limit).unwrap(),
                            sql.history(&a, &b, cursor, limit).unwrap(),
                            "{name} {other} {cursor:?} {limit}"
                        );
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn sqlite_answers_like_memory(ops in proptest::collection::vec(op(), 1..40)) {
            let mut mem = MemoryStorage::default();
            let mut sql = SqliteStorage::open_in_memory(&relay()).unwrap();
            let mut message_ids = Vec::new();
            for (i, mutation) in mutations(&ops).into_iter().enumerate() {
                match mutation {
                    Some(m) => {
                        if let Mutation::StoreMessage { message, .. } = &m {
                            message_ids.push(message.id.clone());
                        }
                        mem.apply(&m).unwrap();
                        sql.apply(&m).unwrap();
                    }
                    None => {
                        mem.commit().unwrap();
                        sql.commit().unwrap();
                    }
                }
                if i % 8 == 7 {
                    compare(&mut mem, &mut sql, &message_ids);
                }
            }
            mem.commit().unwrap();
            sql.commit().unwrap();
            compare(&mut mem, &mut sql, &message_ids);
        }
    }
}
