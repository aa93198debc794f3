//! `perform`: the one place where what the person decided ([`Intent`]) becomes requests to the relay and changes
//! to the model. Every frame that acts for the person is built here (checked by `relay/tests/boundaries.rs`).

use huddle_shared::client::{
    AnswerDeletion, AnswerRequest, AnswerRoomInvite, Block, CancelRequest, ChangePassword, CreateGroup, DeleteFriend,
    FriendRequest, InviteToRoom, LeaveRoom, NotifyDeletion, RevokeSession, SetEntry, SetPresence, SetProfile, Unblock,
};
use huddle_shared::model::{DeletionAnswer, Message, RequestAnswer};
use huddle_shared::{Address, ClientFrame, Handle};

use super::intent::Intent;
use super::notices::notify;
use super::requests::request;
use super::{Cmd, ConvKey, Level, Model, Pending};
use crate::net;

/// Performs an intent; what it asks of the outside world comes back as commands.
pub fn perform(model: &mut Model, intent: Intent) -> Vec<Cmd> {
    match intent {
        Intent::SendFriendRequest { acting, to, greeting } => {
            vec![request(model, Pending::FriendRequest { to: to.clone() }, |id| {
                ClientFrame::FriendRequest(FriendRequest { id, acting: Some(acting), to, greeting })
            })]
        }
        Intent::CancelRequest { acting, to } => {
            vec![request(model, Pending::CancelRequest { to: to.clone() }, |id| {
                ClientFrame::CancelRequest(CancelRequest { id, acting: Some(acting), to })
            })]
        }
        Intent::AnswerRequest { acting, from, answer } => {
            let pending = Pending::Answer { from: from.clone(), accept: answer != RequestAnswer::Reject };
            vec![request(model, pending, |id| {
                ClientFrame::AnswerRequest(AnswerRequest { id, acting: Some(acting), from, answer })
            })]
        }
        Intent::DeleteFriend { acting, friend, then } => {
            let pending = Pending::Delete { acting: acting.clone(), friend: friend.clone(), then };
            vec![request(model, pending, |id| {
                ClientFrame::DeleteFriend(DeleteFriend { id, acting: Some(acting), friend })
            })]
        }
        Intent::NotifyDeletion { acting, friend, ask } => {
            vec![request(model, Pending::Notify { friend: friend.clone(), ask }, |id| {
                ClientFrame::NotifyDeletion(NotifyDeletion { id, acting: Some(acting), to: friend, ask_delete: ask })
            })]
        }
        Intent::AnswerDeletion { acting, from, confirm } => {
            let answer = if confirm { DeletionAnswer::Confirm } else { DeletionAnswer::Refuse };
            let pending = Pending::AnswerDeletion { from: from.clone(), confirm };
            vec![request(model, pending, |id| {
                ClientFrame::AnswerDeletion(AnswerDeletion { id, acting: Some(acting), from, answer })
            })]
        }
        Intent::Block { acting, target } => {
            vec![request(model, Pending::Block { target: target.clone(), block: true }, |id| {
                ClientFrame::Block(Block { id, acting: Some(acting), target })
            })]
        }
        Intent::Unblock { acting, target } => {
            vec![request(model, Pending::Block { target: target.clone(), block: false }, |id| {
                ClientFrame::Unblock(Unblock { id, acting: Some(acting), target })
            })]
        }
        Intent::SetEntry { acting, friend, nickname, note } => {
            vec![request(model, Pending::SetEntry, |id| {
                ClientFrame::SetEntry(SetEntry { id, acting: Some(acting), friend, nickname, note })
            })]
        }
        Intent::SetPresence { acting, state, activity } => {
            if let Some(h) = model.handles.iter_mut().find(|h| h.address.handle == acting) {
                if let Some(s) = state {
                    h.state = s;
                }
                if let Some(a) = &activity {
                    h.activity = Some(a.clone()).filter(|a| !a.is_empty());
                }
            }
            vec![request(model, Pending::Presence, |id| {
                ClientFrame::SetPresence(SetPresence { id, acting: Some(acting), state, activity, location: None })
            })]
        }
        Intent::CreateGroup { acting, members, title } => {
            if members.is_empty() {
                notify(model, Level::Info, "Name at least one friend: /group bob carol.");
                return Vec::new();
            }
            vec![request(model, Pending::CreateGroup, |id| {
                ClientFrame::CreateGroup(CreateGroup {
                    id,
                    acting: Some(acting),
                    members,
                    title,
                    promoted: false,
                    opening: None,
                })
            })]
        }
        Intent::Promote { acting, with, newcomer, message } => promote(model, acting, with, newcomer, message),
        Intent::AddToGroup { acting, group, who, message } => {
            let pending = Pending::Invite { acting: acting.clone(), group: group.clone(), who: who.clone(), message };
            vec![request(model, pending, |id| {
                ClientFrame::InviteToRoom(InviteToRoom { id, acting: Some(acting), room: group, who })
            })]
        }
        Intent::AnswerInvite { acting, room, accept } => {
            let pending = Pending::AnswerInvite { group: room.clone(), accept };
            vec![request(model, pending, |id| {
                ClientFrame::AnswerRoomInvite(AnswerRoomInvite { id, acting: Some(acting), room, accept })
            })]
        }
        Intent::LeaveRoom { acting, room } => {
            vec![request(model, Pending::LeaveGroup { group: room.clone() }, |id| {
                ClientFrame::LeaveRoom(LeaveRoom { id, acting: Some(acting), room })
            })]
        }
        Intent::Subscribe { acting, topic, subscribe: true } => {
            vec![request(model, Pending::Huddle(super::huddles::HuddleAsk::Subscribed), |id| {
                ClientFrame::Subscribe(huddle_shared::client::Subscribe {
                    id,
                    acting: Some(acting),
                    topic,
                    duration_ms: None,
                })
            })]
        }
        Intent::Subscribe { acting, topic, subscribe: false } => {
            let pending = Pending::Huddle(super::huddles::HuddleAsk::Unsubscribed(topic.clone()));
            vec![request(model, pending, |id| {
                ClientFrame::Unsubscribe(huddle_shared::client::Unsubscribe { id, acting: Some(acting), topic })
            })]
        }
        Intent::Publish { acting, topic, title, body } => {
            vec![request(model, Pending::Huddle(super::huddles::HuddleAsk::Published), |id| {
                ClientFrame::Publish(huddle_shared::client::Publish {
                    id,
                    acting: Some(acting),
                    topic,
                    title,
                    body,
                    link: None,
                })
            })]
        }
        Intent::Send { acting, key, body, receipts } => {
            match model.handles.iter().position(|h| h.address.handle == acting) {
                Some(index) => super::conversation::send_message(model, index, key, body, receipts),
                None => Vec::new(),
            }
        }
        Intent::SetProfile { acting, display_name, bio } => {
            vec![request(model, Pending::Profile, |id| {
                ClientFrame::SetProfile(SetProfile {
                    id,
                    acting: Some(acting),
                    display_name: Some(display_name),
                    bio: Some(bio),
                })
            })]
        }
        Intent::ChangePassword { old, new } => {
            vec![request(model, Pending::Password, |id| {
                ClientFrame::ChangePassword(ChangePassword { id, old_password: old.0, new_password: new.0 })
            })]
        }
        Intent::RevokeSession { session } => {
            vec![request(model, Pending::Revoke, |id| ClientFrame::RevokeSession(RevokeSession { id, session }))]
        }
        Intent::Quit => {
            model.quit = true;
            vec![Cmd::Net(net::Command::Shutdown), Cmd::Quit]
        }
    }
}

/// Promotion: a group of us, `with` and `newcomer`. If we already share a group with exactly these two, the
/// conversation continues there instead of a duplicate being made.
fn promote(model: &mut Model, acting: Handle, with: Address, newcomer: Address, message: Option<Message>) -> Vec<Cmd> {
    let Some(index) = model.handles.iter().position(|h| h.address.handle == acting) else { return Vec::new() };
    let h = &model.handles[index];
    let mut wanted = vec![h.address.clone(), with.clone(), newcomer.clone()];
    wanted.sort();
    let existing = h.session.groups.values().find(|g| {
        let mut members: Vec<Address> = g.members.iter().map(|m| m.address.clone()).collect();
        members.sort();
        members == wanted && g.invited.is_empty()
    });
    if let Some(group) = existing {
        let key = ConvKey::Room(group.id.clone());
        let name = h.group_name(&group.id);
        let newcomer_name = h.name_of(&newcomer);
        if let Some(m) = message {
            let at = m.sent_at;
            let text = format!("{newcomer_name} wrote to you only: “{}”", super::conversation::preview(&m.body));
            super::conversation::say_in(model, index, &key, at, text, super::SystemKind::Info);
        }
        notify(model, Level::Info, format!("You already have a group with them: {name}. Continuing there."));
        if index == model.active && model.handles[index].open == Some(ConvKey::Direct(with)) {
            return super::history::open(model, key);
        }
        return Vec::new();
    }
    let members = vec![with.clone(), newcomer.clone()];
    let opening = message.as_ref().map(|m| m.id.clone());
    let pending = Pending::Promote { acting: acting.clone(), with, newcomer, message };
    vec![request(model, pending, |id| {
        ClientFrame::CreateGroup(CreateGroup {
            id,
            acting: Some(acting),
            members,
            title: None,
            promoted: true,
            opening,
        })
    })]
}
