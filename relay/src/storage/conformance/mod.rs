//! The same scenarios against every [`Storage`]: the in-memory reference, SQLite in memory and SQLite on a file (which
//! must also read back the same after a reopen). One file per concept, as the SQLite implementation is split:
//! accounts, lists, rooms, streams (messages and items), receipts, huddles.
//!
//! Each scenario states its expectations explicitly, so that a bug shared by both backends still fails; the
//! differential property test (`storage/differential.rs`) runs random mutation sequences against memory and SQLite
//! side by side and demands identical answers from every read.

mod accounts;
mod huddles;
mod lists;
mod receipts;
mod rooms;
mod streams;

use huddle_shared::model::{Event, ItemBody, Message, Profile, RoomKind, StreamItem};
use huddle_shared::{Address, Handle, MessageId, RelayName, RoomId};

use super::{HandleRec, HistoryPage, MemoryStorage, Mutation, ReceiptRec, RoomRec, Snapshot, SqliteStorage, Storage};

pub(super) const RELAY: &str = "home.example";

pub(super) fn relay() -> RelayName {
    RelayName::parse(RELAY).unwrap()
}

pub(super) fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

/// A local address, or a remote one when `name` has an `@`.
pub(super) fn addr(name: &str) -> Address {
    Address::parse(name).unwrap().resolve(&relay())
}

/// A room on this relay (or elsewhere, when `local` has an `@`).
pub(super) fn room(local: &str) -> RoomId {
    if local.contains('@') { RoomId::parse(local).unwrap() } else { RoomId::new(local, &relay()).unwrap() }
}

/// The direct room of two handles, as the relay names it.
pub(super) fn dm(a: &str, b: &str) -> RoomId {
    crate::ids::direct_room_id(&addr(a), &addr(b))
}

/// Sorts every list by its key: the backends agree on content, not on order.
pub(super) fn normalized(mut s: Snapshot) -> Snapshot {
    s.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    s.handles.sort_by(|a, b| a.handle.cmp(&b.handle));
    s.heads.sort();
    s.retired.sort();
    s.sessions.sort_by(|a, b| a.id.cmp(&b.id));
    s.invites.sort_by(|a, b| a.code.cmp(&b.code));
    s.entries.sort_by(|a, b| (&a.owner, &a.peer).cmp(&(&b.owner, &b.peer)));
    s.requests.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    s.deletions.sort_by(|a, b| (&a.deleter, &a.deleted).cmp(&(&b.deleter, &b.deleted)));
    s.blocks.sort_by(|a, b| (&a.owner, &a.target).cmp(&(&b.owner, &b.target)));
    s.rooms.sort_by(|a, b| a.id.cmp(&b.id));
    s.members.sort_by(|a, b| (&a.room, &a.member).cmp(&(&b.room, &b.member)));
    s.room_invites.sort_by(|a, b| (&a.room, &a.invitee).cmp(&(&b.room, &b.invitee)));
    s.room_counts.sort();
    s
}

pub(super) fn load(s: &mut dyn Storage) -> Snapshot {
    normalized(s.load().unwrap())
}

pub(super) fn apply_all(s: &mut dyn Storage, mutations: &[Mutation]) {
    for m in mutations {
        s.apply(m).unwrap();
    }
    s.commit().unwrap();
}

pub(super) fn handle_rec(name: &str, account: &str, position: u32) -> HandleRec {
    HandleRec {
        handle: handle(name),
        account: account.to_owned(),
        position,
        created_at: 1_700_000_000_000,
        profile: Profile::default(),
        activity: None,
        location: None,
        last_seen: None,
        acked: 0,
        invite_policy: huddle_shared::model::InvitePolicy::Auto,
    }
}

pub(super) fn room_rec(id: &RoomId, kind: RoomKind, owner: Option<&str>) -> RoomRec {
    RoomRec { id: id.clone(), kind, title: None, owner: owner.map(addr), created_at: 1, ended: false }
}

/// A direct message from `from` to `to` in their direct room.
pub(super) fn message(id: &str, from: &str, to: &str, at: i64) -> Message {
    Message {
        id: MessageId::new(id),
        room: dm(from, to),
        from: addr(from),
        to: Some(addr(to)),
        body: format!("body of {id} ✓"),
        sent_at: at,
        client_msg_id: format!("client-{id}"),
        receipts: false,
    }
}

/// A message in a room other than a direct one.
pub(super) fn room_message(id: &str, in_room: &str, from: &str, at: i64) -> Message {
    Message { room: room(in_room), to: None, ..message(id, from, from, at) }
}

/// Stores `m` as message `number` of its room, delivered to each `(handle, seq)`.
pub(super) fn store(m: &Message, number: u64, deliveries: &[(&str, u64)]) -> Mutation {
    Mutation::StoreMessage {
        message: m.clone(),
        number,
        deliveries: deliveries.iter().map(|&(h, seq)| (handle(h), seq)).collect(),
    }
}

pub(super) fn event_item(seq: u64, at: i64, event: Event) -> StreamItem {
    StreamItem { seq, at, body: ItemBody::Event { event } }
}

pub(super) fn append_event(who: &str, seq: u64, at: i64, event: Event) -> Mutation {
    Mutation::AppendItem { handle: handle(who), item: event_item(seq, at, event) }
}

pub(super) fn message_item(seq: u64, m: &Message) -> StreamItem {
    StreamItem { seq, at: m.sent_at, body: ItemBody::Message { message: m.clone() } }
}

pub(super) fn ids(page: &HistoryPage) -> Vec<&str> {
    page.messages.iter().map(|m| m.id.as_str()).collect()
}

pub(super) fn seqs(items: &[StreamItem]) -> Vec<u64> {
    items.iter().map(|i| i.seq).collect()
}

/// A receipt record not delivered or read yet.
pub(super) fn receipt_rec(
    message_id: &str,
    recipient: &str,
    sender: &str,
    in_room: &RoomId,
    seq: Option<u64>,
) -> ReceiptRec {
    ReceiptRec {
        message_id: MessageId::new(message_id),
        recipient: addr(recipient),
        sender: addr(sender),
        room: in_room.clone(),
        seq,
        delivered_at: None,
        read_at: None,
    }
}

pub(super) fn receipt_ids(records: &[ReceiptRec]) -> Vec<(&str, &str)> {
    records.iter().map(|r| (r.message_id.as_str(), r.recipient.handle.as_str())).collect()
}

pub(super) fn mid(id: &str) -> MessageId {
    MessageId::new(id)
}

macro_rules! conformance {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $scenario() { super::$module::$scenario(&mut super::MemoryStorage::default()) })*
        }
        mod sqlite_in_memory {
            $(#[test] fn $scenario() {
                super::$module::$scenario(&mut super::SqliteStorage::open_in_memory(&super::relay()).unwrap())
            })*
        }
        mod sqlite_file {
            $(#[test] fn $scenario() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("relay.db");
                super::$module::$scenario(&mut super::SqliteStorage::open(&path, &super::relay()).unwrap());
                // Everything the scenario committed must also read back after a reopen.
                let before = super::load(&mut super::SqliteStorage::open(&path, &super::relay()).unwrap());
                let mut reference = super::MemoryStorage::default();
                super::$module::$scenario(&mut reference);
                assert_eq!(before, super::load(&mut reference));
            })*
        }
    };
}

conformance!(
    accounts::empty_storage_loads_nothing,
    accounts::account_records_put_overwrite_delete,
    accounts::invite_policy_round_trips,
    accounts::remove_handle_takes_its_stream_and_retires_the_name,
    lists::list_records_put_overwrite_delete,
    lists::every_deletion_state_round_trips,
    rooms::room_records_put_overwrite_delete,
    rooms::room_counts_follow_the_messages,
    rooms::former_members_are_kept_until_they_join_again,
    streams::stream_pages,
    streams::a_room_of_one,
    streams::find_client_msg,
    streams::history_latest_and_before,
    streams::history_after,
    streams::history_since_joining,
    streams::history_bad_cursors,
    streams::messages_survive_handle_removal,
    streams::reads_see_applied_but_uncommitted,
    streams::every_event_round_trips,
    streams::a_message_item_is_not_appended_on_its_own,
    receipts::receipt_records_put_and_overwrite,
    receipts::undelivered_receipts_by_stream_range,
    receipts::receipt_items_in_streams,
    receipts::receipts_survive_handle_removal,
    huddles::huddle_records_put_overwrite_delete,
);
