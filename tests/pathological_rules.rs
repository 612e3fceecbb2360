//! Rule input safety: a generated file of 100,000 pathological rules (long content
//! chains, pcre with large repetition counts, deeply nested address and port groups and
//! variables that double at each level, huge negated lists, very long lines, hundreds of
//! thousands of flowbit names, and rules each refused for a different reason) loads in
//! bounded time and memory, through the binary: a run on a tiny capture (peak RSS as the
//! process measures it, in `stats.json`) and `rulesim lint`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::Value;

mod common;
use common::{sa, write_pcap};

const RULES: u32 = 100_000;
/// Generous bounds for a loaded 2-core machine; the measured figures are in the commit
/// that added this test.
const LOAD_TIME_BOUND: Duration = Duration::from_secs(120);
const PEAK_RSS_BOUND_KIB: u64 = 2 * 1024 * 1024;

/// Depth of the address and port variables that each name the previous one twice: a
/// resolver that expands them instead of remembering them does 2^40 steps.
const VAR_LEVELS: u32 = 40;

/// Rules that fail to load, each for a reason of its own (the sid is appended); Suricata
/// 7.0.10 refuses every one of them too.
const REFUSED: &[&str] = &[
    "alert tcp any any -> any any (msg:\"no sid\";)",
    "alert tcp any any -> any any (sid:0;)",
    "alert tcp any any -> any any (nosuchkeyword; sid:",
    "alert tcp any any -> any any (content:\"unterminated; sid:",
    "alert tcp any any -> any any (content:\"|4G|\"; sid:",
    "alert tcp any any -> any 70000 (sid:",
    "alert tcp 300.1.1.1 any -> any any (sid:",
    "alert tcp any any -> any any (dsize:>x; sid:",
    "alert tcp any any -> any any (pcre:\"/(unclosed/\"; sid:",
    "alert tcp any any -> any any (sid:1; sid:",
    "alert tcp any any -> any any (content:\"a\"; depth:0; sid:",
    "alert tcp any any -> any any (content:\"a\"; within:1; distance:-5; offset:3; sid:",
    "alert tcp any any -> any any (flow:established,not_established; sid:",
    "alert tcp any any -> any any (flowbits:frobnicate,x; sid:",
    "alert tcp any any -> any any (flow:to_server,to_client; sid:",
    "alert tcp any any -> any any (threshold:type limit, track by_src; sid:",
    "alert tcp any any -> any any (http.uri; sid:",
    "alert tcp any any -> any any (content:\"a\"; offset:-1; sid:",
    "alert http any any -> any any (content:\"a\"; http_uri; http_header; sid:",
    "alert tcp $UNDEFINED any -> any any (sid:",
    "alert tcp any $UNDEFINED_PORTS -> any any (sid:",
    "alert tcp !any any -> any any (sid:",
    "alert tcp any ![0:65535] -> any any (sid:",
    "alert tcp [1.2.3.4 ,5.6.7.8] any -> any any (sid:",
    "alert tcp any any <> any any (msg:\"a\"; msg:\"b\"; sid:",
    "alert tcp any any -> any any (priority:x; sid:",
    "alert tcp any any -> any any (dsize:10<>5; sid:",
    "alert tcp any any -> any any (rev:x; sid:",
    "frobnicate tcp any any -> any any (sid:",
    "alert tcp any any any any (sid:",
    "alert tcp any any -> any any (ttl:300; sid:",
    "alert tcp any any -> any any (isdataat:!; sid:",
];

/// The rule numbered `n` (its sid is `n + 1`, unique).
fn rule(n: u32, out: &mut String) {
    let sid = n + 1;
    match n % 12 {
        // A long content chain, each relative to the one before.
        0 => {
            out.push_str("alert tcp any any -> any any (msg:\"chain\"; ");
            for k in 0..60 {
                let _ = write!(out, "content:\"p{n}x{k}\"; ");
                if k > 0 {
                    out.push_str("distance:0; within:4000; ");
                }
                if k % 3 == 0 {
                    out.push_str("nocase; ");
                }
            }
            let _ = write!(out, "sid:{sid};)");
        }
        // pcre with large repetition counts, nested.
        1 => {
            let forms = [
                format!("/(?:a{{1,{}}}){{1,1000}}b/", 1000 + n % 997),
                format!("/x{{{}}}y{{{}}}/", 30_000 + n % 1000, 30_000 + n % 777),
                format!(
                    "/((((a{{1,100}}){{1,100}}){{1,100}}){{1,{}}})/s",
                    10 + n % 90
                ),
                format!(
                    "/[a-z0-9]{{1,{}}}\\d+(?:foo|bar){{200}}/i",
                    60_000 + n % 5000
                ),
            ];
            let _ = write!(
                out,
                "alert tcp any any -> any any (msg:\"pcre\"; content:\"q{n}\"; pcre:\"{}\"; sid:{sid};)",
                forms[(n as usize / 12) % forms.len()]
            );
        }
        // Deeply nested address groups: 63 brackets load, 64 do not (Suricata's recursion
        // limit), nor do 4,000 (as deep as Suricata's longest rule allows).
        2 => {
            let depth = match (n / 12) % 100 {
                0 => 4_000,
                k if k % 2 == 0 => 63,
                _ => 64,
            };
            let nested = format!(
                "{}10.{}.0.0/16{}",
                "[".repeat(depth),
                n % 250,
                "]".repeat(depth)
            );
            let _ = write!(
                out,
                "alert tcp {nested} any -> any any (msg:\"nested\"; sid:{sid};)"
            );
        }
        // Variables that double at each level, in addresses and ports.
        3 => {
            // Levels 30 and under load (Suricata's recursion limit is reached at 32); the
            // resolution must not walk the 2^30 paths to the innermost variable.
            let level = [20, 25, 30, VAR_LEVELS][(n as usize / 12) % 4];
            let _ = write!(
                out,
                "alert tcp $A{level} $P{level} -> [$A{level},!10.9.9.9] [$P{level},!7] (msg:\"vars\"; sid:{sid};)"
            );
        }
        // Huge negated lists.
        4 => {
            out.push_str("alert tcp ![");
            let huge = if (n / 12) % 100 == 0 { 5_000 } else { 100 };
            for k in 0..huge {
                let _ = write!(out, "10.{}.{}.{},", n % 200, k / 250, k % 250);
            }
            out.pop();
            out.push_str("] ![");
            for k in 0..huge {
                let _ = write!(out, "{},", 1 + 2 * k + n % 2);
            }
            out.pop();
            let _ = write!(out, "] -> any any (msg:\"negated\"; sid:{sid};)");
        }
        // Very long lines: one in a thousand is 1 MB, the others 2 KB.
        5 => {
            let len = if (n / 12) % 1000 == 0 {
                1 << 20
            } else {
                2 << 10
            };
            let _ = write!(
                out,
                "alert tcp any any -> any any (msg:\"{}\"; content:\"{}{n}\"; sid:{sid};)",
                "m".repeat(len / 2),
                "c".repeat(len / 2)
            );
        }
        // Many flowbit names: 40 set and 10 tested per rule, most of them new.
        6 => {
            out.push_str("alert tcp any any -> any any (msg:\"bits\"; flowbits:set,");
            let names: Vec<String> = (0..40).map(|k| format!("b{n}_{k}")).collect();
            out.push_str(&names.join("|"));
            out.push_str("; flowbits:isset,");
            let tested: Vec<String> = (0..10).map(|k| format!("b{}_{k}", n / 2)).collect();
            out.push_str(&tested.join("|"));
            let _ = write!(out, "; flowbits:noalert; sid:{sid};)");
        }
        // Refused, each for its own reason.
        7 => {
            let t = REFUSED[(n as usize / 12) % REFUSED.len()];
            out.push_str(t);
            if t.ends_with("sid:") {
                let _ = write!(out, "{sid};)");
            }
        }
        // Many byte and position options.
        8 => {
            let _ = write!(
                out,
                "alert tcp any any -> any any (msg:\"bytes\"; content:\"r{n}\"; "
            );
            for k in 0..30 {
                let _ = write!(
                    out,
                    "byte_test:2,>,{k},{k},relative; isdataat:{k},relative; byte_jump:1,{k},relative; "
                );
            }
            let _ = write!(out, "sid:{sid};)");
        }
        // Deeply nested port groups and negations.
        9 => {
            let depth = match (n / 12) % 100 {
                0 => 4_000,
                k if k % 2 == 0 => 64,
                _ => 65,
            };
            let nested = format!(
                "{}{}{}",
                "[".repeat(depth),
                1 + n % 60_000,
                "]".repeat(depth)
            );
            let bangs = "!".repeat(if (n / 12) % 100 == 1 { 8_000 } else { 3 });
            let _ = write!(
                out,
                "alert tcp {bangs}10.0.0.1 any -> any {nested} (msg:\"ports\"; sid:{sid};)"
            );
        }
        // The sid of an earlier rule again, with the same (default) rev.
        10 => {
            let _ = write!(
                out,
                "alert tcp any any -> any any (msg:\"dup\"; content:\"d{n}\"; sid:{};)",
                sid - 10
            );
        }
        // Plain, to be evaluated.
        _ => {
            let _ = write!(
                out,
                "alert udp any any -> any any (msg:\"plain\"; content:\"hello\"; content:\"w{n}\"; sid:{sid};)"
            );
        }
    }
    out.push('\n');
}

/// The file of [`RULES`] rules.
fn write_rules(path: &Path) -> u64 {
    let mut text = String::new();
    for n in 0..RULES {
        rule(n, &mut text);
    }
    std::fs::write(path, &text).expect("write rules");
    text.len() as u64
}

/// A suricata.yaml whose variables double at each level.
fn write_config(path: &Path) {
    let mut y = String::from("%YAML 1.1\n---\nvars:\n  address-groups:\n    A0: \"10.0.0.0/8\"\n");
    for k in 1..=VAR_LEVELS {
        let _ = writeln!(y, "    A{k}: \"[$A{},$A{},!10.{k}.0.0/16]\"", k - 1, k - 1);
    }
    y.push_str("  port-groups:\n    P0: \"1:1000\"\n");
    for k in 1..=VAR_LEVELS {
        let _ = writeln!(y, "    P{k}: \"[$P{},$P{},!{k}]\"", k - 1, k - 1);
    }
    std::fs::write(path, y).expect("write config");
}

fn tiny_capture(path: &Path) {
    let mut packets = vec![TimedPacket {
        ts: Timestamp::new(1_700_000_000, 0),
        ip: packets::udp(sa("10.0.0.1:1000"), sa("10.0.0.2:2000"), 64, b"hello w11"),
    }];
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40001"),
        sa("10.0.0.6:80"),
        Timestamp::new(1_700_000_001, 0),
    );
    c.handshake()
        .client_sends(&packets::http_request("GET", "a", "/", "ua"))
        .server_sends(&packets::http_response(200, "OK", "text/plain", "x"))
        .close();
    packets.extend(c.packets);
    write_pcap(path, &packets);
}

#[test]
fn a_hundred_thousand_pathological_rules_load_in_bounded_time_and_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("pathological.rules");
    let bytes = write_rules(&rules);
    let config = dir.path().join("suricata.yaml");
    write_config(&config);
    let pcap = dir.path().join("tiny.pcap");
    tiny_capture(&pcap);
    let out = dir.path().join("out");

    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("-q")
        .arg("-r")
        .arg(&pcap)
        .arg("-S")
        .arg(&rules)
        .arg("-c")
        .arg(&config)
        .arg("-l")
        .arg(&out)
        .arg("--threads")
        .arg("1")
        .output()
        .expect("run rulesim");
    let took = started.elapsed();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stats: Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).expect("stats.json"))
            .expect("stats json");
    let rss = stats["memory"]["peak_rss_kib"].as_u64().expect("peak RSS");
    let loaded = stats["rules"]["loaded"].as_u64().expect("loaded");
    let failed = stats["rules"]["failed"].as_u64().expect("failed");
    println!(
        "{RULES} rules, {} MB: loaded {loaded}, failed {failed}, run {took:?}, peak RSS {} MiB",
        bytes >> 20,
        rss >> 10
    );
    assert!(
        took < LOAD_TIME_BOUND,
        "loading took {took:?} (bound {LOAD_TIME_BOUND:?})"
    );
    assert!(
        rss < PEAK_RSS_BOUND_KIB,
        "peak RSS {rss} KiB over the {PEAK_RSS_BOUND_KIB} KiB bound"
    );
    assert_eq!(
        loaded + failed,
        u64::from(RULES),
        "every rule accounted for"
    );
    assert!(
        failed > u64::from(RULES) / 12,
        "the refused rules are refused"
    );
    assert!(loaded > u64::from(RULES) / 2);
    // The run still evaluated its rules: the plain rule of the capture's packet fired.
    let eve = std::fs::read_to_string(out.join("eve.json")).expect("eve.json");
    assert!(eve.contains("\"signature_id\":12,"), "sid 12 fired");

    let started = Instant::now();
    let lint = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("lint")
        .arg("-S")
        .arg(&rules)
        .arg("-c")
        .arg(&config)
        .arg("--format")
        .arg("json")
        .output()
        .expect("run rulesim lint");
    let took = started.elapsed();
    println!("lint {took:?}");
    assert_eq!(
        lint.status.code(),
        Some(1),
        "findings: {}",
        String::from_utf8_lossy(&lint.stderr)
    );
    assert!(took < LOAD_TIME_BOUND, "lint took {took:?}");
}
