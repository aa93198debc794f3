//! Rooms of every kind, members, pending invitations, and each room's message count.

use super::*;
use crate::storage::{MemberRec, RoomInviteRec};

pub fn room_records_put_overwrite_delete(s: &mut dyn Storage) {
    let (alice, bob, carol, remote) = (addr("alice"), addr("bob"), addr("carol"), addr("zed@far.example"));
    let (g1, g2, direct) = (room("g-1"), room("g-2@far.example"), dm("alice", "bob"));
    let mut r1 = RoomRec {
        title: Some("Climbing \"crew\" ✓".to_owned()),
        created_at: 1_700_000_000_000,
        ..room_rec(&g1, RoomKind::Group, Some("alice"))
    };
    let r2 = RoomRec { created_at: -3, ended: true, ..room_rec(&g2, RoomKind::Group, Some("zed@far.example")) };
    let r3 = room_rec(&direct, RoomKind::Direct, None);
    let member = |room: &RoomId, who: &Address, since: u64| MemberRec {
        room: room.clone(),
        member: who.clone(),
        joined_at: 10 + since as i64,
        since,
    };
    let m_alice = member(&g1, &alice, 0);
    let m_bob = member(&g1, &bob, 3);
    let m_remote = member(&g1, &remote, 7);
    // The same handle in another room is another record.
    let m_alice2 = member(&g2, &alice, 1 << 40);
    let (m_dm_a, m_dm_b) = (member(&direct, &alice, 0), member(&direct, &bob, 0));
    let invite = |room: &RoomId, invitee: &Address, by: &Address, at| RoomInviteRec {
        room: room.clone(),
        invitee: invitee.clone(),
        by: by.clone(),
        at,
    };
    let i_carol = invite(&g1, &carol, &alice, 5);
    let i_remote = invite(&g1, &remote, &bob, 6);
    let i_carol2 = invite(&g2, &carol, &remote, 7);

    apply_all(
        s,
        &[
            Mutation::PutRoom(r1.clone()),
            Mutation::PutRoom(r2.clone()),
            Mutation::PutRoom(r3.clone()),
            Mutation::PutMember(m_alice.clone()),
            Mutation::PutMember(m_bob.clone()),
            Mutation::PutMember(m_remote.clone()),
            Mutation::PutMember(m_alice2.clone()),
            Mutation::PutMember(m_dm_a.clone()),
            Mutation::PutMember(m_dm_b.clone()),
            Mutation::PutRoomInvite(i_carol.clone()),
            Mutation::PutRoomInvite(i_remote.clone()),
            Mutation::PutRoomInvite(i_carol2.clone()),
        ],
    );
    let snapshot =
        |rooms, members, room_invites| normalized(Snapshot { rooms, members, room_invites, ..Snapshot::default() });
    assert_eq!(
        load(s),
        snapshot(
            vec![r1.clone(), r2.clone(), r3.clone()],
            vec![m_alice.clone(), m_bob.clone(), m_remote.clone(), m_alice2.clone(), m_dm_a.clone(), m_dm_b.clone()],
            vec![i_carol.clone(), i_remote.clone(), i_carol2.clone()]
        )
    );

    // Overwrites replace the whole record, keyed by its key only.
    r1.title = None;
    r1.owner = Some(bob.clone());
    r1.ended = true;
    let m_bob_b = MemberRec { joined_at: 99, since: 11, ..m_bob.clone() };
    let i_carol_b = RoomInviteRec { by: bob.clone(), at: 50, ..i_carol.clone() };
    apply_all(
        s,
        &[
            Mutation::PutRoom(r1.clone()),
            Mutation::PutMember(m_bob_b.clone()),
            Mutation::PutRoomInvite(i_carol_b.clone()),
        ],
    );
    assert_eq!(
        load(s),
        snapshot(
            vec![r1.clone(), r2.clone(), r3.clone()],
            vec![m_alice.clone(), m_bob_b.clone(), m_remote.clone(), m_alice2.clone(), m_dm_a.clone(), m_dm_b.clone()],
            vec![i_carol_b.clone(), i_remote.clone(), i_carol2.clone()]
        )
    );

    // Deletes remove exactly the keyed record; deleting what is not there is not an error.
    apply_all(
        s,
        &[
            Mutation::DeleteMember { room: g1.clone(), member: alice.clone() },
            Mutation::DeleteRoomInvite { room: g1.clone(), invitee: carol.clone() },
            Mutation::DeleteMember { room: room("g-3"), member: bob.clone() },
            Mutation::DeleteMember { room: g2.clone(), member: bob.clone() },
            Mutation::DeleteMember { room: g1.clone(), member: addr("alice@far.example") },
            Mutation::DeleteRoomInvite { room: g2.clone(), invitee: remote.clone() },
            Mutation::DeleteRoomInvite { room: g1.clone(), invitee: carol.clone() },
        ],
    );
    assert_eq!(
        load(s),
        snapshot(vec![r1, r2, r3], vec![m_bob_b, m_remote, m_alice2, m_dm_a, m_dm_b], vec![i_remote, i_carol2])
    );
}

pub fn room_counts_follow_the_messages(s: &mut dyn Storage) {
    let direct = dm("alice", "bob");
    apply_all(
        s,
        &[
            store(&message("m1", "alice", "bob", 1), 1, &[("alice", 1), ("bob", 1)]),
            store(&room_message("g1", "g", "alice", 2), 1, &[("alice", 2)]),
            store(&message("m2", "bob", "alice", 3), 2, &[("alice", 3), ("bob", 2)]),
            store(&room_message("g2", "g", "bob", 4), 2, &[("bob", 3)]),
            store(&room_message("g3", "g", "bob", 5), 3, &[("bob", 4)]),
        ],
    );
    assert_eq!(
        load(s).room_counts,
        normalized(Snapshot { room_counts: vec![(direct, 2), (room("g"), 3)], ..Snapshot::default() }).room_counts
    );
}

pub fn former_members_are_kept_until_they_join_again(s: &mut dyn Storage) {
    let (g1, g2) = (room("g-1"), room("g-2"));
    let (bob, carol) = (addr("bob"), addr("carol"));
    apply_all(
        s,
        &[
            Mutation::PutFormer { room: g2.clone(), member: carol.clone() },
            Mutation::PutFormer { room: g1.clone(), member: carol.clone() },
            Mutation::PutFormer { room: g1.clone(), member: bob.clone() },
            // Recording twice is harmless.
            Mutation::PutFormer { room: g1.clone(), member: bob.clone() },
        ],
    );
    assert_eq!(
        load(s).former,
        vec![(g1.clone(), bob.clone()), (g1.clone(), carol.clone()), (g2.clone(), carol.clone())],
        "in room, then member order"
    );
    apply_all(
        s,
        &[
            Mutation::DeleteFormer { room: g1.clone(), member: bob.clone() },
            Mutation::DeleteFormer { room: g2.clone(), member: bob.clone() },
        ],
    );
    assert_eq!(load(s).former, vec![(g1, carol.clone()), (g2, carol)]);
}
