//! End-to-end tests: the binary on generated captures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rulesim::synth::packets::{self, Link, TcpConversation};
use rulesim::synth::{PcapWriter, TimedPacket};
use rulesim::time::Timestamp;
use serde_json::Value;

fn rulesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .args(args)
        .env("CI", "1")
        .output()
        .expect("run rulesim")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

mod common;
use common::{sa, write_pcap};

fn http_conversation(port: u16, start: i64) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        SocketAddr::new("10.0.0.5".parse().expect("ip"), port),
        sa("93.184.216.34:80"),
        Timestamp::new(start, 0),
    );
    c.handshake()
        .client_sends(&packets::http_request("GET", "www.example.com", "/", "t"))
        .server_sends(&packets::http_response(200, "OK", "text/plain", "hi"))
        .close();
    c.packets
}

#[test]
fn bundled_sample_runs_and_writes_netflow_for_every_flow() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = rulesim(&[
        "-r",
        repo("pcaps").to_str().expect("utf8"),
        "-S",
        repo("rules").to_str().expect("utf8"),
        "-l",
        out.path().to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = lines(&out.path().join("eve.json"));
    let records: Vec<&Value> = all
        .iter()
        .filter(|r| r["event_type"] == "netflow")
        .collect();
    // 13 flows, each with a reply direction.
    assert_eq!(records.len(), 26);
    // The alerts Suricata 7.0.10 writes on the same captures with the same rules (the
    // policy's groups printed by `rulesim rules show`, HOME_NET [10.0.0.0/16], IDS mode).
    let mut sids: Vec<u64> = all
        .iter()
        .filter(|r| r["event_type"] == "alert")
        .map(|r| r["alert"]["signature_id"].as_u64().expect("sid"))
        .collect();
    sids.sort_unstable();
    assert_eq!(
        sids,
        [2, 4, 100001, 100003, 100003, 1000001, 1000002, 1000003, 1000003, 1000003]
    );
    let ids: std::collections::BTreeSet<u64> = records
        .iter()
        .map(|r| r["flow_id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 13);
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("stats.json")).expect("stats"),
    )
    .expect("json");
    assert_eq!(stats["decoder"]["pkts"], 104);
    assert_eq!(stats["flow"]["created"], 13);
    assert_eq!(stats["capture"]["timestamps_backwards"], 0);
    // The summary names what was read.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("104 packets") && err.contains("13 created"),
        "{err}"
    );
}

#[test]
fn netflow_record_fields_match_suricata_for_an_http_flow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("http.pcap");
    write_pcap(&pcap, &http_conversation(40000, 1_700_000_000));
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
        "-q",
    ]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "-q prints nothing on success");
    let recs = lines(&dir.path().join("eve.json"));
    assert_eq!(recs.len(), 2);
    let keys: Vec<&str> = recs[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "timestamp",
            "flow_id",
            "event_type",
            "src_ip",
            "src_port",
            "dest_ip",
            "dest_port",
            "proto",
            "app_proto",
            "netflow",
            "tcp"
        ]
    );
    assert_eq!(recs[0]["src_ip"], "10.0.0.5");
    assert_eq!(recs[0]["dest_port"], 80);
    assert_eq!(recs[1]["src_ip"], "93.184.216.34");
    assert_eq!(recs[1]["dest_port"], 40000);
    assert_eq!(recs[0]["flow_id"], recs[1]["flow_id"]);
    assert_eq!(recs[0]["netflow"]["pkts"], 6);
    assert_eq!(recs[1]["netflow"]["pkts"], 4);
    assert_eq!(
        recs[0]["netflow"]["start"],
        "2023-11-14T22:13:20.000000+0000"
    );
    assert_eq!(recs[0]["netflow"]["end"], "2023-11-14T22:13:20.090000+0000");
    assert_eq!(recs[0]["netflow"]["min_ttl"], 64);
    assert_eq!(recs[1]["netflow"]["max_ttl"], 128);
    assert_eq!(recs[0]["tcp"]["tcp_flags"], "1b");
    assert_eq!(recs[0]["timestamp"], "2023-11-14T22:13:20.000000+0000");
    // Two runs give the same bytes.
    let again = tempfile::tempdir().expect("tempdir");
    rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        again.path().to_str().expect("utf8"),
        "-q",
    ]);
    assert_eq!(
        std::fs::read(dir.path().join("eve.json")).expect("a"),
        std::fs::read(again.path().join("eve.json")).expect("b")
    );
}

#[test]
fn aws_log_wraps_netflow_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("http.pcap");
    write_pcap(&pcap, &http_conversation(40001, 1_700_000_000));
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
        "-q",
        "--aws-log",
        "test-firewall",
        "--availability-zone",
        "us-east-1b",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let flows = lines(&dir.path().join("flow.json"));
    assert_eq!(flows.len(), 2);
    let keys: Vec<&str> = flows[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "firewall_name",
            "availability_zone",
            "event_timestamp",
            "event"
        ]
    );
    assert_eq!(flows[0]["firewall_name"], "test-firewall");
    assert_eq!(flows[0]["availability_zone"], "us-east-1b");
    assert_eq!(flows[0]["event_timestamp"], "1700000000");
    assert_eq!(flows[0]["event"]["event_type"], "netflow");
    assert_eq!(flows[0]["event"]["netflow"]["state"], "closed");
    assert_eq!(flows[0]["event"]["netflow"]["reason"], "shutdown");
    assert_eq!(flows[0]["event"]["netflow"]["alerted"], false);
    assert!(dir.path().join("alert.json").exists());
    assert!(
        lines(&dir.path().join("eve.json"))
            .iter()
            .all(|r| r["netflow"].get("state").is_none()),
        "plain EVE keeps Suricata's fields"
    );
}

#[test]
fn a_directory_is_one_stream_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let caps = dir.path().join("caps");
    std::fs::create_dir(&caps).expect("mkdir");
    // One connection split across two files: the flow continues across them.
    let conv = http_conversation(40002, 1_700_000_000);
    write_pcap(&caps.join("a.pcap"), &conv[..5]);
    write_pcap(&caps.join("b.pcap"), &conv[5..]);
    let out = dir.path().join("out");
    let o = rulesim(&[
        "-r",
        caps.to_str().expect("utf8"),
        "-l",
        out.to_str().expect("utf8"),
        "-q",
    ]);
    assert!(o.status.success());
    let recs = lines(&out.join("eve.json"));
    assert_eq!(recs.len(), 2);
    assert_eq!(
        recs[0]["netflow"]["pkts"].as_u64().expect("n")
            + recs[1]["netflow"]["pkts"].as_u64().expect("n"),
        10
    );
}

#[test]
fn a_file_that_is_not_a_capture_fails_after_the_others_are_processed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.pcap");
    write_pcap(&good, &http_conversation(40003, 1_700_000_000));
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "hello, not a pcap").expect("write");
    let out = dir.path().join("out");
    let o = rulesim(&[
        "-r",
        bad.to_str().expect("utf8"),
        good.to_str().expect("utf8"),
        "-l",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("notes.txt") && err.contains("not a pcap or pcapng file"),
        "{err}"
    );
    assert_eq!(
        lines(&out.join("eve.json")).len(),
        2,
        "the good file was still evaluated"
    );
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, "").expect("write");
    let o = rulesim(&[
        "-r",
        empty.to_str().expect("utf8"),
        "-l",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty.pcap: file is empty"));
}

#[test]
fn a_truncated_tail_is_a_warning_and_earlier_packets_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("cut.pcap");
    write_pcap(&pcap, &http_conversation(40004, 1_700_000_000));
    let bytes = std::fs::read(&pcap).expect("read");
    std::fs::write(&pcap, &bytes[..bytes.len() - 10]).expect("write");
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning") && err.contains("cut.pcap: packet 10") && err.contains("truncated"),
        "{err}"
    );
    let recs = lines(&dir.path().join("eve.json"));
    let total: u64 = recs
        .iter()
        .map(|r| r["netflow"]["pkts"].as_u64().expect("n"))
        .sum();
    assert_eq!(total, 9);
}

#[test]
fn garbage_packets_are_counted_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("junk.pcap");
    let mut w = PcapWriter::new(Vec::new(), 1).expect("header");
    let t = Timestamp::new(1_700_000_000, 0);
    w.packet(t, &[0xde, 0xad]).expect("packet");
    let mut bogus_ip =
        Link::ethernet().wrap(&packets::udp(sa("10.0.0.1:1"), sa("10.0.0.2:2"), 64, b"x"));
    bogus_ip[14] = 0x4f; // IHL 15: header longer than the packet
    w.packet(t, &bogus_ip).expect("packet");
    w.packet(t, &[]).expect("zero-length packet");
    w.packet(
        t,
        &Link::ethernet().wrap(&packets::udp(sa("10.0.0.1:1"), sa("10.0.0.2:2"), 64, b"ok")),
    )
    .expect("packet");
    std::fs::write(&pcap, w.into_inner()).expect("write");
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
        "-q",
    ]);
    assert!(o.status.success());
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stats.json")).expect("stats"),
    )
    .expect("json");
    assert_eq!(stats["decoder"]["invalid"]["ethernet.pkt_too_small"], 2);
    assert_eq!(
        stats["decoder"]["invalid"]["ipv4.iplen_smaller_than_hlen"],
        1
    );
    assert_eq!(lines(&dir.path().join("eve.json")).len(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let o = rulesim(&[]);
    assert_eq!(o.status.code(), Some(2), "-r is required");
    let o = rulesim(&["-r", "pcaps", "--set", "no.such.setting=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown setting"));
    let o = rulesim(&["-r", "/nonexistent/capture.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/capture.pcap"));
    let o = rulesim(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--simulate-ips"));
}

#[test]
fn bundled_sample_captures_are_what_the_generator_writes() {
    for (name, bytes) in rulesim::synth::sample::sample_captures().expect("generate") {
        let path = repo("pcaps").join(name);
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            on_disk == bytes,
            "{name} differs from the generator: run `cargo run --example make-sample`"
        );
    }
}

#[test]
fn an_unsupported_link_type_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("wifi.pcap");
    let mut w = PcapWriter::new(Vec::new(), 105).expect("header");
    w.packet(Timestamp::new(1_700_000_000, 0), &[0u8; 40])
        .expect("packet");
    std::fs::write(&pcap, w.into_inner()).expect("write");
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("wifi.pcap: link type 105 is not supported"),
        "{err}"
    );
}

#[test]
fn pcapng_interface_of_unknown_link_type_is_a_warning() {
    use rulesim::synth::{NgInterface, PcapNgWriter};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mixed.pcapng");
    let ip = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"q");
    let mut w = PcapNgWriter::new(
        Vec::new(),
        &[
            NgInterface {
                linktype: 1,
                tsresol: 6,
            },
            NgInterface {
                linktype: 147,
                tsresol: 6,
            },
        ],
    )
    .expect("header");
    let t = Timestamp::new(1_700_000_000, 0);
    w.enhanced(1, t, &[0u8; 30]).expect("epb");
    w.enhanced(0, t, &Link::ethernet().wrap(&ip)).expect("epb");
    std::fs::write(&path, w.into_inner()).expect("write");
    let o = rulesim(&[
        "-r",
        path.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: ")
            && err.contains("mixed.pcapng: packet 1")
            && err.contains("link type 147"),
        "{err}"
    );
    assert_eq!(lines(&dir.path().join("eve.json")).len(), 1);
}

#[test]
fn rule_errors_are_reported_and_strict_rules_fails_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("bad.rules");
    std::fs::write(&rules, "alert tcp any any -> any any (msg:\"x\"; foo; sid:1;)\nalert tcp any any -> any any (sid:2;)\n").expect("write");
    let pcaps = repo("pcaps");
    let args = [
        "-r",
        pcaps.to_str().expect("utf8"),
        "-S",
        rules.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
    ];
    let o = rulesim(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a refused rule does not stop the run, as in Suricata"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: unknown keyword `foo`") && err.contains("bad.rules:1:40"),
        "{err}"
    );
    assert!(err.contains("1 rules loaded, 1 failed"), "{err}");
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stats.json")).expect("stats"),
    )
    .expect("json");
    assert_eq!(
        (
            stats["rules"]["loaded"].as_u64(),
            stats["rules"]["failed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let mut strict: Vec<&str> = args.to_vec();
    strict.push("--strict-rules");
    let o = rulesim(&strict);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--strict-rules: 1 rule(s) failed"));
}

#[test]
fn rules_show_prints_what_aws_would_run() {
    let o = rulesim(&["rules", "show", "-S", repo("rules").to_str().expect("utf8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("# ")
            && out.contains("(sample-domain-denylist, RulesSourceList) [DEFAULT_ACTION_ORDER]"),
        "{out}"
    );
    assert!(out.contains("drop tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; content:\"malware.example.net\"; startswith; nocase; endswith; msg:\"matching TLS denylisted FQDNs\"; priority:1; flow:to_server, established; sid:1; rev:1;)"));
    assert!(out.contains("drop tcp $HOME_NET any -> 203.0.113.0/24 22 (msg:\"no SSH to the partner range\"; sid:100001; rev:1;)"));
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("group.json");
    std::fs::write(&broken, "{\"RuleGroup\": ").expect("write");
    let o = rulesim(&[
        "rules",
        "show",
        "--rule-group",
        broken.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("group.json:1:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_strict_policy_orders_its_groups_by_priority() {
    let dir = tempfile::tempdir().expect("tempdir");
    let group = |name: &str, rules: &str| {
        let path = dir.path().join(format!("{name}.json"));
        let json = serde_json::json!({
            "RuleGroup": {"RulesSource": {"RulesString": rules}, "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}},
            "RuleGroupResponse": {"RuleGroupName": name, "RuleGroupArn": format!("arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/{name}")}
        });
        std::fs::write(&path, json.to_string()).expect("write");
        path
    };
    let first = group(
        "first",
        "drop tcp $HOME_NET any -> any 22 (msg:\"ssh\"; sid:10;)",
    );
    let second = group("second", "pass tcp $HOME_NET any -> any 443 (sid:20;)");
    let policy = dir.path().join("policy.json");
    let p = serde_json::json!({"FirewallPolicy": {
        "StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences": [
            {"ResourceArn": "arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/second", "Priority": 5},
            {"ResourceArn": "arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/first", "Priority": 10, "Override": {"Action": "DROP_TO_ALERT"}}],
        "StatefulDefaultActions": ["aws:drop_established"],
        "StatefulEngineOptions": {"RuleOrder": "STRICT_ORDER"}}});
    std::fs::write(&policy, p.to_string()).expect("write");
    let o = rulesim(&[
        "rules",
        "show",
        "--policy",
        policy.to_str().expect("utf8"),
        "--rule-group",
        first.to_str().expect("utf8"),
        "--rule-group",
        second.to_str().expect("utf8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let second_at = out.find("sid:20").expect("second group shown");
    let first_at = out.find("sid:10").expect("first group shown");
    assert!(
        second_at < first_at,
        "priority 5 before priority 10:\n{out}"
    );
    assert!(
        out.contains("[STRICT_ORDER, priority 5]")
            && out.contains("default actions: aws:drop_established"),
        "{out}"
    );
    assert!(
        out.contains("alert tcp $HOME_NET any -> any 22 (msg:\"ssh\"; sid:10;)"),
        "DROP_TO_ALERT turns the drop into an alert:\n{out}"
    );
    // A referenced group that was not given is an input error.
    let o = rulesim(&[
        "rules",
        "show",
        "--policy",
        policy.to_str().expect("utf8"),
        "--rule-group",
        first.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("references rule group `second`"));
}

#[test]
fn lint_exit_codes_and_formats() {
    let o = rulesim(&["lint", "-S", repo("rules").to_str().expect("utf8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the sample is clean:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("capacity: rule group `sample-domain-denylist` needs about 6 units"),
        "{out}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("x.rules");
    std::fs::write(&rules, "alert tcp any any -> any any (foo; sid:1;)\nalert icmp any 80 -> any any (sid:2;)\nalert tcp any any -> any any (lua:x.lua; sid:3;)\n").expect("write");
    let o = rulesim(&["lint", "-S", rules.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("x.rules:1:31: error[load-error]: unknown keyword `foo`"),
        "{out}"
    );
    assert!(out.contains("warning[never-matches]"), "{out}");
    let o = rulesim(&[
        "lint",
        "--format",
        "json",
        "-S",
        rules.to_str().expect("utf8"),
    ]);
    let report: Value = serde_json::from_slice(&o.stdout).expect("json report");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(3));
    let o = rulesim(&[
        "lint",
        "--format",
        "github",
        "-S",
        rules.to_str().expect("utf8"),
    ]);
    assert!(String::from_utf8_lossy(&o.stdout)
        .lines()
        .all(|l| l.starts_with("::error ") || l.starts_with("::warning ")));
    let o = rulesim(&[
        "lint",
        "-S",
        dir.path().join("missing.rules").to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_suricata_yaml_gives_the_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = dir.path().join("suricata.yaml");
    std::fs::write(&yaml, "%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: \"[192.0.2.0/24]\"\n    EXTERNAL_NET: \"!$HOME_NET\"\n    CUSTOM_NET: \"[198.51.100.0/24]\"\n").expect("write");
    let rules = dir.path().join("r.rules");
    std::fs::write(
        &rules,
        "alert tcp $CUSTOM_NET any -> $HOME_NET any (sid:1;)\n",
    )
    .expect("write");
    let o = rulesim(&[
        "lint",
        "-c",
        yaml.to_str().expect("utf8"),
        "-S",
        rules.to_str().expect("utf8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = rulesim(&["lint", "-S", rules.to_str().expect("utf8")]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "CUSTOM_NET exists only in the yaml"
    );
}

/// A Terraform JSON configuration holding a policy and the groups it references is one
/// complete input: `-S` finds the policy, the policy finds its groups in the same file.
#[test]
fn terraform_configuration_is_a_complete_policy_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tf = dir.path().join("firewall.tf.json");
    std::fs::write(
        &tf,
        r#"{"resource": {
          "aws_networkfirewall_rule_group": {
            "web": {"name": "web", "capacity": 10, "type": "STATEFUL",
              "rule_group": {
                "rule_variables": {"port_sets": {"key": "WEB", "port_set": {"definition": ["80", "443"]}}},
                "rules_source": {"stateful_rule": {"action": "PASS",
                  "header": {"protocol": "TCP", "source": "ANY", "source_port": "ANY", "direction": "FORWARD", "destination": "ANY", "destination_port": "$WEB"},
                  "rule_option": [{"keyword": "sid", "settings": ["7"]}]}},
                "stateful_rule_options": {"rule_order": "STRICT_ORDER"}}}
          },
          "aws_networkfirewall_firewall_policy": {
            "fw": {"name": "fw", "firewall_policy": {
              "stateless_default_actions": ["aws:forward_to_sfe"],
              "stateful_default_actions": ["aws:drop_strict"],
              "stateful_engine_options": {"rule_order": "STRICT_ORDER"},
              "stateful_rule_group_reference": {"priority": 1, "resource_arn": "${aws_networkfirewall_rule_group.web.arn}"}}}
          }
        }}"#,
    )
    .expect("write");
    let o = rulesim(&["rules", "show", "-S", tf.to_str().expect("utf8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("# policy fw [STRICT_ORDER]"), "{out}");
    assert!(out.contains("default actions: aws:drop_strict"), "{out}");
    assert!(
        out.contains("pass tcp any any -> any $WEB (sid:7;)"),
        "the 5-tuple rule, in the policy's group:\n{out}"
    );
}

/// A group whose rule order differs from its policy's: AWS refuses the policy, so a run
/// stops with an input error, and lint reports it as a finding and goes on.
#[test]
fn rule_order_conflict_stops_a_run_and_is_a_lint_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"FirewallPolicyResponse": {"FirewallPolicyName": "p"},
            "FirewallPolicy": {"StatelessDefaultActions": ["aws:forward_to_sfe"],
              "StatefulEngineOptions": {"RuleOrder": "STRICT_ORDER"},
              "StatefulRuleGroupReferences": [{"ResourceArn": "arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/g", "Priority": 1}]}}"#,
    )
    .expect("write");
    let group = dir.path().join("g.json");
    std::fs::write(
        &group,
        r#"{"RuleGroupResponse": {"RuleGroupName": "g"},
            "RuleGroup": {"RulesSource": {"RulesString": "alert tcp any any -> any 22 (msg:\"ssh\"; sid:1;)"}}}"#,
    )
    .expect("write");
    let (p, g) = (
        policy.to_str().expect("utf8"),
        group.to_str().expect("utf8"),
    );
    let o = rulesim(&["lint", "--policy", p, "--rule-group", g, "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).expect("json report");
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["aws-rule-order"]);
    assert_eq!(report["rules_loaded"], 1);

    let pcap = dir.path().join("x.pcap");
    write_pcap(&pcap, &http_conversation(40002, 1_700_000_000));
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "--policy",
        p,
        "--rule-group",
        g,
        "-l",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rule group `g` is DEFAULT_ACTION_ORDER but policy `p` is STRICT_ORDER"),
        "{err}"
    );
}

/// Netflow `app_proto` comes from the payload on any port, as Suricata detects it: TLS on
/// 8443, HTTP on 9000 and 8081, DNS over UDP; `failed` when neither side's bytes are a known
/// protocol; `unknown` for a TCP flow without a handshake (no app layer mid-stream).
#[test]
fn app_proto_is_detected_from_payload_on_any_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = Vec::new();
    let conv = |client: &str, server: &str, start: i64, c2s: &[u8], s2c: &[u8], handshake: bool| {
        let mut c = TcpConversation::new(sa(client), sa(server), Timestamp::new(start, 0));
        if handshake {
            c.handshake();
        }
        c.client_sends(c2s).server_sends(s2c).close();
        c.packets
    };
    all.extend(conv(
        "10.0.0.5:40001",
        "192.0.2.1:8443",
        1_700_000_000,
        &packets::tls_client_hello(Some("a.example")),
        &packets::tls_server_hello(),
        true,
    ));
    all.extend(conv(
        "10.0.0.5:40002",
        "192.0.2.1:9000",
        1_700_000_001,
        &packets::http_request("GET", "b.example", "/", "t"),
        &packets::http_response(200, "OK", "text/plain", "hi"),
        true,
    ));
    all.extend(conv(
        "10.0.0.5:40008",
        "192.0.2.1:8081",
        1_700_000_001,
        &packets::http_request("POST", "c.example", "/api", "t"),
        &packets::http_response(201, "Created", "text/plain", "ok"),
        true,
    ));
    all.extend(conv(
        "10.0.0.5:40003",
        "192.0.2.1:7000",
        1_700_000_002,
        // (Both directions at least as long as Suricata's pattern matcher needs to give
        // up: 25 bytes to the server, 9 to the client; shorter, the flow stays unknown.)
        b"\x00\x01binary hello, no protocol here",
        b"\x02\x03binary reply",
        true,
    ));
    all.extend(conv(
        "10.0.0.5:40004",
        "192.0.2.1:8080",
        1_700_000_003,
        &packets::http_request("GET", "c.example", "/", "t"),
        b"HTTP/1.1 200 OK\r\n\r\n",
        false,
    ));
    all.extend(conv(
        "10.0.0.5:40005",
        "192.0.2.1:2222",
        1_700_000_005,
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"SSH-2.0-OpenSSH_9.2\r\n",
        true,
    ));
    all.extend(conv(
        "10.0.0.5:40007",
        "192.0.2.1:2525",
        1_700_000_007,
        b"EHLO client.example\r\n",
        b"250 mail.example\r\n",
        true,
    ));
    // A Kerberos AS-REQ (ASN.1 application tag 10) over UDP to port 88.
    all.push(TimedPacket {
        ts: Timestamp::new(1_700_000_008, 0),
        ip: packets::udp(
            sa("10.0.0.5:50088"),
            sa("192.0.2.88:88"),
            64,
            &[0x6a, 0x81, 0x10, 0x30, 0x00],
        ),
    });
    all.push(TimedPacket {
        ts: Timestamp::new(1_700_000_006, 0),
        ip: packets::udp(
            sa("10.0.0.5:5060"),
            sa("192.0.2.7:5060"),
            64,
            b"OPTIONS sip:alice@example.com SIP/2.0\r\n\r\n",
        ),
    });
    all.push(TimedPacket {
        ts: Timestamp::new(1_700_000_004, 0),
        ip: packets::udp(
            sa("10.0.0.5:5353"),
            sa("192.0.2.53:53"),
            64,
            &packets::dns_query(7, "d.example", 1),
        ),
    });
    let pcap = dir.path().join("apps.pcap");
    write_pcap(&pcap, &all);
    let o = rulesim(&[
        "-r",
        pcap.to_str().expect("utf8"),
        "-l",
        dir.path().to_str().expect("utf8"),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got: Vec<(u64, String)> = lines(&dir.path().join("eve.json"))
        .iter()
        .filter(|e| e["event_type"] == "netflow" && e["src_ip"] == "10.0.0.5")
        .map(|e| {
            (
                e["dest_port"].as_u64().unwrap_or(0),
                e["app_proto"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (port, want) in [
        (8443, "tls"),
        (9000, "http"),
        (8081, "http"),
        (7000, "failed"),
        (8080, "unknown"),
        (53, "dns"),
    ] {
        assert!(
            got.contains(&(port, want.to_string())),
            "port {port}: want {want} in {got:?}"
        );
    }
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stats.json")).expect("stats.json"),
    )
    .expect("json");
    for (proto, flows) in [
        ("tls", 1),
        ("http", 2),
        ("failed", 1),
        ("unknown", 1),
        ("dns", 1),
        ("ssh", 1),
        ("sip", 1),
        ("smtp", 1),
        ("krb5", 1),
    ] {
        assert_eq!(
            stats["app_layer"][proto], flows,
            "flows counted by app_proto: {}",
            stats["app_layer"]
        );
    }
}

/// DNS is probed on its detection ports only, as in Suricata: port 5353 needs
/// `app-layer.protocols.dns.detection-ports.dp`.
#[test]
fn dns_detection_ports_are_configurable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("mdns.pcap");
    write_pcap(
        &pcap,
        &[TimedPacket {
            ts: Timestamp::new(1_700_000_000, 0),
            ip: packets::udp(
                sa("10.0.0.5:40000"),
                sa("192.0.2.53:5353"),
                64,
                &packets::dns_query(1, "e.example", 1),
            ),
        }],
    );
    let app_proto = |extra: &[&str]| {
        let out = dir.path().join(format!("out{}", extra.len()));
        let mut args = vec![
            "-q",
            "-r",
            pcap.to_str().expect("utf8"),
            "-l",
            out.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        let o = rulesim(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        lines(&out.join("eve.json"))[0]["app_proto"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(app_proto(&[]), "failed");
    assert_eq!(
        app_proto(&[
            "--set",
            "app-layer.protocols.dns.detection-ports.dp=[53,5353]"
        ]),
        "dns"
    );
}

#[cfg(unix)]
#[test]
fn a_capture_can_be_read_from_a_pipe() {
    // `tcpdump -w - | rulesim -r /dev/stdin`: the capture is read once, front to back,
    // pcap and pcapng alike.
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("c.pcap");
    let mut packets = http_conversation(40_000, 1_700_000_000);
    packets.extend(http_conversation(40_001, 1_700_000_010));
    write_pcap(&pcap, &packets);
    for (i, file) in [pcap, repo("pcaps/05-ipv6.pcapng")].iter().enumerate() {
        let fifo = dir.path().join(format!("pipe{i}"));
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success());
        let bytes = std::fs::read(file).expect("capture");
        let writer_path = fifo.clone();
        let writer = std::thread::spawn(move || std::fs::write(&writer_path, bytes));
        let from_file = dir.path().join(format!("file-out{i}"));
        let from_pipe = dir.path().join(format!("pipe-out{i}"));
        let piped = rulesim(&["-q", "-r", path_str(&fifo), "-l", path_str(&from_pipe)]);
        writer
            .join()
            .expect("writer thread")
            .expect("write to the pipe");
        assert!(
            piped.status.success(),
            "{}",
            String::from_utf8_lossy(&piped.stderr)
        );
        let direct = rulesim(&["-q", "-r", path_str(file), "-l", path_str(&from_file)]);
        assert!(direct.status.success());
        let records = lines(&from_pipe.join("eve.json"));
        assert!(
            records.len() >= 2,
            "{}: {} records",
            file.display(),
            records.len()
        );
        assert_eq!(records, lines(&from_file.join("eve.json")));
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}
