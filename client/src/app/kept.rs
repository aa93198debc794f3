//! What the person chose about their conversations that outlives the session: which are muted and which groups are
//! archived, per handle. The model holds it as [`Kept`]; whenever it changes `update` returns [`Cmd::SaveKept`] and
//! the runtime writes `conversations.toml` in the data directory; at start the runtime reads it back.

use std::collections::{BTreeMap, BTreeSet};

use huddle_shared::{Address, RoomId};
use serde::{Deserialize, Serialize};

use super::{Cmd, ConvKey, HandleView, Model};

/// Per handle (`handle@relay`): its muted conversations and archived groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    #[serde(default)]
    pub handles: BTreeMap<String, KeptForHandle>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptForHandle {
    /// `with:ADDRESS` for the conversation with a friend, `room:ID` for a group.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub muted: BTreeSet<String>,
    /// Room ids.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub archived: BTreeSet<String>,
}

fn key_text(key: &ConvKey) -> String {
    match key {
        ConvKey::Direct(peer) => format!("with:{peer}"),
        ConvKey::Room(id) => format!("room:{id}"),
    }
}

fn key_from(text: &str) -> Option<ConvKey> {
    if let Some(peer) = text.strip_prefix("with:") {
        return Address::parse(peer).ok().map(ConvKey::Direct);
    }
    text.strip_prefix("room:").and_then(|id| RoomId::parse(id).ok()).map(ConvKey::Room)
}

/// Gives a handle that just appeared what was kept for it (entries that no longer parse are dropped).
pub fn restore(kept: &Kept, h: &mut HandleView) {
    let Some(k) = kept.handles.get(&h.address.to_string()) else { return };
    h.muted = k.muted.iter().filter_map(|t| key_from(t)).collect();
    h.archived = k.archived.iter().filter_map(|t| RoomId::parse(t).ok()).collect();
}

/// Records the handles' choices; the command to save them if anything changed.
pub fn save(model: &mut Model) -> Option<Cmd> {
    let mut kept = model.kept.clone();
    for h in &model.handles {
        let entry = KeptForHandle {
            muted: h.muted.iter().map(key_text).collect(),
            archived: h.archived.iter().map(ToString::to_string).collect(),
        };
        if entry == KeptForHandle::default() {
            kept.handles.remove(&h.address.to_string());
        } else {
            kept.handles.insert(h.address.to_string(), entry);
        }
    }
    if kept == model.kept {
        return None;
    }
    model.kept = kept.clone();
    Some(Cmd::SaveKept(kept))
}
