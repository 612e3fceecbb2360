//! `rulesim merge`: puts the outputs of a sharded run back together.
//!
//! A run with `--shard I/N` evaluates only the flows whose key hashes to shard `I`
//! (every shard reads every packet, so packet numbers and timeouts are the single
//! run's) and writes, beside its `eve.json` (and AWS `flow.json`/`alert.json`), an order
//! log ([`ORDER_LOG`]: each record's place in the single run's order, its line counts,
//! and any threshold decision left open) and, last, a manifest ([`MANIFEST`]). The merge
//! checks that the manifests describe the N shards of one run, then streams the shards'
//! records in order key order, deciding the open thresholds as it goes: the merged files
//! are byte for byte what one unsharded run writes. Memory is constant: one record per
//! shard is held.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detect::ThresholdJudge;
use crate::output::order_log::{OrderLine, ORDER_LOG};

/// The manifest's file name in a shard's log directory.
pub const MANIFEST: &str = "shard.json";

/// The manifest's format version.
const FORMAT: u32 = 1;

/// The output files a run may write, in the order they are merged.
const OUTPUTS: [&str; 3] = ["eve.json", "flow.json", "alert.json"];

/// What a shard's run writes last, once its output is complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardManifest {
    pub format: u32,
    /// The rulesim version that wrote it (shards of different versions do not merge).
    pub rulesim: String,
    pub shard: u64,
    pub shards: u64,
    /// A digest of everything that decides the output: the rules and configuration
    /// files' contents, the settings, the capture files' names and sizes.
    pub fingerprint: String,
    /// The output files written (of `eve.json`, `flow.json`, `alert.json`).
    pub outputs: Vec<String>,
    /// The run read all its input (not interrupted).
    pub complete: bool,
    /// The threshold table's size (`detect.rulesim.threshold-entries`), for the merge's.
    #[serde(default = "default_threshold_entries")]
    pub threshold_entries: usize,
}

fn default_threshold_entries() -> usize {
    crate::detect::DEFAULT_STATE_ENTRIES
}

impl ShardManifest {
    pub fn new(shard: u64, shards: u64, fingerprint: String, outputs: Vec<String>) -> Self {
        ShardManifest {
            format: FORMAT,
            rulesim: env!("CARGO_PKG_VERSION").to_string(),
            shard,
            shards,
            fingerprint,
            outputs,
            complete: true,
            threshold_entries: default_threshold_entries(),
        }
    }

    /// Writes the manifest into `dir`.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let path = dir.join(MANIFEST);
        let mut text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(&path, text)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

/// A digest for [`ShardManifest::fingerprint`] of the parts given, in order.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for p in parts {
        // Length-prefixed, so that parts cannot run into each other.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a shard's manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{dir}: no {MANIFEST}: the shard's run did not finish (or this is not a shard's log directory)")]
    Unfinished { dir: PathBuf },
    #[error("{dir}: the shard's run was interrupted; run it again")]
    Interrupted { dir: PathBuf },
    #[error("{dir}: {message}")]
    Mismatch { dir: PathBuf, message: String },
    #[error("{0}")]
    Shards(String),
    #[error("{path}:{line}: {message}")]
    OrderLog {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Inconsistent { path: PathBuf, message: String },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> MergeError + '_ {
    move |source| MergeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a merge wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub shards: u64,
    /// Records (alerts, flows' netflow records, app-layer records) written.
    pub records: u64,
    /// Alerts held back by thresholds counted across shards.
    pub suppressed: u64,
    /// Alerts over their packet's `packet-alert-max`, once thresholds were decided.
    pub overflow: u64,
}

/// One shard's outputs, read in step with its order log.
struct ShardReader {
    dir: PathBuf,
    order_path: PathBuf,
    order: BufReader<File>,
    order_line: u64,
    /// Readers of the output files, by [`OUTPUTS`] index.
    files: Vec<Option<(PathBuf, BufReader<File>)>>,
    text: String,
}

impl ShardReader {
    fn open(dir: &Path, outputs: &[String]) -> Result<ShardReader, MergeError> {
        let order_path = dir.join(ORDER_LOG);
        let order = File::open(&order_path).map_err(io_error(&order_path))?;
        let mut files = Vec::new();
        for name in OUTPUTS {
            if outputs.iter().any(|o| o == name) {
                let path = dir.join(name);
                let f = File::open(&path).map_err(io_error(&path))?;
                files.push(Some((path, BufReader::with_capacity(256 * 1024, f))));
            } else {
                files.push(None);
            }
        }
        Ok(ShardReader {
            dir: dir.to_path_buf(),
            order_path,
            order: BufReader::new(order),
            order_line: 0,
            files,
            text: String::new(),
        })
    }

    /// The next record's order line, or none at the end of the log.
    fn next(&mut self) -> Result<Option<OrderLine>, MergeError> {
        self.text.clear();
        let n = self
            .order
            .read_line(&mut self.text)
            .map_err(io_error(&self.order_path))?;
        if n == 0 {
            return Ok(None);
        }
        self.order_line += 1;
        if !self.text.ends_with('\n') {
            return Err(self.bad_order("the last line is cut short".into()));
        }
        serde_json::from_str(&self.text)
            .map(Some)
            .map_err(|e| self.bad_order(e.to_string()))
    }

    fn bad_order(&self, message: String) -> MergeError {
        MergeError::OrderLog {
            path: self.order_path.clone(),
            line: self.order_line,
            message,
        }
    }

    /// Copies (or skips) a record's lines of each output file.
    fn copy(
        &mut self,
        line: &OrderLine,
        keep: bool,
        outs: &mut [Option<(PathBuf, BufWriter<File>)>],
        buf: &mut Vec<u8>,
    ) -> Result<(), MergeError> {
        let counts = [line.eve, line.flow_log, line.alert_log];
        for ((file, out), n) in self.files.iter_mut().zip(outs.iter_mut()).zip(counts) {
            let Some((path, reader)) = file else {
                if n > 0 {
                    return Err(MergeError::Inconsistent {
                        path: self.order_path.clone(),
                        message: format!(
                            "line {} counts lines in an output file the manifest does not list",
                            self.order_line
                        ),
                    });
                }
                continue;
            };
            for _ in 0..n {
                buf.clear();
                let read = reader.read_until(b'\n', buf).map_err(io_error(path))?;
                if read == 0 || buf.last() != Some(&b'\n') {
                    return Err(MergeError::Inconsistent {
                        path: path.clone(),
                        message: format!(
                            "ends before the record of {} line {}",
                            ORDER_LOG, self.order_line
                        ),
                    });
                }
                if keep {
                    if let Some((out_path, w)) = out.as_mut() {
                        w.write_all(buf).map_err(io_error(out_path))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks that the output files hold nothing after the last record.
    fn check_at_end(&mut self) -> Result<(), MergeError> {
        for (path, reader) in self.files.iter_mut().flatten() {
            let rest = reader.fill_buf().map_err(io_error(path))?;
            if !rest.is_empty() {
                return Err(MergeError::Inconsistent {
                    path: path.clone(),
                    message: format!("has lines no record of {ORDER_LOG} accounts for"),
                });
            }
        }
        Ok(())
    }
}

/// Reads a shard's manifest.
pub fn read_manifest(dir: &Path) -> Result<ShardManifest, MergeError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(MergeError::Unfinished {
                dir: dir.to_path_buf(),
            })
        }
        Err(source) => return Err(MergeError::Io { path, source }),
    };
    let m: ShardManifest = serde_json::from_str(&text).map_err(|e| MergeError::Manifest {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if m.format != FORMAT {
        return Err(MergeError::Manifest {
            path,
            message: format!("format {} (this rulesim reads format {FORMAT})", m.format),
        });
    }
    Ok(m)
}

/// Merges the shards in `dirs` (their log directories, any order) into `out_dir`.
pub fn merge_shards(dirs: &[PathBuf], out_dir: &Path) -> Result<MergeSummary, MergeError> {
    let Some(first_dir) = dirs.first() else {
        return Err(MergeError::Shards("no shard directories given".into()));
    };
    let manifests: Vec<ShardManifest> = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<_, _>>()?;
    let first = &manifests[0];
    let mut seen: Vec<Option<&Path>> = vec![None; first.shards as usize];
    for (m, dir) in manifests.iter().zip(dirs) {
        let mismatch = |message: String| MergeError::Mismatch {
            dir: dir.clone(),
            message,
        };
        if !m.complete {
            return Err(MergeError::Interrupted { dir: dir.clone() });
        }
        if m.rulesim != first.rulesim {
            return Err(mismatch(format!(
                "written by rulesim {}, {} by {}",
                m.rulesim,
                first_dir.display(),
                first.rulesim
            )));
        }
        if m.shards != first.shards {
            return Err(mismatch(format!(
                "one of {} shards, {} one of {}",
                m.shards,
                first_dir.display(),
                first.shards
            )));
        }
        if m.fingerprint != first.fingerprint || m.outputs != first.outputs {
            return Err(mismatch(format!(
                "a different run than {} (other rules, settings, captures or outputs)",
                first_dir.display()
            )));
        }
        match seen.get_mut(m.shard as usize) {
            Some(Some(other)) => {
                return Err(MergeError::Shards(format!(
                    "shard {} is given twice: {} and {}",
                    m.shard,
                    other.display(),
                    dir.display()
                )))
            }
            Some(slot) => *slot = Some(dir),
            None => return Err(mismatch(format!("shard {} of {}", m.shard, m.shards))),
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Shards(format!(
            "missing shard(s) {} of {}",
            missing.join(", "),
            first.shards
        )));
    }

    std::fs::create_dir_all(out_dir).map_err(io_error(out_dir))?;
    let mut readers: Vec<ShardReader> = dirs
        .iter()
        .map(|d| ShardReader::open(d, &first.outputs))
        .collect::<Result<_, _>>()?;
    let mut outs: Vec<Option<(PathBuf, BufWriter<File>)>> = Vec::new();
    for name in OUTPUTS {
        if first.outputs.iter().any(|o| o == name) {
            let path = out_dir.join(name);
            let f = File::create(&path).map_err(io_error(&path))?;
            outs.push(Some((path, BufWriter::with_capacity(256 * 1024, f))));
        } else {
            outs.push(None);
        }
    }

    // The next record of each shard, smallest order key first (the lower shard number on
    // a tie, as the threaded runner takes the lower worker).
    let mut heads: Vec<Option<OrderLine>> = Vec::with_capacity(readers.len());
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        let head = r.next()?;
        if let Some(h) = &head {
            heap.push(Reverse((h.key, manifests[i].shard, i)));
        }
        heads.push(head);
    }
    let mut judge = ThresholdJudge::new(first.threshold_entries);
    // The packet (shard, number) whose alert queue is being filled, and its alerts.
    let mut queue: Option<(usize, u64)> = None;
    let mut queued = 0u16;
    let mut summary = MergeSummary {
        shards: first.shards,
        ..MergeSummary::default()
    };
    let mut buf = Vec::new();
    while let Some(Reverse((key, _, i))) = heap.pop() {
        let Some(line) = heads[i].take() else {
            continue;
        };
        let mut keep = match &line.threshold {
            Some(t) => judge.allows(&t.check, t.threshold.as_ref(), t.detection_filter.as_ref()),
            None => true,
        };
        if !keep {
            summary.suppressed += 1;
        } else if let Some(place) = line.queue {
            // As the threaded runner fills a packet's queue once thresholds are decided.
            if queue != Some((i, place.packet)) {
                queue = Some((i, place.packet));
                queued = 0;
            }
            if queued >= place.max {
                summary.overflow += 1;
                keep = false;
            } else {
                queued += 1;
            }
        }
        if keep {
            summary.records += 1;
        }
        readers[i].copy(&line, keep, &mut outs, &mut buf)?;
        let next = readers[i].next()?;
        if let Some(n) = &next {
            if n.key < key {
                return Err(readers[i].bad_order("records out of order".into()));
            }
            heap.push(Reverse((n.key, manifests[i].shard, i)));
        }
        heads[i] = next;
    }
    for r in &mut readers {
        r.check_at_end()?;
    }
    for (path, w) in outs.iter_mut().flatten() {
        w.flush().map_err(io_error(path))?;
    }
    merge_stats(&readers, out_dir, summary.suppressed, summary.overflow)?;
    Ok(summary)
}

/// Counters that each shard counts for its own flows (summed); everything else is
/// counted by every shard alike, as they all read every packet (taken from one).
const SUMMED: [&str; 15] = [
    "flow",
    "app_layer",
    "app_limits",
    "detect",
    "stream",
    "output",
    "decoder.ipv4",
    "decoder.ipv6",
    "decoder.tcp",
    "decoder.udp",
    "decoder.icmpv4",
    "decoder.icmpv6",
    "decoder.other_ip",
    "decoder.vlan",
    "decoder.vlan_qinq",
];

/// Not summed within [`SUMMED`]: a description of the ruleset, the same in every shard.
const NOT_SUMMED: [&str; 1] = ["detect.prefilter"];

/// Writes the merged `stats.json`: the shards' own counts summed, the rest from the
/// first shard, alerts held back by the merge's thresholds taken off.
fn merge_stats(
    readers: &[ShardReader],
    out_dir: &Path,
    suppressed: u64,
    overflow: u64,
) -> Result<(), MergeError> {
    let mut merged: Option<Value> = None;
    let mut rss = 0u64;
    let mut elapsed = 0f64;
    for r in readers {
        let path = r.dir.join("stats.json");
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| MergeError::Inconsistent {
            path: path.clone(),
            message: e.to_string(),
        })?;
        rss = rss.max(v["memory"]["peak_rss_kib"].as_u64().unwrap_or(0));
        elapsed = elapsed.max(v["elapsed_secs"].as_f64().unwrap_or(0.0));
        match merged.as_mut() {
            None => merged = Some(v),
            Some(m) => add_counts(m, &v, ""),
        }
    }
    let Some(mut m) = merged else {
        return Ok(());
    };
    for (a, b) in [("detect", "alerts"), ("output", "alert")] {
        if let Some(n) = m[a][b].as_u64() {
            m[a][b] = Value::from(n.saturating_sub(suppressed + overflow));
        }
    }
    for (b, n) in [
        ("alerts_suppressed", suppressed),
        ("alert_queue_overflow", overflow),
    ] {
        if let Some(have) = m["detect"][b].as_u64() {
            m["detect"][b] = Value::from(have + n);
        }
    }
    if rss > 0 {
        m["memory"]["peak_rss_kib"] = Value::from(rss);
    }
    m["elapsed_secs"] = Value::from(elapsed);
    let path = out_dir.join("stats.json");
    let mut text = serde_json::to_string_pretty(&m).map_err(|e| MergeError::Inconsistent {
        path: path.clone(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(&path, text).map_err(io_error(&path))
}

/// Adds the numbers of `other` under the [`SUMMED`] paths into `into`.
fn add_counts(into: &mut Value, other: &Value, at: &str) {
    let summed = |p: &str| {
        SUMMED
            .iter()
            .any(|s| p == *s || p.starts_with(&format!("{s}.")))
            && !NOT_SUMMED
                .iter()
                .any(|s| p == *s || p.starts_with(&format!("{s}.")))
    };
    match (into, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match a.get_mut(k) {
                    Some(mine) => add_counts(mine, v, &path),
                    None if summed(&path) => {
                        // Only maps keyed by name (kept sorted) gain keys.
                        a.insert(k.clone(), v.clone());
                        a.sort_keys();
                    }
                    None => {}
                }
            }
        }
        (mine @ Value::Number(_), Value::Number(n)) if summed(at) => {
            if let (Some(x), Some(y)) = (mine.as_u64(), n.as_u64()) {
                *mine = Value::from(x + y);
            } else if let (Some(x), Some(y)) = (mine.as_f64(), n.as_f64()) {
                *mine = Value::from(x + y);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stats_sum_the_shards_own_counts_and_keep_the_run_wide_ones() {
        let mut a = json!({
            "decoder": {"pkts": 10, "tcp": 4, "invalid": {"x": 1}},
            "flow": {"created": 3},
            "app_layer": {"tls": 1},
            "detect": {"alerts": 2, "prefilter": {"groups": 5}},
        });
        let b = json!({
            "decoder": {"pkts": 10, "tcp": 6, "invalid": {"x": 1}},
            "flow": {"created": 4},
            "app_layer": {"tls": 2, "http": 1},
            "detect": {"alerts": 1, "prefilter": {"groups": 5}},
        });
        add_counts(&mut a, &b, "");
        // Compared as text: the order of keys is part of the file.
        assert_eq!(
            a.to_string(),
            json!({
                "decoder": {"pkts": 10, "tcp": 10, "invalid": {"x": 1}},
                "flow": {"created": 7},
                "app_layer": {"http": 1, "tls": 3},
                "detect": {"alerts": 3, "prefilter": {"groups": 5}},
            })
            .to_string()
        );
    }

    #[test]
    fn the_fingerprint_separates_its_parts() {
        assert_ne!(
            fingerprint([b"ab".as_slice(), b"c"]),
            fingerprint([b"a".as_slice(), b"bc"])
        );
        assert_eq!(
            fingerprint([b"x".as_slice()]),
            fingerprint([b"x".as_slice()])
        );
    }
}
