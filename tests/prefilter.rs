//! The prefilter never changes an answer: Emerging Threats Open over traffic built from
//! its own rules' contents gives the same EVE output with the prefilter as with every
//! rule inspected on every packet (`--set detect.prefilter=false`).
//!
//! The capture carries, for a sample of rules, one HTTP exchange with each rule's
//! contents in the buffers they name (URI, Host, User-Agent, other headers, bodies), the
//! payload contents as a raw TCP and a UDP exchange on the rule's port, and the TLS SNI
//! and DNS query contents in a ClientHello and a query, so that many rules become
//! candidates and many match.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use rulesim::rules::detection::MatchTest;
use rulesim::rules::expr::PortExpr;
use rulesim::rules::{load_rule_files, Rule, RuleContext, VarTable};
use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

mod common;
use common::{eve_of_run, write_pcap};

fn rulesets() -> Option<PathBuf> {
    match std::env::var_os("RULESIM_RULESETS") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.is_dir(),
                "RULESIM_RULESETS={} is not a directory",
                p.display()
            );
            Some(p)
        }
        None => {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rulesets");
            p.is_dir().then_some(p)
        }
    }
}

/// A rule's non-negated contents, by buffer (`None`: payload/stream).
fn contents(rule: &Rule) -> Vec<(Option<&'static str>, Vec<u8>)> {
    rule.detection
        .matches
        .iter()
        .filter_map(|m| match &m.test {
            MatchTest::Content(c) if !c.negated => Some((m.buffer, c.bytes.clone())),
            _ => None,
        })
        .collect()
}

fn joined(parts: &[(Option<&'static str>, Vec<u8>)], want: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for (b, bytes) in parts {
        if b.is_some_and(|b| want.contains(&b)) {
            out.extend_from_slice(bytes);
        }
    }
    out
}

/// Header values cannot hold line breaks.
fn one_line(mut v: Vec<u8>) -> Vec<u8> {
    v.retain(|&b| b != b'\r' && b != b'\n');
    v
}

fn header(out: &mut Vec<u8>, name: &str, value: Vec<u8>) {
    if !value.is_empty() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&one_line(value));
        out.extend_from_slice(b"\r\n");
    }
}

fn http_exchange(parts: &[(Option<&'static str>, Vec<u8>)]) -> (Vec<u8>, Vec<u8>) {
    let raw = joined_payload(parts);
    let method = one_line(joined(parts, &["http.method"]));
    let method = if method.is_empty() || method.contains(&b' ') {
        b"POST".to_vec()
    } else {
        method
    };
    let mut uri = b"/".to_vec();
    uri.extend(one_line(joined(parts, &["http.uri", "http.uri.raw"])));
    uri.retain(|&b| b != b' ');
    let mut req = method;
    req.push(b' ');
    req.extend_from_slice(&uri);
    req.extend_from_slice(b" HTTP/1.1\r\n");
    let host = joined(parts, &["http.host", "http.host.raw"]);
    header(
        &mut req,
        "Host",
        if host.is_empty() {
            b"www.example.com".to_vec()
        } else {
            host
        },
    );
    header(&mut req, "User-Agent", joined(parts, &["http.user_agent"]));
    header(&mut req, "Referer", joined(parts, &["http.referer"]));
    header(&mut req, "Cookie", joined(parts, &["http.cookie"]));
    header(&mut req, "Accept", joined(parts, &["http.accept"]));
    header(
        &mut req,
        "Content-Type",
        joined(parts, &["http.content_type"]),
    );
    header(
        &mut req,
        "X-Test",
        joined(parts, &["http.header", "http.start", "http.request_line"]),
    );
    let mut body = joined(parts, &["http.request_body"]);
    body.extend_from_slice(&raw);
    req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    req.extend_from_slice(&body);

    let mut resp = b"HTTP/1.1 200 OK\r\n".to_vec();
    header(&mut resp, "Server", joined(parts, &["http.server"]));
    header(&mut resp, "Location", joined(parts, &["http.location"]));
    header(&mut resp, "Set-Cookie", joined(parts, &["http.cookie"]));
    header(
        &mut resp,
        "X-Test",
        joined(
            parts,
            &["http.header", "http.response_line", "http.stat_msg"],
        ),
    );
    let mut body = joined(parts, &["http.response_body", "file.data"]);
    body.extend_from_slice(&raw);
    resp.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    resp.extend_from_slice(&body);
    (req, resp)
}

fn joined_payload(parts: &[(Option<&'static str>, Vec<u8>)]) -> Vec<u8> {
    parts
        .iter()
        .filter(|(b, _)| b.is_none())
        .flat_map(|(_, bytes)| bytes.iter().copied())
        .collect()
}

/// Traffic for one rule; client and server addresses alternate between inside and
/// outside HOME_NET.
fn traffic(rule: &Rule, i: u32, start: Timestamp, out: &mut Vec<TimedPacket>) -> Timestamp {
    let parts = contents(rule);
    let inside = IpAddr::V4(Ipv4Addr::new(10, 1, (i >> 8) as u8, i as u8));
    let outside = IpAddr::V4(Ipv4Addr::new(198, 51, (i >> 8) as u8, i as u8));
    let (client, server) = if i % 2 == 0 {
        (inside, outside)
    } else {
        (outside, inside)
    };
    let port = match rule.dst_port {
        PortExpr::Port(p) if p != 0 => p,
        _ => 80,
    };
    let sock = |ip, port| SocketAddr::new(ip, port);
    let mut now = start;
    let conversation = |out: &mut Vec<TimedPacket>,
                        cport: u16,
                        sport: u16,
                        now: Timestamp,
                        f: &dyn Fn(&mut TcpConversation)| {
        let mut c = TcpConversation::new(sock(client, cport), sock(server, sport), now);
        c.handshake();
        f(&mut c);
        c.close();
        let next = c.now();
        out.extend(c.packets);
        next
    };
    let (req, resp) = http_exchange(&parts);
    now = conversation(out, 40_000, 80, now, &|c| {
        c.client_sends(&req).server_sends(&resp);
    });
    let raw = joined_payload(&parts);
    if !raw.is_empty() {
        now = conversation(out, 40_001, port, now, &|c| {
            c.client_sends(&raw).server_sends(&raw);
        });
        out.push(TimedPacket {
            ts: now,
            ip: packets::udp(sock(client, 40_002), sock(server, port), 64, &raw),
        });
    }
    let sni = joined(&parts, &["tls.sni"]);
    if !sni.is_empty() {
        let name = String::from_utf8_lossy(&one_line(sni)).into_owned();
        now = conversation(out, 40_003, 443, now, &|c| {
            c.client_sends(&packets::tls_client_hello(Some(&name)))
                .server_sends(&packets::tls_server_hello());
        });
    }
    let query = joined(&parts, &["dns.query"]);
    if !query.is_empty() {
        let name = String::from_utf8_lossy(&one_line(query)).into_owned();
        out.push(TimedPacket {
            ts: now,
            ip: packets::udp(
                sock(client, 40_004),
                sock(server, 53),
                64,
                &packets::dns_query(i as u16, &name, 1),
            ),
        });
    }
    Timestamp::new(now.secs() + 1, 0)
}

/// Traffic for a rule without contents (IP-only and header rules): a TCP handshake with
/// data and a UDP packet from the first address and port of its source to the first of
/// its destination.
fn header_traffic(
    rule: &Rule,
    vars: &VarTable,
    start: Timestamp,
    out: &mut Vec<TimedPacket>,
) -> Timestamp {
    let first_v4 = |set: &rulesim::rules::sets::AddrSet| {
        set.v4.ranges().first().map(|&(lo, hi)| {
            // Not the network address itself when the range is wide.
            Ipv4Addr::from(if hi > lo { lo + 1 } else { lo })
        })
    };
    let (Ok(src), Ok(dst), Ok(sp), Ok(dp)) = (
        vars.addresses_of(&rule.src),
        vars.addresses_of(&rule.dst),
        vars.ports_of(&rule.src_port),
        vars.ports_of(&rule.dst_port),
    ) else {
        return start;
    };
    let (Some(src), Some(dst)) = (first_v4(&src), first_v4(&dst)) else {
        return start;
    };
    let sp = sp.ranges().first().map_or(1024, |&(lo, _)| lo.max(1));
    let dp = dp.ranges().first().map_or(80, |&(lo, _)| lo.max(1));
    let client = SocketAddr::new(IpAddr::V4(src), sp);
    let server = SocketAddr::new(IpAddr::V4(dst), dp);
    let mut c = TcpConversation::new(client, server, start);
    c.handshake().client_sends(b"hello").close();
    let now = c.now();
    out.extend(c.packets);
    out.push(TimedPacket {
        ts: now,
        ip: packets::udp(client, server, 64, b"hello"),
    });
    Timestamp::new(now.secs() + 1, 0)
}

/// Runs the capture with and without the prefilter, in IDS and IPS timing: the EVE
/// output must be the same, and hold more than `min_alerts` alerts (else the traffic no
/// longer exercises the rules).
fn assert_prefilter_changes_nothing(pcap: &Path, rules: &Path, packets: usize, min_alerts: usize) {
    for ips in [false, true] {
        let with = run(pcap, rules, true, ips);
        let without = run(pcap, rules, false, ips);
        let alerts = with
            .lines()
            .filter(|l| l.contains("\"event_type\":\"alert\""))
            .count();
        eprintln!("ips: {ips}: {packets} packets, {alerts} alerts");
        assert!(
            alerts > min_alerts,
            "only {alerts} alerts: the traffic no longer exercises the rules"
        );
        assert!(
            with == without,
            "EVE output differs with the prefilter (ips: {ips}): {} vs {} lines",
            with.lines().count(),
            without.lines().count()
        );
    }
}

fn run(pcap: &Path, rules: &Path, prefilter: bool, ips: bool) -> String {
    let source = if rules.extension().is_some_and(|e| e == "json") {
        "--rule-group"
    } else {
        "-S"
    };
    let setting = format!("detect.prefilter={prefilter}");
    let args = [
        source.as_ref(),
        rules.as_os_str(),
        "--set".as_ref(),
        setting.as_ref(),
    ];
    eve_of_run(pcap, &args, ips)
}

#[test]
fn et_open_gives_the_same_answers_with_and_without_the_prefilter() {
    let Some(dir) = rulesets() else {
        eprintln!("rulesets not found beside the repository; set RULESIM_RULESETS");
        return;
    };
    let rules_path = dir.join("et-open/et-open.rules");
    let set = load_rule_files(std::slice::from_ref(&rules_path), &RuleContext::default())
        .expect("ET Open readable");
    // Every 25th rule with contents: about 850 rules, a few hundred of them matching.
    let sample: Vec<&Rule> = set
        .rules
        .iter()
        .filter(|r| !contents(r).is_empty())
        .step_by(25)
        .collect();
    assert!(sample.len() > 500, "{} rules sampled", sample.len());
    let mut capture = Vec::new();
    let mut now = Timestamp::new(1_700_000_000, 0);
    for (i, rule) in sample.iter().enumerate() {
        now = traffic(rule, i as u32, now, &mut capture);
    }
    // Every 4th rule without contents (IP-only and header rules, about 350).
    let vars = VarTable::default();
    for rule in set
        .rules
        .iter()
        .filter(|r| contents(r).is_empty())
        .step_by(4)
    {
        now = header_traffic(rule, &vars, now, &mut capture);
    }
    let work = tempfile::tempdir().expect("tempdir");
    let pcap = work.path().join("et-contents.pcap");
    write_pcap(&pcap, &capture);
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, keep).expect("keep pcap");
    }

    assert_prefilter_changes_nothing(&pcap, &rules_path, capture.len(), 200);
}

/// The 10,000-domain list as an AWS DENYLIST (20,000 rules: exact names and, for a
/// leading dot, the name and its subdomains) over TLS and HTTP flows to listed names,
/// their subdomains, case variants, names that only share a suffix, and unlisted names.
#[test]
fn a_domain_list_gives_the_same_answers_with_and_without_the_prefilter() {
    let Some(dir) = rulesets() else {
        eprintln!("rulesets not found beside the repository; set RULESIM_RULESETS");
        return;
    };
    let text = std::fs::read_to_string(dir.join("domains/adservers-10k.txt")).expect("domains");
    let domains: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(domains.len() >= 10_000);
    let group = serde_json::json!({
        "RuleGroup": {
            "RulesSource": {"RulesSourceList": {
                "Targets": domains,
                "TargetTypes": ["TLS_SNI", "HTTP_HOST"],
                "GeneratedRulesType": "DENYLIST"
            }},
            "StatefulRuleOptions": {"RuleOrder": "DEFAULT_ACTION_ORDER"}
        },
        "RuleGroupResponse": {
            "RuleGroupName": "deny10k",
            "RuleGroupArn": "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/deny10k",
            "Type": "STATEFUL",
            "Capacity": 30000
        }
    });
    let work = tempfile::tempdir().expect("tempdir");
    let rules_path = work.path().join("deny10k.json");
    std::fs::write(&rules_path, group.to_string()).expect("write group");

    let mut capture = Vec::new();
    let mut now = Timestamp::new(1_700_000_000, 0);
    for (i, d) in domains.iter().step_by(100).enumerate() {
        let bare = d.trim_start_matches('.');
        let names = [
            bare.to_string(),
            format!("www.{bare}"),
            bare.to_ascii_uppercase(),
            format!("not{bare}"),
            format!("{bare}.example"),
        ];
        for (j, name) in names.iter().enumerate() {
            let n = (i * names.len() + j) as u32;
            let client = SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(10, 2, (n >> 8) as u8, n as u8)),
                41_000,
            );
            let server = SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(203, 0, 113, (n % 250) as u8 + 1)),
                443,
            );
            let mut c = TcpConversation::new(client, server, now);
            c.handshake()
                .client_sends(&packets::tls_client_hello(Some(name)))
                .server_sends(&packets::tls_server_hello())
                .close();
            now = c.now();
            capture.extend(c.packets);
            let mut c = TcpConversation::new(
                SocketAddr::new(client.ip(), 41_001),
                SocketAddr::new(server.ip(), 80),
                now,
            );
            c.handshake()
                .client_sends(&packets::http_request("GET", name, "/", "test"))
                .server_sends(&packets::http_response(200, "OK", "text/plain", "ok"))
                .close();
            now = c.now();
            capture.extend(c.packets);
        }
    }
    let pcap = work.path().join("domains.pcap");
    write_pcap(&pcap, &capture);
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, keep).expect("keep pcap");
    }
    assert_prefilter_changes_nothing(&pcap, &rules_path, capture.len(), 200);
}
