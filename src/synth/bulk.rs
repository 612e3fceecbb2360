//! Large generated captures for benchmarks: many concurrent TCP connections (handshake,
//! request, response in several segments, teardown) interleaved with DNS lookups, written
//! as a stream so that a multi-gigabyte file needs no memory.

use std::io::{self, Write};
use std::net::SocketAddr;

use super::packets::{self, TcpConversation};
use super::write_interleaved;

/// What a bulk capture holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkSummary {
    pub packets: u64,
    /// Bytes of the file.
    pub bytes: u64,
    pub flows: u64,
}

/// Writes an Ethernet pcap of about `target_bytes`, with `concurrent` connections open at
/// any time. Returns what was written.
pub fn write_bulk_capture<W: Write>(
    out: W,
    target_bytes: u64,
    concurrent: usize,
    seed: u64,
) -> io::Result<BulkSummary> {
    let body: Vec<u8> = (0..1460u32).map(|i| b'a' + (i % 26) as u8).collect();
    write_interleaved(
        out,
        target_bytes,
        concurrent,
        seed,
        (50_000, 100_000),
        |rng, n, clock, client, server| {
            if n % 8 == 7 {
                // A DNS lookup and its answer.
                let q = packets::dns_query(n as u16, "www.example.com", 1);
                let a = packets::dns_response_a(n as u16, "www.example.com", [198, 51, 100, 10]);
                let server = SocketAddr::new(server, 53);
                vec![
                    packets::udp(client, server, 64, &q),
                    packets::udp(server, client, 60, &a),
                ]
            } else {
                let mut c = TcpConversation::new(client, SocketAddr::new(server, 443), clock);
                c.handshake()
                    .client_sends(&body[..200 + rng.below(400) as usize]);
                for _ in 0..1 + rng.below(6) {
                    c.server_sends(&body[..600 + rng.below(860) as usize]);
                }
                c.close();
                c.packets.into_iter().map(|p| p.ip).collect()
            }
        },
    )
}
