//! `rulesim test`: expectations about flows, in network terms, checked against a run.
//! The file format (TOML) is described in `docs/expectations.md` and
//! `schemas/expectations.schema.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::select::{FlowSelector, Selector, SelectorError};
use crate::trace::{Decision, FlowRecord, FlowVerdict};

/// A sid, a `gid:sid`, or an inclusive range `"2000000-2999999"`; `"*"` is every sid.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SidSpec {
    One(u32),
    Text(String),
}

/// What decided the flows: a sid, `"default"` (any policy default action), a default
/// action by name (`"aws:drop_established"`), `"exception"`, or `"none"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DecidedBy {
    Sid(u32),
    Text(String),
}

/// Bounds on the number of alerts of some sids over all selected flows.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertCount {
    pub sids: Vec<SidSpec>,
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// One expectation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Shown in reports; defaults to `expect[N]`.
    pub name: Option<String>,
    /// The flows it is about (all flows when absent).
    #[serde(default)]
    pub flow: FlowSelector,
    /// Every selected flow is `allowed` or `blocked`.
    pub verdict: Option<String>,
    /// Every selected flow was decided by this.
    pub decided_by: Option<DecidedBy>,
    /// Every selected flow alerted with each of these sids.
    #[serde(default)]
    pub alerts: Vec<SidSpec>,
    /// No selected flow alerted with any of these sids (`"*"`: no alert at all).
    #[serde(default)]
    pub no_alerts: Vec<SidSpec>,
    /// Bounds on alert counts over the selected flows.
    pub alert_count: Option<AlertCount>,
    /// How many flows the selector must find: at least 1 unless given.
    pub flows: Option<FlowCount>,
}

/// The number of selected flows: exact, or bounds.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FlowCount {
    Exactly(u64),
    Bounds { min: Option<u64>, max: Option<u64> },
}

/// An expectations file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationFile {
    /// Capture files or directories (relative to the expectations file).
    #[serde(default)]
    pub captures: Vec<PathBuf>,
    /// Rule files, rule-group JSON files, or directories (as `-S`).
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    #[serde(default)]
    pub rule_groups: Vec<PathBuf>,
    pub policy: Option<PathBuf>,
    pub ip_set_references: Option<PathBuf>,
    /// A Suricata YAML configuration.
    pub config: Option<PathBuf>,
    /// `ids` (as `suricata -r`, the default), `ips` (as `--simulate-ips`) or `aws` (as
    /// `--aws`: inline, strict order unless the policy says otherwise).
    pub mode: Option<String>,
    pub home_net: Option<String>,
    /// `--set` values.
    #[serde(default)]
    pub set: Vec<String>,
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// An expectations file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExpectationError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: expect[{index}] ({name}): {message}")]
    Invalid {
        path: String,
        index: usize,
        name: String,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// A sid set: single sids (any gid or the given one) and ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SidSet(Vec<(Option<u32>, u32, u32)>);

impl SidSet {
    fn parse(specs: &[SidSpec]) -> Result<SidSet, String> {
        let mut out = Vec::new();
        for s in specs {
            match s {
                SidSpec::One(n) => out.push((None, *n, *n)),
                SidSpec::Text(t) => {
                    let t = t.trim();
                    if t == "*" || t.eq_ignore_ascii_case("any") {
                        out.push((None, 0, u32::MAX));
                        continue;
                    }
                    let bad = || format!("not a sid, gid:sid or sid range: {t:?}");
                    let (gid, rest) = match t.split_once(':') {
                        Some((g, r)) => (Some(g.trim().parse::<u32>().map_err(|_| bad())?), r),
                        None => (None, t),
                    };
                    let (a, b) = rest.split_once('-').unwrap_or((rest, rest));
                    let a: u32 = a.trim().parse().map_err(|_| bad())?;
                    let b: u32 = b.trim().parse().map_err(|_| bad())?;
                    if a > b {
                        return Err(bad());
                    }
                    out.push((gid, a, b));
                }
            }
        }
        Ok(SidSet(out))
    }

    fn contains(&self, gid: u32, sid: u32) -> bool {
        self.0
            .iter()
            .any(|&(g, a, b)| g.is_none_or(|g| g == gid) && (a..=b).contains(&sid))
    }
}

fn spec_text(specs: &[SidSpec]) -> String {
    specs
        .iter()
        .map(|s| match s {
            SidSpec::One(n) => n.to_string(),
            SidSpec::Text(t) => t.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One expectation, ready to check.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    selector: Selector,
    verdict: Option<FlowVerdict>,
    decided_by: Option<DecidedBy>,
    alerts: Vec<(SidSet, String)>,
    no_alerts: Option<(SidSet, String)>,
    alert_count: Option<(SidSet, String, Option<u64>, Option<u64>)>,
    flows: (u64, Option<u64>),
}

/// The expectations file, parsed and checked, its paths resolved.
#[derive(Clone, Debug)]
pub struct Plan {
    pub file: ExpectationFile,
    pub checks: Vec<Check>,
    pub ips: bool,
    /// `mode = "aws"` (`ips` is then true too).
    pub aws: bool,
}

impl ExpectationFile {
    /// Reads and validates an expectations file; relative paths are taken from its
    /// directory.
    pub fn load(path: &Path) -> Result<Plan, ExpectationError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExpectationError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates the text of an expectations file read from `path` (which
    /// names it in errors and anchors its relative paths; it is not read).
    pub fn parse(text: &str, path: &Path) -> Result<Plan, ExpectationError> {
        let shown = path.display().to_string();
        let mut file: ExpectationFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            ExpectationError::Syntax {
                path: shown.clone(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        file.captures.iter_mut().for_each(rebase);
        file.rules.iter_mut().for_each(rebase);
        file.rule_groups.iter_mut().for_each(rebase);
        for p in [
            &mut file.policy,
            &mut file.ip_set_references,
            &mut file.config,
        ]
        .into_iter()
        .flatten()
        {
            rebase(p);
        }
        let (ips, aws) = match file.mode.as_deref() {
            None | Some("ids") => (false, false),
            Some("ips") => (true, false),
            Some("aws") => (true, true),
            Some(other) => {
                return Err(ExpectationError::File {
                    path: shown,
                    message: format!("mode: {other:?} is not \"ids\", \"ips\" or \"aws\""),
                })
            }
        };
        if file.captures.is_empty() {
            return Err(ExpectationError::File {
                path: shown,
                message: "no captures: give `captures = [\"...\"]`".into(),
            });
        }
        if file.expect.is_empty() {
            return Err(ExpectationError::File {
                path: shown,
                message: "no expectations: add [[expect]] tables".into(),
            });
        }
        let mut checks = Vec::new();
        for (i, e) in file.expect.iter().enumerate() {
            let name = e.name.clone().unwrap_or_else(|| format!("expect[{i}]"));
            let invalid = |message: String| ExpectationError::Invalid {
                path: shown.clone(),
                index: i,
                name: name.clone(),
                message,
            };
            checks.push(Check::new(e, name.clone()).map_err(invalid)?);
        }
        Ok(Plan {
            file,
            checks,
            ips,
            aws,
        })
    }
}

impl Check {
    fn new(e: &Expectation, name: String) -> Result<Check, String> {
        let selector = e
            .flow
            .compile()
            .map_err(|err: SelectorError| err.to_string())?;
        let verdict = match e.verdict.as_deref() {
            None => None,
            Some("allowed" | "allow" | "pass") => Some(FlowVerdict::Allowed),
            Some("blocked" | "block" | "drop" | "dropped") => Some(FlowVerdict::Blocked),
            Some(v) => return Err(format!("verdict: {v:?} is not \"allowed\" or \"blocked\"")),
        };
        if let Some(DecidedBy::Text(t)) = &e.decided_by {
            let ok = matches!(t.as_str(), "default" | "exception" | "none")
                || t.starts_with("aws:")
                || t.parse::<u32>().is_ok();
            if !ok {
                return Err(format!(
                    "decided_by: {t:?} is not a sid, \"default\", \"aws:<default action>\", \"exception\" or \"none\""
                ));
            }
        }
        let alerts = e
            .alerts
            .iter()
            .map(|s| {
                Ok((
                    SidSet::parse(std::slice::from_ref(s))?,
                    spec_text(std::slice::from_ref(s)),
                ))
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|m| format!("alerts: {m}"))?;
        let no_alerts = if e.no_alerts.is_empty() {
            None
        } else {
            Some((
                SidSet::parse(&e.no_alerts).map_err(|m| format!("no_alerts: {m}"))?,
                spec_text(&e.no_alerts),
            ))
        };
        let alert_count = match &e.alert_count {
            None => None,
            Some(c) => {
                if c.min.is_none() && c.max.is_none() {
                    return Err("alert_count: give min, max or both".into());
                }
                Some((
                    SidSet::parse(&c.sids).map_err(|m| format!("alert_count: {m}"))?,
                    spec_text(&c.sids),
                    c.min,
                    c.max,
                ))
            }
        };
        let flows = match &e.flows {
            None => (1, None),
            Some(FlowCount::Exactly(n)) => (*n, Some(*n)),
            Some(FlowCount::Bounds { min, max }) => (min.unwrap_or(0), *max),
        };
        if verdict.is_none()
            && e.decided_by.is_none()
            && alerts.is_empty()
            && no_alerts.is_none()
            && alert_count.is_none()
            && e.flows.is_none()
        {
            return Err(
                "expects nothing: give verdict, decided_by, alerts, no_alerts, alert_count or flows"
                    .into(),
            );
        }
        Ok(Check {
            name,
            selector,
            verdict,
            decided_by: e.decided_by.clone(),
            alerts,
            no_alerts,
            alert_count,
            flows,
        })
    }

    fn decided_ok(&self, f: &FlowRecord) -> Option<String> {
        let want = self.decided_by.as_ref()?;
        let ok = match (want, &f.decided_by) {
            (DecidedBy::Sid(s), Some(Decision::Rule { rule, .. })) => rule.sid == *s,
            (DecidedBy::Text(t), d) => match (t.as_str(), d) {
                ("none", None) => true,
                ("default", Some(Decision::DefaultAction { .. })) => true,
                ("exception", Some(Decision::ExceptionPolicy { .. })) => true,
                (name, Some(Decision::DefaultAction { action, .. })) => name == *action,
                (sid, Some(Decision::Rule { rule, .. })) => {
                    sid.parse::<u32>().is_ok_and(|s| s == rule.sid)
                }
                _ => false,
            },
            _ => false,
        };
        if ok {
            return None;
        }
        let wanted = match want {
            DecidedBy::Sid(s) => format!("sid {s}"),
            DecidedBy::Text(t) => t.clone(),
        };
        Some(format!(
            "expected decided by {wanted}, was {}",
            super::explain::verdict_line(f)
        ))
    }

    /// Checks the expectation against a run's flow records.
    pub fn check(&self, records: &[FlowRecord]) -> CheckResult {
        let selected: Vec<&FlowRecord> = records
            .iter()
            .filter(|f| self.selector.matches(f))
            .collect();
        let mut failures = Vec::new();
        let n = selected.len() as u64;
        let (min, max) = self.flows;
        if n < min || max.is_some_and(|m| n > m) {
            let want = match max {
                Some(m) if m == min => format!("{m}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            failures.push(Failure {
                flow: None,
                message: format!(
                    "expected {want} flow(s) matching {}, found {n}",
                    self.selector.describe()
                ),
                explanation: None,
            });
        }
        for f in &selected {
            let mut problems = Vec::new();
            if let Some(v) = self.verdict {
                if f.verdict != v {
                    problems.push(format!(
                        "expected {}, was {}",
                        v.name(),
                        super::explain::verdict_line(f)
                    ));
                }
            }
            if let Some(p) = self.decided_ok(f) {
                problems.push(p);
            }
            let alerted = f.alerted_sids();
            for (set, text) in &self.alerts {
                if !alerted.iter().any(|&(g, s)| set.contains(g, s)) {
                    problems.push(format!(
                        "expected an alert of sid {text}, alerts were: {}",
                        sid_list(&alerted)
                    ));
                }
            }
            if let Some((set, text)) = &self.no_alerts {
                let bad: Vec<(u32, u32)> = alerted
                    .iter()
                    .copied()
                    .filter(|&(g, s)| set.contains(g, s))
                    .collect();
                if !bad.is_empty() {
                    problems.push(format!(
                        "expected no alert of sid {text}, got {}",
                        sid_list(&bad)
                    ));
                }
            }
            if !problems.is_empty() {
                failures.push(Failure {
                    flow: Some(f.label()),
                    message: problems.join("; "),
                    explanation: Some(super::explain::render(f)),
                });
            }
        }
        if let Some((set, text, lo, hi)) = &self.alert_count {
            let total: u64 = selected
                .iter()
                .flat_map(|f| f.matches.iter())
                .filter(|e| e.alerted && set.contains(e.rule.gid, e.rule.sid))
                .count() as u64;
            if lo.is_some_and(|l| total < l) || hi.is_some_and(|h| total > h) {
                let bound = match (lo, hi) {
                    (Some(l), Some(h)) => format!("{l} to {h}"),
                    (Some(l), None) => format!("at least {l}"),
                    (None, Some(h)) => format!("at most {h}"),
                    (None, None) => String::new(),
                };
                failures.push(Failure {
                    flow: None,
                    message: format!(
                        "expected {bound} alert(s) of sid {text} over {n} flow(s), got {total}"
                    ),
                    explanation: None,
                });
            }
        }
        CheckResult {
            name: self.name.clone(),
            selector: self.selector.describe().to_string(),
            flows: n,
            passed: failures.is_empty(),
            failures,
        }
    }
}

fn sid_list(sids: &[(u32, u32)]) -> String {
    if sids.is_empty() {
        return "none".into();
    }
    sids.iter()
        .map(|&(g, s)| {
            if g == 1 {
                s.to_string()
            } else {
                format!("{g}:{s}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One way an expectation failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The flow it failed on (none for counts over all selected flows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    pub message: String,
    /// What happened instead, as `explain` shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub selector: String,
    /// Flows the selector found.
    pub flows: u64,
    pub passed: bool,
    pub failures: Vec<Failure>,
}

/// All results of a `test` run.
#[derive(Clone, Debug, Serialize)]
pub struct TestReport {
    pub file: String,
    pub passed: usize,
    pub failed: usize,
    pub results: Vec<CheckResult>,
}

impl TestReport {
    pub fn new(file: String, results: Vec<CheckResult>) -> TestReport {
        let passed = results.iter().filter(|r| r.passed).count();
        TestReport {
            file,
            passed,
            failed: results.len() - passed,
            results,
        }
    }

    pub fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        for r in &self.results {
            let flows = if r.flows == 1 { "flow" } else { "flows" };
            out.push_str(&format!(
                "{} {} ({} {flows}: {})\n",
                if r.passed { "PASS" } else { "FAIL" },
                r.name,
                r.flows,
                r.selector
            ));
            for f in &r.failures {
                match &f.flow {
                    Some(flow) => out.push_str(&format!("  flow {flow}\n    {}\n", f.message)),
                    None => out.push_str(&format!("  {}\n", f.message)),
                }
                if verbose {
                    if let Some(e) = &f.explanation {
                        for line in e.lines() {
                            out.push_str(&format!("    | {line}\n"));
                        }
                    }
                }
            }
        }
        out.push_str(&format!(
            "{} expectation(s): {} passed, {} failed\n",
            self.results.len(),
            self.passed,
            self.failed
        ));
        out
    }

    /// JUnit XML, as GitLab's and GitHub's test reporters read it.
    pub fn junit(&self, elapsed_secs: f64) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites name=\"rulesim\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{elapsed_secs:.3}\">\n",
            self.results.len(),
            self.failed
        ));
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{elapsed_secs:.3}\">\n",
            xml_escape(&self.file),
            self.results.len(),
            self.failed
        ));
        for r in &self.results {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml_escape(&self.file),
                xml_escape(&r.name)
            ));
            if r.passed {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let message = r
                .failures
                .first()
                .map_or(String::new(), |f| f.message.clone());
            let mut body = String::new();
            for f in &r.failures {
                if let Some(flow) = &f.flow {
                    body.push_str(&format!("flow {flow}\n"));
                }
                body.push_str(&format!("{}\n", f.message));
                if let Some(e) = &f.explanation {
                    body.push_str(e);
                }
                body.push('\n');
            }
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"expectation\">{}</failure>\n",
                xml_escape(&message),
                xml_escape(&body)
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

/// Escapes text for XML attributes and content; characters XML 1.0 cannot hold become
/// U+FFFD.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_sets() {
        let set = SidSet::parse(&[
            SidSpec::One(5),
            SidSpec::Text("2000000-2999999".into()),
            SidSpec::Text("3:7".into()),
        ])
        .unwrap();
        assert!(set.contains(1, 5));
        assert!(set.contains(1, 2_500_000));
        assert!(!set.contains(1, 3_000_000));
        assert!(set.contains(3, 7));
        assert!(!set.contains(1, 7));
        assert!(SidSet::parse(&[SidSpec::Text("9-1".into())]).is_err());
        assert!(SidSet::parse(&[SidSpec::Text("x".into())]).is_err());
        assert!(SidSet::parse(&[SidSpec::Text("*".into())])
            .unwrap()
            .contains(9, 1));
    }

    /// `mode`: `ids` (the default), `ips`, or `aws` (inline too); anything else is refused.
    #[test]
    fn modes_set_the_timing_and_aws_behaviour() {
        let plan = |mode: &str| {
            let text = format!(
                "captures = [\"c.pcap\"]\nrules = [\"r.rules\"]\n{mode}\n[[expect]]\nflow = {{ dst_port = 443 }}\nverdict = \"allowed\"\n"
            );
            ExpectationFile::parse(&text, Path::new("e.toml"))
        };
        let p = plan("").expect("no mode");
        assert!(!p.ips && !p.aws);
        let p = plan("mode = \"ips\"").expect("ips");
        assert!(p.ips && !p.aws);
        let p = plan("mode = \"aws\"").expect("aws");
        assert!(p.ips && p.aws);
        let e = plan("mode = \"inline\"").expect_err("unknown mode");
        assert!(e.to_string().contains("\"aws\""), "{e}");
    }

    /// Every key the shipped JSON Schema documents is one the parser takes, and a key it
    /// does not know is refused.
    #[test]
    fn the_json_schema_names_only_keys_the_parser_accepts() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/expectations.schema.json"))
                .expect("schema is JSON");
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v["properties"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let sample = |key: &str| -> &'static str {
            match key {
                "src_port" | "sport" | "dst_port" | "dport" | "dest_port" | "flow_id" => "1",
                "src" | "src_ip" | "dst" | "dest" | "dest_ip" => "\"10.0.0.0/8\"",
                "proto" => "\"tcp\"",
                _ => "\"x\"",
            }
        };
        let selector = &schema["$defs"]["selector"];
        let selector_keys = keys(selector);
        assert!(selector_keys.len() >= 12);
        for k in &selector_keys {
            let text = format!("verdict = \"blocked\"\n[flow]\n{k} = {}\n", sample(k));
            let e: Result<Expectation, _> = toml::from_str(&text);
            assert!(e.is_ok(), "selector key {k}: {e:?}");
        }
        let values = [
            ("name", "\"n\""),
            ("flow", "{}"),
            ("verdict", "\"blocked\""),
            ("decided_by", "5"),
            ("alerts", "[1, \"2-3\"]"),
            ("no_alerts", "[\"*\"]"),
            ("alert_count", "{ sids = [1], max = 2 }"),
            ("flows", "{ min = 1 }"),
        ];
        let expectation_keys = keys(&schema["$defs"]["expectation"]);
        assert_eq!(expectation_keys.len(), values.len());
        for k in &expectation_keys {
            let v = values.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
            let v = v.unwrap_or_else(|| panic!("schema key {k} has no sample here"));
            let text = format!("{k} = {v}\n");
            let e: Result<Expectation, _> = toml::from_str(&text);
            assert!(e.is_ok(), "expectation key {k}: {e:?}");
        }
        let top: Vec<String> = keys(&schema);
        for k in &top {
            let v = match k.as_str() {
                "captures" | "rules" | "rule_groups" | "set" => "[]",
                "expect" => "[]",
                _ => "\"x\"",
            };
            let f: Result<ExpectationFile, _> = toml::from_str(&format!("{k} = {v}\n"));
            assert!(f.is_ok(), "top-level key {k}: {f:?}");
        }
        assert!(toml::from_str::<Expectation>("verdikt = \"blocked\"\n").is_err());
        assert!(toml::from_str::<ExpectationFile>("capture = []\n").is_err());
    }

    #[test]
    fn xml_escaping() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{fffd}"
        );
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
