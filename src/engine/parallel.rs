//! Worker threads: the flows spread over several `Worker`s, the output put back in the
//! one-thread order.
//!
//! The calling thread reads and decodes the captures (the `Frontend`, as with one
//! thread: same packets, same fragment reassembly, same timeout sweeps) and hands each
//! packet to the worker that owns its flow, by a hash of the flow key that both
//! directions share (an ICMP error goes where the flow it quotes is). Work is handed on
//! in epochs of frames; every worker answers each epoch with the records it wrote,
//! each tagged with its place in the one-thread order ([`OrderKey`](crate::output::OrderKey): the frame, then
//! timeouts before processing, then ended flows in a flow-defined order). The calling
//! thread merges the epoch's records by that key and writes them, so the output is
//! byte-identical whatever the number of threads.
//!
//! A run can also take one shard of the flows ([`Shard`]): the packets of other shards'
//! flows are read and skipped, and each record's order key goes to an order log so that
//! `rulesim merge` can put the shards' outputs back in the one-run order.
//!
//! What crosses flows is handled where the order is known: `threshold` and
//! `detection_filter` counting `by_src`, `by_dst`, `by_both` or `by_rule` are decided in
//! the merge (see [`ThresholdCheck`](crate::detect::ThresholdCheck)). The flow table's
//! and stream memory's limits are split evenly between the workers, so a run that
//! reaches them (stats: `flow.evicted`, stream memcap drops) can differ between thread
//! counts; `stream.max_bytes_held` is then the sum of the workers' highs, and
//! `flow.max_active` is sampled at epoch ends.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc;

use super::{Frontend, InputProblem, PacketSink, Position, Worker};
use crate::config::Settings;
use crate::decode::Packet;
use crate::detect::DetectEngine;
use crate::flow::{FlowHint, FlowKey, FlowTable};
use crate::output::order_log::{DeferredThreshold, OrderLine};
use crate::output::stats::{peak_rss_kib, RunStats};
use crate::output::{EventOutput, RecordChunk};
use crate::time::Timestamp;
use crate::trace::FlowRecord;

/// Frames per epoch: large enough that handing on and merging cost little per packet,
/// small enough that the records held for the merge stay small.
const EPOCH_FRAMES: usize = 4096;

/// Packets whose flows a worker looks up together before processing them.
const LOOKAHEAD: usize = 16;

/// Epochs handed on and not yet merged, at most (bounds the memory the run holds).
const EPOCHS_IN_FLIGHT: u64 = 4;

/// One shard of a run's flows: the flows whose key hashes to `index` modulo `count`
/// (packets without a flow belong to shard 0). Each record written is logged to
/// `order_log` as an [`OrderLine`]; threshold decisions are logged, not taken.
pub struct Shard {
    pub index: u64,
    pub count: u64,
    pub order_log: Box<dyn io::Write + Send>,
}

/// A packet handed to a worker: the decoded packet with its payload in the batch's
/// arena.
struct Handed {
    packet: Packet<'static>,
    payload: (usize, usize),
    pcap_cnt: u64,
    /// The packet's flow key and its hash, as the reader computed them to pick the
    /// worker (none for an ICMP error, which goes where the flow it quotes is).
    flow: Option<(FlowKey, u64)>,
}

// Nearly every item is a packet: boxing it would allocate once per packet.
#[allow(clippy::large_enum_variant)]
enum Item {
    StartFile(PathBuf),
    Sweep { now: Timestamp, pcap_cnt: u64 },
    Packet(Handed),
}

/// One worker's share of an epoch.
#[derive(Default)]
struct Batch {
    epoch: u64,
    items: Vec<Item>,
    arena: Vec<u8>,
    /// The end of input: end every flow, stamping records `at` and pseudo packets `now`.
    drain: Option<(Timestamp, Timestamp)>,
}

/// A worker's answer to an epoch.
struct Done {
    worker: usize,
    epoch: u64,
    chunk: RecordChunk,
    active_flows: usize,
    flows_created: u64,
}

/// Hands packets to the workers' batches and merges what comes back.
struct Dispatcher<'e> {
    inputs: Vec<mpsc::SyncSender<Batch>>,
    results: mpsc::Receiver<Done>,
    /// Batches the workers are done with, to be filled again (their buffers keep their
    /// capacity: no allocation or regrowth per epoch).
    recycled: mpsc::Receiver<Batch>,
    batches: Vec<Batch>,
    items: usize,
    epoch: u64,
    merge: Merge<'e>,
    track_vlans: bool,
    /// (shard, shards): (0, 1) for a whole run.
    shard: (u64, u64),
}

/// Puts the workers' records back in order and writes them.
struct Merge<'e> {
    output: EventOutput,
    /// The run's own engine, for threshold decisions in output order.
    detect: Option<&'e mut DetectEngine>,
    /// Answers received, by epoch, by worker.
    pending: std::collections::BTreeMap<u64, Vec<Option<Done>>>,
    workers: usize,
    /// Epochs merged so far.
    merged: u64,
    /// Alerts a threshold suppressed, and alerts over `packet-alert-max`, decided here.
    suppressed: u64,
    /// A shard's run: where each record's order line goes.
    order_log: Option<io::BufWriter<Box<dyn io::Write + Send>>>,
    /// Where flows' decision records go, in order (with a tracing run).
    trace_sink: Option<TraceSink>,
    /// Deferred threshold checks that suppressed their alert, by (worker, seq), until
    /// the decision record of the alert's flow is merged.
    suppressed_checks: rustc_hash::FxHashSet<(usize, u64)>,
    overflow: u64,
    /// The packet (worker, number) whose alert queue is being filled, and its alerts.
    queue: Option<(usize, u64)>,
    queued: u16,
    max_active: u64,
    flows_created: Vec<u64>,
}

impl Merge<'_> {
    fn accept(&mut self, done: Done) -> io::Result<()> {
        let slots = self
            .pending
            .entry(done.epoch)
            .or_insert_with(|| (0..self.workers).map(|_| None).collect());
        let w = done.worker;
        slots[w] = Some(done);
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.merged || entry.get().iter().any(Option::is_none) {
                break;
            }
            let dones: Vec<Done> = entry.remove().into_iter().flatten().collect();
            self.write_epoch(dones)?;
            self.merged += 1;
        }
        Ok(())
    }

    /// Writes one epoch's records, merged by their order keys.
    fn write_epoch(&mut self, dones: Vec<Done>) -> io::Result<()> {
        let mut active = 0u64;
        for d in &dones {
            active += d.active_flows as u64;
            self.flows_created[d.worker] = d.flows_created;
        }
        self.max_active = self.max_active.max(active);
        let mut chunks: Vec<RecordChunk> = dones.into_iter().map(|d| d.chunk).collect();
        let mut next = vec![0usize; chunks.len()];
        let mut traces: Vec<_> = chunks
            .iter_mut()
            .map(|c| std::mem::take(&mut c.traces).into_iter())
            .collect();
        loop {
            // The chunk whose next record comes first (the lower worker on a tie).
            let mut best: Option<usize> = None;
            for (w, c) in chunks.iter().enumerate() {
                let Some(r) = c.records.get(next[w]) else {
                    continue;
                };
                if best.is_none_or(|b| r.order < chunks[b].records[next[b]].order) {
                    best = Some(w);
                }
            }
            let Some(w) = best else {
                break;
            };
            let i = next[w];
            next[w] += 1;
            if chunks[w].records[i].trace {
                if let Some(record) = traces[w].next() {
                    self.deliver_trace(w, record);
                }
                continue;
            }
            let c = &chunks[w];
            let r = c.records[i];
            let start = |f: fn(&crate::output::ChunkRecord) -> usize| {
                i.checked_sub(1).map_or(0, |p| f(&c.records[p]))
            };
            let eve = &c.eve[start(|r| r.eve_end)..r.eve_end];
            let flow_log = &c.flow_log[start(|r| r.flow_log_end)..r.flow_log_end];
            let alert_log = &c.alert_log[start(|r| r.alert_log_end)..r.alert_log_end];
            if let Some(log) = self.order_log.as_mut() {
                let threshold = r.threshold.map(|check| {
                    let (threshold, detection_filter) = self
                        .detect
                        .as_deref()
                        .map_or((None, None), |d| d.threshold_values(&check));
                    DeferredThreshold {
                        check,
                        threshold: threshold.cloned(),
                        detection_filter: detection_filter.cloned(),
                    }
                });
                let line = OrderLine {
                    key: r.order,
                    eve: lines_in(eve),
                    flow_log: lines_in(flow_log),
                    alert_log: lines_in(alert_log),
                    threshold,
                    queue: r.queue,
                };
                serde_json::to_writer(&mut *log, &line).map_err(io::Error::other)?;
                io::Write::write_all(log, b"\n")?;
            } else {
                let allowed = match (&r.threshold, self.detect.as_deref_mut()) {
                    (Some(check), Some(d)) => d.threshold_allows(check),
                    _ => true,
                };
                if !allowed {
                    self.suppressed += 1;
                    if let Some(check) = r.threshold {
                        if self.trace_sink.is_some() {
                            self.suppressed_checks.insert((w, check.seq));
                        }
                    }
                    continue;
                }
                // The packet's alert queue, filled in order once thresholds are decided,
                // as one thread fills it (`PacketAlertFinalize`).
                if let Some(place) = r.queue {
                    let packet = (w, place.packet);
                    if self.queue != Some(packet) {
                        self.queue = Some(packet);
                        self.queued = 0;
                    }
                    if self.queued >= place.max {
                        self.overflow += 1;
                        continue;
                    }
                    self.queued += 1;
                }
            }
            self.output.write_lines(eve, flow_log, alert_log)?;
        }
        if let Some(log) = self.order_log.as_mut() {
            io::Write::flush(log)?;
        }
        self.output.flush()
    }
}

impl Merge<'_> {
    /// Hands a worker's flow record on, its alerts' threshold decisions applied.
    fn deliver_trace(&mut self, worker: usize, mut record: FlowRecord) {
        if !self.suppressed_checks.is_empty() {
            for e in &mut record.matches {
                if let Some(seq) = e.pending_threshold {
                    if self.suppressed_checks.remove(&(worker, seq)) {
                        e.alerted = false;
                        e.alert_action = None;
                    }
                }
            }
        }
        if let Some(sink) = self.trace_sink.as_mut() {
            sink(record);
        }
    }
}

fn lines_in(text: &[u8]) -> u32 {
    memchr::memchr_iter(b'\n', text).count() as u32
}

impl Dispatcher<'_> {
    /// The worker a packet goes to; none when its flow is another shard's.
    /// The worker that owns the packet's flow (none: another shard's), and the packet's
    /// own flow key with its hash.
    fn worker_of(&self, p: &Packet<'_>) -> Option<(usize, Option<(FlowKey, u64)>)> {
        let n = self.inputs.len() as u64;
        let own = FlowKey::of(p, self.track_vlans);
        let key = own.or_else(|| FlowKey::of_quoted(p, self.track_vlans));
        let (index, count) = self.shard;
        match key {
            Some(k) => {
                let h = FlowTable::hash_of(&k);
                // (Divisions only for a shard: they cost more than the rest of this.)
                let spread = match count {
                    1 => h,
                    _ if h % count != index => return None,
                    _ => h / count,
                };
                // The high half of spread x n: a worker in 0..n without a division.
                let worker = ((u128::from(spread) * u128::from(n)) >> 64) as usize;
                Some((worker, own.map(|own| (own, h))))
            }
            // Packets without a flow have no state to share: any worker will do.
            None => (index == 0).then_some((0, None)),
        }
    }

    /// Hands the epoch's batches on; waits for merges while too many are in flight.
    fn send_epoch(&mut self, drain: Option<(Timestamp, Timestamp)>) -> io::Result<()> {
        while self.epoch >= self.merge.merged + EPOCHS_IN_FLIGHT {
            self.receive()?;
        }
        for (w, input) in self.inputs.iter().enumerate() {
            let empty = self.recycled.try_recv().unwrap_or_default();
            let mut batch = std::mem::replace(&mut self.batches[w], empty);
            batch.epoch = self.epoch;
            batch.drain = drain;
            input
                .send(batch)
                .map_err(|_| io::Error::other("a worker thread stopped"))?;
        }
        self.epoch += 1;
        self.items = 0;
        // Merge what is ready without waiting.
        while let Ok(done) = self.results.try_recv() {
            self.merge.accept(done)?;
        }
        Ok(())
    }

    fn receive(&mut self) -> io::Result<()> {
        let done = self
            .results
            .recv()
            .map_err(|_| io::Error::other("a worker thread stopped"))?;
        self.merge.accept(done)
    }

    fn counted(&mut self) -> io::Result<()> {
        self.items += 1;
        if self.items >= EPOCH_FRAMES {
            self.send_epoch(None)?;
        }
        Ok(())
    }
}

impl PacketSink for Dispatcher<'_> {
    fn start_file(&mut self, path: &std::path::Path) {
        for b in &mut self.batches {
            b.items.push(Item::StartFile(path.to_path_buf()));
        }
    }

    fn sweep(&mut self, now: Timestamp, pcap_cnt: u64) -> io::Result<()> {
        for b in &mut self.batches {
            b.items.push(Item::Sweep { now, pcap_cnt });
        }
        Ok(())
    }

    fn packet(&mut self, p: &Packet<'_>, pcap_cnt: u64) -> io::Result<()> {
        let Some((w, flow)) = self.worker_of(p) else {
            return Ok(());
        };
        let b = &mut self.batches[w];
        let start = b.arena.len();
        b.arena.extend_from_slice(p.payload);
        b.items.push(Item::Packet(Handed {
            packet: Packet { payload: &[], ..*p },
            payload: (start, b.arena.len()),
            pcap_cnt,
            flow,
        }));
        self.counted()
    }

    fn end_file(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn flows_created(&self) -> u64 {
        self.merge.flows_created.iter().sum()
    }
}

/// A worker thread: processes its batches, answers each with its records.
fn work(
    index: usize,
    mut worker: Worker,
    batches: mpsc::Receiver<Batch>,
    results: mpsc::Sender<Done>,
    recycle: mpsc::Sender<Batch>,
) -> io::Result<RunStats> {
    let mut hints: Vec<Option<FlowHint>> = Vec::with_capacity(LOOKAHEAD);
    for mut batch in batches {
        for window in batch.items.chunks(LOOKAHEAD) {
            // The window's flows are looked up first, so that their cache misses overlap.
            hints.clear();
            hints.extend(window.iter().map(|item| match item {
                Item::Packet(Handed {
                    flow: Some((key, hash)),
                    ..
                }) => Some(worker.hint(*key, *hash)),
                _ => None,
            }));
            for (item, hint) in window.iter().zip(&hints) {
                match item {
                    Item::StartFile(path) => worker.start_file(path),
                    Item::Sweep { now, pcap_cnt } => worker.sweep(*now, *pcap_cnt)?,
                    Item::Packet(h) => {
                        let p = Packet {
                            payload: batch.arena.get(h.payload.0..h.payload.1).unwrap_or(&[]),
                            ..h.packet
                        };
                        worker.packet_hinted(&p, h.pcap_cnt, *hint)?;
                    }
                }
            }
        }
        let last = batch.drain.is_some();
        if let Some((at, now)) = batch.drain {
            worker.drain(at, now)?;
        }
        let done = Done {
            worker: index,
            epoch: batch.epoch,
            chunk: worker.output_mut().take_chunk(),
            active_flows: worker.active_flows(),
            flows_created: worker.flows_created(),
        };
        if results.send(done).is_err() || last {
            break;
        }
        batch.items.clear();
        batch.arena.clear();
        // The reader may have stopped already; the batch is then simply dropped.
        let _ = recycle.send(batch);
    }
    worker.finish().map(|(stats, _)| stats)
}

/// The result of a threaded run.
pub struct ParallelResult {
    pub stats: RunStats,
    pub problems: Vec<InputProblem>,
    /// The detection engine given to the run.
    pub detect: Option<DetectEngine>,
}

/// Where a tracing run's flow records go.
pub type TraceSink = Box<dyn FnMut(FlowRecord) + Send>;

/// How a threaded run is made.
#[derive(Default)]
pub struct RunOptions {
    /// Worker threads (at least one).
    pub threads: usize,
    /// Once set, reading stops as [`Engine::stop_when`](super::Engine::stop_when)
    /// describes.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Only this shard's flows are evaluated.
    pub shard: Option<Shard>,
    /// Every flow's decision record ([`crate::trace`]) goes here as the flow ends, in the
    /// order one thread hands them on (the detection engine must trace).
    pub trace: Option<TraceSink>,
}

/// Runs `files` as one stream (as [`run_files`](super::run_files)) with worker threads,
/// writing to `output` what one thread would write.
pub fn run_files_parallel(
    settings: &Settings,
    mut output: EventOutput,
    mut detect: Option<DetectEngine>,
    files: &[PathBuf],
    options: RunOptions,
    mut on_packet: impl FnMut(Position, usize, u64),
) -> io::Result<ParallelResult> {
    let RunOptions {
        threads,
        stop,
        shard,
        trace,
    } = options;
    let (shard_of, order_log) = match shard {
        Some(s) if s.count > 0 && s.index < s.count => (
            (s.index, s.count),
            Some(io::BufWriter::with_capacity(256 * 1024, s.order_log)),
        ),
        Some(s) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shard {} of {} does not exist", s.index, s.count),
            ))
        }
        None => ((0, 1), None),
    };
    let threads = threads.max(1);
    let detect_live = detect.take().filter(|d| !d.is_empty());
    let mut front = Frontend::new(settings);
    if let Some(stop) = stop {
        front.stop_when(stop);
    }
    let (result_tx, result_rx) = mpsc::channel::<Done>();
    let (recycle_tx, recycle_rx) = mpsc::channel::<Batch>();
    let mut problems = Vec::new();
    let mut detect_main = detect_live;
    let worker_stats = std::thread::scope(|scope| -> io::Result<Vec<RunStats>> {
        let mut inputs = Vec::new();
        let mut handles = Vec::new();
        for index in 0..threads {
            let (tx, rx) = mpsc::sync_channel::<Batch>(EPOCHS_IN_FLIGHT as usize + 1);
            inputs.push(tx);
            let mut worker = Worker::new(
                settings,
                EventOutput::in_memory_like(&output),
                detect_main.as_ref().map(DetectEngine::for_worker),
                threads,
            );
            if trace.is_some() {
                // Records stay in the worker's output; the merge hands them on.
                worker.set_tracer(crate::trace::Tracer::new(Box::new(|_| {})));
            }
            let results = result_tx.clone();
            let recycle = recycle_tx.clone();
            handles.push(scope.spawn(move || work(index, worker, rx, results, recycle)));
        }
        drop(result_tx);
        drop(recycle_tx);
        let mut dispatcher = Dispatcher {
            inputs,
            results: result_rx,
            recycled: recycle_rx,
            batches: (0..threads).map(|_| Batch::default()).collect(),
            items: 0,
            epoch: 0,
            merge: Merge {
                output: std::mem::replace(&mut output, EventOutput::discard()),
                detect: detect_main.as_mut(),
                pending: Default::default(),
                workers: threads,
                merged: 0,
                suppressed: 0,
                order_log,
                trace_sink: trace,
                suppressed_checks: Default::default(),
                overflow: 0,
                queue: None,
                queued: 0,
                max_active: 0,
                flows_created: vec![0; threads],
            },
            track_vlans: settings.flow.track_vlans,
            shard: shard_of,
        };
        let mut read =
            || -> io::Result<()> {
                for (i, file) in files.iter().enumerate() {
                    if front.interrupted() {
                        break;
                    }
                    problems.extend(front.process_file(file, &mut dispatcher, |at, offset| {
                        on_packet(at, i, offset)
                    })?);
                }
                // Interrupted: the open flows are not ended (the output stays a prefix).
                let drain = (!front.interrupted()).then(|| front.end_times());
                dispatcher.send_epoch(drain)?;
                while dispatcher.merge.merged < dispatcher.epoch {
                    dispatcher.receive()?;
                }
                Ok(())
            };
        let read_result = read();
        // Workers stop when their input closes (after an error) or after the drain.
        drop(dispatcher.inputs);
        let mut stats = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => stats.push(r?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        read_result?;
        let m = &dispatcher.merge;
        let mut run = RunStats::default();
        for s in &stats {
            run.add_worker(s);
        }
        run.detect.alerts -= m.suppressed + m.overflow;
        run.output.alert -= m.suppressed + m.overflow;
        run.detect.alerts_suppressed += m.suppressed;
        run.detect.alert_queue_overflow += m.overflow;
        run.flow.max_active = m.max_active;
        Ok(vec![run])
    })?;
    let mut stats = front.finish_stats();
    if let Some(w) = worker_stats.first() {
        stats.add_worker(w);
        stats.flow.max_active = w.flow.max_active;
    }
    // The merge decided the thresholds with the run's own engine.
    if let Some(d) = &detect_main {
        stats.detect.threshold_untracked += d.thresholds_untracked();
    }
    stats.memory.max_flows = stats.flow.max_active;
    stats.memory.peak_rss_kib = peak_rss_kib();
    stats.elapsed_secs = front.started().elapsed().as_secs_f64();
    Ok(ParallelResult {
        stats,
        problems,
        detect: detect_main,
    })
}
