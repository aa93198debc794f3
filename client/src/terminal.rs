//! Entering and leaving the terminal UI. The terminal is restored on every exit: normal return, error, and panic
//! (a panic hook leaves the alternate screen before the message is printed).

use std::io::{Stdout, Write, stdout};

use crate::app::notify::Desktop;

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    pub terminal: Tui,
}

fn restore() {
    let _ = disable_raw_mode();
    // The title Huddle set (with its unread count) should not outlive it.
    let _ = execute!(stdout(), crossterm::terminal::SetTitle(""));
    let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen);
    let _ = execute!(stdout(), crossterm::cursor::Show);
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        enable_raw_mode()?;
        if let Err(e) = execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(stdout())) {
            Ok(terminal) => Ok(Self { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Rings the terminal bell.
pub fn bell() {
    let mut out = stdout();
    let _ = out.write_all(b"\x07").and_then(|()| out.flush());
}

/// Sets the terminal (window or tab) title.
pub fn set_title(title: &str) {
    let _ = execute!(stdout(), crossterm::terminal::SetTitle(clean(title)));
}

/// A desktop notification by the escape sequence the person chose: terminals that know it show one, the others
/// ignore it.
pub fn desktop_notification(kind: Desktop, title: &str, body: &str) {
    let sequence = match kind {
        // D-Bus is the runtime's (it needs the async session bus); nothing goes to the terminal.
        Desktop::Off | Desktop::Dbus => return,
        // `;` separates the fields of OSC 777, so it cannot appear inside them.
        Desktop::Osc777 => {
            format!("\x1b]777;notify;{};{}\x1b\\", clean(title).replace(';', ","), clean(body).replace(';', ","))
        }
        Desktop::Osc9 => format!("\x1b]9;{}: {}\x1b\\", clean(title), clean(body)),
    };
    let mut out = stdout();
    let _ = out.write_all(sequence.as_bytes()).and_then(|()| out.flush());
}

/// Text for an escape sequence: no control characters (a peer's message must not end the sequence early or start
/// another one), on one line.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
