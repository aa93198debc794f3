//! Limits that keep one person from taking the relay from everyone else, driven through the core with the clock in
//! hand: per-account sending budgets and the daily quota, the disk floor, per-account connections, probing for
//! handles (with `register` and `add_handle`), retiring handles, password guessing from many addresses (at once, too)
//! without revealing which handles share an account, token logins beside failing neighbours, and messages refused
//! for other reasons costing nothing.

use std::net::IpAddr;

use huddle_shared::client::*;
use huddle_shared::model::{RegistrationPolicy, RequestAnswer};
use huddle_shared::{ClientFrame, ErrorCode, ServerFrame};

use crate::core::budget::BudgetLimits;
use crate::core::tests::{Harness, h, test_config};
use crate::core::{ConnId, Effect, Input};

fn with(change: impl FnOnce(&mut crate::core::CoreConfig)) -> Harness {
    let mut config = test_config(RegistrationPolicy::Open);
    change(&mut config);
    Harness::with_config(config)
}

fn login_from(t: &mut Harness, handle: &str, ip: IpAddr, password: &str) -> ServerFrame {
    let conn = t.connect_from(ip);
    let (handle, password) = (h(handle), password.to_owned());
    t.request(conn, |id| ClientFrame::Login(Login { id, handle, password, device: None, presence: None }))
}

#[test]
fn an_accounts_messages_are_limited_over_all_its_connections() {
    let mut t = with(|c| {
        c.budgets = BudgetLimits {
            messages_per_second: 1.0,
            message_burst: 4.0,
            bytes_per_second: 1e9,
            bytes_burst: 1e9,
            stored_bytes_per_day: u64::MAX,
        }
    });
    let a1 = t.register("ann");
    let b = t.register("ben");
    t.befriend(a1, b, RequestAnswer::AcceptMutual);
    let a2 = t.login("ann");
    // Two connections, one budget: the fifth message in the same instant is refused, whichever connection sends it.
    for conn in [a1, a2, a1, a2] {
        assert!(matches!(t.dm(conn, "ben", "hi"), ServerFrame::Stored { .. }));
    }
    let refused = t.dm(a2, "ben", "one too many");
    assert!(
        matches!(refused, ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(990..=1000), .. }),
        "{refused:?}"
    );
    t.now += 1000;
    assert!(matches!(t.dm(a1, "ben", "later"), ServerFrame::Stored { .. }));
}

#[test]
fn the_daily_storage_quota_is_a_typed_refusal_with_the_time_to_wait() {
    let mut t = with(|c| {
        c.budgets = BudgetLimits {
            messages_per_second: 1000.0,
            message_burst: 1000.0,
            bytes_per_second: 1e9,
            bytes_burst: 1e9,
            stored_bytes_per_day: 10_000,
        }
    });
    let a = t.register("ann");
    let b = t.register("ben");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    let body = "x".repeat(4000);
    assert!(matches!(t.dm(a, "ben", &body), ServerFrame::Stored { .. }));
    assert!(matches!(t.dm(a, "ben", &body), ServerFrame::Stored { .. }));
    let refused = t.dm(a, "ben", &body);
    let ServerFrame::Error { code: ErrorCode::QuotaExceeded, retry_after_ms: Some(wait), message, .. } = refused else {
        panic!("{refused:?}")
    };
    assert!(wait > 23 * 3_600_000 && wait <= 24 * 3_600_000, "{wait}");
    assert!(message.contains("hour"), "{message}");
    // Ben's own allowance is untouched.
    assert!(matches!(t.dm(b, "ann", &body), ServerFrame::Stored { .. }));
}

#[test]
fn below_the_disk_floor_nothing_new_is_stored_and_the_relay_keeps_running() {
    let mut t = Harness::new();
    let a = t.register("ann");
    let b = t.register("ben");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    t.input(Input::DiskLow(true));
    let refused = t.dm(a, "ben", "hello");
    assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::StorageFull, .. }), "{refused:?}");
    let c = t.connect();
    let register = |id| {
        ClientFrame::Register(Register {
            id,
            handle: h("cat"),
            password: "cat-password".into(),
            invite: None,
            device: None,
        })
    };
    assert_eq!(t.err(c, register), ErrorCode::StorageFull);
    // Logging in, reading and syncing still work.
    t.login("ben");
    t.input(Input::DiskLow(false));
    assert!(matches!(t.dm(a, "ben", "hello"), ServerFrame::Stored { .. }));
}

#[test]
fn an_account_has_a_bounded_number_of_connections_and_the_core_says_who_logged_in() {
    let mut t = with(|c| c.connections_per_account = 2);
    let first = t.register("ann");
    assert_eq!(t.authed.get(&first), Some(&true));
    let _second = t.login("ann");
    let third = t.connect();
    let login = |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("ann"),
            password: "ann-password".into(),
            device: None,
            presence: None,
        })
    };
    assert_eq!(t.err(third, login), ErrorCode::TooManyConnections);
    assert_eq!(t.authed.get(&third), None);
    t.ok(first, |id| ClientFrame::Logout(Logout { id }));
    assert_eq!(t.authed.get(&first), Some(&false), "logging out makes it anonymous again");
    assert!(matches!(t.request(third, login), ServerFrame::Session { .. }));
}

#[test]
fn probing_for_handles_with_register_is_limited_like_guessing_passwords() {
    let mut t = with(|c| c.register_attempts_per_ip_per_hour = 5);
    t.register("ann");
    let probe = t.connect();
    let try_handle = |name: &str| {
        let handle = h(name);
        move |id| {
            ClientFrame::Register(Register {
                id,
                handle,
                password: "probe-password".into(),
                invite: None,
                device: None,
            })
        }
    };
    // `register` above was the address's first attempt.
    for _ in 0..4 {
        assert_eq!(t.err(probe, try_handle("ann")), ErrorCode::HandleTaken);
    }
    // The limit now answers, whether the handle exists or not: probing has stopped telling anything.
    assert_eq!(t.err(probe, try_handle("ann")), ErrorCode::RateLimited);
    assert_eq!(t.err(probe, try_handle("nobody-at-all")), ErrorCode::RateLimited);
    // Another address is not affected.
    let other = t.connect_from(IpAddr::from([192, 0, 2, 9]));
    assert_eq!(t.err(other, try_handle("ann")), ErrorCode::HandleTaken);
}

#[test]
fn handles_added_per_day_are_limited_so_names_cannot_be_retired_in_bulk() {
    let mut t = with(|c| c.new_handles_per_account_per_day = 2);
    let a = t.register("ann");
    let add = |name: &str| {
        let handle = h(name);
        move |id| ClientFrame::AddHandle(AddHandle { id, handle })
    };
    let remove = |name: &str| {
        let handle = h(name);
        move |id| ClientFrame::RemoveHandle(RemoveHandle { id, handle })
    };
    for name in ["ann-two", "ann-three"] {
        assert!(matches!(t.request(a, add(name)), ServerFrame::Handles { .. }));
        assert!(matches!(t.request(a, remove(name)), ServerFrame::Handles { .. }));
    }
    let refused = t.request(a, add("ann-four"));
    assert!(
        matches!(refused, ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(_), .. }),
        "{refused:?}"
    );
    t.now += 86_400_000;
    assert!(matches!(t.request(a, add("ann-four")), ServerFrame::Handles { .. }));
}

#[test]
fn guessing_from_many_addresses_is_bounded_per_handle_but_never_locks_the_owner_out() {
    let mut t = Harness::new();
    t.register("ann");
    // Ann logged in from her address once: it is known to her account.
    assert!(matches!(
        login_from(&mut t, "ann", IpAddr::from([192, 0, 2, 1]), "ann-password"),
        ServerFrame::Session { .. }
    ));
    // Ten addresses, one wrong guess each: the account's budget for strangers in this minute.
    for n in 0..10 {
        let answer = login_from(&mut t, "ann", IpAddr::from([198, 51, 100, n]), "wrong-guess");
        assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::BadCredentials, .. }), "{answer:?}");
    }
    let eleventh = login_from(&mut t, "ann", IpAddr::from([198, 51, 100, 77]), "wrong-guess");
    assert!(matches!(eleventh, ServerFrame::Error { code: ErrorCode::RateLimited, .. }), "{eleventh:?}");
    // Ann, from her own address, is not held back.
    assert!(matches!(
        login_from(&mut t, "ann", IpAddr::from([192, 0, 2, 1]), "ann-password"),
        ServerFrame::Session { .. }
    ));
    t.now += 60_000;
    let later = login_from(&mut t, "ann", IpAddr::from([198, 51, 100, 77]), "wrong-guess");
    assert!(matches!(later, ServerFrame::Error { code: ErrorCode::BadCredentials, .. }), "{later:?}");
}

#[test]
fn a_guessers_wait_doubles() {
    let mut t = Harness::new();
    t.register("ann");
    let guesser = t.connect_from(IpAddr::from([198, 51, 100, 1]));
    let wrong = |id| {
        ClientFrame::Login(Login { id, handle: h("ann"), password: "wrong-guess".into(), device: None, presence: None })
    };
    let mut waits = Vec::new();
    for _ in 0..6 {
        match t.request(guesser, wrong) {
            ServerFrame::Error { code: ErrorCode::BadCredentials, .. } => {}
            ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(wait), .. } => {
                waits.push(wait);
                t.now += i64::try_from(wait).unwrap();
                assert_eq!(t.err(guesser, wrong), ErrorCode::BadCredentials);
            }
            other => panic!("{other:?}"),
        }
    }
    // Each wait is the doubling delay, less the milliseconds the harness's own inputs took.
    let expected = [1000, 2000, 4000];
    assert_eq!(waits.len(), 3, "{waits:?}");
    assert!(waits.iter().zip(expected).all(|(w, e)| (e - 5..=e).contains(w)), "{waits:?}");
}

fn wrong_login(handle: &str) -> impl FnOnce(u64) -> ClientFrame {
    let handle = h(handle);
    move |id| ClientFrame::Login(Login { id, handle, password: "wrong-guess".into(), device: None, presence: None })
}

#[test]
fn logins_at_once_from_many_addresses_cannot_pass_the_cap_before_the_first_answer() {
    let mut t = Harness::new();
    t.register("ann");
    let conns: Vec<ConnId> = (0..20).map(|n| t.connect_from(IpAddr::from([198, 51, 100, n]))).collect();
    // Twenty logins reach the core before any password check comes back (the harness would finish each at once).
    let (mut checks, mut limited) = (0, 0);
    for conn in conns {
        let id = t.id();
        let frame = wrong_login("ann")(id);
        for effect in t.core.handle(Input::Frame { conn, frame }, t.now).unwrap() {
            match effect {
                Effect::VerifyPassword { .. } => checks += 1,
                Effect::Send { frame: ServerFrame::Error { code: ErrorCode::RateLimited, .. }, .. } => limited += 1,
                _ => {}
            }
        }
    }
    assert_eq!((checks, limited), (10, 10), "the per-handle cap counts the tries still being checked");
}

#[test]
fn a_limit_reached_on_one_handle_says_nothing_about_the_accounts_other_handles() {
    let mut t = Harness::new();
    let a = t.register("ann");
    let work = h("ann-work");
    assert!(matches!(
        t.request(a, |id| ClientFrame::AddHandle(AddHandle { id, handle: work })),
        ServerFrame::Handles { .. }
    ));
    for n in 0..10 {
        let answer = login_from(&mut t, "ann", IpAddr::from([198, 51, 100, n]), "wrong-guess");
        assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::BadCredentials, .. }), "{answer:?}");
    }
    let stranger = IpAddr::from([203, 0, 113, 5]);
    let limited = login_from(&mut t, "ann", stranger, "wrong-guess");
    assert!(matches!(limited, ServerFrame::Error { code: ErrorCode::RateLimited, .. }), "{limited:?}");
    // The same stranger on the account's other handle gets the answer anyone gets: nothing ties the two together.
    let other = login_from(&mut t, "ann-work", stranger, "wrong-guess");
    assert!(matches!(other, ServerFrame::Error { code: ErrorCode::BadCredentials, .. }), "{other:?}");
}

#[test]
fn a_token_login_makes_the_address_known_so_the_owner_logs_in_with_the_password_during_an_attack() {
    let mut t = Harness::new();
    let a = t.register("ann");
    // Her token, as her client saved it when she registered.
    let token = t.token_of(a);
    for n in 0..10 {
        login_from(&mut t, "ann", IpAddr::from([198, 51, 100, n]), "wrong-guess");
    }
    let laptop = IpAddr::from([192, 0, 2, 44]);
    let limited = login_from(&mut t, "ann", laptop, "ann-password");
    assert!(matches!(limited, ServerFrame::Error { code: ErrorCode::RateLimited, .. }), "{limited:?}");
    // Her client logs in from the new address with its token, which strangers cannot hold back...
    let conn = t.connect_from(laptop);
    let answer = t.request(conn, |id| ClientFrame::LoginToken(LoginToken { id, token, presence: None }));
    assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
    // ...and from then on the address is hers for password logins too.
    assert!(matches!(login_from(&mut t, "ann", laptop, "ann-password"), ServerFrame::Session { .. }));
}

#[test]
fn failed_password_logins_from_an_address_do_not_block_token_logins_from_it() {
    let mut t = with(|c| c.login_failures_per_ip = 5);
    let a = t.register("ann");
    let token = t.token_of(a);
    // A neighbour behind the same address mistypes passwords until the address is limited.
    let shared = IpAddr::from([192, 0, 2, 80]);
    let neighbour = t.connect_from(shared);
    let mut codes = Vec::new();
    for n in 0..8 {
        codes.push(t.err(neighbour, wrong_login(&format!("nobody-{n}"))));
    }
    assert_eq!(codes.last(), Some(&ErrorCode::RateLimited), "{codes:?}");
    let conn = t.connect_from(shared);
    let answer = t.request(conn, |id| ClientFrame::LoginToken(LoginToken { id, token, presence: None }));
    assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
}

#[test]
fn probing_for_handles_with_add_handle_is_limited() {
    let mut t = with(|c| c.register_attempts_per_ip_per_hour = 5);
    t.register("ben");
    let a = t.register("ann");
    let add = |id| ClientFrame::AddHandle(AddHandle { id, handle: h("ben") });
    for _ in 0..5 {
        assert_eq!(t.err(a, add), ErrorCode::HandleTaken);
    }
    assert_eq!(t.err(a, add), ErrorCode::RateLimited);
    let free = |id| ClientFrame::AddHandle(AddHandle { id, handle: h("nobody-here") });
    assert_eq!(t.err(a, free), ErrorCode::RateLimited, "the same answer for a free handle");
}

#[test]
fn a_message_refused_for_another_reason_costs_nothing_from_the_budget() {
    let mut t = with(|c| {
        c.budgets = BudgetLimits {
            messages_per_second: 0.001,
            message_burst: 3.0,
            bytes_per_second: 1e9,
            bytes_burst: 1e9,
            stored_bytes_per_day: u64::MAX,
        }
    });
    let a = t.register("ann");
    let b = t.register("ben");
    t.register("cat");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    for _ in 0..10 {
        let refused = t.dm(a, "cat", "not a friend");
        assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::NotReachable, .. }), "{refused:?}");
    }
    for _ in 0..3 {
        assert!(matches!(t.dm(a, "ben", "hi"), ServerFrame::Stored { .. }));
    }
}

#[test]
fn publishing_issues_costs_the_account_as_messages_do() {
    let mut t = with(|c| {
        c.budgets = BudgetLimits {
            messages_per_second: 0.001,
            message_burst: 2.0,
            bytes_per_second: 1e9,
            bytes_burst: 1e9,
            stored_bytes_per_day: u64::MAX,
        }
    });
    let a = t.register("ann");
    let news = huddle_shared::model::TopicId::parse("news").unwrap();
    let create = {
        let topic = news.clone();
        move |id| {
            ClientFrame::CreateTopic(CreateTopic {
                id,
                acting: None,
                topic,
                title: "News".into(),
                description: None,
                duration_ms: Some(60_000),
                include_offline: false,
            })
        }
    };
    assert!(matches!(t.request(a, create), ServerFrame::Topic { .. }));
    let publish = |topic: huddle_shared::model::TopicId| {
        move |id| {
            ClientFrame::Publish(Publish { id, acting: None, topic, title: "Issue".into(), body: None, link: None })
        }
    };
    // Refused for another reason (nobody publishes to a topic that does not exist): it costs nothing.
    let missing = huddle_shared::model::TopicId::parse("missing").unwrap();
    for _ in 0..3 {
        assert_ne!(t.err(a, publish(missing.clone())), ErrorCode::RateLimited);
    }
    for _ in 0..2 {
        assert!(matches!(t.request(a, publish(news.clone())), ServerFrame::Published { .. }));
    }
    assert_eq!(t.err(a, publish(news.clone())), ErrorCode::RateLimited, "the account's burst is spent");
}

#[test]
fn a_session_thief_guessing_the_current_password_does_not_keep_the_owner_from_changing_it() {
    let mut t = Harness::new();
    let home = IpAddr::from([192, 0, 2, 1]);
    let owner = t.connect_from(home);
    let register = |id| {
        ClientFrame::Register(Register {
            id,
            handle: h("ann"),
            password: "ann-password".into(),
            invite: None,
            device: None,
        })
    };
    let ServerFrame::Session { token: Some(token), .. } = t.request(owner, register) else { panic!("registered") };
    // The thief uses the stolen token from many addresses and guesses the current password from each.
    let mut limited = false;
    for n in 0..15 {
        let thief = t.connect_from(IpAddr::from([198, 51, 100, n]));
        let token = token.clone();
        let answer = t.request(thief, |id| ClientFrame::LoginToken(LoginToken { id, token, presence: None }));
        assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
        let guess = |id| {
            ClientFrame::ChangePassword(ChangePassword {
                id,
                old_password: "is-it-this".into(),
                new_password: "thief-password".into(),
            })
        };
        limited |= t.err(thief, guess) == ErrorCode::RateLimited;
    }
    assert!(limited, "guessing from addresses the password never came from is capped");
    // The owner, at home, changes it at once.
    let change = |id| {
        ClientFrame::ChangePassword(ChangePassword {
            id,
            old_password: "ann-password".into(),
            new_password: "a-new-password".into(),
        })
    };
    t.ok(owner, change);
}

#[test]
fn a_revoked_connection_is_closed_before_it_is_logged_out() {
    let mut t = Harness::new();
    let first = t.register("ann");
    let second = t.login("ann");
    let ServerFrame::Sessions { sessions, .. } = t.request(second, |id| ClientFrame::ListSessions(ListSessions { id }))
    else {
        panic!("sessions")
    };
    let session = sessions.iter().find(|s| !s.current).unwrap().session.clone();
    // Logged out first, the connection would become one anonymous connection too many behind a busy address, and
    // end with `too_many_connections` instead of `session_revoked`.
    let id = t.id();
    let frame = ClientFrame::RevokeSession(RevokeSession { id, session });
    let effects = t.core.handle(Input::Frame { conn: second, frame }, t.now).unwrap();
    let close = effects.iter().position(|e| matches!(e, Effect::Close { conn, .. } if *conn == first));
    let logged_out =
        effects.iter().position(|e| matches!(e, Effect::Authenticated { conn, authed: false } if *conn == first));
    assert!(close.is_some() && close < logged_out, "{effects:?}");
}
