//! The set of relay message ids a conversation holds, compact: a UUID is kept as its 16 bytes.

use std::collections::HashSet;

use huddle_shared::MessageId;

/// The ids of the stored messages a conversation holds. Relay ids are UUIDs, kept as 16 bytes; an id that is not
/// one (another relay's making) is kept as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeldIds {
    uuids: HashSet<u128>,
    others: HashSet<String>,
}

impl HeldIds {
    /// Notes `id`; false if it was held already.
    pub fn insert(&mut self, id: &MessageId) -> bool {
        match uuid::Uuid::try_parse(id.as_str()) {
            Ok(u) => self.uuids.insert(u.as_u128()),
            Err(_) => self.others.insert(id.as_str().to_owned()),
        }
    }

    pub fn contains(&self, id: &MessageId) -> bool {
        match uuid::Uuid::try_parse(id.as_str()) {
            Ok(u) => self.uuids.contains(&u.as_u128()),
            Err(_) => self.others.contains(id.as_str()),
        }
    }
}
