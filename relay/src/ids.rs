//! The ids the relay makes: accounts, messages and rooms. Shared by the core, the admin CLI and storage's migrations,
//! which must all make the same id for the same thing.

use huddle_shared::{Address, MessageId, Millis, RelayName, RoomId};
use sha2::{Digest, Sha256};

/// A UUIDv7 from the relay's clock: sortable by creation, unique without coordination (the admin CLI makes accounts
/// too).
pub fn uuid_v7(now: Millis) -> String {
    let secs = u64::try_from(now.div_euclid(1000)).unwrap_or(0);
    let nanos = u32::try_from(now.rem_euclid(1000) * 1_000_000).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos)).to_string()
}

/// A new account's id.
pub fn new_account_id(now: Millis) -> String {
    uuid_v7(now)
}

/// A new message's id.
pub fn new_message_id(now: Millis) -> MessageId {
    MessageId::new(uuid_v7(now))
}

/// A new room (group) on `relay`: a UUIDv7, so room ids sort by creation like the groups of protocol 1, whose ids
/// became these rooms' local parts.
pub fn new_room_id(relay: &RelayName, now: Millis) -> RoomId {
    // A UUID is 36 characters of hex digits and hyphens: always a valid local part.
    RoomId::new(&uuid_v7(now), relay).unwrap_or_else(|_| unreachable_room_id(relay))
}

/// The direct room of two addresses, the same whichever of them asks and on whichever relay it is computed:
/// `dm.` and the first 128 bits of SHA-256 of the two addresses in order (joined by a newline, which no address
/// contains), on the relay of the first of them. Nobody can choose handles that make another pair's id.
pub fn direct_room_id(a: &Address, b: &Address) -> RoomId {
    // Computed for every direct message, so without a format per byte.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let (a_text, b_text) = (a.to_string(), b.to_string());
    let ((first, first_text), second_text) =
        if a_text <= b_text { ((a, &a_text), &b_text) } else { ((b, &b_text), &a_text) };
    let digest = Sha256::new()
        .chain_update(first_text.as_bytes())
        .chain_update(b"\n")
        .chain_update(second_text.as_bytes())
        .finalize();
    let mut local = String::with_capacity(3 + 32);
    local.push_str("dm.");
    for byte in digest.iter().take(16) {
        local.push(char::from(HEX[usize::from(byte >> 4)]));
        local.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    let relay = first.relay.clone().unwrap_or_else(|| RelayName::parse("localhost").unwrap_or_else(|_| unreachable()));
    RoomId::new(&local, &relay).unwrap_or_else(|_| unreachable_room_id(&relay))
}

// The fallbacks below cannot run: the inputs are valid by construction. They exist so that no `unwrap` is needed.

fn unreachable_room_id(relay: &RelayName) -> RoomId {
    RoomId::new("invalid", relay).unwrap_or_else(|_| unreachable())
}

fn unreachable() -> ! {
    unreachable!("a constant room id or relay name is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn a_direct_room_is_the_same_from_both_sides_and_differs_for_every_pair() {
        let ab = direct_room_id(&a("alice@r.example"), &a("bob@r.example"));
        assert_eq!(ab, direct_room_id(&a("bob@r.example"), &a("alice@r.example")));
        assert_ne!(ab, direct_room_id(&a("alice@r.example"), &a("carol@r.example")));
        assert!(ab.local().starts_with("dm.") && ab.local().len() == 35, "{ab}");
        assert_eq!(ab.relay(), "r.example");
        // Across relays, the relay of the first address in order owns it.
        let cross = direct_room_id(&a("zed@b.example"), &a("amy@c.example"));
        assert_eq!(cross.relay(), "c.example");
        // Fixed for ever: stored ids and migrated databases depend on it.
        assert_eq!(ab.as_str(), "dm.4b18fc90a9ab0ec92e2922259a4506fe@r.example");
    }

    #[test]
    fn new_rooms_are_uuids_on_this_relay() {
        let relay = RelayName::parse("localhost").unwrap();
        let id = new_room_id(&relay, 1_767_225_600_000);
        assert_eq!((id.local().len(), id.relay()), (36, "localhost"));
        assert_ne!(id, new_room_id(&relay, 1_767_225_600_000));
    }
}
