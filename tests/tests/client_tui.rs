//! The real `huddle` binary, twice, in pseudo-terminals against a real relay, driven by keystrokes and read back
//! from the screen: register two users, friend request → accept and add back, chat both ways in order, presence,
//! the three-step deletion with the other side answering inline while in another conversation, refusal → ask again.

use std::time::Duration;

use huddle_shared::ClientFrame;
use huddle_shared::client::*;
use huddle_tests::pty::Tui;
use huddle_tests::{TestRelay, addr};

const COLS: u16 = 120;
const ROWS: u16 = 36;

fn register(tui: &mut Tui, name: &str) {
    tui.wait_for("Log in");
    tui.ctrl('r');
    tui.wait_for("Create an account");
    tui.type_text(name);
    tui.tab();
    tui.type_text(&format!("{name} password"));
    tui.enter();
    tui.wait_for("Online (");
}

/// Row of the first line containing `text`, if any.
fn row_of(screen: &str, text: &str) -> Option<usize> {
    screen.lines().position(|l| l.contains(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_befriend_chat_and_delete_with_consent() {
    let relay = TestRelay::start().await;
    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let mut carol = relay.user("carol").await;

    let (alice, bob) = tokio::task::spawn_blocking({
        let url = url.clone();
        let home = home.path().to_owned();
        move || {
            let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
            let mut bob = Tui::start("bob", &home.join("bob"), &["--relay", &url], COLS, ROWS);
            register(&mut alice, "alice");
            register(&mut bob, "bob");

            // alice asks; bob sees the dialog and accepts both ways.
            alice.keys("a");
            alice.wait_for("Add a friend");
            alice.type_text("bob");
            alice.enter();
            alice.type_text("hi bob, it's alice");
            alice.enter();
            bob.wait_for("hi bob, it's alice");
            bob.wait_for("Accept and add back");
            bob.right();
            bob.enter();
            alice.wait_for("accepted your friend request and added you back");

            // Chat both ways, in order. bob sees an unread message until he opens the conversation.
            alice.keys("/msg bob hello bob");
            alice.enter();
            bob.wait_until("an unread badge", |s| {
                s.lines().any(|l| {
                    let left = l.split("││").next().unwrap_or_default().trim_end_matches('│').trim_end();
                    left.contains("alice") && left.ends_with('1')
                })
            });
            bob.keys("/msg alice");
            bob.enter();
            bob.wait_for("hello bob");
            bob.keys("hi alice, how are you?");
            bob.enter();
            let screen = alice.wait_for("hi alice, how are you?");
            assert!(row_of(&screen, "hello bob") < row_of(&screen, "hi alice, how are you?"), "{screen}");

            // Presence: bob goes away with an activity; alice sees it.
            bob.esc();
            bob.keys("s");
            bob.wait_for("Away");
            bob.right();
            bob.tab();
            bob.type_text("lunch");
            bob.enter();
            alice.wait_for("lunch");
            (alice, bob)
        }
    })
    .await
    .unwrap();

    // carol becomes bob's friend and talks to him; bob opens her conversation.
    carol
        .ok(|id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to: addr("bob"), greeting: None }))
        .await;
    let (alice, bob) = tokio::task::spawn_blocking(move || {
        let (alice, mut bob) = (alice, bob);
        bob.wait_for("carol");
        bob.enter();
        bob.keys("/msg carol hi carol");
        bob.enter();
        bob.wait_for("hi carol");
        (alice, bob)
    })
    .await
    .unwrap();

    // alice deletes bob in three steps while bob is busy with carol; bob refuses inline, alice asks again, bob confirms.
    tokio::task::spawn_blocking(move || {
        let (mut alice, mut bob) = (alice, bob);
        alice.esc();
        alice.esc();
        alice.keys("d");
        alice.wait_for("Delete bob from your friend list?");
        alice.keys("y");
        alice.wait_for("bob was deleted. Tell bob?");
        alice.enter();
        alice.wait_for("bob may still have you on their list");
        alice.enter();
        let screen = bob.wait_for("deleted you from their friend list and asks you");
        assert!(screen.contains("hi carol"), "the question appears in the conversation bob has open:\n{screen}");
        bob.alt('n');
        alice.wait_for("bob kept you on their list. Ask again?");
        alice.enter();
        bob.wait_until("a second question", |s| {
            s.matches("deleted you from their friend list and asks you").count() >= 2
        });
        bob.alt('y');
        alice.wait_for("mutual deletion complete");
        std::thread::sleep(Duration::from_millis(300));
        alice.esc();
        alice.keys("q");
        assert!(alice.wait_exit(), "q quits cleanly");
        bob.ctrl('c');
        assert!(bob.wait_exit(), "Ctrl-C quits cleanly");
    })
    .await
    .unwrap();
}
