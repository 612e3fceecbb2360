//! `rulesim lint`: what is wrong with a ruleset before it runs. Rules that fail to load
//! (as Suricata would refuse them), what AWS Network Firewall refuses although Suricata
//! accepts it, rules that can never match, rules shadowed in strict order, duplicate sids,
//! and an estimate of each rule group's capacity.

use serde::Serialize;

use crate::rules::aws::RuleOrder;
use crate::rules::expr::PortExpr;
use crate::rules::options::is_app_protocol;
use crate::rules::{Action, Rule, RuleErrorKind, RuleSet, VarTable};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, located in its source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier (`load-error`, `aws-unsupported`, `shadowed`, ...).
    pub code: &'static str,
    pub message: String,
    pub source: String,
    pub line: usize,
    pub column: usize,
    /// The rule's `gid:sid`, when the finding is about one rule.
    pub sid: Option<String>,
}

/// A rule group's capacity as AWS counts it (one unit per rule, per domain of a domain
/// list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capacity {
    pub group: String,
    pub estimate: usize,
}

/// The lint result.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub capacities: Vec<Capacity>,
    pub rules_loaded: usize,
    pub rules_failed: usize,
}

/// Keywords AWS Network Firewall does not support in stateful rules.
const AWS_UNSUPPORTED_KEYWORDS: &[&str] = &[
    "dataset",
    "datarep",
    "iprep",
    "lua",
    "luajit",
    "threshold",
    "detection_filter",
    "filename",
    "fileext",
    "filemagic",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesize",
    "filestore",
    "file.name",
    "file.magic",
    "enip_command",
    "cip_service",
    "hostbits",
];

/// Lints a loaded rule set. `aws` applies AWS's restrictions to every rule (they always
/// apply to rules from AWS rule groups and policies).
pub fn lint(set: &RuleSet, vars: &VarTable, aws: bool) -> Report {
    let mut report = Report {
        rules_loaded: set.rules.len(),
        rules_failed: set.errors.len(),
        ..Report::default()
    };
    for e in &set.errors {
        // A keyword rulesim cannot evaluate yet is not a fault of the ruleset.
        let (severity, code) = match e.kind {
            RuleErrorKind::DuplicateSid => (Severity::Error, "duplicate-sid"),
            RuleErrorKind::Unsupported(_) => (Severity::Warning, "rulesim-unsupported"),
            RuleErrorKind::Limit(_) => (Severity::Warning, "rulesim-limit"),
            _ => (Severity::Error, "load-error"),
        };
        report.findings.push(Finding {
            severity,
            code,
            message: e.message.clone(),
            source: e.origin.clone(),
            line: e.line,
            column: e.column,
            sid: None,
        });
    }
    for e in &set.policy_errors {
        report.findings.push(Finding {
            severity: Severity::Error,
            code: "aws-rule-order",
            message: e.clone(),
            source: set
                .policy
                .as_ref()
                .map_or(String::new(), |p| p.name.clone()),
            line: 0,
            column: 0,
            sid: None,
        });
    }
    for w in &set.warnings {
        report.findings.push(Finding {
            severity: Severity::Warning,
            code: "policy",
            message: w.clone(),
            source: String::new(),
            line: 0,
            column: 0,
            sid: None,
        });
    }
    for rule in &set.rules {
        let in_group = rule.origin.group.is_some() || set.policy.is_some();
        let strict = group_order(set, rule) == RuleOrder::StrictOrder;
        if aws || in_group {
            aws_checks(rule, strict, &mut report);
        }
        never_matches(rule, &mut report);
    }
    // AWS rejects comments inside a RulesString.
    for g in &set.groups {
        if g.kind == "RulesString" {
            for (i, line) in g.rules.lines().enumerate() {
                if line.trim_start().starts_with('#') {
                    report.findings.push(Finding {
                        severity: Severity::Error,
                        code: "aws-comment",
                        message: format!(
                            "rule group `{}`: AWS refuses comments inside a RulesString",
                            g.name
                        ),
                        source: g.name.clone(),
                        line: i + 1,
                        column: 1,
                        sid: None,
                    });
                }
            }
        }
        let estimate = g
            .rules
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .count();
        report.capacities.push(Capacity {
            group: g.name.clone(),
            estimate,
        });
    }
    shadowing(set, vars, &mut report);
    report
}

fn group_order(set: &RuleSet, rule: &Rule) -> RuleOrder {
    if let Some(p) = &set.policy {
        return p.rule_order;
    }
    rule.origin
        .group
        .as_ref()
        .and_then(|name| set.groups.iter().find(|g| &g.name == name))
        .map_or(RuleOrder::DefaultActionOrder, |g| g.rule_order)
}

fn finding(rule: &Rule, severity: Severity, code: &'static str, message: String) -> Finding {
    Finding {
        severity,
        code,
        message,
        source: rule.origin.source.clone(),
        line: rule.origin.line,
        column: 1,
        sid: Some(rule.id()),
    }
}

fn aws_checks(rule: &Rule, strict: bool, report: &mut Report) {
    if matches!(
        rule.action,
        Action::RejectSrc | Action::RejectDst | Action::RejectBoth
    ) {
        report.findings.push(finding(
            rule,
            Severity::Error,
            "aws-unsupported",
            format!(
                "AWS supports the actions pass, drop, reject and alert, not `{}`",
                rule.action.name()
            ),
        ));
    }
    if matches!(rule.protocol.as_str(), "sctp" | "ike") {
        report.findings.push(finding(
            rule,
            Severity::Error,
            "aws-unsupported",
            format!(
                "AWS does not support protocol `{}` in stateful rules",
                rule.protocol
            ),
        ));
    }
    for o in &rule.options {
        let k = o.keyword.to_ascii_lowercase();
        if AWS_UNSUPPORTED_KEYWORDS.contains(&k.as_str()) {
            report.findings.push(finding(
                rule,
                Severity::Error,
                "aws-unsupported",
                format!("AWS does not support keyword `{}`", o.keyword),
            ));
        }
        if k == "xbits" {
            report.findings.push(finding(
                rule,
                Severity::Error,
                "aws-unsupported",
                "AWS does not support `xbits` with `track ip_src|ip_dst|ip_pair`".into(),
            ));
        }
        if k == "tag"
            && o.value
                .as_deref()
                .is_some_and(|v| v.trim_start().starts_with("host"))
        {
            report.findings.push(finding(
                rule,
                Severity::Error,
                "aws-unsupported",
                "AWS does not support `tag:host`".into(),
            ));
        }
        if k == "priority" && strict {
            report.findings.push(finding(
                rule,
                Severity::Error,
                "aws-strict-priority",
                "AWS refuses the `priority` keyword in a strict-order rule group".into(),
            ));
        }
        if k == "pcre"
            && !rule.options.iter().any(|x| {
                matches!(
                    x.keyword.to_ascii_lowercase().as_str(),
                    "content" | "tls.sni" | "http.host" | "dns.query"
                )
            })
        {
            report.findings.push(finding(
                rule,
                Severity::Error,
                "aws-unsupported",
                "AWS allows `pcre` only with `content`, `tls.sni`, `http.host` or `dns.query`"
                    .into(),
            ));
        }
    }
}

/// Rules Suricata loads but that cannot match anything.
fn never_matches(rule: &Rule, report: &mut Report) {
    let portless = matches!(
        rule.protocol.as_str(),
        "icmp" | "icmpv4" | "icmpv6" | "ip" | "ipv4" | "ip4" | "ipv6" | "ip6" | "pkthdr"
    );
    if portless && (rule.src_port != PortExpr::Any || rule.dst_port != PortExpr::Any) {
        report.findings.push(finding(
            rule,
            Severity::Warning,
            "never-matches",
            format!("a `{}` rule with ports other than `any` never matches in Suricata 7 except on TCP/UDP/SCTP packets", rule.protocol),
        ));
    }
}

/// Keywords that do not narrow what a rule matches.
fn only_meta(rule: &Rule) -> bool {
    rule.options.iter().all(|o| {
        matches!(
            o.keyword.to_ascii_lowercase().as_str(),
            "msg"
                | "sid"
                | "rev"
                | "gid"
                | "classtype"
                | "reference"
                | "priority"
                | "metadata"
                | "target"
                | "alert"
                | "noalert"
                | "tag"
        )
    })
}

/// Whether protocol `wide` covers protocol `narrow` (ip covers all; tcp covers TCP app
/// protocols; udp the UDP ones).
fn protocol_covers(wide: &str, narrow: &str) -> bool {
    if wide == narrow || matches!(wide, "ip" | "pkthdr") {
        return true;
    }
    let udp_apps = [
        "dns", "dhcp", "ntp", "tftp", "snmp", "sip", "quic", "ike", "krb5", "nfs",
    ];
    match wide {
        "tcp" => {
            is_app_protocol(narrow) && !udp_apps.contains(&narrow)
                || narrow == "tcp-pkt"
                || narrow == "tcp-stream"
        }
        "udp" => udp_apps.contains(&narrow),
        "icmp" => matches!(narrow, "icmpv4" | "icmpv6"),
        _ => false,
    }
}

/// In strict order, a rule after a header-only pass/drop/reject rule whose addresses,
/// ports and protocol cover its own never decides anything.
fn shadowing(set: &RuleSet, vars: &VarTable, report: &mut Report) {
    let mut ordered: Vec<&Rule> = set
        .rules
        .iter()
        .filter(|r| group_order(set, r) == RuleOrder::StrictOrder)
        .collect();
    ordered.sort_by_key(|r| {
        (
            r.origin.group_priority.unwrap_or(u32::MAX),
            r.origin.source.clone(),
            r.origin.position,
        )
    });
    for (i, later) in ordered.iter().enumerate() {
        if later.action == Action::Alert {
            continue;
        }
        let shadow = ordered[..i].iter().find(|earlier| {
            earlier.action != Action::Alert
                && only_meta(earlier)
                && protocol_covers(&earlier.protocol, &later.protocol)
                && covers(vars, earlier, later)
        });
        if let Some(e) = shadow {
            report.findings.push(finding(
                later,
                Severity::Warning,
                "shadowed",
                format!("never decides: the earlier `{}` rule sid {} ({}:{}) matches everything it matches", e.action.name(), e.id(), e.origin.source, e.origin.line),
            ));
        }
    }
}

fn covers(vars: &VarTable, e: &Rule, l: &Rule) -> bool {
    let sets = |r: &Rule| {
        Some((
            vars.addresses_of(&r.src).ok()?,
            vars.ports_of(&r.src_port).ok()?,
            vars.addresses_of(&r.dst).ok()?,
            vars.ports_of(&r.dst_port).ok()?,
        ))
    };
    let (Some((es, esp, ed, edp)), Some((ls, lsp, ld, ldp))) = (sets(e), sets(l)) else {
        return false;
    };
    let forward = es.covers(&ls) && esp.covers(&lsp) && ed.covers(&ld) && edp.covers(&ldp);
    let reverse =
        e.bidirectional && es.covers(&ld) && esp.covers(&ldp) && ed.covers(&ls) && edp.covers(&lsp);
    // A bidirectional later rule is covered only if both of its directions are.
    if l.bidirectional {
        let back = es.covers(&ld) && esp.covers(&ldp) && ed.covers(&ls) && edp.covers(&lsp);
        return (forward && back) || (e.bidirectional && (forward || reverse));
    }
    forward || reverse
}

impl Report {
    /// Exit code: 0 clean, 1 findings.
    pub fn exit_code(&self) -> i32 {
        i32::from(!self.findings.is_empty())
    }

    /// Human-readable text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let sid = f
                .sid
                .as_ref()
                .map_or(String::new(), |x| format!(" (sid {x})"));
            if f.line > 0 {
                s.push_str(&format!(
                    "{}:{}:{}: {sev}[{}]: {}{sid}\n",
                    f.source, f.line, f.column, f.code, f.message
                ));
            } else {
                s.push_str(&format!("{sev}[{}]: {}\n", f.code, f.message));
            }
        }
        for c in &self.capacities {
            s.push_str(&format!(
                "capacity: rule group `{}` needs about {} unit{}\n",
                c.group,
                c.estimate,
                if c.estimate == 1 { "" } else { "s" }
            ));
        }
        let errors = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        s.push_str(&format!(
            "{} rules loaded, {} failed; {} error(s), {} warning(s)\n",
            self.rules_loaded,
            self.rules_failed,
            errors,
            self.findings.len() - errors
        ));
        s
    }

    /// GitHub Actions workflow commands, one annotation per finding.
    pub fn render_github(&self) -> String {
        let esc = |t: &str| {
            t.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let prop = |t: &str| esc(t).replace(':', "%3A").replace(',', "%2C");
        let mut s = String::new();
        for f in &self.findings {
            let kind = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let file = f.source.split(" (").next().unwrap_or(&f.source);
            s.push_str(&format!(
                "::{kind} file={},line={},col={},title={}::{}\n",
                prop(file),
                f.line.max(1),
                f.column.max(1),
                prop(f.code),
                esc(&f.message)
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rules_text, RuleContext};

    fn lint_text(text: &str, aws: bool) -> Report {
        let ctx = RuleContext::default();
        let (rules, errors) = parse_rules_text(text, "t.rules", &ctx);
        let mut set = RuleSet::default();
        set.extend(rules, errors);
        lint(&set, &ctx.vars, aws)
    }

    fn codes(r: &Report) -> Vec<&'static str> {
        r.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn clean_rules_give_no_findings() {
        let r = lint_text(
            "alert tcp any any -> any 80 (msg:\"x\"; flow:to_server; content:\"GET\"; sid:1;)",
            true,
        );
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.exit_code(), 0);
    }

    #[test]
    fn load_errors_and_aws_restrictions() {
        let r = lint_text(
            "alert tcp any any -> any any (foo; sid:1;)\nalert tcp any any -> any any (threshold:type limit, track by_src, count 1, seconds 60; sid:2;)\nrejectboth tcp any any -> any any (sid:3;)\nalert tcp any any -> any any (pcre:\"/x/\"; sid:4;)",
            true,
        );
        assert_eq!(
            codes(&r),
            vec![
                "load-error",
                "aws-unsupported",
                "aws-unsupported",
                "aws-unsupported"
            ]
        );
        assert_eq!(r.exit_code(), 1);
        let plain = lint_text("alert tcp any any -> any any (threshold:type limit, track by_src, count 1, seconds 60; sid:2;)", false);
        assert!(
            plain.findings.is_empty(),
            "Suricata files are not held to AWS's list unless asked"
        );
    }

    #[test]
    fn ports_on_icmp_never_match() {
        let r = lint_text("alert icmp any 80 -> any any (sid:1;)", false);
        assert_eq!(codes(&r), vec!["never-matches"]);
    }

    #[test]
    fn github_annotations() {
        let r = lint_text("alert tcp any any -> any any (foo; sid:1;)", false);
        let gh = r.render_github();
        assert!(
            gh.starts_with(
                "::error file=t.rules,line=1,col=31,title=load-error::unknown keyword `foo`"
            ),
            "{gh}"
        );
    }
}

#[cfg(test)]
mod shadow_tests {
    use super::*;
    use crate::rules::aws::parse_rule_group;
    use crate::rules::load_sources;

    #[test]
    fn strict_order_shadowing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("g.json");
        let rules = "pass tcp 10.0.0.0/8 any -> any 443 (msg:\"web out\"; sid:1;)\n\
                     drop tls 10.1.0.0/16 any -> any 443 (msg:\"narrower, after\"; sid:2;)\n\
                     drop tcp 10.0.0.0/8 any -> any 443 (flow:to_server; sid:3;)\n\
                     drop udp 10.0.0.0/8 any -> any 443 (sid:4;)\n\
                     alert tcp 10.0.0.0/8 any -> any 443 (sid:5;)";
        let json = serde_json::json!({"RulesSource": {"RulesString": rules}, "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}});
        std::fs::write(&path, json.to_string()).expect("write");
        assert!(parse_rule_group(&json.to_string(), "g.json").is_ok());
        let ctx = crate::rules::RuleContext::default();
        let set = load_sources(&[path], &ctx).expect("loads");
        assert_eq!(
            (set.rules.len(), set.errors.len()),
            (5, 0),
            "{:?}",
            set.errors
        );
        let r = lint(&set, &ctx.vars, false);
        let shadowed: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.code == "shadowed")
            .filter_map(|f| f.sid.as_deref())
            .collect();
        // sid 2 and 3 are covered by the header-only pass sid 1; udp (4) is not; alerts do not decide.
        assert_eq!(shadowed, vec!["2", "3"], "{:?}", r.findings);
        assert_eq!(r.capacities.len(), 1);
        assert_eq!(r.capacities[0].estimate, 5);
    }
}

#[cfg(test)]
mod five_tuple_tests {
    use super::*;
    use crate::rules::load_sources;

    /// A 5-tuple rule's msg must be quoted in its Settings. AWS refuses it unquoted, and
    /// so does Suricata 7.0.10 (`msg:unquoted;` is refused in
    /// `tests/data/suricata-rule-verdicts.txt`), so it is a load error naming the rule.
    #[test]
    fn unquoted_msg_in_a_five_tuple_rule_is_a_load_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("five.json");
        let rule = |sid: &str, msg: &str| {
            serde_json::json!({"Action": "PASS", "Header": {"Protocol": "TCP", "Source": "ANY", "SourcePort": "ANY", "Direction": "FORWARD", "Destination": "ANY", "DestinationPort": "443"},
              "RuleOptions": [{"Keyword": "msg", "Settings": [msg]}, {"Keyword": "sid", "Settings": [sid]}]})
        };
        let json = serde_json::json!({"RulesSource": {"StatefulRules": [rule("1", "\"quoted\""), rule("2", "bare words")]}});
        std::fs::write(&path, json.to_string()).expect("write");
        let ctx = crate::rules::RuleContext::default();
        let set = load_sources(&[path], &ctx).expect("loads");
        let r = lint(&set, &ctx.vars, true);
        let found: Vec<(&str, usize)> = r.findings.iter().map(|f| (f.code, f.line)).collect();
        assert_eq!(found, [("load-error", 2)]);
        assert!(
            r.findings[0].message.contains("must be double quoted"),
            "{:?}",
            r.findings
        );
        assert!(
            r.findings[0].source.contains("StatefulRules"),
            "{:?}",
            r.findings
        );
    }
}
