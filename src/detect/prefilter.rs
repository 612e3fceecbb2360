//! The prefilter: which signatures can match a packet or a transaction, found by scanning
//! each buffer once for the patterns the signatures require (Suricata's multi-pattern
//! matcher stage). Only the candidates it returns are inspected in full.
//!
//! Exactness: a signature's pattern is one of its contents that every match needs (not
//! negated), taken from the buffer it is inspected in, after that buffer's transforms
//! (see [`BufferProgram::prefilter_pattern`]). A signature is left out only when its
//! pattern does not occur, so the prefilter never changes an answer; it is a superset
//! (matching ignores case, and groups are wider than some of their signatures). Signatures
//! without a pattern are always candidates of their group.
//!
//! Groups: packet-phase signatures by transport (TCP, UDP, other) and flow direction;
//! transaction signatures by buffer, transforms and direction. Each group has one
//! [`LiteralSet`]. Candidates come back in signature order, which is the order
//! they must be evaluated in (flowbits set by one rule are seen by the later ones).

use std::collections::HashMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::buffers::{self, TxView};
use super::header_index::HeaderIndex;
use super::literals::{lower_into, LiteralSet};
use super::payload::{BufferProgram, PrefilterPattern};
use super::signature::{ProtoMatch, SigKind, Signature};
use super::PacketView;

/// Signatures by a pattern that must start or end the buffer (or be all of it): found by
/// looking up the buffer's prefixes or suffixes of the lengths present, not by scanning.
#[derive(Default)]
struct AnchoredSet {
    sigs: FxHashMap<Vec<u8>, Vec<u32>>,
    /// The distinct pattern lengths, ascending.
    lens: Vec<usize>,
    /// By the pattern's anchored end (its first bytes for prefixes, its last for
    /// suffixes; up to [`HEAD`] of them): the lengths of the patterns with that end,
    /// ascending. A buffer is looked up only at the lengths its own end allows.
    heads: FxHashMap<Vec<u8>, Vec<usize>>,
}

/// Bytes of a pattern's anchored end that key [`AnchoredSet::heads`].
const HEAD: usize = 4;

impl AnchoredSet {
    fn longest(&self) -> usize {
        self.lens.last().copied().unwrap_or(0)
    }

    /// `at_end`: the set holds prefixes (`Some(false)`, keyed by their first bytes) or
    /// suffixes (`Some(true)`, by their last); `None`: whole buffers, not keyed.
    fn add(&mut self, pattern: Vec<u8>, sig: u32, at_end: Option<bool>) {
        let len = pattern.len();
        if let Err(i) = self.lens.binary_search(&len) {
            self.lens.insert(i, len);
        }
        let Some(at_end) = at_end else {
            self.sigs.entry(pattern).or_default().push(sig);
            return;
        };
        let k = len.min(HEAD);
        let head = if at_end {
            &pattern[len - k..]
        } else {
            &pattern[..k]
        };
        let lens = self.heads.entry(head.to_vec()).or_default();
        if let Err(i) = lens.binary_search(&len) {
            lens.insert(i, len);
        }
        self.sigs.entry(pattern).or_default().push(sig);
    }

    fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }

    /// The signatures of the patterns that start (or, `at_end`, end) `lower`, the
    /// lower-cased end of the buffer (at least [`AnchoredSet::longest`] bytes of it, or
    /// all of it).
    fn each_match(&self, lower: &[u8], at_end: bool, mut f: impl FnMut(&[u32])) {
        let n = lower.len();
        for k in 1..=n.min(HEAD) {
            let head = if at_end { &lower[n - k..] } else { &lower[..k] };
            let Some(lens) = self.heads.get(head) else {
                continue;
            };
            for &len in lens.iter().take_while(|&&l| l <= n) {
                let key = if at_end {
                    &lower[n - len..]
                } else {
                    &lower[..len]
                };
                if let Some(sigs) = self.sigs.get(key) {
                    f(sigs);
                }
            }
        }
    }
}

/// Patterns needed within this many bytes of the start of the buffer (an absolute
/// `depth`) are scanned for there only.
const SHALLOW_LIMIT: usize = 512;

/// Unanchored patterns, searched for together (ids: the patterns' ids in the set).
struct Unanchored {
    matcher: LiteralSet,
    /// Scanned over this many bytes from the buffer start (`usize::MAX`: all).
    window: usize,
}

/// The patterns of one group and the signatures that require each.
struct PatternSet {
    /// Patterns anywhere in the buffer.
    deep: Option<Unanchored>,
    /// Patterns within the first bytes.
    shallow: Option<Unanchored>,
    /// Per pattern id: the signatures requiring it, in signature order.
    sigs: Vec<Vec<u32>>,
    /// The longest unanchored pattern.
    longest: usize,
    /// Patterns that are the whole buffer (`startswith` and `endswith`).
    exact: AnchoredSet,
    prefix: AnchoredSet,
    suffix: AnchoredSet,
}

#[derive(Default)]
struct PatternSetBuilder {
    index: HashMap<Vec<u8>, usize>,
    patterns: Vec<Vec<u8>>,
    /// Per pattern: where it must end at the latest (`None`: anywhere).
    windows: Vec<Option<usize>>,
    sigs: Vec<Vec<u32>>,
    exact: AnchoredSet,
    prefix: AnchoredSet,
    suffix: AnchoredSet,
}

impl PatternSetBuilder {
    fn add(&mut self, pattern: PrefilterPattern<'_>, sig: u32) {
        let lower = pattern.bytes.to_ascii_lowercase();
        match (pattern.prefix, pattern.suffix) {
            (true, true) => return self.exact.add(lower, sig, None),
            (true, false) => return self.prefix.add(lower, sig, Some(false)),
            (false, true) => return self.suffix.add(lower, sig, Some(true)),
            (false, false) => {}
        }
        let id = match self.index.get(&lower) {
            Some(&id) => {
                // Shared by signatures with different windows: the widest counts.
                let w = &mut self.windows[id];
                *w = match (*w, pattern.window) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                id
            }
            None => {
                self.patterns.push(lower.clone());
                self.windows.push(pattern.window);
                self.sigs.push(Vec::new());
                self.index.insert(lower, self.patterns.len() - 1);
                self.patterns.len() - 1
            }
        };
        self.sigs[id].push(sig);
    }

    fn is_empty(&self) -> bool {
        self.patterns.is_empty()
            && self.exact.is_empty()
            && self.prefix.is_empty()
            && self.suffix.is_empty()
    }

    fn build(self) -> Option<PatternSet> {
        if self.is_empty() {
            return None;
        }
        let automaton = |ids: Vec<u32>, window: usize| -> Option<Unanchored> {
            if ids.is_empty() {
                return None;
            }
            let matcher = LiteralSet::new(
                ids.iter()
                    .map(|&i| (self.patterns[i as usize].as_slice(), i)),
            );
            Some(Unanchored { matcher, window })
        };
        let (mut shallow, mut deep) = (Vec::new(), Vec::new());
        let mut window = 0;
        for (id, w) in self.windows.iter().enumerate() {
            match w {
                Some(w) if *w <= SHALLOW_LIMIT => {
                    window = window.max(*w);
                    shallow.push(id as u32);
                }
                _ => deep.push(id as u32),
            }
        }
        Some(PatternSet {
            deep: automaton(deep, usize::MAX),
            shallow: automaton(shallow, window),
            longest: self.patterns.iter().map(Vec::len).max().unwrap_or(0),
            sigs: self.sigs,
            exact: self.exact,
            prefix: self.prefix,
            suffix: self.suffix,
        })
    }
}

impl PatternSet {
    fn anchored(&self) -> bool {
        !(self.exact.is_empty() && self.prefix.is_empty() && self.suffix.is_empty())
    }

    fn automata(&self) -> impl Iterator<Item = &LiteralSet> {
        self.deep.iter().chain(&self.shallow).map(|u| &u.matcher)
    }

    /// Every signature of the set, for the summary.
    fn all_sigs(&self) -> impl Iterator<Item = u32> + '_ {
        self.sigs
            .iter()
            .chain(self.exact.sigs.values())
            .chain(self.prefix.sigs.values())
            .chain(self.suffix.sigs.values())
            .flatten()
            .copied()
    }
}

/// Buffers that only ever grow at their end while a transaction progresses.
const APPEND_ONLY: &[&str] = &["http.request_body", "http.response_body", "file.data"];

/// What the prefilter found for a flow's current transaction in one direction.
#[derive(Clone, Debug, Default)]
pub struct TxMemo {
    tx_id: Option<u64>,
    /// The parser generation of the last scan.
    generation: Option<u64>,
    /// Candidates found so far, in signature order.
    sigs: Vec<u32>,
    /// Per buffer group: the bytes of an append-only buffer already scanned.
    scanned: Vec<usize>,
}

/// Per-packet working memory, kept between packets so the hot path does not allocate.
#[derive(Default)]
pub struct Scratch {
    /// Per pattern id: the scan that last saw it.
    pattern_seen: Vec<u32>,
    pattern_stamp: u32,
    /// Per signature: the candidate collection that last added it.
    sig_seen: Vec<u32>,
    sig_stamp: u32,
    /// Candidates found by scanning, sorted when collection ends.
    found: Vec<u32>,
    /// The buffer lower-cased, for anchored lookups and the literal scans.
    lower: Vec<u8>,
}

impl Scratch {
    fn sized(patterns: usize, sigs: usize) -> Scratch {
        Scratch {
            pattern_seen: vec![0; patterns],
            sig_seen: vec![0; sigs],
            ..Scratch::default()
        }
    }

    /// Starts a candidate collection.
    fn begin(&mut self) {
        self.found.clear();
        self.sig_stamp = self.sig_stamp.wrapping_add(1);
        if self.sig_stamp == 0 {
            self.sig_seen.fill(0);
            self.sig_stamp = 1;
        }
    }

    fn scan(&mut self, set: &PatternSet, hay: &[u8]) {
        self.scan_anchored(set, hay);
        self.scan_unanchored(set, hay, 0);
    }

    /// Looks up the whole-buffer, prefix and suffix patterns of a buffer (lower-casing
    /// only the ends that can hold one).
    fn scan_anchored(&mut self, set: &PatternSet, hay: &[u8]) {
        if hay.is_empty() || !set.anchored() {
            return;
        }
        let mut lower = std::mem::take(&mut self.lower);
        if set.exact.lens.binary_search(&hay.len()).is_ok() {
            lower_into(hay, &mut lower);
            if let Some(sigs) = set.exact.sigs.get(lower.as_slice()) {
                self.add(sigs);
            }
        }
        for (anchored, at_end) in [(&set.prefix, false), (&set.suffix, true)] {
            if anchored.is_empty() {
                continue;
            }
            let n = hay.len().min(anchored.longest());
            let end = if at_end {
                &hay[hay.len() - n..]
            } else {
                &hay[..n]
            };
            lower_into(end, &mut lower);
            anchored.each_match(&lower, at_end, |sigs| self.add(sigs));
        }
        self.lower = lower;
    }

    /// Scans a buffer for the unanchored patterns, from byte `from` on (bytes before it
    /// were scanned before).
    fn scan_unanchored(&mut self, set: &PatternSet, hay: &[u8], from: usize) {
        if hay.len() <= from {
            return;
        }
        self.pattern_stamp = self.pattern_stamp.wrapping_add(1);
        if self.pattern_stamp == 0 {
            self.pattern_seen.fill(0);
            self.pattern_stamp = 1;
        }
        let longest_window = set
            .deep
            .iter()
            .chain(&set.shallow)
            .map(|u| u.window)
            .max()
            .unwrap_or(0);
        let end = hay.len().min(longest_window);
        if end <= from {
            return;
        }
        lower_into(&hay[from..end], &mut self.lower);
        let Scratch {
            pattern_seen,
            pattern_stamp,
            sig_seen,
            sig_stamp,
            found,
            lower,
        } = self;
        for u in set.deep.iter().chain(&set.shallow) {
            let end = hay.len().min(u.window);
            if end <= from {
                continue;
            }
            u.matcher
                .scan(&lower[..end - from], pattern_seen, *pattern_stamp, |id| {
                    for &sig in &set.sigs[id as usize] {
                        if sig_seen[sig as usize] != *sig_stamp {
                            sig_seen[sig as usize] = *sig_stamp;
                            found.push(sig);
                        }
                    }
                });
        }
    }

    fn add(&mut self, sigs: &[u32]) {
        for &sig in sigs {
            if self.sig_seen[sig as usize] != self.sig_stamp {
                self.sig_seen[sig as usize] = self.sig_stamp;
                self.found.push(sig);
            }
        }
    }

    /// Ends a collection: the found signatures in order.
    fn finish(&mut self) {
        self.found.sort_unstable();
    }
}

/// A group's signatures: those always inspected and those selected by pattern, in two
/// sets: signatures that can match a packet's own payload (packet and packet+stream
/// types) and those that can match the reassembled stream (stream and packet+stream).
/// A packet whose bytes went into a stream is scanned with the first set only, its
/// stream bytes with the second, so no byte is scanned for rules that cannot use it.
#[derive(Default)]
struct Group {
    always: Vec<u32>,
    packet: Option<PatternSet>,
    stream: Option<PatternSet>,
}

/// Transaction signatures requiring a pattern in one buffer (with transforms), for one
/// direction.
struct TxGroup {
    /// The buffer and its transforms (a program without tests).
    buffer: BufferProgram,
    patterns: PatternSet,
}

/// The prefilter of a compiled ruleset.
pub struct Prefilter {
    /// IP-only signatures by header.
    iponly: HeaderIndex,
    /// Packet-phase groups by `transport * 2 + direction`.
    packet: Vec<Group>,
    /// Transaction signatures without a pattern, by direction.
    tx_always: [Vec<u32>; 2],
    tx_groups: [Vec<TxGroup>; 2],
    patterns_max: usize,
    sigs: usize,
}

/// What the prefilter holds, for `-v` and the stats.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrefilterSummary {
    /// IP-only signatures (checked on the first packet of each direction of a flow).
    pub iponly: usize,
    /// Packet-phase signatures selected by a payload pattern.
    pub packet_patterned: usize,
    /// Packet-phase signatures inspected on every packet of their group.
    pub packet_always: usize,
    /// Transaction signatures selected by a buffer pattern.
    pub tx_patterned: usize,
    pub tx_always: usize,
    /// Literal sets built (one per group with unanchored patterns; the name is kept
    /// from when they were automata).
    pub automata: usize,
    /// Groups with hash sets of whole-buffer, prefix or suffix patterns.
    pub anchored_sets: usize,
    /// Memory the literal sets take.
    pub automata_bytes: usize,
}

const TRANSPORTS: usize = 3;

fn transport(proto: u8) -> usize {
    match proto {
        6 => 0,
        17 => 1,
        _ => 2,
    }
}

fn transports_of(s: &Signature) -> &'static [usize] {
    match s.proto {
        ProtoMatch::Ip(6) => &[0],
        ProtoMatch::Ip(17) => &[1],
        ProtoMatch::Ip(_) | ProtoMatch::Icmp => &[2],
        ProtoMatch::TcpOrUdp => &[0, 1],
        ProtoMatch::Any => &[0, 1, 2],
    }
}

/// Directions a packet-phase signature can match: 0 to server (or no flow), 1 to client.
fn directions_of(s: &Signature) -> &'static [usize] {
    if s.flow.to_server {
        &[0]
    } else if s.flow.to_client {
        &[1]
    } else {
        &[0, 1]
    }
}

/// The pattern selecting a packet-phase signature: from its payload program.
fn packet_pattern(s: &Signature) -> Option<PrefilterPattern<'_>> {
    if !matches!(
        s.kind,
        SigKind::Packet | SigKind::Stream | SigKind::PacketStream
    ) {
        return None;
    }
    s.programs
        .iter()
        .filter(|p| p.buffer().is_none())
        .filter_map(BufferProgram::prefilter_pattern)
        .max_by_key(|p| p.bytes.len())
}

/// The pattern selecting a transaction signature: from one of its sticky buffers.
fn tx_pattern(s: &Signature) -> Option<(&BufferProgram, PrefilterPattern<'_>)> {
    s.programs
        .iter()
        .filter(|p| p.buffer().is_some())
        .filter_map(|p| p.prefilter_pattern().map(|pat| (p, pat)))
        .max_by_key(|(_, pat)| pat.bytes.len())
}

impl Prefilter {
    /// Groups the signatures of the packet phase (`packet`) and the transaction phase
    /// (`tx`), given in signature order.
    pub fn build(sigs: &[Signature], iponly: &[u32], packet: &[u32], tx: &[u32]) -> Prefilter {
        type Builders = (Vec<u32>, PatternSetBuilder, PatternSetBuilder);
        let mut groups: Vec<Builders> = (0..TRANSPORTS * 2).map(|_| Default::default()).collect();
        for &n in packet {
            let s = &sigs[n as usize];
            let pattern = packet_pattern(s);
            for &t in transports_of(s) {
                for &d in directions_of(s) {
                    let (always, on_packet, on_stream) = &mut groups[t * 2 + d];
                    let Some(pat) = pattern else {
                        always.push(n);
                        continue;
                    };
                    if matches!(s.kind, SigKind::Packet | SigKind::PacketStream) {
                        on_packet.add(pat, n);
                    }
                    if matches!(s.kind, SigKind::Stream | SigKind::PacketStream) {
                        on_stream.add(pat, n);
                    }
                }
            }
        }
        let mut patterns_max = 0;
        let mut packet_groups = Vec::with_capacity(groups.len());
        for (always, on_packet, on_stream) in groups {
            patterns_max = patterns_max
                .max(on_packet.patterns.len())
                .max(on_stream.patterns.len());
            packet_groups.push(Group {
                always,
                packet: on_packet.build(),
                stream: on_stream.build(),
            });
        }

        let mut tx_always: [Vec<u32>; 2] = Default::default();
        let mut tx_builders: [Vec<(BufferProgram, PatternSetBuilder)>; 2] = Default::default();
        for &n in tx {
            let s = &sigs[n as usize];
            let pattern = tx_pattern(s);
            for d in 0..2 {
                if !s.tx_dirs[d] {
                    continue;
                }
                let Some((program, pat)) = pattern else {
                    tx_always[d].push(n);
                    continue;
                };
                let builders = &mut tx_builders[d];
                let i = match builders.iter().position(|(b, _)| {
                    same_bytes(b.buffer(), program.buffer())
                        && b.transforms() == program.transforms()
                }) {
                    Some(i) => i,
                    None => {
                        builders.push((program.transforms_only(), PatternSetBuilder::default()));
                        builders.len() - 1
                    }
                };
                builders[i].1.add(pat, n);
            }
        }
        let mut tx_groups: [Vec<TxGroup>; 2] = Default::default();
        for (d, builders) in tx_builders.into_iter().enumerate() {
            for (buffer, builder) in builders {
                patterns_max = patterns_max.max(builder.patterns.len());
                if let Some(patterns) = builder.build() {
                    tx_groups[d].push(TxGroup { buffer, patterns });
                }
            }
        }
        Prefilter {
            iponly: HeaderIndex::build(sigs, iponly),
            packet: packet_groups,
            tx_always,
            tx_groups,
            patterns_max,
            sigs: sigs.len(),
        }
    }

    /// A prefilter that selects nothing out: every signature is a candidate of every
    /// packet and transaction it could apply to.
    pub fn none(sigs: &[Signature], iponly: &[u32], packet: &[u32], tx: &[u32]) -> Prefilter {
        let mut groups: Vec<Group> = (0..TRANSPORTS * 2).map(|_| Group::default()).collect();
        for &n in packet {
            let s = &sigs[n as usize];
            for &t in transports_of(s) {
                for &d in directions_of(s) {
                    groups[t * 2 + d].always.push(n);
                }
            }
        }
        let mut tx_always: [Vec<u32>; 2] = Default::default();
        for &n in tx {
            for (d, always) in tx_always.iter_mut().enumerate() {
                if sigs[n as usize].tx_dirs[d] {
                    always.push(n);
                }
            }
        }
        Prefilter {
            iponly: HeaderIndex::none(iponly),
            packet: groups,
            tx_always,
            tx_groups: Default::default(),
            patterns_max: 0,
            sigs: sigs.len(),
        }
    }

    /// Working memory sized for this prefilter.
    pub fn scratch(&self) -> Scratch {
        Scratch::sized(self.patterns_max, self.sigs)
    }

    pub fn summary(&self) -> PrefilterSummary {
        let mut s = PrefilterSummary::default();
        let mut packet_patterned: Vec<u32> = Vec::new();
        let mut packet_always: Vec<u32> = Vec::new();
        for g in &self.packet {
            packet_always.extend(&g.always);
            for p in g.packet.iter().chain(&g.stream) {
                packet_patterned.extend(p.all_sigs());
                s.automata += p.automata().count();
                s.anchored_sets += usize::from(p.anchored());
                s.automata_bytes += p.automata().map(LiteralSet::memory_usage).sum::<usize>();
            }
        }
        packet_patterned.sort_unstable();
        packet_patterned.dedup();
        packet_always.sort_unstable();
        packet_always.dedup();
        s.packet_patterned = packet_patterned.len();
        s.packet_always = packet_always.len();
        let mut tx_patterned: Vec<u32> = Vec::new();
        let mut tx_always: Vec<u32> = Vec::new();
        for d in 0..2 {
            tx_always.extend(&self.tx_always[d]);
            for g in &self.tx_groups[d] {
                tx_patterned.extend(g.patterns.all_sigs());
                s.automata += g.patterns.automata().count();
                s.automata_bytes += g
                    .patterns
                    .automata()
                    .map(LiteralSet::memory_usage)
                    .sum::<usize>();
                s.anchored_sets += usize::from(g.patterns.anchored());
            }
        }
        tx_patterned.sort_unstable();
        tx_patterned.dedup();
        tx_always.sort_unstable();
        tx_always.dedup();
        s.tx_patterned = tx_patterned.len();
        s.tx_always = tx_always.len();
        s
    }

    /// The IP-only candidates for a packet header, in signature order (`out` is cleared
    /// first).
    pub fn iponly_candidates(
        &self,
        scratch: &mut Scratch,
        header: (IpAddr, IpAddr, u16, u16, u8),
        out: &mut Vec<u32>,
    ) {
        let (src, dst, sp, dp, proto) = header;
        scratch.begin();
        self.iponly
            .lookup(src, dst, sp, dp, proto, &mut |sigs| scratch.add(sigs));
        scratch.finish();
        merge(self.iponly.always(), &scratch.found, out);
    }

    /// The packet-phase candidates for a packet (its payload and the reassembled stream
    /// bytes it carries), in signature order (`out` is cleared first).
    pub fn packet_candidates(&self, scratch: &mut Scratch, p: &PacketView<'_>, out: &mut Vec<u32>) {
        let payload = p.inspected_payload();
        let d = usize::from(p.to_server == Some(false));
        let group = &self.packet[transport(p.proto) * 2 + d];
        scratch.begin();
        if let Some(set) = &group.packet {
            scratch.scan(set, payload);
        }
        if let Some(set) = &group.stream {
            // Stream rules look at a packet's payload only where it is in no stream.
            if !p.in_stream {
                scratch.scan(set, payload);
            }
            if let Some(raw) = p.inspected_raw() {
                scratch.scan(set, raw);
            }
        }
        scratch.finish();
        merge(&group.always, &scratch.found, out);
    }

    /// The transaction candidates for one transaction seen from `to_server`, in signature
    /// order (`out` is cleared first). `memo` carries what earlier packets found for the
    /// same transaction: a transaction's buffers only grow, so its candidates only grow,
    /// and a body (append-only) is scanned from where the last scan stopped, less the
    /// longest pattern. `generation` is the flow's parser generation: unchanged, nothing
    /// was parsed since, and the remembered candidates stand.
    pub fn tx_candidates(
        &self,
        scratch: &mut Scratch,
        view: &TxView<'_>,
        to_server: bool,
        generation: u64,
        memo: &mut TxMemo,
        out: &mut Vec<u32>,
    ) {
        let (tx, tx_id) = (view.tx, view.id);
        let d = usize::from(!to_server);
        let groups = &self.tx_groups[d];
        if memo.tx_id != Some(tx_id) {
            memo.tx_id = Some(tx_id);
            memo.generation = None;
            memo.sigs.clear();
            memo.scanned.clear();
        }
        if memo.generation != Some(generation) {
            memo.generation = Some(generation);
            memo.scanned.resize(groups.len(), 0);
            scratch.begin();
            // Already found: not found again.
            for &sig in &memo.sigs {
                scratch.sig_seen[sig as usize] = scratch.sig_stamp;
            }
            for (gi, g) in groups.iter().enumerate() {
                let Some(name) = g.buffer.buffer() else {
                    continue;
                };
                // Bodies are scanned where they grew; they have one instance.
                let append_only = g.buffer.transforms().is_empty() && APPEND_ONLY.contains(&name);
                let mut instances = 0;
                buffers::any_instance(tx, name, to_server, &mut |b| {
                    instances += 1;
                    let data = g.buffer.transform(b);
                    scratch.scan_anchored(&g.patterns, &data);
                    let from = if append_only && instances == 1 && data.len() >= memo.scanned[gi] {
                        memo.scanned[gi].saturating_sub(g.patterns.longest.saturating_sub(1))
                    } else {
                        0
                    };
                    scratch.scan_unanchored(&g.patterns, &data, from);
                    if append_only {
                        memo.scanned[gi] = data.len();
                    }
                    false
                });
            }
            scratch.finish();
            let mut merged = Vec::with_capacity(memo.sigs.len() + scratch.found.len());
            merge(&memo.sigs, &scratch.found, &mut merged);
            memo.sigs = merged;
        }
        merge(&self.tx_always[d], &memo.sigs, out);
    }
}

/// Whether two buffer names give the same bytes (`file.data` of HTTP is the response
/// body, as `http.response_body`; see [`buffers::buffer`]): one scan serves both.
fn same_bytes(a: Option<&str>, b: Option<&str>) -> bool {
    fn canonical(n: Option<&str>) -> Option<&str> {
        match n {
            Some("http.response_body") => Some("file.data"),
            other => other,
        }
    }
    canonical(a) == canonical(b)
}

/// `out` = the union of two sorted, disjoint lists, in order.
fn merge(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] < b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rule, RuleContext, VarTable};

    fn sigs(rules: &[&str]) -> Vec<Signature> {
        let vars = VarTable::default();
        let mut bit = |_: &str| 0;
        rules
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let rule = parse_rule(text, &RuleContext::default()).expect("rule parses");
                Signature::compile(i, &rule, &mut vars.cached(), &mut bit).expect("rule compiles")
            })
            .collect()
    }

    fn packet_candidates(
        sigs: &[Signature],
        proto: u8,
        to_server: Option<bool>,
        payload: &[u8],
    ) -> Vec<u32> {
        let all: Vec<u32> = (0..sigs.len() as u32).collect();
        let pf = Prefilter::build(sigs, &[], &all, &[]);
        let mut scratch = pf.scratch();
        let addr: IpAddr = "192.0.2.1".parse().expect("address");
        let view = PacketView {
            src: addr,
            dst: addr,
            sp: 1,
            dp: 2,
            proto,
            icmp: None,
            payload,
            to_server,
            established: true,
            in_stream: false,
            raw: None,
            payload_inspection: true,
            fragment: false,
            proto_detected: false,
            pseudo: false,
            app_parsed: [false; 2],
            header: Default::default(),
        };
        let mut out = Vec::new();
        pf.packet_candidates(&mut scratch, &view, &mut out);
        out
    }

    #[test]
    fn patterns_select_signatures_and_the_rest_always_run() {
        let s = sigs(&[
            r#"alert tcp any any -> any any (content:"evil"; sid:1;)"#,
            r#"alert tcp any any -> any any (flow:to_server; dsize:>10; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"a"; content:!"longer pattern"; sid:3;)"#,
            r#"alert udp any any -> any any (content:"evil"; sid:4;)"#,
            r#"alert tcp any any -> any any (content:"EVIL"; nocase; flow:to_client; sid:5;)"#,
            r#"alert ip any any -> any any (content:"x"; content:"evil"; sid:6;)"#,
        ]);
        // sid 3's pattern is "a" (the negated content need not occur).
        assert_eq!(
            packet_candidates(&s, 6, Some(true), b"no match"),
            vec![1, 2]
        );
        assert_eq!(packet_candidates(&s, 6, Some(true), b"EvIl"), vec![0, 1, 5]);
        assert_eq!(
            packet_candidates(&s, 6, Some(false), b"eViL"),
            vec![0, 4, 5]
        );
        assert_eq!(packet_candidates(&s, 17, None, b"evil"), vec![3, 5]);
        assert_eq!(packet_candidates(&s, 1, None, b"xevil"), vec![5]);
    }

    #[test]
    fn overlapping_patterns_are_all_found() {
        let s = sigs(&[
            r#"alert tcp any any -> any any (content:"abc"; sid:1;)"#,
            r#"alert tcp any any -> any any (content:"bcd"; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"c"; sid:3;)"#,
        ]);
        assert_eq!(packet_candidates(&s, 6, Some(true), b"abcd"), vec![0, 1, 2]);
    }

    #[test]
    fn the_fast_pattern_keyword_chooses_the_pattern() {
        let s = sigs(&[
            r#"alert tcp any any -> any any (content:"short"; fast_pattern; content:"much longer"; sid:1;)"#,
        ]);
        assert_eq!(
            packet_candidates(&s, 6, Some(true), b"much longer"),
            Vec::<u32>::new()
        );
        assert_eq!(packet_candidates(&s, 6, Some(true), b"short"), vec![0]);
    }

    #[test]
    fn anchored_patterns_are_looked_up_at_the_ends_of_the_buffer() {
        let s = sigs(&[
            r#"alert tcp any any -> any any (content:"GET "; startswith; sid:1;)"#,
            r#"alert tcp any any -> any any (content:"GET "; depth:4; sid:2;)"#,
            r#"alert tcp any any -> any any (content:".example.com"; endswith; sid:3;)"#,
            r#"alert tcp any any -> any any (content:"exact"; startswith; endswith; sid:4;)"#,
            r#"alert tcp any any -> any any (content:"GET "; offset:1; depth:4; sid:5;)"#,
        ]);
        let c = |payload: &[u8]| packet_candidates(&s, 6, Some(true), payload);
        // sid 5 is not anchored (offset 1): found by scanning.
        assert_eq!(c(b"GET /www.example.com/"), vec![0, 1, 4]);
        assert_eq!(c(b"get www.EXAMPLE.com"), vec![0, 1, 2, 4]);
        assert_eq!(c(b"xGET .example.com"), vec![2, 4]);
        assert_eq!(c(b"EXACT"), vec![3]);
        assert_eq!(c(b"exact!"), Vec::<u32>::new());
        assert_eq!(c(b"GE"), Vec::<u32>::new());
    }

    #[test]
    fn anchored_lookups_find_every_length_sharing_an_end() {
        // Prefixes and suffixes of 1 to 9 bytes, several sharing their first (last) four
        // bytes, keyed by those in the lookup table.
        let prefixes = [
            "/", "/a", "/ad", "/adm", "/admi", "/admin", "/admin/x", "/b",
        ];
        let suffixes = [
            ".",
            "p",
            "hp",
            ".php",
            "x.php",
            "ex.php",
            "/index.php",
            "q.php",
        ];
        let mut rules = Vec::new();
        for (i, p) in prefixes.iter().enumerate() {
            rules.push(format!(
                r#"alert tcp any any -> any any (content:"{p}"; startswith; sid:{};)"#,
                i + 1
            ));
        }
        for (i, p) in suffixes.iter().enumerate() {
            rules.push(format!(
                r#"alert tcp any any -> any any (content:"{p}"; endswith; sid:{};)"#,
                i + 101
            ));
        }
        let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
        let s = sigs(&refs);
        for payload in [
            "/admin/x/index.php",
            "/ADMIN.PHP",
            "/b",
            "/",
            "q.php",
            "/adm",
            "x",
        ] {
            let lower = payload.to_ascii_lowercase();
            let mut want: Vec<u32> = Vec::new();
            for (i, p) in prefixes.iter().enumerate() {
                if lower.starts_with(p) {
                    want.push(i as u32);
                }
            }
            for (i, p) in suffixes.iter().enumerate() {
                if lower.ends_with(p) {
                    want.push((prefixes.len() + i) as u32);
                }
            }
            assert_eq!(
                packet_candidates(&s, 6, Some(true), payload.as_bytes()),
                want,
                "{payload}"
            );
        }
    }

    #[test]
    fn ip_only_signatures_are_found_by_their_narrowest_header_part() {
        let s = sigs(&[
            r#"alert tcp any any -> any 3306 (sid:1;)"#,
            r#"alert ip 1.2.3.4 any -> any any (sid:2;)"#,
            r#"alert ip any any -> [5.6.7.0/24,5.6.8.1] any (sid:3;)"#,
            r#"alert udp any 53 -> any any (sid:4;)"#,
            r#"alert ip any any -> any any (sid:5;)"#,
            r#"alert tcp 1.2.3.4 any <> any 3306 (sid:6;)"#,
            r#"alert ip $HOME_NET any -> any any (sid:7;)"#,
            r#"alert ip any any -> 2001:db8::1 any (sid:8;)"#,
        ]);
        let all: Vec<u32> = (0..s.len() as u32).collect();
        let pf = Prefilter::build(&s, &all, &[], &[]);
        let mut scratch = pf.scratch();
        let mut c = |src: &str, dst: &str, sp: u16, dp: u16, proto: u8| {
            let mut out = Vec::new();
            let header = (src.parse().unwrap(), dst.parse().unwrap(), sp, dp, proto);
            pf.iponly_candidates(&mut scratch, header, &mut out);
            out
        };
        assert_eq!(c("1.2.3.4", "5.6.7.9", 1000, 3306, 6), vec![0, 1, 2, 4, 5]);
        assert_eq!(c("10.0.0.1", "8.8.8.8", 53, 1000, 17), vec![3, 4, 5, 6]);
        // No ports outside TCP, UDP and SCTP.
        assert_eq!(c("10.0.0.1", "5.6.8.1", 53, 3306, 1), vec![2, 4, 5, 6]);
        assert_eq!(c("2001:db8::2", "2001:db8::1", 1, 1, 58), vec![4, 5, 7]);
    }

    #[test]
    fn patterns_with_a_depth_are_looked_for_within_it_only() {
        let s = sigs(&[
            r#"alert tcp any any -> any any (content:"abc"; depth:10; sid:1;)"#,
            r#"alert tcp any any -> any any (content:"abc"; offset:2; depth:8; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"xyz"; sid:3;)"#,
        ]);
        let c = |payload: &[u8]| packet_candidates(&s, 6, Some(true), payload);
        assert_eq!(c(b"1234567abc"), vec![0, 1]);
        assert_eq!(c(b"12345678abc"), Vec::<u32>::new());
        assert_eq!(c(b"12345678abcxyz"), vec![2]);
    }

    #[test]
    fn merge_keeps_signature_order() {
        let mut out = Vec::new();
        merge(&[1, 4, 9], &[0, 2, 10, 11], &mut out);
        assert_eq!(out, vec![0, 1, 2, 4, 9, 10, 11]);
    }
}
