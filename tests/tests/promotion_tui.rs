//! Automatic promotion with the real `huddle` binary, three times, in pseudo-terminals against a real relay: alice and
//! bob chat, carol writes to alice, the group forms on all three screens; carol's opening message reaches the group
//! only after she agrees; a second time reuses the group instead of making a duplicate; everyone sees the same
//! messages in the same order, read receipts count "2 of 2", bob leaves and is not put back when he writes again.
//! Then the `ask` and `off` settings, with alice's client alone and the others speaking the protocol.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::model::RequestAnswer;
use huddle_tests::TestRelay;
use huddle_tests::pty::Tui;

const COLS: u16 = 120;
const ROWS: u16 = 36;

/// The conversation pane's text of each row (what lies right of the friend list), so the list's own names never
/// count as lines of the log.
fn log_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| {
            let right: String = l.chars().skip(32).collect();
            right.trim_end_matches('│').to_owned()
        })
        .collect()
}

/// Rows of the conversation pane where each of `texts` first appears, in the order given.
fn rows_of(screen: &str, texts: &[&str]) -> Vec<Option<usize>> {
    let rows = log_rows(screen);
    texts.iter().map(|t| rows.iter().position(|r| r.contains(t))).collect()
}

/// alice, bob and carol on a relay, all friends of each other (so a group of the three puts nobody with a
/// stranger, and all join at once).
async fn three_friends(relay: &TestRelay) {
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    let mut carol = relay.user("carol").await;
    for friend in [&mut bob, &mut carol] {
        alice.friend_request(&friend.address().handle.to_string(), None).await;
        friend.answer_request("alice", RequestAnswer::AcceptMutual).await;
    }
    bob.friend_request("carol", None).await;
    carol.answer_request("bob", RequestAnswer::AcceptMutual).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_third_friend_writing_turns_the_chat_into_a_group_on_every_screen() {
    let relay = TestRelay::start().await;
    three_friends(&relay).await;
    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
        let mut bob = Tui::start("bob", &home.join("bob"), &["--relay", &url], COLS, ROWS);
        let mut carol = Tui::start("carol", &home.join("carol"), &["--relay", &url], COLS, ROWS);
        for (tui, name) in [(&mut alice, "alice"), (&mut bob, "bob"), (&mut carol, "carol")] {
            tui.log_in(name);
        }

        // alice and bob are in an exchange.
        alice.keys("/msg bob are you coming tonight?");
        alice.enter();
        bob.wait_for("alice");
        bob.keys("/msg alice yes, 7pm");
        bob.enter();
        alice.wait_for("yes, 7pm");

        // carol writes to alice: the chat grows into a group, opened in place of bob's conversation. What carol
        // wrote went to alice alone: alice sees it marked so, and carol is asked before the group reads it.
        carol.keys("/msg alice can I come too?");
        carol.enter();
        let screen = alice.wait_for("became a group with carol");
        let order = rows_of(
            &screen,
            &[
                "are you coming tonight?",
                "yes, 7pm",
                "became a group with carol",
                "carol wrote to you only: “can I come too?”",
            ],
        );
        assert!(order.iter().all(Option::is_some) && order.is_sorted(), "one chronological view {order:?}:\n{screen}");
        assert!(screen.contains("only you see these"), "{screen}");
        assert!(screen.contains("# bob, carol"), "the Groups section lists it:\n{screen}");
        // bob and carol get the group with who made it; both were looking at alice, so they follow into it.
        let bob_screen = bob.wait_for("alice made this a group: alice, bob, carol");
        let carol_screen = carol.wait_for("alice made this a group: alice, bob, carol");
        for screen in [&bob_screen, &carol_screen] {
            assert!(!log_rows(screen).iter().any(|r| r.contains("are you coming tonight?") && r.contains("group")));
        }
        // The earlier lines were never sent to carol, and bob has not read what carol wrote to alice.
        assert!(!carol_screen.contains("are you coming tonight?"), "{carol_screen}");
        assert!(!bob_screen.contains("can I come too?"), "{bob_screen}");
        carol.wait_for("1 question — Alt-q to answer");
        carol.alt('q');
        let screen = carol.wait_for("Share your message?");
        assert!(screen.contains("[ Keep it private ]"), "the highlighted answer shares nothing:\n{screen}");
        carol.right();
        carol.enter();
        bob.wait_for("can I come too?");

        // alice and bob talk alone again, and carol writes to alice again: the group of the three is reused.
        bob.keys("/msg alice");
        bob.enter();
        alice.keys("/msg bob back to you");
        alice.enter();
        bob.wait_for("back to you");
        carol.keys("/msg alice me again");
        carol.enter();
        let screen = alice.wait_for("You already have a group with them");
        assert!(screen.contains("Groups (1)"), "no duplicate group:\n{screen}");
        alice.wait_for("carol wrote to you only: “me again”");
        assert!(!bob.screen().contains("me again"), "what carol wrote to alice stays between them");
        // bob and carol go back to the group: Alt-1, the first conversation of their lists.
        bob.alt('1');
        bob.wait_for("group of 3");
        carol.alt('1');
        carol.wait_for("group of 3");

        // Everyone writes at once; all three see the same messages in the same order.
        alice.keys("welcome carol!");
        bob.keys("hi carol");
        carol.keys("hello both");
        alice.enter();
        bob.enter();
        carol.enter();
        let said = ["welcome carol!", "hi carol", "hello both"];
        let mut orders = Vec::new();
        for tui in [&alice, &bob, &carol] {
            let screen = tui.wait_until("all three messages", |s| said.iter().all(|t| s.contains(t)));
            let rows: Vec<usize> = rows_of(&screen, &said).into_iter().map(|r| r.unwrap_or(0)).collect();
            let mut order: Vec<&str> = said.to_vec();
            order.sort_by_key(|t| rows[said.iter().position(|s| s == t).unwrap_or(0)]);
            orders.push((tui.name.clone(), order));
        }
        assert!(orders.windows(2).all(|w| w[0].1 == w[1].1), "the same order everywhere: {orders:?}");

        // Receipts: alice asks; bob and carol have the group on screen, so both read it.
        alice.keys("/confirm all set for 7?");
        alice.enter();
        bob.wait_for("all set for 7?");
        carol.wait_for("all set for 7?");
        alice.wait_for("all set for 7?  ✓✓ read by 2 of 2");
        // The receipts key lists who has read it.
        alice.alt('r');
        let screen = alice.wait_for("Receipts");
        assert!(screen.contains("✓✓ bob") && screen.contains("✓✓ carol"), "both have read it:\n{screen}");
        alice.esc();

        // bob leaves; the others are told, and bob's screen says so too.
        bob.keys("/leave");
        bob.enter();
        let screen = bob.wait_for("Leave alice, carol?");
        assert!(screen.contains("[ Stay ]"), "{screen}");
        bob.right();
        bob.enter();
        bob.wait_for("You are no longer in");
        alice.wait_for("bob left.");
        carol.wait_for("bob left.");
        alice.keys("/confirm just us now");
        alice.enter();
        carol.wait_for("just us now");
        alice.wait_for("just us now  ✓✓ read");
        assert!(!bob.screen().contains("just us now"));

        // bob writes to alice while she is in the group: he left it, so he is not put back; alice is asked.
        bob.keys("/msg alice sorry, had to go");
        bob.enter();
        alice.wait_for("1 question — Alt-q to answer");
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(!carol.screen().contains("added bob"), "{}", carol.screen());
        assert!(!alice.screen().contains("bob is in the group now"), "{}", alice.screen());

        for tui in [&mut alice, &mut bob, &mut carol] {
            tui.ctrl('c');
            assert!(tui.wait_exit(), "{} quits cleanly", tui.name);
        }
    })
    .await
    .unwrap();
}

/// A relay where alice (her client in a pseudo-terminal, with `promotion` set) is in an exchange with bob, and carol
/// (a protocol client) has just written to her. Returns the relay, so it lives as long as the test.
async fn carol_writes_during_an_exchange(
    promotion: &'static str,
    home: &std::path::Path,
) -> (TestRelay, Tui, huddle_tests::Client) {
    let relay = TestRelay::start().await;
    three_friends(&relay).await;
    let mut bob = relay.login("bob").await;
    let mut carol = relay.login("carol").await;
    let alice = tokio::task::spawn_blocking({
        let (home, url) = (home.to_owned(), relay.url());
        move || {
            let config = home.join("alice").join("config");
            std::fs::create_dir_all(&config).unwrap();
            std::fs::write(config.join("client.toml"), format!("[chat]\npromotion = \"{promotion}\"\n")).unwrap();
            let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
            alice.log_in("alice");
            alice.keys("/msg bob are you there?");
            alice.enter();
            alice
        }
    })
    .await
    .unwrap();
    bob.send_message("alice", "yes!", "b1").await;
    let alice = tokio::task::spawn_blocking(move || {
        alice.wait_for("yes!");
        alice
    })
    .await
    .unwrap();
    carol.send_message("alice", "hello?", "c1").await;
    (relay, alice, carol)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn promotion_ask_asks_first() {
    let home = tempfile::tempdir().unwrap();
    let (_relay, alice, mut carol) = carol_writes_during_an_exchange("ask", home.path()).await;
    // The question waits, counted; opened, "Keep apart" answers it and nothing happens; the next is made a group.
    let alice = tokio::task::spawn_blocking(move || {
        let mut alice = alice;
        let screen = alice.wait_for("1 question — Alt-q to answer");
        assert!(!screen.contains("became a group"), "nothing happens before the answer:\n{screen}");
        assert!(!screen.contains("Make a group?"), "and nothing opens by itself:\n{screen}");
        alice.alt('q');
        alice.wait_for("Make a group?");
        alice.left();
        alice.enter();
        alice.wait_until("the question answered", |s| !s.contains("1 question"));
        alice
    })
    .await
    .unwrap();
    carol.send_message("alice", "hello again?", "c2").await;
    tokio::task::spawn_blocking(move || {
        let mut alice = alice;
        alice.wait_for("1 question — Alt-q to answer");
        alice.alt('q');
        alice.wait_for("“hello again?”");
        alice.left();
        alice.left();
        alice.enter();
        alice.wait_for("became a group with carol");
        alice.ctrl('c');
        assert!(alice.wait_exit());
    })
    .await
    .unwrap();
    let created = carol
        .expect_push(|f| matches!(f, huddle_shared::ServerFrame::Room { room: group, .. } if group.members.len() == 3))
        .await;
    assert!(matches!(created, huddle_shared::ServerFrame::Room { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn promotion_off_never_promotes() {
    let home = tempfile::tempdir().unwrap();
    let (_relay, alice, _carol) = carol_writes_during_an_exchange("off", home.path()).await;
    // carol's message just waits in her own conversation, unread.
    tokio::task::spawn_blocking(move || {
        let mut alice = alice;
        let screen = alice.wait_until("carol's unread badge", |s| {
            s.lines().any(|l| {
                let left: String = l.chars().take(31).collect();
                left.contains("carol") && left.trim_end().trim_end_matches('│').trim_end().ends_with('1')
            })
        });
        assert!(!screen.contains("group"), "no group with promotion off:\n{screen}");
        alice.ctrl('c');
        assert!(alice.wait_exit());
    })
    .await
    .unwrap();
}
