#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Writes `relay/tests/fixtures/relay-v3.db`: a relay database of schema version 3 filled by the relay of that time
//! through its own protocol, so that later schema migrations are tested on data as real code wrote it.
//!
//! Run once, by hand, with the code of schema 3:
//! `HUDDLE_FIXTURE_OUT=relay/tests/fixtures cargo test -p huddle-tests --test make_fixture_v3 -- --ignored`

use std::net::SocketAddr;
use std::path::PathBuf;

use huddle_relay::admin::Admin;
use huddle_relay::password::PasswordParams;
use huddle_relay::storage::SqliteStorage;
use huddle_relay::{RelaySetup, RunningRelay};
use huddle_shared::model::{DeletionAnswer, InvitePolicy, PresenceState, RequestAnswer};
use huddle_shared::{ClientFrame, RelayName, ServerFrame};
use huddle_tests::{Client, addr, h, test_config};

async fn user(at: SocketAddr, handle: &str) -> Client {
    let mut c = Client::connect(at).await;
    c.hello().await;
    c.register(handle).await;
    c.barrier().await;
    c.drain();
    c
}

async fn send(c: &mut Client, acting: Option<&str>, to: &str, body: &str, cmid: &str, receipts: bool) -> String {
    let answer = c
        .request(|id| ClientFrame::Send {
            id,
            acting: acting.map(h),
            to: addr(to),
            body: body.to_owned(),
            client_msg_id: cmid.to_owned(),
            receipts,
        })
        .await;
    match answer {
        ServerFrame::Stored { message_id, .. } => message_id,
        other => panic!("{body}: {other:?}"),
    }
}

async fn send_group(c: &mut Client, acting: Option<&str>, group: &str, body: &str, cmid: &str, receipts: bool) -> String {
    let answer = c
        .request(|id| ClientFrame::SendGroup {
            id,
            acting: acting.map(h),
            group: group.to_owned(),
            body: body.to_owned(),
            client_msg_id: cmid.to_owned(),
            receipts,
        })
        .await;
    match answer {
        ServerFrame::Stored { message_id, .. } => message_id,
        other => panic!("{body}: {other:?}"),
    }
}

async fn create_group(
    c: &mut Client,
    acting: Option<&str>,
    members: &[&str],
    title: Option<&str>,
    promoted: bool,
) -> String {
    let answer = c
        .request(|id| ClientFrame::CreateGroup {
            id,
            acting: acting.map(h),
            members: members.iter().map(|m| addr(m)).collect(),
            title: title.map(Into::into),
            promoted,
        })
        .await;
    match answer {
        ServerFrame::Group { group, .. } => group.id,
        other => panic!("create_group: {other:?}"),
    }
}

/// Acknowledges everything the connection's only handle has, up to its head now.
async fn ack_all(c: &mut Client) {
    let (_, _, head) = c.sync_page(None, 0, Some(1)).await;
    c.ack(None, head).await;
}

#[tokio::test]
#[ignore = "writes the schema-3 fixture; run by hand with HUDDLE_FIXTURE_OUT"]
async fn make_fixture_v3() {
    let out = PathBuf::from(std::env::var("HUDDLE_FIXTURE_OUT").expect("HUDDLE_FIXTURE_OUT names the output folder"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let config = test_config();
    let relay = RelayName::parse("localhost").unwrap();
    {
        let storage = SqliteStorage::open(&db, &relay).unwrap();
        let mut admin = Admin::open(storage, relay.clone()).unwrap();
        // One invite used below is made by hand later; these stay unused and revoked.
        admin.create_invite(1_767_225_600_000).unwrap();
        let revoked = admin.create_invite(1_767_225_600_000).unwrap();
        admin.revoke_invite(&revoked).unwrap();
        // A disabled account.
        let phc = huddle_relay::password::hash("frank-secret-password", PasswordParams::insecure_for_tests()).unwrap();
        admin.add_user(&h("frank"), phc, 1_767_225_600_000).unwrap();
        admin.set_disabled(&h("frank"), true).unwrap();
    }
    let storage = SqliteStorage::open(&db, &relay).unwrap();
    let setup = RelaySetup { config, relay, storage, params: PasswordParams::insecure_for_tests() };
    let running = RunningRelay::start(setup).await.unwrap();
    let at = running.addr;

    let mut alice = user(at, "alice").await;
    let mut bob = user(at, "bob").await;
    let mut carol = user(at, "carol").await;
    let mut dave = user(at, "dave").await;
    let mut erin = user(at, "erin").await;

    // Friend lists: alice and bob both ways, alice -> carol one way, bob and carol both ways, alice and dave both
    // ways; erin's request to alice waits; al's request to bob was withdrawn.
    huddle_tests::befriend(&mut alice, &mut bob, RequestAnswer::AcceptMutual).await;
    huddle_tests::befriend(&mut alice, &mut carol, RequestAnswer::Accept).await;
    huddle_tests::befriend(&mut bob, &mut carol, RequestAnswer::AcceptMutual).await;
    huddle_tests::befriend(&mut alice, &mut dave, RequestAnswer::AcceptMutual).await;
    // alice has a second handle, and a third that she removes after bob befriended it (a retired name, and a
    // handle_removed event in bob's stream).
    alice.request(|id| ClientFrame::AddHandle { id, handle: h("al") }).await;
    alice.request(|id| ClientFrame::AddHandle { id, handle: h("tmp") }).await;
    alice.barrier().await;
    alice.drain();
    let mut al = Client::connect(at).await;
    al.hello().await;
    al.login("alice").await;
    al.barrier().await;
    al.drain();

    erin.ok(|id| ClientFrame::FriendRequest { id, acting: None, to: addr("alice"), greeting: Some("hi, it's erin".into()) })
        .await;
    al.ok(|id| ClientFrame::FriendRequest { id, acting: Some(h("al")), to: addr("bob"), greeting: None }).await;
    al.ok(|id| ClientFrame::CancelRequest { id, acting: Some(h("al")), to: addr("bob") }).await;
    al.ok(|id| ClientFrame::FriendRequest { id, acting: Some(h("tmp")), to: addr("bob"), greeting: None }).await;
    bob.ok(|id| ClientFrame::AnswerRequest { id, acting: None, from: addr("tmp"), answer: RequestAnswer::AcceptMutual })
        .await;

    // Profiles, activity, location, private nicknames and notes.
    alice
        .ok(|id| ClientFrame::SetProfile {
            id,
            acting: Some(h("alice")),
            display_name: Some("Alice A.".into()),
            bio: Some("climbs, reads".into()),
        })
        .await;
    alice
        .ok(|id| ClientFrame::SetPresence {
            id,
            acting: Some(h("alice")),
            state: Some(PresenceState::Away),
            activity: Some("at the crag".into()),
            location: Some("Berlin, DE".into()),
        })
        .await;
    alice
        .ok(|id| ClientFrame::SetEntry {
            id,
            acting: Some(h("alice")),
            friend: addr("bob"),
            nickname: Some("Bobby".into()),
            note: Some("met at the gym\nlikes tea".into()),
        })
        .await;

    // Direct messages, some with receipts; bob acknowledges and reads some.
    let mut asked = Vec::new();
    for n in 1..=6 {
        let receipts = n % 2 == 0;
        let id = send(&mut alice, Some("alice"), "bob", &format!("alice to bob #{n} — «ü» 🎉"), &format!("a-{n}"), receipts).await;
        if receipts {
            asked.push(id);
        }
        send(&mut bob, None, "alice", &format!("bob to alice #{n}\nsecond line"), &format!("b-{n}"), false).await;
    }
    send(&mut carol, None, "alice", "carol to alice, who only has her one way", "c-1", true).await;
    send(&mut alice, Some("alice"), "dave", "dave, climbing?", "a-d-1", false).await;
    ack_all(&mut bob).await;
    bob.ok(|id| ClientFrame::Read { id: Some(id), acting: None, message_ids: asked[..2].to_vec() }).await;

    // Groups: a promoted group of alice, bob and carol, renamed, with messages (some with receipts); carol leaves
    // after the second message. dave asks before joining, and has not answered. A second group of bob's ends empty
    // (archived).
    dave.ok(|id| ClientFrame::SetInvitePolicy { id, acting: None, policy: InvitePolicy::Ask }).await;
    let climbers = create_group(&mut alice, Some("alice"), &["bob", "carol"], None, true).await;
    alice
        .ok(|id| ClientFrame::RenameGroup { id, acting: Some(h("alice")), group: climbers.clone(), title: "Climbers".into() })
        .await;
    // alice is not on carol's list, so carol was asked first.
    carol.ok(|id| ClientFrame::AnswerGroupInvite { id, acting: None, group: climbers.clone(), accept: true }).await;
    let g1 = send_group(&mut alice, Some("alice"), &climbers, "group hello", "a-g-1", true).await;
    send_group(&mut bob, None, &climbers, "hi all", "b-g-1", false).await;
    send_group(&mut carol, None, &climbers, "hi! I have to go soon", "c-g-1", true).await;
    carol.ok(|id| ClientFrame::LeaveGroup { id, acting: None, group: climbers.clone() }).await;
    alice
        .ok(|id| ClientFrame::InviteToGroup { id, acting: Some(h("alice")), group: climbers.clone(), who: addr("dave") })
        .await;
    send_group(&mut alice, Some("alice"), &climbers, "after carol left", "a-g-2", false).await;
    ack_all(&mut bob).await;
    bob.send_frame(&ClientFrame::Read { id: None, acting: None, message_ids: vec![g1.clone()] }).await;
    bob.barrier().await;
    let short = create_group(&mut bob, None, &["alice"], Some("short-lived"), false).await;
    send_group(&mut bob, None, &short, "soon gone", "b-s-1", false).await;
    alice.ok(|id| ClientFrame::LeaveGroup { id, acting: Some(h("alice")), group: short.clone() }).await;
    bob.ok(|id| ClientFrame::LeaveGroup { id, acting: None, group: short.clone() }).await;

    // Mutual deletion in every state: alice deleted dave, asked him to delete her too, he refused; carol deleted bob
    // without telling him; bob deleted carol? no — bob keeps carol, marked "removed you".
    alice.ok(|id| ClientFrame::DeleteFriend { id, acting: Some(h("alice")), friend: addr("dave") }).await;
    alice.ok(|id| ClientFrame::NotifyDeletion { id, acting: Some(h("alice")), to: addr("dave"), ask_delete: true }).await;
    dave.ok(|id| ClientFrame::AnswerDeletion { id, acting: None, from: addr("alice"), answer: DeletionAnswer::Refuse })
        .await;
    carol.ok(|id| ClientFrame::DeleteFriend { id, acting: None, friend: addr("bob") }).await;

    // Blocks.
    dave.ok(|id| ClientFrame::Block { id, acting: None, target: addr("erin") }).await;
    carol.ok(|id| ClientFrame::Block { id, acting: None, target: addr("dave") }).await;

    // A group message with receipts that a member who blocks its sender never got (a receipt record without seq).
    bob.ok(|id| ClientFrame::Block { id, acting: None, target: addr("alice") }).await;
    send_group(&mut alice, Some("alice"), &climbers, "bob blocks me right now", "a-g-3", true).await;
    bob.ok(|id| ClientFrame::Unblock { id, acting: None, target: addr("alice") }).await;

    // The removed handle, after its friendship with bob.
    alice.request(|id| ClientFrame::RemoveHandle { id, handle: h("tmp") }).await;

    // carol acknowledges part of her stream only.
    carol.ack(None, 2).await;
    // A second session of bob's, then a logout of it.
    let mut bob2 = Client::connect(at).await;
    bob2.hello().await;
    bob2.login("bob").await;
    bob2.ok(|id| ClientFrame::Logout { id }).await;

    for c in [&mut alice, &mut bob, &mut carol, &mut dave, &mut erin, &mut al] {
        c.barrier().await;
    }
    running.stop().await.unwrap();

    // One self-contained, compacted file, written the way `huddle-relay backup` writes one.
    std::fs::create_dir_all(&out).unwrap();
    let target = out.join("relay-v3.db");
    let _ = std::fs::remove_file(&target);
    let storage = SqliteStorage::open(&db, &RelayName::parse("localhost").unwrap()).unwrap();
    storage.backup_to(&target).unwrap();
}
