//! Every fixed limit of the protocol. The relay enforces them; the sizes a client needs at run time (and the rate
//! limits, which are configurable) are also announced in the relay's `hello`.

/// Largest WebSocket message (one frame's JSON text) a relay accepts, in bytes. Larger ones are refused with
/// `frame_too_large` and the connection is closed (tungstenite cannot skip a message it refused to buffer).
///
/// Large enough that every valid `send` fits however its client escapes it: JSON may write any character of a body as
/// a `\uXXXX` escape (six bytes for one byte of UTF-8 at worst), and the frame's other fields are small.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Largest message body, in bytes of UTF-8.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// Room left in a frame beside the body for a `send`'s other fields, even fully escaped: `type`, `id`, `as`, a room id
/// or an address, the client message id, `receipts`.
const SEND_FIELDS_BYTES: usize = 6 * (32 + 320 + MAX_CLIENT_MSG_ID_BYTES) + 256;
const _: () =
    assert!(6 * MAX_BODY_BYTES + SEND_FIELDS_BYTES <= MAX_FRAME_BYTES, "a valid send must always fit a frame");
/// Longest friend-request greeting, in characters.
pub const MAX_GREETING_CHARS: usize = 280;
/// Longest activity text ("playing FFXI — waiting for a table"), in characters.
pub const MAX_ACTIVITY_CHARS: usize = 64;
/// Longest coarse location text ("Berlin, DE"), in characters.
pub const MAX_LOCATION_CHARS: usize = 64;
/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Longest profile bio, in characters.
pub const MAX_BIO_CHARS: usize = 280;
/// Longest private nickname for a friend, in characters.
pub const MAX_NICKNAME_CHARS: usize = 64;
/// Longest private note on a friend entry, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// Longest device label of a session, in characters.
pub const MAX_DEVICE_CHARS: usize = 64;
/// Client message ids (for idempotent resends) are 1 to this many bytes of printable ASCII.
pub const MAX_CLIENT_MSG_ID_BYTES: usize = 64;
/// Passwords are 8 to 1024 bytes.
pub const MIN_PASSWORD_BYTES: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Handles per account.
pub const MAX_HANDLES_PER_ACCOUNT: usize = 4;
/// Entries on one handle's friend list, plus its pending outgoing requests.
pub const MAX_FRIENDS_PER_HANDLE: usize = 1000;
/// Most items a `sync` answer carries; `more: true` says there are further items.
pub const MAX_SYNC_PAGE: u32 = 500;
/// Most messages a `history` answer carries.
pub const MAX_HISTORY_PAGE: u32 = 200;
/// Members of one room (including invitations waiting for an answer).
pub const MAX_ROOM_MEMBERS: usize = 100;
/// Rooms one handle can be in, direct rooms not counted.
pub const MAX_ROOMS_PER_HANDLE: usize = 200;
/// Longest room title, in characters.
pub const MAX_ROOM_TITLE_CHARS: usize = 64;
/// Most message ids one `read` frame may name (256 UUIDs fit a frame with room to spare). Also the most ids one
/// `receipt` stream item lists: larger sets are split over several items.
pub const MAX_READ_IDS: usize = 256;
/// Members of one huddle. Every member is sent the room's whole member list whenever it changes, so what a change
/// costs grows with the square of this: at 1,000 a huddle forms in seconds; at 10,000 the relay needed gigabytes
/// (measured with `huddle-bench`). Larger huddles wait for member lists that are paged rather than pushed whole.
pub const MAX_HUDDLE_MEMBERS: usize = 1_000;
/// Longest topic title, in characters.
pub const MAX_TOPIC_TITLE_CHARS: usize = 64;
/// Longest topic description, in characters.
pub const MAX_TOPIC_DESCRIPTION_CHARS: usize = 280;
/// Longest issue title, in characters (an issue's body is a message body: [`MAX_BODY_BYTES`]).
pub const MAX_ISSUE_TITLE_CHARS: usize = 200;
/// Longest issue link (an `http://` or `https://` URL), in bytes.
pub const MAX_LINK_BYTES: usize = 2048;
/// Topics one handle may own.
pub const MAX_TOPICS_PER_HANDLE: usize = 20;
/// Topics one handle may subscribe to.
pub const MAX_SUBSCRIPTIONS_PER_HANDLE: usize = 200;
/// Publishers of one topic besides its owner.
pub const MAX_PUBLISHERS: usize = 20;
/// Entries in each list of the huddle settings (`follows`, `muted_topics`, `not_with`).
pub const MAX_SETTINGS_ENTRIES: usize = 200;
/// Shortest and longest time a huddle of a topic lasts (a topic's duration, a subscriber's own).
pub const MIN_HUDDLE_MS: i64 = 60_000;
pub const MAX_HUDDLE_MS: i64 = 7 * 24 * 3_600_000;
/// A topic's duration when its owner names none.
pub const DEFAULT_HUDDLE_MS: i64 = 3_600_000;
/// A presence huddle ends when its anchor goes offline, or after this long without a message.
pub const PRESENCE_HUDDLE_IDLE_MS: i64 = 30 * 60_000;
/// Members a huddle's `formed` line names (it counts them all).
pub const FORMED_MEMBERS_NAMED: usize = 20;
