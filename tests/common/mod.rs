//! Helpers shared by the end-to-end tests: addresses and generated captures.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use rulesim::synth::packets::Link;
use rulesim::synth::{PcapWriter, TimedPacket};

pub fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address literal")
}

/// Writes `packets` as an Ethernet pcap.
pub fn write_pcap(path: &Path, packets: &[TimedPacket]) {
    let mut w = PcapWriter::new(Vec::new(), 1).expect("header");
    for p in packets {
        w.packet(p.ts, &Link::ethernet().wrap(&p.ip))
            .expect("packet");
    }
    std::fs::write(path, w.into_inner()).expect("write pcap");
}
