//! Run statistics: printed at the end and written to `stats.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::decode::DefragStats;
use crate::flow::FlowStats;

/// Counters by decoded layer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DecoderStats {
    pub pkts: u64,
    pub bytes: u64,
    /// Packets per link type name.
    pub linktypes: BTreeMap<String, u64>,
    pub ipv4: u64,
    pub ipv6: u64,
    pub tcp: u64,
    pub udp: u64,
    pub icmpv4: u64,
    pub icmpv6: u64,
    /// Other IP protocols, tracked as opaque flows.
    pub other_ip: u64,
    pub vlan: u64,
    pub vlan_qinq: u64,
    /// Valid frames without IP (ARP, LLDP, ...), by ethertype.
    pub non_ip: BTreeMap<String, u64>,
    /// Reassembled datagrams decoded (pseudo packets, not counted in `pkts`).
    pub reassembled: u64,
    /// Invalid packets by decoder event name.
    pub invalid: BTreeMap<String, u64>,
}

impl DecoderStats {
    pub fn invalid_total(&self) -> u64 {
        self.invalid.values().sum()
    }
}

/// Capture input counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureStats {
    pub files: u64,
    pub files_failed: u64,
    pub truncated_files: u64,
    pub packets_read: u64,
    /// Packets whose timestamp is earlier than the previous packet's.
    pub timestamps_backwards: u64,
    /// The run was interrupted (SIGINT, SIGTERM): where it stopped. Everything before
    /// that packet was evaluated and written; flows still open were not ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
    /// Captures whose reading stopped before their end (unreadable, corrupt or
    /// truncated): where, and why. Everything read before was evaluated and written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stopped_early: Vec<StoppedFile>,
}

/// A capture whose reading stopped on an input error.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoppedFile {
    pub file: String,
    /// The run's last packet read and evaluated before the error (0: none).
    pub after_packet: u64,
    /// The error, with the packet number and byte offset where the file is bad.
    pub error: String,
}

/// Where an interrupted run stopped.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Interruption {
    /// The last packet read and evaluated (0: none).
    pub after_packet: u64,
    pub file: String,
    /// The byte offset in that file where reading stopped.
    pub offset: u64,
}

/// Records written.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OutputStats {
    pub netflow: u64,
    pub alert: u64,
}

/// Everything a run counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunStats {
    pub capture: CaptureStats,
    pub decoder: DecoderStats,
    pub defrag: DefragStats,
    pub flow: FlowStats,
    /// Flows by application protocol (EVE `app_proto`), counted when they end.
    pub app_layer: std::collections::BTreeMap<&'static str, u64>,
    pub detect: DetectStats,
    pub stream: StreamRunStats,
    /// Parser limits reached (README, "Limits").
    pub app_limits: crate::app::AppLimitHits,
    pub output: OutputStats,
    pub memory: MemoryStats,
    /// Rules loaded and refused.
    pub rules: crate::rules::LoadSummary,
    pub elapsed_secs: f64,
}

/// What the rules did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DetectStats {
    /// Alerts written.
    pub alerts: u64,
    /// Packets a drop or reject matched.
    pub drop_packets: u64,
    /// Packets a pass matched.
    pub pass_packets: u64,
    /// Packets of dropped flows (dropped without detection).
    pub flow_drop_packets: u64,
    pub flows_dropped: u64,
    pub flows_passed: u64,
    /// Packets dropped by an exception policy (a mid-stream flow in IPS mode).
    pub exception_drops: u64,
    /// Signatures the prefilter handed on and that were inspected in full (per packet
    /// or transaction, summed).
    pub inspected: u64,
    /// `xbits` not set because `detect.rulesim.xbits-entries` live bits were already kept.
    pub xbits_dropped: u64,
    /// Content inspections ended by `detect.inspection-recursion-limit` (the rule did
    /// not match that buffer, as in Suricata).
    pub recursion_limit_hits: u64,
    /// Alerts let through without a threshold window because
    /// `detect.rulesim.threshold-entries` live windows were already kept.
    pub threshold_untracked: u64,
    /// Matches that wrote no alert because of `noalert` or a threshold (Suricata's
    /// `detect.alerts_suppressed`).
    pub alerts_suppressed: u64,
    /// Alerts not written because their packet already had `packet-alert-max`
    /// (Suricata's `detect.alert_queue_overflow`).
    pub alert_queue_overflow: u64,
    /// How the prefilter groups the rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefilter: Option<crate::detect::prefilter::PrefilterSummary>,
}

/// TCP reassembly counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamRunStats {
    /// Most bytes held by all streams at once (against `stream.reassembly.memcap`).
    pub max_bytes_held: u64,
    /// Holes skipped by the app layer.
    pub gaps: u64,
    /// Raw-stream bytes dropped from full inspection windows.
    pub raw_dropped: u64,
    /// Segments refused because `stream.reassembly.memcap` was reached
    /// (`tcp.segment_memcap_drop`).
    pub memcap_drops: u64,
    /// Segments refused past `stream.reassembly.depth` (`tcp.stream_depth_reached`).
    pub past_depth: u64,
    /// Segments refused because their direction held
    /// `stream.reassembly.rulesim.max-segments` already.
    pub segment_limit_drops: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MemoryStats {
    /// Peak resident set size of the process, in KiB (Linux `VmHWM`), when known.
    pub peak_rss_kib: Option<u64>,
    /// Most flows held at once.
    pub max_flows: u64,
    /// Most IP fragments held at once.
    pub max_fragments: u64,
}

/// Peak RSS of this process in KiB, from /proc (Linux only).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl RunStats {
    /// Adds a worker's counts (flows, app layer, detection, stream, output, and the
    /// decoder's per-protocol counts, which workers make) to the run's. Maxima of
    /// several workers add up to a bound of the run's maximum, not the maximum itself.
    pub fn add_worker(&mut self, w: &RunStats) {
        let d = &mut self.decoder;
        for (mine, theirs) in [
            (&mut d.ipv4, w.decoder.ipv4),
            (&mut d.ipv6, w.decoder.ipv6),
            (&mut d.tcp, w.decoder.tcp),
            (&mut d.udp, w.decoder.udp),
            (&mut d.icmpv4, w.decoder.icmpv4),
            (&mut d.icmpv6, w.decoder.icmpv6),
            (&mut d.other_ip, w.decoder.other_ip),
            (&mut d.vlan, w.decoder.vlan),
            (&mut d.vlan_qinq, w.decoder.vlan_qinq),
        ] {
            *mine += theirs;
        }
        self.flow.add(&w.flow);
        for (name, n) in &w.app_layer {
            *self.app_layer.entry(name).or_insert(0) += n;
        }
        let (t, o) = (&mut self.detect, &w.detect);
        for (mine, theirs) in [
            (&mut t.alerts, o.alerts),
            (&mut t.drop_packets, o.drop_packets),
            (&mut t.pass_packets, o.pass_packets),
            (&mut t.flow_drop_packets, o.flow_drop_packets),
            (&mut t.flows_dropped, o.flows_dropped),
            (&mut t.flows_passed, o.flows_passed),
            (&mut t.exception_drops, o.exception_drops),
            (&mut t.inspected, o.inspected),
            (&mut t.xbits_dropped, o.xbits_dropped),
            (&mut t.threshold_untracked, o.threshold_untracked),
            (&mut t.recursion_limit_hits, o.recursion_limit_hits),
            (&mut t.alerts_suppressed, o.alerts_suppressed),
            (&mut t.alert_queue_overflow, o.alert_queue_overflow),
        ] {
            *mine += theirs;
        }
        if t.prefilter.is_none() {
            t.prefilter = o.prefilter.clone();
        }
        self.stream.max_bytes_held += w.stream.max_bytes_held;
        self.stream.gaps += w.stream.gaps;
        self.stream.raw_dropped += w.stream.raw_dropped;
        self.stream.memcap_drops += w.stream.memcap_drops;
        self.stream.past_depth += w.stream.past_depth;
        self.stream.segment_limit_drops += w.stream.segment_limit_drops;
        self.app_limits.add(&w.app_limits);
        self.output.netflow += w.output.netflow;
        self.output.alert += w.output.alert;
    }

    /// A one-screen summary for the terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let c = &self.capture;
        let d = &self.decoder;
        let f = &self.flow;
        let secs = self.elapsed_secs.max(1e-9);
        let _ = writeln!(
            s,
            "capture   {} file(s), {} packets, {} bytes in {:.2}s ({:.1} MB/s, {:.0} pkt/s)",
            c.files,
            d.pkts,
            d.bytes,
            self.elapsed_secs,
            d.bytes as f64 / secs / 1e6,
            d.pkts as f64 / secs
        );
        if c.files_failed + c.truncated_files + c.timestamps_backwards > 0 {
            let _ = writeln!(
                s,
                "          {} unreadable, {} truncated, {} packets with time going backwards",
                c.files_failed, c.truncated_files, c.timestamps_backwards
            );
        }
        let links: Vec<String> = d
            .linktypes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "link      {}",
            if links.is_empty() {
                "-".into()
            } else {
                links.join(", ")
            }
        );
        let _ = writeln!(
            s,
            "decoded   ipv4 {}, ipv6 {}, tcp {}, udp {}, icmpv4 {}, icmpv6 {}, other ip {}, vlan {}, qinq {}",
            d.ipv4, d.ipv6, d.tcp, d.udp, d.icmpv4, d.icmpv6, d.other_ip, d.vlan, d.vlan_qinq
        );
        if !d.non_ip.is_empty() {
            let v: Vec<String> = d.non_ip.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(s, "non-ip    {}", v.join(", "));
        }
        let _ = writeln!(
            s,
            "fragments ipv4 {} ({} reassembled), ipv6 {} ({} reassembled), {} timed out, {} overlapping",
            self.defrag.ipv4_fragments,
            self.defrag.ipv4_reassembled,
            self.defrag.ipv6_fragments,
            self.defrag.ipv6_reassembled,
            self.defrag.timeouts,
            self.defrag.overlaps
        );
        let _ = writeln!(s, "invalid   {}", d.invalid_total());
        for (reason, n) in &d.invalid {
            let _ = writeln!(s, "            {reason}: {n}");
        }
        let _ = writeln!(
            s,
            "flows     {} created (tcp {}, udp {}, icmp {}, other {}), {} timed out, {} tcp reused, {} evicted, {} active at end",
            f.created, f.tcp, f.udp, f.icmp, f.other, f.timed_out, f.tcp_reused, f.evicted, f.active_at_end
        );
        if !self.app_layer.is_empty() {
            let v: Vec<String> = self
                .app_layer
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(s, "app       {}", v.join(", "));
        }
        if self.rules.sources > 0 {
            let _ = writeln!(
                s,
                "rules     {} loaded, {} failed, from {} source(s)",
                self.rules.loaded, self.rules.failed, self.rules.sources
            );
        }
        if self.rules.loaded > 0 {
            let t = &self.detect;
            let _ = writeln!(
                s,
                "detect    {} alerts, {} packets matched drop/reject, {} matched pass, {} flows dropped, {} passed",
                t.alerts, t.drop_packets, t.pass_packets, t.flows_dropped, t.flows_passed
            );
        }
        let _ = writeln!(
            s,
            "output    {} netflow, {} alert records",
            self.output.netflow, self.output.alert
        );
        let rss = self.memory.peak_rss_kib.map_or("unknown".to_string(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        });
        let _ = writeln!(
            s,
            "memory    peak rss {rss}, at most {} flows and {} fragments held",
            self.memory.max_flows, self.memory.max_fragments
        );
        s
    }
}
