//! DNS parsing on messages built by the project's packet builders, plus hand-made hostile
//! names.

use super::dns::*;
use crate::synth::packets::{dns_query, dns_response_a};

#[test]
fn query_and_compressed_answer() {
    let q = parse_message(&dns_query(0x1234, "www.Example.com", 1)).expect("query");
    assert_eq!((q.id, q.is_response(), q.opcode()), (0x1234, false, 0));
    assert_eq!(q.questions.len(), 1);
    assert_eq!(q.questions[0].name, b"www.Example.com", "bytes as sent");
    assert_eq!((q.questions[0].rrtype, q.questions[0].rrclass), (1, 1));

    let r = parse_message(&dns_response_a(
        0x1234,
        "www.example.com",
        [93, 184, 216, 34],
    ))
    .expect("response");
    assert!(r.is_response());
    assert_eq!(r.rcode(), 0);
    assert_eq!(r.answers.len(), 1);
    let a = &r.answers[0];
    assert_eq!(
        a.name, b"www.example.com",
        "the pointer to offset 12 is followed"
    );
    assert_eq!((a.rrtype, a.ttl), (1, 300));
    assert_eq!(a.data, Rdata::A([93, 184, 216, 34]));
}

#[test]
fn looping_and_truncated_names_are_errors() {
    let mut m = dns_query(1, "a.example", 1);
    // Replace the question's name with a pointer to itself.
    m.truncate(12);
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    assert_eq!(parse_message(&m), Err(DnsError::BadPointer));
    let whole = dns_query(1, "a.example", 1);
    for cut in 0..whole.len() {
        assert!(parse_message(&whole[..cut]).is_err(), "cut at {cut}");
    }
    let mut bad = whole.clone();
    bad[12] = 0x80;
    assert_eq!(parse_message(&bad), Err(DnsError::BadLabel(0x80)));
}

#[test]
fn tcp_messages_in_any_split() {
    let mut wire = Vec::new();
    for (id, name) in [(1u16, "one.example"), (2, "two.example")] {
        let m = dns_query(id, name, 28);
        wire.extend_from_slice(&(m.len() as u16).to_be_bytes());
        wire.extend_from_slice(&m);
    }
    for cut in 0..=wire.len() {
        let mut r = TcpReader::default();
        let mut got = r.feed(&wire[..cut]);
        got.extend(r.feed(&wire[cut..]));
        let names: Vec<Vec<u8>> = got
            .into_iter()
            .map(|m| m.expect("parses").questions[0].name.clone())
            .collect();
        assert_eq!(
            names,
            [b"one.example".to_vec(), b"two.example".to_vec()],
            "cut {cut}"
        );
    }
}

#[test]
fn probe_accepts_dns_and_refuses_other_payloads() {
    assert!(probe(&dns_query(7, "x.example", 1)));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
    assert!(!probe(&[0u8; 12]), "no question");
}

#[test]
fn arbitrary_bytes_never_panic() {
    let base = dns_response_a(9, "fuzz.example.com", [1, 2, 3, 4]);
    let mut seed: u64 = 99;
    for _ in 0..5000 {
        let mut b = base.clone();
        for _ in 0..3 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let i = (seed >> 33) as usize % b.len();
            b[i] = (seed >> 21) as u8;
        }
        let _ = parse_message(&b);
        let _ = probe(&b);
    }
}

/// A response to `a.example` with one answer record of `rrtype` carrying `data`.
fn one_record(rrtype: u16, data: &[u8]) -> Vec<u8> {
    let mut m = dns_query(7, "a.example", 255);
    m[2] = 0x81;
    m[7] = 1; // one answer
    m.extend_from_slice(&[0xc0, 0x0c]);
    m.extend_from_slice(&rrtype.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
    m.extend_from_slice(&(data.len() as u16).to_be_bytes());
    m.extend_from_slice(data);
    m
}

#[test]
fn record_data_is_split_and_refused_where_suricata_does() {
    // TXT: one answer per string; a string cut short ends the list.
    let r = parse_message(&one_record(16, &[1, b'x', 2, b'y', b'z', 9, b'w'])).expect("txt");
    let data: Vec<_> = r.answers.iter().map(|a| a.data.clone()).collect();
    assert_eq!(
        data,
        [Rdata::Txt(b"x".to_vec()), Rdata::Txt(b"yz".to_vec())]
    );
    // TXT without a whole string, SSHFP shorter than its two fixed bytes, and SOA
    // numbers past the record's data fail the message, as Suricata's parser fails it.
    assert!(parse_message(&one_record(16, &[])).is_err());
    assert!(parse_message(&one_record(16, &[4, b'a'])).is_err());
    assert!(parse_message(&one_record(44, &[1])).is_err());
    let mut soa = vec![0, 0];
    soa.extend_from_slice(&[0; 19]);
    assert!(parse_message(&one_record(6, &soa)).is_err());
    soa.push(0);
    assert!(matches!(
        parse_message(&one_record(6, &soa)).expect("soa").answers[0].data,
        Rdata::Soa(_)
    ));
    // An address of the wrong length is kept (EVE writes an empty rdata).
    let r = parse_message(&one_record(1, &[1, 2, 3])).expect("a");
    assert_eq!(r.answers[0].data, Rdata::BadAddress);
}

#[test]
fn name_limits_are_counted() {
    let mut hits = DnsLimitHits::default();
    // 255 pointers are followed, the 256th is refused: the question's name is a pointer
    // to a chain of pointers, each to the next, ending at the root label.
    let chain = |hops: usize| {
        let mut m = dns_query(1, "a", 1);
        m.truncate(12);
        m.extend_from_slice(&[0xc0, 18, 0, 1, 0, 1]);
        for i in 1..hops {
            let next = 18 + 2 * i;
            m.extend_from_slice(&[0xc0 | (next >> 8) as u8, next as u8]);
        }
        m.push(0);
        m
    };
    assert!(parse_message(&chain(MAX_POINTER_HOPS)).is_ok());
    let refused = parse_message(&chain(MAX_POINTER_HOPS + 1));
    assert_eq!(refused, Err(DnsError::BadPointer));
    hits.count(&DnsError::BadPointer);
    // A name of more than 1,025 bytes (labels of 63 with compression to repeat them).
    let mut long = dns_query(1, "a", 1);
    long.truncate(12);
    for _ in 0..17 {
        long.push(63);
        long.extend_from_slice(&[b'x'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    let e = parse_message(&long).expect_err("too long");
    assert_eq!(e, DnsError::NameTooLong);
    hits.count(&e);
    hits.count(&DnsError::Truncated);
    assert_eq!(
        hits,
        DnsLimitHits {
            name_too_long: 1,
            pointer_hops_exceeded: 1,
            tx_dropped: 0
        }
    );
}
