//! The job subcommands: `test`, `diff`, `explain`.

use std::path::{Path, PathBuf};

use clap::Parser;

use super::{
    base_settings, load_rules, parse_subcommand, progress_wanted, Progress, Verbosity, EXIT_ERROR,
    EXIT_OK,
};
use crate::capture::expand_inputs;
use crate::config::Settings;
use crate::jobs::diff::ChangeKind;
use crate::jobs::expect::{ExpectationFile, TestReport};
use crate::jobs::select::{FlowSelector, PortSpec};
use crate::jobs::{evaluate, Evaluation};
use crate::output::EventOutput;
use crate::rules::RuleSet;
use crate::trace::FlowRecord;

/// Exit code: an expectation failed / a gated change was found / nothing was selected.
const EXIT_FAILED: i32 = 1;

pub(super) fn report_error(e: impl std::fmt::Display) -> i32 {
    eprintln!("rulesim: error: {e}");
    EXIT_ERROR
}

pub(super) fn captures(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let files = expand_inputs(inputs).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!(
            "no capture files found in {}",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(files)
}

/// Loads rules; policy errors are fatal, and so are rules that fail to load unless
/// `allow_errors` (then they are reported, and not evaluated, as Suricata runs without
/// them).
pub(super) fn rules(
    sources: &[PathBuf],
    groups: &[PathBuf],
    policy: Option<&Path>,
    settings: &Settings,
    quiet: bool,
    allow_errors: bool,
) -> Result<RuleSet, String> {
    if sources.is_empty() && groups.is_empty() && policy.is_none() {
        return Err("give rule sources (-S, --rule-group or --policy)".into());
    }
    let verbosity = if quiet || !allow_errors {
        Verbosity::Quiet
    } else {
        Verbosity::Normal
    };
    let set = load_rules(sources, groups, policy, settings, verbosity, false)?;
    if !set.policy_errors.is_empty() {
        return Err(set.policy_errors.join("\n"));
    }
    if !allow_errors && !set.errors.is_empty() {
        let shown: Vec<String> = set.errors.iter().take(20).map(|e| e.to_string()).collect();
        let more = set.errors.len().saturating_sub(shown.len());
        return Err(format!(
            "{} rule(s) failed to load (--allow-rule-errors runs without them):\n{}{}",
            set.errors.len(),
            shown.join("\n"),
            if more > 0 {
                format!("\n... and {more} more")
            } else {
                String::new()
            }
        ));
    }
    Ok(set)
}

/// Replays with decision records; capture problems that end a file are errors.
pub(super) fn replay(
    settings: &Settings,
    files: &[PathBuf],
    ruleset: RuleSet,
    log_dir: Option<&Path>,
    quiet: bool,
    threads: usize,
) -> Result<Evaluation, String> {
    let output = match log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            EventOutput::create(dir, None).map_err(|e| e.to_string())?
        }
        None => EventOutput::discard(),
    };
    let mut progress = Progress::new(files, progress_wanted(quiet));
    let eval = evaluate(settings, files, ruleset, output, threads, |e, f, o| {
        progress.tick(e, f, o)
    })
    .map_err(|e| e.to_string())?;
    progress.finish();
    let mut fatal = Vec::new();
    for p in &eval.problems {
        if p.is_warning {
            if !quiet {
                eprintln!("rulesim: warning: {}", p.error);
            }
        } else {
            fatal.push(p.error.to_string());
        }
    }
    if !quiet {
        for e in &eval.compile_errors {
            eprintln!("rulesim: warning: rule not evaluated: {e}");
        }
    }
    if !fatal.is_empty() {
        return Err(fatal.join("\n"));
    }
    Ok(eval)
}

/// `rulesim test`.
#[derive(Parser, Debug)]
#[command(
    name = "rulesim test",
    about = "Check expectations about flows (blocked, allowed, alerted by sid, decided by a default action) against a replay: a CI check for rule changes",
    after_help = "The expectations file (TOML) names the captures, the rules or policy and the mode, \
then [[expect]] tables; see docs/expectations.md and schemas/expectations.schema.json.\n\n\
Examples:\n  rulesim test tests/expectations.toml\n  rulesim test ci/firewall.toml --junit report.xml\n  rulesim test ci/firewall.toml --format json > results.json\n\n\
Exit codes: 0 all expectations hold, 1 some failed, 2 the expectations, rules or captures could not be read."
)]
struct TestArgs {
    /// The expectations file (TOML).
    #[arg(value_name = "EXPECTATIONS")]
    file: PathBuf,
    /// Also write JUnit XML (GitLab and GitHub test reports read it).
    #[arg(long = "junit", value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Output: text (default) or json.
    #[arg(long = "format", value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Write the run's eve.json and stats.json here as well.
    #[arg(short = 'l', long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// Show each failing flow's full explanation.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Only the summary line and failures.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Run without the rules that fail to load (as Suricata does) instead of failing.
    #[arg(long = "allow-rule-errors")]
    allow_rule_errors: bool,
    /// Worker threads the flows are spread over (default: one per core); the results
    /// are the same whatever the number.
    #[arg(long = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

pub fn test_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: TestArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match test_run(&args) {
        Ok(code) => code,
        Err(e) => report_error(e),
    }
}

fn test_run(args: &TestArgs) -> Result<i32, String> {
    let started = std::time::Instant::now();
    let plan = ExpectationFile::load(&args.file).map_err(|e| e.to_string())?;
    let f = &plan.file;
    let settings = base_settings(
        f.config.as_deref(),
        &f.set,
        f.home_net.as_deref(),
        super::Timing {
            ips: plan.ips,
            aws: plan.aws,
        },
        f.ip_set_references.as_deref(),
    )
    .map_err(|e| format!("{}: {e}", args.file.display()))?;
    let files = captures(&f.captures)?;
    let ruleset = rules(
        &f.rules,
        &f.rule_groups,
        f.policy.as_deref(),
        &settings,
        args.quiet,
        args.allow_rule_errors,
    )?;
    let eval = replay(
        &settings,
        &files,
        ruleset,
        args.log_dir.as_deref(),
        args.quiet,
        args.threads
            .map_or_else(super::default_threads, usize::from),
    )?;
    if let Some(dir) = &args.log_dir {
        super::write_stats(dir, &eval.stats).map_err(|e| e.to_string())?;
    }
    let results = plan.checks.iter().map(|c| c.check(&eval.records)).collect();
    let report = TestReport::new(args.file.display().to_string(), results);
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit(started.elapsed().as_secs_f64()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match args.format.as_str() {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        ),
        _ => {
            let text = report.render(args.verbose);
            if args.quiet {
                for line in text.lines().filter(|l| !l.starts_with("PASS")) {
                    println!("{line}");
                }
            } else {
                print!("{text}");
            }
        }
    }
    Ok(if report.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// Captures, settings and rule inputs shared by `diff` and `explain` (besides the rules).
#[derive(clap::Args, Debug)]
struct ReplayOptions {
    /// Capture files (pcap or pcapng) or directories of them.
    #[arg(short = 'r', long = "pcap", value_name = "PATH", required = true, num_args = 1..)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    run: RunOptions,
}

impl std::ops::Deref for ReplayOptions {
    type Target = RunOptions;
    fn deref(&self) -> &RunOptions {
        &self.run
    }
}

/// Settings of a replay (the captures aside).
#[derive(clap::Args, Debug)]
pub(super) struct RunOptions {
    /// AWS IP set references: a JSON object from name or ARN to CIDRs.
    #[arg(long = "ip-set-references", value_name = "FILE")]
    pub(super) ip_set_references: Option<PathBuf>,
    /// A Suricata YAML configuration.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
    /// Override a setting, as with a run.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(super) set: Vec<String>,
    /// Shorthand for --set vars.address-groups.HOME_NET=<CIDRS>.
    #[arg(long = "home-net", value_name = "CIDRS")]
    pub(super) home_net: Option<String>,
    /// Inline (IPS) timing, as Suricata's --simulate-ips (and AWS Network Firewall).
    #[arg(long = "simulate-ips")]
    pub(super) simulate_ips: bool,
    /// Behave as AWS Network Firewall: inline timing, strict order unless the policy or its
    /// rule groups use action order (plain rule files count as one strict-order group).
    #[arg(long = "aws")]
    pub(super) aws: bool,
    /// Only errors.
    #[arg(short = 'q', long = "quiet")]
    pub(super) quiet: bool,
    /// Run without the rules that fail to load (as Suricata does) instead of failing.
    #[arg(long = "allow-rule-errors")]
    pub(super) allow_rule_errors: bool,
    /// Worker threads the flows are spread over (default: one per core); the results
    /// are the same whatever the number.
    #[arg(long = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(super) threads: Option<u16>,
}

impl RunOptions {
    /// Worker threads for the replay.
    pub(super) fn threads(&self) -> usize {
        self.threads
            .map_or_else(super::default_threads, usize::from)
    }

    pub(super) fn settings(&self) -> Result<Settings, String> {
        base_settings(
            self.config.as_deref(),
            &self.set,
            self.home_net.as_deref(),
            super::Timing {
                ips: self.simulate_ips,
                aws: self.aws,
            },
            self.ip_set_references.as_deref(),
        )
    }
}

/// The rules a job replays with: rule files, AWS rule groups, a firewall policy.
#[derive(clap::Args, Debug)]
pub(super) struct RuleSources {
    /// Rule files, rule-group JSON files, or directories of them.
    #[arg(short = 'S', long = "rules", value_name = "PATH", num_args = 1..)]
    rules: Vec<PathBuf>,
    /// AWS rule groups.
    #[arg(long = "rule-group", value_name = "FILE")]
    rule_groups: Vec<PathBuf>,
    /// An AWS firewall policy.
    #[arg(long = "policy", value_name = "FILE")]
    policy: Option<PathBuf>,
}

impl RuleSources {
    pub(super) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.rule_groups.is_empty() && self.policy.is_none()
    }

    /// Loads them (see [`rules`]) with the run's quietness and rule-error policy.
    pub(super) fn load(&self, settings: &Settings, run: &RunOptions) -> Result<RuleSet, String> {
        rules(
            &self.rules,
            &self.rule_groups,
            self.policy.as_deref(),
            settings,
            run.quiet,
            run.allow_rule_errors,
        )
    }
}

/// `rulesim diff`.
#[derive(Parser, Debug)]
#[command(
    name = "rulesim diff",
    about = "Replay the same captures with an old and a new ruleset or policy and report, flow by flow, what the change does",
    after_help = "A source is a rule file, an AWS rule-group or policy JSON, a directory of them, or git:REV:PATH \
(read with git show, relative to the current directory).\n\n\
Examples:\n  rulesim diff -r pcaps/ --old git:main:rules/ --new rules/\n  rulesim diff -r traffic/ --old old.rules --new new.rules --fail-on newly-blocked,newly-allowed\n  rulesim diff -r pcaps/ --old git:HEAD~1:policy.json git:HEAD~1:groups/ --new policy.json groups/ --simulate-ips --format markdown\n\n\
Change kinds: newly-blocked, newly-allowed, decision-moved, new-alerts, silenced-alerts (any: all of them).\n\
Exit codes: 0 no gated change (none gated without --fail-on), 1 a --fail-on change was found, 2 unreadable input."
)]
struct DiffArgs {
    #[command(flatten)]
    replay: ReplayOptions,
    /// The old ruleset: files, directories or git:REV:PATH.
    #[arg(long = "old", value_name = "SOURCE", required = true, num_args = 1..)]
    old: Vec<String>,
    /// The new ruleset: files, directories or git:REV:PATH.
    #[arg(long = "new", value_name = "SOURCE", required = true, num_args = 1..)]
    new: Vec<String>,
    /// Exit 1 if any of these kinds of change occurs (comma-separated, or `any`).
    #[arg(long = "fail-on", value_name = "KINDS", value_delimiter = ',')]
    fail_on: Vec<String>,
    /// Output: text (default), json or markdown (a pull-request comment).
    #[arg(long = "format", value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
}

pub fn diff_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: DiffArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match diff_run(&args) {
        Ok(code) => code,
        Err(e) => report_error(e),
    }
}

/// Per git source: the temporary prefix its files were written under, and the
/// `git:REV:` label that replaces it in rule locations.
type Renames = Vec<(String, String)>;

/// The rule sources of `--old`/`--new`: plain paths, and git revisions written out to
/// `tmp`.
fn resolve_sources(specs: &[String], tmp: &Path) -> Result<(Vec<PathBuf>, Renames), String> {
    let mut paths = Vec::new();
    let mut renames = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match crate::jobs::git::parse_spec(spec) {
            None => paths.push(PathBuf::from(spec)),
            Some(parsed) => {
                let (rev, path) = parsed.map_err(|e| e.to_string())?;
                let into = tmp.join(i.to_string());
                let at = crate::jobs::git::materialize(spec, &rev, &path, &into)
                    .map_err(|e| e.to_string())?;
                renames.push((format!("{}/", into.display()), format!("git:{rev}:")));
                paths.push(at);
            }
        }
    }
    Ok((paths, renames))
}

/// Loads one side of a diff: the sources, a policy among them used as the policy.
fn load_side(
    specs: &[String],
    settings: &Settings,
    opts: &ReplayOptions,
) -> Result<RuleSet, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let (paths, renames) = resolve_sources(specs, tmp.path())?;
    let mut set = rules(
        &paths,
        &[],
        None,
        settings,
        opts.quiet,
        opts.allow_rule_errors,
    )?;
    for rule in &mut set.rules {
        for (prefix, label) in &renames {
            if let Some(rest) = rule.origin.source.strip_prefix(prefix.as_str()) {
                rule.origin.source = format!("{label}{rest}");
            }
        }
    }
    Ok(set)
}

fn diff_run(args: &DiffArgs) -> Result<i32, String> {
    let mut gates = Vec::new();
    for k in &args.fail_on {
        let k = k.trim();
        if k == "any" {
            gates.extend(ChangeKind::ALL);
        } else {
            gates.push(ChangeKind::parse(k).ok_or_else(|| {
                format!(
                    "--fail-on: unknown change kind {k:?} (newly-blocked, newly-allowed, decision-moved, new-alerts, silenced-alerts, any)"
                )
            })?);
        }
    }
    let settings = args.replay.settings()?;
    let files = captures(&args.replay.inputs)?;
    let quiet = args.replay.quiet;
    let old_rules =
        load_side(&args.old, &settings, &args.replay).map_err(|e| format!("--old: {e}"))?;
    let new_rules =
        load_side(&args.new, &settings, &args.replay).map_err(|e| format!("--new: {e}"))?;
    let threads = args.replay.threads();
    let old = replay(&settings, &files, old_rules, None, quiet, threads)?;
    let new = replay(&settings, &files, new_rules, None, true, threads)?;
    let report = crate::jobs::diff::diff(&old.records, &new.records);
    match args.format.as_str() {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        ),
        "markdown" => print!("{}", report.markdown()),
        _ => print!("{}", report.render()),
    }
    let failed: Vec<&str> = gates
        .iter()
        .filter(|k| report.has(**k))
        .map(|k| k.name())
        .collect();
    if !failed.is_empty() {
        if !quiet {
            eprintln!("rulesim: --fail-on: found {}", failed.join(", "));
        }
        return Ok(EXIT_FAILED);
    }
    Ok(EXIT_OK)
}

/// `rulesim explain`.
#[derive(Parser, Debug)]
#[command(
    name = "rulesim explain",
    about = "Which rule decided a flow: the deciding rule, every rule that matched in evaluation order with its packet, and the rules the decision shadowed",
    after_help = "Without a selector, every flow a rule matched or decided is explained (--all: every flow).\n\
Host selectors take exact names, *.example.com (subdomains) or .example.com (domain and subdomains).\n\n\
Examples:\n  rulesim explain -r pcaps/ -S rules/ --sni www.example.com\n  rulesim explain -r capture.pcap --policy policy.json --rule-group groups/ --simulate-ips --dst 93.184.216.34 --dst-port 443\n  rulesim explain -r pcaps/ -S rules/ --flow-id 1234567 --format json\n\n\
Exit codes: 0 flows explained, 1 no flow matched the selectors, 2 unreadable input."
)]
struct ExplainArgs {
    #[command(flatten)]
    replay: ReplayOptions,
    #[command(flatten)]
    sources: RuleSources,
    /// TLS SNI.
    #[arg(long = "sni", value_name = "NAME")]
    sni: Option<String>,
    /// HTTP host.
    #[arg(long = "host", value_name = "NAME")]
    host: Option<String>,
    /// HTTP URI (exact, or a prefix ending in *).
    #[arg(long = "uri", value_name = "URI")]
    uri: Option<String>,
    /// DNS query name.
    #[arg(long = "dns-query", value_name = "NAME")]
    dns_query: Option<String>,
    /// Client address or CIDR.
    #[arg(long = "src", value_name = "CIDR")]
    src: Option<String>,
    /// Server address or CIDR.
    #[arg(long = "dst", value_name = "CIDR")]
    dst: Option<String>,
    /// Client port or range (N-M).
    #[arg(long = "src-port", value_name = "PORTS")]
    src_port: Option<String>,
    /// Server port or range (N-M).
    #[arg(long = "dst-port", value_name = "PORTS")]
    dst_port: Option<String>,
    /// tcp, udp, icmp, ipv6-icmp or a number.
    #[arg(long = "proto", value_name = "PROTO")]
    proto: Option<String>,
    /// App protocol as EVE writes it (tls, http, dns, failed, ...).
    #[arg(long = "app-proto", value_name = "PROTO")]
    app_proto: Option<String>,
    /// Capture file: its name, a path suffix, or a directory ending in /.
    #[arg(long = "capture", value_name = "FILE")]
    capture: Option<String>,
    /// EVE flow_id.
    #[arg(long = "flow-id", value_name = "ID")]
    flow_id: Option<u64>,
    /// Explain every flow, also those no rule touched.
    #[arg(long = "all")]
    all: bool,
    /// Output: text (default) or json (one record per line, as explain.json).
    #[arg(long = "format", value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

pub fn explain_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: ExplainArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match explain_run(&args) {
        Ok(code) => code,
        Err(e) => report_error(e),
    }
}

fn touched(f: &FlowRecord) -> bool {
    f.decided_by.is_some() || !f.matches.is_empty() || !f.shadowed.is_empty()
}

fn explain_run(args: &ExplainArgs) -> Result<i32, String> {
    let selector = FlowSelector {
        sni: args.sni.clone(),
        http_host: args.host.clone(),
        uri: args.uri.clone(),
        dns_query: args.dns_query.clone(),
        src: args.src.clone(),
        dst: args.dst.clone(),
        src_port: args.src_port.clone().map(PortSpec::Text),
        dst_port: args.dst_port.clone().map(PortSpec::Text),
        proto: args.proto.clone(),
        app_proto: args.app_proto.clone(),
        capture: args.capture.clone(),
        flow_id: args.flow_id,
    };
    let only_touched = selector.is_empty() && !args.all;
    let compiled = selector.compile().map_err(|e| e.to_string())?;
    let settings = args.replay.settings()?;
    let files = captures(&args.replay.inputs)?;
    let ruleset = args.sources.load(&settings, &args.replay)?;
    let eval = replay(
        &settings,
        &files,
        ruleset,
        None,
        args.replay.quiet,
        args.replay.threads(),
    )?;
    let chosen: Vec<&FlowRecord> = eval
        .records
        .iter()
        .filter(|f| compiled.matches(f) && (!only_touched || touched(f)))
        .collect();
    let mut out = String::new();
    for f in &chosen {
        match args.format.as_str() {
            "json" => {
                out.push_str(&serde_json::to_string(f).map_err(|e| e.to_string())?);
                out.push('\n');
            }
            _ => {
                out.push_str(&crate::jobs::explain::render(f));
                out.push('\n');
            }
        }
    }
    print!("{out}");
    if args.format == "text" && !args.replay.quiet {
        let what = if only_touched {
            "flows a rule matched or decided".to_string()
        } else {
            format!("flows matching {}", selector.describe())
        };
        eprintln!(
            "rulesim: {} of {} flows explained ({what})",
            chosen.len(),
            eval.records.len()
        );
    }
    Ok(if chosen.is_empty() {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}
