//! Your profile, password and sessions from the client.

use super::*;
use huddle_shared::client::{ChangePassword, ListSessions, RevokeSession, SetProfile};

#[test]
fn the_profile_form_saves_name_and_bio() {
    let mut t = T::main("alice");
    t.typed("/profile");
    t.send(key(KeyCode::Enter));
    t.typed("Alice L.");
    t.send(key(KeyCode::Tab));
    t.typed("climbing, tea");
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    assert!(
        matches!(&sent[..], [(_, ClientFrame::SetProfile(SetProfile { display_name: Some(n), bio: Some(b), .. }))] if n == "Alice L." && b == "climbing, tea")
    );
}

#[test]
fn a_password_change_checks_the_new_one_twice_and_never_shows_it() {
    let mut t = T::main("alice");
    t.typed("/password");
    t.send(key(KeyCode::Enter));
    t.typed("old secret");
    t.send(key(KeyCode::Enter));
    t.typed("new secret 1");
    t.send(key(KeyCode::Enter));
    t.typed("new secret 2");
    assert!(T::requests(&t.send(key(KeyCode::Enter))).is_empty());
    let Some(Dialog::Password { error: Some(e), field: 2, repeat, .. }) = t.model.dialogs.front() else { panic!() };
    assert!(e.contains("differ") && repeat.is_empty(), "{e}");
    t.typed("new secret 1");
    let cmds = t.send(key(KeyCode::Enter));
    let sent = T::requests(&cmds);
    assert!(
        matches!(&sent[..], [(_, ClientFrame::ChangePassword(ChangePassword { old_password, new_password, .. }))] if old_password == "old secret" && new_password == "new secret 1")
    );
    let shown = format!("{:?}", crate::app::intent::Secret("new secret 1".into()));
    assert!(!shown.contains("secret 1"), "{shown}");
    t.ok(sent[0].0);
    assert!(t.model.notice.as_ref().is_some_and(|n| n.text.contains("Password changed")));
}

#[test]
fn another_device_can_be_logged_out_after_a_question() {
    let mut t = T::main("alice");
    t.typed("/sessions");
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    let [(id, ClientFrame::ListSessions(ListSessions { .. }))] = &sent[..] else { panic!("{sent:?}") };
    let session = |id: &str, device: &str, current: bool| SessionInfo {
        session: id.into(),
        device: Some(device.into()),
        created_at: 0,
        last_used_at: 0,
        current,
    };
    let sessions = vec![session("s1", "huddle on laptop", true), session("s2", "huddle on old-phone", false)];
    t.net(net::Event::Answer { id: *id, frame: ServerFrame::Sessions { id: *id, sessions } });
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::Sessions { selected: 1, .. })), "the other device first");
    t.send(key(KeyCode::Enter));
    let Some(Dialog::Confirm(c)) = t.model.dialogs.front() else { panic!() };
    assert!(c.text.contains("huddle on old-phone"));
    assert!(T::requests(&t.send(key(KeyCode::Enter))).is_empty(), "Keep it is first");
    t.model
        .dialogs
        .push_back(Dialog::Confirm(Box::new(crate::app::confirm::revoke_session(&session("s2", "x", false)))));
    t.send(key(KeyCode::Right));
    let sent = T::requests(&t.send(key(KeyCode::Enter)));
    assert!(matches!(&sent[..], [(_, ClientFrame::RevokeSession(RevokeSession { session, .. }))] if session == "s2"));
}
