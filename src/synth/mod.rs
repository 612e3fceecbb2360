//! Generated traffic for tests, benchmarks and the bundled sample: packets built with the
//! project's own code so that a reader sees each packet's intent.

pub mod bulk;
pub mod capture;
pub mod hostile;
pub mod mix;
pub mod packets;
pub mod sample;

pub use capture::{ByteOrder, NgInterface, PcapNgWriter, PcapWriter};
pub use packets::{Link, TcpConversation, TimedPacket};

use crate::time;

/// A small deterministic generator (xorshift64*), so generated captures are reproducible.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Writes an Ethernet pcap of about `target_bytes` with `concurrent` connections open at
/// any time, interleaving their packets at random: `new_flow(rng, n, now, client,
/// server_ip)` gives the IP packets of flow `n` (client address and port chosen here,
/// the server one of 250 addresses). `gap_us` is the base and spread of the time between
/// packets. Streams to `out`, so a capture of any size needs no memory.
pub(crate) fn write_interleaved<W: std::io::Write>(
    out: W,
    target_bytes: u64,
    concurrent: usize,
    seed: u64,
    gap_us: (u32, u64),
    mut new_flow: impl FnMut(
        &mut Rng,
        u64,
        time::Timestamp,
        std::net::SocketAddr,
        std::net::IpAddr,
    ) -> Vec<Vec<u8>>,
) -> std::io::Result<bulk::BulkSummary> {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    let mut w = PcapWriter::new(out, 1)?;
    let mut rng = Rng(seed | 1);
    let link = Link::ethernet();
    let mut summary = bulk::BulkSummary {
        bytes: 24,
        ..bulk::BulkSummary::default()
    };
    let mut clock = time::Timestamp::new(1_767_225_600, 0);
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
            let packets = new_flow(&mut rng, n, clock, SocketAddr::new(client, cport), server);
            slots[i] = (packets, 0);
        }
        let (packets, pos) = &mut slots[i];
        frame.clear();
        frame.extend_from_slice(&link.wrap(&packets[*pos]));
        *pos += 1;
        clock = time::Timestamp::new(
            clock.secs(),
            clock.nanos() + gap_us.0 + rng.below(gap_us.1) as u32,
        );
        w.packet(clock, &frame)?;
        summary.packets += 1;
        summary.bytes += 16 + frame.len() as u64;
    }
    w.into_inner().flush()?;
    Ok(summary)
}
