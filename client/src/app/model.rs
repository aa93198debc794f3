//! The client's whole state as plain data. The view draws it; only `update` changes it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use huddle_shared::model::{
    FriendEntry, FriendList, InvitePolicy, Message, PendingInvite, PendingRequest, PresenceState, Profile,
    RegistrationPolicy, RoomInfo, ShownState,
};
use huddle_shared::{Address, Handle, MessageId, Millis, RelayName, RequestId, RoomId};

use crate::net::ConnState;

use super::input::TextInput;

/// Which screen is showing.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// First start: pick a relay.
    Welcome(WelcomeForm),
    /// Register or log in.
    Login(LoginForm),
    /// Friend list, conversation, input.
    Main,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeForm {
    /// 0: start a personal relay here, 1: connect to a relay.
    pub choice: usize,
    /// Which field has the cursor when connecting: 0 URL, 1 CA file.
    pub field: usize,
    pub url: TextInput,
    pub ca_file: TextInput,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMode {
    Login,
    Register,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoginForm {
    pub mode: LoginMode,
    /// 0 handle, 1 password, 2 invite code (register on invite-only relays).
    pub field: usize,
    pub handle: TextInput,
    pub password: TextInput,
    pub invite: TextInput,
    pub error: Option<String>,
    /// A request is on its way.
    pub busy: bool,
}

/// Where keys go on the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Log,
    Input,
}

/// How sure we are that a message of ours reached the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Queued or sent, no `stored` yet: resent after a reconnect.
    Pending,
    Stored,
    /// The relay refused it; the sentence says why.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemKind {
    /// Outcomes of requests, handles removed, etc.
    Info,
    /// Presence changes the user asked to see.
    Presence,
    /// Something went wrong.
    Error,
}

/// A question asked inline in whatever conversation is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// `peer` deleted us and asks us to delete them too.
    DeletionRequest { peer: Address },
    /// `message` came from a third person while we were talking with `with` (promotion setting `ask`): make the
    /// exchange a group of us, `with` and the writer?
    Promote { with: Address, message: Message },
    /// `message` came from someone outside the open group while we were talking in it: add them?
    AddToGroup { group: RoomId, message: Message },
}

/// A conversation: the direct room with one friend (named by the friend, as the list shows them), or another room.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConvKey {
    Direct(Address),
    Room(RoomId),
}

impl ConvKey {
    pub fn peer(&self) -> Option<&Address> {
        match self {
            Self::Direct(peer) => Some(peer),
            Self::Room(_) => None,
        }
    }

    pub fn room(&self) -> Option<&RoomId> {
        match self {
            Self::Direct(_) => None,
            Self::Room(id) => Some(id),
        }
    }

    /// The conversation a message belongs to, as `me` sees it: a direct message is the conversation with the other
    /// person; anything else is its room's.
    pub fn of_message(message: &Message, me: &Address) -> Self {
        match &message.to {
            Some(to) if message.from.handle == me.handle => Self::Direct(to.clone()),
            Some(_) => Self::Direct(message.from.clone()),
            None => Self::Room(message.room.clone()),
        }
    }
}

/// One line of a conversation log, in chronological order.
#[derive(Debug, Clone, PartialEq)]
pub enum LogLine {
    Message {
        /// Relay id once stored.
        id: Option<MessageId>,
        client_msg_id: String,
        from: Address,
        body: String,
        at: Millis,
        own: bool,
        delivery: Delivery,
    },
    System {
        at: Millis,
        text: String,
        kind: SystemKind,
    },
    /// An inline question with its keys; `answer` once answered.
    Prompt {
        at: Millis,
        text: String,
        kind: PromptKind,
        answer: Option<String>,
    },
}

impl LogLine {
    pub fn at(&self) -> Millis {
        match self {
            Self::Message { at, .. } | Self::System { at, .. } | Self::Prompt { at, .. } => *at,
        }
    }
}

/// Whether older history can still be fetched from the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryState {
    NotLoaded,
    Loading,
    /// More before the oldest line we hold.
    More,
    Complete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub key: ConvKey,
    pub lines: Vec<LogLine>,
    pub unread: usize,
    pub last_activity: Millis,
    pub history: HistoryState,
    /// Lines scrolled up from the bottom (0: following new lines).
    pub scroll: usize,
    /// When (on this machine's clock) a message was last sent or received here live: the "in an exchange" test
    /// of automatic promotion.
    pub exchanged_at: Option<Millis>,
    /// A group that grew out of a one-to-one conversation: how many of that conversation's messages are copied at
    /// the top (shown to us only, for context; `/share` can send some of them).
    pub context: usize,
    /// Receipts of our messages that asked for them, by message id.
    pub receipts: BTreeMap<MessageId, super::receipts::Tracking>,
    /// Messages from others that asked for receipts and that we have not reported read yet.
    pub to_report: Vec<MessageId>,
}

impl Conversation {
    pub fn new(key: ConvKey) -> Self {
        Self {
            key,
            lines: Vec::new(),
            unread: 0,
            last_activity: 0,
            history: HistoryState::NotLoaded,
            scroll: 0,
            exchanged_at: None,
            context: 0,
            receipts: BTreeMap::new(),
            to_report: Vec::new(),
        }
    }
}

/// One of the account's handles, with everything shown for it.
#[derive(Debug, Clone, PartialEq)]
pub struct HandleView {
    pub address: Address,
    pub friends: FriendList,
    pub profile: Profile,
    pub state: PresenceState,
    pub activity: Option<String>,
    pub conversations: BTreeMap<ConvKey, Conversation>,
    /// The open conversation.
    pub open: Option<ConvKey>,
    /// The groups this handle is in, by id.
    pub groups: BTreeMap<RoomId, RoomInfo>,
    /// Groups this handle left (or was removed from) during this session: their logs stay readable by name.
    pub left_groups: BTreeMap<RoomId, RoomInfo>,
    /// Group invitations waiting for an answer.
    pub group_invites: Vec<PendingInvite>,
    pub invite_policy: InvitePolicy,
    /// Index into [`HandleView::rows`] of the highlighted row.
    pub selected: usize,
}

impl HandleView {
    pub fn new(address: Address) -> Self {
        Self {
            address,
            friends: FriendList::default(),
            profile: Profile::default(),
            state: PresenceState::Online,
            activity: None,
            conversations: BTreeMap::new(),
            open: None,
            groups: BTreeMap::new(),
            left_groups: BTreeMap::new(),
            group_invites: Vec::new(),
            invite_policy: InvitePolicy::Auto,
            selected: 0,
        }
    }

    pub fn unread(&self) -> usize {
        self.conversations.values().map(|c| c.unread).sum()
    }

    pub fn entry(&self, peer: &Address) -> Option<&FriendEntry> {
        self.friends.entries.iter().find(|e| &e.address == peer)
    }

    /// The name to show for a peer: the private nickname if set, else the handle.
    pub fn name_of(&self, peer: &Address) -> String {
        match self.entry(peer).and_then(|e| e.nickname.clone()) {
            Some(nick) => nick,
            None => short(peer),
        }
    }

    /// The conversation with `key`, made empty if there is none yet.
    pub fn conversation_mut(&mut self, key: &ConvKey) -> &mut Conversation {
        self.conversations.entry(key.clone()).or_insert_with(|| Conversation::new(key.clone()))
    }

    /// The name to show for a group: its title, else the other members' names ("bob, carol"), else "group".
    pub fn group_name(&self, id: &RoomId) -> String {
        let Some(g) = self.groups.get(id).or_else(|| self.left_groups.get(id)) else { return "a group".to_owned() };
        if let Some(title) = &g.title {
            return title.clone();
        }
        let others: Vec<String> =
            g.members.iter().filter(|m| m.address != self.address).map(|m| self.name_of(&m.address)).collect();
        if others.is_empty() { "just you".to_owned() } else { others.join(", ") }
    }

    /// The name to show for a conversation.
    pub fn conversation_name(&self, key: &ConvKey) -> String {
        match key {
            ConvKey::Direct(peer) => self.name_of(peer),
            ConvKey::Room(id) => self.group_name(id),
        }
    }

    /// The friend-list rows in display order: requests (friend and group invitations), groups, online, offline
    /// (requests and groups only if there are any).
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let requests: Vec<Row> = self
            .friends
            .requests_in
            .iter()
            .map(|r| Row::RequestIn(r.clone()))
            .chain(self.group_invites.iter().map(|i| Row::GroupInvite(i.clone())))
            .chain(self.friends.requests_out.iter().map(|r| Row::RequestOut(r.clone())))
            .collect();
        if !requests.is_empty() {
            rows.push(Row::Header(Section::Requests, requests.len()));
            rows.extend(requests);
        }
        if !self.groups.is_empty() {
            let mut groups: Vec<(&RoomId, Millis)> = self
                .groups
                .iter()
                .map(|(id, g)| {
                    let last = self.conversations.get(&ConvKey::Room(id.clone())).map_or(0, |c| c.last_activity);
                    (id, last.max(g.created_at))
                })
                .collect();
            groups.sort_by_cached_key(|(id, last)| (std::cmp::Reverse(*last), self.group_name(id)));
            rows.push(Row::Header(Section::Groups, groups.len()));
            rows.extend(groups.into_iter().map(|(id, _)| Row::Group(id.clone())));
        }
        // Unread first, then most recent activity, then name. Keys are computed once per entry, so a long list
        // sorts in n log n.
        let mut sorted: Vec<&FriendEntry> = self.friends.entries.iter().collect();
        sorted.sort_by_cached_key(|e| {
            let key = ConvKey::Direct(e.address.clone());
            let (unread, last) = self.conversations.get(&key).map_or((0, 0), |c| (c.unread, c.last_activity));
            let name = e.nickname.clone().unwrap_or_else(|| short(&e.address));
            (std::cmp::Reverse((unread, last)), name)
        });
        let (online, offline): (Vec<&FriendEntry>, Vec<&FriendEntry>) =
            sorted.into_iter().partition(|e| e.presence.state != ShownState::Offline);
        for (section, list) in [(Section::Online, online), (Section::Offline, offline)] {
            rows.push(Row::Header(section, list.len()));
            rows.extend(list.into_iter().map(|e| Row::Friend(e.address.clone())));
        }
        rows
    }
}

/// The peer's handle without the relay part when it is on our relay's name space (for display).
pub fn short(address: &Address) -> String {
    address.handle.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Requests,
    Groups,
    Online,
    Offline,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Header(Section, usize),
    RequestIn(PendingRequest),
    RequestOut(PendingRequest),
    /// An invitation to a group, waiting for our answer.
    GroupInvite(PendingInvite),
    /// A group we are in, by id.
    Group(RoomId),
    Friend(Address),
}

impl Row {
    pub fn selectable(&self) -> bool {
        !matches!(self, Row::Header(..))
    }

    pub fn peer(&self) -> Option<&Address> {
        match self {
            Row::Header(..) | Row::Group(_) => None,
            Row::GroupInvite(i) => Some(&i.by),
            Row::RequestIn(r) | Row::RequestOut(r) => Some(&r.address),
            Row::Friend(a) => Some(a),
        }
    }
}

/// A modal dialog. Dialogs wait in a queue; the first one is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// An incoming friend request: Accept / Accept and add back / Reject / Later.
    FriendRequest { from: Address, greeting: Option<String>, selected: usize },
    /// "Delete bob from your friend list?"
    DeleteConfirm { friend: Address, yes: bool },
    /// "bob was deleted. Tell bob?"
    DeleteNotify { friend: Address, yes: bool },
    /// "bob may still have you on their list. Ask bob to delete you too?"
    DeleteAsk { friend: Address, yes: bool },
    /// "bob kept you on their list. Ask again?"
    AskAgain { friend: Address, yes: bool },
    /// Add a friend: handle and optional greeting.
    AddFriend { field: usize, handle: TextInput, greeting: TextInput, error: Option<String> },
    /// Nickname and private note for an entry.
    EditEntry { friend: Address, field: usize, nickname: TextInput, note: TextInput },
    /// Availability and activity.
    SetStatus { field: usize, state: usize, activity: TextInput },
    /// Block or unblock someone.
    Block { target: Address, block: bool, yes: bool },
    /// Pick the active handle.
    SwitchHandle { selected: usize },
    /// An invitation to a group that asked first: Join / Decline / Later.
    GroupInvite { invite: PendingInvite, selected: usize },
    /// "Leave the group bob, carol?"
    LeaveGroup { group: RoomId, yes: bool },
    /// Start a group: members (names separated by spaces or commas) and an optional title.
    NewGroup { field: usize, members: TextInput, title: TextInput, error: Option<String> },
    /// Who has received and read one of our messages (←/→ steps through them).
    Receipts { key: ConvKey, message_id: MessageId },
}

impl Dialog {
    /// Labels of a choice dialog's buttons.
    pub const REQUEST_CHOICES: [&'static str; 4] = ["Accept", "Accept and add back", "Reject", "Later"];
    pub const INVITE_CHOICES: [&'static str; 3] = ["Join", "Decline", "Later"];
    pub const STATES: [PresenceState; 4] =
        [PresenceState::Online, PresenceState::Away, PresenceState::Busy, PresenceState::Invisible];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A sentence in the status bar, until the next one (or a timeout).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub level: Level,
    pub at: Millis,
}

/// What a request we sent was for, so its answer can be worded for the person.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    FriendRequest {
        to: Address,
    },
    CancelRequest {
        to: Address,
    },
    Answer {
        from: Address,
        accept: bool,
    },
    Delete {
        friend: Address,
    },
    Notify {
        friend: Address,
        ask: bool,
    },
    AnswerDeletion {
        from: Address,
        confirm: bool,
    },
    SetEntry,
    Block {
        target: Address,
        block: bool,
    },
    Presence,
    /// A page of a conversation's history.
    History {
        acting: Handle,
        key: ConvKey,
    },
    /// Promotion: the group of us, `with` and `newcomer`, to open in place of `with`; `message` is the newcomer's
    /// message that made us promote (none when promoting by hand with `/invite`).
    Promote {
        acting: Handle,
        with: Address,
        newcomer: Address,
        message: Option<Message>,
    },
    CreateGroup,
    /// Adding `who` to a group, with the message that made us do it (a fourth person writing), if any.
    Invite {
        acting: Handle,
        group: RoomId,
        who: Address,
        message: Option<Message>,
    },
    AnswerInvite {
        group: RoomId,
        accept: bool,
    },
    LeaveGroup {
        group: RoomId,
    },
    RoomChange(&'static str),
    Other(&'static str),
}

/// In-conversation search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub query: TextInput,
    /// Editing the query (true) or stepping through matches.
    pub editing: bool,
    /// Index into the log lines of the current match.
    pub current: Option<usize>,
}

/// The whole client state.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub screen: Screen,
    /// `ws://…` or `wss://…`, or the personal relay's address.
    pub relay_url: String,
    pub relay: Option<RelayName>,
    pub registration: RegistrationPolicy,
    pub conn: ConnState,
    pub handles: Vec<HandleView>,
    pub active: usize,
    pub focus: Focus,
    pub dialogs: VecDeque<Dialog>,
    pub notice: Option<Notice>,
    pub help: bool,
    /// Rows the help overlay is scrolled down (on short terminals).
    pub help_scroll: usize,
    pub info: bool,
    pub input: TextInput,
    /// Sent lines, newest last, for Up/Down.
    pub sent_history: Vec<String>,
    pub history_pos: Option<usize>,
    pub search: Option<Search>,
    pub now: Millis,
    pub next_id: RequestId,
    pub pending: HashMap<RequestId, Pending>,
    /// Show presence changes as system lines.
    pub show_presence_changes: bool,
    pub quit: bool,
    /// Quit was pressed once while messages were still unsent; pressing it again quits.
    pub quit_warned: bool,
    /// Who is typing to which of our handles, and when we last heard it (shown for [`TYPING_SHOWN_MS`]).
    pub typing: Vec<Typing>,
    /// Where and when we last told the relay we are typing (sent at most every [`TYPING_RESEND_MS`]).
    pub typing_sent: Option<(ConvKey, Millis)>,
    /// Settings of the `[chat]` section.
    pub chat: ChatPrefs,
    /// Show the member panel beside an open group.
    pub members_panel: bool,
}

/// Someone typing to one of our handles, directly or in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub acting: Handle,
    pub from: Address,
    /// Where: the conversation with `from`, or a room.
    pub key: ConvKey,
    pub at: Millis,
}

/// What happens when a third person writes while we are in a one-to-one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Promotion {
    /// Make the exchange a group at once.
    #[default]
    Auto,
    /// Ask in the conversation first.
    Ask,
    /// Never.
    Off,
}

/// The chat behaviour the person chose (`[chat]` in client.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatPrefs {
    pub promotion: Promotion,
    /// How recent the last message of a conversation must be for it to count as an exchange in progress.
    pub promotion_window_ms: Millis,
    /// Ask for delivery confirmation of every message we send.
    pub receipts: bool,
    /// Tell senders who asked for confirmation when we have read their messages.
    pub read_receipts: bool,
}

impl Default for ChatPrefs {
    fn default() -> Self {
        Self { promotion: Promotion::Auto, promotion_window_ms: 5 * 60_000, receipts: false, read_receipts: true }
    }
}

/// How long a typing indicator stays shown without news.
pub const TYPING_SHOWN_MS: Millis = 6_000;
/// How often we tell a friend we are still typing.
pub const TYPING_RESEND_MS: Millis = 3_000;

impl Model {
    pub fn new(screen: Screen, relay_url: String, now: Millis) -> Self {
        Self {
            screen,
            relay_url,
            relay: None,
            registration: RegistrationPolicy::Open,
            conn: ConnState::Idle,
            handles: Vec::new(),
            active: 0,
            focus: Focus::List,
            dialogs: VecDeque::new(),
            notice: None,
            help: false,
            help_scroll: 0,
            info: true,
            input: TextInput::default(),
            sent_history: Vec::new(),
            history_pos: None,
            search: None,
            now,
            next_id: 1,
            pending: HashMap::new(),
            show_presence_changes: true,
            quit: false,
            quit_warned: false,
            typing: Vec::new(),
            typing_sent: None,
            chat: ChatPrefs::default(),
            members_panel: true,
        }
    }

    pub fn handle(&self) -> Option<&HandleView> {
        self.handles.get(self.active)
    }

    pub fn handle_mut(&mut self) -> Option<&mut HandleView> {
        self.handles.get_mut(self.active)
    }

    pub fn handle_by(&self, address: &Address) -> Option<usize> {
        self.handles.iter().position(|h| h.address.handle == address.handle)
    }

    /// The open conversation of the active handle.
    pub fn conversation(&self) -> Option<&Conversation> {
        let h = self.handle()?;
        h.open.as_ref().and_then(|p| h.conversations.get(p))
    }

    /// The name of whoever is typing in the open conversation of the active handle, if anyone.
    pub fn typing_here(&self) -> Option<String> {
        let h = self.handle()?;
        let open = h.open.as_ref()?;
        let here = |t: &&Typing| &t.key == open;
        let names: Vec<String> = self
            .typing
            .iter()
            .filter(|t| t.acting == h.address.handle && self.now - t.at < TYPING_SHOWN_MS)
            .filter(here)
            .map(|t| h.name_of(&t.from))
            .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            [a, b] => Some(format!("{a} and {b}")),
            [a, ..] => Some(format!("{a} and {} others", names.len() - 1)),
        }
    }

    /// Our messages the relay has not stored yet (they live only in this process).
    pub fn unsent(&self) -> usize {
        self.handles
            .iter()
            .flat_map(|h| h.conversations.values())
            .flat_map(|c| c.lines.iter())
            .filter(|l| matches!(l, LogLine::Message { own: true, delivery: Delivery::Pending, .. }))
            .count()
    }

    /// Unread messages on handles other than the active one.
    pub fn unread_elsewhere(&self) -> usize {
        self.handles.iter().enumerate().filter(|(i, _)| *i != self.active).map(|(_, h)| h.unread()).sum()
    }
}
