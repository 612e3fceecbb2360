//! Flow table tests on packets built in the test.

use std::net::SocketAddr;

use super::*;
use crate::decode::{tcp_flags as f, Decoded, Decoder, DefragConfig};
use crate::flow::{Endpoint, FlowState, TcpState};
use crate::synth::packets::{self, Link, TcpConversation};

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address literal")
}

/// Feeds raw IP packets through a decoder into a table; returns the ended flows.
struct Harness {
    table: FlowTable,
    ended: Vec<(Flow, EndReason)>,
}

impl Harness {
    fn new(config: FlowConfig) -> Self {
        Harness {
            table: FlowTable::new(config),
            ended: Vec::new(),
        }
    }

    fn feed(&mut self, ts: Timestamp, ip: &[u8]) -> Option<Lookup> {
        self.feed_frame(ts, 101, ip)
    }

    fn feed_frame(&mut self, ts: Timestamp, linktype: u32, frame: &[u8]) -> Option<Lookup> {
        let mut d = Decoder::new(DefragConfig::default());
        let Decoded::Packet(p) = d.decode(linktype, frame, ts, 1) else {
            panic!("not a packet")
        };
        let ended = &mut self.ended;
        self.table
            .process(&p, &mut |flow, reason| ended.push((flow, reason)))
    }

    fn finish(&mut self) -> Vec<(Flow, EndReason)> {
        let ended = &mut self.ended;
        self.table
            .drain(&mut |flow, reason| ended.push((flow, reason)));
        std::mem::take(&mut self.ended)
    }
}

fn t(secs: i64) -> Timestamp {
    Timestamp::new(1_700_000_000 + secs, 0)
}

#[test]
fn tcp_connection_is_one_flow_with_per_direction_counters() {
    let mut conv = TcpConversation::new(sa("10.0.0.1:40000"), sa("192.0.2.9:80"), t(0));
    conv.handshake()
        .client_sends(b"GET / HTTP/1.1\r\n\r\n")
        .server_sends(b"HTTP/1.1 200 OK\r\n\r\n")
        .close();
    let mut h = Harness::new(FlowConfig::default());
    let mut states = Vec::new();
    for p in &conv.packets {
        let l = h.feed(p.ts, &p.ip).expect("tcp has a flow");
        let flow = h.table.flow(l.slot).expect("live");
        states.push(flow.state);
    }
    assert_eq!(states[0], FlowState::New);
    assert_eq!(
        states[2],
        FlowState::Established,
        "the handshake ACK establishes"
    );
    assert_eq!(*states.last().expect("packets"), FlowState::Closed);
    let ended = h.finish();
    assert_eq!(ended.len(), 1);
    let (flow, reason) = &ended[0];
    assert_eq!(*reason, EndReason::Shutdown);
    assert_eq!(
        flow.client,
        Endpoint {
            addr: "10.0.0.1".parse().expect("ip"),
            port: 40000
        }
    );
    assert_eq!((flow.to_server.pkts, flow.to_client.pkts), (6, 4));
    let client_bytes: u64 = conv
        .packets
        .iter()
        .filter(|p| p.ip[12..16] == [10, 0, 0, 1])
        .map(|p| p.ip.len() as u64)
        .sum();
    assert_eq!(flow.to_server.bytes, client_bytes);
    assert_eq!((flow.to_server.min_ttl, flow.to_client.max_ttl), (64, 128));
    assert_eq!(flow.to_server.tcp_flags, f::SYN | f::ACK | f::PSH | f::FIN);
    assert_eq!(flow.tcp.map(|t| t.state), Some(TcpState::Closed));
}

#[test]
fn icmp_echo_request_and_reply_share_a_flow_whatever_the_id() {
    let a = "10.0.0.1".parse().expect("ip");
    let b = "10.0.0.2".parse().expect("ip");
    let mut h = Harness::new(FlowConfig::default());
    for (i, id) in [1u16, 2, 3].iter().enumerate() {
        h.feed(t(i as i64), &packets::echo(a, b, 64, *id, 1, false, b"x"));
        h.feed(t(i as i64), &packets::echo(b, a, 60, *id, 1, true, b"x"));
    }
    let ended = h.finish();
    assert_eq!(ended.len(), 1);
    let flow = &ended[0].0;
    assert_eq!((flow.to_server.pkts, flow.to_client.pkts), (3, 3));
    assert_eq!(flow.icmp, Some((8, 0)));
    assert_eq!(flow.reply_icmp(), Some((0, 0)));
    assert_eq!(flow.state, FlowState::Established);
}

#[test]
fn icmp_errors_join_the_quoted_flow_or_get_none() {
    let client = sa("10.0.0.1:5000");
    let server = sa("10.0.0.2:53");
    let query = packets::udp(client, server, 64, b"query");
    let unreach = packets::icmpv4(server.ip(), client.ip(), 64, 3, 3, &query[..28]);
    let mut h = Harness::new(FlowConfig::default());
    assert!(
        h.feed(t(0), &unreach).is_none(),
        "no flow to join yet, and errors create none"
    );
    h.feed(t(0), &query);
    let joined = h.feed(t(1), &unreach).expect("joins the UDP flow");
    assert_eq!(joined.direction, Direction::ToClient);
    let stats = h.table.stats().clone();
    assert_eq!(
        (stats.icmp_errors_joined, stats.packets_without_flow),
        (1, 1)
    );
    let ended = h.finish();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0.to_client.pkts, 1);
    assert_eq!(
        ended[0].0.state,
        FlowState::New,
        "an ICMP error does not establish the flow"
    );
}

#[test]
fn udp_flow_times_out_and_the_tuple_starts_a_new_flow() {
    let q = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"q");
    let mut h = Harness::new(FlowConfig::default());
    h.feed(t(0), &q);
    h.feed(t(30), &q);
    assert!(
        h.ended.is_empty(),
        "30 s later is not past the 30 s timeout"
    );
    h.feed(t(61), &q);
    assert_eq!(h.ended.len(), 1);
    assert_eq!(h.ended[0].1, EndReason::Timeout);
    assert_eq!(h.ended[0].0.to_server.pkts, 2);
    // The sweep ends idle flows too.
    let other = packets::udp(sa("10.0.0.3:5000"), sa("10.0.0.2:53"), 64, b"q");
    h.feed(t(62), &other);
    let ended = &mut h.ended;
    h.table
        .expire(t(1000), &mut |flow, reason, _| ended.push((flow, reason)));
    assert_eq!(h.ended.len(), 3);
    assert_eq!(h.table.active(), 0);
    assert_eq!(h.table.stats().timed_out, 3);
}

#[test]
fn established_tcp_outlives_new_udp() {
    let mut conv = TcpConversation::new(sa("10.0.0.1:40000"), sa("192.0.2.9:80"), t(0));
    conv.handshake().client_sends(b"x");
    let mut h = Harness::new(FlowConfig::default());
    for p in &conv.packets {
        h.feed(p.ts, &p.ip);
    }
    let ended = &mut h.ended;
    h.table
        .expire(t(500), &mut |flow, reason, _| ended.push((flow, reason)));
    assert!(h.ended.is_empty(), "established TCP times out after 600 s");
    let ended = &mut h.ended;
    h.table
        .expire(t(602), &mut |flow, reason, _| ended.push((flow, reason)));
    assert_eq!(h.ended.len(), 1);
}

#[test]
fn new_syn_after_close_starts_a_new_flow() {
    let mut first = TcpConversation::new(sa("10.0.0.1:40000"), sa("192.0.2.9:80"), t(0));
    first.handshake().close();
    let mut second = TcpConversation::new(sa("10.0.0.1:40000"), sa("192.0.2.9:80"), t(5));
    second.handshake();
    // A different ISN, as a new connection would pick.
    let syn = packets::tcp(
        sa("10.0.0.1:40000"),
        sa("192.0.2.9:80"),
        64,
        9_999,
        0,
        f::SYN,
        &[],
    );
    let mut h = Harness::new(FlowConfig::default());
    for p in &first.packets {
        h.feed(p.ts, &p.ip);
    }
    let l = h.feed(t(5), &syn).expect("flow");
    assert!(l.created);
    assert_eq!(h.table.stats().tcp_reused, 1);
    assert_eq!(h.ended.len(), 1);
    assert_eq!(h.ended[0].1, EndReason::Timeout);
}

#[test]
fn flow_cap_evicts_and_counts() {
    let config = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut h = Harness::new(config);
    for port in 0..5u16 {
        let p = packets::udp(
            SocketAddr::new("10.0.0.1".parse().expect("ip"), 6000 + port),
            sa("10.0.0.2:53"),
            64,
            b"q",
        );
        h.feed(t(i64::from(port)), &p);
        assert!(h.table.active() <= 2);
    }
    assert_eq!(h.table.stats().evicted, 3);
    assert!(h.ended.iter().all(|(_, r)| *r == EndReason::Forced));
    // The oldest flows went first.
    let ports: Vec<u16> = h.ended.iter().map(|(f, _)| f.client.port).collect();
    assert_eq!(ports, vec![6000, 6001, 6002]);
}

#[test]
fn vlan_ids_separate_flows_unless_tracking_is_off() {
    let ip = packets::udp(sa("10.0.0.1:5000"), sa("10.0.0.2:53"), 64, b"q");
    let frames: Vec<Vec<u8>> = [vec![1], vec![2], vec![1, 10]]
        .into_iter()
        .map(|v| Link::Ethernet { vlans: v }.wrap(&ip))
        .collect();
    let mut h = Harness::new(FlowConfig::default());
    for fr in &frames {
        h.feed_frame(t(0), 1, fr);
    }
    assert_eq!(h.table.active(), 3);
    let mut h = Harness::new(FlowConfig {
        track_vlans: false,
        ..FlowConfig::default()
    });
    for fr in &frames {
        h.feed_frame(t(0), 1, fr);
    }
    assert_eq!(h.table.active(), 1);
    let ended = h.finish();
    assert_eq!(
        ended[0].0.vlans.as_slice(),
        &[1],
        "the record shows the first packet's tags"
    );
}

#[test]
fn midstream_syn_ack_first_makes_its_receiver_the_client() {
    let synack = packets::tcp(
        sa("192.0.2.9:80"),
        sa("10.0.0.1:40000"),
        50,
        100,
        1,
        f::SYN | f::ACK,
        &[],
    );
    let ack = packets::tcp(
        sa("10.0.0.1:40000"),
        sa("192.0.2.9:80"),
        64,
        1,
        101,
        f::ACK,
        &[],
    );
    let mut h = Harness::new(FlowConfig {
        midstream: true,
        ..FlowConfig::default()
    });
    let first = h.feed(t(0), &synack).expect("flow");
    assert_eq!(first.direction, Direction::ToClient);
    h.feed(t(0), &ack);
    let ended = h.finish();
    let flow = &ended[0].0;
    assert_eq!(flow.client.port, 40000);
    assert_eq!((flow.to_server.pkts, flow.to_client.pkts), (1, 1));
    assert_eq!(flow.state, FlowState::Established);
    assert_eq!(flow.to_client.tcp_flags, f::SYN | f::ACK);
    // Without mid-stream pick-up the SYN/ACK's sender stays the client and no flags count.
    let mut h = Harness::new(FlowConfig::default());
    h.feed(t(0), &synack);
    let ended = h.finish();
    assert_eq!(ended[0].0.client.port, 80);
    assert_eq!(ended[0].0.to_server.tcp_flags, 0);
    assert_eq!(ended[0].0.state, FlowState::New);
}

#[test]
fn protocols_without_flows_are_counted() {
    let gre = packets::ipv4_other([10, 0, 0, 1], [10, 0, 0, 2], 64, 47, &[0, 0, 0x08, 0x00]);
    let mut h = Harness::new(FlowConfig::default());
    assert!(h.feed(t(0), &gre).is_none());
    assert_eq!(h.table.stats().packets_without_flow, 1);
    // ESP: each direction is its own flow.
    let a = packets::ipv4_other(
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        64,
        50,
        &[0, 0, 0, 1, 0, 0, 0, 1],
    );
    let b = packets::ipv4_other(
        [10, 0, 0, 2],
        [10, 0, 0, 1],
        64,
        50,
        &[0, 0, 0, 2, 0, 0, 0, 1],
    );
    h.feed(t(0), &a);
    h.feed(t(0), &b);
    assert_eq!(h.table.active(), 2);
}
