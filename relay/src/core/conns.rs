//! Connections as the core sees them: plain data, no sockets. Which phase each is in, which handles it acts for,
//! with which availability, and from which stream position it receives live pushes.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use huddle_shared::model::PresenceState;
use huddle_shared::{Handle, ProtocolVersion, SessionId};

use crate::storage::AccountId;

/// Identifies a connection for the lifetime of the relay process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

#[derive(Debug, Clone)]
pub struct ActingHandle {
    pub handle: Handle,
    pub state: PresenceState,
    /// Stream items with a sequence above this are pushed live; the rest are fetched with `sync`.
    pub live_from: u64,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Connected, no `hello` yet.
    Fresh,
    Greeted,
    /// A password job for this connection is running; further login attempts wait for it.
    Authenticating,
    Authed {
        account: AccountId,
        session: SessionId,
        handles: Vec<ActingHandle>,
    },
}

#[derive(Debug, Clone)]
struct Conn {
    ip: IpAddr,
    phase: Phase,
    /// What `hello` agreed on (none before it).
    version: Option<ProtocolVersion>,
    features: Vec<&'static str>,
}

#[derive(Debug, Default)]
pub struct Conns {
    conns: HashMap<ConnId, Conn>,
    /// handle -> connections acting for it
    acting: HashMap<Handle, BTreeSet<ConnId>>,
}

impl Conns {
    pub fn connect(&mut self, conn: ConnId, ip: IpAddr) {
        // Kept as the address one person holds (an IPv6 /64): every limit per address counts by it.
        let ip = super::limiter::address_key(ip);
        self.conns.insert(conn, Conn { ip, phase: Phase::Fresh, version: None, features: Vec::new() });
    }

    /// Forgets a connection; returns the handles it acted for.
    pub fn disconnect(&mut self, conn: ConnId) -> Vec<Handle> {
        let handles = self.clear_auth(conn);
        self.conns.remove(&conn);
        handles
    }

    pub fn exists(&self, conn: ConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    pub fn ip(&self, conn: ConnId) -> Option<IpAddr> {
        self.conns.get(&conn).map(|c| c.ip)
    }

    /// `hello` agreed on a version and features (a later `hello` agrees again).
    pub fn greet(&mut self, conn: ConnId, version: ProtocolVersion, features: Vec<&'static str>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if matches!(c.phase, Phase::Fresh) {
                c.phase = Phase::Greeted;
            }
            c.version = Some(version);
            c.features = features;
        }
    }

    /// Whether the connection asked for this feature in its `hello`.
    pub fn has_feature(&self, conn: ConnId, feature: &str) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.features.contains(&feature))
    }

    pub fn greeted(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| !matches!(c.phase, Phase::Fresh))
    }

    /// Greeted and neither logged in nor in the middle of logging in.
    pub fn can_authenticate(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| matches!(c.phase, Phase::Greeted))
    }

    pub fn authed(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| matches!(c.phase, Phase::Authed { .. }))
    }

    pub fn set_authenticating(&mut self, conn: ConnId, busy: bool) {
        if let Some(c) = self.conns.get_mut(&conn) {
            match (&c.phase, busy) {
                (Phase::Greeted, true) => c.phase = Phase::Authenticating,
                (Phase::Authenticating, false) => c.phase = Phase::Greeted,
                _ => {}
            }
        }
    }

    pub fn authenticate(&mut self, conn: ConnId, account: AccountId, session: SessionId, handles: Vec<ActingHandle>) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        for h in &handles {
            self.acting.entry(h.handle.clone()).or_default().insert(conn);
        }
        c.phase = Phase::Authed { account, session, handles };
    }

    /// Back to greeted; returns the handles the connection acted for.
    pub fn clear_auth(&mut self, conn: ConnId) -> Vec<Handle> {
        let Some(c) = self.conns.get_mut(&conn) else { return Vec::new() };
        let Phase::Authed { handles, .. } = std::mem::replace(&mut c.phase, Phase::Greeted) else {
            return Vec::new();
        };
        let names: Vec<Handle> = handles.into_iter().map(|h| h.handle).collect();
        for h in &names {
            self.unlink(h, conn);
        }
        names
    }

    fn unlink(&mut self, handle: &Handle, conn: ConnId) {
        if let Some(set) = self.acting.get_mut(handle) {
            set.remove(&conn);
            if set.is_empty() {
                self.acting.remove(handle);
            }
        }
    }

    pub fn account(&self, conn: ConnId) -> Option<&AccountId> {
        match &self.conns.get(&conn)?.phase {
            Phase::Authed { account, .. } => Some(account),
            _ => None,
        }
    }

    pub fn session(&self, conn: ConnId) -> Option<&SessionId> {
        match &self.conns.get(&conn)?.phase {
            Phase::Authed { session, .. } => Some(session),
            _ => None,
        }
    }

    pub fn handles(&self, conn: ConnId) -> &[ActingHandle] {
        match self.conns.get(&conn).map(|c| &c.phase) {
            Some(Phase::Authed { handles, .. }) => handles,
            _ => &[],
        }
    }

    fn handle_mut(&mut self, conn: ConnId, handle: &Handle) -> Option<&mut ActingHandle> {
        match &mut self.conns.get_mut(&conn)?.phase {
            Phase::Authed { handles, .. } => handles.iter_mut().find(|h| &h.handle == handle),
            _ => None,
        }
    }

    pub fn set_state(&mut self, conn: ConnId, handle: &Handle, state: PresenceState) {
        if let Some(h) = self.handle_mut(conn, handle) {
            h.state = state;
        }
    }

    pub fn live_from(&self, conn: ConnId, handle: &Handle) -> Option<u64> {
        self.handles(conn).iter().find(|h| &h.handle == handle).map(|h| h.live_from)
    }

    /// Adds a handle to every authenticated connection of `account`.
    pub fn add_handle(&mut self, account: &str, acting: ActingHandle) {
        let conns: Vec<ConnId> = self.conns_of_account(account);
        for conn in conns {
            if let Some(Conn { phase: Phase::Authed { handles, .. }, .. }) = self.conns.get_mut(&conn) {
                handles.push(acting.clone());
                self.acting.entry(acting.handle.clone()).or_default().insert(conn);
            }
        }
    }

    /// Removes a handle from every connection acting for it.
    pub fn remove_handle(&mut self, handle: &Handle) {
        for conn in self.acting_for(handle) {
            if let Some(Conn { phase: Phase::Authed { handles, .. }, .. }) = self.conns.get_mut(&conn) {
                handles.retain(|h| &h.handle != handle);
            }
        }
        self.acting.remove(handle);
    }

    pub fn acting_for(&self, handle: &Handle) -> Vec<ConnId> {
        self.acting.get(handle).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    /// The most available state among the connections acting for `handle`, if any.
    pub fn best_state(&self, handle: &Handle) -> Option<PresenceState> {
        self.acting_for(handle)
            .into_iter()
            .filter_map(|conn| self.handles(conn).iter().find(|h| &h.handle == handle).map(|h| h.state))
            .max_by_key(|s| s.availability())
    }

    pub fn conns_of_account(&self, account: &str) -> Vec<ConnId> {
        let mut list: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(&c.phase, Phase::Authed { account: a, .. } if a == account))
            .map(|(id, _)| *id)
            .collect();
        list.sort();
        list
    }

    pub fn conns_of_session(&self, session: &SessionId) -> Vec<ConnId> {
        let mut list: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(&c.phase, Phase::Authed { session: s, .. } if s == session))
            .map(|(id, _)| *id)
            .collect();
        list.sort();
        list
    }

    /// (connection, session, account) of every authenticated connection.
    pub fn sessions(&self) -> Vec<(ConnId, SessionId, AccountId)> {
        let mut list: Vec<_> = self
            .conns
            .iter()
            .filter_map(|(id, c)| match &c.phase {
                Phase::Authed { account, session, .. } => Some((*id, session.clone(), account.clone())),
                _ => None,
            })
            .collect();
        list.sort();
        list
    }
}
