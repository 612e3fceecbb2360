//! IPv4 and IPv6 fragment reassembly the way Suricata 7.0.10 does it: 60 s timeout, at
//! most 65,535 trackers and 65,535 held fragments, and overlapping data resolved by the
//! overlap policy of the destination host, chosen through `host-os-policy` (the shipped
//! suricata.yaml maps 0.0.0.0/0 to windows; every other destination, which includes all of
//! IPv6, gets Suricata's built-in default, bsd).
//!
//! Suricata settles overlaps when a fragment arrives, not when the datagram is rebuilt: the
//! new fragment may be dropped, have its leading bytes trimmed ("ltrim"), or trim or evict
//! a fragment already held. Reassembly then copies the held fragments in offset order
//! (equal offsets in arrival order) into one buffer, later copies overwriting earlier
//! ones. Both steps are reproduced here, including their corner cases, so that the rebuilt
//! bytes are the ones Suricata inspects.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use rustc_hash::FxHashMap;

use super::ip::{Context, Fragment};
use super::{Invalid, Vlans};
use crate::time::Timestamp;

/// How overlapping fragment data is resolved: Suricata's defrag policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefragPolicy {
    /// Data already held wins over a later fragment starting at or after it; a later
    /// fragment starting before held data wins over it.
    Bsd,
    /// Named by Suricata but not implemented there: no trimming at all, so reassembly's
    /// copy order decides (higher offset wins; equal offsets: the later arrival).
    BsdRight,
    Linux,
    Windows,
    Solaris,
    /// The data that arrived first wins.
    First,
    /// The data that arrived last wins.
    Last,
}

impl DefragPolicy {
    pub fn name(self) -> &'static str {
        match self {
            DefragPolicy::Bsd => "bsd",
            DefragPolicy::BsdRight => "bsd-right",
            DefragPolicy::Linux => "linux",
            DefragPolicy::Windows => "windows",
            DefragPolicy::Solaris => "solaris",
            DefragPolicy::First => "first",
            DefragPolicy::Last => "last",
        }
    }
}

/// The host OS names Suricata accepts under `host-os-policy` (matched without regard to
/// case). `first` and `last` are defrag policies but not accepted names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostOs {
    None,
    Bsd,
    BsdRight,
    OldLinux,
    Linux,
    OldSolaris,
    Solaris,
    Hpux10,
    Hpux11,
    Irix,
    Macos,
    Windows,
    Vista,
    Windows2k3,
}

const HOST_OS_NAMES: [(&str, HostOs); 14] = [
    ("none", HostOs::None),
    ("bsd", HostOs::Bsd),
    ("bsd-right", HostOs::BsdRight),
    ("old-linux", HostOs::OldLinux),
    ("linux", HostOs::Linux),
    ("old-solaris", HostOs::OldSolaris),
    ("solaris", HostOs::Solaris),
    ("hpux10", HostOs::Hpux10),
    ("hpux11", HostOs::Hpux11),
    ("irix", HostOs::Irix),
    ("macos", HostOs::Macos),
    ("windows", HostOs::Windows),
    ("vista", HostOs::Vista),
    ("windows2k3", HostOs::Windows2k3),
];

impl HostOs {
    pub fn from_name(name: &str) -> Option<HostOs> {
        HOST_OS_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, os)| os)
    }

    pub fn name(self) -> &'static str {
        HOST_OS_NAMES
            .iter()
            .find(|&&(_, os)| os == self)
            .map_or("none", |&(n, _)| n)
    }

    /// The accepted names, comma separated (for messages).
    pub fn names() -> String {
        HOST_OS_NAMES.map(|(n, _)| n).join(", ")
    }

    /// The defrag policy Suricata uses for this host OS; `None` for `none`, which falls
    /// back to the default policy.
    pub fn defrag_policy(self) -> Option<DefragPolicy> {
        Some(match self {
            HostOs::None => return None,
            HostOs::Bsd | HostOs::Hpux10 | HostOs::Irix => DefragPolicy::Bsd,
            HostOs::BsdRight => DefragPolicy::BsdRight,
            HostOs::OldLinux | HostOs::Linux => DefragPolicy::Linux,
            HostOs::OldSolaris | HostOs::Hpux11 | HostOs::Macos => DefragPolicy::First,
            HostOs::Solaris => DefragPolicy::Solaris,
            HostOs::Windows | HostOs::Vista | HostOs::Windows2k3 => DefragPolicy::Windows,
        })
    }
}

/// One `host-os-policy` entry: destinations in `net` are treated as `os` hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HostOsRange {
    pub net: IpNet,
    pub os: HostOs,
}

/// The shipped suricata.yaml: `host-os-policy: windows: [0.0.0.0/0]`, all else empty.
const SURICATA_YAML_HOST_OS: &[HostOsRange] = &[HostOsRange {
    net: IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::UNSPECIFIED, 0)),
    os: HostOs::Windows,
}];

/// Reassembly limits and overlap policies.
#[derive(Clone, Debug)]
pub struct DefragConfig {
    /// Seconds a datagram may wait for its missing fragments (`defrag.timeout`).
    pub timeout_secs: u32,
    /// Datagrams in reassembly at once (`defrag.trackers`).
    pub max_trackers: usize,
    /// Fragments held at once over all datagrams (`defrag.max-frags`).
    pub max_fragments: usize,
    /// Fragments one datagram may consist of (an 8-byte step over 64 KiB).
    pub max_fragments_per_datagram: usize,
    /// `host-os-policy`: destination ranges and their host OS; the most specific range
    /// holding a datagram's destination chooses its overlap policy.
    pub host_os_policy: Vec<HostOsRange>,
    /// Policy for destinations no range covers, and for `none` hosts. Suricata's is bsd
    /// and cannot be configured; its unit tests change it to exercise every policy.
    pub default_policy: DefragPolicy,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout_secs: 60,
            max_trackers: 65_535,
            max_fragments: 65_535,
            max_fragments_per_datagram: 8_192,
            host_os_policy: SURICATA_YAML_HOST_OS.to_vec(),
            default_policy: DefragPolicy::Bsd,
        }
    }
}

impl DefragConfig {
    /// The host OS of the most specific `host-os-policy` range holding `addr` (of its own
    /// address family); among identical ranges the first listed.
    pub fn host_os_for(&self, addr: IpAddr) -> Option<HostOs> {
        let mut best: Option<&HostOsRange> = None;
        for range in &self.host_os_policy {
            if range.net.contains(&addr)
                && best.is_none_or(|b| range.net.prefix_len() > b.net.prefix_len())
            {
                best = Some(range);
            }
        }
        best.map(|r| r.os)
    }

    /// The overlap policy for datagrams sent to `dst`.
    pub fn policy_for(&self, dst: IpAddr) -> DefragPolicy {
        self.host_os_for(dst)
            .and_then(HostOs::defrag_policy)
            .unwrap_or(self.default_policy)
    }

    /// Sets the ranges of one `host-os-policy` name (`host-os-policy.<os>: [ranges]`),
    /// replacing that name's earlier ranges. A range listed under another name moves to
    /// this one, so that the latest setting wins.
    pub fn set_host_os_ranges(&mut self, os: &str, ranges: &[IpNet]) -> Result<(), String> {
        let os = HostOs::from_name(os).ok_or_else(|| {
            format!(
                "unknown host OS policy {os:?} (accepted: {})",
                HostOs::names()
            )
        })?;
        let ranges: Vec<IpNet> = ranges.iter().map(IpNet::trunc).collect();
        let mut table: Vec<HostOsRange> = self
            .host_os_policy
            .iter()
            .filter(|r| r.os != os && !ranges.contains(&r.net))
            .copied()
            .collect();
        for net in ranges {
            if !table.iter().any(|r| r.net == net) {
                table.push(HostOsRange { net, os });
            }
        }
        self.host_os_policy = table;
        Ok(())
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
    /// Fragments that overlapped data already held (Suricata's `frag_overlap` event).
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

/// What an offset-0 fragment brings besides data: the headers of the rebuilt datagram.
struct Head {
    /// IPv4 header with options, or IPv6 header plus unfragmentable extension headers
    /// (its next-header byte naming the fragment header already set to what follows it).
    header: Vec<u8>,
    link_header_len: usize,
}

/// A held fragment, after the trimming done when it arrived.
struct Piece {
    offset: u16,
    /// Length of `data`.
    len: u16,
    /// Leading bytes given up later to a fragment that arrived after this one.
    ltrim: u16,
    more: bool,
    data: Vec<u8>,
    /// For a piece at offset 0.
    head: Option<Box<Head>>,
}

struct Tracker {
    expires: Timestamp,
    policy: DefragPolicy,
    /// Ordered by offset; equal offsets in arrival order.
    pieces: Vec<Piece>,
    /// A last fragment (MF=0) was held at some point.
    seen_last: bool,
    /// Link type of the latest fragment that started at offset 0.
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
/// Size of Suricata's packet buffer: a rebuilt packet (link header included) must fit.
pub const MAX_PACKET_BUFFER: usize = 40 + 65_536 + 28;

/// What the policy decided for a new fragment.
enum Placement {
    /// The fragment brings nothing the policy keeps.
    Drop,
    /// Keep the fragment minus its first `ltrim` bytes; `evict` is a held piece that is
    /// now wholly superseded.
    Keep { ltrim: u16, evict: Option<usize> },
}

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
        // Suricata's limit: a 20-byte IPv4 header plus the data must fit 65,535 bytes;
        // IPv6 data must end by 65,535.
        let end = u64::from(frag.offset) + frag.data.len() as u64;
        let limit = u64::from(MAX_DATAGRAM) - if frag.version == 4 { 20 } else { 0 };
        if end > limit {
            self.stats.too_large += 1;
            return Err(Invalid::FragmentTooLarge);
        }
        // Both fit in 16 bits now.
        let frag_offset = frag.offset;
        let frag_end = end as u32;
        let data_len = frag_end - frag_offset;
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
        let timeout = self.config.timeout_secs;
        let config = &self.config;
        let tracker = self.trackers.entry(key).or_insert_with(|| Tracker {
            expires: ctx.ts,
            policy: config.policy_for(frag.dst),
            pieces: Vec::new(),
            seen_last: false,
            linktype: ctx.linktype,
        });
        tracker.expires = ctx.ts.plus_secs(timeout);

        let (placement, overlap) =
            place(&mut tracker.pieces, tracker.policy, frag_offset, frag_end);
        if overlap {
            self.stats.overlaps += 1;
        }
        let ltrim = match placement {
            Placement::Drop => return Ok(None),
            Placement::Keep { ltrim, evict } => {
                if let Some(i) = evict {
                    tracker.pieces.remove(i);
                    self.held -= 1;
                }
                u32::from(ltrim)
            }
        };
        if ltrim >= data_len {
            return Ok(None);
        }
        // Out of room: the fragment is ignored (after the policy's changes, as in Suricata
        // when its fragment pool is exhausted).
        if self.held >= self.config.max_fragments
            || tracker.pieces.len() >= self.config.max_fragments_per_datagram
        {
            self.stats.fragment_limit_hits += 1;
            return Ok(None);
        }
        let offset = (frag_offset + ltrim) as u16;
        let head = (offset == 0).then(|| {
            let mut header = frag.header.to_vec();
            if frag.version == 6 {
                if let Some(b) = header.get_mut(frag.next_header_at) {
                    *b = frag.proto;
                }
            }
            Box::new(Head {
                header,
                link_header_len: ctx.link_header_len,
            })
        });
        if frag_offset == 0 {
            tracker.linktype = ctx.linktype;
        }
        let piece = Piece {
            offset,
            len: (data_len - ltrim) as u16,
            ltrim: 0,
            more: frag.more,
            data: frag.data.get(ltrim as usize..).unwrap_or_default().to_vec(),
            head,
        };
        let at = tracker.pieces.partition_point(|p| p.offset <= offset);
        tracker.pieces.insert(at, piece);
        self.held += 1;
        self.stats.max_fragments_held = self.stats.max_fragments_held.max(self.held as u64);
        if !frag.more {
            tracker.seen_last = true;
        }
        if !tracker.seen_last {
            return Ok(None);
        }

        let linktype = tracker.linktype;
        let rebuilt = match rebuild(tracker, frag.version) {
            Rebuild::Wait => return Ok(None),
            Rebuild::Failed => None,
            Rebuild::Done(done) => Some(done),
        };
        self.remove(&key);
        let Some((datagram, link_header_len)) = rebuilt else {
            return Ok(None);
        };
        if frag.version == 4 {
            self.stats.ipv4_reassembled += 1;
        } else {
            self.stats.ipv6_reassembled += 1;
        }
        Ok(Some(Reassembled {
            ts: ctx.ts,
            linktype,
            vlans: ctx.vlans,
            link_header_len,
            datagram,
        }))
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

/// Applies the overlap policy for a new fragment covering `[frag_offset, frag_end)`.
/// Held pieces may get trimmed (their `ltrim`) on the way. Also tells whether the
/// fragment overlapped a piece that was looked at (Suricata's overlap event).
///
/// Like Suricata, this walks the held pieces starting from the last one that begins
/// before the new fragment (or from the first piece when none begins at or after it),
/// and stops at the first piece the policy acts on.
fn place(
    pieces: &mut [Piece],
    policy: DefragPolicy,
    frag_offset: u32,
    frag_end: u32,
) -> (Placement, bool) {
    let mut overlap = false;
    // The new fragment's leading trim; 16 bits wide, as in Suricata.
    let mut ltrim: u16 = 0;
    let n = pieces.len();
    let from_here = pieces.partition_point(|p| u32::from(p.offset) < frag_offset);
    let mut i = if from_here == 0 || from_here == n {
        0
    } else {
        from_here - 1
    };
    while i < n {
        let (start, end, cut) = {
            let p = &pieces[i];
            (
                u32::from(p.offset),
                u32::from(p.offset) + u32::from(p.len),
                u32::from(p.ltrim),
            )
        };
        if frag_offset < end && start < frag_end {
            overlap = true;
        }
        let keep = |ltrim: u16| Placement::Keep { ltrim, evict: None };
        let lt = u32::from(ltrim);
        let decided = match policy {
            DefragPolicy::Bsd => {
                if frag_offset < end {
                    if start <= frag_offset {
                        // Held data wins over the new fragment's start.
                        if end > frag_end {
                            return (Placement::Drop, overlap);
                        }
                        ltrim = (end - frag_offset) as u16;
                    } else if frag_end > start + cut {
                        // The new fragment starts first: it wins over the held start.
                        let cover = (frag_end - start) as u16;
                        if cover > pieces[i].ltrim {
                            pieces[i].ltrim = cover;
                        }
                    }
                    if let Some(next) = pieces.get_mut(i + 1) {
                        if frag_end > u32::from(next.offset) {
                            next.ltrim = (frag_end - u32::from(next.offset)) as u16;
                        }
                    }
                    Some(keep(ltrim))
                } else {
                    None
                }
            }
            DefragPolicy::Linux => {
                // The held piece ends inside the new fragment: the new one gives way.
                if start + cut < frag_offset + lt && end > frag_offset + lt {
                    ltrim = ltrim.wrapping_add((end - frag_offset) as u16);
                }
                let lt = u32::from(ltrim);
                if frag_offset + lt < start + cut && frag_end > start + cut {
                    // The new fragment covers the held start: the held piece gives way.
                    let more = (frag_end - (start + cut)) as u16;
                    pieces[i].ltrim = pieces[i].ltrim.wrapping_add(more);
                    Some(keep(ltrim))
                } else if frag_offset + lt <= start + cut && frag_end >= end {
                    Some(Placement::Keep {
                        ltrim,
                        evict: Some(i),
                    })
                } else {
                    None
                }
            }
            DefragPolicy::Windows => {
                if frag_offset >= start && frag_end <= end {
                    // Wholly inside held data.
                    return (Placement::Drop, overlap);
                }
                if frag_offset < start && frag_end > end {
                    // Wholly covers a held piece, which is dropped.
                    Some(Placement::Keep {
                        ltrim,
                        evict: Some(i),
                    })
                } else if (frag_offset + lt > start + cut && frag_offset + lt < end)
                    || (frag_offset == start && frag_end > end)
                {
                    // Starts inside (or with) held data and runs past it.
                    ltrim = ltrim.wrapping_add((end - frag_offset) as u16);
                    Some(keep(ltrim))
                } else {
                    None
                }
            }
            DefragPolicy::Solaris => {
                if frag_offset < end {
                    if frag_offset >= start {
                        ltrim = (end - frag_offset) as u16;
                    }
                    let evict = (frag_offset < start && frag_end >= end).then_some(i);
                    Some(Placement::Keep { ltrim, evict })
                } else {
                    None
                }
            }
            DefragPolicy::First => {
                if frag_offset >= start && frag_end <= end {
                    return (Placement::Drop, overlap);
                }
                if frag_offset < start {
                    Some(keep(ltrim))
                } else if frag_offset < end {
                    ltrim = (end - frag_offset) as u16;
                    Some(keep(ltrim))
                } else {
                    None
                }
            }
            DefragPolicy::Last => {
                if frag_offset <= start {
                    if frag_end > start {
                        pieces[i].ltrim = (frag_end - start) as u16;
                    }
                    Some(keep(ltrim))
                } else {
                    None
                }
            }
            DefragPolicy::BsdRight => None,
        };
        if let Some(Placement::Keep { ltrim, evict }) = decided {
            // A held piece trimmed away entirely goes too.
            let p = &pieces[i];
            let evict = evict.or((p.ltrim >= p.len).then_some(i));
            return (Placement::Keep { ltrim, evict }, overlap);
        }
        i += 1;
    }
    (Placement::Keep { ltrim, evict: None }, overlap)
}

enum Rebuild {
    /// Fragments are missing.
    Wait,
    /// The datagram cannot be rebuilt; the tracker is given up.
    Failed,
    /// The datagram and the link header length of the fragment its header came from.
    Done((Vec<u8>, usize)),
}

/// Rebuilds the datagram once a last fragment was held, as Suricata does: the first piece
/// must start at 0 and the pieces must leave no hole; then they are copied in order into
/// a packet buffer (later copies overwrite earlier ones), stopping at a piece past a
/// piece without more-fragments. An offset-0 piece brings the headers and all its data,
/// whatever was trimmed off it.
fn rebuild(t: &Tracker, version: u8) -> Rebuild {
    match t.pieces.first() {
        Some(p) if p.offset == 0 => {}
        _ => return Rebuild::Wait,
    }
    let mut covered = 0u32;
    for p in &t.pieces {
        if u32::from(p.offset) > covered {
            return Rebuild::Wait;
        }
        covered = covered.max(u32::from(p.offset) + u32::from(p.len));
    }

    // The packet buffer, link header included (its bytes are not kept: zeros here).
    let mut buf: Vec<u8> = Vec::new();
    let mut head: Option<&Head> = None;
    let mut fragmentable_offset = 0usize;
    let mut fragmentable_len = 0u16;
    let mut more = true;
    let mut prev_offset = 0u16;
    for p in &t.pieces {
        if !more && p.offset > prev_offset {
            break;
        }
        if p.ltrim >= p.len {
            continue;
        }
        if p.offset == 0 {
            let Some(h) = p.head.as_deref() else {
                return Rebuild::Failed;
            };
            let at = h.link_header_len;
            fragmentable_offset = at + h.header.len();
            if fragmentable_offset + p.data.len() > MAX_PACKET_BUFFER {
                return Rebuild::Failed;
            }
            write(&mut buf, at, &h.header);
            write(&mut buf, fragmentable_offset, &p.data);
            fragmentable_len = p.len;
            head = Some(h);
        } else {
            let offset = usize::from(p.offset);
            if fragmentable_offset + offset + p.data.len() > MAX_PACKET_BUFFER {
                return Rebuild::Failed;
            }
            let cut = usize::from(p.ltrim);
            let data = p.data.get(cut..).unwrap_or_default();
            write(&mut buf, fragmentable_offset + offset + cut, data);
            fragmentable_len = fragmentable_len.max(p.offset.saturating_add(p.len));
        }
        more = p.more;
        prev_offset = p.offset;
    }
    // Only a piece with all its bytes claimed by others can leave no header; Suricata
    // would read whatever its buffer held.
    let Some(head) = head else {
        return Rebuild::Failed;
    };
    let ip_at = head.link_header_len;
    let header_len = head.header.len();
    let total = header_len + usize::from(fragmentable_len);
    if buf.len() < ip_at + total {
        buf.resize(ip_at + total, 0);
    }
    let mut out = buf.split_off(ip_at);
    out.truncate(total);
    if version == 4 {
        if out.len() < 20 {
            return Rebuild::Failed;
        }
        patch_ipv4_header(&mut out, fragmentable_len.wrapping_add(header_len as u16));
    } else {
        if out.len() < 40 {
            return Rebuild::Failed;
        }
        let unfragmentable = header_len.saturating_sub(40) as u16;
        let payload_len = fragmentable_len.wrapping_add(unfragmentable);
        out[4..6].copy_from_slice(&payload_len.to_be_bytes());
    }
    Rebuild::Done((out, ip_at))
}

fn write(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let end = at + bytes.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[at..end].copy_from_slice(bytes);
}

/// Sets the total length, clears flags and offset, and adjusts the header checksum the
/// way Suricata does (an incremental update over the two changed words summed in host
/// order, as on a little-endian machine), so a bad checksum stays bad.
fn patch_ipv4_header(h: &mut [u8], total_len: u16) {
    let host = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let old = host(h, 2).wrapping_add(host(h, 6));
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    h[6..8].copy_from_slice(&[0, 0]);
    let new = host(h, 2);
    let sum = host(h, 10);
    let mut l = u32::from(sum)
        .wrapping_add(u32::from(old))
        .wrapping_sub(u32::from(new));
    l = (l >> 16).wrapping_add(l & 0xffff);
    h[10..12].copy_from_slice(&((l & 0xffff) as u16).to_le_bytes());
}

#[cfg(test)]
mod tests {
    //! Suricata 7.0.10's own defrag unit tests (src/defrag.c), rebuilt over raw packets
    //! that go through the IP decoder, plus policy selection by destination.

    use std::net::IpAddr;

    use super::super::ip::{decode_ip, IpOutcome};
    use super::super::{Decoded, Decoder, Packet};
    use super::*;

    const ICMP: u8 = 1;
    const ICMPV6: u8 = 58;
    /// A protocol without a transport decoder: the whole payload reaches the packet.
    const OPAQUE: u8 = 253;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address literal")
    }

    /// IPv4 fragment like Suricata's test packets: 1.1.1.1 -> 2.2.2.2, TTL 64.
    fn v4(proto: u8, id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
        v4_to([2, 2, 2, 2], proto, id, offset, more, data)
    }

    fn v4_to(dst: [u8; 4], proto: u8, id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 20];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        p[4..6].copy_from_slice(&id.to_be_bytes());
        let flags_offset = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        p[8] = 64;
        p[9] = proto;
        p[12..16].copy_from_slice(&[1, 1, 1, 1]);
        p[16..20].copy_from_slice(&dst);
        let sum = !ones_sum(&p);
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(data);
        p
    }

    /// IPv6 fragment like Suricata's test packets: 0101:..:0101 -> 0202:..:0202.
    fn v6(next: u8, id: u32, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 48];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        p[6] = 44;
        p[7] = 2;
        p[8..24].fill(0x01);
        p[24..40].fill(0x02);
        p[40] = next;
        let offset_flags = (offset as u16 & 0xfff8) | u16::from(more);
        p[42..44].copy_from_slice(&offset_flags.to_be_bytes());
        p[44..48].copy_from_slice(&id.to_be_bytes());
        p.extend_from_slice(data);
        p
    }

    fn ones_sum(header: &[u8]) -> u16 {
        let mut sum: u32 = header
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum >> 16) + (sum & 0xffff);
        }
        sum as u16
    }

    fn config(policy: DefragPolicy) -> DefragConfig {
        // No host table: every destination gets the default policy, which is how
        // Suricata's unit tests pick a policy.
        DefragConfig {
            host_os_policy: Vec::new(),
            default_policy: policy,
            ..DefragConfig::default()
        }
    }

    /// Feeds one raw fragment; returns the datagram it completed and whether it raised
    /// the overlap event.
    fn feed(d: &mut Defrag, raw: &[u8], n: u64) -> (Option<Vec<u8>>, bool) {
        let ctx = Context {
            pcap_cnt: Some(n),
            root: None,
            ts: Timestamp::new(1_000 + n as i64, 0),
            len: raw.len() as u32,
            linktype: 101,
            vlans: Vlans::default(),
            link_header_len: 0,
        };
        let IpOutcome::Fragment(frag) = decode_ip(&ctx, raw) else {
            panic!("packet {n} is not a fragment");
        };
        let overlaps = d.stats().overlaps;
        let done = d.insert(frag, &ctx).expect("fragment accepted");
        (done.map(|r| r.datagram), d.stats().overlaps > overlaps)
    }

    /// Feeds fragments in order; returns the datagram, which only the last may complete.
    fn run(d: &mut Defrag, frames: &[Vec<u8>]) -> Option<Vec<u8>> {
        let mut out = None;
        for (i, f) in frames.iter().enumerate() {
            let (done, _) = feed(d, f, i as u64);
            if i + 1 < frames.len() {
                assert!(done.is_none(), "fragment {i} completed the datagram early");
            }
            out = done;
        }
        out
    }

    /// Each letter of a Sturges/Novak pattern stands for 8 bytes of that letter.
    fn expand(pattern: &str) -> Vec<u8> {
        pattern.bytes().flat_map(|b| [b; 8]).collect()
    }

    /// Judy Novak's overlap set, as in Suricata's DefragDoSturgesNovak(Ipv6)Test: nine
    /// original fragments, seven overlapping ones, then the last fragment.
    const STURGES_NOVAK: [(u8, usize, usize); 17] = [
        (b'A', 0, 24),
        (b'B', 32, 16),
        (b'C', 48, 24),
        (b'D', 80, 8),
        (b'E', 104, 16),
        (b'F', 120, 24),
        (b'G', 144, 16),
        (b'H', 160, 16),
        (b'I', 176, 8),
        (b'J', 8, 32),
        (b'K', 48, 24),
        (b'L', 72, 24),
        (b'M', 96, 24),
        (b'N', 128, 8),
        (b'O', 152, 8),
        (b'P', 160, 8),
        (b'Q', 176, 16),
    ];

    /// Expected payloads from defrag.c's DefragSturgesNovak*Test (one letter per 8 bytes).
    const STURGES_NOVAK_EXPECTED: [(DefragPolicy, &str); 6] = [
        (DefragPolicy::Bsd, "AAAJJBCCCLLLMMMFFFGGHHIQ"),
        (DefragPolicy::Linux, "AAAJJBKKKLLLMMMFFFGGPHQQ"),
        (DefragPolicy::Windows, "AAAJBBCCCLLLMEEFFFGGHHIQ"),
        (DefragPolicy::Solaris, "AAAJBBCCCLLLMMMFFFGGHHIQ"),
        (DefragPolicy::First, "AAAJBBCCCLDLMEEFFFGGHHIQ"),
        (DefragPolicy::Last, "AJJJJBKKKLLLMMMFNFGOPHQQ"),
    ];

    fn sturges_novak(policy: DefragPolicy, version: u8) -> Vec<u8> {
        let mut d = Defrag::new(config(policy));
        let mut overlapping = 0;
        let mut out = None;
        for (i, &(letter, offset, len)) in STURGES_NOVAK.iter().enumerate() {
            let last = i == STURGES_NOVAK.len() - 1;
            let data = vec![letter; len];
            let raw = if version == 4 {
                v4(ICMP, 1, offset, !last, &data)
            } else {
                v6(ICMPV6, 1, offset, !last, &data)
            };
            let (done, overlap) = feed(&mut d, &raw, i as u64);
            if i < 9 {
                assert!(!overlap, "{policy:?}: original fragment {i} overlapped");
            } else if overlap {
                overlapping += 1;
            }
            if last {
                out = done;
            } else {
                assert!(done.is_none(), "{policy:?}: fragment {i} completed early");
            }
        }
        assert!(overlapping > 0, "{policy:?}: no overlap reported");
        assert_eq!(d.fragments_held(), 0, "{policy:?}: fragments left behind");
        out.unwrap_or_else(|| panic!("{policy:?} IPv{version}: not reassembled"))
    }

    #[test]
    fn sturges_novak_ipv4_every_policy() {
        for (policy, pattern) in STURGES_NOVAK_EXPECTED {
            let datagram = sturges_novak(policy, 4);
            assert_eq!(usize::from(datagram[0] & 0x0f) * 4, 20);
            assert_eq!(u16::from_be_bytes([datagram[2], datagram[3]]), 20 + 192);
            assert_eq!(datagram.len(), 20 + 192);
            assert_eq!(
                String::from_utf8_lossy(&datagram[20..]),
                String::from_utf8_lossy(&expand(pattern)),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn sturges_novak_ipv6_every_policy() {
        for (policy, pattern) in STURGES_NOVAK_EXPECTED {
            let datagram = sturges_novak(policy, 6);
            assert_eq!(u16::from_be_bytes([datagram[4], datagram[5]]), 192);
            assert_eq!(
                datagram[6], ICMPV6,
                "next header is what followed the fragment header"
            );
            assert_eq!(datagram.len(), 40 + 192);
            assert_eq!(
                String::from_utf8_lossy(&datagram[40..]),
                String::from_utf8_lossy(&expand(pattern)),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn in_order_and_reverse_simple() {
        // DefragInOrderSimpleTest, DefragReverseSimpleTest and their IPv6 versions.
        for version in [4u8, 6] {
            for reverse in [false, true] {
                let mut frames = if version == 4 {
                    vec![
                        v4(ICMP, 12, 0, true, &[b'A'; 8]),
                        v4(ICMP, 12, 8, true, &[b'B'; 8]),
                        v4(ICMP, 12, 16, false, &[b'C'; 3]),
                    ]
                } else {
                    vec![
                        v6(ICMPV6, 12, 0, true, &[b'A'; 8]),
                        v6(ICMPV6, 12, 8, true, &[b'B'; 8]),
                        v6(ICMPV6, 12, 16, false, &[b'C'; 3]),
                    ]
                };
                if reverse {
                    frames.reverse();
                }
                let mut d = Defrag::new(DefragConfig::default());
                let datagram = run(&mut d, &frames).expect("reassembled");
                let hlen = if version == 4 { 20 } else { 40 };
                assert_eq!(&datagram[hlen..], b"AAAAAAAABBBBBBBBCCC");
                if version == 4 {
                    assert_eq!(u16::from_be_bytes([datagram[2], datagram[3]]), 39);
                    assert_eq!(ones_sum(&datagram[..20]), 0xffff, "checksum still valid");
                } else {
                    assert_eq!(u16::from_be_bytes([datagram[4], datagram[5]]), 19);
                }
            }
        }
    }

    #[test]
    fn no_data_and_too_large_fragments_are_not_held() {
        // DefragNoDataIpv4Test: offset > 0, no more fragments, no data.
        let mut d = Defrag::new(DefragConfig::default());
        let (done, _) = feed(&mut d, &v4(ICMP, 12, 8, false, &[]), 1);
        assert!(done.is_none());
        assert_eq!(d.fragments_held(), 0);
        // DefragTooLargeIpv4Test: offset 8183 * 8 with 71 bytes passes 65,535.
        let raw = v4(ICMP, 1, 8183 * 8, false, &[b'A'; 71]);
        let ctx = Context {
            pcap_cnt: Some(2),
            root: None,
            ts: Timestamp::new(1, 0),
            len: raw.len() as u32,
            linktype: 101,
            vlans: Vlans::default(),
            link_header_len: 0,
        };
        let IpOutcome::Fragment(frag) = decode_ip(&ctx, &raw) else {
            panic!("not a fragment");
        };
        assert!(matches!(
            d.insert(frag, &ctx),
            Err(Invalid::FragmentTooLarge)
        ));
        assert_eq!((d.fragments_held(), d.stats().too_large), (0, 1));
    }

    #[test]
    fn fragments_past_the_last_one_are_left_out() {
        // DefragMfIpv4Test / DefragMfIpv6Test.
        for version in [4u8, 6] {
            let frag = |offset, more, letter| {
                if version == 4 {
                    v4(ICMP, 9, offset, more, &[letter; 8])
                } else {
                    v6(ICMPV6, 9, offset, more, &[letter; 8])
                }
            };
            let frames = [
                frag(16, true, b'C'),
                frag(0, true, b'A'),
                frag(8, false, b'B'),
            ];
            let mut d = Defrag::new(DefragConfig::default());
            let datagram = run(&mut d, &frames).expect("reassembled at MF=0");
            let hlen = if version == 4 { 20 } else { 40 };
            assert_eq!(&datagram[hlen..], b"AAAAAAAABBBBBBBB", "IPv{version}");
        }
    }

    #[test]
    fn protocol_is_part_of_the_ipv4_datagram_key() {
        // DefragTestBadProto.
        let mut d = Defrag::new(DefragConfig::default());
        let frames = [
            v4(ICMP, 12, 0, true, &[b'A'; 8]),
            v4(17, 12, 8, true, &[b'B'; 8]),
            v4(ICMP, 12, 16, false, &[b'C'; 3]),
        ];
        for (i, f) in frames.iter().enumerate() {
            assert!(feed(&mut d, f, i as u64).0.is_none());
        }
    }

    #[test]
    fn jeremy_linux() {
        // DefragTestJeremyLinux.
        let frames = [
            v4(ICMP, 1, 0, true, &[b'A'; 24]),
            v4(ICMP, 1, 40, true, &[b'B'; 48]),
            v4(ICMP, 1, 24, true, &[b'C'; 48]),
            v4(ICMP, 1, 88, false, &[b'D'; 14]),
        ];
        let mut d = Defrag::new(config(DefragPolicy::Linux));
        let datagram = run(&mut d, &frames).expect("reassembled");
        let mut expected = expand("AAACCCCCCBB");
        expected.extend_from_slice(&[b'D'; 14]);
        assert_eq!(&datagram[20..], expected.as_slice());
    }

    /// The BSD tests from defrag.c, each for IPv4 and IPv6: (fragments as offset, more,
    /// data), then the expected datagram payload (`None`: no reassembly).
    /// Fragments as (offset, more fragments, data).
    type Frags = Vec<(usize, bool, Vec<u8>)>;

    fn bsd_cases() -> Vec<(&'static str, Frags, Option<Vec<u8>>)> {
        let fill = |b: u8, n: usize| vec![b; n];
        vec![
            (
                "DefragBsdFragmentAfterNoMf",
                vec![
                    (24, false, fill(b'A', 16)),
                    (8, true, fill(b'B', 16)),
                    (16, true, fill(b'C', 16)),
                    (0, true, fill(b'D', 8)),
                ],
                Some(expand("DBBCA")),
            ),
            (
                "DefragBsdSubsequentOverlapsStartOfOriginal",
                vec![(8, false, fill(b'E', 24)), (0, true, fill(b'M', 24))],
                Some(expand("MMME")),
            ),
            (
                "DefragBsdSubsequentOverlapsStartOfOriginal_2",
                vec![
                    (16, true, b"AABBCCDDAABBDDCC".to_vec()),
                    (8, true, b"AACCBBDDAACCDDBB".to_vec()),
                    (0, true, b"ZZZZZZZZ".to_vec()),
                    (32, false, b"DDCCBBAA".to_vec()),
                ],
                Some(b"ZZZZZZZZAACCBBDDAACCDDBBAABBDDCCDDCCBBAA".to_vec()),
            ),
            (
                "DefragBsdMissingFragment",
                vec![
                    (16, true, b"AABBCCDDAABBDDCC".to_vec()),
                    (40, true, b"AACCBBDD".to_vec()),
                    (8, true, b"AACCDDBBAADDBBCC".to_vec()),
                    (0, true, b"ZZZZZZZZ".to_vec()),
                    (48, false, b"DDCCBBAA".to_vec()),
                ],
                None,
            ),
        ]
    }

    #[test]
    fn bsd_overlap_cases() {
        for (name, frags, expected) in bsd_cases() {
            for version in [4u8, 6] {
                let frames: Vec<Vec<u8>> = frags
                    .iter()
                    .map(|(offset, more, data)| {
                        if version == 4 {
                            v4(ICMP, 0x96, *offset, *more, data)
                        } else {
                            v6(ICMP, 0x96, *offset, *more, data)
                        }
                    })
                    .collect();
                let mut d = Defrag::new(config(DefragPolicy::Bsd));
                let got = run(&mut d, &frames);
                let hlen = if version == 4 { 20 } else { 40 };
                assert_eq!(
                    got.map(|g| g[hlen..].to_vec()),
                    expected,
                    "{name} IPv{version}"
                );
            }
        }
    }

    #[test]
    fn new_fragment_inside_covering_overlapping_and_duplicating_held_data() {
        // 'h' at [0, 8), then the held 'o' at [16, 40), then the new 'n' at the given
        // place, then 'f' fillers for whatever [8, 16) and [40, 48) 'n' leaves open, then
        // the last fragment 't' at [48, 56). Only 'o' and 'n' overlap. Expected payloads
        // (one letter per 8 bytes) follow the policy code of Suricata's DefragInsertFrag.
        use DefragPolicy::*;
        type Expected = [(DefragPolicy, &'static str); 7];
        let cases: [(&str, usize, usize, Expected); 5] = [
            (
                "inside",
                24,
                8,
                [
                    (Bsd, "hfoooft"),
                    (BsdRight, "hfonoft"),
                    (Linux, "hfoooft"),
                    (Windows, "hfoooft"),
                    (Solaris, "hfoooft"),
                    (First, "hfoooft"),
                    (Last, "hfonoft"),
                ],
            ),
            (
                "covering",
                8,
                40,
                [
                    (Bsd, "hnnnnnt"),
                    (BsdRight, "hnooont"),
                    (Linux, "hnnnnnt"),
                    (Windows, "hnnnnnt"),
                    (Solaris, "hnnnnnt"),
                    (First, "hnooont"),
                    (Last, "hnnnnnt"),
                ],
            ),
            (
                "over the start",
                8,
                16,
                [
                    (Bsd, "hnnooft"),
                    (BsdRight, "hnoooft"),
                    (Linux, "hnnooft"),
                    (Windows, "hnoooft"),
                    (Solaris, "hnoooft"),
                    (First, "hnoooft"),
                    (Last, "hnnooft"),
                ],
            ),
            (
                "over the end",
                32,
                16,
                [
                    (Bsd, "hfooont"),
                    (BsdRight, "hfoonnt"),
                    (Linux, "hfooont"),
                    (Windows, "hfooont"),
                    (Solaris, "hfooont"),
                    (First, "hfooont"),
                    (Last, "hfoonnt"),
                ],
            ),
            (
                "duplicate",
                16,
                24,
                [
                    (Bsd, "hfoooft"),
                    (BsdRight, "hfnnnft"),
                    (Linux, "hfnnnft"),
                    (Windows, "hfoooft"),
                    (Solaris, "hfoooft"),
                    (First, "hfoooft"),
                    (Last, "hfnnnft"),
                ],
            ),
        ];
        for (name, offset, len, expectations) in cases {
            for (policy, pattern) in expectations {
                let mut frames = vec![
                    v4(OPAQUE, 7, 0, true, &[b'h'; 8]),
                    v4(OPAQUE, 7, 16, true, &[b'o'; 24]),
                    v4(OPAQUE, 7, offset, true, &vec![b'n'; len]),
                ];
                if offset > 8 {
                    frames.push(v4(OPAQUE, 7, 8, true, &[b'f'; 8]));
                }
                if offset + len < 48 {
                    frames.push(v4(OPAQUE, 7, 40, true, &[b'f'; 8]));
                }
                frames.push(v4(OPAQUE, 7, 48, false, &[b't'; 8]));
                let mut d = Defrag::new(config(policy));
                let got = run(&mut d, &frames)
                    .unwrap_or_else(|| panic!("{name} {policy:?}: not reassembled"));
                assert_eq!(
                    String::from_utf8_lossy(&got[20..]),
                    String::from_utf8_lossy(&expand(pattern)),
                    "{name} {policy:?}"
                );
                assert_eq!(d.stats().overlaps, 1, "{name} {policy:?}");
            }
        }
    }

    #[test]
    fn policy_table_default_is_suricata_yaml() {
        let c = DefragConfig::default();
        assert_eq!(c.host_os_for(ip("192.0.2.1")), Some(HostOs::Windows));
        assert_eq!(c.policy_for(ip("192.0.2.1")), DefragPolicy::Windows);
        assert_eq!(c.policy_for(ip("0.0.0.0")), DefragPolicy::Windows);
        // Only an IPv4 range is configured: IPv6 destinations get the built-in bsd.
        assert_eq!(c.host_os_for(ip("2001:db8::1")), None);
        assert_eq!(c.policy_for(ip("2001:db8::1")), DefragPolicy::Bsd);
        assert_eq!(c.policy_for(ip("::ffff:192.0.2.1")), DefragPolicy::Bsd);
    }

    #[test]
    fn policy_table_most_specific_range_wins() {
        let mut c = DefragConfig::default();
        let nets = |s: &[&str]| -> Vec<IpNet> {
            s.iter().map(|n| n.parse().expect("cidr literal")).collect()
        };
        c.set_host_os_ranges("linux", &nets(&["10.0.0.0/8", "10.1.2.3/32"]))
            .expect("known name");
        c.set_host_os_ranges("Solaris", &nets(&["10.1.0.0/16"]))
            .expect("names are matched without case");
        c.set_host_os_ranges("hpux11", &nets(&["2001:db8::/32"]))
            .expect("known name");
        c.set_host_os_ranges("none", &nets(&["10.9.0.0/16"]))
            .expect("known name");
        assert_eq!(c.policy_for(ip("10.200.0.1")), DefragPolicy::Linux);
        assert_eq!(c.policy_for(ip("10.1.9.9")), DefragPolicy::Solaris);
        assert_eq!(c.policy_for(ip("10.1.2.3")), DefragPolicy::Linux);
        assert_eq!(c.policy_for(ip("172.16.0.1")), DefragPolicy::Windows);
        assert_eq!(c.policy_for(ip("2001:db8::5")), DefragPolicy::First);
        assert_eq!(c.policy_for(ip("2001:db9::5")), DefragPolicy::Bsd);
        // `none` falls back to the default policy, even inside windows' 0.0.0.0/0.
        assert_eq!(c.host_os_for(ip("10.9.1.1")), Some(HostOs::None));
        assert_eq!(c.policy_for(ip("10.9.1.1")), DefragPolicy::Bsd);
        // Host bits are masked off, as Suricata does.
        c.set_host_os_ranges("vista", &nets(&["192.168.7.7/24"]))
            .expect("known name");
        assert_eq!(c.policy_for(ip("192.168.7.200")), DefragPolicy::Windows);
        assert_eq!(c.host_os_for(ip("192.168.7.200")), Some(HostOs::Vista));
        // Setting a name again replaces its ranges; a range set again moves.
        c.set_host_os_ranges("linux", &nets(&["0.0.0.0/0"]))
            .expect("known name");
        assert_eq!(c.policy_for(ip("10.200.0.1")), DefragPolicy::Linux);
        assert_eq!(c.policy_for(ip("8.8.8.8")), DefragPolicy::Linux);
        assert!(c.host_os_policy.iter().all(|r| r.os != HostOs::Windows));
        c.set_host_os_ranges("linux", &[]).expect("known name");
        assert_eq!(c.policy_for(ip("8.8.8.8")), DefragPolicy::Bsd);
        // Defrag policies that are not host OS names are refused, as by Suricata.
        for name in ["first", "last", "freebsd", ""] {
            assert!(c.set_host_os_ranges(name, &[]).is_err(), "{name}");
        }
        for (name, os) in HOST_OS_NAMES {
            assert_eq!(HostOs::from_name(name), Some(os));
            assert_eq!(os.name(), name);
        }
    }

    fn reassembled_payload(d: &mut Decoder, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = None;
        for (i, f) in frames.iter().enumerate() {
            let decoded = d.decode(101, f, Timestamp::new(10, 0), i as u64 + 1);
            assert!(matches!(decoded, Decoded::Fragment { .. }));
            if let Some(done) = d.take_reassembled() {
                let p: Packet<'_> = done.expect("valid datagram");
                assert_eq!(p.proto, OPAQUE);
                out = Some(p.payload.to_vec());
            }
            d.clear_reassembled();
        }
        out.expect("reassembled")
    }

    #[test]
    fn decoder_picks_the_policy_by_destination() {
        // A later fragment overlapping the start of an earlier one: bsd takes the later
        // fragment's bytes, windows keeps the earlier fragment's.
        let mut d = Decoder::new(DefragConfig::default());
        let to_v4 = |dst| {
            [
                v4_to(dst, OPAQUE, 5, 8, false, &[b'E'; 24]),
                v4_to(dst, OPAQUE, 5, 0, true, &[b'M'; 24]),
            ]
        };
        assert_eq!(
            reassembled_payload(&mut d, &to_v4([2, 2, 2, 2])),
            expand("MEEE")
        );
        let v6_frames = [
            v6(OPAQUE, 5, 8, false, &[b'E'; 24]),
            v6(OPAQUE, 5, 0, true, &[b'M'; 24]),
        ];
        assert_eq!(reassembled_payload(&mut d, &v6_frames), expand("MMME"));
        // With linux for 2.2.2.0/24, that destination follows linux (here like bsd).
        let mut c = DefragConfig::default();
        c.set_host_os_ranges("linux", &["2.2.2.0/24".parse().expect("cidr")])
            .expect("known name");
        let mut d = Decoder::new(c);
        assert_eq!(
            reassembled_payload(&mut d, &to_v4([2, 2, 2, 2])),
            expand("MMME")
        );
        assert_eq!(
            reassembled_payload(&mut d, &to_v4([2, 2, 3, 2])),
            expand("MEEE")
        );
        assert_eq!(d.defrag_stats().overlaps, 2);
    }

    #[test]
    fn datagram_at_the_size_limit_does_not_panic() {
        // A 60-byte header and 65,515 bytes of data: Suricata's 16-bit total length
        // wraps; the datagram then fails to decode, as it does in Suricata.
        let mut first = v4(OPAQUE, 3, 0, true, &vec![b'a'; 65_000]);
        first[0] = 0x4f;
        first.splice(20..20, [1u8; 40]);
        first[2..4].copy_from_slice(&65_060u16.to_be_bytes());
        let last = v4(OPAQUE, 3, 65_000, false, &[b'b'; 515]);
        let mut d = Defrag::new(DefragConfig::default());
        let datagram = run(&mut d, &[first, last]).expect("reassembled");
        assert_eq!(datagram.len(), 60 + 65_515);
        assert_eq!(u16::from_be_bytes([datagram[2], datagram[3]]), 39);
        // IPv6 may end exactly at 65,535.
        let mut d = Defrag::new(DefragConfig::default());
        let (done, _) = feed(&mut d, &v6(OPAQUE, 3, 65_528, false, &[b'z'; 7]), 1);
        assert!(done.is_none());
        assert_eq!(d.fragments_held(), 1);
    }

    #[test]
    fn arbitrary_fragments_never_panic_and_are_accounted() {
        let policies = [
            DefragPolicy::Bsd,
            DefragPolicy::BsdRight,
            DefragPolicy::Linux,
            DefragPolicy::Windows,
            DefragPolicy::Solaris,
            DefragPolicy::First,
            DefragPolicy::Last,
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for policy in policies {
            let mut d = Defrag::new(DefragConfig {
                max_fragments: 300,
                ..config(policy)
            });
            for n in 0..3_000u64 {
                let id = next(4) as u16;
                let offset = match next(4) {
                    0 => 0,
                    1 => (65_535 - next(64) as usize) & !7,
                    _ => next(32) as usize * 8,
                };
                let len = match next(6) {
                    0 => 0,
                    1 => next(3000) as usize,
                    _ => next(40) as usize,
                };
                let more = next(3) != 0;
                let data: Vec<u8> = (0..len).map(|i| (i as u8) ^ (n as u8)).collect();
                let raw = if next(2) == 0 {
                    v4(OPAQUE, id, offset, more, &data)
                } else {
                    v6(OPAQUE, u32::from(id), offset, more, &data)
                };
                let ctx = Context {
                    pcap_cnt: Some(n),
                    root: None,
                    ts: Timestamp::new(n as i64 / 100, 0),
                    len: raw.len() as u32,
                    linktype: 101,
                    vlans: Vlans::default(),
                    link_header_len: 14,
                };
                if let IpOutcome::Fragment(frag) = decode_ip(&ctx, &raw) {
                    if let Ok(Some(done)) = d.insert(frag, &ctx) {
                        assert!(done.datagram.len() >= 20);
                    }
                }
                let held: usize = d.trackers.values().map(|t| t.pieces.len()).sum();
                assert_eq!(held, d.fragments_held(), "{policy:?}");
                assert!(d
                    .trackers
                    .values()
                    .all(|t| t.pieces.windows(2).all(|w| w[0].offset <= w[1].offset)));
            }
            d.expire(Timestamp::new(10_000, 0));
            assert_eq!(d.fragments_held(), 0);
        }
    }
}
