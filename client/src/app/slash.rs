//! What each slash command does: most become an [`Intent`]; those that change something for someone else and
//! cannot be undone (delete, block, leave) open their question first, as the keys do.

use huddle_shared::client::AddHandle;
use huddle_shared::{Address, ClientFrame, Handle};

use super::commands::SlashCommand;
use super::handles::{resolve, switch_handle};
use super::input::TextInput;
use super::intent::Intent;
use super::notices::{capitalize, notify};
use super::requests::request;
use super::{Cmd, Confirm, ConvKey, Dialog, HandleView, Level, LoginForm, LoginMode, Model, Pending, Screen};
use crate::net;

fn find_address(model: &Model, name: &str) -> Result<Address, String> {
    Address::parse(name.trim_start_matches('@'))
        .map(|a| resolve(model, a))
        .map_err(|e| format!("{}.", capitalize(&e.to_string())))
}

/// Opens a question the person asked for, worded for the active handle.
fn ask(model: &mut Model, build: impl FnOnce(&HandleView) -> Confirm) -> Vec<Cmd> {
    if let Some(h) = model.handle() {
        let question = build(h);
        model.dialogs.push_back(Dialog::Confirm(Box::new(question)));
    }
    Vec::new()
}

pub fn run(model: &mut Model, command: SlashCommand) -> Vec<Cmd> {
    let Some(h) = model.handle() else { return Vec::new() };
    let acting = h.address.handle.clone();
    let open = h.open.clone();
    let address = |name: &str| find_address(model, name);
    let result: Result<Vec<Cmd>, String> = match command {
        SlashCommand::Add { handle, greeting } => {
            address(&handle).map(|to| vec![Cmd::Do(Intent::SendFriendRequest { acting, to, greeting })])
        }
        SlashCommand::Del { handle } => {
            address(&handle).map(|friend| ask(model, |h| super::confirm::delete_friend(h, &friend)))
        }
        SlashCommand::Block { handle } => {
            address(&handle).map(|target| ask(model, |h| super::confirm::block(h, &target, true)))
        }
        SlashCommand::Unblock { handle } => {
            address(&handle).map(|target| vec![Cmd::Do(Intent::Unblock { acting, target })])
        }
        SlashCommand::Status { state, activity } => Ok(vec![Cmd::Do(Intent::SetPresence { acting, state, activity })]),
        SlashCommand::Handle { handle: None } => {
            super::navigation::open_handle_dialog(model);
            Ok(Vec::new())
        }
        SlashCommand::Handle { handle: Some(name) } => {
            match model.handles.iter().position(|h| h.address.handle.as_str() == name) {
                Some(i) => {
                    switch_handle(model, i);
                    Ok(Vec::new())
                }
                None => Err(format!("{name} is not one of your handles. /handle add {name} creates it.")),
            }
        }
        SlashCommand::HandleAdd { handle } => match Handle::parse(&handle) {
            Ok(handle) => Ok(vec![request(model, Pending::Other("add_handle"), |id| {
                ClientFrame::AddHandle(AddHandle { id, handle })
            })]),
            Err(e) => Err(format!("{}.", capitalize(&e.to_string()))),
        },
        SlashCommand::Nick { handle, nickname } => address(&handle)
            .map(|friend| vec![Cmd::Do(Intent::SetEntry { acting, friend, nickname: Some(nickname), note: None })]),
        SlashCommand::Note { handle, note } => address(&handle)
            .map(|friend| vec![Cmd::Do(Intent::SetEntry { acting, friend, nickname: None, note: Some(note) })]),
        SlashCommand::Msg { handle, text } => address(&handle).map(|peer| {
            let key = ConvKey::Direct(peer);
            let mut cmds = super::navigation::open(model, key.clone());
            if let Some(body) = text {
                let receipts = model.chat.receipts;
                cmds.push(Cmd::Do(Intent::Send { acting, key, body, receipts }));
            }
            cmds
        }),
        SlashCommand::Invite { handle } => address(&handle).map(|who| invite(model, acting, open, who)),
        SlashCommand::Group { handles } => handles
            .iter()
            .map(|h| address(h))
            .collect::<Result<Vec<_>, _>>()
            .map(|members| vec![Cmd::Do(Intent::CreateGroup { acting, members, title: None })]),
        SlashCommand::Leave => match open {
            Some(ConvKey::Room(group)) => Ok(ask(model, |h| super::confirm::leave(h, &group))),
            _ => Err("Open a group first: /leave leaves the open group.".to_owned()),
        },
        SlashCommand::Rename { title } => Ok(super::groups::rename(model, title)),
        SlashCommand::Kick { handle } => address(&handle).map(|who| super::groups::kick(model, who)),
        SlashCommand::Share { count } => Ok(super::groups::share(model, count)),
        SlashCommand::Confirm { text } => Ok(super::conversation::send_text(model, text, true)),
        SlashCommand::Profile => {
            let profile = model.handle().map(|h| h.session.profile.clone()).unwrap_or_default();
            model.dialogs.push_back(Dialog::Profile {
                field: 0,
                display_name: TextInput::with(profile.display_name.as_deref().unwrap_or("")),
                bio: TextInput::with(profile.bio.as_deref().unwrap_or("")),
            });
            Ok(Vec::new())
        }
        SlashCommand::Password => {
            model.dialogs.push_back(Dialog::Password {
                field: 0,
                old: TextInput::default(),
                new: TextInput::default(),
                repeat: TextInput::default(),
                error: None,
            });
            Ok(Vec::new())
        }
        SlashCommand::Sessions => Ok(vec![request(model, Pending::Sessions, |id| {
            ClientFrame::ListSessions(huddle_shared::client::ListSessions { id })
        })]),
        SlashCommand::Mute => Ok(super::navigation::global(model, crate::keymap::Action::ToggleMute)),
        SlashCommand::Close => Ok(super::navigation::global(model, crate::keymap::Action::CloseConversation)),
        SlashCommand::Notices => Ok(super::navigation::global(model, crate::keymap::Action::Notices)),
        SlashCommand::Answer => Ok(super::navigation::global(model, crate::keymap::Action::OpenQuestion)),
        SlashCommand::Logout => {
            model.screen = Screen::Login(LoginForm {
                mode: LoginMode::Login,
                field: 0,
                handle: TextInput::default(),
                password: TextInput::default(),
                invite: TextInput::default(),
                error: None,
                busy: false,
            });
            model.handles.clear();
            model.questions.clear();
            model.dialogs.clear();
            Ok(vec![Cmd::Net(net::Command::Logout), Cmd::ForgetToken])
        }
        SlashCommand::Quit => Ok(super::confirm::ask_quit(model)),
        SlashCommand::Huddle(command) => super::huddles::run(model, acting, command),
        SlashCommand::Help => {
            model.help = true;
            Ok(Vec::new())
        }
    };
    result.unwrap_or_else(|sentence| {
        notify(model, Level::Error, sentence);
        Vec::new()
    })
}

/// `/invite NAME`: in a one-to-one conversation, makes it a group with NAME (a promotion by hand); in a group,
/// invites NAME.
fn invite(model: &mut Model, acting: Handle, open: Option<ConvKey>, who: Address) -> Vec<Cmd> {
    match open {
        Some(ConvKey::Direct(with)) if with == who => {
            notify(model, Level::Info, format!("You are already talking with {}.", who.handle));
            Vec::new()
        }
        Some(ConvKey::Direct(with)) => vec![Cmd::Do(Intent::Promote { acting, with, newcomer: who, message: None })],
        Some(ConvKey::Room(group)) => vec![Cmd::Do(Intent::AddToGroup { acting, group, who, message: None })],
        None => {
            notify(model, Level::Info, "Open a conversation first: /invite adds someone to it.");
            Vec::new()
        }
    }
}
