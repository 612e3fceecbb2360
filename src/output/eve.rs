//! EVE JSON records. Field order follows Suricata 7.0.10's loggers; JSON consumers must not
//! rely on it, but a byte-for-byte diff against Suricata's output should be easy.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::json::JsonObject;
use crate::decode::{proto, tcp_flags};
use crate::flow::{DirectionStats, EndReason, Flow, FlowState};
use crate::time::{EveTime, Timestamp};

/// An address as EVE writes it: IPv4 dotted quad; IPv6 fully expanded, zero-padded,
/// lower case (`2001:0db8:0000:...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EveIp(pub IpAddr);

impl fmt::Display for EveIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}"),
            IpAddr::V6(a) => {
                let s = a.segments();
                write!(
                    f,
                    "{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}",
                    s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
                )
            }
        }
    }
}

impl Serialize for EveIp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Formatted into a stack buffer: addresses go into every record.
        let mut buf = [0u8; 39];
        let len = match self.0 {
            IpAddr::V4(a) => {
                let mut at = 0;
                for (i, octet) in a.octets().iter().enumerate() {
                    if i > 0 {
                        buf[at] = b'.';
                        at += 1;
                    }
                    let o = *octet;
                    if o >= 100 {
                        buf[at] = b'0' + o / 100;
                        at += 1;
                    }
                    if o >= 10 {
                        buf[at] = b'0' + (o / 10) % 10;
                        at += 1;
                    }
                    buf[at] = b'0' + o % 10;
                    at += 1;
                }
                at
            }
            IpAddr::V6(a) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for (i, seg) in a.segments().iter().enumerate() {
                    let at = i * 5;
                    if i > 0 {
                        buf[at - 1] = b':';
                    }
                    for n in 0..4 {
                        buf[at + n] = HEX[usize::from((seg >> (12 - 4 * n)) & 0xf)];
                    }
                }
                39
            }
        };
        match std::str::from_utf8(&buf[..len]) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_str(self),
        }
    }
}

struct Ts(Timestamp);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.eve_bytes() {
            Some(b) => match std::str::from_utf8(&b) {
                Ok(text) => s.serialize_str(text),
                Err(_) => s.collect_str(&self.0.eve()),
            },
            None => {
                let t: EveTime = self.0.eve();
                s.collect_str(&t)
            }
        }
    }
}

/// EVE `proto`: Suricata's protocol names (IANA keywords), the number otherwise.
pub fn proto_name(p: u8) -> Cow<'static, str> {
    Cow::Borrowed(match p {
        0 => "HOPOPT",
        proto::ICMP => "ICMP",
        2 => "IGMP",
        4 => "IPv4",
        proto::TCP => "TCP",
        proto::UDP => "UDP",
        41 => "IPv6",
        43 => "IPv6-Route",
        44 => "IPv6-Frag",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        proto::ICMPV6 => "IPv6-ICMP",
        59 => "IPv6-NoNxt",
        60 => "IPv6-Opts",
        89 => "OSPFIGP",
        103 => "PIM",
        112 => "VRRP",
        132 => "SCTP",
        136 => "UDPLite",
        other => return Cow::Owned(other.to_string()),
    })
}

/// TCP flags in the order Suricata's `EveTcpFlags` writes them.
const TCP_FLAG_NAMES: [(u8, &str); 8] = [
    (tcp_flags::SYN, "syn"),
    (tcp_flags::FIN, "fin"),
    (tcp_flags::RST, "rst"),
    (tcp_flags::PSH, "psh"),
    (tcp_flags::ACK, "ack"),
    (tcp_flags::URG, "urg"),
    (tcp_flags::ECE, "ecn"),
    (tcp_flags::CWR, "cwr"),
];

/// EVE `tcp` object of a netflow record: hex of the OR of the flags, then a `true` key
/// per flag that was seen.
struct TcpFlagsObject(u8);

impl Serialize for TcpFlagsObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let flags = self.0;
        let mut map = s.serialize_map(None)?;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let hex = [HEX[usize::from(flags >> 4)], HEX[usize::from(flags & 0xf)]];
        map.serialize_entry("tcp_flags", std::str::from_utf8(&hex).unwrap_or("00"))?;
        for (bit, name) in TCP_FLAG_NAMES {
            if flags & bit != 0 {
                map.serialize_entry(name, &true)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct NetflowBody {
    pkts: u64,
    bytes: u64,
    start: Ts,
    end: Ts,
    age: i64,
    min_ttl: u8,
    max_ttl: u8,
    /// AWS Network Firewall adds these three; Suricata 7.0.10 does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerted: Option<bool>,
}

/// One unidirectional EVE `netflow` record.
#[derive(Serialize)]
pub struct NetflowRecord<'a> {
    timestamp: Ts,
    flow_id: u64,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<&'a [u16]>,
    src_ip: EveIp,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    dest_ip: EveIp,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
    proto: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_code: Option<u8>,
    app_proto: &'a str,
    netflow: NetflowBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp: Option<TcpFlagsObject>,
}

/// How a flow ended, for the AWS-only netflow fields.
#[derive(Clone, Copy, Debug)]
pub struct FlowOutcome {
    pub state: FlowState,
    pub reason: EndReason,
    pub alerted: bool,
}

impl<'a> NetflowRecord<'a> {
    /// The records Suricata writes for a flow: the to-server record, then the to-client
    /// record only if reply packets were seen. `written_at` is the record timestamp;
    /// `outcome` adds AWS's `state`/`reason`/`alerted` when given.
    pub fn for_flow(
        flow: &'a Flow,
        written_at: Timestamp,
        app_proto_ts: &'a str,
        app_proto_tc: &'a str,
        outcome: Option<FlowOutcome>,
    ) -> Vec<NetflowRecord<'a>> {
        let mut out = vec![Self::one(flow, written_at, false, app_proto_ts, outcome)];
        if flow.to_client.pkts > 0 {
            out.push(Self::one(flow, written_at, true, app_proto_tc, outcome));
        }
        out
    }

    fn one(
        flow: &'a Flow,
        written_at: Timestamp,
        reply: bool,
        app_proto: &'a str,
        outcome: Option<FlowOutcome>,
    ) -> NetflowRecord<'a> {
        let (src, dst, dir): (_, _, &DirectionStats) = if reply {
            (flow.server, flow.client, &flow.to_client)
        } else {
            (flow.client, flow.server, &flow.to_server)
        };
        let has_ports = matches!(flow.proto, proto::TCP | proto::UDP | proto::SCTP);
        let icmp = if reply { flow.reply_icmp() } else { flow.icmp };
        NetflowRecord {
            timestamp: Ts(written_at),
            flow_id: flow.id,
            event_type: "netflow",
            vlan: (!flow.vlans.is_empty()).then(|| flow.vlans.as_slice()),
            src_ip: EveIp(src.addr),
            src_port: has_ports.then_some(src.port),
            dest_ip: EveIp(dst.addr),
            dest_port: has_ports.then_some(dst.port),
            proto: proto_name(flow.proto),
            icmp_type: icmp.map(|(t, _)| t),
            icmp_code: icmp.map(|(_, c)| c),
            app_proto,
            netflow: NetflowBody {
                pkts: dir.pkts,
                bytes: dir.bytes,
                start: Ts(flow.start),
                end: Ts(flow.last),
                age: flow.age(),
                min_ttl: dir.min_ttl,
                max_ttl: dir.max_ttl,
                state: outcome.map(|o| o.state.name()),
                reason: outcome.map(|o| o.reason.name()),
                alerted: outcome.map(|o| o.alerted),
            },
            tcp: (flow.proto == proto::TCP).then_some(TcpFlagsObject(dir.tcp_flags)),
        }
    }

    pub fn timestamp(&self) -> Timestamp {
        self.timestamp.0
    }

    /// Writes the record as one JSON object (the same text `serde_json` gives for it, but
    /// several times faster: a record is written per flow direction).
    /// `vars`: the flow's variables, written last as Suricata's netflow logger does.
    pub fn write_json(&self, buf: &mut Vec<u8>, vars: Option<&super::FlowVars>) {
        let mut o = JsonObject::begin(buf);
        o.timestamp("timestamp", self.timestamp.0);
        o.uint("flow_id", self.flow_id);
        o.string("event_type", self.event_type);
        if let Some(v) = self.vlan {
            o.uint_array("vlan", v);
        }
        o.ip("src_ip", self.src_ip.0);
        if let Some(p) = self.src_port {
            o.uint("src_port", u64::from(p));
        }
        o.ip("dest_ip", self.dest_ip.0);
        if let Some(p) = self.dest_port {
            o.uint("dest_port", u64::from(p));
        }
        o.string("proto", &self.proto);
        if let Some(t) = self.icmp_type {
            o.uint("icmp_type", u64::from(t));
        }
        if let Some(c) = self.icmp_code {
            o.uint("icmp_code", u64::from(c));
        }
        o.string("app_proto", self.app_proto);
        let n = &self.netflow;
        o.object("netflow", |b| {
            b.uint("pkts", n.pkts);
            b.uint("bytes", n.bytes);
            b.timestamp("start", n.start.0);
            b.timestamp("end", n.end.0);
            b.int("age", n.age);
            b.uint("min_ttl", u64::from(n.min_ttl));
            b.uint("max_ttl", u64::from(n.max_ttl));
            if let Some(s) = n.state {
                b.string("state", s);
            }
            if let Some(r) = n.reason {
                b.string("reason", r);
            }
            if let Some(a) = n.alerted {
                b.boolean("alerted", a);
            }
        });
        if let Some(TcpFlagsObject(flags)) = self.tcp {
            o.object("tcp", |t| {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hex = [HEX[usize::from(flags >> 4)], HEX[usize::from(flags & 0xf)]];
                t.string("tcp_flags", std::str::from_utf8(&hex).unwrap_or("00"));
                for (bit, name) in TCP_FLAG_NAMES {
                    if flags & bit != 0 {
                        t.boolean(name, true);
                    }
                }
            });
        }
        if let Some(v) = vars {
            v.write_json(&mut o);
        }
        o.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_fully_expanded() {
        let a: IpAddr = "fd00::5".parse().expect("literal");
        assert_eq!(
            EveIp(a).to_string(),
            "fd00:0000:0000:0000:0000:0000:0000:0005"
        );
        for text in [
            "fd00::5",
            "2001:db8:abcd:12::ffff",
            "0.0.0.0",
            "10.0.0.1",
            "192.168.100.255",
            "255.255.255.255",
        ] {
            let ip: IpAddr = text.parse().expect("literal");
            let json = serde_json::to_string(&EveIp(ip)).expect("serialise");
            assert_eq!(
                json,
                format!("\"{}\"", EveIp(ip)),
                "serialised and displayed forms agree"
            );
        }
        let b: IpAddr = "10.0.0.1".parse().expect("literal");
        assert_eq!(EveIp(b).to_string(), "10.0.0.1");
    }

    #[test]
    fn tcp_flags_object_lists_set_flags_in_suricata_order() {
        let json = serde_json::to_string(&TcpFlagsObject(0x1b)).expect("serialise");
        assert_eq!(
            json,
            r#"{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true}"#
        );
        let json = serde_json::to_string(&TcpFlagsObject(0)).expect("serialise");
        assert_eq!(json, r#"{"tcp_flags":"00"}"#);
    }

    #[test]
    fn fast_writer_matches_serde() {
        use crate::decode::{Decoded, Decoder, DefragConfig};
        use crate::flow::{FlowConfig, FlowTable};
        use crate::synth::packets::{self, Link};
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "fd00::2".parse().expect("ip");
        let frames = [
            Link::Ethernet { vlans: vec![5, 6] }.wrap(&packets::echo(
                a,
                "10.0.0.2".parse().expect("ip"),
                64,
                1,
                1,
                false,
                b"x",
            )),
            Link::ethernet().wrap(&packets::echo(
                b,
                "fd00::3".parse().expect("ip"),
                64,
                1,
                1,
                false,
                b"x",
            )),
            Link::ethernet().wrap(&packets::tcp(
                "10.0.0.1:1".parse().expect("sa"),
                "10.0.0.2:2".parse().expect("sa"),
                64,
                1,
                0,
                tcp_flags::SYN,
                &[],
            )),
        ];
        let mut table = FlowTable::new(FlowConfig::default());
        let mut decoder = Decoder::new(DefragConfig::default());
        for f in &frames {
            if let Decoded::Packet(p) = decoder.decode(1, f, Timestamp::new(1_700_000_000, 5), 1) {
                table.process(&p, &mut |_, _| {});
            }
        }
        let mut flows = Vec::new();
        table.drain(&mut |f, _| flows.push(f));
        assert_eq!(flows.len(), 3);
        let outcome = FlowOutcome {
            state: FlowState::New,
            reason: EndReason::Shutdown,
            alerted: false,
        };
        for flow in &flows {
            for aws in [None, Some(outcome)] {
                for r in NetflowRecord::for_flow(
                    flow,
                    Timestamp::new(1_700_000_001, 0),
                    "unknown",
                    "failed",
                    aws,
                ) {
                    let mut fast = Vec::new();
                    r.write_json(&mut fast, None);
                    let serde = serde_json::to_vec(&r).expect("serialise");
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&serde)
                    );
                }
            }
        }
    }

    #[test]
    fn protocol_names() {
        assert_eq!(proto_name(58), "IPv6-ICMP");
        assert_eq!(proto_name(6), "TCP");
        assert_eq!(proto_name(253), "253");
    }
}
