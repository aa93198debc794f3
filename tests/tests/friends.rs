//! Friend lists with consent, the mutual-deletion protocol, blocks, and presence, over real WebSockets.

use huddle_shared::client::*;
use huddle_shared::model::{
    DeletionAnswer, DeletionState, Event, PresenceState, RequestAnswer, ShownState, StreamItem,
};
use huddle_shared::{Address, ClientFrame, ErrorCode, ServerFrame};
use huddle_tests::{Client, TestRelay, addr, befriend, entry, entry_addresses, events_of};

/// The events among the `deliver` pushes this connection got (after a barrier).
async fn delivered_events(c: &mut Client) -> Vec<Event> {
    let items: Vec<StreamItem> = c.delivered().await;
    events_of(&items).into_iter().cloned().collect()
}

/// The `presence` pushes this connection got (after a barrier), as (of, state, activity).
async fn presence_pushes(c: &mut Client) -> Vec<(Address, ShownState, Option<String>, bool)> {
    c.pushes_after_barrier(|f| matches!(f, ServerFrame::Presence { .. }))
        .await
        .into_iter()
        .map(|f| match f {
            ServerFrame::Presence { of, presence, .. } => {
                (of, presence.state, presence.activity, presence.last_seen.is_some())
            }
            _ => unreachable!(),
        })
        .collect()
}

async fn set_presence(c: &mut Client, state: Option<PresenceState>, activity: Option<&str>) {
    c.ok(|id| {
        ClientFrame::SetPresence(SetPresence {
            id,
            acting: None,
            state,
            activity: activity.map(Into::into),
            location: None,
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_request_waits_for_the_next_login_and_accept_is_one_way() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    drop(relay.user("bob").await);

    a.friend_request("bob", Some("hi, it's alice from the raid")).await;
    assert_eq!(a.friends().await.requests_out.iter().map(|r| r.address.clone()).collect::<Vec<_>>(), vec![addr("bob")]);

    // Bob was offline: the request is on his list at login, and the event is in his stream.
    let mut b = relay.connect().await;
    let ServerFrame::Session { handles, .. } = b.login("bob").await else { unreachable!() };
    assert_eq!((handles[0].head, handles[0].acked), (1, 0));
    let list = b.last_pushed_friends(&addr("bob")).await;
    assert_eq!(list.requests_in.len(), 1);
    assert_eq!(list.requests_in[0].address, addr("alice"));
    assert_eq!(list.requests_in[0].greeting.as_deref(), Some("hi, it's alice from the raid"));
    let items = b.sync_all(None, 0, None).await;
    assert_eq!(
        events_of(&items),
        vec![&Event::RequestReceived { peer: addr("alice"), greeting: Some("hi, it's alice from the raid".into()) }]
    );

    // Accept: bob goes on alice's list, not the other way round.
    b.answer_request("alice", RequestAnswer::Accept).await;
    assert_eq!(
        delivered_events(&mut a).await,
        vec![Event::RequestAnswered { peer: addr("bob"), answer: RequestAnswer::Accept }]
    );
    let list = a.last_pushed_friends(&addr("alice")).await;
    assert_eq!(entry_addresses(&list), vec!["bob@localhost"]);
    assert!(list.requests_out.is_empty());
    assert_eq!(entry(&list, "bob").unwrap().presence.state, ShownState::Online);
    let list = b.friends().await;
    assert!(list.entries.is_empty() && list.requests_in.is_empty(), "{list:?}");

    // One entry is enough for either side to write.
    a.dm("bob", "thanks!", "a1").await;
    b.dm("alice", "np", "b1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_mutual_reject_and_cancel() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    let mut c = relay.user("carol").await;
    let mut d = relay.user("dave").await;

    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    assert_eq!(entry_addresses(&a.friends().await), vec!["bob@localhost"]);
    assert_eq!(entry_addresses(&b.friends().await), vec!["alice@localhost"]);

    a.friend_request("carol", None).await;
    c.answer_request("alice", RequestAnswer::Reject).await;
    assert_eq!(
        delivered_events(&mut a).await,
        vec![Event::RequestAnswered { peer: addr("carol"), answer: RequestAnswer::Reject }]
    );
    let list = a.friends().await;
    assert!(entry(&list, "carol").is_none() && list.requests_out.is_empty());
    let refused = a.send_message("carol", "hi?", "a1").await;
    assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{refused:?}");

    a.friend_request("dave", None).await;
    assert_eq!(d.friends().await.requests_in.len(), 1);
    a.ok(|id| ClientFrame::CancelRequest(CancelRequest { id, acting: None, to: addr("dave") })).await;
    let events = delivered_events(&mut d).await;
    assert_eq!(events.last(), Some(&Event::RequestCancelled { peer: addr("alice") }));
    assert!(d.friends().await.requests_in.is_empty());
    assert_eq!(
        d.err(|id| ClientFrame::AnswerRequest(AnswerRequest {
            id,
            acting: None,
            from: addr("alice"),
            answer: RequestAnswer::Accept
        }))
        .await,
        ErrorCode::NoSuchRequest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_blocking_handles_look_the_same() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    b.ok(|id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") })).await;
    b.barrier().await;
    b.drain();

    let request =
        |to: Address| move |id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to, greeting: None });
    let (blocked_code, blocked_msg, _) = a.error(request(addr("bob"))).await;
    let (unknown_code, unknown_msg, _) = a.error(request(addr("zed"))).await;
    assert_eq!((blocked_code, unknown_code), (ErrorCode::NotReachable, ErrorCode::NotReachable));
    assert_eq!(blocked_msg.replace("bob", "X"), unknown_msg.replace("zed", "X"), "same words too");
    assert!(b.pushes_after_barrier(|_| true).await.is_empty(), "nothing reaches the blocker");

    assert_eq!(a.err(request(addr("alice"))).await, ErrorCode::SelfRequest);
    let remote = Address::parse("bob@elsewhere.example").unwrap();
    assert_eq!(a.err(request(remote)).await, ErrorCode::FederationUnavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_deletion_refused_while_chatting_then_asked_again_and_confirmed() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    let mut c = relay.user("carol").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    befriend(&mut b, &mut c, RequestAnswer::AcceptMutual).await;

    // Step 1: alice deletes bob. Bob's entry for her is marked and shows her offline; neither can write.
    a.ok(|id| ClientFrame::DeleteFriend(DeleteFriend { id, acting: None, friend: addr("bob") })).await;
    let list = b.last_pushed_friends(&addr("bob")).await;
    let alice = entry(&list, "alice").expect("alice stays on bob's list, marked");
    assert!(alice.removed_you);
    assert_eq!(alice.presence.state, ShownState::Offline);
    let list = a.last_pushed_friends(&addr("alice")).await;
    assert!(list.entries.is_empty());
    assert_eq!(list.deletions_out.len(), 1);
    assert_eq!(
        (list.deletions_out[0].address.clone(), list.deletions_out[0].state),
        (addr("bob"), DeletionState::Deleted)
    );
    for (from, to) in [(&mut a, "bob"), (&mut b, "alice")] {
        let refused = from.send_message(to, "?", "x1").await;
        assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{refused:?}");
    }

    // Bob is chatting with carol when alice notifies him and asks him to delete her too.
    b.dm("carol", "so anyway, about tonight", "b1").await;
    a.ok(|id| ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: addr("bob"), ask_delete: true }))
        .await;
    c.dm("bob", "8pm works", "c1").await;
    let items = b.delivered().await;
    assert_eq!(events_of(&items), vec![&Event::DeletionNotice { peer: addr("alice"), asks_delete: true }]);
    assert_eq!(huddle_tests::bodies(&items), vec!["8pm works"], "the chat goes on beside the notice");
    let list = b.friends().await;
    assert_eq!(list.deletions_in.iter().map(|d| d.address.clone()).collect::<Vec<_>>(), vec![addr("alice")]);
    assert_eq!(a.friends().await.deletions_out[0].state, DeletionState::Requested);
    assert_eq!(
        a.err(|id| ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: addr("bob"), ask_delete: true }))
            .await,
        ErrorCode::RequestPending
    );

    // Bob refuses and keeps alice on his list.
    b.ok(|id| {
        ClientFrame::AnswerDeletion(AnswerDeletion {
            id,
            acting: None,
            from: addr("alice"),
            answer: DeletionAnswer::Refuse,
        })
    })
    .await;
    assert_eq!(
        delivered_events(&mut a).await,
        vec![Event::DeletionAnswered { peer: addr("bob"), answer: DeletionAnswer::Refuse }]
    );
    assert_eq!(a.friends().await.deletions_out[0].state, DeletionState::Refused);
    let list = b.friends().await;
    assert!(list.deletions_in.is_empty());
    assert!(entry(&list, "alice").is_some());
    assert_eq!(
        b.err(|id| ClientFrame::AnswerDeletion(AnswerDeletion {
            id,
            acting: None,
            from: addr("alice"),
            answer: DeletionAnswer::Confirm,
        }))
        .await,
        ErrorCode::NoDeletionRequest
    );

    // Alice asks again; this time bob confirms. Both lists end up without the other; carol stays.
    a.ok(|id| ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: addr("bob"), ask_delete: true }))
        .await;
    assert_eq!(delivered_events(&mut b).await, vec![Event::DeletionNotice { peer: addr("alice"), asks_delete: true }]);
    b.ok(|id| {
        ClientFrame::AnswerDeletion(AnswerDeletion {
            id,
            acting: None,
            from: addr("alice"),
            answer: DeletionAnswer::Confirm,
        })
    })
    .await;
    assert_eq!(
        delivered_events(&mut a).await,
        vec![Event::DeletionAnswered { peer: addr("bob"), answer: DeletionAnswer::Confirm }]
    );
    let list = b.last_pushed_friends(&addr("bob")).await;
    assert_eq!(entry_addresses(&list), vec!["carol@localhost"]);
    assert!(list.deletions_in.is_empty() && list.deletions_out.is_empty());
    let list = a.last_pushed_friends(&addr("alice")).await;
    assert!(list.entries.is_empty() && list.deletions_out.is_empty(), "{list:?}");
    assert_eq!(
        a.err(|id| ClientFrame::NotifyDeletion(NotifyDeletion {
            id,
            acting: None,
            to: addr("bob"),
            ask_delete: false
        }))
        .await,
        ErrorCode::NoDeletion
    );
    let refused = b.send_message("alice", "still there?", "b2").await;
    assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{refused:?}");
    b.dm("carol", "anyway", "b3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_hides_presence_and_messages_and_unblocking_restores_them() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;

    a.ok(|id| ClientFrame::Block(Block { id, acting: None, target: addr("bob") })).await;
    assert_eq!(a.friends().await.blocked, vec![addr("bob")]);
    let list = b.last_pushed_friends(&addr("bob")).await;
    assert_eq!(entry(&list, "alice").unwrap().presence.state, ShownState::Offline, "the blocker looks offline");
    for (from, to) in [(&mut a, "bob"), (&mut b, "alice")] {
        let refused = from.send_message(to, "hey", "x").await;
        assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{refused:?}");
    }
    set_presence(&mut a, Some(PresenceState::Away), Some("hiding")).await;
    assert!(presence_pushes(&mut b).await.is_empty(), "no presence reaches the blocked");

    a.ok(|id| ClientFrame::Unblock(Unblock { id, acting: None, target: addr("bob") })).await;
    let list = b.last_pushed_friends(&addr("bob")).await;
    let alice = entry(&list, "alice").unwrap();
    assert_eq!((alice.presence.state.clone(), alice.presence.activity.as_deref()), (ShownState::Away, Some("hiding")));
    assert!(a.friends().await.blocked.is_empty());
    b.dm("alice", "welcome back", "b1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_reaches_only_those_who_list_the_handle() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    let mut c = relay.user("carol").await;
    let mut d = relay.user("dave").await;
    // alice and bob list each other; dave lists bob (bob accepted plainly); carol lists nobody.
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;
    befriend(&mut d, &mut b, RequestAnswer::Accept).await;
    c.barrier().await;
    c.drain();

    set_presence(&mut b, Some(PresenceState::Away), Some("playing FFXI — waiting for a table")).await;
    let away = (addr("bob"), ShownState::Away, Some("playing FFXI — waiting for a table".to_owned()), false);
    assert_eq!(presence_pushes(&mut a).await, vec![away.clone()]);
    assert_eq!(presence_pushes(&mut d).await, vec![away]);
    assert!(presence_pushes(&mut c).await.is_empty(), "carol does not list bob");
    // Bob does not list dave, so dave's changes do not reach bob.
    set_presence(&mut d, Some(PresenceState::Busy), None).await;
    assert!(presence_pushes(&mut b).await.is_empty());

    // Invisible shows as offline, without activity; back online shows it again.
    set_presence(&mut b, Some(PresenceState::Invisible), None).await;
    assert_eq!(presence_pushes(&mut a).await, vec![(addr("bob"), ShownState::Offline, None, true)]);
    set_presence(&mut b, Some(PresenceState::Online), None).await;
    let online = presence_pushes(&mut a).await;
    assert_eq!(online.len(), 1);
    assert_eq!(
        (online[0].1.clone(), online[0].2.as_deref()),
        (ShownState::Online, Some("playing FFXI — waiting for a table"))
    );

    // A second connection that is away does not lower the shown state; closing both shows offline with last seen.
    let mut b2 = relay.connect().await;
    b2.login_with("bob", &huddle_tests::password_for("bob"), None, Some(PresenceState::Away)).await;
    assert!(presence_pushes(&mut a).await.is_empty(), "online beats away");
    drop(b);
    drop(b2);
    let offline = a
        .expect_push(|f| {
            matches!(f, ServerFrame::Presence { of, presence, .. } if *of == addr("bob") && presence.state == ShownState::Offline)
        })
        .await;
    let ServerFrame::Presence { presence, .. } = offline else { unreachable!() };
    assert!(presence.last_seen.is_some() && presence.activity.is_none(), "{presence:?}");
    assert!(presence_pushes(&mut c).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_friends_frame_at_login_carries_everyones_presence() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    let mut c = relay.user("carol").await;
    let mut d = relay.user("dave").await;
    for friend in [&mut b, &mut c, &mut d] {
        befriend(&mut a, friend, RequestAnswer::AcceptMutual).await;
    }
    set_presence(&mut b, Some(PresenceState::Away), Some("raiding")).await;
    set_presence(&mut c, Some(PresenceState::Invisible), Some("secret")).await;
    drop(d);
    // Wait until dave's disconnect was handled (alice sees him go offline).
    a.expect_push(|f| matches!(f, ServerFrame::Presence { of, presence, .. } if *of == addr("dave") && presence.state == ShownState::Offline)).await;
    drop(a);
    b.expect_push(|f| matches!(f, ServerFrame::Presence { of, presence, .. } if *of == addr("alice") && presence.state == ShownState::Offline)).await;
    b.barrier().await;
    b.drain();

    let mut a = relay.connect().await;
    a.login("alice").await;
    let list = a.expect_push(|f| matches!(f, ServerFrame::Friends { id: None, .. })).await;
    let ServerFrame::Friends { list, .. } = list else { unreachable!() };
    assert_eq!(entry_addresses(&list), vec!["bob@localhost", "carol@localhost", "dave@localhost"]);
    let bob = &entry(&list, "bob").unwrap().presence;
    assert_eq!((bob.state.clone(), bob.activity.as_deref(), bob.last_seen), (ShownState::Away, Some("raiding"), None));
    let carol = &entry(&list, "carol").unwrap().presence;
    assert_eq!(
        (carol.state.clone(), carol.activity.as_deref()),
        (ShownState::Offline, None),
        "invisible hides activity"
    );
    let dave = &entry(&list, "dave").unwrap().presence;
    assert_eq!(dave.state, ShownState::Offline);
    assert!(dave.last_seen.is_some(), "dave was seen before he left");

    // Alice's return reaches bob (a viewer) as a presence push.
    let back = presence_pushes(&mut b).await;
    assert_eq!(
        back.iter().map(|p| (p.0.clone(), p.1.clone())).collect::<Vec<_>>(),
        vec![(addr("alice"), ShownState::Online)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_stops_answering_pings_is_dropped_and_shown_offline() {
    // Pings every second, closed after two missed pongs. The client answers pings only while it reads.
    let relay = TestRelay::start_with(|c| {
        c.limits.ping_interval_secs = 1;
        c.limits.ping_misses = 2;
    })
    .await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;

    // Bob's client hangs (reads nothing, so answers no ping); alice keeps reading and stays connected.
    let offline = a
        .expect_push(|f| {
            matches!(f, ServerFrame::Presence { of, presence, .. } if *of == addr("bob") && presence.state == ShownState::Offline)
        })
        .await;
    let ServerFrame::Presence { presence, .. } = offline else { unreachable!() };
    assert!(presence.last_seen.is_some());
    // Bob's client, reading again, may or may not get to the `bye`: tungstenite answers the queued pings first,
    // and writing to the connection the relay already dropped fails the read. Either way it is closed.
    match b.expect_closed().await {
        (None, _) => {}
        (Some(bye), _) => {
            assert!(matches!(bye, ServerFrame::Bye { code: huddle_shared::ErrorCode::PingTimeout, .. }), "{bye:?}")
        }
    }
    assert!(a.friends().await.entries.iter().all(|e| e.presence.state == ShownState::Offline));
}
