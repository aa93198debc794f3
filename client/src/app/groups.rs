//! Groups in the client: what the relay pushes about them (`groups`, `group`, `group_gone`), their log lines
//! (joins, leaves, renames... as sentences), invitations, the answers to our group requests, and the group
//! commands (`/invite`, `/leave`, `/rename`, `/kick`, `/share`, `/group`).

use huddle_shared::client::{RemoveFromRoom, RenameRoom};
use huddle_shared::model::{PendingInvite, RoomChange, RoomInfo};
use huddle_shared::{Address, ClientFrame, Handle, MessageId, Millis, RoomId, ServerFrame};

use super::conversation::{is_open, say_in, set_open};
use super::intent::Intent;
use super::notices::notify;
use super::questions;
use super::requests::request;
use super::selection::fix as fix_selection;
use super::{Cmd, ConvKey, HandleView, HistoryState, Level, LogLine, Model, Pending, QuestionAbout, SystemKind};

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
            h.session.groups = groups.into_iter().map(|g| (g.id.clone(), g)).collect();
            h.session.invite_policy = policy;
            let fresh: Vec<PendingInvite> = invites
                .iter()
                .filter(|i| !h.session.group_invites.iter().any(|old| old.room == i.room))
                .cloned()
                .collect();
            let still: Vec<RoomId> = invites.iter().map(|i| i.room.clone()).collect();
            h.session.group_invites = invites;
            questions::forget(
                model,
                index,
                |q| matches!(q, QuestionAbout::GroupInvite { invite } if !still.contains(&invite.room)),
            );
            for invite in fresh {
                ask_invite(model, index, invite);
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
            if let Some(info) = h.session.groups.remove(&group) {
                h.session.left_groups.insert(group.clone(), info);
            }
            h.session.group_invites.retain(|i| i.room != group);
            // The log stays readable; it just says why nothing more arrives (a huddle's own last line says it).
            let huddle = h.is_huddle(&group);
            let key = ConvKey::Room(group);
            if h.conversations.contains_key(&key) && !huddle {
                let at = model.now;
                say_in(model, index, &key, at, format!("You are no longer in {name}."), SystemKind::Info);
            }
        }
        _ => return,
    }
    fix_selection(model);
}

fn upsert(h: &mut HandleView, group: RoomInfo) {
    h.session.group_invites.retain(|i| i.room != group.id);
    h.session.left_groups.remove(&group.id);
    h.session.groups.insert(group.id.clone(), group);
}

/// An invitation waits as a question (and as a row under Requests).
fn ask_invite(model: &mut Model, index: usize, invite: PendingInvite) {
    let Some(h) = model.handles.get(index) else { return };
    let text = format!("{} invites you to {}.", h.name_of(&invite.by), invite.title.as_deref().unwrap_or("a group"));
    questions::ask(model, index, QuestionAbout::GroupInvite { invite }, text);
}

/// Someone invited us and our setting says to ask: a question, a row under Requests, and a line with the inviter.
pub fn invited(model: &mut Model, index: usize, at: Millis, by: Address, group: RoomId, title: Option<String>) {
    let Some(h) = model.handles.get_mut(index) else { return };
    let invite = PendingInvite { room: group.clone(), title: title.clone(), by: by.clone(), at };
    if !h.session.group_invites.iter().any(|i| i.room == group) {
        h.session.group_invites.push(invite.clone());
    }
    let what = title.map(|t| format!("the group “{t}”")).unwrap_or_else(|| "a group".to_owned());
    let text = format!("{} invited you to {what}.", h.name_of(&by));
    say_in(model, index, &ConvKey::Direct(by), at, text, SystemKind::Info);
    ask_invite(model, index, invite);
    fix_selection(model);
}

/// A line of a group's log, as a sentence in the group's conversation.
pub fn log_change(model: &mut Model, index: usize, at: Millis, peer: &Address, group: &RoomId, change: RoomChange) {
    let Some(h) = model.handles.get_mut(index) else { return };
    let key = ConvKey::Room(group.clone());
    let actor = who(h, peer, true);
    let text = match change {
        RoomChange::Created { members, promoted, opening, .. } => {
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
                if let Some(opening) = &opening {
                    offer_opening(model, index, peer, group, opening);
                }
            }
            text
        }
        RoomChange::Joined { who: joined } if joined == *peer => {
            forget_former(h, group, &joined);
            format!("{actor} joined.")
        }
        RoomChange::Joined { who: joined } => {
            forget_former(h, group, &joined);
            format!("{actor} added {}.", who(h, &joined, false))
        }
        RoomChange::Left => {
            h.former.entry(group.clone()).or_default().insert(peer.clone());
            format!("{actor} left.")
        }
        RoomChange::Removed { who: removed } => {
            h.former.entry(group.clone()).or_default().insert(removed.clone());
            format!("{actor} removed {}.", who(h, &removed, false))
        }
        RoomChange::Renamed { title: Some(title) } => format!("{actor} renamed the group “{title}”."),
        RoomChange::Renamed { title: None } => format!("{actor} removed the group's title."),
        RoomChange::OwnerChanged => {
            if *peer == h.address {
                "You are the owner now.".to_owned()
            } else {
                format!("{actor} is the owner now.")
            }
        }
        RoomChange::Ended { reason } if h.is_huddle(group) => super::huddles::ended_sentence(reason),
        RoomChange::Ended { .. } => {
            "This group has ended: nothing more can be said here, and its log stays.".to_owned()
        }
        RoomChange::Formed { members, count, huddle } => {
            let c = h.conversation_mut(&key);
            // Nothing came before the huddle formed.
            c.history = HistoryState::Complete;
            let more = usize::try_from(count).unwrap_or(usize::MAX).saturating_sub(members.len());
            let who = match more {
                0 => names(h, &members),
                n => format!("{} and {n} more", names(h, &members)),
            };
            let lines = super::huddles::formed_lines(h, &huddle, &who, at);
            let headline = format!("Huddle: {}", super::huddles::trigger_phrase(h, &huddle.trigger));
            for line in lines {
                say_in(model, index, &key, at, line, SystemKind::Info);
            }
            // Said where the person is looking too; nothing opens by itself.
            if !is_open(model, index, &key) {
                notify(model, Level::Info, format!("{headline} — Alt-↑/↓ to it in the list."));
            }
            fix_selection(model);
            return;
        }
        RoomChange::TimeUp { who: gone } if gone == h.address => {
            "Your time in this huddle is up (the duration you chose for its topic).".to_owned()
        }
        RoomChange::TimeUp { who: gone } => format!("{}'s time in this huddle is up.", who(h, &gone, true)),
        // A change a newer relay knows and we do not: saying something vague would be worse than nothing.
        RoomChange::Unknown => return,
    };
    say_in(model, index, &key, at, text, SystemKind::Info);
}

fn forget_former(h: &mut HandleView, group: &RoomId, who: &Address) {
    if let Some(former) = h.former.get_mut(group) {
        former.remove(who);
    }
}

/// `promoter` made a group because of `opening`: if that is our message to them, it went to them only, so we are
/// asked whether the group may read it. (Any other id — someone else's message, or one we cannot find — asks
/// nothing: the question is only ever about our own words.)
fn offer_opening(model: &mut Model, index: usize, promoter: &Address, group: &RoomId, opening: &MessageId) {
    let Some(h) = model.handles.get(index) else { return };
    let Some(c) = h.conversations.get(&ConvKey::Direct(promoter.clone())) else { return };
    let ours = c.lines.iter().rev().find_map(|l| match l {
        LogLine::Message { own: true, id: Some(id), body, .. } if id == opening => Some(body.clone()),
        _ => None,
    });
    let Some(body) = ours else { return };
    let text = format!("{} made a group after your message; share it there?", h.name_of(promoter));
    let about = QuestionAbout::ShareOpening { room: group.clone(), to: promoter.clone(), body };
    questions::ask(model, index, about, text);
}

/// `promoter` made a group out of a one-to-one exchange we are part of: if we are looking at our conversation with
/// one of its members, the conversation moves on into the group, as it did on the promoter's side — unless we are
/// writing there: a draft is never carried off, so then the line in the conversation says where it continues.
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
    if model.input.is_empty() {
        set_open(model, Some(key.clone()));
        if let Some(h) = model.handles.get_mut(index) {
            h.conversation_mut(&key).unread = 0;
        }
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
                    let joined =
                        h.session.groups.get(group).is_some_and(|g| g.members.iter().any(|m| m.address == *invitee));
                    let key = ConvKey::Room(group.clone());
                    if let Some(m) = message {
                        // What they wrote went to us only: it is shown here as such, never as a group message.
                        let text = format!("{name} wrote to you only: “{}”", super::conversation::preview(&m.body));
                        say_in(model, index, &key, m.sent_at, text, SystemKind::Info);
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
                    h.session.group_invites.retain(|i| i.room != *group);
                }
                let index = model.active;
                questions::forget(
                    model,
                    index,
                    |q| matches!(q, QuestionAbout::GroupInvite { invite } if invite.room == *group),
                );
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
    // Above whatever the group already holds, with the reader's place and marks kept on their lines.
    super::timeline::insert_lines(c, 0, lines);
    // A promotion by hand (`/invite`) has no opening message. The newcomer wrote it to us only: it shows here as
    // such, and the newcomer is asked whether to share it with the group.
    if let Some(message) = message {
        let text = format!("{newcomer_name} wrote to you only: “{}”", super::conversation::preview(&message.body));
        let at = message.sent_at.max(c.lines.last().map_or(0, LogLine::at));
        c.lines.push(LogLine::System { at, text, kind: SystemKind::Info });
    }
    c.history = HistoryState::Complete;
    c.exchanged_at = Some(now);
    c.last_activity = now;
    if index == model.active && h.open.as_ref() == Some(&with_key) {
        set_open(model, Some(key));
    }
    fix_selection(model);
}

/// The open conversation's key on the active handle, if any.
fn open_key(model: &Model) -> Option<ConvKey> {
    model.handle().and_then(|h| h.open.clone())
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
    let receipts = model.chat.receipts;
    let acting = h.address.handle.clone();
    vec![Cmd::Do(Intent::Send { acting, key, body, receipts })]
}
