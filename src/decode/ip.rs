//! IPv4 / IPv6 and the transport header above them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{Ipv4HeaderSlice, Ipv6HeaderSlice, TcpHeaderSlice};

use super::{proto, Invalid, Packet, QuotedTuple, TcpHeader, Transport, Vlans};
use crate::time::Timestamp;

/// Frame-level facts carried into the decoded packet.
pub(super) struct Context {
    pub pcap_cnt: Option<u64>,
    /// For a reassembled datagram: the fragment that completed it.
    pub root: Option<super::FragmentRoot>,
    pub ts: Timestamp,
    pub len: u32,
    pub linktype: u32,
    pub vlans: Vlans,
    pub link_header_len: usize,
}

/// A fragment on its way to reassembly.
pub(super) struct Fragment<'a> {
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 identification or IPv6 fragment identification.
    pub id: u32,
    /// IPv4: the protocol field (part of the datagram key). IPv6: the fragment header's
    /// next header.
    pub proto: u8,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    pub more: bool,
    /// IPv4 header (with options) or IPv6 header plus unfragmentable extension headers.
    pub header: &'a [u8],
    /// For IPv6: position in `header` of the next-header byte that named the fragment
    /// header (patched on reassembly).
    pub next_header_at: usize,
    pub data: &'a [u8],
}

pub(super) enum IpOutcome<'a> {
    Packet(Packet<'a>),
    Fragment(Fragment<'a>),
    Invalid(Invalid),
}

pub(super) fn decode_ip<'a>(ctx: &Context, data: &'a [u8]) -> IpOutcome<'a> {
    match data.first().map(|b| b >> 4) {
        Some(6) => decode_ipv6(ctx, data),
        _ => decode_ipv4(ctx, data),
    }
}

fn decode_ipv4<'a>(ctx: &Context, data: &'a [u8]) -> IpOutcome<'a> {
    use IpOutcome::Invalid as Bad;
    if data.len() < 20 {
        return Bad(Invalid::Ipv4TooSmall);
    }
    if data[0] >> 4 != 4 {
        return Bad(Invalid::Ipv4WrongVersion);
    }
    let hlen = usize::from(data[0] & 0x0f) * 4;
    if hlen < 20 {
        return Bad(Invalid::Ipv4HlenTooSmall);
    }
    let total = usize::from(u16::from_be_bytes([data[2], data[3]]));
    if total < hlen {
        return Bad(Invalid::Ipv4IplenSmallerThanHlen);
    }
    if data.len() < hlen {
        return Bad(Invalid::Ipv4HlenTooSmall);
    }
    if data.len() < total {
        return Bad(Invalid::Ipv4Truncated);
    }
    let Ok(header) = Ipv4HeaderSlice::from_slice(&data[..total]) else {
        return Bad(Invalid::Ipv4HlenTooSmall);
    };
    let src = IpAddr::V4(Ipv4Addr::from(header.source()));
    let dst = IpAddr::V4(Ipv4Addr::from(header.destination()));
    let ip_proto = header.protocol().0;
    // Ethernet padding beyond the IP total length is not payload.
    let payload = &data[hlen..total];
    if header.more_fragments() || header.fragments_offset().value() > 0 {
        return IpOutcome::Fragment(Fragment {
            version: 4,
            src,
            dst,
            id: u32::from(header.identification()),
            proto: ip_proto,
            offset: u32::from(header.fragments_offset().value()) * 8,
            more: header.more_fragments(),
            header: &data[..hlen],
            next_header_at: 9,
            data: payload,
        });
    }
    transport(ctx, src, dst, ip_proto, header.ttl(), payload, false)
}

// IPv6 extension header numbers walked by the decoder.
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const ESP: u8 = 50;
const AUTH: u8 = 51;
const DEST_OPTS: u8 = 60;
const MOBILITY: u8 = 135;

fn decode_ipv6<'a>(ctx: &Context, data: &'a [u8]) -> IpOutcome<'a> {
    use IpOutcome::Invalid as Bad;
    let header = match Ipv6HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(etherparse::err::ipv6::HeaderSliceError::Len(_)) => return Bad(Invalid::Ipv6TooSmall),
        Err(_) => return Bad(Invalid::Ipv6WrongVersion),
    };
    let end = 40 + usize::from(header.payload_length());
    if data.len() < end {
        return Bad(Invalid::Ipv6Truncated);
    }
    let src = IpAddr::V6(Ipv6Addr::from(header.source()));
    let dst = IpAddr::V6(Ipv6Addr::from(header.destination()));
    let ttl = header.hop_limit();
    let datagram = &data[..end];

    // Walk the extension headers to the upper-layer protocol.
    let mut next = header.next_header().0;
    let mut next_at = 6usize;
    let mut pos = 40usize;
    loop {
        match next {
            HOP_BY_HOP | ROUTING | DEST_OPTS | MOBILITY | AUTH => {
                let Some(ext) = datagram.get(pos..pos + 2) else {
                    return Bad(Invalid::Ipv6ExtHeaderTruncated);
                };
                let len = if next == AUTH {
                    (usize::from(ext[1]) + 2) * 4
                } else {
                    (usize::from(ext[1]) + 1) * 8
                };
                if pos + len > datagram.len() {
                    return Bad(Invalid::Ipv6ExtHeaderTruncated);
                }
                next_at = pos;
                next = ext[0];
                pos += len;
            }
            FRAGMENT => {
                let Some(fh) = datagram.get(pos..pos + 8) else {
                    return Bad(Invalid::Ipv6FragmentHeaderTruncated);
                };
                let off_flags = u16::from_be_bytes([fh[2], fh[3]]);
                let offset = u32::from(off_flags >> 3) * 8;
                let more = off_flags & 1 == 1;
                if offset == 0 && !more {
                    // An atomic fragment: the payload is whole, carry on after the header.
                    next_at = pos;
                    next = fh[0];
                    pos += 8;
                    continue;
                }
                return IpOutcome::Fragment(Fragment {
                    version: 6,
                    src,
                    dst,
                    id: u32::from_be_bytes([fh[4], fh[5], fh[6], fh[7]]),
                    proto: fh[0],
                    offset,
                    more,
                    header: &datagram[..pos],
                    next_header_at: next_at,
                    data: &datagram[pos + 8..],
                });
            }
            // ESP hides what follows: the flow is an ESP flow, as in Suricata.
            ESP => break,
            _ => break,
        }
    }
    transport(ctx, src, dst, next, ttl, &datagram[pos..], true)
}

fn transport<'a>(
    ctx: &Context,
    src: IpAddr,
    dst: IpAddr,
    ip_proto: u8,
    ttl: u8,
    payload: &'a [u8],
    v6: bool,
) -> IpOutcome<'a> {
    use IpOutcome::Invalid as Bad;
    let (transport, rest): (Transport, &[u8]) = match ip_proto {
        proto::TCP => {
            if payload.len() < 20 {
                return Bad(Invalid::TcpTooSmall);
            }
            let hlen = usize::from(payload[12] >> 4) * 4;
            if hlen < 20 {
                return Bad(Invalid::TcpHlenTooSmall);
            }
            if payload.len() < hlen {
                return Bad(Invalid::TcpTooSmall);
            }
            let Ok(tcp) = TcpHeaderSlice::from_slice(payload) else {
                return Bad(Invalid::TcpOptionsTruncated);
            };
            let t = TcpHeader {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: payload[13],
                window: tcp.window_size(),
                tfo: payload[13] & super::tcp_flags::SYN != 0 && has_tfo_option(&payload[20..hlen]),
            };
            (Transport::Tcp(t), &payload[hlen..])
        }
        proto::UDP => {
            if payload.len() < 8 {
                return Bad(Invalid::UdpHlenTooSmall);
            }
            let udp_len = usize::from(u16::from_be_bytes([payload[4], payload[5]]));
            if payload.len() < udp_len {
                return Bad(Invalid::UdpTooSmall);
            }
            if udp_len < 8 {
                return Bad(Invalid::UdpLenInvalid);
            }
            let t = Transport::Udp {
                src_port: u16::from_be_bytes([payload[0], payload[1]]),
                dst_port: u16::from_be_bytes([payload[2], payload[3]]),
            };
            (t, &payload[8..udp_len])
        }
        proto::SCTP => {
            if payload.len() < 12 {
                return Bad(Invalid::SctpTooSmall);
            }
            let t = Transport::Sctp {
                src_port: u16::from_be_bytes([payload[0], payload[1]]),
                dst_port: u16::from_be_bytes([payload[2], payload[3]]),
            };
            (t, &payload[12..])
        }
        proto::ESP => {
            if payload.len() < 8 {
                return Bad(Invalid::EspTooSmall);
            }
            (
                Transport::Esp {
                    spi: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]),
                },
                &payload[8..],
            )
        }
        proto::ICMP if !v6 => {
            if payload.len() < 8 {
                return Bad(Invalid::IcmpTooSmall);
            }
            let quoted = if payload[0] == 3 && payload[1] <= 15 {
                quoted_tuple(&payload[8..])
            } else {
                None
            };
            (
                Transport::Icmp {
                    icmp_type: payload[0],
                    icmp_code: payload[1],
                    quoted,
                },
                &payload[8..],
            )
        }
        proto::ICMPV6 if v6 => {
            if payload.len() < 8 {
                return Bad(Invalid::Icmpv6TooSmall);
            }
            (
                Transport::Icmp {
                    icmp_type: payload[0],
                    icmp_code: payload[1],
                    quoted: None,
                },
                &payload[8..],
            )
        }
        _ => (Transport::Other, payload),
    };
    IpOutcome::Packet(Packet {
        pcap_cnt: ctx.pcap_cnt,
        root: ctx.root,
        ts: ctx.ts,
        len: ctx.len,
        linktype: ctx.linktype,
        vlans: ctx.vlans,
        src,
        dst,
        proto: ip_proto,
        ttl,
        transport,
        payload: rest,
    })
}

/// The TCP/UDP tuple quoted in an ICMPv4 destination unreachable, when the quote holds an
/// IPv4 header (taken as 20 bytes, as Suricata does) and a whole TCP (20 bytes) or UDP
/// (8 bytes) header.
fn quoted_tuple(quote: &[u8]) -> Option<QuotedTuple> {
    let ip = quote.get(..20)?;
    if ip[0] >> 4 != 4 {
        return None;
    }
    let proto = ip[9];
    let l4 = &quote[20..];
    let need = match proto {
        proto::TCP => 20,
        proto::UDP => 8,
        _ => return None,
    };
    if l4.len() < need {
        return None;
    }
    Some(QuotedTuple {
        src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        proto,
        src_port: u16::from_be_bytes([l4[0], l4[1]]),
        dst_port: u16::from_be_bytes([l4[2], l4[3]]),
    })
}

/// Whether TCP options carry TCP Fast Open (`DecodeTCPOptions`): kind 34 with a length
/// of 2, or 4 to 18 and even; or kind 253/254, 4 or 12 bytes long, with magic 0xf989.
fn has_tfo_option(mut opts: &[u8]) -> bool {
    while let [kind, rest @ ..] = opts {
        match kind {
            0 => return false,
            1 => opts = rest,
            _ => {
                let Some(&len) = rest.first() else {
                    return false;
                };
                let len = usize::from(len);
                if len < 2 || len > opts.len() {
                    return false;
                }
                let tfo = match kind {
                    34 => len == 2 || ((4..=18).contains(&len) && (len - 2) % 2 == 0),
                    253 | 254 => (len == 4 || len == 12) && opts[2..4] == [0xf9, 0x89],
                    _ => false,
                };
                if tfo {
                    return true;
                }
                opts = &opts[len..];
            }
        }
    }
    false
}
