//! The same scenarios against every [`Storage`]: the in-memory reference, SQLite in memory and SQLite on a file.
//!
//! Each scenario states its expectations explicitly (so that a bug shared by both backends still fails), and the
//! differential property test at the end runs random mutation sequences against memory and SQLite side by side and
//! demands identical answers from every read.

use huddle_shared::model::{
    DeletionState, Event, GroupChange, GroupMessage, InvitePolicy, ItemBody, Message, Profile, Receipt, ReceiptState,
    RequestAnswer, StreamItem,
};
use huddle_shared::{Address, Handle, RelayName};

use super::{
    AccountRec, BlockRec, DeletionRec, EntryRec, GroupHistoryPage, GroupInviteRec, GroupRec, HandleRec, HistoryCursor,
    HistoryPage, InviteRec, MemberRec, MemoryStorage, Mutation, ReceiptRec, RequestRec, SessionRec, Snapshot,
    SqliteStorage, Storage,
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
    s.groups.sort_by(|a, b| a.id.cmp(&b.id));
    s.members.sort_by(|a, b| (&a.group, &a.member).cmp(&(&b.group, &b.member)));
    s.group_invites.sort_by(|a, b| (&a.group, &a.invitee).cmp(&(&b.group, &b.invitee)));
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
        invite_policy: InvitePolicy::Auto,
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
        receipts: false,
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

fn group_message(id: &str, group: &str, from: &str, at: i64) -> GroupMessage {
    GroupMessage {
        id: id.to_owned(),
        group: group.to_owned(),
        from: addr(from),
        body: format!("body of {id} ✓"),
        sent_at: at,
        client_msg_id: format!("client-{id}"),
        receipts: false,
    }
}

/// Stores `m` as message `number` of its group, delivered to each `(handle, seq)`.
fn store_group(m: &GroupMessage, number: u64, deliveries: &[(&str, u64)]) -> Mutation {
    Mutation::StoreGroupMessage {
        message: m.clone(),
        number,
        deliveries: deliveries.iter().map(|&(h, seq)| (handle(h), seq)).collect(),
    }
}

fn group_item(seq: u64, m: &GroupMessage) -> StreamItem {
    StreamItem { seq, at: m.sent_at, body: ItemBody::GroupMessage { message: m.clone() } }
}

fn group_ids(page: &GroupHistoryPage) -> Vec<&str> {
    page.messages.iter().map(|m| m.id.as_str()).collect()
}

fn seqs(items: &[StreamItem]) -> Vec<u64> {
    items.iter().map(|i| i.seq).collect()
}

/// A receipt record not delivered or read yet.
fn receipt_rec(message_id: &str, recipient: &str, sender: &str, group: Option<&str>, seq: Option<u64>) -> ReceiptRec {
    ReceiptRec {
        message_id: message_id.to_owned(),
        recipient: addr(recipient),
        sender: addr(sender),
        group: group.map(str::to_owned),
        seq,
        delivered_at: None,
        read_at: None,
    }
}

fn receipt_ids(records: &[ReceiptRec]) -> Vec<(&str, &str)> {
    records.iter().map(|r| (r.message_id.as_str(), r.recipient.handle.as_str())).collect()
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
        ..Snapshot::default()
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
        ..Snapshot::default()
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
        ..Snapshot::default()
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
    let tracked = receipt_rec("m1", "bob", "alice", None, Some(1));
    s.apply(&Mutation::PutReceipt(tracked.clone())).unwrap();
    assert_eq!(s.receipt("m1", &addr("bob")).unwrap(), Some(tracked.clone()));
    assert_eq!(s.message_receipts("m1", 9).unwrap(), vec![tracked.clone()]);
    assert_eq!(s.undelivered_receipts(&addr("bob"), 0, 9, 9).unwrap(), vec![tracked]);
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
        Event::HandleRemoved { peer: peer.clone() },
        Event::GroupInvite { peer: peer.clone(), group: "g-1".to_owned(), title: None },
        Event::GroupInvite { peer: peer.clone(), group: "g-1".to_owned(), title: Some("Crew ✓".to_owned()) },
        Event::Group {
            peer: peer.clone(),
            group: "g-1".to_owned(),
            change: GroupChange::Created { members: vec![peer.clone(), addr("alice")], title: None, promoted: false },
        },
        Event::Group {
            peer: peer.clone(),
            group: "g-1".to_owned(),
            change: GroupChange::Created { members: vec![], title: Some("t".to_owned()), promoted: true },
        },
        Event::Group { peer: peer.clone(), group: "g-1".to_owned(), change: GroupChange::Joined { who: addr("bob") } },
        Event::Group { peer: peer.clone(), group: "g-1".to_owned(), change: GroupChange::Left },
        Event::Group { peer: peer.clone(), group: "g-1".to_owned(), change: GroupChange::Removed { who: addr("bob") } },
        Event::Group { peer: peer.clone(), group: "g-1".to_owned(), change: GroupChange::Renamed { title: None } },
        Event::Group {
            peer: peer.clone(),
            group: "g-1".to_owned(),
            change: GroupChange::Renamed { title: Some("new".to_owned()) },
        },
        Event::Group { peer, group: "g-1".to_owned(), change: GroupChange::OwnerChanged },
    ];
    let items: Vec<StreamItem> =
        events.into_iter().zip(1..).map(|(event, seq)| event_item(seq, seq as i64 * 10, event)).collect();
    let mutations: Vec<Mutation> =
        items.iter().map(|item| Mutation::AppendEvent { handle: handle("alice"), item: item.clone() }).collect();
    apply_all(s, &mutations);
    assert_eq!(s.stream_page(&addr("alice"), 0, 100, 100).unwrap(), items);
}

fn group_records_put_overwrite_delete(s: &mut dyn Storage) {
    let (alice, bob, carol, remote) = (addr("alice"), addr("bob"), addr("carol"), addr("zed@far.example"));
    let mut g1 = GroupRec {
        id: "g-1".to_owned(),
        title: Some("Climbing \"crew\" ✓".to_owned()),
        owner: alice.clone(),
        created_at: 1_700_000_000_000,
        archived: false,
        messages: 0,
    };
    let g2 = GroupRec {
        id: "g-2".to_owned(),
        title: None,
        owner: remote.clone(),
        created_at: -3,
        archived: true,
        messages: 1 << 40,
    };
    let member = |group: &str, who: &Address, since: u64| MemberRec {
        group: group.to_owned(),
        member: who.clone(),
        joined_at: 10 + since as i64,
        since,
    };
    let m_alice = member("g-1", &alice, 0);
    let m_bob = member("g-1", &bob, 3);
    let m_remote = member("g-1", &remote, 7);
    // The same handle in another group is another record.
    let m_alice2 = member("g-2", &alice, 1 << 40);
    let invite = |group: &str, invitee: &Address, by: &Address, at| GroupInviteRec {
        group: group.to_owned(),
        invitee: invitee.clone(),
        by: by.clone(),
        at,
    };
    let i_carol = invite("g-1", &carol, &alice, 5);
    let i_remote = invite("g-1", &remote, &bob, 6);
    let i_carol2 = invite("g-2", &carol, &remote, 7);

    apply_all(
        s,
        &[
            Mutation::PutGroup(g1.clone()),
            Mutation::PutGroup(g2.clone()),
            Mutation::PutMember(m_alice.clone()),
            Mutation::PutMember(m_bob.clone()),
            Mutation::PutMember(m_remote.clone()),
            Mutation::PutMember(m_alice2.clone()),
            Mutation::PutGroupInvite(i_carol.clone()),
            Mutation::PutGroupInvite(i_remote.clone()),
            Mutation::PutGroupInvite(i_carol2.clone()),
        ],
    );
    let expected = normalized(Snapshot {
        groups: vec![g1.clone(), g2.clone()],
        members: vec![m_alice.clone(), m_bob.clone(), m_remote.clone(), m_alice2.clone()],
        group_invites: vec![i_carol.clone(), i_remote.clone(), i_carol2.clone()],
        ..Snapshot::default()
    });
    assert_eq!(load(s), expected);

    // Overwrites replace the whole record, keyed by its key only.
    g1.title = None;
    g1.owner = bob.clone();
    g1.archived = true;
    g1.messages = 12;
    let m_bob_b = MemberRec { joined_at: 99, since: 11, ..m_bob.clone() };
    let i_carol_b = GroupInviteRec { by: bob.clone(), at: 50, ..i_carol.clone() };
    apply_all(
        s,
        &[
            Mutation::PutGroup(g1.clone()),
            Mutation::PutMember(m_bob_b.clone()),
            Mutation::PutGroupInvite(i_carol_b.clone()),
        ],
    );
    let expected = normalized(Snapshot {
        groups: vec![g1.clone(), g2.clone()],
        members: vec![m_alice.clone(), m_bob_b.clone(), m_remote.clone(), m_alice2.clone()],
        group_invites: vec![i_carol_b.clone(), i_remote.clone(), i_carol2.clone()],
        ..Snapshot::default()
    });
    assert_eq!(load(s), expected);

    // Deletes remove exactly the keyed record; deleting what is not there is not an error.
    apply_all(
        s,
        &[
            Mutation::DeleteMember { group: "g-1".to_owned(), member: alice.clone() },
            Mutation::DeleteGroupInvite { group: "g-1".to_owned(), invitee: carol.clone() },
            Mutation::DeleteMember { group: "g-3".to_owned(), member: bob.clone() },
            Mutation::DeleteMember { group: "g-2".to_owned(), member: bob.clone() },
            Mutation::DeleteMember { group: "g-1".to_owned(), member: addr("alice@far.example") },
            Mutation::DeleteGroupInvite { group: "g-2".to_owned(), invitee: remote.clone() },
            Mutation::DeleteGroupInvite { group: "g-1".to_owned(), invitee: carol.clone() },
        ],
    );
    let expected = normalized(Snapshot {
        groups: vec![g1, g2],
        members: vec![m_bob_b, m_remote, m_alice2],
        group_invites: vec![i_remote, i_carol2],
        ..Snapshot::default()
    });
    assert_eq!(load(s), expected);
}

fn invite_policy_round_trips(s: &mut dyn Storage) {
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

/// Group "g1" is alice, bob, carol (bob blocked carol); "g2" is alice and bob. Interleaved with a DM and events:
/// alice: 1 m1, 2 ga, 3 event, 4 gb, 5 gc, 6 gz;  bob: 1 m1, 2 ga, 3 gb, 4 gz;  carol: 1 ga, 2 gc, 3 gz.
/// ga (alice, g1), gb (bob, g2), gc (carol, g1; not to bob), gz (zed@far.example, g1; no copy for the sender).
fn group_stream_setup(s: &mut dyn Storage) -> (Vec<GroupMessage>, Message, Vec<StreamItem>) {
    let m1 = message("m1", "alice", "bob", 1_000);
    let ga = group_message("ga", "g1", "alice", 1_001);
    let gb = group_message("gb", "g2", "bob", 1_002);
    let gc = group_message("gc", "g1", "carol", 1_003);
    let gz = group_message("gz", "g1", "zed@far.example", 1_004);
    let ev3 = event_item(
        3,
        1_001,
        Event::Group {
            peer: addr("carol"),
            group: "g1".to_owned(),
            change: GroupChange::Joined { who: addr("carol") },
        },
    );
    apply_all(
        s,
        &[
            store(&m1, 1, 1),
            // The sender's own copy is not listed first: the sender's seq is found by handle, not by position.
            store_group(&ga, 1, &[("bob", 2), ("alice", 2), ("carol", 1)]),
            Mutation::AppendEvent { handle: handle("alice"), item: ev3.clone() },
            store_group(&gb, 1, &[("alice", 4), ("bob", 3)]),
            store_group(&gc, 2, &[("alice", 5), ("carol", 2)]),
            store_group(&gz, 3, &[("alice", 6), ("bob", 4), ("carol", 3)]),
        ],
    );
    let alice_stream =
        vec![message_item(1, &m1), group_item(2, &ga), ev3, group_item(4, &gb), group_item(5, &gc), group_item(6, &gz)];
    (vec![ga, gb, gc, gz], m1, alice_stream)
}

fn group_messages_in_streams(s: &mut dyn Storage) {
    let (g, m1, alice_stream) = group_stream_setup(s);
    let (ga, gb, gc, gz) = (&g[0], &g[1], &g[2], &g[3]);
    let alice = addr("alice");
    assert_eq!(s.stream_page(&alice, 0, u64::MAX, usize::MAX).unwrap(), alice_stream);
    assert_eq!(s.stream_page(&alice, 1, 5, 2).unwrap(), alice_stream[1..3].to_vec());
    assert_eq!(s.stream_page(&alice, 3, 6, 10).unwrap(), alice_stream[3..].to_vec());
    assert_eq!(
        s.stream_page(&addr("bob"), 0, 10, 10).unwrap(),
        vec![message_item(1, &m1), group_item(2, ga), group_item(3, gb), group_item(4, gz)]
    );
    assert_eq!(
        s.stream_page(&addr("carol"), 0, 10, 10).unwrap(),
        vec![group_item(1, ga), group_item(2, gc), group_item(3, gz)]
    );
    assert_eq!(s.stream_page(&addr("zed"), 0, 10, 10).unwrap(), vec![]);
    assert_eq!(load(s).heads, vec![(handle("alice"), 6), (handle("bob"), 4), (handle("carol"), 3)]);
    // Group messages are not direct messages.
    let page = s.history(&alice, &addr("bob"), HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(page.messages, vec![m1]);
}

fn find_group_client_msg(s: &mut dyn Storage) {
    let (g, _, _) = group_stream_setup(s);
    let (ga, gb, gc) = (&g[0], &g[1], &g[2]);
    // The seq is the sender's, whatever the order of the deliveries.
    assert_eq!(s.find_group_client_msg(&addr("alice"), "client-ga").unwrap(), Some((ga.clone(), 2)));
    assert_eq!(s.find_group_client_msg(&addr("bob"), "client-gb").unwrap(), Some((gb.clone(), 3)));
    assert_eq!(s.find_group_client_msg(&addr("carol"), "client-gc").unwrap(), Some((gc.clone(), 2)));
    // Keys are per sender: a recipient does not find what it was sent.
    assert_eq!(s.find_group_client_msg(&addr("bob"), "client-ga").unwrap(), None);
    assert_eq!(s.find_group_client_msg(&addr("alice"), "client-gc").unwrap(), None);
    // The same handle on another relay is another sender.
    assert_eq!(s.find_group_client_msg(&addr("alice@far.example"), "client-ga").unwrap(), None);
    // A sender who got no copy has no seq to answer with.
    assert_eq!(s.find_group_client_msg(&addr("zed@far.example"), "client-gz").unwrap(), None);
    // Direct and group messages keep separate keys.
    assert_eq!(s.find_group_client_msg(&addr("alice"), "client-m1").unwrap(), None);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-ga").unwrap(), None);
    assert_eq!(s.find_group_client_msg(&addr("alice"), "nope").unwrap(), None);

    // A message to oneself only (a group whose other members all blocked the sender, say).
    let solo = group_message("solo", "g1", "carol", 2_000);
    apply_all(s, &[store_group(&solo, 4, &[("carol", 4)])]);
    assert_eq!(s.find_group_client_msg(&addr("carol"), "client-solo").unwrap(), Some((solo, 4)));
}

/// Group "g": g1..g8 numbered 1..8, interleaved with group "h": h1..h3 numbered 1..3 and a direct message "d".
fn group_history_setup(s: &mut dyn Storage) -> Vec<GroupMessage> {
    let mut g = Vec::new();
    let mut mutations = Vec::new();
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq
    };
    for n in 1..=8u64 {
        let from = ["alice", "bob", "carol"][n as usize % 3];
        let m = group_message(&format!("g{n}"), "g", from, 100 + n as i64);
        mutations.push(store_group(&m, n, &[("alice", next())]));
        g.push(m);
        if n <= 3 {
            let h = group_message(&format!("h{n}"), "h", "bob", 200 + n as i64);
            mutations.push(store_group(&h, n, &[("alice", next())]));
        }
        if n == 5 {
            mutations.push(store(&message("d", "alice", "bob", 300), next(), 1));
        }
    }
    apply_all(s, &mutations);
    g
}

fn group_history_since_and_paging(s: &mut dyn Storage) {
    let g = group_history_setup(s);
    let page = |s: &mut dyn Storage, since, cursor, limit| {
        let page = s.group_history("g", since, cursor, limit).unwrap().unwrap();
        (group_ids(&page).into_iter().map(str::to_owned).collect::<Vec<_>>(), page.more)
    };
    let v = |ids: &[&str], more: bool| (ids.iter().map(|&i| i.to_owned()).collect::<Vec<_>>(), more);

    // Everything visible to a founding member.
    let all = s.group_history("g", 0, HistoryCursor::Latest, 8).unwrap().unwrap();
    assert_eq!(all, GroupHistoryPage { messages: g.clone(), more: false });
    assert_eq!(page(s, 0, HistoryCursor::Latest, 3), v(&["g6", "g7", "g8"], true));
    assert_eq!(page(s, 0, HistoryCursor::Before("g3"), 3), v(&["g1", "g2"], false));
    assert_eq!(page(s, 0, HistoryCursor::After("g1"), 2), v(&["g2", "g3"], true));

    // Joined after message 3: g4..g8 only, whichever way one pages.
    assert_eq!(page(s, 3, HistoryCursor::Latest, 3), v(&["g6", "g7", "g8"], true));
    assert_eq!(page(s, 3, HistoryCursor::Before("g6"), 3), v(&["g4", "g5"], false));
    assert_eq!(page(s, 3, HistoryCursor::Before("g7"), 3), v(&["g4", "g5", "g6"], false));
    assert_eq!(page(s, 3, HistoryCursor::Before("g8"), 3), v(&["g5", "g6", "g7"], true));
    assert_eq!(page(s, 3, HistoryCursor::Before("g4"), 3), v(&[], false));
    assert_eq!(page(s, 3, HistoryCursor::After("g4"), 2), v(&["g5", "g6"], true));
    assert_eq!(page(s, 3, HistoryCursor::After("g5"), 3), v(&["g6", "g7", "g8"], false));
    assert_eq!(page(s, 3, HistoryCursor::After("g6"), 3), v(&["g7", "g8"], false));
    assert_eq!(page(s, 3, HistoryCursor::After("g8"), 3), v(&[], false));
    assert_eq!(page(s, 3, HistoryCursor::Latest, 5), v(&["g4", "g5", "g6", "g7", "g8"], false));
    assert_eq!(page(s, 3, HistoryCursor::Latest, usize::MAX), v(&["g4", "g5", "g6", "g7", "g8"], false));
    let visible = s.group_history("g", 3, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(visible.messages, g[3..].to_vec());
    // A zero limit still tells whether there is anything in that direction.
    assert_eq!(page(s, 3, HistoryCursor::Latest, 0), v(&[], true));
    assert_eq!(page(s, 3, HistoryCursor::Before("g5"), 0), v(&[], true));
    assert_eq!(page(s, 3, HistoryCursor::Before("g4"), 0), v(&[], false));
    assert_eq!(page(s, 3, HistoryCursor::After("g7"), 0), v(&[], true));
    assert_eq!(page(s, 3, HistoryCursor::After("g8"), 0), v(&[], false));

    // Joined after the last message, or beyond any number: nothing yet.
    assert_eq!(page(s, 8, HistoryCursor::Latest, 10), v(&[], false));
    assert_eq!(page(s, u64::MAX, HistoryCursor::Latest, 10), v(&[], false));
    // Groups do not mix, even where their numbers coincide.
    let h = s.group_history("h", 1, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(group_ids(&h), vec!["h2", "h3"]);
    assert_eq!(s.group_history("nope", 0, HistoryCursor::Latest, 10).unwrap(), Some(GroupHistoryPage::default()));
}

fn group_history_bad_cursors(s: &mut dyn Storage) {
    group_history_setup(s);
    for cursor in [
        // Sent before the member joined (numbered <= since), down to the boundary.
        HistoryCursor::Before("g3"),
        HistoryCursor::After("g3"),
        HistoryCursor::After("g1"),
        // Another group's message, numbered above since there.
        HistoryCursor::Before("h3"),
        // A direct message.
        HistoryCursor::After("d"),
        HistoryCursor::Before("nope"),
        HistoryCursor::After(""),
    ] {
        assert_eq!(s.group_history("g", 3, cursor, 5).unwrap(), None, "{cursor:?}");
    }
    // g5 is visible in g, but not a cursor for another group.
    assert_eq!(s.group_history("h", 0, HistoryCursor::Before("g5"), 5).unwrap(), None);
    assert_eq!(s.group_history("nope", 0, HistoryCursor::After("g5"), 5).unwrap(), None);
    // The same cursor is fine for a member who sees it.
    assert!(s.group_history("g", 2, HistoryCursor::Before("g3"), 5).unwrap().is_some());
}

fn group_messages_survive_handle_removal(s: &mut dyn Storage) {
    let (g, _, _) = group_stream_setup(s);
    apply_all(s, &[Mutation::RemoveHandle(handle("alice"))]);
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(seqs(&s.stream_page(&addr("bob"), 0, u64::MAX, 100).unwrap()), vec![1, 2, 3, 4]);
    assert_eq!(seqs(&s.stream_page(&addr("carol"), 0, u64::MAX, 100).unwrap()), vec![1, 2, 3]);
    // The messages are the other members' history too; a resend of the removed handle's would still be recognised.
    let page = s.group_history("g1", 0, HistoryCursor::Latest, 10).unwrap().unwrap();
    assert_eq!(group_ids(&page), vec!["ga", "gc", "gz"]);
    assert_eq!(s.find_group_client_msg(&addr("alice"), "client-ga").unwrap(), Some((g[0].clone(), 2)));
    assert_eq!(load(s).heads, vec![(handle("bob"), 4), (handle("carol"), 3)]);
}

/// Receipts of "m1" (alice to bob) and of group message "ga" (alice to bob, carol, and dave who blocked her: no seq).
fn receipts_setup(s: &mut dyn Storage) -> Vec<ReceiptRec> {
    let records = vec![
        receipt_rec("m1", "bob", "alice", None, Some(1)),
        receipt_rec("ga", "carol", "alice", Some("g1"), Some(1)),
        receipt_rec("ga", "bob", "alice", Some("g1"), Some(2)),
        receipt_rec("ga", "dave", "alice", Some("g1"), None),
    ];
    apply_all(s, &records.iter().cloned().map(Mutation::PutReceipt).collect::<Vec<_>>());
    records
}

fn receipt_records_put_and_overwrite(s: &mut dyn Storage) {
    let records = receipts_setup(s);
    assert_eq!(s.receipt("m1", &addr("bob")).unwrap(), Some(records[0].clone()));
    assert_eq!(s.receipt("ga", &addr("dave")).unwrap(), Some(records[3].clone()));
    // Unknown message, recipient not tracked, the same handle on another relay, the sender itself.
    assert_eq!(s.receipt("m9", &addr("bob")).unwrap(), None);
    assert_eq!(s.receipt("m1", &addr("carol")).unwrap(), None);
    assert_eq!(s.receipt("m1", &addr("bob@far.example")).unwrap(), None);
    assert_eq!(s.receipt("m1", &addr("alice")).unwrap(), None);
    // Every tracked recipient of a message, by address text, limited.
    assert_eq!(
        receipt_ids(&s.message_receipts("ga", 10).unwrap()),
        vec![("ga", "bob"), ("ga", "carol"), ("ga", "dave")]
    );
    assert_eq!(receipt_ids(&s.message_receipts("ga", 2).unwrap()), vec![("ga", "bob"), ("ga", "carol")]);
    assert_eq!(s.message_receipts("ga", 0).unwrap(), vec![]);
    assert_eq!(s.message_receipts("m9", 10).unwrap(), vec![]);

    // An upsert replaces the whole record.
    let delivered = ReceiptRec { delivered_at: Some(-7), ..records[0].clone() };
    apply_all(s, &[Mutation::PutReceipt(delivered.clone())]);
    assert_eq!(s.receipt("m1", &addr("bob")).unwrap(), Some(delivered.clone()));
    let read = ReceiptRec { read_at: Some(9), ..delivered };
    apply_all(s, &[Mutation::PutReceipt(read.clone())]);
    assert_eq!(s.message_receipts("m1", 10).unwrap(), vec![read]);
    // Nothing of it is loaded into memory.
    assert_eq!(load(s), Snapshot::default());
}

fn undelivered_receipts_by_stream_range(s: &mut dyn Storage) {
    let mut records = receipts_setup(s);
    for (n, id) in ["b3", "b4", "b5", "b6"].into_iter().enumerate() {
        records.push(receipt_rec(id, "bob", "carol", None, Some(n as u64 + 3)));
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

    // Delivering takes a record out of the range at once, before the commit too.
    s.apply(&Mutation::PutReceipt(ReceiptRec { delivered_at: Some(50), ..records[4].clone() })).unwrap();
    assert_eq!(pending(s, 0, u64::MAX, 100), vec!["m1", "ga", "b5", "b6"]);
    s.commit().unwrap();
    assert_eq!(s.receipt("b3", &bob).unwrap().and_then(|r| r.delivered_at), Some(50));
}

/// alice: 1 her message m1 with receipts, 2 a delivered receipt from bob, 3 a group read receipt from carol.
fn receipt_items_in_streams(s: &mut dyn Storage) {
    let m1 = Message { receipts: true, ..message("m1", "alice", "bob", 10) };
    let ga = GroupMessage { receipts: true, ..group_message("ga", "g1", "carol", 11) };
    let delivered = Receipt {
        by: addr("bob"),
        state: ReceiptState::Delivered,
        message_ids: vec!["m1".to_owned(), "m0".to_owned()],
        group: None,
    };
    let read = Receipt {
        by: addr("carol@far.example"),
        state: ReceiptState::Read,
        message_ids: vec!["g ✓".to_owned()],
        group: Some("g1".to_owned()),
    };
    apply_all(
        s,
        &[
            store(&m1, 1, 1),
            Mutation::AppendReceipt { handle: handle("alice"), seq: 2, at: 20, receipt: delivered.clone() },
            Mutation::AppendReceipt { handle: handle("alice"), seq: 3, at: 30, receipt: read.clone() },
            store_group(&ga, 1, &[("carol", 1), ("bob", 2)]),
        ],
    );
    assert_eq!(
        s.stream_page(&addr("alice"), 0, u64::MAX, 10).unwrap(),
        vec![
            message_item(1, &m1),
            StreamItem { seq: 2, at: 20, body: ItemBody::Receipt { receipt: delivered } },
            StreamItem { seq: 3, at: 30, body: ItemBody::Receipt { receipt: read } },
        ]
    );
    assert_eq!(load(s).heads, vec![(handle("alice"), 3), (handle("bob"), 2), (handle("carol"), 1)]);
    // Messages keep their receipts flag wherever they are read.
    assert_eq!(s.stream_page(&addr("bob"), 0, 9, 9).unwrap(), vec![message_item(1, &m1), group_item(2, &ga)]);
    assert_eq!(s.find_client_msg(&addr("alice"), "client-m1").unwrap(), Some((m1.clone(), 1)));
    assert_eq!(s.find_group_client_msg(&addr("carol"), "client-ga").unwrap(), Some((ga.clone(), 1)));
    let page = s.history(&addr("bob"), &addr("alice"), HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![m1]);
    let page = s.group_history("g1", 0, HistoryCursor::Latest, 9).unwrap().unwrap();
    assert_eq!(page.messages, vec![ga]);
}

fn receipts_survive_handle_removal(s: &mut dyn Storage) {
    let records = receipts_setup(s);
    apply_all(
        s,
        &[
            Mutation::AppendReceipt {
                handle: handle("alice"),
                seq: 1,
                at: 5,
                receipt: Receipt {
                    by: addr("bob"),
                    state: ReceiptState::Read,
                    message_ids: vec!["m1".to_owned()],
                    group: None,
                },
            },
            Mutation::RemoveHandle(handle("alice")),
            Mutation::RemoveHandle(handle("bob")),
        ],
    );
    // The stream goes with the handle; the records are the core's to keep or drop, as other records are.
    assert_eq!(s.stream_page(&addr("alice"), 0, u64::MAX, 9).unwrap(), vec![]);
    assert_eq!(s.message_receipts("ga", 9).unwrap().len(), 3);
    assert_eq!(
        s.undelivered_receipts(&addr("bob"), 0, u64::MAX, 9).unwrap(),
        vec![records[0].clone(), records[2].clone()]
    );
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
    group_records_put_overwrite_delete,
    invite_policy_round_trips,
    group_messages_in_streams,
    find_group_client_msg,
    group_history_since_and_paging,
    group_history_bad_cursors,
    group_messages_survive_handle_removal,
    receipt_records_put_and_overwrite,
    undelivered_receipts_by_stream_range,
    receipt_items_in_streams,
    receipts_survive_handle_removal,
);

// ---------------------------------------------------------------------------------------------------------------
// Differential: random valid mutation sequences, every read compared between memory and SQLite.
// ---------------------------------------------------------------------------------------------------------------

mod differential {
    use proptest::prelude::*;

    use super::*;

    const NAMES: [&str; 4] = ["alice", "bob", "carol", "zed@far.example"];
    const GROUPS: [&str; 2] = ["g0", "g1"];
    const POLICIES: [InvitePolicy; 3] = [InvitePolicy::Auto, InvitePolicy::Ask, InvitePolicy::Refuse];

    #[derive(Debug, Clone)]
    enum Op {
        Entry {
            owner: usize,
            peer: usize,
            nickname: Option<u8>,
        },
        DeleteEntry {
            owner: usize,
            peer: usize,
        },
        Block {
            owner: usize,
            target: usize,
            at: i64,
        },
        DeleteBlock {
            owner: usize,
            target: usize,
        },
        Deletion {
            deleter: usize,
            deleted: usize,
            state: usize,
        },
        Handle {
            who: usize,
            acked: u64,
        },
        Message {
            from: usize,
            to: usize,
        },
        Event {
            who: usize,
            about: usize,
        },
        Remove {
            who: usize,
        },
        Group {
            group: usize,
            owner: usize,
            archived: bool,
        },
        Member {
            group: usize,
            who: usize,
            since: u64,
        },
        DeleteMember {
            group: usize,
            who: usize,
        },
        GroupInvite {
            group: usize,
            invitee: usize,
            by: usize,
        },
        DeleteGroupInvite {
            group: usize,
            invitee: usize,
        },
        /// A message to `group` from `from`, delivered to the local handles whose bit is set in `to`.
        GroupMessage {
            group: usize,
            from: usize,
            to: u8,
        },
        Policy {
            who: usize,
            policy: usize,
        },
        /// Upserts the receipt of the `message`-th message made so far (direct or group) for `recipient`.
        Receipt {
            message: usize,
            recipient: usize,
            seq: Option<u8>,
            delivered: bool,
            read: bool,
        },
        /// Appends a receipt item to a local handle's stream.
        ReceiptItem {
            who: usize,
            by: usize,
            read: bool,
            group: bool,
        },
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
            1 => (local.clone(), who.clone()).prop_map(|(who, about)| Op::Event { who, about }),
            1 => local.clone().prop_map(|who| Op::Remove { who }),
            1 => (0..GROUPS.len(), who.clone(), any::<bool>())
                .prop_map(|(group, owner, archived)| Op::Group { group, owner, archived }),
            1 => (0..GROUPS.len(), who.clone(), 0..6u64).prop_map(|(group, who, since)| Op::Member { group, who, since }),
            1 => (0..GROUPS.len(), who.clone()).prop_map(|(group, who)| Op::DeleteMember { group, who }),
            1 => (0..GROUPS.len(), who.clone(), who.clone())
                .prop_map(|(group, invitee, by)| Op::GroupInvite { group, invitee, by }),
            1 => (0..GROUPS.len(), who.clone()).prop_map(|(group, invitee)| Op::DeleteGroupInvite { group, invitee }),
            4 => (0..GROUPS.len(), who.clone(), 0..8u8).prop_map(|(group, from, to)| Op::GroupMessage { group, from, to }),
            1 => (local.clone(), 0..POLICIES.len()).prop_map(|(who, policy)| Op::Policy { who, policy }),
            3 => (any::<usize>(), who.clone(), proptest::option::of(0..8u8), any::<bool>(), any::<bool>())
                .prop_map(|(message, recipient, seq, delivered, read)| {
                    Op::Receipt { message, recipient, seq, delivered, read }
                }),
            1 => (local, who, any::<bool>(), any::<bool>())
                .prop_map(|(who, by, read, group)| Op::ReceiptItem { who, by, read, group }),
            1 => Just(Op::Commit),
        ]
    }

    /// Turns ops into valid mutations: fresh message ids, stream seqs counting up per handle, each name removed once.
    fn mutations(ops: &[Op]) -> Vec<Option<Mutation>> {
        let mut heads = [0u64; NAMES.len()];
        let mut removed = [false; NAMES.len()];
        // Each group numbers its messages 1, 2, ... in arrival order, as the core does.
        let mut numbers = [0u64; GROUPS.len()];
        let mut next_seq = |who: usize| {
            heads[who] += 1;
            heads[who]
        };
        let states =
            [DeletionState::Deleted, DeletionState::Notified, DeletionState::Requested, DeletionState::Refused];
        // Ids of the messages made so far, direct and group, for receipts to refer to.
        let mut made: Vec<(String, Option<&str>, usize)> = Vec::new();
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
                        made.push((m.id.clone(), None, from));
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
                    Op::Group { group, owner, archived } => Mutation::PutGroup(GroupRec {
                        id: GROUPS[group].to_owned(),
                        title: archived.then(|| format!("title {i}")),
                        owner: addr(NAMES[owner]),
                        created_at: i as i64,
                        archived,
                        messages: numbers[group],
                    }),
                    Op::Member { group, who, since } => Mutation::PutMember(MemberRec {
                        group: GROUPS[group].to_owned(),
                        member: addr(NAMES[who]),
                        joined_at: i as i64,
                        since,
                    }),
                    Op::DeleteMember { group, who } => {
                        Mutation::DeleteMember { group: GROUPS[group].to_owned(), member: addr(NAMES[who]) }
                    }
                    Op::GroupInvite { group, invitee, by } => Mutation::PutGroupInvite(GroupInviteRec {
                        group: GROUPS[group].to_owned(),
                        invitee: addr(NAMES[invitee]),
                        by: addr(NAMES[by]),
                        at: i as i64,
                    }),
                    Op::DeleteGroupInvite { group, invitee } => {
                        Mutation::DeleteGroupInvite { group: GROUPS[group].to_owned(), invitee: addr(NAMES[invitee]) }
                    }
                    Op::GroupMessage { group, from, to } => {
                        numbers[group] += 1;
                        let m = group_message(&format!("gm{i}"), GROUPS[group], NAMES[from], i as i64);
                        made.push((m.id.clone(), Some(GROUPS[group]), from));
                        // Local handles only (the last name is remote), the sender's copy wherever its bit says.
                        let deliveries = (0..NAMES.len() - 1)
                            .filter(|&who| to & (1 << who) != 0)
                            .map(|who| (handle(NAMES[who]), next_seq(who)))
                            .collect();
                        Mutation::StoreGroupMessage { message: m, number: numbers[group], deliveries }
                    }
                    Op::Policy { who, policy } => Mutation::PutHandle(HandleRec {
                        invite_policy: POLICIES[policy],
                        ..handle_rec(NAMES[who], "acc", who as u32)
                    }),
                    Op::Receipt { message, recipient, seq, delivered, read } => {
                        let (id, group, from) = made.get(message % made.len().max(1))?;
                        Mutation::PutReceipt(ReceiptRec {
                            message_id: id.clone(),
                            recipient: addr(NAMES[recipient]),
                            sender: addr(NAMES[*from]),
                            group: group.map(str::to_owned),
                            seq: seq.map(u64::from),
                            delivered_at: (delivered || read).then_some(i as i64),
                            read_at: read.then_some(i as i64),
                        })
                    }
                    Op::ReceiptItem { who, by, read, group } => Mutation::AppendReceipt {
                        handle: handle(NAMES[who]),
                        seq: next_seq(who),
                        at: i as i64,
                        receipt: Receipt {
                            by: addr(NAMES[by]),
                            state: if read { ReceiptState::Read } else { ReceiptState::Delivered },
                            message_ids: made.iter().rev().take(3).map(|(id, _, _)| id.clone()).collect(),
                            group: group.then(|| GROUPS[0].to_owned()),
                        },
                    },
                    Op::Commit => return None,
                })
            })
            .collect()
    }

    fn compare(mem: &mut MemoryStorage, sql: &mut SqliteStorage, message_ids: &[String], group_ids: &[String]) {
        assert_eq!(load(mem), load(sql));
        for id in message_ids.iter().chain(group_ids) {
            for limit in [0, 2, 10] {
                assert_eq!(mem.message_receipts(id, limit).unwrap(), sql.message_receipts(id, limit).unwrap(), "{id}");
            }
        }
        for group in GROUPS {
            let mut cursors = vec![HistoryCursor::Latest];
            for id in group_ids.iter().step_by(2) {
                cursors.push(HistoryCursor::Before(id));
                cursors.push(HistoryCursor::After(id));
            }
            for since in [0, 2, 5] {
                for &cursor in &cursors {
                    for limit in [0, 1, 3] {
                        assert_eq!(
                            mem.group_history(group, since, cursor, limit).unwrap(),
                            sql.group_history(group, since, cursor, limit).unwrap(),
                            "{group} {since} {cursor:?} {limit}"
                        );
                    }
                }
            }
        }
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
            for (after, upto, limit) in [(0, u64::MAX, usize::MAX), (1, 5, 2), (3, 4, 9), (0, 8, 1)] {
                assert_eq!(
                    mem.undelivered_receipts(&a, after, upto, limit).unwrap(),
                    sql.undelivered_receipts(&a, after, upto, limit).unwrap(),
                    "{name} {after} {upto} {limit}"
                );
            }
            for id in message_ids.iter().chain(group_ids) {
                assert_eq!(mem.receipt(id, &a).unwrap(), sql.receipt(id, &a).unwrap(), "{id} {name}");
            }
            for id in group_ids {
                let client = format!("client-{id}");
                assert_eq!(
                    mem.find_group_client_msg(&a, &client).unwrap(),
                    sql.find_group_client_msg(&a, &client).unwrap(),
                    "{name} {client}"
                );
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
            let mut group_ids = Vec::new();
            for (i, mutation) in mutations(&ops).into_iter().enumerate() {
                match mutation {
                    Some(m) => {
                        match &m {
                            Mutation::StoreMessage { message, .. } => message_ids.push(message.id.clone()),
                            Mutation::StoreGroupMessage { message, .. } => group_ids.push(message.id.clone()),
                            _ => {}
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
                    compare(&mut mem, &mut sql, &message_ids, &group_ids);
                }
            }
            mem.commit().unwrap();
            sql.commit().unwrap();
            compare(&mut mem, &mut sql, &message_ids, &group_ids);
        }
    }
}
