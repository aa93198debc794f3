//! The client's whole state as plain data. The view draws it; only `update` changes it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use huddle_shared::model::{
    FriendEntry, FriendList, PendingRequest, PresenceState, Profile, RegistrationPolicy, ShownState,
};
use huddle_shared::{Address, Handle, Millis, RelayName, RequestId};

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
}

/// One line of a conversation log, in chronological order.
#[derive(Debug, Clone, PartialEq)]
pub enum LogLine {
    Message {
        /// Relay id once stored.
        id: Option<String>,
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
    pub peer: Address,
    pub lines: Vec<LogLine>,
    pub unread: usize,
    pub last_activity: Millis,
    pub history: HistoryState,
    /// Lines scrolled up from the bottom (0: following new lines).
    pub scroll: usize,
}

impl Conversation {
    pub fn new(peer: Address) -> Self {
        Self { peer, lines: Vec::new(), unread: 0, last_activity: 0, history: HistoryState::NotLoaded, scroll: 0 }
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
    /// Keyed by the peer's address.
    pub conversations: BTreeMap<Address, Conversation>,
    /// The open conversation.
    pub open: Option<Address>,
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

    /// The friend-list rows in display order: requests, online, offline (each section only if it has rows).
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let requests: Vec<Row> = self
            .friends
            .requests_in
            .iter()
            .map(|r| Row::RequestIn(r.clone()))
            .chain(self.friends.requests_out.iter().map(|r| Row::RequestOut(r.clone())))
            .collect();
        if !requests.is_empty() {
            rows.push(Row::Header(Section::Requests, requests.len()));
            rows.extend(requests);
        }
        // Unread first, then most recent activity, then name. Keys are computed once per entry, so a long list
        // sorts in n log n.
        let mut sorted: Vec<&FriendEntry> = self.friends.entries.iter().collect();
        sorted.sort_by_cached_key(|e| {
            let (unread, last) = self.conversations.get(&e.address).map_or((0, 0), |c| (c.unread, c.last_activity));
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
    Online,
    Offline,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Header(Section, usize),
    RequestIn(PendingRequest),
    RequestOut(PendingRequest),
    Friend(Address),
}

impl Row {
    pub fn selectable(&self) -> bool {
        !matches!(self, Row::Header(..))
    }

    pub fn peer(&self) -> Option<&Address> {
        match self {
            Row::Header(..) => None,
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
}

impl Dialog {
    /// Labels of a choice dialog's buttons.
    pub const REQUEST_CHOICES: [&'static str; 4] = ["Accept", "Accept and add back", "Reject", "Later"];
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
    FriendRequest { to: Address },
    CancelRequest { to: Address },
    Answer { from: Address, accept: bool },
    Delete { friend: Address },
    Notify { friend: Address, ask: bool },
    AnswerDeletion { from: Address, confirm: bool },
    SetEntry,
    Block { target: Address, block: bool },
    Presence,
    History { acting: Handle, peer: Address },
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
    pub typing_sent: Option<(Address, Millis)>,
}

/// Someone typing to one of our handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub acting: Handle,
    pub from: Address,
    pub at: Millis,
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
        self.typing
            .iter()
            .find(|t| t.acting == h.address.handle && &t.from == open && self.now - t.at < TYPING_SHOWN_MS)
            .map(|t| h.name_of(&t.from))
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
