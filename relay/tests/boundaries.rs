//! The relay's layering, checked on its source so that ARCHITECTURE.md's claims stay true:
//!
//! - every consent and visibility predicate that reads blocks lives in `core/rules.rs`;
//! - the core does no I/O of its own and reads no clock: time comes in with each input, sockets and files belong
//!   to the shell, and storage is reached only through the `Storage` trait;
//! - domain operations take no connection and no request id, so the relay itself (and later a peer relay) can call
//!   them;
//! - pushes are made in one place (`core/reactions.rs`) from what handlers recorded; only answers are sent elsewhere;
//! - no function needs `#[allow(clippy::too_many_arguments)]`;
//! - the client's `update` (`client/src/app/`) and view (`client/src/view/`) do no I/O and read no clock — they get
//!   time in `Msg::Tick` and say what to do as `Cmd`s that the runtime performs;
//! - the modules of `client/src/app/` call each other in layers, never in a cycle (leaves write their effects to an
//!   output value instead of calling back up), and only `perform.rs` builds the frames that act for the person;
//! - the client's session state (what the relay told it: `Session`, each handle's `HandleSession`) is written only
//!   where network events are applied (`app/events.rs`, and `app/groups.rs` for the room pushes it hands on);
//! - the wire types in `huddle-shared` depend on no runtime, socket, storage or terminal crate.
//!
//! A check here fails with the file and line that broke the rule.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, test modules excluded (tests may build states any way they like).
fn sources(dir: &Path) -> Vec<PathBuf> {
    walk(dir, false)
}

/// Every `.rs` file under `dir`; with `tests`, test modules too.
fn walk(dir: &Path, tests: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if path.is_dir() {
                if (tests || name != "tests") && name != "snapshots" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") && (tests || (name != "tests.rs" && !name.ends_with("_tests.rs"))) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code lines (comments dropped) of `path` containing `needle`, as "file:line: text".
fn uses(path: &Path, needle: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or_default();
            code.contains(needle)
        })
        .map(|(i, line)| format!("{}:{}: {}", path.display(), i + 1, line.trim()))
        .collect()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Lines using any of `needles` in the files under `dir`, except the files named in `allowed`.
fn offenders(dir: &Path, needles: &[&str], allowed: &[&str]) -> Vec<String> {
    sources(dir)
        .into_iter()
        .filter(|p| !allowed.iter().any(|a| p.ends_with(a)))
        .flat_map(|p| needles.iter().flat_map(|n| uses(&p, n)).collect::<Vec<_>>())
        .collect()
}

#[test]
fn block_predicates_live_in_the_rules_module_only() {
    let core = root().join("src/core");
    assert!(sources(&core).iter().any(|p| p.ends_with("rules.rs")), "the walk found the core");
    let found = offenders(&core, &[".blocks.contains(", ".blocks.get("], &["core/rules.rs"]);
    assert!(found.is_empty(), "ask core/rules.rs instead:\n{}", found.join("\n"));
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let core = root().join("src/core");
    let needles = [
        "SystemTime",
        "Instant::now",
        "tokio::",
        "std::fs",
        "std::net::Tcp",
        "std::net::Udp",
        "std::thread",
        "rusqlite",
        "SqliteStorage",
    ];
    let found = offenders(&core, &needles, &[]);
    assert!(found.is_empty(), "the core takes time and data as inputs:\n{}", found.join("\n"));
}

#[test]
fn domain_operations_need_no_connection_or_request() {
    let domain = root().join("src/core/domain");
    assert!(!sources(&domain).is_empty());
    let found = offenders(&domain, &["ConnId", "RequestId", "Caller", "Effect::"], &[]);
    assert!(found.is_empty(), "domain operations are callable by the relay itself:\n{}", found.join("\n"));
}

#[test]
fn pushes_are_made_in_one_place() {
    let core = root().join("src/core");
    let mut found =
        offenders(&core, &["Effect::Send", ".send("], &["core/reactions.rs", "core/mod.rs", "requests/account.rs"]);
    // In account.rs, frames are sent only as the answer to a login: the session, then each handle's lists.
    let account = root().join("src/core/requests/account.rs");
    let text = std::fs::read_to_string(&account).unwrap_or_default();
    let mut in_start_session = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("fn start_session") {
            in_start_session = true;
        } else if in_start_session && line == "    }" {
            in_start_session = false;
        }
        let code = line.split("//").next().unwrap_or_default();
        if (code.contains(".send(") || code.contains("Effect::Send")) && !in_start_session {
            found.push(format!("{}:{}: {}", account.display(), i + 1, line.trim()));
        }
    }
    assert!(found.is_empty(), "record a Fact and let core/reactions.rs push:\n{}", found.join("\n"));
}

#[test]
fn no_function_needs_too_many_arguments() {
    let workspace = root().join("..");
    let mut found = Vec::new();
    // Tests included: a fake with eight loose arguments is as hard to read as a handler.
    for dir in ["relay/src", "relay/examples", "relay/benches", "shared/src", "client/src", "tests/src", "tests/tests"]
    {
        for path in walk(&workspace.join(dir), true) {
            found.extend(uses(&path, "too_many_arguments"));
        }
    }
    assert!(found.is_empty(), "take a struct instead:\n{}", found.join("\n"));
}

#[test]
fn the_clients_update_and_view_do_no_io_and_read_no_clock() {
    let client = root().join("../client/src");
    let needles = [
        "std::fs",
        "std::net",
        "std::process",
        "std::thread",
        "tokio::",
        "SystemTime",
        "Instant::now",
        "crossterm::terminal",
        "crossterm::execute",
    ];
    let mut found = Vec::new();
    for part in ["app", "view"] {
        assert!(sources(&client.join(part)).len() > 5, "the walk found client/src/{part}");
        found.extend(offenders(&client.join(part), &needles, &[]));
    }
    assert!(found.is_empty(), "return a Cmd and let the runtime do it:\n{}", found.join("\n"));
}

#[test]
fn the_wire_types_depend_on_no_runtime_socket_storage_or_terminal() {
    let manifest = std::fs::read_to_string(root().join("../shared/Cargo.toml")).unwrap_or_default();
    let dependencies =
        manifest.split("[dependencies]").nth(1).unwrap_or_default().split("\n[").next().unwrap_or_default();
    assert!(dependencies.contains("serde"), "the dependencies section was found");
    for crate_name in ["tokio", "tungstenite", "rusqlite", "ratatui", "crossterm", "mio"] {
        assert!(!dependencies.contains(crate_name), "huddle-shared must not depend on {crate_name}");
    }
}

/// The modules of `client/src/app/` that a file names by path (`super::name::…`, `use super::{…, name, …}`).
fn app_module_refs(path: &Path, modules: &[String]) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // Test modules at the end of a file may reach anywhere.
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String = code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("super::") {
        rest = &rest[i + "super::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            for item in inner.split(',') {
                let name = item.trim().split("::").next().unwrap_or_default().trim();
                found.push(name.to_owned());
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found.push(name);
        }
    }
    let mut refs: Vec<String> = found.into_iter().filter(|n| modules.contains(n)).collect();
    refs.sort();
    refs.dedup();
    refs
}

#[test]
fn the_client_app_modules_call_each_other_without_a_cycle() {
    let app = root().join("../client/src/app");
    let files: Vec<PathBuf> = std::fs::read_dir(&app)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "rs")).collect())
        .unwrap_or_default();
    let name = |p: &Path| p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
    let modules: Vec<String> = files.iter().map(|p| name(p)).filter(|n| n != "mod" && n != "tests").collect();
    assert!(modules.len() > 15, "the walk found client/src/app: {modules:?}");
    let edges: Vec<(String, Vec<String>)> = files
        .iter()
        .filter(|p| modules.contains(&name(p)))
        .map(|p| (name(p), app_module_refs(p, &modules).into_iter().filter(|r| *r != name(p)).collect()))
        .collect();
    // Depth-first search for a cycle, reporting the path that closes it.
    fn visit(
        node: &str,
        edges: &[(String, Vec<String>)],
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.iter().any(|n| n == node) {
            return None;
        }
        path.push(node.to_owned());
        let next = edges.iter().find(|(n, _)| n == node).map(|(_, e)| e.clone()).unwrap_or_default();
        for n in next {
            if let Some(cycle) = visit(&n, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.push(node.to_owned());
        None
    }
    let mut done = Vec::new();
    for (node, _) in &edges {
        if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
            panic!("client/src/app modules call each other in a cycle: {}", cycle.join(" → "));
        }
    }
    // The frames that act for the person are built in one place.
    let acting =
        ["ClientFrame::DeleteFriend", "ClientFrame::AnswerRequest", "ClientFrame::Block", "ClientFrame::LeaveRoom"];
    let found = offenders(&app, &acting, &["perform.rs"]);
    assert!(found.is_empty(), "return a Cmd::Do(Intent) instead:\n{}", found.join("\n"));
}

#[test]
fn the_clients_session_state_is_written_only_from_network_events() {
    let client = root().join("../client/src");
    let writes = [" = ", ".push(", ".insert(", ".retain(", ".remove(", ".clear(", ".iter_mut(", ".get_mut(", ".entry("];
    let mut found = Vec::new();
    for part in ["app", "view"] {
        for path in sources(&client.join(part)) {
            if path.ends_with("app/events.rs") || path.ends_with("app/groups.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (i, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                let Some(at) = line.find("session.") else { continue };
                let after = &line[at..];
                if writes.iter().any(|w| after.contains(w)) && !after.starts_with("session.clone") {
                    found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "session state is the relay's word; change it from a network event:\n{}",
        found.join("\n")
    );
}
