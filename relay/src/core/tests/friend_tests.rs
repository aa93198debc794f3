//! Friend requests, the mutual-deletion protocol, blocks and presence.

use super::*;

#[test]
fn request_is_shown_at_every_login_and_accept_puts_the_answerer_on_the_requesters_list() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.ok(a, |id| {
        ClientFrame::FriendRequest(FriendRequest {
            id,
            acting: None,
            to: addr("bob"),
            greeting: Some("hi, it's alice from FFXI".into()),
        })
    });
    assert_eq!(
        t.events(b),
        vec![Event::RequestReceived { peer: addr("alice"), greeting: Some("hi, it's alice from FFXI".into()) }]
    );
    t.disconnect(b);
    let b = t.login("bob");
    let list = t.last_friends(b);
    assert_eq!(list.requests_in.len(), 1, "still waiting at the next login");
    assert_eq!(list.requests_in[0].greeting.as_deref(), Some("hi, it's alice from FFXI"));
    t.ok(b, |id| {
        ClientFrame::AnswerRequest(AnswerRequest {
            id,
            acting: None,
            from: addr("alice"),
            answer: RequestAnswer::Accept,
        })
    });
    assert_eq!(t.events(a), vec![Event::RequestAnswered { peer: addr("bob"), answer: RequestAnswer::Accept }]);
    t.send(a, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    let list = t.last_friends(a);
    let bob = entry(&list, "bob").expect("bob on alice's list");
    assert_eq!(bob.presence.state, ShownState::Online);
    t.send(b, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    assert!(t.last_friends(b).entries.is_empty(), "plain accept is one-way");
    // Either side may message now: an entry links them.
    assert!(matches!(t.dm(b, "alice", "hello"), ServerFrame::Stored { .. }));
    assert!(matches!(t.dm(a, "bob", "hello back"), ServerFrame::Stored { .. }));
}

#[test]
fn accept_mutual_and_reject() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.send(b, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    assert!(entry(&t.last_friends(b), "alice").is_some());
    t.ok(a, |id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to: addr("carol"), greeting: None }));
    t.ok(c, |id| {
        ClientFrame::AnswerRequest(AnswerRequest {
            id,
            acting: None,
            from: addr("alice"),
            answer: RequestAnswer::Reject,
        })
    });
    assert!(t.events(a).contains(&Event::RequestAnswered { peer: addr("carol"), answer: RequestAnswer::Reject }));
    assert!(matches!(t.dm(a, "carol", "hi"), ServerFrame::Error { code: ErrorCode::NotReachable, .. }));
}

#[test]
fn bad_requests_get_clear_errors_and_unknown_handles_look_like_blocks() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let req = |to: &str| {
        let to = Address::parse(to).unwrap();
        move |id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to, greeting: None })
    };
    assert_eq!(t.err(a, req("alice")), ErrorCode::SelfRequest);
    assert_eq!(t.err(a, req("bob@elsewhere.example")), ErrorCode::FederationUnavailable);
    t.ok(a, req("bob"));
    assert_eq!(t.err(a, req("bob")), ErrorCode::RequestPending);
    assert_eq!(t.err(b, req("alice")), ErrorCode::RequestPending, "bob should answer alice's request instead");
    t.ok(a, |id| ClientFrame::CancelRequest(CancelRequest { id, acting: None, to: addr("bob") }));
    assert!(t.events(b).contains(&Event::RequestCancelled { peer: addr("alice") }));
    assert_eq!(
        t.err(b, |id| ClientFrame::AnswerRequest(AnswerRequest {
            id,
            acting: None,
            from: addr("alice"),
            answer: RequestAnswer::Accept,
        })),
        ErrorCode::NoSuchRequest
    );

    // Unknown handle and "blocked you" give the same code and the same sentence shape.
    t.ok(b, |id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") }));
    let blocked = t.request(a, req("bob"));
    let unknown = t.request(a, req("zed"));
    match (blocked, unknown) {
        (ServerFrame::Error { code: c1, message: m1, .. }, ServerFrame::Error { code: c2, message: m2, .. }) => {
            assert_eq!((c1, c2), (ErrorCode::NotReachable, ErrorCode::NotReachable));
            assert_eq!(m1.replace("bob", "X"), m2.replace("zed", "X"));
        }
        other => panic!("{other:?}"),
    }
    assert!(t.events(b).is_empty(), "nothing reaches the blocker");
}

#[test]
fn friend_request_floods_are_limited() {
    let mut t = Harness::new();
    let a = t.register("alice");
    for i in 0..30 {
        t.register(&format!("user{i}"));
        t.ok(a, |id| {
            ClientFrame::FriendRequest(FriendRequest {
                id,
                acting: None,
                to: addr(&format!("user{i}")),
                greeting: None,
            })
        });
    }
    t.register("late");
    let late = |id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to: addr("late"), greeting: None });
    let answer = t.request(a, late);
    let ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(wait), .. } = answer else {
        panic!("{answer:?}")
    };
    // The window is an hour, by the clock passed in: just before the first request leaves it, still limited; once it
    // has, heard again.
    let until = t.now + i64::try_from(wait).unwrap();
    t.now = until - 2;
    assert_eq!(t.err(a, late), ErrorCode::RateLimited);
    t.now = until - 1;
    t.ok(a, late);
}

#[test]
fn mutual_deletion_with_refusal_then_retry_then_confirm() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.befriend(b, c, RequestAnswer::AcceptMutual);

    // Step 1: alice deletes bob. Bob's entry for alice is marked, and the two can no longer talk.
    t.ok(a, |id| ClientFrame::DeleteFriend(DeleteFriend { id, acting: None, friend: addr("bob") }));
    let list = t.last_friends(b);
    let alice = entry(&list, "alice").unwrap();
    assert!(alice.removed_you);
    assert_eq!(alice.presence.state, ShownState::Offline);
    assert!(matches!(t.dm(b, "alice", "?"), ServerFrame::Error { code: ErrorCode::NotReachable, .. }));
    assert!(matches!(t.dm(a, "bob", "?"), ServerFrame::Error { code: ErrorCode::NotReachable, .. }));
    assert_eq!(t.last_friends(a).deletions_out[0].state, DeletionState::Deleted);

    // Bob is chatting with carol when the notice and request arrive.
    assert!(matches!(t.dm(b, "carol", "so anyway"), ServerFrame::Stored { .. }));
    t.ok(a, |id| ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: addr("bob"), ask_delete: true }));
    assert_eq!(t.events(b), vec![Event::DeletionNotice { peer: addr("alice"), asks_delete: true }]);
    assert_eq!(
        t.err(a, |id| ClientFrame::NotifyDeletion(NotifyDeletion {
            id,
            acting: None,
            to: addr("bob"),
            ask_delete: true
        })),
        ErrorCode::RequestPending
    );

    t.ok(b, |id| {
        ClientFrame::AnswerDeletion(AnswerDeletion {
            id,
            acting: None,
            from: addr("alice"),
            answer: DeletionAnswer::Refuse,
        })
    });
    assert_eq!(t.events(a), vec![Event::DeletionAnswered { peer: addr("bob"), answer: DeletionAnswer::Refuse }]);
    assert_eq!(
        t.err(b, |id| ClientFrame::AnswerDeletion(AnswerDeletion {
            id,
            acting: None,
            from: addr("alice"),
            answer: DeletionAnswer::Confirm,
        })),
        ErrorCode::NoDeletionRequest
    );

    // Ask again; this time bob confirms and alice leaves his list.
    t.ok(a, |id| ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: addr("bob"), ask_delete: true }));
    t.take(b);
    t.ok(b, |id| {
        ClientFrame::AnswerDeletion(AnswerDeletion {
            id,
            acting: None,
            from: addr("alice"),
            answer: DeletionAnswer::Confirm,
        })
    });
    assert_eq!(t.events(a), vec![Event::DeletionAnswered { peer: addr("bob"), answer: DeletionAnswer::Confirm }]);
    t.send(b, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    let list = t.last_friends(b);
    assert!(entry(&list, "alice").is_none());
    assert!(entry(&list, "carol").is_some());
    t.send(a, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    assert!(t.last_friends(a).deletions_out.is_empty());
}

#[test]
fn notice_only_and_notice_to_someone_who_never_listed_you() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    // bob accepted alice (bob is on alice's list) but alice is not on bob's list.
    t.befriend(a, b, RequestAnswer::Accept);
    t.ok(a, |id| ClientFrame::DeleteFriend(DeleteFriend { id, acting: None, friend: addr("bob") }));
    t.clear();
    t.ok(a, |id| ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: None, to: addr("bob"), ask_delete: true }));
    assert_eq!(
        t.events(b),
        vec![Event::DeletionNotice { peer: addr("alice"), asks_delete: false }],
        "bob only sees the notice"
    );
    assert_eq!(t.events(a), vec![Event::DeletionAnswered { peer: addr("bob"), answer: DeletionAnswer::Confirm }]);
    assert_eq!(
        t.err(a, |id| ClientFrame::NotifyDeletion(NotifyDeletion {
            id,
            acting: None,
            to: addr("carol"),
            ask_delete: false
        })),
        ErrorCode::NoDeletion
    );
}

#[test]
fn nickname_and_note_are_private_and_survive_reconnects() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.ok(a, |id| {
        ClientFrame::SetEntry(SetEntry {
            id,
            acting: None,
            friend: addr("bob"),
            nickname: Some("Bobby".into()),
            note: Some("met in the\nFFXI lobby".into()),
        })
    });
    assert!(t.take(b).iter().all(|f| !matches!(f, ServerFrame::Friends { .. })), "bob hears nothing");
    let e = entry(&t.last_friends(a), "bob").unwrap().clone();
    assert_eq!((e.nickname.as_deref(), e.note.as_deref()), (Some("Bobby"), Some("met in the\nFFXI lobby")));
    t.ok(a, |id| {
        ClientFrame::SetEntry(SetEntry {
            id,
            acting: None,
            friend: addr("bob"),
            nickname: Some(String::new()),
            note: None,
        })
    });
    assert_eq!(entry(&t.last_friends(a), "bob").unwrap().nickname, None);
    assert_eq!(
        t.err(a, |id| ClientFrame::SetEntry(SetEntry {
            id,
            acting: None,
            friend: addr("zed"),
            nickname: None,
            note: None
        })),
        ErrorCode::NotOnList
    );
    assert_eq!(
        t.err(a, |id| ClientFrame::SetEntry(SetEntry {
            id,
            acting: None,
            friend: addr("bob"),
            nickname: Some("x".repeat(65)),
            note: None,
        })),
        ErrorCode::BadText
    );
}

#[test]
fn presence_reaches_only_viewers_and_shows_the_most_available_state() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.ok(b, |id| {
        ClientFrame::SetPresence(SetPresence {
            id,
            acting: None,
            state: Some(PresenceState::Away),
            activity: Some("playing FFXI — waiting for a table".into()),
            location: None,
        })
    });
    let pushes: Vec<_> = t
        .take(a)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Presence { of, presence, .. } => Some((of, presence)),
            _ => None,
        })
        .collect();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].0, addr("bob"));
    assert_eq!(pushes[0].1.state, ShownState::Away);
    assert_eq!(pushes[0].1.activity.as_deref(), Some("playing FFXI — waiting for a table"));
    assert!(t.take(c).is_empty(), "carol is not related to bob");

    // A second connection online beats away; invisible everywhere looks offline.
    let b2 = t.login("bob");
    let pushed: Vec<ShownState> = t
        .take(a)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Presence { presence, .. } => Some(presence.state),
            _ => None,
        })
        .collect();
    assert_eq!(pushed, vec![ShownState::Online]);
    for conn in [b, b2] {
        t.ok(conn, |id| {
            ClientFrame::SetPresence(SetPresence {
                id,
                acting: None,
                state: Some(PresenceState::Invisible),
                activity: None,
                location: None,
            })
        });
    }
    let last = t
        .take(a)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Presence { presence, .. } => Some(presence),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert_eq!(last.state, ShownState::Offline);
    assert_eq!(last.activity, None, "no activity leaks while invisible");

    // Going away for real records last seen.
    t.disconnect(b);
    t.disconnect(b2);
    t.send(a, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    let bob = entry(&t.last_friends(a), "bob").unwrap().clone();
    assert_eq!(bob.presence.state, ShownState::Offline);
}

#[test]
fn profile_changes_reach_viewers() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::Accept);
    t.ok(b, |id| {
        ClientFrame::SetProfile(SetProfile {
            id,
            acting: None,
            display_name: Some("Bob B.".into()),
            bio: Some("tank main".into()),
        })
    });
    assert!(t.take(a).iter().any(|f| matches!(f, ServerFrame::Profile { of, profile, .. } if *of == addr("bob") && profile.display_name.as_deref() == Some("Bob B."))));
    t.ok(a, |id| {
        ClientFrame::SetProfile(SetProfile { id, acting: None, display_name: Some("Alice".into()), bio: None })
    });
    assert!(t.take(b).iter().all(|f| !matches!(f, ServerFrame::Profile { .. })), "alice is not on bob's list");
}

#[test]
fn blocking_hides_everything_and_unblocking_restores_it() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.ok(a, |id| ClientFrame::Block(Block { id, acting: None, target: addr("bob") }));
    assert_eq!(entry(&t.last_friends(b), "alice").unwrap().presence.state, ShownState::Offline);
    assert!(matches!(t.dm(b, "alice", "hey"), ServerFrame::Error { code: ErrorCode::NotReachable, .. }));
    assert!(matches!(t.dm(a, "bob", "hey"), ServerFrame::Error { code: ErrorCode::NotReachable, .. }));
    t.ok(a, |id| {
        ClientFrame::SetPresence(SetPresence {
            id,
            acting: None,
            state: Some(PresenceState::Away),
            activity: None,
            location: None,
        })
    });
    assert!(t.take(b).iter().all(|f| !matches!(f, ServerFrame::Presence { .. })));
    t.clear();
    t.ok(a, |id| ClientFrame::Unblock(Unblock { id, acting: None, target: addr("bob") }));
    assert_eq!(entry(&t.last_friends(b), "alice").unwrap().presence.state, ShownState::Away);
    assert!(matches!(t.dm(b, "alice", "hey"), ServerFrame::Stored { .. }));
}

#[test]
fn a_renewed_request_after_deletion_restores_the_friendship() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.ok(a, |id| ClientFrame::DeleteFriend(DeleteFriend { id, acting: None, friend: addr("bob") }));
    t.befriend(a, b, RequestAnswer::Accept);
    t.send(b, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    let list = t.last_friends(b);
    assert!(!entry(&list, "alice").unwrap().removed_you, "asking again withdrew the deletion");
    t.send(a, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    assert!(t.last_friends(a).deletions_out.is_empty());
}

#[test]
fn a_block_looks_like_an_ordinary_absence() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    let c = t.register("carol");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.ok(a, |id| ClientFrame::Block(Block { id, acting: None, target: addr("bob") }));
    let seen = entry(&t.last_friends(b), "alice").unwrap().presence.clone();
    assert_eq!(seen.state, ShownState::Offline);
    assert!(seen.last_seen.is_some(), "a blocked viewer sees a last-seen time like any offline friend");
    // Someone who does not list alice hears nothing at all about being blocked.
    t.ok(a, |id| ClientFrame::Block(Block { id, acting: None, target: addr("carol") }));
    assert!(t.take(c).is_empty());
}
