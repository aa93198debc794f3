//! Every JSON example in `docs/protocol.md` is what these types write: each line of a `json` block, and each frame of
//! the example sessions (`A→ {...}` / `A← {...}`), must read as a client frame, a server frame or one of the
//! documented records, and write back as exactly the same text (field order, omitted fields and all). The document
//! promises literal examples; this keeps the promise when the types change.

use huddle_shared::codec::{decode_client, decode_server, encode_client, encode_server};
use huddle_shared::model::{
    DeletionIn, DeletionOut, Event, FriendEntry, FriendList, Limits, Message, MessageReceipts, PendingInvite,
    PendingRequest, Presence, Profile, Receipt, RecipientReceipt, RoomChange, RoomInfo, RoomMember, SessionInfo,
    StreamItem,
};
use huddle_shared::server::HandleInfo;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads `text` as a `T` and writes it back unchanged.
fn round_trips<T: Serialize + DeserializeOwned>(text: &str) -> bool {
    serde_json::from_str::<T>(text).is_ok_and(|value| serde_json::to_string(&value).is_ok_and(|back| back == text))
}

fn is_exact_example(text: &str) -> bool {
    decode_client(text).is_ok_and(|f| encode_client(&f) == text)
        || decode_server(text).is_ok_and(|f| encode_server(&f) == text)
        || round_trips::<StreamItem>(text)
        || round_trips::<Message>(text)
        || round_trips::<Event>(text)
        || round_trips::<RoomChange>(text)
        || round_trips::<RoomInfo>(text)
        || round_trips::<huddle_shared::model::HuddleInfo>(text)
        || round_trips::<huddle_shared::model::HuddleSettings>(text)
        || round_trips::<huddle_shared::model::TopicInfo>(text)
        || round_trips::<RoomMember>(text)
        || round_trips::<PendingInvite>(text)
        || round_trips::<Receipt>(text)
        || round_trips::<MessageReceipts>(text)
        || round_trips::<RecipientReceipt>(text)
        || round_trips::<FriendList>(text)
        || round_trips::<FriendEntry>(text)
        || round_trips::<PendingRequest>(text)
        || round_trips::<DeletionIn>(text)
        || round_trips::<DeletionOut>(text)
        || round_trips::<Presence>(text)
        || round_trips::<Profile>(text)
        || round_trips::<HandleInfo>(text)
        || round_trips::<SessionInfo>(text)
        || round_trips::<Limits>(text)
}

/// The examples of the document, with their line numbers.
fn examples(doc: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    // The info string of the code block we are in, if any.
    let mut block: Option<&str> = None;
    for (index, line) in doc.lines().enumerate() {
        if let Some(info) = line.strip_prefix("```") {
            block = if block.is_some() { None } else { Some(info.trim()) };
            continue;
        }
        let example = match block {
            Some("json") => Some(line.trim()),
            // Example sessions: "A→ {...}", "B← {...}".
            Some(_) => line
                .split_once("→ ")
                .or_else(|| line.split_once("← "))
                .filter(|(who, _)| who.len() == 1)
                .map(|(_, frame)| frame.trim()),
            None => None,
        };
        if let Some(text) = example.filter(|t| !t.is_empty()) {
            out.push((index + 1, text));
        }
    }
    out
}

#[test]
fn every_json_example_is_what_the_types_write() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let examples = examples(&doc);
    // The document has a couple of hundred; far fewer means the extraction broke, not that all is well.
    assert!(examples.len() >= 150, "only {} examples found", examples.len());
    let wrong: Vec<String> = examples
        .into_iter()
        .filter(|(_, text)| !is_exact_example(text))
        .map(|(line, text)| format!("protocol.md:{line}: {text}"))
        .collect();
    assert!(wrong.is_empty(), "examples the types do not write exactly so:\n{}", wrong.join("\n"));
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_link_inside_the_document_reaches_its_place() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut anchors: Vec<String> =
        doc.lines().filter_map(|l| l.strip_prefix('#')).map(|h| slug(h.trim_start_matches('#'))).collect();
    anchors.extend(doc.split("<a id=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned));
    let links: Vec<&str> = doc.split("](#").skip(1).filter_map(|rest| rest.split(')').next()).collect();
    assert!(links.len() > 100, "only {} links found", links.len());
    let broken: Vec<&&str> = links.iter().filter(|l| !anchors.iter().any(|a| a == **l)).collect();
    assert!(broken.is_empty(), "links to nowhere: {broken:?}");
}

#[test]
fn every_error_code_is_in_the_table_with_the_sentence_the_relay_sends() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let missing: Vec<&str> = huddle_shared::ErrorCode::ALL
        .iter()
        .filter(|code| !doc.contains(&format!("| `{}` | {} |", code.as_str(), code.sentence())))
        .map(|code| code.as_str())
        .collect();
    assert!(missing.is_empty(), "codes missing from the table of error codes, or with another sentence: {missing:?}");
}
