//! The jobs on top of the engine: `test` (expectations for CI), `diff` (two rulesets
//! over the same captures), `explain` (which rule decided a flow) and the shared
//! replay that produces per-flow decision records ([`crate::trace`]).

pub mod diff;
pub mod expect;
pub mod explain;
pub mod git;
pub mod merge;
pub mod report;
pub mod select;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::config::Settings;
use crate::detect::{DetectEngine, DetectSettings};
use crate::engine::parallel::{run_files_parallel, RunOptions};
use crate::engine::{run_files, Engine, InputProblem, Position};
use crate::output::stats::RunStats;
use crate::output::EventOutput;
use crate::rules::aws::RuleOrder;
use crate::rules::{RuleSet, VarTable};
use crate::trace::{FlowRecord, RuleRef, Tracer};

/// Whether a ruleset runs in AWS strict order: its policy says so, or (no policy) all its
/// rule groups are strict-order groups. With `--aws` (`aws`) and no policy, plain rule
/// files run in strict order too, as one strict-order group: strict order unless a rule
/// group says otherwise.
pub fn is_strict(ruleset: &RuleSet, aws: bool) -> bool {
    match &ruleset.policy {
        Some(p) => p.rule_order == RuleOrder::StrictOrder,
        None => {
            (aws || !ruleset.groups.is_empty())
                && ruleset
                    .groups
                    .iter()
                    .all(|g| g.rule_order == RuleOrder::StrictOrder)
        }
    }
}

/// The detection engine for a loaded ruleset (its rules are taken), or none when there is
/// nothing to evaluate.
pub fn build_detect(
    ruleset: &mut RuleSet,
    settings: &Settings,
    trace: bool,
) -> Option<DetectEngine> {
    let strict = is_strict(ruleset, settings.aws);
    let default_actions = match &ruleset.policy {
        Some(p) if strict => p.default_actions.clone(),
        _ => Vec::new(),
    };
    if ruleset.rules.is_empty() && default_actions.is_empty() {
        return None;
    }
    Some(DetectEngine::from_rules(
        std::mem::take(&mut ruleset.rules),
        &VarTable::from_config(&settings.vars),
        DetectSettings {
            ips: settings.simulate_ips,
            action_order: settings.action_order.clone(),
            strict,
            default_actions,
            default_action_sids: settings.default_action_sids,
            guess_applayer_tx: settings.guess_applayer_tx,
            prefilter_off: settings.prefilter_off,
            trace,
            packet_alert_max: settings.packet_alert_max,
            threshold_entries: settings.threshold_entries,
            xbits_entries: settings.xbits_entries,
            recursion_limit: settings.recursion_limit,
            body_inspect_min: [
                settings.app_limits.http.request_inspect_min,
                settings.app_limits.http.response_inspect_min,
            ],
        },
    ))
}

/// A replay with decision records.
pub struct Evaluation {
    /// One record per flow, by first packet.
    pub records: Vec<FlowRecord>,
    pub stats: RunStats,
    pub problems: Vec<InputProblem>,
    /// Rules the engine could not compile (they are not evaluated).
    pub compile_errors: Vec<String>,
}

/// A replay whose decision records went to a sink as each flow ended.
pub struct Replay {
    pub stats: RunStats,
    pub problems: Vec<InputProblem>,
    /// Rules the engine could not compile (they are not evaluated).
    pub compile_errors: Vec<String>,
    /// Every rule evaluated, in compiled order.
    pub rules: Vec<Arc<RuleRef>>,
}

/// Replays `files` through `ruleset` on `threads` worker threads, writing records to
/// `output` and handing each flow's decision record to `sink` when the flow ends, in the
/// same order whatever the number of threads (memory stays that of the live flows).
pub fn replay_each(
    settings: &Settings,
    files: &[PathBuf],
    mut ruleset: RuleSet,
    output: EventOutput,
    threads: usize,
    mut on_packet: impl FnMut(Position, usize, u64),
    sink: Box<dyn FnMut(FlowRecord) + Send>,
) -> std::io::Result<Replay> {
    let detect = build_detect(&mut ruleset, settings, true);
    let compile_errors = detect
        .as_ref()
        .map(|d| d.errors.iter().map(|e| e.to_string()).collect())
        .unwrap_or_default();
    let rules = detect.as_ref().map(RuleRef::all).unwrap_or_default();
    // xbits and thresholds on drops and passes are state across flows, which flows on
    // different workers would share.
    if threads > 1 && !detect.as_ref().is_some_and(DetectEngine::needs_one_worker) {
        let run = run_files_parallel(
            settings,
            output,
            detect,
            files,
            RunOptions {
                threads,
                trace: Some(sink),
                ..RunOptions::default()
            },
            on_packet,
        )?;
        std::mem::forget(run.detect);
        return Ok(Replay {
            stats: run.stats,
            problems: run.problems,
            compile_errors,
            rules,
        });
    }
    let mut engine = Engine::new(settings, output, detect);
    engine.set_tracer(Tracer::new(sink));
    let problems = run_files(&mut engine, files, &mut on_packet)?;
    let (stats, detect) = engine.finish_with_detect()?;
    // Freeing a large ruleset takes a while and nothing needs it any more.
    std::mem::forget(detect);
    Ok(Replay {
        stats,
        problems,
        compile_errors,
        rules,
    })
}

/// Replays `files` through `ruleset`, writing records to `output` and collecting every
/// flow's decision record.
pub fn evaluate(
    settings: &Settings,
    files: &[PathBuf],
    ruleset: RuleSet,
    output: EventOutput,
    threads: usize,
    on_packet: impl FnMut(Position, usize, u64),
) -> std::io::Result<Evaluation> {
    let records: Arc<Mutex<Vec<FlowRecord>>> = Arc::default();
    let sink = records.clone();
    let replay = replay_each(
        settings,
        files,
        ruleset,
        output,
        threads,
        on_packet,
        Box::new(move |r| sink.lock().unwrap_or_else(|e| e.into_inner()).push(r)),
    )?;
    let mut records = std::mem::take(&mut *records.lock().unwrap_or_else(|e| e.into_inner()));
    records.sort_by_key(|r| (r.first_packet, r.flow_id));
    Ok(Evaluation {
        records,
        stats: replay.stats,
        problems: replay.problems,
        compile_errors: replay.compile_errors,
    })
}
