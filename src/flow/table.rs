//! Flow storage: a slab of flows, a hash index of slab positions, and a timer wheel of
//! expiry seconds.

use std::collections::{BTreeMap, VecDeque};
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::{Direction, EndReason, Flow, FlowKey, Timeouts};
use crate::decode::{proto, Packet, Transport};
use crate::time::Timestamp;

/// Flow table settings.
#[derive(Clone, Copy, Debug)]
pub struct FlowConfig {
    /// Most flows tracked at once; beyond it the flow nearest to its timeout is evicted.
    pub max_flows: usize,
    pub timeouts: Timeouts,
    /// VLAN ids are part of the flow key (`vlan.use-for-tracking`, default true).
    pub track_vlans: bool,
    /// Pick up TCP flows whose handshake was not seen (`stream.midstream`, default false).
    pub midstream: bool,
}

impl FlowConfig {
    /// Default cap: about as many flows as Suricata keeps with its default 32 MB
    /// `flow.memcap` plus emergency headroom, far above what a CI capture holds.
    pub const DEFAULT_MAX_FLOWS: usize = 500_000;
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: Self::DEFAULT_MAX_FLOWS,
            timeouts: Timeouts::default(),
            track_vlans: true,
            midstream: false,
        }
    }
}

/// Flow counters for the stats output.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FlowStats {
    pub created: u64,
    pub tcp: u64,
    pub udp: u64,
    pub icmp: u64,
    pub other: u64,
    pub timed_out: u64,
    /// Ended early because a new TCP session started on the same tuple.
    pub tcp_reused: u64,
    /// Evicted to stay under `max_flows`.
    pub evicted: u64,
    /// Packets of protocols Suricata keeps no flow for (ICMPv4 errors about no known flow,
    /// GRE, IP-in-IP, ...).
    pub packets_without_flow: u64,
    /// ICMPv4 destination-unreachable packets counted in the flow they quote.
    pub icmp_errors_joined: u64,
    /// Flows still open at the end of input.
    pub active_at_end: u64,
    /// Most flows held at once.
    pub max_active: u64,
}

/// Where a packet landed.
impl FlowStats {
    /// Adds another table's counts; `max_active` becomes the sum of the maxima.
    pub fn add(&mut self, o: &FlowStats) {
        for (mine, theirs) in [
            (&mut self.created, o.created),
            (&mut self.tcp, o.tcp),
            (&mut self.udp, o.udp),
            (&mut self.icmp, o.icmp),
            (&mut self.other, o.other),
            (&mut self.timed_out, o.timed_out),
            (&mut self.tcp_reused, o.tcp_reused),
            (&mut self.evicted, o.evicted),
            (&mut self.packets_without_flow, o.packets_without_flow),
            (&mut self.icmp_errors_joined, o.icmp_errors_joined),
            (&mut self.active_at_end, o.active_at_end),
            (&mut self.max_active, o.max_active),
        ] {
            *mine += theirs;
        }
    }
}

/// A packet's flow looked up ahead of processing (see [`FlowTable::hint`]).
#[derive(Clone, Copy, Debug)]
pub struct FlowHint {
    key: FlowKey,
    hash: u64,
    slot: Option<u32>,
}

/// Asks the processor to start loading `value` into its caches (no effect elsewhere).
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = (value as *const T).cast::<i8>();
        for line in (0..std::mem::size_of::<T>()).step_by(64) {
            // SAFETY: SSE is part of x86_64's baseline, and a prefetch is only a hint:
            // it reads nothing and cannot fault, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[derive(Clone, Copy, Debug)]
pub struct Lookup {
    pub slot: u32,
    pub direction: Direction,
    /// The packet created the flow.
    pub created: bool,
}

struct Slot {
    generation: u32,
    flow: Option<(FlowKey, Flow)>,
}

/// Bounded table of live flows.
pub struct FlowTable {
    config: FlowConfig,
    /// Slab positions of live flows, hashed by their key (the key lives in the slab, so
    /// the index stays small and cache-friendly).
    index: HashTable<u32>,
    hasher: FxBuildHasher,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Expiry second -> (slot, generation). A flow is scheduled when created and
    /// rescheduled when found alive at its old time; entries of ended flows are skipped.
    wheel: BTreeMap<i64, VecDeque<(u32, u32)>>,
    wheel_entries: usize,
    /// Scratch for a sweep's expired flows (kept for its capacity).
    expired: Vec<(ExpiryOrder, u32)>,
    stats: FlowStats,
}

/// Where a flow ended by a sweep goes among the flows that sweep ends (see
/// [`FlowTable::expire`]): expiry second, first packet, id.
pub type ExpiryOrder = (i64, Timestamp, u64);

impl FlowTable {
    pub fn new(config: FlowConfig) -> Self {
        FlowTable {
            config: FlowConfig {
                max_flows: config.max_flows.max(1),
                ..config
            },
            index: HashTable::new(),
            hasher: FxBuildHasher,
            slots: Vec::new(),
            free: Vec::new(),
            wheel: BTreeMap::new(),
            wheel_entries: 0,
            expired: Vec::new(),
            stats: FlowStats::default(),
        }
    }

    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// `stream.midstream`: TCP flows are picked up without a handshake.
    pub fn midstream(&self) -> bool {
        self.config.midstream
    }

    pub fn active(&self) -> usize {
        self.index.len()
    }

    pub fn flow(&self, slot: u32) -> Option<&Flow> {
        self.slots.get(slot as usize)?.flow.as_ref().map(|(_, f)| f)
    }

    pub fn flow_mut(&mut self, slot: u32) -> Option<&mut Flow> {
        self.slots
            .get_mut(slot as usize)?
            .flow
            .as_mut()
            .map(|(_, f)| f)
    }

    fn find(&self, key: &FlowKey) -> Option<u32> {
        self.find_hashed(key, self.hasher.hash_one(key))
    }

    fn find_hashed(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash, |&s| {
                slots
                    .get(s as usize)
                    .and_then(|e| e.flow.as_ref())
                    .is_some_and(|(k, _)| k == key)
            })
            .copied()
    }

    fn schedule(&mut self, at: i64, slot: u32, generation: u32) {
        self.wheel
            .entry(at)
            .or_default()
            .push_back((slot, generation));
        self.wheel_entries += 1;
    }

    /// Last second at which the flow is still alive: Suricata times a flow out when
    /// `last.secs + timeout < now.secs`.
    fn expires_at(&self, flow: &Flow) -> i64 {
        flow.last.secs().saturating_add(i64::from(
            self.config.timeouts.for_flow(flow.proto, flow.state),
        ))
    }

    /// The hash the table files a key under.
    pub fn hash_of(key: &FlowKey) -> u64 {
        FxBuildHasher.hash_one(key)
    }

    /// Looks a packet's flow up ahead of [`process_hinted`](Self::process_hinted) and
    /// has the processor start loading the flow. Looking up a batch of packets first lets
    /// their cache misses overlap instead of each stalling the packet's processing.
    /// `key` is the packet's [`FlowKey::of`] and `hash` its [`hash_of`](Self::hash_of).
    pub fn hint(&self, key: FlowKey, hash: u64) -> FlowHint {
        let slot = self.find_hashed(&key, hash);
        if let Some(entry) = slot.and_then(|s| self.slots.get(s as usize)) {
            prefetch(entry);
        }
        FlowHint { key, hash, slot }
    }

    /// Finds or creates the packet's flow and accounts the packet; `None` when Suricata
    /// would track no flow for it. Flows that end because of it (timed out on this tuple,
    /// replaced by a new TCP session, evicted for room) are handed to `ended` first.
    pub fn process(
        &mut self,
        p: &Packet<'_>,
        ended: &mut impl FnMut(Flow, EndReason),
    ) -> Option<Lookup> {
        self.process_hinted(p, None, ended)
    }

    /// [`process`](Self::process) with the packet's [`hint`](Self::hint), taken earlier:
    /// the flows may have changed since (it is checked, not trusted).
    pub fn process_hinted(
        &mut self,
        p: &Packet<'_>,
        hint: Option<FlowHint>,
        ended: &mut impl FnMut(Flow, EndReason),
    ) -> Option<Lookup> {
        let now = p.ts.secs();
        let (key, hash, hinted) = match hint {
            Some(h) => (h.key, h.hash, h.slot),
            None => {
                let Some(key) = FlowKey::of(p, self.config.track_vlans) else {
                    return self.process_quoted(p, ended);
                };
                (key, self.hasher.hash_one(key), None)
            }
        };
        let still_there = hinted.filter(|&s| {
            self.slots
                .get(s as usize)
                .and_then(|e| e.flow.as_ref())
                .is_some_and(|(k, _)| *k == key)
        });
        if let Some(slot) = still_there.or_else(|| self.find_hashed(&key, hash)) {
            let (timed_out, reused) = match self.flow(slot) {
                Some(flow) => (
                    self.expires_at(flow) < now,
                    match (&flow.tcp, &p.transport) {
                        (Some(t), Transport::Tcp(h)) => {
                            t.is_reuse(h, flow.direction_of(p) == Direction::ToServer)
                        }
                        _ => false,
                    },
                ),
                None => (false, false),
            };
            if timed_out || reused {
                if timed_out {
                    self.stats.timed_out += 1;
                } else {
                    self.stats.tcp_reused += 1;
                }
                if let Some(flow) = self.remove(slot) {
                    ended(flow, EndReason::Timeout);
                }
            } else {
                let midstream = self.config.midstream;
                let flow = self.flow_mut(slot)?;
                let direction = flow.direction_of(p);
                let direction = flow.update(p, direction, midstream);
                return Some(Lookup {
                    slot,
                    direction,
                    created: false,
                });
            }
        }
        while self.index.len() >= self.config.max_flows {
            match self.evict_one() {
                Some(flow) => {
                    self.stats.evicted += 1;
                    ended(flow, EndReason::Forced);
                }
                None => break,
            }
        }
        let mut flow = Flow::new(p, &key);
        let direction = flow.update(p, Direction::ToServer, self.config.midstream);
        self.stats.created += 1;
        match p.proto {
            proto::TCP => self.stats.tcp += 1,
            proto::UDP => self.stats.udp += 1,
            proto::ICMP | proto::ICMPV6 => self.stats.icmp += 1,
            _ => self.stats.other += 1,
        }
        let expires = self.expires_at(&flow);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    flow: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let entry = &mut self.slots[slot as usize];
        entry.flow = Some((key, flow));
        let generation = entry.generation;
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, slot, |&s| {
            slots
                .get(s as usize)
                .and_then(|e| e.flow.as_ref())
                .map_or(0, |(k, _)| hasher.hash_one(k))
        });
        self.schedule(expires, slot, generation);
        self.stats.max_active = self.stats.max_active.max(self.index.len() as u64);
        self.compact_wheel();
        Some(Lookup {
            slot,
            direction,
            created: true,
        })
    }

    /// An ICMPv4 destination unreachable joins the flow of the packet it quotes, if that
    /// flow exists; other packets without a flow key are only counted.
    fn process_quoted(
        &mut self,
        p: &Packet<'_>,
        ended: &mut impl FnMut(Flow, EndReason),
    ) -> Option<Lookup> {
        let joined = FlowKey::of_quoted(p, self.config.track_vlans)
            .and_then(|key| self.find(&key))
            .and_then(|slot| {
                let timed_out = self
                    .flow(slot)
                    .is_some_and(|f| self.expires_at(f) < p.ts.secs());
                if timed_out {
                    self.stats.timed_out += 1;
                    if let Some(flow) = self.remove(slot) {
                        ended(flow, EndReason::Timeout);
                    }
                    return None;
                }
                let direction = self.flow_mut(slot)?.add_icmp_error(p);
                Some(Lookup {
                    slot,
                    direction,
                    created: false,
                })
            });
        match joined {
            Some(_) => self.stats.icmp_errors_joined += 1,
            None => self.stats.packets_without_flow += 1,
        }
        joined
    }

    fn remove(&mut self, slot: u32) -> Option<Flow> {
        let entry = self.slots.get_mut(slot as usize)?;
        let (key, flow) = entry.flow.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        let hash = self.hasher.hash_one(key);
        if let Ok(found) = self.index.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        self.free.push(slot);
        Some(flow)
    }

    /// Takes wheel entries, earliest first, until one names a live flow whose recorded
    /// expiry is current; flows found alive later are rescheduled.
    fn pop_earliest(&mut self) -> Option<(i64, u32)> {
        loop {
            let mut bucket = self.wheel.first_entry()?;
            let at = *bucket.key();
            let Some((slot, generation)) = bucket.get_mut().pop_front() else {
                bucket.remove();
                continue;
            };
            if bucket.get().is_empty() {
                bucket.remove();
            }
            self.wheel_entries -= 1;
            let Some(entry) = self.slots.get(slot as usize) else {
                continue;
            };
            if entry.generation != generation {
                continue;
            }
            let Some((_, flow)) = entry.flow.as_ref() else {
                continue;
            };
            let actual = self.expires_at(flow);
            if actual > at {
                self.schedule(actual, slot, generation);
                continue;
            }
            return Some((actual, slot));
        }
    }

    fn evict_one(&mut self) -> Option<Flow> {
        let (_, slot) = self.pop_earliest()?;
        self.remove(slot)
    }

    /// Ends every flow whose timeout passed before `now`, in the order of
    /// [`ExpiryOrder`], which `ended` is given with each flow.
    pub fn expire(&mut self, now: Timestamp, ended: &mut impl FnMut(Flow, EndReason, ExpiryOrder)) {
        // The slots are ordered, not the flows: a flow is moved once, to `ended`.
        let mut expired = std::mem::take(&mut self.expired);
        expired.clear();
        self.take_expired(now, &mut expired);
        expired.sort_unstable();
        for &(order, slot) in &expired {
            if let Some(flow) = self.remove(slot) {
                self.stats.timed_out += 1;
                ended(flow, EndReason::Timeout, order);
            }
        }
        self.expired = expired;
    }

    /// The order flows ended by one sweep are handed on: by expiry second, then by first
    /// packet and id. It depends on the flows alone, not on the table they were in, so
    /// that worker threads, each with a part of the flows, can be merged into the order
    /// one table gives.
    fn expiry_order(&self, flow: &Flow) -> ExpiryOrder {
        (self.expires_at(flow), flow.start, flow.id)
    }

    /// The live flows whose timeout passed before `now`, with their order; their wheel
    /// entries are taken (a live flow has exactly one), the flows stay in the table.
    fn take_expired(&mut self, now: Timestamp, expired: &mut Vec<(ExpiryOrder, u32)>) {
        let now = now.secs();
        while let Some((&at, _)) = self.wheel.first_key_value() {
            if at >= now {
                break;
            }
            let Some((actual, slot)) = self.pop_earliest() else {
                break;
            };
            let Some(entry) = self.slots.get(slot as usize) else {
                continue;
            };
            if actual >= now {
                self.schedule(actual, slot, entry.generation);
                break;
            }
            if let Some((_, flow)) = entry.flow.as_ref() {
                expired.push((self.expiry_order(flow), slot));
            }
        }
    }

    /// Ends all flows (end of input), oldest first.
    pub fn drain(&mut self, ended: &mut impl FnMut(Flow, EndReason)) {
        let mut order: Vec<((Timestamp, u64), u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.flow.as_ref().map(|(_, f)| ((f.start, f.id), i as u32)))
            .collect();
        order.sort_unstable();
        self.stats.active_at_end += order.len() as u64;
        for (_, slot) in order {
            if let Some((_, flow)) = self
                .slots
                .get_mut(slot as usize)
                .and_then(|s| s.flow.take())
            {
                ended(flow, EndReason::Shutdown);
            }
        }
        self.wheel.clear();
        self.wheel_entries = 0;
        self.index.clear();
        self.slots.clear();
        self.free.clear();
    }

    /// Keeps entries of ended flows from outgrowing the table: rebuilds from live flows.
    fn compact_wheel(&mut self) {
        if self.wheel_entries <= 4 * self.config.max_flows.max(1024) {
            return;
        }
        let live: Vec<(i64, u32, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                slot.flow
                    .as_ref()
                    .map(|(_, f)| (self.expires_at(f), i as u32, slot.generation))
            })
            .collect();
        self.wheel.clear();
        self.wheel_entries = 0;
        for (at, slot, generation) in live {
            self.schedule(at, slot, generation);
        }
    }
}

#[cfg(test)]
mod tests;
