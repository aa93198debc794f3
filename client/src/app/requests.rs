//! One-shot requests to the relay: each gets an id and a [`Pending`] note of what it was for, so that its answer
//! can be worded for the person when it comes back.

use huddle_shared::{ClientFrame, RequestId};

use super::{Cmd, Model, Pending};
use crate::net;

/// Sends a one-shot request, remembering what it was for.
pub fn request(model: &mut Model, pending: Pending, frame: impl FnOnce(RequestId) -> ClientFrame) -> Cmd {
    let id = model.next_id;
    model.next_id += 1;
    model.pending.insert(id, pending);
    Cmd::Net(net::Command::Request { id, frame: frame(id) })
}
