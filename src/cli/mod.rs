//! The command line, with Suricata's habits: `-r` captures, `-S` rules, `-l` log dir,
//! `--set key=value`, `--simulate-ips`. Exit codes: 0 ok, 2 usage or input error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use crate::capture::expand_inputs;
use crate::config::Settings;
use crate::engine::parallel::{run_files_parallel, RunOptions};
use crate::engine::{run_files, Engine, Position};
use crate::output::aws::AwsLogIdentity;
use crate::output::{EveTypes, EventOutput};
use crate::rules::{RuleContext, RuleSet, VarTable};

mod jobs;
mod report;
mod shard;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: usage error, unreadable input, or failed output.
pub const EXIT_ERROR: i32 = 2;
/// Stopped by SIGINT or SIGTERM (the shell's 128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "rulesim",
    version,
    about = "Replay pcap/pcapng captures through Suricata-style rules offline and write Suricata-compatible EVE JSON",
    after_help = "Examples:\n  rulesim -r pcaps/ -S rules/ -l out/\n  rulesim -r capture.pcap --policy policy.json --rule-group groups/*.json --simulate-ips --explain\n\nSubcommands (each has --help):\n  rulesim test EXPECTATIONS.toml    check expectations about flows (CI)\n  rulesim diff -r PCAPS --old A --new B    what a rule change does, flow by flow\n  rulesim explain -r PCAPS -S RULES --sni NAME    which rule decided a flow\n  rulesim report -r PCAPS -S RULES | --eve LOGS    hit counts, false positives, top-N tables\n  rulesim lint -S RULES    what is wrong with a ruleset\n  rulesim shard I/N -r PCAPS ...    one shard of the flows (same as --shard I/N)\n  rulesim merge SHARD_DIRS -l OUT    the shards' outputs as one run's\n  rulesim rules show -S RULES    the Suricata rules AWS rule groups compile to"
)]
pub struct Args {
    /// Capture files (pcap or pcapng) or directories of them (read in name order, as one stream).
    #[arg(short = 'r', long = "pcap", value_name = "PATH", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    /// Rule sources: Suricata rule files, AWS rule-group JSON files, or directories of
    /// them (`.rules` and `.json`, in name order).
    #[arg(short = 'S', long = "rules", value_name = "PATH", num_args = 1..)]
    pub rules: Vec<PathBuf>,

    /// An AWS rule group (describe-rule-group, CloudFormation or Terraform JSON); repeatable,
    /// loaded in the order given.
    #[arg(long = "rule-group", value_name = "FILE")]
    pub rule_groups: Vec<PathBuf>,

    /// An AWS firewall policy (describe-firewall-policy, CloudFormation or Terraform JSON):
    /// its rule groups come from --rule-group and -S .json files (and the policy's own
    /// Terraform document), matched by ARN or name, in the policy's order.
    #[arg(long = "policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// AWS IP set references (`@NAME` in rules): a JSON object from name or ARN to CIDRs.
    #[arg(long = "ip-set-references", value_name = "FILE")]
    pub ip_set_references: Option<PathBuf>,

    /// Fail (exit 2) if any rule fails to load, instead of running without it.
    #[arg(long = "strict-rules")]
    pub strict_rules: bool,

    /// Directory for eve.json and stats.json (created if missing).
    #[arg(short = 'l', long = "log-dir", value_name = "DIR", default_value = ".")]
    pub log_dir: PathBuf,

    /// A Suricata YAML configuration: its rule variables, flow timeouts, defrag limits,
    /// vlan.use-for-tracking, stream.midstream, host-os-policy and the limits of the
    /// README's Limits table are used.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Override a setting, as Suricata's --set (e.g. vars.address-groups.HOME_NET=[10.0.0.0/8]).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Shorthand for --set vars.address-groups.HOME_NET=<CIDRS>.
    #[arg(long = "home-net", value_name = "CIDRS")]
    pub home_net: Option<String>,

    /// Inline (IPS) timing, as Suricata's --simulate-ips.
    #[arg(long = "simulate-ips")]
    pub simulate_ips: bool,

    /// Behave as AWS Network Firewall: inline timing, strict order (unless the policy or
    /// its rule groups use action order; plain rule files count as one strict-order group),
    /// the policy's default actions, and the AWS logs (flow.json, alert.json) written too,
    /// named after --aws-log, else the policy.
    #[arg(long = "aws")]
    pub aws: bool,

    /// Also write AWS Network Firewall logs (flow.json, alert.json) for this firewall name.
    #[arg(long = "aws-log", value_name = "FIREWALL_NAME")]
    pub aws_log: Option<String>,

    /// Availability zone written in AWS logs.
    #[arg(long = "availability-zone", value_name = "AZ")]
    pub availability_zone: Option<String>,

    /// Most flows tracked at once; the flows nearest their timeout are evicted beyond it.
    #[arg(long = "max-flows", value_name = "N")]
    pub max_flows: Option<usize>,

    /// Also write explain.json: one record per flow with its verdict, the rule that
    /// decided it, every rule that matched (packet by packet) and the rules the decision
    /// shadowed.
    #[arg(long = "explain")]
    pub explain: bool,

    /// Record types written to eve.json, comma-separated: alert, netflow, tls, http, dns
    /// (as Suricata's eve-log types; the app-layer records follow its loggers' timing).
    #[arg(
        long = "eve-types",
        value_name = "LIST",
        default_value = "alert,netflow"
    )]
    pub eve_types: String,

    /// Worker threads the flows are spread over (default: one per core). The output is
    /// the same whatever the number.
    #[arg(long = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Evaluate only shard INDEX of COUNT (counted from 0) of the flows, split by flow
    /// hash: every shard reads all the captures, and `rulesim merge` puts the shards'
    /// log directories back into what one run writes.
    #[arg(long = "shard", value_name = "INDEX/COUNT", value_parser = shard::parse_shard)]
    pub shard: Option<(u64, u64)>,

    /// More output (per-file details).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

/// Parses the command line and runs; returns the process exit code.
pub fn main() -> i32 {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "rules") {
        return rules_command(&argv[1..]);
    }
    if argv.get(1).is_some_and(|a| a == "lint") {
        return lint_command(&argv[1..]);
    }
    match argv.get(1).and_then(|a| a.to_str()) {
        Some("test") => return jobs::test_command(&argv[1..]),
        Some("diff") => return jobs::diff_command(&argv[1..]),
        Some("explain") => return jobs::explain_command(&argv[1..]),
        Some("report") => return report::report_command(&argv[1..]),
        Some("merge") => return shard::merge_command(&argv[1..]),
        _ => {}
    }
    // `rulesim shard I/N ...` is `rulesim ... --shard I/N`.
    let argv = match argv.get(1).and_then(|a| a.to_str()) {
        Some("shard") => shard::shard_argv(&argv),
        _ => argv,
    };
    let args: Args = match parse_subcommand(&argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("rulesim: error: {message}");
            EXIT_ERROR
        }
    }
}

fn settings_from(args: &Args) -> Result<Settings, String> {
    let mut settings = base_settings(
        args.config.as_deref(),
        &args.set,
        args.home_net.as_deref(),
        Timing {
            ips: args.simulate_ips,
            aws: args.aws,
        },
        args.ip_set_references.as_deref(),
    )?;
    if let Some(n) = args.max_flows {
        if n == 0 {
            return Err("--max-flows must be at least 1".into());
        }
        settings.flow.max_flows = n;
    }
    Ok(settings)
}

/// `--simulate-ips` and `--aws` (which implies it).
#[derive(Clone, Copy, Debug)]
struct Timing {
    ips: bool,
    aws: bool,
}

/// Settings as every command builds them: the YAML configuration, then `--home-net`, then
/// each `--set`, the timing and the IP set references.
fn base_settings(
    config: Option<&Path>,
    sets: &[String],
    home_net: Option<&str>,
    timing: Timing,
    ip_set_refs: Option<&Path>,
) -> Result<Settings, String> {
    let mut settings = Settings::default();
    apply_yaml(&mut settings, config)?;
    if let Some(home) = home_net {
        settings
            .set(&format!("vars.address-groups.HOME_NET={home}"))
            .map_err(|e| e.to_string())?;
    }
    for s in sets {
        settings.set(s).map_err(|e| e.to_string())?;
    }
    settings.simulate_ips = timing.ips || timing.aws;
    settings.aws = timing.aws;
    apply_ip_set_refs(&mut settings, ip_set_refs)?;
    Ok(settings)
}

/// Applies a Suricata YAML configuration (`-c`); `--set` and `--home-net` come after it.
fn apply_yaml(settings: &mut Settings, path: Option<&Path>) -> Result<(), String> {
    if let Some(p) = path {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        settings
            .apply_suricata_yaml(&text)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// Reads `--ip-set-references` into the settings.
fn apply_ip_set_refs(settings: &mut Settings, path: Option<&Path>) -> Result<(), String> {
    if let Some(p) = path {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        settings.vars.ip_set_references =
            crate::config::read_ip_set_references(&text, &p.display().to_string())?;
    }
    Ok(())
}

/// How much the command line prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Loads the rule sources of `-S` and `--rule-group`, printing every rule that failed.
/// A source that cannot be read is an error; failed rules are an error only with
/// `--strict-rules` (Suricata runs without them).
fn load_rules(
    rules: &[PathBuf],
    groups: &[PathBuf],
    policy: Option<&Path>,
    settings: &Settings,
    verbosity: Verbosity,
    strict: bool,
) -> Result<RuleSet, String> {
    let mut sources = crate::rules::source_files(rules).map_err(|e| e.to_string())?;
    sources.extend(groups.iter().cloned());
    if sources.is_empty() && policy.is_none() {
        return Ok(RuleSet::default());
    }
    let ctx = RuleContext {
        vars: VarTable::from_config(&settings.vars),
        pcre_budget: std::sync::Arc::new(crate::rules::PcreBudget::new(settings.pcre_memcap)),
        ..RuleContext::default()
    };
    // A firewall policy among the -S files is used as --policy would be.
    let (policies, sources): (Vec<PathBuf>, Vec<PathBuf>) = sources.into_iter().partition(|f| {
        f.extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
            && std::fs::read_to_string(f).is_ok_and(|t| crate::rules::policy::looks_like_policy(&t))
    });
    let policy: Option<PathBuf> = match (policy, policies.as_slice()) {
        (Some(p), []) => Some(p.to_path_buf()),
        (None, [one]) => Some(one.clone()),
        (None, []) => None,
        _ => return Err("more than one firewall policy given; give one with --policy".into()),
    };
    let set = match policy.as_deref() {
        Some(p) => {
            let (group_files, rule_files): (Vec<PathBuf>, Vec<PathBuf>) =
                sources.into_iter().partition(|f| {
                    f.extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("json"))
                });
            crate::rules::load_policy(p, &group_files, &rule_files, &ctx)
                .map_err(|e| e.to_string())?
        }
        None => crate::rules::load_sources(&sources, &ctx).map_err(|e| e.to_string())?,
    };
    if verbosity != Verbosity::Quiet {
        for w in &set.warnings {
            eprintln!("rulesim: warning: {w}");
        }
    }
    // A large ruleset may refuse many rules: show the first few, and all with -v.
    const SHOWN: usize = 10;
    let show = match verbosity {
        Verbosity::Quiet if !strict => 0,
        Verbosity::Verbose => usize::MAX,
        _ => SHOWN,
    };
    for e in set.errors.iter().take(show) {
        eprintln!("{e}\n");
    }
    let s = set.summary();
    if set.errors.len() > show && show > 0 {
        eprintln!(
            "rulesim: ... and {} more rule errors (-v shows them all)",
            set.errors.len() - show
        );
    }
    if verbosity != Verbosity::Quiet || (strict && s.failed > 0) {
        eprintln!(
            "rulesim: {} rule source(s): {} rules loaded, {} failed",
            s.sources, s.loaded, s.failed
        );
        for (what, n) in s.failed_by_keyword.iter().chain(s.failed_by_kind.iter()) {
            eprintln!("rulesim:   {n} failed: {what}");
        }
    }
    if strict && s.failed > 0 {
        return Err(format!(
            "--strict-rules: {} rule(s) failed to load",
            s.failed
        ));
    }
    Ok(set)
}

/// Whether to draw a progress bar: only on a terminal, never under CI.
fn progress_wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// The progress bar of a long run: appears after a second, on a terminal only.
struct Progress {
    show: bool,
    started: Instant,
    total: u64,
    /// Bytes of the files before each file.
    done_before: Vec<u64>,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(files: &[PathBuf], show: bool) -> Progress {
        let sizes: Vec<u64> = files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .collect();
        let mut done_before = Vec::with_capacity(sizes.len());
        let mut acc = 0;
        for s in &sizes {
            done_before.push(acc);
            acc += s;
        }
        Progress {
            show,
            started: Instant::now(),
            total: acc,
            done_before,
            bar: None,
        }
    }

    fn tick(&mut self, at: Position, file: usize, offset: u64) {
        if !self.show || at.packets % 4096 != 0 {
            return;
        }
        let done = self.done_before.get(file).copied().unwrap_or(0) + offset;
        if self.bar.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            // Start from where the run already is, so that the rate shown is the rate.
            let b = ProgressBar::new(self.total)
                .with_position(done)
                .with_elapsed(self.started.elapsed());
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(b);
        }
        if let Some(b) = &self.bar {
            // Rate and ETA over the whole run (indicatif's estimator starts when the bar
            // appears, a second in).
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            let rate = done as f64 / secs;
            let eta = if rate > 0.0 {
                self.total.saturating_sub(done) as f64 / rate
            } else {
                0.0
            };
            b.set_position(done);
            b.set_message(format!(
                "{:.0} MB/s, {} packets ({:.0}/s), {} flows ({:.0}/s), eta {:.0}s",
                rate / 1e6,
                at.packets,
                at.packets as f64 / secs,
                at.flows,
                at.flows as f64 / secs,
                eta
            ));
        }
    }

    fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

fn run(args: &Args) -> Result<i32, String> {
    let settings = settings_from(args)?;
    let files = expand_inputs(&args.inputs).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!(
            "no capture files found in {}",
            args.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let verbosity = if args.quiet {
        Verbosity::Quiet
    } else if args.verbose > 0 {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let mut ruleset = load_rules(
        &args.rules,
        &args.rule_groups,
        args.policy.as_deref(),
        &settings,
        verbosity,
        args.strict_rules,
    )?;
    if !ruleset.policy_errors.is_empty() {
        return Err(ruleset.policy_errors.join("\n"));
    }
    std::fs::create_dir_all(&args.log_dir)
        .map_err(|e| format!("{}: {e}", args.log_dir.display()))?;
    // --aws writes the AWS logs too, named after the policy when --aws-log names nothing.
    let firewall_name = args.aws_log.clone().or_else(|| {
        args.aws.then(|| {
            ruleset
                .policy
                .as_ref()
                .map_or_else(|| "rulesim".to_string(), |p| p.name.clone())
        })
    });
    let aws = firewall_name.map(|name| AwsLogIdentity {
        firewall_name: name,
        availability_zone: args
            .availability_zone
            .clone()
            .unwrap_or_else(|| AwsLogIdentity::DEFAULT_AZ.to_string()),
    });
    let mut output = EventOutput::create(&args.log_dir, aws).map_err(|e| e.to_string())?;
    output.set_types(EveTypes::parse(&args.eve_types).map_err(|e| format!("--eve-types: {e}"))?);

    let rules_summary = ruleset.summary();
    let detect = crate::jobs::build_detect(&mut ruleset, &settings, args.explain);
    if let Some(d) = &detect {
        for e in &d.errors {
            eprintln!("rulesim: warning: rule not evaluated: {e}");
        }
    }
    let threads = args.threads.map_or_else(default_threads, usize::from);
    let stop = stop_on_signals();
    // xbits, and thresholds on drops and passes, are state across flows, which flows on
    // different workers would share.
    let one_worker = detect.as_ref().is_some_and(|d| d.needs_one_worker());
    let threads = if one_worker { 1 } else { threads };
    let shard = match args.shard {
        Some(_) if one_worker => {
            return Err("--shard: the rules keep state across flows that shards cannot share (xbits, or a threshold or detection_filter on a drop, reject or pass rule); run them unsharded".into())
        }
        Some((index, count)) => Some(shard::prepare(
            args,
            index,
            count,
            &files,
            settings.threshold_entries,
        )?),
        None => None,
    };
    // --explain: one decision record per flow, in explain.json.
    let explain = if args.explain {
        let path = args.log_dir.join("explain.json");
        let out = crate::output::JsonLinesFile::create(path).map_err(|e| e.to_string())?;
        Some(std::sync::Arc::new(std::sync::Mutex::new(out)))
    } else {
        None
    };
    let explain_sink = |out: &std::sync::Arc<std::sync::Mutex<crate::output::JsonLinesFile>>| {
        let sink = out.clone();
        let f: crate::engine::parallel::TraceSink = Box::new(move |record| {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_serialized(&record);
        });
        f
    };
    let mut progress = Progress::new(&files, progress_wanted(args.quiet));
    let (mut stats, problems, shard_run) = if threads > 1 || shard.is_some() {
        let (engine_shard, shard_run) = shard.unzip();
        let run = run_files_parallel(
            &settings,
            output,
            detect,
            &files,
            RunOptions {
                threads,
                stop: Some(stop),
                shard: engine_shard,
                trace: explain.as_ref().map(explain_sink),
            },
            |at, f, o| progress.tick(at, f, o),
        )
        .map_err(|e| e.to_string())?;
        // The process ends next: freeing hundreds of thousands of compiled rule parts
        // one by one would take longer than a small run.
        std::mem::forget(run.detect);
        (run.stats, run.problems, shard_run)
    } else {
        let mut engine = Engine::new(&settings, output, detect);
        engine.stop_when(stop);
        if let Some(out) = &explain {
            engine.set_tracer(crate::trace::Tracer::new(explain_sink(out)));
        }
        let problems = run_files(&mut engine, &files, |at, file, offset| {
            progress.tick(at, file, offset)
        })
        .map_err(|e| e.to_string())?;
        let (stats, detect) = engine.finish_with_detect().map_err(|e| e.to_string())?;
        std::mem::forget(detect);
        (stats, problems, None)
    };
    progress.finish();
    if let Some(out) = explain {
        out.lock()
            .unwrap_or_else(|e| e.into_inner())
            .finish()
            .map_err(|e| e.to_string())?;
    }
    stats.rules = rules_summary;
    let code = finish_run(args, &stats, &problems)?;
    if let Some(s) = shard_run {
        s.finish(&args.log_dir, stats.capture.interrupted.is_some())?;
    }
    Ok(code)
}

/// A flag set by SIGINT or SIGTERM: the run stops reading and writes what it evaluated.
/// A second signal ends the process at once.
fn stop_on_signals() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registration only fails for signals that cannot be caught, which these are
        // not; without it the signal keeps its default action.
        let _ = signal_hook::flag::register_conditional_shutdown(
            signal,
            EXIT_INTERRUPTED,
            stop.clone(),
        );
        let _ = signal_hook::flag::register(signal, stop.clone());
    }
    stop
}

/// One worker per core (what `available_parallelism` reports; 1 when it cannot tell).
pub(super) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Writes the stats, reports the input problems; the exit code.
fn finish_run(
    args: &Args,
    stats: &crate::output::stats::RunStats,
    problems: &[crate::engine::InputProblem],
) -> Result<i32, String> {
    write_stats(&args.log_dir, stats).map_err(|e| e.to_string())?;
    if let Some(i) = &stats.capture.interrupted {
        eprintln!(
            "rulesim: interrupted after packet {} ({} at byte {}): the records of everything before it are written; flows still open were not ended",
            i.after_packet, i.file, i.offset
        );
        return Ok(EXIT_INTERRUPTED);
    }
    let mut failed = false;
    for p in problems {
        if p.is_warning {
            if !args.quiet {
                eprintln!("rulesim: warning: {}", p.error);
            }
        } else {
            failed = true;
            eprintln!("rulesim: error: {}", p.error);
        }
    }
    if !args.quiet {
        eprint!("{}", stats.render());
        if args.verbose > 0 {
            eprintln!("rulesim: wrote {}", args.log_dir.join("eve.json").display());
        }
    }
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

fn write_stats(dir: &Path, stats: &crate::output::stats::RunStats) -> std::io::Result<()> {
    let path = dir.join("stats.json");
    let mut text = serde_json::to_string_pretty(stats).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(&path, text)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The rule sources and settings `rules show` and `lint` take (as a run takes them).
#[derive(clap::Args, Debug)]
struct RuleInputs {
    /// Rule files, rule-group JSON files, or directories of them.
    #[arg(short = 'S', long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// AWS rule groups (describe-rule-group, CloudFormation or Terraform JSON).
    #[arg(long = "rule-group", value_name = "FILE")]
    rule_groups: Vec<PathBuf>,
    /// An AWS firewall policy: its groups in its evaluation order.
    #[arg(long = "policy", value_name = "FILE")]
    policy: Option<PathBuf>,
    /// AWS IP set references: a JSON object from name or ARN to CIDRs.
    #[arg(long = "ip-set-references", value_name = "FILE")]
    ip_set_references: Option<PathBuf>,
    /// A Suricata YAML configuration (its rule variables are used).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a setting, as with a run.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Shorthand for --set vars.address-groups.HOME_NET=<CIDRS>.
    #[arg(long = "home-net", value_name = "CIDRS")]
    home_net: Option<String>,
}

impl RuleInputs {
    /// The settings, then the rules; an error is a message for exit code 2.
    fn load(&self) -> Result<(Settings, RuleSet), String> {
        let settings = base_settings(
            self.config.as_deref(),
            &self.set,
            self.home_net.as_deref(),
            Timing {
                ips: false,
                aws: false,
            },
            self.ip_set_references.as_deref(),
        )?;
        if self.rules.is_empty() && self.rule_groups.is_empty() && self.policy.is_none() {
            return Err("give rule sources with -S, --rule-group or --policy".into());
        }
        let ruleset = load_rules(
            &self.rules,
            &self.rule_groups,
            self.policy.as_deref(),
            &settings,
            Verbosity::Quiet,
            false,
        )?;
        Ok((settings, ruleset))
    }
}

/// Parses a subcommand's arguments, or returns the exit code of a usage error / help.
fn parse_subcommand<T: Parser>(argv: &[std::ffi::OsString]) -> Result<T, i32> {
    T::try_parse_from(argv).map_err(|e| {
        let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        let _ = e.print();
        code
    })
}

/// `rulesim rules show`: the Suricata rules each source stands for.
#[derive(Parser, Debug)]
#[command(
    name = "rulesim rules",
    about = "Show the Suricata rules that rule files and AWS rule groups compile to",
    after_help = "Examples:\n  rulesim rules show -S rules/\n  rulesim rules show --rule-group domain-list.json --home-net '[10.0.0.0/8]'\n  rulesim rules show --policy policy.json --rule-group groups/"
)]
struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(clap::Subcommand, Debug)]
enum RulesCommand {
    /// Print the compiled Suricata text of every source (what AWS would run for a rule
    /// group), and the rules that fail to load. Exit 0, 1 if some rules failed, 2 if a
    /// source could not be read.
    Show {
        #[command(flatten)]
        inputs: RuleInputs,
    },
}

fn rules_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: RulesArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let RulesCommand::Show { inputs } = args.command;
    let ruleset = match inputs.load() {
        Ok((_, r)) => r,
        Err(e) => {
            eprintln!("rulesim: error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut out = String::new();
    if let Some(p) = &ruleset.policy {
        let defaults: Vec<&str> = p.default_actions.iter().map(|a| a.name()).collect();
        out.push_str(&format!(
            "# policy {} [{}], stream exception policy {}, default actions: {}\n",
            p.name,
            p.rule_order.name(),
            p.stream_exception_policy.name(),
            if defaults.is_empty() {
                "none".to_string()
            } else {
                defaults.join(", ")
            }
        ));
    }
    for w in &ruleset.warnings {
        eprintln!("rulesim: warning: {w}");
    }
    for e in &ruleset.policy_errors {
        eprintln!("rulesim: error: {e}");
    }
    let mut current = None;
    for rule in &ruleset.rules {
        if current != Some(&rule.origin.source) {
            current = Some(&rule.origin.source);
            let group = ruleset.groups.iter().find(|g| {
                rule.origin
                    .source
                    .contains(&format!("({}, {})", g.name, g.kind))
            });
            match group {
                Some(g) => {
                    let prio = rule
                        .origin
                        .group_priority
                        .map_or(String::new(), |p| format!(", priority {p}"));
                    out.push_str(&format!(
                        "# {} [{}{prio}]\n",
                        rule.origin.source,
                        g.rule_order.name()
                    ))
                }
                None => out.push_str(&format!("# {}\n", rule.origin.source)),
            }
        }
        out.push_str(&rule.to_string());
        out.push('\n');
    }
    print!("{out}");
    for e in &ruleset.errors {
        eprintln!("{e}\n");
    }
    let s = ruleset.summary();
    eprintln!(
        "rulesim: {} rule source(s): {} rules loaded, {} failed",
        s.sources, s.loaded, s.failed
    );
    if s.failed > 0 || !ruleset.policy_errors.is_empty() {
        1
    } else {
        EXIT_OK
    }
}

/// `rulesim lint`.
#[derive(Parser, Debug)]
#[command(
    name = "rulesim lint",
    about = "Check a ruleset before it runs: load errors, what AWS refuses, rules that never match, strict-order shadowing, duplicate sids, capacity",
    after_help = "Examples:\n  rulesim lint -S rules/\n  rulesim lint --policy policy.json --rule-group groups/ --aws\n  rulesim lint -S local.rules --format github\n\nExit codes: 0 clean, 1 findings, 2 unreadable input."
)]
struct LintArgs {
    #[command(flatten)]
    inputs: RuleInputs,
    /// Hold Suricata rule files to AWS Network Firewall's restrictions too (rule groups
    /// and policies always are).
    #[arg(long = "aws")]
    aws: bool,
    /// Output: text (default), json, or github (workflow annotations).
    #[arg(long = "format", value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "github"])]
    format: String,
}

fn lint_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: LintArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let (settings, ruleset) = match args.inputs.load() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("rulesim: error: {e}");
            return EXIT_ERROR;
        }
    };
    let report = crate::lint::lint(&ruleset, &VarTable::from_config(&settings.vars), args.aws);
    match args.format.as_str() {
        "json" => match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("rulesim: error: {e}");
                return EXIT_ERROR;
            }
        },
        "github" => print!("{}", report.render_github()),
        _ => print!("{}", report.render()),
    }
    report.exit_code()
}
