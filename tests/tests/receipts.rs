//! Delivery and read receipts over real WebSockets, on SQLite: a sender asks for them, the recipient's ack and read
//! come back as `receipt` items in the sender's stream, they wait there across a relay restart for a sender who was
//! away, history shows who has and has not received and read; in a group, "read by 2 of 3" with a member who
//! blocked the sender and never confirms.

use huddle_shared::client::*;
use huddle_shared::limits::MAX_READ_IDS;
use huddle_shared::model::{ItemBody, Receipt, ReceiptState, RequestAnswer, StreamItem};
use huddle_shared::{Address, ClientFrame, ErrorCode, MessageId, RoomId, ServerFrame};
use huddle_tests::{Client, TestRelay, addr, befriend};

fn receipts_in(items: &[StreamItem]) -> Vec<&Receipt> {
    items
        .iter()
        .filter_map(|i| match &i.body {
            ItemBody::Receipt { receipt } => Some(receipt),
            _ => None,
        })
        .collect()
}

/// The receipt items pushed to `c` (after a barrier).
async fn pushed_receipts(c: &mut Client) -> Vec<Receipt> {
    c.delivered()
        .await
        .into_iter()
        .filter_map(|i| match i.body {
            ItemBody::Receipt { receipt } => Some(receipt),
            _ => None,
        })
        .collect()
}

fn receipt(by: &str, state: ReceiptState, id: &MessageId, room: &RoomId) -> Receipt {
    Receipt { by: addr(by), state, message_ids: vec![id.clone()], room: room.clone() }
}

/// Waits for the `deliver` of message `id` and returns its stream item.
async fn wait_for_message(c: &mut Client, id: &MessageId) -> StreamItem {
    let frame = c
        .expect_push(|f| match f {
            ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } => {
                message.id == *id
            }
            _ => false,
        })
        .await;
    match frame {
        ServerFrame::Deliver { item, .. } => item,
        _ => unreachable!(),
    }
}

async fn read(c: &mut Client, ids: &[&MessageId]) {
    let message_ids = ids.iter().map(|id| (*id).clone()).collect();
    c.ok(|id| ClientFrame::Read(Read { id: Some(id), acting: None, message_ids })).await;
}

/// A `stored` answer: the message id, the recipients whose receipts are tracked, and the message's room.
fn stored(frame: ServerFrame) -> (MessageId, Vec<Address>, RoomId) {
    match frame {
        ServerFrame::Stored { message_id, recipients, room, .. } => (message_id, recipients, room),
        other => panic!("expected stored, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_reach_the_sender_and_wait_in_its_stream_across_a_restart() {
    let mut relay = TestRelay::start().await;
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    befriend(&mut alice, &mut bob, RequestAnswer::AcceptMutual).await;

    let send = |id| {
        ClientFrame::Send(SendMessage {
            id,
            acting: None,
            room: None,
            to: Some(addr("bob")),
            body: "did this arrive?".into(),
            client_msg_id: "a-1".into(),
            receipts: true,
        })
    };
    let (m, recipients, dm) = stored(alice.request(send).await);
    assert_eq!(recipients, vec![addr("bob")]);
    // A resend (say after a lost connection) answers the same.
    assert_eq!(stored(alice.request(send).await), (m.clone(), recipients, dm.clone()));

    let item = wait_for_message(&mut bob, &m).await;
    assert!(matches!(&item.body, ItemBody::Message { message } if message.receipts));
    assert!(pushed_receipts(&mut alice).await.is_empty(), "nothing before bob's ack");
    bob.ack(None, item.seq).await;
    assert_eq!(pushed_receipts(&mut alice).await, vec![receipt("bob", ReceiptState::Delivered, &m, &dm)]);

    // alice goes away; bob reads (without an id: no answer) and the relay restarts.
    drop(alice);
    bob.send_frame(&ClientFrame::Read(Read { id: None, acting: None, message_ids: vec![m.clone()] })).await;
    bob.barrier().await;
    // (Pushes may be there, alice's presence for one; no answer.)
    let answers: Vec<ServerFrame> =
        bob.drain().into_iter().filter(|f| matches!(f, ServerFrame::Ok { .. } | ServerFrame::Error { .. })).collect();
    assert!(answers.is_empty(), "a read without an id is not answered: {answers:?}");
    drop(bob);
    relay.restart().await;

    // The read waited in alice's stream; sync from the start finds her message and both reports, in order.
    let mut alice = relay.login("alice").await;
    let items = alice.sync_all(None, 0, None).await;
    let reports = receipts_in(&items);
    assert_eq!(
        reports,
        vec![&receipt("bob", ReceiptState::Delivered, &m, &dm), &receipt("bob", ReceiptState::Read, &m, &dm)]
    );
    let history = alice
        .request(|id| {
            ClientFrame::History(History {
                id,
                acting: None,
                room: None,
                with: Some(addr("bob")),
                before: None,
                after: None,
                limit: None,
            })
        })
        .await;
    let ServerFrame::History { messages, receipts, .. } = history else { panic!("{history:?}") };
    assert!(messages[0].receipts);
    assert_eq!(receipts.len(), 1);
    assert_eq!((receipts[0].message_id.as_str(), receipts[0].recipients.len()), (m.as_str(), 1));
    let bob_state = &receipts[0].recipients[0];
    assert_eq!(bob_state.who, addr("bob"));
    assert!(bob_state.delivered_at.is_some() && bob_state.read_at.is_some(), "{bob_state:?}");
    assert!(bob_state.delivered_at <= bob_state.read_at);

    // Reported once ever: reading again after the restart reports nothing.
    let mut bob = relay.login("bob").await;
    read(&mut bob, &[&m]).await;
    assert!(pushed_receipts(&mut alice).await.is_empty());
    // Too many ids at once is a bad frame, and the relay says why.
    let too_many: Vec<MessageId> = (0..=MAX_READ_IDS).map(|i| MessageId::new(format!("{i:036}"))).collect();
    let (code, message, _) =
        bob.error(|id| ClientFrame::Read(Read { id: Some(id), acting: None, message_ids: too_many })).await;
    assert_eq!(code, ErrorCode::BadFrame);
    assert!(message.contains("at most 256"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_message_is_read_by_two_of_three_when_the_third_blocked_the_sender() {
    let relay = TestRelay::start().await;
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    let mut carol = relay.user("carol").await;
    let mut dave = relay.user("dave").await;
    for friend in [&mut bob, &mut carol, &mut dave] {
        befriend(&mut alice, friend, RequestAnswer::AcceptMutual).await;
    }
    // They all know each other, so all join at once.
    befriend(&mut bob, &mut carol, RequestAnswer::AcceptMutual).await;
    befriend(&mut bob, &mut dave, RequestAnswer::AcceptMutual).await;
    befriend(&mut carol, &mut dave, RequestAnswer::AcceptMutual).await;
    let members = vec![addr("bob"), addr("carol"), addr("dave")];
    let group = match alice
        .request(|id| {
            ClientFrame::CreateGroup(CreateGroup {
                id,
                acting: None,
                members,
                title: None,
                promoted: false,
                opening: None,
            })
        })
        .await
    {
        ServerFrame::Room { room: group, .. } => group.id,
        other => panic!("expected a group, got {other:?}"),
    };
    dave.ok(|id| ClientFrame::Block(Block { id, acting: None, target: addr("alice") })).await;

    let g = group.clone();
    let (m, recipients, room) = stored(
        alice
            .request(|id| {
                ClientFrame::Send(SendMessage {
                    id,
                    acting: None,
                    room: Some(g),
                    to: None,
                    body: "who's in for saturday?".into(),
                    client_msg_id: "g-1".into(),
                    receipts: true,
                })
            })
            .await,
    );
    assert_eq!(recipients, vec![addr("bob"), addr("carol"), addr("dave")], "dave counts, so his block stays hidden");
    assert_eq!(room, group);

    // bob acks, then reads; carol reads without acking first.
    let item = wait_for_message(&mut bob, &m).await;
    bob.ack(None, item.seq).await;
    read(&mut bob, &[&m]).await;
    wait_for_message(&mut carol, &m).await;
    read(&mut carol, &[&m]).await;
    // dave never got it: acking his stream and naming the id change nothing.
    dave.barrier().await;
    assert!(
        dave.drain().iter().all(|f| !matches!(
            f,
            ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { .. }, .. }, .. }
        )),
        "nothing of alice's reaches dave"
    );
    let (dave_items, _, dave_head) = dave.sync_page(None, 0, None).await;
    assert!(dave_items.iter().all(|i| !matches!(i.body, ItemBody::Message { .. })));
    dave.ack(None, dave_head).await;
    read(&mut dave, &[&m]).await;

    let g = &group;
    let got = pushed_receipts(&mut alice).await;
    let by_bob: Vec<&Receipt> = got.iter().filter(|r| r.by == addr("bob")).collect();
    let by_carol: Vec<&Receipt> = got.iter().filter(|r| r.by == addr("carol")).collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        by_bob.into_iter().cloned().collect::<Vec<_>>(),
        vec![receipt("bob", ReceiptState::Delivered, &m, g), receipt("bob", ReceiptState::Read, &m, g)]
    );
    assert_eq!(
        by_carol.into_iter().cloned().collect::<Vec<_>>(),
        vec![receipt("carol", ReceiptState::Delivered, &m, g), receipt("carol", ReceiptState::Read, &m, g)]
    );
    // The members got no receipts of anyone's.
    for member in [&mut bob, &mut carol, &mut dave] {
        assert!(pushed_receipts(member).await.is_empty());
    }

    let g = group.clone();
    let history = alice
        .request(|id| {
            ClientFrame::History(History {
                id,
                acting: None,
                room: Some(g),
                with: None,
                before: None,
                after: None,
                limit: None,
            })
        })
        .await;
    let ServerFrame::History { receipts, .. } = history else { panic!("{history:?}") };
    let who_read: Vec<(String, bool)> = receipts[0]
        .recipients
        .iter()
        .map(|r| (r.who.handle.to_string(), r.read_at.is_some() && r.delivered_at.is_some()))
        .collect();
    assert_eq!(who_read, vec![("bob".into(), true), ("carol".into(), true), ("dave".into(), false)], "read by 2 of 3");
}
