//! The example sessions of `docs/protocol.md` (§12) are replayed against a real relay, frame by frame: what a client
//! sends (`A→`) is sent as written, and what it receives (`A←`) must be, in that connection's order, exactly the
//! next frame the relay sends it — nothing more, nothing less. Values the relay makes up (times, message and room
//! ids, sessions, tokens) are matched by their role: the first time the document shows one it stands for whatever
//! the relay sent there, and every later use must be that same value (frames the document sends carry it back).
//!
//! Each `### 12.x` subsection is one session on a fresh relay with the default limits; a `hello` on a connection that
//! is already open stands for a new connection (the same person coming back).
//!
//! `HUDDLE_RECORD=1` prints what the relay actually sent on a mismatch, to help write the document.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use huddle_relay::config::{Config, LimitsConfig};
use huddle_tests::{Client, TestRelay, WAIT};
use serde_json::Value;

#[derive(Debug)]
struct Line {
    number: usize,
    conn: char,
    sends: bool,
    json: String,
}

/// The sessions of §12: (title, lines).
fn sessions(doc: &str) -> Vec<(String, Vec<Line>)> {
    let mut out: Vec<(String, Vec<Line>)> = Vec::new();
    let mut in_examples = false;
    let mut in_block = false;
    for (index, line) in doc.lines().enumerate() {
        if line.starts_with("## ") {
            in_examples = line.starts_with("## 12.");
            continue;
        }
        if !in_examples {
            continue;
        }
        if let Some(title) = line.strip_prefix("### ") {
            out.push((title.to_owned(), Vec::new()));
            continue;
        }
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let mut chars = line.chars();
        let (Some(conn), Some(arrow), Some(' ')) = (chars.next(), chars.next(), chars.next()) else { continue };
        if !conn.is_ascii_uppercase() || !matches!(arrow, '→' | '←') {
            continue;
        }
        let json = chars.as_str().trim().to_owned();
        if let Some((_, lines)) = out.last_mut() {
            lines.push(Line { number: index + 1, conn, sends: arrow == '→', json });
        }
    }
    out.retain(|(_, lines)| !lines.is_empty());
    out
}

/// What the document's made-up values stand for in this run.
#[derive(Default)]
struct Bindings {
    /// Document value → the relay's value.
    values: BTreeMap<String, Value>,
    /// The relay's ids already bound, so that two different ids in the document are two different ids in the run.
    taken: HashMap<String, String>,
}

fn is_time(v: &Value) -> bool {
    v.as_i64().is_some_and(|n| n >= 1_000_000_000_000)
}

/// A value the relay makes up: a message id, a room id made of one, a session or a token.
fn is_made_up(key: &str, text: &str) -> bool {
    let uuid = |s: &str| {
        s.len() == 36
            && s.chars()
                .enumerate()
                .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
    };
    let local = text.split('@').next().unwrap_or_default();
    matches!(key, "session" | "token") || uuid(text) || (text.contains('@') && uuid(local))
}

impl Bindings {
    /// Whether `actual` is what the document's `expected` says, binding made-up values on first sight.
    fn matches(&mut self, key: &str, expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                let (ek, ak): (Vec<_>, Vec<_>) = (e.keys().collect(), a.keys().collect());
                if ek != ak {
                    return Err(format!("{path}: fields {ek:?} in the document, {ak:?} from the relay"));
                }
                for (k, ev) in e {
                    self.matches(k, ev, &a[k], &format!("{path}.{k}"))?;
                }
                Ok(())
            }
            (Value::Array(e), Value::Array(a)) => {
                if e.len() != a.len() {
                    return Err(format!("{path}: {} items in the document, {} from the relay", e.len(), a.len()));
                }
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.matches(key, ev, av, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            (e, a) if is_time(e) && is_time(a) => self.bind(e.to_string(), a, path, false),
            (Value::String(e), Value::String(a)) if is_made_up(key, e) && is_made_up(key, a) => {
                self.bind(e.clone(), actual, path, true)
            }
            (e, a) if e == a => Ok(()),
            (e, a) => Err(format!("{path}: {e} in the document, {a} from the relay")),
        }
    }

    fn bind(&mut self, doc: String, actual: &Value, path: &str, unique: bool) -> Result<(), String> {
        match self.values.get(&doc) {
            Some(bound) if bound == actual => Ok(()),
            Some(bound) => Err(format!("{path}: the document's {doc} was {bound} earlier, now {actual}")),
            None => {
                if unique {
                    let key = actual.to_string();
                    if let Some(other) = self.taken.get(&key) {
                        return Err(format!("{path}: {doc} and {other} in the document are both {actual} here"));
                    }
                    self.taken.insert(key, doc.clone());
                }
                self.values.insert(doc, actual.clone());
                Ok(())
            }
        }
    }

    /// A frame the document sends, with its made-up values replaced by what they stand for.
    fn substitute(&self, value: &mut Value) {
        match value {
            Value::Object(map) => map.values_mut().for_each(|v| self.substitute(v)),
            Value::Array(items) => items.iter_mut().for_each(|v| self.substitute(v)),
            Value::String(s) => {
                if let Some(bound) = self.values.get(s.as_str()) {
                    *value = bound.clone();
                }
            }
            other => {
                if let Some(bound) = self.values.get(&other.to_string()) {
                    *other = bound.clone();
                }
            }
        }
    }
}

async fn replay(title: &str, lines: &[Line]) {
    let relay = TestRelay::start_with(|c| c.limits = LimitsConfig { ..Config::default().limits }).await;
    let mut conns: HashMap<char, Client> = HashMap::new();
    let mut bindings = Bindings::default();
    let record = std::env::var_os("HUDDLE_RECORD").is_some();
    for line in lines {
        let at = format!("§12 “{title}”, docs/protocol.md line {}", line.number);
        let mut frame: Value = serde_json::from_str(&line.json).unwrap_or_else(|e| panic!("{at}: not JSON ({e})"));
        if line.sends {
            if record {
                eprintln!("{}→ {}", line.conn, line.json);
            }
            if frame["type"] == "hello" {
                conns.insert(line.conn, relay.connect_raw().await);
            }
            bindings.substitute(&mut frame);
            // Each request in its own millisecond of the relay's clock, as in the document: members who joined in
            // the same millisecond would be listed by address, and the document's order is the order of joining.
            tokio::time::sleep(Duration::from_millis(3)).await;
            let conn = conns.get_mut(&line.conn).unwrap_or_else(|| panic!("{at}: {} has not said hello", line.conn));
            conn.send_text(&frame.to_string()).await;
        } else {
            let conn = conns.get_mut(&line.conn).unwrap_or_else(|| panic!("{at}: {} has not said hello", line.conn));
            let wait = if record { Duration::from_millis(500) } else { WAIT };
            let Some(text) = conn.recv_text(wait).await else {
                assert!(record, "{at}: the relay sent nothing more");
                eprintln!("{at}: NOTHING");
                continue;
            };
            let actual: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{at}: the relay sent {e}"));
            match bindings.matches("", &frame, &actual, "") {
                Ok(()) if record => eprintln!("{}← {text}", line.conn),
                Ok(()) => {}
                Err(why) if record => eprintln!("{at}: MISMATCH {why}\n{}← {text}", line.conn),
                Err(why) => panic!("{at}: {why}\n  document: {}\n  relay:    {text}", line.json),
            }
        }
    }
    // Nothing the document leaves out.
    for (name, conn) in &mut conns {
        while let Some(extra) = conn.recv_text(Duration::from_millis(300)).await {
            assert!(record, "§12 “{title}”: the relay also sent {name}← {extra}");
            eprintln!("EXTRA {name}← {extra}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_sessions_are_what_the_relay_does() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md");
    let sessions = sessions(&doc);
    assert!(sessions.len() >= 2, "the examples were not found: {}", sessions.len());
    for (title, lines) in &sessions {
        assert!(lines.len() >= 10, "“{title}” has only {} frames", lines.len());
        replay(title, lines).await;
    }
}
