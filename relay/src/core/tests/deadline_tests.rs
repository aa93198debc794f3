//! Time in the core: it names its next deadline ([`Core::poll_deadline`]) and is woken at it ([`Input::Deadline`]).
//! Every timed behaviour here follows the clock the harness passes in; nothing sleeps.

use super::*;
use crate::core::domain::typing::TYPING_INTERVAL_MS;

/// Feeds `input` at exactly `when` (the harness adds one millisecond per input).
fn at(t: &mut Harness, when: Millis, input: Input) {
    t.now = when - 1;
    t.input(input);
}

fn typing_to_bob() -> ClientFrame {
    ClientFrame::Typing(Typing { id: None, acting: None, to: Some(addr("bob")), room: None })
}

#[test]
fn the_next_deadline_is_the_earliest_of_typing_expiry_and_housekeeping() {
    let mut t = Harness::new();
    let a = t.register("alice");
    let b = t.register("bob");
    t.befriend(a, b, RequestAnswer::AcceptMutual);
    let start = t.now + 10;
    at(&mut t, start, Input::Deadline);
    // Idle: only housekeeping is due.
    assert_eq!(t.core.poll_deadline(), start + HOUSEKEEPING_INTERVAL_MS);

    // alice types at +500: the entry is remembered until +2500, later than the next housekeeping.
    at(&mut t, start + 500, Input::Frame { conn: a, frame: typing_to_bob() });
    assert_eq!(t.core.world.typing.len(), 1);
    assert_eq!(t.core.poll_deadline(), start + 1_000);
    at(&mut t, start + 1_000, Input::Deadline);
    assert_eq!(t.core.poll_deadline(), start + 2_000);
    at(&mut t, start + 2_000, Input::Deadline);
    // Now the typing entry is the earliest.
    assert_eq!(t.core.poll_deadline(), start + 500 + TYPING_INTERVAL_MS);

    // Woken a little early, nothing is forgotten yet, and a second indicator is still held back.
    at(&mut t, start + 2_499, Input::Deadline);
    assert_eq!(t.core.world.typing.len(), 1);
    t.clear();
    at(&mut t, start + 2_499, Input::Frame { conn: a, frame: typing_to_bob() });
    assert!(t.take(b).iter().all(|f| !matches!(f, ServerFrame::Typing { .. })));

    // At the deadline the entry goes, the next deadline is housekeeping again, and the next indicator passes.
    at(&mut t, start + 2_500, Input::Deadline);
    assert!(t.core.world.typing.is_empty());
    assert_eq!(t.core.poll_deadline(), start + 3_000);
    at(&mut t, start + 2_600, Input::Frame { conn: a, frame: typing_to_bob() });
    assert_eq!(t.take(b).iter().filter(|f| matches!(f, ServerFrame::Typing { .. })).count(), 1);
}

#[test]
fn login_failure_windows_follow_the_clock_passed_in() {
    let mut t = Harness::new();
    t.register("alice");
    let conn = t.connect();
    let wrong = |id| {
        ClientFrame::Login(Login {
            id,
            handle: h("alice"),
            password: "not-her-password".into(),
            device: None,
            presence: None,
        })
    };
    for _ in 0..3 {
        assert_eq!(t.err(conn, wrong), ErrorCode::BadCredentials);
    }
    let limited = t.request(conn, wrong);
    let ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(wait), .. } = limited else {
        panic!("{limited:?}")
    };
    // The wait the relay names is the truth: a moment before it, still limited; at it, heard again.
    let until = t.now + i64::try_from(wait).unwrap();
    t.now = until - 2;
    assert_eq!(t.err(conn, wrong), ErrorCode::RateLimited);
    at(&mut t, until, Input::Deadline);
    t.now = until;
    assert_eq!(t.err(conn, wrong), ErrorCode::BadCredentials);
}

#[test]
fn registrations_per_address_are_limited_by_the_hour_passed_in() {
    let mut config = crate::core::tests::test_config(RegistrationPolicy::Open);
    config.registrations_per_ip_per_hour = 2;
    let mut t = Harness::with_config(config);
    let register = |name: &'static str| {
        move |id| {
            ClientFrame::Register(Register {
                id,
                handle: h(name),
                password: format!("{name}-password"),
                invite: None,
                device: None,
            })
        }
    };
    t.register("ann");
    t.register("ben");
    let conn = t.connect();
    let answer = t.request(conn, register("cat"));
    let ServerFrame::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(wait), .. } = answer else {
        panic!("{answer:?}")
    };
    let until = t.now + i64::try_from(wait).unwrap();
    // Someone at another address is not held up by it.
    let elsewhere = t.connect_from(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    assert!(matches!(t.request(elsewhere, register("dan")), ServerFrame::Session { .. }));
    // An hour after the first registration, the first address may register again, not a millisecond before.
    t.now = until - 2;
    assert_eq!(t.err(conn, register("cat")), ErrorCode::RateLimited);
    t.now = until - 1;
    assert!(matches!(t.request(conn, register("cat")), ServerFrame::Session { .. }));
}
