//! A hostile capture, for the memory-bound test: each part aims at one resource an
//! attacker's packets could make grow without limit. Streamed to the writer, so its size
//! costs no memory. Deterministic.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::packets::{self, Link};
use super::{PcapWriter, Rng};
use crate::decode::tcp_flags as f;
use crate::time::Timestamp;

/// How much of each attack the capture holds.
#[derive(Clone, Copy, Debug)]
pub struct HostileSizes {
    /// SYNs from random sources to random ports: one flow each (the flow table).
    pub syn_flood: u32,
    /// One-byte segments of one flow, sent in reverse after a hole, which the last one
    /// fills (reassembly: holding them, then handing them all on).
    pub out_of_order_segments: u32,
    /// Overlapping fragments of IP datagrams that never complete (fragment reassembly).
    pub fragments: u32,
}

impl Default for HostileSizes {
    /// A million each of SYNs and out-of-order segments, 100,000 fragments.
    fn default() -> Self {
        HostileSizes {
            syn_flood: 1_000_000,
            out_of_order_segments: 1_000_000,
            fragments: 100_000,
        }
    }
}

/// Writes the hostile capture (Ethernet pcap): the SYN flood, the out-of-order flow, the
/// fragments, then a TLS handshake message claiming 16 MB and an HTTP request whose
/// header block is a megabyte long, each on a flow of its own. Returns packets written.
pub fn write_hostile_capture<W: Write>(out: W, sizes: HostileSizes) -> io::Result<u64> {
    let mut w = PcapWriter::new(out, 1)?;
    let link = Link::ethernet();
    let mut rng = Rng(0x5eed_0bad_f00d);
    let mut clock = Timestamp::new(1_767_225_600, 0);
    let mut written = 0u64;
    let mut put = |w: &mut PcapWriter<W>, ts: &mut Timestamp, ip: &[u8]| -> io::Result<()> {
        *ts = Timestamp::new(ts.secs(), ts.nanos() + 1_000);
        written += 1;
        w.packet(*ts, &link.wrap(ip))
    };
    let server = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), port);

    for _ in 0..sizes.syn_flood {
        let src = Ipv4Addr::from(0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff));
        let client = SocketAddr::new(IpAddr::V4(src), 1024 + rng.below(60_000) as u16);
        let syn = packets::tcp(
            client,
            server(1 + rng.below(65_535) as u16),
            64,
            7,
            0,
            f::SYN,
            &[],
        );
        put(&mut w, &mut clock, &syn)?;
    }

    // A handshake, then bytes 2.. of the stream one by one, in reverse: byte 1 never
    // comes, so nothing can be handed on and everything is held out of order.
    let client = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)), 40_000);
    let (cseq, sseq) = (1_000u32, 50_000u32);
    let srv = server(80);
    put(
        &mut w,
        &mut clock,
        &packets::tcp(client, srv, 64, cseq, 0, f::SYN, &[]),
    )?;
    let syn_ack = packets::tcp(srv, client, 64, sseq, cseq + 1, f::SYN | f::ACK, &[]);
    put(&mut w, &mut clock, &syn_ack)?;
    put(
        &mut w,
        &mut clock,
        &packets::tcp(client, srv, 64, cseq + 1, sseq + 1, f::ACK, &[]),
    )?;
    for i in (0..sizes.out_of_order_segments).rev() {
        let seq = cseq + 2 + i;
        let seg = packets::tcp(client, srv, 64, seq, sseq + 1, f::ACK, b"x");
        put(&mut w, &mut clock, &seg)?;
    }
    // Then the missing byte, and the server's ACK of everything: the whole run is
    // handed on at once.
    put(
        &mut w,
        &mut clock,
        &packets::tcp(client, srv, 64, cseq + 1, sseq + 1, f::ACK, b"x"),
    )?;
    let all = cseq + 2 + sizes.out_of_order_segments;
    put(
        &mut w,
        &mut clock,
        &packets::tcp(srv, client, 64, sseq + 1, all, f::ACK, &[]),
    )?;

    // Fragments at random offsets of datagrams whose first fragment never comes.
    for i in 0..sizes.fragments {
        let id = (i % 1_000) as u16;
        let offset_units = 1 + rng.below(8_000) as u16;
        let frag = fragment(id, offset_units, &[0x41; 24]);
        put(&mut w, &mut clock, &frag)?;
    }

    // A TLS ClientHello whose handshake header claims 16 MB, then a little of it.
    let client = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 10)), 40_001);
    let mut record = vec![0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff];
    record.resize(5 + 0x4000, 0x42);
    let records: Vec<&[u8]> = vec![&record[..]; 64];
    for p in handshake_then(client, server(443), &records) {
        put(&mut w, &mut clock, &p)?;
    }

    // An HTTP request whose header block never ends: a megabyte of one header.
    let client = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 11)), 40_002);
    let mut head = b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Long: ".to_vec();
    head.resize(1 << 20, b'a');
    let chunks: Vec<&[u8]> = head.chunks(1400).collect();
    for p in handshake_then(client, server(80), &chunks) {
        put(&mut w, &mut clock, &p)?;
    }
    w.into_inner().flush()?;
    Ok(written)
}

/// An IPv4 fragment (more fragments set) at `offset_units` × 8 bytes of datagram `id`.
fn fragment(id: u16, offset_units: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len() as u16;
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 9, 9, 12, 198, 51, 100, 1,
    ];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6..8].copy_from_slice(&(0x2000 | (offset_units & 0x1fff)).to_be_bytes());
    let mut sum = 0u32;
    for pair in ip.chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    ip.extend_from_slice(payload);
    ip
}

/// A TCP handshake, then `segments` from the client, each acknowledged.
fn handshake_then(client: SocketAddr, server: SocketAddr, segments: &[&[u8]]) -> Vec<Vec<u8>> {
    let (mut cseq, sseq) = (1_000u32, 50_000u32);
    let mut out = vec![
        packets::tcp(client, server, 64, cseq, 0, f::SYN, &[]),
        packets::tcp(server, client, 64, sseq, cseq + 1, f::SYN | f::ACK, &[]),
        packets::tcp(client, server, 64, cseq + 1, sseq + 1, f::ACK, &[]),
    ];
    cseq += 1;
    for s in segments {
        out.push(packets::tcp(
            client,
            server,
            64,
            cseq,
            sseq + 1,
            f::ACK | f::PSH,
            s,
        ));
        cseq = cseq.wrapping_add(s.len() as u32);
        out.push(packets::tcp(
            server,
            client,
            64,
            sseq + 1,
            cseq,
            f::ACK,
            &[],
        ));
    }
    out
}
