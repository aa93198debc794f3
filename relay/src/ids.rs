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

/// Message ids, made without a system call each: UUIDv7s whose 12-bit counter (RFC 9562 §6.2, method 1) makes them
/// strictly increasing in the order they are made — the order the core numbers messages in — and whose random bits
/// come from a generator seeded once from the operating system. A clock that steps back, or more than 4,096 ids in
/// one millisecond, borrows the next millisecond rather than break the order.
pub struct MessageIds {
    last_ms: i64,
    counter: u16,
    rng: fastrand::Rng,
}

/// The counter's bits (`rand_a`).
const COUNTER_MAX: u16 = 0x0fff;

impl MessageIds {
    pub fn new() -> Self {
        let mut seed = [0u8; 8];
        // Without the OS's randomness (it does not fail on Linux), the time still makes a run's ids its own.
        let seed = match getrandom::fill(&mut seed) {
            Ok(()) => u64::from_le_bytes(seed),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        };
        Self { last_ms: i64::MIN, counter: 0, rng: fastrand::Rng::with_seed(seed) }
    }

    /// The next id, for a message stored at `now`.
    pub fn next(&mut self, now: Millis) -> MessageId {
        if now > self.last_ms {
            self.last_ms = now;
            // A random start in the lower half leaves room to count up within the millisecond.
            self.counter = self.rng.u16(..=COUNTER_MAX / 2);
        } else if self.counter < COUNTER_MAX {
            self.counter += 1;
        } else {
            self.last_ms += 1;
            self.counter = 0;
        }
        let mut bytes = [0u8; 10];
        bytes[..2].copy_from_slice(&self.counter.to_be_bytes());
        bytes[2..].copy_from_slice(&self.rng.u64(..).to_be_bytes());
        let millis = u64::try_from(self.last_ms).unwrap_or(0);
        MessageId::new(uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid().to_string())
    }
}

impl Default for MessageIds {
    fn default() -> Self {
        Self::new()
    }
}

/// A new account's id.
pub fn new_account_id(now: Millis) -> String {
    uuid_v7(now)
}

/// A new message's id, outside the core (which keeps a [`MessageIds`]).
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
    fn message_ids_increase_in_the_order_they_are_made_whatever_the_clock_does() {
        let mut ids = MessageIds::new();
        let mut made = Vec::new();
        // Many in one millisecond (past the counter), a clock stepping back, then forward again.
        for now in std::iter::repeat_n(1_767_225_600_000, 5000).chain([1_767_225_599_000, 1_767_225_600_001]) {
            made.push(ids.next(now).as_str().to_owned());
        }
        assert!(made.windows(2).all(|w| w[0] < w[1]), "ids out of order");
        for id in &made {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 7, "{id}");
        }
        let other = MessageIds::new().next(1_767_225_600_000);
        assert_ne!(other.as_str(), made[0], "another run's ids are its own");
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
