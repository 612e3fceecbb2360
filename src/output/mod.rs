//! Output: EVE JSON records (Suricata 7.0.10's field sets and formats), AWS Network
//! Firewall's log wrapper, and run statistics.

pub mod alert;
pub mod app_event;
pub mod aws;
pub mod eve;
pub mod json;
pub mod order_log;
pub mod stats;

pub use eve::{EveIp, NetflowRecord};

/// Where the packet a record was written for came from: EVE's `pkt_src`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PacketSource {
    /// A packet of the capture.
    #[default]
    Wire,
    /// Suricata's end-of-flow pseudo packet.
    FlowTimeout,
    /// Suricata's pseudo packet flushing detection and logging before the flow's
    /// protocol changes (an HTTP CONNECT tunnel).
    DetectLogFlush,
    /// Suricata's pseudo packet of a reassembled IP datagram.
    Defrag,
}

impl PacketSource {
    pub fn name(self) -> &'static str {
        match self {
            PacketSource::Wire => "wire/pcap",
            PacketSource::FlowTimeout => "stream (flow timeout)",
            PacketSource::DetectLogFlush => "stream (detect/log)",
            PacketSource::Defrag => "defrag",
        }
    }
}

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::flow::{EndReason, Flow};
use crate::time::Timestamp;
use aws::{AwsLogIdentity, AwsRecord};
use eve::FlowOutcome;

/// A JSON-lines file written as the run goes, or lines kept in memory for a merge.
struct JsonLines {
    path: PathBuf,
    out: LineTarget,
    line: Vec<u8>,
}

enum LineTarget {
    File(BufWriter<Box<dyn Write + Send>>),
    /// A worker thread's records, handed to the merge that writes the file.
    Memory(Vec<u8>),
}

impl JsonLines {
    fn create(path: PathBuf) -> io::Result<JsonLines> {
        let file = File::create(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(Self::to_writer(path, Box::new(file)))
    }

    fn to_writer(path: PathBuf, out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines {
            path,
            out: LineTarget::File(BufWriter::with_capacity(256 * 1024, out)),
            line: Vec::with_capacity(1024),
        }
    }

    fn in_memory() -> JsonLines {
        JsonLines {
            path: PathBuf::from("(memory)"),
            out: LineTarget::Memory(Vec::new()),
            line: Vec::new(),
        }
    }

    /// Writes a line built by `f` (one complete JSON value). The line is built whole
    /// before it is written, so a failure never leaves half a line behind.
    fn write_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        match &mut self.out {
            LineTarget::File(out) => {
                self.line.clear();
                f(&mut self.line);
                self.line.push(b'\n');
                out.write_all(&self.line)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
            }
            LineTarget::Memory(buf) => {
                f(buf);
                buf.push(b'\n');
                Ok(())
            }
        }
    }

    /// Writes complete lines as they are.
    fn write_lines(&mut self, lines: &[u8]) -> io::Result<()> {
        match &mut self.out {
            LineTarget::File(out) => out
                .write_all(lines)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))),
            LineTarget::Memory(buf) => {
                buf.extend_from_slice(lines);
                Ok(())
            }
        }
    }

    /// Bytes held in memory so far (0 for a file).
    fn held(&self) -> usize {
        match &self.out {
            LineTarget::File(_) => 0,
            LineTarget::Memory(buf) => buf.len(),
        }
    }

    fn take_held(&mut self) -> Vec<u8> {
        match &mut self.out {
            LineTarget::File(_) => Vec::new(),
            LineTarget::Memory(buf) => std::mem::take(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            LineTarget::File(out) => out
                .flush()
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))),
            LineTarget::Memory(_) => Ok(()),
        }
    }
}

/// A JSON-lines file of serialisable records (`explain.json`); the first write error is
/// kept and returned by [`finish`](Self::finish), later records are dropped.
pub struct JsonLinesFile {
    lines: JsonLines,
    error: Option<io::Error>,
}

impl JsonLinesFile {
    pub fn create(path: PathBuf) -> io::Result<JsonLinesFile> {
        Ok(JsonLinesFile {
            lines: JsonLines::create(path)?,
            error: None,
        })
    }

    pub fn write_serialized<T: serde::Serialize>(&mut self, record: &T) {
        if self.error.is_some() {
            return;
        }
        let mut failed = None;
        let written = self.lines.write_with(|buf| {
            if let Err(e) = serde_json::to_writer(&mut *buf, record) {
                failed = Some(e);
            }
        });
        self.error = match (written, failed) {
            (Err(e), _) => Some(e),
            (_, Some(e)) => Some(io::Error::other(e)),
            _ => None,
        };
    }

    /// Flushes; the first error met, if any.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.lines.flush()
    }
}

/// A flow's variables, as Suricata adds them to its records (`EveAddMetadata`): a
/// `traffic` object for the `traffic/id/` and `traffic/label/` flowbits, then `metadata`
/// with `flowbits` and `flowints`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowVars {
    pub flowbits: Vec<String>,
    pub flowints: Vec<(String, u32)>,
    pub traffic_id: Vec<String>,
    pub traffic_label: Vec<String>,
}

impl FlowVars {
    /// Writes `traffic` (when any) and `metadata`.
    pub fn write_json(&self, o: &mut json::JsonObject<'_>) {
        if !self.traffic_id.is_empty() || !self.traffic_label.is_empty() {
            o.object("traffic", |t| {
                for (key, names) in [("id", &self.traffic_id), ("label", &self.traffic_label)] {
                    if !names.is_empty() {
                        let names: Vec<&str> = names.iter().map(String::as_str).collect();
                        t.string_array(key, &names);
                    }
                }
            });
        }
        o.object("metadata", |m| {
            if !self.flowbits.is_empty() {
                let bits: Vec<&str> = self.flowbits.iter().map(String::as_str).collect();
                m.string_array("flowbits", &bits);
            }
            if !self.flowints.is_empty() {
                m.object("flowints", |i| {
                    for (name, value) in &self.flowints {
                        i.uint(name, u64::from(*value));
                    }
                });
            }
        });
    }
}

/// The record types written to `eve.json` (Suricata's `eve-log.types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EveTypes {
    pub alert: bool,
    pub netflow: bool,
    pub tls: bool,
    pub http: bool,
    pub dns: bool,
    /// App-layer events (Suricata's `anomaly` type with `applayer` events).
    pub anomaly: bool,
}

impl Default for EveTypes {
    /// `alert` and `netflow`.
    fn default() -> Self {
        EveTypes {
            alert: true,
            netflow: true,
            tls: false,
            http: false,
            dns: false,
            anomaly: false,
        }
    }
}

impl EveTypes {
    pub const NAMES: &'static str = "alert, netflow, tls, http, dns, anomaly";

    /// A comma-separated list of type names.
    pub fn parse(list: &str) -> Result<EveTypes, String> {
        let mut t = EveTypes {
            alert: false,
            netflow: false,
            tls: false,
            http: false,
            dns: false,
            anomaly: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let flag = match name {
                "alert" => &mut t.alert,
                "netflow" => &mut t.netflow,
                "tls" => &mut t.tls,
                "http" => &mut t.http,
                "dns" => &mut t.dns,
                "anomaly" => &mut t.anomaly,
                other => {
                    return Err(format!(
                        "unknown EVE record type `{other}` (known: {})",
                        Self::NAMES
                    ))
                }
            };
            *flag = true;
        }
        Ok(t)
    }

    /// Whether any app-layer record type is written.
    pub fn app_records(&self) -> bool {
        self.tls || self.http || self.dns || self.anomaly
    }
}

/// Where records go: `eve.json`, and with AWS logging `flow.json` and `alert.json`.
pub struct EventOutput {
    types: EveTypes,
    eve: Option<JsonLines>,
    aws: Option<(AwsLogIdentity, JsonLines, JsonLines)>,
    netflow_written: u64,
    alerts_written: u64,
    /// In memory (a worker thread): where each record sits in the output order.
    records: Option<Vec<ChunkRecord>>,
    /// In memory: flows' decision records ([`trace`](Self::trace)), in order.
    traces: Vec<crate::trace::FlowRecord>,
    order: OrderKey,
}

/// Where a record belongs in the output of a one-thread run: records are written at a
/// frame (`pcap_cnt`) as flows time out before it (ordered by the flows), then as the
/// frame is processed, and at the end as the remaining flows end (ordered by the flows).
/// The threaded runner merges its workers' records by this key.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct OrderKey {
    frame: u64,
    phase: u8,
    flow: (i64, Timestamp, u64),
}

impl OrderKey {
    /// A flow timed out in the sweep before frame `pcap_cnt`; `order` is
    /// [`ExpiryOrder`](crate::flow::ExpiryOrder).
    pub fn sweep(pcap_cnt: u64, order: crate::flow::ExpiryOrder) -> OrderKey {
        OrderKey {
            frame: pcap_cnt,
            phase: 0,
            flow: order,
        }
    }

    /// Written while frame `pcap_cnt` is processed (one worker processes a frame).
    pub fn packet(pcap_cnt: u64) -> OrderKey {
        OrderKey {
            frame: pcap_cnt,
            phase: 1,
            flow: (0, Timestamp::ZERO, 0),
        }
    }

    /// A flow ended at the end of input (flows end by first packet, then id).
    pub fn drain(flow: &Flow) -> OrderKey {
        OrderKey {
            frame: u64::MAX,
            phase: 2,
            flow: (0, flow.start, flow.id),
        }
    }
}

/// One record (an alert, or a flow's netflow records) in a worker's [`RecordChunk`]: its
/// place in the order and where its lines end in each of the chunk's buffers.
#[derive(Clone, Copy, Debug)]
pub struct ChunkRecord {
    pub order: OrderKey,
    pub eve_end: usize,
    pub flow_log_end: usize,
    pub alert_log_end: usize,
    /// An alert subject to a threshold decided in output order (see
    /// [`ThresholdCheck`](crate::detect::ThresholdCheck)).
    pub threshold: Option<crate::detect::ThresholdCheck>,
    /// A flow's decision record (the chunk's next in `traces`), no lines.
    pub trace: bool,
    /// An alert whose place in its packet's alert queue is decided in output order (see
    /// [`QueuePlace`](crate::detect::QueuePlace)).
    pub queue: Option<crate::detect::QueuePlace>,
}

/// A worker's records since its last chunk, in its order.
#[derive(Debug, Default)]
pub struct RecordChunk {
    pub eve: Vec<u8>,
    pub flow_log: Vec<u8>,
    pub alert_log: Vec<u8>,
    pub records: Vec<ChunkRecord>,
    pub traces: Vec<crate::trace::FlowRecord>,
}

impl EventOutput {
    /// No files: records are serialised and counted, then dropped (for benchmarks and
    /// library use).
    pub fn discard() -> EventOutput {
        let eve = JsonLines::to_writer(PathBuf::from("(discarded)"), Box::new(io::sink()));
        Self::with(Some(eve), None, false)
    }

    fn with(
        eve: Option<JsonLines>,
        aws: Option<(AwsLogIdentity, JsonLines, JsonLines)>,
        in_memory: bool,
    ) -> EventOutput {
        EventOutput {
            types: EveTypes::default(),
            eve,
            aws,
            netflow_written: 0,
            alerts_written: 0,
            records: in_memory.then(Vec::new),
            traces: Vec::new(),
            order: OrderKey::default(),
        }
    }

    /// Creates the log files in `dir` (which must exist).
    pub fn create(dir: &Path, aws: Option<AwsLogIdentity>) -> io::Result<EventOutput> {
        let eve = Some(JsonLines::create(dir.join("eve.json"))?);
        let aws = match aws {
            Some(id) => {
                let flow = JsonLines::create(dir.join("flow.json"))?;
                let alert = JsonLines::create(dir.join("alert.json"))?;
                Some((id, flow, alert))
            }
            None => None,
        };
        Ok(Self::with(eve, aws, false))
    }

    /// Records kept in memory, in chunks, for a merge: the same outputs as `target`
    /// (which may be files).
    pub fn in_memory_like(target: &EventOutput) -> EventOutput {
        let eve = target.eve.as_ref().map(|_| JsonLines::in_memory());
        let aws = target
            .aws
            .as_ref()
            .map(|(id, _, _)| (id.clone(), JsonLines::in_memory(), JsonLines::in_memory()));
        let mut out = Self::with(eve, aws, true);
        out.types = target.types;
        out
    }

    /// Which record types go to `eve.json` (AWS logs are not affected).
    pub fn set_types(&mut self, types: EveTypes) {
        self.types = types;
    }

    pub fn types(&self) -> EveTypes {
        self.types
    }

    /// Writes an app-layer record (`tls`, `http` or `dns`) when its type is wanted.
    pub fn app_event(&mut self, record: &app_event::AppEventRecord<'_>) -> io::Result<()> {
        let wanted = match record.event_type {
            "tls" => self.types.tls,
            "http" => self.types.http,
            "dns" => self.types.dns,
            "anomaly" => self.types.anomaly,
            _ => false,
        };
        if !wanted {
            return Ok(());
        }
        if let Some(eve) = self.eve.as_mut() {
            eve.write_with(|buf| record.write_json(buf))?;
        }
        self.end_record(None, None);
        Ok(())
    }

    /// Where the next records belong in the output order.
    pub fn set_order(&mut self, order: OrderKey) {
        self.order = order;
    }

    /// Marks the end of a record written to memory.
    fn end_record(
        &mut self,
        threshold: Option<crate::detect::ThresholdCheck>,
        queue: Option<crate::detect::QueuePlace>,
    ) {
        let Some(records) = self.records.as_mut() else {
            return;
        };
        let (flow_log_end, alert_log_end) = self
            .aws
            .as_ref()
            .map_or((0, 0), |(_, f, a)| (f.held(), a.held()));
        records.push(ChunkRecord {
            order: self.order,
            eve_end: self.eve.as_ref().map_or(0, JsonLines::held),
            flow_log_end,
            alert_log_end,
            threshold,
            trace: false,
            queue,
        });
    }

    /// Whether records are kept in memory for a merge (a worker thread's output).
    pub fn in_memory(&self) -> bool {
        self.records.is_some()
    }

    /// Keeps a flow's decision record in its place in the order (in memory only; a
    /// file-backed output has no use for it).
    pub fn trace(&mut self, record: crate::trace::FlowRecord) {
        self.end_record(None, None);
        if let Some(last) = self.records.as_mut().and_then(|r| r.last_mut()) {
            last.trace = true;
            self.traces.push(record);
        }
    }

    /// The records held in memory since the last call.
    pub fn take_chunk(&mut self) -> RecordChunk {
        let records = self
            .records
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let eve = self
            .eve
            .as_mut()
            .map(JsonLines::take_held)
            .unwrap_or_default();
        let (flow_log, alert_log) = match self.aws.as_mut() {
            Some((_, f, a)) => (f.take_held(), a.take_held()),
            None => (Vec::new(), Vec::new()),
        };
        RecordChunk {
            eve,
            flow_log,
            alert_log,
            records,
            traces: std::mem::take(&mut self.traces),
        }
    }

    /// Writes complete lines taken from a worker's chunk.
    pub fn write_lines(&mut self, eve: &[u8], flow_log: &[u8], alert_log: &[u8]) -> io::Result<()> {
        if let Some(out) = self.eve.as_mut() {
            out.write_lines(eve)?;
        }
        if let Some((_, f, a)) = self.aws.as_mut() {
            f.write_lines(flow_log)?;
            a.write_lines(alert_log)?;
        }
        Ok(())
    }

    pub fn netflow_written(&self) -> u64 {
        self.netflow_written
    }

    pub fn alerts_written(&self) -> u64 {
        self.alerts_written
    }

    /// Writes one alert record (and, with AWS logging, its wrapped copy in `alert.json`).
    /// `threshold`, `queue`: in memory, the alert is kept only if the merge's threshold
    /// check allows it and it finds a place in its packet's alert queue.
    pub fn alert(
        &mut self,
        record: &alert::AlertRecord<'_>,
        threshold: Option<crate::detect::ThresholdCheck>,
        queue: Option<crate::detect::QueuePlace>,
    ) -> io::Result<()> {
        self.alerts_written += 1;
        if let Some(eve) = self.eve.as_mut().filter(|_| self.types.alert) {
            eve.write_with(|buf| record.write_json(buf))?;
        }
        if let Some((id, _, alert_log)) = self.aws.as_mut() {
            alert_log.write_with(|buf| {
                AwsRecord::write_json(id, record.ts.secs(), buf, |b| record.write_json(b))
            })?;
        }
        self.end_record(threshold, queue);
        Ok(())
    }

    /// Writes the netflow records of an ended flow. `written_at` is the record timestamp.
    pub fn flow_ended(
        &mut self,
        flow: &Flow,
        reason: EndReason,
        written_at: Timestamp,
        app_proto: (&str, &str),
        vars: Option<&FlowVars>,
    ) -> io::Result<()> {
        let records = NetflowRecord::for_flow(flow, written_at, app_proto.0, app_proto.1, None);
        self.netflow_written += records.len() as u64;
        if let Some(eve) = self.eve.as_mut().filter(|_| self.types.netflow) {
            for r in &records {
                eve.write_with(|buf| r.write_json(buf, vars))?;
            }
        }
        if let Some((id, flow_log, _)) = self.aws.as_mut() {
            let outcome = FlowOutcome {
                state: flow.state,
                reason,
                alerted: false,
            };
            for r in
                NetflowRecord::for_flow(flow, written_at, app_proto.0, app_proto.1, Some(outcome))
            {
                flow_log.write_with(|buf| {
                    AwsRecord::write_json(id, r.timestamp().secs(), buf, |b| r.write_json(b, vars))
                })?;
            }
        }
        self.end_record(None, None);
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(eve) = self.eve.as_mut() {
            eve.flush()?;
        }
        if let Some((_, flow, alert)) = self.aws.as_mut() {
            flow.flush()?;
            alert.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::EveTypes;

    #[test]
    fn eve_types_parse_names_and_refuse_unknown_ones() {
        let t = EveTypes::parse("alert, tls,dns").expect("valid list");
        assert!(t.alert && t.tls && t.dns && !t.netflow && !t.http);
        assert!(t.app_records());
        assert!(!EveTypes::default().app_records());
        let e = EveTypes::parse("alert,flow").expect_err("flow is not written");
        assert!(e.contains("`flow`") && e.contains("netflow"), "{e}");
    }
}
