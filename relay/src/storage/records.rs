//! Plain records as stored, and the mutations that change them. These are storage's vocabulary, not wire types.

use huddle_shared::model::{DeletionState, GroupMessage, InvitePolicy, Message, Profile, Receipt, StreamItem};
use huddle_shared::{Address, Handle, Millis};

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
    /// Whether group invitations join at once, ask, or are refused.
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
    pub id: String,
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

/// A group room. Archived when its last member leaves (kept for the history's sake, never reused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRec {
    pub id: String,
    pub title: Option<String>,
    pub owner: Address,
    pub created_at: Millis,
    pub archived: bool,
    /// Messages sent to the group so far; each message has its number (1, 2, ...).
    pub messages: u64,
}

/// `member` is in `group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRec {
    pub group: String,
    pub member: Address,
    pub joined_at: Millis,
    /// The group's message count when they joined: they see the messages numbered above it, never earlier ones.
    pub since: u64,
}

/// `invitee` was invited to `group` by `by` and has not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInviteRec {
    pub group: String,
    pub invitee: Address,
    pub by: Address,
    pub at: Millis,
}

/// Where one message sent with receipts stands with one recipient. Tracked for every recipient when the message is
/// stored; never loaded into memory (a relay that runs for years would grow with it), only read when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRec {
    pub message_id: String,
    pub recipient: Address,
    pub sender: Address,
    /// The group, for a group message; `None` for a direct one.
    pub group: Option<String>,
    /// The recipient's stream seq of its copy; `None` when it got none (a member who had blocked the sender), which
    /// is then never delivered.
    pub seq: Option<u64>,
    /// When a connection of the recipient acknowledged its copy (or its client reported reading it).
    pub delivered_at: Option<Millis>,
    /// When the recipient's client reported displaying it.
    pub read_at: Option<Millis>,
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
    pub groups: Vec<GroupRec>,
    pub members: Vec<MemberRec>,
    pub group_invites: Vec<GroupInviteRec>,
}

/// One change. Upserts replace the whole record identified by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    PutAccount(AccountRec),
    PutHandle(HandleRec),
    /// Deletes the handle and its stream, and retires the name.
    RemoveHandle(Handle),
    PutSession(SessionRec),
    DeleteSession {
        id: String,
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
    /// Stores a message and appends it to the sender's stream at `sender_seq` and the recipient's at
    /// `recipient_seq` (both local handles).
    StoreMessage {
        message: Message,
        sender_seq: u64,
        recipient_seq: u64,
    },
    /// Appends an event item (its `body` is an event) to a local handle's stream.
    AppendEvent {
        handle: Handle,
        item: StreamItem,
    },
    PutGroup(GroupRec),
    PutMember(MemberRec),
    DeleteMember {
        group: String,
        member: Address,
    },
    PutGroupInvite(GroupInviteRec),
    DeleteGroupInvite {
        group: String,
        invitee: Address,
    },
    /// Stores a group message, numbered `number` in its group, and appends it to each listed local handle's stream
    /// at the given sequence (the sender's own stream included).
    StoreGroupMessage {
        message: GroupMessage,
        number: u64,
        deliveries: Vec<(Handle, u64)>,
    },
    /// Upserts the receipt record of (`message_id`, `recipient`).
    PutReceipt(ReceiptRec),
    /// Appends a receipt item to a local handle's stream (the messages' sender's).
    AppendReceipt {
        handle: Handle,
        seq: u64,
        at: Millis,
        receipt: Receipt,
    },
}
