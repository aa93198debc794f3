//! The event loop: terminal input, network events and a one-second tick become [`Msg`]s for `update`; the
//! [`Cmd`]s it returns are performed here (network commands to the worker, tokens to the keyring, starting the
//! personal relay). This is the only place that does I/O on behalf of the UI.

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyModifiers, MouseEventKind};
use futures_util::StreamExt;
use huddle_relay::RunningRelay;
use huddle_shared::model::PresenceState;

use crate::app::input::TextInput;
use crate::app::{self, Cmd, LoginForm, LoginMode, Model, Msg, Screen, WelcomeForm};
use crate::config::{ClientConfig, Paths, RelayChoice};
use crate::keymap::Keymap;

use crate::net::{self, Auth, WorkerConfig, WorkerHandle};
use crate::terminal::TerminalGuard;
use crate::token_store::TokenStore;
use crate::view::{self, Look};

/// Network events applied between two frames at most: enough that a sync draws rarely, few enough that a key
/// pressed during it waits for one batch only.
const NET_BATCH: usize = 512;
/// The longest a batch of network events keeps the keyboard waiting: a relay can make each event costly (presence
/// changes over a friend list of thousands, each re-sorting it), and then a batch is cut short by time rather than
/// by count.
const NET_BATCH_TIME: Duration = Duration::from_millis(50);

/// Everything the loop needs that is not the model.
pub struct Runtime {
    pub paths: Paths,
    pub config: ClientConfig,
    pub keymap: Keymap,
    pub look: Look,
    pub tokens: TokenStore,
    pub worker: Option<WorkerHandle>,
    pub personal: Option<RunningRelay>,
    /// The relay URL the worker talks to and the account name, for the token store.
    pub relay_url: String,
    pub account: Option<String>,
    /// Desktop notifications over D-Bus, when the person chose them.
    pub dbus: crate::desktop::DbusNotifier,
}

/// How the session starts.
pub enum Start {
    /// From the config: welcome screen, or straight to the relay it names.
    Configured,
    /// `huddle demo`: already logged in on the demo relay.
    Demo { url: String, account: String, token: String },
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn login_form(busy: bool, handle: &str) -> Screen {
    Screen::Login(LoginForm {
        mode: LoginMode::Login,
        field: if handle.is_empty() { 0 } else { 1 },
        handle: TextInput::with(handle),
        password: TextInput::default(),
        invite: TextInput::default(),
        error: None,
        busy,
    })
}

impl Runtime {
    fn spawn_worker(&mut self, url: &str, ca_file: Option<PathBuf>) {
        if let Some(old) = self.worker.take() {
            let _ = old.commands.try_send(net::Command::Shutdown);
        }
        self.relay_url = url.to_owned();
        self.worker = Some(net::spawn(WorkerConfig {
            url: url.to_owned(),
            ca_file,
            client: format!("huddle {}", env!("CARGO_PKG_VERSION")),
            device: Some(device_name()),
            presence: PresenceState::Online,
        }));
    }

    async fn start_personal(&mut self) -> anyhow::Result<String> {
        if self.personal.is_none() {
            let listen = self.config.personal_relay.listen;
            self.personal = Some(crate::embedded::start(listen, &self.paths.data_dir.join("relay")).await?);
        }
        Ok(self.personal.as_ref().map(|r| format!("ws://{}", r.addr)).unwrap_or_default())
    }

    /// Decides the first screen and, if a relay is configured, connects (with a stored token if there is one).
    pub async fn first_screen(&mut self, start: Start) -> anyhow::Result<Model> {
        let now = now_millis();
        if let Start::Demo { url, account, token } = start {
            self.spawn_worker(&url, None);
            self.account = Some(account.clone());
            self.send(net::Command::Authenticate(Auth::Token { token }));
            let mut model = Model::new(login_form(true, &account), url, now);
            self.apply_settings(&mut model);
            return Ok(model);
        }
        let choice = self.config.relay.clone();
        let screen = match choice {
            None => Screen::Welcome(WelcomeForm {
                choice: 0,
                field: 0,
                url: TextInput::with("wss://"),
                ca_file: TextInput::default(),
                error: None,
            }),
            Some(choice) => {
                let url = match choice {
                    RelayChoice::Personal => self.start_personal().await?,
                    RelayChoice::Remote { url } => url,
                };
                self.spawn_worker(&url, self.config.ca_file.clone());
                let account = self.config.account.clone().unwrap_or_default();
                let token = if account.is_empty() { None } else { self.tokens.get(&url, &account).ok().flatten() };
                match token {
                    Some(token) => {
                        self.account = Some(account.clone());
                        self.send(net::Command::Authenticate(Auth::Token { token }));
                        login_form(true, &account)
                    }
                    None => login_form(false, &account),
                }
            }
        };
        let mut model = Model::new(screen, self.relay_url.clone(), now);
        self.apply_settings(&mut model);
        if let Some(notice) = self.tokens.notice() {
            app::notify(&mut model, app::Level::Info, notice.to_owned());
        }
        Ok(model)
    }

    /// Where mutes and archives are kept between starts.
    fn kept_file(&self) -> PathBuf {
        self.paths.data_dir.join("conversations.toml")
    }

    /// The settings of `client.toml` that the model reads, and the kept mutes and archives.
    fn apply_settings(&self, model: &mut Model) {
        match std::fs::read_to_string(self.kept_file()) {
            Ok(text) => match toml::from_str(&text) {
                Ok(kept) => model.kept = kept,
                Err(e) => app::notify(
                    model,
                    app::Level::Error,
                    format!("Your muted and archived conversations could not be read ({e}); they start empty."),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => app::notify(model, app::Level::Error, format!("conversations.toml could not be read: {e}")),
        }
        model.show_presence_changes = self.config.ui.show_presence_changes;
        model.timestamps_with_seconds = self.config.ui.timestamps == crate::config::TimestampFormat::HourMinuteSecond;
        model.chat = self.config.chat;
        model.notify = self.config.notify;
    }

    /// Hands a command to the worker without waiting for it to be taken (see [`WorkerHandle::post`]).
    fn send(&mut self, command: net::Command) {
        if let Some(worker) = &mut self.worker {
            worker.post(command);
        }
    }

    /// Performs one side effect. Returns false to quit.
    async fn perform(&mut self, model: &mut Model, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Quit => return false,
            Cmd::Net(command) => {
                if let net::Command::Authenticate(Auth::Login { handle, .. } | Auth::Register { handle, .. }) = &command
                {
                    self.account = Some(handle.to_string());
                }
                self.send(command);
            }
            Cmd::UsePersonalRelay => match self.start_personal().await {
                Ok(url) => {
                    self.config.relay = Some(RelayChoice::Personal);
                    self.save_config(model);
                    self.spawn_worker(&url, None);
                    model.relay_url = url;
                    model.screen = login_form(false, "");
                    if let Screen::Login(form) = &mut model.screen {
                        form.mode = LoginMode::Register;
                    }
                }
                Err(e) => {
                    if let Screen::Welcome(form) = &mut model.screen {
                        form.error = Some(format!("{e:#}"));
                    }
                }
            },
            Cmd::UseRelay { url, ca_file } => {
                self.config.relay = Some(RelayChoice::Remote { url: url.clone() });
                self.config.ca_file = ca_file.clone().map(PathBuf::from);
                self.save_config(model);
                self.spawn_worker(&url, ca_file.map(PathBuf::from));
                model.relay_url = url;
                model.screen = login_form(false, "");
            }
            Cmd::SaveToken { account, token } => {
                self.account = Some(account.clone());
                if self.config.account.as_deref() != Some(account.as_str()) {
                    self.config.account = Some(account.clone());
                    self.save_config(model);
                }
                if let Err(e) = self.tokens.set(&self.relay_url, &account, &token) {
                    app::notify(model, app::Level::Error, format!("Your login could not be remembered: {e}"));
                }
            }
            Cmd::ForgetToken => {
                if let Some(account) = self.account.clone() {
                    let _ = self.tokens.delete(&self.relay_url, &account);
                }
            }
            Cmd::SaveKept(kept) => {
                let written = toml::to_string(&kept).map_err(|e| e.to_string()).and_then(|text| {
                    crate::config::write_atomically(&self.paths.data_dir, &self.kept_file(), text.as_bytes())
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = written {
                    app::notify(model, app::Level::Error, format!("Your muted conversations could not be saved: {e}"));
                }
            }
            // `update` performs intents itself, and the loop handles the terminal's commands.
            Cmd::Do(_) | Cmd::Bell | Cmd::Notify { .. } | Cmd::Redraw => {}
        }
        true
    }

    fn save_config(&self, model: &mut Model) {
        if let Err(e) = self.config.save(&self.paths) {
            app::notify(model, app::Level::Error, format!("Your settings could not be saved: {e}"));
        }
    }

    /// Carries out what `update` asked for; false once the client should stop.
    async fn run_cmds(&mut self, model: &mut Model, guard: &mut TerminalGuard, cmds: Vec<Cmd>) -> anyhow::Result<bool> {
        let mut keep_going = true;
        for cmd in cmds {
            match cmd {
                Cmd::Bell => crate::terminal::bell(),
                Cmd::Notify { title, body } if model.notify.desktop == app::notify::Desktop::Dbus => {
                    if let Some(problem) = self.dbus.notify(&title, &body).await {
                        app::notify(model, app::Level::Error, problem);
                    }
                }
                Cmd::Notify { title, body } => {
                    crate::terminal::desktop_notification(model.notify.desktop, &title, &body)
                }
                Cmd::Redraw => guard.terminal.clear()?,
                cmd => keep_going &= self.perform(model, cmd).await,
            }
        }
        Ok(keep_going)
    }

    /// Runs the UI until the person quits.
    pub async fn run(mut self, start: Start) -> anyhow::Result<()> {
        let mut model = self.first_screen(start).await?;
        let mut guard = TerminalGuard::enter()?;
        let mut input = EventStream::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut title = String::new();
        if let Ok(size) = guard.terminal.size() {
            app::update(&mut model, Msg::Resize(size.width, size.height), &self.keymap);
        }
        // Only a change redraws: every message but the clock's tick changes something; a tick only when what the
        // screen shows of the time does.
        let mut dirty = true;
        loop {
            if dirty {
                if model.notify.title {
                    let now = app::notify::title(&model);
                    if now != title {
                        crate::terminal::set_title(&now);
                        title = now;
                    }
                }
                let mut drawn = None;
                guard.terminal.draw(|frame| drawn = view::draw(frame, &model, &self.look))?;
                if let Some(drawn) = drawn {
                    let cmds = app::update(&mut model, Msg::Drawn(drawn), &self.keymap);
                    // What it asked for (an older page) shows at once ("Loading older messages…").
                    let asked = !cmds.is_empty();
                    if !self.run_cmds(&mut model, &mut guard, cmds).await? {
                        break;
                    }
                    if asked {
                        continue;
                    }
                }
            }
            // Commands that did not fit the worker's channel go as it makes room, without holding up the keys.
            let room = self.worker.as_ref().and_then(WorkerHandle::room);
            let msg = tokio::select! {
                event = input.next() => match event {
                    Some(Ok(TermEvent::Key(key))) => Msg::Key(key),
                    Some(Ok(TermEvent::Paste(text))) => Msg::Paste(text),
                    Some(Ok(TermEvent::Mouse(mouse))) => match mouse.kind {
                        MouseEventKind::ScrollUp => Msg::Key(KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE)),
                        MouseEventKind::ScrollDown => Msg::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)),
                        _ => continue,
                    },
                    Some(Ok(TermEvent::Resize(w, h))) => Msg::Resize(w, h),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
                event = next_event(&mut self.worker) => match event {
                    Some(event) => Msg::Net(event),
                    None => {
                        self.worker = None;
                        continue;
                    }
                },
                _ = tick.tick() => Msg::Tick(now_millis()),
                () = room_for(room) => {
                    if let Some(worker) = &mut self.worker {
                        worker.flush();
                    }
                    continue;
                }
            };
            let face = app::clock_face(&model);
            let tick = matches!(msg, Msg::Tick(_));
            let net = matches!(msg, Msg::Net(_));
            let cmds = app::update(&mut model, msg, &self.keymap);
            dirty = !tick || app::clock_face(&model) != face;
            let mut keep_going = self.run_cmds(&mut model, &mut guard, cmds).await?;
            // Network events already waiting are applied before the next frame, a bounded batch at a time: a sync
            // of thousands of items draws once per batch, not once per item, and keys are read between batches.
            if net {
                let started = std::time::Instant::now();
                for _ in 0..NET_BATCH {
                    if started.elapsed() >= NET_BATCH_TIME {
                        break;
                    }
                    let Some(event) = self.worker.as_mut().and_then(|w| w.events.try_recv().ok()) else { break };
                    let cmds = app::update(&mut model, Msg::Net(event), &self.keymap);
                    keep_going &= self.run_cmds(&mut model, &mut guard, cmds).await?;
                }
            }
            if !keep_going || model.quit {
                break;
            }
        }
        drop(guard);
        if let Some(worker) = self.worker.take() {
            // Not waited for: a worker stuck on a relay that does not read must not keep the person from quitting.
            // Without the command, the closed channel stops it all the same.
            let _ = worker.commands.try_send(net::Command::Shutdown);
        }
        if let Some(relay) = self.personal.take() {
            relay.stop().await?;
        }
        Ok(())
    }
}

/// Resolves when the worker's channel has room for a waiting command; never when nothing waits.
async fn room_for(room: Option<impl Future<Output = ()>>) {
    match room {
        Some(room) => room.await,
        None => std::future::pending().await,
    }
}

async fn next_event(worker: &mut Option<WorkerHandle>) -> Option<net::Event> {
    match worker {
        Some(w) => w.events.recv().await,
        None => std::future::pending().await,
    }
}

fn device_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| format!("huddle on {}", h.trim()))
        .unwrap_or_else(|| "huddle".to_owned())
}
