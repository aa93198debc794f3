//! A directed relation between addresses with a value on each edge, indexed both ways, so "whose list is alice
//! on?" is as cheap as "who is on alice's list?".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use huddle_shared::Address;

#[derive(Debug, Clone)]
pub struct Relation<V> {
    forward: HashMap<Address, BTreeMap<Address, V>>,
    backward: HashMap<Address, BTreeSet<Address>>,
}

impl<V> Default for Relation<V> {
    fn default() -> Self {
        Self { forward: HashMap::new(), backward: HashMap::new() }
    }
}

impl<V> Relation<V> {
    pub fn get(&self, from: &Address, to: &Address) -> Option<&V> {
        self.forward.get(from).and_then(|m| m.get(to))
    }

    pub fn contains(&self, from: &Address, to: &Address) -> bool {
        self.get(from, to).is_some()
    }

    pub fn insert(&mut self, from: Address, to: Address, value: V) {
        self.backward.entry(to.clone()).or_default().insert(from.clone());
        self.forward.entry(from).or_default().insert(to, value);
    }

    pub fn remove(&mut self, from: &Address, to: &Address) -> Option<V> {
        let removed = self.forward.get_mut(from).and_then(|m| m.remove(to));
        if self.forward.get(from).is_some_and(BTreeMap::is_empty) {
            self.forward.remove(from);
        }
        if let Some(set) = self.backward.get_mut(to) {
            set.remove(from);
            if set.is_empty() {
                self.backward.remove(to);
            }
        }
        removed
    }

    /// Edges leaving `from`, ordered by target.
    pub fn from(&self, from: &Address) -> impl Iterator<Item = (&Address, &V)> {
        self.forward.get(from).into_iter().flat_map(|m| m.iter())
    }

    /// Sources of edges arriving at `to`.
    pub fn to(&self, to: &Address) -> impl Iterator<Item = &Address> {
        self.backward.get(to).into_iter().flat_map(|s| s.iter())
    }

    pub fn count_from(&self, from: &Address) -> usize {
        self.forward.get(from).map_or(0, BTreeMap::len)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Address, &Address, &V)> {
        self.forward.iter().flat_map(|(from, m)| m.iter().map(move |(to, v)| (from, to, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn indexes_stay_consistent() {
        let mut r = Relation::default();
        r.insert(a("al@x"), a("bo@x"), 1);
        r.insert(a("ca@x"), a("bo@x"), 2);
        assert_eq!(r.to(&a("bo@x")).count(), 2);
        assert_eq!(r.remove(&a("al@x"), &a("bo@x")), Some(1));
        assert_eq!(r.to(&a("bo@x")).cloned().collect::<Vec<_>>(), vec![a("ca@x")]);
        assert_eq!(r.count_from(&a("al@x")), 0);
        assert_eq!(r.remove(&a("al@x"), &a("bo@x")), None);
    }
}
