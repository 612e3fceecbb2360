//! IP-only signatures indexed by the narrowest part of their header: a reputation rule
//! lists a few hundred addresses, a scan rule one port. Each signature is filed under
//! its source addresses, destination addresses, destination port or source port, the
//! one that covers the smallest share of its space; a packet looks up its own values and
//! gets the signatures whose filed part contains them. Signatures that are wide
//! everywhere (and bidirectional ones) are always candidates. Like the pattern
//! prefilter, this only leaves out signatures that cannot match the packet's header.

use std::net::IpAddr;

use crate::rules::sets::{Point, RangeSet};

use super::signature::{ProtoMatch, Signature};

/// Filed under a part covering more than this share of its space, a signature would be
/// a candidate of too many packets: it is always inspected instead.
const WIDEST_SHARE: f64 = 1.0 / 64.0;
/// A signature whose ranges span more intervals than this is always inspected, so that
/// the index stays small whatever the rules.
const MOST_INTERVALS: usize = 1024;

/// Sorted, disjoint intervals covering the whole space, each with the signatures whose
/// ranges contain it.
struct IntervalIndex<T> {
    starts: Vec<T>,
    sigs: Vec<Vec<u32>>,
}

impl<T: Point> IntervalIndex<T> {
    /// Files each signature's ranges; returns the index and the signatures that span
    /// too many intervals.
    fn build(entries: &[(u32, &[(T, T)])]) -> (IntervalIndex<T>, Vec<u32>) {
        let mut starts = vec![T::MIN];
        for (_, ranges) in entries {
            for &(lo, hi) in ranges.iter() {
                starts.push(lo);
                if let Some(next) = hi.succ() {
                    starts.push(next);
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut sigs = vec![Vec::new(); starts.len()];
        let mut too_wide = Vec::new();
        for &(sig, ranges) in entries {
            let spans: Vec<(usize, usize)> = ranges
                .iter()
                .map(|&(lo, hi)| {
                    let first = starts.partition_point(|&s| s < lo);
                    let last = starts.partition_point(|&s| s <= hi) - 1;
                    (first, last)
                })
                .collect();
            let count: usize = spans.iter().map(|(a, b)| b - a + 1).sum();
            if count > MOST_INTERVALS {
                too_wide.push(sig);
                continue;
            }
            for (first, last) in spans {
                for list in &mut sigs[first..=last] {
                    list.push(sig);
                }
            }
        }
        (IntervalIndex { starts, sigs }, too_wide)
    }

    fn empty() -> IntervalIndex<T> {
        IntervalIndex {
            starts: Vec::new(),
            sigs: Vec::new(),
        }
    }

    fn get(&self, x: T) -> &[u32] {
        let i = self.starts.partition_point(|&s| s <= x);
        // `starts[0]` is the minimum, so every value has an interval.
        self.sigs.get(i.wrapping_sub(1)).map_or(&[], Vec::as_slice)
    }
}

fn share<T: Point + Into<u128>>(set: &RangeSet<T>, bits: u32) -> f64 {
    let count: f64 = set
        .ranges()
        .iter()
        .map(|&(lo, hi)| (hi.into() - lo.into()) as f64 + 1.0)
        .sum();
    count / 2f64.powi(bits as i32)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Src,
    Dst,
    DstPort,
    SrcPort,
}

/// The IP-only signatures of a ruleset, indexed.
pub struct HeaderIndex {
    src4: IntervalIndex<u32>,
    src6: IntervalIndex<u128>,
    dst4: IntervalIndex<u32>,
    dst6: IntervalIndex<u128>,
    dport: IntervalIndex<u16>,
    sport: IntervalIndex<u16>,
    /// Signatures inspected on every lookup, in signature order.
    always: Vec<u32>,
}

impl HeaderIndex {
    pub fn build(sigs: &[Signature], iponly: &[u32]) -> HeaderIndex {
        let mut always = Vec::new();
        let mut filed: [Vec<u32>; 4] = Default::default();
        for &n in iponly {
            let s = &sigs[n as usize];
            let ports = matches!(
                s.proto,
                ProtoMatch::Ip(6) | ProtoMatch::Ip(17) | ProtoMatch::Ip(132) | ProtoMatch::TcpOrUdp
            );
            let addr_share =
                |a: &crate::rules::sets::AddrSet| share(&a.v4, 32).max(share(&a.v6, 128));
            let mut options = vec![
                (addr_share(&s.src), Part::Src),
                (addr_share(&s.dst), Part::Dst),
            ];
            if ports {
                options.push((share(&s.dp, 16), Part::DstPort));
                options.push((share(&s.sp, 16), Part::SrcPort));
            }
            let best = options
                .iter()
                .copied()
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(share, _)| *share <= WIDEST_SHARE);
            match best {
                Some((_, part)) if !s.bidirectional => filed[part as usize].push(n),
                _ => always.push(n),
            }
        }
        let sig = |n: u32| &sigs[n as usize];
        let entries4 = |list: &[u32], src: bool| -> Vec<(u32, &[(u32, u32)])> {
            list.iter()
                .map(|&n| {
                    let s = sig(n);
                    (
                        n,
                        if src {
                            s.src.v4.ranges()
                        } else {
                            s.dst.v4.ranges()
                        },
                    )
                })
                .collect()
        };
        let entries6 = |list: &[u32], src: bool| -> Vec<(u32, &[(u128, u128)])> {
            list.iter()
                .map(|&n| {
                    let s = sig(n);
                    (
                        n,
                        if src {
                            s.src.v6.ranges()
                        } else {
                            s.dst.v6.ranges()
                        },
                    )
                })
                .collect()
        };
        let ports = |list: &[u32], dst: bool| -> Vec<(u32, &[(u16, u16)])> {
            list.iter()
                .map(|&n| {
                    let s = sig(n);
                    (n, if dst { s.dp.ranges() } else { s.sp.ranges() })
                })
                .collect()
        };
        let (src4, w1) = IntervalIndex::build(&entries4(&filed[Part::Src as usize], true));
        let (src6, w2) = IntervalIndex::build(&entries6(&filed[Part::Src as usize], true));
        let (dst4, w3) = IntervalIndex::build(&entries4(&filed[Part::Dst as usize], false));
        let (dst6, w4) = IntervalIndex::build(&entries6(&filed[Part::Dst as usize], false));
        let (dport, w5) = IntervalIndex::build(&ports(&filed[Part::DstPort as usize], true));
        let (sport, w6) = IntervalIndex::build(&ports(&filed[Part::SrcPort as usize], false));
        // A signature too wide in one family's index is inspected always; it may also
        // be listed in the other family's index, which the de-duplication absorbs.
        always.extend(
            w1.into_iter()
                .chain(w2)
                .chain(w3)
                .chain(w4)
                .chain(w5)
                .chain(w6),
        );
        always.sort_unstable();
        always.dedup();
        HeaderIndex {
            src4,
            src6,
            dst4,
            dst6,
            dport,
            sport,
            always,
        }
    }

    /// No index: every signature always inspected.
    pub fn none(iponly: &[u32]) -> HeaderIndex {
        HeaderIndex {
            src4: IntervalIndex::empty(),
            src6: IntervalIndex::empty(),
            dst4: IntervalIndex::empty(),
            dst6: IntervalIndex::empty(),
            dport: IntervalIndex::empty(),
            sport: IntervalIndex::empty(),
            always: iponly.to_vec(),
        }
    }

    /// Signatures inspected on every packet whatever its header.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// Calls `f` with each filed signature whose filed part contains the packet's value
    /// (unordered, possibly repeated; `always` not included).
    pub fn lookup(
        &self,
        src: IpAddr,
        dst: IpAddr,
        sp: u16,
        dp: u16,
        proto: u8,
        f: &mut impl FnMut(&[u32]),
    ) {
        match src {
            IpAddr::V4(a) => f(self.src4.get(u32::from(a))),
            IpAddr::V6(a) => f(self.src6.get(u128::from(a))),
        }
        match dst {
            IpAddr::V4(a) => f(self.dst4.get(u32::from(a))),
            IpAddr::V6(a) => f(self.dst6.get(u128::from(a))),
        }
        if matches!(proto, 6 | 17 | 132) {
            f(self.dport.get(dp));
            f(self.sport.get(sp));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_hold_the_signatures_covering_them() {
        let a: &[(u32, u32)] = &[(10, 20), (30, 30)];
        let b: &[(u32, u32)] = &[(15, 35)];
        let c: &[(u32, u32)] = &[(u32::MAX - 1, u32::MAX)];
        let (idx, wide) = IntervalIndex::build(&[(0, a), (1, b), (2, c)]);
        assert!(wide.is_empty());
        assert_eq!(idx.get(0), &[] as &[u32]);
        assert_eq!(idx.get(10), &[0]);
        assert_eq!(idx.get(15), &[0, 1]);
        assert_eq!(idx.get(20), &[0, 1]);
        assert_eq!(idx.get(21), &[1]);
        assert_eq!(idx.get(30), &[0, 1]);
        assert_eq!(idx.get(36), &[] as &[u32]);
        assert_eq!(idx.get(u32::MAX), &[2]);
    }
}
