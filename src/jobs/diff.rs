//! `rulesim diff`: the same captures under two rulesets, compared flow by flow.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::trace::{Decision, FlowRecord, FlowVerdict};

/// A kind of change, as `--fail-on` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    NewlyBlocked,
    NewlyAllowed,
    DecisionMoved,
    NewAlerts,
    SilencedAlerts,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::NewlyBlocked,
        ChangeKind::NewlyAllowed,
        ChangeKind::DecisionMoved,
        ChangeKind::NewAlerts,
        ChangeKind::SilencedAlerts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::NewlyBlocked => "newly-blocked",
            ChangeKind::NewlyAllowed => "newly-allowed",
            ChangeKind::DecisionMoved => "decision-moved",
            ChangeKind::NewAlerts => "new-alerts",
            ChangeKind::SilencedAlerts => "silenced-alerts",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.name() == s)
    }

    fn title(self) -> &'static str {
        match self {
            ChangeKind::NewlyBlocked => "Newly blocked",
            ChangeKind::NewlyAllowed => "Newly allowed",
            ChangeKind::DecisionMoved => "Decision moved to another rule",
            ChangeKind::NewAlerts => "New alerts",
            ChangeKind::SilencedAlerts => "Silenced alerts",
        }
    }
}

/// One flow's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowChange {
    pub kind: ChangeKind,
    /// The rule the change is about: the new decider (newly blocked, decision moved), the
    /// old one (newly allowed), or the alert's sid.
    pub rule: String,
    pub flow: String,
    pub capture: String,
    pub first_packet: Option<u64>,
    pub flow_id: u64,
    pub old: String,
    pub new: String,
}

/// Changes of one kind and rule.
#[derive(Clone, Debug, Serialize)]
pub struct ChangeGroup {
    pub kind: ChangeKind,
    pub rule: String,
    pub flows: usize,
    /// The first few flows (by capture and packet).
    pub examples: Vec<FlowChange>,
}

/// The comparison.
#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    pub flows: usize,
    pub flows_changed: usize,
    /// Flows per change kind.
    pub counts: BTreeMap<ChangeKind, usize>,
    pub groups: Vec<ChangeGroup>,
}

fn decider(d: &Option<Decision>) -> String {
    match d {
        None => "no decision".into(),
        Some(Decision::Rule { rule, .. }) => {
            format!(
                "{} {}:{} \"{}\" ({})",
                rule.action,
                rule.gid,
                rule.sid,
                rule.msg,
                rule.location()
            )
        }
        Some(Decision::DefaultAction { action, .. }) => format!("default action {action}"),
        Some(Decision::ExceptionPolicy { policy, .. }) => format!("exception policy {policy}"),
    }
}

/// A decision's identity, without where the rule sits (moving a rule is no change).
fn decision_key(d: &Option<Decision>) -> Option<(String, u32, u32, &'static str)> {
    d.as_ref().map(|d| match d {
        Decision::Rule { rule, .. } => (rule.action.clone(), rule.gid, rule.sid, ""),
        Decision::DefaultAction { action, .. } => ("default".into(), 0, 0, *action),
        Decision::ExceptionPolicy { policy, .. } => ("exception".into(), 0, 0, *policy),
    })
}

fn state(f: &FlowRecord) -> String {
    format!("{} ({})", f.verdict.name(), decider(&f.decided_by))
}

/// How many example flows each group keeps.
pub const EXAMPLES: usize = 5;

/// Compares the records of two runs over the same captures.
pub fn diff(old: &[FlowRecord], new: &[FlowRecord]) -> DiffReport {
    let key = |f: &FlowRecord| (f.capture.to_string(), f.first_packet, f.flow_id);
    let old_by: BTreeMap<_, &FlowRecord> = old.iter().map(|f| (key(f), f)).collect();
    let mut changes: Vec<FlowChange> = Vec::new();
    let mut changed_flows = BTreeSet::new();
    let mut news: Vec<&FlowRecord> = new.iter().collect();
    news.sort_by_key(|f| key(f));
    for n in news {
        let Some(o) = old_by.get(&key(n)) else {
            continue;
        };
        let mut add = |kind, rule: String| {
            changed_flows.insert(key(n));
            changes.push(FlowChange {
                kind,
                rule,
                flow: n.label(),
                capture: n.capture.to_string(),
                first_packet: n.first_packet,
                flow_id: n.flow_id,
                old: state(o),
                new: state(n),
            });
        };
        match (o.verdict, n.verdict) {
            (FlowVerdict::Allowed, FlowVerdict::Blocked) => {
                add(ChangeKind::NewlyBlocked, decider(&n.decided_by))
            }
            (FlowVerdict::Blocked, FlowVerdict::Allowed) => {
                add(ChangeKind::NewlyAllowed, decider(&o.decided_by))
            }
            _ => {
                if decision_key(&o.decided_by) != decision_key(&n.decided_by) {
                    add(ChangeKind::DecisionMoved, decider(&n.decided_by))
                }
            }
        }
        let old_alerts = o.alerted_sids();
        let new_alerts = n.alerted_sids();
        let name = |f: &FlowRecord, (g, s): (u32, u32)| {
            let msg = f
                .matches
                .iter()
                .find(|e| e.rule.gid == g && e.rule.sid == s)
                .map_or(String::new(), |e| format!(" \"{}\"", e.rule.msg));
            format!("{g}:{s}{msg}")
        };
        for &a in new_alerts.iter().filter(|a| !old_alerts.contains(a)) {
            add(ChangeKind::NewAlerts, name(n, a));
        }
        for &a in old_alerts.iter().filter(|a| !new_alerts.contains(a)) {
            add(ChangeKind::SilencedAlerts, name(o, a));
        }
    }
    let mut counts: BTreeMap<ChangeKind, usize> = BTreeMap::new();
    let mut grouped: BTreeMap<(ChangeKind, String), Vec<FlowChange>> = BTreeMap::new();
    for c in changes {
        *counts.entry(c.kind).or_insert(0) += 1;
        grouped.entry((c.kind, c.rule.clone())).or_default().push(c);
    }
    let mut groups: Vec<ChangeGroup> = grouped
        .into_iter()
        .map(|((kind, rule), flows)| ChangeGroup {
            kind,
            rule,
            flows: flows.len(),
            examples: flows.into_iter().take(EXAMPLES).collect(),
        })
        .collect();
    // Kind first, then the biggest groups.
    groups.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.flows.cmp(&a.flows))
            .then(a.rule.cmp(&b.rule))
    });
    DiffReport {
        flows: new.len(),
        flows_changed: changed_flows.len(),
        counts,
        groups,
    }
}

impl DiffReport {
    pub fn has(&self, kind: ChangeKind) -> bool {
        self.counts.get(&kind).is_some_and(|&n| n > 0)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{} flow(s) compared, {} changed\n",
            self.flows, self.flows_changed
        ));
        for kind in ChangeKind::ALL {
            let n = self.counts.get(&kind).copied().unwrap_or(0);
            out.push_str(&format!("  {:<16} {n}\n", kind.name()));
        }
        let mut current = None;
        for g in &self.groups {
            if current != Some(g.kind) {
                current = Some(g.kind);
                out.push_str(&format!("\n{}:\n", g.kind.title()));
            }
            out.push_str(&format!("  {}: {} flow(s)\n", g.rule, g.flows));
            for e in &g.examples {
                let at = e
                    .first_packet
                    .map_or(String::new(), |p| format!(", packet {p}"));
                out.push_str(&format!("    {} ({}{at})\n", e.flow, e.capture));
                out.push_str(&format!("      old: {}\n      new: {}\n", e.old, e.new));
            }
            if g.flows > g.examples.len() {
                out.push_str(&format!(
                    "    ... and {} more\n",
                    g.flows - g.examples.len()
                ));
            }
        }
        out
    }

    /// GitHub-flavoured Markdown, for a pull-request comment.
    pub fn markdown(&self) -> String {
        let mut out = String::from("### rulesim diff\n\n");
        out.push_str(&format!(
            "{} flow(s) compared, **{} changed**\n\n| change | flows |\n|---|---:|\n",
            self.flows, self.flows_changed
        ));
        for kind in ChangeKind::ALL {
            let n = self.counts.get(&kind).copied().unwrap_or(0);
            out.push_str(&format!("| {} | {n} |\n", kind.name()));
        }
        let mut current = None;
        for g in &self.groups {
            if current != Some(g.kind) {
                current = Some(g.kind);
                out.push_str(&format!("\n#### {}\n\n", g.kind.title()));
            }
            out.push_str(&format!(
                "- `{}`: {} flow(s)\n",
                g.rule.replace('`', "'"),
                g.flows
            ));
            for e in &g.examples {
                out.push_str(&format!(
                    "  - {} ({}): {} → {}\n",
                    e.flow.replace('|', "\\|"),
                    e.capture,
                    e.old,
                    e.new
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::detect::HitRole;
    use crate::trace::{RuleEvent, RuleRef};

    fn rule(action: &str, sid: u32) -> Arc<RuleRef> {
        Arc::new(RuleRef {
            gid: 1,
            sid,
            rev: 1,
            action: action.into(),
            msg: format!("rule {sid}"),
            source: "r.rules".into(),
            line: sid as usize,
            position: 0,
            group: None,
            group_priority: None,
        })
    }

    /// A flow decided by `decider` (action, sid) with alerts of `alerts`.
    fn flow(id: u64, decider: Option<(&str, u32)>, alerts: &[u32]) -> FlowRecord {
        let mut matches = Vec::new();
        let event = |r: Arc<RuleRef>, role, alerted| RuleEvent {
            packet: Some(id),
            timestamp: String::new(),
            direction: "to_server",
            tx_id: None,
            role,
            alerted,
            alert_action: alerted.then_some("allowed"),
            rule: r,
            pending_threshold: None,
        };
        let decided_by = decider.map(|(a, s)| {
            let r = rule(a, s);
            matches.push(event(r.clone(), HitRole::Decided, alerts.contains(&s)));
            Decision::Rule {
                packet: Some(id),
                rule: r,
            }
        });
        for &s in alerts
            .iter()
            .filter(|&&s| decider.is_none_or(|(_, d)| d != s))
        {
            matches.push(event(rule("alert", s), HitRole::Matched, true));
        }
        let blocked = decider.is_some_and(|(a, _)| a != "pass");
        FlowRecord {
            flow_id: id,
            capture: Arc::from("c.pcap"),
            first_packet: Some(id),
            last_packet: Some(id),
            start: String::new(),
            end: String::new(),
            proto: "TCP".into(),
            src_ip: "10.0.0.1".parse().expect("ip"),
            src_port: 1000 + id as u16,
            dest_ip: "10.0.0.2".parse().expect("ip"),
            dest_port: 443,
            app_proto: "tls",
            tls_sni: None,
            http: Vec::new(),
            dns_queries: Vec::new(),
            pkts_toserver: 1,
            pkts_toclient: 0,
            verdict: if blocked {
                FlowVerdict::Blocked
            } else {
                FlowVerdict::Allowed
            },
            decided_by,
            matches,
            shadowed: Vec::new(),
            events_not_kept: 0,
        }
    }

    #[test]
    fn each_kind_of_change_is_found_once_per_flow() {
        let old = vec![
            flow(1, None, &[]),
            flow(2, Some(("drop", 10)), &[10]),
            flow(3, Some(("drop", 10)), &[10]),
            flow(4, Some(("pass", 20)), &[]),
            flow(5, None, &[30]),
            flow(6, Some(("drop", 10)), &[10]),
        ];
        let new = vec![
            flow(1, Some(("drop", 11)), &[11]), // newly blocked, new alert 11
            flow(2, None, &[]),                 // newly allowed, 10 silenced
            flow(3, Some(("drop", 12)), &[12]), // decision moved, 12 new, 10 silenced
            flow(4, Some(("pass", 20)), &[]),   // unchanged
            flow(5, None, &[30, 31]),           // new alert 31
            flow(6, Some(("drop", 10)), &[10]), // unchanged
        ];
        let r = diff(&old, &new);
        assert_eq!(r.flows, 6);
        assert_eq!(r.flows_changed, 4);
        let counts: Vec<(ChangeKind, usize)> = r.counts.iter().map(|(k, n)| (*k, *n)).collect();
        assert_eq!(
            counts,
            vec![
                (ChangeKind::NewlyBlocked, 1),
                (ChangeKind::NewlyAllowed, 1),
                (ChangeKind::DecisionMoved, 1),
                (ChangeKind::NewAlerts, 3),
                (ChangeKind::SilencedAlerts, 2),
            ]
        );
        let silenced: Vec<&ChangeGroup> = r
            .groups
            .iter()
            .filter(|g| g.kind == ChangeKind::SilencedAlerts)
            .collect();
        assert_eq!(silenced.len(), 1, "both flows under sid 10");
        assert_eq!(silenced[0].flows, 2);
        assert_eq!(silenced[0].rule, "1:10 \"rule 10\"");
        let moved = r
            .groups
            .iter()
            .find(|g| g.kind == ChangeKind::DecisionMoved)
            .expect("moved");
        assert_eq!(moved.rule, "drop 1:12 \"rule 12\" (r.rules:12)");
        assert_eq!(
            moved.examples[0].old,
            "blocked (drop 1:10 \"rule 10\" (r.rules:10))"
        );
        assert!(r.has(ChangeKind::NewlyBlocked));
    }

    #[test]
    fn the_same_rule_moved_in_its_file_is_no_change() {
        let old = vec![flow(1, Some(("drop", 10)), &[10])];
        let mut new = old.clone();
        if let Some(Decision::Rule { rule, .. }) = &mut new[0].decided_by {
            let mut moved = (**rule).clone();
            moved.line = 99;
            *rule = Arc::new(moved);
        }
        let r = diff(&old, &new);
        assert_eq!(r.flows_changed, 0);
        assert!(r.groups.is_empty());
    }

    #[test]
    fn groups_keep_a_bounded_number_of_examples() {
        let old: Vec<FlowRecord> = (1..=20).map(|i| flow(i, None, &[])).collect();
        let new: Vec<FlowRecord> = (1..=20).map(|i| flow(i, Some(("drop", 7)), &[7])).collect();
        let r = diff(&old, &new);
        let g = &r.groups[0];
        assert_eq!(
            (g.kind, g.flows, g.examples.len()),
            (ChangeKind::NewlyBlocked, 20, EXAMPLES)
        );
        assert!(r.render().contains("    ... and 15 more\n"));
    }
}
