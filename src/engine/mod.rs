//! The packet path: capture frames -> decoder -> flow table -> output. One engine
//! instance processes all input files as one stream, as Suricata does with `-r dir/`;
//! [`parallel`] spreads the flows over worker threads.

pub mod parallel;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::app::{AppConfig, AppProto, AppShared, FlowApp, Parser};
use crate::capture::{CaptureError, CaptureErrorKind, CaptureReader, Frame};
use crate::config::{ExceptionPolicy, Settings};
use crate::decode::{proto, Decoded, Decoder, DefragConfig, LinkType, Packet, Transport};
use crate::detect::{DetectEngine, FlowAction, PacketOutcome, PacketView};
use crate::flow::tcp::TcpState;
use crate::flow::{Direction, EndReason, Flow, FlowHint, FlowTable};
use crate::output::alert::{AlertRecord, AlertRule, Verdict};
use crate::output::json::JsonObject;
use crate::output::stats::{peak_rss_kib, Interruption, RunStats};
use crate::output::{EventOutput, OrderKey, PacketSource};
use crate::rules::Action;
use crate::time::Timestamp;
use crate::trace::{TracePoint, Tracer};

/// Processes packets and writes records as flows end: the capture front end and one
/// worker holding every flow (see [`parallel`] for several).
pub struct Engine {
    front: Frontend,
    worker: Worker,
}

/// Reading and decoding: capture files -> frames -> decoded (and reassembled) packets,
/// with the sweeps of flow timeouts between them. Shared by the one-thread engine and
/// the threaded runner, so that both see the same packets and sweeps in the same places.
pub(crate) struct Frontend {
    decoder: Decoder,
    pcap_cnt: u64,
    /// Time of the run's first packet: Suricata stamps the records of flows still open
    /// at the end of input with it (its default runmode).
    first_ts: Option<Timestamp>,
    last_ts: Timestamp,
    /// `runmode: single`: the end of input is stamped with the last packet's time.
    single_runmode: bool,
    /// Timeouts are checked at most once per second of capture time.
    next_sweep_secs: i64,
    /// Packets per pcap link type (named in the stats at the end).
    per_linktype: Vec<(u32, u64)>,
    /// The capture and decoder counts (the rest of the stats are the workers').
    stats: RunStats,
    started: std::time::Instant,
    /// Set from outside (a signal handler) to stop reading at the next frame.
    stop: Option<Arc<AtomicBool>>,
}

/// Where the front end hands packets: a worker, or the threaded runner's dispatcher.
pub(crate) trait PacketSink {
    /// A capture file is opened.
    fn start_file(&mut self, path: &Path);
    /// Flows whose timeout passed before `now` end, before the packet numbered `pcap_cnt`.
    fn sweep(&mut self, now: Timestamp, pcap_cnt: u64) -> io::Result<()>;
    /// One decoded packet (`pcap_cnt` absent for a reassembled datagram).
    fn packet(&mut self, p: &Packet<'_>, pcap_cnt: u64) -> io::Result<()>;
    /// A capture file was read to its end (or to the problem that ended it).
    fn end_file(&mut self) -> io::Result<()>;
    /// Flows created so far (for progress lines; may lag behind).
    fn flows_created(&self) -> u64;
}

/// Flow tracking and everything after it, for the flows it is handed.
pub(crate) struct Worker {
    flows: FlowTable,
    core: Core,
}

/// What happens to a packet after the flow table: app layer, detection, output.
struct Core {
    output: EventOutput,
    stats: RunStats,
    detect: Option<DetectEngine>,
    app: AppConfig,
    shared: AppShared,
    /// Host OS ranges (`host-os-policy`), for the stream overlap policy.
    defrag: DefragConfig,
    ips: bool,
    /// What a mid-stream TCP flow gets when `stream.midstream` is off.
    midstream_policy: ExceptionPolicy,
    /// Per-flow decision records, when asked for.
    tracer: Option<Tracer>,
    /// The flow slot the packet being tracked belongs to (for its app-layer records),
    /// and whether that flow was dropped before the packet.
    touched: Option<u32>,
    touched_dropped: bool,
}

/// A problem met while reading the inputs; the run goes on past it.
#[derive(Debug)]
pub struct InputProblem {
    pub error: CaptureError,
    /// Warnings (a truncated tail) do not fail the run.
    pub is_warning: bool,
}

/// How far a run is, for progress lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct Position {
    pub packets: u64,
    pub flows: u64,
}

impl Engine {
    /// An engine writing to `output`, evaluating `detect` (none: flows and app layer only).
    pub fn new(settings: &Settings, output: EventOutput, detect: Option<DetectEngine>) -> Engine {
        Engine {
            front: Frontend::new(settings),
            worker: Worker::new(settings, output, detect, 1),
        }
    }

    /// Records every flow's decision (which rules matched, which decided) with `tracer`;
    /// the detection engine must have been built with `DetectSettings::trace`.
    pub fn set_tracer(&mut self, tracer: Tracer) {
        self.worker.core.tracer = Some(tracer);
    }

    pub fn stats(&self) -> &RunStats {
        &self.worker.core.stats
    }

    /// Flows created so far.
    pub fn flows_created(&self) -> u64 {
        self.worker.flows.stats().created
    }

    /// Packets processed so far (the last `pcap_cnt`).
    pub fn packets(&self) -> u64 {
        self.front.pcap_cnt
    }

    pub fn position(&self) -> Position {
        Position {
            packets: self.packets(),
            flows: self.flows_created(),
        }
    }

    /// Reads one capture file to its end. Returns the problems met (a file that cannot be
    /// read, a bad record that ends it, a truncated tail, packets that could not be used);
    /// everything before a problem has been processed.
    pub fn process_file(
        &mut self,
        path: &Path,
        on_packet: impl FnMut(Position, u64),
    ) -> io::Result<Vec<InputProblem>> {
        if self.front.interrupted() {
            return Ok(Vec::new());
        }
        self.front.process_file(path, &mut self.worker, on_packet)
    }

    /// Reading stops at the next frame once `stop` is set: the records of everything
    /// read so far are written, flows still open are not ended (so the output is a
    /// prefix of a full run's), and the stats say where the run stopped.
    pub fn stop_when(&mut self, stop: Arc<AtomicBool>) {
        self.front.stop_when(stop);
    }

    /// Processes one captured frame.
    pub fn process_frame(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        self.front.process_frame(frame, &mut self.worker)
    }

    /// Ends all flows (end of input), flushes the output and returns the run's stats.
    pub fn finish(self) -> io::Result<RunStats> {
        self.finish_with_detect().map(|(stats, _)| stats)
    }

    /// As [`finish`](Self::finish), handing back the detection engine (its rules and
    /// state) so that the caller decides when to free it.
    pub fn finish_with_detect(
        mut self,
    ) -> io::Result<(RunStats, Option<crate::detect::DetectEngine>)> {
        let (at, last) = self.front.end_times();
        if !self.front.interrupted() {
            self.worker.drain(at, last)?;
        }
        let mut stats = self.front.finish_stats();
        let (worker_stats, detect) = self.worker.finish()?;
        stats.add_worker(&worker_stats);
        stats.memory.max_flows = stats.flow.max_active;
        stats.memory.peak_rss_kib = peak_rss_kib();
        stats.elapsed_secs = self.front.started.elapsed().as_secs_f64();
        Ok((stats, detect))
    }
}

impl Frontend {
    pub(crate) fn new(settings: &Settings) -> Frontend {
        Frontend {
            decoder: Decoder::new(settings.defrag.clone()),
            pcap_cnt: 0,
            first_ts: None,
            last_ts: Timestamp::ZERO,
            single_runmode: settings.single_runmode,
            next_sweep_secs: i64::MIN,
            per_linktype: Vec::new(),
            stats: RunStats::default(),
            started: std::time::Instant::now(),
            stop: None,
        }
    }

    /// Reading stops at the next frame once `stop` is set (see [`Self::interrupted`]).
    pub(crate) fn stop_when(&mut self, stop: Arc<AtomicBool>) {
        self.stop = Some(stop);
    }

    /// The run was stopped by the flag of [`Self::stop_when`].
    pub(crate) fn interrupted(&self) -> bool {
        self.stats.capture.interrupted.is_some()
    }

    /// The times of the flows open at the end of input: their records', and their pseudo
    /// packets' (the alerts these raise). Suricata's end-of-input flush takes the least
    /// time its threads have seen: in its default runmode (autofp) a thread that saw no
    /// packet keeps the run's first packet time, which stamps both (every end-of-input
    /// record of the conformance corpus); with `runmode: single` it is the last packet's.
    pub(crate) fn end_times(&self) -> (Timestamp, Timestamp) {
        let at = if self.single_runmode {
            self.last_ts
        } else {
            self.first_ts.unwrap_or(Timestamp::ZERO)
        };
        (at, at)
    }

    pub(crate) fn started(&self) -> std::time::Instant {
        self.started
    }

    /// Reads one capture file to its end into `sink`; `on_frame` is called with each
    /// frame's file offset after the frame was handed on.
    pub(crate) fn process_file(
        &mut self,
        path: &Path,
        sink: &mut impl PacketSink,
        mut on_frame: impl FnMut(Position, u64),
    ) -> io::Result<Vec<InputProblem>> {
        self.stats.capture.files += 1;
        sink.start_file(path);
        let mut problems = Vec::new();
        let mut reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(error) => {
                self.stats.capture.files_failed += 1;
                self.stopped_early(path, &error);
                problems.push(InputProblem {
                    error,
                    is_warning: false,
                });
                return Ok(problems);
            }
        };
        // As Suricata, refuse a pcap whose link type cannot be decoded.
        if let Some(lt) = reader
            .pcap_linktype()
            .filter(|lt| LinkType::from_pcap(*lt).is_none())
        {
            self.stats.capture.files_failed += 1;
            let error = CaptureError::new(path, CaptureErrorKind::UnsupportedLinkType(lt));
            self.stopped_early(path, &error);
            problems.push(InputProblem {
                error,
                is_warning: false,
            });
            return Ok(problems);
        }
        let mut warned_interface = false;
        let (mut warned_backwards, mut warned_empty) = (false, false);
        let mut warned_linktypes: Vec<u32> = Vec::new();
        let mut offset = 0;
        loop {
            if self
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
            {
                self.stats.capture.interrupted = Some(Interruption {
                    after_packet: self.pcap_cnt,
                    file: path.display().to_string(),
                    offset,
                });
                break;
            }
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    if LinkType::from_pcap(frame.linktype).is_none()
                        && !warned_linktypes.contains(&frame.linktype)
                    {
                        // pcapng: an interface of a link type rulesim cannot decode.
                        warned_linktypes.push(frame.linktype);
                        let error = CaptureError::new(
                            path,
                            CaptureErrorKind::UnsupportedLinkType(frame.linktype),
                        )
                        .at(frame.number, frame.offset);
                        problems.push(InputProblem {
                            error,
                            is_warning: true,
                        });
                    }
                    // Odd but readable records: the first of each kind in a file is
                    // reported, all are counted.
                    let odd = if frame.ts < self.last_ts && !warned_backwards {
                        warned_backwards = true;
                        Some(CaptureErrorKind::TimestampBackwards {
                            at: frame.ts.eve().to_string(),
                            previous: self.last_ts.eve().to_string(),
                        })
                    } else if frame.data.is_empty() && !warned_empty {
                        warned_empty = true;
                        Some(CaptureErrorKind::EmptyPacket)
                    } else {
                        None
                    };
                    if let Some(kind) = odd {
                        problems.push(InputProblem {
                            error: CaptureError::new(path, kind).at(frame.number, frame.offset),
                            is_warning: true,
                        });
                    }
                    offset = frame.offset;
                    self.process_frame(&frame, sink)?;
                    let at = Position {
                        packets: self.pcap_cnt,
                        flows: sink.flows_created(),
                    };
                    on_frame(at, offset);
                }
                Ok(None) => break,
                Err(error) if error.is_recoverable() => {
                    // The packet is unusable but the file goes on; the first is reported.
                    self.count_invalid("pcapng.unknown_interface");
                    self.stats.capture.packets_read += 1;
                    if !warned_interface {
                        warned_interface = true;
                        problems.push(InputProblem {
                            error,
                            is_warning: true,
                        });
                    }
                }
                Err(error) => {
                    let is_warning = error.is_truncation();
                    if is_warning {
                        self.stats.capture.truncated_files += 1;
                    } else {
                        self.stats.capture.files_failed += 1;
                    }
                    self.stopped_early(path, &error);
                    problems.push(InputProblem { error, is_warning });
                    break;
                }
            }
        }
        sink.end_file()?;
        Ok(problems)
    }

    /// Records in the stats where and why a capture's reading stopped.
    fn stopped_early(&mut self, path: &Path, error: &CaptureError) {
        self.stats
            .capture
            .stopped_early
            .push(crate::output::stats::StoppedFile {
                file: path.display().to_string(),
                after_packet: self.pcap_cnt,
                error: error.to_string(),
            });
    }

    fn count_invalid(&mut self, name: &str) {
        *self
            .stats
            .decoder
            .invalid
            .entry(name.to_string())
            .or_insert(0) += 1;
    }

    /// Processes one captured frame: counts it, sweeps timeouts when a second of capture
    /// time began, decodes it and hands the packet (if any) to `sink`.
    pub(crate) fn process_frame(
        &mut self,
        frame: &Frame<'_>,
        sink: &mut impl PacketSink,
    ) -> io::Result<()> {
        self.pcap_cnt += 1;
        self.stats.capture.packets_read += 1;
        let d = &mut self.stats.decoder;
        d.pkts += 1;
        d.bytes += frame.data.len() as u64;
        match self
            .per_linktype
            .iter_mut()
            .find(|(l, _)| *l == frame.linktype)
        {
            Some((_, n)) => *n += 1,
            None => self.per_linktype.push((frame.linktype, 1)),
        }
        let ts = frame.ts;
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
        }
        if ts < self.last_ts {
            self.stats.capture.timestamps_backwards += 1;
        } else {
            self.last_ts = ts;
        }
        if ts.secs() >= self.next_sweep_secs {
            sink.sweep(ts, self.pcap_cnt)?;
            self.decoder.expire_fragments(ts);
            self.next_sweep_secs = ts.secs().saturating_add(1);
        }

        let decoded = self
            .decoder
            .decode(frame.linktype, frame.data, ts, self.pcap_cnt);
        match decoded {
            Decoded::Packet(p) => sink.packet(&p, self.pcap_cnt)?,
            Decoded::Fragment { .. } => {
                if let Some(done) = self.decoder.take_reassembled() {
                    match done {
                        Ok(p) => {
                            self.stats.decoder.reassembled += 1;
                            sink.packet(&p, self.pcap_cnt)?;
                        }
                        Err(invalid) => self.count_invalid(invalid.name()),
                    }
                    self.decoder.clear_reassembled();
                }
            }
            Decoded::NotIp { ether_type } => {
                let name = match ether_type {
                    0x0806 => "arp".to_string(),
                    0x88cc => "lldp".to_string(),
                    0x8035 => "rarp".to_string(),
                    other => format!("ethertype_{other:#06x}"),
                };
                *self.stats.decoder.non_ip.entry(name).or_insert(0) += 1;
            }
            Decoded::Invalid(invalid) => self.count_invalid(invalid.name()),
        }
        Ok(())
    }

    /// The front end's part of the stats (capture, decoding, fragments).
    pub(crate) fn finish_stats(&self) -> RunStats {
        let mut stats = RunStats {
            capture: self.stats.capture.clone(),
            decoder: self.stats.decoder.clone(),
            ..RunStats::default()
        };
        for (linktype, n) in &self.per_linktype {
            let name = LinkType::from_pcap(*linktype)
                .map_or_else(|| format!("linktype_{linktype}"), |l| l.name().to_string());
            *stats.decoder.linktypes.entry(name).or_insert(0) += n;
        }
        stats.defrag = self.decoder.defrag_stats().clone();
        stats.memory.max_fragments = stats.defrag.max_fragments_held;
        stats
    }
}

impl Worker {
    /// A worker with `1/share` of the flow table's and stream memory's limits (the
    /// threaded runner splits them between its workers).
    pub(crate) fn new(
        settings: &Settings,
        output: EventOutput,
        detect: Option<DetectEngine>,
        share: usize,
    ) -> Worker {
        let app = AppConfig {
            detect: settings.app.clone(),
            inline: settings.simulate_ips,
            midstream: settings.flow.midstream,
            stream: settings.stream.shared_by(share),
            keep_raw: detect.as_ref().is_some_and(|d| d.needs_raw()),
            limits: settings.app_limits,
        };
        let shared = AppShared::new(&app);
        let mut flow_config = settings.flow;
        flow_config.max_flows = flow_config.max_flows.div_ceil(share.max(1));
        Worker {
            flows: FlowTable::new(flow_config),
            core: Core {
                output,
                stats: RunStats::default(),
                detect: detect.filter(|d| !d.is_empty()),
                app,
                shared,
                defrag: settings.defrag.clone(),
                ips: settings.simulate_ips,
                midstream_policy: if settings.flow.midstream {
                    ExceptionPolicy::Ignore
                } else {
                    settings.midstream_policy.effective(settings.simulate_ips)
                },
                tracer: None,
                touched: None,
                touched_dropped: false,
            },
        }
    }

    /// Records every flow's decision (see [`Engine::set_tracer`]).
    pub(crate) fn set_tracer(&mut self, tracer: Tracer) {
        self.core.tracer = Some(tracer);
    }

    pub(crate) fn output_mut(&mut self) -> &mut EventOutput {
        &mut self.core.output
    }

    /// A packet's flow looked up ahead of [`packet_hinted`](Self::packet_hinted).
    pub(crate) fn hint(&self, key: crate::flow::FlowKey, hash: u64) -> FlowHint {
        self.flows.hint(key, hash)
    }

    /// [`PacketSink::packet`] with the packet's flow looked up ahead.
    pub(crate) fn packet_hinted(
        &mut self,
        p: &Packet<'_>,
        pcap_cnt: u64,
        hint: Option<FlowHint>,
    ) -> io::Result<()> {
        self.core.output.set_order(OrderKey::packet(pcap_cnt));
        self.core.track(&mut self.flows, p, hint)
    }

    /// Flows alive now.
    pub(crate) fn active_flows(&self) -> usize {
        self.flows.active()
    }

    /// Ends every flow (end of input): `at` stamps their records, `now` their pseudo
    /// packets. Flows end oldest first.
    pub(crate) fn drain(&mut self, at: Timestamp, now: Timestamp) -> io::Result<()> {
        let mut result = Ok(());
        let core = &mut self.core;
        self.flows.drain(&mut |flow: Flow, reason| {
            if result.is_ok() {
                core.output.set_order(OrderKey::drain(&flow));
                result = core.end_flow(flow, reason, at, now);
            }
        });
        result
    }

    /// The worker's stats (flows, app layer, detection, output) and its detection engine.
    pub(crate) fn finish(mut self) -> io::Result<(RunStats, Option<DetectEngine>)> {
        self.core.output.flush()?;
        let mut stats = self.core.stats;
        stats.flow = self.flows.stats().clone();
        stats.output.netflow = self.core.output.netflow_written();
        stats.output.alert = self.core.output.alerts_written();
        stats.stream.max_bytes_held = self.core.shared.mem.high_water;
        stats.stream.gaps = self.core.shared.gaps;
        stats.stream.raw_dropped = self.core.shared.raw_dropped;
        stats.stream.memcap_drops = self.core.shared.memcap_drops;
        stats.stream.segment_limit_drops = self.core.shared.segment_limit_drops;
        stats.stream.past_depth = self.core.shared.past_depth;
        stats.app_limits = self.core.shared.limit_hits;
        if let Some(d) = &self.core.detect {
            stats.detect.inspected = d.inspected();
            stats.detect.xbits_dropped = d.xbits_dropped();
            stats.detect.threshold_untracked = d.thresholds_untracked();
            stats.detect.recursion_limit_hits = d.recursion_limit_hits();
            stats.detect.prefilter = Some(d.prefilter_summary());
        }
        Ok((stats, self.core.detect.take()))
    }
}

impl PacketSink for Worker {
    fn start_file(&mut self, path: &Path) {
        if let Some(t) = self.core.tracer.as_mut() {
            t.set_capture(&path.display().to_string());
        }
    }

    fn sweep(&mut self, now: Timestamp, pcap_cnt: u64) -> io::Result<()> {
        let mut result = Ok(());
        let Worker { flows, core } = self;
        flows.expire(now, &mut |flow: Flow, reason, order| {
            if result.is_ok() {
                core.output.set_order(OrderKey::sweep(pcap_cnt, order));
                result = core.end_flow(flow, reason, now, now);
            }
        });
        result
    }

    fn packet(&mut self, p: &Packet<'_>, pcap_cnt: u64) -> io::Result<()> {
        self.packet_hinted(p, pcap_cnt, None)
    }

    fn end_file(&mut self) -> io::Result<()> {
        self.core.output.flush()
    }

    fn flows_created(&self) -> u64 {
        self.flows.stats().created
    }
}

fn count_packet(stats: &mut RunStats, p: &Packet<'_>) {
    let d = &mut stats.decoder;
    if p.src.is_ipv4() {
        d.ipv4 += 1;
    } else {
        d.ipv6 += 1;
    }
    match p.vlans.as_slice().len() {
        0 => {}
        1 => d.vlan += 1,
        _ => d.vlan_qinq += 1,
    }
    match (p.transport, p.proto) {
        (Transport::Tcp(_), _) => d.tcp += 1,
        (Transport::Udp { .. }, _) => d.udp += 1,
        (Transport::Icmp { .. }, proto::ICMP) => d.icmpv4 += 1,
        (Transport::Icmp { .. }, _) => d.icmpv6 += 1,
        _ => d.other_ip += 1,
    }
}

/// IDS mode inspects a direction's reassembled bytes once this many are waiting, or
/// sooner when the app layer made progress (Suricata's `toserver-chunk-size`).
const RAW_CHUNK: usize = 2560;

impl Core {
    /// One decoded packet: flow, app layer, detection, alerts, app-layer records.
    fn track(
        &mut self,
        flows: &mut FlowTable,
        p: &Packet<'_>,
        hint: Option<FlowHint>,
    ) -> io::Result<()> {
        self.touched = None;
        self.track_packet(flows, p, hint)?;
        let Some(flow) = self.touched.take().and_then(|s| flows.flow_mut(s)) else {
            return Ok(());
        };
        self.log_proto_events(flow, p)?;
        // A flow dropped inline before this packet is not logged further (its app layer
        // stopped); the packet that dropped it still is.
        if !self.output.types().app_records() || (self.ips && self.touched_dropped) {
            return Ok(());
        }
        let to_server = flow.direction_of(p) == crate::flow::Direction::ToServer;
        let vars = self.detect.as_ref().and_then(|d| d.flow_vars(&flow.detect));
        log_app(
            &mut self.output,
            flow,
            vars.as_ref(),
            p.ts,
            Some((p.pcap_cnt, packet_source(p))),
            to_server,
            false,
        )
    }

    /// The packet's protocol-detection events, as Suricata's anomaly logger writes a
    /// packet's app-layer events (no transaction, layer `proto_detect`).
    fn log_proto_events(&mut self, flow: &mut Flow, p: &Packet<'_>) -> io::Result<()> {
        let events = flow.app.take_proto_events();
        if events[0].is_none() || !self.output.types().anomaly {
            return Ok(());
        }
        let to_server = flow.direction_of(p) == crate::flow::Direction::ToServer;
        let app_proto = flow.app.shown_proto().name();
        let vars = self.detect.as_ref().and_then(|d| d.flow_vars(&flow.detect));
        for e in events.into_iter().flatten() {
            self.output
                .app_event(&crate::output::app_event::AppEventRecord {
                    vars: vars.as_ref(),
                    ts: p.ts,
                    pcap_cnt: p.pcap_cnt,
                    flow,
                    event_type: "anomaly",
                    tx_id: None,
                    packet_to_server: Some(to_server),
                    source: packet_source(p),
                    object: &|o| {
                        crate::app::eve::anomaly_object(o, app_proto, e.name(), "proto_detect")
                    },
                })?;
        }
        Ok(())
    }

    fn track_packet(
        &mut self,
        flows: &mut FlowTable,
        p: &Packet<'_>,
        hint: Option<FlowHint>,
    ) -> io::Result<()> {
        count_packet(&mut self.stats, p);
        let mut result = Ok(());
        let now = p.ts;
        let lookup = flows.process_hinted(p, hint, &mut |flow: Flow, reason| {
            if result.is_ok() {
                result = self.end_flow(flow, reason, now, now);
            }
        });
        result?;
        let Some(l) = lookup else {
            // No flow (a packet Suricata keeps flowless): detection without flow state.
            return self.detect_flowless(p);
        };
        let Some(flow) = flows.flow_mut(l.slot) else {
            return Ok(());
        };
        self.touched = Some(l.slot);
        self.touched_dropped = flow.detect.action == Some(FlowAction::Drop);
        let to_server = l.direction == Direction::ToServer;
        if flow.tcp.is_some_and(|t| !t.has_session()) && flow.detect.action.is_none() {
            // A TCP flow without a handshake: the midstream exception policy.
            match self.midstream_policy {
                ExceptionPolicy::DropFlow | ExceptionPolicy::Reject => {
                    flow.detect.action = Some(FlowAction::Drop);
                    flow.app.stop(&mut self.shared);
                    self.stats.detect.exception_drops += 1;
                    if let Some(t) = self.tracer.as_mut() {
                        t.on_exception(flow, self.midstream_policy.name(), p.pcap_cnt);
                    }
                }
                ExceptionPolicy::PassFlow | ExceptionPolicy::Bypass => {
                    flow.detect.action = Some(FlowAction::Pass);
                }
                ExceptionPolicy::DropPacket => {
                    self.stats.detect.exception_drops += 1;
                    if let Some(t) = self.tracer.as_mut() {
                        t.on_packet(flow, p.pcap_cnt);
                        t.on_exception(flow, self.midstream_policy.name(), p.pcap_cnt);
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        if flow.detect.action == Some(FlowAction::Drop) {
            // Every later packet of a dropped flow is dropped undetected; inline, its
            // stream and app layer stop too.
            self.stats.detect.flow_drop_packets += 1;
            if !self.ips {
                let defrag = &self.defrag;
                flow.app.on_packet(
                    p,
                    to_server,
                    &self.app,
                    &|a| defrag.host_os_for(a),
                    &mut self.shared,
                );
            }
            if let (Some(t), Some(d)) = (self.tracer.as_mut(), self.detect.as_mut()) {
                t.on_packet(flow, p.pcap_cnt);
                inspect_shadow(d, t, flow, p, to_server);
            }
            return Ok(());
        }
        let defrag = &self.defrag;
        // Suricata marks the packet from the flow's flags before the app layer runs, so
        // the packet that brings TLS application data is still inspected.
        let payload_inspection = !flow.app.payload_inspection_off();
        let mut update = flow.app.on_packet(
            p,
            to_server,
            &self.app,
            &|a| defrag.host_os_for(a),
            &mut self.shared,
        );
        if flow.tcp.is_some_and(|t| t.state == TcpState::Closed) {
            // Suricata hands a parser its end of stream on a packet of a closed session
            // (`StreamGetAppLayerFlags`: STREAM_EOF), in the packet's own direction; the
            // other direction gets it with new data, or at the flow's end.
            let eof = flow
                .app
                .flush_direction(to_server, &self.app, &mut self.shared);
            update.detected |= eof.detected;
            update.parsed = [0, 1].map(|i| update.parsed[i] || eof.parsed[i]);
        }
        if update.protocol_changed {
            // Suricata's `StreamTcpDetectLogFlush`: before the packet itself, a pseudo
            // packet per direction runs detection on the old transactions (at their end)
            // and logs them; then the protocol is detected again.
            flow.app.end_transactions();
            let order = if self.ips {
                [to_server, !to_server]
            } else {
                [!to_server, to_server]
            };
            for dir in order {
                if let Some(detect) = self
                    .detect
                    .as_mut()
                    .filter(|_| flow.detect.action.is_none())
                {
                    Self::inspect_pseudo(
                        detect,
                        &mut self.tracer,
                        &mut self.stats,
                        &mut self.output,
                        self.ips,
                        flow,
                        dir,
                        p.ts,
                        false,
                        [false; 2],
                        PacketSource::DetectLogFlush,
                    )?;
                }
                if self.output.types().app_records() {
                    let vars = self.detect.as_ref().and_then(|d| d.flow_vars(&flow.detect));
                    log_app(&mut self.output, flow, vars.as_ref(), p.ts, None, dir, true)?;
                }
            }
            let after = flow.app.change_protocol(&self.app, &mut self.shared);
            flow.detect.reset_transactions();
            update.detected |= after.detected;
            update.parsed = [0, 1].map(|i| update.parsed[i] || after.parsed[i]);
        }
        // Transactions detection is done with are freed (all of them when nothing
        // inspects transactions, or the flow's fate is decided).
        let shadow_below = self
            .tracer
            .as_mut()
            .and_then(|t| t.shadow_of(flow.id))
            .map(|s| s.transactions_done_below());
        let done_below = match &self.detect {
            Some(d) if d.has_tx_rules() && flow.detect.action.is_none() => {
                flow.detect.transactions_done_below()
            }
            // Tracing a decided flow: kept for the rules the decision shadows.
            Some(d) if d.has_tx_rules() && shadow_below.is_some() => {
                shadow_below.unwrap_or(u64::MAX)
            }
            _ => u64::MAX,
        };
        // Transactions whose records are still due stay until they are written.
        let done_below = if self.output.types().app_records() {
            done_below.min(flow.app.first_unlogged())
        } else {
            done_below
        };
        flow.app.release_done(done_below);
        let to_server = if update.reverse {
            // Detection saw server data from the side taken for the client.
            flow.reverse();
            !to_server
        } else {
            to_server
        };
        let established_now = match &flow.tcp {
            Some(t) => t.state >= TcpState::Established,
            None => flow.to_server.pkts > 0 && flow.to_client.pkts > 0,
        };
        // TCP: established once the handshake completed before this packet; the
        // handshake's ACK counts when it carries data (Suricata 7.0.10, bug 7264).
        let established = if flow.tcp.is_some() {
            flow.detect.established || (established_now && !p.payload.is_empty())
        } else {
            established_now
        };
        flow.detect.established = established_now;
        if let Some(t) = self.tracer.as_mut() {
            t.on_packet(flow, p.pcap_cnt);
        }
        let Some(detect) = self.detect.as_mut() else {
            return Ok(());
        };
        if flow.detect.action == Some(FlowAction::Pass) {
            if let Some(t) = self.tracer.as_mut() {
                inspect_shadow(detect, t, flow, p, to_server);
            }
            return Ok(());
        }
        let is_tcp = matches!(p.transport, Transport::Tcp(_));
        let in_stream = is_tcp && update.stored;
        let raw_ready = {
            let (pending, _, trigger) = flow.app.raw_pending(to_server);
            payload_inspection
                && !pending.is_empty()
                && (self.app.inline
                    || trigger
                    || pending.len() >= RAW_CHUNK
                    || flow.tcp.is_some_and(|t| t.past_time_wait()))
        };
        let outcome = {
            let raw = raw_ready.then(|| flow.app.raw_pending(to_server).0);
            let mut view = PacketView {
                to_server: Some(to_server),
                established,
                in_stream,
                raw,
                proto_detected: update.detected,
                payload_inspection,
                app_parsed: update.parsed,
                ..packet_view(p)
            };
            view.header.stream_sizes = flow.tcp.and_then(|t| t.stream_sizes());
            detect.inspect(&view, Some((&mut flow.detect, &flow.app)), p.ts)
        };
        if raw_ready {
            flow.app.take_raw(to_server);
        }
        if flow.app.payload_inspection_off() {
            // Raw reassembly ends with payload inspection: what waited is never inspected.
            flow.app.discard_raw();
        }
        if self.ips && flow.detect.action == Some(FlowAction::Drop) {
            flow.app.stop(&mut self.shared);
        }
        if let Some(t) = self.tracer.as_mut() {
            let at = TracePoint {
                packet: p.pcap_cnt,
                ts: p.ts,
                to_server,
            };
            t.on_outcome(detect, flow, &outcome, &at);
        }
        let written = record_outcome(
            &mut self.stats,
            &mut self.output,
            detect,
            &outcome,
            self.ips,
            // The packet's VLANs, as Suricata's CreateEveHeader (an untagged reply of a flow
            // tracked without VLANs names none).
            &AlertPacket::of(p, p.vlans.as_slice()),
            Some((flow, to_server)),
        );
        flow.app.prune_files(to_server);
        written
    }

    fn count_outcome(stats: &mut RunStats, outcome: &PacketOutcome) {
        let d = &mut stats.detect;
        d.alerts += outcome.alerts.len() as u64;
        d.alerts_suppressed += u64::from(outcome.suppressed);
        d.alert_queue_overflow += u64::from(outcome.overflow);
        if outcome.drop {
            d.drop_packets += 1;
        }
        if outcome.pass {
            d.pass_packets += 1;
        }
    }

    fn detect_flowless(&mut self, p: &Packet<'_>) -> io::Result<()> {
        let Some(detect) = self.detect.as_mut() else {
            return Ok(());
        };
        let outcome = detect.inspect(&packet_view(p), None, p.ts);
        record_outcome(
            &mut self.stats,
            &mut self.output,
            detect,
            &outcome,
            self.ips,
            &AlertPacket::of(p, p.vlans.as_slice()),
            None,
        )
    }

    /// Detection on one of Suricata's pseudo packets (no payload, the direction's raw
    /// stream bytes still waiting): at a flow's end, or flushing before a protocol change.
    #[allow(clippy::too_many_arguments)]
    fn inspect_pseudo(
        detect: &mut DetectEngine,
        tracer: &mut Option<Tracer>,
        stats: &mut RunStats,
        output: &mut EventOutput,
        ips: bool,
        flow: &mut Flow,
        to_server: bool,
        now: Timestamp,
        detected: bool,
        parsed: [bool; 2],
        source: PacketSource,
    ) -> io::Result<()> {
        let raw_waiting = !flow.app.raw_pending(to_server).0.is_empty();
        let (src, dst) = if to_server {
            (flow.client, flow.server)
        } else {
            (flow.server, flow.client)
        };
        let outcome = {
            let raw = raw_waiting.then(|| flow.app.raw_pending(to_server).0);
            let view = PacketView {
                src: src.addr,
                dst: dst.addr,
                sp: src.port,
                dp: dst.port,
                proto: flow.proto,
                icmp: None,
                payload: &[],
                to_server: Some(to_server),
                established: flow.detect.established,
                in_stream: true,
                raw,
                fragment: false,
                proto_detected: detected,
                payload_inspection: !flow.app.payload_inspection_off(),
                pseudo: true,
                app_parsed: parsed,
                // A pseudo packet has no header of its own.
                header: Default::default(),
            };
            detect.inspect(&view, Some((&mut flow.detect, &flow.app)), now)
        };
        flow.app.take_raw(to_server);
        if let Some(t) = tracer.as_mut() {
            let at = TracePoint {
                packet: None,
                ts: now,
                to_server,
            };
            t.on_outcome(detect, flow, &outcome, &at);
        }
        let written = record_outcome(
            stats,
            output,
            detect,
            &outcome,
            ips,
            &AlertPacket {
                ts: now,
                pcap_cnt: None,
                src: src.addr,
                dst: dst.addr,
                sp: src.port,
                dp: dst.port,
                proto: flow.proto,
                icmp: None,
                vlans: flow.vlans.as_slice(),
                source,
                tunnel: None,
            },
            Some((flow, to_server)),
        );
        flow.app.prune_files(to_server);
        written
    }

    /// A flow ended: what its streams still hold goes through the app layer and detection
    /// (Suricata's end-of-flow pseudo packets, `pcap_cnt` absent), then its records are
    /// written. `written_at` stamps the records, `now` the pseudo packets.
    fn end_flow(
        &mut self,
        mut flow: Flow,
        reason: EndReason,
        written_at: Timestamp,
        now: Timestamp,
    ) -> io::Result<()> {
        let session = flow.tcp.is_some_and(|t| t.has_session());
        let dropped = flow.detect.action == Some(FlowAction::Drop);
        if session && !(dropped && self.ips) {
            let open = flow
                .tcp
                .is_some_and(|t| t.state >= TcpState::Established && t.state != TcpState::Closed);
            for to_server in [true, false] {
                let had_data = flow.app.has_pending(to_server);
                let update = flow
                    .app
                    .flush_direction(to_server, &self.app, &mut self.shared);
                let raw_waiting = !flow.app.raw_pending(to_server).0.is_empty();
                let Some(detect) = self.detect.as_mut() else {
                    continue;
                };
                // Suricata's `FlowForceReassemblyNeedReassembly`: a pseudo packet for a
                // direction with data, an open session, or transactions detection is not
                // done with in that direction. (HTTP's: Suricata completes a TLS session's
                // transaction at its end of stream, which rulesim does not model.)
                let txs_left = matches!(flow.app.parser, Parser::Http(_))
                    && flow.detect.inspect_id(to_server) < flow.app.tx_count();
                if flow.detect.action.is_some() || !(had_data || raw_waiting || open || txs_left) {
                    continue;
                }
                Self::inspect_pseudo(
                    detect,
                    &mut self.tracer,
                    &mut self.stats,
                    &mut self.output,
                    self.ips,
                    &mut flow,
                    to_server,
                    now,
                    update.detected,
                    update.parsed,
                    PacketSource::FlowTimeout,
                )?;
            }
        }
        if self.output.types().app_records() && !(dropped && self.ips) {
            let vars = self.detect.as_ref().and_then(|d| d.flow_vars(&flow.detect));
            log_app(
                &mut self.output,
                &mut flow,
                vars.as_ref(),
                now,
                None,
                true,
                true,
            )?;
        }
        flow.app.release(&mut self.shared);
        if flow.detect.action == Some(FlowAction::Drop) {
            self.stats.detect.flows_dropped += 1;
        } else if flow.detect.action == Some(FlowAction::Pass) {
            self.stats.detect.flows_passed += 1;
        }
        if let Some(t) = self.tracer.as_mut() {
            if self.output.in_memory() {
                // A worker thread: the merge hands records on in the one-thread order.
                self.output.trace(t.finish_flow(&flow));
            } else {
                t.on_flow_end(&flow);
            }
        }
        let at_end = flow.app.protocol_at_end();
        let app = at_end.name();
        *self.stats.app_layer.entry(app).or_insert(0) += 1;
        // Each direction's record names that direction's own protocol where detection
        // decided one for it (Suricata's `alproto_ts`/`alproto_tc`), else the flow's.
        let [ts, tc] = flow
            .app
            .direction_protos()
            .map(|p| if p == AppProto::Unknown { at_end } else { p }.name());
        let vars = self.detect.as_ref().and_then(|d| d.flow_vars(&flow.detect));
        self.output
            .flow_ended(&flow, reason, written_at, (ts, tc), vars.as_ref())
    }
}

/// Writes the flow's app-layer records that are due, as Suricata's transaction loggers
/// do: the `tls` record once the handshake is done (decided once: a session without a
/// decoded certificate or TLS 1.3 gets none), each HTTP transaction once its response is
/// complete, each DNS message as it is parsed (a record per question of a query); at the
/// flow's end (`at_end`) every transaction left, complete or not.
#[allow(clippy::too_many_arguments)]
fn log_app(
    output: &mut EventOutput,
    flow: &mut Flow,
    vars: Option<&crate::output::FlowVars>,
    ts: Timestamp,
    packet: Option<(Option<u64>, PacketSource)>,
    to_server: bool,
    at_end: bool,
) -> io::Result<()> {
    // A packet's number and source; else a pseudo packet's.
    let (pcap_cnt, source) = packet.unwrap_or(if flow.app.protocol_change_due() {
        (None, PacketSource::DetectLogFlush)
    } else {
        (None, PacketSource::FlowTimeout)
    });
    use crate::app::eve;
    use crate::output::app_event::AppEventRecord;
    match &flow.app.parser {
        Parser::Tls(t) => {
            if flow.app.logged.tls || !(t.handshake_done || at_end) {
                return Ok(());
            }
            if eve::tls_loggable(t) {
                output.app_event(&AppEventRecord {
                    vars,
                    ts,
                    pcap_cnt,
                    flow,
                    event_type: "tls",
                    tx_id: None,
                    packet_to_server: None,
                    source,
                    object: &|o| eve::tls_object(o, t),
                })?;
            }
            flow.app.logged.tls = true;
        }
        Parser::Http(h) => {
            // Per transaction, as Suricata's tx loggers run: its new anomalies (the
            // wild-card logger), then its http record once it is complete; http records
            // stop at the first incomplete transaction.
            let mut next = flow.app.logged.http_next.max(h.first_id);
            let mut http_blocked = false;
            let mut anomalies_written = Vec::new();
            let mut id = h.first_id;
            while let Some(tx) = h.transaction(id) {
                if output.types().anomaly {
                    for a in tx.anomalies.iter().skip(tx.anomalies_logged) {
                        output.app_event(&AppEventRecord {
                            vars,
                            ts,
                            pcap_cnt,
                            flow,
                            event_type: "anomaly",
                            tx_id: Some(id),
                            packet_to_server: Some(to_server),
                            source,
                            object: &|o| eve::anomaly_object(o, "http", a.name(), "proto_parser"),
                        })?;
                    }
                    if tx.anomalies.len() > tx.anomalies_logged {
                        anomalies_written.push((id, tx.anomalies.len()));
                    }
                }
                if id >= next && !http_blocked {
                    let complete =
                        tx.request.complete && tx.response.as_ref().is_some_and(|r| r.complete);
                    if complete || at_end {
                        output.app_event(&AppEventRecord {
                            vars,
                            ts,
                            pcap_cnt,
                            flow,
                            event_type: "http",
                            tx_id: Some(id),
                            packet_to_server: None,
                            source,
                            object: &|o| eve::http_object(o, tx),
                        })?;
                        next = id + 1;
                    } else {
                        http_blocked = true;
                    }
                }
                id += 1;
            }
            flow.app.logged.http_next = next;
            if let Parser::Http(h) = &mut flow.app.parser {
                for (id, n) in anomalies_written {
                    h.anomalies_logged(id, n);
                }
            }
        }
        Parser::Dns(d) => {
            let mut written = Vec::new();
            for (i, tx) in d.txs.iter().enumerate() {
                if let (Some(q), false) = (&tx.query, tx.logged[0]) {
                    let number = tx.msg[0].unwrap_or(tx.id);
                    for question in 0..q.questions.len() {
                        output.app_event(&AppEventRecord {
                            vars,
                            ts,
                            pcap_cnt,
                            flow,
                            event_type: "dns",
                            tx_id: None,
                            packet_to_server: None,
                            source,
                            object: &|o| eve::dns_query_object(o, q, question, number),
                        })?;
                    }
                    written.push((i, 0));
                }
                if let (Some(r), false) = (&tx.response, tx.logged[1]) {
                    output.app_event(&AppEventRecord {
                        vars,
                        ts,
                        pcap_cnt,
                        flow,
                        event_type: "dns",
                        tx_id: None,
                        packet_to_server: None,
                        source,
                        object: &|o| eve::dns_answer_object(o, r),
                    })?;
                    written.push((i, 1));
                }
            }
            if let Parser::Dns(d) = &mut flow.app.parser {
                for (i, side) in written {
                    if let Some(tx) = d.txs.get_mut(i) {
                        tx.logged[side] = true;
                    }
                }
            }
        }
        Parser::None => {}
    }
    Ok(())
}

/// Tracing: a packet of a flow already passed or dropped goes through detection in the
/// shadow of that decision, to name the rules the decision kept from running.
fn inspect_shadow(
    detect: &mut DetectEngine,
    tracer: &mut Tracer,
    flow: &Flow,
    p: &Packet<'_>,
    to_server: bool,
) {
    let Some(shadow) = tracer.shadow_of(flow.id) else {
        return;
    };
    let established = match &flow.tcp {
        Some(t) => t.state >= TcpState::Established,
        None => flow.to_server.pkts > 0 && flow.to_client.pkts > 0,
    };
    let mut view = PacketView {
        to_server: Some(to_server),
        established,
        payload_inspection: !flow.app.payload_inspection_off(),
        ..packet_view(p)
    };
    view.header.stream_sizes = flow.tcp.and_then(|t| t.stream_sizes());
    let hits = detect.inspect_shadowed(&view, shadow, &flow.app, p.ts);
    let at = TracePoint {
        packet: p.pcap_cnt,
        ts: p.ts,
        to_server,
    };
    tracer.on_shadowed(detect, flow.id, &hits, &at);
}

fn icmp_of(p: &Packet<'_>) -> Option<(u8, u8)> {
    match p.transport {
        Transport::Icmp {
            icmp_type,
            icmp_code,
            ..
        } => Some((icmp_type, icmp_code)),
        _ => None,
    }
}

/// A captured packet as detection sees it; the flow-dependent fields start empty.
fn packet_view<'a>(p: &Packet<'a>) -> PacketView<'a> {
    let (sp, dp) = p.ports();
    PacketView {
        src: p.src,
        dst: p.dst,
        sp,
        dp,
        proto: p.proto,
        icmp: icmp_of(p),
        payload: p.payload,
        to_server: None,
        established: false,
        in_stream: false,
        raw: None,
        fragment: p.pcap_cnt.is_none(),
        proto_detected: false,
        payload_inspection: true,
        pseudo: false,
        app_parsed: [false; 2],
        header: crate::rules::header::HeaderFields {
            // Filled in from the flow's TCP session where there is one.
            stream_sizes: None,
            ttl: Some(p.ttl),
            tcp: p.tcp().map(|t| crate::rules::header::TcpFields {
                flags: t.flags,
                seq: t.seq,
                ack: t.ack,
                window: t.window,
            }),
        },
    }
}

/// Where a packet came from, as EVE's `pkt_src` names it.
fn packet_source(p: &Packet<'_>) -> PacketSource {
    if p.root.is_some() {
        PacketSource::Defrag
    } else {
        PacketSource::Wire
    }
}

impl<'a> AlertPacket<'a> {
    fn of(p: &Packet<'_>, vlans: &'a [u16]) -> Self {
        let (sp, dp) = p.ports();
        AlertPacket {
            ts: p.ts,
            pcap_cnt: p.pcap_cnt,
            src: p.src,
            dst: p.dst,
            sp,
            dp,
            proto: p.proto,
            icmp: icmp_of(p),
            vlans,
            source: packet_source(p),
            tunnel: p.root,
        }
    }
}

/// The packet an alert is about.
struct AlertPacket<'a> {
    ts: Timestamp,
    pcap_cnt: Option<u64>,
    src: std::net::IpAddr,
    dst: std::net::IpAddr,
    sp: u16,
    dp: u16,
    proto: u8,
    icmp: Option<(u8, u8)>,
    vlans: &'a [u16],
    source: PacketSource,
    tunnel: Option<crate::decode::FragmentRoot>,
}

/// What detection decided for a packet: counted in the stats, its alerts written.
fn record_outcome(
    stats: &mut RunStats,
    output: &mut EventOutput,
    detect: &DetectEngine,
    outcome: &PacketOutcome,
    ips: bool,
    p: &AlertPacket<'_>,
    flow: Option<(&Flow, bool)>,
) -> io::Result<()> {
    Core::count_outcome(stats, outcome);
    if outcome.alerts.is_empty() {
        return Ok(());
    }
    let dropped = ips
        && (outcome.drop || flow.is_some_and(|(f, _)| f.detect.action == Some(FlowAction::Drop)));
    let reject = outcome.reject.map(|a| {
        let target = match a {
            Action::RejectDst => "to_server",
            Action::RejectBoth => "both",
            _ => "to_client",
        };
        let kind = if p.proto == proto::TCP {
            "tcp-reset"
        } else {
            "icmp-prohib"
        };
        // The target is named from the packet's side: a reject of a server packet
        // resets towards the server.
        let target = match (target, flow.map(|(_, ts)| ts)) {
            ("to_client", Some(false)) => "to_server",
            ("to_server", Some(false)) => "to_client",
            (t, _) => t,
        };
        (target, kind)
    });
    // EveAddVerdict: a reject or drop first, then a pass rule that matched the packet
    // without alerting (Suricata keeps such a pass after the packet's alerts; a pass rule
    // with the `alert` keyword is one of the alerts instead), else alert.
    let pass_alerted = outcome
        .alerts
        .iter()
        .any(|h| detect.rule_of(h.sig).action == Action::Pass);
    let verdict = Verdict {
        action: if dropped {
            "drop"
        } else if outcome.pass && outcome.reject.is_none() && !pass_alerted {
            "pass"
        } else {
            "alert"
        },
        reject,
    };
    // Suricata's EveAddAppProto: any protocol but "unknown", `failed` included.
    let app_proto = flow.and_then(|(f, _)| match f.app.shown_proto() {
        AppProto::Unknown => None,
        p => Some(p.name()),
    });
    let app_proto_dirs = flow.map_or([None, None], |(f, _)| {
        let shown = f.app.shown_proto();
        f.app
            .direction_protos()
            .map(|p| (p != AppProto::Unknown && p != shown).then(|| p.name()))
    });
    let app_proto_orig = flow.and_then(|(f, _)| match f.app.proto_orig {
        Some(AppProto::Known(orig)) if f.app.shown_proto() != AppProto::Known(orig) => Some(orig),
        _ => None,
    });
    // The flow's variables as they are after the packet: Suricata logs the alerts once
    // detection of the packet is over.
    let vars = flow.and_then(|(f, _)| detect.flow_vars(&f.detect));
    for hit in &outcome.alerts {
        let rule = detect.rule_of(hit.sig);
        let metadata = detect.metadata_of(hit.sig);
        let app_object = flow.and_then(|(f, _)| app_writer(&f.app, hit.tx_id));
        let app = app_object
            .as_ref()
            .map(|(name, w)| (*name, w.as_ref() as &dyn Fn(&mut JsonObject<'_>)));
        let files = flow.map_or(&[][..], |(f, to_server)| {
            tx_files(&f.app, hit.tx_id, to_server)
        });
        let record = AlertRecord {
            ts: p.ts,
            pcap_cnt: p.pcap_cnt,
            src: p.src,
            dst: p.dst,
            sp: p.sp,
            dp: p.dp,
            proto: p.proto,
            icmp: p.icmp,
            vlans: p.vlans,
            source: p.source,
            tunnel: p.tunnel,
            tx_id: hit.tx_id,
            tx_guessed: hit.tx_guessed,
            rule: AlertRule {
                blocked: hit.blocked,
                gid: rule.gid,
                sid: rule.sid,
                rev: rule.rev,
                msg: &rule.msg,
                category: detect.category_of(hit.sig),
                severity: rule.priority,
                metadata,
            },
            app,
            files,
            app_proto,
            app_proto_dirs,
            app_proto_orig,
            flow,
            verdict,
            vars: vars.as_ref(),
        };
        output.alert(&record, hit.threshold, hit.queue)?;
    }
    Ok(())
}

type AppWriter<'a> = (&'static str, Box<dyn Fn(&mut JsonObject<'_>) + 'a>);

/// The app-layer object an alert carries: what the flow's parser knows at alert time
/// about the alert's transaction (the latest one for alerts without a transaction).
/// The app-layer object of an alert: only an alert with a transaction has one (Suricata's
/// `PACKET_ALERT_FLAG_TX`); TLS names the session whatever the id, an HTTP id without its
/// transaction gives an empty object, as Suricata's `AlertAddAppLayer`.
fn app_writer(app: &FlowApp, tx_id: Option<u64>) -> Option<AppWriter<'_>> {
    let tx_id = tx_id?;
    match &app.parser {
        Parser::Tls(t) => Some((
            "tls",
            Box::new(move |o: &mut JsonObject<'_>| crate::app::eve::tls_object(o, t)),
        )),
        Parser::Http(h) => {
            let tx = h.transaction(tx_id);
            Some((
                "http",
                Box::new(move |o: &mut JsonObject<'_>| {
                    if let Some(tx) = tx {
                        crate::app::eve::http_object(o, tx);
                    }
                }),
            ))
        }
        Parser::Dns(d) => {
            let tx = d.txs.iter().find(|t| t.id == tx_id)?;
            // A response's transaction: its `answer` (none without a question, as
            // `rs_dns_do_log_answer`).
            if let Some(r) = tx.response.as_ref() {
                return Some((
                    "dns",
                    Box::new(move |o: &mut JsonObject<'_>| {
                        o.uint("version", 2);
                        if !r.questions.is_empty() {
                            o.object("answer", |a| crate::app::eve::dns_alert_answer_object(a, r));
                        }
                    }),
                ));
            }
            let q = tx.query.as_ref()?;
            let tx_number = tx.id;
            Some((
                "dns",
                Box::new(move |o: &mut JsonObject<'_>| {
                    o.uint("version", 2);
                    let queries: Vec<serde_json::Value> = q
                        .questions
                        .iter()
                        .map(|question| {
                            serde_json::json!({
                                "type": "query",
                                "id": q.id,
                                "rrname": String::from_utf8_lossy(&question.name),
                                "rrtype": crate::app::dns::rrtype_name(question.rrtype),
                                "tx_id": tx_number,
                                "opcode": q.opcode(),
                            })
                        })
                        .collect();
                    let text = serde_json::to_vec(&queries).unwrap_or_else(|_| b"[]".to_vec());
                    o.raw("query", &text);
                }),
            ))
        }
        _ => None,
    }
}

/// The files of an alert's transaction in the packet's direction: an HTTP request's or
/// response's body file (Suricata's `AlertAddFiles`, with its default `metadata` on).
fn tx_files(app: &FlowApp, tx_id: Option<u64>, to_server: bool) -> &[crate::app::http::BodyFile] {
    let (Some(tx_id), Parser::Http(h)) = (tx_id, &app.parser) else {
        return &[];
    };
    let Some(tx) = h.transaction(tx_id) else {
        return &[];
    };
    let file = if to_server {
        tx.request.file.as_ref()
    } else {
        tx.response.as_ref().and_then(|r| r.file.as_ref())
    };
    file.filter(|f| !f.pruned)
        .map_or(&[][..], std::slice::from_ref)
}

/// Runs the engine over `files` in order as one stream. Problems with single files are
/// collected and the run goes on with the next file.
pub fn run_files(
    engine: &mut Engine,
    files: &[PathBuf],
    mut on_packet: impl FnMut(Position, usize, u64),
) -> io::Result<Vec<InputProblem>> {
    let mut problems = Vec::new();
    for (i, file) in files.iter().enumerate() {
        problems.extend(engine.process_file(file, |at, offset| on_packet(at, i, offset))?);
    }
    Ok(problems)
}
