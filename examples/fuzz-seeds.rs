//! Writes the generated fuzz seeds (the `gen-*` files of `fuzz/corpus/<target>/`) from
//! the project's packet builders: `cargo run --example fuzz-seeds [CORPUS_DIR]` (default
//! `fuzz/corpus` of the checkout). Rerun it when an input format in `src/fuzz.rs`
//! changes; the other seeds (`project-*`, `conformance-*`) are copied by hand.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rulesim::fuzz::encode::{self, Segment, StreamOp};
use rulesim::fuzz::{FragmentSpec, FIXTURE_RULES};
use rulesim::synth::packets::{self, Link};
use rulesim::synth::{NgInterface, PcapNgWriter, PcapWriter};
use rulesim::time::Timestamp;

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address literal")
}

/// Writes one seed, `<corpus>/<target>/gen-<name>`; exits on a write error.
fn write_seed(target: &str, name: &str, data: &[u8]) {
    let dir = corpus_dir().join(target);
    let path = dir.join(format!("gen-{name}"));
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, data)) {
        eprintln!("fuzz-seeds: {}: {e}", path.display());
        std::process::exit(2);
    }
}

/// Where the seeds go: the first argument, `fuzz/corpus` of the checkout by default.
fn corpus_dir() -> PathBuf {
    std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        PathBuf::from,
    )
}

fn main() {
    capture_seeds();
    decode_seeds();
    defrag_seeds();
    stream_seeds();
    session_seeds();
    parser_seeds();
    text_seeds();
}

fn capture_seeds() {
    let fixture = rulesim::fuzz::fixture_capture();
    write_seed("capture", "fixture.pcap", fixture);
    write_seed("end_to_end", "fixture.pcap", fixture);
    // pcapng: two interfaces of different link types and resolutions, EPB, SPB and OPB.
    let ip = packets::udp(sa("10.0.0.1:1000"), sa("10.0.0.2:53"), 64, b"hello");
    let interfaces = [
        NgInterface {
            linktype: 1,
            tsresol: 6,
        },
        NgInterface {
            linktype: 101,
            tsresol: 9,
        },
    ];
    let mut ng = PcapNgWriter::new(Vec::new(), &interfaces).expect("header");
    let ts = Timestamp::new(1_700_000_000, 5_000);
    ng.enhanced(0, ts, &Link::ethernet().wrap(&ip))
        .expect("epb");
    ng.enhanced(1, ts, &ip).expect("epb");
    ng.simple(&Link::ethernet().wrap(&ip)).expect("spb");
    ng.obsolete(1, ts, &ip).expect("opb");
    write_seed("capture", "blocks.pcapng", &ng.into_inner());
    let mut be = PcapWriter::with_format(Vec::new(), 101, true, rulesim::synth::ByteOrder::Big)
        .expect("header");
    be.packet(ts, &ip).expect("packet");
    be.packet_with_len(ts, &ip[..20], ip.len() as u32)
        .expect("packet");
    write_seed("capture", "big-endian-ns.pcap", &be.into_inner());
}

fn decode_seeds() {
    // Indexes into the decode target's link type list.
    const NULL: u8 = 0;
    const ETHERNET: u8 = 1;
    const RAW: u8 = 2;
    const LOOP: u8 = 5;
    const SLL: u8 = 6;
    const IPV4: u8 = 7;
    const IPV6: u8 = 8;
    const SLL2: u8 = 9;
    const PPP: u8 = 10;
    const CHDLC: u8 = 11;
    let tcp = packets::tcp(
        sa("10.0.0.1:1000"),
        sa("10.0.0.2:80"),
        64,
        1,
        0,
        rulesim::decode::tcp_flags::SYN,
        b"",
    );
    let udp6 = packets::udp(sa("[2001:db8::1]:53"), sa("[2001:db8::2]:53"), 64, b"dns");
    let icmp = packets::echo(
        "10.0.0.1".parse().expect("ip"),
        "10.0.0.2".parse().expect("ip"),
        64,
        1,
        1,
        false,
        b"ping",
    );
    let with = |index: u8, frame: Vec<u8>| {
        let mut v = vec![index];
        v.extend_from_slice(&frame);
        v
    };
    let vlans = Link::Ethernet {
        vlans: vec![10, 20],
    };
    let seeds = [
        ("ethernet-tcp", with(ETHERNET, Link::ethernet().wrap(&tcp))),
        ("ethernet-qinq-udp6", with(ETHERNET, vlans.wrap(&udp6))),
        ("sll-icmp", with(SLL, Link::Sll.wrap(&icmp))),
        ("sll2-tcp", with(SLL2, Link::Sll2.wrap(&tcp))),
        ("null-udp6", with(NULL, Link::Null.wrap(&udp6))),
        ("raw-tcp", with(RAW, tcp.clone())),
        ("ipv4-icmp", with(IPV4, icmp.clone())),
        ("ipv6-udp", with(IPV6, udp6.clone())),
        ("loop-tcp", with(LOOP, [&[0, 0, 0, 2][..], &tcp].concat())),
        (
            "ppp-tcp",
            with(PPP, [&[0xff, 0x03, 0x00, 0x21][..], &tcp].concat()),
        ),
        (
            "chdlc-icmp",
            with(CHDLC, [&[0x0f, 0x00, 0x08, 0x00][..], &icmp].concat()),
        ),
    ];
    for (name, data) in seeds {
        write_seed("decode", name, &data);
    }
}

fn defrag_seeds() {
    let udp = packets::udp(sa("10.0.0.1:1000"), sa("10.0.0.100:53"), 64, &[b'x'; 100]);
    let udp_payload = &udp[20..];
    write_seed(
        "defrag",
        "v4-in-order",
        &encode::fragmented(false, 17, udp_payload, 32),
    );
    write_seed(
        "defrag",
        "v6-in-order",
        &encode::fragmented(true, 17, udp_payload, 48),
    );
    let spec = |v6: bool, offset: u16, more: bool| FragmentSpec {
        v6,
        id: 2,
        more,
        source: 1,
        options: true,
        offset,
        proto: 17,
    };
    let a = [b'A'; 24];
    let b = [b'B'; 16];
    let c = [b'C'; 32];
    for (v6, name) in [(false, "v4-overlaps"), (true, "v6-overlaps")] {
        let frags = [
            (spec(v6, 2, true), &b[..]),
            (spec(v6, 0, true), &a[..]),
            (spec(v6, 1, true), &c[..]),
            (spec(v6, 5, false), &a[..]),
        ];
        write_seed("defrag", name, &encode::fragments([5, 3, 1], &frags));
    }
}

fn stream_seeds() {
    let text = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    let in_order = [
        StreamOp::Insert {
            offset: 0,
            data: &text[..10],
        },
        StreamOp::Insert {
            offset: 10,
            data: &text[10..],
        },
        StreamOp::Read { ahead: None },
        StreamOp::PassThrough {
            offset: text.len() as i16,
            len: 8,
        },
    ];
    write_seed(
        "tcp_stream",
        "in-order",
        &encode::stream(0, 0, 1024, 1000, &in_order),
    );
    let overlaps = [
        StreamOp::Insert {
            offset: 8,
            data: b"AAAAAAAA",
        },
        StreamOp::Insert {
            offset: 4,
            data: b"BBBBBBBB",
        },
        StreamOp::Insert {
            offset: 8,
            data: b"CCCCCCCC",
        },
        StreamOp::Read { ahead: Some(12) },
        StreamOp::Insert {
            offset: 0,
            data: b"DDDDDDDDDDDD",
        },
        StreamOp::Read { ahead: Some(100) },
    ];
    for (flags, name) in [
        (0, "overlaps-bsd"),
        (1, "overlaps-linux"),
        (3, "overlaps-solaris"),
        (8, "overlaps-inline"),
    ] {
        write_seed(
            "tcp_stream",
            name,
            &encode::stream(flags, 64, 16, 5, &overlaps),
        );
    }
    // Sequence numbers wrapping around, and a depth the data runs into.
    let wrap = [
        StreamOp::Insert {
            offset: 0,
            data: &text[..20],
        },
        StreamOp::Insert {
            offset: 30,
            data: &text[30..],
        },
        StreamOp::Read { ahead: Some(40) },
    ];
    write_seed(
        "tcp_stream",
        "wrap-depth",
        &encode::stream(2, 32, 64, u32::MAX - 10, &wrap),
    );
}

fn seg(from_server: bool, flags: u8, payload: &[u8]) -> Segment<'_> {
    Segment {
        from_server,
        flags,
        seq_offset: 0,
        ack_offset: 0,
        payload,
    }
}

/// Handshake, one message each way (each acknowledged), FIN teardown.
fn exchange<'a>(client: &'a [u8], server: &'a [u8]) -> Vec<Segment<'a>> {
    use rulesim::decode::tcp_flags::{ACK, FIN, PSH, SYN};
    vec![
        seg(false, SYN, b""),
        seg(true, SYN | ACK, b""),
        seg(false, ACK, b""),
        seg(false, PSH | ACK, client),
        seg(true, ACK, b""),
        seg(true, PSH | ACK, server),
        seg(false, ACK, b""),
        seg(false, FIN | ACK, b""),
        seg(true, FIN | ACK, b""),
        seg(false, ACK, b""),
    ]
}

fn session_seeds() {
    use rulesim::decode::tcp_flags::{ACK, PSH};
    // Mode bits 2-4: the server port's index (0 HTTP, 1 TLS, 2 DNS, 3 SSH).
    let request = b"GET /admin/1 HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
    let response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
    let http = exchange(request, response);
    write_seed(
        "tcp_session",
        "http",
        &encode::tcp_session(0, (1000, 50_000), &http),
    );
    let hello = packets::tls_client_hello(Some("www.example.com"));
    let server = [
        packets::tls_server_hello(),
        packets::tls_server_hello_done(),
    ]
    .concat();
    let tls = exchange(&hello, &server);
    let isns = (7, u32::MAX - 3);
    write_seed(
        "tcp_session",
        "tls",
        &encode::tcp_session(1 << 2, isns, &tls),
    );
    let framed = |m: Vec<u8>| [&(m.len() as u16).to_be_bytes()[..], &m].concat();
    let query = framed(packets::dns_query(9, "www.example.com", 1));
    let answer = framed(packets::dns_response_a(9, "www.example.com", [10, 0, 0, 9]));
    let dns = exchange(&query, &answer);
    write_seed(
        "tcp_session",
        "dns",
        &encode::tcp_session(2 << 2, (1, 2), &dns),
    );
    let ssh = exchange(b"SSH-2.0-a\r\n", b"SSH-2.0-b\r\n");
    write_seed(
        "tcp_session",
        "ssh",
        &encode::tcp_session(3 << 2, (1, 2), &ssh),
    );
    // Inline over IPv6, picked up mid-stream: no handshake.
    let midstream = [
        seg(false, PSH | ACK, request),
        seg(true, PSH | ACK, response),
        seg(false, ACK, b""),
    ];
    let mode = 1 | 2 | 0x20;
    write_seed(
        "tcp_session",
        "midstream-inline-v6",
        &encode::tcp_session(mode, (1, 2), &midstream),
    );
    // A request in two segments, the second sent again over the first one's end with
    // other bytes, and an acknowledgement past what was sent.
    let mut overlaps = exchange(b"", b"");
    overlaps.truncate(3);
    overlaps.extend([
        seg(false, PSH | ACK, b"GET /a HTTP/1.1\r\nHo"),
        seg(false, PSH | ACK, b"st: example.com\r\n\r\n"),
        Segment {
            seq_offset: -25,
            ..seg(false, PSH | ACK, b"XXXXXst: example.org\r\n\r\n")
        },
        Segment {
            ack_offset: 10,
            ..seg(true, ACK, b"")
        },
        seg(true, PSH | ACK, response),
    ]);
    let overlaps = encode::tcp_session(0, (1000, 50_000), &overlaps);
    write_seed("tcp_session", "overlaps", &overlaps);
}

fn parser_seeds() {
    let der = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/tls")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| {
            eprintln!("fuzz-seeds: {}: {e}", path.display());
            std::process::exit(2);
        })
    };
    let leaf = der("leaf.der");
    let ca = der("ca.der");
    let hello = packets::tls_client_hello(Some("www.example.com"));
    let mut server = packets::tls_server_hello();
    server.extend_from_slice(&packets::tls_certificate(&[&leaf, &ca]));
    server.extend_from_slice(&packets::tls_server_hello_done());
    let app = [0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3];
    let tls = [(true, &hello[..]), (false, &server[..]), (true, &app[..])];
    write_seed("tls", "handshake", &encode::pieces(&tls, 255));
    write_seed("tls", "handshake-small-pieces", &encode::pieces(&tls, 7));

    let req = packets::http_request("GET", "www.example.com", "/a?b=c", "fuzz");
    let resp = packets::http_response(200, "OK", "text/plain", "hello");
    let chunked = b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: t\r\n\r\n";
    let head = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";
    let resp_head = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close";
    let http = [
        (true, &req[..]),
        (false, &resp[..]),
        (true, &chunked[..]),
        (true, &head[..]),
        (false, &resp_head[..]),
    ];
    write_seed("http", "pipelined", &encode::pieces(&http, 255));
    write_seed("http", "pipelined-small-pieces", &encode::pieces(&http, 5));

    let query = packets::dns_query(7, "www.example.com", 28);
    let answer = packets::dns_response_a(7, "www.example.com", [10, 0, 0, 1]);
    write_seed("dns", "udp-query", &[&[0][..], &query].concat());
    write_seed("dns", "udp-answer", &[&[0][..], &answer].concat());
    let mut tcp = Vec::new();
    for m in [&query, &answer] {
        tcp.extend_from_slice(&(m.len() as u16).to_be_bytes());
        tcp.extend_from_slice(m);
    }
    let pieces = encode::pieces(&[(true, &tcp[..])], 9);
    write_seed("dns", "tcp-split", &[&[1][..], &pieces].concat());
}

fn text_seeds() {
    for (i, line) in FIXTURE_RULES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        write_seed("rules", &format!("fixture-{i:02}.rules"), line.as_bytes());
    }
    write_seed(
        "rules",
        "byte-options.rules",
        br#"alert tcp any any -> any any (content:"HTTP"; byte_extract:1,0,len,relative; byte_jump:1,0,relative,post_offset -1; byte_test:1,=,len,0,relative; sid:1;)
alert http any any -> any any (flow:to_server; http.method; content:"GET"; http.header_names; content:"Host"; dsize:>0; sid:2; rev:2; classtype:trojan-activity; priority:1; metadata:a b;)
alert dns any any -> any any (dns.query; dotprefix; content:".example.com"; endswith; threshold:type limit, track by_src, count 1, seconds 60; sid:3;)
"#,
    );
    let terraform = r#"{"resource": {"aws_networkfirewall_rule_group": {"g": {"name": "g", "type": "STATEFUL", "capacity": 10,
  "rules": "pass tcp any any -> any 443 (tls.sni; content:\"example.com\"; endswith; sid:1;)",
  "rule_group": {"rule_variables": {"ip_sets": {"key": "HOME_NET", "ip_set": {"definition": ["10.0.0.0/8"]}}},
    "stateful_rule_options": {"rule_order": "STRICT_ORDER"}}}},
 "aws_networkfirewall_firewall_policy": {"p": {"name": "p", "firewall_policy": {
  "stateless_default_actions": ["aws:forward_to_sfe"], "stateless_fragment_default_actions": ["aws:forward_to_sfe"],
  "stateful_default_actions": ["aws:drop_established"],
  "stateful_engine_options": {"rule_order": "STRICT_ORDER"},
  "stateful_rule_group_reference": [{"priority": 1, "resource_arn": "${aws_networkfirewall_rule_group.g.arn}"}]}}}}}"#;
    write_seed("aws_json", "terraform-config.tf.json", terraform.as_bytes());
    let state = r#"{"values": {"root_module": {"resources": [{"address": "aws_networkfirewall_rule_group.s", "type": "aws_networkfirewall_rule_group", "name": "s",
  "values": {"name": "s", "type": "STATEFUL", "rules": "", "rule_group": [{"rules_source": [{"rules_source_list": [{"generated_rules_type": "ALLOWLIST", "target_types": ["HTTP_HOST"], "targets": ["a.example"]}]}]}]}}]}}}"#;
    write_seed("aws_json", "terraform-state.json", state.as_bytes());
    let expect = r#"captures = ["a.pcap", "dir"]
rules = ["r.rules"]
mode = "ips"
home_net = "10.0.0.0/8"
set = ["stream.midstream=true"]

[[expect]]
name = "web is allowed"
flow = { proto = "tcp", dest_port = 80 }
verdict = "allowed"
alerts = [2, "1:3", "2000000-2999999"]
alert_count = { sids = ["*"], min = 1 }

[[expect]]
decided_by = "aws:drop_established"
no_alerts = ["*"]
flows = { min = 0, max = 3 }
"#;
    write_seed("expectations", "all-fields.toml", expect.as_bytes());
}
