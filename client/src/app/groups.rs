//! Groups in the client: what the relay pushes about them (`groups`, `group`, `group_gone`), their log lines
//! (joins, leaves, renames... as sentences), invitations, the answers to our group requests, and the group
//! commands (`/invite`, `/leave`, `/rename`, `/kick`, `/share`, `/group`).

use huddle_shared::client::{CreateGroup, InviteToRoom, LeaveRoom, RemoveFromRoom, RenameRoom};
use huddle_shared::model::{PendingInvite, RoomChange, RoomInfo};
use huddle_shared::{Address, ClientFrame, Handle, Millis, RoomId, ServerFrame};

use super::events::{insert_message, is_open, say_in};
use super::update::{fix_selection, notify, request};
use super::{Cmd, ConvKey, Dialog, HandleView, HistoryState, Level, LogLine, Model, Pending, SystemKind};

/// Most lines of the one-to-one conversation shown above the divider of a group it grew into.
pub const CONTEXT_LINES: usize = 200;
/// Most earlier lines `/share` sends at once.
pub const MAX_SHARE: usize = 20;

/// How a group member is named in sentences: "You" or their name.
fn who(h: &HandleView, address: &Address, capital: bool) -> String {
    if *address == h.address { if capital { "You".to_owned() } else { "you".to_owned() } } else { h.name_of(address) }
}

/// Members by name, ours included as our handle ("alice, bob, carol"), so everyone's line reads the same.
fn names(h: &HandleView, members: &[Address]) -> String {
    members
        .iter()
        .map(|m| if *m == h.address { m.handle.to_string() } else { h.name_of(m) })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The relay's pushes about groups.
pub fn pushed(model: &mut Model, frame: ServerFrame) {
    match frame {
        ServerFrame::Rooms { acting, rooms: groups, invites, policy, .. } => {
            let Some(index) = model.handle_by(&acting) else { return };
            let h = &mut model.handles[index];
            h.groups = groups.into_iter().map(|g| (g.id.clone(), g)).collect();
            h.invite_policy = policy;
            let fresh: Vec<PendingInvite> =
                invites.iter().filter(|i| !h.group_invites.iter().any(|old| old.room == i.room)).cloned().collect();
            h.group_invites = invites;
            for invite in fresh {
                queue_invite_dialog(model, invite);
            }
        }
        ServerFrame::Room { acting, room: group, .. } => {
            let Some(index) = model.handle_by(&acting) else { return };
            upsert(&mut model.handles[index], group);
        }
        ServerFrame::RoomGone { acting, room: group } => {
            let Some(index) = model.handle_by(&acting) else { return };
            let h = &mut model.handles[index];
            let name = h.group_name(&group);
            if let Some(info) = h.groups.remove(&group) {
                h.left_groups.insert(group.clone(), info);
            }
            h.group_invites.retain(|i| i.room != group);
            // The log stays readable; it just says why nothing more arrives.
            let key = ConvKey::Room(group);
            if h.conversations.contains_key(&key) {
                let at = model.now;
                say_in(model, index, &key, at, format!("You are no longer in {name}."), SystemKind::Info);
            }
        }
        _ => return,
    }
    fix_selection(model);
}

fn upsert(h: &mut HandleView, group: RoomInfo) {
    h.group_invites.retain(|i| i.room != group.id);
    h.left_groups.remove(&group.id);
    h.groups.insert(group.id.clone(), group);
}

fn queue_invite_dialog(model: &mut Model, invite: PendingInvite) {
    let queued =
        model.dialogs.iter().any(|d| matches!(d, Dialog::GroupInvite { invite: i, .. } if i.room == invite.room));
    if !queued {
        model.dialogs.push_back(Dialog::GroupInvite { invite, selected: 0 });
    }
}

/// Someone invited us and our setting says to ask: a dialog, a row under Requests, and a line with the inviter.
pub fn invited(model: &mut Model, index: usize, at: Millis, by: Address, group: RoomId, title: Option<String>) {
    let Some(h) = model.handles.get_mut(index) else { return };
    let invite = PendingInvite { room: group.clone(), title: title.clone(), by: by.clone(), at };
    if !h.group_invites.iter().any(|i| i.room == group) {
        h.group_invites.push(invite.clone());
    }
    let what = title.map(|t| format!("the group “{t}”")).unwrap_or_else(|| "a group".to_owned());
    let text = format!("{} invited you to {what}.", h.name_of(&by));
    say_in(model, index, &ConvKey::Direct(by), at, text, SystemKind::Info);
    queue_invite_dialog(model, invite);
    fix_selection(model);
}

/// A line of a group's log, as a sentence in the group's conversation.
pub fn log_change(model: &mut Model, index: usize, at: Millis, peer: &Address, group: &RoomId, change: RoomChange) {
    let Some(h) = model.handles.get_mut(index) else { return };
    let key = ConvKey::Room(group.clone());
    let actor = who(h, peer, true);
    let text = match change {
        RoomChange::Created { members, promoted, .. } => {
            let mut all = members.clone();
            if !all.contains(peer) {
                all.insert(0, peer.clone());
            }
            let own = *peer == h.address;
            // Our own promotion shows its divider instead (this line arrives just before the relay's answer).
            let ours = model.pending.values().any(|p| matches!(p, Pending::Promote { .. }))
                || h.conversations.get(&key).is_some_and(|c| c.context > 0);
            if own && promoted && ours {
                return;
            }
            let c = h.conversation_mut(&key);
            // Nothing came before the group's creation.
            c.history = HistoryState::Complete;
            let text = if promoted {
                format!("{actor} made this a group: {}", names(h, &all))
            } else {
                format!("{actor} started the group: {}", names(h, &all))
            };
            if promoted && !own {
                follow_into_group(model, index, peer, &all, group);
            }
            text
        }
        RoomChange::Joined { who: joined } if joined == *peer => format!("{actor} joined."),
        RoomChange::Joined { who: joined } => format!("{actor} added {}.", who(h, &joined, false)),
        RoomChange::Left => format!("{actor} left."),
        RoomChange::Removed { who: removed } => format!("{actor} removed {}.", who(h, &removed, false)),
        RoomChange::Renamed { title: Some(title) } => format!("{actor} renamed the group “{title}”."),
        RoomChange::Renamed { title: None } => format!("{actor} removed the group's title."),
        RoomChange::OwnerChanged => {
            if *peer == h.address {
                "You are the owner now.".to_owned()
            } else {
                format!("{actor} is the owner now.")
            }
        }
        RoomChange::Ended => "This group has ended: nothing more can be said here, and its log stays.".to_owned(),
        // A change a newer relay knows and we do not: saying something vague would be worse than nothing.
        RoomChange::Unknown => return,
    };
    say_in(model, index, &key, at, text, SystemKind::Info);
}

/// `promoter` made a group out of a one-to-one exchange we are part of: if we are looking at our conversation with
/// one of its members, the conversation moves on into the group, as it did on the promoter's side.
fn follow_into_group(model: &mut Model, index: usize, promoter: &Address, members: &[Address], group: &RoomId) {
    if index != model.active {
        return;
    }
    let Some(h) = model.handles.get_mut(index) else { return };
    let Some(ConvKey::Direct(open)) = h.open.clone() else { return };
    if !members.contains(&open) {
        return;
    }
    let name = h.name_of(promoter);
    let key = ConvKey::Room(group.clone());
    let at = model.now;
    let text = format!("{name} made this a group; it continues there.");
    say_in(model, index, &ConvKey::Direct(open), at, text, SystemKind::Info);
    if let Some(h) = model.handles.get_mut(index) {
        h.open = Some(key.clone());
        h.conversation_mut(&key).unread = 0;
    }
}

/// Answers to our group requests; `None` for requests that are not about groups.
pub fn answered(model: &mut Model, pending: &Option<Pending>, frame: &ServerFrame) -> Option<Vec<Cmd>> {
    let pending = pending.as_ref()?;
    let error = match frame {
        ServerFrame::Error { message, .. } => Some(message.clone()),
        _ => None,
    };
    match pending {
        Pending::Promote { acting, with, newcomer, message } => match (frame, error) {
            (ServerFrame::Room { room: group, .. }, _) => {
                promoted(model, acting, with, newcomer, message.clone(), group.clone())
            }
            (_, Some(reason)) => {
                let text = format!("Could not make a group with {} and {}: {reason}", with.handle, newcomer.handle);
                // The message that would have opened the group waits, unread, in its own conversation.
                let index = model.handles.iter().position(|h| &h.address.handle == acting);
                if let Some(index) = index.filter(|_| message.is_some()) {
                    let key = ConvKey::Direct(newcomer.clone());
                    if !is_open(model, index, &key) {
                        model.handles[index].conversation_mut(&key).unread += 1;
                    }
                }
                notify(model, Level::Error, text);
            }
            _ => {}
        },
        Pending::CreateGroup => match (frame, error) {
            (ServerFrame::Room { acting, room: group, .. }, _) => {
                let index = model.handle_by(acting)?;
                upsert(&mut model.handles[index], group.clone());
                model.handles[index].conversation_mut(&ConvKey::Room(group.id.clone())).history =
                    HistoryState::Complete;
                let cmds = if index == model.active {
                    super::history::open(model, ConvKey::Room(group.id.clone()))
                } else {
                    Vec::new()
                };
                let waiting = group.invited.len();
                if waiting > 0 {
                    let text = format!("Group made; {waiting} invited who have to accept first.");
                    notify(model, Level::Info, text);
                }
                fix_selection(model);
                return Some(cmds);
            }
            (_, Some(reason)) => notify(model, Level::Error, format!("Could not make the group: {reason}")),
            _ => {}
        },
        Pending::Invite { acting, group, who: invitee, message } => {
            let index = model.handles.iter().position(|h| &h.address.handle == acting)?;
            let h = &model.handles[index];
            let name = h.name_of(invitee);
            match error {
                Some(reason) => {
                    notify(model, Level::Error, format!("Could not add {name}: {reason}"));
                    if let Some(m) = message {
                        let key = ConvKey::Direct(m.from.clone());
                        if !is_open(model, index, &key) {
                            model.handles[index].conversation_mut(&key).unread += 1;
                        }
                    }
                }
                None => {
                    let joined = h.groups.get(group).is_some_and(|g| g.members.iter().any(|m| m.address == *invitee));
                    let key = ConvKey::Room(group.clone());
                    if let Some(m) = message {
                        // The message that made us add them opens their part of the group, as in a promotion.
                        let c = model.handles[index].conversation_mut(&key);
                        insert_message(c, m.clone(), false);
                    }
                    let text = if joined {
                        format!("{name} is in the group now.")
                    } else {
                        format!("{name} was invited and has to accept first.")
                    };
                    notify(model, Level::Info, text);
                }
            }
        }
        Pending::AnswerInvite { group, accept } => match error {
            Some(reason) => notify(model, Level::Error, reason),
            None => {
                if let Some(h) = model.handle_mut() {
                    h.group_invites.retain(|i| i.room != *group);
                }
                let text = if *accept { "You joined the group; it is under Groups." } else { "Invitation declined." };
                notify(model, Level::Info, text);
                fix_selection(model);
            }
        },
        Pending::LeaveGroup { .. } => match error {
            Some(reason) => notify(model, Level::Error, reason),
            None => notify(model, Level::Info, "You left the group."),
        },
        Pending::RoomChange(done) => match error {
            Some(reason) => notify(model, Level::Error, reason),
            None => notify(model, Level::Info, *done),
        },
        _ => return None,
    }
    Some(Vec::new())
}

/// The relay made the group we asked for when `message` arrived during our exchange with `with`: open it in place
/// of that conversation, the earlier lines above a divider (shown here only), the message as its opening line.
fn promoted(
    model: &mut Model,
    acting: &Handle,
    with: &Address,
    newcomer: &Address,
    message: Option<huddle_shared::model::Message>,
    group: RoomInfo,
) {
    let Some(index) = model.handles.iter().position(|h| &h.address.handle == acting) else { return };
    let now = model.now;
    let h = &mut model.handles[index];
    let id = group.id.clone();
    upsert(h, group);
    let with_key = ConvKey::Direct(with.clone());
    let earlier: Vec<LogLine> = h
        .conversations
        .get(&with_key)
        .map(|c| {
            let messages: Vec<&LogLine> = c.lines.iter().filter(|l| matches!(l, LogLine::Message { .. })).collect();
            messages[messages.len().saturating_sub(CONTEXT_LINES)..].iter().map(|l| (*l).clone()).collect()
        })
        .unwrap_or_default();
    let with_name = h.name_of(with);
    let newcomer_name = h.name_of(newcomer);
    let key = ConvKey::Room(id);
    let opening_at = message.as_ref().map_or(now, |m| m.sent_at);
    let c = h.conversation_mut(&key);
    let mut lines = Vec::new();
    if let Some(first) = earlier.first() {
        lines.push(LogLine::System {
            at: first.at(),
            text: format!("Your earlier conversation with {with_name} — only you see these lines."),
            kind: SystemKind::Info,
        });
    }
    c.context = earlier.len();
    lines.extend(earlier);
    lines.push(LogLine::System {
        at: opening_at.max(lines.last().map_or(0, LogLine::at)),
        text: format!("— became a group with {newcomer_name} —"),
        kind: SystemKind::Info,
    });
    lines.append(&mut c.lines);
    c.lines = lines;
    // A promotion by hand (`/invite`) has no opening message.
    if let Some(message) = message {
        insert_message(c, message, false);
    }
    c.history = HistoryState::Complete;
    c.exchanged_at = Some(now);
    c.last_activity = now;
    if h.open.as_ref() == Some(&with_key) {
        h.open = Some(key);
    }
    fix_selection(model);
}

/// The open conversation's key on the active handle, if any.
fn open_key(model: &Model) -> Option<ConvKey> {
    model.handle().and_then(|h| h.open.clone())
}

/// `/invite NAME`: in a one-to-one conversation, makes it a group with NAME (a promotion by hand); in a group,
/// invites NAME.
pub fn invite(model: &mut Model, who: Address) -> Vec<Cmd> {
    let Some(h) = model.handle() else { return Vec::new() };
    let acting = h.address.handle.clone();
    match open_key(model) {
        Some(ConvKey::Direct(with)) if with == who => {
            notify(model, Level::Info, format!("You are already talking with {}.", who.handle));
            Vec::new()
        }
        Some(ConvKey::Direct(with)) => vec![create_promoted(model, acting, with, who, None)],
        Some(ConvKey::Room(group)) => {
            let pending =
                Pending::Invite { acting: acting.clone(), group: group.clone(), who: who.clone(), message: None };
            vec![request(model, pending, |id| {
                ClientFrame::InviteToRoom(InviteToRoom { id, acting: Some(acting), room: group, who })
            })]
        }
        None => {
            notify(model, Level::Info, "Open a conversation first: /invite adds someone to it.");
            Vec::new()
        }
    }
}

/// Asks the relay for a group of us, `with` and `newcomer`, that continues our conversation with `with`.
/// `message`: the newcomer's message that made us promote (absent when promoting by hand with `/invite`).
pub fn create_promoted(
    model: &mut Model,
    acting: Handle,
    with: Address,
    newcomer: Address,
    message: Option<huddle_shared::model::Message>,
) -> Cmd {
    let members = vec![with.clone(), newcomer.clone()];
    let pending = Pending::Promote { acting: acting.clone(), with, newcomer, message };
    request(model, pending, |id| {
        ClientFrame::CreateGroup(CreateGroup { id, acting: Some(acting), members, title: None, promoted: true })
    })
}

/// `/leave`: asks first.
pub fn leave(model: &mut Model) -> Vec<Cmd> {
    match open_key(model) {
        Some(ConvKey::Room(group)) => model.dialogs.push_back(Dialog::LeaveGroup { group, yes: false }),
        _ => notify(model, Level::Info, "Open a group first: /leave leaves the open group."),
    }
    Vec::new()
}

/// Leaves a group (after the dialog said yes).
pub fn leave_now(model: &mut Model, group: RoomId) -> Cmd {
    let acting = model.handle().map(|h| h.address.handle.clone());
    request(model, Pending::LeaveGroup { group: group.clone() }, |id| {
        ClientFrame::LeaveRoom(LeaveRoom { id, acting, room: group })
    })
}

/// `/rename TITLE` (empty: back to the members' names).
pub fn rename(model: &mut Model, title: String) -> Vec<Cmd> {
    let Some(ConvKey::Room(group)) = open_key(model) else {
        notify(model, Level::Info, "Open a group first: /rename renames the open group.");
        return Vec::new();
    };
    let acting = model.handle().map(|h| h.address.handle.clone());
    let done = if title.is_empty() { "The group's title was removed." } else { "Group renamed." };
    vec![request(model, Pending::RoomChange(done), |id| {
        ClientFrame::RenameRoom(RenameRoom { id, acting, room: group, title })
    })]
}

/// `/kick NAME`: the owner removes a member (or withdraws an invitation).
pub fn kick(model: &mut Model, who: Address) -> Vec<Cmd> {
    let Some(ConvKey::Room(group)) = open_key(model) else {
        notify(model, Level::Info, "Open a group first: /kick removes someone from the open group.");
        return Vec::new();
    };
    let acting = model.handle().map(|h| h.address.handle.clone());
    vec![request(model, Pending::RoomChange("Removed from the group."), |id| {
        ClientFrame::RemoveFromRoom(RemoveFromRoom { id, acting, room: group, who })
    })]
}

/// `/group NAME…`: starts a group with these friends.
pub fn create(model: &mut Model, members: Vec<Address>, title: Option<String>) -> Vec<Cmd> {
    if members.is_empty() {
        notify(model, Level::Info, "Name at least one friend: /group bob carol.");
        return Vec::new();
    }
    let acting = model.handle().map(|h| h.address.handle.clone());
    vec![request(model, Pending::CreateGroup, |id| {
        ClientFrame::CreateGroup(CreateGroup { id, acting, members, title, promoted: false })
    })]
}

/// `/share [N]`: sends the last N lines of the conversation this group grew out of (shown only to us until now)
/// to the group, as one quoted message. The relay never shows members what came before they joined; this is the
/// explicit way to.
pub fn share(model: &mut Model, count: usize) -> Vec<Cmd> {
    let Some(ConvKey::Room(group)) = open_key(model) else {
        notify(model, Level::Info, "Open a group first: /share sends earlier lines to the open group.");
        return Vec::new();
    };
    let Some(h) = model.handle() else { return Vec::new() };
    let key = ConvKey::Room(group);
    let Some(c) = h.conversations.get(&key).filter(|c| c.context > 0) else {
        notify(
            model,
            Level::Info,
            "This group did not grow out of a conversation of yours: there is nothing to share.",
        );
        return Vec::new();
    };
    let context: Vec<&LogLine> =
        c.lines.iter().filter(|l| matches!(l, LogLine::Message { .. })).take(c.context).collect();
    let count = count.clamp(1, MAX_SHARE).min(context.len());
    let quoted: Vec<String> = context[context.len() - count..]
        .iter()
        .filter_map(|l| match l {
            LogLine::Message { from, body, .. } => {
                // Our own handle, not "me": the others read it.
                let name = if *from == h.address { h.address.handle.to_string() } else { h.name_of(from) };
                Some(format!("> {name}: {}", body.replace('\n', "\n>   ")))
            }
            _ => None,
        })
        .collect();
    let mut body = format!("Earlier ({count} line{}):\n{}", if count == 1 { "" } else { "s" }, quoted.join("\n"));
    if body.len() > huddle_shared::limits::MAX_BODY_BYTES {
        let mut cut = huddle_shared::limits::MAX_BODY_BYTES - 1;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        body.push('…');
    }
    let confirm = model.chat.receipts;
    super::events::send_message(model, key, body, confirm)
}
