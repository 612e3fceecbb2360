//! The packet path: capture frames -> decoder -> flow table -> output. One engine
//! instance processes all input files as one stream, as Suricata does with `-r dir/`.

use std::io;
use std::path::{Path, PathBuf};

use crate::capture::{CaptureError, CaptureErrorKind, CaptureReader, Frame};
use crate::config::Settings;
use crate::decode::{proto, Decoded, Decoder, LinkType, Packet, Transport};
use crate::flow::{EndReason, Flow, FlowTable};
use crate::output::stats::{peak_rss_kib, RunStats};
use crate::output::EventOutput;
use crate::time::Timestamp;

/// Processes packets and writes records as flows end.
pub struct Engine {
    decoder: Decoder,
    flows: FlowTable,
    output: EventOutput,
    stats: RunStats,
    pcap_cnt: u64,
    /// Time of the run's first packet: Suricata stamps the records of flows still open
    /// at the end of input with it.
    first_ts: Option<Timestamp>,
    last_ts: Timestamp,
    /// Timeouts are checked at most once per second of capture time.
    next_sweep_secs: i64,
    /// Packets per pcap link type (named in the stats at the end).
    per_linktype: Vec<(u32, u64)>,
    detect: crate::app::detect::DetectConfig,
    started: std::time::Instant,
}

/// A problem met while reading the inputs; the run goes on past it.
#[derive(Debug)]
pub struct InputProblem {
    pub error: CaptureError,
    /// Warnings (a truncated tail) do not fail the run.
    pub is_warning: bool,
}

impl Engine {
    pub fn new(settings: &Settings, output: EventOutput) -> Engine {
        Engine {
            decoder: Decoder::new(settings.defrag.clone()),
            flows: FlowTable::new(settings.flow),
            output,
            stats: RunStats::default(),
            pcap_cnt: 0,
            first_ts: None,
            last_ts: Timestamp::ZERO,
            next_sweep_secs: i64::MIN,
            per_linktype: Vec::new(),
            detect: settings.app.clone(),
            started: std::time::Instant::now(),
        }
    }

    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    /// Packets processed so far (the last `pcap_cnt`).
    pub fn packets(&self) -> u64 {
        self.pcap_cnt
    }

    /// Reads one capture file to its end. Returns the problems met (a file that cannot be
    /// read, a bad record that ends it, a truncated tail, packets that could not be used);
    /// everything before a problem has been processed.
    pub fn process_file(
        &mut self,
        path: &Path,
        mut on_packet: impl FnMut(&Engine, u64),
    ) -> io::Result<Vec<InputProblem>> {
        self.stats.capture.files += 1;
        let mut problems = Vec::new();
        let mut reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(error) => {
                self.stats.capture.files_failed += 1;
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
            problems.push(InputProblem {
                error,
                is_warning: false,
            });
            return Ok(problems);
        }
        let mut warned_interface = false;
        let mut warned_linktypes: Vec<u32> = Vec::new();
        loop {
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
                    let offset = frame.offset;
                    self.process_frame(&frame)?;
                    on_packet(self, offset);
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
                    problems.push(InputProblem { error, is_warning });
                    break;
                }
            }
        }
        self.output.flush()?;
        Ok(problems)
    }

    fn count_invalid(&mut self, name: &str) {
        *self
            .stats
            .decoder
            .invalid
            .entry(name.to_string())
            .or_insert(0) += 1;
    }

    /// Processes one captured frame.
    pub fn process_frame(&mut self, frame: &Frame<'_>) -> io::Result<()> {
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
            self.sweep(ts)?;
            self.next_sweep_secs = ts.secs().saturating_add(1);
        }

        let decoded = self
            .decoder
            .decode(frame.linktype, frame.data, ts, self.pcap_cnt);
        match decoded {
            Decoded::Packet(p) => track(
                &mut self.flows,
                &mut self.output,
                &mut self.stats,
                &self.detect,
                &p,
            )?,
            Decoded::Fragment { .. } => {
                if let Some(done) = self.decoder.take_reassembled() {
                    match done {
                        Ok(p) => {
                            self.stats.decoder.reassembled += 1;
                            track(
                                &mut self.flows,
                                &mut self.output,
                                &mut self.stats,
                                &self.detect,
                                &p,
                            )?;
                        }
                        Err(invalid) => {
                            *self
                                .stats
                                .decoder
                                .invalid
                                .entry(invalid.name().to_string())
                                .or_insert(0) += 1;
                        }
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
            Decoded::Invalid(invalid) => {
                *self
                    .stats
                    .decoder
                    .invalid
                    .entry(invalid.name().to_string())
                    .or_insert(0) += 1;
            }
        }
        Ok(())
    }

    fn sweep(&mut self, now: Timestamp) -> io::Result<()> {
        let mut result = Ok(());
        let output = &mut self.output;
        let app_flows = &mut self.stats.app_layer;
        self.flows.expire(now, &mut |flow: Flow, reason| {
            if result.is_ok() {
                result = write_flow(output, app_flows, &flow, reason, now);
            }
        });
        self.decoder.expire_fragments(now);
        result
    }

    /// Ends all flows (end of input), flushes the output and returns the run's stats.
    pub fn finish(mut self) -> io::Result<RunStats> {
        let at = self.first_ts.unwrap_or(Timestamp::ZERO);
        let mut result = Ok(());
        let output = &mut self.output;
        let app_flows = &mut self.stats.app_layer;
        self.flows.drain(&mut |flow: Flow, reason| {
            if result.is_ok() {
                result = write_flow(output, app_flows, &flow, reason, at);
            }
        });
        result?;
        self.output.flush()?;
        let mut stats = self.stats;
        for (linktype, n) in &self.per_linktype {
            let name = LinkType::from_pcap(*linktype)
                .map_or_else(|| format!("linktype_{linktype}"), |l| l.name().to_string());
            *stats.decoder.linktypes.entry(name).or_insert(0) += n;
        }
        stats.flow = self.flows.stats().clone();
        stats.defrag = self.decoder.defrag_stats().clone();
        stats.output.netflow = self.output.netflow_written();
        stats.memory.max_flows = stats.flow.max_active;
        stats.memory.max_fragments = stats.defrag.max_fragments_held;
        stats.memory.peak_rss_kib = peak_rss_kib();
        stats.elapsed_secs = self.started.elapsed().as_secs_f64();
        Ok(stats)
    }
}

fn write_flow(
    output: &mut EventOutput,
    app_flows: &mut std::collections::BTreeMap<&'static str, u64>,
    flow: &Flow,
    reason: EndReason,
    at: Timestamp,
) -> io::Result<()> {
    let app = flow.app.proto.name();
    *app_flows.entry(app).or_insert(0) += 1;
    output.flow_ended(flow, reason, at, (app, app))
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

fn track(
    flows: &mut FlowTable,
    output: &mut EventOutput,
    stats: &mut RunStats,
    detect: &crate::app::detect::DetectConfig,
    p: &Packet<'_>,
) -> io::Result<()> {
    count_packet(stats, p);
    let mut result = Ok(());
    let app_flows = &mut stats.app_layer;
    let now = p.ts;
    let lookup = flows.process(p, &mut |flow: Flow, reason| {
        if result.is_ok() {
            result = write_flow(output, app_flows, &flow, reason, now);
        }
    });
    if let Some(l) = lookup {
        let midstream = flows.midstream();
        if let Some(flow) = flows.flow_mut(l.slot) {
            let to_server = l.direction == crate::flow::Direction::ToServer;
            if flow.app.on_packet(p, to_server, midstream, detect) {
                // Detection saw server data from the side taken for the client.
                flow.reverse();
            }
        }
    }
    result
}

/// Runs the engine over `files` in order as one stream. Problems with single files are
/// collected and the run goes on with the next file.
pub fn run_files(
    engine: &mut Engine,
    files: &[PathBuf],
    mut on_packet: impl FnMut(&Engine, usize, u64),
) -> io::Result<Vec<InputProblem>> {
    let mut problems = Vec::new();
    for (i, file) in files.iter().enumerate() {
        problems.extend(engine.process_file(file, |e, offset| on_packet(e, i, offset))?);
    }
    Ok(problems)
}
