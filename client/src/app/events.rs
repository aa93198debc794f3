//! What the network worker reports, applied to the model: sessions, stream items (messages and system events),
//! answers to our requests, and pushes. System events become sentences in the conversation they concern; those
//! that ask something (friend requests, deletion requests...) also become questions, which wait until the person
//! opens them. Nothing here is performed on the person's behalf except what their settings say (automatic
//! promotion), and that comes back as an intent.

use huddle_shared::model::{DeletionAnswer, Event, ItemBody, RequestAnswer, ShownState, StreamItem};
use huddle_shared::{Address, ErrorCode, ServerFrame};

use super::conversation::{insert_message, is_open, say};
use super::huddles::HuddleAsk;
use super::input::TextInput;
use super::intent::{AfterDelete, Intent};
use super::notices::notify;
use super::questions;
use super::selection::fix as fix_selection;
use super::{
    Cmd, ConvKey, Conversation, Delivery, Dialog, HandleView, Level, LogLine, LoginForm, LoginMode, Model, Pending,
    QuestionAbout, Screen, SystemKind,
};
use crate::net::{self, ConnState};

pub fn apply(model: &mut Model, event: net::Event) -> Vec<Cmd> {
    match event {
        net::Event::Connection(state) => {
            if state == ConnState::Online {
                model.session.misbehaved = None;
            }
            connection_on_login_form(model, &state);
            model.session.conn = state;
        }
        net::Event::Relay { relay, registration } => {
            model.session.relay = Some(relay);
            model.session.registration = registration;
        }
        net::Event::Session { token, handles } => {
            let previous = std::mem::take(&mut model.handles);
            model.handles = handles
                .iter()
                .map(|info| {
                    let mut view =
                        previous.iter().find(|h| h.address.handle == info.address.handle).cloned().unwrap_or_else(
                            || {
                                let mut fresh = HandleView::new(info.address.clone());
                                super::kept::restore(&model.kept, &mut fresh);
                                fresh
                            },
                        );
                    view.address = info.address.clone();
                    view.session.profile = info.profile.clone();
                    view.activity = info.activity.clone();
                    view
                })
                .collect();
            model.active = model.active.min(model.handles.len().saturating_sub(1));
            let account = handles.first().map(|h| h.address.handle.to_string()).unwrap_or_default();
            model.screen = Screen::Main;
            if let Some(token) = token {
                return vec![Cmd::SaveToken { account, token }];
            }
        }
        net::Event::AuthFailed { code, message } => return auth_failed(model, code, message),
        net::Event::Item { acting, item } => return item_arrived(model, &acting, item),
        net::Event::Stored { acting, client_msg_id, message_id, sent_at, recipients, .. } => {
            if let Some((c, i)) = own_line(model, &acting, &client_msg_id) {
                if let Some(LogLine::Message { id, delivery, at, .. }) = c.lines.get_mut(i) {
                    *id = Some(message_id.clone());
                    *delivery = Delivery::Stored;
                    *at = sent_at;
                }
                // Its place is the relay's now: someone else's message stored between our pressing Enter and the
                // relay storing ours comes before it, as everyone else sees it.
                super::timeline::settle_stored(c, i);
                super::receipts::track(c, &message_id, recipients);
            }
        }
        net::Event::MessageFailed { client_msg_id, message, .. } => {
            for i in 0..model.handles.len() {
                let acting = model.handles[i].address.handle.clone();
                if let Some((c, i)) = own_line(model, &acting, &client_msg_id) {
                    if let LogLine::Message { delivery, .. } = &mut c.lines[i] {
                        *delivery = Delivery::Failed(message.clone());
                    }
                }
            }
            notify(model, Level::Error, message);
        }
        net::Event::Answer { id, frame } => return answered(model, id, frame),
        net::Event::RequestFailed { id, message } => {
            if let Some(Pending::History { acting, key, .. }) = model.pending.remove(&id) {
                super::history::failed(model, &acting, &key);
            }
            notify(model, Level::Error, message);
        }
        net::Event::Push(frame) => pushed(model, frame),
        net::Event::Bye { code, message } => {
            let level = if code == ErrorCode::ShuttingDown { Level::Info } else { Level::Error };
            notify(model, level, message);
        }
        net::Event::Misbehaved { message } => {
            if let Screen::Login(form) = &mut model.screen {
                form.error = Some(message.clone());
            }
            model.session.misbehaved = Some(message.clone());
            notify(model, Level::Error, message);
        }
    }
    Vec::new()
}

/// On the login form, a relay that cannot be reached is said there, in a sentence, and the sentence goes when the
/// connection is made.
fn connection_on_login_form(model: &mut Model, state: &ConnState) {
    let url = model.relay_url.clone();
    let Screen::Login(form) = &mut model.screen else { return };
    const PREFIX: &str = "Huddle cannot reach the relay at ";
    match state {
        // The relay was reached, and dropped for what it sent: that is what the person needs to know.
        ConnState::Waiting { retry_in_secs, .. } if model.session.misbehaved.is_some() => {
            let why = model.session.misbehaved.as_deref().unwrap_or_default();
            form.error = Some(format!("{why} Huddle tries again in {retry_in_secs} s."));
        }
        ConnState::Waiting { retry_in_secs, reason } => {
            form.error = Some(format!(
                "{PREFIX}{url}: {reason}. It tries again in {retry_in_secs} s — check the address (start Huddle with \
                 --relay URL to use another), or that the relay is running."
            ));
        }
        ConnState::Online if form.error.as_deref().is_some_and(|e| e.starts_with(PREFIX)) => form.error = None,
        _ => {}
    }
}

fn auth_failed(model: &mut Model, code: ErrorCode, message: String) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    if matches!(code, ErrorCode::TokenInvalid | ErrorCode::SessionRevoked | ErrorCode::AccountDisabled) {
        cmds.push(Cmd::ForgetToken);
    }
    match &mut model.screen {
        Screen::Login(form) => {
            form.busy = false;
            form.error = Some(message);
            if code == ErrorCode::BadCredentials {
                // A wrong password is typed again from scratch.
                form.password.take();
                form.field = 1;
            }
        }
        _ => {
            model.handles.clear();
            model.dialogs.clear();
            model.questions.clear();
            model.screen = Screen::Login(LoginForm {
                mode: LoginMode::Login,
                field: if code == ErrorCode::BadCredentials { 1 } else { 0 },
                handle: TextInput::default(),
                password: TextInput::default(),
                invite: TextInput::default(),
                error: Some(message),
                busy: false,
            });
        }
    }
    model.session.conn = ConnState::Idle;
    cmds
}

/// The conversation holding our message `client_msg_id` (on handle `acting`), and the line's index: searched once,
/// newest lines first.
fn own_line<'a>(
    model: &'a mut Model,
    acting: &huddle_shared::Handle,
    client_msg_id: &str,
) -> Option<(&'a mut Conversation, usize)> {
    let h = model.handles.iter_mut().find(|h| &h.address.handle == acting)?;
    h.conversations.values_mut().find_map(|c| {
        let i = c.lines.iter().rposition(
            |l| matches!(l, LogLine::Message { client_msg_id: cmid, own: true, .. } if cmid == client_msg_id),
        )?;
        Some((c, i))
    })
}

fn item_arrived(model: &mut Model, acting: &Address, item: StreamItem) -> Vec<Cmd> {
    let Some(index) = model.handle_by(acting) else { return Vec::new() };
    let mut cmds = Vec::new();
    match item.body {
        ItemBody::Message { message } => {
            let me = model.handles[index].address.clone();
            let own = message.from.handle == me.handle;
            let key = ConvKey::of_message(&message, &me);
            // A message ends "is typing".
            model.typing.retain(|t| !(t.acting == me.handle && t.from == message.from && t.key == key));
            if own && message.receipts {
                // Whose receipts are tracked: the other side of a direct room, every other member of another room.
                let h = &mut model.handles[index];
                let recipients: Vec<Address> = match &key {
                    ConvKey::Direct(peer) => vec![peer.clone()],
                    ConvKey::Room(room) => h.session.groups.get(room).map_or_else(Vec::new, |g| {
                        g.members.iter().map(|m| m.address.clone()).filter(|a| *a != h.address).collect()
                    }),
                };
                super::receipts::track(h.conversation_mut(&key), &message.id, recipients);
            }
            // A third person writing into an exchange may turn it into a group; then the message opens the group.
            let shown_in_group = if own || message.to.is_none() {
                false
            } else {
                let (shown, promote) = super::promotion::consider(model, index, &message);
                cmds = promote;
                shown
            };
            let open = is_open(model, index, &key);
            if !own && !shown_in_group {
                cmds.extend(super::notify::arrived(model, index, &key, &message));
            }
            let (now, fresh) = (model.now, model.now - message.sent_at <= model.chat.promotion_window_ms);
            if let ConvKey::Room(id) = &key {
                // Someone writing brings an archived group back to the list.
                if model.handles[index].archived.remove(id) {
                    cmds.extend(super::kept::save(model));
                }
            }
            let c = model.handles[index].conversation_mut(&key);
            c.last_activity = c.last_activity.max(message.sent_at);
            // Only a message written now makes an exchange; old ones a sync brings in do not.
            if fresh {
                c.exchanged_at = Some(now);
            }
            // Someone reading further up keeps their place: the reader's place is a line, not rows from the bottom.
            let inserted = insert_message(c, message, own);
            if inserted && !own && !open && !shown_in_group {
                c.unread += 1;
            }
            fix_selection_if_active(model, index);
        }
        ItemBody::Event { event: Event::Room { peer, room: group, change } } => {
            super::groups::log_change(model, index, item.at, &peer, &group, change);
            fix_selection_if_active(model, index);
        }
        ItemBody::Event { event } => system_event(model, index, item.at, event),
        ItemBody::Receipt { receipt } => super::receipts::arrived(model, index, item.at, receipt),
        // Something of a later protocol version: the worker acknowledged it; there is nothing to show.
        ItemBody::Unknown => {}
    }
    cmds
}

fn fix_selection_if_active(model: &mut Model, index: usize) {
    if index == model.active {
        fix_selection(model);
    }
}

fn system_event(model: &mut Model, index: usize, at: i64, event: Event) {
    let name = |model: &Model, peer: &Address| {
        model.handles.get(index).map_or_else(|| peer.handle.to_string(), |h| h.name_of(peer))
    };
    match event {
        Event::RequestReceived { peer, greeting } => {
            let who = name(model, &peer);
            let text = match &greeting {
                Some(g) => format!("{who} sent you a friend request: “{g}”"),
                None => format!("{who} sent you a friend request."),
            };
            // The question comes with the friend list that lists the request (this event may be an old one that
            // a sync brings in, long answered).
            say(model, index, &peer, at, text, SystemKind::Info);
        }
        Event::RequestAnswered { peer, answer } => {
            let who = name(model, &peer);
            let text = match answer {
                RequestAnswer::Accept => format!("{who} accepted your friend request."),
                RequestAnswer::AcceptMutual => format!("{who} accepted your friend request and added you back."),
                RequestAnswer::Reject => format!("{who} declined your friend request."),
            };
            say(model, index, &peer, at, text.clone(), SystemKind::Info);
            notify(model, Level::Info, text);
        }
        Event::RequestCancelled { peer } => {
            questions::forget(
                model,
                index,
                |q| matches!(q, QuestionAbout::FriendRequest { from, .. } if *from == peer),
            );
            let who = name(model, &peer);
            say(model, index, &peer, at, format!("{who} withdrew their friend request."), SystemKind::Info);
        }
        Event::DeletionNotice { peer, asks_delete } => {
            let who = name(model, &peer);
            let text = if asks_delete {
                format!("{who} deleted you from their friend list and asks you to delete {who} from yours.")
            } else {
                format!("{who} deleted you from their friend list.")
            };
            // The question comes with the friend list that lists the request (`deletions_in`): this event may be an
            // old one a sync brings in, answered since on another device.
            say(model, index, &peer, at, text.clone(), SystemKind::Info);
            notify(model, Level::Info, text);
        }
        Event::DeletionAnswered { peer, answer } => {
            let who = name(model, &peer);
            let text = match answer {
                DeletionAnswer::Confirm => format!("{who} deleted you too: mutual deletion complete."),
                DeletionAnswer::Refuse => format!("{who} kept you on their list."),
            };
            say(model, index, &peer, at, text.clone(), SystemKind::Info);
            notify(model, Level::Info, text);
            if answer == DeletionAnswer::Refuse {
                let text = format!("{who} kept you on their list; you can ask again.");
                questions::ask(model, index, QuestionAbout::AskAgain { friend: peer }, text);
            }
        }
        Event::RoomInvite { peer, room: group, title } => super::groups::invited(model, index, at, peer, group, title),
        Event::Room { peer, room: group, change } => super::groups::log_change(model, index, at, &peer, &group, change),
        Event::HandleRemoved { peer } => {
            let who = peer.handle.to_string();
            let text = format!("{who} no longer exists (its owner removed it) and was taken off your list.");
            say(model, index, &peer, at, text, SystemKind::Info);
        }
        Event::FeedFailed { topic, reason, .. } => {
            let text = format!("The feed of your topic {topic} could not be read ({reason}); it will be tried again.");
            notify(model, Level::Error, text);
        }
        // An event of a newer protocol minor version: acknowledged with the rest of the stream, not shown.
        Event::Unknown => {}
    }
}

fn answered(model: &mut Model, id: u64, frame: ServerFrame) -> Vec<Cmd> {
    let pending = model.pending.remove(&id);
    if let Some(cmds) = super::groups::answered(model, &pending, &frame) {
        return cmds;
    }
    if let ServerFrame::Error { message, .. } = &frame {
        match &pending {
            Some(Pending::History { acting, key, .. }) => super::history::failed(model, acting, key),
            // Said in a sentence that names who it was for (the form is not reopened: the person may be typing).
            Some(Pending::FriendRequest { to }) => {
                notify(model, Level::Error, format!("Your friend request to {} was not sent: {message}", to.handle));
                return Vec::new();
            }
            _ => {}
        }
        notify(model, Level::Error, message.clone());
        return Vec::new();
    }
    match (pending, frame) {
        (Some(Pending::History { acting, key, before }), ServerFrame::History { messages, more, receipts, .. }) => {
            let page = super::history::Page { before, messages, more, receipts };
            let added = super::history::arrived(model, &acting, &key, page);
            // A search waiting for older lines goes on in these.
            return super::search::page_arrived(model, &acting, &key, added);
        }
        (Some(Pending::FriendRequest { to }), _) => {
            notify(model, Level::Info, format!("Friend request sent to {}.", to.handle));
        }
        (Some(Pending::CancelRequest { to }), _) => {
            notify(model, Level::Info, format!("Your request to {} was withdrawn.", to.handle));
        }
        (Some(Pending::Answer { from, accept }), _) => {
            let text = if accept {
                format!("{} is now a friend.", from.handle)
            } else {
                format!("You declined {}.", from.handle)
            };
            notify(model, Level::Info, text);
        }
        (Some(Pending::Delete { acting, friend, then }), _) => {
            let name = friend.handle.to_string();
            return match then {
                AfterDelete::Quietly => {
                    notify(model, Level::Info, format!("{name} is off your list; they were not told."));
                    Vec::new()
                }
                AfterDelete::Tell | AfterDelete::TellAndAsk => {
                    let ask = then == AfterDelete::TellAndAsk;
                    vec![Cmd::Do(Intent::NotifyDeletion { acting, friend, ask })]
                }
            };
        }
        (Some(Pending::Notify { friend, ask }), _) => {
            let text = if ask {
                format!("Asked {} to delete you too; their answer will appear here.", friend.handle)
            } else {
                format!("{} was told.", friend.handle)
            };
            notify(model, Level::Info, text);
        }
        (Some(Pending::AnswerDeletion { from, confirm }), _) => {
            let text = if confirm {
                format!("{} is off your list.", from.handle)
            } else {
                format!("You kept {}.", from.handle)
            };
            notify(model, Level::Info, text);
        }
        (Some(Pending::Block { target, block }), _) => {
            let text = if block {
                format!("{} is blocked.", target.handle)
            } else {
                format!("{} is unblocked.", target.handle)
            };
            notify(model, Level::Info, text);
        }
        (Some(Pending::Other("add_handle")), ServerFrame::Handles { handles, .. }) => {
            pushed(model, ServerFrame::Handles { id: None, handles });
            notify(model, Level::Info, "Handle added. Switch to it with Alt-h or /handle NAME.");
        }
        (Some(Pending::Sessions), ServerFrame::Sessions { sessions, .. }) => {
            // The person asked for this list a moment ago (/sessions).
            let selected = sessions.iter().position(|s| !s.current).unwrap_or(0);
            model.dialogs.push_back(Dialog::Sessions { sessions, selected });
        }
        (Some(Pending::Password), _) => {
            notify(model, Level::Info, "Password changed. Your other devices were logged out.");
        }
        (Some(Pending::Profile), _) => notify(model, Level::Info, "Profile saved; your friends see it now."),
        (Some(Pending::Revoke), _) => notify(model, Level::Info, "That device is logged out."),
        (
            Some(Pending::Huddle(HuddleAsk::Settings(sentence))),
            ServerFrame::HuddleSettings { acting, settings, .. },
        ) => {
            pushed(model, ServerFrame::HuddleSettings { id: None, acting, settings });
            notify(model, Level::Info, sentence);
        }
        (Some(Pending::Huddle(what)), frame) => super::huddles::answered(model, what, frame),
        (_, frame @ ServerFrame::Friends { .. }) => pushed(model, frame),
        _ => {}
    }
    Vec::new()
}

fn pushed(model: &mut Model, frame: ServerFrame) {
    match frame {
        ServerFrame::Friends { acting, list, .. } => {
            let Some(index) = model.handle_by(&acting) else { return };
            // Every pending incoming request is a question once per session ("shown again at every login").
            let new_requests: Vec<_> = list
                .requests_in
                .iter()
                .filter(|r| {
                    !model.handles[index].session.friends.requests_in.iter().any(|old| old.address == r.address)
                })
                .cloned()
                .collect();
            let still: Vec<huddle_shared::Address> = list.requests_in.iter().map(|r| r.address.clone()).collect();
            // Deletion requests waiting for this handle's answer, and refusals it may ask again about.
            let deletions: Vec<huddle_shared::Address> = list.deletions_in.iter().map(|d| d.address.clone()).collect();
            let refused: Vec<huddle_shared::Address> = list
                .deletions_out
                .iter()
                .filter(|d| d.state == huddle_shared::model::DeletionState::Refused)
                .map(|d| d.address.clone())
                .collect();
            let new_deletions: Vec<huddle_shared::Address> = deletions
                .iter()
                .filter(|a| !model.handles[index].session.friends.deletions_in.iter().any(|old| old.address == **a))
                .cloned()
                .collect();
            model.handles[index].session.friends = list;
            questions::forget(model, index, |q| match q {
                QuestionAbout::FriendRequest { from, .. } => !still.contains(from),
                QuestionAbout::DeletionRequest { from } => !deletions.contains(from),
                QuestionAbout::AskAgain { friend } => !refused.contains(friend),
                _ => false,
            });
            for from in new_deletions {
                let who = model.handles[index].name_of(&from);
                let text = format!("{who} deleted you from their friend list and asks you to delete {who} from yours.");
                questions::ask(model, index, QuestionAbout::DeletionRequest { from }, text);
            }
            for r in new_requests {
                let text = format!("{} sent you a friend request.", r.address.handle);
                questions::ask(
                    model,
                    index,
                    QuestionAbout::FriendRequest { from: r.address, greeting: r.greeting },
                    text,
                );
            }
            fix_selection_if_active(model, index);
        }
        ServerFrame::Presence { acting, of, presence } => {
            let Some(index) = model.handle_by(&acting) else { return };
            let show = model.show_presence_changes;
            let h = &mut model.handles[index];
            let Some(entry) = h.session.friends.entries.iter_mut().find(|e| e.address == of) else { return };
            let was = entry.presence.state.clone();
            entry.presence = presence.clone();
            let name = h.name_of(&of);
            if show && was != presence.state && h.conversations.contains_key(&ConvKey::Direct(of.clone())) {
                let state = match presence.state {
                    ShownState::Online => "online",
                    ShownState::Away => "away",
                    ShownState::Busy => "busy",
                    ShownState::Offline => "offline",
                    ShownState::Unknown => "in a state this version of Huddle does not know",
                };
                let activity = presence.activity.map(|a| format!(" — {a}")).unwrap_or_default();
                let at = model.now;
                say(model, index, &of, at, format!("{name} is {state}{activity}."), SystemKind::Presence);
            }
            fix_selection_if_active(model, index);
        }
        ServerFrame::Typing { acting, from, room } => {
            let at = model.now;
            // In one of our rooms, or else the direct room with the typist.
            let known_room =
                model.handle_by(&acting).is_some_and(|i| model.handles[i].session.groups.contains_key(&room));
            let key = if known_room { ConvKey::Room(room) } else { ConvKey::Direct(from.clone()) };
            model.typing.retain(|t| !(t.acting == acting.handle && t.from == from && t.key == key));
            model.typing.push(super::Typing { acting: acting.handle, from, key, at });
        }
        ServerFrame::Profile { acting, of, profile } => {
            let Some(index) = model.handle_by(&acting) else { return };
            if let Some(entry) = model.handles[index].session.friends.entries.iter_mut().find(|e| e.address == of) {
                entry.profile = profile;
            }
        }
        ServerFrame::Handles { handles, .. } => {
            let previous = std::mem::take(&mut model.handles);
            model.handles = handles
                .iter()
                .map(|info| {
                    previous.iter().find(|h| h.address.handle == info.address.handle).cloned().unwrap_or_else(|| {
                        let mut fresh = HandleView::new(info.address.clone());
                        super::kept::restore(&model.kept, &mut fresh);
                        fresh
                    })
                })
                .collect();
            model.active = model.active.min(model.handles.len().saturating_sub(1));
        }
        frame @ (ServerFrame::Rooms { .. } | ServerFrame::Room { .. } | ServerFrame::RoomGone { .. }) => {
            super::groups::pushed(model, frame)
        }
        ServerFrame::HuddleSettings { acting, settings, .. } => {
            let Some(index) = model.handle_by(&acting) else { return };
            model.handles[index].session.huddle_settings = settings;
        }
        _ => {}
    }
}
