//! TLS certificate keywords end to end: `tls.cert_subject`, `tls.cert_issuer`,
//! `tls.cert_serial`, `tls.cert_fingerprint` (and a legacy alias) and the multi-buffer
//! `tls.certs`, on captures built with the project's packet builders. Every expected
//! (pcap_cnt, sid) list below is what Suricata 7.0.10 reported on the same capture and
//! rules (`suricata-offline -k none --runmode single`, with and without
//! `--simulate-ips`); set `RULESIM_KEEP_PCAP=<path>` to keep a capture for such a replay.
//!
//! The certificates are in `tests/data/tls/`, made once with OpenSSL 3 (EC P-256 keys):
//! * `ca.der`: `openssl req -x509 -new -key ca.key -subj "/C=US/O=Rulesim Test/CN=Rulesim
//!   Test CA" -days 3650 -set_serial 0x1A2B3C4D -outform DER`;
//! * `leaf.der`: `openssl req -new -key leaf.key -subj "/C=DE/ST=Berlin/O=Evil
//!   Corp/CN=malware.example.test"`, signed with `openssl x509 -req -CA ca.der -CAkey
//!   ca.key -set_serial 0x00ABCDEF0123 -days 365 -outform DER`;
//! * `self.der`: `openssl req -x509 -new -key leaf.key -subj
//!   "/CN=self.signed.test/O=Self/emailAddress=admin@self.signed.test" -days 30
//!   -set_serial 7 -outform DER`.

use rulesim::synth::packets::{self, TcpConversation};
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;
use serde_json::Value;

mod common;
use common::{alerts_of_run, eve_of_run, sa, write_pcap};

const CA: &[u8] = include_bytes!("data/tls/ca.der");
const LEAF: &[u8] = include_bytes!("data/tls/leaf.der");
const SELF_SIGNED: &[u8] = include_bytes!("data/tls/self.der");

/// Flow 1 (client port 40001): SYN(1) SYN/ACK(2) ACK(3) ClientHello(4) ACK(5)
/// ServerHello(6) ACK(7), the Certificate record [leaf, ca] split over two segments (8,
/// ACK 9; 10, ACK 11), ServerHelloDone(12) ACK(13), FIN(14..16).
/// Flow 2 (client port 40002, packets 17..30 in the same order): the chain [16 bytes of
/// garbage, self-signed] in one segment (24, ACK 25), ServerHelloDone (26, ACK 27).
/// Flow 3 (client port 40003, mutual TLS): handshake (31..33), ClientHello (34, ACK 35),
/// the server's ServerHello + Certificate [leaf, ca] + CertificateRequest +
/// ServerHelloDone in one segment (36, ACK 37), the client's Certificate [self-signed] +
/// ChangeCipherSpec (38, ACK 39), the server's ChangeCipherSpec (40, ACK 41), FIN
/// (42..44).
fn capture() -> Vec<TimedPacket> {
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40001"),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_000, 0),
    );
    let cert = packets::tls_certificate(&[LEAF, CA]);
    let (a, b) = cert.split_at(300);
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("www.example.com")))
        .server_sends(&packets::tls_server_hello())
        .server_sends(a)
        .server_sends(b)
        .server_sends(&packets::tls_server_hello_done())
        .close();
    let mut out = c.packets;
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40002"),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_100, 0),
    );
    let garbage = [0xde, 0xad, 0xbe, 0xef].repeat(4);
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("self.signed.test")))
        .server_sends(&packets::tls_server_hello())
        .server_sends(&packets::tls_certificate(&[&garbage, SELF_SIGNED]))
        .server_sends(&packets::tls_server_hello_done())
        .close();
    out.extend(c.packets);
    let mut c = TcpConversation::new(
        sa("10.0.0.5:40003"),
        sa("93.184.216.34:443"),
        Timestamp::new(1_700_000_200, 0),
    );
    let mut flight = packets::tls_server_hello();
    flight.extend(packets::tls_certificate(&[LEAF, CA]));
    // CertificateRequest: certificate type rsa_sign, signature algorithm
    // ecdsa_secp256r1_sha256, no authorities.
    flight.extend([0x16, 3, 3, 0, 12, 13, 0, 0, 8, 1, 1, 0, 2, 4, 3, 0, 0]);
    flight.extend(packets::tls_server_hello_done());
    let mut client = packets::tls_certificate(&[SELF_SIGNED]);
    client.extend([20, 3, 3, 0, 1, 1]);
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some("mutual.example")))
        .server_sends(&flight)
        .client_sends(&client)
        .server_sends(&[20, 3, 3, 0, 1, 1])
        .close();
    out.extend(c.packets);
    out
}

const RULES: &str = r#"alert tls any any -> any any (msg:"subject"; flow:established,to_client; tls.cert_subject; content:"CN=malware.example.test"; nocase; sid:101;)
alert tls any any -> any any (msg:"issuer exact"; flow:established,to_client; tls.cert_issuer; content:"C=US, O=Rulesim Test, CN=Rulesim Test CA"; startswith; endswith; sid:102;)
alert tls any any -> any any (msg:"serial with its DER leading zero"; flow:established,to_client; tls.cert_serial; content:"00:AB:CD:EF:01:23"; sid:103;)
alert tls any any -> any any (msg:"fingerprint"; flow:established,to_client; tls.cert_fingerprint; content:"52:4d:d1:4b:0b:d6:fd:85:15:be:f8:1a:9e:d6:d5:b9:cc:2a:e7:72"; sid:104;)
alert tls any any -> any any (msg:"legacy alias and pcre"; flow:established,to_client; tls_cert_subject; content:"Berlin"; pcre:"/^C=DE, ST=Berlin, O=Evil Corp,/"; sid:105;)
alert tls any any -> any any (msg:"isdataat holds"; flow:established,to_client; tls.cert_issuer; content:"CN="; isdataat:!15,relative; sid:106;)
alert tls any any -> any any (msg:"isdataat fails"; flow:established,to_client; tls.cert_issuer; content:"CN="; isdataat:!14,relative; sid:107;)
alert tls any any -> any any (msg:"isdataat: fewer than 16 bytes left"; flow:established,to_client; tls.cert_issuer; content:"CN="; isdataat:!16,relative; sid:118;)
alert tls any any -> any any (msg:"certs: the CA's serial"; flow:established,to_client; tls.certs; content:"|1a 2b 3c 4d|"; sid:108;)
alert tls any any -> any any (msg:"certs: two certificates' bytes never match together"; flow:established,to_client; tls.certs; content:"malware.example.test"; content:"|1a 2b 3c 4d|"; sid:109;)
alert tls any any -> any any (msg:"no direction"; tls.cert_subject; content:"malware"; sid:110;)
alert tls any any -> any any (msg:"to_server: the client's certificate"; flow:to_server; tls.cert_subject; content:"malware"; sid:111;)
alert tls any any -> any any (msg:"subject with email"; flow:established,to_client; tls.cert_subject; content:"CN=self.signed.test, O=Self, Email=admin@self.signed.test"; sid:112;)
alert tls any any -> any any (msg:"not OpenSSL's name for the email attribute"; flow:established,to_client; tls.cert_subject; content:"emailAddress="; sid:117;)
alert tls any any -> any any (msg:"short serial"; flow:established,to_client; tls.cert_serial; content:"07"; startswith; endswith; sid:113;)
alert tls any any -> any any (msg:"certs: a certificate that failed to decode"; flow:established,to_client; tls.certs; content:"|de ad be ef|"; sid:114;)
alert tls any any -> any any (msg:"certs: the certificate after it"; flow:established,to_client; tls.certs; content:"self.signed.test"; sid:115;)
alert tls any any -> any any (msg:"certs: no direction"; tls.certs; content:"Evil Corp"; sid:116;)
alert tls any any -> any any (msg:"sni: before any certificate"; tls.sni; content:"www.example.com"; sid:120;)
alert tls any any -> any any (msg:"mutual: the client's certificate"; flow:to_server; tls.cert_subject; content:"CN=self.signed.test"; sid:121;)
alert tls any any -> any any (msg:"mutual: the client's chain"; flow:to_server; tls.certs; content:"self.signed.test"; sid:122;)
alert tls any any -> any any (msg:"mutual: the server's certificate"; flow:to_client; tls.cert_serial; content:"00:AB:CD:EF:01:23"; sid:123;)
"#;

/// The alert records rulesim writes.
fn alerts(ips: bool) -> Vec<Value> {
    alerts_of_run(&capture(), RULES, ips)
}

/// (pcap_cnt, sid) of each alert.
fn summary(alerts: &[Value]) -> Vec<(Option<u64>, u64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a["pcap_cnt"].as_u64(),
                a["alert"]["signature_id"].as_u64().expect("sid"),
            )
        })
        .collect()
}

/// The `tls` object of Suricata 7.0.10's alerts once the server's certificate is parsed,
/// per flow (field order included).
const TLS_FLOW1: &str = r#"{"subject":"C=DE, ST=Berlin, O=Evil Corp, CN=malware.example.test","issuerdn":"C=US, O=Rulesim Test, CN=Rulesim Test CA","serial":"00:AB:CD:EF:01:23","fingerprint":"52:4d:d1:4b:0b:d6:fd:85:15:be:f8:1a:9e:d6:d5:b9:cc:2a:e7:72","sni":"www.example.com","version":"TLS 1.2","notbefore":"2026-11-24T08:10:03","notafter":"2027-11-24T08:10:03"}"#;
const TLS_FLOW2: &str = r#"{"subject":"CN=self.signed.test, O=Self, Email=admin@self.signed.test","issuerdn":"CN=self.signed.test, O=Self, Email=admin@self.signed.test","serial":"07","fingerprint":"4c:52:ab:4d:10:be:e1:bc:17:0e:9e:ab:44:76:07:0d:be:04:a4:17","sni":"self.signed.test","version":"TLS 1.2","notbefore":"2026-11-24T08:10:03","notafter":"2026-12-24T08:10:03"}"#;

const TLS_FLOW3: &str = r#"{"subject":"C=DE, ST=Berlin, O=Evil Corp, CN=malware.example.test","issuerdn":"C=US, O=Rulesim Test, CN=Rulesim Test CA","serial":"00:AB:CD:EF:01:23","fingerprint":"52:4d:d1:4b:0b:d6:fd:85:15:be:f8:1a:9e:d6:d5:b9:cc:2a:e7:72","sni":"mutual.example","version":"TLS 1.2","notbefore":"2026-11-24T08:10:03","notafter":"2027-11-24T08:10:03","client":{"subject":"CN=self.signed.test, O=Self, Email=admin@self.signed.test","issuerdn":"CN=self.signed.test, O=Self, Email=admin@self.signed.test","fingerprint":"4c:52:ab:4d:10:be:e1:bc:17:0e:9e:ab:44:76:07:0d:be:04:a4:17","serial":"07","notbefore":"2026-11-24T08:10:03","notafter":"2026-12-24T08:10:03"}}"#;

/// Each alert's `tls` object, as JSON text (so the field order counts).
fn tls_objects(alerts: &[Value]) -> Vec<String> {
    alerts.iter().map(|a| a["tls"].to_string()).collect()
}

fn expected_tls(expected: &[(Option<u64>, u64)], before_cert: &str) -> Vec<String> {
    expected
        .iter()
        .map(|&(pkt, sid)| match (pkt, sid) {
            (_, 120) => before_cert.to_string(),
            (Some(p), _) if p > 30 => TLS_FLOW3.to_string(),
            (Some(p), _) if p > 16 => TLS_FLOW2.to_string(),
            _ => TLS_FLOW1.to_string(),
        })
        .collect()
}

#[test]
fn ids_inspects_the_certificate_on_the_servers_next_packet() {
    let got = alerts(false);
    assert_eq!(summary(&got), IDS);
    assert_eq!(
        tls_objects(&got),
        expected_tls(IDS, r#"{"sni":"www.example.com","version":"TLS 1.2"}"#)
    );
}

#[test]
fn ips_inspects_the_certificate_on_its_own_packet() {
    let got = alerts(true);
    assert_eq!(summary(&got), IPS);
    assert_eq!(
        tls_objects(&got),
        expected_tls(IPS, r#"{"sni":"www.example.com","version":"UNDETERMINED"}"#)
    );
}

/// Suricata 7.0.10, IDS: the certificate is parsed when the client ACKs its last segment
/// (11) and to-client rules run on the server's next packet (12; 26 in flow 2); the SNI
/// rule 120 on the client's packet after the server ACKed the ClientHello (7). Not
/// matching, as in Suricata: 106/107 (`isdataat:!N,relative` holds when fewer than N
/// bytes follow the content; 15 do, so only 118's `!16` holds), 109 (two certificates'
/// bytes),
/// 111 (no client certificate), 114 (the certificate that failed to decode is not in
/// the chain), 117 (x509-parser writes `Email=`).
const IDS: &[(Option<u64>, u64)] = &[
    (Some(7), 120),
    (Some(12), 101),
    (Some(12), 102),
    (Some(12), 103),
    (Some(12), 104),
    (Some(12), 105),
    (Some(12), 108),
    (Some(12), 110),
    (Some(12), 116),
    (Some(12), 118),
    (Some(12), 123),
    (Some(26), 112),
    (Some(26), 113),
    (Some(26), 115),
    (Some(39), 101),
    (Some(39), 102),
    (Some(39), 103),
    (Some(39), 104),
    (Some(39), 105),
    (Some(39), 108),
    (Some(39), 110),
    (Some(39), 116),
    (Some(39), 118),
    (Some(39), 123),
    (Some(41), 121),
    (Some(41), 122),
];
/// Suricata 7.0.10, `--simulate-ips`: on the segment that completes the certificate; in
/// flow 3 the client's certificate (38) makes the to-client side ready, but its rules
/// wait for the server's next packet with data (40): the server's empty ACK (39) neither
/// updated the app layer nor follows server bytes parsed since the server's last packet.
/// In IDS mode that ACK is what hands the client's bytes to the parser, so they run on
/// it (39), and the to-server rules on the client's next packet (41).
const IPS: &[(Option<u64>, u64)] = &[
    (Some(4), 120),
    (Some(10), 101),
    (Some(10), 102),
    (Some(10), 103),
    (Some(10), 104),
    (Some(10), 105),
    (Some(10), 108),
    (Some(10), 110),
    (Some(10), 116),
    (Some(10), 118),
    (Some(10), 123),
    (Some(24), 112),
    (Some(24), 113),
    (Some(24), 115),
    (Some(38), 121),
    (Some(38), 122),
    (Some(40), 101),
    (Some(40), 102),
    (Some(40), 103),
    (Some(40), 104),
    (Some(40), 105),
    (Some(40), 108),
    (Some(40), 110),
    (Some(40), 116),
    (Some(40), 118),
    (Some(40), 123),
];

/// `minerpool.der` (tests/data/tls/): `openssl req -new -key leaf.key -subj
/// "/CN=eu.minerpool.pw"` signed by a throwaway CA named `/C=US/O=Let's Encrypt/CN=Let's
/// Encrypt Authority X3` (`-set_serial 0x03B1C2D3E4F5 -days 90 -outform DER`).
const MINERPOOL: &[u8] = include_bytes!("data/tls/minerpool.der");

/// `sliver.der` (tests/data/tls/, made by `make_sliver.py` from `leaf.der`: its key,
/// algorithms and signature bytes, which do not verify, under a subject and issuer `C=US,
/// ST=, L=, street=, postalCode=1234, CN=multiplayer`): the empty attributes Sliver's
/// generated certificates carry, which ET's `tls.certs` rules look for in the DER.
const SLIVER: &[u8] = include_bytes!("data/tls/sliver.der");

/// Per flow: SYN(1) SYN/ACK(2) ACK(3) ClientHello (4, ACK 5), the server's ServerHello +
/// Certificate + ServerHelloDone in one segment (6, ACK 7), the client's
/// ChangeCipherSpec (8, ACK 9), FIN (10..12). Flow 1 (port 40010): "eu.minerpool.pw" and
/// [minerpool]; flow 2 (port 40011, packets 13..24): "multiplayer" and [sliver, ca].
fn et_capture() -> Vec<TimedPacket> {
    let mut out = Vec::new();
    for (port, sni, chain, t) in [
        (40010, "eu.minerpool.pw", &[MINERPOOL][..], 1_700_000_000),
        (40011, "multiplayer", &[SLIVER, CA][..], 1_700_000_100),
    ] {
        let mut c = TcpConversation::new(
            sa(&format!("10.0.0.5:{port}")),
            sa("93.184.216.34:443"),
            Timestamp::new(t, 0),
        );
        let mut flight = packets::tls_server_hello();
        flight.extend(packets::tls_certificate(chain));
        flight.extend(packets::tls_server_hello_done());
        c.handshake()
            .client_sends(&packets::tls_client_hello(Some(sni)))
            .server_sends(&flight)
            .client_sends(&[20, 3, 3, 0, 1, 1])
            .close();
        out.extend(c.packets);
    }
    out
}

fn rulesets() -> Option<std::path::PathBuf> {
    match std::env::var_os("RULESIM_RULESETS") {
        Some(p) => Some(p.into()),
        None => {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rulesets");
            p.is_dir().then_some(p)
        }
    }
}

/// The whole of ET Open on the capture: every alert Suricata 7.0.10 gave, and no other.
#[test]
fn et_open_certificate_rules_match_as_suricata() {
    let Some(dir) = rulesets() else {
        eprintln!("rulesets not found beside the repository; set RULESIM_RULESETS");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let pcap = tmp.path().join("in.pcap");
    write_pcap(&pcap, &et_capture());
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, keep).expect("keep pcap");
    }
    let et = dir.join("et-open");
    for (ips, want) in [(false, ET_IDS), (true, ET_IPS)] {
        let text = eve_of_run(&pcap, &["-S".as_ref(), et.as_os_str()], ips);
        let got: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("json"))
            .filter(|r| r["event_type"] == "alert")
            .collect();
        assert_eq!(summary(&got), want, "ips {ips}");
    }
}

/// Suricata 7.0.10 with all of ET Open (24,827 rules loaded): sid 2028623 ("ET
/// COINMINER Observed Suspicious SSL Cert (Minerpool - CoinMining)": `tls.cert_subject`
/// with `nocase; endswith` and `tls.cert_issuer`) on flow 1, sid 2037281 ("ET
/// ATTACK_RESPONSE Havoc/Sliver Framework TLS Certificate Observed": `tls.certs` with a
/// relative `pcre`, negated contents and `distance`/`within`) on flow 2, and nothing else.
/// IDS: a flight is parsed on the client's ACK (7, 19) and the to-client rules run on
/// the server's next packet (9, 21).
const ET_IDS: &[(Option<u64>, u64)] = &[(Some(9), 2028623), (Some(21), 2037281)];
/// `--simulate-ips`: on the flight's own packet.
const ET_IPS: &[(Option<u64>, u64)] = &[(Some(6), 2028623), (Some(18), 2037281)];
