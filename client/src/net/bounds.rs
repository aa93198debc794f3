//! Text a relay sends, cut to the protocol's limits before the rest of the client sees it. A relay is trusted with
//! messages, not with this client's memory and time: a field longer than the protocol allows — a message body over
//! [`MAX_BODY_BYTES`], a display name over 64 characters — is cut, so that no view wraps, measures or searches
//! megabytes of text (a 48 MiB body used to take the client's whole CPU for half a minute). A cut body ends with a
//! sentence saying so; a cut short field ends with `…`.
//!
//! Cut rather than refused: the rest of the frame (the other items of a sync page, the rest of a friend list) is
//! still good, and refusing it would leave a stream waiting for a page that never comes. A relay of a later version
//! with larger limits stays readable too.

use huddle_shared::ServerFrame;
use huddle_shared::limits::{
    MAX_ACTIVITY_CHARS, MAX_BIO_CHARS, MAX_BODY_BYTES, MAX_CLIENT_MSG_ID_BYTES, MAX_DEVICE_CHARS,
    MAX_DISPLAY_NAME_CHARS, MAX_GREETING_CHARS, MAX_ISSUE_TITLE_CHARS, MAX_LINK_BYTES, MAX_LOCATION_CHARS,
    MAX_NICKNAME_CHARS, MAX_NOTE_CHARS, MAX_ROOM_TITLE_CHARS, MAX_TOPIC_DESCRIPTION_CHARS, MAX_TOPIC_TITLE_CHARS,
};
use huddle_shared::model::{
    Event, FriendList, HuddleInfo, HuddleTrigger, ItemBody, Message, PendingInvite, Presence, Profile, RoomChange,
    RoomInfo, StreamItem, TopicInfo,
};
use huddle_shared::server::HandleInfo;

use super::warnings::grouped;

/// Sentences the relay writes for people (`error` and `bye` messages, a feed's failure): longer than any it writes.
pub const MAX_SENTENCE_CHARS: usize = 1000;
/// A topic's schedule and time zone (the relay allows 100 characters for a schedule).
const MAX_SCHEDULE_CHARS: usize = 100;

/// Cuts every over-long text field of `frame`; returns how many were cut.
pub fn cut_frame(frame: &mut ServerFrame) -> usize {
    let mut cut = Cut::default();
    cut.frame(frame);
    cut.fields
}

/// Cuts `body` to [`MAX_BODY_BYTES`], its end replaced by a sentence that says what came. True if it was cut.
pub fn cut_body(body: &mut String) -> bool {
    if body.len() <= MAX_BODY_BYTES {
        return false;
    }
    let mark = format!(
        "…\n[Huddle cut this message here: the relay sent {} bytes, more than the {} a message may hold.]",
        grouped(body.len() as u64),
        grouped(MAX_BODY_BYTES as u64)
    );
    // The mark fits within the limit too: a cut body is a valid body (cutting it again changes nothing).
    body.truncate(floor_char_boundary(body, MAX_BODY_BYTES - mark.len()));
    body.push_str(&mark);
    true
}

/// Cuts `text` to `max` characters, the last one `…`. True if it was cut.
pub fn cut_chars(text: &mut String, max: usize) -> bool {
    // Only the first `max + 1` characters are looked at, however long the text.
    match text.char_indices().nth(max) {
        None => false,
        Some(_) => {
            let keep = text.char_indices().nth(max.saturating_sub(1)).map_or(0, |(i, _)| i);
            text.truncate(keep);
            text.push('…');
            true
        }
    }
}

/// Cuts `text` to `max` bytes (identifiers and links, whose limits are in bytes). True if it was cut.
pub fn cut_bytes(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    text.truncate(floor_char_boundary(text, max));
    true
}

/// The largest char boundary of `s` at or before `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Walks a frame, counting what it cuts.
#[derive(Default)]
struct Cut {
    fields: usize,
}

impl Cut {
    fn count(&mut self, cut: bool) {
        self.fields += usize::from(cut);
    }

    fn chars(&mut self, text: &mut String, max: usize) {
        self.count(cut_chars(text, max));
    }

    fn opt_chars(&mut self, text: &mut Option<String>, max: usize) {
        if let Some(text) = text {
            self.chars(text, max);
        }
    }

    fn body(&mut self, body: &mut String) {
        self.count(cut_body(body));
    }

    fn frame(&mut self, frame: &mut ServerFrame) {
        match frame {
            ServerFrame::Error { message, .. } | ServerFrame::Bye { message, .. } => {
                self.chars(message, MAX_SENTENCE_CHARS);
            }
            ServerFrame::Session { handles, .. } | ServerFrame::Handles { handles, .. } => {
                handles.iter_mut().for_each(|h| self.handle(h));
            }
            ServerFrame::Sessions { sessions, .. } => {
                for session in sessions {
                    self.opt_chars(&mut session.device, MAX_DEVICE_CHARS);
                }
            }
            ServerFrame::Friends { list, .. } => self.friends(list),
            ServerFrame::Presence { presence, .. } => self.presence(presence),
            ServerFrame::Profile { profile, .. } => self.profile(profile),
            ServerFrame::Deliver { item, .. } => self.item(item),
            ServerFrame::Batch { items, .. } => items.iter_mut().for_each(|i| self.item(i)),
            ServerFrame::History { messages, .. } => messages.iter_mut().for_each(|m| self.message(m)),
            ServerFrame::Room { room, .. } => self.room(room),
            ServerFrame::Rooms { rooms, invites, .. } => {
                rooms.iter_mut().for_each(|r| self.room(r));
                invites.iter_mut().for_each(|i| self.invite(i));
            }
            ServerFrame::Topic { topic, .. } => self.topic(topic),
            ServerFrame::Topics { topics, .. } => topics.iter_mut().for_each(|t| self.topic(t)),
            ServerFrame::Hello { .. }
            | ServerFrame::Ok { .. }
            | ServerFrame::Stored { .. }
            | ServerFrame::RoomGone { .. }
            | ServerFrame::Typing { .. }
            | ServerFrame::Published { .. }
            | ServerFrame::HuddleSettings { .. }
            | ServerFrame::Unknown => {}
        }
    }

    fn handle(&mut self, handle: &mut HandleInfo) {
        self.profile(&mut handle.profile);
        self.opt_chars(&mut handle.activity, MAX_ACTIVITY_CHARS);
        self.opt_chars(&mut handle.location, MAX_LOCATION_CHARS);
    }

    fn profile(&mut self, profile: &mut Profile) {
        self.opt_chars(&mut profile.display_name, MAX_DISPLAY_NAME_CHARS);
        self.opt_chars(&mut profile.bio, MAX_BIO_CHARS);
    }

    fn presence(&mut self, presence: &mut Presence) {
        self.opt_chars(&mut presence.activity, MAX_ACTIVITY_CHARS);
        self.opt_chars(&mut presence.location, MAX_LOCATION_CHARS);
    }

    fn friends(&mut self, list: &mut FriendList) {
        for entry in &mut list.entries {
            self.opt_chars(&mut entry.nickname, MAX_NICKNAME_CHARS);
            self.opt_chars(&mut entry.note, MAX_NOTE_CHARS);
            self.presence(&mut entry.presence);
            self.profile(&mut entry.profile);
        }
        for request in list.requests_in.iter_mut().chain(list.requests_out.iter_mut()) {
            self.opt_chars(&mut request.greeting, MAX_GREETING_CHARS);
        }
    }

    fn item(&mut self, item: &mut StreamItem) {
        match &mut item.body {
            ItemBody::Message { message } => self.message(message),
            ItemBody::Event { event } => self.event(event),
            ItemBody::Receipt { .. } | ItemBody::Unknown => {}
        }
    }

    fn message(&mut self, message: &mut Message) {
        self.body(&mut message.body);
        self.count(cut_bytes(&mut message.client_msg_id, MAX_CLIENT_MSG_ID_BYTES));
    }

    fn event(&mut self, event: &mut Event) {
        match event {
            Event::RequestReceived { greeting, .. } => self.opt_chars(greeting, MAX_GREETING_CHARS),
            Event::RoomInvite { title, .. } => self.opt_chars(title, MAX_ROOM_TITLE_CHARS),
            Event::Room { change, .. } => self.change(change),
            Event::FeedFailed { reason, .. } => self.chars(reason, MAX_SENTENCE_CHARS),
            Event::RequestAnswered { .. }
            | Event::RequestCancelled { .. }
            | Event::DeletionNotice { .. }
            | Event::DeletionAnswered { .. }
            | Event::HandleRemoved { .. }
            | Event::Unknown => {}
        }
    }

    fn change(&mut self, change: &mut RoomChange) {
        match change {
            RoomChange::Created { title, .. } | RoomChange::Renamed { title } => {
                self.opt_chars(title, MAX_ROOM_TITLE_CHARS);
            }
            RoomChange::Formed { huddle, .. } => self.huddle(huddle),
            RoomChange::Joined { .. }
            | RoomChange::Left
            | RoomChange::Removed { .. }
            | RoomChange::OwnerChanged
            | RoomChange::Ended { .. }
            | RoomChange::TimeUp { .. }
            | RoomChange::Unknown => {}
        }
    }

    fn room(&mut self, room: &mut RoomInfo) {
        self.opt_chars(&mut room.title, MAX_ROOM_TITLE_CHARS);
        if let Some(huddle) = &mut room.huddle {
            self.huddle(huddle);
        }
    }

    fn invite(&mut self, invite: &mut PendingInvite) {
        self.opt_chars(&mut invite.title, MAX_ROOM_TITLE_CHARS);
    }

    fn huddle(&mut self, huddle: &mut HuddleInfo) {
        match &mut huddle.trigger {
            HuddleTrigger::Issue { topic_title, issue, .. } => {
                self.chars(topic_title, MAX_TOPIC_TITLE_CHARS);
                self.chars(&mut issue.title, MAX_ISSUE_TITLE_CHARS);
                if let Some(body) = &mut issue.body {
                    self.body(body);
                }
                if let Some(link) = &mut issue.link {
                    self.count(cut_bytes(link, MAX_LINK_BYTES));
                }
            }
            HuddleTrigger::Schedule { topic_title, .. } => self.chars(topic_title, MAX_TOPIC_TITLE_CHARS),
            HuddleTrigger::Activity { kind, .. } => self.chars(kind, MAX_ACTIVITY_CHARS),
            HuddleTrigger::Place { area, .. } => self.chars(area, MAX_LOCATION_CHARS),
            HuddleTrigger::Presence { .. } | HuddleTrigger::Unknown => {}
        }
    }

    fn topic(&mut self, topic: &mut TopicInfo) {
        self.chars(&mut topic.title, MAX_TOPIC_TITLE_CHARS);
        self.opt_chars(&mut topic.description, MAX_TOPIC_DESCRIPTION_CHARS);
        self.opt_chars(&mut topic.schedule, MAX_SCHEDULE_CHARS);
        self.opt_chars(&mut topic.time_zone, MAX_SCHEDULE_CHARS);
        if let Some(feed) = &mut topic.feed {
            self.count(cut_bytes(feed, MAX_LINK_BYTES));
        }
        self.opt_chars(&mut topic.feed_error, MAX_SENTENCE_CHARS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_shared::codec::{decode_server, encode_server};
    use huddle_shared::model::{FriendEntry, ShownState};
    use huddle_shared::{Address, MessageId, RoomId};

    fn addr(h: &str) -> Address {
        Address::parse(&format!("{h}@relay")).unwrap()
    }

    fn message(body: String) -> Message {
        Message {
            id: MessageId::new("m"),
            room: RoomId::parse("r@relay").unwrap(),
            from: addr("bob"),
            to: Some(addr("ann")),
            body,
            sent_at: 0,
            client_msg_id: "c".to_owned(),
            receipts: false,
        }
    }

    #[test]
    fn a_body_within_the_limit_is_left_alone() {
        let mut body = "é".repeat(MAX_BODY_BYTES / 2);
        assert!(!cut_body(&mut body));
        assert_eq!(body.len(), MAX_BODY_BYTES);
    }

    #[test]
    fn an_over_long_body_is_cut_on_a_character_and_says_so() {
        // One byte over, and a two-byte character straddling the limit.
        let mut body = format!("a{}", "é".repeat(MAX_BODY_BYTES / 2));
        assert!(cut_body(&mut body));
        let (kept, mark) = body.split_once("…\n").unwrap();
        assert_eq!(
            mark,
            "[Huddle cut this message here: the relay sent 8,193 bytes, more than the 8,192 a message may hold.]"
        );
        assert!(kept.starts_with("aé") && kept.ends_with('é'), "cut between characters");
        assert!(body.len() <= MAX_BODY_BYTES && body.len() > MAX_BODY_BYTES - 4, "{}", body.len());
        assert!(huddle_shared::text::check_body(&body).is_ok(), "a cut body is a valid body");
        assert!(!cut_body(&mut body), "and is not cut again");
    }

    #[test]
    fn short_fields_are_cut_to_their_limit_in_characters() {
        let mut name = "日".repeat(MAX_DISPLAY_NAME_CHARS);
        assert!(!cut_chars(&mut name, MAX_DISPLAY_NAME_CHARS));
        name.push('x');
        assert!(cut_chars(&mut name, MAX_DISPLAY_NAME_CHARS));
        assert_eq!(name.chars().count(), MAX_DISPLAY_NAME_CHARS);
        assert!(name.ends_with("日…"));
        let mut empty = String::new();
        assert!(!cut_chars(&mut empty, 0));
    }

    #[test]
    fn every_text_of_a_decoded_frame_is_bounded() {
        let huge = "x".repeat(1_000_000);
        let entry = FriendEntry {
            address: addr("bob"),
            room: RoomId::parse("r@relay").unwrap(),
            nickname: Some(huge.clone()),
            note: Some(huge.clone()),
            since: 0,
            removed_you: false,
            presence: Presence {
                state: ShownState::Online,
                activity: Some(huge.clone()),
                location: Some(huge.clone()),
                last_seen: None,
            },
            profile: Profile { display_name: Some(huge.clone()), bio: Some(huge.clone()) },
        };
        let list = FriendList { entries: vec![entry], ..FriendList::default() };
        let mut frame = ServerFrame::Friends { id: None, acting: addr("ann"), list };
        assert_eq!(cut_frame(&mut frame), 6);
        assert!(encode_server(&frame).len() < 10_000);

        let item = StreamItem { seq: 1, at: 0, body: ItemBody::Message { message: message(huge.clone()) } };
        let text =
            encode_server(&ServerFrame::Batch { id: 1, acting: addr("ann"), items: vec![item], more: false, head: 1 });
        let mut frame = decode_server(&text).unwrap();
        assert_eq!(cut_frame(&mut frame), 1);
        let ServerFrame::Batch { items, .. } = &frame else { panic!("{frame:?}") };
        let ItemBody::Message { message } = &items[0].body else { panic!() };
        assert!(message.body.len() < MAX_BODY_BYTES + 200);
        assert!(message.body.contains("1,000,000 bytes"));

        let mut frame = ServerFrame::error_with(None, huddle_shared::ErrorCode::Internal, huge);
        assert_eq!(cut_frame(&mut frame), 1);
        let mut frame = frame.clone();
        assert_eq!(cut_frame(&mut frame), 0, "what was cut once stays within the limits");
    }
}
