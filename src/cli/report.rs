//! `rulesim report`: hit counts and top-N tables from a replay or from existing logs.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use super::jobs::{captures, report_error, RuleSources, RunOptions};
use super::{parse_subcommand, progress_wanted, Progress, EXIT_ERROR, EXIT_OK};
use crate::jobs::replay_each;
use crate::jobs::report::compare::compare;
use crate::jobs::report::logs::{log_files, read_logs};
use crate::jobs::report::render::TABLE_NAMES;
use crate::jobs::report::{
    html, render, Report, ReportBuilder, ReportOptions, ReportSource, SourceKind,
};
use crate::output::EventOutput;
use crate::trace::RuleRef;

#[derive(Parser, Debug)]
#[command(
    name = "rulesim report",
    about = "Per-rule hit counts, rules never hit, flows per verdict, alerts per 1,000 flows and the top-N tables of CloudWatch Logs Insights, from a replay of captures or from existing EVE and AWS Network Firewall logs",
    after_help = "A replay (-r with -S, --rule-group or --policy) knows every rule match, also of pass and \
noalert rules; logs (--eve) only what was logged. Logs are rulesim's or Suricata's eve.json and AWS Network \
Firewall alert and flow logs as delivered to S3 or exported from CloudWatch Logs (one record per line, gzip or \
not); with -S the rules never hit are listed too.\n\n\
Tables (--table, for --format csv): verdicts, rules, never-hit, top-blocked-sni, top-blocked-hosts, \
top-sources-blocked-fqdn, top-allowed-alert-signatures, top-sources-per-signature.\n\n\
Examples:\n  rulesim report -r pcaps/ -S rules/\n  rulesim report -r benign/ --policy policy.json --rule-group groups/ --simulate-ips --format html -o report.html\n  rulesim report --eve s3-export/AWSLogs/ --format json > prod.json\n  rulesim report --eve eve.json -S rules/ --format csv --table never-hit\n  rulesim report --eve alert-logs/ --sid 2000001 --top 20\n  rulesim report -r capture/ --policy policy.json --rule-group groups/ --simulate-ips --eve firewall-logs/\n\n\
With both -r and --eve, the replay's prediction is compared with the logs of the same traffic: totals, \
each alerting rule's alerts, each blocked SNI and HTTP host (text or json).\n\n\
Exit codes: 0 report written (a comparison: the two agree), 1 a comparison found differences, \
2 unreadable input (what was read before the fault is still reported)."
)]
struct ReportArgs {
    /// Capture files (pcap or pcapng) or directories of them, replayed through the rules.
    #[arg(short = 'r', long = "pcap", value_name = "PATH", num_args = 1..)]
    inputs: Vec<PathBuf>,
    /// Logs to read instead of a replay: eve.json (rulesim, Suricata), AWS Network Firewall
    /// alert and flow logs (S3 delivery or CloudWatch export, gzip or not), or directories.
    /// With -r too: compare what the logs say with what the replay predicts.
    #[arg(long = "eve", value_name = "PATH", num_args = 1..)]
    eve: Vec<PathBuf>,
    #[command(flatten)]
    sources: RuleSources,
    #[command(flatten)]
    run: RunOptions,
    /// Rows per top-N table (source tables: per each of the top 5 names or signatures).
    #[arg(long = "top", value_name = "N", default_value_t = 10)]
    top: usize,
    /// Source IPs for this blocked FQDN only.
    #[arg(long = "fqdn", value_name = "NAME")]
    fqdn: Option<String>,
    /// Source IPs for this signature only.
    #[arg(long = "sid", value_name = "SID")]
    sid: Option<u32>,
    /// text (default), json, csv (one table, --table) or html (one self-contained page).
    #[arg(long = "format", value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "csv", "html"])]
    format: String,
    /// The table --format csv writes.
    #[arg(long = "table", value_name = "NAME", default_value = "rules", value_parser = TABLE_NAMES)]
    table: String,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the replay's eve.json and stats.json to DIR.
    #[arg(short = 'l', long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

pub fn report_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: ReportArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match report_run(&args) {
        Ok(code) => code,
        Err(e) => report_error(e),
    }
}

fn options(args: &ReportArgs) -> ReportOptions {
    ReportOptions {
        top: args.top,
        fqdn: args.fqdn.clone(),
        sid: args.sid,
        ..ReportOptions::default()
    }
}

/// Exit code of a comparison whose sides differ.
const EXIT_DIFFERENT: i32 = 1;

fn report_run(args: &ReportArgs) -> Result<i32, String> {
    let has_rules = !args.sources.is_empty();
    if args.inputs.is_empty() && args.eve.is_empty() {
        return Err("give captures to replay (-r with rules) or logs to read (--eve)".into());
    }
    if !args.inputs.is_empty() && !args.eve.is_empty() {
        return compare_run(args);
    }
    let (report, errors) = if args.eve.is_empty() {
        replay_report(args, options(args))?
    } else {
        if args.log_dir.is_some() {
            return Err(
                "-l/--log-dir writes a replay's logs; it has no use with --eve alone".into(),
            );
        }
        logs_report(args, has_rules, options(args))?
    };
    let body = match args.format.as_str() {
        "json" => json(&report)?,
        "csv" => {
            let mut body = Vec::new();
            render::csv(&report, &args.table, &mut body)?;
            body
        }
        "html" => html::page(&report).into_bytes(),
        _ => render::text(&report).into_bytes(),
    };
    write_out(args, &body)?;
    Ok(finish(&errors, EXIT_OK))
}

/// `-r` and `--eve`: the replay's prediction against the logs.
fn compare_run(args: &ReportArgs) -> Result<i32, String> {
    if !matches!(args.format.as_str(), "text" | "json") {
        return Err("a comparison (-r with --eve) is written as text or json".into());
    }
    // Every name, so that names beyond the top rows are compared too.
    let opts = ReportOptions {
        top: usize::MAX,
        ..options(args)
    };
    let (predicted, mut errors) = replay_report(args, opts.clone())?;
    let (logged, log_errors) = logs_report(args, true, opts)?;
    errors.extend(log_errors);
    let c = compare(&predicted, &logged);
    let body = match args.format.as_str() {
        "json" => json(&c)?,
        _ => c.text().into_bytes(),
    };
    write_out(args, &body)?;
    Ok(finish(
        &errors,
        if c.agree { EXIT_OK } else { EXIT_DIFFERENT },
    ))
}

fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, String> {
    let mut body = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    body.push(b'\n');
    Ok(body)
}

/// Reports the input errors met; the exit code is 2 if there were any.
fn finish(errors: &[String], code: i32) -> i32 {
    for e in errors {
        eprintln!("rulesim: error: {e}");
    }
    if errors.is_empty() {
        code
    } else {
        EXIT_ERROR
    }
}

/// Replays the captures; returns the report and the input errors met on the way.
fn replay_report(args: &ReportArgs, opts: ReportOptions) -> Result<(Report, Vec<String>), String> {
    let settings = args.run.settings()?;
    let files = captures(&args.inputs)?;
    let ruleset = args.sources.load(&settings, &args.run)?;
    let output = match &args.log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            EventOutput::create(dir, None).map_err(|e| e.to_string())?
        }
        None => EventOutput::discard(),
    };
    let builder = Arc::new(Mutex::new(ReportBuilder::new(opts)));
    let sink = builder.clone();
    let mut progress = Progress::new(&files, progress_wanted(args.run.quiet));
    let replay = replay_each(
        &settings,
        &files,
        ruleset,
        output,
        args.run.threads(),
        |at, f, o| progress.tick(at, f, o),
        Box::new(move |r| {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .add_flow_record(&r)
        }),
    )
    .map_err(|e| e.to_string())?;
    progress.finish();
    let mut errors = Vec::new();
    for p in &replay.problems {
        if p.is_warning {
            if !args.run.quiet {
                eprintln!("rulesim: warning: {}", p.error);
            }
        } else {
            errors.push(p.error.to_string());
        }
    }
    if !args.run.quiet {
        for e in &replay.compile_errors {
            eprintln!("rulesim: warning: rule not evaluated: {e}");
        }
    }
    let mut builder = Arc::try_unwrap(builder)
        .map_err(|_| "internal: the report is still shared after the replay".to_string())?
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    builder.know_rules(replay.rules.iter().map(|r| &**r));
    let mut notes = Vec::new();
    if !replay.compile_errors.is_empty() {
        notes.push(format!(
            "{} rule(s) could not be compiled and were not evaluated",
            replay.compile_errors.len()
        ));
    }
    let report = builder.finish(ReportSource {
        kind: SourceKind::Replay,
        inputs: files.iter().map(|f| f.display().to_string()).collect(),
        mode: Some(if settings.simulate_ips { "ips" } else { "ids" }),
        records: Default::default(),
        notes,
    });
    Ok((report, errors))
}

/// Reads logs; returns the report and the lines or files that could not be read.
fn logs_report(
    args: &ReportArgs,
    has_rules: bool,
    opts: ReportOptions,
) -> Result<(Report, Vec<String>), String> {
    let files = log_files(&args.eve).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!(
            "no log files found in {}",
            args.eve
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut builder = ReportBuilder::new(opts);
    if has_rules {
        let settings = args.run.settings()?;
        let set = args.sources.load(&settings, &args.run)?;
        let refs: Vec<RuleRef> = set.rules.iter().map(RuleRef::from_rule).collect();
        builder.know_rules(refs.iter());
    }
    let mut spinner = LineProgress::new(progress_wanted(args.run.quiet));
    let read = read_logs(&files, &mut builder, |bytes| spinner.tick(bytes));
    spinner.finish();
    let errors: Vec<String> = read.problems.iter().map(|p| p.to_string()).collect();
    let report = builder.finish(ReportSource {
        kind: SourceKind::Logs,
        inputs: files.iter().map(|f| f.display().to_string()).collect(),
        mode: None,
        records: read.records,
        notes: Vec::new(),
    });
    Ok((report, errors))
}

fn write_out(args: &ReportArgs, body: &[u8]) -> Result<(), String> {
    match &args.output {
        Some(path) => {
            std::fs::write(path, body).map_err(|e| format!("{}: {e}", path.display()))?;
            if !args.run.quiet {
                eprintln!("rulesim: report written to {}", path.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(body).and_then(|_| out.flush()) {
                // A reader that stopped early (`| head`) is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(format!("standard output: {e}"))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// A spinner for reading logs: lines, bytes and their rates, after a second.
struct LineProgress {
    show: bool,
    started: Instant,
    lines: u64,
    bytes: u64,
    bar: Option<ProgressBar>,
}

impl LineProgress {
    fn new(show: bool) -> Self {
        LineProgress {
            show,
            started: Instant::now(),
            lines: 0,
            bytes: 0,
            bar: None,
        }
    }

    fn tick(&mut self, bytes: u64) {
        self.lines += 1;
        self.bytes += bytes;
        if !self.show || self.lines % 65_536 != 0 {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            self.bar = Some(b);
        }
        if let Some(b) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{} records ({:.0}/s), {:.0} MB ({:.0} MB/s)",
                self.lines,
                self.lines as f64 / secs,
                self.bytes as f64 / 1e6,
                self.bytes as f64 / 1e6 / secs
            ));
            b.tick();
        }
    }

    fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
