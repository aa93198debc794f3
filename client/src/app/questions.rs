//! Questions that arrive on their own — friend requests, group invitations, deletion requests, promotion — wait
//! here. They never take the keyboard from someone typing: the status bar counts them, and a question opens only
//! when the person asks for it (the open-question key, or Enter on its row under Requests).

use super::notices::notify;
use super::{Dialog, Level, Model, Question, QuestionAbout};

/// Adds a question for handle `index`, once, and says so in a notice.
pub fn ask(model: &mut Model, index: usize, about: QuestionAbout, notice: String) {
    let Some(h) = model.handles.get(index) else { return };
    let acting = h.address.handle.clone();
    if model.questions.iter().any(|q| q.acting == acting && q.about == about) {
        return;
    }
    model.questions.push(Question { acting, at: model.now, about });
    notify(model, Level::Info, notice);
}

/// Drops the questions of handle `index` that `gone` says no longer stand (a request withdrawn, an invitation
/// answered elsewhere), and closes any of them that is open.
pub fn forget(model: &mut Model, index: usize, gone: impl Fn(&QuestionAbout) -> bool) {
    let Some(h) = model.handles.get(index) else { return };
    let acting = h.address.handle.clone();
    model.questions.retain(|q| !(q.acting == acting && gone(&q.about)));
    model.dialogs.retain(|d| !matches!(d, Dialog::Confirm(c) if c.question.as_ref().is_some_and(&gone)));
}

/// Opens the oldest question: the active handle's first, then any other's (switching to that handle, so that the
/// question is read with the right list in front of the person).
pub fn open_next(model: &mut Model) -> bool {
    let active = model.handle().map(|h| h.address.handle.clone());
    let pick = model
        .questions
        .iter()
        .position(|q| Some(&q.acting) == active.as_ref())
        .or_else(|| (!model.questions.is_empty()).then_some(0));
    let Some(i) = pick else { return false };
    let question = model.questions[i].clone();
    let Some(index) = model.handles.iter().position(|h| h.address.handle == question.acting) else {
        model.questions.remove(i);
        return false;
    };
    if index != model.active {
        model.active = index;
    }
    open(model, &question.about);
    true
}

/// Opens the question about `about` for the active handle.
pub fn open(model: &mut Model, about: &QuestionAbout) {
    let Some(h) = model.handle() else { return };
    let confirm = super::confirm::for_question(h, about);
    model.dialogs.push_front(Dialog::Confirm(Box::new(confirm)));
}

/// The question was answered (not put off): it leaves the list.
pub fn answered(model: &mut Model, about: &QuestionAbout) {
    let active = model.handle().map(|h| h.address.handle.clone());
    model.questions.retain(|q| !(Some(&q.acting) == active.as_ref() && q.about == *about));
}
