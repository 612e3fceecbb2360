//! The flow table: bidirectional flows keyed as Suricata keys them (addresses, ports,
//! protocol and VLAN ids), per-direction counters, the TCP state, per-state timeouts, and
//! a hard cap on the number of flows with eviction of the flows closest to timing out.

mod table;
pub mod tcp;

use std::net::IpAddr;

pub use table::{ExpiryOrder, FlowConfig, FlowHint, FlowStats, FlowTable, Lookup};
pub use tcp::{TcpState, TcpTracker};

use crate::decode::{
    icmpv4_counterpart, icmpv4_is_error, icmpv6_counterpart, proto, Packet, Transport, Vlans,
};
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
            tcp: StateTimeouts {
                new: 60,
                established: 600,
                closed: 60,
            },
            udp: StateTimeouts {
                new: 30,
                established: 300,
                closed: 0,
            },
            icmp: StateTimeouts {
                new: 30,
                established: 300,
                closed: 0,
            },
            default: StateTimeouts {
                new: 30,
                established: 300,
                closed: 0,
            },
        }
    }
}

impl Timeouts {
    pub fn for_flow(&self, proto: u8, state: FlowState) -> u32 {
        // Only ICMPv4 uses the icmp timeouts; ICMPv6 falls under default, as in Suricata.
        let t = match proto {
            proto::TCP => &self.tcp,
            proto::UDP => &self.udp,
            proto::ICMP => &self.icmp,
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

/// One end of a flow. For ICMP the "port" holds the type (ICMPv6: type and code) or its
/// counterpart type, as Suricata keys ICMP flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

/// Identity of a flow, independent of direction (except ESP, whose directions are
/// separate flows). Addresses are stored as 16 bytes (IPv4 mapped) so that hashing and
/// comparing a key are a few word operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo_addr: u128,
    hi_addr: u128,
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    v6: bool,
    vlans: Vlans,
    spi: u32,
}

/// An address as one integer (IPv4 in the IPv4-mapped range).
fn addr_bytes(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => 0xffff_0000_0000 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl FlowKey {
    fn new(a: Endpoint, b: Endpoint, proto: u8, vlans: Vlans) -> FlowKey {
        let a_bytes = (addr_bytes(a.addr), a.port);
        let b_bytes = (addr_bytes(b.addr), b.port);
        let (lo, hi) = if a_bytes <= b_bytes {
            (a_bytes, b_bytes)
        } else {
            (b_bytes, a_bytes)
        };
        FlowKey {
            lo_addr: lo.0,
            hi_addr: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            proto,
            v6: a.addr.is_ipv6(),
            vlans,
            spi: 0,
        }
    }

    /// The key of a packet's flow; `None` for packets Suricata tracks no flow for (ICMPv4
    /// error messages, and IP protocols other than TCP, UDP, SCTP, ICMP, ESP and 6in4).
    pub fn of(p: &Packet<'_>, track_vlans: bool) -> Option<FlowKey> {
        let vlans = if track_vlans {
            p.vlans
        } else {
            Vlans::default()
        };
        let ep = |addr, port| Endpoint { addr, port };
        Some(match p.transport {
            Transport::Tcp(_) | Transport::Udp { .. } | Transport::Sctp { .. } => {
                let (sp, dp) = p.ports();
                FlowKey::new(ep(p.src, sp), ep(p.dst, dp), p.proto, vlans)
            }
            Transport::Icmp {
                icmp_type,
                icmp_code,
                ..
            } => {
                let (sp, dp) = if p.proto == proto::ICMP {
                    if icmpv4_is_error(icmp_type) {
                        return None;
                    }
                    (
                        u16::from(icmp_type),
                        u16::from(icmpv4_counterpart(icmp_type)),
                    )
                } else {
                    let sp = u16::from(icmp_type) | (u16::from(icmp_code) << 8);
                    (sp, u16::from(icmpv6_counterpart(icmp_type)))
                };
                FlowKey::new(ep(p.src, sp), ep(p.dst, dp), p.proto, vlans)
            }
            Transport::Esp { spi } => FlowKey {
                lo_addr: addr_bytes(p.src),
                hi_addr: addr_bytes(p.dst),
                lo_port: 0,
                hi_port: 0,
                proto: p.proto,
                v6: p.src.is_ipv6(),
                vlans,
                spi,
            },
            Transport::Other if p.proto == proto::IPV6_IN_IPV4 && p.src.is_ipv4() => {
                FlowKey::new(ep(p.src, 0), ep(p.dst, 0), p.proto, vlans)
            }
            Transport::Other => return None,
        })
    }

    /// The key of the TCP/UDP flow an ICMPv4 destination unreachable quotes.
    pub fn of_quoted(p: &Packet<'_>, track_vlans: bool) -> Option<FlowKey> {
        let Transport::Icmp {
            quoted: Some(q), ..
        } = p.transport
        else {
            return None;
        };
        let vlans = if track_vlans {
            p.vlans
        } else {
            Vlans::default()
        };
        Some(FlowKey::new(
            Endpoint {
                addr: IpAddr::V4(q.src),
                port: q.src_port,
            },
            Endpoint {
                addr: IpAddr::V4(q.dst),
                port: q.dst_port,
            },
            q.proto,
            vlans,
        ))
    }
}

/// Counters of one direction of a flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectionStats {
    pub pkts: u64,
    pub bytes: u64,
    pub min_ttl: u8,
    pub max_ttl: u8,
    /// OR of the TCP flags of this direction's packets while a TCP session existed.
    pub tcp_flags: u8,
}

impl DirectionStats {
    fn add(&mut self, p: &Packet<'_>) {
        self.pkts += 1;
        self.bytes += u64::from(p.len);
        // Suricata treats a minimum of 0 as unset.
        self.min_ttl = if self.min_ttl == 0 {
            p.ttl
        } else {
            self.min_ttl.min(p.ttl)
        };
        self.max_ttl = self.max_ttl.max(p.ttl);
    }
}

/// Packet direction within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

/// A tracked flow.
#[derive(Debug)]
pub struct Flow {
    /// EVE `flow_id`: reproducible from the tuple and the first packet's time.
    pub id: u64,
    /// The sender of the first packet (the SYN/ACK's receiver when a mid-stream pick-up
    /// starts with a SYN/ACK).
    pub client: Endpoint,
    pub server: Endpoint,
    pub proto: u8,
    pub vlans: Vlans,
    pub start: Timestamp,
    pub last: Timestamp,
    pub to_server: DirectionStats,
    pub to_client: DirectionStats,
    /// ICMP type and code of the flow's first packet.
    pub icmp: Option<(u8, u8)>,
    pub state: FlowState,
    pub tcp: Option<TcpTracker>,
    /// Application-protocol detection.
    pub app: crate::app::FlowApp,
    /// Detection state (flowbits, the flow's pass/drop).
    pub detect: crate::detect::FlowDetect,
    seen_to_server: bool,
    seen_to_client: bool,
}

impl Flow {
    fn new(p: &Packet<'_>, key: &FlowKey) -> Flow {
        let (sp, dp) = p.ports();
        Flow {
            id: flow_id(key, p.ts),
            client: Endpoint {
                addr: p.src,
                port: sp,
            },
            server: Endpoint {
                addr: p.dst,
                port: dp,
            },
            proto: p.proto,
            vlans: p.vlans,
            start: p.ts,
            last: p.ts,
            to_server: DirectionStats::default(),
            to_client: DirectionStats::default(),
            icmp: match p.transport {
                Transport::Icmp {
                    icmp_type,
                    icmp_code,
                    ..
                } => Some((icmp_type, icmp_code)),
                _ => None,
            },
            state: FlowState::New,
            tcp: (p.proto == proto::TCP).then(TcpTracker::default),
            app: crate::app::FlowApp::default(),
            detect: crate::detect::FlowDetect::default(),
            seen_to_server: false,
            seen_to_client: false,
        }
    }

    /// ICMP type and code of the reply direction as Suricata logs them: the counterpart of
    /// the first packet's type, code 0.
    pub fn reply_icmp(&self) -> Option<(u8, u8)> {
        let (t, _) = self.icmp?;
        Some(if self.proto == proto::ICMP {
            (icmpv4_counterpart(t), 0)
        } else {
            (icmpv6_counterpart(t), 0)
        })
    }

    /// Direction of a packet of this flow (Suricata's `FlowGetPacketDirection`).
    pub fn direction_of(&self, p: &Packet<'_>) -> Direction {
        let to_server = match p.transport {
            Transport::Tcp(_) | Transport::Udp { .. } | Transport::Sctp { .. } => {
                let (sp, dp) = p.ports();
                if sp != dp {
                    sp == self.client.port
                } else {
                    p.src == self.client.addr
                }
            }
            Transport::Icmp { .. } => p.src == self.client.addr,
            Transport::Esp { .. } | Transport::Other => true,
        };
        if to_server {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    fn stats_mut(&mut self, dir: Direction) -> &mut DirectionStats {
        match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }

    /// Accounts a packet and advances the flow's state. Returns the packet's direction,
    /// which a mid-stream SYN/ACK pick-up reverses.
    fn update(&mut self, p: &Packet<'_>, dir: Direction, midstream: bool) -> Direction {
        // Capture times can go backwards between files; the flow's span only grows.
        if p.ts > self.last {
            self.last = p.ts;
        }
        let mut dir = dir;
        self.stats_mut(dir).add(p);
        match dir {
            Direction::ToServer => self.seen_to_server = true,
            Direction::ToClient => self.seen_to_client = true,
        }
        if let (Some(tracker), Transport::Tcp(tcp)) = (self.tcp.as_mut(), p.transport) {
            let swapped =
                tracker.update(&tcp, dir == Direction::ToServer, p.payload.len(), midstream);
            let has_session = tracker.has_session();
            self.state = tracker.state.flow_state();
            if swapped {
                // The SYN/ACK's sender is the server.
                self.reverse();
                dir = Direction::ToClient;
            }
            if has_session {
                self.stats_mut(dir).tcp_flags |= tcp.flags;
            }
        } else if self.tcp.is_none() && self.seen_to_server && self.seen_to_client {
            // UDP, ICMP and others are established once both sides have spoken.
            self.state = FlowState::Established;
        }
        dir
    }

    /// Swaps client and server, as Suricata's `FlowSwap`: packet, byte and TCP-flag
    /// counters follow their sender; the TTLs stay where the first packets put them.
    pub fn reverse(&mut self) {
        std::mem::swap(&mut self.client, &mut self.server);
        std::mem::swap(&mut self.to_server.pkts, &mut self.to_client.pkts);
        std::mem::swap(&mut self.to_server.bytes, &mut self.to_client.bytes);
        std::mem::swap(&mut self.to_server.tcp_flags, &mut self.to_client.tcp_flags);
        std::mem::swap(&mut self.seen_to_server, &mut self.seen_to_client);
        self.app.reverse();
        self.detect.reverse();
    }

    /// Accounts an ICMPv4 destination unreachable about this flow: counted, but it neither
    /// marks a direction as seen nor touches the TCP state.
    fn add_icmp_error(&mut self, p: &Packet<'_>) -> Direction {
        if p.ts > self.last {
            self.last = p.ts;
        }
        let dir = if p.src == self.client.addr {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        self.stats_mut(dir).add(p);
        dir
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
    for (addr, port) in [(key.lo_addr, key.lo_port), (key.hi_addr, key.hi_port)] {
        let bytes = addr.to_be_bytes();
        if key.v6 {
            eat(&bytes);
        } else {
            eat(&bytes[12..]);
        }
        eat(&port.to_be_bytes());
    }
    eat(&[key.proto]);
    for v in key.vlans.as_slice() {
        eat(&v.to_be_bytes());
    }
    eat(&key.spi.to_be_bytes());
    let hash = (h ^ (h >> 32)) & 0xffff_ffff;
    let secs = (start.secs() as u64) & 0xffff;
    let usecs = u64::from(start.micros()) & 0xffff;
    ((secs << 48) | (usecs << 32) | hash) & 0x7_ffff_ffff_ffff
}
