//! TCP stream reassembly: one [`StreamBuffer`] per direction of a TCP session, holding
//! what the sender has sent, in sequence order, as Suricata 7.0.10's stream engine keeps
//! it (`stream-tcp-list.c`, `stream-tcp-reassemble.c`).
//!
//! * Offsets are 64-bit positions in the stream: offset 0 is the sequence number after the
//!   SYN (ISN + 1), or the first byte seen for a mid-stream pick-up. Sequence numbers are
//!   unwrapped against the furthest position seen, so wrap-around is transparent.
//! * Overlapping data is resolved per segment by the receiver's overlap policy (the
//!   `host-os-policy` of the destination, bsd when none matches). Inline (IPS) mode always
//!   keeps the data seen first, as Suricata does when it rewrites the packet.
//! * Data is handed to the application layer from `app_progress` on, up to a limit the
//!   caller gives: the other side's ACK in IDS mode, nothing in inline mode. A hole the
//!   limit has moved past is reported as a gap, once, and skipped.
//! * `stream.reassembly.depth` (1 MiB by default) rejects a segment whose end lies past it,
//!   and a global byte budget (`stream.reassembly.memcap`, 256 MiB) bounds what all
//!   streams hold together; both are counted.

use std::collections::{BTreeMap, BTreeSet};

use crate::decode::HostOs;

#[cfg(test)]
mod tests;

/// Which copy of overlapping bytes a receiver keeps, by Suricata's OS policies for TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverlapPolicy {
    /// bsd, bsd-right, windows, windows2k3, macos, irix, hpux10 (and no match: the default).
    Bsd,
    Linux,
    OldLinux,
    /// solaris, old-solaris, hpux11.
    Solaris,
    /// `none` and vista: the data seen first always stays.
    First,
    /// The data seen last always wins (no configuration name selects it).
    Last,
}

impl OverlapPolicy {
    /// The policy for a receiver of the given host OS (`None`: no `host-os-policy` range).
    pub fn for_host(os: Option<HostOs>) -> OverlapPolicy {
        match os {
            None => OverlapPolicy::Bsd,
            Some(os) => match os {
                HostOs::Bsd
                | HostOs::BsdRight
                | HostOs::Windows
                | HostOs::Windows2k3
                | HostOs::Macos
                | HostOs::Irix
                | HostOs::Hpux10 => OverlapPolicy::Bsd,
                HostOs::Linux => OverlapPolicy::Linux,
                HostOs::OldLinux => OverlapPolicy::OldLinux,
                HostOs::Solaris | HostOs::OldSolaris | HostOs::Hpux11 => OverlapPolicy::Solaris,
                HostOs::None | HostOs::Vista => OverlapPolicy::First,
            },
        }
    }

    /// Whether a new segment `[new_start, new_end)` replaces the bytes it shares with a
    /// stored segment `[old_start, old_end)`.
    fn new_wins(self, new_start: u64, new_end: u64, old_start: u64, old_end: u64) -> bool {
        match self {
            OverlapPolicy::Bsd => new_start < old_start,
            OverlapPolicy::Linux => {
                new_start < old_start || (new_start == old_start && new_end > old_end)
            }
            OverlapPolicy::OldLinux => {
                new_start < old_start || (new_start == old_start && new_end >= old_end)
            }
            OverlapPolicy::Solaris => {
                (new_start <= old_start && new_end >= old_end)
                    || (new_start > old_start && new_end > old_end)
            }
            OverlapPolicy::First => false,
            OverlapPolicy::Last => true,
        }
    }
}

/// Reassembly limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// `stream.reassembly.depth`: bytes per direction that are reassembled; 0 is no limit.
    pub depth: u64,
    /// `stream.reassembly.memcap`: bytes all streams may hold together.
    pub memcap: u64,
    /// `stream.reassembly.rulesim.max-segments`: segments one direction may hold (out of
    /// order, or waiting for the reader). Suricata has no such count: a direction's
    /// segments are bounded by the memcap alone, so that one hostile flow can take it
    /// all; this keeps the other flows' share.
    pub max_segments: u64,
}

impl Default for StreamConfig {
    /// The shipped suricata.yaml: depth 1mb, reassembly memcap 256mb.
    fn default() -> Self {
        StreamConfig {
            depth: 1 << 20,
            memcap: 256 << 20,
            max_segments: Self::DEFAULT_MAX_SEGMENTS,
        }
    }
}

impl StreamConfig {
    /// 65,536 segments: 45 times what a full 1 MiB depth takes in 1,460-byte segments,
    /// and at most 4 MiB of segment cost per direction.
    pub const DEFAULT_MAX_SEGMENTS: u64 = 65_536;

    /// The limits of one of `workers` threads, each holding a part of the flows: the
    /// memcap is split between them.
    pub fn shared_by(self, workers: usize) -> StreamConfig {
        StreamConfig {
            memcap: self.memcap / workers.max(1) as u64,
            ..self
        }
    }
}

/// What a held segment costs against the memcap besides its bytes (its entries in the
/// block and segment maps), as Suricata counts its `TcpSegment` structures: a flood of
/// tiny segments is bounded by the memcap like a flood of large ones.
pub(crate) const SEGMENT_COST: u64 = 64;

/// The bytes held by all streams, against the memcap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemBudget {
    pub cap: u64,
    pub used: u64,
    pub high_water: u64,
}

impl MemBudget {
    pub fn new(cap: u64) -> Self {
        MemBudget {
            cap,
            ..MemBudget::default()
        }
    }

    fn take(&mut self, n: u64) {
        self.used += n;
        self.high_water = self.high_water.max(self.used);
    }

    fn give_back(&mut self, n: u64) {
        self.used = self.used.saturating_sub(n);
    }
}

/// Counters of one stream, summed into the run's stats by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamStats {
    /// Segments that overlapped stored data (`tcp.overlap`).
    pub overlaps: u64,
    /// ... with different bytes (`tcp.overlap_diff_data`).
    pub overlaps_different: u64,
    /// Segments wholly before what is still held (`stream.pkt_spurious_retransmission`).
    pub old_segments: u64,
    /// Segments refused past the depth (`tcp.stream_depth_reached`).
    pub past_depth: u64,
    /// Segments refused for the memcap (`tcp.segment_memcap_drop`).
    pub memcap_drops: u64,
    /// Segments refused because the direction held `max_segments` already.
    pub segment_limit_drops: u64,
    /// Holes skipped (`tcp.reassembly_gap`).
    pub gaps: u64,
}

/// What became of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored; `different` when it overlapped stored bytes that differ.
    Stored {
        overlapped: bool,
        different: bool,
    },
    /// Same sequence number and length as a stored segment: compared, then dropped.
    Duplicate {
        different: bool,
    },
    /// Wholly before the data still held (already handed on).
    Old,
    /// Ends past the depth; the stream's reassembly is over.
    PastDepth,
    /// The memcap has no room for it.
    NoMemory,
    /// The direction holds `max_segments` segments already.
    TooManySegments,
    Empty,
}

/// What the application layer gets next.
#[derive(Debug, PartialEq, Eq)]
pub enum AppChunk<'a> {
    /// Contiguous data at `app_progress`.
    Data(&'a [u8]),
    /// Bytes that will never arrive: the limit has passed them. Skipped already.
    Gap(u64),
}

/// One direction of a TCP session.
#[derive(Clone, Debug)]
pub struct StreamBuffer {
    /// Sequence number of offset 0.
    base_seq: u32,
    /// Furthest offset seen, the reference for unwrapping sequence numbers.
    horizon: u64,
    policy: OverlapPolicy,
    /// Inline mode: the data seen first always stays.
    inline: bool,
    depth: u64,
    max_segments: u64,
    depth_reached: bool,
    /// The stream's bytes: disjoint blocks by start offset, each at most a segment long.
    blocks: BTreeMap<u64, Vec<u8>>,
    /// Segment extents as received (start, end), for the overlap policy.
    segments: BTreeSet<(u64, u64)>,
    /// The longest segment stored, which bounds the search for overlaps.
    longest: u64,
    /// Next offset the application layer reads.
    app_progress: u64,
    /// Bytes held in `blocks`.
    held: u64,
    stats: StreamStats,
}

impl StreamBuffer {
    /// A stream whose first byte has sequence number `first_seq` (ISN + 1 after a SYN).
    pub fn new(first_seq: u32, policy: OverlapPolicy, inline: bool, config: &StreamConfig) -> Self {
        StreamBuffer {
            base_seq: first_seq,
            horizon: 0,
            policy,
            inline,
            depth: config.depth,
            max_segments: config.max_segments,
            depth_reached: false,
            blocks: BTreeMap::new(),
            segments: BTreeSet::new(),
            longest: 0,
            app_progress: 0,
            held: 0,
            stats: StreamStats::default(),
        }
    }

    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    pub fn app_progress(&self) -> u64 {
        self.app_progress
    }

    pub fn depth_reached(&self) -> bool {
        self.depth_reached
    }

    /// Bytes held (not yet handed on, or kept for overlap checks).
    pub fn held(&self) -> u64 {
        self.held
    }

    /// What this stream holds against the memcap: its bytes and its segments' cost.
    pub fn memcap_charge(&self) -> u64 {
        self.held + self.segments.len() as u64 * SEGMENT_COST
    }

    /// The stream offset of a sequence number (negative: before offset 0).
    pub fn offset_of(&self, seq: u32) -> i64 {
        let reference = self.base_seq.wrapping_add(self.horizon as u32);
        self.horizon as i64 + i64::from(seq.wrapping_sub(reference) as i32)
    }

    /// The fast path for in-order data a reader takes at once: when the segment starts
    /// exactly at `app_progress` and nothing is held, it is accounted as read without
    /// being stored. Returns false (and does nothing) otherwise; then `insert` it.
    pub fn pass_through(&mut self, seq: u32, len: usize) -> bool {
        let end = self.app_progress + len as u64;
        if self.held != 0
            || self.offset_of(seq) != self.app_progress as i64
            || self.depth_reached
            || (self.depth > 0 && end > self.depth)
        {
            return false;
        }
        self.app_progress = end;
        self.horizon = self.horizon.max(end);
        true
    }

    /// Adds a segment's payload.
    pub fn insert(&mut self, seq: u32, payload: &[u8], mem: &mut MemBudget) -> Inserted {
        if payload.is_empty() {
            return Inserted::Empty;
        }
        let start = self.offset_of(seq);
        let end = start + payload.len() as i64;
        // Data already handed on is gone: a segment wholly before it is old, one that
        // straddles it is trimmed.
        let floor = self.app_progress as i64;
        if end <= floor {
            self.stats.old_segments += 1;
            return Inserted::Old;
        }
        let (start, payload) = if start < floor {
            (floor as u64, &payload[(floor - start) as usize..])
        } else {
            (start as u64, payload)
        };
        let end = end as u64;
        if self.depth_reached || (self.depth > 0 && end > self.depth) {
            self.depth_reached = true;
            self.stats.past_depth += 1;
            return Inserted::PastDepth;
        }
        if mem.used + payload.len() as u64 + SEGMENT_COST > mem.cap {
            self.stats.memcap_drops += 1;
            return Inserted::NoMemory;
        }
        let duplicate = self.segments.contains(&(start, end));
        if !duplicate && self.segments.len() as u64 >= self.max_segments {
            self.stats.segment_limit_drops += 1;
            return Inserted::TooManySegments;
        }
        self.horizon = self.horizon.max(end);

        if duplicate {
            let different = self.differs(start, payload);
            self.stats.overlaps += 1;
            if different {
                self.stats.overlaps_different += 1;
            }
            return Inserted::Duplicate { different };
        }

        // Start from the new bytes; where a stored segment keeps its data, put it back.
        let mut merged = payload.to_vec();
        let mut overlapped = false;
        let mut different = false;
        // Segments are sorted by start; none is longer than `longest`, so the walk back
        // stops where no earlier segment can reach `start`.
        let overlapping = self
            .segments
            .range(..(end, 0))
            .rev()
            .take_while(|&&(s, _)| s + self.longest > start)
            .filter(|&&(_, e)| e > start);
        for &(s, e) in overlapping {
            overlapped = true;
            let lo = s.max(start);
            let hi = e.min(end);
            let new_wins = !self.inline && self.policy.new_wins(start, end, s, e);
            for off in lo..hi {
                let Some(old) = self.byte_at(off) else {
                    continue;
                };
                let slot = &mut merged[(off - start) as usize];
                if old != *slot {
                    different = true;
                    if !new_wins {
                        *slot = old;
                    }
                }
            }
        }
        if overlapped {
            self.stats.overlaps += 1;
            if different {
                self.stats.overlaps_different += 1;
            }
        }
        let before = self.held;
        self.write(start, &merged);
        mem.take(self.held - before);
        if self.segments.insert((start, end)) {
            mem.take(SEGMENT_COST);
        }
        self.longest = self.longest.max(end - start);
        Inserted::Stored {
            overlapped,
            different,
        }
    }

    /// The next thing for the application layer, reading no further than `limit` (an
    /// offset, e.g. the other side's ACK in IDS mode; `None` for no limit). A hole that
    /// `limit` has passed is skipped and reported once as a gap.
    pub fn next_app_chunk(&mut self, limit: Option<u64>) -> Option<AppChunk<'_>> {
        let limit = limit.unwrap_or(u64::MAX);
        if self.app_progress >= limit {
            return None;
        }
        let at = self.app_progress;
        let block = self
            .blocks
            .range(..=at)
            .next_back()
            .map(|(&s, b)| (s, b.len() as u64));
        match block {
            Some((s, len)) if s + len > at => {
                let to = (s + len).min(limit);
                let b = &self.blocks[&s];
                Some(AppChunk::Data(&b[(at - s) as usize..(to - s) as usize]))
            }
            _ => {
                // A hole at `at`: it is a gap once the limit lies past it.
                if limit == u64::MAX {
                    return None;
                }
                let next = self
                    .blocks
                    .range(at..)
                    .next()
                    .map_or(limit, |(&s, _)| s.min(limit));
                let size = next - at;
                self.stats.gaps += 1;
                self.app_progress = next;
                Some(AppChunk::Gap(size))
            }
        }
    }

    /// Marks `n` bytes at `app_progress` as handed on and frees them.
    pub fn consume(&mut self, n: u64, mem: &mut MemBudget) {
        self.app_progress += n;
        self.prune(mem);
    }

    /// Frees what lies before `app_progress`.
    fn prune(&mut self, mem: &mut MemBudget) {
        let floor = self.app_progress;
        while let Some((&s, b)) = self.blocks.first_key_value() {
            let e = s + b.len() as u64;
            if e <= floor {
                self.held -= b.len() as u64;
                mem.give_back(b.len() as u64);
                self.blocks.remove(&s);
            } else if s < floor {
                let mut b = self.blocks.remove(&s).unwrap_or_default();
                let cut = (floor - s) as usize;
                b.drain(..cut);
                self.held -= cut as u64;
                mem.give_back(cut as u64);
                self.blocks.insert(floor, b);
                break;
            } else {
                break;
            }
        }
        // Only segments starting before the floor can be wholly before it; walking them
        // (not the whole set) keeps a long run of held segments from costing quadratic
        // time as the hole before them fills.
        let done: Vec<(u64, u64)> = self
            .segments
            .range(..(floor, 0))
            .filter(|&&(_, e)| e <= floor)
            .copied()
            .collect();
        for seg in &done {
            self.segments.remove(seg);
        }
        mem.give_back(done.len() as u64 * SEGMENT_COST);
    }

    /// Releases everything (the session ended).
    pub fn clear(&mut self, mem: &mut MemBudget) {
        mem.give_back(self.held + self.segments.len() as u64 * SEGMENT_COST);
        self.held = 0;
        self.blocks.clear();
        self.segments.clear();
    }

    fn byte_at(&self, off: u64) -> Option<u8> {
        let (&s, b) = self.blocks.range(..=off).next_back()?;
        b.get((off - s) as usize).copied()
    }

    fn differs(&self, start: u64, data: &[u8]) -> bool {
        data.iter()
            .enumerate()
            .any(|(i, &x)| self.byte_at(start + i as u64).is_some_and(|old| old != x))
    }

    /// Writes `data` at `start`: stored bytes it covers are overwritten in place, the
    /// rest becomes new blocks. Blocks are never merged, so no insert copies more than its
    /// own length, whatever the order segments arrive in.
    fn write(&mut self, start: u64, data: &[u8]) {
        let end = start + data.len() as u64;
        // No block is longer than the longest segment, which bounds the walk back.
        let reach = self.longest.max(data.len() as u64);
        let mut overlapping: Vec<u64> = self
            .blocks
            .range(..end)
            .rev()
            .take_while(|(&s, _)| s + reach > start)
            .filter(|(&s, b)| s + b.len() as u64 > start)
            .map(|(&s, _)| s)
            .collect();
        overlapping.reverse();
        let mut cursor = start;
        for bs in overlapping {
            if bs > cursor {
                let piece = &data[(cursor - start) as usize..(bs - start) as usize];
                self.held += piece.len() as u64;
                self.blocks.insert(cursor, piece.to_vec());
            }
            let Some(block) = self.blocks.get_mut(&bs) else {
                continue;
            };
            let be = bs + block.len() as u64;
            let lo = bs.max(start);
            let hi = be.min(end);
            block[(lo - bs) as usize..(hi - bs) as usize]
                .copy_from_slice(&data[(lo - start) as usize..(hi - start) as usize]);
            cursor = cursor.max(be);
        }
        if cursor < end {
            let piece = &data[(cursor - start) as usize..];
            self.held += piece.len() as u64;
            self.blocks.insert(cursor, piece.to_vec());
        }
    }
}
