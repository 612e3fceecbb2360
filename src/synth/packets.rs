//! Packet builders for generated captures: IP packets by `etherparse`'s `PacketBuilder`,
//! wrapped in the link layer a test needs, plus TCP conversations and the application
//! messages (TLS ClientHello/ServerHello, HTTP/1.1, DNS) the sample and tests send.

use std::net::{IpAddr, SocketAddr};

use etherparse::PacketBuilder;

use crate::decode::tcp_flags as f;
use crate::time::Timestamp;

/// How to wrap an IP packet for the capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II with these 802.1Q tags, outermost first (0x88a8 for the outer tag of
    /// two or more).
    Ethernet { vlans: Vec<u16> },
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// BSD loopback (`DLT_NULL`), family in little-endian host order.
    Null,
    /// Raw IP (link type 101).
    Raw,
}

impl Link {
    pub fn ethernet() -> Link {
        Link::Ethernet { vlans: Vec::new() }
    }

    /// The pcap link type value.
    pub fn linktype(&self) -> u32 {
        match self {
            Link::Ethernet { .. } => 1,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Null => 0,
            Link::Raw => 101,
        }
    }

    /// Wraps a raw IP packet.
    pub fn wrap(&self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ether_type: u16 = if v6 { 0x86dd } else { 0x0800 };
        let mut out = Vec::with_capacity(ip.len() + 32);
        match self {
            Link::Ethernet { vlans } => {
                out.extend_from_slice(&[0x00, 0x16, 0x3e, 0x00, 0x00, 0x02]);
                out.extend_from_slice(&[0x00, 0x16, 0x3e, 0x00, 0x00, 0x01]);
                for (i, id) in vlans.iter().enumerate() {
                    let tpid: u16 = if i == 0 && vlans.len() > 1 {
                        0x88a8
                    } else {
                        0x8100
                    };
                    out.extend_from_slice(&tpid.to_be_bytes());
                    out.extend_from_slice(&(id & 0x0fff).to_be_bytes());
                }
                out.extend_from_slice(&ether_type.to_be_bytes());
            }
            Link::Sll => {
                out.extend_from_slice(&0u16.to_be_bytes()); // packet to us
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.extend_from_slice(&6u16.to_be_bytes());
                out.extend_from_slice(&[0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0, 0]);
                out.extend_from_slice(&ether_type.to_be_bytes());
            }
            Link::Sll2 => {
                out.extend_from_slice(&ether_type.to_be_bytes());
                out.extend_from_slice(&0u16.to_be_bytes());
                out.extend_from_slice(&2u32.to_be_bytes()); // interface index
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.push(0); // packet to us
                out.push(6);
                out.extend_from_slice(&[0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0, 0]);
            }
            Link::Null => {
                let family: u32 = if v6 { 24 } else { 2 };
                out.extend_from_slice(&family.to_le_bytes());
            }
            Link::Raw => {}
        }
        out.extend_from_slice(ip);
        out
    }
}

fn ip_builder(
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), ttl),
        (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), ttl),
        // Mixed families cannot form a packet: build IPv6 with the v4 addresses mapped.
        (s, d) => PacketBuilder::ipv6(mapped(s), mapped(d), ttl),
    }
}

fn mapped(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// A raw IP packet carrying a TCP segment.
pub fn tcp(
    src: SocketAddr,
    dst: SocketAddr,
    ttl: u8,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    tcp_with_options(src, dst, ttl, seq, ack, flags, &[], payload)
}

/// A raw IP packet carrying a TCP segment with these option bytes (padded with zeros to
/// a multiple of four), e.g. `[34, 10, <8-byte cookie>]` for TCP Fast Open.
#[allow(clippy::too_many_arguments)]
pub fn tcp_with_options(
    src: SocketAddr,
    dst: SocketAddr,
    ttl: u8,
    seq: u32,
    ack: u32,
    flags: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut b = ip_builder(src.ip(), dst.ip(), ttl).tcp(src.port(), dst.port(), seq, 64_240);
    if !options.is_empty() {
        let mut padded = options.to_vec();
        padded.resize(options.len().div_ceil(4) * 4, 0);
        b = b
            .options_raw(&padded)
            .expect("generated TCP options are at most 40 bytes");
    }
    if flags & f::SYN != 0 {
        b = b.syn();
    }
    if flags & f::FIN != 0 {
        b = b.fin();
    }
    if flags & f::RST != 0 {
        b = b.rst();
    }
    if flags & f::PSH != 0 {
        b = b.psh();
    }
    if flags & f::ACK != 0 {
        b = b.ack(ack);
    }
    if flags & f::URG != 0 {
        b = b.urg(0);
    }
    if flags & f::ECE != 0 {
        b = b.ece();
    }
    if flags & f::CWR != 0 {
        b = b.cwr();
    }
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload)
        .expect("a generated TCP segment fits in an IP packet");
    out
}

/// A raw IP packet carrying a UDP datagram.
pub fn udp(src: SocketAddr, dst: SocketAddr, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let b = ip_builder(src.ip(), dst.ip(), ttl).udp(src.port(), dst.port());
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload)
        .expect("a generated UDP datagram fits in an IP packet");
    out
}

/// An ICMP (IPv4) or ICMPv6 (IPv6) echo request or reply.
pub fn echo(
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    id: u16,
    seq: u16,
    reply: bool,
    payload: &[u8],
) -> Vec<u8> {
    let b = ip_builder(src, dst, ttl);
    let mut out = Vec::new();
    let res = match (src.is_ipv4(), reply) {
        (true, false) => b.icmpv4_echo_request(id, seq).write(&mut out, payload),
        (true, true) => b.icmpv4_echo_reply(id, seq).write(&mut out, payload),
        (false, false) => b.icmpv6_echo_request(id, seq).write(&mut out, payload),
        (false, true) => b.icmpv6_echo_reply(id, seq).write(&mut out, payload),
    };
    res.expect("a generated echo fits in an IP packet");
    out
}

/// An ICMPv4 message with any type and code and the given body (after the 4 bytes of
/// type, code and checksum, the next 4 are zero).
pub fn icmpv4(
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    icmp_type: u8,
    icmp_code: u8,
    body: &[u8],
) -> Vec<u8> {
    let b = ip_builder(src, dst, ttl).icmpv4_raw(icmp_type, icmp_code, [0; 4]);
    let mut out = Vec::new();
    b.write(&mut out, body)
        .expect("a generated ICMP message fits in an IP packet");
    out
}

/// A raw IPv4 packet of any protocol with an opaque payload.
pub fn ipv4_other(src: [u8; 4], dst: [u8; 4], ttl: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut header = etherparse::Ipv4Header::new(
        payload.len() as u16,
        ttl,
        etherparse::IpNumber(protocol),
        src,
        dst,
    )
    .expect("payload length fits an IPv4 packet");
    header.header_checksum = header.calc_header_checksum();
    let mut out = Vec::with_capacity(20 + payload.len());
    header.write(&mut out).expect("writing to a Vec");
    out.extend_from_slice(payload);
    out
}

/// Splits a raw IPv4 packet (without options) into fragments of at most `chunk` payload
/// bytes (rounded down to a multiple of 8).
pub fn fragment_ipv4(packet: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let hlen = usize::from(packet[0] & 0x0f) * 4;
    let header = &packet[..hlen];
    let payload = &packet[hlen..];
    let step = (chunk / 8).max(1) * 8;
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < payload.len() {
        let end = (offset + step).min(payload.len());
        let more = end < payload.len();
        let mut frag = header.to_vec();
        frag.extend_from_slice(&payload[offset..end]);
        let total = frag.len() as u16;
        frag[2..4].copy_from_slice(&total.to_be_bytes());
        let flags_off = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
        frag[6..8].copy_from_slice(&flags_off.to_be_bytes());
        frag[10..12].copy_from_slice(&[0, 0]);
        let sum = ipv4_checksum(&frag[..hlen]);
        frag[10..12].copy_from_slice(&sum.to_be_bytes());
        out.push(frag);
        offset = end;
    }
    out
}

/// Splits a raw IPv6 packet (no extension headers) into fragments with a Fragment header.
pub fn fragment_ipv6(packet: &[u8], chunk: usize, id: u32) -> Vec<Vec<u8>> {
    let next = packet[6];
    let payload = &packet[40..];
    let step = (chunk / 8).max(1) * 8;
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < payload.len() {
        let end = (offset + step).min(payload.len());
        let more = end < payload.len();
        let mut frag = packet[..40].to_vec();
        frag[6] = 44;
        let off_flags = ((offset / 8) as u16) << 3 | u16::from(more);
        frag.extend_from_slice(&[next, 0]);
        frag.extend_from_slice(&off_flags.to_be_bytes());
        frag.extend_from_slice(&id.to_be_bytes());
        frag.extend_from_slice(&payload[offset..end]);
        let plen = (frag.len() - 40) as u16;
        frag[4..6].copy_from_slice(&plen.to_be_bytes());
        out.push(frag);
        offset = end;
    }
    out
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in header.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A timed frame of a generated capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedPacket {
    pub ts: Timestamp,
    /// Raw IP packet (wrap it with a [`Link`]).
    pub ip: Vec<u8>,
}

/// A TCP connection played packet by packet with consistent sequence numbers: handshake,
/// data each way (each segment acknowledged by the peer), FIN teardown.
pub struct TcpConversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    client_seq: u32,
    server_seq: u32,
    pub client_ttl: u8,
    pub server_ttl: u8,
    now: Timestamp,
    /// Gap between packets, in microseconds.
    pub step_us: u32,
    pub packets: Vec<TimedPacket>,
}

impl TcpConversation {
    pub fn new(client: SocketAddr, server: SocketAddr, start: Timestamp) -> Self {
        TcpConversation {
            client,
            server,
            client_seq: 1_000,
            server_seq: 50_000,
            client_ttl: 64,
            server_ttl: 128,
            now: start,
            step_us: 10_000,
            packets: Vec::new(),
        }
    }

    fn tick(&mut self) -> Timestamp {
        let ts = self.now;
        let nanos = u64::from(ts.nanos()) + u64::from(self.step_us) * 1000;
        self.now = Timestamp::new(
            ts.secs() + (nanos / 1_000_000_000) as i64,
            (nanos % 1_000_000_000) as u32,
        );
        ts
    }

    fn push(&mut self, from_client: bool, flags: u8, payload: &[u8]) {
        let ts = self.tick();
        let ip = if from_client {
            tcp(
                self.client,
                self.server,
                self.client_ttl,
                self.client_seq,
                self.server_seq,
                flags,
                payload,
            )
        } else {
            tcp(
                self.server,
                self.client,
                self.server_ttl,
                self.server_seq,
                self.client_seq,
                flags,
                payload,
            )
        };
        let consumed = payload.len() as u32 + u32::from(flags & (f::SYN | f::FIN) != 0);
        if from_client {
            self.client_seq = self.client_seq.wrapping_add(consumed);
        } else {
            self.server_seq = self.server_seq.wrapping_add(consumed);
        }
        self.packets.push(TimedPacket { ts, ip });
    }

    /// SYN, SYN/ACK, ACK.
    pub fn handshake(&mut self) -> &mut Self {
        self.push(true, f::SYN, &[]);
        self.push(false, f::SYN | f::ACK, &[]);
        self.push(true, f::ACK, &[]);
        self
    }

    /// The client sends `data` in one segment; the server acknowledges it.
    pub fn client_sends(&mut self, data: &[u8]) -> &mut Self {
        self.push(true, f::PSH | f::ACK, data);
        self.push(false, f::ACK, &[]);
        self
    }

    /// The server sends `data` in one segment; the client acknowledges it.
    pub fn server_sends(&mut self, data: &[u8]) -> &mut Self {
        self.push(false, f::PSH | f::ACK, data);
        self.push(true, f::ACK, &[]);
        self
    }

    /// FIN from the client, FIN/ACK from the server, final ACK.
    pub fn close(&mut self) -> &mut Self {
        self.push(true, f::FIN | f::ACK, &[]);
        self.push(false, f::FIN | f::ACK, &[]);
        self.push(true, f::ACK, &[]);
        self
    }

    /// FIN from the server, the client's ACK, FIN from the client, the server's ACK.
    pub fn close_by_server(&mut self) -> &mut Self {
        self.push(false, f::FIN | f::ACK, &[]);
        self.push(true, f::ACK, &[]);
        self.push(true, f::FIN | f::ACK, &[]);
        self.push(false, f::ACK, &[]);
        self
    }

    /// A RST from the server.
    pub fn reset(&mut self) -> &mut Self {
        self.push(false, f::RST | f::ACK, &[]);
        self
    }

    /// Time of the next packet.
    pub fn now(&self) -> Timestamp {
        self.now
    }
}

/// A TLS 1.2/1.3-style ClientHello record carrying `sni` (when given) and ALPN `h2`,
/// `http/1.1`.
pub fn tls_client_hello(sni: Option<&str>) -> Vec<u8> {
    let mut ext = Vec::new();
    if let Some(name) = sni {
        let name = name.as_bytes();
        let mut list = vec![0u8];
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
        push_ext(&mut ext, 0x0000, &with_len16(&list));
    }
    // supported_groups, ec_point_formats, signature_algorithms, ALPN, supported_versions
    push_ext(&mut ext, 0x000a, &with_len16(&[0x00, 0x1d, 0x00, 0x17]));
    push_ext(&mut ext, 0x000b, &[0x01, 0x00]);
    push_ext(
        &mut ext,
        0x000d,
        &with_len16(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01]),
    );
    let mut alpn = Vec::new();
    for proto in [&b"h2"[..], b"http/1.1"] {
        alpn.push(proto.len() as u8);
        alpn.extend_from_slice(proto);
    }
    push_ext(&mut ext, 0x0010, &with_len16(&alpn));
    push_ext(&mut ext, 0x002b, &[0x04, 0x03, 0x04, 0x03, 0x03]);

    let mut body = vec![0x03, 0x03];
    body.extend((0..32u8).map(|i| i.wrapping_mul(7)));
    body.push(0); // session id
    body.extend_from_slice(&with_len16(&[
        0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x30,
    ]));
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&with_len16(&ext));
    handshake_record(0x01, &body, 0x0301)
}

/// A TLS 1.2 ServerHello record.
pub fn tls_server_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend((0..32u8).map(|i| i.wrapping_mul(13)));
    body.push(0);
    body.extend_from_slice(&[0xc0, 0x2f, 0x00]);
    let mut ext = Vec::new();
    push_ext(&mut ext, 0xff01, &[0x00]);
    body.extend_from_slice(&with_len16(&ext));
    handshake_record(0x02, &body, 0x0303)
}

/// A TLS 1.2 Certificate record carrying `chain` (DER certificates, the server's first).
/// A message longer than one record is fragmented over as many records as it needs.
pub fn tls_certificate(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in chain {
        list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(der);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    let mut hs = vec![0x0b];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut out = Vec::new();
    for part in hs.chunks(1 << 14) {
        out.extend_from_slice(&[0x16, 0x03, 0x03]);
        out.extend_from_slice(&with_len16(part));
    }
    out
}

/// A TLS 1.2 ServerHelloDone record.
pub fn tls_server_hello_done() -> Vec<u8> {
    handshake_record(0x0e, &[], 0x0303)
}

fn with_len16(data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(data);
    v
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&with_len16(data));
}

fn handshake_record(kind: u8, body: &[u8], record_version: u16) -> Vec<u8> {
    let mut hs = vec![kind];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut rec = vec![0x16];
    rec.extend_from_slice(&record_version.to_be_bytes());
    rec.extend_from_slice(&with_len16(&hs));
    rec
}

/// An HTTP/1.1 request.
pub fn http_request(method: &str, host: &str, uri: &str, user_agent: &str) -> Vec<u8> {
    format!("{method} {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\r\n").into_bytes()
}

/// An HTTP/1.1 response with a body.
pub fn http_response(status: u16, reason: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A DNS query for `name`, record type `qtype` (1 = A, 28 = AAAA).
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    push_question(&mut m, name, qtype);
    m
}

/// A DNS response answering `name` with one A record.
pub fn dns_response_a(id: u16, name: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&0x8180u16.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0]);
    push_question(&mut m, name, 1);
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    m.extend_from_slice(&300u32.to_be_bytes());
    m.extend_from_slice(&4u16.to_be_bytes());
    m.extend_from_slice(&addr);
    m
}

fn push_question(m: &mut Vec<u8>, name: &str, qtype: u16) {
    for label in name.trim_end_matches('.').split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
}

/// A body compressed as a server sends `Content-Encoding: gzip` (gzip wrapper).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    compress(
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()),
        data,
    )
}

/// A body compressed with zlib's wrapper (what most servers send as `deflate`).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    compress(
        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default()),
        data,
    )
}

/// A raw deflate stream (`deflate` as RFC 9110 defines it, without a wrapper).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    compress(
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default()),
        data,
    )
}

fn compress<W: std::io::Write + Finish>(mut encoder: W, data: &[u8]) -> Vec<u8> {
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish_vec()
}

/// The encoders' `finish`, returning the compressed bytes.
trait Finish {
    fn finish_vec(self) -> Vec<u8>;
}

impl Finish for flate2::write::GzEncoder<Vec<u8>> {
    fn finish_vec(self) -> Vec<u8> {
        self.finish().unwrap_or_default()
    }
}

impl Finish for flate2::write::ZlibEncoder<Vec<u8>> {
    fn finish_vec(self) -> Vec<u8> {
        self.finish().unwrap_or_default()
    }
}

impl Finish for flate2::write::DeflateEncoder<Vec<u8>> {
    fn finish_vec(self) -> Vec<u8> {
        self.finish().unwrap_or_default()
    }
}
