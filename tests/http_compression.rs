//! Compressed HTTP bodies (`Content-Encoding`), end to end: what `file.data`,
//! `http.response_body` and `http.request_body` see after libhtp's decompression, on
//! which packet, and the HTTP events decompression raises; held to Suricata 7.0.10's
//! alerts and anomaly records on the same capture, in IDS and IPS timing.

mod common;

use common::sa;
use rulesim::synth::packets::{deflate, gzip, zlib, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

/// Text that compresses but not to nothing: `n` bytes of numbered lines.
fn filler(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(
            format!("line {i} {}\n", i.wrapping_mul(2_654_435_761) % 100_003).as_bytes(),
        );
        i += 1;
    }
    out.truncate(n);
    out
}

fn response_head(encoding: &str, len: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: {encoding}\r\n\
         Content-Length: {len}\r\n\r\n"
    )
    .into_bytes()
}

/// One flow: a GET, then the response head and body in the given segments.
fn exchange(port: u16, start_ms: u32, segments: &[Vec<u8>]) -> Vec<TimedPacket> {
    let t = Timestamp::new(1_767_225_600, start_ms * 1_000_000);
    let mut c = TcpConversation::new(sa(&format!("10.1.0.5:{port}")), sa("192.0.2.80:80"), t);
    c.handshake();
    c.client_sends(format!("GET /f{port} HTTP/1.1\r\nHost: example.com\r\n\r\n").as_bytes());
    for s in segments {
        c.server_sends(s);
    }
    c.close();
    c.packets
}

/// A response whose head and body go in one segment.
fn one_segment(port: u16, start_ms: u32, encoding: &str, body: &[u8]) -> Vec<TimedPacket> {
    let mut seg = response_head(encoding, body.len());
    seg.extend_from_slice(body);
    exchange(port, start_ms, &[seg])
}

fn capture() -> Vec<TimedPacket> {
    let mut p = Vec::new();
    p.extend(one_segment(40001, 0, "gzip", &gzip(b"<p>mk-gzip-one</p>")));
    p.extend(one_segment(40002, 100, "x-gzip", &gzip(b"<p>mk-xgzip</p>")));
    p.extend(one_segment(
        40003,
        200,
        "deflate",
        &deflate(b"<p>mk-raw-deflate</p>"),
    ));
    // Most servers wrap "deflate" in zlib's header: libhtp restarts into it.
    p.extend(one_segment(
        40004,
        300,
        "deflate",
        &zlib(b"<p>mk-zlib-deflate</p>"),
    ));
    // Not compressed at all: every restart fails and the raw bytes are the body.
    p.extend(one_segment(40005, 400, "gzip", b"<p>mk-not-compressed</p>"));
    // Two layers, decoded in the order listed.
    p.extend(one_segment(
        40006,
        500,
        "gzip, deflate",
        &gzip(&deflate(b"<p>mk-two-layers</p>")),
    ));
    // Encodings libhtp does not decode: the bytes pass as they are.
    p.extend(one_segment(40007, 600, "br", b"<p>mk-brotli-label</p>"));
    p.extend(one_segment(40008, 700, "lzma", b"<p>mk-lzma-label</p>"));
    // A small body over three segments: nothing decompressed reaches detection before the
    // stream ends in the third.
    {
        let body = gzip(&[b"<p>mk-split-small</p>".as_slice(), &filler(2000)].concat());
        let (a, rest) = body.split_at(body.len() / 3);
        let (b, c) = rest.split_at(rest.len() / 2);
        let mut first = response_head("gzip", body.len());
        first.extend_from_slice(a);
        p.extend(exchange(40009, 800, &[first, b.to_vec(), c.to_vec()]));
    }
    // A large body: decompressed output goes on in 8 KiB pieces, the marker with the
    // first piece.
    {
        let mut text = b"<p>mk-split-large</p>".to_vec();
        text.extend(filler(60_000));
        let body = gzip(&text);
        let pieces: Vec<&[u8]> = body.chunks(1200).collect();
        let mut segs = vec![response_head("gzip", body.len())];
        segs.extend(pieces.iter().map(|c| c.to_vec()));
        p.extend(exchange(40010, 900, &segs));
    }
    // Chunked transfer coding around gzip.
    {
        let body = gzip(b"<p>mk-chunked-gzip</p>");
        let (a, b) = body.split_at(10);
        let mut seg =
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        for c in [a, b] {
            seg.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            seg.extend_from_slice(c);
            seg.extend_from_slice(b"\r\n");
        }
        seg.extend_from_slice(b"0\r\n\r\n");
        p.extend(exchange(40011, 1000, &[seg]));
    }
    // A compressed request body (Suricata turns libhtp's request decompression on).
    {
        let t = Timestamp::new(1_767_225_601, 100_000_000);
        let mut c = TcpConversation::new(sa("10.1.0.5:40012"), sa("192.0.2.80:80"), t);
        let body = gzip(b"user=mk-request-body");
        let mut req = format!(
            "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Encoding: gzip\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(&body);
        c.handshake();
        c.client_sends(&req);
        c.server_sends(b"HTTP/1.1 204 No Content\r\n\r\n");
        c.close();
        p.extend(c.packets);
    }
    // Deflate data that inflates, then turns corrupt: a stored block of text, then a
    // block of the reserved type. libhtp takes what was inflated before the error as the
    // stream's end ("there is data even if there is an error") and logs the failure; the
    // rest of that piece is dropped.
    let stored_then_bad = |text: &[u8]| {
        let len = u16::try_from(text.len()).expect("short text");
        let mut d = vec![0x00];
        d.extend_from_slice(&len.to_le_bytes());
        d.extend_from_slice(&(!len).to_le_bytes());
        d.extend_from_slice(text);
        d.push(0x07);
        d
    };
    {
        let mut body = stored_then_bad(b"<p>mk-stored-then-bad-one</p>");
        body.extend_from_slice(b"<p>mk-dropped-after-error</p>");
        p.extend(one_segment(40013, 1300, "deflate", &body));
    }
    // The same error, then more body in a later segment: the failed stream answers it
    // with an error again, every restart fails, and the raw bytes pass from then on.
    {
        let first = stored_then_bad(b"<p>mk-stored-then-bad-two</p>");
        let later = b"<p>mk-raw-after-error</p>".to_vec();
        let mut seg = response_head("deflate", first.len() + later.len());
        seg.extend_from_slice(&first);
        p.extend(exchange(40014, 1400, &[seg, later]));
    }
    p
}

const RULES: &str = r#"
alert http any any -> any any (msg:"gzip"; flow:to_client; file_data; content:"mk-gzip-one"; sid:1;)
alert http any any -> any any (msg:"x-gzip"; flow:to_client; http.response_body; content:"mk-xgzip"; sid:2;)
alert http any any -> any any (msg:"raw deflate"; flow:to_client; file_data; content:"mk-raw-deflate"; sid:3;)
alert http any any -> any any (msg:"zlib deflate"; flow:to_client; file_data; content:"mk-zlib-deflate"; sid:4;)
alert http any any -> any any (msg:"not compressed"; flow:to_client; file_data; content:"mk-not-compressed"; sid:5;)
alert http any any -> any any (msg:"two layers"; flow:to_client; file_data; content:"mk-two-layers"; sid:6;)
alert http any any -> any any (msg:"br label"; flow:to_client; file_data; content:"mk-brotli-label"; sid:7;)
alert http any any -> any any (msg:"lzma label"; flow:to_client; file_data; content:"mk-lzma-label"; sid:8;)
alert http any any -> any any (msg:"split small"; flow:to_client; file_data; content:"mk-split-small"; sid:9;)
alert http any any -> any any (msg:"split large"; flow:to_client; file_data; content:"mk-split-large"; sid:10;)
alert http any any -> any any (msg:"chunked gzip"; flow:to_client; file_data; content:"mk-chunked-gzip"; sid:11;)
alert http any any -> any any (msg:"request body"; flow:to_server; http.request_body; content:"mk-request-body"; sid:12;)
alert http any any -> any any (msg:"stored then bad, one piece"; flow:to_client; file_data; content:"mk-stored-then-bad-one"; sid:13;)
alert http any any -> any any (msg:"dropped after error"; flow:to_client; file_data; content:"mk-dropped-after-error"; sid:14;)
alert http any any -> any any (msg:"stored then bad, two pieces"; flow:to_client; file_data; content:"mk-stored-then-bad-two"; sid:15;)
alert http any any -> any any (msg:"raw after error"; flow:to_client; file_data; content:"mk-raw-after-error"; sid:16;)
alert http any any -> any any (msg:"decompression failed"; app-layer-event:http.gzip_decompression_failed; sid:20;)
alert http any any -> any any (msg:"abnormal ce"; app-layer-event:http.abnormal_ce_header; sid:21;)
"#;

/// (event, pcap_cnt, src_port, dest_port, what): alerts by sid, anomalies by event, http
/// records by their length.
fn summary(ips: bool) -> Vec<(String, u64, u64, u64, String)> {
    summary_with(ips, &[])
}

fn summary_with(ips: bool, extra: &[&str]) -> Vec<(String, u64, u64, u64, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("compressed.pcap");
    common::write_pcap(&pcap, &capture());
    let rules = dir.path().join("compressed.rules");
    std::fs::write(&rules, RULES).expect("rules");
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, &keep).expect("keep pcap");
        std::fs::copy(&rules, format!("{}.rules", keep.to_string_lossy())).expect("keep rules");
    }
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "-S".as_ref(),
        rules.as_os_str(),
        "--eve-types".as_ref(),
        "alert,http,anomaly".as_ref(),
    ];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    let eve = common::eve_of_run(&pcap, &args, ips);
    let mut out: Vec<_> = eve
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .map(|r| {
            let what = match r["event_type"].as_str() {
                Some("alert") => r["alert"]["signature_id"].to_string(),
                Some("anomaly") => r["anomaly"]["event"].as_str().unwrap_or("").to_string(),
                _ => r["http"]["length"].to_string(),
            };
            common::record_row(&r, what)
        })
        .collect();
    out.sort();
    out
}

type Row = (&'static str, u64, u64, u64, &'static str);

/// Suricata 7.0.10's records for the capture (`suricata -r compressed.pcap -S
/// compressed.rules -k none --runmode single`), sorted as [`summary`] sorts them.
const SURICATA_IDS: &[Row] = &[
    ("alert", 9, 80, 40001, "1"),
    ("alert", 19, 80, 40002, "2"),
    ("alert", 29, 80, 40003, "3"),
    ("alert", 37, 40004, 80, "20"),
    ("alert", 39, 80, 40004, "20"),
    ("alert", 39, 80, 40004, "4"),
    ("alert", 47, 40005, 80, "20"),
    ("alert", 49, 80, 40005, "20"),
    ("alert", 49, 80, 40005, "5"),
    ("alert", 59, 80, 40006, "6"),
    ("alert", 67, 40007, 80, "21"),
    ("alert", 69, 80, 40007, "21"),
    ("alert", 69, 80, 40007, "7"),
    ("alert", 79, 80, 40008, "8"),
    ("alert", 93, 80, 40009, "9"),
    ("alert", 132, 80, 40010, "10"),
    ("alert", 151, 80, 40011, "11"),
    ("alert", 159, 40012, 80, "12"),
    ("alert", 169, 40013, 80, "20"),
    ("alert", 171, 80, 40013, "13"),
    ("alert", 171, 80, 40013, "20"),
    ("alert", 179, 40014, 80, "20"),
    ("alert", 180, 80, 40014, "20"),
    ("alert", 183, 80, 40014, "15"),
    ("anomaly", 37, 40004, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 37, 40004, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 47, 40005, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 47, 40005, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 47, 40005, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 47, 40005, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 67, 40007, 80, "ABNORMAL_CE_HEADER"),
    ("anomaly", 169, 40013, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 179, 40014, 80, "GZIP_DECOMPRESSION_FAILED"),
    ("http", 7, 40001, 80, "38"),
    ("http", 17, 40002, 80, "35"),
    ("http", 27, 40003, 80, "23"),
    ("http", 37, 40004, 80, "30"),
    ("http", 47, 40005, 80, "24"),
    ("http", 57, 40006, 80, "43"),
    ("http", 67, 40007, 80, "22"),
    ("http", 77, 40008, 80, "20"),
    ("http", 91, 40009, 80, "732"),
    ("http", 139, 40010, 80, "21661"),
    ("http", 149, 40011, 80, "56"),
    ("http", 159, 40012, 80, "0"),
    ("http", 169, 40013, 80, "64"),
    ("http", 181, 40014, 80, "60"),
];

/// The same with `--simulate-ips`.
const SURICATA_IPS: &[Row] = &[
    ("alert", 6, 80, 40001, "1"),
    ("alert", 16, 80, 40002, "2"),
    ("alert", 26, 80, 40003, "3"),
    ("alert", 36, 80, 40004, "20"),
    ("alert", 36, 80, 40004, "4"),
    ("alert", 46, 80, 40005, "20"),
    ("alert", 46, 80, 40005, "5"),
    ("alert", 56, 80, 40006, "6"),
    ("alert", 66, 80, 40007, "21"),
    ("alert", 66, 80, 40007, "7"),
    ("alert", 76, 80, 40008, "8"),
    ("alert", 90, 80, 40009, "9"),
    ("alert", 106, 80, 40010, "10"),
    ("alert", 148, 80, 40011, "11"),
    ("alert", 156, 40012, 80, "12"),
    ("alert", 168, 80, 40013, "13"),
    ("alert", 168, 80, 40013, "20"),
    ("alert", 178, 80, 40014, "15"),
    ("alert", 178, 80, 40014, "20"),
    ("anomaly", 36, 80, 40004, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 36, 80, 40004, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 46, 80, 40005, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 46, 80, 40005, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 46, 80, 40005, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 46, 80, 40005, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 66, 80, 40007, "ABNORMAL_CE_HEADER"),
    ("anomaly", 168, 80, 40013, "GZIP_DECOMPRESSION_FAILED"),
    ("anomaly", 178, 80, 40014, "GZIP_DECOMPRESSION_FAILED"),
    ("http", 6, 40001, 80, "38"),
    ("http", 16, 40002, 80, "35"),
    ("http", 26, 40003, 80, "23"),
    ("http", 36, 40004, 80, "30"),
    ("http", 46, 40005, 80, "24"),
    ("http", 56, 40006, 80, "43"),
    ("http", 66, 40007, 80, "22"),
    ("http", 76, 40008, 80, "20"),
    ("http", 90, 40009, 80, "732"),
    ("http", 138, 40010, 80, "21661"),
    ("http", 148, 40011, 80, "56"),
    ("http", 158, 40012, 80, "0"),
    ("http", 168, 40013, 80, "64"),
    ("http", 180, 40014, 80, "60"),
];

fn assert_same(ours: Vec<(String, u64, u64, u64, String)>, theirs: &[Row], skip: &[Row]) {
    let theirs: Vec<_> = theirs
        .iter()
        .filter(|r| !skip.contains(r))
        .map(|&(e, c, s, d, w)| (e.to_string(), c, s, d, w.to_string()))
        .collect();
    let ours: Vec<_> = ours
        .into_iter()
        .filter(|(e, _, s, d, w)| {
            !skip
                .iter()
                .any(|k| (k.0, k.2, k.3, k.4) == (e.as_str(), *s, *d, w.as_str()))
        })
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn compressed_bodies_in_inline_timing_match_suricata() {
    assert_same(summary(true), SURICATA_IPS, &[]);
}

#[test]
fn compressed_bodies_in_ids_timing_match_suricata() {
    // The large body's alert waits for `response-body-minimal-inspect-size` of
    // decompressed body, as Suricata's IDS mode does. Suricata randomises that size by up
    // to 10 % per run: six runs on this capture alerted at packet 128 (40 KiB: the 5th
    // piece) three times and at 132 (the 6th) three times; rulesim takes the nominal size.
    let large = ("alert", 132, 80, 40010, "10");
    let ours = summary(false);
    let alert = ours
        .iter()
        .find(|r| r.0 == "alert" && r.4 == "10")
        .expect("the large body alerts");
    assert_eq!(alert.1, 128, "40 KiB, Suricata's nominal size");
    assert_same(ours, SURICATA_IDS, &[large]);
}

#[test]
fn the_minimal_inspect_size_is_a_setting() {
    // Suricata with `--set ...response-body-minimal-inspect-size=4096` (randomised to
    // 3,686-4,506 bytes, under the first 8 KiB piece in every run): packet 108, three runs
    // of three.
    let ours = summary_with(
        false,
        &[
            "--set",
            "app-layer.protocols.http.libhtp.default-config.response-body-minimal-inspect-size=4096",
        ],
    );
    let alert = ours
        .iter()
        .find(|r| r.0 == "alert" && r.4 == "10")
        .expect("the large body alerts");
    assert_eq!(alert.1, 108);
}
