//! The relay's abuse limits as a person meets them, with the real `huddle` binary in a pseudo-terminal: while a
//! stranger at another address holds every connection it may that never logs in, alice logs in as usual; bob
//! mistypes his password until the relay asks him to wait, is told so in words, and gets in once the wait is over.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, SocketAddr};

use huddle_relay::config::LimitsConfig;
use huddle_shared::client::Hello;
use huddle_shared::{ClientFrame, ServerFrame};
use huddle_tests::pty::Tui;
use huddle_tests::{Client, Recv, TestRelay, WAIT};

const COLS: u16 = 110;
const ROWS: u16 = 30;

/// Backspaces enough to empty the password field, whatever it holds.
fn clear_password(tui: &mut Tui) {
    tui.keys_now(&"\x7f".repeat(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_person_logs_in_beside_a_flood_and_is_told_in_words_to_wait_after_wrong_passwords() {
    let relay = TestRelay::start_with(|c| {
        let defaults = LimitsConfig::default();
        c.limits.connections_per_address = defaults.connections_per_address;
        c.limits.unauthenticated_per_address = defaults.unauthenticated_per_address;
        c.limits.unauthenticated_connections = defaults.unauthenticated_connections;
    })
    .await;
    relay.user("alice").await;
    relay.user("bob").await;

    // A stranger at 127.0.0.2 opens connections that say hello and nothing more, as many as it is let.
    let mut flood = Vec::new();
    for _ in 0..40 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0))).unwrap();
        let tcp: Box<dyn huddle_tests::Io> = Box::new(socket.connect(relay.addr()).await.unwrap());
        let Ok(Ok((ws, _))) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(relay.url(), tcp)).await
        else {
            continue;
        };
        let mut client = Client::over_ws(ws);
        client.send_frame(&ClientFrame::Hello(Hello::current(None, &[]))).await;
        if let Recv::Frame(ServerFrame::Hello { .. }) = client.recv(WAIT).await {
            flood.push(client);
        }
    }
    assert_eq!(flood.len(), LimitsConfig::default().unauthenticated_per_address);

    let url = relay.url();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut alice = Tui::start("alice", &home.join("alice"), &["--relay", &url], COLS, ROWS);
        alice.log_in("alice");

        let mut bob = Tui::start("bob", &home.join("bob"), &["--relay", &url], COLS, ROWS);
        bob.wait_for("Log in");
        bob.type_text("bob");
        bob.tab();
        // Three wrong tries are answered as such; the next waits a second, whatever the password, and the form says
        // so in words.
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries <= 8, "still no request to wait after {tries} tries:\n{}", bob.screen());
            // The form empties the password field after a refusal.
            clear_password(&mut bob);
            bob.type_text("not my password");
            bob.enter();
            let screen = bob.wait_until("an answer to the login", |s| {
                !s.contains("Logging in…") && (s.contains("Wrong handle or password.") || s.contains("try again in"))
            });
            if screen.contains("Too many failed logins; try again in 1 second.") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1100));
        clear_password(&mut bob);
        bob.type_text(&huddle_tests::password_for("bob"));
        bob.enter();
        bob.wait_for("Online (");
    })
    .await
    .unwrap();
    drop(flood);
}
