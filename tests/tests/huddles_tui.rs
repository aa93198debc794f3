//! A huddle on real screens: alice makes a topic and publishes an issue from the `huddle` binary, bob (subscribed with
//! `/subscribe`) sees the huddle appear under Huddles with its countdown, reads the issue in it, watches the
//! countdown go down, and sees it end on time and move to Past huddles with its log still there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use huddle_tests::TestRelay;
use huddle_tests::pty::Tui;

const COLS: u16 = 120;
const ROWS: u16 = 36;

/// The seconds left that the list shows for the huddle ("42s left"), if it shows seconds.
fn seconds_left(screen: &str) -> Option<u32> {
    let at = screen.find("s left")?;
    let digits: String =
        screen[..at].chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    digits.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_published_issue_forms_a_huddle_that_counts_down_and_ends() {
    let relay = TestRelay::start().await;
    relay.user("alice").await;
    relay.user("bob").await;
    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
        let mut bob = Tui::start("bob", &home.join("bob"), &["--relay", &url], COLS, ROWS);
        alice.log_in("alice");
        bob.log_in("bob");

        alice.keys("/newtopic news 1m News");
        alice.enter();
        alice.wait_for("Topic news is made");
        bob.keys("/subscribe news");
        bob.enter();
        bob.wait_for("Subscribed to News");

        alice.keys("/publish news Release 1.2 | What changed in 1.2");
        alice.enter();
        alice.wait_for("Issue #1 is out: a huddle of 2 formed");
        // Nothing opens by itself on bob's side: the list shows it, and a notice says where it is.
        let screen = bob.wait_for("Huddles (1)");
        assert!(screen.contains("◆ News #1"), "{screen}");
        assert!(screen.contains("Huddle: newsletter “News” #1: Release 1.2"), "{screen}");
        bob.alt('1');
        let screen = bob.wait_for("Huddle formed — newsletter “News” #1: Release 1.2 — with");
        assert!(screen.contains("alice, bob. It lasts 1 minute."), "{screen}");
        assert!(screen.contains("huddle: you, alice"), "the title says what it is:\n{screen}");
        assert!(screen.contains("What changed in 1.2"), "the issue's body is in the log:\n{screen}");
        // The countdown goes down by itself.
        let first = bob.wait_until("a countdown in seconds", |s| seconds_left(s).is_some());
        let start = seconds_left(&first).unwrap();
        let later = bob.wait_until("the countdown to move", |s| seconds_left(s).is_some_and(|n| n + 2 <= start));
        assert!(seconds_left(&later).unwrap() < start);
        // Both can talk in it.
        bob.keys("great release");
        bob.enter();
        alice.alt('1');
        alice.wait_for("great release");
        // It ends on time, says why, and stays readable under Past huddles.
        let screen = bob.wait_until_within("the huddle's end", Duration::from_secs(90), |s| {
            s.contains("This huddle has ended (its time was up)")
        });
        assert!(screen.contains("great release"), "{screen}");
        bob.wait_for("Past huddles (1)");
    })
    .await
    .unwrap();
}
