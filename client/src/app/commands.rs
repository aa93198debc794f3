//! Slash commands typed in the input line (`/add bob hi!`), and Tab completion of command names and handles.

use huddle_shared::model::PresenceState;

use super::huddles::HuddleCommand;

/// A parsed slash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashCommand {
    Add {
        handle: String,
        greeting: Option<String>,
    },
    Del {
        handle: String,
    },
    Block {
        handle: String,
    },
    Unblock {
        handle: String,
    },
    Status {
        state: Option<PresenceState>,
        activity: Option<String>,
    },
    /// Switch to a handle, or list them with no argument.
    Handle {
        handle: Option<String>,
    },
    /// Add a handle to the account.
    HandleAdd {
        handle: String,
    },
    Nick {
        handle: String,
        nickname: String,
    },
    Note {
        handle: String,
        note: String,
    },
    /// Open the conversation with a friend, and send `text` if given.
    Msg {
        handle: String,
        text: Option<String>,
    },
    /// In a one-to-one conversation: make it a group with NAME; in a group: invite NAME.
    Invite {
        handle: String,
    },
    /// Start a group with these friends.
    Group {
        handles: Vec<String>,
    },
    /// Leave the open group.
    Leave,
    /// Rename the open group (empty: back to the members' names).
    Rename {
        title: String,
    },
    /// Remove someone from the open group (owner only).
    Kick {
        handle: String,
    },
    /// Send the last N earlier lines of the conversation the open group grew out of.
    Share {
        count: usize,
    },
    /// Ask for delivery confirmation of one message.
    Confirm {
        text: String,
    },
    /// Your display name and bio.
    Profile,
    /// Change your password.
    Password,
    /// Your sessions (devices), to log one out.
    Sessions,
    /// Mute or unmute the open conversation.
    Mute,
    /// Close the open conversation (a group is put away under Archived).
    Close,
    /// Show every notice of this session.
    Notices,
    /// Open the oldest question waiting.
    Answer,
    Logout,
    Quit,
    Help,
    /// Topics, publishing and huddle settings.
    Huddle(super::huddles::HuddleCommand),
}

/// Every command name, for completion and the help screen.
pub const NAMES: &[&str] = &[
    "/msg",
    "/add",
    "/del",
    "/block",
    "/unblock",
    "/status",
    "/handle",
    "/nick",
    "/note",
    "/invite",
    "/group",
    "/leave",
    "/rename",
    "/kick",
    "/share",
    "/confirm",
    "/mute",
    "/close",
    "/notices",
    "/answer",
    "/profile",
    "/password",
    "/sessions",
    "/logout",
    "/quit",
    "/help",
    "/topics",
    "/newtopic",
    "/subscribe",
    "/unsubscribe",
    "/publish",
    "/webhook",
    "/schedule",
    "/feed",
    "/activity",
    "/place",
    "/follow",
    "/unfollow",
    "/sharepresence",
    "/huddles",
    "/notwith",
    "/with",
];

/// Commands whose first argument is a friend's handle.
const TAKES_HANDLE: &[&str] = &[
    "/msg",
    "/add",
    "/del",
    "/block",
    "/unblock",
    "/nick",
    "/note",
    "/invite",
    "/group",
    "/kick",
    "/follow",
    "/unfollow",
    "/notwith",
    "/with",
];

/// A duration as people write it ("30m", "1h", "90s"), for the huddle commands.
fn duration(word: &str) -> Option<std::time::Duration> {
    humantime::parse_duration(word).ok()
}

fn on_off(word: &str, usage: &str) -> Result<bool, String> {
    match word {
        "on" | "yes" => Ok(true),
        "off" | "no" => Ok(false),
        _ => Err(format!("Usage: {usage}")),
    }
}

fn state(word: &str) -> Option<PresenceState> {
    match word {
        "online" => Some(PresenceState::Online),
        "away" => Some(PresenceState::Away),
        "busy" => Some(PresenceState::Busy),
        "invisible" => Some(PresenceState::Invisible),
        _ => None,
    }
}

/// Parses a line starting with '/'. `Err` is a sentence for the status bar.
pub fn parse(line: &str) -> Result<SlashCommand, String> {
    let line = line.trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let (first, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let tail = tail.trim();
    let need = |usage: &str| -> Result<String, String> {
        if first.is_empty() { Err(format!("Usage: {usage}")) } else { Ok(first.to_owned()) }
    };
    let optional = |s: &str| if s.is_empty() { None } else { Some(s.to_owned()) };
    Ok(match name {
        "/add" => SlashCommand::Add { handle: need("/add NAME [greeting]")?, greeting: optional(tail) },
        "/del" | "/delete" => SlashCommand::Del { handle: need("/del NAME")? },
        "/block" => SlashCommand::Block { handle: need("/block NAME")? },
        "/unblock" => SlashCommand::Unblock { handle: need("/unblock NAME")? },
        "/status" => match state(first) {
            Some(s) => SlashCommand::Status { state: Some(s), activity: optional(tail) },
            // "/status playing chess": only the activity.
            None => SlashCommand::Status { state: None, activity: Some(rest.to_owned()) },
        },
        "/handle" if first == "add" => SlashCommand::HandleAdd {
            handle: if tail.is_empty() { return Err("Usage: /handle add NAME".to_owned()) } else { tail.to_owned() },
        },
        "/handle" => SlashCommand::Handle { handle: optional(first) },
        "/nick" => SlashCommand::Nick { handle: need("/nick NAME NICKNAME")?, nickname: tail.to_owned() },
        "/note" => SlashCommand::Note { handle: need("/note NAME TEXT")?, note: tail.to_owned() },
        "/msg" | "/open" | "/query" => SlashCommand::Msg { handle: need("/msg NAME [message]")?, text: optional(tail) },
        "/invite" => SlashCommand::Invite { handle: need("/invite NAME")? },
        "/group" => {
            let handles: Vec<String> = rest
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect();
            if handles.is_empty() {
                return Err("Usage: /group NAME [NAME…]".to_owned());
            }
            SlashCommand::Group { handles }
        }
        "/leave" | "/part" => SlashCommand::Leave,
        "/rename" | "/topic" => SlashCommand::Rename { title: rest.to_owned() },
        "/kick" | "/remove" => SlashCommand::Kick { handle: need("/kick NAME")? },
        "/share" => SlashCommand::Share {
            count: match first {
                "" => 5,
                n => n
                    .parse()
                    .map_err(|_| "Usage: /share [N] — N is how many earlier lines, e.g. /share 5".to_owned())?,
            },
        },
        "/confirm" if rest.is_empty() => {
            return Err("Usage: /confirm MESSAGE — sends it asking for delivery confirmation".to_owned());
        }
        "/confirm" => SlashCommand::Confirm { text: rest.to_owned() },
        "/profile" => SlashCommand::Profile,
        "/password" => SlashCommand::Password,
        "/sessions" | "/devices" => SlashCommand::Sessions,
        "/mute" | "/unmute" => SlashCommand::Mute,
        "/close" | "/wc" | "/archive" => SlashCommand::Close,
        "/notices" => SlashCommand::Notices,
        "/answer" => SlashCommand::Answer,
        "/logout" => SlashCommand::Logout,
        "/quit" | "/q" => SlashCommand::Quit,
        "/help" | "/?" => SlashCommand::Help,
        "/topics" => SlashCommand::Huddle(HuddleCommand::Topics),
        "/newtopic" => {
            let usage = "/newtopic ID [DURATION] TITLE — e.g. /newtopic rust-weekly 45m Rust Weekly";
            let topic = need(usage)?;
            let (maybe, title) = tail.split_once(char::is_whitespace).unwrap_or((tail, ""));
            let (duration, title) = match duration(maybe) {
                Some(d) => (Some(d), title.trim()),
                None => (None, tail),
            };
            if title.is_empty() {
                return Err(format!("Usage: {usage}"));
            }
            SlashCommand::Huddle(HuddleCommand::NewTopic { topic, duration, title: title.to_owned() })
        }
        "/subscribe" | "/sub" => {
            let usage = "/subscribe ID [DURATION] — e.g. /subscribe rust-weekly 20m";
            let topic = need(usage)?;
            let duration = match tail {
                "" => None,
                d => Some(duration(d).ok_or_else(|| format!("Usage: {usage}"))?),
            };
            SlashCommand::Huddle(HuddleCommand::Subscribe { topic, duration })
        }
        "/unsubscribe" | "/unsub" => {
            SlashCommand::Huddle(HuddleCommand::Unsubscribe { topic: need("/unsubscribe ID")? })
        }
        "/publish" => {
            let usage = "/publish ID TITLE [| BODY]";
            let topic = need(usage)?;
            let (title, body) = match tail.split_once('|') {
                Some((t, b)) => (t.trim(), optional(b.trim())),
                None => (tail, None),
            };
            if title.is_empty() {
                return Err(format!("Usage: {usage}"));
            }
            SlashCommand::Huddle(HuddleCommand::Publish { topic, title: title.to_owned(), body })
        }
        "/webhook" => SlashCommand::Huddle(HuddleCommand::Webhook { topic: need("/webhook ID")? }),
        "/schedule" => {
            let usage = "/schedule ID CRON [| TIME ZONE] — e.g. /schedule rust-weekly 0 18 * * FRI | Europe/Berlin; \
                         /schedule ID off";
            let topic = need(usage)?;
            let (schedule, zone) = match tail.split_once('|') {
                Some((s, z)) => (s.trim(), optional(z.trim())),
                None => (tail, None),
            };
            match schedule {
                "" => return Err(format!("Usage: {usage}")),
                "off" => SlashCommand::Huddle(HuddleCommand::Schedule { topic, schedule: None, zone: None }),
                s => SlashCommand::Huddle(HuddleCommand::Schedule { topic, schedule: Some(s.to_owned()), zone }),
            }
        }
        "/feed" => {
            let usage = "/feed ID URL (an RSS or Atom feed), or /feed ID off";
            let topic = need(usage)?;
            match tail {
                "" => return Err(format!("Usage: {usage}")),
                "off" => SlashCommand::Huddle(HuddleCommand::Feed { topic, url: None }),
                url => SlashCommand::Huddle(HuddleCommand::Feed { topic, url: Some(url.to_owned()) }),
            }
        }
        "/activity" => {
            let usage = "/activity KIND WHAT — e.g. /activity show Hamlet, Globe, Saturday";
            let kind = need(usage)?;
            if tail.is_empty() {
                return Err(format!("Usage: {usage}"));
            }
            SlashCommand::Huddle(HuddleCommand::Activity { kind, key: tail.to_owned() })
        }
        "/place" => {
            SlashCommand::Huddle(HuddleCommand::Place { geohash: need("/place GEOHASH — e.g. /place u33dc")? })
        }
        "/follow" => SlashCommand::Huddle(HuddleCommand::Follow { handle: need("/follow NAME")?, follow: true }),
        "/unfollow" => SlashCommand::Huddle(HuddleCommand::Follow { handle: need("/unfollow NAME")?, follow: false }),
        "/sharepresence" => {
            SlashCommand::Huddle(HuddleCommand::SharePresence { on: on_off(first, "/sharepresence on|off")? })
        }
        "/huddles" => SlashCommand::Huddle(HuddleCommand::Huddles { on: on_off(first, "/huddles on|off")? }),
        "/notwith" => SlashCommand::Huddle(HuddleCommand::NotWith { handle: need("/notwith NAME")?, apart: true }),
        "/with" => SlashCommand::Huddle(HuddleCommand::NotWith { handle: need("/with NAME")?, apart: false }),
        other => return Err(format!("There is no command {other}. Type /help to see them all.")),
    })
}

/// Completes the word before the end of `line`: a command name, or a handle from `handles` after a command that
/// takes one. Returns the new line, or `None` if nothing (or nothing unambiguous) completes.
pub fn complete(line: &str, handles: &[String]) -> Option<String> {
    if !line.starts_with('/') {
        return complete_name(line, handles);
    }
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        [partial] => {
            let matches: Vec<&&str> = NAMES.iter().filter(|n| n.starts_with(partial)).collect();
            match matches.as_slice() {
                [one] => Some(format!("{one} ")),
                many if !many.is_empty() => {
                    let prefix = common_prefix(many.iter().map(|s| **s));
                    (prefix.len() > partial.len()).then_some(prefix)
                }
                _ => None,
            }
        }
        [command, partial] if TAKES_HANDLE.contains(command) || *command == "/handle" => {
            let matches: Vec<&String> = handles.iter().filter(|h| h.starts_with(partial)).collect();
            match matches.as_slice() {
                [one] => Some(format!("{command} {one} ")),
                many if !many.is_empty() => {
                    let prefix = common_prefix(many.iter().map(|s| s.as_str()));
                    (prefix.len() > partial.len()).then(|| format!("{command} {prefix}"))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// In a message: completes the last word to a name from `names`; at the start of the message a name is followed
/// by ": " (addressing someone, as in irssi), elsewhere by a space.
fn complete_name(line: &str, names: &[String]) -> Option<String> {
    let start = line.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let partial = line[start..].trim_start_matches('@');
    let at = if line[start..].starts_with('@') { "@" } else { "" };
    if partial.is_empty() {
        return None;
    }
    let lower = partial.to_lowercase();
    let matches: Vec<&String> = names.iter().filter(|n| n.to_lowercase().starts_with(&lower)).collect();
    let before = &line[..start];
    let after = if start == 0 { ": " } else { " " };
    match matches.as_slice() {
        [one] => Some(format!("{before}{at}{one}{after}")),
        many if !many.is_empty() => {
            let prefix = common_prefix(many.iter().map(|s| s.as_str()));
            (prefix.chars().count() > partial.chars().count()).then(|| format!("{before}{at}{prefix}"))
        }
        _ => None,
    }
}

fn common_prefix<'a>(mut words: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = words.next() else { return String::new() };
    let mut prefix = first.to_owned();
    for w in words {
        while !w.starts_with(&prefix) {
            prefix.pop();
        }
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_with_arguments() {
        assert_eq!(
            parse("/add bob hi there"),
            Ok(SlashCommand::Add { handle: "bob".into(), greeting: Some("hi there".into()) })
        );
        assert_eq!(parse("/add bob"), Ok(SlashCommand::Add { handle: "bob".into(), greeting: None }));
        assert_eq!(parse("/add"), Err("Usage: /add NAME [greeting]".into()));
        assert_eq!(
            parse("/status away lunch"),
            Ok(SlashCommand::Status { state: Some(PresenceState::Away), activity: Some("lunch".into()) })
        );
        assert_eq!(
            parse("/status playing chess"),
            Ok(SlashCommand::Status { state: None, activity: Some("playing chess".into()) })
        );
        assert_eq!(parse("/handle add alt"), Ok(SlashCommand::HandleAdd { handle: "alt".into() }));
        assert_eq!(parse("/handle"), Ok(SlashCommand::Handle { handle: None }));
        assert_eq!(parse("/nick bob Bobby"), Ok(SlashCommand::Nick { handle: "bob".into(), nickname: "Bobby".into() }));
        assert_eq!(
            parse("/msg carol see you"),
            Ok(SlashCommand::Msg { handle: "carol".into(), text: Some("see you".into()) })
        );
        assert!(parse("/teleport").unwrap_err().contains("/help"));
        assert_eq!(parse("/invite dave"), Ok(SlashCommand::Invite { handle: "dave".into() }));
        assert_eq!(parse("/group bob, carol"), Ok(SlashCommand::Group { handles: vec!["bob".into(), "carol".into()] }));
        assert!(parse("/group").is_err());
        assert_eq!(parse("/share"), Ok(SlashCommand::Share { count: 5 }));
        assert_eq!(parse("/share 3"), Ok(SlashCommand::Share { count: 3 }));
        assert!(parse("/share lots").is_err());
        assert_eq!(parse("/rename"), Ok(SlashCommand::Rename { title: String::new() }));
        assert_eq!(parse("/rename the crew"), Ok(SlashCommand::Rename { title: "the crew".into() }));
        assert_eq!(parse("/confirm did you get it?"), Ok(SlashCommand::Confirm { text: "did you get it?".into() }));
    }

    #[test]
    fn completes_commands_and_handles() {
        let handles = vec!["bob".to_owned(), "bobby".to_owned(), "carol".to_owned()];
        assert_eq!(complete("/ad", &handles), Some("/add ".into()));
        assert_eq!(complete("/b", &handles), Some("/block ".into()));
        assert_eq!(complete("/del c", &handles), Some("/del carol ".into()));
        assert_eq!(complete("/del b", &handles), Some("/del bob".into()), "common prefix of bob and bobby");
        assert_eq!(complete("/del bob", &handles), None, "ambiguous and nothing longer");
        assert_eq!(complete("hello", &handles), None);
        assert_eq!(complete("/zz", &handles), None);
    }
}
