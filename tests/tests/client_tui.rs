//! The real `huddle` binary in pseudo-terminals against a real relay, driven by keystrokes and read back from the
//! screen (and from what it asked of the terminal: bells, the window title):
//!
//! - two people befriend through a question each opens when they choose, chat both ways in order, set a status;
//! - a friend request and a deletion request that arrive while someone is typing take no key: the Enter sends the
//!   message; the questions wait, counted, and are answered when opened — refusal, ask again, confirm;
//! - a message beginning with every letter that used to be an action is sent as typed, from the list and from the
//!   conversation;
//! - the highlight stays on its friend when the list re-sorts;
//! - a message for you rings the bell and puts the unread count in the title.

use std::time::Duration;

use huddle_shared::ClientFrame;
use huddle_shared::ServerFrame;
use huddle_shared::client::*;
use huddle_shared::model::{ItemBody, RequestAnswer};
use huddle_tests::pty::Tui;
use huddle_tests::{Client, TestRelay, addr};

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

/// The bodies of the messages `client` received, waiting until `n` have come.
async fn received(client: &mut Client, n: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    while bodies.len() < n {
        let frame = client
            .expect_push(
                |f| matches!(f, ServerFrame::Deliver { item, .. } if matches!(item.body, ItemBody::Message { .. })),
            )
            .await;
        if let ServerFrame::Deliver { item, .. } = frame {
            if let ItemBody::Message { message } = item.body {
                bodies.push(message.body);
            }
        }
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn questions_wait_for_the_person_and_enter_sends_what_they_typed() {
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

            // alice asks; bob's screen counts the question and opens it only when he asks.
            alice.alt('n');
            alice.wait_for("Add a friend");
            alice.type_text("bob");
            alice.enter();
            alice.type_text("hi bob, it's alice");
            alice.enter();
            let screen = bob.wait_for("1 question — Alt-q to answer");
            assert!(!screen.contains("Accept and add back"), "no dialog opened on its own:\n{screen}");
            bob.alt('q');
            let screen = bob.wait_for("Accept and add back");
            assert!(screen.contains("hi bob, it's alice"), "{screen}");
            // The highlighted answer is Later; two steps left is "Accept and add back".
            bob.left();
            bob.left();
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
            bob.alt('s');
            bob.wait_for("Away");
            bob.right();
            bob.tab();
            bob.type_text("lunch");
            bob.enter();
            alice.wait_for("lunch");
            // bob starts typing to alice.
            bob.type_text("see you at");
            (alice, bob)
        }
    })
    .await
    .unwrap();

    // carol asks bob to be friends while he is typing.
    carol
        .ok(|id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to: addr("bob"), greeting: None }))
        .await;
    let (alice, bob) = tokio::task::spawn_blocking(move || {
        let (alice, mut bob) = (alice, bob);
        bob.wait_for("1 question — Alt-q to answer");
        // His next keys and his Enter are his message's, not an answer.
        bob.type_text(" noon");
        bob.enter();
        alice.wait_for("see you at noon");
        assert!(!bob.screen().contains("Accept and add back"));
        bob.alt('q');
        bob.wait_for("carol@localhost wants to be your friend.");
        bob.left();
        bob.left();
        bob.enter();
        bob.wait_for("carol is now a friend");
        bob.keys("/msg carol hi carol");
        bob.enter();
        bob.wait_for("hi carol");
        bob.type_text("are you free");
        (alice, bob)
    })
    .await
    .unwrap();
    assert!(received(&mut carol, 1).await.contains(&"hi carol".to_owned()));

    // alice deletes bob and asks him to delete her too, while bob is typing to carol.
    let (alice, bob) = tokio::task::spawn_blocking(move || {
        let (mut alice, mut bob) = (alice, bob);
        alice.keys("/del bob");
        alice.enter();
        let screen = alice.wait_for("Delete bob from your friend list?");
        assert!(screen.contains("[ Cancel ]"), "the highlighted answer deletes nobody:\n{screen}");
        for _ in 0..3 {
            alice.right();
        }
        alice.enter();
        bob.wait_for("1 question — Alt-q to answer");
        bob.type_text(" tonight?");
        bob.enter();
        bob.wait_for("are you free tonight?");
        (alice, bob)
    })
    .await
    .unwrap();
    assert!(
        received(&mut carol, 1).await.contains(&"are you free tonight?".to_owned()),
        "the Enter sent bob's message"
    );

    tokio::task::spawn_blocking(move || {
        let (mut alice, mut bob) = (alice, bob);
        // bob keeps alice; alice is asked (when she opens it) whether to ask again; she does; bob confirms.
        bob.alt('q');
        bob.wait_for("Deletion request");
        bob.left();
        bob.enter();
        alice.wait_for("1 question — Alt-q to answer");
        alice.alt('q');
        alice.wait_for("Ask bob again to delete you?");
        alice.right();
        alice.enter();
        bob.wait_for("1 question — Alt-q to answer");
        bob.alt('q');
        bob.wait_for("Delete alice");
        bob.left();
        bob.left();
        bob.enter();
        alice.wait_for("mutual deletion complete");
        std::thread::sleep(Duration::from_millis(300));
        alice.ctrl('c');
        assert!(alice.wait_exit(), "Ctrl-C quits cleanly");
        bob.keys("/quit");
        bob.enter();
        assert!(bob.wait_exit(), "/quit quits cleanly");
    })
    .await
    .unwrap();
}

/// alice (in a pseudo-terminal) with friends as protocol clients.
async fn alice_with(relay: &TestRelay, friends: &[&str]) -> Vec<Client> {
    let mut alice = relay.user("alice").await;
    let mut clients = Vec::new();
    for name in friends {
        let mut friend = relay.user(name).await;
        alice.friend_request(name, None).await;
        friend.answer_request("alice", RequestAnswer::AcceptMutual).await;
        clients.push(friend);
    }
    clients
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn letters_that_were_actions_are_text_from_every_focus() {
    let relay = TestRelay::start().await;
    let mut friends = alice_with(&relay, &["bob"]).await;
    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let said = [
        "quick question about tonight",
        "see you all at 7",
        "all good?",
        "do bring the cake",
        "bring snacks",
        "no worries",
        "hold on",
        "i will be late",
        "great",
        "maybe later",
        "yes!",
        "just kidding",
        "k",
        "? what",
    ];
    let alice = tokio::task::spawn_blocking({
        let home = home.path().to_owned();
        move || {
            let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
            alice.log_in("alice");
            alice.keys("/msg bob");
            alice.enter();
            alice.wait_for("bob — bob@localhost");
            for (i, text) in said.iter().enumerate() {
                // From the list (Esc on an empty input), or from the conversation (Shift-Tab).
                if i % 2 == 0 {
                    alice.esc();
                } else {
                    alice.shift_tab();
                }
                alice.type_text(text);
                alice.enter();
                alice.wait_for(text);
            }
            alice
        }
    })
    .await
    .unwrap();
    let bodies = received(&mut friends[0], said.len()).await;
    assert_eq!(bodies, said, "every message arrives exactly as typed");
    tokio::task::spawn_blocking(move || {
        let mut alice = alice;
        let screen = alice.screen();
        assert!(!screen.contains("Add a friend") && !screen.contains("Your status") && !screen.contains("Help"));
        alice.ctrl('c');
        assert!(alice.wait_exit());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_highlight_stays_on_its_friend_and_a_message_rings_and_titles() {
    let relay = TestRelay::start().await;
    let mut friends = alice_with(&relay, &["bob", "carol", "dave"]).await;
    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let alice = tokio::task::spawn_blocking({
        let home = home.path().to_owned();
        move || {
            let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
            alice.log_in("alice");
            alice.wait_for("dave");
            // The list has focus at the start; up to carol (the info panel shows the highlighted friend).
            for _ in 0..4 {
                if alice.screen().contains("carol@localhost") {
                    break;
                }
                alice.up();
            }
            alice.wait_for("carol@localhost");
            alice.wait_signals("a title", |_, title| title == "Huddle");
            alice
        }
    })
    .await
    .unwrap();
    let bells_before = alice.bells();
    let rows_before = alice.screen();
    // bob writes: his row moves to the top, and carol's moves.
    let mut bob = friends.remove(0);
    bob.send_message("alice", "alice, are you there?", "b1").await;
    tokio::task::spawn_blocking(move || {
        let mut alice = alice;
        alice.wait_signals("the bell and the count in the title", |bells, title| {
            bells > bells_before && title == "(1) Huddle"
        });
        let screen = alice.screen();
        assert!(row_of(&screen, "● bob") < row_of(&screen, "● carol"), "bob moved up:\n{screen}");
        assert_ne!(row_of(&screen, "● carol"), row_of(&rows_before, "● carol"), "carol's row moved:\n{screen}");
        // Enter opens the row that was highlighted: carol, not the row that is now in carol's old place.
        alice.enter();
        alice.wait_for("carol — carol@localhost");
        alice.ctrl('c');
        assert!(alice.wait_exit());
    })
    .await
    .unwrap();
}
