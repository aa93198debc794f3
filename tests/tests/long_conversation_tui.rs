//! A conversation longer than anything loaded, with the real `huddle` binary in a pseudo-terminal: ann's messages
//! from ben were all read on another device, so her client holds none of them and pages them in from history. Search
//! finds a message far back that is not loaded yet; Home reaches the start of the conversation; PgDn comes back down a
//! page at a time to the newest line. (Issue 11: search covered only the lines loaded, and after Home PgDn did not
//! move.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::model::RequestAnswer;
use huddle_tests::pty::Tui;
use huddle_tests::{TestRelay, befriend};

const COLS: u16 = 100;
const ROWS: u16 = 30;
const MESSAGES: usize = 450;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_home_and_page_keys_cover_the_whole_conversation() {
    let relay = TestRelay::start().await;
    let mut ann = relay.user("ann").await;
    let mut ben = relay.user("ben").await;
    befriend(&mut ann, &mut ben, RequestAnswer::AcceptMutual).await;
    for n in 1..=MESSAGES {
        ben.dm("ann", &format!("line {n} of the backlog"), &format!("b{n}")).await;
    }
    // Read elsewhere: ann's stream is acknowledged to its end, so a new client syncs none of it.
    drop(ann);
    let mut other_device = relay.login("ann").await;
    let head = other_device.handle_info("ann").head;
    other_device.ack(None, head).await;
    drop(other_device);

    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tui = Tui::start("ann", &home.join("ann"), &["--relay", &url], COLS, ROWS);
        tui.log_in("ann");
        // ben is the one friend: the row under the "Online" heading.
        tui.down();
        tui.enter();
        tui.wait_for(&format!("line {MESSAGES} of the backlog"));

        // Search: the match is three pages back, in history the client does not hold yet.
        tui.ctrl('f');
        tui.type_text("line 12 of");
        tui.enter();
        tui.wait_for("line 12 of the backlog");
        tui.esc();

        // Home goes to the top of what is held; pressed there it pages in the rest, to the very start.
        tui.tab();
        let mut start = false;
        for _ in 0..10 {
            tui.keys("\x1b[H");
            if tui.screen().contains("This is the start of your conversation") {
                start = true;
                break;
            }
        }
        let screen = tui.wait_for("line 1 of the backlog");
        assert!(start || screen.contains("This is the start of your conversation"), "{screen}");

        // PgDn moves a page each time and comes back to the newest line.
        let mut previous = tui.screen();
        let mut presses = 0;
        while !tui.screen().contains(&format!("line {MESSAGES} of the backlog")) {
            tui.keys("\x1b[6~");
            presses += 1;
            let now = tui.screen();
            assert_ne!(now, previous, "PgDn moved nothing after {presses} presses");
            previous = now;
            assert!(presses <= MESSAGES / 20 + 5, "PgDn moves a page: {presses} presses and not at the bottom yet");
        }
    })
    .await
    .unwrap();
}
