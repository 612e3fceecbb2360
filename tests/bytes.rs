//! `byte_test`, `byte_jump` and `byte_extract` end to end: UDP datagrams (one packet rule
//! inspection each) against rules using the keywords, held to the alerts Suricata 7.0.10
//! gave on the same capture and rules (`-k none --runmode single`; recorded once with
//! RULESIM_KEEP_PCAP and `../shared/tools/suricata-offline`, not needed to run this test).

use rulesim::synth::packets;
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

mod common;
use common::{alerts_of_run, sa};

/// The datagrams, in capture order (pcap_cnt 1, 2, ...).
const PAYLOADS: &[&[u8]] = &[
    b"\x00\x05hello",                    // 1
    b"\x00\x02xyhello",                  // 2
    b"a\x80b",                           // 3
    b"a\x01b a\x81c",                    // 4
    b"LEN 0012 payload",                 // 5
    b"\x03abc\x02de\x01f",               // 6
    b"\x04\x00\x00\x00abcdEND",          // 7
    b"hdr\x00\x03abc\x00\x03",           // 8
    b"\x10\x00",                         // 9
    b"12x",                              // 10
    b"ff:zz",                            // 11
    b"\x05",                             // 12
    b"\x18\x03\x01\x00\x03\x01\x40\x00", // 13 (heartbleed-like: record length 3, hb length 0x4000)
];

const RULES: &str = r#"alert udp any any -> any any (msg:"bt eq"; byte_test:2,=,5,0; sid:1;)
alert udp any any -> any any (msg:"bj then content"; byte_jump:2,0; content:"hello"; within:5; sid:2;)
alert udp any any -> any any (msg:"bt retry after content"; content:"a"; byte_test:1,&,0x80,0,relative; sid:3;)
alert udp any any -> any any (msg:"bt neg and"; content:"a"; byte_test:1,!&,0x80,0,relative; content:"b"; distance:1; within:1; sid:4;)
alert udp any any -> any any (msg:"bt string dec"; content:"LEN "; byte_test:4,>,10,0,relative,string,dec; sid:5;)
alert udp any any -> any any (msg:"bj chain"; byte_jump:1,0; byte_jump:1,0,relative; byte_test:1,=,1,0,relative; sid:6;)
alert udp any any -> any any (msg:"bj little"; byte_jump:4,0,little; content:"END"; within:3; sid:7;)
alert udp any any -> any any (msg:"be then content distance"; content:"hdr"; byte_extract:2,1,n,relative; byte_test:2,=,n,-2,relative,little; sid:8;)
alert udp any any -> any any (msg:"bt bitmask"; byte_test:1,=,1,0,bitmask 0xf0; sid:9;)
alert udp any any -> any any (msg:"bt string no base"; byte_test:3,=,12,0,string; sid:10;)
alert udp any any -> any any (msg:"bj string hex"; byte_jump:2,0,string,hex,from_beginning; content:"zz"; within:2; sid:11;)
alert udp any any -> any any (msg:"bt beyond end"; byte_test:2,!=,9,0; sid:12;)
alert udp any any -> any any (msg:"bj from_end post_offset"; byte_jump:1,0,from_end,post_offset -3; content:"END"; within:3; sid:13;)
alert udp any any -> any any (msg:"bj align"; byte_jump:1,0,align; content:"de"; within:2; sid:14;)
alert udp any any -> any any (msg:"heartbleed shape"; content:"|18 03|"; depth:2; byte_test:1,<,4,2; byte_extract:2,3,record_len; byte_test:2,>,2,3; byte_test:2,>,record_len,6; sid:15;)
alert udp any any -> any any (msg:"isdataat var"; byte_extract:1,0,n; isdataat:n,relative; isdataat:!6,relative; sid:16;)
alert udp any any -> any any (msg:"bt negative relative offset"; content:"ab"; byte_test:1,=,0x61,-2,relative; sid:17;)
alert udp any any -> any any (msg:"bj multiplier"; byte_jump:1,0,multiplier 2; content:"e"; within:1; sid:18;)
"#;

/// (pcap_cnt, sid) of every alert Suricata 7.0.10 raised, sorted.
const SURICATA: &[(u64, u64)] = &[
    (1, 1),
    (1, 12),
    (2, 2),
    (2, 12),
    (3, 3),
    (3, 12),
    (4, 3),
    (4, 4),
    (4, 12),
    (5, 5),
    (5, 12),
    (6, 6),
    (6, 12),
    (6, 14),
    (6, 17),
    (7, 7),
    (7, 12),
    (7, 17),
    (8, 12),
    (8, 17),
    (9, 9),
    (9, 12),
    (10, 10),
    (10, 12),
    (11, 12),
    (13, 9),
    (13, 12),
    (13, 15),
];

#[test]
fn byte_keywords_match_as_suricata() {
    let mut ts = Timestamp::new(1_700_000_000, 0);
    let mut pkts = Vec::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        // A flow per datagram, so each is a first packet.
        let src = sa(&format!("10.0.0.{}:{}", i + 1, 40000 + i));
        pkts.push(TimedPacket {
            ts,
            ip: packets::udp(src, sa("10.9.9.9:9999"), 64, p),
        });
        ts = Timestamp::new(1_700_000_000 + i as i64 + 1, 0);
    }
    let mut got: Vec<(u64, u64)> = alerts_of_run(&pkts, RULES, false)
        .iter()
        .map(|a| {
            (
                a["pcap_cnt"].as_u64().expect("pcap_cnt"),
                a["alert"]["signature_id"].as_u64().expect("sid"),
            )
        })
        .collect();
    got.sort_unstable();
    assert_eq!(got, SURICATA);
}
