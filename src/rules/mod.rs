//! The rule language: Suricata rule files (this module), AWS Network Firewall rule groups
//! and policies (`aws`), variables, and the checks that decide whether a rule loads.
//!
//! Loading never stops at a bad rule: every rule either loads or gets a [`RuleError`]
//! naming the file, line and column, and the rest of the file still loads.

pub mod aws;
pub mod byte_options;
pub mod check;
pub mod classification;
pub mod detection;
pub mod error;
pub mod expr;
pub mod header;
pub mod keywords;
pub mod options;
pub mod parse;
pub mod policy;
pub mod rule;
pub mod sets;
pub mod terraform;
pub mod vars;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub use classification::Classifications;
pub use error::{RuleError, RuleErrorKind, RuleSource};
pub use rule::{Action, Rule, RuleOption, RuleOrigin};
pub use vars::VarTable;

/// What a rule needs to be checked against: variables and classtypes.
#[derive(Clone, Debug, Default)]
pub struct RuleContext {
    pub vars: VarTable,
    pub classes: Classifications,
    /// The estimated compiled size all `pcre` patterns loaded with this context (and its
    /// clones) may take together.
    pub pcre_budget: std::sync::Arc<PcreBudget>,
}

/// Default of `detect.rulesim.pcre-memcap`: eight times what Emerging Threats Open's
/// 7,700 patterns are estimated to take (65 MiB).
pub const DEFAULT_PCRE_MEMCAP: u64 = 512 << 20;

/// rulesim's bound on the memory of a ruleset's compiled `pcre` patterns
/// (`detect.rulesim.pcre-memcap`), counted with [`crate::detect::pcre::estimated_size`]
/// in load order: a rule whose patterns no longer fit is refused
/// ([`RuleErrorKind::Limit`]), so a ruleset of any size compiles in bounded time and
/// memory. (The `regex` crate copies counted repetitions out: `x{30000}` is 30,000
/// states, where PCRE2 has one repeated opcode.)
#[derive(Debug)]
pub struct PcreBudget {
    limit: u64,
    used: std::sync::atomic::AtomicU64,
}

impl Default for PcreBudget {
    fn default() -> Self {
        PcreBudget::new(DEFAULT_PCRE_MEMCAP)
    }
}

impl PcreBudget {
    pub fn new(limit: u64) -> PcreBudget {
        PcreBudget {
            limit,
            used: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Estimated bytes taken so far.
    pub fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes `cost` bytes if they fit (callers take in load order, one at a time).
    fn take(&self, cost: u64) -> bool {
        use std::sync::atomic::Ordering;
        if cost == 0 {
            return true;
        }
        let used = self.used.load(Ordering::Relaxed);
        match used.checked_add(cost).filter(|&u| u <= self.limit) {
            Some(u) => {
                self.used.store(u, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// Rules loaded from one or more sources, with the ones that failed.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub errors: Vec<RuleError>,
    /// Sources read (files, rule groups).
    pub sources: usize,
    /// AWS rule groups loaded, in evaluation order.
    pub groups: Vec<aws::AwsRuleGroup>,
    /// The firewall policy, when one was loaded.
    pub policy: Option<policy::FirewallPolicy>,
    /// Things worth knowing that are not errors (a group no policy references, ...).
    pub warnings: Vec<String>,
    /// What makes AWS refuse the policy as a whole (a group in another rule order). A run
    /// stops on them; `lint` reports them.
    pub policy_errors: Vec<String>,
}

/// Suricata-style load summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadSummary {
    pub sources: usize,
    pub loaded: usize,
    pub failed: usize,
    /// Failures by the keyword they name (unsupported or invalid keywords).
    pub failed_by_keyword: BTreeMap<String, usize>,
    /// Failures without a keyword, by kind (syntax, address, duplicate sid, ...).
    pub failed_by_kind: BTreeMap<String, usize>,
}

impl RuleSet {
    pub fn summary(&self) -> LoadSummary {
        let mut s = LoadSummary {
            sources: self.sources,
            loaded: self.rules.len(),
            failed: self.errors.len(),
            ..Default::default()
        };
        for e in &self.errors {
            match &e.kind {
                RuleErrorKind::Unsupported(k) => {
                    *s.failed_by_keyword
                        .entry(format!("{k} (not supported yet)"))
                        .or_insert(0) += 1
                }
                RuleErrorKind::UnknownKeyword(k) => {
                    *s.failed_by_keyword
                        .entry(format!("{k} (unknown)"))
                        .or_insert(0) += 1
                }
                RuleErrorKind::InvalidValue(k) => {
                    *s.failed_by_keyword
                        .entry(format!("{k} (invalid value)"))
                        .or_insert(0) += 1
                }
                RuleErrorKind::Limit(k) => {
                    *s.failed_by_keyword
                        .entry(format!("{k} (over a rulesim limit)"))
                        .or_insert(0) += 1
                }
                other => {
                    *s.failed_by_kind
                        .entry(kind_name(other).to_string())
                        .or_insert(0) += 1
                }
            }
        }
        s
    }

    /// Adds the rules of one source, checking sids against those already loaded
    /// (a repeated gid:sid is an error, as in Suricata; the first rule stays). An AWS
    /// rule group is a scope of its own: AWS requires a sid to be unique within its rule
    /// group only, so two groups (two domain lists, both numbered from sid 1) may use the
    /// same sids, and neither collides with plain rule files.
    pub fn extend(&mut self, rules: Vec<Rule>, errors: Vec<RuleError>) {
        let scope = |r: &Rule| (r.origin.group.clone(), r.gid, r.sid);
        let mut seen: HashMap<(Option<String>, u32, u32), usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (scope(r), i))
            .collect();
        self.sources += 1;
        self.errors.extend(errors);
        for rule in rules {
            if let Some(&first) = seen.get(&scope(&rule)) {
                // Suricata keeps the higher revision: a newer rev replaces the older rule.
                if rule.rev > self.rules[first].rev {
                    let old = &self.rules[first].origin;
                    self.warnings.push(format!(
                        "{}:{}: sid {} rev {} replaces the older revision at {}:{}",
                        rule.origin.source,
                        rule.origin.line,
                        rule.id(),
                        rule.rev,
                        old.source,
                        old.line
                    ));
                    self.rules[first] = rule;
                    continue;
                }
                let prior = &self.rules[first].origin;
                let src =
                    RuleSource::single(&rule.origin.source, rule.origin.line, &rule.to_string());
                let sid_at = rule.to_string().find("sid:").unwrap_or(0);
                self.errors.push(src.error(
                    RuleErrorKind::DuplicateSid,
                    sid_at,
                    4,
                    format!(
                        "duplicate signature id {}: already used at {}:{}",
                        rule.id(),
                        prior.source,
                        prior.line
                    ),
                    Some("a gid:sid pair may be used once".into()),
                ));
                continue;
            }
            seen.insert(scope(&rule), self.rules.len());
            self.rules.push(rule);
        }
    }
}

fn kind_name(k: &RuleErrorKind) -> &'static str {
    match k {
        RuleErrorKind::Syntax => "syntax",
        RuleErrorKind::UnknownAction => "unknown action",
        RuleErrorKind::UnknownProtocol => "unknown protocol",
        RuleErrorKind::UnknownKeyword(_) => "unknown keyword",
        RuleErrorKind::Unsupported(_) => "unsupported keyword",
        RuleErrorKind::InvalidValue(_) => "invalid value",
        RuleErrorKind::Address => "address or port",
        RuleErrorKind::Invalid => "invalid rule",
        RuleErrorKind::DuplicateSid => "duplicate sid",
        RuleErrorKind::Limit(_) => "rulesim limit",
    }
}

/// Splits rule-file text into rules: blank lines and `#` comments are skipped, a line
/// ending in `\` continues on the next. Returns each rule's joined text and its source
/// map.
pub fn split_rules(text: &str, origin: &str) -> Vec<(String, RuleSource)> {
    let mut out = Vec::new();
    let mut current: Option<(String, RuleSource)> = None;
    for (i, raw_line) in text.split('\n').enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let line_no = i + 1;
        // Suricata skips a line whose first byte is blank, `#`, CR or LF (so an indented
        // rule is ignored, as a comment is), unless it continues the previous line.
        if current.is_none() && (line.is_empty() || line.starts_with([' ', '\t', '#', '\r'])) {
            continue;
        }
        let (body, continues) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let (joined, source) =
            current.get_or_insert_with(|| (String::new(), RuleSource::new(origin)));
        source.push_segment(joined.len(), line_no, line, 0);
        joined.push_str(body);
        if !continues {
            if let Some(done) = current.take() {
                out.push(done);
            }
        }
    }
    if let Some(done) = current.take() {
        out.push(done);
    }
    out
}

/// Parses and checks the rules in `text`. `origin` names the source in errors.
pub fn parse_rules_text(
    text: &str,
    origin: &str,
    ctx: &RuleContext,
) -> (Vec<Rule>, Vec<RuleError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    let texts = split_rules(text, origin);
    // The patterns' estimated sizes first, then the budget taken in load order, so that
    // which rules fit does not depend on the threads; only the rules that fit compile
    // their patterns.
    let costs = par_map(&texts, |(t, _)| check::pcre_cost(t));
    let fits: Vec<bool> = costs.iter().map(|&c| ctx.pcre_budget.take(c)).collect();
    let jobs: Vec<(&(String, RuleSource), bool)> = texts.iter().zip(fits).collect();
    let results = par_map(&jobs, |((t, src), fits)| {
        check::compile_within(t, src, ctx, *fits)
    });
    for (position, ((_, source), result)) in texts.iter().zip(results).enumerate() {
        match result {
            Ok(mut rule) => {
                rule.origin = RuleOrigin {
                    source: origin.to_string(),
                    line: source.first_line(),
                    position,
                    ..RuleOrigin::default()
                };
                rules.push(rule);
            }
            Err(e) => errors.push(*e),
        }
    }
    (rules, errors)
}

/// `f` over `items` on every core (a large file's rules are independent), results in
/// the items' order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Small files are not worth a thread.
    if threads < 2 || items.len() < 512 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for w in workers {
            match w.join() {
                Ok(part) => out.extend(part),
                // A panic in a check is a bug; resume it as the sequential code would.
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        out
    })
}

/// Parses one rule text (no comments or continuation lines).
pub fn parse_rule(text: &str, ctx: &RuleContext) -> Result<Rule, Box<RuleError>> {
    let source = RuleSource::single("<rule>", 1, text);
    check::compile(text, &source, ctx)
}

/// Loads Suricata rule files into one set.
pub fn load_rule_files(paths: &[PathBuf], ctx: &RuleContext) -> std::io::Result<RuleSet> {
    let mut set = RuleSet::default();
    for path in paths {
        let text = read_text(path)?;
        let (rules, errors) = parse_rules_text(&text, &path.display().to_string(), ctx);
        set.extend(rules, errors);
    }
    Ok(set)
}

/// A rule source that could not be read at all (unreadable file, invalid JSON).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Aws(#[from] aws::AwsError),
    #[error("{0}")]
    Policy(String),
}

/// Loads rule sources: Suricata rule files (`.rules` and anything not `.json`) and AWS
/// rule groups (`.json`), each group with its own variables.
pub fn load_sources(paths: &[PathBuf], ctx: &RuleContext) -> Result<RuleSet, SourceError> {
    let mut set = RuleSet::default();
    for path in paths {
        let text = read_text(path)?;
        let origin = path.display().to_string();
        if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            for group in aws::parse_rule_groups(&text, &origin)? {
                set.add_group(group, &origin, ctx, None, false);
            }
        } else {
            let (rules, errors) = parse_rules_text(&text, &origin, ctx);
            set.extend(rules, errors);
        }
    }
    Ok(set)
}

impl RuleSet {
    /// Parses a rule group's rules with its variables and adds them.
    fn add_group(
        &mut self,
        group: aws::AwsRuleGroup,
        origin: &str,
        ctx: &RuleContext,
        priority: Option<u32>,
        drop_to_alert: bool,
    ) {
        let group_ctx = RuleContext {
            vars: group.vars(&ctx.vars),
            classes: ctx.classes.clone(),
            pcre_budget: ctx.pcre_budget.clone(),
        };
        let label = format!("{origin} ({}, {})", group.name, group.kind);
        let (mut rules, errors) = parse_rules_text(&group.rules, &label, &group_ctx);
        for r in &mut rules {
            r.origin.group = Some(group.name.clone());
            r.origin.group_priority = priority;
            if drop_to_alert && r.action == Action::Drop {
                // Override DROP_TO_ALERT: the group's drop rules only alert.
                r.action = Action::Alert;
            }
        }
        self.extend(rules, errors);
        self.groups.push(group);
    }
}

/// Loads a firewall policy and the rule groups it references (from `group_paths`, matched
/// by ARN or name), in the policy's order, with the policy's `HOME_NET`; then the Suricata
/// rule files of `rule_paths` after them.
pub fn load_policy(
    policy_path: &Path,
    group_paths: &[PathBuf],
    rule_paths: &[PathBuf],
    ctx: &RuleContext,
) -> Result<RuleSet, SourceError> {
    let origin = policy_path.display().to_string();
    let policy_text = read_text(policy_path)?;
    let policy = policy::parse_policy(&policy_text, &origin)?;
    let mut base = ctx.clone();
    if let Some(home) = &policy.home_net {
        base.vars.addresses.insert("HOME_NET".into(), home.clone());
    }
    let mut groups = Vec::new();
    // A Terraform document may hold the policy and its rule groups together.
    let groups_beside_policy = serde_json::from_str::<serde_json::Value>(&policy_text)
        .ok()
        .and_then(|v| terraform::resources(&v, terraform::RULE_GROUP))
        .is_some_and(|l| !l.is_empty());
    if groups_beside_policy {
        for g in aws::parse_rule_groups(&policy_text, &origin)? {
            groups.push((g, origin.clone()));
        }
    }
    for p in group_paths {
        let o = p.display().to_string();
        for g in aws::parse_rule_groups(&read_text(p)?, &o)? {
            groups.push((g, o.clone()));
        }
    }
    let only_groups: Vec<aws::AwsRuleGroup> = groups.iter().map(|(g, _)| g.clone()).collect();
    let order = policy.resolve(&only_groups).map_err(SourceError::Policy)?;
    let mut set = RuleSet {
        policy_errors: policy.rule_order_conflicts(&only_groups),
        ..RuleSet::default()
    };
    for (reference, group) in &order {
        let file = groups
            .iter()
            .find(|(g, _)| g == *group)
            .map_or(String::new(), |(_, o)| o.clone());
        set.add_group(
            (*group).clone(),
            &file,
            &base,
            reference.priority,
            reference.drop_to_alert,
        );
    }
    for (g, o) in &groups {
        if !order.iter().any(|(_, used)| *used == g) {
            set.warnings.push(format!(
                "{o}: rule group `{}` is not referenced by policy `{}` and is not loaded",
                g.name, policy.name
            ));
        }
    }
    for path in rule_paths {
        let text = read_text(path)?;
        let (rules, errors) = parse_rules_text(&text, &path.display().to_string(), &base);
        set.extend(rules, errors);
    }
    set.policy = Some(policy);
    Ok(set)
}

/// Rule sources named on the command line: files as given, directories to their
/// `.rules` and `.json` files in name order.
pub fn source_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file() && f.extension().is_some_and(|x| x == "rules" || x == "json")
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn read_text(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    // Rule files are UTF-8 in practice; stray bytes must not stop the load.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests;
