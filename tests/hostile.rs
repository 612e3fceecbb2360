//! Memory stays bounded on hostile input: a generated capture with a million SYNs from
//! random sources, a million out-of-order one-byte segments in one flow, overlapping
//! fragments that never complete, a TLS handshake message claiming 16 MB and a megabyte
//! HTTP header, streamed through the whole engine with default limits (one and two worker
//! threads) and with a small stream memcap. Peak RSS must stay
//! under the bound the README states, and the stats must show each limit being hit, and
//! the whole run must take bounded time.

use std::process::Command;

/// The documented bound (README, "Limits") for default settings, in KiB.
const PEAK_RSS_BOUND_KIB: u64 = 1024 * 1024;

/// Runs rulesim on the capture with `args`; returns its stats.
fn run(pcap: &std::path::Path, out: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let run = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("-q")
        .arg("-r")
        .arg(pcap)
        .arg("-S")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
        .arg("-l")
        .arg(out)
        .args(args)
        .output()
        .expect("run rulesim");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("stats.json")).expect("stats.json"))
        .expect("stats json")
}

#[test]
fn hostile_capture_stays_within_the_memory_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("hostile.pcap");
    let file = std::fs::File::create(&pcap).expect("create");
    let packets = rulesim::synth::hostile::write_hostile_capture(
        std::io::BufWriter::new(file),
        rulesim::synth::hostile::HostileSizes::default(),
    )
    .expect("write capture");
    assert!(packets > 2_000_000);
    let out = dir.path().join("out");
    // The defaults, one worker and two: under the documented bound, each limit counted.
    for threads in ["1", "2"] {
        let started = std::time::Instant::now();
        let stats = run(&pcap, &out, &["--threads", threads]);
        let rss = stats["memory"]["peak_rss_kib"].as_u64().expect("peak RSS");
        println!(
            "defaults, {threads} thread(s): peak RSS {rss} KiB in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert!(
            rss < PEAK_RSS_BOUND_KIB,
            "peak RSS {rss} KiB over the {PEAK_RSS_BOUND_KIB} KiB bound ({threads} threads)"
        );
        // A debug build on a loaded 2-core machine takes about a minute.
        assert!(started.elapsed() < std::time::Duration::from_secs(600));
        let count = |path: &[&str]| {
            path.iter()
                .fold(&stats, |v, k| &v[*k])
                .as_u64()
                .unwrap_or_else(|| panic!("stats {path:?}: {stats}"))
        };
        // The out-of-order flow holds 65,536 segments; the rest of the million are refused.
        assert!(count(&["stream", "segment_limit_drops"]) >= 1_000_000 - 65_536);
        assert_eq!(count(&["app_limits", "tls", "handshake_too_long"]), 1);
        assert_eq!(count(&["app_limits", "http", "header_block_too_long"]), 1);
    }
    // Without the segment cap, and with a memcap below what the million held segments
    // need, so that the stream memcap is reached.
    let stats = run(
        &pcap,
        &out,
        &[
            "--threads",
            "1",
            "--set",
            "stream.reassembly.memcap=32mb",
            "--set",
            "stream.reassembly.rulesim.max-segments=2000000",
        ],
    );
    let rss = stats["memory"]["peak_rss_kib"].as_u64().expect("peak RSS");
    println!("32 MiB stream memcap: peak RSS {rss} KiB");
    assert!(rss < PEAK_RSS_BOUND_KIB);
    let count = |path: &[&str]| {
        path.iter()
            .fold(&stats, |v, k| &v[*k])
            .as_u64()
            .unwrap_or_else(|| panic!("stats {path:?}: {stats}"))
    };
    // Each limit was reached and counted.
    assert_eq!(count(&["flow", "max_active"]), 500_000, "the flow cap");
    assert!(count(&["flow", "evicted"]) >= 500_000);
    assert!(count(&["stream", "memcap_drops"]) > 0, "the stream memcap");
    assert!(count(&["stream", "max_bytes_held"]) <= 32 << 20);
    assert!(
        count(&["defrag", "max_fragments_held"]) <= 65_535,
        "the fragment cap"
    );
    assert!(
        count(&["defrag", "fragment_limit_hits"]) + count(&["defrag", "tracker_limit_hits"]) > 0
    );
}
