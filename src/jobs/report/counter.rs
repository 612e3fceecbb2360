//! Counting per key with bounded memory: exact while the keys fit, approximate (and
//! saying so) beyond.

use std::hash::Hash;

use rustc_hash::FxHashMap;

/// What a counter's value contributes to the ranking.
pub trait Weight {
    fn weight(&self) -> u64;
}

impl Weight for u64 {
    fn weight(&self) -> u64 {
        *self
    }
}

/// Per-key values for at most `cap` keys. When a new key arrives at a full table, the
/// least-counted half of the keys is dropped: the heavy keys a top-N table shows survive,
/// but their counts may then miss what was counted before a drop, so the table is marked
/// approximate ([`TopCounter::dropped`] > 0).
pub struct TopCounter<K, V> {
    map: FxHashMap<K, V>,
    cap: usize,
    dropped: u64,
}

impl<K: Hash + Eq + Ord + Clone, V: Default + Weight> TopCounter<K, V> {
    pub fn new(cap: usize) -> Self {
        TopCounter {
            map: FxHashMap::default(),
            cap: cap.max(2),
            dropped: 0,
        }
    }

    /// The value of `key`, created (after making room) if new.
    pub fn entry(&mut self, key: K) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.prune();
        }
        self.map.entry(key).or_default()
    }

    /// Drops the least-counted half (ties broken by key, so that the result does not
    /// depend on hashing).
    fn prune(&mut self) {
        let mut weights: Vec<(u64, K)> = self
            .map
            .iter()
            .map(|(k, v)| (v.weight(), k.clone()))
            .collect();
        weights.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, k) in weights.drain(self.cap / 2..) {
            self.map.remove(&k);
            self.dropped += 1;
        }
    }

    /// Keys dropped to stay within the bound (0: every count is exact).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The entries, heaviest first, ties by key.
    pub fn ranked(&self) -> Vec<(&K, &V)> {
        let mut all: Vec<(&K, &V)> = self.map.iter().collect();
        all.sort_by(|a, b| b.1.weight().cmp(&a.1.weight()).then_with(|| a.0.cmp(b.0)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_exactly_while_keys_fit() {
        let mut c: TopCounter<&str, u64> = TopCounter::new(4);
        for k in ["b", "a", "b", "c", "b", "a", "d"] {
            *c.entry(k) += 1;
        }
        assert_eq!(c.dropped(), 0);
        let ranked: Vec<(&str, u64)> = c.ranked().into_iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(ranked, vec![("b", 3), ("a", 2), ("c", 1), ("d", 1)]);
    }

    #[test]
    fn a_full_table_keeps_the_heavy_keys_and_says_it_dropped() {
        let mut c: TopCounter<u32, u64> = TopCounter::new(4);
        for _ in 0..10 {
            *c.entry(1) += 1;
        }
        for _ in 0..5 {
            *c.entry(2) += 1;
        }
        *c.entry(3) += 1;
        *c.entry(4) += 1;
        // A fifth key: the lighter half (3 and 4) goes.
        *c.entry(5) += 1;
        assert_eq!(c.dropped(), 2);
        assert_eq!(c.len(), 3);
        let keys: Vec<u32> = c.ranked().into_iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![1, 2, 5]);
        // Memory stays bounded however many keys come.
        for k in 100..10_000 {
            *c.entry(k) += 1;
        }
        assert!(c.len() <= 4);
        assert_eq!(*c.ranked()[0].0, 1);
    }
}
