//! `rulesim report`: per-rule hit counts, rules never hit, flows per verdict, alerts per
//! 1,000 flows, and the top-N tables operators build in CloudWatch Logs Insights — from a
//! replay (the engine's per-flow decision records) or from logs already written (rulesim's
//! or Suricata's EVE, AWS Network Firewall alert and flow logs), so that what production
//! logged and what rulesim predicts read the same way.
//!
//! Everything is counted as flows end (a replay) or as lines are read (logs): memory is
//! that of the counters, each bounded ([`counter::TopCounter`]), not of the input.

pub mod compare;
pub mod counter;
pub mod html;
pub mod logs;
pub mod render;
pub mod timeline;

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::detect::HitRole;
use crate::time::Timestamp;
use crate::trace::{Decision, FlowRecord, FlowVerdict, RuleRef};
use counter::{TopCounter, Weight};
use timeline::{FlowClass, Timeline, TimelineReport};

/// A rule's identity in logs: (gid, sid). AWS logs carry no gid: 1 is assumed.
pub type RuleKey = (u32, u32);

/// Most distinct keys each top-N table counts exactly (beyond, it is approximate).
pub const DEFAULT_COUNTER_CAP: usize = 100_000;
/// Most flows whose log records are joined at once (alerts, netflow, tls and http records
/// of one flow); beyond, a new flow is counted on its own as soon as it is read.
const MAX_PENDING_FLOWS: usize = 2_000_000;
/// Most HTTP hosts remembered per flow.
const MAX_HOSTS: usize = 8;
/// Most "blocked by" labels kept per blocked name.
const MAX_BLOCKERS: usize = 8;

/// What to show.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Rows per top-N table.
    pub top: usize,
    /// Only this FQDN in the table of source IPs for blocked FQDNs.
    pub fqdn: Option<String>,
    /// Only this sid in the table of source IPs per signature.
    pub sid: Option<u32>,
    /// Distinct keys each table counts exactly.
    pub counter_cap: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            top: 10,
            fqdn: None,
            sid: None,
            counter_cap: DEFAULT_COUNTER_CAP,
        }
    }
}

/// Where the report's numbers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A replay of captures: every rule match is known, also of rules that do not alert.
    Replay,
    /// Logs: only what was logged (alerts, flow records) is known.
    Logs,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReportSource {
    pub kind: SourceKind,
    /// Capture or log files read.
    pub inputs: Vec<String>,
    /// `ids` or `ips` (a replay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// Log records read, by event type (logs).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub records: BTreeMap<String, u64>,
    /// What the reader should know about these numbers.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub flows: u64,
    pub alerts: u64,
    pub blocked_flows: u64,
    /// Allowed flows with at least one alert.
    pub alerted_flows: u64,
    /// Allowed flows without alerts.
    pub quiet_flows: u64,
    /// Rules evaluated (a replay) or given with -S (logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<usize>,
    pub rules_hit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_never_hit: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_flow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_flow: Option<String>,
}

/// Flows per verdict and what decided them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerdictRow {
    pub verdict: &'static str,
    pub decided_by: String,
    pub flows: u64,
    /// Percent of all flows.
    pub percent: f64,
}

/// One rule's hits.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleRow {
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    /// The rule's action, when the rule is known (a replay, or logs read with -S).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub alerts: u64,
    pub blocked_alerts: u64,
    pub allowed_alerts: u64,
    /// Flows with at least one alert of the rule.
    pub flows: u64,
    /// Flows the rule matched, alerting or not (a replay: pass and `noalert` rules too).
    pub hit_flows: u64,
    /// Flows whose verdict the rule decided (a replay).
    pub decided_flows: u64,
    /// Flows where the rule matched after another decision (a replay).
    pub shadowed_flows: u64,
    /// Alerts per 1,000 flows: the false-positive rate on traffic known to be benign.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts_per_1000_flows: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// A rule that never matched.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeverHitRow {
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub action: String,
    pub msg: String,
    pub location: String,
    /// Flows where it would have matched but another decision came first.
    pub shadowed_flows: u64,
}

/// A blocked TLS SNI or HTTP host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameRow {
    pub name: String,
    pub flows: u64,
    /// Blocking alerts on those flows.
    pub alerts: u64,
    /// What blocked them: `gid:sid` of rules, default actions, exception policies.
    pub blocked_by: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameSourceRow {
    pub fqdn: String,
    pub src_ip: IpAddr,
    pub flows: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureRow {
    pub gid: u32,
    pub sid: u32,
    pub msg: String,
    pub alerts: u64,
    pub flows: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureSourceRow {
    pub gid: u32,
    pub sid: u32,
    pub msg: String,
    /// The alerting packet's source, as EVE's `src_ip`.
    pub src_ip: IpAddr,
    pub alerts: u64,
}

/// The report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub source: ReportSource,
    pub summary: Summary,
    pub verdicts: Vec<VerdictRow>,
    /// Rules with a hit, most alerts first.
    pub rules: Vec<RuleRow>,
    /// Known rules without a hit, in the order they were written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_hit: Option<Vec<NeverHitRow>>,
    pub top_blocked_sni: Vec<NameRow>,
    pub top_blocked_http_hosts: Vec<NameRow>,
    pub top_sources_for_blocked_fqdns: Vec<NameSourceRow>,
    pub top_allowed_alert_signatures: Vec<SignatureRow>,
    pub top_sources_per_signature: Vec<SignatureSourceRow>,
    pub timeline: TimelineReport,
    /// Tables whose counts are approximate (more distinct keys than the bound).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approximate: Vec<String>,
}

/// How a blocked flow was blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Blocker {
    Rule(RuleKey),
    DefaultAction(String),
    Exception(String),
    /// Logs: a flow record said `drop`, no alert said why.
    Unknown,
}

impl Blocker {
    fn label(&self) -> String {
        match self {
            Blocker::Rule((gid, sid)) => format!("{gid}:{sid}"),
            Blocker::DefaultAction(a) => a.clone(),
            Blocker::Exception(p) => format!("exception policy {p}"),
            Blocker::Unknown => "unknown".into(),
        }
    }

    fn kind(&self) -> String {
        match self {
            Blocker::Rule(_) => "rule".into(),
            Blocker::DefaultAction(a) => format!("default action {a}"),
            Blocker::Exception(p) => format!("exception policy {p}"),
            Blocker::Unknown => "not logged".into(),
        }
    }
}

/// A rule's part in one flow.
#[derive(Clone, Copy, Debug, Default)]
struct RuleInFlow {
    alerted: bool,
    allowed_alert: bool,
    hit: bool,
    decided: bool,
    shadowed: bool,
}

/// One flow, as far as it is known.
#[derive(Debug, Default)]
struct FlowAcc {
    start: Option<Timestamp>,
    client: Option<IpAddr>,
    sni: Option<String>,
    hosts: Vec<String>,
    blocked: Option<Blocker>,
    /// A pass rule decided it (a replay).
    passed: bool,
    alerts: u64,
    blocking_alerts: u64,
    rules: Vec<(RuleKey, RuleInFlow)>,
}

impl FlowAcc {
    fn rule(&mut self, key: RuleKey) -> &mut RuleInFlow {
        let at = match self.rules.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.rules.push((key, RuleInFlow::default()));
                self.rules.len() - 1
            }
        };
        &mut self.rules[at].1
    }

    fn add_host(&mut self, host: &str) {
        if self.hosts.len() < MAX_HOSTS && !self.hosts.iter().any(|h| h == host) {
            self.hosts.push(host.to_string());
        }
    }

    fn earliest(&mut self, ts: Option<Timestamp>) {
        if let Some(ts) = ts {
            self.start = Some(self.start.map_or(ts, |s| s.min(ts)));
        }
    }
}

/// What is known of a rule.
#[derive(Clone, Debug)]
struct RuleInfo {
    rev: u32,
    action: Option<String>,
    msg: String,
    location: Option<String>,
    /// Written order (source, position) for the never-hit list.
    order: (Option<u32>, String, usize),
    /// From the ruleset (not only seen in a log).
    known: bool,
}

#[derive(Clone, Debug, Default)]
struct Seen {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Seen {
    fn add(&mut self, ts: Option<Timestamp>) {
        if let Some(ts) = ts {
            self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
            self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        }
    }
}

#[derive(Clone, Debug)]
struct RuleAcc {
    info: RuleInfo,
    alerts: u64,
    blocked_alerts: u64,
    flows: u64,
    allowed_flows: u64,
    hits: u64,
    decided: u64,
    shadowed: u64,
    seen: Seen,
}

impl RuleAcc {
    fn new(info: RuleInfo) -> Self {
        RuleAcc {
            info,
            alerts: 0,
            blocked_alerts: 0,
            flows: 0,
            allowed_flows: 0,
            hits: 0,
            decided: 0,
            shadowed: 0,
            seen: Seen::default(),
        }
    }
}

/// Counts per blocked name.
#[derive(Clone, Debug, Default)]
struct NameAcc {
    flows: u64,
    alerts: u64,
    blocked_by: Vec<String>,
}

impl Weight for NameAcc {
    fn weight(&self) -> u64 {
        self.flows
    }
}

/// An alert as a log line or a decision record gives it.
pub(crate) struct AlertSeen<'a> {
    pub key: RuleKey,
    pub rev: u32,
    pub msg: &'a str,
    pub blocked: bool,
    pub ts: Option<Timestamp>,
    pub src_ip: Option<IpAddr>,
}

/// Accumulates a report from decision records or log lines.
pub struct ReportBuilder {
    opts: ReportOptions,
    rules: FxHashMap<RuleKey, RuleAcc>,
    /// Rules given (a replay's evaluated rules, or -S with logs).
    rules_known: Option<usize>,
    flows: u64,
    /// Flows blocked, allowed with alerts, allowed without.
    classes: [u64; 3],
    alerts: u64,
    flow_seen: Seen,
    verdicts: BTreeMap<(&'static str, String), u64>,
    blocked_sni: TopCounter<String, NameAcc>,
    blocked_hosts: TopCounter<String, NameAcc>,
    fqdn_sources: TopCounter<(String, IpAddr), u64>,
    sig_sources: TopCounter<(RuleKey, IpAddr), u64>,
    timeline: Timeline,
    /// Logs: flows being joined, by flow_id.
    pending: FxHashMap<u64, FlowAcc>,
    pending_overflow: u64,
    /// Logs: flow (netflow) records were read, so flow counts cover every flow.
    pub(crate) saw_flow_records: bool,
}

impl ReportBuilder {
    pub fn new(opts: ReportOptions) -> Self {
        let cap = opts.counter_cap;
        ReportBuilder {
            opts,
            rules: FxHashMap::default(),
            rules_known: None,
            flows: 0,
            classes: [0; 3],
            alerts: 0,
            flow_seen: Seen::default(),
            verdicts: BTreeMap::new(),
            blocked_sni: TopCounter::new(cap),
            blocked_hosts: TopCounter::new(cap),
            fqdn_sources: TopCounter::new(cap),
            sig_sources: TopCounter::new(cap),
            timeline: Timeline::default(),
            pending: FxHashMap::default(),
            pending_overflow: 0,
            saw_flow_records: false,
        }
    }

    /// The ruleset: every rule in it is listed, hit or not.
    pub fn know_rules<'a>(&mut self, rules: impl IntoIterator<Item = &'a RuleRef>) {
        let mut n = 0;
        for r in rules {
            n += 1;
            // A rule may have been seen in a record before the ruleset was given.
            self.rules
                .entry((r.gid, r.sid))
                .and_modify(|a| a.info = info_of(r))
                .or_insert_with(|| RuleAcc::new(info_of(r)));
        }
        self.rules_known = Some(self.rules_known.unwrap_or(0) + n);
    }

    fn rule_from_ref(&mut self, r: &RuleRef) -> RuleKey {
        let key = (r.gid, r.sid);
        self.rules.entry(key).or_insert_with(|| {
            let mut info = info_of(r);
            info.known = false;
            RuleAcc::new(info)
        });
        key
    }

    /// Counts one alert (its flow's part is counted with the flow).
    fn count_alert(&mut self, a: &AlertSeen<'_>) {
        self.alerts += 1;
        let acc = self.rules.entry(a.key).or_insert_with(|| {
            RuleAcc::new(RuleInfo {
                rev: a.rev,
                action: None,
                msg: a.msg.to_string(),
                location: None,
                order: (None, String::new(), 0),
                known: false,
            })
        });
        acc.alerts += 1;
        if a.blocked {
            acc.blocked_alerts += 1;
        }
        acc.seen.add(a.ts);
        if let Some(src) = a.src_ip {
            *self.sig_sources.entry((a.key, src)) += 1;
        }
    }

    /// A replay's decision record of one flow.
    pub fn add_flow_record(&mut self, r: &FlowRecord) {
        let mut f = FlowAcc {
            start: Timestamp::parse_log(&r.start),
            client: Some(r.src_ip),
            sni: r.tls_sni.clone(),
            ..FlowAcc::default()
        };
        for h in &r.http {
            if let Some(host) = &h.hostname {
                f.add_host(host);
            }
        }
        for e in r.matches.iter().chain(&r.shadowed) {
            let key = self.rule_from_ref(&e.rule);
            let ts = Timestamp::parse_log(&e.timestamp);
            let shadowed = e.role == HitRole::Shadowed;
            if !shadowed {
                if let Some(acc) = self.rules.get_mut(&key) {
                    acc.seen.add(ts);
                }
            }
            let blocked = e.alert_action == Some("blocked");
            if e.alerted {
                let src = if e.direction == "to_server" {
                    r.src_ip
                } else {
                    r.dest_ip
                };
                self.count_alert(&AlertSeen {
                    key,
                    rev: e.rule.rev,
                    msg: &e.rule.msg,
                    blocked,
                    ts,
                    src_ip: Some(src),
                });
                f.alerts += 1;
                if blocked {
                    f.blocking_alerts += 1;
                }
            }
            let part = f.rule(key);
            if shadowed {
                part.shadowed = true;
            } else {
                part.hit = true;
            }
            if e.alerted {
                part.alerted = true;
                part.allowed_alert |= !blocked;
            }
        }
        if let Some(Decision::Rule { rule, .. }) = &r.decided_by {
            let key = (rule.gid, rule.sid);
            f.rule(key).decided = true;
            if r.verdict == FlowVerdict::Allowed {
                f.passed = true;
            }
        }
        if r.verdict == FlowVerdict::Blocked {
            f.blocked = Some(match &r.decided_by {
                Some(Decision::Rule { rule, .. }) => Blocker::Rule((rule.gid, rule.sid)),
                Some(Decision::DefaultAction { action, .. }) => {
                    Blocker::DefaultAction(action.to_string())
                }
                Some(Decision::ExceptionPolicy { policy, .. }) => {
                    Blocker::Exception(policy.to_string())
                }
                None => Blocker::Unknown,
            });
        }
        self.finish_flow(f);
    }

    /// Logs: the joined state of flow `id` (a record without a flow id is a flow of its own).
    fn pending(&mut self, id: Option<u64>) -> Option<&mut FlowAcc> {
        let id = id?;
        if !self.pending.contains_key(&id) && self.pending.len() >= MAX_PENDING_FLOWS {
            return None;
        }
        Some(self.pending.entry(id).or_default())
    }

    /// Logs: applies `update` to flow `id`'s state, or to a flow counted at once when the
    /// flow cannot be held.
    fn with_flow(&mut self, id: Option<u64>, update: impl FnOnce(&mut FlowAcc)) {
        match self.pending(id) {
            Some(f) => update(f),
            None => {
                if id.is_some() {
                    self.pending_overflow += 1;
                }
                let mut f = FlowAcc::default();
                update(&mut f);
                self.finish_flow(f);
            }
        }
    }

    /// Logs: an alert record (`packet_dropped`: its verdict says the packet was dropped,
    /// by this rule or another).
    pub(crate) fn log_alert(
        &mut self,
        flow_id: Option<u64>,
        a: AlertSeen<'_>,
        client: Option<IpAddr>,
        packet_dropped: bool,
    ) {
        self.count_alert(&a);
        let default_action = a.msg.starts_with("aws:");
        self.with_flow(flow_id, |f| {
            f.earliest(a.ts);
            if f.client.is_none() {
                f.client = client;
            }
            f.alerts += 1;
            let part = f.rule(a.key);
            part.alerted = true;
            part.hit = true;
            part.allowed_alert |= !a.blocked;
            if a.blocked {
                f.blocking_alerts += 1;
                let blocker = if default_action {
                    Blocker::DefaultAction(a.msg.trim_end_matches(" action").to_string())
                } else {
                    Blocker::Rule(a.key)
                };
                if matches!(f.blocked, None | Some(Blocker::Unknown)) {
                    f.blocked = Some(blocker);
                }
            } else if packet_dropped && f.blocked.is_none() {
                f.blocked = Some(Blocker::Unknown);
            }
        });
    }

    /// Logs: a flow record (netflow, or Suricata's flow event).
    pub(crate) fn log_flow(
        &mut self,
        flow_id: Option<u64>,
        start: Option<Timestamp>,
        src: Option<IpAddr>,
        dropped: bool,
    ) {
        self.saw_flow_records = true;
        self.with_flow(flow_id, |f| {
            f.earliest(start);
            // The first record of a flow is its to-server direction: its source is the client.
            if f.client.is_none() {
                f.client = src;
            }
            if dropped && f.blocked.is_none() {
                f.blocked = Some(Blocker::Unknown);
            }
        });
    }

    /// Logs: Suricata's `drop` record (a packet of the flow was dropped inline); a drop
    /// without a blocking alert (a `noalert` drop rule) still blocks the flow.
    pub(crate) fn log_drop(&mut self, flow_id: Option<u64>) {
        if flow_id.is_none() {
            return;
        }
        if let Some(f) = self.pending(flow_id) {
            if f.blocked.is_none() {
                f.blocked = Some(Blocker::Unknown);
            }
        }
    }

    /// Logs: what an alert, tls or http record says of the application layer.
    pub(crate) fn log_app(&mut self, flow_id: Option<u64>, sni: Option<&str>, host: Option<&str>) {
        if flow_id.is_none() || (sni.is_none() && host.is_none()) {
            return;
        }
        if let Some(f) = self.pending(flow_id) {
            if let Some(s) = sni {
                f.sni.get_or_insert_with(|| s.to_string());
            }
            if let Some(h) = host {
                f.add_host(h);
            }
        }
    }

    fn finish_flow(&mut self, f: FlowAcc) {
        self.flows += 1;
        self.flow_seen.add(f.start);
        let class = if f.blocked.is_some() {
            FlowClass::Blocked
        } else if f.alerts > 0 {
            FlowClass::Alerted
        } else {
            FlowClass::Allowed
        };
        let verdict = match (&f.blocked, class) {
            (Some(b), _) => ("blocked", b.kind()),
            (None, _) if f.passed => ("allowed", "pass rule".to_string()),
            (None, FlowClass::Alerted) => ("allowed", "no rule (alerts only)".to_string()),
            (None, _) => ("allowed", "no rule".to_string()),
        };
        *self.verdicts.entry(verdict).or_default() += 1;
        self.classes[class as usize] += 1;
        self.timeline.add(f.start, class);
        for (key, part) in &f.rules {
            if let Some(acc) = self.rules.get_mut(key) {
                acc.flows += u64::from(part.alerted);
                acc.allowed_flows += u64::from(part.allowed_alert);
                acc.hits += u64::from(part.hit);
                acc.decided += u64::from(part.decided);
                acc.shadowed += u64::from(part.shadowed && !part.hit);
            }
        }
        let Some(blocker) = &f.blocked else {
            return;
        };
        let label = blocker.label();
        let count = |table: &mut TopCounter<String, NameAcc>, name: &str| {
            let acc = table.entry(name.to_string());
            acc.flows += 1;
            acc.alerts += f.blocking_alerts;
            if acc.blocked_by.len() < MAX_BLOCKERS && !acc.blocked_by.contains(&label) {
                acc.blocked_by.push(label.clone());
                acc.blocked_by.sort();
            }
        };
        if let Some(sni) = &f.sni {
            count(&mut self.blocked_sni, sni);
        }
        for h in &f.hosts {
            count(&mut self.blocked_hosts, h);
        }
        if let Some(client) = f.client {
            let mut names: Vec<&String> = f.sni.iter().chain(&f.hosts).collect();
            names.sort();
            names.dedup();
            for n in names {
                *self.fqdn_sources.entry((n.clone(), client)) += 1;
            }
        }
    }

    /// The finished report.
    pub fn finish(mut self, mut source: ReportSource) -> Report {
        let mut pending: Vec<(u64, FlowAcc)> =
            std::mem::take(&mut self.pending).into_iter().collect();
        pending.sort_by_key(|(id, _)| *id);
        for (_, f) in pending {
            self.finish_flow(f);
        }
        let logs = source.kind == SourceKind::Logs;
        if logs && !self.saw_flow_records {
            source.notes.push(
                "no flow (netflow) records were read: flow counts cover only flows with alerts, \
                 and alerts per 1,000 flows is not given"
                    .into(),
            );
        }
        if logs {
            source.notes.push(
                "from logs only alerting rules are seen: pass rules, noalert rules and default \
                 drops without an alert leave no record"
                    .into(),
            );
        }
        if self.pending_overflow > 0 {
            source.notes.push(format!(
                "{} log records belonged to flows beyond the {} held at once and were counted \
                 as flows of their own",
                self.pending_overflow, MAX_PENDING_FLOWS
            ));
        }
        let flows = self.flows;
        let rate_known = !logs || self.saw_flow_records;
        let rate = |alerts: u64| -> Option<f64> {
            (rate_known && flows > 0).then(|| round3(alerts as f64 * 1000.0 / flows as f64))
        };
        let ts = |t: Option<Timestamp>| t.map(|t| t.eve().to_string());

        let mut rules: Vec<RuleRow> = Vec::new();
        let mut never: Vec<(&RuleAcc, NeverHitRow)> = Vec::new();
        for (&(gid, sid), acc) in &self.rules {
            if acc.alerts == 0 && acc.hits == 0 && acc.decided == 0 {
                if acc.info.known {
                    never.push((
                        acc,
                        NeverHitRow {
                            gid,
                            sid,
                            rev: acc.info.rev,
                            action: acc.info.action.clone().unwrap_or_default(),
                            msg: acc.info.msg.clone(),
                            location: acc.info.location.clone().unwrap_or_default(),
                            shadowed_flows: acc.shadowed,
                        },
                    ));
                }
                continue;
            }
            rules.push(RuleRow {
                gid,
                sid,
                rev: acc.info.rev,
                action: acc.info.action.clone(),
                msg: acc.info.msg.clone(),
                location: acc.info.location.clone(),
                alerts: acc.alerts,
                blocked_alerts: acc.blocked_alerts,
                allowed_alerts: acc.alerts - acc.blocked_alerts,
                flows: acc.flows,
                hit_flows: acc.hits,
                decided_flows: acc.decided,
                shadowed_flows: acc.shadowed,
                alerts_per_1000_flows: rate(acc.alerts),
                first_seen: ts(acc.seen.first),
                last_seen: ts(acc.seen.last),
            });
        }
        rules.sort_by(|a, b| {
            b.alerts
                .cmp(&a.alerts)
                .then(b.hit_flows.cmp(&a.hit_flows))
                .then((a.gid, a.sid).cmp(&(b.gid, b.sid)))
        });
        never.sort_by(|a, b| {
            a.0.info
                .order
                .cmp(&b.0.info.order)
                .then((a.1.gid, a.1.sid).cmp(&(b.1.gid, b.1.sid)))
        });
        let never_hit: Option<Vec<NeverHitRow>> = self
            .rules_known
            .map(|_| never.into_iter().map(|(_, r)| r).collect());

        let top = self.opts.top.max(1);
        let names = |t: &TopCounter<String, NameAcc>| -> Vec<NameRow> {
            t.ranked()
                .into_iter()
                .take(top)
                .map(|(k, v)| NameRow {
                    name: k.clone(),
                    flows: v.flows,
                    alerts: v.alerts,
                    blocked_by: v.blocked_by.clone(),
                })
                .collect()
        };
        let top_blocked_sni = names(&self.blocked_sni);
        let top_blocked_http_hosts = names(&self.blocked_hosts);

        // Source IPs for the most blocked names (or the one asked for).
        let top_sources_for_blocked_fqdns = top_sources(
            &self.fqdn_sources,
            |name: &String| {
                self.opts
                    .fqdn
                    .as_deref()
                    .is_none_or(|f| name.eq_ignore_ascii_case(f))
            },
            if self.opts.fqdn.is_some() {
                1
            } else {
                top.min(5)
            },
            top,
        )
        .into_iter()
        .map(|(name, src_ip, flows)| NameSourceRow {
            fqdn: name.clone(),
            src_ip,
            flows,
        })
        .collect();

        let msg_of = |key: &RuleKey| -> String {
            self.rules
                .get(key)
                .map(|r| r.info.msg.clone())
                .unwrap_or_default()
        };
        let mut allowed: Vec<SignatureRow> = self
            .rules
            .iter()
            .filter(|(_, r)| r.alerts > r.blocked_alerts)
            .map(|(&(gid, sid), r)| SignatureRow {
                gid,
                sid,
                msg: r.info.msg.clone(),
                alerts: r.alerts - r.blocked_alerts,
                flows: r.allowed_flows,
            })
            .collect();
        allowed.sort_by(|a, b| {
            b.alerts
                .cmp(&a.alerts)
                .then((a.gid, a.sid).cmp(&(b.gid, b.sid)))
        });
        allowed.truncate(top);

        let top_sources_per_signature = top_sources(
            &self.sig_sources,
            |key: &RuleKey| self.opts.sid.is_none_or(|s| s == key.1),
            if self.opts.sid.is_some() {
                usize::MAX
            } else {
                top.min(5)
            },
            top,
        )
        .into_iter()
        .map(|(key, src_ip, alerts)| SignatureSourceRow {
            gid: key.0,
            sid: key.1,
            msg: msg_of(key),
            src_ip,
            alerts,
        })
        .collect();

        let mut approximate = Vec::new();
        for (name, dropped) in [
            ("top_blocked_sni", self.blocked_sni.dropped()),
            ("top_blocked_http_hosts", self.blocked_hosts.dropped()),
            ("top_sources_for_blocked_fqdns", self.fqdn_sources.dropped()),
            ("top_sources_per_signature", self.sig_sources.dropped()),
        ] {
            if dropped > 0 {
                approximate.push(name.to_string());
            }
        }

        let mut verdicts: Vec<VerdictRow> = self
            .verdicts
            .iter()
            .map(|((v, by), n)| VerdictRow {
                verdict: v,
                decided_by: by.clone(),
                flows: *n,
                percent: if flows > 0 {
                    round3(*n as f64 * 100.0 / flows as f64)
                } else {
                    0.0
                },
            })
            .collect();
        verdicts.sort_by(|a, b| {
            b.verdict
                .cmp(a.verdict)
                .then(b.flows.cmp(&a.flows))
                .then(a.decided_by.cmp(&b.decided_by))
        });
        let summary = Summary {
            flows,
            alerts: self.alerts,
            blocked_flows: self.classes[0],
            alerted_flows: self.classes[1],
            quiet_flows: self.classes[2],
            rules: self.rules_known,
            rules_hit: rules.len(),
            rules_never_hit: never_hit.as_ref().map(Vec::len),
            first_flow: ts(self.flow_seen.first),
            last_flow: ts(self.flow_seen.last),
        };
        Report {
            source,
            summary,
            verdicts,
            rules,
            never_hit,
            top_blocked_sni,
            top_blocked_http_hosts,
            top_sources_for_blocked_fqdns,
            top_allowed_alert_signatures: allowed,
            top_sources_per_signature,
            timeline: self.timeline.finish(),
            approximate,
        }
    }
}

/// The heaviest `keys` keys of a (key, source IP) counter that `keep` accepts, each with
/// its `per_key` heaviest sources: (key, source, count), heaviest key first.
fn top_sources<K: Ord + Clone + std::hash::Hash>(
    counter: &TopCounter<(K, IpAddr), u64>,
    keep: impl Fn(&K) -> bool,
    keys: usize,
    per_key: usize,
) -> Vec<(&K, IpAddr, u64)> {
    // Per key: its total and its sources.
    type Sources = (u64, Vec<(IpAddr, u64)>);
    let mut by_key: BTreeMap<&K, Sources> = BTreeMap::new();
    // Ranked: each key's sources come heaviest first.
    for ((key, ip), n) in counter.ranked() {
        if keep(key) {
            let e = by_key.entry(key).or_default();
            e.0 += n;
            e.1.push((*ip, *n));
        }
    }
    let mut ranked: Vec<_> = by_key.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(keys)
        .flat_map(|(key, (_, ips))| {
            ips.into_iter()
                .take(per_key)
                .map(move |(ip, n)| (key, ip, n))
        })
        .collect()
}

fn info_of(r: &RuleRef) -> RuleInfo {
    RuleInfo {
        rev: r.rev,
        action: Some(r.action.clone()),
        msg: r.msg.clone(),
        location: Some(r.location()),
        order: (r.group_priority, r.source.clone(), r.position),
        known: true,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
