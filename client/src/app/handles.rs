//! The account's handles: which one is acting, and addresses typed without a relay.

use huddle_shared::Address;

use super::notices::notify;
use super::{Level, Model};

/// Fills in our relay for an address typed without one.
pub fn resolve(model: &Model, address: Address) -> Address {
    match &model.session.relay {
        Some(relay) => address.resolve(relay),
        None => address,
    }
}

/// Makes handle `index` the acting one.
pub fn switch_handle(model: &mut Model, index: usize) {
    if index < model.handles.len() && index != model.active {
        // The draft being written belongs to the conversation it was written for, on the handle that had it.
        let draft = std::mem::take(&mut model.input);
        if let Some(h) = model.handle_mut() {
            if let Some(open) = h.open.clone().filter(|_| !draft.is_empty()) {
                h.drafts.insert(open, draft);
            }
        }
        model.active = index;
        model.search = None;
        if let Some(h) = model.handle_mut() {
            if let Some(restored) = h.open.clone().and_then(|k| h.drafts.remove(&k)) {
                model.input = restored;
            }
        }
        let name = model.handles[index].address.to_string();
        notify(model, Level::Info, format!("Now acting as {name}."));
    }
}
