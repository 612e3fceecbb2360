//! What production logged against what rulesim predicts: two reports on the same traffic
//! (a replay and the firewall's logs), rule by rule and blocked name by blocked name.

use serde::Serialize;

use super::{NameRow, Report, RuleRow, SourceKind, Summary};

/// One rule whose alerts differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleDifference {
    pub gid: u32,
    pub sid: u32,
    pub msg: String,
    pub predicted_alerts: u64,
    pub logged_alerts: u64,
    pub predicted_blocked: u64,
    pub logged_blocked: u64,
}

/// One blocked TLS SNI or HTTP host whose blocked flows differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameDifference {
    /// `sni` or `http_host`.
    pub kind: &'static str,
    pub name: String,
    pub predicted_flows: u64,
    pub logged_flows: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub predicted: Summary,
    pub logged: Summary,
    /// Rules seen on either side.
    pub rules_compared: usize,
    pub rules_differing: Vec<RuleDifference>,
    pub names_compared: usize,
    pub names_differing: Vec<NameDifference>,
    /// Both sides count every flow (logs without flow records know only flows with
    /// alerts: their flow totals are not compared).
    pub flows_compared: bool,
    /// Flow (when compared), alert and blocked-flow totals agree, and no rule or name
    /// differs.
    pub agree: bool,
}

/// Compares `predicted` (a replay) with `logged` (logs of the same traffic). Both reports
/// must list every name (`top` unbounded) for the name comparison to be complete.
pub fn compare(predicted: &Report, logged: &Report) -> Comparison {
    let mut rules: Vec<RuleDifference> = Vec::new();
    let mut keys: Vec<(u32, u32)> = predicted
        .rules
        .iter()
        .chain(&logged.rules)
        .map(|r| (r.gid, r.sid))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let find = |rows: &[RuleRow], k: (u32, u32)| -> Option<RuleRow> {
        rows.iter().find(|r| (r.gid, r.sid) == k).cloned()
    };
    let mut rules_compared = 0;
    for k in keys {
        let p = find(&predicted.rules, k);
        let l = find(&logged.rules, k);
        let alerts = |r: &Option<RuleRow>| r.as_ref().map_or(0, |r| r.alerts);
        let blocked = |r: &Option<RuleRow>| r.as_ref().map_or(0, |r| r.blocked_alerts);
        // Rules that matched without alerting leave nothing in logs: not compared.
        if alerts(&p) == 0 && alerts(&l) == 0 {
            continue;
        }
        rules_compared += 1;
        if alerts(&p) != alerts(&l) || blocked(&p) != blocked(&l) {
            let msg = p
                .as_ref()
                .or(l.as_ref())
                .map(|r| r.msg.clone())
                .unwrap_or_default();
            rules.push(RuleDifference {
                gid: k.0,
                sid: k.1,
                msg,
                predicted_alerts: alerts(&p),
                logged_alerts: alerts(&l),
                predicted_blocked: blocked(&p),
                logged_blocked: blocked(&l),
            });
        }
    }
    rules.sort_by(|a, b| {
        let gap = |d: &RuleDifference| d.predicted_alerts.abs_diff(d.logged_alerts);
        gap(b)
            .cmp(&gap(a))
            .then((a.gid, a.sid).cmp(&(b.gid, b.sid)))
    });

    let mut names: Vec<NameDifference> = Vec::new();
    let mut names_compared = 0;
    for (kind, p, l) in [
        ("sni", &predicted.top_blocked_sni, &logged.top_blocked_sni),
        (
            "http_host",
            &predicted.top_blocked_http_hosts,
            &logged.top_blocked_http_hosts,
        ),
    ] {
        let mut all: Vec<&str> = p.iter().chain(l.iter()).map(|r| r.name.as_str()).collect();
        all.sort_unstable();
        all.dedup();
        let flows =
            |rows: &[NameRow], n: &str| rows.iter().find(|r| r.name == n).map_or(0, |r| r.flows);
        for n in all {
            names_compared += 1;
            let (pf, lf) = (flows(p, n), flows(l, n));
            if pf != lf {
                names.push(NameDifference {
                    kind,
                    name: n.to_string(),
                    predicted_flows: pf,
                    logged_flows: lf,
                });
            }
        }
    }
    names.sort_by(|a, b| {
        let gap = |d: &NameDifference| d.predicted_flows.abs_diff(d.logged_flows);
        gap(b)
            .cmp(&gap(a))
            .then(a.kind.cmp(b.kind))
            .then(a.name.cmp(&b.name))
    });
    let (ps, ls) = (&predicted.summary, &logged.summary);
    let counts_flows = |r: &Report| {
        r.source.kind == SourceKind::Replay
            || r.source.records.contains_key("netflow")
            || r.source.records.contains_key("flow")
    };
    let flows_compared = counts_flows(predicted) && counts_flows(logged);
    let agree = rules.is_empty()
        && names.is_empty()
        && (!flows_compared || ps.flows == ls.flows)
        && ps.alerts == ls.alerts
        && ps.blocked_flows == ls.blocked_flows;
    Comparison {
        predicted: ps.clone(),
        logged: ls.clone(),
        rules_compared,
        rules_differing: rules,
        names_compared,
        names_differing: names,
        flows_compared,
        agree,
    }
}

impl Comparison {
    /// Terminal form.
    pub fn text(&self) -> String {
        let mut out = String::new();
        out.push_str(if self.agree {
            "predicted and logged agree\n"
        } else {
            "predicted and logged differ\n"
        });
        out.push_str(&format!(
            "\n{:<24}{:>12}{:>12}\n",
            "", "predicted", "logged"
        ));
        let (p, l) = (&self.predicted, &self.logged);
        for (what, a, b, compared) in [
            ("flows", p.flows, l.flows, self.flows_compared),
            ("alerts", p.alerts, l.alerts, true),
            ("blocked flows", p.blocked_flows, l.blocked_flows, true),
            (
                "allowed with alerts",
                p.alerted_flows,
                l.alerted_flows,
                true,
            ),
            (
                "allowed, no alert",
                p.quiet_flows,
                l.quiet_flows,
                self.flows_compared,
            ),
        ] {
            let mark = match (compared, a == b) {
                (false, _) => "  (not compared)",
                (true, true) => "",
                (true, false) => "  *",
            };
            out.push_str(&format!("{what:<24}{a:>12}{b:>12}{mark}\n"));
        }
        if !self.flows_compared {
            out.push_str("the logs have no flow records: only flows with alerts are known\n");
        }
        out.push_str(&format!(
            "\nRules whose alerts differ ({} of {} alerting rules)\n",
            self.rules_differing.len(),
            self.rules_compared
        ));
        if self.rules_differing.is_empty() {
            out.push_str("  (none)\n");
        }
        for d in &self.rules_differing {
            out.push_str(&format!(
                "  {}:{} \"{}\": predicted {} alerts ({} blocked), logged {} ({} blocked)\n",
                d.gid,
                d.sid,
                d.msg,
                d.predicted_alerts,
                d.predicted_blocked,
                d.logged_alerts,
                d.logged_blocked
            ));
        }
        out.push_str(&format!(
            "\nBlocked names whose flows differ ({} of {})\n",
            self.names_differing.len(),
            self.names_compared
        ));
        if self.names_differing.is_empty() {
            out.push_str("  (none)\n");
        }
        for d in &self.names_differing {
            out.push_str(&format!(
                "  {} {}: predicted {} blocked flows, logged {}\n",
                d.kind, d.name, d.predicted_flows, d.logged_flows
            ));
        }
        out
    }
}
