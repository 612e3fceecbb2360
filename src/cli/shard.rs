//! Sharded runs (`--shard I/N`) and `rulesim merge`, for capture sets larger than one
//! machine: N jobs each evaluate one shard of the flows, one merge puts their outputs
//! back into what a single run writes.

use std::path::{Path, PathBuf};

use clap::Parser;

use super::{parse_subcommand, Args, EXIT_ERROR, EXIT_OK};
use crate::engine::parallel::Shard;
use crate::jobs::merge::{fingerprint, merge_shards, ShardManifest, MANIFEST};
use crate::output::order_log::ORDER_LOG;

/// `rulesim shard I/N ARGS...` as `rulesim ARGS... --shard I/N` (with `--help`: the
/// run's help).
pub fn shard_argv(argv: &[std::ffi::OsString]) -> Vec<std::ffi::OsString> {
    let mut out = vec![argv[0].clone()];
    match argv.get(2) {
        Some(spec) if !spec.to_string_lossy().starts_with('-') => {
            out.extend(argv[3..].iter().cloned());
            out.push("--shard".into());
            out.push(spec.clone());
        }
        _ => out.extend(argv[2..].iter().cloned()),
    }
    out
}

/// Parses `I/N` (shard `I` of `N`, counted from 0).
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad =
        || format!("--shard {text}: expected INDEX/COUNT, INDEX from 0 to COUNT-1 (e.g. 0/4)");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let i: u64 = i.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Prepares shard `index` of `count` of the run `args` describes, reading `files`: the
/// engine's [`Shard`], and what writes the manifest when the run is over.
pub fn prepare(
    args: &Args,
    index: u64,
    count: u64,
    files: &[PathBuf],
    threshold_entries: usize,
) -> Result<(Shard, ShardFinish), String> {
    if args.explain {
        return Err("--shard cannot be combined with --explain (explain one shard's flows with `rulesim explain`)".into());
    }
    // A manifest left by an earlier run must not vouch for this one's output.
    let manifest_path = args.log_dir.join(MANIFEST);
    match std::fs::remove_file(&manifest_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", manifest_path.display()))
        }
        _ => {}
    }
    let order_path = args.log_dir.join(ORDER_LOG);
    let order_log =
        std::fs::File::create(&order_path).map_err(|e| format!("{}: {e}", order_path.display()))?;
    let mut outputs = vec!["eve.json".to_string()];
    if args.aws_log.is_some() {
        outputs.extend(["flow.json".to_string(), "alert.json".to_string()]);
    }
    let shard = Shard {
        index,
        count,
        order_log: Box::new(order_log),
    };
    let fingerprint = run_fingerprint(args, count, files)?;
    let mut manifest = ShardManifest::new(index, count, fingerprint, outputs);
    manifest.threshold_entries = threshold_entries;
    Ok((shard, ShardFinish(manifest)))
}

/// The manifest a shard's run writes last.
pub struct ShardFinish(ShardManifest);

impl ShardFinish {
    /// Writes the manifest once the run is over (marked incomplete if it was interrupted).
    pub fn finish(mut self, log_dir: &Path, interrupted: bool) -> Result<(), String> {
        self.0.complete = !interrupted;
        self.0.write(log_dir).map_err(|e| e.to_string())
    }
}

/// A digest of everything that decides a run's output, so that `merge` refuses shards of
/// different runs: the settings, the rules' and configuration files' contents, and the
/// capture files' names (not their directories: shards may run on different machines)
/// and sizes.
fn run_fingerprint(args: &Args, shards: u64, files: &[PathBuf]) -> Result<String, String> {
    let settings = format!(
        "{shards} {:?} {:?} {} {} {:?} {:?} {:?} {:?}",
        args.set,
        args.home_net,
        args.simulate_ips,
        args.aws,
        args.eve_types,
        args.aws_log,
        args.availability_zone,
        args.max_flows
    );
    let mut sources = crate::rules::source_files(&args.rules).map_err(|e| e.to_string())?;
    sources.extend(args.rule_groups.iter().cloned());
    sources.extend(args.policy.iter().cloned());
    sources.extend(args.ip_set_references.iter().cloned());
    sources.extend(args.config.iter().cloned());
    let mut parts: Vec<Vec<u8>> = vec![settings.into_bytes()];
    for s in &sources {
        parts.push(std::fs::read(s).map_err(|e| format!("{}: {e}", s.display()))?);
    }
    for f in files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        parts.push(format!("{name} {size}").into_bytes());
    }
    Ok(fingerprint(parts.iter().map(Vec::as_slice)))
}

/// `rulesim merge`.
#[derive(Parser, Debug)]
#[command(
    name = "rulesim merge",
    about = "Merge the log directories of a sharded run (--shard I/N) into the output one run would have written",
    after_help = "Each shard's directory holds its eve.json (and AWS flow.json/alert.json), shard-order.json and shard.json; \
every shard of the run must be given once, in any order.\n\n\
Examples:\n  for i in 0 1 2 3; do rulesim -r pcaps/ -S rules/ --shard $i/4 -l out/shard-$i & done; wait\n  rulesim merge out/shard-* -l out/all\n\n\
Exit codes: 0 merged, 2 a shard is missing, unfinished, from another run, or unreadable."
)]
struct MergeArgs {
    /// The shards' log directories.
    #[arg(value_name = "SHARD_DIR", required = true, num_args = 1..)]
    shards: Vec<PathBuf>,
    /// Directory for the merged eve.json (flow.json, alert.json) and stats.json.
    #[arg(short = 'l', long = "log-dir", value_name = "DIR", default_value = ".")]
    log_dir: PathBuf,
    /// Only errors.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
}

pub fn merge_command(argv: &[std::ffi::OsString]) -> i32 {
    let args: MergeArgs = match parse_subcommand(argv) {
        Ok(a) => a,
        Err(code) => return code,
    };
    if args.shards.iter().any(|d| same_dir(d, &args.log_dir)) {
        eprintln!("rulesim: error: the merged output would overwrite a shard's: give another -l");
        return EXIT_ERROR;
    }
    match merge_shards(&args.shards, &args.log_dir) {
        Ok(s) => {
            if !args.quiet {
                eprintln!(
                    "rulesim: merged {} shards: {} records written to {}, {} alerts held back by thresholds across shards",
                    s.shards,
                    s.records,
                    args.log_dir.display(),
                    s.suppressed
                );
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("rulesim: error: {e}");
            EXIT_ERROR
        }
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_shard;

    #[test]
    fn shard_numbers_count_from_zero() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3", "1/2/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
