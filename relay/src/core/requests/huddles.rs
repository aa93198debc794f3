//! Topics, subscriptions, publishing and huddle settings.

use huddle_shared::client::{
    CreateTopic, DeleteTopic, GetTopics, Publish, ReportActivity, ReportPlace, SetHuddleSettings, Subscribe,
    Unsubscribe, UpdateTopic,
};
use huddle_shared::{Millis, ServerFrame};

use super::{Caller, HandleRequest, Me, Reply};
use crate::core::Core;
use crate::core::domain::messages::Gate;
use crate::core::domain::topics::{IssueDraft, NewTopic, Publisher, TopicChanges};
use crate::core::fail::Fail;
use crate::storage::Storage;

impl HandleRequest for CreateTopic {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let w = &mut core.world;
        let new = NewTopic {
            id: self.topic,
            title: self.title,
            description: self.description,
            duration_ms: self.duration_ms,
            include_offline: self.include_offline,
        };
        let topic = w.create_topic(&me.address, new, now)?;
        let info = w.topic_info(&topic, &me.address);
        Ok(Reply::Frame(ServerFrame::Topic {
            id: self.id,
            acting: me.address.clone(),
            topic: Box::new(info),
            token: None,
        }))
    }
}

impl HandleRequest for UpdateTopic {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let changes = TopicChanges {
            title: self.title,
            description: self.description,
            duration_ms: self.duration_ms,
            include_offline: self.include_offline,
            publishers: self.publishers,
            new_token: self.new_token,
            drop_token: self.drop_token,
            schedule: self.schedule,
            time_zone: self.time_zone,
            feed: self.feed,
        };
        let (topic, token) = core.world.update_topic(&me.address, &self.topic, changes, now)?;
        let info = core.world.topic_info(&topic, &me.address);
        Ok(Reply::Frame(ServerFrame::Topic { id: self.id, acting: me.address.clone(), topic: Box::new(info), token }))
    }
}

impl HandleRequest for DeleteTopic {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.delete_topic(&me.address, &self.topic, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for GetTopics {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let topics = core.world.topics_for(&me.address);
        Ok(Reply::Frame(ServerFrame::Topics { id: self.id, acting: me.address.clone(), topics }))
    }
}

impl HandleRequest for Subscribe {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        let topic = core.world.subscribe(&me.address, &self.topic, self.duration_ms, now)?;
        let info = core.world.topic_info(&topic, &me.address);
        Ok(Reply::Frame(ServerFrame::Topic {
            id: self.id,
            acting: me.address.clone(),
            topic: Box::new(info),
            token: None,
        }))
    }
}

impl HandleRequest for Unsubscribe {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        core.world.unsubscribe(&me.address, &self.topic)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for Publish {
    fn handle<S: Storage>(self, core: &mut Core<S>, caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        // An issue is stored and sent to every subscriber: it costs its publisher's account what a message of its
        // size does, and nothing when it is refused.
        let account = core.conns.account(caller.conn).cloned().unwrap_or_default();
        let size =
            self.title.len() + self.body.as_ref().map_or(0, String::len) + self.link.as_ref().map_or(0, String::len);
        let disk_low = core.disk_low;
        super::messages::admit(disk_low, &mut core.budgets, (&account, size), Gate::Check, now)?;
        let draft = IssueDraft { title: self.title, body: self.body, link: self.link };
        let published = core.world.publish(&self.topic, Publisher::Handle(me.address.clone()), draft, now)?;
        super::messages::admit(disk_low, &mut core.budgets, (&account, size), Gate::Spend, now)?;
        Ok(Reply::Frame(ServerFrame::Published {
            id: self.id,
            topic: published.topic,
            issue: published.issue,
            room: published.room,
            members: u32::try_from(published.members.len()).unwrap_or(u32::MAX),
        }))
    }
}

impl HandleRequest for SetHuddleSettings {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, _now: Millis) -> Result<Reply, Fail> {
        let settings = core.world.set_huddle_settings(&me.address, self.settings)?;
        Ok(Reply::Frame(ServerFrame::HuddleSettings { id: Some(self.id), acting: me.address.clone(), settings }))
    }
}

impl HandleRequest for ReportActivity {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.report_activity(&me.address, &self.kind, &self.key, now)?;
        Ok(Reply::Ok)
    }
}

impl HandleRequest for ReportPlace {
    fn handle<S: Storage>(self, core: &mut Core<S>, _caller: &Caller, me: &Me, now: Millis) -> Result<Reply, Fail> {
        core.world.report_place(&me.address, &self.geohash, now)?;
        Ok(Reply::Ok)
    }
}
