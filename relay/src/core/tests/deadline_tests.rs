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
    for _ in 0..5 {
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
