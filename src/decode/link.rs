//! Link layers: Ethernet (with 802.1Q/802.1ad VLAN tags), Linux cooked capture v1 and v2,
//! raw IP, and BSD loopback.

use etherparse::{
    Ethernet2HeaderSlice, LinuxSllHeaderSlice, LinuxSllProtocolType, SingleVlanHeaderSlice,
};

use super::{Invalid, Vlans};

/// Link types rulesim decodes (pcap LINKTYPE_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    Null,
    Ethernet,
    Raw,
    LinuxSll,
    LinuxSll2,
    Ipv4,
    Ipv6,
    Loop,
    Ppp,
    CiscoHdlc,
}

impl LinkType {
    pub fn from_pcap(value: u32) -> Option<LinkType> {
        Some(match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // 101 is LINKTYPE_RAW; some systems wrote DLT_RAW (12 or 14) into files.
            101 | 12 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            9 => LinkType::Ppp,
            104 => LinkType::CiscoHdlc,
            _ => return None,
        })
    }

    /// Name used in stats.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Null => "null",
            LinkType::Ethernet => "ethernet",
            LinkType::Raw => "raw",
            LinkType::LinuxSll => "sll",
            LinkType::LinuxSll2 => "sll2",
            LinkType::Ipv4 => "ipv4",
            LinkType::Ipv6 => "ipv6",
            LinkType::Loop => "loop",
            LinkType::Ppp => "ppp",
            LinkType::CiscoHdlc => "chdlc",
        }
    }
}

pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(super) const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

pub(super) enum Network<'a> {
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    Other(u16),
}

pub(super) struct Link<'a> {
    pub vlans: Vlans,
    pub network: Network<'a>,
}

pub(super) fn decode_link(linktype: u32, data: &[u8]) -> Result<Link<'_>, Invalid> {
    let kind = LinkType::from_pcap(linktype).ok_or(Invalid::UnsupportedLinkType)?;
    let vlans = Vlans::default();
    match kind {
        LinkType::Ethernet => {
            let eth =
                Ethernet2HeaderSlice::from_slice(data).map_err(|_| Invalid::EthernetTooSmall)?;
            let rest = &data[eth.slice().len()..];
            ether_payload(eth.ether_type().0, rest, vlans)
        }
        LinkType::LinuxSll => {
            let sll = LinuxSllHeaderSlice::from_slice(data).map_err(|_| Invalid::SllTooSmall)?;
            let rest = &data[sll.slice().len()..];
            match sll.protocol_type() {
                LinuxSllProtocolType::EtherType(et) => ether_payload(et.0, rest, vlans),
                other => Ok(Link {
                    vlans,
                    network: Network::Other(u16::from(other)),
                }),
            }
        }
        LinkType::LinuxSll2 => {
            // protocol (2), reserved (2), ifindex (4), hatype (2), pkttype (1), addrlen (1), addr (8)
            if data.len() < 20 {
                return Err(Invalid::Sll2TooSmall);
            }
            let proto = u16::from_be_bytes([data[0], data[1]]);
            ether_payload(proto, &data[20..], vlans)
        }
        LinkType::Raw => match data.first().map(|b| b >> 4) {
            Some(4) => Ok(Link {
                vlans,
                network: Network::Ipv4(data),
            }),
            Some(6) => Ok(Link {
                vlans,
                network: Network::Ipv6(data),
            }),
            Some(_) => Err(Invalid::RawUnknownVersion),
            None => Err(Invalid::Ipv4TooSmall),
        },
        LinkType::Ipv4 => Ok(Link {
            vlans,
            network: Network::Ipv4(data),
        }),
        LinkType::Ppp => {
            // Optional address/control bytes (ff 03), then a 1- or 2-byte protocol.
            let rest = if data.starts_with(&[0xff, 0x03]) {
                &data[2..]
            } else {
                data
            };
            let Some(&first) = rest.first() else {
                return Err(Invalid::PppTooSmall);
            };
            let (proto, body) = if first & 1 == 1 {
                (u16::from(first), &rest[1..])
            } else {
                let Some(two) = rest.get(..2) else {
                    return Err(Invalid::PppTooSmall);
                };
                (u16::from_be_bytes([two[0], two[1]]), &rest[2..])
            };
            match proto {
                0x0021 => Ok(Link {
                    vlans,
                    network: Network::Ipv4(body),
                }),
                0x0057 => Ok(Link {
                    vlans,
                    network: Network::Ipv6(body),
                }),
                _ => Err(Invalid::PppUnsupportedProto),
            }
        }
        LinkType::CiscoHdlc => {
            // address, control, then an ethertype
            let Some(h) = data.get(..4) else {
                return Err(Invalid::ChdlcTooSmall);
            };
            ether_payload(u16::from_be_bytes([h[2], h[3]]), &data[4..], vlans)
        }
        LinkType::Ipv6 => Ok(Link {
            vlans,
            network: Network::Ipv6(data),
        }),
        LinkType::Null | LinkType::Loop => {
            let Some(family) = data.get(..4) else {
                return Err(Invalid::NullTooSmall);
            };
            let raw = [family[0], family[1], family[2], family[3]];
            // NULL stores the family in the capturing host's byte order, LOOP in network
            // order; accept either reading as Suricata does.
            let family = if kind == LinkType::Loop {
                u32::from_be_bytes(raw)
            } else {
                let le = u32::from_le_bytes(raw);
                if le > 0xffff {
                    u32::from_be_bytes(raw)
                } else {
                    le
                }
            };
            let rest = &data[4..];
            match family {
                2 => Ok(Link {
                    vlans,
                    network: Network::Ipv4(rest),
                }),
                // AF_INET6 on BSDs (24), FreeBSD (28), macOS (30), Linux (10)
                24 | 28 | 30 | 10 => Ok(Link {
                    vlans,
                    network: Network::Ipv6(rest),
                }),
                _ => Err(Invalid::NullUnknownFamily),
            }
        }
    }
}

/// Walks VLAN tags (up to three tracked, as Suricata) down to the network layer.
fn ether_payload(
    mut ether_type: u16,
    mut rest: &[u8],
    mut vlans: Vlans,
) -> Result<Link<'_>, Invalid> {
    loop {
        match ether_type {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                let tag = SingleVlanHeaderSlice::from_slice(rest)
                    .map_err(|_| Invalid::VlanHeaderTooSmall)?;
                if !vlans.push(tag.vlan_identifier().value()) {
                    return Err(Invalid::VlanTooManyLayers);
                }
                ether_type = tag.ether_type().0;
                rest = &rest[tag.slice().len()..];
            }
            ETHERTYPE_IPV4 => {
                return Ok(Link {
                    vlans,
                    network: Network::Ipv4(rest),
                })
            }
            ETHERTYPE_IPV6 => {
                return Ok(Link {
                    vlans,
                    network: Network::Ipv6(rest),
                })
            }
            other => {
                return Ok(Link {
                    vlans,
                    network: Network::Other(other),
                })
            }
        }
    }
}
