//! Detection end to end: the binary on generated captures, held to the behaviours
//! `../shared/spec/suricata-detection.md` records as confirmed on Suricata 7.0.10. Every
//! expectation here was also checked by running Suricata 7.0.10 (`-k none --runmode
//! single`, with and without `--simulate-ips`) on the same capture and rules.

use std::net::SocketAddr;

use std::process::Command;

use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::Value;

mod common;
use common::{alerts_and_stats, alerts_of_run, sa, write_pcap};

/// SYN(1) SYN/ACK(2) ACK(3) ClientHello(4) ACK(5) ServerHello(6) ACK(7) FIN(8..10): the
/// sequence the spec's timing confirmation uses.
fn tls_flow() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40001"),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_000, 0),
    );
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("www.Example.com")))
        .server_sends(&packets::tls_server_hello())
        .close();
    c.packets
}

/// Runs rulesim on `packets` with `rules`; returns its alert records.
fn alerts(packets: &[TimedPacket], rules: &str, ips: bool) -> Vec<Value> {
    alerts_of_run(packets, rules, ips)
}

/// (pcap_cnt, sid) of each alert rulesim writes, sorted.
fn pcap_and_sids(packets: &[TimedPacket], rules: &str, ips: bool) -> Vec<(u64, u64)> {
    let mut got: Vec<(u64, u64)> = alerts(packets, rules, ips)
        .iter()
        .map(|a| {
            (
                a["pcap_cnt"].as_u64().unwrap_or(0),
                a["alert"]["signature_id"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    got.sort_unstable();
    got
}

/// (pcap_cnt, sid, alert.action, verdict.action) of each alert.
fn summary(alerts: &[Value]) -> Vec<AlertLine> {
    alerts
        .iter()
        .map(|a| {
            (
                a["pcap_cnt"].as_u64(),
                a["alert"]["signature_id"].as_u64().expect("sid"),
                a["alert"]["action"].as_str().expect("action").to_string(),
                a["verdict"]["action"]
                    .as_str()
                    .expect("verdict")
                    .to_string(),
            )
        })
        .collect()
}

const SNI_RULES: &str = "\
alert tls any any -> any any (msg:\"sni\"; tls.sni; content:\"www.example.com\"; nocase; sid:1;)
drop tls any any -> any any (msg:\"aws style\"; ssl_state:client_hello; tls.sni; content:\"www.example.com\"; nocase; sid:2;)
";

#[test]
fn ids_inspects_the_client_hello_after_the_server_acked_it() {
    // IDS: the ClientHello is parsed when the server ACKs it (packet 5) and to-server
    // rules run on the client's next packet (7), when the ServerHello has been parsed
    // too: `ssl_state:client_hello` no longer holds.
    let got = summary(&alerts(&tls_flow(), SNI_RULES, false));
    assert_eq!(got, [(Some(7), 1, "allowed".into(), "alert".into())]);
}

#[test]
fn ips_inspects_the_client_hello_on_its_own_packet() {
    // Inline: both rules match packet 4; the drop logs `blocked`, every alert of the
    // packet carries its verdict `drop`.
    let got = summary(&alerts(&tls_flow(), SNI_RULES, true));
    assert_eq!(
        got,
        [
            (Some(4), 2, "blocked".into(), "drop".into()),
            (Some(4), 1, "allowed".into(), "drop".into()),
        ]
    );
}

#[test]
fn an_ip_only_pass_passes_the_whole_flow_from_its_first_packet() {
    let rules = format!("pass tcp any any -> any 443 (sid:22;)\n{SNI_RULES}");
    assert!(alerts(&tls_flow(), &rules, false).is_empty());
    assert!(alerts(&tls_flow(), &rules, true).is_empty());
}

#[test]
fn a_packet_pass_passes_only_the_packets_it_matches() {
    // `flow:to_server` makes the pass a packet rule: the ClientHello packet is passed
    // (the SNI alert never fires) but server packets are still inspected.
    let rules = "\
pass tcp any any -> any 443 (flow:to_server; sid:21;)
alert tls any any -> any any (tls.sni; content:\"www.example.com\"; nocase; sid:1;)
alert tcp any 443 -> any any (flow:established,to_client; sid:23;)
";
    let got = summary(&alerts(&tls_flow(), rules, true));
    assert!(got.iter().all(|(_, sid, ..)| *sid == 23), "{got:?}");
    // Server packets after the handshake: ACK(5), ServerHello(6), FIN/ACK(9).
    let at: Vec<Option<u64>> = got.iter().map(|g| g.0).collect();
    assert_eq!(at, [Some(5), Some(6), Some(9)]);
}

#[test]
fn a_flow_drop_in_ids_mode_ends_detection_on_the_flow() {
    // The drop logs `allowed` (IDS) and nothing fires on the flow afterwards.
    let rules = "\
drop tcp any any -> any 443 (sid:5;)
alert tcp any any -> any any (flow:established; sid:6;)
";
    let got = summary(&alerts(&tls_flow(), rules, false));
    assert_eq!(got, [(Some(1), 5, "allowed".into(), "alert".into())]);
}

#[test]
fn ip_only_rules_fire_once_per_direction() {
    let got = summary(&alerts(
        &tls_flow(),
        "alert tcp any any -> any any (sid:9;)\n",
        false,
    ));
    let at: Vec<Option<u64>> = got.iter().map(|g| g.0).collect();
    assert_eq!(at, [Some(1), Some(2)], "the SYN and the SYN/ACK");
}

#[test]
fn rules_are_ordered_by_action_then_priority_then_sid() {
    // Five alerts on the same packet: priority 2 first, then by sid, whatever the file
    // order (spec §2.2, confirmed on 7.0.10).
    let rules = "\
alert tcp any any -> any any (flow:to_server; dsize:>0; sid:9;)
alert tcp any any -> any any (flow:to_server; dsize:>0; sid:3;)
alert tcp any any -> any any (flow:to_server; dsize:>0; priority:2; sid:7;)
alert tcp any any -> any any (flow:to_server; dsize:>0; sid:1;)
alert tcp any any -> any any (flow:to_server; dsize:>0; sid:5;)
";
    let got = summary(&alerts(&tls_flow(), rules, false));
    let sids: Vec<u64> = got.iter().map(|g| g.1).collect();
    assert_eq!(sids, [7, 1, 3, 5, 9]);
}

#[test]
fn flowbits_set_on_one_packet_are_seen_on_a_later_one() {
    let rules = "\
alert tls any any -> any any (tls.sni; content:\"example\"; nocase; flowbits:set,hello; flowbits:noalert; sid:30;)
alert tcp any 443 -> any any (flow:to_client; flowbits:isset,hello; sid:31;)
";
    let got = summary(&alerts(&tls_flow(), rules, true));
    // Set on the ClientHello (4); the server's ACK (5), ServerHello (6) and FIN (9) see it.
    assert_eq!(
        got.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>(),
        [(Some(5), 31), (Some(6), 31), (Some(9), 31)]
    );
    // IDS: the SNI rule runs on packet 7, so only the server's FIN (9) sees the bit.
    let got = summary(&alerts(&tls_flow(), rules, false));
    assert_eq!(
        got.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>(),
        [(Some(9), 31)]
    );
}

/// A TLS flow from 10.0.0.5 with this SNI, inline: handshake (1-3), ClientHello (4), ...
fn tls_flow_to(sni: &str, port: u16) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        SocketAddr::new("10.0.0.5".parse().expect("ip"), port),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_000 + i64::from(port), 0),
    );
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some(sni)))
        .server_sends(&packets::tls_server_hello())
        .close();
    c.packets
}

/// (pcap_cnt, sid, alert.action, signature) of each alert.
type AlertLine = (Option<u64>, u64, String, String);

/// Runs a strict-order policy of one rule group (`rules`) with `defaults` inline; returns
/// (pcap_cnt, sid, alert.action, signature) per alert and the run's drop counters.
fn strict_run(packets: &[TimedPacket], rules: &str, defaults: &[&str]) -> (Vec<AlertLine>, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, packets);
    let group = dir.path().join("group.json");
    let g = serde_json::json!({
        "RuleGroup": {"RulesSource": {"RulesString": rules}, "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}},
        "RuleGroupResponse": {"RuleGroupName": "g", "RuleGroupArn": "arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/g"}
    });
    std::fs::write(&group, g.to_string()).expect("write");
    let policy = dir.path().join("policy.json");
    let p = serde_json::json!({"FirewallPolicy": {
        "StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences": [
            {"ResourceArn": "arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/g", "Priority": 1}],
        "StatefulDefaultActions": defaults,
        "StatefulEngineOptions": {"RuleOrder": "STRICT_ORDER"},
        "PolicyVariables": {"RuleVariables": {"HOME_NET": {"Definition": ["10.0.0.0/16"]}}}}});
    std::fs::write(&policy, p.to_string()).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("-r")
        .arg(&pcap)
        .arg("--policy")
        .arg(&policy)
        .arg("--rule-group")
        .arg(&group)
        .arg("-l")
        .arg(dir.path())
        .arg("-q")
        .arg("--simulate-ips")
        .output()
        .expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("eve.json")).expect("eve");
    let alerts = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|r| r["event_type"] == "alert")
        .map(|a| {
            (
                a["pcap_cnt"].as_u64(),
                a["alert"]["signature_id"].as_u64().expect("sid"),
                a["alert"]["action"].as_str().expect("action").to_string(),
                a["alert"]["signature"].as_str().expect("msg").to_string(),
            )
        })
        .collect();
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stats.json")).expect("stats"),
    )
    .expect("json");
    (alerts, stats["detect"].clone())
}

const ALLOW_GOOD: &str = "pass tls $HOME_NET any -> any any (tls.sni; content:\"good.example\"; nocase; endswith; flow:to_server; sid:1;)";

#[test]
fn strict_order_drop_established_lets_the_handshake_through_then_drops_what_no_rule_passed() {
    let defaults = ["aws:drop_established", "aws:alert_established"];
    // An allowed SNI: the ClientHello (the first established packet) is passed with the
    // flow; nothing is dropped or logged.
    let (alerts, detect) = strict_run(
        &tls_flow_to("www.good.example", 40001),
        ALLOW_GOOD,
        &defaults,
    );
    assert!(alerts.is_empty(), "{alerts:?}");
    assert_eq!(detect["drop_packets"], 0);
    // Another SNI: SYN, SYN/ACK and ACK pass; every established packet is dropped and
    // logged as AWS logs it (sid 4, "aws:alert_established action", blocked).
    let (alerts, detect) = strict_run(
        &tls_flow_to("www.other.example", 40002),
        ALLOW_GOOD,
        &defaults,
    );
    assert_eq!(alerts.len(), 7, "{alerts:?}");
    assert_eq!(
        alerts[0],
        (
            Some(4),
            4,
            "blocked".into(),
            "aws:alert_established action".into()
        )
    );
    assert!(alerts.iter().all(|a| a.1 == 4 && a.2 == "blocked"));
    assert_eq!(detect["drop_packets"], 7);
}

#[test]
fn strict_order_drop_strict_drops_the_handshake_too() {
    let (alerts, detect) = strict_run(
        &tls_flow_to("www.other.example", 40003),
        ALLOW_GOOD,
        &["aws:drop_strict"],
    );
    // No alert default: drops are silent (AWS's generated rule carries noalert).
    assert!(alerts.is_empty(), "{alerts:?}");
    assert_eq!(detect["drop_packets"], 10);
}

#[test]
fn strict_order_logs_an_alert_written_before_a_pass() {
    // In action order the pass would sort first and silence the alert; in strict order
    // the alert, written first, logs and the pass then decides.
    let rules = "alert tls $HOME_NET any -> any any (msg:\"seen\"; tls.sni; content:\"good.example\"; flow:to_server; sid:7;)\n".to_string() + ALLOW_GOOD;
    let (alerts, detect) = strict_run(
        &tls_flow_to("www.good.example", 40004),
        &rules,
        &["aws:drop_established", "aws:alert_established"],
    );
    assert_eq!(alerts, [(Some(4), 7, "allowed".into(), "seen".into())]);
    assert_eq!(detect["drop_packets"], 0);
}

/// A TLS 1.2 record of type `content` carrying `body`.
fn tls_record(content: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// The TLS flow with application data: after the ServerHello (6, ACK 7), the client
/// sends ChangeCipherSpec + application data "SECRET1" (8, ACK 9), the server
/// application data "SECRET2" (10, ACK 11), the client "SECRET3" (12, ACK 13).
fn tls_flow_with_data() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40001"),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_000, 0),
    );
    let mut first = tls_record(20, &[1]);
    first.extend(tls_record(23, b"....SECRET1...."));
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("www.Example.com")))
        .server_sends(&packets::tls_server_hello())
        .client_sends(&first)
        .server_sends(&tls_record(23, b"....SECRET2...."))
        .client_sends(&tls_record(23, b"....SECRET3...."))
        .close();
    c.packets
}

const SECRET_RULES: &str = "\
alert tcp any any -> any any (msg:\"stream 1\"; content:\"SECRET1\"; sid:41;)
alert tcp any any -> any any (msg:\"stream 2\"; content:\"SECRET2\"; sid:42;)
alert tcp any any -> any any (msg:\"stream 3\"; content:\"SECRET3\"; sid:43;)
alert tcp any any -> any any (msg:\"packet 1\"; content:\"SECRET1\"; dsize:>0; sid:51;)
alert tcp any any -> any any (msg:\"packet 2\"; content:\"SECRET2\"; dsize:>0; sid:52;)
alert tcp any any -> any any (msg:\"packet 3\"; content:\"SECRET3\"; dsize:>0; sid:53;)
alert tcp any any -> any any (msg:\"size 3\"; dsize:20; flow:to_server; sid:60;)
";

#[test]
fn tls_application_data_ends_payload_inspection() {
    // Suricata (default `encryption-handling`) stops inspecting packet payloads and the
    // raw stream once the TLS parser sees application data, so only the packet bringing
    // the first record is inspected: on its own payload in IDS mode (the raw stream waits
    // for the server's ACK, by when inspection is off), and on the stream as well inline.
    // A `dsize` that needs payload no longer matches either (packet 12 is 20 bytes).
    let at = |ips| -> Vec<(Option<u64>, u64)> {
        let got = summary(&alerts(&tls_flow_with_data(), SECRET_RULES, ips));
        got.iter().map(|g| (g.0, g.1)).collect()
    };
    assert_eq!(at(false), [(Some(8), 51)], "IDS");
    assert_eq!(at(true), [(Some(8), 41), (Some(8), 51)], "IPS");
}

/// Three HTTP requests on one connection: `/abcdefgh` (9 bytes), `/a/../bcdefghijk`
/// (16 raw, `/bcdefghijk` = 11 normalised) and `/%41bc` (6 raw, `/Abc` = 4 normalised).
fn http_uri_flow() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40002"),
        sa("93.184.216.34:80"),
        Timestamp::new(1_700_000_000, 0),
    );
    c.handshake();
    for uri in ["/abcdefgh", "/a/../bcdefghijk", "/%41bc"] {
        c.client_sends(&packets::http_request(
            "GET",
            "www.example.com",
            uri,
            "test",
        ))
        .server_sends(&packets::http_response(200, "OK", "text/plain", "ok"));
    }
    c.close();
    c.packets
}

const URILEN_RULES: &str = "\
alert http any any -> any any (msg:\"9\"; urilen:9; sid:71;)
alert http any any -> any any (msg:\">10\"; urilen:>10; sid:72;)
alert http any any -> any any (msg:\"16 raw\"; urilen:16,raw; sid:73;)
alert http any any -> any any (msg:\"11\"; urilen:11; sid:74;)
alert http any any -> any any (msg:\"<5\"; urilen:<5; sid:75;)
alert http any any -> any any (msg:\"4<>7 raw\"; urilen:4<>7,raw; sid:76;)
alert http any any -> any any (msg:\"content and 11\"; http.uri; content:\"/b\"; urilen:11; sid:77;)
alert http any any -> any any (msg:\"20<>21 is 20\"; urilen:20<>21; sid:78;)
";

#[test]
fn urilen_tests_the_normalised_or_raw_uri_length() {
    // Suricata 7.0.10 on the same capture: each request's rules fire on the client's
    // packet after the server acknowledged it (7, 11, 15); `20<>21` is read as `20`.
    let got = summary(&alerts(&http_uri_flow(), URILEN_RULES, false));
    let mut got: Vec<(u64, Option<u64>)> = got.iter().map(|g| (g.1, g.0)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            (71, Some(7)),
            (72, Some(11)),
            (73, Some(11)),
            (74, Some(11)),
            (75, Some(15)),
            (76, Some(15)),
            (77, Some(11)),
        ]
    );
}

/// Suricata's signature masks decide which packets a `dsize` rule sees at all
/// (PacketCreateMask): sizes that need payload (`!9`, `>`, ranges) skip packets with
/// neither payload nor stream data ready, and `dsize:0` wants exactly those. Suricata
/// 7.0.10 (`-k none`, IDS and `--simulate-ips`) on the TLS flow: `dsize:0` on every empty
/// packet, `dsize:!9` only on the ClientHello (4) and ServerHello (6).
#[test]
fn dsize_sees_only_the_packets_suricatas_payload_mask_lets_through() {
    let rules = "alert tcp any any -> any any (msg:\"empty\"; dsize:0; sid:1;)\n\
                 alert tcp any any -> any any (msg:\"not nine\"; dsize:!9; sid:2;)\n";
    let suricata: Vec<(u64, u64)> = vec![
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 2),
        (5, 1),
        (6, 2),
        (7, 1),
        (8, 1),
        (9, 1),
        (10, 1),
    ];
    for ips in [false, true] {
        assert_eq!(
            pcap_and_sids(&tls_flow(), rules, ips),
            suricata,
            "ips: {ips}"
        );
    }
}

/// A TLS flow (client TTL 64, server 128, window 64,240, client ISN 1,000, server
/// 50,000), then three lone segments: a SYN with ECE and CWR (11), a segment with no
/// flag at all (12) and a FIN/PSH/URG scan (13).
fn flagged_packets() -> Vec<TimedPacket> {
    let mut out = tls_flow();
    let ts = |n| Timestamp::new(1_700_000_010 + n, 0);
    let scanner = sa("10.0.0.9:6000");
    let target = sa("93.184.216.34:22");
    use rulesim::decode::tcp_flags as f;
    for (i, flags) in [f::SYN | f::ECE | f::CWR, 0, f::FIN | f::PSH | f::URG]
        .into_iter()
        .enumerate()
    {
        out.push(TimedPacket {
            ts: ts(i as i64),
            ip: packets::tcp(scanner, target, 40, 7, 0, flags, &[]),
        });
    }
    out
}

#[test]
fn header_keywords_match_as_suricata_matches_them() {
    let rules = "\
alert tcp any any -> any any (msg:\"syn only\"; flags:S; sid:1;)
alert tcp any any -> any any (msg:\"syn ack\"; flags:SA; sid:2;)
alert tcp any any -> any any (msg:\"fin or rst\"; flags:*FR; sid:4;)
alert tcp any any -> any any (msg:\"no ack\"; flags:!A; sid:5;)
alert tcp any any -> any any (msg:\"syn, ecn ignored\"; flags:S,CE; sid:6;)
alert tcp any any -> any any (msg:\"null\"; flags:0; sid:7;)
alert tcp any any -> any any (msg:\"server ttl\"; ttl:>100; sid:8;)
alert tcp any any -> any any (msg:\"scanner ttl\"; ttl:40; sid:9;)
alert tcp any any -> any any (msg:\"window\"; window:!64240; sid:10;)
alert tcp any any -> any any (msg:\"isn\"; seq:1000; sid:11;)
alert tcp any any -> any any (msg:\"ack of isn\"; ack:1001; flags:SA; sid:12;)
alert tcp any any -> any any (msg:\"push ack with hello\"; tcp.flags:PA; content:\"|16 03|\"; depth:2; sid:13;)
alert tcp any any -> any any (msg:\"xmas\"; flags:FPU; sid:14;)
alert tcp any any -> any any (msg:\"plus\"; flags:F+; sid:15;)
";
    // Suricata 7.0.10's alerts on the same capture and rules, IDS and IPS alike.
    let suricata: Vec<(u64, u64)> = vec![
        (1, 1),
        (1, 5),
        (1, 6),
        (1, 11),
        (2, 2),
        (2, 8),
        (2, 12),
        (4, 13),
        (5, 8),
        (6, 8),
        (6, 13),
        (8, 4),
        (8, 15),
        (9, 4),
        (9, 8),
        (9, 15),
        (11, 5),
        (11, 6),
        (11, 9),
        (12, 5),
        (12, 7),
        (12, 9),
        (13, 4),
        (13, 5),
        (13, 9),
        (13, 14),
        (13, 15),
    ];
    for ips in [false, true] {
        assert_eq!(
            pcap_and_sids(&flagged_packets(), rules, ips),
            suricata,
            "ips: {ips}"
        );
    }
}

/// An HTTP request and its response on a flow of its own, starting at `secs`.
fn http_request_at(client: &str, server: &str, uri: &str, secs: i64) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(sa(client), sa(server), Timestamp::new(secs, 0));
    c.handshake()
        .client_sends(&packets::http_request("GET", "x.example", uri, "t/1"))
        .server_sends(&packets::http_response(200, "OK", "text/plain", "ok"))
        .close();
    c.packets
}

#[test]
fn xbits_are_kept_per_host_and_address_pair_across_flows() {
    let rules = "\
alert http any any -> any any (msg:\"set\"; flow:to_server; http.uri; content:\"/set\"; xbits:set,src.seen,track ip_src,expire 10; xbits:set,dst.seen,track ip_dst,expire 10; xbits:set,pair.seen,track ip_pair; noalert; sid:1;)
alert http any any -> any any (msg:\"source seen\"; flow:to_server; http.uri; content:\"/check\"; xbits:isset,src.seen,track ip_src; sid:2;)
alert http any any -> any any (msg:\"source not seen\"; flow:to_server; http.uri; content:\"/check\"; xbits:isnotset,src.seen,track ip_src; sid:3;)
alert http any any -> any any (msg:\"server seen\"; flow:to_server; http.uri; content:\"/check\"; xbits:isset,dst.seen,track ip_dst; sid:4;)
alert tcp any any -> any any (msg:\"pair seen, reply\"; flow:to_client; content:\"HTTP/1.1 200\"; xbits:isset,pair.seen,track ip_pair; sid:5;)
";
    let mut packets = Vec::new();
    // A sets its bits at 1,700,000,000; B (same client, other server) checks 2 s later,
    // C (other client, A's server) 3 s later, D (A's client) after the 10 s expiry.
    packets.extend(http_request_at(
        "10.0.0.5:40001",
        "192.0.2.1:80",
        "/set",
        1_700_000_000,
    ));
    packets.extend(http_request_at(
        "10.0.0.5:40002",
        "192.0.2.2:80",
        "/check",
        1_700_000_002,
    ));
    packets.extend(http_request_at(
        "10.0.0.6:40003",
        "192.0.2.1:80",
        "/check",
        1_700_000_003,
    ));
    packets.extend(http_request_at(
        "10.0.0.5:40004",
        "192.0.2.2:80",
        "/check",
        1_700_000_030,
    ));
    // Suricata 7.0.10 on the same capture and rules: (pcap_cnt, sid), IDS then IPS.
    let ids = vec![(9, 5), (17, 2), (27, 3), (27, 4), (37, 3)];
    let ips_alerts = vec![(6, 5), (14, 2), (24, 3), (24, 4), (34, 3)];
    for (ips, suricata) in [(false, ids), (true, ips_alerts)] {
        assert_eq!(pcap_and_sids(&packets, rules, ips), suricata, "ips: {ips}");
    }
}

#[test]
fn flowint_counts_per_flow() {
    let rules = "\
alert http any any -> any any (msg:\"count\"; flow:to_server; http.method; content:\"GET\"; flowint:req.count,+,1; noalert; sid:1;)
alert http any any -> any any (msg:\"first\"; flow:to_server; http.uri; content:\"/r\"; flowint:req.count,==,1; sid:2;)
alert http any any -> any any (msg:\"later\"; flow:to_server; http.uri; content:\"/r\"; flowint:req.count,>,1; sid:3;)
alert http any any -> any any (msg:\"mark\"; flow:to_server; http.uri; content:\"/r2\"; flowint:seen2,=,2; noalert; sid:4;)
alert http any any -> any any (msg:\"count reached mark\"; flow:to_server; http.uri; content:\"/r\"; flowint:req.count,>=,seen2; flowint:seen2,isset; sid:5;)
alert http any any -> any any (msg:\"no mark yet\"; flow:to_server; http.uri; content:\"/r\"; flowint:seen2,notset; sid:6;)
";
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40001"),
        sa("192.0.2.1:80"),
        Timestamp::new(1_700_000_000, 0),
    );
    c.handshake();
    for uri in ["/r1", "/r2", "/r3"] {
        c.client_sends(&packets::http_request("GET", "x.example", uri, "t/1"))
            .server_sends(&packets::http_response(200, "OK", "text/plain", "ok"));
    }
    c.close();
    // Suricata 7.0.10 on the same capture and rules: (pcap_cnt, sid), IDS then IPS.
    let ids = vec![(7, 2), (7, 6), (11, 3), (11, 5), (15, 3), (15, 5)];
    let ips_alerts = vec![(4, 2), (4, 6), (8, 3), (8, 5), (12, 3), (12, 5)];
    for (ips, suricata) in [(false, ids), (true, ips_alerts)] {
        assert_eq!(
            pcap_and_sids(&c.packets, rules, ips),
            suricata,
            "ips: {ips}"
        );
    }
}

/// An HTTP/1.1 GET without a Host header, answered, then closed: SYN(1) SYN/ACK(2)
/// ACK(3) request(4) ACK(5) response(6) ACK(7) FIN(8..10).
fn http_without_host() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.7:40007"),
        sa("198.51.100.7:80"),
        Timestamp::new(1_700_000_000, 0),
    );
    c.handshake()
        .client_sends(b"GET /x HTTP/1.1\r\nUser-Agent: t\r\n\r\n")
        .server_sends(&packets::http_response(200, "OK", "text/plain", "ok"))
        .close();
    c.packets
}

const BOTH_SIDES_RULES: &str = "\
alert http any any -> any any (msg:\"protocol, both sides\"; http.protocol; content:\"HTTP/1.1\"; sid:1;)
alert http any any -> any any (msg:\"no host\"; app-layer-event:http.missing_host_header; sid:2;)
alert http any any -> any any (msg:\"no host, to server\"; flow:to_server; app-layer-event:http.Missing_Host_Header; sid:3;)
alert http any any -> any any (msg:\"other event\"; app-layer-event:http.request_header_host_invalid; sid:4;)
";

#[test]
fn rules_on_both_sides_of_a_transaction_match_once_per_direction() {
    // Suricata 7.0.10 on this capture: a transaction rule whose buffers exist on both
    // sides, without a flow direction, alerts once in each direction (an inspection
    // state per direction); app-layer-event matches the transaction's events, in both
    // directions as Suricata registers it (event names in any case).
    assert_eq!(
        pcap_and_sids(&http_without_host(), BOTH_SIDES_RULES, false),
        [(7, 1), (7, 2), (7, 3), (9, 1), (9, 2)]
    );
    assert_eq!(
        pcap_and_sids(&http_without_host(), BOTH_SIDES_RULES, true),
        [(4, 1), (4, 2), (4, 3), (6, 1), (6, 2)]
    );
}

// ---- alerts per packet (`packet-alert-max`) ------------------------------------------
// Suricata 7.0.10 (detect-engine-alert.c `PacketAlertFinalize`) keeps the first
// `packet-alert-max` alerts of a packet in rule order and counts the rest in
// `detect.alert_queue_overflow`; matches without an alert (noalert, thresholds) are
// `detect.alerts_suppressed`. Every expectation below is Suricata's output on the same
// capture and rules.

/// A UDP flow: two packets from the client, one back, each "hello world".
fn hello_packets() -> Vec<TimedPacket> {
    let (c, s) = (sa("10.0.0.1:1000"), sa("10.0.0.2:2000"));
    (0..3)
        .map(|i| TimedPacket {
            ts: Timestamp::new(1_700_000_000, i * 1000),
            ip: if i < 2 {
                packets::udp(c, s, 64, b"hello world")
            } else {
                packets::udp(s, c, 64, b"hello world")
            },
        })
        .collect()
}

/// 20 alert rules on "hello", priorities 1 to 3 (sid % 3 + 1); `threshold` adds a
/// per-source limit of one alert a minute to the odd sids.
fn twenty_rules(threshold: bool) -> String {
    let mut rules = String::new();
    for sid in 1..=20u32 {
        let limit = if threshold && sid % 2 == 1 {
            " threshold:type limit, track by_src, count 1, seconds 60;"
        } else {
            ""
        };
        rules.push_str(&format!(
            "alert udp any any -> any any (msg:\"r{sid}\"; content:\"hello\";{limit} priority:{}; sid:{sid};)\n",
            sid % 3 + 1
        ));
    }
    rules
}

fn pcap_sid(alerts: &[Value]) -> Vec<(u64, u64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a["pcap_cnt"].as_u64().unwrap_or(0),
                a["alert"]["signature_id"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn detect_counts(stats: &Value) -> (u64, u64, u64) {
    let d = &stats["detect"];
    let n = |k: &str| d[k].as_u64().unwrap_or_else(|| panic!("detect.{k}: {d}"));
    (
        n("alerts"),
        n("alert_queue_overflow"),
        n("alerts_suppressed"),
    )
}

/// The sids in Suricata's order: priority, then sid.
fn by_priority(sids: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut v: Vec<u64> = sids.collect();
    v.sort_by_key(|&s| (s % 3 + 1, s));
    v
}

#[test]
fn a_packet_keeps_packet_alert_max_alerts_in_rule_order() {
    let packets = hello_packets();
    let first15: Vec<u64> = by_priority(1..=20).into_iter().take(15).collect();
    assert_eq!(first15[..4], [3, 6, 9, 12]);
    let (alerts, stats) = alerts_and_stats(&packets, &twenty_rules(false), &[]);
    let want: Vec<(u64, u64)> = (1..=3)
        .flat_map(|p| first15.iter().map(move |&s| (p, s)))
        .collect();
    assert_eq!(pcap_sid(&alerts), want);
    assert_eq!(detect_counts(&stats), (45, 15, 0));

    let (alerts, stats) = alerts_and_stats(
        &packets,
        &twenty_rules(false),
        &["--set", "packet-alert-max=3"],
    );
    let want: Vec<(u64, u64)> = (1..=3).flat_map(|p| [3, 6, 9].map(|s| (p, s))).collect();
    assert_eq!(pcap_sid(&alerts), want);
    assert_eq!(detect_counts(&stats), (9, 51, 0));
}

#[test]
fn suppressed_matches_take_no_place_in_the_alert_queue() {
    // Packet 2 (same source): the thresholded odd sids are suppressed and the even ones
    // fill the places; packet 3 (the other source) is like packet 1. The same with two
    // worker threads, where thresholds are decided at the merge.
    let mut rules = twenty_rules(true);
    rules.push_str(
        "alert udp any any -> any any (msg:\"silent\"; content:\"hello\"; noalert; sid:50;)\n",
    );
    let first15: Vec<u64> = by_priority(1..=20).into_iter().take(15).collect();
    let mut want: Vec<(u64, u64)> = first15.iter().map(|&s| (1, s)).collect();
    want.extend(by_priority((2..=20).step_by(2)).into_iter().map(|s| (2, s)));
    want.extend(first15.iter().map(|&s| (3, s)));
    for threads in ["1", "2"] {
        let (alerts, stats) = alerts_and_stats(&hello_packets(), &rules, &["--threads", threads]);
        assert_eq!(pcap_sid(&alerts), want, "{threads} thread(s)");
        // 3 noalert matches and 10 thresholded ones suppressed, 5 + 5 over the limit.
        assert_eq!(detect_counts(&stats), (40, 10, 13), "{threads} thread(s)");
    }
}

#[test]
fn a_pass_over_the_alert_limit_still_passes_and_lets_later_drops_apply() {
    // With alerts ordered before passes, a pass that finds the queue full is counted as
    // overflow and does not end the walk: its flow is passed and the drop after it still
    // drops the packet. Under the limit the pass ends the walk and nothing is dropped.
    let tail = "pass udp 10.0.0.1 any -> any any (msg:\"pass the flow\"; sid:100;)\n\
                drop udp any any -> any any (msg:\"drop\"; content:\"world\"; sid:101;)\n";
    let args = ["--set", "action-order=alert,pass,drop,reject"];
    let first15: Vec<u64> = by_priority(1..=20).into_iter().take(15).collect();
    let (alerts, stats) = {
        let rules = twenty_rules(false) + tail;
        let (a, s) = alerts_and_stats(
            &hello_packets(),
            &rules,
            &[&args[..], &["--simulate-ips"]].concat(),
        );
        (a, s)
    };
    assert_eq!(
        pcap_sid(&alerts),
        first15.iter().map(|&s| (1, s)).collect::<Vec<_>>(),
        "the flow is passed after packet 1"
    );
    assert!(alerts.iter().all(|a| a["verdict"]["action"] == "drop"));
    assert_eq!(detect_counts(&stats), (15, 7, 0));
    assert_eq!(stats["detect"]["drop_packets"], 1);

    let mut few = String::new();
    for sid in 1..=5 {
        few.push_str(&format!(
            "alert udp any any -> any any (msg:\"r{sid}\"; content:\"hello\"; sid:{sid};)\n"
        ));
    }
    let (alerts, stats) = alerts_and_stats(
        &hello_packets(),
        &(few + tail),
        &[&args[..], &["--simulate-ips"]].concat(),
    );
    assert_eq!(
        pcap_sid(&alerts),
        (1..=5).map(|s| (1, s)).collect::<Vec<_>>()
    );
    // The pass that ended the walk is the packet's verdict (Suricata 7.0.10, verdict
    // logging on: `{"action":"pass"}` on the five alerts).
    assert!(alerts.iter().all(|a| a["verdict"]["action"] == "pass"));
    assert_eq!(detect_counts(&stats), (5, 0, 0));
    assert_eq!(stats["detect"]["drop_packets"], 0);
}

#[test]
fn a_rule_matching_several_transactions_alerts_newest_first() {
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40001"),
        sa("10.0.0.6:80"),
        Timestamp::new(1_700_000_100, 0),
    );
    let mut three = Vec::new();
    for uri in ["/one", "/two", "/three"] {
        three.extend(packets::http_request("GET", "a", uri, "ua"));
    }
    c.handshake()
        .client_sends(&three)
        .server_sends(&packets::http_response(200, "OK", "text/plain", "x"))
        .close();
    let rules = "alert http any any -> any any (msg:\"get\"; http.method; content:\"GET\"; sid:1;)\n\
                 alert http any any -> any any (msg:\"get too\"; http.method; content:\"GET\"; sid:2;)\n";
    for ips in [false, true] {
        let got: Vec<(u64, u64)> = alerts(&c.packets, rules, ips)
            .iter()
            .map(|a| {
                (
                    a["alert"]["signature_id"].as_u64().unwrap_or(0),
                    a["tx_id"].as_u64().unwrap_or(99),
                )
            })
            .collect();
        assert_eq!(
            got,
            [(1, 2), (1, 1), (1, 0), (2, 2), (2, 1), (2, 0)],
            "ips {ips}"
        );
    }
}

/// Four UDP packets to each of ports 7000..=7004 from one host, each from its own port
/// (its own flow), one second apart.
fn counted_packets() -> Vec<TimedPacket> {
    let mut out = Vec::new();
    for port in 7000..=7004u16 {
        for i in 0..4u16 {
            out.push(TimedPacket {
                ts: Timestamp::new(
                    1_700_000_000 + i64::from(port - 7000) * 10 + i64::from(i),
                    0,
                ),
                ip: packets::udp(
                    sa(&format!("10.0.0.9:{}", 1000 + i)),
                    sa(&format!("192.0.2.9:{port}")),
                    64,
                    b"x",
                ),
            });
        }
    }
    out
}

const THRESHOLD_ACTION_RULES: &str = "\
drop udp any any -> any 7000 (msg:\"drop from the 3rd\"; content:\"x\"; detection_filter: track by_src, count 2, seconds 60; sid:1;)
drop udp any any -> any 7001 (msg:\"drop every 2nd\"; content:\"x\"; threshold: type threshold, track by_src, count 2, seconds 60; sid:2;)
drop udp any any -> any 7002 (msg:\"drop, first alerts\"; content:\"x\"; threshold: type limit, track by_src, count 1, seconds 60; sid:3;)
drop udp any any -> any 7003 (msg:\"drop, both\"; content:\"x\"; threshold: type both, track by_src, count 2, seconds 60; sid:4;)
pass udp any any -> any 7004 (msg:\"pass from the 2nd\"; content:\"x\"; detection_filter: track by_src, count 1, seconds 60; sid:5;)
drop udp any any -> any 7004 (msg:\"drop the rest\"; content:\"x\"; sid:6;)
alert udp any any -> any 7000:7003 (msg:\"seen\"; content:\"x\"; sid:9;)
";

/// (pcap_cnt, sid, alert.action, verdict) lines, as written in a literal.
fn lines(l: &[(u64, u64, &str, &str)]) -> Vec<AlertLine> {
    l.iter()
        .map(|&(n, sid, a, v)| (Some(n), sid, a.to_string(), v.to_string()))
        .collect()
}

#[test]
fn thresholds_decide_whether_the_action_applies_as_suricata_does() {
    // Suricata 7.0.10 (PacketAlertHandle): below its count a `threshold` (type threshold
    // or both) or a `detection_filter` leaves the packet alone — no alert and no drop or
    // pass; past its count a `limit` (or `both`) silences the alert but the action
    // applies. Sid 9 shows each packet's verdict. Suricata's output, --simulate-ips:
    let got = summary(&alerts(&counted_packets(), THRESHOLD_ACTION_RULES, true));
    assert_eq!(
        got,
        lines(&[
            (1, 9, "allowed", "alert"),
            (2, 9, "allowed", "alert"),
            (3, 1, "blocked", "drop"),
            (3, 9, "allowed", "drop"),
            (4, 1, "blocked", "drop"),
            (4, 9, "allowed", "drop"),
            (5, 9, "allowed", "alert"),
            (6, 2, "blocked", "drop"),
            (6, 9, "allowed", "drop"),
            (7, 9, "allowed", "alert"),
            (8, 2, "blocked", "drop"),
            (8, 9, "allowed", "drop"),
            (9, 3, "blocked", "drop"),
            (9, 9, "allowed", "drop"),
            (10, 9, "allowed", "drop"),
            (11, 9, "allowed", "drop"),
            (12, 9, "allowed", "drop"),
            (13, 9, "allowed", "alert"),
            (14, 4, "blocked", "drop"),
            (14, 9, "allowed", "drop"),
            (15, 9, "allowed", "drop"),
            (16, 9, "allowed", "drop"),
            (17, 6, "blocked", "drop"),
        ])
    );
}

/// One UDP packet to `port` at each of `micros` (microseconds after a whole second).
fn packets_at(port: u16, micros: &[i64]) -> Vec<TimedPacket> {
    micros
        .iter()
        .enumerate()
        .map(|(i, &us)| TimedPacket {
            ts: Timestamp::new(
                1_700_001_000 + us / 1_000_000,
                (us % 1_000_000) as u32 * 1000,
            ),
            ip: packets::udp(
                sa(&format!("10.0.0.9:{}", 2000 + i)),
                sa(&format!("192.0.2.9:{port}")),
                64,
                b"x",
            ),
        })
        .collect()
}

#[test]
fn threshold_windows_end_at_their_first_alert_plus_seconds_to_the_microsecond() {
    // Suricata 7.0.10 keeps a window while `p->ts <= tv1 + seconds` (SCTIME_CMP_LTE on
    // microsecond times). Suricata's alerts on this capture (IDS and --simulate-ips):
    // limit 1/60 s from 0.5 s: 60.4 and 60.5 s are in the first window, 60.6 s opens the
    // second (to 120.6 s inclusive), 120.7 s the third; detection_filter count 1 in
    // 10 s windows from 1.999999 s: 11.999999 s is the second match, 12.0 s restarts.
    let mut packets = packets_at(
        7100,
        &[
            500_000,
            60_400_000,
            60_500_000,
            60_600_000,
            120_600_000,
            120_700_000,
        ],
    );
    packets.extend(packets_at(
        7101,
        &[201_999_999, 211_999_999, 212_000_000, 212_000_001],
    ));
    let rules = "\
alert udp any any -> any 7100 (msg:\"limit\"; content:\"x\"; threshold: type limit, track by_dst, count 1, seconds 60; sid:1;)
alert udp any any -> any 7101 (msg:\"df\"; content:\"x\"; detection_filter: track by_dst, count 1, seconds 10; sid:2;)
";
    for ips in [false, true] {
        assert_eq!(
            pcap_and_sids(&packets, rules, ips),
            [(1, 1), (4, 1), (6, 1), (8, 2), (10, 2)],
            "ips: {ips}"
        );
    }
}

/// SYN(1) SYN/ACK(2) ACK(3), client 10 bytes (4, ACK 5), server 20 bytes (6, ACK 7),
/// client 5 bytes (8, ACK 9), FIN from the client (10), FIN/ACK (11), ACK (12).
fn stream_size_flow() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.9:42000"),
        sa("192.0.2.9:8000"),
        Timestamp::new(1_700_000_200, 0),
    );
    c.handshake()
        .client_sends(b"0123456789")
        .server_sends(b"abcdefghijklmnopqrst")
        .client_sends(b"vwxyz")
        .close();
    c.packets
}

const STREAM_SIZE_RULES: &str = "\
alert tcp any any -> any any (stream_size:client,=,1; sid:1;)
alert tcp any any -> any any (stream_size:client,=,11; sid:2;)
alert tcp any any -> any any (stream_size:server,<,5; sid:3;)
alert tcp any any -> any any (stream_size:server,>=,21; sid:4;)
alert tcp any any -> any any (stream_size:both,>,1; sid:5;)
alert tcp any any -> any any (stream_size:either,=,16; sid:6;)
alert tcp any any -> any any (stream_size: client , != , 1; sid:7;)
alert tcp any any -> any any (stream_size:server,=,0; sid:8;)
alert tcp any any -> any any (stream_size:client,=,17; sid:9;)
alert tcp any any -> any any (stream_size:server,=,22; sid:10;)
alert tcp any any -> any any (stream_size:server,!,21; sid:11;)
alert tcp any any -> any any (stream_size:either,<=,0; sid:12;)
";

/// What Suricata 7.0.10 alerted on [`stream_size_flow`] with [`STREAM_SIZE_RULES`], the
/// same in IDS and IPS mode: a side's size is `next_seq - isn` (its SYN counts 1, its
/// data in order, its FIN only once the other side acknowledges it: client FIN at 10 is
/// counted from 11, the server's at 11 from 12); a side not yet seen is 0.
const STREAM_SIZE_ALERTS: &[(u64, u64)] = &[
    (1, 1),
    (1, 3),
    (1, 8),
    (1, 11),
    (1, 12),
    (2, 1),
    (2, 3),
    (2, 11),
    (3, 1),
    (3, 3),
    (3, 11),
    (4, 2),
    (4, 3),
    (4, 7),
    (4, 11),
    (5, 2),
    (5, 3),
    (5, 7),
    (5, 11),
    (6, 2),
    (6, 4),
    (6, 5),
    (6, 7),
    (7, 2),
    (7, 4),
    (7, 5),
    (7, 7),
    (8, 4),
    (8, 5),
    (8, 6),
    (8, 7),
    (9, 4),
    (9, 5),
    (9, 6),
    (9, 7),
    (10, 4),
    (10, 5),
    (10, 6),
    (10, 7),
    (11, 4),
    (11, 5),
    (11, 7),
    (11, 9),
    (12, 4),
    (12, 5),
    (12, 7),
    (12, 9),
    (12, 10),
    (12, 11),
];

#[test]
fn stream_size_compares_each_sides_sequence_space_as_suricata() {
    for ips in [false, true] {
        assert_eq!(
            pcap_and_sids(&stream_size_flow(), STREAM_SIZE_RULES, ips),
            STREAM_SIZE_ALERTS,
            "ips: {ips}"
        );
    }
}

/// One TCP connection per payload (client port 41001, 41002, ...), each client payload
/// answered by a short server reply.
fn base64_flows() -> Vec<TimedPacket> {
    let payloads: [&[u8]; 5] = [
        b"AAAA data=SGVsbG8gV29ybGQh;end",
        b"BBBB data=Zm9v YmFy",
        b"CCCC data=Zm9vYmFyYmF6",
        b"DDDD Zg==Zm9v",
        b"EEEE data=",
    ];
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let mut c = TcpConversation::new(
            sa(&format!("10.0.0.5:{}", 41_001 + i)),
            sa("192.0.2.9:9000"),
            Timestamp::new(1_700_000_000 + i as i64, 0),
        );
        c.handshake().client_sends(p).server_sends(b"ok").close();
        out.extend(c.packets);
    }
    let mut c = TcpConversation::new(
        sa("10.0.0.5:41100"),
        sa("192.0.2.9:80"),
        Timestamp::new(1_700_000_010, 0),
    );
    c.handshake()
        .client_sends(&packets::http_request(
            "GET",
            "x.example",
            "/q?d=SGVsbG8gV29ybGQh&x=1",
            "t/1",
        ))
        .server_sends(&packets::http_response(200, "OK", "text/plain", "ok"))
        .close();
    out.extend(c.packets);
    out
}

const BASE64_RULES: &str = r#"alert tcp any any -> any any (msg:"decoded match"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"Hello World"; sid:1;)
alert tcp any any -> any any (msg:"decoded non-match"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"Goodbye"; sid:2;)
alert tcp any any -> any any (msg:"absolute offset"; base64_decode:offset 10; base64_data; content:"Hello"; sid:3;)
alert tcp any any -> any any (msg:"bytes 8"; content:"CCCC"; base64_decode:bytes 8, offset 6, relative; base64_data; content:"foobar"; sid:4;)
alert tcp any any -> any any (msg:"bytes 8 stops before baz"; content:"CCCC"; base64_decode:bytes 8, offset 6, relative; base64_data; content:"baz"; sid:5;)
alert tcp any any -> any any (msg:"partial quantum"; content:"CCCC"; base64_decode:bytes 6, offset 6, relative; base64_data; content:"foob"; endswith; sid:6;)
alert tcp any any -> any any (msg:"space ends decoding"; content:"BBBB"; base64_decode:offset 6, relative; base64_data; content:"bar"; sid:7;)
alert tcp any any -> any any (msg:"space ends decoding, foo"; content:"BBBB"; base64_decode:offset 6, relative; base64_data; content:"foo"; endswith; sid:8;)
alert tcp any any -> any any (msg:"negated"; content:"BBBB"; base64_decode:offset 6, relative; base64_data; content:!"bar"; sid:9;)
alert tcp any any -> any any (msg:"depth distance within"; content:"AAAA"; base64_decode:offset 6,relative; base64_data; content:"Hello"; depth:5; content:"World"; distance:1; within:5; sid:10;)
alert tcp any any -> any any (msg:"depth too small"; content:"AAAA"; base64_decode:offset 6,relative; base64_data; content:"World"; depth:5; sid:11;)
alert tcp any any -> any any (msg:"first relative Hello"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"Hello"; distance:0; sid:12;)
alert tcp any any -> any any (msg:"first relative World"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"World"; distance:0; sid:13;)
alert tcp any any -> any any (msg:"no base64_data"; content:"AAAA"; base64_decode:relative; sid:14;)
alert tcp any any -> any any (msg:"after decode, fast"; content:"AAAA"; fast_pattern; base64_decode:offset 6,relative; content:"NOTTHERE"; base64_data; content:"Hello"; sid:15;)
alert tcp any any -> any any (msg:"after decode, longest"; content:"AAAA"; base64_decode:offset 6,relative; content:"NOTTHERE"; base64_data; content:"Hello"; sid:16;)
alert tcp any any -> any any (msg:"only decoded contents"; base64_decode:offset 10; base64_data; content:"foobarbaz"; sid:17;)
alert tcp any any -> any any (msg:"invalid at start"; content:"AAAA"; base64_decode:relative; base64_data; content:"H"; sid:18;)
alert tcp any any -> any any (msg:"padding mid-way"; content:"DDDD "; base64_decode:relative; base64_data; content:"ffoo"; sid:19;)
alert tcp any any -> any any (msg:"offset past the end"; content:"EEEE"; base64_decode:offset 6, relative; base64_data; content:"x"; sid:20;)
alert tcp any any -> any any (msg:"pcre relative"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"Hello"; pcre:"/^ Wor/R"; sid:21;)
alert tcp any any -> any any (msg:"isdataat"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"World"; isdataat:1,relative; sid:22;)
alert tcp any any -> any any (msg:"exact end"; content:"AAAA"; base64_decode:offset 6, relative; base64_data; content:"World!"; isdataat:!1,relative; sid:23;)
alert http any any -> any any (msg:"uri"; http.uri; content:"d="; base64_decode:relative; base64_data; content:"World"; sid:24;)
alert http any any -> any any (msg:"uri bytes"; http.uri; content:"d="; base64_decode:bytes 4, relative; base64_data; content:"World"; sid:25;)
alert http any any -> any any (msg:"legacy uri"; content:"d="; http_uri; base64_decode:relative; base64_data; content:"Hello"; startswith; sid:26;)
"#;

/// `base64_decode` and `base64_data`, held to Suricata 7.0.10's alerts on the same
/// capture and rules (`-k none --runmode single`, IDS and `--simulate-ips`). What they
/// show: the decoded bytes are inspected with the usual content modifiers (1, 10, 11);
/// `offset` is from the buffer start or, with `relative`, from the last match (3, 1);
/// `bytes` limits the encoded bytes read (4, 5) and a partial last quantum of 2
/// characters gives 1 byte (6); white space (7, 8, 9) or any other non-alphabet byte
/// (18) ends decoding, `=` does not (19); an offset past the end decodes nothing (20); a
/// first relative content in base64_data is relative to the detection pointer the
/// decoding list left (12 misses `Hello` at 0 behind pointer 4, 13 finds `World`);
/// base64_decode without base64_data never matches (14); base64_data ends the rule's
/// list, so a content written after base64_decode is not inspected (15) — but it can
/// still be the fast pattern that keeps the rule from running (16); a rule whose only
/// contents are decoded ones runs without a fast pattern (17); relative pcre and
/// isdataat work on the decoded bytes (21, 22, 23); HTTP buffers decode too (24, 26;
/// 25's 4 bytes decode `Hel`).
#[test]
fn base64_decode_and_base64_data_match_as_suricata() {
    let packets = base64_flows();
    let sids = [1, 3, 10, 13, 15, 21, 22, 23, 8, 9, 4, 6, 17, 19, 24, 26];
    let ips: Vec<(u64, u64)> = [4, 4, 4, 4, 4, 4, 4, 4, 14, 14, 24, 24, 24, 34, 54, 54]
        .into_iter()
        .zip(sids)
        .collect();
    assert_eq!(pcap_and_sids(&packets, BASE64_RULES, true), ips);
    // In IDS mode the raw-TCP flows' bytes are inspected at the client's FIN (Suricata's
    // CLOSE_WAIT: the data is under the chunk size), the HTTP ones with the request.
    let ids: Vec<(u64, u64)> = [8, 8, 8, 8, 8, 8, 8, 8, 18, 18, 28, 28, 28, 38, 57, 57]
        .into_iter()
        .zip(sids)
        .collect();
    let mut got = pcap_and_sids(&packets, BASE64_RULES, false);
    let mut want = ids;
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

/// Small stream data (under `stream.reassembly.toserver-chunk-size`) on flows without an
/// app-layer protocol, closed by either side; the data sent by the client, by the server,
/// or both.
fn stream_flush_flows() -> Vec<TimedPacket> {
    let mut out = Vec::new();
    let cases: [(bool, bool, bool); 4] = [
        // (client data, server data, client closes first)
        (true, false, true),
        (true, false, false),
        (false, true, true),
        (false, true, false),
    ];
    for (i, (client, server, client_closes)) in cases.into_iter().enumerate() {
        let mut c = TcpConversation::new(
            sa(&format!("10.0.0.7:{}", 42_001 + i)),
            sa("192.0.2.9:9001"),
            Timestamp::new(1_700_000_100 + i as i64, 0),
        );
        c.handshake();
        c.client_sends(if client {
            b"hello XMARK-CLIENT"
        } else {
            b"hello"
        });
        c.server_sends(if server {
            b"reply XMARK-SERVER"
        } else {
            b"reply"
        });
        if client_closes {
            c.close();
        } else {
            c.close_by_server();
        }
        out.extend(c.packets);
    }
    out
}

/// Raw stream data under the chunk size is inspected when Suricata's session state
/// passes TIME_WAIT: at the client's FIN when the client closes first (CLOSE_WAIT), at
/// the session's last ACK when the server closes first, and otherwise at the flow's end
/// (pcap_cnt 0); in IPS mode on the packet that carries it. Suricata 7.0.10's alerts on
/// the same capture.
#[test]
fn small_stream_data_is_inspected_when_the_session_closes_as_suricata_does() {
    let rules = "\
alert tcp any any -> any any (msg:\"client\"; content:\"XMARK-CLIENT\"; sid:1;)
alert tcp any any -> any any (msg:\"server\"; content:\"XMARK-SERVER\"; sid:2;)
";
    let packets = stream_flush_flows();
    assert_eq!(
        pcap_and_sids(&packets, rules, false),
        [(0, 1), (8, 1), (30, 2), (42, 2)]
    );
    assert_eq!(
        pcap_and_sids(&packets, rules, true),
        [(4, 1), (14, 1), (27, 2), (37, 2)]
    );
}

/// A first segment longer than protocol detection probes (2 KiB: a POST with its body):
/// the bytes past the probe reach the HTTP parser too, so the request completes and its
/// body is inspected whole, on the packets Suricata 7.0.10 alerts on (IDS: the client's
/// ACK of the response, 7; IPS: the request itself, 4).
#[test]
fn a_first_segment_longer_than_the_probe_is_parsed_whole() {
    let mut post = b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n".to_vec();
    post.extend(std::iter::repeat_n(b'x', 1994));
    post.extend_from_slice(b"MARKER");
    let response = packets::http_response(200, "OK", "text/plain", &"y".repeat(1000));
    let mut c = TcpConversation::new(
        sa("10.0.0.1:40001"),
        sa("192.0.2.80:80"),
        Timestamp::new(1_700_000_001, 0),
    );
    c.handshake()
        .client_sends(&post)
        .server_sends(&response)
        .close();
    let rules = "alert http any any -> any any (msg:\"end of the body\"; flow:to_server; http.request_body; content:\"MARKER\"; endswith; sid:1;)\n";
    assert_eq!(pcap_and_sids(&c.packets, rules, false), [(7, 1)]);
    assert_eq!(pcap_and_sids(&c.packets, rules, true), [(4, 1)]);
}

/// A TLS 1.2 session with application data, a UDP exchange and an ICMP echo, from one
/// client: SYN (1), SYN/ACK (2), ACK (3), ClientHello (4), ACK (5), ServerHello (6),
/// ACK (7), client "XDATA-ONE" (8), ACK (9), FIN (10), FIN/ACK (11), ACK (12); UDP request
/// "XDATA-UDP" (13) and reply (14); ICMP echo request (15) and reply (16).
fn keyword_flows() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.9:45000"),
        sa("192.0.2.20:443"),
        Timestamp::new(1_700_002_000, 0),
    );
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("kw.example")))
        .server_sends(&packets::tls_server_hello())
        .client_sends(b"XDATA-ONE")
        .close();
    let mut out = c.packets;
    let t = Timestamp::new(1_700_002_001, 0);
    out.push(TimedPacket {
        ts: t,
        ip: packets::udp(
            sa("10.0.0.9:45001"),
            sa("192.0.2.20:7777"),
            64,
            b"XDATA-UDP",
        ),
    });
    out.push(TimedPacket {
        ts: Timestamp::new(1_700_002_001, 10_000_000),
        ip: packets::udp(sa("192.0.2.20:7777"), sa("10.0.0.9:45001"), 64, b"reply"),
    });
    let a: std::net::IpAddr = "10.0.0.9".parse().expect("ip");
    let b: std::net::IpAddr = "192.0.2.20".parse().expect("ip");
    out.push(TimedPacket {
        ts: Timestamp::new(1_700_002_002, 0),
        ip: packets::echo(a, b, 64, 7, 1, false, b"ping"),
    });
    out.push(TimedPacket {
        ts: Timestamp::new(1_700_002_002, 10_000_000),
        ip: packets::echo(b, a, 64, 7, 1, true, b"ping"),
    });
    out
}

const KEYWORD_RULES: &str = "\
alert tls any any -> any any (msg:\"tls1.2\"; ssl_version:tls1.2; sid:1;)
alert tls any any -> any any (msg:\"not tls1.0\"; ssl_version:!tls1.0; sid:2;)
alert tls any any -> any any (msg:\"tls1.3\"; ssl_version:tls1.3; sid:3;)
alert tls any any -> any any (msg:\"tls1.0 or tls1.2\"; ssl_version:tls1.0,tls1.2; sid:4;)
alert ip any any -> any any (msg:\"ip_proto tcp\"; ip_proto:6; dsize:>0; sid:5;)
alert ip any any -> any any (msg:\"ip_proto not tcp\"; ip_proto:!6; sid:6;)
alert ip any any -> any any (msg:\"ip_proto udp by name\"; ip_proto:udp; sid:7;)
alert ip any any -> any any (msg:\"ip_proto below 6\"; ip_proto:<6; sid:8;)
alert tcp any any -> any any (msg:\"only stream\"; flow:only_stream; content:\"XDATA\"; sid:9;)
alert tcp any any -> any any (msg:\"no stream\"; flow:no_stream; content:\"XDATA\"; sid:10;)
alert ip any any -> any any (msg:\"by_both\"; content:\"XDATA\"; threshold:type limit, track by_both, count 1, seconds 60; sid:11;)
reject udp any any -> any 7777 (msg:\"reject udp\"; content:\"XDATA-UDP\"; sid:12;)
";

#[test]
fn ssl_version_ip_proto_stream_flow_options_by_both_and_reject_as_suricata() {
    // Suricata 7.0.10's alerts on this capture (`suricata -r`, and with --simulate-ips):
    // ssl_version on the ServerHello's version (the negotiated one; the ClientHello's is
    // not `ssl_version`'s), ip_proto on every packet of its protocol, only_stream on the
    // reassembled stream (IDS: at the ACK of the data; IPS: on the data packet),
    // no_stream on the data packet itself, by_both once per address pair, and the UDP
    // reject.
    // ssl_version tests each side's own version: the client's (TLS 1.3, the first of its
    // supported_versions) to the server, the server's (TLS 1.2) to the client; a negated
    // ssl_version never matches in Suricata 7.0.10 (sid 2).
    let ids = pcap_and_sids(&keyword_flows(), KEYWORD_RULES, false);
    let ips = pcap_and_sids(&keyword_flows(), KEYWORD_RULES, true);
    assert_eq!(
        ids,
        [
            (4, 5),
            (6, 5),
            (7, 3),
            (8, 5),
            (8, 10),
            (9, 1),
            (9, 4),
            (10, 9),
            (10, 11),
            (13, 6),
            (13, 7),
            (13, 12),
            (14, 6),
            (14, 7),
            (15, 6),
            (15, 8),
            (16, 6),
            (16, 8)
        ],
        "IDS"
    );
    assert_eq!(
        ips,
        [
            (4, 3),
            (4, 5),
            (6, 1),
            (6, 4),
            (6, 5),
            (8, 5),
            (8, 9),
            (8, 10),
            (8, 11),
            (13, 6),
            (13, 7),
            (13, 12),
            (14, 6),
            (14, 7),
            (15, 6),
            (15, 8),
            (16, 6),
            (16, 8)
        ],
        "IPS"
    );
    // The reject's verdict, as Suricata's EveAddVerdict writes it; the alert is `blocked`
    // even without inline timing, as Suricata logs it.
    for (ips, action) in [(true, "drop"), (false, "alert")] {
        let alerts = alerts_of_run(&keyword_flows(), KEYWORD_RULES, ips);
        let reject = alerts
            .iter()
            .find(|a| a["alert"]["signature_id"] == 12)
            .expect("the reject alerts");
        assert_eq!(
            reject["verdict"],
            serde_json::json!({"action": action, "reject-target": "to_client", "reject": ["icmp-prohib"]}),
            "ips: {ips}"
        );
        assert_eq!(reject["alert"]["action"], "blocked", "ips: {ips}");
    }
}

const FLOW_VAR_RULES: &str = "\
alert tcp any any -> any any (msg:\"set b then a\"; flow:to_server; content:\"one\"; flowbits:set,b; flowbits:set,a; flowint:count,=,5; sid:1;)
alert tcp any any -> any any (msg:\"toggle b, set c\"; flow:to_server; content:\"two\"; flowbits:toggle,b; flowbits:set,c; flowint:count,+,2; flowint:other,=,1; sid:2;)
alert tcp any any -> any any (msg:\"set b again\"; flow:to_client; content:\"three\"; flowbits:set,b; sid:3;)
alert tcp any any -> any any (msg:\"traffic ids\"; flow:to_server; content:\"four\"; flowbits:set,traffic/id/web; flowbits:set,traffic/label/corp; sid:4;)
";

/// Client "one" (4), ACK (5), "two" (6), ACK (7), server "three" (8), ACK (9), client
/// "four" (10), ACK (11), then the client closes (12-14).
fn flow_var_packets() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.9:46000"),
        sa("192.0.2.30:8080"),
        Timestamp::new(1_700_003_000, 0),
    );
    c.handshake()
        .client_sends(b"one")
        .client_sends(b"two")
        .server_sends(b"three")
        .client_sends(b"four")
        .close();
    c.packets
}

/// (event_type, pcap_cnt, sid, traffic, metadata) of a record.
type VarsLine = (String, Option<u64>, Option<u64>, Value, Value);
/// The same, the objects as JSON text.
type ExpectedVars = (
    &'static str,
    Option<u64>,
    Option<u64>,
    &'static str,
    &'static str,
);

#[test]
fn records_carry_the_flows_variables_as_suricata_writes_them() {
    // Suricata 7.0.10 (`suricata -r`, eve metadata on, as its default configuration): each
    // record names the flow's flowbits in the order they were set (a toggled-off bit leaves
    // its place, set again it comes last), its flowints in the order they were created, and
    // the traffic/ flowbits as a `traffic` object before `metadata`; the alerts of a packet
    // show the variables as they are after it, netflow records as the flow ends.
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("vars.pcap");
    write_pcap(&pcap, &flow_var_packets());
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, &keep).expect("keep pcap");
        std::fs::write(format!("{}.rules", keep.to_string_lossy()), FLOW_VAR_RULES)
            .expect("keep rules");
    }
    let rules = dir.path().join("vars.rules");
    std::fs::write(&rules, FLOW_VAR_RULES).expect("rules");
    let eve = common::eve_of_run(
        &pcap,
        &[std::ffi::OsStr::new("-S"), rules.as_os_str()],
        false,
    );
    let got: Vec<VarsLine> = eve
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .map(|r| {
            (
                r["event_type"].as_str().unwrap_or("").to_string(),
                r["pcap_cnt"].as_u64(),
                r["alert"]["signature_id"].as_u64(),
                r.get("traffic").cloned().unwrap_or(Value::Null),
                r.get("metadata").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    let want: Vec<VarsLine> = EXPECTED_FLOW_VARS
        .iter()
        .map(|(t, n, sid, traffic, meta)| {
            (
                t.to_string(),
                *n,
                *sid,
                serde_json::from_str(traffic).expect("json"),
                serde_json::from_str(meta).expect("json"),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// (event_type, pcap_cnt, sid, traffic, metadata) of each record: the alerts as Suricata
/// 7.0.10 wrote them (the small stream data is inspected as the session closes), the
/// netflow records with the variables of its `flow` record.
const EXPECTED_FLOW_VARS: &[ExpectedVars] = &[
    ("alert", Some(12), Some(1), TRAFFIC, AFTER_TWO),
    ("alert", Some(12), Some(2), TRAFFIC, AFTER_TWO),
    ("alert", Some(12), Some(4), TRAFFIC, AFTER_TWO),
    ("alert", Some(13), Some(3), TRAFFIC, AFTER_THREE),
    ("netflow", None, None, TRAFFIC, AFTER_THREE),
    ("netflow", None, None, TRAFFIC, AFTER_THREE),
];

const TRAFFIC: &str = r#"{"id": ["web"], "label": ["corp"]}"#;
/// After sids 1, 2 and 4: b then a set, b toggled off, c set.
const AFTER_TWO: &str = r#"{"flowbits": ["a", "c"], "flowints": {"count": 7, "other": 1}}"#;
/// After sid 3 set b again: it comes last.
const AFTER_THREE: &str = r#"{"flowbits": ["a", "c", "b"], "flowints": {"count": 7, "other": 1}}"#;

/// What is still open at the end of input is flushed at the least time Suricata's threads
/// have seen: in its default runmode (autofp) the run's first packet time, with
/// `--runmode single` the last packet's (both seen on 7.0.10 with sv-bug-6269-01). Here a
/// stream rule on small data of an unclosed flow alerts at that flush.
#[test]
fn end_of_input_alerts_carry_the_time_of_suricatas_runmode() {
    let mut c = TcpConversation::new(
        sa("10.0.0.9:47000"),
        sa("192.0.2.40:8000"),
        Timestamp::new(1_700_004_000, 0),
    );
    c.handshake().client_sends(b"hello there");
    let rules = "alert tcp any any -> any any (msg:\"small\"; content:\"hello\"; sid:1;)\n";
    let stamp = |args: &[&str]| -> (Value, Value) {
        let (alerts, _) = alerts_and_stats(&c.packets, rules, args);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        (alerts[0]["timestamp"].clone(), alerts[0]["pkt_src"].clone())
    };
    assert_eq!(
        stamp(&[]),
        (
            Value::from("2023-11-14T23:20:00.000000+0000"),
            Value::from("stream (flow timeout)")
        )
    );
    assert_eq!(
        stamp(&["--set", "runmode=single"]),
        (
            Value::from("2023-11-14T23:20:00.040000+0000"),
            Value::from("stream (flow timeout)")
        )
    );
}
