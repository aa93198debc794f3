//! Receipts in the client: asking, marks from the relay's reports, reporting what we displayed.

use super::*;
use huddle_shared::MessageId;
use huddle_shared::client::Read;

fn stored_with(t: &mut T, cmid: &str, id: &str, recipients: Vec<Address>) {
    let now = t.model.now;
    t.net(net::Event::Stored {
        acting: addr("alice").handle,
        client_msg_id: cmid.into(),
        message_id: id.into(),
        seq: 5,
        sent_at: now,
        recipients,
    });
}

fn sent(cmds: &[Cmd]) -> net::OutgoingMessage {
    cmds.iter()
        .find_map(|c| match c {
            Cmd::Net(Command::Message(m)) => Some(m.clone()),
            _ => None,
        })
        .expect("a message was sent")
}

fn receipt(seq: u64, by: &str, state: ReceiptState, ids: &[&str], group: Option<&str>) -> net::Event {
    let receipt = Receipt {
        by: addr(by),
        state,
        message_ids: ids.iter().map(|s| MessageId::from(*s)).collect(),
        room: group.map_or_else(|| dm_room("alice", by), room),
    };
    net::Event::Item { acting: addr("alice"), item: StreamItem { seq, at: 50, body: ItemBody::Receipt { receipt } } }
}

fn bob_open() -> T {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    t
}

fn mark(t: &T, key: &ConvKey, id: &str) -> Option<String> {
    t.model.handle().unwrap().conversations[key].receipts.get(&MessageId::from(id)).map(|r| r.summary())
}

#[test]
fn confirm_asks_and_the_marks_follow_the_reports() {
    let mut t = bob_open();
    t.typed("/confirm did you get the tickets?");
    let m = sent(&t.send(key(KeyCode::Enter)));
    assert!(m.receipts && m.body == "did you get the tickets?", "{m:?}");
    // A plain message does not ask (the default setting is off).
    t.typed("plain");
    assert!(!sent(&t.send(key(KeyCode::Enter))).receipts);

    stored_with(&mut t, &m.client_msg_id, "m1", vec![addr("bob")]);
    assert_eq!(mark(&t, &dm("bob"), "m1").as_deref(), Some("✓ sent"));
    t.net(receipt(6, "bob", ReceiptState::Delivered, &["m1"], None));
    assert_eq!(mark(&t, &dm("bob"), "m1").as_deref(), Some("✓✓ delivered"));
    t.net(receipt(7, "bob", ReceiptState::Read, &["m1"], None));
    assert_eq!(mark(&t, &dm("bob"), "m1").as_deref(), Some("✓✓ read"));

    // The key lists who has: a dialog on the latest tracked message.
    t.model.focus = Focus::Log;
    t.send(alt('r'));
    assert!(matches!(t.model.dialogs.front(), Some(Dialog::Receipts { message_id, .. }) if message_id == "m1"));
    t.send(key(KeyCode::Esc));
    assert!(t.model.dialogs.is_empty());
}

#[test]
fn the_setting_asks_for_every_message() {
    let mut t = bob_open();
    t.model.chat.receipts = true;
    t.typed("hello");
    assert!(sent(&t.send(key(KeyCode::Enter))).receipts);
}

#[test]
fn group_marks_count_recipients() {
    let mut t = bob_open();
    let key = ConvKey::Room(room("g-1"));
    let members =
        ["alice", "bob", "carol", "dave"].iter().map(|n| RoomMember { address: addr(n), joined_at: 0 }).collect();
    let group = RoomInfo {
        id: room("g-1"),
        kind: RoomKind::Group,
        title: None,
        owner: Some(addr("alice")),
        members,
        invited: vec![],
        created_at: 0,
        huddle: None,
    };
    t.net(net::Event::Push(ServerFrame::Room { id: None, acting: addr("alice"), room: group }));
    t.model.handle_mut().unwrap().open = Some(key.clone());
    t.model.focus = Focus::Input;
    t.typed("/confirm 7pm at the gym?");
    let m = sent(&t.send(key_enter()));
    assert_eq!(m.to, net::Target::Room(room("g-1")));
    stored_with(&mut t, &m.client_msg_id, "g1", vec![addr("bob"), addr("carol"), addr("dave")]);
    assert_eq!(mark(&t, &key, "g1").as_deref(), Some("✓ sent"));
    t.net(receipt(6, "bob", ReceiptState::Delivered, &["g1"], Some("g-1")));
    t.net(receipt(7, "carol", ReceiptState::Delivered, &["g1"], Some("g-1")));
    assert_eq!(mark(&t, &key, "g1").as_deref(), Some("✓✓ delivered to 2 of 3"));
    t.net(receipt(8, "bob", ReceiptState::Read, &["g1"], Some("g-1")));
    t.net(receipt(9, "carol", ReceiptState::Read, &["g1"], Some("g-1")));
    assert_eq!(mark(&t, &key, "g1").as_deref(), Some("✓✓ read by 2 of 3"));
}

fn key_enter() -> Msg {
    key(KeyCode::Enter)
}

fn asking(seq: u64, from: &str, id: &str) -> net::Event {
    let message = Message {
        id: id.into(),
        room: dm_room(from, "alice"),
        from: addr(from),
        to: Some(addr("alice")),
        body: "got it?".into(),
        sent_at: 40,
        client_msg_id: format!("c{seq}"),
        receipts: true,
    };
    net::Event::Item { acting: addr("alice"), item: StreamItem { seq, at: 40, body: ItemBody::Message { message } } }
}

fn reads(cmds: &[Cmd]) -> Vec<Vec<MessageId>> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Net(Command::Signal(ClientFrame::Read(Read { message_ids, .. }))) => Some(message_ids.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn we_report_read_when_the_conversation_is_on_screen() {
    let mut t = T::main("alice");
    t.friends("alice", &[("bob", ShownState::Online), ("carol", ShownState::Online)], &[]);
    // Not open: nothing is reported.
    assert!(reads(&t.net(asking(1, "bob", "b1"))).is_empty());
    // Opening the conversation displays it: reported once.
    t.select("bob");
    assert_eq!(reads(&t.send(key(KeyCode::Enter))), vec![vec![MessageId::from("b1")]]);
    assert!(reads(&t.send(Msg::Tick(t.model.now + 1000))).is_empty(), "once");
    // While open, new ones are reported as they arrive.
    assert_eq!(reads(&t.net(asking(2, "bob", "b2"))), vec![vec![MessageId::from("b2")]]);
    // Messages that did not ask are never reported.
    let mut quiet = asking(3, "bob", "b3");
    if let net::Event::Item { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } = &mut quiet {
        message.receipts = false;
    }
    assert!(reads(&t.net(quiet)).is_empty());
}

#[test]
fn read_receipts_off_reports_nothing() {
    let mut t = T::main("alice");
    t.model.chat.read_receipts = false;
    t.friends("alice", &[("bob", ShownState::Online)], &[]);
    t.select("bob");
    t.send(key(KeyCode::Enter));
    assert!(reads(&t.net(asking(1, "bob", "b1"))).is_empty());
}
