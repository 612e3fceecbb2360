//! EVE app-layer event records (`tls`, `http`, `dns`), as Suricata's tx loggers write
//! them: `timestamp, flow_id, pcap_cnt, event_type, [vlan], src_ip, src_port, dest_ip,
//! dest_port, proto, pkt_src, [tx_id], <type>{...}`, addresses in the flow's direction.

use super::eve::proto_name;
use super::json::JsonObject;
use super::PacketSource;
use crate::flow::Flow;
use crate::time::Timestamp;

/// One app-layer record of a flow.
pub struct AppEventRecord<'a> {
    pub ts: Timestamp,
    /// Absent for records written at the flow's end (a pseudo packet).
    pub pcap_cnt: Option<u64>,
    pub flow: &'a Flow,
    /// `tls`, `http` or `dns`.
    pub event_type: &'static str,
    /// `http` records carry the transaction id.
    pub tx_id: Option<u64>,
    /// `anomaly` records are written in the direction of the packet that logged them
    /// (`Some(to_server)`); the others in the flow's.
    pub packet_to_server: Option<bool>,
    pub source: PacketSource,
    pub object: &'a dyn Fn(&mut JsonObject<'_>),
    /// The flow's variables (Suricata's `traffic` and `metadata`).
    pub vars: Option<&'a super::FlowVars>,
}

impl AppEventRecord<'_> {
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        let f = self.flow;
        let mut o = JsonObject::begin(buf);
        o.timestamp("timestamp", self.ts);
        o.uint("flow_id", f.id);
        if let Some(n) = self.pcap_cnt {
            o.uint("pcap_cnt", n);
        }
        o.string("event_type", self.event_type);
        if !f.vlans.as_slice().is_empty() {
            o.uint_array("vlan", f.vlans.as_slice());
        }
        let ports = matches!(f.proto, 6 | 17 | 132);
        let (src, dst) = match self.packet_to_server {
            Some(false) => (f.server, f.client),
            _ => (f.client, f.server),
        };
        o.ip("src_ip", src.addr);
        if ports {
            o.uint("src_port", u64::from(src.port));
        }
        o.ip("dest_ip", dst.addr);
        if ports {
            o.uint("dest_port", u64::from(dst.port));
        }
        o.string("proto", &proto_name(f.proto));
        o.string("pkt_src", self.source.name());
        if let Some(v) = self.vars {
            v.write_json(&mut o);
        }
        if let Some(t) = self.tx_id {
            o.uint("tx_id", t);
        }
        o.object(self.event_type, |obj| (self.object)(obj));
        o.end();
    }
}
