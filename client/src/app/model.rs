//! The client's whole state as plain data. The view draws it; only `update` changes it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use huddle_shared::model::{
    FriendEntry, FriendList, HuddleSettings, InvitePolicy, Message, PendingInvite, PendingRequest, PresenceState,
    Profile, RegistrationPolicy, RoomInfo, RoomKind, SessionInfo, ShownState, TopicInfo,
};
use huddle_shared::{Address, Handle, MessageId, Millis, RelayName, RequestId, RoomId};

use crate::net::ConnState;

use super::input::TextInput;
use super::intent::Intent;

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
}

impl LogLine {
    pub fn at(&self) -> Millis {
        match self {
            Self::Message { at, .. } | Self::System { at, .. } => *at,
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

/// Where the reader is in a conversation's log. Only the view knows how many rows a line wraps to, so a move asked
/// for by a key is applied at the next frame and the view reports where it landed (`Msg::Drawn`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scroll {
    /// `None`: following the newest line. Otherwise the line the pane's bottom row belongs to.
    pub anchor: Option<Anchor>,
    /// Rows to move, up positive, not applied yet.
    pub pending: isize,
    /// A line to bring into view at the next frame (a search match).
    pub reveal: Option<usize>,
    /// Go to the oldest line held (Home).
    pub jump_top: bool,
    /// The oldest line held was on screen at the last frame.
    pub top_shown: bool,
}

impl Scroll {
    /// Back to following the newest line.
    pub fn to_bottom(&mut self) {
        *self = Self { top_shown: self.top_shown, ..Self::default() };
    }

    /// Scrolled up from the newest line (or about to be).
    pub fn is_up(&self) -> bool {
        self.anchor.is_some() || self.pending > 0
    }
}

/// What the last frame showed of the open conversation, fed back to `update` (`Msg::Drawn`): the view alone knows
/// how lines wrap, so a scroll asked for by a key lands where the view put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDrawn {
    pub key: ConvKey,
    pub anchor: Option<Anchor>,
    pub top_shown: bool,
    /// Rows of the log pane: a page.
    pub height: usize,
}

/// The pane's bottom row: row `rows(line) - 1 - below` of log line `line`, where a line's rows include the day
/// separator and "new" marker above it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anchor {
    pub line: usize,
    pub below: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub key: ConvKey,
    pub lines: Vec<LogLine>,
    pub unread: usize,
    pub last_activity: Millis,
    pub history: HistoryState,
    /// The relay ids of the stored messages in `lines`.
    pub held: super::held::HeldIds,
    /// The oldest message of the last history page: the next page is asked for before it, so a page can never be
    /// asked for twice.
    pub oldest: Option<MessageId>,
    /// Where the reader is.
    pub scroll: Scroll,
    /// The line of the current search match.
    pub search_match: Option<usize>,
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
    /// Where the "new" marker line goes: the index of the first line that was unread when the conversation was
    /// opened. Cleared when another conversation is opened.
    pub new_from: Option<usize>,
}

impl Conversation {
    pub fn new(key: ConvKey) -> Self {
        Self {
            key,
            lines: Vec::new(),
            unread: 0,
            last_activity: 0,
            history: HistoryState::NotLoaded,
            held: Default::default(),
            oldest: None,
            scroll: Scroll::default(),
            search_match: None,
            exchanged_at: None,
            context: 0,
            receipts: BTreeMap::new(),
            to_report: Vec::new(),
            new_from: None,
        }
    }
}

/// What the relay told us about one of the account's handles. Written only where network events are applied
/// (`events.rs` and the pushes it hands to `groups.rs`); everything else reads it (checked by
/// `relay/tests/boundaries.rs`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HandleSession {
    pub friends: FriendList,
    pub profile: Profile,
    /// The groups this handle is in, by id.
    pub groups: BTreeMap<RoomId, RoomInfo>,
    /// Groups this handle left (or was removed from) during this session: their logs stay readable by name.
    pub left_groups: BTreeMap<RoomId, RoomInfo>,
    /// Group invitations waiting for an answer.
    pub group_invites: Vec<PendingInvite>,
    pub invite_policy: InvitePolicy,
    /// What this handle lets the relay put it in (follows, "not with", huddles off...).
    pub huddle_settings: HuddleSettings,
}

/// One of the account's handles: what the relay told about it ([`HandleSession`]), and what this client shows and
/// keeps for it — its conversations, the open one, the highlight, drafts, mutes, archives.
#[derive(Debug, Clone, PartialEq)]
pub struct HandleView {
    pub address: Address,
    pub session: HandleSession,
    /// Our own availability and activity, as we set them.
    pub state: PresenceState,
    pub activity: Option<String>,
    pub conversations: BTreeMap<ConvKey, Conversation>,
    /// The open conversation.
    pub open: Option<ConvKey>,
    /// The highlighted row, by what it shows (not by position: the list re-sorts as messages arrive).
    pub selected: Option<RowKey>,
    /// Where the highlighted row was last seen, to land near it when what it showed goes away.
    pub selected_hint: usize,
    /// Each conversation's unsent draft; the input line shows the open conversation's.
    pub drafts: BTreeMap<ConvKey, TextInput>,
    /// Conversations that ring no bell, send no notification and do not count in the title.
    pub muted: BTreeSet<ConvKey>,
    /// Groups put away from the list; a new message brings one back.
    pub archived: BTreeSet<RoomId>,
    /// Who left or was removed from each group, as its log told us: never added back without being asked.
    pub former: BTreeMap<RoomId, BTreeSet<Address>>,
}

impl HandleView {
    pub fn new(address: Address) -> Self {
        Self {
            address,
            session: HandleSession::default(),
            state: PresenceState::Online,
            activity: None,
            conversations: BTreeMap::new(),
            open: None,
            selected: None,
            selected_hint: 0,
            drafts: BTreeMap::new(),
            muted: BTreeSet::new(),
            archived: BTreeSet::new(),
            former: BTreeMap::new(),
        }
    }

    pub fn unread(&self) -> usize {
        self.conversations.values().map(|c| c.unread).sum()
    }

    pub fn entry(&self, peer: &Address) -> Option<&FriendEntry> {
        self.session.friends.entries.iter().find(|e| &e.address == peer)
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
        let Some(g) = self.session.groups.get(id).or_else(|| self.session.left_groups.get(id)) else {
            return "a group".to_owned();
        };
        if let Some(title) = &g.title {
            return title.clone();
        }
        let others: Vec<String> =
            g.members.iter().filter(|m| m.address != self.address).map(|m| self.name_of(&m.address)).collect();
        if others.is_empty() { "just you".to_owned() } else { others.join(", ") }
    }

    /// Whether a room (running or ended) is a huddle.
    pub fn is_huddle(&self, id: &RoomId) -> bool {
        self.session
            .groups
            .get(id)
            .or_else(|| self.session.left_groups.get(id))
            .is_some_and(|g| g.kind == RoomKind::Huddle)
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
            .session
            .friends
            .requests_in
            .iter()
            .map(|r| Row::RequestIn(r.clone()))
            .chain(self.session.group_invites.iter().map(|i| Row::GroupInvite(i.clone())))
            .chain(self.session.friends.requests_out.iter().map(|r| Row::RequestOut(r.clone())))
            .collect();
        if !requests.is_empty() {
            rows.push(Row::Header(Section::Requests, requests.len()));
            rows.extend(requests);
        }
        let is_huddle = |g: &RoomInfo| g.kind == RoomKind::Huddle;
        let mut huddles: Vec<&RoomInfo> = self.session.groups.values().filter(|g| is_huddle(g)).collect();
        if !huddles.is_empty() {
            // The one ending soonest first: that is where the clock matters.
            huddles.sort_by_key(|g| (g.huddle.as_ref().and_then(|h| h.ends_at).unwrap_or(Millis::MAX), g.id.clone()));
            rows.push(Row::Header(Section::Huddles, huddles.len()));
            rows.extend(huddles.into_iter().map(|g| Row::Group(g.id.clone())));
        }
        let mut archived: Vec<&RoomId> = self.session.groups.keys().filter(|id| self.archived.contains(*id)).collect();
        let plain_groups = self.session.groups.values().filter(|g| !is_huddle(g)).count();
        if plain_groups > archived.len() {
            let mut groups: Vec<(&RoomId, Millis)> = self
                .session
                .groups
                .iter()
                .filter(|(id, g)| !self.archived.contains(*id) && !is_huddle(g))
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
        let mut sorted: Vec<&FriendEntry> = self.session.friends.entries.iter().collect();
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
        if !archived.is_empty() {
            archived.sort_by_cached_key(|id| self.group_name(id));
            rows.push(Row::Header(Section::Archived, archived.len()));
            rows.extend(archived.into_iter().map(|id| Row::Group(id.clone())));
        }
        let mut past: Vec<&RoomInfo> = self.session.left_groups.values().filter(|g| is_huddle(g)).collect();
        if !past.is_empty() {
            past.sort_by_key(|g| std::cmp::Reverse(g.created_at));
            past.truncate(PAST_HUDDLES_LISTED);
            rows.push(Row::Header(Section::PastHuddles, past.len()));
            rows.extend(past.into_iter().map(|g| Row::Group(g.id.clone())));
        }
        rows
    }

    /// The conversations Alt-1…9 go to, in list order: groups, then friends (archived groups not included).
    pub fn numbered(&self) -> Vec<ConvKey> {
        self.rows()
            .into_iter()
            .filter_map(|r| match r {
                Row::Group(id) if !self.archived.contains(&id) => Some(ConvKey::Room(id)),
                Row::Friend(a) => Some(ConvKey::Direct(a)),
                _ => None,
            })
            .take(9)
            .collect()
    }
}

/// Ended huddles listed under "Past huddles" (newest first); older ones' logs stay until the client quits.
pub const PAST_HUDDLES_LISTED: usize = 5;

/// The peer's handle without the relay part when it is on our relay's name space (for display).
pub fn short(address: &Address) -> String {
    address.handle.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Requests,
    /// Huddles running now, with their countdowns.
    Huddles,
    Groups,
    Online,
    Offline,
    /// Groups put away with Alt-w; Enter on one brings it back.
    Archived,
    /// Huddles that ended this session: their logs stay readable.
    PastHuddles,
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

    /// The conversation a row opens, if it is one.
    pub fn conv_key(&self) -> Option<ConvKey> {
        match self {
            Row::Group(id) => Some(ConvKey::Room(id.clone())),
            Row::Friend(a) => Some(ConvKey::Direct(a.clone())),
            _ => None,
        }
    }

    /// What the row shows, to find it again after the list re-sorts.
    pub fn key(&self) -> Option<RowKey> {
        Some(match self {
            Row::Header(..) => return None,
            Row::RequestIn(r) => RowKey::RequestIn(r.address.clone()),
            Row::RequestOut(r) => RowKey::RequestOut(r.address.clone()),
            Row::GroupInvite(i) => RowKey::GroupInvite(i.room.clone()),
            Row::Group(id) => RowKey::Group(id.clone()),
            Row::Friend(a) => RowKey::Friend(a.clone()),
        })
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

/// The identity of a selectable row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKey {
    RequestIn(Address),
    RequestOut(Address),
    GroupInvite(RoomId),
    Group(RoomId),
    Friend(Address),
}

/// A modal dialog the person opened (a question that arrives on its own waits in [`Model::questions`] until they
/// open it). Dialogs wait in a queue; the first one is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// A question with its choices, each carrying what it does: friend requests, the deletion steps, blocking,
    /// leaving, invitations, promotion, quitting with unsent messages.
    Confirm(Box<Confirm>),
    /// Add a friend: handle and optional greeting.
    AddFriend { field: usize, handle: TextInput, greeting: TextInput, error: Option<String> },
    /// Nickname and private note for an entry.
    EditEntry { friend: Address, field: usize, nickname: TextInput, note: TextInput },
    /// Availability and activity.
    SetStatus { field: usize, state: usize, activity: TextInput },
    /// Pick the active handle.
    SwitchHandle { selected: usize },
    /// Start a group: members (names separated by spaces or commas) and an optional title.
    NewGroup { field: usize, members: TextInput, title: TextInput, error: Option<String> },
    /// Who has received and read one of our messages (←/→ steps through them).
    Receipts { key: ConvKey, message_id: MessageId },
    /// Your display name and bio, as friends see them.
    Profile { field: usize, display_name: TextInput, bio: TextInput },
    /// Change the account's password: the current one, the new one twice (masked).
    Password { field: usize, old: TextInput, new: TextInput, repeat: TextInput, error: Option<String> },
    /// The account's sessions (devices), to log one out.
    Sessions { sessions: Vec<SessionInfo>, selected: usize },
    /// The relay's topics (`/topics`): Enter asks to subscribe or leave, or, on a topic of ours, opens the publish
    /// form.
    Topics { topics: Vec<TopicInfo>, selected: usize },
    /// An issue of `topic` to publish: title and body.
    Publish { topic: Box<TopicInfo>, field: usize, title: TextInput, body: TextInput, error: Option<String> },
}

/// A question and its answers. Each answer carries the [`Intent`] it performs (none: leave things as they are);
/// the highlighted answer starts on one that changes nothing, so Enter alone never says yes.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    /// Words of the other person shown under the question (a greeting, the message that started a group).
    pub quote: Option<String>,
    pub choices: Vec<Choice>,
    pub selected: usize,
    /// The question this answers, if it came on its own: answered, it leaves the list of questions.
    pub question: Option<QuestionAbout>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub label: String,
    /// What this answer does; none: leave things as they are.
    pub intent: Option<Intent>,
    /// This answer puts the question off: it stays among the questions.
    pub later: bool,
}

/// A question that arrived on its own. It never takes the keyboard: the status bar counts the questions waiting,
/// and the person opens them when they choose (Alt-q, or Enter on its row).
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The handle it was asked of.
    pub acting: Handle,
    pub at: Millis,
    pub about: QuestionAbout,
}

/// What a question is about; equal values are the same question (asked once).
#[derive(Debug, Clone, PartialEq)]
pub enum QuestionAbout {
    /// A friend request.
    FriendRequest { from: Address, greeting: Option<String> },
    /// An invitation to a group that asked first.
    GroupInvite { invite: PendingInvite },
    /// `from` deleted us and asks us to delete them too.
    DeletionRequest { from: Address },
    /// `friend` kept us on their list after we asked: ask again?
    AskAgain { friend: Address },
    /// `message` came from a third person while we were talking with `with` (promotion setting `ask`).
    Promote { with: Address, message: Message },
    /// `message` came from someone outside the open group (setting `ask`, or they had left it).
    AddToGroup { group: RoomId, message: Message },
    /// Our message `body` to `to` made `to` start a group: share it there?
    ShareOpening { room: RoomId, to: Address, body: String },
}

impl Dialog {
    pub const STATES: [PresenceState; 4] =
        [PresenceState::Online, PresenceState::Away, PresenceState::Busy, PresenceState::Invisible];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A sentence for the person: shown in the status bar until the next one (or a timeout), and kept in the notices
/// view (Alt-n) to be read again.
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
    /// Deleting `friend`, and what to do once deleted.
    Delete {
        acting: Handle,
        friend: Address,
        then: super::intent::AfterDelete,
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
        /// The page was asked for before this message (`None`: the newest page).
        before: Option<MessageId>,
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
    /// The account's sessions, to show.
    Sessions,
    Password,
    Profile,
    Revoke,
    Other(&'static str),
    /// A topic, publishing or huddle-settings request.
    Huddle(super::huddles::HuddleAsk),
}

/// In-conversation search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub query: TextInput,
    /// Editing the query (true) or stepping through matches.
    pub editing: bool,
    /// Waiting for an older page of history to look further back in.
    pub looking_back: bool,
}

/// What the relay and the network worker told us, account-wide. Written only where network events are applied
/// (`events.rs`), like each handle's [`HandleSession`].
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub relay: Option<RelayName>,
    pub registration: RegistrationPolicy,
    pub conn: ConnState,
    /// Why this client last dropped the relay, when it was for misbehaving; gone once online again.
    pub misbehaved: Option<String>,
}

impl Default for Session {
    fn default() -> Self {
        Self { relay: None, registration: RegistrationPolicy::Open, conn: ConnState::Idle, misbehaved: None }
    }
}

/// The whole client state: what the relay told us ([`Session`], and each handle's [`HandleSession`]) and what this
/// client shows and keeps (everything else).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub screen: Screen,
    /// `ws://…` or `wss://…`, or the personal relay's address.
    pub relay_url: String,
    /// What the relay and the connection told us.
    pub session: Session,
    pub handles: Vec<HandleView>,
    pub active: usize,
    pub focus: Focus,
    pub dialogs: VecDeque<Dialog>,
    /// The status bar's sentence.
    pub notice: Option<Notice>,
    /// Every notice of this session, oldest first, at most [`NOTICES_KEPT`].
    pub notices: VecDeque<Notice>,
    /// The notices view is open, scrolled this many lines up from the newest.
    pub notices_view: Option<usize>,
    /// Questions that arrived on their own, oldest first, waiting to be opened.
    pub questions: Vec<Question>,
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
    /// Show times with seconds (`[ui] timestamps = "%H:%M:%S"`).
    pub timestamps_with_seconds: bool,
    pub quit: bool,
    /// Who is typing to which of our handles, and when we last heard it (shown for [`TYPING_SHOWN_MS`]).
    pub typing: Vec<Typing>,
    /// Where and when we last told the relay we are typing (sent at most every [`TYPING_RESEND_MS`]).
    pub typing_sent: Option<(ConvKey, Millis)>,
    /// Settings of the `[chat]` section.
    pub chat: ChatPrefs,
    /// Settings of the `[notify]` section.
    pub notify: super::notify::NotifyPrefs,
    /// Show the member panel beside an open group.
    pub members_panel: bool,
    /// The terminal's size in cells (columns, rows), as last reported.
    pub size: (u16, u16),
    /// Rows of the conversation pane at the last frame (0 before the first).
    pub log_height: usize,
    /// Mutes and archives, as last saved (and restored to each handle when it appears).
    pub kept: super::kept::Kept,
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

/// Notices kept for the notices view; older ones are dropped.
pub const NOTICES_KEPT: usize = 500;

/// How long a typing indicator stays shown without news.
pub const TYPING_SHOWN_MS: Millis = 6_000;
/// How often we tell a friend we are still typing.
pub const TYPING_RESEND_MS: Millis = 3_000;

impl Model {
    pub fn new(screen: Screen, relay_url: String, now: Millis) -> Self {
        Self {
            screen,
            relay_url,
            session: Session::default(),
            handles: Vec::new(),
            active: 0,
            focus: Focus::List,
            dialogs: VecDeque::new(),
            notice: None,
            notices: VecDeque::new(),
            notices_view: None,
            questions: Vec::new(),
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
            timestamps_with_seconds: false,
            quit: false,
            typing: Vec::new(),
            typing_sent: None,
            chat: ChatPrefs::default(),
            notify: super::notify::NotifyPrefs::default(),
            members_panel: true,
            size: (80, 24),
            log_height: 0,
            kept: super::kept::Kept::default(),
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

    /// Rows PgUp/PgDn move: the conversation pane's height, less a line of overlap.
    /// Rows a page key moves: the log pane's height as last drawn, less one row kept for context.
    pub fn page_rows(&self) -> usize {
        let pane = if self.log_height > 0 { self.log_height } else { usize::from(self.size.1).saturating_sub(7) };
        pane.saturating_sub(1).max(1)
    }

    /// Unread messages on handles other than the active one.
    pub fn unread_elsewhere(&self) -> usize {
        self.handles.iter().enumerate().filter(|(i, _)| *i != self.active).map(|(_, h)| h.unread()).sum()
    }
}
