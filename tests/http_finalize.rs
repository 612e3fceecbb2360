//! What follows a message in the same input chunk, as libhtp's `REQ_FINALIZE` and
//! `RES_FINALIZE` read it: the next line, unless it starts the next message (a known
//! method; `HTTP`), is more of the message's body (a CRLF after a POST body, junk), and a
//! line still without its end keeps the message incomplete until it ends or the stream
//! does. Expected values are Suricata
//! 7.0.10's on the same capture (`suricata-offline -r ... -k none --runmode single`, with
//! and without `--simulate-ips`).

mod common;

use common::{alerts_and_stats, sa};
use rulesim::synth::packets::TcpConversation;
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::Value;

/// One connection: the client's segments (each acknowledged), a short response, the close.
fn exchange(n: u16, request: &[&[u8]]) -> Vec<TimedPacket> {
    exchange_with(
        n,
        request,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    )
}

/// One connection: the client's segments, then the server's, each acknowledged; the close.
fn exchange_with(n: u16, request: &[&[u8]], response: &[&[u8]]) -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa(&format!("10.0.0.5:{}", 42_000 + n)),
        sa("192.0.2.80:80"),
        Timestamp::new(1_700_000_000 + i64::from(n), 0),
    );
    c.handshake();
    for part in request {
        c.client_sends(part);
    }
    for part in response {
        c.server_sends(part);
    }
    c.close();
    c.packets
}

fn capture() -> Vec<TimedPacket> {
    let mut p = Vec::new();
    // 1. A POST body followed by a CRLF in the same segment: the CRLF is body.
    p.extend(exchange(
        1,
        &[b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nBBBBB\r\n"],
    ));
    // 2. Junk lines after the body: body, until the pipelined GET.
    p.extend(exchange(2, &[b"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nBBBBBjunk one\r\n junk two\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"]));
    // 3. Junk without a line end: the request stays incomplete until the stream closes.
    p.extend(exchange(
        3,
        &[b"POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nBBBBBjunk"],
    ));
    // 4. The same junk ended in the next segment.
    p.extend(exchange(
        4,
        &[
            b"POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nBBBBBju",
            b"nk\r\n",
        ],
    ));
    // 5. A GET followed by a lower-case method: junk too (methods are case-sensitive).
    p.extend(exchange(
        5,
        &[b"GET /e HTTP/1.1\r\nHost: a\r\n\r\nget /f HTTP/1.1\r\n"],
    ));
    // 6. The body ends with its segment; the CRLF comes in the next one: not body.
    p.extend(exchange(
        6,
        &[
            b"POST /g HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nBBBBB",
            b"\r\n",
        ],
    ));
    // 7. Responses: a CRLF and a junk line after the first body are body (`RES_FINALIZE`),
    // until the line starting with `HTTP`; junk without a line end after the second waits
    // for the close.
    p.extend(exchange_with(
        7,
        &[b"GET /h HTTP/1.1\r\nHost: a\r\n\r\nGET /i HTTP/1.1\r\nHost: a\r\n\r\n"],
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nRRRR\r\nrjunk\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nSSSSsjunk"],
    ));
    p
}

const RULES: &str = "\
alert http any any -> any any (msg:\"request body\"; flow:to_server; http.request_body; content:\"BBBBB\"; sid:1;)
alert http any any -> any any (msg:\"a CRLF in the body\"; flow:to_server; http.request_body; content:\"|0d 0a|\"; sid:2;)
alert http any any -> any any (msg:\"junk in the body\"; flow:to_server; http.request_body; content:\"junk\"; sid:3;)
alert http any any -> any any (msg:\"request line\"; flow:to_server; http.method; content:\"P\"; sid:4;)
alert http any any -> any any (msg:\"next request\"; flow:to_server; http.uri; content:\"/next\"; sid:5;)
alert http any any -> any any (msg:\"a lower-case get\"; flow:to_server; http.method; content:\"get\"; sid:6;)
alert http any any -> any any (msg:\"junk in a response body\"; flow:to_client; file.data; content:\"junk\"; sid:7;)
alert http any any -> any any (msg:\"a response\"; flow:to_client; http.stat_code; content:\"200\"; sid:8;)
";

/// (pcap_cnt, sid, tx_id, request body file size) of each alert, in order.
fn alerts(args: &[&str]) -> Vec<(u64, u64, u64, Option<u64>)> {
    let (alerts, _) = alerts_and_stats(&capture(), RULES, args);
    let mut out: Vec<_> = alerts
        .iter()
        .map(|a: &Value| {
            (
                a["pcap_cnt"].as_u64().unwrap_or(0),
                a["alert"]["signature_id"].as_u64().unwrap_or(0),
                a["tx_id"].as_u64().unwrap_or(u64::MAX),
                a["files"][0]["size"].as_u64(),
            )
        })
        .collect();
    out.sort();
    out
}

/// IDS timing. Packets of connection n are 10(n-1)+1 to 10n: SYN, SYN/ACK, ACK, the
/// request (and its ACK; connection 4 has two request segments, so its packets shift by
/// two), the response and its ACK, FIN, FIN/ACK, ACK. Connection 3's request completes
/// only at the last ACK, when the closed session gives the parser of that packet's
/// direction its end of stream and the unended junk becomes body (9 bytes); connection
/// 7's second response gets its end of stream only at the flow's end (pcap_cnt 0 here: a
/// pseudo packet, its transaction not done with).
#[test]
fn what_follows_a_request_is_read_as_libhtp_reads_it_in_ids_timing() {
    let expected: &[(u64, u64, u64, Option<u64>)] = &[
        (0, 7, 1, Some(9)),
        (7, 1, 0, Some(7)),
        (7, 2, 0, Some(7)),
        (7, 4, 0, Some(7)),
        (9, 8, 0, Some(2)),
        (17, 1, 0, Some(25)),
        (17, 2, 0, Some(25)),
        (17, 3, 0, Some(25)),
        (17, 4, 0, Some(25)),
        (17, 5, 1, None),
        (19, 8, 0, Some(2)),
        (27, 4, 0, Some(5)),
        (29, 8, 0, Some(2)),
        (30, 1, 0, Some(9)),
        (30, 3, 0, Some(9)),
        (36, 4, 0, Some(5)),
        (39, 1, 0, Some(11)),
        (39, 2, 0, Some(11)),
        (39, 3, 0, Some(11)),
        (41, 8, 0, Some(2)),
        (49, 2, 0, None),
        (51, 8, 0, Some(2)),
        (58, 1, 0, Some(5)),
        (58, 4, 0, Some(5)),
        (63, 8, 0, Some(2)),
        (73, 7, 0, Some(13)),
        (73, 8, 0, Some(13)),
        (73, 8, 1, Some(4)),
    ];
    assert_eq!(alerts(&[]), expected);
}

/// Inline timing: the same, at the packets that carry the bytes.
#[test]
fn what_follows_a_request_is_read_as_libhtp_reads_it_in_ips_timing() {
    let expected: &[(u64, u64, u64, Option<u64>)] = &[
        (0, 7, 1, Some(9)),
        (4, 1, 0, Some(7)),
        (4, 2, 0, Some(7)),
        (4, 4, 0, Some(7)),
        (6, 8, 0, Some(2)),
        (14, 1, 0, Some(25)),
        (14, 2, 0, Some(25)),
        (14, 3, 0, Some(25)),
        (14, 4, 0, Some(25)),
        (14, 5, 1, None),
        (16, 8, 0, Some(2)),
        (24, 1, 0, Some(5)),
        (24, 4, 0, Some(5)),
        (26, 8, 0, Some(2)),
        (30, 3, 0, Some(9)),
        (34, 1, 0, Some(5)),
        (34, 4, 0, Some(5)),
        (36, 2, 0, Some(11)),
        (36, 3, 0, Some(11)),
        (38, 8, 0, Some(2)),
        (46, 2, 0, None),
        (48, 8, 0, Some(2)),
        (56, 1, 0, Some(5)),
        (56, 4, 0, Some(5)),
        (60, 8, 0, Some(2)),
        (70, 7, 0, Some(13)),
        (70, 8, 0, Some(13)),
        (70, 8, 1, Some(4)),
    ];
    assert_eq!(alerts(&["--simulate-ips"]), expected);
}
