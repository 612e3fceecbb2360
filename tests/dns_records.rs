//! EVE `dns` answer records for every record type Suricata 7.0.10 decodes (A, AAAA with a
//! bad length, CNAME, MX, TXT with several strings and non-UTF-8 bytes, NULL, SRV,
//! SSHFP, an undecoded type) and the authority section (SOA), held to the record
//! Suricata 7.0.10 wrote for the same capture (`--eve-types dns`; `suricata -r` with
//! eve-log types dns, v2, detailed and grouped).

mod common;

use common::{sa, write_pcap};
use rulesim::synth::packets;
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

/// A resource record for `name` given as a pointer to the question (offset 12).
fn record(m: &mut Vec<u8>, rrtype: u16, ttl: u32, data: &[u8]) {
    m.extend_from_slice(&[0xc0, 0x0c]);
    m.extend_from_slice(&rrtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&ttl.to_be_bytes());
    m.extend_from_slice(&(data.len() as u16).to_be_bytes());
    m.extend_from_slice(data);
}

fn name(labels: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in labels {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
    out
}

/// The response: 8 answer records (9 answers: the TXT record has two strings), 1
/// authority record.
fn response(id: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&0x8580u16.to_be_bytes()); // QR, AA, RD, RA
    m.extend_from_slice(&[0, 1, 0, 8, 0, 1, 0, 0]);
    m.extend_from_slice(&name(&["svc", "example", "com"]));
    m.extend_from_slice(&[0, 255, 0, 1]); // ANY
    record(&mut m, 5, 60, &name(&["alias", "example", "net"]));
    // MX: preference, then a name pointing back into the question.
    record(
        &mut m,
        15,
        61,
        &[0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 0x10],
    );
    // TXT with two strings (two answers), the second not UTF-8.
    record(
        &mut m,
        16,
        62,
        &[5, b'v', b'=', b's', b'p', b'f', 3, b'a', 0xff, b'z'],
    );
    record(&mut m, 10, 63, b"null-data");
    // SRV: priority 1, weight 2, port 5060, target.
    let mut srv = vec![0, 1, 0, 2, 0x13, 0xc4];
    srv.extend_from_slice(&name(&["sip", "example", "com"]));
    record(&mut m, 33, 64, &srv);
    // SSHFP: algorithm 4 (Ed25519), type 2 (SHA-256), a short fingerprint.
    record(&mut m, 44, 65, &[4, 2, 0xde, 0xad, 0xbe, 0xef]);
    // An A record 5 bytes long: Suricata logs an empty rdata.
    record(&mut m, 1, 66, &[1, 2, 3, 4, 5]);
    // HINFO: a type Suricata does not decode (no rdata).
    record(&mut m, 13, 67, &[3, b'c', b'p', b'u', 2, b'o', b's']);
    // Authority: SOA.
    let mut soa = name(&["ns1", "example", "com"]);
    soa.extend_from_slice(&name(&["hostmaster", "example", "com"]));
    for v in [2026112401u32, 7200, 3600, 1209600, 300] {
        soa.extend_from_slice(&v.to_be_bytes());
    }
    record(&mut m, 6, 3600, &soa);
    m
}

fn capture() -> Vec<TimedPacket> {
    let client = sa("10.0.0.5:53000");
    let server = sa("10.0.0.53:53");
    let t = |us: u32| Timestamp::new(1_767_225_600, us * 1000);
    vec![
        TimedPacket {
            ts: t(0),
            ip: packets::udp(
                client,
                server,
                64,
                &packets::dns_query(0x4242, "svc.example.com", 255),
            ),
        },
        TimedPacket {
            ts: t(900),
            ip: packets::udp(server, client, 64, &response(0x4242)),
        },
    ]
}

#[test]
fn answer_record_has_suricatas_fields_for_each_record_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("dns.pcap");
    write_pcap(&pcap, &capture());
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, keep).expect("keep pcap");
    }
    let eve = common::eve_of_run(&pcap, &["--eve-types".as_ref(), "dns".as_ref()], false);
    let answer: serde_json::Value = eve
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .find(|r| r["event_type"] == "dns" && r["dns"]["type"] == "answer")
        .expect("an answer record");
    // What Suricata 7.0.10 wrote for this capture (its `dns` object; `grouped` is
    // compared as a map: Suricata writes its types in a hash map's order).
    let expected: serde_json::Value = serde_json::from_str(
        r#"{"version":2,"type":"answer","id":16962,"flags":"8580","qr":true,"aa":true,"rd":true,"ra":true,"opcode":0,"rrname":"svc.example.com","rrtype":"ANY","rcode":"NOERROR",
        "answers":[
          {"rrname":"svc.example.com","rrtype":"CNAME","ttl":60,"rdata":"alias.example.net"},
          {"rrname":"svc.example.com","rrtype":"MX","ttl":61,"rdata":"mail.example.com"},
          {"rrname":"svc.example.com","rrtype":"TXT","ttl":62,"rdata":"v=spf"},
          {"rrname":"svc.example.com","rrtype":"TXT","ttl":62,"rdata":"a\\xffz"},
          {"rrname":"svc.example.com","rrtype":"NULL","ttl":63,"rdata":"null-data"},
          {"rrname":"svc.example.com","rrtype":"SRV","ttl":64,"srv":{"priority":1,"weight":2,"port":5060,"name":"sip.example.com"}},
          {"rrname":"svc.example.com","rrtype":"SSHFP","ttl":65,"sshfp":{"fingerprint":"de:ad:be:ef","algo":4,"type":2}},
          {"rrname":"svc.example.com","rrtype":"A","ttl":66,"rdata":""},
          {"rrname":"svc.example.com","rrtype":"HINFO","ttl":67}],
        "grouped":{"CNAME":["alias.example.net"],"MX":["mail.example.com"],"TXT":["v=spf","a\\xffz"],"NULL":["null-data"],
          "SRV":[{"priority":1,"weight":2,"port":5060,"name":"sip.example.com"}],
          "SSHFP":[{"fingerprint":"de:ad:be:ef","algo":4,"type":2}],"A":[""]},
        "authorities":[{"rrname":"svc.example.com","rrtype":"SOA","ttl":3600,"soa":{"mname":"ns1.example.com","rname":"hostmaster.example.com","serial":2026112401,"refresh":7200,"retry":3600,"expire":1209600,"minimum":300}}]}"#,
    )
    .expect("expected json");
    let got = &answer["dns"];
    for (k, v) in expected.as_object().expect("object") {
        assert_eq!(&got[k], v, "dns.{k}");
    }
    assert_eq!(
        got.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        expected
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        "fields and their order"
    );
}

/// Each DNS message is a transaction of its own, as in Suricata 7.0.10: two queries and
/// their answers on one UDP flow are transactions 0 to 3. A packet rule of the `dns`
/// protocol alerts on its message's transaction (a response's alert carries the `answer`
/// object without its answers, as Suricata's alert logger writes it), and `dns.query`
/// matches the query's transaction only. Expected: Suricata 7.0.10 on the same capture
/// (`suricata-offline -r ... -k none --runmode single`).
#[test]
fn each_message_is_a_transaction_in_alerts() {
    let (client, server) = (sa("10.0.0.7:40053"), sa("192.0.2.53:53"));
    let mut packets = Vec::new();
    for (i, host) in ["a.example", "b.example"].iter().enumerate() {
        let id = i as u16 + 1;
        for (j, (src, dst, msg)) in [
            (client, server, packets::dns_query(id, host, 1)),
            (
                server,
                client,
                packets::dns_response_a(id, host, [192, 0, 2, 9]),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            packets.push(TimedPacket {
                ts: Timestamp::new(1_700_000_000, (i * 2 + j) as u32 * 1000),
                ip: packets::udp(src, dst, 64, &msg),
            });
        }
    }
    let rules = "\
alert dns any any -> any any (msg:\"a dns packet\"; content:\"example\"; sid:1;)
alert dns any any -> any any (msg:\"the second query\"; dns.query; content:\"b.example\"; sid:2;)
";
    let (alerts, _) = common::alerts_and_stats(&packets, rules, &[]);
    let got: Vec<(u64, u64, u64, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["pcap_cnt"].as_u64().unwrap_or(0),
                a["alert"]["signature_id"].as_u64().unwrap_or(0),
                a["tx_id"].as_u64().unwrap_or(u64::MAX),
                a["dns"].to_string(),
            )
        })
        .collect();
    let query = |id: u64, name: &str, tx: u64| {
        format!(
            r#"{{"version":2,"query":[{{"type":"query","id":{id},"rrname":"{name}","rrtype":"A","tx_id":{tx},"opcode":0}}]}}"#
        )
    };
    let answer = |id: u64, name: &str| {
        format!(
            r#"{{"version":2,"answer":{{"version":2,"type":"answer","id":{id},"flags":"8180","qr":true,"rd":true,"ra":true,"opcode":0,"rrname":"{name}","rrtype":"A","rcode":"NOERROR"}}}}"#
        )
    };
    assert_eq!(
        got,
        [
            (1, 1, 0, query(1, "a.example", 0)),
            (2, 1, 1, answer(1, "a.example")),
            (3, 1, 2, query(2, "b.example", 2)),
            (3, 2, 2, query(2, "b.example", 2)),
            (4, 1, 3, answer(2, "b.example")),
        ]
    );
}
