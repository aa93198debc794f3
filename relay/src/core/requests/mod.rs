//! One handler per client frame: each frame's struct (from `huddle_shared::client`) validates its fields, calls the
//! domain, and says what to answer. The dispatcher below checks the connection's phase and resolves the acting handle
//! once, for every frame that has `as`.
//!
//! - `account`: hello, registration, logins and their password jobs, sessions, handles.
//! - `lists`: presence, profile and the friend list.
//! - `messages`: send, sync, ack, history, read, typing.
//! - `rooms`: groups and invitations.
//! - `huddles`: topics, subscriptions, publishing, huddle settings.

mod account;
mod huddles;
mod lists;
mod messages;
mod rooms;

use huddle_shared::{Address, ClientFrame, ErrorCode, Handle, Millis, RequestId, ServerFrame};

use super::fail::{Fail, refuse, refuse_with};
use super::{ConnId, Core};
use crate::storage::Storage;

/// What a handler answers (after the pushes its request caused).
// Taken at once; see `Effect` on why the frame is not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Reply {
    /// This frame.
    Frame(ServerFrame),
    /// `ok` — if the request had an id (`ack`, `read` and `typing` may have none: then nothing).
    Ok,
    /// Nothing now: a password job answers later.
    Nothing,
}

/// Who asked.
pub struct Caller {
    pub conn: ConnId,
    pub id: Option<RequestId>,
}

impl Caller {
    /// The request id of a frame that has a required one.
    fn id(&self) -> RequestId {
        self.id.unwrap_or_default()
    }
}

/// The handle a frame acts for, resolved from `as`.
pub struct Me {
    pub handle: Handle,
    pub address: Address,
}

/// A frame that acts for the connection or its account (no `as`).
trait AccountRequest {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, now: Millis) -> Result<Reply, Fail>;
}

/// A frame that acts for one handle of the account (`as`).
trait HandleRequest {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail>;
}

pub fn dispatch<S: Storage>(core: &mut Core<S>, conn: ConnId, frame: ClientFrame, now: Millis) -> Result<Reply, Fail> {
    use ClientFrame as F;
    let caller = Caller { conn, id: frame.id() };
    if let F::Hello(f) = frame {
        return f.handle(core, &caller, now);
    }
    if !core.conns.greeted(conn) {
        return Err(refuse(ErrorCode::HelloRequired));
    }
    match frame {
        F::Register(f) => return f.handle(core, &caller, now),
        F::Login(f) => return f.handle(core, &caller, now),
        F::LoginToken(f) => return f.handle(core, &caller, now),
        _ if !core.conns.authed(conn) => return Err(refuse(ErrorCode::NotAuthenticated)),
        _ => {}
    }
    let me = acting(core, conn, frame.acting())?;
    match frame {
        F::Hello(_) | F::Register(_) | F::Login(_) | F::LoginToken(_) => Ok(Reply::Nothing),
        F::Logout(f) => f.handle(core, &caller, now),
        F::ChangePassword(f) => f.handle(core, &caller, now),
        F::ListSessions(f) => f.handle(core, &caller, now),
        F::RevokeSession(f) => f.handle(core, &caller, now),
        F::AddHandle(f) => f.handle(core, &caller, now),
        F::RemoveHandle(f) => f.handle(core, &caller, now),
        F::SetPresence(f) => f.handle(core, &caller, &me?, now),
        F::SetProfile(f) => f.handle(core, &caller, &me?, now),
        F::FriendRequest(f) => f.handle(core, &caller, &me?, now),
        F::CancelRequest(f) => f.handle(core, &caller, &me?, now),
        F::AnswerRequest(f) => f.handle(core, &caller, &me?, now),
        F::DeleteFriend(f) => f.handle(core, &caller, &me?, now),
        F::NotifyDeletion(f) => f.handle(core, &caller, &me?, now),
        F::AnswerDeletion(f) => f.handle(core, &caller, &me?, now),
        F::SetEntry(f) => f.handle(core, &caller, &me?, now),
        F::Block(f) => f.handle(core, &caller, &me?, now),
        F::Unblock(f) => f.handle(core, &caller, &me?, now),
        F::GetFriends(f) => f.handle(core, &caller, &me?, now),
        F::Send(f) => f.handle(core, &caller, &me?, now),
        F::Sync(f) => f.handle(core, &caller, &me?, now),
        F::Ack(f) => f.handle(core, &caller, &me?, now),
        F::History(f) => f.handle(core, &caller, &me?, now),
        F::Read(f) => f.handle(core, &caller, &me?, now),
        F::Typing(f) => f.handle(core, &caller, &me?, now),
        F::CreateGroup(f) => f.handle(core, &caller, &me?, now),
        F::InviteToRoom(f) => f.handle(core, &caller, &me?, now),
        F::AnswerRoomInvite(f) => f.handle(core, &caller, &me?, now),
        F::LeaveRoom(f) => f.handle(core, &caller, &me?, now),
        F::RemoveFromRoom(f) => f.handle(core, &caller, &me?, now),
        F::RenameRoom(f) => f.handle(core, &caller, &me?, now),
        F::SetInvitePolicy(f) => f.handle(core, &caller, &me?, now),
        F::GetRooms(f) => f.handle(core, &caller, &me?, now),
        F::CreateTopic(f) => f.handle(core, &caller, &me?, now),
        F::UpdateTopic(f) => f.handle(core, &caller, &me?, now),
        F::DeleteTopic(f) => f.handle(core, &caller, &me?, now),
        F::GetTopics(f) => f.handle(core, &caller, &me?, now),
        F::Subscribe(f) => f.handle(core, &caller, &me?, now),
        F::Unsubscribe(f) => f.handle(core, &caller, &me?, now),
        F::Publish(f) => f.handle(core, &caller, &me?, now),
        F::SetHuddleSettings(f) => f.handle(core, &caller, &me?, now),
        F::ReportActivity(f) => f.handle(core, &caller, &me?, now),
        F::ReportPlace(f) => f.handle(core, &caller, &me?, now),
    }
}

/// The handle a frame acts for: `as` if given (it must be one of the connection's), else the connection's only handle.
/// Account-level frames have no `as` and never look at this.
fn acting<S: Storage>(core: &Core<S>, conn: ConnId, acting: Option<&Handle>) -> Result<Result<Me, Fail>, Fail> {
    let handles = core.conns.handles(conn);
    let handle = match acting {
        Some(h) if handles.iter().any(|a| &a.handle == h) => h.clone(),
        Some(h) => {
            return Err(refuse_with(ErrorCode::NotYourHandle, format!("This connection does not act for {h}.")));
        }
        None if handles.len() == 1 => handles[0].handle.clone(),
        None => {
            return Ok(Err(refuse_with(
                ErrorCode::NotYourHandle,
                "This connection acts for several handles; say which with \"as\".",
            )));
        }
    };
    let address = core.world.address(&handle);
    Ok(Ok(Me { handle, address }))
}

/// Exactly one of two ways to name a conversation: a room, or the person of a direct room.
fn one_target(
    room: Option<huddle_shared::RoomId>,
    person: Option<Address>,
    person_field: &str,
    relay: &huddle_shared::RelayName,
) -> Result<super::domain::messages::Target, Fail> {
    use super::domain::messages::Target;
    match (room, person) {
        (Some(room), None) => Ok(Target::Room(room)),
        (None, Some(person)) => Ok(Target::Direct(person.resolve(relay))),
        _ => Err(refuse_with(
            ErrorCode::BadFrame,
            format!("Name the conversation with either \"room\" or \"{person_field}\"."),
        )),
    }
}
