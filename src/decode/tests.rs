//! Decoder tests: each packet is built in the test so that its intent is visible.

use std::net::{IpAddr, SocketAddr};

use super::*;
use crate::synth::packets::{self, Link};

fn ts(secs: i64) -> Timestamp {
    Timestamp::new(secs, 0)
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address literal")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address literal")
}

fn syn_v4() -> Vec<u8> {
    packets::tcp(
        sa("10.0.0.1:40000"),
        sa("192.0.2.9:443"),
        61,
        7,
        0,
        tcp_flags::SYN,
        &[],
    )
}

fn decode_one(linktype: u32, frame: &[u8]) -> Decoded<'_> {
    let mut d = Decoder::new(DefragConfig::default());
    // The decoder borrows the frame, not itself, for whole packets.
    match d.decode(linktype, frame, ts(1), 1) {
        Decoded::Packet(p) => Decoded::Packet(p),
        Decoded::Fragment { ip_version } => Decoded::Fragment { ip_version },
        Decoded::NotIp { ether_type } => Decoded::NotIp { ether_type },
        Decoded::Invalid(i) => Decoded::Invalid(i),
    }
}

fn packet(linktype: u32, frame: &[u8]) -> Packet<'_> {
    match decode_one(linktype, frame) {
        Decoded::Packet(p) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

fn invalid(linktype: u32, frame: &[u8]) -> Invalid {
    match decode_one(linktype, frame) {
        Decoded::Invalid(i) => i,
        other => panic!("expected an invalid packet, got {other:?}"),
    }
}

#[test]
fn ethernet_ipv4_tcp_syn() {
    let frame = Link::ethernet().wrap(&syn_v4());
    let p = packet(1, &frame);
    assert_eq!(p.src, ip("10.0.0.1"));
    assert_eq!(p.dst, ip("192.0.2.9"));
    assert_eq!(p.proto, proto::TCP);
    assert_eq!(p.ttl, 61);
    assert_eq!(p.len as usize, frame.len(), "length counts the whole frame");
    assert_eq!(p.len, 54, "a bare SYN in Ethernet is 54 bytes");
    let tcp = p.tcp().expect("tcp");
    assert_eq!((tcp.src_port, tcp.dst_port, tcp.seq), (40000, 443, 7));
    assert_eq!(tcp.flags, tcp_flags::SYN);
    assert!(p.payload.is_empty());
    assert!(p.vlans.is_empty());
}

#[test]
fn every_link_type_reaches_the_same_packet() {
    let ip4 = syn_v4();
    let ip6 = packets::tcp(
        sa("[fd00::1]:40000"),
        sa("[2001:db8::9]:443"),
        64,
        7,
        0,
        tcp_flags::SYN,
        &[],
    );
    for raw in [&ip4, &ip6] {
        for link in [
            Link::ethernet(),
            Link::Sll,
            Link::Sll2,
            Link::Null,
            Link::Raw,
        ] {
            let frame = link.wrap(raw);
            let p = packet(link.linktype(), &frame);
            assert_eq!(p.ports(), (40000, 443), "{link:?}");
            assert_eq!(p.len as usize, frame.len(), "{link:?}");
        }
    }
    // LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) carry the bare packet.
    assert_eq!(packet(228, &ip4).src, ip("10.0.0.1"));
    assert_eq!(packet(229, &ip6).src, ip("fd00::1"));
    // PPP with address/control and protocol 0x0021, Cisco HDLC with an ethertype.
    let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
    ppp.extend_from_slice(&ip4);
    assert_eq!(packet(9, &ppp).ports(), (40000, 443));
    let mut hdlc = vec![0x0f, 0x00, 0x08, 0x00];
    hdlc.extend_from_slice(&ip4);
    assert_eq!(packet(104, &hdlc).ports(), (40000, 443));
    // BSD loopback written in network byte order (LINKTYPE_LOOP).
    let mut lo = 2u32.to_be_bytes().to_vec();
    lo.extend_from_slice(&ip4);
    assert_eq!(packet(108, &lo).ports(), (40000, 443));
}

#[test]
fn vlan_single_qinq_and_three_tags() {
    for vlans in [vec![6], vec![1, 10], vec![1, 10, 100]] {
        let frame = Link::Ethernet {
            vlans: vlans.clone(),
        }
        .wrap(&syn_v4());
        let p = packet(1, &frame);
        assert_eq!(p.vlans.as_slice(), vlans.as_slice());
        assert_eq!(p.len as usize, 54 + 4 * vlans.len());
    }
    let four = Link::Ethernet {
        vlans: vec![1, 2, 3, 4],
    }
    .wrap(&syn_v4());
    assert_eq!(invalid(1, &four), Invalid::VlanTooManyLayers);
    let mut cut = Link::Ethernet { vlans: vec![7] }.wrap(&syn_v4());
    cut.truncate(16);
    assert_eq!(invalid(1, &cut), Invalid::VlanHeaderTooSmall);
}

#[test]
fn non_ip_frames_are_not_invalid() {
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[0, 1, 2, 3, 4, 5, 0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    assert!(matches!(
        decode_one(1, &arp),
        Decoded::NotIp { ether_type: 0x0806 }
    ));
}

#[test]
fn ipv4_with_options() {
    // IHL 6: one 4-byte option word (NOP NOP NOP EOL) before a UDP datagram.
    let udp = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"hello");
    let mut with_opts = udp[..20].to_vec();
    with_opts[0] = 0x46;
    with_opts.extend_from_slice(&[1, 1, 1, 0]);
    with_opts.extend_from_slice(&udp[20..]);
    let total = with_opts.len() as u16;
    with_opts[2..4].copy_from_slice(&total.to_be_bytes());
    let p = packet(101, &with_opts);
    assert_eq!(p.ports(), (5000, 53));
    assert_eq!(p.payload, b"hello");
}

#[test]
fn ipv6_extension_headers_are_walked() {
    // Hop-by-hop (8 bytes) then destination options (8 bytes) before TCP.
    let base = packets::tcp(
        sa("[fd00::1]:1000"),
        sa("[fd00::2]:80"),
        64,
        1,
        0,
        tcp_flags::SYN,
        &[],
    );
    let mut p6 = base[..40].to_vec();
    p6[6] = 0; // next: hop-by-hop
    p6.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // next: dest opts, PadN
    p6.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // next: TCP
    p6.extend_from_slice(&base[40..]);
    let plen = (p6.len() - 40) as u16;
    p6[4..6].copy_from_slice(&plen.to_be_bytes());
    let p = packet(101, &p6);
    assert_eq!(p.proto, proto::TCP);
    assert_eq!(p.ports(), (1000, 80));
    // Cut inside the second extension header.
    let mut cut = p6[..52].to_vec();
    cut[4..6].copy_from_slice(&12u16.to_be_bytes());
    assert_eq!(invalid(101, &cut), Invalid::Ipv6ExtHeaderTruncated);
}

#[test]
fn truncated_and_malformed_headers_are_counted_by_reason() {
    assert_eq!(invalid(1, &[0u8; 10]), Invalid::EthernetTooSmall);
    assert_eq!(invalid(12345, &syn_v4()), Invalid::UnsupportedLinkType);
    let mut short = syn_v4();
    short.truncate(30); // IP says 40 bytes
    assert_eq!(invalid(101, &short), Invalid::Ipv4Truncated);
    let mut bad_ver = syn_v4();
    bad_ver[0] = 0x55;
    assert_eq!(invalid(228, &bad_ver), Invalid::Ipv4WrongVersion);
    let mut small_hlen = syn_v4();
    small_hlen[0] = 0x44;
    assert_eq!(invalid(101, &small_hlen), Invalid::Ipv4HlenTooSmall);
    // IP total length covering only 10 bytes of TCP header.
    let mut tcp_cut = syn_v4();
    tcp_cut.truncate(30);
    tcp_cut[2..4].copy_from_slice(&30u16.to_be_bytes());
    assert_eq!(invalid(101, &tcp_cut), Invalid::TcpTooSmall);
    // UDP length field below the header size.
    let mut udp = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"x");
    udp[24..26].copy_from_slice(&4u16.to_be_bytes());
    assert_eq!(invalid(101, &udp), Invalid::UdpLenInvalid);
    let mut udp_long = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"x");
    udp_long[24..26].copy_from_slice(&100u16.to_be_bytes());
    assert_eq!(invalid(101, &udp_long), Invalid::UdpTooSmall);
    let mut v6 = packets::udp(sa("[fd00::1]:5000"), sa("[fd00::2]:53"), 64, b"abc");
    v6.truncate(45);
    assert_eq!(invalid(229, &v6), Invalid::Ipv6Truncated);
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut frame = Link::ethernet().wrap(&packets::udp(
        sa("10.0.0.1:5000"),
        sa("10.0.0.2:53"),
        64,
        b"hi",
    ));
    frame.resize(60, 0); // padded to the Ethernet minimum
    let p = packet(1, &frame);
    assert_eq!(p.payload, b"hi");
    assert_eq!(p.len, 60, "the counted length is still the captured frame");
}

#[test]
fn icmp_echo_and_quoted_tuple_of_unreachable() {
    let echo = packets::echo(ip("10.0.0.1"), ip("10.0.0.2"), 64, 9, 1, false, b"ping");
    let p = packet(101, &echo);
    assert!(matches!(
        p.transport,
        Transport::Icmp {
            icmp_type: 8,
            icmp_code: 0,
            quoted: None
        }
    ));
    // Port unreachable quoting a UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53.
    let udp = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"q");
    let unreach = packets::icmpv4(ip("10.0.0.2"), ip("10.0.0.1"), 64, 3, 3, &udp[..28]);
    let p = packet(101, &unreach);
    let Transport::Icmp {
        icmp_type: 3,
        icmp_code: 3,
        quoted: Some(q),
    } = p.transport
    else {
        panic!("expected a quoted tuple: {:?}", p.transport);
    };
    assert_eq!(
        (
            IpAddr::V4(q.src),
            q.src_port,
            IpAddr::V4(q.dst),
            q.dst_port,
            q.proto
        ),
        (ip("10.0.0.1"), 5000, ip("10.0.0.2"), 53, proto::UDP)
    );
    // A quote too short for the UDP header gives no tuple.
    let short = packets::icmpv4(ip("10.0.0.2"), ip("10.0.0.1"), 64, 3, 3, &udp[..24]);
    assert!(matches!(
        packet(101, &short).transport,
        Transport::Icmp { quoted: None, .. }
    ));
}

#[test]
fn esp_and_sctp_and_other_protocols() {
    let esp = packets::ipv4_other(
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        64,
        proto::ESP,
        &[0, 0, 0x12, 0x34, 0, 0, 0, 1, 9, 9],
    );
    assert!(matches!(
        packet(101, &esp).transport,
        Transport::Esp { spi: 0x1234 }
    ));
    let mut sctp_hdr = vec![0x13, 0x88, 0x0b, 0xb8];
    sctp_hdr.extend_from_slice(&[0; 8]);
    let sctp = packets::ipv4_other([10, 0, 0, 1], [10, 0, 0, 2], 64, proto::SCTP, &sctp_hdr);
    assert_eq!(packet(101, &sctp).ports(), (5000, 3000));
    let gre = packets::ipv4_other([10, 0, 0, 1], [10, 0, 0, 2], 64, 47, &[0, 0, 0x08, 0x00]);
    let p = packet(101, &gre);
    assert_eq!((p.proto, p.transport), (47, Transport::Other));
}

fn reassemble(d: &mut Decoder, linktype: u32, frames: &[Vec<u8>]) -> Option<(u32, Vec<u8>, u16)> {
    let mut out = None;
    for (i, f) in frames.iter().enumerate() {
        match d.decode(linktype, f, ts(10 + i as i64), i as u64 + 1) {
            Decoded::Fragment { .. } => {}
            other => panic!("fragment {i}: {other:?}"),
        }
        if let Some(done) = d.take_reassembled() {
            let p = done.expect("valid datagram");
            out = Some((p.len, p.payload.to_vec(), p.ports().1));
            assert_eq!(p.pcap_cnt, None, "a reassembled packet is the engine's own");
            assert_eq!(
                p.root.map(|r| r.pcap_cnt.get()),
                Some(i as u64 + 1),
                "its root is the fragment that completed it"
            );
        }
        d.clear_reassembled();
    }
    out
}

#[test]
fn ipv4_fragments_reassemble_in_any_order() {
    let body: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let whole = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:9999"), 64, &body);
    let eth = Link::ethernet();
    let mut frames: Vec<Vec<u8>> = packets::fragment_ipv4(&whole, 400)
        .iter()
        .map(|f| eth.wrap(f))
        .collect();
    assert_eq!(frames.len(), 3);
    frames.reverse();
    let mut d = Decoder::new(DefragConfig::default());
    let (len, payload, dport) = reassemble(&mut d, 1, &frames).expect("reassembled");
    assert_eq!(payload, body);
    assert_eq!(dport, 9999);
    assert_eq!(
        len as usize,
        14 + whole.len(),
        "link header + reassembled datagram"
    );
    assert_eq!(d.defrag_stats().ipv4_fragments, 3);
    assert_eq!(d.defrag_stats().ipv4_reassembled, 1);
    assert_eq!(d.fragments_held(), 0);
}

#[test]
fn ipv6_fragments_reassemble() {
    let body = vec![0x41u8; 1500];
    let whole = packets::udp(sa("[fd00::1]:5000"), sa("[fd00::2]:7000"), 64, &body);
    let frames: Vec<Vec<u8>> = packets::fragment_ipv6(&whole, 600, 0xabcd)
        .iter()
        .map(|f| Link::Raw.wrap(f))
        .collect();
    let mut d = Decoder::new(DefragConfig::default());
    let (len, payload, dport) = reassemble(&mut d, 101, &frames).expect("reassembled");
    assert_eq!((payload.len(), dport), (1500, 7000));
    assert_eq!(len as usize, whole.len(), "the fragment header is removed");
    assert_eq!(d.defrag_stats().ipv6_reassembled, 1);
}

/// Two overlapping fragments of a 24-byte datagram to 10.0.0.2: B [8,24) of 'b' arrives
/// first, then A [0,16) of 'a'.
fn overlapping_pair() -> (Vec<u8>, Vec<u8>) {
    let whole = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:9"), 64, &[0u8; 16]);
    let frags = packets::fragment_ipv4(&whole, 16);
    let mut a = frags[0].clone();
    let mut b = frags[1].clone();
    b.truncate(20);
    b.extend_from_slice(&[b'b'; 16]);
    b[2..4].copy_from_slice(&36u16.to_be_bytes());
    b[6..8].copy_from_slice(&1u16.to_be_bytes());
    b[10..12].copy_from_slice(&[0, 0]);
    a.truncate(28);
    a.extend_from_slice(&[b'a'; 8]);
    (a, b)
}

#[test]
fn overlapping_ipv4_fragments_follow_the_windows_policy_by_default() {
    // The shipped suricata.yaml maps 0.0.0.0/0 to windows: the first fragment to arrive
    // keeps the overlapping bytes.
    let (a, b) = overlapping_pair();
    let mut d = Decoder::new(DefragConfig::default());
    let (_, payload, _) = reassemble(&mut d, 101, &[b, a]).expect("reassembled");
    // UDP payload = datagram bytes 8..24, all from B.
    assert_eq!(payload, vec![b'b'; 16]);
    assert_eq!(d.defrag_stats().overlaps, 1);
}

#[test]
fn overlapping_fragments_under_bsd_let_the_lower_offset_win() {
    let (a, b) = overlapping_pair();
    let config = DefragConfig {
        host_os_policy: Vec::new(),
        ..DefragConfig::default()
    };
    let mut d = Decoder::new(config);
    let (_, payload, _) = reassemble(&mut d, 101, &[b, a]).expect("reassembled");
    assert_eq!(&payload[..8], &[b'a'; 8]);
    assert_eq!(&payload[8..], &[b'b'; 8]);
}

#[test]
fn fragments_time_out_and_oversized_ones_are_refused() {
    let whole = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:9"), 64, &[7u8; 100]);
    let frags = packets::fragment_ipv4(&whole, 48);
    let mut d = Decoder::new(DefragConfig::default());
    assert!(matches!(
        d.decode(101, &frags[0], ts(0), 1),
        Decoded::Fragment { .. }
    ));
    d.expire_fragments(ts(61));
    assert_eq!(d.fragments_held(), 0);
    assert_eq!(d.defrag_stats().timeouts, 1);
    // Offset 65528 with 16 bytes of data passes the 65,535-byte limit.
    let mut huge = frags[1].clone();
    huge[6..8].copy_from_slice(&(65528u16 / 8).to_be_bytes());
    assert!(matches!(
        d.decode(101, &huge, ts(62), 2),
        Decoded::Invalid(Invalid::FragmentTooLarge)
    ));
}

#[test]
fn fragment_tracker_limit_is_counted() {
    let config = DefragConfig {
        max_trackers: 1,
        ..DefragConfig::default()
    };
    let mut d = Decoder::new(config);
    for id in 0..3u16 {
        let mut whole = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:9"), 64, &[1u8; 64]);
        whole[4..6].copy_from_slice(&id.to_be_bytes());
        let first = &packets::fragment_ipv4(&whole, 32)[0];
        d.decode(101, first, ts(0), 1);
    }
    assert_eq!(d.defrag_stats().tracker_limit_hits, 2);
    assert_eq!(d.fragments_held(), 1);
}

#[test]
fn fast_open_options_are_recognised_as_suricata_does() {
    let syn = |options: &[u8], flags: u8| {
        let ip = packets::tcp_with_options(
            sa("10.0.0.1:40000"),
            sa("192.0.2.9:80"),
            64,
            7,
            0,
            flags,
            options,
            b"GET / HTTP/1.1\r\n\r\n",
        );
        let frame = Link::ethernet().wrap(&ip);
        packet(1, &frame).tcp().expect("tcp").tfo
    };
    // Kind 34 with a cookie (even length 4..=18), or a cookie request (length 2).
    assert!(syn(&[34, 10, 1, 2, 3, 4, 5, 6, 7, 8], tcp_flags::SYN));
    assert!(syn(&[1, 1, 34, 2], tcp_flags::SYN));
    // The experimental option with TFO's magic; other magics are not TFO.
    assert!(syn(&[254, 4, 0xf9, 0x89], tcp_flags::SYN));
    assert!(!syn(&[254, 4, 0x12, 0x34], tcp_flags::SYN));
    // An odd cookie length is invalid; MSS alone is not TFO; only SYNs carry it.
    assert!(!syn(&[34, 5, 1, 2, 3], tcp_flags::SYN));
    assert!(!syn(&[2, 4, 5, 180], tcp_flags::SYN));
    assert!(!syn(&[34, 10, 1, 2, 3, 4, 5, 6, 7, 8], tcp_flags::ACK));
}

#[test]
fn a_reassembled_packets_root_has_its_fragments_ip_protocol() {
    // IPv4: the protocol field; IPv6: the Fragment header (44) the fragment's header names.
    let body = vec![7u8; 900];
    let v4 = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:9999"), 64, &body);
    let v6 = packets::udp(
        sa("[2001:db8::1]:5000"),
        sa("[2001:db8::2]:9999"),
        64,
        &body,
    );
    let eth = Link::ethernet();
    for (frags, proto) in [
        (packets::fragment_ipv4(&v4, 400), 17),
        (packets::fragment_ipv6(&v6, 400, 9), 44),
    ] {
        let mut d = Decoder::new(DefragConfig::default());
        let mut root = None;
        for (i, f) in frags.iter().enumerate() {
            d.decode(1, &eth.wrap(f), ts(10 + i as i64), i as u64 + 1);
            if let Some(Ok(p)) = d.take_reassembled() {
                root = p.root.map(|r| {
                    (
                        r.pcap_cnt.get(),
                        crate::decode::FragmentRoot::proto(p.src, p.proto),
                    )
                });
            }
            d.clear_reassembled();
        }
        assert_eq!(root, Some((frags.len() as u64, proto)));
    }
}
