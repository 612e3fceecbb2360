//! AWS Network Firewall behaviour that has no Suricata oracle, held to hand-derived
//! examples from AWS's documentation (`../shared/spec/aws-network-firewall.md` cites the
//! pages): strict order against action order with domain lists, allowlists and their
//! catch-all drops in both orders, `aws:drop_established` on a ClientHello split over two
//! segments (and the application-layer variant AWS added for it), the `--aws` switch and
//! the default actions' configurable sids. And that no rule source makes rulesim read a
//! file it names.
//!
//! Every capture: client 10.0.0.5 (HOME_NET 10.0.0.0/16) to 93.184.216.34; a TLS flow is
//! SYN (1), SYN/ACK (2), ACK (3), ClientHello (4), ACK (5), ServerHello (6), ACK (7),
//! FIN (8), FIN/ACK (9), ACK (10).

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use common::{sa, write_pcap};
use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::{json, Value};

/// (pcap_cnt, sid, alert.action, signature) of an alert.
type Alert = (u64, u64, String, String);

fn conversation(port: u16) -> TcpConversation {
    TcpConversation::new(
        SocketAddr::new("10.0.0.5".parse().expect("ip"), port),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_000 + i64::from(port), 0),
    )
}

/// A TLS session to `sni`, its ClientHello in one segment.
fn tls_to(sni: &str, port: u16) -> Vec<TimedPacket> {
    let mut c = conversation(port);
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some(sni)))
        .server_sends(&packets::tls_server_hello())
        .close();
    c.packets
}

/// A TLS session to `sni` whose ClientHello is split over two segments, the SNI in the
/// second: SYN (1), SYN/ACK (2), ACK (3), first part (4), ACK (5), second part (6),
/// ACK (7), ServerHello (8), ACK (9), FIN (10), FIN/ACK (11), ACK (12).
fn tls_split_to(sni: &str, port: u16) -> Vec<TimedPacket> {
    let hello = packets::tls_client_hello(Some(sni));
    let (first, second) = hello.split_at(20);
    let mut c = conversation(port);
    c.handshake()
        .client_sends(first)
        .client_sends(second)
        .server_sends(&packets::tls_server_hello())
        .close();
    c.packets
}

/// An HTTP GET to `host` on port 80: SYN (1), SYN/ACK (2), ACK (3), request (4), ACK (5),
/// response (6), ACK (7), FIN (8), FIN/ACK (9), ACK (10).
fn http_to(host: &str, port: u16) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        SocketAddr::new("10.0.0.5".parse().expect("ip"), port),
        sa("93.184.216.34:80"),
        Timestamp::new(1_700_000_000 + i64::from(port), 0),
    );
    c.handshake()
        .client_sends(&packets::http_request("GET", host, "/", "curl/8.0"))
        .server_sends(&packets::http_response(200, "OK", "text/plain", "hello"))
        .close();
    c.packets
}

/// A domain-list rule group (`ALLOWLIST` or `DENYLIST`) named `name`.
fn domain_list(name: &str, kind: &str, targets: &[&str], types: &[&str], order: &str) -> Value {
    json!({
        "RuleGroup": {
            "RulesSource": {"RulesSourceList": {
                "Targets": targets, "TargetTypes": types, "GeneratedRulesType": kind}},
            "StatefulRuleOptions": {"RuleOrder": order}},
        "RuleGroupResponse": {"RuleGroupName": name, "RuleGroupArn": arn(name), "Type": "STATEFUL"}
    })
}

/// A rule group of Suricata rules.
fn rules_group(name: &str, rules: &str, order: &str) -> Value {
    json!({
        "RuleGroup": {"RulesSource": {"RulesString": rules},
                      "StatefulRuleOptions": {"RuleOrder": order}},
        "RuleGroupResponse": {"RuleGroupName": name, "RuleGroupArn": arn(name), "Type": "STATEFUL"}
    })
}

fn arn(name: &str) -> String {
    format!("arn:aws:network-firewall:us-east-1:111122223333:stateful-rulegroup/{name}")
}

/// A firewall policy referencing `groups` (name, priority) in `order` with the stateful
/// default actions `defaults`.
fn policy(groups: &[(&str, u32)], order: &str, defaults: &[&str]) -> Value {
    let refs: Vec<Value> = groups
        .iter()
        .map(|(name, priority)| json!({"ResourceArn": arn(name), "Priority": priority}))
        .collect();
    let mut p = json!({"FirewallPolicy": {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences": refs,
        "StatefulEngineOptions": {"RuleOrder": order},
        "PolicyVariables": {"RuleVariables": {"HOME_NET": {"Definition": ["10.0.0.0/16"]}}}}});
    if !defaults.is_empty() {
        p["FirewallPolicy"]["StatefulDefaultActions"] = json!(defaults);
    }
    p
}

/// What a run gives: alerts, the detect counters of stats.json, and the log directory.
struct Run {
    alerts: Vec<Alert>,
    detect: Value,
    dir: tempfile::TempDir,
}

impl Run {
    /// Packets dropped: by a rule or default action, or as part of a dropped flow.
    fn drops(&self) -> u64 {
        self.detect["drop_packets"].as_u64().expect("drop_packets")
            + self.detect["flow_drop_packets"]
                .as_u64()
                .expect("flow_drop_packets")
    }
}

/// Runs rulesim on `packets` with the rule groups (written as JSON files), the policy
/// when given, and `args`.
fn run(packets: &[TimedPacket], groups: &[Value], policy: Option<&Value>, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, packets);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesim"));
    cmd.arg("-q").arg("-r").arg(&pcap);
    for (i, g) in groups.iter().enumerate() {
        let path = dir.path().join(format!("group{i}.json"));
        std::fs::write(&path, g.to_string()).expect("write group");
        cmd.arg("--rule-group").arg(path);
    }
    if let Some(p) = policy {
        let path = dir.path().join("policy.json");
        std::fs::write(&path, p.to_string()).expect("write policy");
        cmd.arg("--policy").arg(path);
    }
    let out_dir = dir.path().join("out");
    cmd.args(args).arg("-l").arg(&out_dir);
    let out = cmd.output().expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eve = std::fs::read_to_string(out_dir.join("eve.json")).expect("eve.json");
    common::check_eve_schema(&eve, "an AWS run");
    let alerts = alerts_in(&eve);
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("stats.json")).expect("stats"))
            .expect("json");
    Run {
        alerts,
        detect: stats["detect"].clone(),
        dir,
    }
}

/// The alerts of an eve.json.
fn alerts_in(eve: &str) -> Vec<Alert> {
    eve.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|r| r["event_type"] == "alert")
        .map(|a| {
            (
                a["pcap_cnt"].as_u64().expect("pcap_cnt"),
                a["alert"]["signature_id"].as_u64().expect("sid"),
                a["alert"]["action"].as_str().expect("action").to_string(),
                a["alert"]["signature"].as_str().expect("msg").to_string(),
            )
        })
        .collect()
}

fn alert(pcap_cnt: u64, sid: u64, action: &str, msg: &str) -> Alert {
    (pcap_cnt, sid, action.to_string(), msg.to_string())
}

/// Each TLS flow to `names` in turn (ports 40001, 40002, ...), packets renumbered from 1
/// per flow: the runs below take one flow at a time so that pcap_cnt names its packet.
fn each_tls(names: &[&str]) -> Vec<(String, Vec<TimedPacket>)> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), tls_to(n, 40001 + i as u16)))
        .collect()
}

const DENY: &str = "matching TLS denylisted FQDNs";
const NOT_ALLOWED_TLS: &str = "not matching any TLS allowlisted FQDNs";
const NOT_ALLOWED_HTTP: &str = "not matching any HTTP allowlisted FQDNs";
const ALERT_ESTABLISHED: &str = "aws:alert_established action";

/// AWS's strict-order example: a deny of one name in a group of higher priority, above
/// an allow of its parent domain, blocks that name and lets the rest of the domain
/// through. In action order the same two groups let the denied name through: every pass
/// sorts before every drop.
#[test]
fn strict_order_drops_a_name_above_a_pass_of_its_parent_domain_action_order_does_not() {
    let strict = [
        domain_list(
            "deny-one",
            "DENYLIST",
            &["bad.example.com"],
            &["TLS_SNI"],
            "STRICT_ORDER",
        ),
        domain_list(
            "allow-domain",
            "ALLOWLIST",
            &[".example.com"],
            &["TLS_SNI"],
            "STRICT_ORDER",
        ),
    ];
    let strict_policy = policy(
        &[("deny-one", 1), ("allow-domain", 2)],
        "STRICT_ORDER",
        &["aws:drop_established", "aws:alert_established"],
    );
    for (name, flow) in each_tls(&["www.example.com", "bad.example.com", "other.test"]) {
        let r = run(&flow, &strict, Some(&strict_policy), &["--aws"]);
        match name.as_str() {
            // The allowlist's pass decides on the ClientHello; the flow is passed.
            "www.example.com" => {
                assert_eq!(r.alerts, [], "{name}");
                assert_eq!(r.drops(), 0, "{name}");
            }
            // The deny, first in strict order, decides: the ClientHello and the rest of
            // the flow are dropped, the one alert is the deny's.
            "bad.example.com" => {
                assert_eq!(r.alerts, [alert(4, 1, "blocked", DENY)], "{name}");
                assert_eq!(r.drops(), 7, "{name}: packets 4 to 10");
            }
            // Neither list names it: in strict order no catch-all drop is generated, the
            // default actions drop and log every established packet.
            _ => {
                assert_eq!(
                    r.alerts,
                    (4..=10)
                        .map(|n| alert(n, 4, "blocked", ALERT_ESTABLISHED))
                        .collect::<Vec<_>>(),
                    "{name}"
                );
                assert_eq!(r.drops(), 7, "{name}");
            }
        }
    }

    let action = [
        domain_list(
            "deny-one",
            "DENYLIST",
            &["bad.example.com"],
            &["TLS_SNI"],
            "DEFAULT_ACTION_ORDER",
        ),
        domain_list(
            "allow-domain",
            "ALLOWLIST",
            &[".example.com"],
            &["TLS_SNI"],
            "DEFAULT_ACTION_ORDER",
        ),
    ];
    let action_policy = policy(
        &[("deny-one", 1), ("allow-domain", 2)],
        "DEFAULT_ACTION_ORDER",
        &[],
    );
    for (name, flow) in each_tls(&["www.example.com", "bad.example.com", "other.test"]) {
        let r = run(&flow, &action, Some(&action_policy), &["--aws"]);
        match name.as_str() {
            // The pass of `.example.com` sorts before the deny and passes the flow.
            "www.example.com" | "bad.example.com" => {
                assert_eq!(r.alerts, [], "{name}");
                assert_eq!(r.drops(), 0, "{name}");
            }
            // The allowlist's catch-all drop (action order generates it).
            _ => {
                assert_eq!(
                    r.alerts,
                    [alert(4, 2, "blocked", NOT_ALLOWED_TLS)],
                    "{name}"
                );
                assert_eq!(r.drops(), 7, "{name}");
            }
        }
    }
}

/// An allowlist for TLS and HTTP in both orders: in action order its catch-all drops
/// (one per protocol, after the passes) block what it does not list; in strict order no
/// catch-all is generated and the default action does, with its own alert. Both orders
/// pass what the list names.
#[test]
fn an_allowlist_and_its_catch_all_drops_in_both_orders() {
    let both = ["TLS_SNI", "HTTP_HOST"];
    for order in ["DEFAULT_ACTION_ORDER", "STRICT_ORDER"] {
        let strict = order == "STRICT_ORDER";
        let groups = [domain_list(
            "allow",
            "ALLOWLIST",
            &[".example.com"],
            &both,
            order,
        )];
        let defaults: &[&str] = if strict {
            &["aws:drop_established", "aws:alert_established"]
        } else {
            &[]
        };
        let p = policy(&[("allow", 1)], order, defaults);
        let listed_tls = run(
            &tls_to("www.example.com", 41001),
            &groups,
            Some(&p),
            &["--aws"],
        );
        assert_eq!(listed_tls.alerts, [], "{order}");
        assert_eq!(listed_tls.drops(), 0, "{order}");
        let listed_http = run(
            &http_to("example.com", 41002),
            &groups,
            Some(&p),
            &["--aws"],
        );
        assert_eq!(listed_http.alerts, [], "{order}");
        assert_eq!(listed_http.drops(), 0, "{order}");

        let other_tls = run(&tls_to("other.test", 41003), &groups, Some(&p), &["--aws"]);
        let other_http = run(&http_to("other.test", 41004), &groups, Some(&p), &["--aws"]);
        if strict {
            let defaults_log = (4..=10)
                .map(|n| alert(n, 4, "blocked", ALERT_ESTABLISHED))
                .collect::<Vec<_>>();
            assert_eq!(other_tls.alerts, defaults_log, "{order}");
            assert_eq!(other_http.alerts, defaults_log, "{order}");
        } else {
            // Generated sids: the TLS and HTTP passes of the one target (1, 2), then the
            // catch-all drops, TLS (3) then HTTP (4).
            assert_eq!(
                other_tls.alerts,
                [alert(4, 3, "blocked", NOT_ALLOWED_TLS)],
                "{order}"
            );
            assert_eq!(
                other_http.alerts,
                [alert(4, 4, "blocked", NOT_ALLOWED_HTTP)],
                "{order}"
            );
        }
        assert_eq!(other_tls.drops(), 7, "{order}");
        assert_eq!(other_http.drops(), 7, "{order}");
    }
}

/// AWS's reason for the application-layer default actions: with `aws:drop_established`
/// the first segment of a ClientHello split in two is an established packet no pass rule
/// matches yet (the SNI is in the second), so it is dropped and logged, and so is the
/// server's ACK of it; the second segment completes the ClientHello, the allowlist's pass
/// matches and passes the flow. `aws:drop_established_app_layer` waits for the
/// application layer instead: nothing is dropped.
#[test]
fn drop_established_drops_the_first_half_of_a_split_client_hello() {
    let groups = [domain_list(
        "allow",
        "ALLOWLIST",
        &[".example.com"],
        &["TLS_SNI"],
        "STRICT_ORDER",
    )];
    let flow = tls_split_to("www.example.com", 42001);
    let p = policy(
        &[("allow", 1)],
        "STRICT_ORDER",
        &["aws:drop_established", "aws:alert_established"],
    );
    let r = run(&flow, &groups, Some(&p), &["--aws"]);
    assert_eq!(
        r.alerts,
        [
            alert(4, 4, "blocked", ALERT_ESTABLISHED),
            alert(5, 4, "blocked", ALERT_ESTABLISHED)
        ]
    );
    assert_eq!(r.drops(), 2);

    let p = policy(
        &[("allow", 1)],
        "STRICT_ORDER",
        &[
            "aws:drop_established_app_layer",
            "aws:alert_established_app_layer",
        ],
    );
    let r = run(&flow, &groups, Some(&p), &["--aws"]);
    assert_eq!(r.alerts, []);
    assert_eq!(r.drops(), 0);
    // A name the list does not allow is still dropped once its ClientHello is complete.
    let r = run(
        &tls_split_to("other.test", 42002),
        &groups,
        Some(&p),
        &["--aws"],
    );
    assert!(r.drops() > 0 && !r.alerts.is_empty(), "{:?}", r.alerts);
    assert!(r
        .alerts
        .iter()
        .all(|a| a.1 == 6 && a.2 == "blocked" && a.3 == "aws:alert_established_app_layer action"));
}

/// `--aws` is one switch for "behave as AWS Network Firewall": plain rule files run in
/// strict order (an alert written before a pass logs; in Suricata's action order the pass
/// sorts first and silences it), inline timing (the alert is on the ClientHello's own
/// packet, 4, not on the server's ACK of it, 5), and the AWS logs are written.
#[test]
fn the_aws_switch_means_strict_order_inline_timing_and_aws_logs() {
    let rules = "\
alert tls $HOME_NET any -> any any (msg:\"seen\"; tls.sni; content:\"example.com\"; endswith; flow:to_server; sid:7;)
pass tls $HOME_NET any -> any any (tls.sni; content:\"example.com\"; endswith; flow:to_server; sid:1;)
";
    let dir = tempfile::tempdir().expect("tempdir");
    let rules_file = dir.path().join("local.rules");
    std::fs::write(&rules_file, rules).expect("rules");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, &tls_to("www.example.com", 43001));
    let alerts_of = |args: &[&str], out: &Path| -> Vec<Alert> {
        let o = Command::new(env!("CARGO_BIN_EXE_rulesim"))
            .arg("-q")
            .arg("-r")
            .arg(&pcap)
            .arg("-S")
            .arg(&rules_file)
            .args(["--home-net", "[10.0.0.0/16]"])
            .args(args)
            .arg("-l")
            .arg(out)
            .output()
            .expect("run rulesim");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        alerts_in(&std::fs::read_to_string(out.join("eve.json")).expect("eve"))
    };
    let aws_out = dir.path().join("aws");
    assert_eq!(
        alerts_of(&["--aws"], &aws_out),
        [alert(4, 7, "allowed", "seen")]
    );
    for log in ["alert.json", "flow.json"] {
        let text = std::fs::read_to_string(aws_out.join(log)).expect(log);
        let first: Value =
            serde_json::from_str(text.lines().next().expect("a record")).expect("json");
        assert_eq!(first["firewall_name"], "rulesim", "{log}");
    }
    // Suricata's action order, IDS or inline: the pass silences the alert.
    assert_eq!(alerts_of(&[], &dir.path().join("ids")), []);
    assert_eq!(alerts_of(&["--simulate-ips"], &dir.path().join("ips")), []);
    assert!(!dir.path().join("ips").join("alert.json").exists());
    // --aws-log names the firewall.
    let named = dir.path().join("named");
    alerts_of(&["--aws", "--aws-log", "edge-fw"], &named);
    let text = std::fs::read_to_string(named.join("alert.json")).expect("alert.json");
    assert!(text.contains("\"firewall_name\":\"edge-fw\""), "{text}");
}

/// AWS documents sids 2, 4, 6, 8 for the alert default actions but a 2023 record shows 2
/// for `alert_established`: the sids are settings.
#[test]
fn default_action_sids_are_settings() {
    let groups = [rules_group(
        "g",
        "pass tls $HOME_NET any -> any any (tls.sni; content:\"example.com\"; endswith; flow:to_server; sid:1;)",
        "STRICT_ORDER",
    )];
    let p = policy(
        &[("g", 1)],
        "STRICT_ORDER",
        &["aws:drop_established", "aws:alert_established"],
    );
    let flow = tls_to("other.test", 44001);
    let r = run(
        &flow,
        &groups,
        Some(&p),
        &[
            "--aws",
            "--set",
            "aws.default-action-sids.alert_established=2",
        ],
    );
    assert_eq!(r.alerts.len(), 7);
    assert!(r.alerts.iter().all(|a| a.1 == 2), "{:?}", r.alerts);
    let r = run(&flow, &groups, Some(&p), &["--aws"]);
    assert!(r.alerts.iter().all(|a| a.1 == 4), "{:?}", r.alerts);
    drop(r.dir);
}

/// A rule source never makes rulesim read a file it names: an `include` line in a rule
/// file or in a rule group's `RulesString` is a rule that fails to parse (Suricata's
/// `include` is a suricata.yaml key, not rule syntax), and a policy's reference is
/// matched against the rule groups given with `--rule-group`, never opened as a path.
/// The file they name holds a rule that would alert on every packet; it never does.
#[test]
fn rule_sources_make_rulesim_read_no_other_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("secret");
    std::fs::create_dir(&secret).expect("mkdir");
    let secret_rules = secret.join("secret.rules");
    std::fs::write(
        &secret_rules,
        "alert ip any any -> any any (msg:\"SECRET\"; sid:99;)\n",
    )
    .expect("write");
    let secret_group = secret.join("secret.json");
    std::fs::write(
        &secret_group,
        rules_group(
            "secret",
            "alert ip any any -> any any (msg:\"SECRET\"; sid:99;)",
            "STRICT_ORDER",
        )
        .to_string(),
    )
    .expect("write");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, &tls_to("example.com", 40_000));
    let rulesim = |args: &[&std::ffi::OsStr]| {
        let out_dir = tempfile::tempdir().expect("tempdir");
        // Not quiet: the rule errors are what the test reads.
        let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
            .arg("-r")
            .arg(&pcap)
            .arg("-l")
            .arg(out_dir.path())
            .args(args)
            .output()
            .expect("run rulesim");
        let eve = std::fs::read_to_string(out_dir.path().join("eve.json")).unwrap_or_default();
        let mut sids: Vec<u64> = alerts_in(&eve).iter().map(|a| a.1).collect();
        sids.dedup();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
            sids,
        )
    };

    // A rule file: each `include` line is a syntax error at its own line, the rule after
    // them loads.
    let main_rules = dir.path().join("main.rules");
    std::fs::write(
        &main_rules,
        format!(
            "include {}\ninclude: secret/secret.rules\nalert ip any any -> any any (msg:\"main\"; sid:1;)\n",
            secret_rules.display()
        ),
    )
    .expect("write");
    let (code, stderr, sids) = rulesim(&["-S".as_ref(), main_rules.as_os_str()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("main.rules:1:") && stderr.contains("main.rules:2:"),
        "{stderr}"
    );
    assert_eq!(sids, [1]);

    // A rule group whose RulesString includes the file.
    let group = dir.path().join("g.json");
    std::fs::write(
        &group,
        rules_group(
            "g",
            &format!(
                "include {}\nalert ip any any -> any any (msg:\"group\"; sid:2;)",
                secret_rules.display()
            ),
            "STRICT_ORDER",
        )
        .to_string(),
    )
    .expect("write");
    let only_g = dir.path().join("only-g.json");
    std::fs::write(
        &only_g,
        policy(&[("g", 1)], "STRICT_ORDER", &[]).to_string(),
    )
    .expect("write");
    let (code, stderr, sids) = rulesim(&[
        "--rule-group".as_ref(),
        group.as_os_str(),
        "--policy".as_ref(),
        only_g.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(sids, [2]);

    // A policy naming the other group's file, by absolute and by relative path: an
    // input error that says how to give it.
    for reference in [
        secret_group.display().to_string(),
        "secret/secret.json".to_string(),
    ] {
        let mut p = policy(&[("g", 1)], "STRICT_ORDER", &[]);
        p["FirewallPolicy"]["StatefulRuleGroupReferences"]
            .as_array_mut()
            .expect("references")
            .push(json!({"ResourceArn": reference, "Priority": 2}));
        let path = dir.path().join("policy.json");
        std::fs::write(&path, p.to_string()).expect("write");
        let (code, stderr, sids) = rulesim(&[
            "--rule-group".as_ref(),
            group.as_os_str(),
            "--policy".as_ref(),
            path.as_os_str(),
        ]);
        assert_eq!(code, Some(2), "{reference}: {stderr}");
        assert!(
            stderr.contains(&reference) && stderr.contains("give its JSON with --rule-group"),
            "{stderr}"
        );
        assert!(sids.is_empty());
    }
}
