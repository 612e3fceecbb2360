//! Per-flow decision records: which rules matched a flow, at which packet, which one
//! decided its fate, and what the application layer said (SNI, HTTP host and URI, DNS
//! queries). The engine fills them when tracing is on (`explain`, `test`, `diff`,
//! `report`); the jobs read them. One [`FlowRecord`] is produced as each flow ends.

use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::app::{AppProto, FlowApp, Parser};
use crate::detect::{DetectEngine, FlowAction, FlowDetect, HitRole, PacketOutcome, TracedHit};
use crate::flow::Flow;
use crate::time::Timestamp;

/// Most HTTP transactions and DNS queries remembered per flow.
const MAX_APP_ITEMS: usize = 32;
/// Most rule events remembered per flow (later ones are counted, not kept).
const MAX_EVENTS: usize = 256;

/// A rule as explanations name it: identity, action, message and where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub action: String,
    pub msg: String,
    /// The file or AWS rule group the rule came from.
    pub source: String,
    /// 1-based line in `source` (rules generated from AWS JSON: their line there).
    pub line: usize,
    /// 0-based position among the rules of `source`.
    pub position: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_priority: Option<u32>,
}

impl RuleRef {
    fn of(detect: &DetectEngine, sig: u32) -> RuleRef {
        RuleRef::from_rule(detect.rule_of(sig))
    }

    /// Every rule the engine evaluates (its signatures, in compiled order).
    pub fn all(detect: &DetectEngine) -> Vec<Arc<RuleRef>> {
        (0..detect.signature_count())
            .map(|sig| Arc::new(RuleRef::of(detect, sig)))
            .collect()
    }

    pub fn from_rule(r: &crate::rules::Rule) -> RuleRef {
        RuleRef {
            gid: r.gid,
            sid: r.sid,
            rev: r.rev,
            action: r.action.name().to_string(),
            msg: r.msg.clone(),
            source: r.origin.source.clone(),
            line: r.origin.line,
            position: r.origin.position,
            group: r.origin.group.clone(),
            group_priority: r.origin.group_priority,
        }
    }

    /// `rules/x.rules:3`, or `group "name" priority N, rule K, groups.json:12` for a
    /// rule of an AWS rule group.
    pub fn location(&self) -> String {
        let mut s = String::new();
        // A group's source reads `file (group, kind)`: the group is named separately.
        let mut file = self.source.as_str();
        if let Some(g) = &self.group {
            s.push_str(&format!("group \"{g}\""));
            if let Some(p) = self.group_priority {
                s.push_str(&format!(" priority {p}"));
            }
            s.push_str(&format!(", rule {}, ", self.position + 1));
            file = file.split(" (").next().unwrap_or(file);
        }
        s.push_str(file);
        if self.line > 0 {
            s.push_str(&format!(":{}", self.line));
        }
        s
    }
}

/// One rule matching one packet of a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleEvent {
    /// `pcap_cnt` of the packet (none for the end-of-flow pseudo packets).
    pub packet: Option<u64>,
    pub timestamp: String,
    /// `to_server` or `to_client`.
    pub direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<u64>,
    pub role: HitRole,
    pub alerted: bool,
    /// The alert's `alert.action` (`blocked` or `allowed`), when it alerted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_action: Option<&'static str>,
    pub rule: Arc<RuleRef>,
    /// On a worker thread: the alert's threshold is decided by the output merge
    /// ([`TracedHit::pending_threshold`](crate::detect::TracedHit)).
    #[serde(skip)]
    pub pending_threshold: Option<u64>,
}

/// What decided a flow's fate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// A pass, drop or reject rule (its event is in `matches`).
    Rule {
        packet: Option<u64>,
        rule: Arc<RuleRef>,
    },
    /// A firewall policy's stateful default action (AWS strict order).
    DefaultAction {
        packet: Option<u64>,
        action: &'static str,
    },
    /// An exception policy (a TCP flow picked up mid-stream).
    ExceptionPolicy {
        packet: Option<u64>,
        policy: &'static str,
    },
}

impl Decision {
    pub fn packet(&self) -> Option<u64> {
        match self {
            Decision::Rule { packet, .. }
            | Decision::DefaultAction { packet, .. }
            | Decision::ExceptionPolicy { packet, .. } => *packet,
        }
    }

    /// The deciding rule's sid, if a rule decided.
    pub fn sid(&self) -> Option<u32> {
        match self {
            Decision::Rule { rule, .. } => Some(rule.sid),
            _ => None,
        }
    }

    /// One line: `drop 1:5 "msg" (rules/x.rules:3)`, `default action aws:drop_established`.
    pub fn describe(&self) -> String {
        match self {
            Decision::Rule { rule, .. } => format!(
                "{} {}:{}:{} \"{}\" ({})",
                rule.action,
                rule.gid,
                rule.sid,
                rule.rev,
                rule.msg,
                rule.location()
            ),
            Decision::DefaultAction { action, .. } => format!("default action {action}"),
            Decision::ExceptionPolicy { policy, .. } => {
                format!("exception policy {policy} (mid-stream pick-up)")
            }
        }
    }
}

/// A flow's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowVerdict {
    /// No packet was dropped.
    Allowed,
    /// A drop or reject (rule, default action or exception policy) dropped a packet; in
    /// IDS mode, the packet the rule would have dropped.
    Blocked,
}

impl FlowVerdict {
    pub fn name(self) -> &'static str {
        match self {
            FlowVerdict::Allowed => "allowed",
            FlowVerdict::Blocked => "blocked",
        }
    }
}

/// One HTTP request of a flow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpSeen {
    pub tx_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub url: String,
    pub http_method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_user_agent: Option<String>,
}

/// The decision record of one flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowRecord {
    pub flow_id: u64,
    /// The capture file of the flow's first packet.
    pub capture: Arc<str>,
    pub first_packet: Option<u64>,
    pub last_packet: Option<u64>,
    pub start: String,
    pub end: String,
    pub proto: String,
    /// The client (sender of the first packet) and the server.
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dest_ip: IpAddr,
    pub dest_port: u16,
    pub app_proto: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_sni: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<HttpSeen>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_queries: Vec<String>,
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub verdict: FlowVerdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Decision>,
    /// Rules that matched and were applied, in evaluation order (packet by packet).
    pub matches: Vec<RuleEvent>,
    /// Rules that matched but were not applied: after a pass on the same packet, or on
    /// packets after the flow was passed or dropped (first occurrence of each rule).
    pub shadowed: Vec<RuleEvent>,
    /// Rule events beyond the per-flow limit, counted only.
    #[serde(skip_serializing_if = "is_zero")]
    pub events_not_kept: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FlowRecord {
    /// The sids that alerted on the flow (each once, in first-alert order).
    pub fn alerted_sids(&self) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for e in self.matches.iter().filter(|e| e.alerted) {
            let k = (e.rule.gid, e.rule.sid);
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// Alerts of `sid` written for the flow.
    pub fn alert_count(&self, sid: u32) -> usize {
        self.matches
            .iter()
            .filter(|e| e.alerted && e.rule.sid == sid)
            .count()
    }

    /// `10.0.0.1:5000 -> 10.0.0.2:443 TCP`.
    pub fn tuple(&self) -> String {
        fn ep(ip: &IpAddr, port: u16) -> String {
            match ip {
                IpAddr::V6(_) => format!("[{ip}]:{port}"),
                IpAddr::V4(_) => format!("{ip}:{port}"),
            }
        }
        if self.proto == "ICMP" || self.proto == "IPv6-ICMP" {
            // The "ports" of an ICMP flow are its types.
            return format!("{} -> {} {}", self.src_ip, self.dest_ip, self.proto);
        }
        format!(
            "{} -> {} {}",
            ep(&self.src_ip, self.src_port),
            ep(&self.dest_ip, self.dest_port),
            self.proto
        )
    }

    /// A short label naming what the flow was about: SNI, HTTP host, DNS query.
    pub fn label(&self) -> String {
        let mut parts = vec![self.tuple()];
        if self.app_proto != "unknown" && self.app_proto != "failed" {
            parts.push(self.app_proto.to_string());
        }
        if let Some(s) = &self.tls_sni {
            parts.push(format!("sni {s}"));
        }
        if let Some(h) = self.http.iter().find_map(|h| h.hostname.as_deref()) {
            parts.push(format!("host {h}"));
        }
        if let Some(q) = self.dns_queries.first() {
            parts.push(format!("query {q}"));
        }
        parts.join(" ")
    }
}

/// Tracing state of one live flow.
#[derive(Default)]
struct FlowTrace {
    capture: Option<Arc<str>>,
    first_packet: Option<u64>,
    last_packet: Option<u64>,
    sni: Option<String>,
    http: Vec<HttpSeen>,
    dns: Vec<String>,
    dns_next: u64,
    /// The parser generation last observed: nothing new to read while it stays.
    app_generation: Option<u64>,
    blocked: bool,
    decided_by: Option<Decision>,
    pass_decision: Option<Decision>,
    matches: Vec<RuleEvent>,
    shadowed: Vec<RuleEvent>,
    not_kept: u64,
    /// The flow's detection state as it was when its fate was decided, advanced over the
    /// later packets to find the rules the decision shadows.
    shadow: Option<Box<FlowDetect>>,
}

/// Collects [`FlowRecord`]s as the engine runs.
pub struct Tracer {
    live: FxHashMap<u64, FlowTrace>,
    rules: FxHashMap<u32, Arc<RuleRef>>,
    capture: Arc<str>,
    sink: Box<dyn FnMut(FlowRecord) + Send>,
}

/// Where a traced packet sits.
pub struct TracePoint {
    pub packet: Option<u64>,
    pub ts: Timestamp,
    pub to_server: bool,
}

impl Tracer {
    /// A tracer handing each finished flow's record to `sink`.
    pub fn new(sink: Box<dyn FnMut(FlowRecord) + Send>) -> Tracer {
        Tracer {
            live: FxHashMap::default(),
            rules: FxHashMap::default(),
            capture: Arc::from(""),
            sink,
        }
    }

    /// The capture file packets now come from.
    pub fn set_capture(&mut self, name: &str) {
        self.capture = Arc::from(name);
    }

    fn rule(&mut self, detect: &DetectEngine, sig: u32) -> Arc<RuleRef> {
        self.rules
            .entry(sig)
            .or_insert_with(|| Arc::new(RuleRef::of(detect, sig)))
            .clone()
    }

    fn flow(&mut self, id: u64) -> &mut FlowTrace {
        let capture = &self.capture;
        let t = self.live.entry(id).or_default();
        if t.capture.is_none() {
            t.capture = Some(capture.clone());
        }
        t
    }

    /// A packet of the flow was seen: remembers its number and what the app layer knows.
    pub fn on_packet(&mut self, flow: &Flow, packet: Option<u64>) {
        let t = self.flow(flow.id);
        if packet.is_some() {
            t.first_packet = t.first_packet.or(packet);
            t.last_packet = packet;
        }
        observe_app(t, &flow.app);
    }

    /// Whether the flow's fate is decided and its later packets are to be inspected in
    /// the shadow of that decision.
    pub fn shadow_of(&mut self, flow_id: u64) -> Option<&mut FlowDetect> {
        self.live
            .get_mut(&flow_id)
            .and_then(|t| t.shadow.as_deref_mut())
    }

    /// The outcome of a packet of `flow` (after detection).
    pub fn on_outcome(
        &mut self,
        detect: &DetectEngine,
        flow: &Flow,
        outcome: &PacketOutcome,
        at: &TracePoint,
    ) {
        let decided = flow.detect.action.is_some();
        if outcome.trace.is_empty() && outcome.default_drop.is_none() && !outcome.drop && !decided {
            return;
        }
        let events: Vec<(TracedHit, Arc<RuleRef>)> = outcome
            .trace
            .iter()
            .map(|h| (*h, self.rule(detect, h.sig)))
            .collect();
        let t = self.flow(flow.id);
        let ts = if events.is_empty() {
            String::new()
        } else {
            at.ts.eve().to_string()
        };
        let direction = if at.to_server {
            "to_server"
        } else {
            "to_client"
        };
        for (h, rule) in events {
            let event = RuleEvent {
                packet: at.packet,
                timestamp: ts.clone(),
                direction,
                tx_id: h.tx_id,
                role: h.role,
                alerted: h.alerted,
                alert_action: h
                    .alerted
                    .then_some(if h.blocked { "blocked" } else { "allowed" }),
                rule: rule.clone(),
                pending_threshold: h.pending_threshold,
            };
            if h.role == HitRole::Decided {
                let decision = Decision::Rule {
                    packet: at.packet,
                    rule,
                };
                if event.rule.action == "pass" {
                    t.pass_decision.get_or_insert(decision);
                } else if !t.blocked {
                    t.blocked = true;
                    t.decided_by = Some(decision);
                }
            }
            push_event(t, event);
        }
        if let Some(d) = outcome.default_drop {
            if !t.blocked {
                t.blocked = true;
                t.decided_by = Some(Decision::DefaultAction {
                    packet: at.packet,
                    action: d.name(),
                });
            }
        }
        if outcome.drop && !t.blocked {
            // A drop without a traced decision (should not happen; keep the verdict).
            t.blocked = true;
        }
        if decided && t.shadow.is_none() {
            let mut shadow = flow.detect.clone();
            shadow.action = None;
            t.shadow = Some(Box::new(shadow));
        }
    }

    /// Rules that matched a packet of a flow whose fate was already decided.
    pub fn on_shadowed(
        &mut self,
        detect: &DetectEngine,
        flow_id: u64,
        hits: &[TracedHit],
        at: &TracePoint,
    ) {
        if hits.is_empty() {
            return;
        }
        let rules: Vec<Arc<RuleRef>> = hits.iter().map(|h| self.rule(detect, h.sig)).collect();
        let t = self.flow(flow_id);
        for (h, rule) in hits.iter().zip(rules) {
            if t.shadowed.iter().any(|e| Arc::ptr_eq(&e.rule, &rule)) {
                continue;
            }
            let event = RuleEvent {
                packet: at.packet,
                timestamp: at.ts.eve().to_string(),
                direction: if at.to_server {
                    "to_server"
                } else {
                    "to_client"
                },
                tx_id: h.tx_id,
                role: HitRole::Shadowed,
                alerted: false,
                alert_action: None,
                rule,
                pending_threshold: None,
            };
            push_event(t, event);
        }
    }

    /// The flow was dropped by an exception policy before detection.
    pub fn on_exception(&mut self, flow: &Flow, policy: &'static str, packet: Option<u64>) {
        let t = self.flow(flow.id);
        if !t.blocked {
            t.blocked = true;
            t.decided_by = Some(Decision::ExceptionPolicy { packet, policy });
        }
    }

    /// The flow ended: its record goes to the sink.
    pub fn on_flow_end(&mut self, flow: &Flow) {
        let record = self.finish_flow(flow);
        (self.sink)(record);
    }

    /// The flow ended: its record (for a worker thread, whose records the output merge
    /// hands to the sink in order).
    pub fn finish_flow(&mut self, flow: &Flow) -> FlowRecord {
        let mut t = self.live.remove(&flow.id).unwrap_or_default();
        observe_app(&mut t, &flow.app);
        if flow.detect.action == Some(FlowAction::Drop) {
            t.blocked = true;
        }
        let decided_by = if t.blocked {
            t.decided_by
        } else {
            t.pass_decision
        };
        FlowRecord {
            flow_id: flow.id,
            capture: t.capture.unwrap_or_else(|| self.capture.clone()),
            first_packet: t.first_packet,
            last_packet: t.last_packet,
            start: flow.start.eve().to_string(),
            end: flow.last.eve().to_string(),
            proto: crate::output::eve::proto_name(flow.proto).into_owned(),
            src_ip: flow.client.addr,
            src_port: flow.client.port,
            dest_ip: flow.server.addr,
            dest_port: flow.server.port,
            app_proto: flow.app.proto.name(),
            tls_sni: t.sni,
            http: t.http,
            dns_queries: t.dns,
            pkts_toserver: flow.to_server.pkts,
            pkts_toclient: flow.to_client.pkts,
            verdict: if t.blocked {
                FlowVerdict::Blocked
            } else {
                FlowVerdict::Allowed
            },
            decided_by,
            matches: t.matches,
            shadowed: t.shadowed,
            events_not_kept: t.not_kept,
        }
    }

    /// Hands a record to the sink (a worker's record, once merged).
    pub fn deliver(&mut self, record: FlowRecord) {
        (self.sink)(record);
    }
}

fn push_event(t: &mut FlowTrace, event: RuleEvent) {
    if t.matches.len() + t.shadowed.len() >= MAX_EVENTS {
        t.not_kept += 1;
        return;
    }
    if event.role == HitRole::Shadowed {
        t.shadowed.push(event);
    } else {
        t.matches.push(event);
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Remembers the SNI, HTTP requests and DNS queries the flow's parser holds now
/// (transactions are freed as detection finishes with them, so this runs per packet).
fn observe_app(t: &mut FlowTrace, app: &FlowApp) {
    if !matches!(app.proto, AppProto::Known(_)) || t.app_generation == Some(app.generation) {
        return;
    }
    t.app_generation = Some(app.generation);
    match &app.parser {
        Parser::Tls(tls) => {
            if t.sni.is_none() {
                t.sni = tls
                    .client_hello
                    .as_ref()
                    .and_then(|c| c.sni.as_deref())
                    .map(lossy);
            }
        }
        Parser::Http(h) => {
            for (i, tx) in h.transactions.iter().enumerate() {
                let id = h.first_id + i as u64;
                let req = &tx.request;
                if req.method.is_empty() {
                    continue;
                }
                let seen = HttpSeen {
                    tx_id: id,
                    hostname: req.host().map(|h| lossy(&h)),
                    url: lossy(req.uri_raw()),
                    http_method: lossy(&req.method),
                    http_user_agent: req.header("user-agent").map(lossy),
                };
                if let Some(s) = t.http.iter_mut().find(|s| s.tx_id == id) {
                    *s = seen;
                } else if t.http.len() < MAX_APP_ITEMS {
                    t.http.push(seen);
                }
            }
        }
        Parser::Dns(d) => {
            let from = t.dns_next;
            for tx in d.txs.iter().filter(|tx| tx.id >= from) {
                let Some(q) = &tx.query else {
                    continue;
                };
                t.dns_next = tx.id + 1;
                for question in &q.questions {
                    let name = lossy(&question.name);
                    if t.dns.len() < MAX_APP_ITEMS && !t.dns.contains(&name) {
                        t.dns.push(name);
                    }
                }
            }
        }
        Parser::None => {}
    }
}
