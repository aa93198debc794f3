//! Accounts over real WebSockets: register, password and token login, failed logins and their rate limit, logout,
//! sessions, password change, registration policies with the admin's invites, and multiple handles.

use std::time::Duration;

use huddle_relay::password::{self, PasswordParams};
use huddle_shared::client::*;
use huddle_shared::model::{Event, RegistrationPolicy, RequestAnswer};
use huddle_shared::{ClientFrame, ErrorCode, ServerFrame};
use huddle_tests::{TestRelay, WAIT, addr, entry, events_of, h, password_for};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_then_login_with_password_and_with_token() {
    let relay = TestRelay::start().await;
    let mut c = relay.connect().await;
    let answer = c.register_with("Alice", &password_for("alice"), None).await;
    let ServerFrame::Session { session, token: Some(token), handles, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(handles.len(), 1);
    assert_eq!(handles[0].address, addr("alice"), "handles are folded to lowercase and carry the relay name");
    assert_eq!((handles[0].head, handles[0].acked), (0, 0));
    match c.expect_push(|f| matches!(f, ServerFrame::Friends { .. })).await {
        ServerFrame::Friends { id: None, acting, list } => {
            assert_eq!(acting, addr("alice"));
            assert_eq!(list, Default::default(), "a new account's list is empty");
        }
        other => panic!("{other:?}"),
    }
    // Already logged in on this connection.
    let again = c.register_with("alice-two", &password_for("alice-two"), None).await;
    assert!(matches!(again, ServerFrame::Error { code: ErrorCode::AlreadyAuthenticated, .. }), "{again:?}");

    // The handle is taken whatever its case; passwords must be 8+ bytes.
    let mut other = relay.connect().await;
    let taken = other.register_with("ALICE", "long enough password", None).await;
    assert!(matches!(taken, ServerFrame::Error { code: ErrorCode::HandleTaken, .. }), "{taken:?}");
    let weak = other.register_with("bob", "short", None).await;
    assert!(matches!(weak, ServerFrame::Error { code: ErrorCode::WeakPassword, .. }), "{weak:?}");

    // Password login: a new session with its own token.
    let mut second = relay.connect().await;
    let ServerFrame::Session { session: session2, token: Some(token2), handles, .. } = second.login("alice").await
    else {
        unreachable!()
    };
    assert_ne!(session2, session);
    assert_ne!(token2, token);
    assert_eq!(handles[0].address, addr("alice"));

    // Token login resumes the first session, without handing out the token again.
    let mut third = relay.connect().await;
    match third.login_token(&token).await {
        ServerFrame::Session { session: resumed, token: None, handles, .. } => {
            assert_eq!(resumed, session);
            assert_eq!(handles[0].address, addr("alice"));
        }
        other => panic!("{other:?}"),
    }
    assert!(third.friends().await.entries.is_empty(), "the token connection is logged in");
    let mut fourth = relay.connect().await;
    let bad = fourth.login_token("not-a-token").await;
    assert!(matches!(bad, ServerFrame::Error { code: ErrorCode::TokenInvalid, .. }), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_bad_credentials_and_repeated_failures_are_rate_limited() {
    let relay = TestRelay::start().await;
    let _alice = relay.user("alice").await;
    let _bob = relay.user("bob").await;
    let mut c = relay.connect().await;

    let wrong = c.login_with("alice", "not her password", None, None).await;
    let unknown = c.login_with("zed", "not his password", None, None).await;
    match (&wrong, &unknown) {
        (
            ServerFrame::Error { code: ErrorCode::BadCredentials, message: m1, .. },
            ServerFrame::Error { code: ErrorCode::BadCredentials, message: m2, .. },
        ) => assert_eq!(m1, m2, "a wrong password and an unknown handle look the same"),
        other => panic!("{other:?}"),
    }

    // Three failures from one address for one account (the default) are free; then that address waits before its
    // next try for the account, even with the right password: a second, then two, four …
    for _ in 0..2 {
        let answer = c.login_with("alice", "still wrong", None, None).await;
        assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::BadCredentials, .. }), "{answer:?}");
    }
    match c.login_with("alice", &password_for("alice"), None, None).await {
        ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(ms), .. } => {
            assert!(ms > 0 && ms <= 1000, "the first wait is a second: {ms}");
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    // Another account from the same address is not locked out.
    let ok = c.login_with("bob", &password_for("bob"), None, None).await;
    assert!(matches!(ok, ServerFrame::Session { .. }), "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_and_its_token() {
    let relay = TestRelay::start().await;
    let mut c = relay.user("alice").await;
    let token = c.token.clone().unwrap();
    c.ok(|id| ClientFrame::Logout(Logout { id })).await;
    assert_eq!(c.err(|id| ClientFrame::GetFriends(GetFriends { id, acting: None })).await, ErrorCode::NotAuthenticated);
    let mut other = relay.connect().await;
    let answer = other.login_token(&token).await;
    assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::TokenInvalid, .. }), "{answer:?}");
    // The same connection may log in again.
    c.login("alice").await;
    assert!(c.friends().await.entries.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_a_revoked_one_is_told_and_closed() {
    let relay = TestRelay::start().await;
    let mut laptop = relay.user("alice").await;
    let laptop_session = laptop.session.clone().unwrap();
    let laptop_token = laptop.token.clone().unwrap();
    let mut phone = relay.connect().await;
    let answer = phone.login_with("alice", &password_for("alice"), Some("phone"), None).await;
    assert!(matches!(answer, ServerFrame::Session { .. }));
    let phone_session = phone.session.clone().unwrap();

    let ServerFrame::Sessions { sessions, .. } =
        phone.request(|id| ClientFrame::ListSessions(ListSessions { id })).await
    else {
        panic!()
    };
    assert_eq!(sessions.len(), 2);
    let mine = sessions.iter().find(|s| s.current).expect("the asking session is marked");
    assert_eq!((mine.session.as_str(), mine.device.as_deref()), (phone_session.as_str(), Some("phone")));
    let other = sessions.iter().find(|s| !s.current).unwrap();
    assert_eq!(other.session, laptop_session);
    assert_eq!(other.device.as_deref(), Some("alice's test device"));

    phone.ok(|id| ClientFrame::RevokeSession(RevokeSession { id, session: laptop_session.clone() })).await;
    let close = laptop.expect_bye(ErrorCode::SessionRevoked).await;
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Policy));
    let mut again = relay.connect().await;
    let answer = again.login_token(&laptop_token).await;
    assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::TokenInvalid, .. }), "{answer:?}");

    let ServerFrame::Sessions { sessions, .. } =
        phone.request(|id| ClientFrame::ListSessions(ListSessions { id })).await
    else {
        panic!()
    };
    assert_eq!(sessions.iter().map(|s| s.session.as_str()).collect::<Vec<_>>(), vec![phone_session.as_str()]);
    assert_eq!(
        phone.err(|id| ClientFrame::RevokeSession(RevokeSession { id, session: "no-such-session".into() })).await,
        ErrorCode::NoSuchSession
    );
    // Revoking one's own session is a logout.
    phone.ok(|id| ClientFrame::RevokeSession(RevokeSession { id, session: phone_session.clone() })).await;
    assert_eq!(phone.err(|id| ClientFrame::ListSessions(ListSessions { id })).await, ErrorCode::NotAuthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_every_other_session() {
    let relay = TestRelay::start().await;
    let mut here = relay.user("alice").await;
    let mut elsewhere = relay.login("alice").await;
    let elsewhere_token = elsewhere.token.clone().unwrap();

    let (code, _, _) = here
        .error(|id| {
            ClientFrame::ChangePassword(ChangePassword {
                id,
                old_password: "not the old one".into(),
                new_password: "a brand new password".into(),
            })
        })
        .await;
    assert_eq!(code, ErrorCode::BadCredentials);
    let (code, _, _) = here
        .error(|id| {
            ClientFrame::ChangePassword(ChangePassword {
                id,
                old_password: password_for("alice"),
                new_password: "short".into(),
            })
        })
        .await;
    assert_eq!(code, ErrorCode::WeakPassword);
    here.ok(|id| {
        ClientFrame::ChangePassword(ChangePassword {
            id,
            old_password: password_for("alice"),
            new_password: "a brand new password".into(),
        })
    })
    .await;

    elsewhere.expect_bye(ErrorCode::SessionRevoked).await;
    assert!(here.friends().await.entries.is_empty(), "the changing connection stays logged in");
    let mut c = relay.connect().await;
    assert!(matches!(c.login_token(&elsewhere_token).await, ServerFrame::Error { code: ErrorCode::TokenInvalid, .. }));
    let old = c.login_with("alice", &password_for("alice"), None, None).await;
    assert!(matches!(old, ServerFrame::Error { code: ErrorCode::BadCredentials, .. }), "{old:?}");
    let new = c.login_with("alice", "a brand new password", None, None).await;
    assert!(matches!(new, ServerFrame::Session { .. }), "{new:?}");
    // The session that changed the password keeps working with its token too.
    let mut d = relay.connect().await;
    assert!(matches!(d.login_token(here.token.as_deref().unwrap()).await, ServerFrame::Session { .. }));
}

/// Retries `register` with `invite` until the relay has picked up the admin's change (it polls about once a second).
async fn register_when_invite_arrives(relay: &TestRelay, handle: &str, invite: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    let mut c = relay.connect().await;
    loop {
        match c.register_with(handle, &password_for(handle), Some(invite)).await {
            ServerFrame::Session { .. } => return,
            ServerFrame::Error { code: ErrorCode::InviteInvalid, .. } if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("register {handle} with invite {invite}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_only_registration_uses_admin_invites_once() {
    let relay = TestRelay::with_policy(RegistrationPolicy::Invite).await;
    let mut c = relay.connect().await;
    match c.hello().await {
        ServerFrame::Hello { registration, .. } => assert_eq!(registration, RegistrationPolicy::Invite),
        other => panic!("{other:?}"),
    }
    let none = c.register_with("alice", &password_for("alice"), None).await;
    assert!(matches!(none, ServerFrame::Error { code: ErrorCode::InviteInvalid, .. }), "{none:?}");
    let bogus = c.register_with("alice", &password_for("alice"), Some("made-up")).await;
    assert!(matches!(bogus, ServerFrame::Error { code: ErrorCode::InviteInvalid, .. }), "{bogus:?}");

    // The admin works on the database while the relay runs. The revoked code is written before the good one, so
    // once the good one works, the revocation is known too.
    let mut admin = relay.admin();
    let revoked = admin.create_invite(1).unwrap();
    admin.revoke_invite(&revoked).unwrap();
    let code = admin.create_invite(2).unwrap();
    drop(admin);
    register_when_invite_arrives(&relay, "alice", &code).await;

    let reused = c.register_with("bob", &password_for("bob"), Some(&code)).await;
    assert!(matches!(reused, ServerFrame::Error { code: ErrorCode::InviteInvalid, .. }), "used up: {reused:?}");
    let revoked = c.register_with("bob", &password_for("bob"), Some(&revoked)).await;
    assert!(matches!(revoked, ServerFrame::Error { code: ErrorCode::InviteInvalid, .. }), "{revoked:?}");
    assert!(relay.admin().list_invites().iter().any(|i| i.code == code && i.used_by.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_registration_and_admin_made_and_disabled_accounts() {
    let relay = TestRelay::with_policy(RegistrationPolicy::Closed).await;
    let mut c = relay.connect().await;
    let refused = c.register_with("alice", &password_for("alice"), None).await;
    assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::RegistrationClosed, .. }), "{refused:?}");

    let phc = password::hash(&password_for("alice"), PasswordParams::insecure_for_tests()).unwrap();
    relay.admin().add_user(&h("alice"), phc, 1).unwrap();
    // Wait for the relay's reload: logins fail as unknown until then.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match c.login_with("alice", &password_for("alice"), None, None).await {
            ServerFrame::Session { .. } => break,
            ServerFrame::Error { code: ErrorCode::BadCredentials, .. } if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(c.friends().await.entries.is_empty());

    // Disabling the account ends its live connection and refuses new logins.
    relay.admin().set_disabled(&h("alice"), true).unwrap();
    c.expect_bye(ErrorCode::AccountDisabled).await;
    let mut d = relay.connect().await;
    let answer = d.login_with("alice", &password_for("alice"), None, None).await;
    assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::AccountDisabled, .. }), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_to_four_handles_routed_by_as_and_removal_tells_friends() {
    let relay = TestRelay::start().await;
    let mut a = relay.user("alice").await;
    let mut b = relay.user("bob").await;

    for (n, handle) in ["alice-work", "alice-games", "alice-old"].into_iter().enumerate() {
        match a.request(|id| ClientFrame::AddHandle(AddHandle { id, handle: h(handle) })).await {
            ServerFrame::Handles { handles, .. } => {
                assert_eq!(handles.len(), n + 2);
                assert!(handles.iter().any(|i| i.address == addr(handle)));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        a.err(|id| ClientFrame::AddHandle(AddHandle { id, handle: h("alice-five") })).await,
        ErrorCode::HandleLimit
    );
    let mut d = relay.connect().await;
    let taken = d.register_with("alice-games", &password_for("x"), None).await;
    assert!(matches!(taken, ServerFrame::Error { code: ErrorCode::HandleTaken, .. }));

    // With several handles, `as` is required and must be one of them.
    assert_eq!(a.err(|id| ClientFrame::GetFriends(GetFriends { id, acting: None })).await, ErrorCode::NotYourHandle);
    assert_eq!(
        a.err(|id| ClientFrame::GetFriends(GetFriends { id, acting: Some(h("bob")) })).await,
        ErrorCode::NotYourHandle
    );

    // alice-games befriends bob; bob sees that handle, not alice.
    a.ok(|id| {
        ClientFrame::FriendRequest(FriendRequest {
            id,
            acting: Some(h("alice-games")),
            to: addr("bob"),
            greeting: None,
        })
    })
    .await;
    b.answer_request("alice-games", RequestAnswer::AcceptMutual).await;
    let list = b.friends().await;
    assert!(entry(&list, "alice-games").is_some() && entry(&list, "alice").is_none(), "{list:?}");
    assert!(a.friends_as(Some("alice")).await.entries.is_empty());
    assert!(entry(&a.friends_as(Some("alice-games")).await, "bob").is_some());
    a.barrier().await;
    a.drain();

    // Messages to alice-games arrive for that handle; alice's plain handle cannot reach bob.
    b.dm("alice-games", "gg", "b1").await;
    match a.expect_push(|f| matches!(f, ServerFrame::Deliver { .. })).await {
        ServerFrame::Deliver { acting, item } => {
            assert_eq!(acting, addr("alice-games"));
            let msgs = huddle_tests::messages_of(std::slice::from_ref(&item));
            assert_eq!((msgs[0].to.clone(), msgs[0].body.as_str()), (Some(addr("alice-games")), "gg"));
        }
        other => panic!("{other:?}"),
    }
    let reply = a
        .request(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: Some(h("alice-games")),
                room: None,
                to: Some(addr("bob")),
                body: "wp".into(),
                client_msg_id: "a1".into(),
                receipts: false,
            })
        })
        .await;
    assert!(matches!(reply, ServerFrame::Stored { .. }), "{reply:?}");
    let wrong = a
        .request(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: Some(h("alice")),
                room: None,
                to: Some(addr("bob")),
                body: "hi".into(),
                client_msg_id: "a2".into(),
                receipts: false,
            })
        })
        .await;
    assert!(matches!(wrong, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{wrong:?}");

    // A later login acts for all four handles, with a friend list each.
    let mut a2 = relay.connect().await;
    // Any handle of the account logs in with the account's password.
    let answer = a2.login_with("alice-old", &password_for("alice"), None, None).await;
    let ServerFrame::Session { handles, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(handles.len(), 4);
    a2.barrier().await;
    let lists = a2.drain().into_iter().filter(|f| matches!(f, ServerFrame::Friends { .. })).count();
    assert_eq!(lists, 4, "one friends frame per handle at login");

    // Removing alice-games takes it off bob's list, with an event in his stream.
    b.barrier().await;
    b.drain();
    match a.request(|id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("alice-games") })).await {
        ServerFrame::Handles { handles, .. } => {
            assert_eq!(handles.len(), 3);
            assert!(handles.iter().all(|i| i.address != addr("alice-games")));
        }
        other => panic!("{other:?}"),
    }
    let items = b.delivered().await;
    assert_eq!(events_of(&items), vec![&Event::HandleRemoved { peer: addr("alice-games") }]);
    let list = b.last_pushed_friends(&addr("bob")).await;
    assert!(list.entries.is_empty(), "{list:?}");
    let gone = b.send_message("alice-games", "?", "b2").await;
    assert!(matches!(gone, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{gone:?}");

    // The name is retired, only owned handles can be removed, and the last one stays.
    let mut e = relay.connect().await;
    let retired = e.register_with("alice-games", &password_for("x"), None).await;
    assert!(matches!(retired, ServerFrame::Error { code: ErrorCode::HandleTaken, .. }), "{retired:?}");
    assert_eq!(
        a.err(|id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("bob") })).await,
        ErrorCode::NotYourHandle
    );
    for handle in ["alice-work", "alice-old"] {
        a.request(|id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h(handle) })).await;
    }
    assert_eq!(
        a.err(|id| ClientFrame::RemoveHandle(RemoveHandle { id, handle: h("alice") })).await,
        ErrorCode::LastHandle
    );
}
