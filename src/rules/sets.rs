//! Sets of addresses and ports as sorted, disjoint, inclusive ranges: what an address or
//! port expression stands for once variables and negations are resolved.

use std::net::IpAddr;

/// A value type ranges are made of.
pub trait Point: Copy + Ord + std::fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

macro_rules! point {
    ($t:ty) => {
        impl Point for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
        }
    };
}
point!(u16);
point!(u32);
point!(u128);

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RangeSet<T: Point> {
    ranges: Vec<(T, T)>,
}

impl<T: Point> RangeSet<T> {
    pub fn empty() -> Self {
        RangeSet { ranges: Vec::new() }
    }

    pub fn full() -> Self {
        RangeSet {
            ranges: vec![(T::MIN, T::MAX)],
        }
    }

    pub fn range(lo: T, hi: T) -> Self {
        if lo <= hi {
            RangeSet {
                ranges: vec![(lo, hi)],
            }
        } else {
            Self::empty()
        }
    }

    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.ranges.len() == 1 && self.ranges[0] == (T::MIN, T::MAX)
    }

    pub fn contains(&self, x: T) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < x);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= x)
    }

    /// Whether every point of `other` is in `self`.
    pub fn covers(&self, other: &Self) -> bool {
        other.difference(self).is_empty()
    }

    pub fn union(&self, other: &Self) -> Self {
        let mut all: Vec<(T, T)> = self
            .ranges
            .iter()
            .chain(other.ranges.iter())
            .copied()
            .collect();
        all.sort();
        let mut out: Vec<(T, T)> = Vec::with_capacity(all.len());
        for (lo, hi) in all {
            match out.last_mut() {
                // Overlapping or adjacent: merge.
                Some(last) if last.1.succ().is_none_or(|n| lo <= n) => {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                }
                _ => out.push((lo, hi)),
            }
        }
        RangeSet { ranges: out }
    }

    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next = Some(T::MIN);
        for &(lo, hi) in &self.ranges {
            if let Some(n) = next {
                if n < lo {
                    if let Some(p) = lo.pred() {
                        out.push((n, p));
                    }
                }
            }
            next = hi.succ();
        }
        if let Some(n) = next {
            out.push((n, T::MAX));
        }
        RangeSet { ranges: out }
    }

    pub fn intersect(&self, other: &Self) -> Self {
        self.complement().union(&other.complement()).complement()
    }

    pub fn difference(&self, other: &Self) -> Self {
        self.intersect(&other.complement())
    }
}

/// A set of IPv4 and IPv6 addresses.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AddrSet {
    pub v4: RangeSet<u32>,
    pub v6: RangeSet<u128>,
}

impl AddrSet {
    pub fn any() -> Self {
        AddrSet {
            v4: RangeSet::full(),
            v6: RangeSet::full(),
        }
    }

    pub fn empty() -> Self {
        AddrSet {
            v4: RangeSet::empty(),
            v6: RangeSet::empty(),
        }
    }

    pub fn from_range(lo: IpAddr, hi: IpAddr) -> Self {
        match (lo, hi) {
            (IpAddr::V4(a), IpAddr::V4(b)) => AddrSet {
                v4: RangeSet::range(u32::from(a), u32::from(b)),
                v6: RangeSet::empty(),
            },
            (IpAddr::V6(a), IpAddr::V6(b)) => AddrSet {
                v4: RangeSet::empty(),
                v6: RangeSet::range(u128::from(a), u128::from(b)),
            },
            _ => AddrSet::empty(),
        }
    }

    pub fn is_any(&self) -> bool {
        self.v4.is_full() && self.v6.is_full()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(v4) => self.v4.contains(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.contains(u128::from(v6)),
        }
    }

    pub fn union(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
        }
    }

    pub fn complement(&self) -> Self {
        AddrSet {
            v4: self.v4.complement(),
            v6: self.v6.complement(),
        }
    }

    pub fn difference(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.difference(&o.v4),
            v6: self.v6.difference(&o.v6),
        }
    }

    pub fn covers(&self, o: &Self) -> bool {
        self.v4.covers(&o.v4) && self.v6.covers(&o.v6)
    }
}

/// A set of ports.
pub type PortSet = RangeSet<u16>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_overlapping_and_adjacent() {
        let a = RangeSet::<u16>::range(10, 20)
            .union(&RangeSet::range(21, 30))
            .union(&RangeSet::range(5, 12));
        assert_eq!(a.ranges(), &[(5, 30)]);
        let b = a.union(&RangeSet::range(40, 50));
        assert_eq!(b.ranges(), &[(5, 30), (40, 50)]);
        assert!(b.contains(45) && !b.contains(35) && b.contains(5) && !b.contains(4));
    }

    #[test]
    fn complement_and_difference() {
        let s = RangeSet::<u16>::range(0, 79).union(&RangeSet::range(81, 65535));
        assert_eq!(s.complement().ranges(), &[(80, 80)]);
        assert!(RangeSet::<u16>::full().complement().is_empty());
        assert!(RangeSet::<u16>::empty().complement().is_full());
        let d = RangeSet::<u16>::range(80, 100).difference(&RangeSet::range(90, 90));
        assert_eq!(d.ranges(), &[(80, 89), (91, 100)]);
        assert!(RangeSet::<u16>::range(1, 10).covers(&RangeSet::range(2, 3)));
        assert!(!RangeSet::<u16>::range(1, 10).covers(&RangeSet::range(9, 11)));
    }

    #[test]
    fn address_sets() {
        let ten = AddrSet::from_range(
            "10.0.0.0".parse().expect("ip"),
            "10.255.255.255".parse().expect("ip"),
        );
        assert!(ten.contains("10.1.2.3".parse().expect("ip")));
        assert!(!ten.contains("11.0.0.0".parse().expect("ip")));
        assert!(!ten.contains("::a00:1".parse().expect("ip")));
        let not_ten = ten.complement();
        assert!(not_ten.contains("::1".parse().expect("ip")));
        assert!(ten.union(&not_ten).is_any());
    }
}
