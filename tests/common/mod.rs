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

/// Runs rulesim on `packets` with the rule text `rules` (inline timing when `ips`) and
/// returns its alert records. `RULESIM_KEEP_PCAP=<path>` keeps the capture (and the rules
/// beside it, `<path>.rules`) to replay the same input with Suricata.
pub fn alerts_of_run(packets: &[TimedPacket], rules: &str, ips: bool) -> Vec<serde_json::Value> {
    let args: &[&str] = if ips { &["--simulate-ips"] } else { &[] };
    alerts_and_stats(packets, rules, args).0
}

/// Runs rulesim quietly on `packets` with the rule text `rules` and extra `args`; returns
/// its alert records and `stats.json`. `RULESIM_KEEP_PCAP` keeps the capture as
/// [`alerts_of_run`] does.
pub fn alerts_and_stats(
    packets: &[TimedPacket],
    rules: &str,
    args: &[&str],
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, packets);
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, &keep).expect("keep pcap");
        std::fs::write(format!("{}.rules", keep.to_string_lossy()), rules).expect("keep rules");
    }
    let rules_path = dir.path().join("r.rules");
    std::fs::write(&rules_path, rules).expect("rules");
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("-q")
        .arg("-r")
        .arg(&pcap)
        .arg("-S")
        .arg(&rules_path)
        .arg("-l")
        .arg(&out_dir)
        .args(args)
        .output()
        .expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eve = std::fs::read_to_string(out_dir.join("eve.json")).expect("eve.json");
    let alerts = eve
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|r| r["event_type"] == "alert")
        .collect();
    let stats = serde_json::from_slice(&std::fs::read(out_dir.join("stats.json")).expect("stats"))
        .expect("stats json");
    (alerts, stats)
}
