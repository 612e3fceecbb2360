//! Output: EVE JSON records (Suricata 7.0.10's field sets and formats), AWS Network
//! Firewall's log wrapper, and run statistics.

pub mod alert;
pub mod aws;
pub mod eve;
pub mod json;
pub mod stats;

pub use eve::{EveIp, NetflowRecord};

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::flow::{EndReason, Flow};
use crate::time::Timestamp;
use aws::{AwsLogIdentity, AwsRecord};
use eve::FlowOutcome;

/// A JSON-lines file written as the run goes.
struct JsonLines {
    path: PathBuf,
    out: BufWriter<Box<dyn Write + Send>>,
    line: Vec<u8>,
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
            out: BufWriter::with_capacity(256 * 1024, out),
            line: Vec::with_capacity(1024),
        }
    }

    /// Writes a line built by `f` (one complete JSON value). The line is built whole
    /// before it is written, so a failure never leaves half a line behind.
    fn write_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        self.line.clear();
        f(&mut self.line);
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out
            .flush()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
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

/// Where records go: `eve.json`, and with AWS logging `flow.json` and `alert.json`.
pub struct EventOutput {
    eve: Option<JsonLines>,
    aws: Option<(AwsLogIdentity, JsonLines, JsonLines)>,
    netflow_written: u64,
    alerts_written: u64,
}

impl EventOutput {
    /// No files: records are serialised and counted, then dropped (for benchmarks and
    /// library use).
    pub fn discard() -> EventOutput {
        let eve = JsonLines::to_writer(PathBuf::from("(discarded)"), Box::new(io::sink()));
        EventOutput {
            eve: Some(eve),
            aws: None,
            netflow_written: 0,
            alerts_written: 0,
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
        Ok(EventOutput {
            eve,
            aws,
            netflow_written: 0,
            alerts_written: 0,
        })
    }

    pub fn netflow_written(&self) -> u64 {
        self.netflow_written
    }

    pub fn alerts_written(&self) -> u64 {
        self.alerts_written
    }

    /// Writes one alert record (and, with AWS logging, its wrapped copy in `alert.json`).
    pub fn alert(&mut self, record: &alert::AlertRecord<'_>) -> io::Result<()> {
        self.alerts_written += 1;
        if let Some(eve) = self.eve.as_mut() {
            eve.write_with(|buf| record.write_json(buf))?;
        }
        if let Some((id, _, alert_log)) = self.aws.as_mut() {
            alert_log.write_with(|buf| {
                AwsRecord::write_json(id, record.ts.secs(), buf, |b| record.write_json(b))
            })?;
        }
        Ok(())
    }

    /// Writes the netflow records of an ended flow. `written_at` is the record timestamp.
    pub fn flow_ended(
        &mut self,
        flow: &Flow,
        reason: EndReason,
        written_at: Timestamp,
        app_proto: (&str, &str),
    ) -> io::Result<()> {
        let records = NetflowRecord::for_flow(flow, written_at, app_proto.0, app_proto.1, None);
        self.netflow_written += records.len() as u64;
        if let Some(eve) = self.eve.as_mut() {
            for r in &records {
                eve.write_with(|buf| r.write_json(buf))?;
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
                    AwsRecord::write_json(id, r.timestamp().secs(), buf, |b| r.write_json(b))
                })?;
            }
        }
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
