//! IPv4 and IPv6 fragment reassembly with Suricata's defaults: 60 s timeout, at most
//! 65,535 trackers and 65,535 held fragments, and its default "bsd" overlap policy (where
//! fragments overlap, the one with the lower offset wins; on equal offsets the first seen).

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::ip::{Context, Fragment};
use super::{Invalid, Vlans};
use crate::time::Timestamp;

/// Reassembly limits.
#[derive(Clone, Copy, Debug)]
pub struct DefragConfig {
    /// Seconds a datagram may wait for its missing fragments (`defrag.timeout`).
    pub timeout_secs: u32,
    /// Datagrams in reassembly at once (`defrag.trackers`).
    pub max_trackers: usize,
    /// Fragments held at once over all datagrams (`defrag.max-frags`).
    pub max_fragments: usize,
    /// Fragments one datagram may consist of (an 8-byte step over 64 KiB).
    pub max_fragments_per_datagram: usize,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout_secs: 60,
            max_trackers: 65_535,
            max_fragments: 65_535,
            max_fragments_per_datagram: 8_192,
        }
    }
}

/// Counters for the stats output.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DefragStats {
    pub ipv4_fragments: u64,
    pub ipv4_reassembled: u64,
    pub ipv6_fragments: u64,
    pub ipv6_reassembled: u64,
    /// Datagrams dropped unfinished after the timeout.
    pub timeouts: u64,
    /// Fragments refused because `max_trackers` datagrams were already open.
    pub tracker_limit_hits: u64,
    /// Fragments refused because `max_fragments` were already held.
    pub fragment_limit_hits: u64,
    /// Fragments that would make a datagram larger than 65,535 bytes.
    pub too_large: u64,
    /// Fragments that overlapped data already held.
    pub overlaps: u64,
    /// Most fragments held at once.
    pub max_fragments_held: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    version: u8,
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4 protocol (part of the datagram identity); 0 for IPv6.
    proto: u8,
    vlans: Vlans,
}

struct Piece {
    offset: u32,
    arrival: u32,
    data: Vec<u8>,
}

impl Piece {
    fn end(&self) -> u32 {
        self.offset + self.data.len() as u32
    }
}

struct Tracker {
    expires: Timestamp,
    /// Sorted by (offset, arrival).
    pieces: Vec<Piece>,
    arrivals: u32,
    /// Header of the offset-0 fragment, when seen.
    header: Option<Vec<u8>>,
    next_header_at: usize,
    /// Protocol of the reassembled payload (IPv6: from the fragment header).
    proto: u8,
    /// End of the datagram, known once the last fragment (MF=0) arrived.
    total: Option<u32>,
    link_header_len: usize,
    linktype: u32,
}

/// A completed datagram.
pub(super) struct Reassembled {
    pub ts: Timestamp,
    pub linktype: u32,
    pub vlans: Vlans,
    pub link_header_len: usize,
    pub datagram: Vec<u8>,
}

pub(super) struct Defrag {
    config: DefragConfig,
    trackers: FxHashMap<Key, Tracker>,
    held: usize,
    stats: DefragStats,
}

const MAX_DATAGRAM: u32 = 65_535;

impl Defrag {
    pub fn new(config: DefragConfig) -> Self {
        Defrag {
            config,
            trackers: FxHashMap::default(),
            held: 0,
            stats: DefragStats::default(),
        }
    }

    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    pub fn fragments_held(&self) -> usize {
        self.held
    }

    /// Adds a fragment; returns the datagram when this fragment completed it.
    pub fn insert(
        &mut self,
        frag: Fragment<'_>,
        ctx: &Context,
    ) -> Result<Option<Reassembled>, Invalid> {
        if frag.version == 4 {
            self.stats.ipv4_fragments += 1;
        } else {
            self.stats.ipv6_fragments += 1;
        }
        let end = frag.offset + frag.data.len() as u32;
        // The IPv4 header counts towards the 65,535-byte limit too.
        if end + frag.header.len() as u32 > MAX_DATAGRAM + if frag.version == 6 { 40 } else { 0 } {
            self.stats.too_large += 1;
            return Err(Invalid::FragmentTooLarge);
        }
        let key = Key {
            version: frag.version,
            src: frag.src,
            dst: frag.dst,
            id: frag.id,
            proto: if frag.version == 4 { frag.proto } else { 0 },
            vlans: ctx.vlans,
        };
        // A tracker past its timeout is dropped before this fragment may join it.
        if self.trackers.get(&key).is_some_and(|t| t.expires < ctx.ts) {
            self.remove(&key);
            self.stats.timeouts += 1;
        }
        if !self.trackers.contains_key(&key) && self.trackers.len() >= self.config.max_trackers {
            self.stats.tracker_limit_hits += 1;
            return Ok(None);
        }
        if self.held >= self.config.max_fragments {
            self.stats.fragment_limit_hits += 1;
            return Ok(None);
        }
        let timeout = self.config.timeout_secs;
        let per_datagram = self.config.max_fragments_per_datagram;
        let tracker = self.trackers.entry(key).or_insert_with(|| Tracker {
            expires: ctx.ts.plus_secs(timeout),
            pieces: Vec::new(),
            arrivals: 0,
            header: None,
            next_header_at: 0,
            proto: frag.proto,
            total: None,
            link_header_len: ctx.link_header_len,
            linktype: ctx.linktype,
        });
        if tracker.pieces.len() >= per_datagram {
            self.stats.fragment_limit_hits += 1;
            return Ok(None);
        }
        tracker.expires = ctx.ts.plus_secs(timeout);
        if frag.offset == 0 && tracker.header.is_none() {
            tracker.header = Some(frag.header.to_vec());
            tracker.next_header_at = frag.next_header_at;
            tracker.proto = frag.proto;
            tracker.link_header_len = ctx.link_header_len;
            tracker.linktype = ctx.linktype;
        }
        if !frag.more && tracker.total.is_none() {
            tracker.total = Some(end);
        }
        let overlaps = tracker
            .pieces
            .iter()
            .any(|p| p.offset < end && frag.offset < p.end());
        if overlaps {
            self.stats.overlaps += 1;
        }
        let arrival = tracker.arrivals;
        tracker.arrivals += 1;
        let at = tracker
            .pieces
            .partition_point(|p| (p.offset, p.arrival) <= (frag.offset, arrival));
        tracker.pieces.insert(
            at,
            Piece {
                offset: frag.offset,
                arrival,
                data: frag.data.to_vec(),
            },
        );
        self.held += 1;
        self.stats.max_fragments_held = self.stats.max_fragments_held.max(self.held as u64);

        let Some(datagram) = assemble(tracker) else {
            return Ok(None);
        };
        let done = Reassembled {
            ts: ctx.ts,
            linktype: tracker.linktype,
            vlans: ctx.vlans,
            link_header_len: tracker.link_header_len,
            datagram,
        };
        if frag.version == 4 {
            self.stats.ipv4_reassembled += 1;
        } else {
            self.stats.ipv6_reassembled += 1;
        }
        self.remove(&key);
        Ok(Some(done))
    }

    fn remove(&mut self, key: &Key) {
        if let Some(t) = self.trackers.remove(key) {
            self.held -= t.pieces.len();
        }
    }

    /// Drops datagrams whose timeout passed before `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let before = self.trackers.len();
        let mut freed = 0;
        self.trackers.retain(|_, t| {
            let keep = t.expires >= now;
            if !keep {
                freed += t.pieces.len();
            }
            keep
        });
        self.held -= freed;
        self.stats.timeouts += (before - self.trackers.len()) as u64;
    }
}

/// The whole datagram if the pieces cover it from 0 to the last fragment's end.
fn assemble(t: &Tracker) -> Option<Vec<u8>> {
    let total = t.total?;
    let header = t.header.as_ref()?;
    let mut covered = 0u32;
    for p in &t.pieces {
        if p.offset > covered {
            return None;
        }
        covered = covered.max(p.end());
    }
    if covered < total {
        return None;
    }
    let mut out = Vec::with_capacity(header.len() + total as usize);
    out.extend_from_slice(header);
    let mut filled = 0u32;
    for p in &t.pieces {
        // Lower offsets came first: only bytes past what is already filled are taken.
        if p.end() > filled && p.offset <= filled {
            let from = (filled - p.offset) as usize;
            let upto = (p.end().min(total) - p.offset) as usize;
            if from < upto {
                out.extend_from_slice(&p.data[from..upto]);
            }
            filled = p.end().min(total);
        }
        if filled >= total {
            break;
        }
    }
    let payload_len = total as usize;
    if header.first().map(|b| b >> 4) == Some(4) {
        let len = (header.len() + payload_len) as u16;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        // Keep DF, clear MF and the offset.
        out[6] &= 0x40;
        out[7] = 0;
        out[9] = t.proto;
    } else {
        let len = (header.len() - 40 + payload_len) as u16;
        out[4..6].copy_from_slice(&len.to_be_bytes());
        if let Some(b) = out.get_mut(t.next_header_at) {
            *b = t.proto;
        }
    }
    Some(out)
}
