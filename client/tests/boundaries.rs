//! The client's layering, checked on its source so that ARCHITECTURE.md's claims stay true: `update` (`src/app/`)
//! and the view (`src/view/`) do no I/O and read no clock — they get time in `Msg::Tick`, and say what to do as
//! `Cmd`s that the runtime performs — and the wire types in `huddle-shared` depend on no runtime or socket crate.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if path.is_dir() {
                if name != "tests" && name != "snapshots" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn update_and_view_do_no_io_and_read_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<PathBuf> = ["app", "view"].iter().flat_map(|d| sources(&root.join(d))).collect();
    assert!(files.len() > 10, "the walk found the sources");
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
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if needles.iter().any(|n| code.contains(n)) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "return a Cmd and let the runtime do it:\n{}", found.join("\n"));
}

#[test]
fn the_wire_types_depend_on_no_runtime_or_socket() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/Cargo.toml");
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    let dependencies = text.split("[dependencies]").nth(1).unwrap_or_default().split("\n[").next().unwrap_or_default();
    assert!(dependencies.contains("serde"), "the dependencies section was found");
    for crate_name in ["tokio", "tungstenite", "rusqlite", "ratatui", "crossterm", "mio"] {
        assert!(!dependencies.contains(crate_name), "huddle-shared must not depend on {crate_name}");
    }
}
