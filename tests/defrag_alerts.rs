//! Alerts on reassembled IP datagrams, end to end: Suricata makes a reassembled datagram
//! a pseudo packet of the fragment that completed it (`pkt_src` `defrag`, no `pcap_cnt`
//! of its own) and logs that fragment as the alert's `tunnel` (its addresses, ports 0,
//! the fragment's IP protocol, its `pcap_cnt`). Held to Suricata 7.0.10's alert records
//! on the same capture, field by field but for `flow_id`, in IDS and IPS timing.

mod common;

use common::{sa, write_pcap};
use rulesim::decode::tcp_flags::{ACK, PSH};
use rulesim::synth::packets;
use rulesim::synth::TimedPacket;
use rulesim::time::Timestamp;

fn capture() -> Vec<TimedPacket> {
    let t = |ms: u32| Timestamp::new(1_767_225_600, ms * 1_000_000);
    let mut p = Vec::new();
    let mut push = |start: u32, frags: Vec<Vec<u8>>| {
        for (i, ip) in frags.into_iter().enumerate() {
            p.push(TimedPacket {
                ts: t(start + i as u32),
                ip,
            });
        }
    };
    let big: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    // UDP over IPv4 and IPv6, three fragments each.
    let udp4 = packets::udp(sa("10.1.0.5:5000"), sa("192.0.2.9:6000"), 64, &big);
    push(0, packets::fragment_ipv4(&udp4, 1200));
    let udp6 = packets::udp(sa("[2001:db8::5]:5001"), sa("[2001:db8::9]:6001"), 64, &big);
    push(100, packets::fragment_ipv6(&udp6, 1200, 7));
    // A TCP segment over IPv4, two fragments (no session: a packet rule sees it).
    let tcp4 = packets::tcp(
        sa("10.1.0.5:5002"),
        sa("192.0.2.9:80"),
        64,
        1000,
        2000,
        PSH | ACK,
        &big[..2000],
    );
    push(200, packets::fragment_ipv4(&tcp4, 1200));
    p
}

const RULES: &str = r#"
alert udp any any -> any any (msg:"large udp"; dsize:>2500; sid:1;)
alert tcp any any -> any any (msg:"large tcp"; dsize:>1500; sid:2;)
"#;

/// The alert records as text, in Suricata's key order, without `flow_id` (Suricata's is
/// seeded per run) and `verdict` (Suricata's default configuration leaves it out).
fn alerts(ips: bool) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("defrag.pcap");
    write_pcap(&pcap, &capture());
    let rules = dir.path().join("defrag.rules");
    std::fs::write(&rules, RULES).expect("rules");
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, &keep).expect("keep pcap");
        std::fs::copy(&rules, format!("{}.rules", keep.to_string_lossy())).expect("keep rules");
    }
    let eve = common::eve_of_run(&pcap, &["-S".as_ref(), rules.as_os_str()], ips);
    eve.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|r| r["event_type"] == "alert")
        .map(|mut r| {
            if let Some(o) = r.as_object_mut() {
                o.shift_remove("flow_id");
                o.shift_remove("verdict");
            }
            r.to_string()
        })
        .collect()
}

fn expected(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Suricata 7.0.10's alert records (`suricata -r defrag.pcap -S defrag.rules -k none
/// --runmode single`), `flow_id` left out.
const SURICATA_IDS: &str = r#"
{"timestamp":"2026-01-01T00:00:00.002000+0000","event_type":"alert","src_ip":"10.1.0.5","src_port":5000,"dest_ip":"192.0.2.9","dest_port":6000,"proto":"UDP","pkt_src":"defrag","alert":{"action":"allowed","gid":1,"signature_id":1,"rev":0,"signature":"large udp","category":"","severity":3},"tunnel":{"src_ip":"10.1.0.5","src_port":0,"dest_ip":"192.0.2.9","dest_port":0,"proto":"UDP","depth":0,"pcap_cnt":3,"pkt_src":"wire/pcap"},"app_proto":"failed","direction":"to_server","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":3042,"bytes_toclient":0,"start":"2026-01-01T00:00:00.002000+0000","src_ip":"10.1.0.5","dest_ip":"192.0.2.9","src_port":5000,"dest_port":6000}}
{"timestamp":"2026-01-01T00:00:00.102000+0000","event_type":"alert","src_ip":"2001:0db8:0000:0000:0000:0000:0000:0005","src_port":5001,"dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0009","dest_port":6001,"proto":"UDP","pkt_src":"defrag","alert":{"action":"allowed","gid":1,"signature_id":1,"rev":0,"signature":"large udp","category":"","severity":3},"tunnel":{"src_ip":"2001:0db8:0000:0000:0000:0000:0000:0005","src_port":0,"dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0009","dest_port":0,"proto":"IPv6-Frag","depth":0,"pcap_cnt":6,"pkt_src":"wire/pcap"},"app_proto":"failed","direction":"to_server","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":3062,"bytes_toclient":0,"start":"2026-01-01T00:00:00.102000+0000","src_ip":"2001:0db8:0000:0000:0000:0000:0000:0005","dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0009","src_port":5001,"dest_port":6001}}
{"timestamp":"2026-01-01T00:00:00.201000+0000","event_type":"alert","src_ip":"10.1.0.5","src_port":5002,"dest_ip":"192.0.2.9","dest_port":80,"proto":"TCP","pkt_src":"defrag","alert":{"action":"allowed","gid":1,"signature_id":2,"rev":0,"signature":"large tcp","category":"","severity":3},"tunnel":{"src_ip":"10.1.0.5","src_port":0,"dest_ip":"192.0.2.9","dest_port":0,"proto":"TCP","depth":0,"pcap_cnt":8,"pkt_src":"wire/pcap"},"direction":"to_server","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":2054,"bytes_toclient":0,"start":"2026-01-01T00:00:00.201000+0000","src_ip":"10.1.0.5","dest_ip":"192.0.2.9","src_port":5002,"dest_port":80}}
"#;

/// The same with `--simulate-ips`: the TCP segment has no session, and Suricata's
/// stream engine drops it inline before detection (its root too: `tunnel_packet_drop`).
const SURICATA_IPS: &str = r#"
{"timestamp":"2026-01-01T00:00:00.002000+0000","event_type":"alert","src_ip":"10.1.0.5","src_port":5000,"dest_ip":"192.0.2.9","dest_port":6000,"proto":"UDP","pkt_src":"defrag","alert":{"action":"allowed","gid":1,"signature_id":1,"rev":0,"signature":"large udp","category":"","severity":3},"tunnel":{"src_ip":"10.1.0.5","src_port":0,"dest_ip":"192.0.2.9","dest_port":0,"proto":"UDP","depth":0,"pcap_cnt":3,"pkt_src":"wire/pcap"},"app_proto":"failed","direction":"to_server","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":3042,"bytes_toclient":0,"start":"2026-01-01T00:00:00.002000+0000","src_ip":"10.1.0.5","dest_ip":"192.0.2.9","src_port":5000,"dest_port":6000}}
{"timestamp":"2026-01-01T00:00:00.102000+0000","event_type":"alert","src_ip":"2001:0db8:0000:0000:0000:0000:0000:0005","src_port":5001,"dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0009","dest_port":6001,"proto":"UDP","pkt_src":"defrag","alert":{"action":"allowed","gid":1,"signature_id":1,"rev":0,"signature":"large udp","category":"","severity":3},"tunnel":{"src_ip":"2001:0db8:0000:0000:0000:0000:0000:0005","src_port":0,"dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0009","dest_port":0,"proto":"IPv6-Frag","depth":0,"pcap_cnt":6,"pkt_src":"wire/pcap"},"app_proto":"failed","direction":"to_server","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":3062,"bytes_toclient":0,"start":"2026-01-01T00:00:00.102000+0000","src_ip":"2001:0db8:0000:0000:0000:0000:0000:0005","dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0009","src_port":5001,"dest_port":6001}}
"#;

#[test]
fn alerts_on_reassembled_datagrams_name_their_fragment_as_suricata_in_ids_timing() {
    assert_eq!(alerts(false), expected(SURICATA_IDS));
}

#[test]
fn alerts_on_reassembled_datagrams_name_their_fragment_as_suricata_in_ips_timing() {
    assert_eq!(alerts(true), expected(SURICATA_IPS));
}
