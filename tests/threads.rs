//! Worker threads: the same input gives byte-identical output files whatever `--threads`
//! is, including what crosses flows (thresholds tracked by source, destination or rule,
//! flow timeouts swept in the middle of the capture, ICMP errors joining the flow they
//! quote, fragments, several capture files read as one stream); and the same for a run
//! split into shards (`--shard I/N`) and put back together by `rulesim merge`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{sa, write_pcap};
use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

/// Rules whose answers depend on order across flows: thresholds by destination, by
/// source and by rule, a detection filter, flowbits, a flow drop and a flow pass.
const RULES: &str = r#"
alert tls any any -> any any (msg:"sni example, 10 a minute"; tls.sni; content:"example"; threshold: type limit, track by_rule, count 10, seconds 60; sid:1;)
alert tls any any -> any any (msg:"www, once per server"; tls.sni; content:"www.example.com"; threshold: type limit, track by_dst, count 1, seconds 600; sid:11;)
alert http any any -> any any (msg:"GET, from the 3rd per server"; http.method; content:"GET"; detection_filter: track by_dst, count 3, seconds 30; sid:2;)
alert http any any -> any any (msg:"curl, every 5th"; http.user_agent; content:"curl"; threshold: type threshold, track by_rule, count 5, seconds 60; sid:3;)
alert dns any any -> any any (msg:"dns report"; dns.query; content:"report"; threshold: type both, track by_src, count 1, seconds 60; sid:4;)
drop http any any -> any any (msg:"firewall pages"; http.uri; content:"/firewall/"; sid:5;)
pass tls any any -> any any (msg:"api passes"; tls.sni; content:"api.example.org"; sid:6;)
alert tcp any any -> any any (msg:"nginx answered"; flow:established,to_client; content:"nginx"; flowbits:set,nginx; sid:7;)
alert tcp any any -> any any (msg:"after nginx"; flow:established,to_server; flowbits:isset,nginx; threshold: type limit, track by_src, count 1, seconds 3600; sid:8;)
alert icmp any any -> any any (msg:"icmp"; sid:9;)
alert udp any any -> any 5000 (msg:"reassembled datagram"; content:"whole"; sid:10;)
"#;

/// A second capture: ICMP errors quoting flows of its own, a fragmented datagram, and
/// a TCP flow still open at the end.
fn odd_packets() -> Vec<TimedPacket> {
    let client = sa("10.9.0.1:40000");
    let server = sa("198.51.100.77:80");
    let start = Timestamp::new(1_767_230_000, 0);
    let mut c = TcpConversation::new(client, server, start);
    c.handshake()
        .client_sends(&packets::http_request("GET", "a.example", "/x", "curl/8"));
    let mut out = c.packets.clone();
    let ts = |s| Timestamp::new(1_767_230_001 + s, 0);
    // A UDP flow, then a port unreachable quoting it (joins that flow).
    let quoted = packets::udp(sa("10.9.0.2:5353"), sa("198.51.100.78:9999"), 64, b"ping");
    out.push(TimedPacket {
        ts: ts(0),
        ip: quoted.clone(),
    });
    let mut body = Vec::new();
    body.extend_from_slice(&quoted[..28]);
    out.push(TimedPacket {
        ts: ts(1),
        ip: packets::icmpv4(
            "198.51.100.78".parse().expect("ip"),
            "10.9.0.2".parse().expect("ip"),
            64,
            3,
            3,
            &body,
        ),
    });
    // A datagram in fragments: its content is only whole after reassembly.
    let datagram = packets::udp(
        sa("10.9.0.3:1234"),
        sa("198.51.100.79:5000"),
        64,
        b"....whole....",
    );
    for (i, f) in packets::fragment_ipv4(&datagram, 16)
        .into_iter()
        .enumerate()
    {
        out.push(TimedPacket {
            ts: ts(2 + i as i64),
            ip: f,
        });
    }
    // Thirty flows starting in the same microsecond (captures with coarse timestamps
    // have such runs), timing out together in one sweep a minute later: they end in the
    // flows' order (by id on a tie), not in the order a table happens to hold them.
    for i in 0..30u16 {
        let client = sa(&format!("10.9.1.{}:{}", i + 1, 2000 + i));
        out.push(TimedPacket {
            ts: ts(20),
            ip: packets::udp(client, sa("198.51.100.80:7000"), 64, b"burst"),
        });
    }
    out.push(TimedPacket {
        ts: ts(120),
        ip: packets::udp(sa("10.9.0.4:1000"), sa("198.51.100.81:7000"), 64, b"late"),
    });
    out
}

const OUTPUTS: [&str; 3] = ["eve.json", "flow.json", "alert.json"];

fn run(dir: &Path, threads: u16, ips: bool) -> Vec<(String, Vec<u8>)> {
    let out = dir.join(format!("out-{threads}-{ips}"));
    succeed(&mut command(dir, threads, ips, &out));
    read_outputs(&out)
}

/// Runs `cmd`, which must succeed.
fn succeed(cmd: &mut Command) {
    let status = cmd.output().expect("run rulesim");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn read_outputs(out: &Path) -> Vec<(String, Vec<u8>)> {
    OUTPUTS
        .iter()
        .map(|name| {
            let bytes = std::fs::read(out.join(name)).expect("output file");
            (name.to_string(), bytes)
        })
        .collect()
}

/// The run of the fixture in `dir`, writing to `out`.
fn command(dir: &Path, threads: u16, ips: bool, out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesim"));
    cmd.arg("-q")
        .arg("-r")
        .arg(dir.join("pcaps"))
        .arg("-S")
        .arg(dir.join("t.rules"))
        .arg("-l")
        .arg(out)
        .arg("--aws-log")
        .arg("fw")
        .arg("--eve-types")
        .arg("alert,netflow,tls,http,dns")
        .arg("--threads")
        .arg(threads.to_string());
    if ips {
        cmd.arg("--simulate-ips");
    }
    cmd
}

fn alerts_by_sid(eve: &[u8]) -> std::collections::BTreeMap<u64, usize> {
    let mut by_sid = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(eve).lines() {
        let r: serde_json::Value = serde_json::from_str(line).expect("json line");
        if r["event_type"] == "alert" {
            *by_sid
                .entry(r["alert"]["signature_id"].as_u64().expect("sid"))
                .or_insert(0) += 1;
        }
    }
    by_sid
}

/// Two captures (about 500 flows over several minutes of capture time, so that flows
/// time out mid-run, then the odd packets) and the rules.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcaps = dir.path().join("pcaps");
    std::fs::create_dir(&pcaps).expect("mkdir");
    let mut mix = Vec::new();
    let summary = rulesim::synth::mix::write_mixed_capture(&mut mix, 12_000_000, 40, 7, &[])
        .expect("mixed capture");
    assert!(summary.flows > 300, "{summary:?}");
    std::fs::write(pcaps.join("1-mix.pcap"), mix).expect("write");
    write_pcap(&pcaps.join("2-odd.pcap"), &odd_packets());
    std::fs::write(dir.path().join("t.rules"), RULES).expect("rules");
    dir
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let dir = fixture();
    for ips in [false, true] {
        let one = run(dir.path(), 1, ips);
        let by_sid = alerts_by_sid(&one[0].1);
        // Every rule that can alert did, so the comparison covers each kind of state.
        for sid in [1, 2, 3, 4, 7, 8, 9, 10, 11] {
            assert!(
                by_sid.contains_key(&sid),
                "ips {ips}: sid {sid} never alerted: {by_sid:?}"
            );
        }
        // The thresholds held alerts back: ten a minute over the capture's five minutes,
        // of more TLS flows than that.
        let tls_flows = String::from_utf8_lossy(&one[0].1)
            .lines()
            .filter(|l| {
                l.contains(r#""event_type":"netflow""#) && l.contains(r#""app_proto":"tls""#)
            })
            .count();
        assert!(
            by_sid[&1] <= 60 && tls_flows > 2 * 60,
            "{by_sid:?}, {tls_flows} TLS netflow records"
        );
        for threads in [2, 3, 4] {
            let many = run(dir.path(), threads, ips);
            for ((name, a), (_, b)) in one.iter().zip(&many) {
                assert!(
                    a == b,
                    "ips {ips}: {name} differs between 1 and {threads} threads ({} vs {} bytes)",
                    a.len(),
                    b.len()
                );
            }
        }
    }
}

fn merge(shard_dirs: &[std::path::PathBuf], out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("merge")
        .args(shard_dirs)
        .arg("-l")
        .arg(out)
        .output()
        .expect("run rulesim merge")
}

fn stats(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("stats.json")).expect("stats.json");
    serde_json::from_str(&text).expect("stats json")
}

#[test]
fn sharded_runs_merge_into_what_one_run_writes() {
    let dir = fixture();
    let d = dir.path();
    for ips in [false, true] {
        let one = run(d, 1, ips);
        let whole = stats(&d.join(format!("out-1-{ips}")));
        for (shards, threads) in [(3u64, 1u16), (2, 2)] {
            let dirs: Vec<_> = (0..shards)
                .map(|i| d.join(format!("shard-{ips}-{shards}-{i}")))
                .collect();
            // Given in reverse: the merge orders shards by their manifests.
            for (i, out) in dirs.iter().enumerate().rev() {
                succeed(
                    command(d, threads, ips, out)
                        .arg("--shard")
                        .arg(format!("{i}/{shards}")),
                );
            }
            // Each shard wrote only its own flows' records.
            let shard_lines: usize = dirs
                .iter()
                .map(|s| {
                    std::fs::read(s.join("eve.json"))
                        .expect("eve")
                        .split(|b| *b == b'\n')
                        .count()
                        - 1
                })
                .sum();
            let merged_dir = d.join(format!("merged-{ips}-{shards}"));
            let m = merge(&dirs, &merged_dir);
            assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
            let merged = read_outputs(&merged_dir);
            for ((name, a), (_, b)) in one.iter().zip(&merged) {
                assert!(
                    a == b,
                    "ips {ips}, {shards} shards: merged {name} differs from one run's ({} vs {} bytes)",
                    a.len(),
                    b.len()
                );
            }
            // Thresholds across shards held some candidate alerts back.
            let eve_lines = one[0].1.split(|b| *b == b'\n').count() - 1;
            assert!(
                shard_lines > eve_lines,
                "{shard_lines} shard lines, {eve_lines} merged"
            );
            let s = stats(&merged_dir);
            for (a, b) in [
                ("decoder", "pkts"),
                ("decoder", "tcp"),
                ("flow", "created"),
                ("flow", "timed_out"),
                ("detect", "alerts"),
                ("detect", "drop_packets"),
                ("output", "netflow"),
                ("output", "alert"),
            ] {
                assert_eq!(
                    s[a][b], whole[a][b],
                    "ips {ips}, {shards} shards: stats {a}.{b}"
                );
            }
            assert_eq!(s["app_layer"], whole["app_layer"]);
        }
    }
}

#[test]
fn merge_refuses_shards_that_do_not_make_one_run() {
    let dir = fixture();
    let d = dir.path();
    let shard = |i: u64, n: u64, extra: &[&str]| {
        let out = d.join(format!("s-{i}-{n}-{}", extra.len()));
        succeed(
            command(d, 1, false, &out)
                .arg("--shard")
                .arg(format!("{i}/{n}"))
                .args(extra),
        );
        out
    };
    let (a, b) = (shard(0, 2, &[]), shard(1, 2, &[]));
    let other = shard(1, 2, &["--home-net", "[10.0.0.0/8]"]);
    let third = shard(2, 3, &[]);
    let out = d.join("merged");
    let fails = |dirs: &[std::path::PathBuf], says: &str| {
        let m = merge(dirs, &out);
        let err = String::from_utf8_lossy(&m.stderr);
        assert_eq!(m.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "expected {says:?} in: {err}");
    };
    fails(std::slice::from_ref(&a), "missing shard(s) 1 of 2");
    fails(&[a.clone(), a.clone()], "shard 0 is given twice");
    fails(&[a.clone(), other], "a different run");
    fails(&[a.clone(), third], "one of 3 shards");
    // A shard whose run did not finish has no manifest.
    let unfinished = d.join("unfinished");
    std::fs::create_dir(&unfinished).expect("mkdir");
    fails(&[a.clone(), unfinished], "did not finish");
    // Output files cut short are found, not merged.
    let eve = b.join("eve.json");
    let text = std::fs::read(&eve).expect("eve");
    std::fs::write(&eve, &text[..text.len() / 2]).expect("cut");
    fails(&[a.clone(), b.clone()], "ends before the record");
    // The merged output may not overwrite a shard.
    let m = merge(std::slice::from_ref(&a), &a);
    assert_eq!(m.status.code(), Some(2));
}

#[test]
fn decision_records_are_the_same_whatever_the_thread_count() {
    let dir = fixture();
    let d = dir.path();
    let explain = |threads: u16| {
        let out = d.join(format!("explain-{threads}"));
        succeed(command(d, threads, false, &out).arg("--explain"));
        std::fs::read(out.join("explain.json")).expect("explain.json")
    };
    let one = explain(1);
    // Thresholds held alerts back: the records say so for some matches.
    let text = String::from_utf8_lossy(&one);
    let held_back = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .flat_map(|r| r["matches"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["alerted"] == false && m["rule"]["action"] == "alert")
        .count();
    assert!(held_back > 0, "no match was held back by a threshold");
    for threads in [2, 3] {
        assert!(
            one == explain(threads),
            "explain.json differs between 1 and {threads} threads"
        );
    }
}

#[test]
fn jobs_answer_the_same_whatever_the_thread_count() {
    let dir = fixture();
    let d = dir.path();
    let job = |args: &[&str], threads: u16| {
        let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
            .args(args)
            .arg("-r")
            .arg(d.join("pcaps"))
            .arg("--threads")
            .arg(threads.to_string())
            .output()
            .expect("run rulesim");
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let rules = d.join("t.rules");
    let rules = rules.to_str().expect("utf-8 path");
    let old = d.join("old.rules");
    std::fs::write(&old, RULES.replace("sid:5;", "sid:5; noalert;")).expect("rules");
    let old = old.to_str().expect("utf-8 path");
    let jobs: [&[&str]; 3] = [
        &["report", "-S", rules, "--format", "json"],
        &["diff", "--old", old, "--new", rules, "--format", "json"],
        &["explain", "-S", rules, "--format", "json"],
    ];
    for args in jobs {
        let one = job(args, 1);
        assert!(
            one.len() > 100,
            "{args:?}: {}",
            String::from_utf8_lossy(&one)
        );
        assert!(
            one == job(args, 3),
            "{args:?}: output differs with 3 threads"
        );
    }
}

#[test]
fn alert_queues_decided_after_thresholds_merge_the_same() {
    // With `packet-alert-max=1`, a packet's thresholded alerts compete for its one place
    // once their thresholds are decided: in the threaded merge, and across shards in
    // `rulesim merge`.
    let dir = fixture();
    let d = dir.path();
    let small = ["--set", "packet-alert-max=1"];
    let one = d.join("small-1");
    succeed(command(d, 1, false, &one).args(small));
    let threads = d.join("small-3");
    succeed(command(d, 3, false, &threads).args(small));
    let shards: Vec<_> = (0..2).map(|i| d.join(format!("small-shard-{i}"))).collect();
    for (i, out) in shards.iter().enumerate() {
        succeed(
            command(d, 2, false, out)
                .args(small)
                .arg("--shard")
                .arg(format!("{i}/2")),
        );
    }
    let merged = d.join("small-merged");
    let m = merge(&shards, &merged);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let overflow = stats(&one)["detect"]["alert_queue_overflow"].as_u64();
    assert!(
        overflow > Some(0),
        "the queue never overflowed: {overflow:?}"
    );
    for other in [&threads, &merged] {
        assert!(
            read_outputs(&one) == read_outputs(other),
            "{} differs from one thread",
            other.display()
        );
        assert_eq!(
            stats(other)["detect"]["alert_queue_overflow"].as_u64(),
            overflow,
            "{}",
            other.display()
        );
    }
}
