//! Packet decoding, L2 to L4, the way Suricata's decoders walk a frame: link layer (by the
//! capture's link type), VLAN tags, IPv4/IPv6 with options and extension headers, fragment
//! reassembly, then TCP, UDP, ICMP, ICMPv6 or an opaque IP protocol. Header slicing uses
//! `etherparse`; what Suricata does with the result (what is invalid, what gets a flow) is
//! decided here.

mod defrag;
mod ip;
mod link;

use std::net::{IpAddr, Ipv4Addr};

pub use defrag::{DefragConfig, DefragPolicy, DefragStats, HostOs, HostOsRange, MAX_PACKET_BUFFER};
pub use link::LinkType;

use crate::time::Timestamp;

/// IP protocol numbers used by the engine.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6_IN_IPV4: u8 = 41;
    pub const ESP: u8 = 50;
    pub const ICMPV6: u8 = 58;
    pub const SCTP: u8 = 132;
}

/// The IP protocol number of a name Suricata accepts (`ip_proto:tcp`, ...).
pub fn proto_number(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "hopopt" => 0,
        "icmp" => proto::ICMP,
        "igmp" => 2,
        "ipv4" | "ip-in-ip" | "ipip" => 4,
        "tcp" => proto::TCP,
        "udp" => proto::UDP,
        "ipv6" => 41,
        "ipv6-route" => 43,
        "ipv6-frag" => 44,
        "rsvp" => 46,
        "gre" => 47,
        "esp" => proto::ESP,
        "ah" => 51,
        "ipv6-icmp" | "icmpv6" => proto::ICMPV6,
        "ipv6-nonxt" => 59,
        "ipv6-opts" => 60,
        "eigrp" => 88,
        "ospf" | "ospfigp" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "l2tp" => 115,
        "sctp" => proto::SCTP,
        "udplite" => 136,
        _ => return None,
    })
}

/// TCP header flag bits, as in the header's flags byte.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Suricata tracks at most three VLAN layers; a fourth is a decoder event.
pub const MAX_VLAN_LAYERS: usize = 3;

/// VLAN ids of a packet, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vlans {
    ids: [u16; MAX_VLAN_LAYERS],
    len: u8,
}

impl Vlans {
    pub fn push(&mut self, id: u16) -> bool {
        if usize::from(self.len) >= MAX_VLAN_LAYERS {
            return false;
        }
        self.ids[usize::from(self.len)] = id;
        self.len += 1;
        true
    }

    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Transport-layer header fields the flow and detection layers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp(TcpHeader),
    Udp {
        src_port: u16,
        dst_port: u16,
    },
    Sctp {
        src_port: u16,
        dst_port: u16,
    },
    /// ICMP (v4 or v6): type and code; for an ICMPv4 destination unreachable, the TCP or
    /// UDP packet it quotes (Suricata attaches such errors to that packet's flow).
    Icmp {
        icmp_type: u8,
        icmp_code: u8,
        quoted: Option<QuotedTuple>,
    },
    /// IPsec ESP: the security parameter index (each SA direction is its own flow).
    Esp {
        spi: u32,
    },
    /// Any other IP protocol.
    Other,
}

/// The addresses, ports and protocol of the packet an ICMPv4 error quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedTuple {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub src_port: u16,
    pub dst_port: u16,
}

/// ICMPv4 message types that report errors; Suricata never creates a flow for them.
pub fn icmpv4_is_error(icmp_type: u8) -> bool {
    matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
}

/// The type that answers an ICMPv4 type (echo 8 -> reply 0, ...), 0 when none: Suricata
/// keys ICMP flows on the pair, so requests and replies share a flow.
pub fn icmpv4_counterpart(icmp_type: u8) -> u8 {
    match icmp_type {
        8 => 0,
        0 => 8,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        10 => 9,
        9 => 10,
        17 => 18,
        18 => 17,
        _ => 0,
    }
}

/// As [`icmpv4_counterpart`] for ICMPv6.
pub fn icmpv6_counterpart(icmp_type: u8) -> u8 {
    match icmp_type {
        128 => 129,
        129 => 128,
        133 => 134,
        134 => 133,
        135 => 136,
        136 => 135,
        130 => 131,
        131 => 130,
        139 => 140,
        140 => 139,
        144 => 145,
        145 => 144,
        146 => 147,
        147 => 146,
        148 => 149,
        149 => 148,
        151 => 152,
        152 => 151,
        157 => 158,
        158 => 157,
        _ => 0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// The flags byte (FIN..CWR, see [`tcp_flags`]).
    pub flags: u8,
    pub window: u16,
    /// A SYN with a TCP Fast Open option (kind 34, or an experimental option with TFO's
    /// magic), as Suricata's decoder recognises it: its data is part of the stream.
    pub tfo: bool,
}

/// A decoded IP packet, ready for flow tracking.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based packet number in the run (Suricata's `pcap_cnt`); `None` for packets the
    /// engine made itself, such as a reassembled datagram.
    pub pcap_cnt: Option<u64>,
    /// A reassembled datagram: the fragment that completed it (Suricata makes the
    /// datagram a pseudo packet of that fragment, its "tunnel" root).
    pub root: Option<FragmentRoot>,
    pub ts: Timestamp,
    /// Length Suricata counts for the packet: the whole captured frame.
    pub len: u32,
    pub linktype: u32,
    pub vlans: Vlans,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number (after IPv6 extension headers).
    pub proto: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    pub transport: Transport,
    /// Transport payload (for TCP/UDP/ICMP after their header; for other protocols the IP
    /// payload).
    pub payload: &'a [u8],
}

impl Packet<'_> {
    pub fn ports(&self) -> (u16, u16) {
        match self.transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port),
            Transport::Udp { src_port, dst_port } | Transport::Sctp { src_port, dst_port } => {
                (src_port, dst_port)
            }
            _ => (0, 0),
        }
    }

    pub fn tcp(&self) -> Option<&TcpHeader> {
        match &self.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }
}

/// The fragment whose arrival completed a reassembled datagram, as Suricata logs a
/// defragmented pseudo packet's root (`tunnel` in alerts): its packet number. Its
/// addresses are the datagram's, its ports are not decoded (0), and its IP protocol is
/// the datagram's for IPv4 (the fragments' protocol field) and the Fragment header (44)
/// for IPv6 ([`FragmentRoot::proto`]). One word, so that `Packet` stays small enough to
/// be moved without a `memcpy` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentRoot {
    pub pcap_cnt: std::num::NonZeroU64,
}

impl FragmentRoot {
    /// The root fragment's IP protocol, for a reassembled packet from `src` of `proto`.
    pub fn proto(src: IpAddr, proto: u8) -> u8 {
        if src.is_ipv6() {
            44
        } else {
            proto
        }
    }
}

/// Why a frame could not be decoded into a packet. Names follow Suricata's decoder events
/// (`decoder.event.<name>` in its stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invalid {
    UnsupportedLinkType,
    EthernetTooSmall,
    VlanHeaderTooSmall,
    VlanTooManyLayers,
    SllTooSmall,
    PppTooSmall,
    PppUnsupportedProto,
    ChdlcTooSmall,
    Sll2TooSmall,
    NullTooSmall,
    NullUnknownFamily,
    RawUnknownVersion,
    Ipv4TooSmall,
    Ipv4WrongVersion,
    Ipv4HlenTooSmall,
    Ipv4IplenSmallerThanHlen,
    Ipv4Truncated,
    Ipv6TooSmall,
    Ipv6WrongVersion,
    Ipv6Truncated,
    Ipv6ExtHeaderTruncated,
    Ipv6FragmentHeaderTruncated,
    TcpTooSmall,
    TcpHlenTooSmall,
    TcpOptionsTruncated,
    UdpTooSmall,
    UdpHlenTooSmall,
    UdpLenInvalid,
    SctpTooSmall,
    EspTooSmall,
    IcmpTooSmall,
    Icmpv6TooSmall,
    FragmentTooLarge,
    FragmentOverlapInvalid,
}

impl Invalid {
    /// Stable snake_case name used in stats and messages.
    pub fn name(self) -> &'static str {
        match self {
            Invalid::UnsupportedLinkType => "unsupported_linktype",
            Invalid::EthernetTooSmall => "ethernet.pkt_too_small",
            Invalid::VlanHeaderTooSmall => "vlan.header_too_small",
            Invalid::VlanTooManyLayers => "vlan.too_many_layers",
            Invalid::SllTooSmall => "sll.pkt_too_small",
            Invalid::PppTooSmall => "ppp.pkt_too_small",
            Invalid::PppUnsupportedProto => "ppp.unsup_proto",
            Invalid::ChdlcTooSmall => "chdlc.pkt_too_small",
            Invalid::Sll2TooSmall => "sll2.pkt_too_small",
            Invalid::NullTooSmall => "null.pkt_too_small",
            Invalid::NullUnknownFamily => "null.unsupported_type",
            Invalid::RawUnknownVersion => "ipraw.invalid_ip_version",
            Invalid::Ipv4TooSmall => "ipv4.pkt_too_small",
            Invalid::Ipv4WrongVersion => "ipv4.wrong_ip_version",
            Invalid::Ipv4HlenTooSmall => "ipv4.hlen_too_small",
            Invalid::Ipv4IplenSmallerThanHlen => "ipv4.iplen_smaller_than_hlen",
            Invalid::Ipv4Truncated => "ipv4.trunc_pkt",
            Invalid::Ipv6TooSmall => "ipv6.pkt_too_small",
            Invalid::Ipv6WrongVersion => "ipv6.wrong_ip_version",
            Invalid::Ipv6Truncated => "ipv6.trunc_pkt",
            Invalid::Ipv6ExtHeaderTruncated => "ipv6.trunc_exthdr",
            Invalid::Ipv6FragmentHeaderTruncated => "ipv6.fh_trunc",
            Invalid::TcpTooSmall => "tcp.pkt_too_small",
            Invalid::TcpHlenTooSmall => "tcp.hlen_too_small",
            Invalid::TcpOptionsTruncated => "tcp.invalid_optlen",
            Invalid::UdpTooSmall => "udp.pkt_too_small",
            Invalid::UdpHlenTooSmall => "udp.hlen_too_small",
            Invalid::UdpLenInvalid => "udp.len_invalid",
            Invalid::SctpTooSmall => "sctp.pkt_too_small",
            Invalid::EspTooSmall => "esp.pkt_too_small",
            Invalid::IcmpTooSmall => "icmpv4.pkt_too_small",
            Invalid::Icmpv6TooSmall => "icmpv6.pkt_too_small",
            Invalid::FragmentTooLarge => "defrag.pkt_too_large",
            Invalid::FragmentOverlapInvalid => "defrag.invalid_fragment",
        }
    }
}

/// What became of one captured frame.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// An IP packet for the flow table.
    Packet(Packet<'a>),
    /// An IP fragment, held for reassembly. When it completed a datagram,
    /// [`Decoder::take_reassembled`] returns the reassembled packet.
    Fragment { ip_version: u8 },
    /// A valid frame that carries no IP (ARP, LLDP, ...): counted, not tracked.
    NotIp { ether_type: u16 },
    /// A frame the decoders refused.
    Invalid(Invalid),
}

/// Frame decoder; owns the fragment reassembly state.
pub struct Decoder {
    defrag: defrag::Defrag,
    /// The last datagram completed by reassembly, waiting for `take_reassembled`.
    reassembled: Option<defrag::Reassembled>,
    /// The fragment that completed `reassembled`.
    reassembled_root: Option<FragmentRoot>,
}

impl Decoder {
    pub fn new(config: DefragConfig) -> Self {
        Decoder {
            defrag: defrag::Defrag::new(config),
            reassembled: None,
            reassembled_root: None,
        }
    }

    pub fn defrag_stats(&self) -> &DefragStats {
        self.defrag.stats()
    }

    /// Fragments currently held.
    pub fn fragments_held(&self) -> usize {
        self.defrag.fragments_held()
    }

    /// Decodes one frame captured with link type `linktype`.
    pub fn decode<'a>(
        &mut self,
        linktype: u32,
        data: &'a [u8],
        ts: Timestamp,
        pcap_cnt: u64,
    ) -> Decoded<'a> {
        let link = match link::decode_link(linktype, data) {
            Ok(link) => link,
            Err(invalid) => return Decoded::Invalid(invalid),
        };
        let l3 = match link.network {
            link::Network::Ipv4(b) | link::Network::Ipv6(b) => b,
            link::Network::Other(ether_type) => return Decoded::NotIp { ether_type },
        };
        let ctx = ip::Context {
            pcap_cnt: Some(pcap_cnt),
            root: None,
            ts,
            len: data.len() as u32,
            linktype,
            vlans: link.vlans,
            link_header_len: data.len() - l3.len(),
        };
        match ip::decode_ip(&ctx, l3) {
            ip::IpOutcome::Packet(p) => Decoded::Packet(p),
            ip::IpOutcome::Invalid(i) => Decoded::Invalid(i),
            ip::IpOutcome::Fragment(frag) => {
                let version = frag.version;
                let root =
                    std::num::NonZeroU64::new(pcap_cnt).map(|pcap_cnt| FragmentRoot { pcap_cnt });
                match self.defrag.insert(frag, &ctx) {
                    Ok(Some(done)) => {
                        self.reassembled_root = root;
                        self.settle(done);
                    }
                    Ok(None) => {}
                    Err(invalid) => return Decoded::Invalid(invalid),
                }
                Decoded::Fragment {
                    ip_version: version,
                }
            }
        }
    }

    /// A reassembled datagram can itself be a fragment (nested IPv6 fragment headers):
    /// like Suricata, feed it back to reassembly until a whole packet comes out.
    fn settle(&mut self, mut done: defrag::Reassembled) {
        const MAX_NESTING: usize = 4;
        for _ in 0..MAX_NESTING {
            let ctx = Self::reassembled_context(&done, self.reassembled_root);
            let next = match ip::decode_ip(&ctx, &done.datagram) {
                ip::IpOutcome::Fragment(frag) => self.defrag.insert(frag, &ctx),
                _ => {
                    self.reassembled = Some(done);
                    return;
                }
            };
            match next {
                Ok(Some(inner)) => done = inner,
                _ => return,
            }
        }
    }

    fn reassembled_context(done: &defrag::Reassembled, root: Option<FragmentRoot>) -> ip::Context {
        ip::Context {
            pcap_cnt: None,
            root,
            ts: done.ts,
            len: (done.link_header_len + done.datagram.len()) as u32,
            linktype: done.linktype,
            vlans: done.vlans,
            link_header_len: done.link_header_len,
        }
    }

    /// The datagram that the last fragment completed, decoded as Suricata decodes its
    /// reassembled pseudo packet (no `pcap_cnt`; the length is the first fragment's link
    /// header plus the reassembled IP datagram).
    pub fn take_reassembled(&mut self) -> Option<Result<Packet<'_>, Invalid>> {
        let done = self.reassembled.as_ref()?;
        let ctx = Self::reassembled_context(done, self.reassembled_root);
        Some(match ip::decode_ip(&ctx, &done.datagram) {
            ip::IpOutcome::Packet(p) => Ok(p),
            ip::IpOutcome::Invalid(i) => Err(i),
            // `settle` only keeps datagrams that are not fragments.
            ip::IpOutcome::Fragment(_) => Err(Invalid::FragmentOverlapInvalid),
        })
    }

    /// Forgets the reassembled datagram once the caller is done with it.
    pub fn clear_reassembled(&mut self) {
        self.reassembled = None;
    }

    /// Drops fragment trackers older than the defrag timeout at time `now`.
    pub fn expire_fragments(&mut self, now: Timestamp) {
        self.defrag.expire(now);
    }
}

#[cfg(test)]
mod tests;
