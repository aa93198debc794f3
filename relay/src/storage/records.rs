//! Plain records as stored, and the mutations that change them. These are storage's vocabulary, not wire types.

use std::collections::BTreeMap;

use huddle_shared::model::{
    DeletionState, HuddleSettings, HuddleTrigger, InvitePolicy, Message, Profile, RoomKind, StreamItem, TopicId,
};
use huddle_shared::{Address, Handle, MessageId, Millis, RoomId, SessionId};
use serde::{Deserialize, Serialize};

/// Opaque, globally unique account id (UUIDv7 text), so that the admin CLI and the relay never collide.
pub type AccountId = String;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRec {
    pub id: AccountId,
    /// Argon2id hash in PHC string format.
    pub password_phc: String,
    pub created_at: Millis,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleRec {
    pub handle: Handle,
    pub account: AccountId,
    /// Order among the account's handles (the first, made at registration, is 0).
    pub position: u32,
    pub created_at: Millis,
    pub profile: Profile,
    pub activity: Option<String>,
    pub location: Option<String>,
    pub last_seen: Option<Millis>,
    /// Highest stream sequence a connection of the account acknowledged.
    pub acked: u64,
    /// Whether invitations to groups join at once, ask, or are refused.
    pub invite_policy: InvitePolicy,
}

impl HandleRec {
    /// A handle just made: no profile, status or stream yet.
    pub fn new(handle: Handle, account: AccountId, position: u32, now: Millis) -> Self {
        Self {
            handle,
            account,
            position,
            created_at: now,
            profile: Profile::default(),
            activity: None,
            location: None,
            last_seen: None,
            acked: 0,
            invite_policy: InvitePolicy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRec {
    /// Public id, shown in `list_sessions`.
    pub id: SessionId,
    pub account: AccountId,
    /// SHA-256 of the secret token, hex. The token itself is never stored.
    pub token_hash: String,
    pub device: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRec {
    pub code: String,
    pub created_at: Millis,
    pub used_by: Option<AccountId>,
    pub revoked: bool,
}

/// `peer` is on `owner`'s list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRec {
    pub owner: Address,
    pub peer: Address,
    pub nickname: Option<String>,
    pub note: Option<String>,
    pub since: Millis,
    /// `peer` deleted `owner` from their list.
    pub removed_you: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRec {
    pub from: Address,
    pub to: Address,
    pub greeting: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRec {
    pub deleter: Address,
    pub deleted: Address,
    pub state: DeletionState,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRec {
    pub owner: Address,
    pub target: Address,
    pub at: Millis,
}

/// A room of any kind. Direct rooms get one the first time something is said in them; group rooms when made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRec {
    pub id: RoomId,
    pub kind: RoomKind,
    pub title: Option<String>,
    /// Groups have one; direct rooms none.
    pub owner: Option<Address>,
    pub created_at: Millis,
    /// Ended (a group whose last member left): kept for the history's sake, never reused, closed to everything.
    pub ended: bool,
}

/// `member` is in `room`. A direct room's two members are recorded when the room is; whether they may write to each
/// other is still the friend relation's to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRec {
    pub room: RoomId,
    pub member: Address,
    pub joined_at: Millis,
    /// How many messages the room had when they joined: they see the messages numbered above it, never earlier ones.
    pub since: u64,
}

/// `invitee` was invited to `room` by `by` and has not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInviteRec {
    pub room: RoomId,
    pub invitee: Address,
    pub by: Address,
    pub at: Millis,
}

/// Where one message sent with receipts stands with one recipient. Tracked for every recipient when the message is
/// stored; never loaded into memory (a relay that runs for years would grow with it), only read when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRec {
    pub message_id: MessageId,
    pub recipient: Address,
    pub sender: Address,
    pub room: RoomId,
    /// The recipient's stream seq of its copy; `None` when it got none (a member who had blocked the sender), which
    /// is then never delivered.
    pub seq: Option<u64>,
    /// When a connection of the recipient acknowledged its copy (or its client reported reading it).
    pub delivered_at: Option<Millis>,
    /// When the recipient's client reported displaying it.
    pub read_at: Option<Millis>,
}

/// A topic people subscribe to; its issues form huddles. Stored as JSON (the huddle engine's records are few, read
/// only at start, and grow new fields as triggers are added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRec {
    pub id: TopicId,
    pub owner: Address,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub duration_ms: Millis,
    #[serde(default)]
    pub include_offline: bool,
    #[serde(default)]
    pub publishers: Vec<Address>,
    /// SHA-256 of the webhook's bearer token, hex. The token itself is never stored.
    #[serde(default)]
    pub token_hash: Option<String>,
    /// Issues published so far.
    #[serde(default)]
    pub issues: u64,
    pub created_at: Millis,
    /// A cron expression or a one-off local time, as the owner wrote it.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The IANA time zone of the schedule (`None`: UTC).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The schedule fires only after this time (when it was set, or when it last fired).
    #[serde(default)]
    pub schedule_after: Millis,
    #[serde(default)]
    pub feed: Option<FeedRec>,
}

/// A topic's feed and where polling it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedRec {
    pub url: String,
    /// The validators of the last answer, for a conditional GET.
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Ids of the entries seen, newest first, at most [`FEED_SEEN_KEPT`]: an entry not among them is new.
    #[serde(default)]
    pub seen: Vec<String>,
    /// Whether the feed was read once: the entries there when it was attached are not issues.
    #[serde(default)]
    pub primed: bool,
    /// Failures in a row (0 when the last poll worked).
    #[serde(default)]
    pub failures: u32,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// Entry ids a feed remembers: more than any feed keeps in its document.
pub const FEED_SEEN_KEPT: usize = 500;

/// A window of reports that may form a huddle when it closes (the *forming* state of an activity or place huddle).
/// Its reporters are kept, the reported activity or place never: `id` names a keyed hash or a relay area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRec {
    /// `activity:KIND:HASH` or `place:AREA`.
    pub id: String,
    /// Shown in the huddle: the activity's kind or the area's name.
    pub label: String,
    pub place: bool,
    pub opened_at: Millis,
    pub closes_at: Millis,
    /// Distinct reporters, in the order they reported.
    pub reporters: Vec<Address>,
}

/// `subscriber` is subscribed to `topic`: the consent to be put in its huddles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRec {
    pub topic: TopicId,
    pub subscriber: Address,
    /// Their own time in the topic's huddles, if they chose one.
    #[serde(default)]
    pub duration_ms: Option<Millis>,
    pub since: Millis,
}

/// A huddle: the room it is, what formed it, and when and how it ends. Kept after it ended (the log stays readable,
/// and the record says why it ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuddleRec {
    pub room: RoomId,
    pub trigger: HuddleTrigger,
    /// Who formed it (the anchor, the publisher, the topic's owner): the `peer` of its lines.
    pub by: Address,
    /// It ends when this handle goes offline.
    #[serde(default)]
    pub anchor: Option<Address>,
    /// It ends at this time.
    #[serde(default)]
    pub ends_at: Option<Millis>,
    /// It ends after this long without a message.
    #[serde(default)]
    pub idle_ms: Option<Millis>,
    /// Members whose own time is up before the huddle's (a subscriber's chosen duration), by address text.
    #[serde(default)]
    pub member_ends: BTreeMap<String, Millis>,
    pub started_at: Millis,
    /// `Some` once it ended.
    #[serde(default)]
    pub ended_at: Option<Millis>,
}

/// Everything the core holds in memory, as loaded at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub accounts: Vec<AccountRec>,
    pub handles: Vec<HandleRec>,
    /// Last sequence of each handle's stream (handles with an empty stream may be absent).
    pub heads: Vec<(Handle, u64)>,
    /// Names of removed handles, never given out again.
    pub retired: Vec<Handle>,
    pub sessions: Vec<SessionRec>,
    pub invites: Vec<InviteRec>,
    pub entries: Vec<EntryRec>,
    pub requests: Vec<RequestRec>,
    pub deletions: Vec<DeletionRec>,
    pub blocks: Vec<BlockRec>,
    pub rooms: Vec<RoomRec>,
    pub members: Vec<MemberRec>,
    pub room_invites: Vec<RoomInviteRec>,
    /// Who left or was removed from each group (and has not joined it again).
    pub former: Vec<(RoomId, Address)>,
    /// How many messages each room holds (the number of its newest message); rooms without messages may be absent.
    pub room_counts: Vec<(RoomId, u64)>,
    pub topics: Vec<TopicRec>,
    pub subscriptions: Vec<SubscriptionRec>,
    pub huddles: Vec<HuddleRec>,
    /// Handles' huddle settings that are not the default.
    pub huddle_settings: Vec<(Address, HuddleSettings)>,
    pub windows: Vec<WindowRec>,
    /// The key of the hash activity reports are kept as (hex), made at first start.
    pub activity_secret: Option<String>,
}

/// One change. Upserts replace the whole record identified by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    PutAccount(AccountRec),
    PutHandle(HandleRec),
    /// Moves a handle's acknowledged position (its record otherwise unchanged): acknowledgements are the most
    /// frequent change of all, so they do not rewrite the whole record.
    SetAcked {
        handle: Handle,
        acked: u64,
    },
    /// Deletes the handle and its stream, and retires the name.
    RemoveHandle(Handle),
    PutSession(SessionRec),
    DeleteSession {
        id: SessionId,
    },
    PutInvite(InviteRec),
    PutEntry(EntryRec),
    DeleteEntry {
        owner: Address,
        peer: Address,
    },
    PutRequest(RequestRec),
    DeleteRequest {
        from: Address,
        to: Address,
    },
    PutDeletion(DeletionRec),
    DeleteDeletion {
        deleter: Address,
        deleted: Address,
    },
    PutBlock(BlockRec),
    DeleteBlock {
        owner: Address,
        target: Address,
    },
    PutRoom(RoomRec),
    PutMember(MemberRec),
    DeleteMember {
        room: RoomId,
        member: Address,
    },
    /// `member` left or was removed from `room`: an invitation back asks them, whatever their setting.
    PutFormer {
        room: RoomId,
        member: Address,
    },
    /// `member` is in `room` again.
    DeleteFormer {
        room: RoomId,
        member: Address,
    },
    PutRoomInvite(RoomInviteRec),
    DeleteRoomInvite {
        room: RoomId,
        invitee: Address,
    },
    /// Stores a message, numbered `number` in its room, and appends it to each listed local handle's stream at the
    /// given sequence (the sender's own stream included).
    StoreMessage {
        message: Message,
        number: u64,
        deliveries: Vec<(Handle, u64)>,
    },
    /// Appends an item to a local handle's stream: an event or a receipt report (messages go through
    /// [`Mutation::StoreMessage`], which keeps one copy of the message for every stream it is in).
    AppendItem {
        handle: Handle,
        item: StreamItem,
    },
    /// Upserts the receipt record of (`message_id`, `recipient`).
    PutReceipt(ReceiptRec),
    PutTopic(TopicRec),
    /// Deletes the topic and every subscription to it.
    DeleteTopic(TopicId),
    PutSubscription(SubscriptionRec),
    DeleteSubscription {
        topic: TopicId,
        subscriber: Address,
    },
    PutHuddle(HuddleRec),
    /// Sets a handle's huddle settings; the default settings delete the record.
    PutHuddleSettings {
        handle: Address,
        settings: HuddleSettings,
    },
    PutWindow(WindowRec),
    DeleteWindow(String),
    /// Stores the activity hash key (once, at first start).
    PutActivitySecret(String),
}
