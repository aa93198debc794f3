//! Secrets never reach the log, at any level, from the relay or from its dependencies: the real binary runs with
//! `log = "trace"` (every target, tungstenite and rustls included) through registration with an invite code, logins
//! with a password and with a token, a password change, messages, a friend request's greeting and private notes, a
//! topic's webhook token and an issue published with it, an activity report — and its whole log is then searched for
//! each secret.

use huddle_shared::client::*;
use huddle_shared::model::RequestAnswer;
use huddle_shared::{ClientFrame, ServerFrame};
use huddle_tests::{RelayProcess, befriend, password_for, run_binary, write_binary_config_logging};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hook = huddle_tests::free_port();
    let extra = format!("registration = \"invite\"\nwebhook_listen = \"127.0.0.1:{hook}\"");
    let config = write_binary_config_logging(dir.path(), "trace", &extra);
    let out = run_binary(&config, &data, &["invite", "create", "--count", "2"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let codes: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");

    let mut relay = RelayProcess::spawn(&config, &data, dir.path()).await;
    let mut a = relay.connect().await;
    let answer = a.register_with("alice", &password_for("alice"), Some(&codes[0])).await;
    assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
    let mut b = relay.connect().await;
    let answer = b.register_with("bob", &password_for("bob"), Some(&codes[1])).await;
    assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
    befriend(&mut a, &mut b, RequestAnswer::AcceptMutual).await;

    let body = "the launch code is zebra-umbrella-42";
    a.dm("bob", body, "secret-1").await;
    let note = "owes me 20 euros (private)";
    a.ok(|id| {
        ClientFrame::SetEntry(SetEntry {
            id,
            acting: None,
            friend: huddle_tests::addr("bob"),
            nickname: None,
            note: Some(note.into()),
        })
    })
    .await;
    let new_password = "a brand new passphrase 7781";
    a.ok(|id| {
        ClientFrame::ChangePassword(ChangePassword {
            id,
            old_password: password_for("alice"),
            new_password: new_password.into(),
        })
    })
    .await;
    // A topic's webhook token, an issue published with it, and an activity (kept only as a keyed hash).
    let topic = huddle_shared::model::TopicId::parse("news").unwrap();
    a.request(|id| {
        ClientFrame::CreateTopic(CreateTopic {
            id,
            acting: None,
            topic: topic.clone(),
            title: "News".into(),
            description: None,
            duration_ms: None,
            include_offline: false,
        })
    })
    .await;
    let answer =
        a.request(|id| ClientFrame::UpdateTopic(UpdateTopic { new_token: true, ..UpdateTopic::new(id, topic) })).await;
    let ServerFrame::Topic { token: Some(webhook_token), .. } = answer else { panic!("{answer:?}") };
    let issue_body = "the issue says pelican-8812";
    let (status, _) = huddle_tests::http_post(
        hook,
        "/topics/news/issues",
        &webhook_token,
        &format!("{{\"title\":\"One\",\"body\":\"{issue_body}\"}}"),
    )
    .await;
    assert_eq!(status, 201);
    let activity = "Hamlet at the Globe, row F seat 12";
    a.ok(|id| {
        ClientFrame::ReportActivity(ReportActivity { id, acting: None, kind: "show".into(), key: activity.into() })
    })
    .await;
    let token = b.token.clone().expect("bob's token");
    let mut b2 = relay.connect().await;
    assert!(matches!(b2.login_token(&token).await, ServerFrame::Session { .. }));
    let mut wrong = relay.connect().await;
    let wrong_password = "not-the-password-at-all-991";
    let _ = wrong.login_with("alice", wrong_password, None, None).await;
    b2.dm("alice", "and another secret body: quokka-7", "secret-2").await;
    drop((a, b, b2, wrong));
    let status = relay.terminate().await;
    assert!(status.success());

    let log = relay.log_text();
    // The log is verbose enough to mean something: the relay's own debug lines about the connections, and the
    // WebSocket library's (whose trace lines would carry the frames, were they not capped).
    for target in ["huddle_relay::net::connection", "tungstenite::handshake"] {
        assert!(log.lines().any(|l| l.contains("DEBUG") && l.contains(target)), "no {target} debug lines:\n{log}");
    }
    let secrets = [
        password_for("alice"),
        password_for("bob"),
        new_password.to_owned(),
        wrong_password.to_owned(),
        token,
        codes[0].clone(),
        codes[1].clone(),
        body.to_owned(),
        "quokka-7".to_owned(),
        note.to_owned(),
        webhook_token,
        issue_body.to_owned(),
        activity.to_owned(),
    ];
    for secret in &secrets {
        if let Some(line) = log.lines().find(|l| l.contains(secret.as_str())) {
            // The line, with the secret itself blotted out, says which target leaked it.
            panic!("the log contains a secret: {}", line.replace(secret.as_str(), "<SECRET>"));
        }
    }
}
