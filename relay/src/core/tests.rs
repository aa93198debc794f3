//! Core tests without sockets: a harness feeds inputs, runs password jobs inline with cheap parameters, and keeps
//! what each connection was sent.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use huddle_shared::client::*;
use huddle_shared::model::*;
use huddle_shared::{Address, ClientFrame, ErrorCode, Handle, MessageId, RelayName, RoomId, ServerFrame};

use super::*;
use crate::password::{self, PasswordParams};
use crate::storage::MemoryStorage;

pub(crate) fn test_config(registration: RegistrationPolicy) -> CoreConfig {
    CoreConfig {
        registration,
        limits: Limits {
            max_frame_bytes: 16384,
            max_body_bytes: 8192,
            max_handles: 4,
            max_sync_page: 500,
            max_history_page: 200,
            frames_per_second: 20,
            frame_burst: 60,
        },
        dummy_phc: password::hash("dummy password", PasswordParams::insecure_for_tests()).unwrap(),
        login_failures_per_ip: 20,
        login_failure_window_ms: 900_000,
        login_guard: crate::core::login_guard::GuardLimits {
            free_failures: 3,
            max_delay_ms: 300_000,
            per_key_per_minute: 10,
            forget_after_ms: 900_000,
        },
        registrations_per_ip_per_hour: 100,
        register_attempts_per_ip_per_hour: 1000,
        friend_requests_per_hour: 30,
        new_handles_per_account_per_day: 100,
        connections_per_account: 16,
        // Generous: the routing and message tests send in bursts; `budget_tests` sets its own.
        budgets: crate::core::budget::BudgetLimits {
            messages_per_second: 1000.0,
            message_burst: 100_000.0,
            bytes_per_second: 1e9,
            bytes_burst: 1e12,
            stored_bytes_per_day: u64::MAX,
        },
        sync_batch_bytes: 256 * 1024,
        huddles: crate::core::domain::windows::HuddleRules::default(),
    }
}

pub(crate) struct Harness {
    pub core: Core<MemoryStorage>,
    pub now: Millis,
    next_conn: u64,
    next_id: u64,
    pub inbox: HashMap<ConnId, Vec<ServerFrame>>,
    pub closed: HashMap<ConnId, ErrorCode>,
    /// What the core last said of each connection's login (`Effect::Authenticated`).
    pub authed: HashMap<ConnId, bool>,
    /// The handle each connection logged in with.
    pub handle_of: HashMap<ConnId, Handle>,
    /// The session token each connection that registered was given.
    tokens: HashMap<ConnId, String>,
    /// Feed fetches the core asked for and the test has not answered.
    pub fetches: Vec<crate::core::domain::feeds::FeedPoll>,
}

pub(crate) fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

pub(crate) fn addr(s: &str) -> Address {
    Address::parse(&format!("{s}@test.relay")).unwrap()
}

impl Harness {
    pub fn new() -> Self {
        Self::with_policy(RegistrationPolicy::Open)
    }

    pub fn with_policy(policy: RegistrationPolicy) -> Self {
        Self::with_config(test_config(policy))
    }

    pub fn with_config(config: CoreConfig) -> Self {
        let relay = RelayName::parse("test.relay").unwrap();
        Self {
            core: Core::new(MemoryStorage::default(), relay, config).unwrap(),
            now: 1_700_000_000_000,
            next_conn: 0,
            next_id: 100,
            inbox: HashMap::new(),
            closed: HashMap::new(),
            authed: HashMap::new(),
            handle_of: HashMap::new(),
            tokens: HashMap::new(),
            fetches: Vec::new(),
        }
    }

    pub fn input(&mut self, input: Input) {
        self.now += 1;
        let effects = self.core.handle(input, self.now).unwrap();
        self.perform(effects);
    }

    /// The relay acting on its own (see [`Core::act`]); the pushes land in the inboxes as any others.
    pub fn act<T>(
        &mut self,
        act: impl FnOnce(&mut World<MemoryStorage>, Millis) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        self.now += 1;
        let acted = self.core.act(self.now, act).unwrap();
        self.perform(acted.effects);
        acted.result
    }

    fn perform(&mut self, effects: Vec<Effect>) {
        let mut queue: Vec<Input> = Vec::new();
        let mut effects = effects;
        loop {
            for effect in std::mem::take(&mut effects) {
                match effect {
                    Effect::Send { conn, frame } => self.inbox.entry(conn).or_default().push(frame),
                    Effect::Close { conn, code } => {
                        self.closed.insert(conn, code);
                    }
                    Effect::Authenticated { conn, authed } => {
                        self.authed.insert(conn, authed);
                    }
                    Effect::HashPassword { job, password } => {
                        let phc = password::hash(&password, PasswordParams::insecure_for_tests()).ok();
                        queue.push(Input::JobDone { job, outcome: JobOutcome::Hashed(phc) });
                    }
                    Effect::VerifyPassword { job, password, phc } => {
                        let ok = password::verify(&password, &phc);
                        queue.push(Input::JobDone { job, outcome: JobOutcome::Verified(ok) });
                    }
                    // Feeds are fetched by the test, which answers with `Input::FeedFetched` when it likes.
                    Effect::FetchFeed(poll) => self.fetches.push(poll),
                }
            }
            // Password jobs finish as the shell's would: each is a later input.
            match queue.pop() {
                Some(input) => effects = self.core.handle(input, self.now).unwrap(),
                None => break,
            }
        }
        self.core.commit().unwrap();
    }

    pub fn connect(&mut self) -> ConnId {
        self.connect_from(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    pub fn connect_from(&mut self, ip: IpAddr) -> ConnId {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.input(Input::Connected { conn, ip });
        // As the reference client does: the current version, with typing indicators.
        let hello = Hello {
            max_version: Some(huddle_shared::version::CURRENT),
            features: vec![huddle_shared::version::FEATURE_TYPING.to_owned()],
            ..Hello::default()
        };
        self.input(Input::Frame { conn, frame: ClientFrame::Hello(hello) });
        assert!(matches!(self.take(conn).first(), Some(ServerFrame::Hello { .. })));
        conn
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn send(&mut self, conn: ConnId, frame: ClientFrame) {
        self.input(Input::Frame { conn, frame });
    }

    /// Everything `conn` was sent since the last take.
    pub fn take(&mut self, conn: ConnId) -> Vec<ServerFrame> {
        self.inbox.remove(&conn).unwrap_or_default()
    }

    pub fn clear(&mut self) {
        self.inbox.clear();
    }

    /// Sends a request and returns the answer to it (the frame with its id).
    pub fn request(&mut self, conn: ConnId, make: impl FnOnce(u64) -> ClientFrame) -> ServerFrame {
        let id = self.id();
        self.send(conn, make(id));
        let frames = self.inbox.get_mut(&conn).map(std::mem::take).unwrap_or_default();
        let (answer, rest): (Vec<_>, Vec<_>) = frames.into_iter().partition(|f| f.answer_id() == Some(id));
        self.inbox.insert(conn, rest);
        answer.into_iter().next().unwrap_or_else(|| panic!("no answer to request {id}"))
    }

    pub fn ok(&mut self, conn: ConnId, make: impl FnOnce(u64) -> ClientFrame) {
        let answer = self.request(conn, make);
        assert!(matches!(answer, ServerFrame::Ok { .. }), "expected ok, got {answer:?}");
    }

    pub fn err(&mut self, conn: ConnId, make: impl FnOnce(u64) -> ClientFrame) -> ErrorCode {
        match self.request(conn, make) {
            ServerFrame::Error { code, .. } => code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    pub fn register(&mut self, handle: &str) -> ConnId {
        let conn = self.connect();
        let answer = self.request(conn, |id| {
            ClientFrame::Register(Register {
                id,
                handle: h(handle),
                password: format!("{handle}-password"),
                invite: None,
                device: None,
            })
        });
        let ServerFrame::Session { token: Some(token), .. } = answer else { panic!("{answer:?}") };
        self.tokens.insert(conn, token);
        self.handle_of.insert(conn, h(handle));
        self.take(conn);
        conn
    }

    /// The session token `conn` was given when it registered.
    pub fn token_of(&self, conn: ConnId) -> String {
        self.tokens.get(&conn).cloned().unwrap_or_else(|| panic!("{conn:?} did not register"))
    }

    pub fn login(&mut self, handle: &str) -> ConnId {
        let conn = self.connect();
        let answer = self.request(conn, |id| {
            ClientFrame::Login(Login {
                id,
                handle: h(handle),
                password: format!("{handle}-password"),
                device: None,
                presence: None,
            })
        });
        assert!(matches!(answer, ServerFrame::Session { .. }), "{answer:?}");
        self.handle_of.insert(conn, h(handle));
        conn
    }

    /// The relay killed and started again on the same data: every connection is gone, and the core starts from what
    /// storage committed.
    pub fn restart(&mut self) {
        let store = self.core.storage().clone();
        let relay = RelayName::parse("test.relay").unwrap();
        self.core = Core::new(store, relay, test_config(RegistrationPolicy::Open)).unwrap();
        self.inbox.clear();
        self.handle_of.clear();
    }

    /// Moves the clock to `at` and lets every timer due by then fire.
    pub fn advance_to(&mut self, at: Millis) {
        while self.core.poll_deadline() <= at {
            self.now = self.now.max(self.core.poll_deadline());
            let effects = self.core.handle(Input::Deadline, self.now).unwrap();
            self.perform(effects);
        }
        self.now = at;
    }

    pub fn disconnect(&mut self, conn: ConnId) {
        self.input(Input::Disconnected { conn });
    }

    /// `from` asks `to`, and `to` answers.
    pub fn befriend(&mut self, from: ConnId, to: ConnId, answer: RequestAnswer) {
        let to_addr = self.core.state().address(&self.handle_of[&to]);
        let from_addr = self.core.state().address(&self.handle_of[&from]);
        self.ok(from, |id| ClientFrame::FriendRequest(FriendRequest { id, acting: None, to: to_addr, greeting: None }));
        self.ok(to, |id| ClientFrame::AnswerRequest(AnswerRequest { id, acting: None, from: from_addr, answer }));
        self.clear();
    }

    pub fn dm(&mut self, from: ConnId, to: &str, body: &str) -> ServerFrame {
        let cmid = format!("c{}", self.next_id);
        self.request(from, |id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: None,
                to: Some(addr(to)),
                body: body.to_owned(),
                client_msg_id: cmid,
                receipts: false,
            })
        })
    }

    pub fn last_friends(&mut self, conn: ConnId) -> FriendList {
        self.take(conn)
            .into_iter()
            .rev()
            .find_map(|f| match f {
                ServerFrame::Friends { list, .. } => Some(list),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no friends frame for {conn:?}"))
    }

    pub fn events(&mut self, conn: ConnId) -> Vec<Event> {
        self.take(conn)
            .into_iter()
            .filter_map(|f| match f {
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::Event { event }, .. }, .. } => Some(event),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&mut self, conn: ConnId) -> Vec<Message> {
        self.take(conn)
            .into_iter()
            .filter_map(|f| match f {
                ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } => {
                    Some(message)
                }
                _ => None,
            })
            .collect()
    }
}

fn entry<'a>(list: &'a FriendList, who: &str) -> Option<&'a FriendEntry> {
    list.entries.iter().find(|e| e.address == addr(who))
}

mod abuse_tests;
mod auth_tests;
mod deadline_tests;
mod friend_tests;
mod huddle_tests;
mod message_tests;
mod receipt_tests;
mod room_tests;
mod routing_property;
