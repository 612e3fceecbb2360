//! The flow table: bidirectional flows keyed as Suricata keys them (addresses, ports,
//! protocol and VLAN ids), per-direction counters, the TCP state, per-state timeouts, and
//! a hard cap on the number of flows with eviction of the flows closest to timing out.

mod table;
pub mod tcp;

use std::net::IpAddr;

pub use table::{FlowConfig, FlowStats, FlowTable, Lookup};
pub use tcp::{TcpState, TcpTracker};

use crate::decode::{proto, Packet, Transport, Vlans};
use crate::time::Timestamp;

/// Flow state as in EVE `flow.state` and Suricata's timeout selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowState {
    New,
    Established,
    Closed,
}

impl FlowState {
    pub fn name(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        }
    }
}

/// Why a flow record was written (EVE `flow.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Idle past its timeout (or replaced by a new TCP session on the same tuple).
    Timeout,
    /// Evicted to stay under the flow cap.
    Forced,
    /// End of input.
    Shutdown,
}

impl EndReason {
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// Timeouts per protocol and state, in seconds (Suricata's `flow-timeouts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateTimeouts {
    pub new: u32,
    pub established: u32,
    pub closed: u32,
}

/// Suricata's shipped `flow-timeouts` defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: StateTimeouts,
    pub udp: StateTimeouts,
    pub icmp: StateTimeouts,
    pub default: StateTimeouts,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: StateTimeouts { new: 60, established: 600, closed: 60 },
            udp: StateTimeouts { new: 30, established: 300, closed: 0 },
            icmp: StateTimeouts { new: 30, established: 300, closed: 0 },
            default: StateTimeouts { new: 30, established: 300, closed: 0 },
        }
    }
}

impl Timeouts {
    pub fn for_flow(&self, proto: u8, state: FlowState) -> u32 {
        let t = match proto {
            proto::TCP => &self.tcp,
            proto::UDP => &self.udp,
            proto::ICMP | proto::ICMPV6 => &self.icmp,
            _ => &self.default,
        };
        match state {
            FlowState::New => t.new,
            FlowState::Established => t.established,
            FlowState::Closed => t.closed,
        }
    }

    /// The shortest timeout of any state: a flow idle for less never expires.
    pub fn min(&self) -> u32 {
        [self.tcp, self.udp, self.icmp, self.default]
            .iter()
            .flat_map(|t| [t.new, t.established, t.closed])
            .min()
            .unwrap_or(0)
    }
}

/// One end of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

/// Identity of a flow, independent of direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: Endpoint,
    hi: Endpoint,
    proto: u8,
    vlans: Vlans,
}

impl FlowKey {
    /// The key of a packet's flow and whether the packet's source is the key's `lo` end.
    pub fn of(p: &Packet<'_>) -> FlowKey {
        let (sp, dp) = flow_ports(p);
        let a = Endpoint { addr: p.src, port: sp };
        let b = Endpoint { addr: p.dst, port: dp };
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        FlowKey { lo, hi, proto: p.proto, vlans: p.vlans }
    }
}

/// Ports that take part in the flow key: TCP/UDP ports; none for ICMP and other protocols.
fn flow_ports(p: &Packet<'_>) -> (u16, u16) {
    match p.transport {
        Transport::Tcp(_) | Transport::Udp { .. } => p.ports(),
        _ => (0, 0),
    }
}

/// Counters of one direction of a flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectionStats {
    pub pkts: u64,
    pub bytes: u64,
    pub min_ttl: u8,
    pub max_ttl: u8,
    /// OR of the TCP flags of this direction's packets.
    pub tcp_flags: u8,
    /// ICMP type and code of this direction's first packet.
    pub icmp: Option<(u8, u8)>,
}

impl DirectionStats {
    fn add(&mut self, p: &Packet<'_>) {
        if self.pkts == 0 {
            self.min_ttl = p.ttl;
            self.max_ttl = p.ttl;
            if let Transport::Icmp { icmp_type, icmp_code } = p.transport {
                self.icmp = Some((icmp_type, icmp_code));
            }
        } else {
            self.min_ttl = self.min_ttl.min(p.ttl);
            self.max_ttl = self.max_ttl.max(p.ttl);
        }
        self.pkts += 1;
        self.bytes += u64::from(p.len);
        if let Transport::Tcp(t) = p.transport {
            self.tcp_flags |= t.flags;
        }
    }
}

/// Packet direction within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

/// A tracked flow.
#[derive(Clone, Debug)]
pub struct Flow {
    /// EVE `flow_id`: reproducible from the tuple and the first packet's time.
    pub id: u64,
    /// The sender of the first packet (for TCP: normally the SYN's sender).
    pub client: Endpoint,
    pub server: Endpoint,
    pub proto: u8,
    pub vlans: Vlans,
    pub start: Timestamp,
    pub last: Timestamp,
    pub to_server: DirectionStats,
    pub to_client: DirectionStats,
    pub state: FlowState,
    pub tcp: Option<TcpTracker>,
}

impl Flow {
    fn new(p: &Packet<'_>) -> Flow {
        let (sp, dp) = flow_ports(p);
        let client = Endpoint { addr: p.src, port: sp };
        let server = Endpoint { addr: p.dst, port: dp };
        let key = FlowKey::of(p);
        Flow {
            id: flow_id(&key, p.ts),
            client,
            server,
            proto: p.proto,
            vlans: p.vlans,
            start: p.ts,
            last: p.ts,
            to_server: DirectionStats::default(),
            to_client: DirectionStats::default(),
            state: FlowState::New,
            tcp: (p.proto == proto::TCP).then(TcpTracker::default),
        }
    }

    /// Direction of a packet of this flow.
    pub fn direction_of(&self, p: &Packet<'_>) -> Direction {
        let (sp, _) = flow_ports(p);
        if p.src == self.client.addr && sp == self.client.port {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Accounts a packet and advances the flow's state.
    fn update(&mut self, p: &Packet<'_>, dir: Direction) {
        // Capture times can go backwards between files; the flow's span only grows.
        if p.ts > self.last {
            self.last = p.ts;
        }
        match dir {
            Direction::ToServer => self.to_server.add(p),
            Direction::ToClient => self.to_client.add(p),
        }
        if let (Some(tracker), Transport::Tcp(tcp)) = (self.tcp.as_mut(), p.transport) {
            tracker.update(&tcp, dir == Direction::ToServer, p.payload.len());
            self.state = tracker.state.flow_state();
        } else if self.to_server.pkts > 0 && self.to_client.pkts > 0 {
            // UDP, ICMP and others are established once both sides have spoken.
            self.state = FlowState::Established;
        }
    }

    pub fn age(&self) -> i64 {
        self.last.age_since(self.start)
    }
}

/// `flow_id` in Suricata's layout (start seconds and microseconds in the high bits, a
/// 32-bit hash in the low ones, 51 bits in all), with a fixed hash so that runs diff.
fn flow_id(key: &FlowKey, start: Timestamp) -> u64 {
    // FNV-1a over the key fields.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for ep in [key.lo, key.hi] {
        match ep.addr {
            IpAddr::V4(a) => eat(&a.octets()),
            IpAddr::V6(a) => eat(&a.octets()),
        }
        eat(&ep.port.to_be_bytes());
    }
    eat(&[key.proto]);
    for v in key.vlans.as_slice() {
        eat(&v.to_be_bytes());
    }
    let hash = (h ^ (h >> 32)) & 0xffff_ffff;
    let secs = (start.secs() as u64) & 0xffff;
    let usecs = u64::from(start.micros()) & 0xffff;
    ((secs << 48) | (usecs << 32) | hash) & 0x7_ffff_ffff_ffff
}
