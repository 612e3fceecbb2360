//! EVE `alert` records, with the keys in Suricata 7.0.10's order:
//! `timestamp, flow_id, pcap_cnt, event_type, [vlan], src_ip, src_port, dest_ip, dest_port,
//! proto, [icmp_type, icmp_code], pkt_src, [tx_id], alert{...}, [tls|http|dns], [app_proto,
//! [app_proto_orig]],
//! direction, flow{...}, verdict{...}`.

use std::net::IpAddr;

use super::eve::proto_name;
use super::json::JsonObject;
use super::PacketSource;
use crate::flow::Flow;
use crate::time::Timestamp;

/// The rule side of an alert.
#[derive(Clone, Copy, Debug)]
pub struct AlertRule<'a> {
    /// `blocked` (true) or `allowed`.
    pub blocked: bool,
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub msg: &'a str,
    pub category: &'a str,
    pub severity: u32,
    /// `metadata` pairs, in rule order (values of one key are collected in an array).
    pub metadata: &'a [(String, String)],
}

/// The packet's verdict (`verdict` object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// `alert`, `drop` or `pass`.
    pub action: &'static str,
    /// `to_client`, `to_server` or `both`, with the reject kind (`tcp-reset`, `icmp-prohib`).
    pub reject: Option<(&'static str, &'static str)>,
}

/// An application-layer object written inside the alert (`tls`, `http`, `dns`).
pub type AppObject<'a> = (&'static str, &'a dyn Fn(&mut JsonObject<'_>));

/// One alert.
pub struct AlertRecord<'a> {
    pub ts: Timestamp,
    pub pcap_cnt: Option<u64>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sp: u16,
    pub dp: u16,
    pub proto: u8,
    pub icmp: Option<(u8, u8)>,
    pub vlans: &'a [u16],
    pub source: PacketSource,
    /// A reassembled datagram's root fragment, logged as the alert's `tunnel`.
    pub tunnel: Option<crate::decode::FragmentRoot>,
    pub tx_id: Option<u64>,
    /// Suricata guessed the transaction of a packet-phase match.
    pub tx_guessed: bool,
    pub rule: AlertRule<'a>,
    pub app: Option<AppObject<'a>>,
    /// The transaction's files in the packet's direction (`AlertAddFiles`).
    pub files: &'a [crate::app::http::BodyFile],
    pub app_proto: Option<&'a str>,
    /// A direction's own protocol where it differs from the flow's (`app_proto_ts`,
    /// `app_proto_tc`): the other direction found it, this one did not.
    pub app_proto_dirs: [Option<&'a str>; 2],
    /// The protocol before a change (an HTTP CONNECT tunnel), when it differs.
    pub app_proto_orig: Option<&'a str>,
    /// `to_server` / `to_client`, with the flow the packet belongs to.
    pub flow: Option<(&'a Flow, bool)>,
    pub verdict: Verdict,
    /// The flow's variables after the packet (Suricata's `traffic` and `metadata`).
    pub vars: Option<&'a super::FlowVars>,
}

impl AlertRecord<'_> {
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        let mut o = JsonObject::begin(buf);
        o.timestamp("timestamp", self.ts);
        if let Some((flow, _)) = self.flow {
            o.uint("flow_id", flow.id);
        }
        if let Some(n) = self.pcap_cnt {
            o.uint("pcap_cnt", n);
        }
        o.string("event_type", "alert");
        if !self.vlans.is_empty() {
            o.uint_array("vlan", self.vlans);
        }
        let ports = matches!(self.proto, 6 | 17 | 132);
        o.ip("src_ip", self.src);
        if ports {
            o.uint("src_port", u64::from(self.sp));
        }
        o.ip("dest_ip", self.dst);
        if ports {
            o.uint("dest_port", u64::from(self.dp));
        }
        o.string("proto", &proto_name(self.proto));
        if let Some((t, c)) = self.icmp {
            o.uint("icmp_type", u64::from(t));
            o.uint("icmp_code", u64::from(c));
        }
        o.string("pkt_src", self.source.name());
        if let Some(v) = self.vars {
            v.write_json(&mut o);
        }
        if let Some(t) = self.tx_id {
            o.uint("tx_id", t);
            if self.tx_guessed {
                o.boolean("tx_guessed", true);
            }
        }
        let r = self.rule;
        o.object("alert", |a| {
            a.string("action", if r.blocked { "blocked" } else { "allowed" });
            a.uint("gid", u64::from(r.gid));
            a.uint("signature_id", u64::from(r.sid));
            a.uint("rev", u64::from(r.rev));
            a.string("signature", r.msg);
            a.string("category", r.category);
            a.uint("severity", u64::from(r.severity));
            if !r.metadata.is_empty() {
                a.object("metadata", |m| {
                    let mut keys: Vec<&str> = Vec::new();
                    for (k, _) in r.metadata {
                        if !keys.contains(&k.as_str()) {
                            keys.push(k);
                        }
                    }
                    for k in keys {
                        let values: Vec<&str> = r
                            .metadata
                            .iter()
                            .filter(|(kk, _)| kk == k)
                            .map(|(_, v)| v.as_str())
                            .collect();
                        m.string_array(k, &values);
                    }
                });
            }
        });
        if let Some(root) = self.tunnel {
            // Suricata's `AlertJsonTunnel` on the root: the fragment's addresses, its
            // ports (not decoded: 0), its IP protocol, the layer depth, its number.
            o.object("tunnel", |t| {
                t.ip("src_ip", self.src);
                t.uint("src_port", 0);
                t.ip("dest_ip", self.dst);
                t.uint("dest_port", 0);
                let proto = crate::decode::FragmentRoot::proto(self.src, self.proto);
                t.string("proto", &proto_name(proto));
                t.uint("depth", 0);
                t.uint("pcap_cnt", root.pcap_cnt.get());
                t.string("pkt_src", PacketSource::Wire.name());
            });
        }
        if let Some((name, write)) = self.app {
            o.object(name, |obj| write(obj));
        }
        if let (false, Some(tx_id)) = (self.files.is_empty(), self.tx_id) {
            o.objects("files", self.files.len(), |i, f| {
                crate::app::eve::file_info(f, &self.files[i], tx_id)
            });
        }
        if let Some(p) = self.app_proto {
            o.string("app_proto", p);
            for (key, dir) in ["app_proto_ts", "app_proto_tc"]
                .iter()
                .zip(self.app_proto_dirs)
            {
                if let Some(d) = dir {
                    o.string(key, d);
                }
            }
            if let Some(orig) = self.app_proto_orig {
                o.string("app_proto_orig", orig);
            }
        }
        if let Some((flow, to_server)) = self.flow {
            o.string(
                "direction",
                if to_server { "to_server" } else { "to_client" },
            );
            o.object("flow", |f| {
                f.uint("pkts_toserver", flow.to_server.pkts);
                f.uint("pkts_toclient", flow.to_client.pkts);
                f.uint("bytes_toserver", flow.to_server.bytes);
                f.uint("bytes_toclient", flow.to_client.bytes);
                f.timestamp("start", flow.start);
                f.ip("src_ip", flow.client.addr);
                f.ip("dest_ip", flow.server.addr);
                if ports {
                    f.uint("src_port", u64::from(flow.client.port));
                    f.uint("dest_port", u64::from(flow.server.port));
                }
            });
        }
        let v = self.verdict;
        o.object("verdict", |j| {
            j.string("action", v.action);
            if let Some((target, kind)) = v.reject {
                j.string("reject-target", target);
                j.string_array("reject", &[kind]);
            }
        });
        o.end();
    }
}
