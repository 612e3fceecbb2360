//! End-to-end tests of `rulesim report`: every table held to counts worked out by hand on
//! a small generated capture, the same tables read back from the logs of the same run
//! (rulesim's eve.json, its AWS-format logs, gzip), the output forms, and the failure
//! paths.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rulesim::synth::packets::{http_request, http_response, tls_client_hello, tls_server_hello};
use rulesim::synth::{TcpConversation, TimedPacket};
use rulesim::time::Timestamp;
use serde_json::{json, Value};

use common::{sa, write_pcap};

/// Domain-list-style drops on TLS SNI and HTTP host, an alert on curl's user agent, and a
/// rule nothing matches.
const RULES: &str = r#"drop tls $HOME_NET any -> $EXTERNAL_NET any (msg:"matching TLS denylisted FQDNs"; ssl_state:client_hello; tls.sni; content:"bad.example"; startswith; nocase; endswith; flow:to_server, established; sid:1; rev:1;)
drop http $HOME_NET any -> $EXTERNAL_NET any (msg:"matching HTTP denylisted FQDNs"; http.host; content:"bad.example"; startswith; endswith; flow:to_server, established; sid:2; rev:1;)
alert http any any -> any any (msg:"curl user agent"; http.user_agent; content:"curl/"; startswith; sid:10; rev:1;)
alert tls any any -> any any (msg:"never seen"; tls.sni; content:"nothing.invalid"; sid:11; rev:1;)
"#;

/// Eight flows, ten seconds apart, from 2026-01-15T09:00:00Z:
/// 1-3 TLS to bad.example from 10.0.0.1, 10.0.0.1, 10.0.0.2 (blocked by sid 1);
/// 4 TLS to good.example from 10.0.0.2 (allowed, quiet);
/// 5 HTTP to bad.example with curl from 10.0.0.3 (blocked by sid 2, sid 10 alerts too);
/// 6-7 HTTP to ok.example with curl from 10.0.0.3 and 10.0.0.4 (sid 10 alerts);
/// 8 HTTP to ok.example with a browser from 10.0.0.4 (allowed, quiet).
fn scenario(dir: &Path) -> (PathBuf, PathBuf) {
    let t0 = 1_768_467_600; // 2026-01-15T09:00:00Z
    let mut packets: Vec<TimedPacket> = Vec::new();
    let tls = |n: i64, client: &str, sni: &str| {
        let mut c = TcpConversation::new(
            sa(&format!("{client}:{}", 40_000 + n)),
            sa("203.0.113.10:443"),
            Timestamp::new(t0 + 10 * n, 0),
        );
        c.handshake()
            .client_sends(&tls_client_hello(Some(sni)))
            .server_sends(&tls_server_hello())
            .close();
        c.packets
    };
    let http = |n: i64, client: &str, host: &str, ua: &str| {
        let mut c = TcpConversation::new(
            sa(&format!("{client}:{}", 40_000 + n)),
            sa("203.0.113.30:80"),
            Timestamp::new(t0 + 10 * n, 0),
        );
        c.handshake()
            .client_sends(&http_request("GET", host, "/", ua))
            .server_sends(&http_response(200, "OK", "text/plain", "hello"))
            .close();
        c.packets
    };
    packets.extend(tls(0, "10.0.0.1", "bad.example"));
    packets.extend(tls(1, "10.0.0.1", "bad.example"));
    packets.extend(tls(2, "10.0.0.2", "bad.example"));
    packets.extend(tls(3, "10.0.0.2", "good.example"));
    packets.extend(http(4, "10.0.0.3", "bad.example", "curl/8.5.0"));
    packets.extend(http(5, "10.0.0.3", "ok.example", "curl/8.5.0"));
    packets.extend(http(6, "10.0.0.4", "ok.example", "curl/8.5.0"));
    packets.extend(http(7, "10.0.0.4", "ok.example", "Mozilla/5.0"));
    let pcap = dir.join("scenario.pcap");
    write_pcap(&pcap, &packets);
    let rules = dir.join("scenario.rules");
    std::fs::write(&rules, RULES).expect("write rules");
    (pcap, rules)
}

/// Runs the scenario inline with EVE and AWS-format logs (firewall `fw-1`) into `dir/logs`.
fn run_with_logs(dir: &Path, pcap: &Path, rules: &Path) -> PathBuf {
    let logs = dir.join("logs");
    let o = rulesim(&[
        "-q",
        "-r",
        path(pcap),
        "-S",
        path(rules),
        "--simulate-ips",
        "-l",
        path(&logs),
        "--aws-log",
        "fw-1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    logs
}

fn rulesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .args(args)
        .output()
        .expect("run rulesim")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json_report(args: &[&str]) -> Value {
    let mut all = vec!["report", "-q", "--format", "json"];
    all.extend_from_slice(args);
    let o = rulesim(&all);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).expect("json report")
}

/// The tables a replay and its logs must agree on.
fn shared_tables(r: &Value) -> Value {
    let rules: Vec<Value> = r["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|x| {
            json!([
                x["sid"],
                x["alerts"],
                x["blocked_alerts"],
                x["flows"],
                x["alerts_per_1000_flows"],
                x["first_seen"],
                x["last_seen"]
            ])
        })
        .collect();
    json!({
        "summary": [r["summary"]["flows"], r["summary"]["alerts"], r["summary"]["blocked_flows"],
                    r["summary"]["alerted_flows"], r["summary"]["quiet_flows"]],
        "rules": rules,
        "never_hit": r["never_hit"].as_array().map(|n| n.iter().map(|x| x["sid"].clone()).collect::<Vec<_>>()),
        "top_blocked_sni": r["top_blocked_sni"],
        "top_blocked_http_hosts": r["top_blocked_http_hosts"],
        "top_sources_for_blocked_fqdns": r["top_sources_for_blocked_fqdns"],
        "top_allowed_alert_signatures": r["top_allowed_alert_signatures"],
        "top_sources_per_signature": r["top_sources_per_signature"],
        "timeline": r["timeline"],
    })
}

#[test]
fn every_table_holds_the_hand_counted_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pcap, rules) = scenario(dir.path());
    let r = json_report(&["-r", path(&pcap), "-S", path(&rules), "--simulate-ips"]);

    assert_eq!(r["source"]["kind"], "replay");
    assert_eq!(r["source"]["mode"], "ips");
    let s = &r["summary"];
    assert_eq!(
        (s["flows"].as_u64(), s["alerts"].as_u64()),
        (Some(8), Some(7)),
        "{s}"
    );
    assert_eq!(s["blocked_flows"], 4);
    assert_eq!(s["alerted_flows"], 2);
    assert_eq!(s["quiet_flows"], 2);
    assert_eq!(s["rules"], 4);
    assert_eq!(s["rules_hit"], 3);
    assert_eq!(s["rules_never_hit"], 1);
    assert_eq!(s["first_flow"], "2026-01-15T09:00:00.000000+0000");
    assert_eq!(s["last_flow"], "2026-01-15T09:01:10.000000+0000");

    let verdicts: Vec<(String, String, u64)> = r["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            (
                v["verdict"].as_str().unwrap_or("").to_string(),
                v["decided_by"].as_str().unwrap_or("").to_string(),
                v["flows"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("blocked".into(), "rule".into(), 4),
            ("allowed".into(), "no rule".into(), 2),
            ("allowed".into(), "no rule (alerts only)".into(), 2),
        ]
    );

    // Rules: most alerts first; sids 1 and 10 tie on 3 alerts (sid order breaks it).
    let rows: Vec<Value> = r["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|x| {
            json!([
                x["sid"],
                x["action"],
                x["alerts"],
                x["blocked_alerts"],
                x["flows"],
                x["hit_flows"],
                x["decided_flows"],
                x["alerts_per_1000_flows"],
                x["location"]
            ])
        })
        .collect();
    let loc = |line: u32| format!("{}:{line}", path(&rules));
    assert_eq!(
        rows,
        vec![
            json!([1, "drop", 3, 3, 3, 3, 3, 375.0, loc(1)]),
            json!([10, "alert", 3, 0, 3, 3, 0, 375.0, loc(3)]),
            json!([2, "drop", 1, 1, 1, 1, 1, 125.0, loc(2)]),
        ]
    );
    assert_eq!(
        r["rules"][0]["first_seen"],
        "2026-01-15T09:00:00.030000+0000"
    );
    assert_eq!(
        r["rules"][0]["last_seen"],
        "2026-01-15T09:00:20.030000+0000"
    );
    assert_eq!(r["never_hit"][0]["sid"], 11);
    assert_eq!(r["never_hit"][0]["msg"], "never seen");

    assert_eq!(
        r["top_blocked_sni"],
        json!([{"name": "bad.example", "flows": 3, "alerts": 3, "blocked_by": ["1:1"]}])
    );
    assert_eq!(
        r["top_blocked_http_hosts"],
        json!([{"name": "bad.example", "flows": 1, "alerts": 1, "blocked_by": ["1:2"]}])
    );
    // Both blocked names are bad.example: its clients, busiest first, then by address.
    assert_eq!(
        r["top_sources_for_blocked_fqdns"],
        json!([
            {"fqdn": "bad.example", "src_ip": "10.0.0.1", "flows": 2},
            {"fqdn": "bad.example", "src_ip": "10.0.0.2", "flows": 1},
            {"fqdn": "bad.example", "src_ip": "10.0.0.3", "flows": 1},
        ])
    );
    assert_eq!(
        r["top_allowed_alert_signatures"],
        json!([{"gid": 1, "sid": 10, "msg": "curl user agent", "alerts": 3, "flows": 3}])
    );
    assert_eq!(
        r["top_sources_per_signature"],
        json!([
            {"gid": 1, "sid": 1, "msg": "matching TLS denylisted FQDNs", "src_ip": "10.0.0.1", "alerts": 2},
            {"gid": 1, "sid": 1, "msg": "matching TLS denylisted FQDNs", "src_ip": "10.0.0.2", "alerts": 1},
            {"gid": 1, "sid": 10, "msg": "curl user agent", "src_ip": "10.0.0.3", "alerts": 2},
            {"gid": 1, "sid": 10, "msg": "curl user agent", "src_ip": "10.0.0.4", "alerts": 1},
            {"gid": 1, "sid": 2, "msg": "matching HTTP denylisted FQDNs", "src_ip": "10.0.0.3", "alerts": 1},
        ])
    );

    // 70 seconds of flows: one-second buckets, one flow every tenth.
    let t = &r["timeline"];
    assert_eq!(t["bucket_seconds"], 1);
    let buckets = t["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 71);
    let class = |i: usize| {
        let b = &buckets[i];
        (
            b["blocked"].as_u64(),
            b["alerted"].as_u64(),
            b["allowed"].as_u64(),
        )
    };
    assert_eq!(class(0), (Some(1), Some(0), Some(0)));
    assert_eq!(class(30), (Some(0), Some(0), Some(1)));
    assert_eq!(class(50), (Some(0), Some(1), Some(0)));
    assert_eq!(class(5), (Some(0), Some(0), Some(0)));

    // --top, --fqdn and --sid narrow the tables.
    let r = json_report(&[
        "-r",
        path(&pcap),
        "-S",
        path(&rules),
        "--simulate-ips",
        "--top",
        "1",
        "--sid",
        "10",
    ]);
    assert_eq!(r["rules"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        r["top_sources_per_signature"],
        json!([{"gid": 1, "sid": 10, "msg": "curl user agent", "src_ip": "10.0.0.3", "alerts": 2}])
    );
    let r = json_report(&[
        "-r",
        path(&pcap),
        "-S",
        path(&rules),
        "--simulate-ips",
        "--fqdn",
        "BAD.example",
    ]);
    assert_eq!(
        r["top_sources_for_blocked_fqdns"].as_array().map(Vec::len),
        Some(3)
    );
    let r = json_report(&[
        "-r",
        path(&pcap),
        "-S",
        path(&rules),
        "--simulate-ips",
        "--fqdn",
        "ok.example",
    ]);
    assert_eq!(r["top_sources_for_blocked_fqdns"], json!([]));
}

/// What production logged and what rulesim predicts read the same: the run's own
/// eve.json, and its AWS Network Firewall logs (alert log gzipped, as S3 delivers them,
/// flow log behind a CloudWatch export's timestamps), give the replay's tables.
#[test]
fn the_logs_of_a_run_give_the_replays_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pcap, rules) = scenario(dir.path());
    let logs = run_with_logs(dir.path(), &pcap, &rules);
    let replay = json_report(&["-r", path(&pcap), "-S", path(&rules), "--simulate-ips"]);
    let expected = shared_tables(&replay);

    let from_eve = json_report(&["--eve", path(&logs.join("eve.json")), "-S", path(&rules)]);
    assert_eq!(from_eve["source"]["kind"], "logs");
    assert_eq!(shared_tables(&from_eve), expected);
    assert_eq!(from_eve["source"]["records"]["netflow"], 16);
    assert_eq!(from_eve["source"]["records"]["alert"], 7);

    let aws = dir.path().join("aws");
    std::fs::create_dir_all(aws.join("alert")).expect("mkdir");
    std::fs::create_dir_all(aws.join("flow")).expect("mkdir");
    let alert_log = std::fs::read(logs.join("alert.json")).expect("alert.json");
    assert!(alert_log.starts_with(b"{\"firewall_name\":\"fw-1\""));
    let gz = std::fs::File::create(aws.join("alert/fw-1_alert_2026-01-15-09.0.gz")).expect("gz");
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::default());
    enc.write_all(&alert_log).expect("gzip");
    enc.finish().expect("gzip end");
    let flow_log = std::fs::read_to_string(logs.join("flow.json")).expect("flow.json");
    let exported: String = flow_log
        .lines()
        .map(|l| format!("2026-01-15T09:05:00.000Z {l}\n"))
        .collect();
    std::fs::write(aws.join("flow/export.log"), exported).expect("write export");
    let from_aws = json_report(&["--eve", path(&aws), "-S", path(&rules)]);
    assert_eq!(shared_tables(&from_aws), expected);
    assert_eq!(
        from_aws["source"]["inputs"].as_array().map(Vec::len),
        Some(2)
    );

    // Alerts only: flows with alerts are all that is known, and the report says so.
    let alerts_only = json_report(&["--eve", path(&aws.join("alert"))]);
    assert_eq!(alerts_only["summary"]["flows"], 6);
    assert!(alerts_only["rules"][0]
        .get("alerts_per_1000_flows")
        .is_none());
    assert!(alerts_only["source"]["notes"][0]
        .as_str()
        .is_some_and(|n| n.contains("no flow (netflow) records")));
    assert!(alerts_only.get("never_hit").is_none());
}

#[test]
fn text_csv_and_html_forms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pcap, rules) = scenario(dir.path());
    let base = [
        "report",
        "-q",
        "-r",
        path(&pcap),
        "-S",
        path(&rules),
        "--simulate-ips",
    ];

    let o = rulesim(&base);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.starts_with("replay of 1 capture file(s) (IPS timing): 8 flows (4 blocked, 2 allowed with alerts, 2 allowed without), 7 alerts\n"),
        "{out}"
    );
    for title in [
        "Flows per verdict (3)",
        "Rules hit (3)",
        "Rules never hit (1)",
        "Top blocked TLS SNIs (1)",
        "Top blocked HTTP hosts (1)",
        "Top source IPs for blocked FQDNs (3)",
        "Top signatures among allowed alerts (1)",
        "Top source IPs per signature (5)",
    ] {
        assert!(out.contains(title), "{title} missing:\n{out}");
    }
    assert!(out.contains("  bad.example     3      3 1:1\n"), "{out}");

    let mut args = base.to_vec();
    args.extend(["--format", "csv", "--table", "top-blocked-sni"]);
    let o = rulesim(&args);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "sni,flows,alerts,blocked_by\nbad.example,3,3,1:1\n"
    );
    let mut args = base.to_vec();
    args.extend(["--format", "csv"]);
    let o = rulesim(&args);
    let csv = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(csv.starts_with("gid,sid,rev,action,msg,alerts,blocked,allowed,flows,hit_flows,decided,shadowed,per_1000_flows,first_seen,last_seen,location\n1,1,1,drop,matching TLS denylisted FQDNs,3,3,0,3,3,3,0,375.0,"), "{csv}");
    assert_eq!(csv.lines().count(), 4);

    let html = dir.path().join("report.html");
    let mut args = base.to_vec();
    args.extend(["--format", "html", "-o", path(&html)]);
    let o = rulesim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let page = std::fs::read_to_string(&html).expect("report.html");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("data-chart=\"hits-per-rule\""));
    assert!(page.contains("data-chart=\"verdicts-over-time\""));
    assert!(page.contains("<table class=\"report\" data-table=\"top-blocked-sni\">"));
    // Self-contained: nothing is fetched.
    for external in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!page.contains(external), "{external}");
    }
}

/// Names from the wire are data: a hostile SNI is escaped in every form.
#[test]
fn hostile_names_are_escaped_in_html() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("eve.json");
    std::fs::write(
        &log,
        r#"{"timestamp":"2026-01-15T09:00:00.000000+0000","flow_id":5,"event_type":"alert","src_ip":"10.0.0.9","dest_ip":"203.0.113.1","alert":{"action":"blocked","gid":1,"signature_id":7,"rev":1,"signature":"<b>sig</b>"},"tls":{"sni":"<img src=x onerror=alert(1)>.example"}}
"#,
    )
    .expect("write log");
    let o = rulesim(&["report", "-q", "--eve", path(&log), "--format", "html"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let page = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.example"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>sig"));
}

#[test]
fn failure_paths_exit_2_with_the_place_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pcap, rules) = scenario(dir.path());

    let o = rulesim(&["report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("give captures to replay"), "{}", text(&o));

    let o = rulesim(&["report", "--eve", "/nonexistent/eve.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("/nonexistent/eve.json"), "{}", text(&o));

    // A comparison needs rules to replay with.
    let o = rulesim(&["report", "-r", path(&pcap), "--eve", path(&pcap)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("give rule sources"), "{}", text(&o));

    let o = rulesim(&[
        "report",
        "-r",
        path(&pcap),
        "-S",
        path(&rules),
        "--table",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A rule that does not load: file:line:col, unless --allow-rule-errors.
    let bad_rules = dir.path().join("bad.rules");
    std::fs::write(
        &bad_rules,
        format!("{RULES}alert tcp any any -> any any (msg:\"x\"; nosuchkeyword; sid:99;)\n"),
    )
    .expect("write");
    let o = rulesim(&["report", "-r", path(&pcap), "-S", path(&bad_rules)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains(&format!("{}:5:", path(&bad_rules))),
        "{}",
        text(&o)
    );
    let o = rulesim(&[
        "report",
        "-q",
        "-r",
        path(&pcap),
        "-S",
        path(&bad_rules),
        "--allow-rule-errors",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // A broken log line: named with its line and column; the rest is still reported.
    let log = dir.path().join("eve.json");
    std::fs::write(
        &log,
        "{\"timestamp\":\"2026-01-15T09:00:00.000000+0000\",\"flow_id\":1,\"event_type\":\"alert\",\"src_ip\":\"10.0.0.1\",\"alert\":{\"action\":\"allowed\",\"signature_id\":3,\"signature\":\"x\"}}\n{\"event_type\": alert}\n",
    )
    .expect("write log");
    let o = rulesim(&["report", "--eve", path(&log), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!("{}:2:16: not a JSON log record", path(&log))),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("report still written");
    assert_eq!(v["summary"]["alerts"], 1);

    // A truncated gzip file: what was read is reported, the error names the file.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..200 {
        writeln!(enc, "{{\"flow_id\":{i},\"event_type\":\"netflow\",\"src_ip\":\"10.0.0.1\",\"netflow\":{{\"start\":\"2026-01-15T09:00:00.000000+0000\"}}}}").expect("write");
    }
    let gz = enc.finish().expect("gzip");
    let cut = dir.path().join("flow.gz");
    std::fs::write(&cut, &gz[..gz.len() - 20]).expect("write gz");
    let o = rulesim(&["report", "--eve", path(&cut), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(path(&cut)),
        "{}",
        text(&o)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("report still written");
    assert!(
        v["summary"]["flows"]
            .as_u64()
            .is_some_and(|n| n > 100 && n <= 200),
        "{v}"
    );
}

/// `-r` with `--eve`: the replay's prediction against the logs of the same traffic.
#[test]
fn a_replay_compared_with_its_logs_agrees_and_a_missing_alert_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pcap, rules) = scenario(dir.path());
    let logs = run_with_logs(dir.path(), &pcap, &rules);
    let eve = logs.join("eve.json");
    let base = [
        "report",
        "-q",
        "-r",
        path(&pcap),
        "-S",
        path(&rules),
        "--simulate-ips",
    ];

    // The comparison's text for `logs`, after its exit code was checked.
    let compare = |logs: &Path, code: i32| {
        let mut args = base.to_vec();
        args.extend(["--eve", path(logs)]);
        let o = rulesim(&args);
        assert_eq!(o.status.code(), Some(code), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let out = compare(&eve, 0);
    assert!(out.starts_with("predicted and logged agree\n"), "{out}");
    assert!(
        out.contains("Rules whose alerts differ (0 of 3 alerting rules)"),
        "{out}"
    );

    // Production never logged the flow to the HTTP host bad.example (sids 2 and 10, from
    // client port 40004) nor sid 10's alert for 10.0.0.4.
    let edited: String = std::fs::read_to_string(logs.join("alert.json"))
        .expect("alert.json")
        .lines()
        .filter(|l| !(l.contains("\"signature_id\":10,") && l.contains("10.0.0.4")))
        .filter(|l| !l.contains("\"src_port\":40004,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let aws = dir.path().join("aws");
    std::fs::create_dir_all(&aws).expect("mkdir");
    std::fs::write(aws.join("alert.log"), edited).expect("write");
    std::fs::copy(logs.join("flow.json"), aws.join("flow.log")).expect("copy");
    let out = compare(&aws, 1);
    assert!(out.starts_with("predicted and logged differ\n"), "{out}");
    assert!(
        out.contains("alerts                             7           4  *"),
        "{out}"
    );
    assert!(
        out.contains("blocked flows                      4           3  *"),
        "{out}"
    );
    assert!(
        out.contains("  1:2 \"matching HTTP denylisted FQDNs\": predicted 1 alerts (1 blocked), logged 0 (0 blocked)\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  1:10 \"curl user agent\": predicted 3 alerts (0 blocked), logged 1 (0 blocked)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  http_host bad.example: predicted 1 blocked flows, logged 0\n"),
        "{out}"
    );
    let mut args = base.to_vec();
    args.extend(["--eve", path(&aws), "--format", "json"]);
    let v: Value = serde_json::from_slice(&rulesim(&args).stdout).expect("json");
    assert_eq!(v["agree"], false);
    assert_eq!(v["rules_differing"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["names_differing"][0]["name"], "bad.example");
}
