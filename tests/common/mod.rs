//! Helpers shared by the end-to-end tests: addresses and generated captures.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

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

/// Runs rulesim quietly on `pcap` with `args` (rule sources, settings), inline timing
/// when `ips`; the run must succeed. Returns its `eve.json`.
pub fn eve_of_run(pcap: &Path, args: &[&OsStr], ips: bool) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesim"));
    cmd.arg("-q")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .arg("-l")
        .arg(dir.path());
    if ips {
        cmd.arg("--simulate-ips");
    }
    let out = cmd.output().expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.path().join("eve.json")).expect("eve.json")
}
