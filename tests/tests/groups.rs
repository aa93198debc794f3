//! Group rooms over real WebSockets, on SQLite: three people form a group, talk, the group survives a relay
//! restart (members, owner, history since joining), someone leaves and ownership passes on.

use huddle_shared::client::*;
use huddle_shared::model::{Event, InvitePolicy, ItemBody, RequestAnswer, RoomChange, StreamItem};
use huddle_shared::{ClientFrame, ServerFrame};
use huddle_tests::{TestRelay, addr};

fn group_of(frame: ServerFrame) -> huddle_shared::model::RoomInfo {
    match frame {
        ServerFrame::Room { room: group, .. } => group,
        other => panic!("expected a group, got {other:?}"),
    }
}

fn is_group_message(f: &ServerFrame, body: &str) -> bool {
    matches!(f, ServerFrame::Deliver { item: StreamItem { body: ItemBody::Message { message }, .. }, .. } if message.body == body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_forms_talks_survives_a_restart_and_passes_ownership_on() {
    let mut relay = TestRelay::start().await;
    let mut alice = relay.user("alice").await;
    let mut bob = relay.user("bob").await;
    let mut carol = relay.user("carol").await;
    for friend in [&mut bob, &mut carol] {
        alice.friend_request(&friend.address().handle.to_string(), None).await;
        friend.answer_request("alice", RequestAnswer::AcceptMutual).await;
    }
    bob.friend_request("carol", None).await;
    carol.answer_request("bob", RequestAnswer::AcceptMutual).await;
    // carol wants to be asked; bob (friend of everyone in it, default setting) joins at once.
    carol.ok(|id| ClientFrame::SetInvitePolicy(SetInvitePolicy { id, acting: None, policy: InvitePolicy::Ask })).await;
    let members = vec![addr("bob"), addr("carol")];
    let g = group_of(
        alice
            .request(|id| {
                ClientFrame::CreateGroup(CreateGroup {
                    id,
                    acting: None,
                    members,
                    title: Some("climbing".into()),
                    promoted: false,
                    opening: None,
                })
            })
            .await,
    );
    assert_eq!(g.members.iter().map(|m| m.address.handle.to_string()).collect::<Vec<_>>(), vec!["alice", "bob"]);
    assert_eq!(g.invited, vec![addr("carol")]);
    carol
        .expect_push(|f| {
            matches!(
                f,
                ServerFrame::Deliver {
                    item: StreamItem { body: ItemBody::Event { event: Event::RoomInvite { .. } }, .. },
                    ..
                }
            )
        })
        .await;
    let (group, body) = (g.id.clone(), "first, before carol".to_owned());
    let stored = alice
        .request(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: Some(group),
                to: None,
                body,
                client_msg_id: "a1".into(),
                receipts: false,
            })
        })
        .await;
    assert!(matches!(stored, ServerFrame::Stored { .. }), "{stored:?}");
    bob.expect_push(|f| is_group_message(f, "first, before carol")).await;
    let group = g.id.clone();
    carol
        .ok(|id| ClientFrame::AnswerRoomInvite(AnswerRoomInvite { id, acting: None, room: group, accept: true }))
        .await;
    let (group, body) = (g.id.clone(), "hi both!".to_owned());
    let stored = carol
        .request(|id| {
            ClientFrame::Send(SendMessage {
                id,
                acting: None,
                room: Some(group),
                to: None,
                body,
                client_msg_id: "c1".into(),
                receipts: false,
            })
        })
        .await;
    assert!(matches!(stored, ServerFrame::Stored { .. }), "{stored:?}");
    alice.expect_push(|f| is_group_message(f, "hi both!")).await;
    bob.expect_push(|f| is_group_message(f, "hi both!")).await;

    // The relay restarts: everything is still there.
    drop((alice, bob, carol));
    relay.restart().await;
    let mut carol = relay.login("carol").await;
    let groups = carol.request(|id| ClientFrame::GetRooms(GetRooms { id, acting: None })).await;
    let ServerFrame::Rooms { rooms: groups, policy, .. } = groups else { panic!("{groups:?}") };
    assert_eq!((groups.len(), policy), (1, InvitePolicy::Ask));
    assert_eq!(groups[0].title.as_deref(), Some("climbing"));
    let group = g.id.clone();
    let history = carol
        .request(|id| {
            ClientFrame::History(History {
                id,
                acting: None,
                room: Some(group),
                with: None,
                before: None,
                after: None,
                limit: None,
            })
        })
        .await;
    let ServerFrame::History { messages, .. } = history else { panic!("{history:?}") };
    assert_eq!(
        messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["hi both!"],
        "only since carol joined"
    );

    // alice, the owner, leaves: bob (who joined first after her) owns it now.
    let mut alice = relay.login("alice").await;
    let group = g.id.clone();
    alice.ok(|id| ClientFrame::LeaveRoom(LeaveRoom { id, acting: None, room: group })).await;
    let pushed = carol
        .expect_push(|f| matches!(f, ServerFrame::Room { room: group, .. } if group.owner == Some(addr("bob"))))
        .await;
    assert_eq!(group_of(pushed).members.len(), 2);
    carol
        .expect_push(|f| {
            matches!(
                f,
                ServerFrame::Deliver {
                    item: StreamItem {
                        body: ItemBody::Event { event: Event::Room { change: RoomChange::OwnerChanged, .. } },
                        ..
                    },
                    ..
                }
            )
        })
        .await;
}
