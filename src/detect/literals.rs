//! Which of a set of literals occur in a buffer, ignoring ASCII case: the prefilter's
//! multi-pattern scan.
//!
//! The prefilter needs a set answer (which patterns are present), not every match, and
//! its pattern sets are large (ET Open puts about 3,000 patterns in one group) while
//! most bytes match none of them. An Aho-Corasick automaton of that size walks a
//! table far bigger than the cache and reports every overlapping match of the frequent
//! short patterns; this filter instead tests each window of the buffer against a small
//! bitset and looks further only on a hit:
//!
//! - every literal of 4 bytes or more is represented by one 4-byte *fragment* of it, the
//!   rarest by a byte-frequency estimate of network payloads; each 4-byte window of the
//!   buffer is hashed into a bitset of fragment hashes (a few KiB, in L1), and on a hit
//!   the literals with that fragment are checked in full;
//! - literals of 2 or 3 bytes by a 2-byte fragment, in a 65,536-bit table indexed by
//!   the window itself;
//! - literals of 1 byte by `memchr`.
//!
//! The caller lower-cases the buffer once (a vectorised pass, shared by the sets that
//! scan it); literals are lower-cased when the set is built, so every comparison is of
//! plain bytes. A literal already found is not checked again, and the scan stops once
//! every literal has been found.

use memchr::memchr;

/// A literal and the caller's id for it.
struct Literal {
    /// ASCII lower-cased.
    bytes: Box<[u8]>,
    id: u32,
}

/// Literals indexed by a fragment of `WIDTH` bytes.
struct FragmentTable<const WIDTH: usize> {
    /// Slot index = hash of the window >> `shift` (2-byte tables: the window).
    shift: u32,
    /// Per slot: whether any fragment hashes there.
    bits: Vec<u64>,
    /// Per slot: its entries are `entries[starts[slot]..starts[slot + 1]]`.
    starts: Vec<u32>,
    entries: Vec<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    /// The fragment, to skip literals whose fragment only shares the slot.
    fragment: u32,
    /// Index into [`LiteralSet::literals`].
    literal: u32,
    /// Where the fragment starts in the literal.
    offset: u32,
}

const HASH_MULTIPLIER: u32 = 0x9E37_79B1;

fn word4(window: [u8; 4]) -> u32 {
    u32::from_le_bytes(window)
}

fn word2(window: [u8; 2]) -> u16 {
    u16::from_le_bytes(window)
}

/// The buffer ASCII lower-cased into `out`, as [`LiteralSet::scan`] takes it.
pub fn lower_into(hay: &[u8], out: &mut Vec<u8>) {
    // Copy, then lower-case in place: both passes vectorise (a mapped `extend` did not).
    out.clear();
    out.extend_from_slice(hay);
    out.make_ascii_lowercase();
}

impl<const WIDTH: usize> FragmentTable<WIDTH> {
    /// `entries`: (fragment, literal, offset).
    fn new(mut entries: Vec<Entry>) -> FragmentTable<WIDTH> {
        let slot_bits: u32 = if WIDTH == 2 {
            16
        } else {
            // About 32 slots per fragment keeps the bitset sparse (few false hits) and
            // small: 16 KiB for 3,000 fragments.
            (entries.len().max(1) * 32)
                .next_power_of_two()
                .trailing_zeros()
                .clamp(10, 20)
        };
        let shift = 32 - slot_bits;
        let slots = 1usize << slot_bits;
        let table = FragmentTable {
            shift,
            bits: Vec::new(),
            starts: Vec::new(),
            entries: Vec::new(),
        };
        entries.sort_by_key(|e| (table.slot(e.fragment), e.literal));
        let mut bits = vec![0u64; slots / 64];
        let mut starts = vec![0u32; slots + 1];
        for e in &entries {
            let s = table.slot(e.fragment);
            bits[s / 64] |= 1 << (s % 64);
            starts[s + 1] += 1;
        }
        for s in 0..slots {
            starts[s + 1] += starts[s];
        }
        FragmentTable {
            bits,
            starts,
            entries,
            ..table
        }
    }

    const fn empty() -> FragmentTable<WIDTH> {
        FragmentTable {
            shift: 0,
            bits: Vec::new(),
            starts: Vec::new(),
            entries: Vec::new(),
        }
    }

    fn slot(&self, window: u32) -> usize {
        if WIDTH == 2 {
            window as usize
        } else {
            (window.wrapping_mul(HASH_MULTIPLIER) >> self.shift) as usize
        }
    }

    fn hit(&self, slot: usize) -> bool {
        self.bits[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn slot_entries(&self, slot: usize) -> &[Entry] {
        let (a, b) = (self.starts[slot] as usize, self.starts[slot + 1] as usize);
        &self.entries[a..b]
    }

    fn memory_usage(&self) -> usize {
        self.bits.len() * 8 + self.starts.len() * 4 + self.entries.len() * 12
    }
}

/// An immutable set of literals, each with the caller's id (ids index the caller's
/// `seen` array in [`LiteralSet::scan`]).
pub struct LiteralSet {
    literals: Vec<Literal>,
    long: Option<FragmentTable<4>>,
    short: Option<FragmentTable<2>>,
    /// The 2-byte fragments of `short` and the first two bytes of those of `long`: the
    /// first test of every window.
    pairs: PairBits,
    /// 1-byte literals: (lower-cased byte, literal index).
    single: Vec<(u8, u32)>,
}

/// State of one scan, handed to the verification of each hit.
struct Found<'a, F> {
    seen: &'a mut [u32],
    stamp: u32,
    /// Literals not found yet.
    left: usize,
    report: F,
}

impl<F: FnMut(u32)> Found<'_, F> {
    fn check(&mut self, literals: &[Literal], e: &Entry, at: usize, hay: &[u8]) {
        let lit = &literals[e.literal as usize];
        if self.seen[lit.id as usize] == self.stamp {
            return;
        }
        let Some(start) = at.checked_sub(e.offset as usize) else {
            return;
        };
        let Some(window) = hay.get(start..start + lit.bytes.len()) else {
            return;
        };
        if *window == *lit.bytes {
            self.found(lit.id);
        }
    }

    fn is_seen(&self, id: u32) -> bool {
        self.seen[id as usize] == self.stamp
    }

    fn found(&mut self, id: u32) {
        self.seen[id as usize] = self.stamp;
        self.left -= 1;
        (self.report)(id);
    }
}

/// How common a (lower-cased) byte is in network payloads, higher is more common:
/// fragments are chosen to minimise the sum, so that the filter's hits are mostly real.
fn commonness(byte: u8) -> u32 {
    match byte {
        // Padding and separators.
        0 | b' ' | 0xff => 10,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'h' | b'l' => 7,
        b'\r' | b'\n' | b'/' | b'.' | b':' | b'=' | b'-' | b'0' | b'1' | b'&' | b',' => 7,
        b'a'..=b'z' | b'2'..=b'9' | 1..=4 => 5,
        0x80..=0xfe => 2,
        _ => 3,
    }
}

/// The offset of the rarest `width`-byte fragment of a (lower-cased) literal.
fn rarest_fragment(bytes: &[u8], width: usize) -> usize {
    (0..=bytes.len() - width)
        .min_by_key(|&k| {
            // The first two bytes are the first test of every window: they count twice.
            bytes[k..k + width]
                .iter()
                .enumerate()
                .map(|(i, &b)| commonness(b) * if i < 2 { 2 } else { 1 })
                .sum::<u32>()
        })
        .unwrap_or(0)
}

impl LiteralSet {
    /// A set of non-empty literals (empty ones are ignored) with the caller's ids.
    pub fn new<'a>(literals: impl IntoIterator<Item = (&'a [u8], u32)>) -> LiteralSet {
        let literals: Vec<Literal> = literals
            .into_iter()
            .filter(|(b, _)| !b.is_empty())
            .map(|(b, id)| Literal {
                bytes: b.to_ascii_lowercase().into_boxed_slice(),
                id,
            })
            .collect();
        let (mut long, mut short, mut single) = (Vec::new(), Vec::new(), Vec::new());
        for (i, lit) in literals.iter().enumerate() {
            let b = &lit.bytes;
            let literal = i as u32;
            match b.len() {
                1 => single.push((b[0], literal)),
                2 | 3 => {
                    let k = rarest_fragment(b, 2);
                    short.push(Entry {
                        fragment: u32::from(word2([b[k], b[k + 1]])),
                        literal,
                        offset: k as u32,
                    });
                }
                _ => {
                    let k = rarest_fragment(b, 4);
                    long.push(Entry {
                        fragment: word4([b[k], b[k + 1], b[k + 2], b[k + 3]]),
                        literal,
                        offset: k as u32,
                    });
                }
            }
        }
        let mut pairs = PairBits::new();
        for e in short.iter().chain(&long) {
            pairs.insert(e.fragment as u16);
        }
        LiteralSet {
            literals,
            pairs,
            long: (!long.is_empty()).then(|| FragmentTable::new(long)),
            short: (!short.is_empty()).then(|| FragmentTable::new(short)),
            single,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.literals.is_empty()
    }

    /// Bytes the tables take.
    pub fn memory_usage(&self) -> usize {
        self.literals
            .iter()
            .map(|l| l.bytes.len() + std::mem::size_of::<Literal>())
            .sum::<usize>()
            + self.long.as_ref().map_or(0, FragmentTable::memory_usage)
            + self.short.as_ref().map_or(0, FragmentTable::memory_usage)
            + self.pairs.0.len() * 8
            + self.single.len() * 8
    }

    /// Reports, once each, the ids of the literals that occur in `hay` (ASCII
    /// lower-cased by [`lower_into`]) and are not already marked in `seen`
    /// (`seen[id] == stamp`); marks those it reports.
    pub fn scan<F: FnMut(u32)>(&self, hay: &[u8], seen: &mut [u32], stamp: u32, report: F) {
        // Counting the literals already seen would cost a pass over the set per scan:
        // the early stop only comes when all are found in this one.
        let mut found = Found {
            seen,
            stamp,
            left: self.literals.len(),
            report,
        };
        for &(byte, literal) in &self.single {
            if found.left == 0 {
                return;
            }
            let id = self.literals[literal as usize].id;
            if found.seen[id as usize] == stamp {
                continue;
            }
            if memchr(byte, hay).is_some() {
                found.found(id);
            }
        }
        if found.left == 0 {
            return;
        }
        match (&self.long, &self.short) {
            (Some(long), Some(short)) => {
                self.scan_windows::<true, true, F>(long, short, hay, &mut found)
            }
            (Some(long), None) => {
                self.scan_windows::<true, false, F>(long, &EMPTY_SHORT, hay, &mut found)
            }
            (None, Some(short)) => {
                self.scan_windows::<false, true, F>(&EMPTY_LONG, short, hay, &mut found)
            }
            (None, None) => {}
        }
    }

    /// One pass over the buffer's windows: four positions per 8-byte load, each 2-byte
    /// window tested against `pairs` (one branch for the four), and only a window that
    /// hits there against the tables.
    fn scan_windows<const LONG: bool, const SHORT: bool, F: FnMut(u32)>(
        &self,
        long: &FragmentTable<4>,
        short: &FragmentTable<2>,
        hay: &[u8],
        found: &mut Found<F>,
    ) {
        let mut dead_long = DeadSlots::new();
        let mut dead_short = DeadSlots::new();
        let mut at = 0;
        while let Some(block) = hay.get(at..at + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(block);
            let x = u64::from_le_bytes(bytes);
            let windows = [
                x as u32,
                (x >> 8) as u32,
                (x >> 16) as u32,
                (x >> 24) as u32,
            ];
            let mut any = false;
            for k in 0..4 {
                any |= self.pairs.hit((x >> (8 * k)) as u16);
            }
            if any {
                for (k, &window) in windows.iter().enumerate() {
                    if !self.pairs.hit(window as u16) {
                        continue;
                    }
                    if SHORT {
                        let slot = usize::from(window as u16);
                        if short.hit(slot) {
                            self.probe(short, slot, None, at + k, hay, found, &mut dead_short);
                        }
                    }
                    if LONG {
                        let slot = long.slot(window);
                        if long.hit(slot) {
                            self.probe(
                                long,
                                slot,
                                Some(window),
                                at + k,
                                hay,
                                found,
                                &mut dead_long,
                            );
                        }
                    }
                }
                if found.left == 0 {
                    return;
                }
            }
            at += 4;
        }
        // The last positions, one at a time.
        for at in at..hay.len() {
            if SHORT {
                if let Some(&[a, b]) = hay.get(at..at + 2) {
                    let slot = usize::from(word2([a, b]));
                    if short.hit(slot) {
                        self.probe(short, slot, None, at, hay, found, &mut dead_short);
                    }
                }
            }
            if LONG {
                if let Some(&[a, b, c, d]) = hay.get(at..at + 4) {
                    let window = word4([a, b, c, d]);
                    let slot = long.slot(window);
                    if long.hit(slot) {
                        self.probe(long, slot, Some(window), at, hay, found, &mut dead_long);
                    }
                }
            }
        }
    }

    /// Checks the literals of a slot the window at `at` hit (those with the window as
    /// fragment, when `fragment` is given); remembers the slot as dead once all its
    /// literals are found.
    #[allow(clippy::too_many_arguments)]
    fn probe<const WIDTH: usize, F: FnMut(u32)>(
        &self,
        t: &FragmentTable<WIDTH>,
        slot: usize,
        fragment: Option<u32>,
        at: usize,
        hay: &[u8],
        found: &mut Found<F>,
        dead: &mut DeadSlots,
    ) {
        if dead.contains(slot) {
            return;
        }
        let mut alive = false;
        for e in t.slot_entries(slot) {
            if fragment.is_none_or(|f| f == e.fragment) {
                found.check(&self.literals, e, at, hay);
            }
            alive |= !found.is_seen(self.literals[e.literal as usize].id);
        }
        if !alive {
            dead.insert(slot);
        }
    }
}

/// A set of 2-byte values (8 KiB).
/// A fixed-size array, so that indexing by a `u16` needs no bounds check.
struct PairBits(Box<[u64; 1024]>);

impl PairBits {
    fn new() -> PairBits {
        PairBits(Box::new([0; 1024]))
    }

    fn insert(&mut self, pair: u16) {
        self.0[usize::from(pair / 64)] |= 1 << (pair % 64);
    }

    fn hit(&self, pair: u16) -> bool {
        self.0[usize::from(pair / 64)] & (1 << (pair % 64)) != 0
    }
}

/// Slots whose literals have all been found in this scan (a small direct-mapped cache):
/// a run of NUL bytes hitting the slot of `|00 00|` costs one compare per window once
/// that literal is found.
struct DeadSlots([usize; 16]);

impl DeadSlots {
    fn new() -> DeadSlots {
        DeadSlots([usize::MAX; 16])
    }

    fn contains(&self, slot: usize) -> bool {
        self.0[slot % 16] == slot
    }

    fn insert(&mut self, slot: usize) {
        self.0[slot % 16] = slot;
    }
}

/// Tables for the loops that do not use them.
static EMPTY_LONG: FragmentTable<4> = FragmentTable::empty();
static EMPTY_SHORT: FragmentTable<2> = FragmentTable::empty();

#[cfg(test)]
mod tests {
    use super::*;

    /// The literals of `set` found in `hay`, by naive search.
    fn naive(literals: &[&[u8]], hay: &[u8]) -> Vec<u32> {
        let hay = hay.to_ascii_lowercase();
        let mut ids: Vec<u32> = literals
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                !l.is_empty()
                    && hay
                        .windows(l.len())
                        .any(|w| w == l.to_ascii_lowercase().as_slice())
            })
            .map(|(i, _)| i as u32)
            .collect();
        ids.sort_unstable();
        ids
    }

    fn scanned(set: &LiteralSet, n: usize, hay: &[u8]) -> Vec<u32> {
        let mut seen = vec![0; n];
        let mut ids = Vec::new();
        let mut lower = Vec::new();
        lower_into(hay, &mut lower);
        set.scan(&lower, &mut seen, 1, |id| ids.push(id));
        ids.sort_unstable();
        ids
    }

    fn set_of(literals: &[&[u8]]) -> LiteralSet {
        LiteralSet::new(literals.iter().enumerate().map(|(i, l)| (*l, i as u32)))
    }

    #[test]
    fn finds_literals_of_every_length_ignoring_case() {
        let literals: &[&[u8]] = &[
            b"A",
            b"|",
            b"ab",
            b"xYz",
            b"User-Agent: curl",
            b"\x00\x01\x02\x03",
            b"missing",
            b"\xffZ",
        ];
        let hay = b"GET / HTTP/1.1\r\nuser-agent: CURL/8\r\nX: ABx|\r\n\x00\x01\x02\x03 xyz";
        assert_eq!(
            scanned(&set_of(literals), literals.len(), hay),
            naive(literals, hay)
        );
        assert_eq!(
            scanned(&set_of(literals), literals.len(), hay),
            vec![0, 1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn only_ascii_letters_are_case_folded() {
        let literals: &[&[u8]] = &[b"a b c", b"x-y", b"@@", b"[x]"];
        let hay = b"a\x00b\x00c x\ry ``{x}";
        assert!(scanned(&set_of(literals), literals.len(), hay).is_empty());
    }

    #[test]
    fn literals_at_the_ends_of_the_buffer_and_overlapping_are_found() {
        let literals: &[&[u8]] = &[b"abcd", b"bcde", b"cdef", b"ef", b"f", b"abcdef"];
        for hay in [&b"abcdef"[..], b"abcd", b"xabcdefx", b"cdef"] {
            assert_eq!(
                scanned(&set_of(literals), literals.len(), hay),
                naive(literals, hay),
                "{hay:?}"
            );
        }
    }

    #[test]
    fn literals_already_seen_are_not_reported_again() {
        let literals: &[&[u8]] = &[b"host", b"get"];
        let set = set_of(literals);
        let mut seen = vec![0, 7];
        let mut ids = Vec::new();
        set.scan(b"get / host", &mut seen, 7, |id| ids.push(id));
        assert_eq!(ids, vec![0]);
        assert_eq!(seen, vec![7, 7]);
        ids.clear();
        set.scan(b"get / host", &mut seen, 7, |id| ids.push(id));
        assert!(ids.is_empty());
    }

    #[test]
    fn agrees_with_naive_search_on_random_sets_and_buffers() {
        // A small deterministic generator: bytes from a narrow alphabet so that
        // literals occur, with pairs that differ in bit 5 only (NUL/space, CR/'-').
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let alphabet = b"aAbB \x00\r-xX\xff@`";
        for round in 0..300 {
            let count = 1 + next(if round % 10 == 0 { 400 } else { 20 }) as usize;
            let literals: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    let len = 1 + next(7) as usize;
                    (0..len)
                        .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                        .collect()
                })
                .collect();
            let refs: Vec<&[u8]> = literals.iter().map(Vec::as_slice).collect();
            let set = set_of(&refs);
            let hay: Vec<u8> = (0..next(600))
                .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(
                scanned(&set, refs.len(), &hay),
                naive(&refs, &hay),
                "{refs:?} in {hay:?}"
            );
        }
    }

    #[test]
    fn large_sets_use_a_larger_bitset() {
        let literals: Vec<Vec<u8>> = (0..5000)
            .map(|i| format!("pattern{i:05}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = literals.iter().map(Vec::as_slice).collect();
        let set = set_of(&refs);
        let bits = set.long.as_ref().map_or(0, |t| t.bits.len() * 64);
        assert!(bits >= 5000 * 16, "{bits}");
        let hay = b"xx PATTERN04999 pattern00000 pattern0000";
        assert_eq!(scanned(&set, refs.len(), hay), vec![0, 4999]);
    }
}
