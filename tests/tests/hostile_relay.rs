//! The real `huddle` binary in a pseudo-terminal against a hostile relay: a bare WebSocket server that answers the
//! client's `hello` and login as a relay would, then misbehaves (issue 12, "the client trusts its relay too much"):
//!
//! - one 64 MiB text message: the client refuses it unread, says so in a sentence, stays small and responsive, and
//!   quits at once on Ctrl-C;
//! - text fields longer than the protocol allows, in frames the client accepts: a message body of 4 MiB and one just
//!   over the limit are shown cut, with a visible mark, and the rest never reaches the screen;
//! - 20,000 frames that are not JSON: the log stays a few lines long, the client drops the relay as misbehaving, and
//!   it quits at once on its quit key;
//! - 200,000 messages from a relay that never reads what the client sends: keys keep working and Ctrl-C quits (the
//!   client used to wait for its network worker, stuck writing to that relay, and stop reading the keyboard);
//! - 200,000 presence changes over a friend list of 20,000: Ctrl-C quits at once (the client used to apply 512 of
//!   them, each re-sorting the list, before reading a key).
//!
//! Waits are generous deadlines, never measurements of speed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huddle_shared::client::{History, Login, LoginToken, Register};
use huddle_shared::codec::{decode_client, encode_server};
use huddle_shared::model::{FriendEntry, FriendList, ItemBody, Message, Presence, Profile, ShownState, StreamItem};
use huddle_shared::{Address, ClientFrame, MessageId, RoomId, ServerFrame};
use huddle_tests::pty::Tui;
use huddle_tests::scripted;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::Utf8Bytes;

const COLS: u16 = 120;
const ROWS: u16 = 36;
const RELAY: &str = "localhost";
/// Deadline for quitting: the client should be gone at once; this only keeps a slow machine from failing the test.
const QUIT_WITHIN: Duration = Duration::from_secs(5);

fn address(handle: &str) -> Address {
    Address::parse(&format!("{handle}@{RELAY}")).unwrap()
}

fn room() -> RoomId {
    RoomId::parse(&format!("d.alice.bob@{RELAY}")).unwrap()
}

/// What the relay sends once the client is logged in, on every connection.
#[derive(Clone)]
struct Misbehaviour {
    /// Sent at once.
    prelude: Arc<Vec<Utf8Bytes>>,
    /// Sent once the client opens a conversation (asks for its history), or at once if `on_open` is false.
    frames: Arc<Vec<Utf8Bytes>>,
    on_open: bool,
    /// Once logged in, the relay never reads again (the client's writes back up).
    deaf: bool,
}

impl Misbehaviour {
    /// `frames` at once.
    fn now(frames: Vec<String>) -> Self {
        Self { prelude: Arc::default(), frames: shared(frames), on_open: false, deaf: false }
    }

    /// bob as a friend at once, and `frames` once the person opens the conversation with him.
    fn in_open_conversation(frames: Vec<String>) -> Self {
        Self { prelude: shared(vec![friends(Profile::default())]), frames: shared(frames), on_open: true, deaf: false }
    }
}

fn shared(frames: Vec<String>) -> Arc<Vec<Utf8Bytes>> {
    Arc::new(frames.into_iter().map(Utf8Bytes::from).collect())
}

/// A relay that plays along until the client is logged in as alice, then sends its misbehaviour.
struct HostileRelay {
    addr: SocketAddr,
    /// Connections accepted so far (the client reconnects after being dropped).
    connections: Arc<AtomicUsize>,
}

impl HostileRelay {
    async fn start(misbehaviour: Misbehaviour) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        if misbehaviour.deaf {
            // A small window, so that the client's writes back up after a few KiB rather than a few MiB.
            socket.set_recv_buffer_size(4096).unwrap();
        }
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(tcp, misbehaviour.clone()));
            }
        });
        Self { addr, connections }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve(tcp: TcpStream, misbehaviour: Misbehaviour) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { return };
    // Plays along: `hello`, then any way of logging in.
    loop {
        let Some(Ok(message)) = ws.next().await else { return };
        let WsMessage::Text(text) = message else { continue };
        let answer = match decode_client(text.as_str()) {
            Ok(ClientFrame::Hello(_)) => scripted::hello(),
            Ok(
                ClientFrame::Login(Login { id, .. })
                | ClientFrame::LoginToken(LoginToken { id, .. })
                | ClientFrame::Register(Register { id, .. }),
            ) => scripted::session(id, "a-token-of-the-hostile-relay"),
            _ => continue,
        };
        let logged_in = matches!(answer, ServerFrame::Session { .. });
        if send(&mut ws, WsMessage::text(encode_server(&answer))).await.is_err() {
            return;
        }
        if logged_in {
            break;
        }
    }
    if feed(&mut ws, &misbehaviour.prelude).await.is_err() {
        return;
    }
    if misbehaviour.on_open {
        // Waits for the conversation to open, and answers its history request with an empty page.
        loop {
            let Some(Ok(message)) = ws.next().await else { return };
            let WsMessage::Text(text) = message else { continue };
            if let Ok(ClientFrame::History(History { id, .. })) = decode_client(text.as_str()) {
                let page =
                    ServerFrame::History { id, room: room(), messages: Vec::new(), more: false, receipts: Vec::new() };
                if send(&mut ws, WsMessage::text(encode_server(&page))).await.is_err() {
                    return;
                }
                break;
            }
        }
    }
    if feed(&mut ws, &misbehaviour.frames).await.is_err() {
        return;
    }
    if misbehaviour.deaf {
        tokio::time::sleep(Duration::from_secs(600)).await;
        return;
    }
    // Then it only listens, until the client goes.
    while let Some(Ok(_)) = ws.next().await {}
}

async fn feed(ws: &mut WebSocketStream<TcpStream>, frames: &[Utf8Bytes]) -> Result<(), ()> {
    for frame in frames {
        ws.feed(WsMessage::Text(frame.clone())).await.map_err(|_| ())?;
    }
    ws.flush().await.map_err(|_| ())
}

async fn send(ws: &mut WebSocketStream<TcpStream>, message: WsMessage) -> Result<(), ()> {
    ws.send(message).await.map_err(|_| ())
}

/// Starts the client on `relay` and logs in as alice (the hostile relay takes any password).
fn start_client(home: &Path, relay: &HostileRelay) -> Tui {
    let mut tui = Tui::start("alice", home, &["--relay", &relay.url()], COLS, ROWS);
    tui.wait_for("Log in");
    tui.type_text("alice");
    tui.tab();
    tui.type_text("any password at all");
    tui.enter();
    tui
}

/// The client's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// `key`, then the process must end by itself within [`QUIT_WITHIN`].
fn quits_on(tui: &mut Tui, key: &str) {
    tui.keys_now(key);
    assert!(tui.wait_exit_within(QUIT_WITHIN), "the client did not quit within {QUIT_WITHIN:?}:\n{}", tui.screen());
}

/// A `deliver` of a message from bob to alice whose body is `body`.
fn deliver(seq: u64, body: String) -> String {
    deliver_with(seq, body, false)
}

/// [`deliver`], asking for receipts if `receipts`.
fn deliver_with(seq: u64, body: String, receipts: bool) -> String {
    let message = Message {
        id: MessageId::new(format!("00000000-0000-4000-8000-{seq:012}")),
        room: room(),
        from: address("bob"),
        to: Some(address("alice")),
        body,
        sent_at: 1_700_000_000_000,
        client_msg_id: format!("bob-{seq}"),
        receipts,
    };
    let item = StreamItem { seq, at: 1_700_000_000_000, body: ItemBody::Message { message } };
    encode_server(&ServerFrame::Deliver { acting: address("alice"), item })
}

/// alice's friend list: bob, with `profile`.
fn friends(profile: Profile) -> String {
    let entry = friend("bob", profile);
    let list = FriendList { entries: vec![entry], ..FriendList::default() };
    encode_server(&ServerFrame::Friends { id: None, acting: address("alice"), list })
}

/// bob's profile, with a display name and bio far longer than the protocol allows.
fn long_profile() -> Profile {
    Profile {
        display_name: Some(format!("Bob{}NAME-END", "b".repeat(100_000))),
        bio: Some(format!("{}BIO-END", "bio ".repeat(100_000))),
    }
}

/// alice's friend list: bob and `n` others.
fn many_friends(n: usize) -> String {
    let mut entries = vec![friend("bob", Profile::default())];
    entries.extend((0..n).map(|i| friend(&format!("friend{i}"), Profile::default())));
    let list = FriendList { entries, ..FriendList::default() };
    encode_server(&ServerFrame::Friends { id: None, acting: address("alice"), list })
}

fn friend(handle: &str, profile: Profile) -> FriendEntry {
    FriendEntry {
        address: address(handle),
        room: room(),
        nickname: None,
        note: None,
        since: 1_700_000_000_000,
        removed_you: false,
        presence: Presence { state: ShownState::Online, activity: None, location: None, last_seen: None },
        profile,
    }
}

/// Logs in, opens the conversation with bob (which sets the misbehaviour off), and returns the client.
fn open_conversation(home: &Path, relay: &HostileRelay) -> Tui {
    let mut tui = start_client(home, relay);
    tui.wait_for("Online (1)");
    tui.keys("/msg bob");
    tui.enter();
    tui.wait_for("bob — bob@localhost");
    tui
}

/// Opens the notices view and returns the screen once it shows `text`.
fn notices_show(tui: &mut Tui, text: &str) -> String {
    tui.alt('l');
    tui.wait_for("Notices (");
    let screen = tui.wait_for(text);
    tui.esc();
    screen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_message_is_refused_unread_and_the_client_stays_small_and_responsive() {
    // A `deliver` whose body fills the message to exactly 64 MiB: the most the client used to accept.
    let total = 64 * 1024 * 1024;
    let empty = deliver(1, String::new());
    let huge = deliver(1, "A".repeat(total - empty.len()));
    assert_eq!(huge.len(), total);
    let relay = HostileRelay::start(Misbehaviour::in_open_conversation(vec![huge])).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tui = open_conversation(&home, &relay);
        tui.wait_for("the relay misbehaved");
        let pid = tui.pid().unwrap();
        let rss = rss_kib(pid);
        eprintln!("RSS after refusing a 64 MiB message: {rss} KiB");
        assert!(rss < 200 * 1024, "the client holds {rss} KiB after refusing a 64 MiB message");
        // A key still works: the notices view shows the whole sentence.
        let screen = notices_show(&mut tui, "tell its admin");
        assert!(screen.contains("The relay sent a message of 67,108,864 bytes"), "{screen}");
        assert!(screen.contains("It may be misbehaving"), "{screen}");
        // It reconnects after a pause, as after any failure, and is dropped again.
        tui.wait_until("a reconnection", |_| relay.connections() >= 2);
        assert!(rss_kib(pid) < 200 * 1024, "still small after being sent it twice");
        quits_on(&mut tui, "\x03");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_longer_than_the_protocol_allows_is_shown_cut_with_a_mark() {
    let limit = huddle_shared::limits::MAX_BODY_BYTES;
    let big = format!("{}BIG-END", "A".repeat(4 * 1024 * 1024));
    let just_over = format!("{}SMALL-END", "a".repeat(limit - 4));
    assert!(just_over.len() > limit && just_over.len() < limit + 16);
    let (big_len, small_len) = (big.len(), just_over.len());
    let frames = vec![friends(long_profile()), deliver(1, big), deliver(2, just_over)];
    let relay = HostileRelay::start(Misbehaviour::in_open_conversation(frames)).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tui = open_conversation(&home, &relay);
        // The newest message's end is at the bottom: cut, with the mark saying what came.
        let screen = tui.wait_for(&format!("the relay sent {} bytes", grouped(small_len)));
        assert!(screen.contains("Huddle cut this message here"), "{screen}");
        assert!(!screen.contains("SMALL-END"), "{screen}");
        // The profile (shown beside the conversation) never shows its over-long ends.
        assert!(!screen.contains("NAME-END") && !screen.contains("BIO-END"), "{screen}");
        // Up through it to the 4 MiB one, cut the same way.
        let big_mark = format!("the relay sent {} bytes", grouped(big_len));
        let mut screen = tui.screen();
        for _ in 0..20 {
            if screen.contains(&big_mark) {
                break;
            }
            tui.keys("\x1b[5~");
            screen = tui.screen();
        }
        assert!(screen.contains(&big_mark), "{screen}");
        assert!(!screen.contains("BIG-END"), "{screen}");
        quits_on(&mut tui, "\x03");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_undecodable_frames_writes_a_few_log_lines_and_drops_the_relay() {
    let garbage: Vec<String> = (0..20_000).map(|n| format!("not json {n} secret-{n}")).collect();
    let relay = HostileRelay::start(Misbehaviour::now(garbage)).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    let log = home.join("data").join("huddle.log");
    tokio::task::spawn_blocking(move || {
        let mut tui = start_client(&home, &relay);
        tui.wait_for("the relay misbehaved");
        let screen = notices_show(&mut tui, "tell its admin");
        assert!(screen.contains("that this client does not understand"), "{screen}");
        // `/quit`, typed while the relay floods again after the reconnection.
        tui.wait_until("a reconnection", |_| relay.connections() >= 2);
        tui.keys("/quit");
        quits_on(&mut tui, "\r");
    })
    .await
    .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    eprintln!("log after 2 × 20,000 undecodable frames: {} bytes:\n{text}", text.len());
    assert!(text.len() < 8 * 1024, "the log grew to {} bytes", text.len());
    assert!(!text.contains("secret-"), "no frame text in the log");
    assert!(text.contains("more frames this client does not understand"), "a summary counts the rest:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_floods_and_never_reads_does_not_take_the_keyboard() {
    // Each message asks for receipts: the open conversation reports it read, one frame for each.
    let flood: Vec<String> = (1..=200_000).map(|n| deliver_with(n, format!("flood {n}"), true)).collect();
    let mut misbehaviour = Misbehaviour::in_open_conversation(flood);
    misbehaviour.deaf = true;
    // bob's over-long bio (cut by the client now) made every frame slow to draw, so events waited in their queue
    // and their read reports filled the worker's command queue: the way the client used to stop for good.
    misbehaviour.prelude = shared(vec![friends(long_profile())]);
    let relay = HostileRelay::start(misbehaviour).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tui = open_conversation(&home, &relay);
        tui.wait_for("flood 1");
        // The client's writes back up until its network worker is stuck writing: the screen stops changing. Then a
        // key must still work.
        let mut last = tui.screen();
        let mut still = 0;
        for _ in 0..240 {
            std::thread::sleep(Duration::from_millis(500));
            let now = tui.screen();
            still = if now == last { still + 1 } else { 0 };
            last = now;
            if still >= 6 {
                break;
            }
        }
        assert!(still >= 6, "the flood never stopped:\n{last}");
        notices_show(&mut tui, "Notices (");
        quits_on(&mut tui, "\x03");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_costly_pushes_does_not_hold_up_the_keyboard() {
    const FRIENDS: usize = 20_000;
    let mut frames = vec![many_friends(FRIENDS)];
    frames.extend((0..200_000).map(|n| {
        let state = if n % 2 == 0 { ShownState::Away } else { ShownState::Online };
        let presence = Presence { state, activity: None, location: None, last_seen: None };
        let of = address(&format!("friend{}", n % FRIENDS));
        encode_server(&ServerFrame::Presence { acting: address("alice"), of, presence })
    }));
    let mut misbehaviour = Misbehaviour::in_open_conversation(frames);
    misbehaviour.on_open = false;
    let relay = HostileRelay::start(misbehaviour).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut tui = start_client(&home, &relay);
        tui.wait_for(&format!("Online ({})", FRIENDS + 1));
        std::thread::sleep(Duration::from_secs(2));
        quits_on(&mut tui, "\x03");
    })
    .await
    .unwrap();
}

/// `n` with a comma every three digits, as the client writes sizes.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
