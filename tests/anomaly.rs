//! EVE `anomaly` records (`--eve-types anomaly`) and TCP Fast Open, end to end on a
//! generated capture, held to what Suricata 7.0.10 wrote for the same packets: an HTTP/1.1
//! request without a Host header sent in a Fast Open SYN, in IDS and IPS timing.

mod common;

use common::{sa, write_pcap};
use rulesim::decode::tcp_flags::{ACK, FIN, PSH, SYN};
use rulesim::synth::packets;
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

const REQUEST: &[u8] = b"GET /tfo HTTP/1.1\r\nUser-Agent: fast\r\n\r\n";

fn capture() -> Vec<TimedPacket> {
    let (c, s) = (sa("10.1.0.5:50000"), sa("192.0.2.80:80"));
    let response = packets::http_response(200, "OK", "text/plain", "hi");
    let isn_c = 1000u32;
    let isn_s = 5000u32;
    let after_req = isn_c + 1 + REQUEST.len() as u32;
    let after_resp = isn_s + 1 + response.len() as u32;
    let t = |ms: u32| Timestamp::new(1_767_225_600, ms * 1_000_000);
    let seg = |ms, from, to, seq, ack, flags, opts: &[u8], data: &[u8]| TimedPacket {
        ts: t(ms),
        ip: packets::tcp_with_options(from, to, 64, seq, ack, flags, opts, data),
    };
    vec![
        // 1: the SYN carries a Fast Open cookie and the request.
        seg(
            0,
            c,
            s,
            isn_c,
            0,
            SYN,
            &[34, 10, 1, 2, 3, 4, 5, 6, 7, 8],
            REQUEST,
        ),
        // 2: the SYN/ACK acknowledges the request's bytes.
        seg(1, s, c, isn_s, after_req, SYN | ACK, &[], &[]),
        seg(2, c, s, after_req, isn_s + 1, ACK, &[], &[]),
        // 4: the response.
        seg(3, s, c, isn_s + 1, after_req, ACK | PSH, &[], &response),
        seg(4, c, s, after_req, after_resp, ACK | FIN, &[], &[]),
        seg(5, s, c, after_resp, after_req + 1, ACK | FIN, &[], &[]),
        seg(6, c, s, after_req + 1, after_resp + 1, ACK, &[], &[]),
    ]
}

fn records(ips: bool) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("tfo.pcap");
    write_pcap(&pcap, &capture());
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, keep).expect("keep pcap");
    }
    let eve = common::eve_of_run(
        &pcap,
        &["--eve-types".as_ref(), "http,anomaly".as_ref()],
        ips,
    );
    eve.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// (event_type, pcap_cnt, src_port, anomaly event or http url) of each record.
fn summary(records: &[serde_json::Value]) -> Vec<(String, Option<u64>, u64, String)> {
    records
        .iter()
        .map(|r| {
            let what = match r["event_type"].as_str() {
                Some("anomaly") => r["anomaly"]["event"].as_str().unwrap_or("").to_string(),
                _ => r["http"]["url"].as_str().unwrap_or("").to_string(),
            };
            (
                r["event_type"].as_str().unwrap_or("").to_string(),
                r["pcap_cnt"].as_u64(),
                r["src_port"].as_u64().unwrap_or(0),
                what,
            )
        })
        .collect()
}

fn row(t: &str, pcap_cnt: u64, src_port: u64, what: &str) -> (String, Option<u64>, u64, String) {
    (t.to_string(), Some(pcap_cnt), src_port, what.to_string())
}

#[test]
fn fast_open_request_and_its_anomalies_as_suricata_logs_them() {
    // IDS: the request is parsed when the server's first established packet (the
    // response, packet 4) acknowledges it; the anomaly records are that packet's, in its
    // direction; the http record follows the client's next packet.
    assert_eq!(
        summary(&records(false)),
        [
            row("anomaly", 4, 80, "MISSING_HOST_HEADER"),
            row("anomaly", 4, 80, "MISSING_HOST_HEADER"),
            row("http", 5, 50000, "/tfo"),
        ]
    );
    // IPS: the SYN's data is parsed on the SYN itself.
    let ips = records(true);
    assert_eq!(
        summary(&ips),
        [
            row("anomaly", 1, 50000, "MISSING_HOST_HEADER"),
            row("anomaly", 1, 50000, "MISSING_HOST_HEADER"),
            row("http", 4, 50000, "/tfo"),
        ]
    );
    // The record as Suricata writes it.
    assert_eq!(ips[0]["tx_id"], 0);
    assert_eq!(
        ips[0]["anomaly"],
        serde_json::json!({"app_proto": "http", "type": "applayer", "event": "MISSING_HOST_HEADER", "layer": "proto_parser"})
    );
}
