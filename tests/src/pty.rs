//! Driving the real `huddle` binary in a pseudo-terminal, as a person at a keyboard would: keys go in, and the
//! screen is read back through a terminal emulator (vt100). Every wait has a deadline, so a test cannot hang.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, NativePtySystem, PtySize, PtySystem};

/// How long a screen may take to show what a test waits for.
pub const SCREEN_WAIT: Duration = Duration::from_secs(20);

/// The `huddle` binary next to the test executable (built by `cargo test --workspace`).
pub fn huddle_binary() -> PathBuf {
    if let Ok(path) = std::env::var("HUDDLE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test executable has a path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/..");
    let binary = dir.join("huddle");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test --workspace` (it builds the client) first",
        binary.display()
    );
    binary
}

/// What the client asked of the terminal besides drawing: bells rung and the window title set, as the terminal
/// emulator parsed them from the bytes written.
#[derive(Debug, Default)]
pub struct Signals {
    pub bells: usize,
    pub title: String,
}

impl vt100::Callbacks for Signals {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }

    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = String::from_utf8_lossy(title).into_owned();
    }
}

pub struct Tui {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser<Signals>>>,
    pub name: String,
}

impl Tui {
    /// Starts `huddle` with its own config and data directories under `home`, in a `cols`×`rows` terminal.
    pub fn start(name: &str, home: &Path, args: &[&str], cols: u16, rows: u16) -> Tui {
        Self::start_binary(&huddle_binary(), name, home, args, cols, rows)
    }

    /// [`Tui::start`] with a given `huddle` binary (the benchmark's, built in release).
    pub fn start_binary(binary: &Path, name: &str, home: &Path, args: &[&str], cols: u16, rows: u16) -> Tui {
        let pty = NativePtySystem::default()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(binary);
        cmd.args([
            "--config-dir",
            &home.join("config").to_string_lossy(),
            "--data-dir",
            &home.join("data").to_string_lossy(),
            "--no-keyring",
        ]);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env_remove("HUDDLE_CONFIG_DIR");
        cmd.env_remove("HUDDLE_DATA_DIR");
        let child = pty.slave.spawn_command(cmd).expect("huddle starts");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("a reader");
        let writer = pty.master.take_writer().expect("a writer");
        let size = |n: u16| std::num::NonZeroU16::new(n.max(1)).expect("not zero");
        let parser =
            Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(size(rows), size(cols), 0, Signals::default())));
        let feed = Arc::clone(&parser);
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut p) = feed.lock() {
                    p.process(&buf[..n]);
                }
            }
        });
        Tui { child, writer, parser, name: name.to_owned() }
    }

    /// The client's process id (for what it costs: CPU time, memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// The screen's text, one line per row.
    pub fn screen(&self) -> String {
        self.parser.lock().map(|p| p.screen().contents()).unwrap_or_default()
    }

    /// How many times the client rang the bell so far.
    pub fn bells(&self) -> usize {
        self.parser.lock().map(|p| p.callbacks().bells).unwrap_or_default()
    }

    /// The window title the client set last.
    pub fn title(&self) -> String {
        self.parser.lock().map(|p| p.callbacks().title.clone()).unwrap_or_default()
    }

    /// Waits until `ok` holds for the terminal's signals; panics with them if it does not.
    pub fn wait_signals(&self, what: &str, ok: impl Fn(usize, &str) -> bool) {
        let deadline = Instant::now() + SCREEN_WAIT;
        loop {
            let (bells, title) = (self.bells(), self.title());
            if ok(bells, &title) {
                return;
            }
            if Instant::now() > deadline {
                panic!("{}: timed out waiting for {what:?}; bells {bells}, title {title:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Logs in on the login form as `name` with its test password, and waits for the friend list.
    pub fn log_in(&mut self, name: &str) {
        self.wait_for("Log in");
        self.type_text(name);
        self.tab();
        self.type_text(&crate::password_for(name));
        self.enter();
        self.wait_for("Online (");
    }

    /// Waits until the screen shows `text`; panics with the screen if it does not.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }

    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_until_within(what, SCREEN_WAIT, ok)
    }

    /// [`Tui::wait_until`] for something that takes longer to come (a huddle's end), up to `limit`.
    pub fn wait_until_within(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("{}: timed out waiting for {what:?}; the screen was:\n{screen}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends keys without the pause after them (for timing what they cause).
    pub fn keys_now(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("the terminal takes input");
        self.writer.flush().expect("flush");
    }

    pub fn keys(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("the terminal takes input");
        self.writer.flush().expect("flush");
        // Give the client a moment to take each key as its own event.
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.keys(&c.to_string());
        }
    }

    pub fn enter(&mut self) {
        self.keys("\r");
    }

    pub fn tab(&mut self) {
        self.keys("\t");
    }

    pub fn esc(&mut self) {
        self.keys("\x1b");
        // A lone Esc is only told apart from an escape sequence after a pause.
        std::thread::sleep(Duration::from_millis(100));
    }

    pub fn down(&mut self) {
        self.keys("\x1b[B");
    }

    pub fn right(&mut self) {
        self.keys("\x1b[C");
    }

    pub fn left(&mut self) {
        self.keys("\x1b[D");
    }

    pub fn up(&mut self) {
        self.keys("\x1b[A");
    }

    pub fn shift_tab(&mut self) {
        self.keys("\x1b[Z");
    }

    pub fn ctrl(&mut self, c: char) {
        let code = (c.to_ascii_lowercase() as u8) & 0x1f;
        self.keys(&(code as char).to_string());
    }

    pub fn alt(&mut self, c: char) {
        self.keys(&format!("\x1b{c}"));
    }

    /// Waits for the process to end by itself (after quitting).
    pub fn wait_exit(&mut self) -> bool {
        self.wait_exit_within(SCREEN_WAIT)
    }

    /// [`Tui::wait_exit`] with a deadline of `limit`: whether it ended, successfully, by then.
    pub fn wait_exit_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
