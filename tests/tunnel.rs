//! HTTP CONNECT tunnels: a 2xx answer to a CONNECT ends HTTP on the flow and the
//! protocol is detected again on what follows (a TLS session through a proxy is a `tls`
//! flow, its SNI seen by `tls.sni` rules), after Suricata's detect/log flush: a pseudo
//! packet per direction inspects and logs the CONNECT transaction (`pkt_src` `stream
//! (detect/log)`). Every expectation below is what Suricata 7.0.10 wrote on the same
//! capture and rules (`suricata-offline -k none --runmode single`, with and without
//! `--simulate-ips`); `RULESIM_KEEP_PCAP=<path>` keeps a capture for such a replay.

use std::ffi::OsStr;

use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::Value;

mod common;
use common::{eve_of_run, sa, write_pcap};

const RULES: &str = "\
alert http any any -> any any (msg:\"CONNECT\"; flow:to_server; http.method; content:\"CONNECT\"; sid:1;)
alert http any any -> any any (msg:\"proxy host\"; flow:to_server; http.host; content:\"blocked.example\"; sid:2;)
alert tls any any -> any any (msg:\"sni through the proxy\"; flow:to_server; tls.sni; content:\"blocked.example\"; sid:3;)
alert tcp any any -> any any (msg:\"client hello bytes\"; flow:to_server; content:\"|16 03|\"; depth:2; sid:4;)
";

/// Client port 41000 to a proxy on 3128: SYN(1) SYN/ACK(2) ACK(3), CONNECT (4, ACK 5),
/// `200 Connection established` (6, ACK 7), ClientHello with SNI blocked.example (8, ACK
/// 9), ServerHello (10, ACK 11), FIN (12..14). With `tunnel_data: false` the flow closes
/// after the 200 (12.. becomes 8..).
fn capture(tunnel_data: bool) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.5:41000"),
        sa("192.0.2.80:3128"),
        Timestamp::new(1_700_000_000, 0),
    );
    c.handshake()
        .client_sends(b"CONNECT blocked.example:443 HTTP/1.1\r\nHost: blocked.example:443\r\nUser-Agent: curl/8.5.0\r\n\r\n")
        .server_sends(b"HTTP/1.1 200 Connection established\r\n\r\n");
    if tunnel_data {
        c.client_sends(&packets::tls_client_hello(Some("blocked.example")))
            .server_sends(&packets::tls_server_hello());
    }
    c.close();
    c.packets
}

fn records(packets: &[TimedPacket], ips: bool) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, packets);
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, &keep).expect("keep pcap");
        std::fs::write(format!("{}.rules", keep.to_string_lossy()), RULES).expect("keep rules");
    }
    let rules = dir.path().join("r.rules");
    std::fs::write(&rules, RULES).expect("rules");
    let args: [&OsStr; 4] = [
        "-S".as_ref(),
        rules.as_os_str(),
        "--eve-types".as_ref(),
        "alert,http,tls,netflow".as_ref(),
    ];
    eve_of_run(&pcap, &args, ips)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

type Alert = (
    Option<u64>,
    u64,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// (pcap_cnt, sid, pkt_src, app_proto, app_proto_orig) of an alert.
type AlertLine = (Option<u64>, u64, String, String, Option<String>);

/// Each alert's [`AlertLine`], in order.
fn alerts(records: &[Value]) -> Vec<AlertLine> {
    records
        .iter()
        .filter(|r| r["event_type"] == "alert")
        .map(|r| {
            (
                r["pcap_cnt"].as_u64(),
                r["alert"]["signature_id"].as_u64().unwrap_or_default(),
                r["pkt_src"].as_str().unwrap_or_default().to_string(),
                r["app_proto"].as_str().unwrap_or_default().to_string(),
                r["app_proto_orig"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn assert_alerts(records: &[Value], want: &[Alert], case: &str) {
    let want: Vec<_> = want
        .iter()
        .map(|&(n, sid, src, proto, orig)| {
            (
                n,
                sid,
                src.to_string(),
                proto.to_string(),
                orig.map(str::to_string),
            )
        })
        .collect();
    assert_eq!(alerts(records), want, "{case}");
}

/// The `app_proto` of the flow's netflow records, and the `pkt_src` of its http records.
fn flow_summary(records: &[Value]) -> (Vec<String>, Vec<String>) {
    let of = |t: &str, field: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r["event_type"] == t)
            .map(|r| r[field].as_str().unwrap_or_default().to_string())
            .collect()
    };
    (of("netflow", "app_proto"), of("http", "pkt_src"))
}

/// Both netflow records name `proto` and the http records came from `http_sources`.
fn assert_flow(records: &[Value], proto: &str, http_sources: &[&str]) {
    let want = (
        vec![proto.to_string(); 2],
        http_sources.iter().map(|s| s.to_string()).collect(),
    );
    assert_eq!(flow_summary(records), want);
}

const FLUSH: &str = "stream (detect/log)";
const WIRE: &str = "wire/pcap";

#[test]
fn a_tls_session_through_a_connect_tunnel_is_a_tls_flow() {
    let packets = capture(true);
    // IDS: the 200 is parsed when the client ACKs it (7): the flush pseudo packets run
    // before packet 7, and the CONNECT transaction's alerts come from them. The
    // ClientHello (8) waits for its ACK (9) and is inspected as TLS on the next client
    // packet (11); packet 8's own payload match still names the old protocol.
    let ids = records(&packets, false);
    assert_alerts(
        &ids,
        &[
            (None, 1, FLUSH, "http", None),
            (None, 2, FLUSH, "http", None),
            (Some(8), 4, WIRE, "http", None),
            (Some(11), 3, WIRE, "tls", Some("http")),
            (Some(11), 4, WIRE, "tls", Some("http")),
        ],
        "ids",
    );
    // Inline: each side's data is parsed on its own packet.
    let ips = records(&packets, true);
    assert_alerts(
        &ips,
        &[
            (Some(4), 1, WIRE, "http", None),
            (Some(4), 2, WIRE, "http", None),
            (Some(8), 3, WIRE, "tls", Some("http")),
            (Some(8), 4, WIRE, "tls", Some("http")),
        ],
        "ips",
    );
    for r in [&ids, &ips] {
        // The CONNECT transaction is logged once, by the flush; the flow ends as TLS.
        assert_flow(r, "tls", &[FLUSH]);
    }
}

#[test]
fn a_tunnel_that_carries_nothing_ends_as_failed() {
    let packets = capture(false);
    let ids = records(&packets, false);
    assert_alerts(
        &ids,
        &[
            (None, 1, FLUSH, "http", None),
            (None, 2, FLUSH, "http", None),
        ],
        "ids",
    );
    let ips = records(&packets, true);
    assert_alerts(
        &ips,
        &[
            (Some(4), 1, WIRE, "http", None),
            (Some(4), 2, WIRE, "http", None),
        ],
        "ips",
    );
    for r in [&ids, &ips] {
        assert_flow(r, "failed", &[FLUSH]);
    }
}

#[test]
fn a_connect_refused_stays_http() {
    // A 407 is an ordinary response: no tunnel, the next request is HTTP again (inline:
    // SYN 1-3, CONNECT 4, 407 6, CONNECT 8, 403 10).
    let mut c = TcpConversation::new(
        sa("10.0.0.5:41001"),
        sa("192.0.2.80:3128"),
        Timestamp::new(1_700_000_100, 0),
    );
    c.handshake()
        .client_sends(b"CONNECT blocked.example:443 HTTP/1.1\r\nHost: blocked.example:443\r\n\r\n")
        .server_sends(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        .client_sends(b"CONNECT blocked.example:443 HTTP/1.1\r\nHost: blocked.example:443\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n\r\n")
        .server_sends(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        .close();
    let r = records(&c.packets, true);
    assert_flow(&r, "http", &[WIRE, WIRE]);
    assert_alerts(
        &r,
        &[
            (Some(4), 1, WIRE, "http", None),
            (Some(4), 2, WIRE, "http", None),
            (Some(8), 1, WIRE, "http", None),
            (Some(8), 2, WIRE, "http", None),
        ],
        "ips",
    );
}
