//! `perform` for every intent: the frame it sends (or what it does), from a constructed model.

use super::*;
use crate::app::intent::{AfterDelete, Intent};
use crate::app::perform::perform;
use huddle_shared::client::{
    AnswerRoomInvite, Block, CancelRequest, CreateGroup, FriendRequest, InviteToRoom, LeaveRoom, SetEntry, Unblock,
};

fn frame(t: &mut T, intent: Intent) -> ClientFrame {
    let cmds = perform(&mut t.model, intent);
    match &cmds[..] {
        [Cmd::Net(Command::Request { frame, .. })] => frame.clone(),
        other => panic!("expected one request: {other:?}"),
    }
}

#[test]
fn every_intent_sends_what_it_says_as_the_handle_it_names() {
    let mut t = T::main("alice");
    let me = addr("alice").handle;
    let bob = addr("bob");
    let acting = || Some(addr("alice").handle);
    assert!(matches!(
        frame(&mut t, Intent::SendFriendRequest { acting: me.clone(), to: bob.clone(), greeting: Some("hi".into()) }),
        ClientFrame::FriendRequest(FriendRequest { to, greeting: Some(g), acting: a, .. }) if to == bob && g == "hi" && a == acting()
    ));
    assert!(matches!(
        frame(&mut t, Intent::CancelRequest { acting: me.clone(), to: bob.clone() }),
        ClientFrame::CancelRequest(CancelRequest { to, .. }) if to == bob
    ));
    assert!(matches!(
        frame(&mut t, Intent::AnswerRequest { acting: me.clone(), from: bob.clone(), answer: RequestAnswer::Reject }),
        ClientFrame::AnswerRequest(AnswerRequest { answer: RequestAnswer::Reject, .. })
    ));
    assert!(matches!(
        frame(&mut t, Intent::DeleteFriend { acting: me.clone(), friend: bob.clone(), then: AfterDelete::Tell }),
        ClientFrame::DeleteFriend(DeleteFriend { friend, .. }) if friend == bob
    ));
    assert!(matches!(
        frame(&mut t, Intent::NotifyDeletion { acting: me.clone(), friend: bob.clone(), ask: false }),
        ClientFrame::NotifyDeletion(NotifyDeletion { ask_delete: false, .. })
    ));
    assert!(matches!(
        frame(&mut t, Intent::AnswerDeletion { acting: me.clone(), from: bob.clone(), confirm: false }),
        ClientFrame::AnswerDeletion(AnswerDeletion { answer: DeletionAnswer::Refuse, .. })
    ));
    assert!(matches!(
        frame(&mut t, Intent::Block { acting: me.clone(), target: bob.clone() }),
        ClientFrame::Block(Block { target, .. }) if target == bob
    ));
    assert!(matches!(
        frame(&mut t, Intent::Unblock { acting: me.clone(), target: bob.clone() }),
        ClientFrame::Unblock(Unblock { target, .. }) if target == bob
    ));
    assert!(matches!(
        frame(&mut t, Intent::SetEntry { acting: me.clone(), friend: bob.clone(), nickname: Some("B".into()), note: None }),
        ClientFrame::SetEntry(SetEntry { nickname: Some(n), note: None, .. }) if n == "B"
    ));
    assert!(matches!(
        frame(&mut t, Intent::SetPresence { acting: me.clone(), state: Some(PresenceState::Busy), activity: None }),
        ClientFrame::SetPresence(SetPresence { state: Some(PresenceState::Busy), .. })
    ));
    assert_eq!(t.model.handle().unwrap().state, PresenceState::Busy, "shown at once");
    assert!(matches!(
        frame(&mut t, Intent::CreateGroup { acting: me.clone(), members: vec![bob.clone()], title: Some("t".into()) }),
        ClientFrame::CreateGroup(CreateGroup { promoted: false, title: Some(_), .. })
    ));
    assert!(matches!(
        frame(
            &mut t,
            Intent::Promote { acting: me.clone(), with: bob.clone(), newcomer: addr("carol"), message: None }
        ),
        ClientFrame::CreateGroup(CreateGroup { promoted: true, .. })
    ));
    assert!(matches!(
        frame(&mut t, Intent::AddToGroup { acting: me.clone(), group: room("g-1"), who: addr("carol"), message: None }),
        ClientFrame::InviteToRoom(InviteToRoom { who, .. }) if who == addr("carol")
    ));
    assert!(matches!(
        frame(&mut t, Intent::AnswerInvite { acting: me.clone(), room: room("g-1"), accept: true }),
        ClientFrame::AnswerRoomInvite(AnswerRoomInvite { accept: true, .. })
    ));
    assert!(matches!(
        frame(&mut t, Intent::LeaveRoom { acting: me.clone(), room: room("g-1") }),
        ClientFrame::LeaveRoom(LeaveRoom { room: r, .. }) if r == room("g-1")
    ));
    let cmds =
        perform(&mut t.model, Intent::Send { acting: me.clone(), key: dm("bob"), body: "yo".into(), receipts: true });
    assert!(matches!(&cmds[..], [Cmd::Net(Command::Message(m))] if m.body == "yo" && m.receipts));
    let cmds = perform(&mut t.model, Intent::Quit);
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Quit)) && t.model.quit);
    // Nothing is asked of a handle the account does not have.
    assert!(
        perform(
            &mut t.model,
            Intent::Send { acting: addr("zed").handle, key: dm("bob"), body: "x".into(), receipts: false }
        )
        .is_empty()
    );
}

#[test]
fn an_empty_group_is_refused_with_a_sentence() {
    let mut t = T::main("alice");
    let me = addr("alice").handle;
    assert!(perform(&mut t.model, Intent::CreateGroup { acting: me, members: vec![], title: None }).is_empty());
    assert!(t.model.notice.as_ref().is_some_and(|n| n.text.contains("at least one friend")));
}
