//! The wording of every question, and the answers each offers with the intent each performs. The first highlighted
//! answer is always one that changes nothing (Cancel, Later, Keep…), so Enter alone never says yes.

use huddle_shared::model::{Message, PendingInvite, RequestAnswer};
use huddle_shared::{Address, Handle, RoomId};

use super::intent::{AfterDelete, Intent};
use super::{Choice, Cmd, Confirm, Dialog, HandleView, Model, QuestionAbout};

fn choice(label: &str, intent: Intent) -> Choice {
    Choice { label: label.to_owned(), intent: Some(intent), later: false }
}

/// An answer that decides to do nothing (the question is answered).
fn keep(label: &str) -> Choice {
    Choice { label: label.to_owned(), intent: None, later: false }
}

/// An answer that puts the question off (it stays among the questions).
fn later() -> Choice {
    Choice { label: "Later".to_owned(), intent: None, later: true }
}

fn confirm(title: &str, text: String, choices: Vec<Choice>) -> Confirm {
    let selected = choices.iter().position(|c| c.intent.is_none()).unwrap_or(0);
    Confirm { title: title.to_owned(), text, quote: None, choices, selected, question: None }
}

/// The question for something that arrived on its own, as `h` (the handle it was asked of) sees it.
pub fn for_question(h: &HandleView, about: &QuestionAbout) -> Confirm {
    let acting = h.address.handle.clone();
    let mut c = match about {
        QuestionAbout::FriendRequest { from, greeting } => {
            let mut c = friend_request(acting, from);
            c.quote = greeting.clone().filter(|g| !g.is_empty());
            c
        }
        QuestionAbout::GroupInvite { invite } => group_invite(h, acting, invite),
        QuestionAbout::DeletionRequest { from } => {
            let n = h.name_of(from);
            confirm(
                "Deletion request",
                format!("{n} deleted you from their friend list and asks you to delete {n} from yours."),
                vec![
                    choice(
                        &format!("Delete {n}"),
                        Intent::AnswerDeletion { acting: acting.clone(), from: from.clone(), confirm: true },
                    ),
                    choice(&format!("Keep {n}"), Intent::AnswerDeletion { acting, from: from.clone(), confirm: false }),
                    later(),
                ],
            )
            .select_last()
        }
        QuestionAbout::AskAgain { friend } => {
            let n = h.name_of(friend);
            confirm(
                "Ask again",
                format!("{n} kept you on their list. Ask {n} again to delete you?"),
                vec![
                    keep("Don't ask"),
                    choice("Ask again", Intent::NotifyDeletion { acting, friend: friend.clone(), ask: true }),
                ],
            )
        }
        QuestionAbout::Promote { with, message } => promote(h, acting, with, message),
        QuestionAbout::AddToGroup { group, message } => add_to_group(h, acting, group, message),
        QuestionAbout::ShareOpening { room, to, body } => {
            let n = h.name_of(to);
            let group = match h.session.groups.get(room) {
                Some(_) => format!("the group {}", h.group_name(room)),
                None => "a group".to_owned(),
            };
            let mut c = confirm(
                "Share your message?",
                format!("Your message to {n} started {group}. The others have not seen it. Share it there?"),
                vec![
                    keep("Keep it private"),
                    choice(
                        "Share it",
                        Intent::Send {
                            acting,
                            key: super::ConvKey::Room(room.clone()),
                            body: body.clone(),
                            receipts: false,
                        },
                    ),
                ],
            );
            c.quote = Some(body.clone());
            c
        }
    };
    c.question = Some(about.clone());
    c
}

impl Confirm {
    /// Highlights the last answer (a "Later" put after the real answers).
    fn select_last(mut self) -> Self {
        self.selected = self.choices.len().saturating_sub(1);
        self
    }
}

pub fn friend_request(acting: Handle, from: &Address) -> Confirm {
    let answer = |answer| Intent::AnswerRequest { acting: acting.clone(), from: from.clone(), answer };
    confirm(
        "Friend request",
        format!("{from} wants to be your friend."),
        vec![
            choice("Accept", answer(RequestAnswer::Accept)),
            choice("Accept and add back", answer(RequestAnswer::AcceptMutual)),
            choice("Reject", answer(RequestAnswer::Reject)),
            later(),
        ],
    )
    .select_last()
}

pub fn group_invite(h: &HandleView, acting: Handle, invite: &PendingInvite) -> Confirm {
    let what = match &invite.title {
        Some(t) => format!("the group “{t}”"),
        None => "a group".to_owned(),
    };
    let answer = |accept| Intent::AnswerInvite { acting: acting.clone(), room: invite.room.clone(), accept };
    confirm(
        "Group invitation",
        format!("{} invites you to {what}.", h.name_of(&invite.by)),
        vec![choice("Join", answer(true)), choice("Decline", answer(false)), later()],
    )
    .select_last()
}

fn promote(h: &HandleView, acting: Handle, with: &Address, message: &Message) -> Confirm {
    let (with_name, writer) = (h.name_of(with), h.name_of(&message.from));
    let mut c = confirm(
        "Make a group?",
        format!("{writer} wrote to you while you were talking with {with_name}. Make a group of the three of you?"),
        vec![
            choice(
                "Make a group",
                Intent::Promote {
                    acting,
                    with: with.clone(),
                    newcomer: message.from.clone(),
                    message: Some(message.clone()),
                },
            ),
            keep("Keep apart"),
            later(),
        ],
    );
    c.quote = Some(message.body.clone());
    c.select_last()
}

fn add_to_group(h: &HandleView, acting: Handle, group: &RoomId, message: &Message) -> Confirm {
    let writer = h.name_of(&message.from);
    let name = h.group_name(group);
    let left = h.former.get(group).is_some_and(|f| f.contains(&message.from));
    let text = if left {
        format!("{writer} wrote to you. {writer} left {name} earlier; invite {writer} back? They will be asked.")
    } else {
        format!("{writer} wrote to you while you were in {name}. Invite {writer} to the group?")
    };
    let mut c = confirm(
        "Add to the group?",
        text,
        vec![
            choice(
                "Invite",
                Intent::AddToGroup {
                    acting,
                    group: group.clone(),
                    who: message.from.clone(),
                    message: Some(message.clone()),
                },
            ),
            keep("Keep apart"),
            later(),
        ],
    );
    c.quote = Some(message.body.clone());
    c.select_last()
}

/// "Delete bob?" with the steps of mutual deletion as its answers.
pub fn delete_friend(h: &HandleView, friend: &Address) -> Confirm {
    let n = h.name_of(friend);
    let acting = h.address.handle.clone();
    let delete = |then| Intent::DeleteFriend { acting: acting.clone(), friend: friend.clone(), then };
    confirm(
        "Delete friend",
        format!("Delete {n} from your friend list?"),
        vec![
            keep("Cancel"),
            choice("Delete quietly", delete(AfterDelete::Quietly)),
            choice(&format!("Delete and tell {n}"), delete(AfterDelete::Tell)),
            choice(&format!("Delete, tell {n}, ask {n} to delete you too"), delete(AfterDelete::TellAndAsk)),
        ],
    )
}

pub fn block(h: &HandleView, target: &Address, block: bool) -> Confirm {
    let n = h.name_of(target);
    let acting = h.address.handle.clone();
    if block {
        confirm(
            "Block",
            format!("Block {n}? {n} will not be able to reach you, and sees you as offline."),
            vec![keep("Cancel"), choice("Block", Intent::Block { acting, target: target.clone() })],
        )
    } else {
        confirm(
            "Unblock",
            format!("Unblock {n}?"),
            vec![keep("Cancel"), choice("Unblock", Intent::Unblock { acting, target: target.clone() })],
        )
    }
}

pub fn leave(h: &HandleView, group: &RoomId) -> Confirm {
    let name = h.group_name(group);
    confirm(
        "Leave group",
        format!("Leave {name}? You will get no more of its messages, and nobody can add you back without asking."),
        vec![
            keep("Stay"),
            choice("Leave", Intent::LeaveRoom { acting: h.address.handle.clone(), room: group.clone() }),
        ],
    )
}

/// Subscribing to a topic, or leaving it: subscribing is the consent to be put in its huddles, so it is asked.
pub fn subscribe(h: &HandleView, topic: &huddle_shared::model::TopicInfo) -> Confirm {
    let acting = h.address.handle.clone();
    let minutes = topic.duration_ms / 60_000;
    if topic.subscription.is_some() {
        confirm(
            "Leave a topic",
            format!("Leave {}? Its issues will no longer put you in a huddle.", topic.title),
            vec![
                keep("Stay subscribed"),
                choice("Leave it", Intent::Subscribe { acting, topic: topic.id.clone(), subscribe: false }),
            ],
        )
    } else {
        confirm(
            "Subscribe",
            format!(
                "Subscribe to {}? Each issue will put you in a huddle with its other readers who are online, for {minutes} \
                 minutes; you can leave any huddle, and the topic, at any time.",
                topic.title
            ),
            vec![
                keep("Not now"),
                choice("Subscribe", Intent::Subscribe { acting, topic: topic.id.clone(), subscribe: true }),
            ],
        )
    }
}

/// Logging out another device.
pub fn revoke_session(session: &huddle_shared::model::SessionInfo) -> Confirm {
    let device = session.device.clone().unwrap_or_else(|| "a device without a name".to_owned());
    confirm(
        "Log out a device",
        format!("Log out {device}? It will have to log in again with your password."),
        vec![keep("Keep it"), choice("Log it out", Intent::RevokeSession { session: session.session.clone() })],
    )
}

/// Quitting while messages are not stored yet: they would be lost.
pub fn quit_with_unsent(model: &Model) -> Confirm {
    let unsent = model.unsent();
    let what = if unsent == 1 { "1 message is".to_owned() } else { format!("{unsent} messages are") };
    confirm(
        "Quit?",
        format!("{what} not sent yet and would be lost if you quit now."),
        vec![keep("Stay"), choice("Quit anyway", Intent::Quit)],
    )
}

/// Quitting: at once, unless messages are still unsent — then a question whose first answer is to stay.
pub fn ask_quit(model: &mut Model) -> Vec<Cmd> {
    if model.unsent() == 0 {
        return vec![Cmd::Do(Intent::Quit)];
    }
    let already = matches!(model.dialogs.front(), Some(Dialog::Confirm(c)) if c.choices.iter().any(|c| c.intent == Some(Intent::Quit)));
    if !already {
        let question = quit_with_unsent(model);
        model.dialogs.push_front(Dialog::Confirm(Box::new(question)));
    }
    Vec::new()
}
