//! Large generated captures for benchmarks: many concurrent TCP connections (handshake,
//! request, response in several segments, teardown) interleaved with DNS lookups, written
//! as a stream so that a multi-gigabyte file needs no memory.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::capture::PcapWriter;
use super::packets::{self, Link, TcpConversation};
use crate::time::Timestamp;

/// What a bulk capture holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkSummary {
    pub packets: u64,
    /// Bytes of the file.
    pub bytes: u64,
    pub flows: u64,
}

/// A small deterministic generator (xorshift64*), so captures are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Writes an Ethernet pcap of about `target_bytes`, with `concurrent` connections open at
/// any time. Returns what was written.
pub fn write_bulk_capture<W: Write>(
    out: W,
    target_bytes: u64,
    concurrent: usize,
    seed: u64,
) -> io::Result<BulkSummary> {
    let mut w = PcapWriter::new(out, 1)?;
    let mut rng = Rng(seed | 1);
    let link = Link::ethernet();
    let mut summary = BulkSummary {
        bytes: 24,
        ..BulkSummary::default()
    };
    let mut clock = Timestamp::new(1_767_225_600, 0);
    let body: Vec<u8> = (0..1460u32).map(|i| b'a' + (i % 26) as u8).collect();
    // Each slot plays one connection's packets; a finished slot starts a new connection.
    let mut slots: Vec<(Vec<Vec<u8>>, usize)> = Vec::with_capacity(concurrent);
    let mut next_flow: u64 = 0;
    let mut frame = Vec::with_capacity(1600);
    while summary.bytes < target_bytes {
        if slots.len() < concurrent.max(1) {
            slots.push((Vec::new(), 0));
        }
        let i = rng.below(slots.len() as u64) as usize;
        if slots[i].1 >= slots[i].0.len() {
            let n = next_flow;
            next_flow += 1;
            summary.flows += 1;
            let client = IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 | (n as u32 & 0x00ff_ffff)));
            let server = IpAddr::V4(Ipv4Addr::from(0xc633_6400u32 | (rng.below(250) as u32 + 1)));
            let cport = 1024 + (n % 60_000) as u16;
            let packets = if n % 8 == 7 {
                // A DNS lookup and its answer.
                let q = packets::dns_query(n as u16, "www.example.com", 1);
                let a = packets::dns_response_a(n as u16, "www.example.com", [198, 51, 100, 10]);
                vec![
                    packets::udp(
                        SocketAddr::new(client, cport),
                        SocketAddr::new(server, 53),
                        64,
                        &q,
                    ),
                    packets::udp(
                        SocketAddr::new(server, 53),
                        SocketAddr::new(client, cport),
                        60,
                        &a,
                    ),
                ]
            } else {
                let mut c = TcpConversation::new(
                    SocketAddr::new(client, cport),
                    SocketAddr::new(server, 443),
                    clock,
                );
                c.handshake()
                    .client_sends(&body[..200 + rng.below(400) as usize]);
                for _ in 0..1 + rng.below(6) {
                    c.server_sends(&body[..600 + rng.below(860) as usize]);
                }
                c.close();
                c.packets.into_iter().map(|p| p.ip).collect()
            };
            slots[i] = (packets, 0);
        }
        let (packets, pos) = &mut slots[i];
        frame.clear();
        frame.extend_from_slice(&link.wrap(&packets[*pos]));
        *pos += 1;
        clock = Timestamp::new(
            clock.secs(),
            clock.nanos() + 50_000 + rng.below(100_000) as u32,
        );
        w.packet(clock, &frame)?;
        summary.packets += 1;
        summary.bytes += 16 + frame.len() as u64;
    }
    w.into_inner().flush()?;
    Ok(summary)
}
