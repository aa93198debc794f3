//! What survives: a graceful restart of the in-process relay, a SIGKILL of the real `huddle-relay` binary, and the
//! binary's admin commands and SIGTERM shutdown.
//!
//! The binary tests need `target/<profile>/huddle-relay`: run `cargo build -p huddle-relay` before `cargo test`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use huddle_shared::client::*;
use huddle_shared::model::{FriendEntry, FriendList, ItemBody, RegistrationPolicy, RequestAnswer};
use huddle_shared::{ClientFrame, ErrorCode, MessageId, ServerFrame};
use huddle_tests::{
    Client, RelayProcess, TestRelay, addr, befriend, bodies, h, messages_of, password_for, run_binary,
    write_binary_config,
};

/// A friend entry without its presence (which depends on who is connected right now): address, nickname, note,
/// since, removed_you, display name.
type Lasting = (String, Option<String>, Option<String>, i64, bool, Option<String>);

fn lasting_list(list: &FriendList) -> (Vec<Lasting>, FriendList) {
    let entries = list
        .entries
        .iter()
        .map(|e: &FriendEntry| {
            (
                e.address.to_string(),
                e.nickname.clone(),
                e.note.clone(),
                e.since,
                e.removed_you,
                e.profile.display_name.clone(),
            )
        })
        .collect();
    let mut rest = list.clone();
    rest.entries.clear();
    (entries, rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_graceful_restart() {
    let mut relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    let mut c = relay.user("carol").await;
    let _d = relay.user("dave").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    a.friend_request("carol", Some("remember me?")).await;
    a.ok(|id| {
        ClientFrame::SetEntry(SetEntry {
            id,
            acting: None,
            friend: addr("bob"),
            nickname: Some("Bobby".into()),
            note: Some("met in the\nFFXI lobby".into()),
        })
    })
    .await;
    a.ok(|id| ClientFrame::Block(Block { id, acting: None, target: addr("dave") })).await;
    b.ok(|id| {
        ClientFrame::SetProfile(SetProfile {
            id,
            acting: None,
            display_name: Some("Bob B.".into()),
            bio: Some("tank".into()),
        })
    })
    .await;
    c.request(|id| ClientFrame::AddHandle(AddHandle { id, handle: h("carol-alt") })).await;

    let texts: Vec<String> = (1..=7).map(|n| format!("before restart {n}")).collect();
    let mut stored = Vec::new();
    for (n, t) in texts.iter().enumerate() {
        stored.push(if n < 5 {
            a.dm("bob", t, &format!("a{n}")).await
        } else {
            b.dm("alice", t, &format!("b{n}")).await
        });
    }
    let live = b.delivered().await;
    let bob_acked = live[2].seq;
    b.ack(None, bob_acked).await;

    let a_list = a.friends().await;
    let b_list = b.friends().await;
    let (history, _) = a.history("bob", None, None, None).await;
    let tokens = (a.token.clone().unwrap(), b.token.clone().unwrap());
    // The heads as of now, from a fresh login.
    let a_head = relay.login("alice").await.handle_info("alice").head;
    let b_head = relay.login("bob").await.handle_info("bob").head;
    assert_eq!((a_head, b_head), (8, 8), "7 messages and one friend-request event each");

    relay.restart().await;
    for old in [&mut a, &mut b, &mut c] {
        old.expect_bye(ErrorCode::ShuttingDown).await;
    }

    // Tokens still log in; heads, acks, lists, profile and history are as they were.
    let mut a = relay.connect().await;
    assert!(matches!(a.login_token(&tokens.0).await, ServerFrame::Session { .. }));
    assert_eq!(a.handle_info("alice").head, a_head);
    let mut b = relay.connect().await;
    assert!(matches!(b.login_token(&tokens.1).await, ServerFrame::Session { .. }));
    assert_eq!((b.handle_info("bob").head, b.handle_info("bob").acked), (b_head, bob_acked));
    assert_eq!(b.handle_info("bob").profile.display_name.as_deref(), Some("Bob B."));
    assert_eq!(lasting_list(&a.friends().await), lasting_list(&a_list));
    assert_eq!(lasting_list(&b.friends().await), lasting_list(&b_list));
    let a_list = a.friends().await;
    assert_eq!(entry_nick(&a_list), Some("Bobby".to_owned()));
    assert_eq!(a_list.requests_out[0].greeting.as_deref(), Some("remember me?"));
    assert_eq!(a_list.blocked, vec![addr("dave")]);
    assert_eq!(a.history("bob", None, None, None).await.0, history);

    // Bob resumes exactly after his ack; the streams continue where they stopped.
    let rest = b.sync_all(None, bob_acked, None).await;
    assert_eq!(rest.first().map(|i| i.seq), Some(bob_acked + 1));
    assert_eq!(rest.last().map(|i| i.seq), Some(b_head));
    let after = a.dm("bob", "after restart", "a-after").await;
    assert_eq!(after.seq, a_head + 1, "alice's stream goes on without reusing a sequence");
    // Idempotency keys survive too.
    assert_eq!(a.dm("bob", &texts[0], "a0").await, stored[0]);
    let items = b.delivered().await;
    assert_eq!(bodies(&items), vec!["after restart"]);
    assert_eq!(items[0].seq, b_head + 1);

    // Carol's second handle and her password are still there.
    let mut c = relay.connect().await;
    let ServerFrame::Session { handles, .. } = c.login_with("carol-alt", &password_for("carol"), None, None).await
    else {
        panic!("carol-alt should log in with carol's password")
    };
    assert_eq!(handles.len(), 2);
    let pending = c.friends_as(Some("carol")).await.requests_in;
    assert_eq!(pending.iter().map(|r| r.address.clone()).collect::<Vec<_>>(), vec![addr("alice")]);
}

fn entry_nick(list: &FriendList) -> Option<String> {
    huddle_tests::entry(list, "bob").and_then(|e| e.nickname.clone())
}

/// Messages alice sends before the SIGKILL: the first `ACKED` `stored` answers are collected, the kill follows the
/// last of them at once while up to `IN_FLIGHT` more are still being handled.
const ACKED: usize = 200;
const TOTAL: usize = 260;
const IN_FLIGHT: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_sigkill_of_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_binary_config(dir.path(), "");
    let mut relay = RelayProcess::spawn(&config, &data, dir.path()).await;

    let mut a = relay.connect().await;
    a.register("alice").await;
    let mut b = relay.connect().await;
    b.register("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    drop(b);

    // Keep IN_FLIGHT sends going; record every `stored`; SIGKILL right after the ACKED-th.
    let body = |n: usize| format!("message {n:03} {}", "x".repeat(n % 50));
    let mut acked: BTreeMap<usize, (MessageId, u64)> = BTreeMap::new();
    let mut in_flight: std::collections::VecDeque<(u64, usize)> = Default::default();
    let mut next = 0;
    while acked.len() < ACKED {
        while in_flight.len() < IN_FLIGHT && next < TOTAL {
            let id = a.next_id();
            a.send_frame(&ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr("bob")),
                body: body(next),
                client_msg_id: format!("k{next}"),
                receipts: false,
            }))
            .await;
            in_flight.push_back((id, next));
            next += 1;
        }
        let (id, n) = in_flight.pop_front().unwrap();
        match a.wait_answer(id).await {
            ServerFrame::Stored { message_id, seq, .. } => {
                acked.insert(n, (message_id, seq));
            }
            other => panic!("message {n}: {other:?}"),
        }
    }
    relay.kill();
    assert!(a.expect_closed().await.0.is_none(), "a killed relay says no bye");

    let relay = RelayProcess::spawn(&config, &data, dir.path()).await;
    let mut b = relay.connect().await;
    b.login("bob").await;
    let items = b.sync_all(None, 0, None).await; // also checks seqs are 1, 2, 3... without gap or repeat
    assert_eq!(items.first().map(|i| i.seq), Some(1));
    let messages = messages_of(&items);
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for m in &messages {
        *by_key.entry(m.client_msg_id.as_str()).or_default() += 1;
    }
    assert!(by_key.values().all(|&count| count == 1), "no message twice");
    let found: HashMap<&str, &huddle_shared::model::Message> =
        messages.iter().map(|m| (m.client_msg_id.as_str(), *m)).collect();
    for (n, (message_id, _)) in &acked {
        let m = found.get(format!("k{n}").as_str()).unwrap_or_else(|| panic!("acknowledged message {n} was lost"));
        assert_eq!((&m.id, &m.body), (message_id, &body(*n)), "message {n}");
    }
    assert!(messages.len() >= ACKED && messages.len() <= next, "{} messages after the crash", messages.len());

    // Alice's own stream holds each acknowledged message at the seq its `stored` named.
    let mut a = relay.connect().await;
    a.login("alice").await;
    let own: HashMap<u64, MessageId> = a
        .sync_all(None, 0, None)
        .await
        .into_iter()
        .filter_map(|i| match i.body {
            ItemBody::Message { message } => Some((i.seq, message.id)),
            ItemBody::Event { .. } | ItemBody::Receipt { .. } | ItemBody::Unknown => None,
        })
        .collect();
    for (n, (message_id, seq)) in &acked {
        assert_eq!(own.get(seq), Some(message_id), "message {n} at seq {seq} of alice's stream");
    }

    // Resending everything with the same keys completes the set without duplicating anything.
    for n in 0..TOTAL {
        let stored = a.dm("bob", &body(n), &format!("k{n}")).await;
        if let Some((message_id, _)) = acked.get(&n) {
            assert_eq!(&stored.message_id, message_id, "a resend of {n} after the crash is the same message");
        }
    }
    let (history, more) = b.history("alice", None, None, Some(200)).await;
    assert!(more);
    let (older, _) = b.history("alice", Some(&history[0].id), None, Some(200)).await;
    let keys: BTreeSet<String> = older.iter().chain(&history).map(|m| m.client_msg_id.clone()).collect();
    assert_eq!(keys.len(), TOTAL);
    assert_eq!(older.len() + history.len(), TOTAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binarys_admin_commands_and_sigterm_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_binary_config(dir.path(), "registration = \"invite\"");

    // Admin commands work on the data directory before the relay ever ran.
    let out =
        run_binary(&config, &data, &["user", "add", "alice", "--password-stdin"], Some("alice-secret-password\n"));
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created alice@localhost."));
    assert_eq!(password_for("alice"), "alice-secret-password");
    let out = run_binary(&config, &data, &["invite", "create", "--count", "2"], None);
    assert!(out.status.success());
    let codes: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    let out = run_binary(&config, &data, &["invite", "revoke", &codes[1]], None);
    assert!(out.status.success());
    let out = run_binary(&config, &data, &["user", "add", "alice", "--password-stdin"], Some("another password\n"));
    assert!(!out.status.success(), "alice exists already");

    let mut relay = RelayProcess::spawn(&config, &data, dir.path()).await;
    let mut a = Client::connect(relay.addr).await;
    match a.hello().await {
        ServerFrame::Hello { registration, .. } => assert_eq!(registration, RegistrationPolicy::Invite),
        other => panic!("{other:?}"),
    }
    a.login("alice").await;
    let mut b = relay.connect().await;
    let answer = b.register_with("bob", &password_for("bob"), Some(&codes[0])).await;
    assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
    let mut c = relay.connect().await;
    for code in [&codes[0], &codes[1]] {
        let answer = c.register_with("carol", &password_for("carol"), Some(code)).await;
        assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::InviteInvalid, .. }), "{answer:?}");
    }

    // SIGTERM: every connection is told, the process exits cleanly.
    let status = relay.terminate().await;
    assert!(status.success(), "exit status {status}; log:\n{}", relay.log_text());
    for client in [&mut a, &mut b, &mut c] {
        client.expect_bye(ErrorCode::ShuttingDown).await;
    }
    let out = run_binary(&config, &data, &["user", "list"], None);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("alice@localhost") && listing.contains("bob@localhost"), "{listing}");
    let out = run_binary(&config, &data, &["invite", "list"], None);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains(&format!("{}  used by bob", codes[0])), "{listing}");
    assert!(listing.contains(&format!("{}  revoked", codes[1])), "{listing}");

    // After the restart, bob's token still works.
    let relay = RelayProcess::spawn(&config, &data, dir.path()).await;
    let mut b2 = relay.connect().await;
    assert!(matches!(b2.login_token(b.token.as_deref().unwrap()).await, ServerFrame::Session { .. }));
}
