//! The application-layer limits end to end: each is a setting (`--set`, `-c`), reaching
//! it is counted in `stats.json` (`app_limits`), and the run goes on: later flows, and
//! the other direction of the flow that hit it, are still parsed and matched. The same
//! capture with the default limits hits none of them. The body limits and `max-tx` act
//! here as they do in Suricata 7.0.10 on the same flows (the marker past a 1 KiB body
//! limit is not seen; with `max-tx` 2 the fourth unanswered request is not parsed).

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::Value;

mod common;
use common::{alerts_and_stats, sa, write_pcap};

const RULES: &str = "\
alert http any any -> any any (msg:\"marker past 1 KiB of the body\"; flow:to_server; http.request_body; content:\"MARKER\"; sid:1;)
alert http any any -> any any (msg:\"a later request\"; flow:to_server; http.uri; content:\"/after\"; sid:2;)
alert tls any any -> any any (msg:\"the client side of the capped TLS flow\"; tls.sni; content:\"capped.example\"; sid:3;)
alert dns any any -> any any (msg:\"a later query\"; dns.query; content:\"after.example\"; sid:4;)
";

/// Settings that each of the capture's flows goes past, by key.
const SMALL: &[(&str, &str)] = &[
    (
        "app-layer.protocols.http.libhtp.default-config.request-body-limit",
        "1kb",
    ),
    (
        "app-layer.protocols.http.libhtp.default-config.response-body-limit",
        "512",
    ),
    (
        "app-layer.protocols.http.libhtp.default-config.headers-limit",
        "3",
    ),
    ("app-layer.protocols.http.libhtp.default-config.max-tx", "2"),
    ("app-layer.protocols.http.rulesim.header-block-limit", "256"),
    ("app-layer.protocols.tls.rulesim.handshake-limit", "2kb"),
    ("app-layer.protocols.dns.rulesim.max-tx", "2"),
];

fn start(n: i64) -> Timestamp {
    Timestamp::new(1_700_000_000 + n, 0)
}

fn http_flow(n: u16, client_data: &[&[u8]], server_data: &[&[u8]]) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa(&format!("10.0.0.{n}:{}", 40_000 + n)),
        sa("192.0.2.80:80"),
        start(i64::from(n)),
    );
    c.handshake();
    for d in client_data {
        c.client_sends(d);
    }
    for d in server_data {
        c.server_sends(d);
    }
    c.close();
    c.packets
}

fn capture() -> Vec<TimedPacket> {
    let mut packets = Vec::new();
    // 1. A 2,000-byte request body with a marker at 1,500, a 1,000-byte response body.
    let mut post = b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n".to_vec();
    post.extend(std::iter::repeat_n(b'x', 1500));
    post.extend_from_slice(b"MARKER");
    post.extend(std::iter::repeat_n(b'x', 494));
    let body = "y".repeat(1000);
    let resp = packets::http_response(200, "OK", "text/plain", &body);
    packets.extend(http_flow(1, &[&post], &[&resp]));
    // 2. A 300-byte header block.
    let long = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(260)
    );
    packets.extend(http_flow(2, &[long.as_bytes()], &[]));
    // 3. Five header names.
    let many = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n";
    packets.extend(http_flow(3, &[many], &[]));
    // 4. Four requests without answers, pipelined.
    let reqs: Vec<Vec<u8>> = (0..4)
        .map(|i| packets::http_request("GET", "a", &format!("/p{i}"), "ua"))
        .collect();
    let reqs: Vec<&[u8]> = reqs.iter().map(Vec::as_slice).collect();
    packets.extend(http_flow(4, &reqs, &[]));
    // 5. TLS: a 3,000-byte certificate message from the server.
    let mut c = TcpConversation::new(sa("10.0.0.5:40005"), sa("192.0.2.43:443"), start(5));
    let cert = vec![0x30; 3000];
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("capped.example")))
        .server_sends(&packets::tls_server_hello())
        .server_sends(&packets::tls_certificate(&[&cert]))
        .close();
    packets.extend(c.packets);
    // 6. DNS over UDP: four unanswered queries in one flow, then one with a looping name.
    let (client, server) = (sa("10.0.0.6:5353"), sa("192.0.2.53:53"));
    let mut queries: Vec<Vec<u8>> = (0..4)
        .map(|id| packets::dns_query(id, &format!("q{id}.example"), 1))
        .collect();
    let mut looping = packets::dns_query(9, "x.example", 1);
    looping.truncate(12);
    looping.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    queries.push(looping);
    for (i, q) in queries.iter().enumerate() {
        packets.push(TimedPacket {
            ts: Timestamp::new(1_700_000_006, i as u32 * 1000),
            ip: packets::udp(client, server, 64, q),
        });
    }
    // 7. The run goes on: a later HTTP request and DNS query.
    let after = packets::http_request("GET", "a", "/after", "ua");
    packets.extend(http_flow(7, &[&after], &[]));
    packets.push(TimedPacket {
        ts: start(8),
        ip: packets::udp(
            sa("10.0.0.8:5353"),
            server,
            64,
            &packets::dns_query(1, "after.example", 1),
        ),
    });
    packets
}

struct Run {
    stats: Value,
    sids: Vec<u64>,
}

fn run(pcap: &Path, args: &[OsString]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("r.rules");
    std::fs::write(&rules, RULES).expect("rules");
    let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("-q")
        .arg("-r")
        .arg(pcap)
        .arg("-S")
        .arg(&rules)
        .arg("-l")
        .arg(dir.path())
        .args(args)
        .output()
        .expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats =
        serde_json::from_slice(&std::fs::read(dir.path().join("stats.json")).expect("stats"))
            .expect("stats json");
    let eve = std::fs::read_to_string(dir.path().join("eve.json")).expect("eve.json");
    let mut sids: Vec<u64> = eve
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|r| r["event_type"] == "alert")
        .filter_map(|r| r["alert"]["signature_id"].as_u64())
        .collect();
    sids.sort_unstable();
    Run { stats, sids }
}

/// The `app_limits` counters, by protocol and name.
fn hits(stats: &Value) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for proto in ["http", "tls", "dns"] {
        let Some(counters) = stats["app_limits"][proto].as_object() else {
            panic!("stats.json has no app_limits.{proto}: {stats}");
        };
        for (name, n) in counters {
            out.push((format!("{proto}.{name}"), n.as_u64().expect("a count")));
        }
    }
    out
}

fn expected_hits() -> Vec<(String, u64)> {
    [
        ("http.request_body_truncated", 1),
        ("http.response_body_truncated", 1),
        ("http.header_block_too_long", 1),
        ("http.too_many_headers", 1),
        ("http.max_tx_reached", 1),
        ("http.decompression_skipped", 0),
        ("tls.record_too_long", 0),
        ("tls.handshake_too_long", 1),
        ("dns.name_too_long", 0),
        ("dns.pointer_hops_exceeded", 1),
        ("dns.tx_dropped", 2),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect()
}

#[test]
fn each_app_layer_limit_is_a_setting_counted_when_reached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("limits.pcap");
    write_pcap(&pcap, &capture());

    // Default limits: none is reached, the body marker is seen.
    let defaults = run(&pcap, &[]);
    let mut none = expected_hits();
    for (name, n) in &mut none {
        *n = u64::from(name == "dns.pointer_hops_exceeded");
    }
    assert_eq!(hits(&defaults.stats), none);
    assert_eq!(defaults.sids, [1, 2, 3, 4]);

    // Each limit set small with --set: each counted once, the rest of the run unchanged
    // (later flows, and the other direction of the TLS flow, still match).
    let mut args = Vec::new();
    for (key, value) in SMALL {
        args.push(OsString::from("--set"));
        args.push(OsString::from(format!("{key}={value}")));
    }
    let small = run(&pcap, &args);
    assert_eq!(hits(&small.stats), expected_hits());
    assert_eq!(small.sids, [2, 3, 4], "the marker is past the body limit");

    // The same from a suricata.yaml, and with two worker threads (counts are summed).
    let yaml = "%YAML 1.1
---
app-layer:
  protocols:
    tls:
      rulesim:
        handshake-limit: 2kb
    http:
      enabled: yes
      libhtp:
        default-config:
          personality: IDS
          request-body-limit: 1kb
          response-body-limit: 512
          headers-limit: 3
          max-tx: 2
      rulesim:
        header-block-limit: 256
    dns:
      rulesim:
        max-tx: 2
";
    let config = dir.path().join("suricata.yaml");
    std::fs::write(&config, yaml).expect("yaml");
    let from_yaml = run(
        &pcap,
        &[
            "-c".into(),
            config.into_os_string(),
            "--threads".into(),
            "2".into(),
        ],
    );
    assert_eq!(hits(&from_yaml.stats), expected_hits());
    assert_eq!(from_yaml.sids, [2, 3, 4]);
}

/// Two gzip responses open at once: with room for one decompressor, the second body is
/// taken as it is on the wire (counted), and only the first one's marker is seen.
#[test]
fn bodies_decompressed_at_once_are_bounded() {
    let flow = |n: u16, offset_ms: u32, text: &[u8]| {
        let body = packets::gzip(text);
        let (a, b) = body.split_at(body.len() / 2);
        let mut head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        head.extend_from_slice(a);
        let mut c = TcpConversation::new(
            sa(&format!("10.0.1.{n}:{}", 41_000 + n)),
            sa("192.0.2.80:80"),
            Timestamp::new(1_700_000_000, offset_ms * 1_000_000),
        );
        c.handshake()
            .client_sends(&packets::http_request("GET", "a", "/", "ua"))
            .server_sends(&head)
            .server_sends(b)
            .close();
        c.packets
    };
    let mut packets = flow(1, 0, b"first MARKER-ONE body");
    packets.extend(flow(2, 5, b"second MARKER-TWO body"));
    packets.sort_by_key(|p| p.ts);
    let rules = "\
alert http any any -> any any (msg:\"one\"; flow:to_client; file.data; content:\"MARKER-ONE\"; sid:1;)
alert http any any -> any any (msg:\"two\"; flow:to_client; file.data; content:\"MARKER-TWO\"; sid:2;)
";
    let sids = |alerts: &[Value]| {
        let mut s: Vec<u64> = alerts
            .iter()
            .filter_map(|a| a["alert"]["signature_id"].as_u64())
            .collect();
        s.sort_unstable();
        s
    };
    let (alerts, stats) = alerts_and_stats(&packets, rules, &[]);
    assert_eq!(sids(&alerts), [1, 2]);
    assert_eq!(stats["app_limits"]["http"]["decompression_skipped"], 0);
    let (alerts, stats) = alerts_and_stats(
        &packets,
        rules,
        // The bound is per worker thread; on one thread both flows share it.
        &[
            "--threads",
            "1",
            "--set",
            "app-layer.protocols.http.rulesim.decompressors=1",
        ],
    );
    assert_eq!(sids(&alerts), [1]);
    assert_eq!(stats["app_limits"]["http"]["decompression_skipped"], 1);
}

#[test]
fn bad_limit_values_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("empty.pcap");
    write_pcap(&pcap, &[]);
    for setting in [
        "app-layer.protocols.http.libhtp.default-config.request-body-limit=lots",
        "app-layer.protocols.http.libhtp.default-config.max-tx=5gb",
        "app-layer.protocols.http.rulesim.header-block-limit=0",
        "app-layer.protocols.tls.rulesim.handshake-limit=0",
        "app-layer.protocols.dns.rulesim.max-tx=0",
        "stream.reassembly.rulesim.max-segments=0",
        "stream.reassembly.memcap=0",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
            .arg("-q")
            .arg("-r")
            .arg(&pcap)
            .arg("-l")
            .arg(dir.path())
            .arg("--set")
            .arg(setting)
            .output()
            .expect("run rulesim");
        assert!(!out.status.success(), "{setting} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(setting.split('=').next().unwrap_or(setting)),
            "{setting}: {stderr}"
        );
    }
}

/// Two rounds of one UDP packet from each of `sources` hosts of `net` (a /24's first three
/// octets) to one server, a second apart, the payload chosen by round.
fn two_rounds(net: &str, sources: u32, payload: impl Fn(u32) -> &'static [u8]) -> Vec<TimedPacket> {
    let mut packets = Vec::new();
    for round in 0..2u32 {
        for src in 1..=sources {
            packets.push(TimedPacket {
                ts: Timestamp::new(1_700_000_000, round * 1_000_000 + src * 1000),
                ip: packets::udp(
                    sa(&format!("{net}.{src}:1000")),
                    sa("192.0.2.1:2000"),
                    64,
                    payload(round),
                ),
            });
        }
    }
    packets
}

/// The threshold table is bounded by `detect.rulesim.threshold-entries`: alerts whose
/// window finds no room are written untracked (`detect.threshold_untracked`), one thread
/// or two (where the merge decides thresholds).
#[test]
fn a_full_threshold_table_is_counted() {
    // Six sources, two packets each, in the same second.
    let packets = two_rounds("10.1.0", 6, |_| b"x");
    let rules = "alert udp any any -> any any (msg:\"once per source\"; content:\"x\"; threshold:type limit, track by_src, count 1, seconds 60; sid:1;)\n";
    let counts = |args: &[&str]| {
        let (_, stats) = alerts_and_stats(&packets, rules, args);
        (
            stats["detect"]["alerts"].as_u64().expect("alerts"),
            stats["detect"]["threshold_untracked"]
                .as_u64()
                .expect("threshold_untracked"),
        )
    };
    assert_eq!(counts(&["--threads", "1"]), (6, 0));
    for threads in ["1", "2"] {
        // Three sources tracked (one alert each), three untracked (both packets alert).
        assert_eq!(
            counts(&[
                "--threads",
                threads,
                "--set",
                "detect.rulesim.threshold-entries=3"
            ]),
            (9, 6),
            "{threads} thread(s)"
        );
    }
}

/// `detect.inspection-recursion-limit` (Suricata's, 3,000 steps) ends a content
/// inspection that backtracks too long; each one it ends is counted
/// (`detect.recursion_limit_hits`) and the rule does not match that buffer.
#[test]
fn the_inspection_recursion_limit_is_a_setting_and_counted() {
    // 60 `a`, then `ab`: each `a` is tried before the one followed by `b`. And a packet
    // whose chain of relative contents can only fail, after trying every way.
    let mut late = vec![b'a'; 60];
    late.extend_from_slice(b"ab");
    let mut never = b"c".to_vec();
    never.extend(std::iter::repeat_n(b'a', 200));
    let packets: Vec<TimedPacket> = [late, never]
        .iter()
        .enumerate()
        .map(|(i, payload)| TimedPacket {
            ts: Timestamp::new(1_700_000_000, i as u32 * 1000),
            ip: packets::udp(sa("10.0.0.1:1000"), sa("10.0.0.2:2000"), 64, payload),
        })
        .collect();
    // Each `a` may be any of the next five: 5^12 ways to try without the limit.
    let mut chain = String::from("alert udp any any -> any any (msg:\"never\"; content:\"a\"; ");
    for _ in 0..12 {
        chain.push_str("content:\"a\"; distance:0; within:5; ");
    }
    chain.push_str("content:\"c\"; distance:0; within:1; sid:2;)\n");
    let rules = format!("alert udp any any -> any any (msg:\"late\"; content:\"a\"; content:\"b\"; distance:0; within:1; sid:1;)\n{chain}");
    let run = |args: &[&str]| {
        let (_, stats) = alerts_and_stats(&packets, &rules, args);
        (
            stats["detect"]["alerts"].as_u64().expect("alerts"),
            stats["detect"]["recursion_limit_hits"]
                .as_u64()
                .expect("recursion_limit_hits"),
        )
    };
    // Default: `late` matches; the hopeless chain is cut at 3,000 steps on both packets.
    let started = std::time::Instant::now();
    assert_eq!(run(&[]), (1, 2));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // 50 steps are too few for `late` as well, on both packets (the second has 200 `a`
    // to try and no `b`).
    assert_eq!(
        run(&["--set", "detect.inspection-recursion-limit=50"]),
        (0, 4)
    );
}

/// One TCP session written packet by packet: handshake, then `client` segments as
/// (offset from the first data byte, bytes) in the order given, each carrying no new
/// acknowledgement, then one ACK from the server for all of it, and a reset.
fn session_with_client_segments(port: u16, at: i64, client: &[(u32, Vec<u8>)]) -> Vec<TimedPacket> {
    use rulesim::decode::tcp_flags::{ACK, PSH, RST, SYN};
    let (c, s) = (sa(&format!("10.0.1.1:{port}")), sa("192.0.2.80:7000"));
    let (isn, server_isn) = (1_000u32, 90_000u32);
    let mut out = Vec::new();
    let mut push = |from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        out.push(TimedPacket {
            ts: Timestamp::new(1_700_000_000 + at, out.len() as u32 * 1000),
            ip: packets::tcp(src, dst, 64, seq, ack, flags, payload),
        });
    };
    push(true, isn, 0, SYN, &[]);
    push(false, server_isn, isn + 1, SYN | ACK, &[]);
    push(true, isn + 1, server_isn + 1, ACK, &[]);
    let mut end = 0;
    for (offset, bytes) in client {
        push(true, isn + 1 + offset, server_isn + 1, PSH | ACK, bytes);
        end = end.max(offset + bytes.len() as u32);
    }
    push(false, server_isn + 1, isn + 1 + end, ACK, &[]);
    push(false, server_isn + 1, isn + 1 + end, RST | ACK, &[]);
    out
}

/// The TCP reassembly limits end to end, each a setting counted in `stats.json` when
/// reached: bytes reassembled per direction (`stream.reassembly.depth`,
/// `stream.past_depth`), segments held per direction (`stream.reassembly.rulesim.max-segments`,
/// `stream.segment_limit_drops`), bytes held by all streams
/// (`stream.reassembly.memcap`, `stream.memcap_drops`), and the raw-stream bytes waiting
/// for stream rules (64 KiB per direction, `stream.raw_dropped`). The stream rule sees
/// the marker only when every segment before it was held.
#[test]
fn the_tcp_reassembly_limits_are_counted_when_reached() {
    // 1. 100 one-byte segments sent last byte first, the marker `XYZ` at 50..53.
    let mut data = [b'.'; 100];
    data[50..53].copy_from_slice(b"XYZ");
    let backwards: Vec<(u32, Vec<u8>)> = (0..100u32)
        .rev()
        .map(|i| (i, vec![data[i as usize]]))
        .collect();
    let mut capture = session_with_client_segments(40_001, 0, &backwards);
    // 2. 70 segments of 1,000 bytes acknowledged at once: 70,000 bytes reach the
    // stream rules in one go, 4,464 more than the 64 KiB they may wait with.
    let bulk: Vec<(u32, Vec<u8>)> = (0..70u32).map(|i| (i * 1000, vec![b'b'; 1000])).collect();
    capture.extend(session_with_client_segments(40_002, 1, &bulk));
    let rules = "alert tcp any any -> any any (msg:\"marker in the stream\"; flow:to_server,established; content:\"XYZ\"; sid:10;)\n";
    let run = |args: &[&str]| {
        let (alerts, stats) = alerts_and_stats(&capture, rules, args);
        let stream = &stats["stream"];
        let count = |k: &str| stream[k].as_u64().unwrap_or_else(|| panic!("stream.{k}"));
        (
            alerts.len(),
            count("segment_limit_drops"),
            count("memcap_drops"),
            count("raw_dropped"),
            count("past_depth"),
        )
    };
    // Defaults: every segment held, the marker seen; only the raw window is exceeded.
    assert_eq!(run(&["--threads", "1"]), (1, 0, 0, 4_464, 0));
    // Twenty segments a direction. The backwards flow: the last twenty bytes are held,
    // the 80 before them refused (the marker among them, and the first byte: a full
    // direction takes nothing until the reader moves). The bulk flow: 50 of its 70
    // segments refused, so the raw window is no longer exceeded.
    assert_eq!(
        run(&[
            "--threads",
            "1",
            "--set",
            "stream.reassembly.rulesim.max-segments=20"
        ]),
        (0, 80 + 50, 0, 0, 0)
    );
    // A 2,000-byte memcap: thirty one-byte segments (65 bytes each against it) fit.
    let (alerts, limit_drops, memcap_drops, _, _) =
        run(&["--threads", "1", "--set", "stream.reassembly.memcap=2000"]);
    assert_eq!((alerts, limit_drops), (0, 0));
    assert!(memcap_drops >= 70, "{memcap_drops} segments refused");
    // A 50 KiB depth: the bulk flow's segment across 51,200 and the 18 after it are
    // refused (its first 51,000 bytes reach the stream rules, under the raw window).
    assert_eq!(
        run(&["--threads", "1", "--set", "stream.reassembly.depth=50kb"]),
        (1, 0, 0, 0, 19)
    );
}

/// `detect.rulesim.xbits-entries` bounds the xbits held (hosts and address pairs): a bit
/// with no room is not set, counted in `detect.xbits_dropped`, and a later `isset` on it
/// does not match.
#[test]
fn a_full_xbits_table_is_counted() {
    let packets = two_rounds(
        "10.2.0",
        5,
        |round| if round == 0 { b"set" } else { b"chk" },
    );
    let rules = "\
alert udp any any -> any any (msg:\"set\"; content:\"set\"; xbits:set,seen,track ip_src,expire 60; noalert; sid:1;)
alert udp any any -> any any (msg:\"seen before\"; content:\"chk\"; xbits:isset,seen,track ip_src; sid:2;)
";
    let counts = |args: &[&str]| {
        let (alerts, stats) = alerts_and_stats(&packets, rules, args);
        (
            alerts.len(),
            stats["detect"]["xbits_dropped"]
                .as_u64()
                .expect("xbits_dropped"),
        )
    };
    assert_eq!(counts(&[]), (5, 0));
    for threads in ["1", "2"] {
        assert_eq!(
            counts(&[
                "--threads",
                threads,
                "--set",
                "detect.rulesim.xbits-entries=2"
            ]),
            (2, 3),
            "{threads} thread(s)"
        );
    }
}

/// The limits the other tests here leave to unit tests, each reached through the binary:
/// the flow table (`--max-flows`, `flow.evicted`), datagrams and fragments in reassembly
/// (`defrag.trackers`, `defrag.max-frags`), a TLS record over Suricata's bound
/// (`app_limits.tls.record_too_long`), a DNS name over 1,025 bytes
/// (`app_limits.dns.name_too_long`) and the pcre budget (`detect.rulesim.pcre-memcap`: the
/// rules past it are refused, in load order).
#[test]
fn the_remaining_limits_are_reached_through_the_binary() {
    let mut capture = Vec::new();
    let at = |n: u32| Timestamp::new(1_700_000_000, n * 1000);
    // Five UDP flows at once.
    for i in 0..5u32 {
        capture.push(TimedPacket {
            ts: at(i),
            ip: packets::udp(
                sa(&format!("10.3.0.{}:1000", i + 1)),
                sa("192.0.2.9:9000"),
                64,
                b"flow",
            ),
        });
    }
    // Three datagrams that never complete, of four fragments each (the last left out).
    for i in 0..3u32 {
        let whole = packets::udp(
            sa(&format!("10.4.0.{}:1000", i + 1)),
            sa("192.0.2.9:9001"),
            64,
            &[b'f'; 64],
        );
        let mut pieces = packets::fragment_ipv4(&whole, 16);
        pieces.pop();
        for (j, piece) in pieces.into_iter().enumerate() {
            capture.push(TimedPacket {
                ts: at(10 + i * 4 + j as u32),
                ip: piece,
            });
        }
    }
    // A TLS record claiming 65,535 bytes; a DNS query for a 1,088-byte name (17 labels).
    let mut c = TcpConversation::new(sa("10.5.0.1:40000"), sa("192.0.2.43:443"), start(30));
    c.handshake()
        .client_sends(&[0x16, 0x03, 0x01, 0xff, 0xff, 0x01])
        .close();
    capture.extend(c.packets);
    let mut long = packets::dns_query(7, "a", 1);
    long.truncate(12);
    for _ in 0..17 {
        long.push(63);
        long.extend_from_slice(&[b'x'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    // After a query that makes the flow DNS (an invalid first message fails detection).
    let (client, server) = (sa("10.6.0.1:5353"), sa("192.0.2.53:53"));
    for (i, query) in [packets::dns_query(6, "ok.example", 1), long]
        .iter()
        .enumerate()
    {
        capture.push(TimedPacket {
            ts: Timestamp::new(1_700_000_040, i as u32 * 1000),
            ip: packets::udp(client, server, 64, query),
        });
    }
    let rules = "\
alert udp any any -> any 9000 (msg:\"a\"; pcre:\"/fl(o|0)w/\"; sid:1;)
alert udp any any -> any 9000 (msg:\"b\"; pcre:\"/f[a-z]{2,40}w/\"; sid:2;)
";
    let run = |args: &[&str]| {
        let (alerts, stats) = alerts_and_stats(&capture, rules, args);
        let n = |path: &[&str]| {
            path.iter()
                .fold(&stats, |v, k| &v[*k])
                .as_u64()
                .unwrap_or_else(|| panic!("stats {path:?}"))
        };
        (
            alerts.len(),
            n(&["flow", "evicted"]),
            n(&["defrag", "tracker_limit_hits"]),
            n(&["defrag", "fragment_limit_hits"]),
            n(&["app_limits", "tls", "record_too_long"]),
            n(&["app_limits", "dns", "name_too_long"]),
            n(&["rules", "loaded"]),
        )
    };
    // Defaults: no table limit is reached; the two oversized messages are counted.
    assert_eq!(run(&["--threads", "1"]), (10, 0, 0, 0, 1, 1, 2));
    // Two flows, one datagram, two fragments held; a pcre budget for one rule only.
    let (alerts, evicted, trackers, fragments, record, name, loaded) = run(&[
        "--threads",
        "1",
        "--max-flows",
        "2",
        "--set",
        "defrag.trackers=1",
        "--set",
        "defrag.max-frags=2",
        "--set",
        "detect.rulesim.pcre-memcap=8kb",
    ]);
    assert!(evicted >= 3, "{evicted} flows evicted");
    assert!(trackers >= 2, "{trackers} datagrams refused");
    assert!(fragments >= 1, "{fragments} fragments refused");
    assert_eq!((record, name, loaded), (1, 1, 1));
    assert_eq!(alerts, 5, "the rule past the pcre budget is not loaded");
}
