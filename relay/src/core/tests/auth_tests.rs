//! Accounts, sessions and handles.

use super::*;

#[test]
fn frames_before_hello_and_before_login_are_refused() {
    let mut t = Harness::new();
    let conn = ConnId(99);
    t.input(Input::Connected { conn, ip: IpAddr::V4(Ipv4Addr::LOCALHOST) });
    t.send(conn, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    assert!(matches!(t.take(conn)[..], [ServerFrame::Error { code: ErrorCode::HelloRequired, id: Some(1), .. }]));
    let conn = t.connect();
    assert_eq!(t.err(conn, |id| ClientFrame::GetFriends(GetFriends { id, acting: None })), ErrorCode::NotAuthenticated);
}

fn v(s: &str) -> Option<huddle_shared::ProtocolVersion> {
    huddle_shared::ProtocolVersion::parse(s)
}

/// A connection that has not said hello yet, and what it gets for `hello`.
fn hello(t: &mut Harness, hello: Hello) -> (ConnId, Vec<ServerFrame>) {
    let conn = ConnId(1000 + t.id());
    t.input(Input::Connected { conn, ip: IpAddr::V4(Ipv4Addr::LOCALHOST) });
    t.send(conn, ClientFrame::Hello(hello));
    let frames = t.take(conn);
    (conn, frames)
}

#[test]
fn hello_agrees_on_the_highest_common_version_and_the_features_both_know() {
    let mut t = Harness::new();
    // A newer client: it speaks 2.1 up to 2.7, and asks for a feature of a later version too.
    let asked = vec!["typing".to_owned(), "teleport".to_owned()];
    let (_, frames) =
        hello(&mut t, Hello { min_version: v("2.1"), max_version: v("2.7"), features: asked, ..Hello::default() });
    match &frames[..] {
        [ServerFrame::Hello { version, features, .. }] => {
            assert_eq!(*version, huddle_shared::version::CURRENT);
            assert_eq!(features, &vec!["typing".to_owned()], "only features this relay knows are agreed");
        }
        other => panic!("expected hello, got {other:?}"),
    }
    // A client that asks for no feature gets none.
    let (_, frames) = hello(&mut t, Hello { max_version: v("2.1"), ..Hello::default() });
    assert!(matches!(&frames[..], [ServerFrame::Hello { features, .. }] if features.is_empty()), "{frames:?}");
}

#[test]
fn a_client_of_another_major_version_is_told_in_words_and_closed() {
    let mut t = Harness::new();
    // Protocol 1 said hello with an integer.
    let (conn, frames) = hello(&mut t, Hello { version: Some(1), ..Hello::default() });
    match &frames[..] {
        [ServerFrame::Error { id: None, code: ErrorCode::VersionMismatch, message, .. }] => {
            assert_eq!(message, "This relay speaks protocol 2.1 to 2.2 and your client speaks 1; update your client.");
        }
        other => panic!("expected version_mismatch, got {other:?}"),
    }
    assert_eq!(t.closed.get(&conn), Some(&ErrorCode::VersionMismatch));
    let (conn, frames) = hello(&mut t, Hello { min_version: v("3.0"), max_version: v("3.2"), ..Hello::default() });
    assert!(
        matches!(&frames[..], [ServerFrame::Error { code: ErrorCode::VersionMismatch, message, .. }]
            if message.contains("your client speaks 3.0 to 3.2")),
        "{frames:?}"
    );
    assert_eq!(t.closed.get(&conn), Some(&ErrorCode::VersionMismatch));
}

#[test]
fn a_hello_without_versions_is_a_bad_frame_and_the_connection_may_try_again() {
    let mut t = Harness::new();
    let (conn, frames) = hello(&mut t, Hello::default());
    assert!(matches!(&frames[..], [ServerFrame::Error { code: ErrorCode::BadFrame, .. }]), "{frames:?}");
    let (_, frames) = hello(&mut t, Hello { min_version: v("2.2"), max_version: v("2.1"), ..Hello::default() });
    assert!(matches!(&frames[..], [ServerFrame::Error { code: ErrorCode::BadFrame, .. }]), "{frames:?}");
    assert_eq!(t.closed.get(&conn), None);
    t.send(conn, ClientFrame::Hello(Hello { max_version: v("2.1"), ..Hello::default() }));
    assert!(matches!(&t.take(conn)[..], [ServerFrame::Hello { .. }]));
}

#[test]
fn register_then_login_with_password_and_token() {
    let mut t = Harness::new();
    let conn = t.connect();
    let answer = t.request(conn, |id| {
        ClientFrame::Register(Register {
            id,
            handle: h("Alice"),
            password: "alice-password".into(),
            invite: None,
            device: Some("laptop".into()),
        })
    });
    let ServerFrame::Session { token: Some(token), handles, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(handles[0].address, addr("alice"), "handles are folded to lowercase");
    assert!(
        matches!(
            t.take(conn)[..],
            [ServerFrame::Friends { .. }, ServerFrame::Rooms { .. }, ServerFrame::HuddleSettings { .. }]
        ),
        "the friend list, groups and huddle settings follow the session"
    );
    // The token is stored only hashed.
    assert!(t.core.state().sessions.values().all(|s| s.token_hash != token && s.token_hash.len() == 64));

    let again = t.connect();
    assert_eq!(
        t.err(again, |id| ClientFrame::Register(Register {
            id,
            handle: h("ALICE"),
            password: "x".repeat(9),
            invite: None,
            device: None,
        })),
        ErrorCode::HandleTaken
    );
    assert_eq!(
        t.err(again, |id| ClientFrame::Register(Register {
            id,
            handle: h("bob"),
            password: "short".into(),
            invite: None,
            device: None,
        })),
        ErrorCode::WeakPassword
    );
    let answer =
        t.request(again, |id| ClientFrame::LoginToken(LoginToken { id, token: token.clone(), presence: None }));
    assert!(matches!(answer, ServerFrame::Session { token: None, .. }), "{answer:?}");
    assert_eq!(
        t.err(again, |id| ClientFrame::LoginToken(LoginToken { id, token: "nope".into(), presence: None })),
        ErrorCode::AlreadyAuthenticated
    );

    let other = t.connect();
    assert_eq!(
        t.err(other, |id| ClientFrame::LoginToken(LoginToken { id, token: "forged".into(), presence: None })),
        ErrorCode::TokenInvalid
    );
    t.login("alice");
}

#[test]
fn unknown_handle_and_wrong_password_look_the_same_and_are_rate_limited() {
    let mut t = Harness::new();
    t.register("alice");
    let conn = t.connect();
    let wrong = |handle: &str| {
        let handle = h(handle);
        move |id| {
            ClientFrame::Login(Login { id, handle, password: "wrong-password".into(), device: None, presence: None })
        }
    };
    let unknown = t.request(conn, wrong("nobody"));
    let bad = t.request(conn, wrong("alice"));
    match (unknown, bad) {
        (ServerFrame::Error { code: c1, message: m1, .. }, ServerFrame::Error { code: c2, message: m2, .. }) => {
            assert_eq!((c1, &m1), (ErrorCode::BadCredentials, &m2));
            assert_eq!(c2, ErrorCode::BadCredentials);
        }
        other => panic!("{other:?}"),
    }
    for _ in 0..2 {
        assert_eq!(t.err(conn, wrong("alice")), ErrorCode::BadCredentials);
    }
    // Three failures from this address for the account: from here, even the right password now waits a second.
    let right = |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("alice"),
            password: "alice-password".into(),
            device: None,
            presence: None,
        })
    };
    let answer = t.request(conn, right);
    assert!(
        matches!(answer, ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(990..=1000), .. }),
        "{answer:?}"
    );
    // The guesser did not lock alice out: from her own address she logs in at once.
    let hers = t.connect_from(std::net::IpAddr::from([192, 0, 2, 1]));
    assert!(matches!(t.request(hers, right), ServerFrame::Session { .. }));
    t.now += 1000;
    t.login("alice");
}

#[test]
fn invite_and_closed_policies() {
    let mut t = Harness::with_policy(RegistrationPolicy::Invite);
    let conn = t.connect();
    let reg = |invite: Option<&str>| {
        let invite = invite.map(str::to_owned);
        move |id| {
            ClientFrame::Register(Register {
                id,
                handle: h("dora"),
                password: "dora-password".into(),
                invite,
                device: None,
            })
        }
    };
    assert_eq!(t.err(conn, reg(None)), ErrorCode::InviteInvalid);
    assert_eq!(t.err(conn, reg(Some("made-up"))), ErrorCode::InviteInvalid);
    let invite = crate::storage::InviteRec { code: "abc123".into(), created_at: 0, used_by: None, revoked: false };
    t.core.world().write(crate::storage::Mutation::PutInvite(invite)).unwrap();
    assert!(matches!(t.request(conn, reg(Some("abc123"))), ServerFrame::Session { .. }));
    let other = t.connect();
    let reuse = move |id| {
        ClientFrame::Register(Register {
            id,
            handle: h("eve"),
            password: "eve-password".into(),
            invite: Some("abc123".into()),
            device: None,
        })
    };
    assert_eq!(t.err(other, reuse), ErrorCode::InviteInvalid, "an invite is used once");

    let mut closed = Harness::with_policy(RegistrationPolicy::Closed);
    let conn = closed.connect();
    assert_eq!(closed.err(conn, reg(None)), ErrorCode::RegistrationClosed);
}

#[test]
fn logout_and_revoke_end_sessions_everywhere() {
    let mut t = Harness::new();
    let first = t.register("alice");
    let second = t.login("alice");
    let ServerFrame::Sessions { sessions, .. } = t.request(second, |id| ClientFrame::ListSessions(ListSessions { id }))
    else {
        panic!()
    };
    assert_eq!(sessions.len(), 2);
    let first_session = sessions.iter().find(|s| !s.current).unwrap().session.clone();
    t.ok(second, |id| ClientFrame::RevokeSession(RevokeSession { id, session: first_session }));
    assert_eq!(t.closed.get(&first), Some(&ErrorCode::SessionRevoked));
    assert_eq!(
        t.err(second, |id| ClientFrame::RevokeSession(RevokeSession { id, session: "other".into() })),
        ErrorCode::NoSuchSession
    );
    t.ok(second, |id| ClientFrame::Logout(Logout { id }));
    assert_eq!(
        t.err(second, |id| ClientFrame::GetFriends(GetFriends { id, acting: None })),
        ErrorCode::NotAuthenticated
    );
    assert!(t.core.state().sessions.is_empty());
}

#[test]
fn change_password_checks_the_old_one_and_revokes_other_sessions() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.login("alice");
    let change = |old: &str| {
        let old = old.to_owned();
        move |id| {
            ClientFrame::ChangePassword(ChangePassword { id, old_password: old, new_password: "new-password".into() })
        }
    };
    assert_eq!(t.err(a, change("wrong")), ErrorCode::BadCredentials);
    t.ok(a, change("alice-password"));
    assert_eq!(t.closed.get(&b), Some(&ErrorCode::SessionRevoked));
    assert!(!t.closed.contains_key(&a));
    let conn = t.connect();
    let answer = t.request(conn, |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("alice"),
            password: "new-password".into(),
            device: None,
            presence: None,
        })
    });
    assert!(matches!(answer, ServerFrame::Session { .. }));
}

#[test]
fn handles_up_to_four_with_their_own_lists_and_removal_notifies_friends() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let bob = t.register("bob");
    for name in ["alt1", "alt2", "alt3"] {
        let answer = t.request(a, |id| ClientFrame::AddHandle(AddHandle { id, handle: h(name) }));
        assert!(matches!(answer, ServerFrame::Handles { .. }));
    }
    assert_eq!(t.err(a, |id| ClientFrame::AddHandle(AddHandle { id, handle: h("alt4") })), ErrorCode::HandleLimit);
    assert_eq!(
        t.err(a, |id| ClientFrame::GetFriends(GetFriends { id, acting: None })),
        ErrorCode::NotYourHandle,
        "several handles need `as`"
    );
    // alt1 befriends bob; alice's own list stays empty.
    t.ok(a, |id| {
        ClientFrame::FriendRequest(FriendRequest { id, acting: Some(h("alt1")), to: addr("bob"), greeting: None })
    });
    t.ok(bob, |id| {
        ClientFrame::AnswerRequest(AnswerRequest {
            id,
            acting: None,
            from: addr("alt1"),
            answer: RequestAnswer::AcceptMutual,
        })
    });
    t.clear();
    let ServerFrame::Friends { list, .. } =
        t.request(a, |id| ClientFrame::GetFriends(GetFriends { id, acting: Some(h("alice")) }))
    else {
        panic!()
    };
    assert!(list.entries.is_empty());
    // Removing alt1 takes it off bob's list with a notice, and retires the name.
    assert!(matches!(
        t.request(a, |id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("alt1") })),
        ServerFrame::Handles { .. }
    ));
    let events = t.events(bob);
    assert_eq!(events, vec![Event::HandleRemoved { peer: addr("alt1") }]);
    t.send(bob, ClientFrame::GetFriends(GetFriends { id: 1, acting: None }));
    assert!(t.last_friends(bob).entries.is_empty());
    assert_eq!(t.err(a, |id| ClientFrame::AddHandle(AddHandle { id, handle: h("alt1") })), ErrorCode::HandleTaken);
    for name in ["alt2", "alt3"] {
        t.request(a, |id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h(name) }));
    }
    assert_eq!(
        t.err(a, |id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("alice") })),
        ErrorCode::LastHandle
    );
    assert_eq!(
        t.err(a, |id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("bob") })),
        ErrorCode::NotYourHandle
    );
}

#[test]
fn unknown_handles_are_rate_limited_like_real_ones() {
    let mut t = Harness::new();
    let conn = t.connect();
    let wrong = |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("ghost"),
            password: "wrong-password".into(),
            device: None,
            presence: None,
        })
    };
    for _ in 0..3 {
        assert_eq!(t.err(conn, wrong), ErrorCode::BadCredentials);
    }
    assert_eq!(t.err(conn, wrong), ErrorCode::RateLimited, "the limit must not reveal that ghost does not exist");
}

#[test]
fn guessing_the_current_password_is_rate_limited() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let change = |id| {
        ClientFrame::ChangePassword(ChangePassword {
            id,
            old_password: "guess-guess".into(),
            new_password: "new-password".into(),
        })
    };
    for _ in 0..3 {
        assert_eq!(t.err(a, change), ErrorCode::BadCredentials);
    }
    assert_eq!(t.err(a, change), ErrorCode::RateLimited);
}

#[test]
fn other_connections_learn_about_new_and_removed_handles() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let a2 = t.login("alice");
    t.clear();
    t.request(a, |id| ClientFrame::AddHandle(AddHandle { id, handle: h("alt") }));
    let pushed: Vec<_> = t
        .take(a2)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Handles { id: None, handles } => Some(handles.len()),
            _ => None,
        })
        .collect();
    assert_eq!(pushed, vec![2]);
    t.request(a, |id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("alt") }));
    let pushed: Vec<_> = t
        .take(a2)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Handles { id: None, handles } => Some(handles.len()),
            _ => None,
        })
        .collect();
    assert_eq!(pushed, vec![1]);
}

#[test]
fn frames_sent_while_a_login_is_checked_are_refused_not_held() {
    let mut t = Harness::new();
    t.register("alice");
    let conn = t.connect();
    let login = ClientFrame::Login(Login {
        id: 1,
        handle: h("alice"),
        password: "alice-password".into(),
        device: None,
        presence: None,
    });
    t.now += 1;
    // The password check is under way: its job has not come back.
    let pending = t.core.handle(Input::Frame { conn, frame: login }, t.now).unwrap();
    assert!(pending.iter().any(|e| matches!(e, Effect::VerifyPassword { .. })), "{pending:?}");
    assert_eq!(t.err(conn, |id| ClientFrame::GetFriends(GetFriends { id, acting: None })), ErrorCode::NotAuthenticated);
    let again = |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("alice"),
            password: "alice-password".into(),
            device: None,
            presence: None,
        })
    };
    assert_eq!(t.err(conn, again), ErrorCode::AlreadyAuthenticated, "one login at a time");
    // When the check comes back, the connection is logged in and the session answers the login.
    t.perform(pending);
    assert!(matches!(t.take(conn).first(), Some(ServerFrame::Session { id: 1, .. })));
    assert!(matches!(
        t.request(conn, |id| ClientFrame::GetFriends(GetFriends { id, acting: None })),
        ServerFrame::Friends { .. }
    ));
}
