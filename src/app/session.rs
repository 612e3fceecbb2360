//! A flow's application layer: TCP reassembly per direction with Suricata's two timings,
//! protocol detection, and the parser the detected protocol gets (TLS, HTTP, DNS).
//!
//! Timing decides on which packet a direction's bytes reach the parsers, and so on which
//! packet app-layer rules see them:
//! * **inline** (`--simulate-ips`, AWS): a segment's bytes are parsed on the packet that
//!   carries them (once contiguous);
//! * **IDS** (plain `-r`): a direction's bytes are parsed when the other side ACKs them, on
//!   that ACK's packet (Suricata's `UPDATE_DIR_OPPOSING`); what is left at the end of the
//!   flow is flushed by [`FlowApp::flush`] (Suricata's end-of-flow pseudo packets).
//!
//! The same bytes also go to a per-direction window for raw-stream rules, which the
//! detection engine takes with [`FlowApp::take_raw`].

use std::net::IpAddr;

use crate::decode::{tcp_flags, HostOs, Packet, Transport};
use crate::stream::{AppChunk, MemBudget, OverlapPolicy, StreamBuffer, StreamConfig};

use super::detect::{krb5_message, server_side, sip_probe, AppProto};
use super::detect::{probe_tcp, DetectConfig, Probe};
use super::{dns, http, tls, AppLimitHits, AppLimits};

/// Bytes of a direction probed before it gives up.
const PROBE_BYTES: usize = 2048;
/// Raw-stream bytes kept per direction until inspected; older bytes are dropped (counted).
pub const RAW_WINDOW: usize = 64 * 1024;

/// How the application layer of every flow is run.
#[derive(Clone, Debug, Default)]
pub struct AppConfig {
    pub detect: DetectConfig,
    /// Inline timing (`--simulate-ips`).
    pub inline: bool,
    /// `stream.midstream`.
    pub midstream: bool,
    pub stream: StreamConfig,
    /// Keep reassembled bytes for raw-stream rules (only when some rule inspects them).
    pub keep_raw: bool,
    /// The parsers' limits.
    pub limits: AppLimits,
}

/// Shared state of all flows' application layers: the reassembly memcap and counters.
#[derive(Clone, Debug)]
pub struct AppShared {
    pub mem: MemBudget,
    /// Raw-stream bytes dropped because a window was full.
    pub raw_dropped: u64,
    /// Reassembly gaps met by parsers.
    pub gaps: u64,
    /// Segments refused because the memcap was reached, or past the depth.
    pub memcap_drops: u64,
    pub past_depth: u64,
    /// Segments refused because their direction held `max_segments` already.
    pub segment_limit_drops: u64,
    /// Parser limits reached.
    pub limit_hits: AppLimitHits,
}

impl AppShared {
    pub fn new(config: &AppConfig) -> Self {
        AppShared {
            mem: MemBudget::new(config.stream.memcap),
            raw_dropped: 0,
            gaps: 0,
            memcap_drops: 0,
            past_depth: 0,
            segment_limit_drops: 0,
            limit_hits: AppLimitHits::default(),
        }
    }
}

/// The parser of a flow's detected protocol.
#[derive(Debug, Default)]
pub enum Parser {
    #[default]
    None,
    Tls(Box<tls::TlsSession>),
    Http(Box<http::HttpSession>),
    Dns(Box<DnsState>),
}

/// One DNS transaction: a query and the response with the same id.
#[derive(Clone, Debug)]
pub struct DnsTx {
    pub id: u64,
    pub query: Option<dns::Message>,
    pub response: Option<dns::Message>,
    /// Query and response: the message's number in the flow, which is its transaction
    /// id in Suricata 7.0.10 (each DNS message is a transaction there).
    pub msg: [Option<u64>; 2],
    /// Query and response: its `dns` record was written.
    pub logged: [bool; 2],
}

/// DNS messages of a flow as transactions.
#[derive(Clone, Debug, Default)]
pub struct DnsState {
    tcp: [dns::TcpReader; 2],
    pub txs: std::collections::VecDeque<DnsTx>,
    next_id: u64,
    /// DNS messages parsed so far.
    messages: u64,
    /// Transactions kept; the oldest is dropped beyond (at least 1).
    max_tx: usize,
    /// Limits reached since they were last taken.
    hits: dns::DnsLimitHits,
}

impl DnsState {
    fn new(max_tx: usize) -> DnsState {
        DnsState {
            max_tx: max_tx.max(1),
            ..DnsState::default()
        }
    }

    /// A parsed message, or the error that skipped it (limits counted).
    fn message(&mut self, parsed: Result<dns::Message, dns::DnsError>) {
        match parsed {
            Ok(msg) => self.add(msg),
            Err(e) => self.hits.count(&e),
        }
    }

    /// Each message is a transaction of its own, as Suricata 7.0.10 makes it (a response
    /// is not paired with its query): a query's is inspected by rules to the server, a
    /// response's by rules to the client.
    fn add(&mut self, msg: dns::Message) {
        let number = self.messages;
        self.messages += 1;
        let tx = if msg.is_response() {
            DnsTx {
                id: 0,
                query: None,
                response: Some(msg),
                msg: [None, Some(number)],
                logged: [false; 2],
            }
        } else {
            DnsTx {
                id: 0,
                query: Some(msg),
                response: None,
                msg: [Some(number), None],
                logged: [false; 2],
            }
        };
        self.push(tx);
    }

    /// The first transaction with a message whose record is not written yet.
    fn first_unlogged(&self) -> u64 {
        self.txs
            .iter()
            .find(|t| (t.query.is_some() && !t.logged[0]) || (t.response.is_some() && !t.logged[1]))
            .map_or(u64::MAX, |t| t.id)
    }

    /// Drops the transactions with an id below `below` (each is one message, complete
    /// once parsed), the newest kept.
    fn release_done(&mut self, below: u64) {
        while self.txs.len() > 1 && self.txs.front().is_some_and(|t| t.id < below) {
            self.txs.pop_front();
        }
    }

    fn push(&mut self, mut tx: DnsTx) {
        tx.id = self.next_id;
        self.next_id += 1;
        while self.txs.len() >= self.max_tx.max(1) {
            self.txs.pop_front();
            self.hits.tx_dropped += 1;
        }
        self.txs.push_back(tx);
    }
}

#[derive(Clone, Debug)]
struct TcpDirection {
    stream: StreamBuffer,
    /// Stream offset of the direction's FIN, once seen: the sequence number it takes is
    /// no data, so an ACK past it is no gap.
    fin_at: Option<u64>,
    /// A hole was skipped: the parser of this direction stops (its state is unknown).
    gap: bool,
}

/// Bytes Suricata 7.0.10's protocol pattern matcher needs before it gives up on a
/// direction (to server, to client): the depth of its deepest pattern, measured on
/// captures of unrecognised bytes of every length (tests/proto_detect.rs).
const PATTERN_DEPTH: [usize; 2] = [25, 9];

/// Protocol detection in progress: each direction's first bytes.
#[derive(Clone, Debug, Default)]
struct Detection {
    seen: [Vec<u8>; 2],
    gave_up: [bool; 2],
}

/// What one packet did to the application layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppUpdate {
    /// The flow must be reversed: a mid-stream session whose "client" sent server data.
    pub reverse: bool,
    /// Protocol detection finished on this packet.
    pub detected: bool,
    /// The parser consumed bytes of this direction (0 to server, 1 to client).
    pub parsed: [bool; 2],
    /// The packet's payload went into its direction's stream (Suricata's
    /// `PKT_STREAM_ADD`): stream rules see it there, not on the packet.
    pub stored: bool,
    /// The protocol changed (an HTTP CONNECT tunnel opened): detection starts again and
    /// the transactions of the old parser are over.
    pub protocol_changed: bool,
}

/// Reassembled bytes waiting for raw-stream rules, per direction.
#[derive(Clone, Debug, Default)]
struct RawWindows {
    /// Bytes not yet inspected.
    data: [Vec<u8>; 2],
    /// Stream offset of the first byte in `data`.
    offset: [u64; 2],
    /// Bytes ever delivered (the stream's right edge).
    delivered: [u64; 2],
    /// App-layer progress since the last inspection (Suricata's raw trigger).
    trigger: [bool; 2],
}

/// Application-layer state of one flow.
#[derive(Debug, Default)]
pub struct FlowApp {
    pub proto: AppProto,
    pub parser: Parser,
    /// What the app-layer records (`tls`, `http`, `dns`) have written of the flow.
    pub logged: AppLogged,
    /// The protocol before a change (Suricata's `alproto_orig`): an HTTP CONNECT tunnel.
    pub proto_orig: Option<AppProto>,
    detection: Option<Box<Detection>>,
    streams: Option<Box<[Option<TcpDirection>; 2]>>,
    /// UDP: the direction's first packet with data was probed.
    udp_tried: [bool; 2],
    /// The session was picked up mid-stream (no SYN seen).
    midstream_session: bool,
    /// Raw-stream windows, when some rule inspects the raw stream.
    raw: Option<Box<RawWindows>>,
    /// The flow was dropped in inline mode: its stream and parsers stop.
    stopped: bool,
    /// Bumped whenever a parser consumed bytes: transactions may have progressed.
    pub generation: u64,
    /// The flow's ports are DNS detection ports / Kerberos' port (probing hints).
    port_hints: (bool, bool),
    /// A direction whose bytes nothing needs any more: its stream was released.
    released: [bool; 2],
    /// Each direction's own detection result (see [`FlowApp::direction_protos`]), kept
    /// small: the flow's slot is copied and cached per packet.
    dir_proto: [DirProto; 2],
    /// A protocol one direction found other than the flow's (only one can).
    other_proto: Option<&'static str>,
    /// Protocol-detection events waiting to be logged with their packet.
    proto_events: [Option<ProtoDetectEvent>; 2],
}

/// One direction's own detection result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum DirProto {
    #[default]
    Unknown,
    /// The flow's protocol.
    Flow,
    /// Another protocol (`FlowApp::other_proto`).
    Other,
    Failed,
}

/// Suricata's protocol-detection events (`app-layer-events.c`, layer `proto_detect`)
/// that rulesim raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoDetectEvent {
    DetectProtocolOnlyOneDirection,
    MismatchProtocolBothDirections,
}

impl ProtoDetectEvent {
    /// The event's name in EVE.
    pub fn name(self) -> &'static str {
        match self {
            ProtoDetectEvent::DetectProtocolOnlyOneDirection => {
                "APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION"
            }
            ProtoDetectEvent::MismatchProtocolBothDirections => {
                "APPLAYER_MISMATCH_PROTOCOL_BOTH_DIRECTIONS"
            }
        }
    }
}

/// How far a flow's app-layer records are written.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppLogged {
    /// The `tls` record (one per flow).
    pub tls: bool,
    /// The next HTTP transaction whose `http` record is due.
    pub http_next: u64,
}

fn idx(to_server: bool) -> usize {
    usize::from(!to_server)
}

impl FlowApp {
    /// Whether the flow has a TCP session with reassembly (a SYN was seen, or a mid-stream
    /// pick-up with `stream.midstream`). Without one, stream rules see the packet.
    pub fn has_stream(&self, to_server: bool) -> bool {
        self.streams
            .as_ref()
            .is_some_and(|s| s[idx(to_server)].is_some())
    }

    /// Whether the flow's packet payloads and raw stream are no longer inspected: a TLS
    /// session reached application data (Suricata's `FLOW_NOPAYLOAD_INSPECTION` under the
    /// default `encryption-handling`).
    pub fn payload_inspection_off(&self) -> bool {
        matches!(&self.parser, Parser::Tls(t) if t.app_data)
    }

    /// Frees the transactions detection is done with (ids below `below`; `u64::MAX` when
    /// nothing inspects transactions), as Suricata cleans up transactions once inspected.
    pub fn release_done(&mut self, below: u64) {
        match &mut self.parser {
            Parser::Http(h) => h.release_done(below),
            Parser::Dns(d) => d.release_done(below),
            Parser::Tls(_) | Parser::None => {}
        }
    }

    /// The end of a packet's processing: closed files of its direction are dropped from
    /// their transactions (see [`HttpSession::prune_files`](super::http::HttpSession::prune_files)).
    pub fn prune_files(&mut self, to_server: bool) {
        if let Parser::Http(h) = &mut self.parser {
            h.prune_files(to_server);
        }
    }

    /// The first transaction whose app-layer record is still to be written (when such
    /// records are written, transactions below it only may be freed).
    pub fn first_unlogged(&self) -> u64 {
        match &self.parser {
            Parser::Http(_) => self.logged.http_next,
            Parser::Dns(d) => d.first_unlogged(),
            Parser::Tls(_) | Parser::None => u64::MAX,
        }
    }

    /// Stops all further app-layer work (a dropped flow in inline mode).
    pub fn stop(&mut self, shared: &mut AppShared) {
        self.stopped = true;
        self.release(shared);
    }

    /// Returns the flow's stream memory to the memcap (the flow ended).
    pub fn release(&mut self, shared: &mut AppShared) {
        if let Some(streams) = self.streams.as_mut() {
            for d in streams.iter_mut().flatten() {
                d.stream.clear(&mut shared.mem);
            }
        }
        self.streams = None;
        self.raw = None;
    }

    /// Raw-stream bytes of a direction waiting for inspection, with the stream offset of
    /// the first one, and whether the app layer made progress since the last inspection.
    pub fn raw_pending(&self, to_server: bool) -> (&[u8], u64, bool) {
        let i = idx(to_server);
        match &self.raw {
            Some(r) => (&r.data[i], r.offset[i], r.trigger[i]),
            None => (&[], 0, false),
        }
    }

    /// Takes the pending raw bytes of a direction (they have been inspected).
    pub fn take_raw(&mut self, to_server: bool) -> Vec<u8> {
        let i = idx(to_server);
        match self.raw.as_mut() {
            Some(r) => {
                r.trigger[i] = false;
                r.offset[i] = r.delivered[i];
                std::mem::take(&mut r.data[i])
            }
            None => Vec::new(),
        }
    }

    /// Looks at one packet of the flow (`to_server`: sent by the client).
    pub fn on_packet(
        &mut self,
        p: &Packet<'_>,
        to_server: bool,
        config: &AppConfig,
        host_os: &dyn Fn(IpAddr) -> Option<HostOs>,
        shared: &mut AppShared,
    ) -> AppUpdate {
        let mut update = AppUpdate::default();
        if self.stopped {
            return update;
        }
        match p.transport {
            Transport::Udp { .. } => self.on_udp(p, to_server, config, shared, &mut update),
            Transport::Tcp(t) => {
                if self.released == [true, true] {
                    return update;
                }
                let i = idx(to_server);
                if self.streams.is_none() {
                    let (sp, dp) = p.ports();
                    self.port_hints = (
                        config.detect.dns_ports.iter().any(|&d| d == sp || d == dp),
                        sp == 88 || dp == 88,
                    );
                }
                let syn = t.flags & tcp_flags::SYN != 0;
                let ack = t.flags & tcp_flags::ACK != 0;
                let streams = self.streams.get_or_insert_with(|| Box::new([None, None]));
                let new_direction = |seq: u32, receiver: IpAddr| TcpDirection {
                    stream: StreamBuffer::new(
                        seq,
                        OverlapPolicy::for_host(host_os(receiver)),
                        config.inline,
                        &config.stream,
                    ),
                    gap: false,
                    fin_at: None,
                };
                let released = self.released[i];
                if released {
                    // Nothing needs this direction's bytes; its ACKs still matter.
                } else if syn {
                    // No client SYN, no session: a flow picked up at its SYN/ACK is not
                    // parsed (stream.midstream: false).
                    let opens = (to_server && !ack) || (!to_server && ack && streams[0].is_some());
                    if opens && streams[i].is_none() {
                        streams[i] = Some(new_direction(t.seq.wrapping_add(1), p.dst));
                    }
                } else if streams[i].is_none() && config.midstream && !p.payload.is_empty() {
                    streams[i] = Some(new_direction(t.seq, p.dst));
                    if streams[1 - i].is_none() {
                        self.midstream_session = true;
                    }
                }
                // Data on a SYN is reassembled only with TCP Fast Open (the client's SYN
                // carrying the option, as Suricata 7 does); a segment reaching before the
                // stream's start is not "added" either: stream rules see such packets
                // themselves.
                let fast_open = syn && t.tfo && to_server && !ack;
                if !p.payload.is_empty() && (!syn || fast_open) && !released {
                    let seq = if fast_open {
                        t.seq.wrapping_add(1)
                    } else {
                        t.seq
                    };
                    if let Some(d) = streams[i].as_mut() {
                        let starts_inside = d.stream.offset_of(seq) >= 0;
                        let inserted = d.stream.insert(seq, p.payload, &mut shared.mem);
                        match inserted {
                            crate::stream::Inserted::NoMemory => shared.memcap_drops += 1,
                            crate::stream::Inserted::PastDepth => shared.past_depth += 1,
                            crate::stream::Inserted::TooManySegments => {
                                shared.segment_limit_drops += 1
                            }
                            _ => {}
                        }
                        update.stored = starts_inside
                            && matches!(inserted, crate::stream::Inserted::Stored { .. });
                    }
                }
                if t.flags & tcp_flags::FIN != 0 {
                    if let Some(d) = streams[i].as_mut() {
                        let end = d.stream.offset_of(t.seq) + p.payload.len() as i64;
                        d.fin_at = Some(end.max(0) as u64);
                    }
                }
                if config.inline {
                    self.deliver(to_server, None, config, shared, &mut update);
                } else if ack && !syn {
                    // (A SYN/ACK hands nothing on: Suricata reassembles the opposing
                    // stream from established packets; a Fast Open SYN's data waits.)
                    let o = 1 - i;
                    let limit = self.streams.as_ref().and_then(|s| s[o].as_ref()).map(|d| {
                        let off = d.stream.offset_of(t.ack).max(0) as u64;
                        d.fin_at.map_or(off, |f| off.min(f))
                    });
                    if let Some(limit) = limit {
                        self.deliver(!to_server, Some(limit), config, shared, &mut update);
                    }
                }
                self.release_unneeded(config, shared);
            }
            _ => {}
        }
        update
    }

    /// Whether a direction's stream holds bytes not yet handed on.
    pub fn has_pending(&self, to_server: bool) -> bool {
        self.streams
            .as_ref()
            .and_then(|s| s[idx(to_server)].as_ref())
            .is_some_and(|d| d.stream.held() > 0)
    }

    /// Whether anything still needs a direction's bytes: protocol detection, a parser
    /// before its handshake is over, or raw-stream rules.
    fn needs_bytes(&self, i: usize, config: &AppConfig) -> bool {
        if config.keep_raw && !self.payload_inspection_off() {
            return true;
        }
        match self.proto {
            AppProto::Unknown => !self.detection.as_ref().is_some_and(|d| d.gave_up[i]),
            AppProto::Failed => false,
            AppProto::Known(_) => match &self.parser {
                Parser::None => false,
                Parser::Tls(t) => !t.done(i == 0),
                Parser::Http(_) | Parser::Dns(_) => true,
            },
        }
    }

    /// Frees the streams of directions whose bytes nothing needs (most of a capture's
    /// bytes, in flows of protocols rulesim does not parse, or after a TLS handshake).
    fn release_unneeded(&mut self, config: &AppConfig, shared: &mut AppShared) {
        for i in 0..2 {
            let held = self.streams.as_ref().is_some_and(|s| s[i].is_some());
            if held && !self.needs_bytes(i, config) {
                if let Some(d) = self.streams.as_mut().and_then(|s| s[i].take()) {
                    let mut d = d;
                    d.stream.clear(&mut shared.mem);
                }
                self.released[i] = true;
            }
        }
        if self
            .streams
            .as_ref()
            .is_some_and(|s| s.iter().all(Option::is_none))
            && self.released != [false, false]
        {
            self.streams = None;
        }
    }

    /// End of the flow, one direction (Suricata's pseudo packet of that direction):
    /// everything its stream holds is handed on, and the stream ends.
    pub fn flush_direction(
        &mut self,
        to_server: bool,
        config: &AppConfig,
        shared: &mut AppShared,
    ) -> AppUpdate {
        let mut update = AppUpdate::default();
        if self.stopped {
            return update;
        }
        self.deliver(to_server, None, config, shared, &mut update);
        if let Parser::Http(h) = &mut self.parser {
            if !h.end(to_server).is_empty() {
                update.parsed[idx(to_server)] = true;
                self.generation += 1;
            }
        }
        update
    }

    /// The flow's directions swapped (a mid-stream pick-up that started from the server).
    pub fn reverse(&mut self) {
        if let Some(s) = self.streams.as_mut() {
            s.swap(0, 1);
        }
        if let Some(r) = self.raw.as_mut() {
            r.data.swap(0, 1);
            r.offset.swap(0, 1);
            r.delivered.swap(0, 1);
            r.trigger.swap(0, 1);
        }
        self.udp_tried.swap(0, 1);
        self.released.swap(0, 1);
        self.dir_proto.swap(0, 1);
        if let Some(d) = self.detection.as_mut() {
            d.seen.swap(0, 1);
            d.gave_up.swap(0, 1);
        }
    }

    fn on_udp(
        &mut self,
        p: &Packet<'_>,
        to_server: bool,
        config: &AppConfig,
        shared: &mut AppShared,
        update: &mut AppUpdate,
    ) {
        if p.payload.is_empty() {
            return;
        }
        let i = idx(to_server);
        let retry = self.proto == AppProto::Failed && !self.udp_tried[i];
        if self.proto == AppProto::Unknown || retry {
            let (sp, dp) = p.ports();
            let dns_port = config.detect.dns_ports.iter().any(|&d| d == sp || d == dp);
            let krb5_port = sp == 88 || dp == 88;
            self.proto = if dns_port && dns::probe(p.payload) {
                AppProto::Known("dns")
            } else if krb5_port && krb5_message(p.payload) {
                AppProto::Known("krb5")
            } else if sip_probe(p.payload) {
                AppProto::Known("sip")
            } else {
                // Suricata fails a UDP flow at its first undetected packet; the other
                // direction's first packet may still name the protocol.
                AppProto::Failed
            };
            self.udp_tried[i] = true;
            if let AppProto::Known(name) = self.proto {
                update.detected = true;
                self.parser = new_parser(name, &config.limits);
            }
        }
        if let Parser::Dns(d) = &mut self.parser {
            d.message(dns::parse_message(p.payload));
            shared.limit_hits.dns.add(&std::mem::take(&mut d.hits));
            update.parsed[i] = true;
            self.generation += 1;
        }
    }

    /// Hands a direction's contiguous bytes (up to `limit`) to detection and the parser.
    fn deliver(
        &mut self,
        to_server: bool,
        limit: Option<u64>,
        config: &AppConfig,
        shared: &mut AppShared,
        update: &mut AppUpdate,
    ) {
        let i = idx(to_server);
        // The streams are set aside while their bytes are handed on, so that the parsers
        // read them in place (no copy per chunk).
        let Some(mut streams) = self.streams.take() else {
            return;
        };
        if let Some(d) = streams[i].as_mut() {
            loop {
                let chunk = match d.stream.next_app_chunk(limit) {
                    None => break,
                    Some(AppChunk::Gap(_)) => {
                        d.gap = true;
                        shared.gaps += 1;
                        continue;
                    }
                    Some(AppChunk::Data(c)) => c,
                };
                let len = chunk.len() as u64;
                if config.keep_raw && !self.payload_inspection_off() {
                    let r = self.raw.get_or_insert_with(Default::default);
                    r.delivered[i] += len;
                    let data = &mut r.data[i];
                    data.extend_from_slice(chunk);
                    if data.len() > RAW_WINDOW {
                        let cut = data.len() - RAW_WINDOW;
                        data.drain(..cut);
                        r.offset[i] += cut as u64;
                        shared.raw_dropped += cut as u64;
                    }
                }
                if !d.gap {
                    self.app_data(to_server, chunk, config, shared, update);
                }
                d.stream.consume(len, &mut shared.mem);
            }
        }
        self.streams = Some(streams);
        // What this packet brought is all the parser gets now (libhtp's input chunk).
        if let Parser::Http(h) = &mut self.parser {
            if !h.data_end(to_server).is_empty() {
                self.generation += 1;
            }
        }
    }

    /// Drops the raw-stream bytes waiting for inspection, and the windows (payload
    /// inspection is off: Suricata disables raw reassembly).
    pub fn discard_raw(&mut self) {
        self.raw = None;
    }

    /// New in-order bytes of one direction of a TCP session.
    fn app_data(
        &mut self,
        to_server: bool,
        data: &[u8],
        config: &AppConfig,
        shared: &mut AppShared,
        update: &mut AppUpdate,
    ) {
        let i = idx(to_server);
        if self.proto == AppProto::Unknown {
            // The first bytes of a direction are probed where they lie; they are copied
            // only when the probe needs more of them.
            let buffered = match self.detection.as_deref() {
                Some(det) if det.gave_up[i] => return,
                Some(det) => !det.seen[i].is_empty(),
                None => false,
            };
            let (dns_port, krb5_port) = self.port_hints;
            let (probed, n): (&[u8], usize) = match self.detection.as_deref_mut() {
                Some(det) if buffered => {
                    let n = data.len().min(PROBE_BYTES - det.seen[i].len());
                    det.seen[i].extend_from_slice(&data[..n]);
                    (&det.seen[i], n)
                }
                _ => {
                    let n = data.len().min(PROBE_BYTES);
                    (&data[..n], n)
                }
            };
            match probe_tcp(probed, to_server, dns_port, krb5_port) {
                Probe::Found(name) => {
                    update.reverse = to_server && self.midstream_session && server_side(probed);
                    update.detected = true;
                    self.proto = AppProto::Known(name);
                    self.dir_proto[i] = DirProto::Flow;
                    self.parser = new_parser(name, &config.limits);
                    let mut det = self.detection.take().unwrap_or_default();
                    // The probed bytes are the parser's first bytes, both directions.
                    // After a reversal the roles of the directions swap.
                    let flip = update.reverse;
                    for j in 0..2 {
                        let ts = (j == 0) != flip;
                        if j == i {
                            let own = if buffered {
                                &det.seen[i][..]
                            } else {
                                &data[..n]
                            };
                            if !own.is_empty() {
                                self.parse(ts, own, shared, update);
                            }
                        } else if !det.seen[j].is_empty() || det.gave_up[j] {
                            // The other direction's first bytes have their own
                            // detection; they may wait for more.
                            let seen = std::mem::take(&mut det.seen[j]);
                            if self.other_side(j, ts, &seen, det.gave_up[j], shared, update) {
                                let wait = self.detection.get_or_insert_with(Default::default);
                                wait.seen[j] = seen;
                            }
                        }
                    }
                    // Bytes of this delivery past what was probed go on to the parser.
                    if n < data.len() {
                        self.parse(to_server != flip, &data[n..], shared, update);
                    }
                    if self.protocol_change_due() {
                        update.protocol_changed = true;
                    }
                    if let Some(r) = self.raw.as_mut().filter(|_| !config.inline) {
                        r.trigger = [true, true];
                    }
                    return;
                }
                // Suricata's pattern matcher is not done with a direction holding fewer
                // bytes than its deepest pattern: no match yet is not a failure.
                probe @ (Probe::NeedMore | Probe::NotThis)
                    if probed.len()
                        < match probe {
                            Probe::NotThis => PATTERN_DEPTH[i],
                            _ => PROBE_BYTES,
                        } =>
                {
                    if !buffered {
                        let det = self.detection.get_or_insert_with(Default::default);
                        det.seen[i].extend_from_slice(&data[..n]);
                    }
                    return;
                }
                Probe::NeedMore | Probe::NotThis => {
                    // The bytes stay: should the other direction find the protocol,
                    // they are this direction's first bytes for its parser.
                    let det = self.detection.get_or_insert_with(Default::default);
                    det.gave_up[i] = true;
                    if !buffered {
                        det.seen[i].extend_from_slice(&data[..n]);
                    }
                    if det.gave_up[1 - i] {
                        self.proto = AppProto::Failed;
                        self.detection = None;
                        update.detected = true;
                    }
                    return;
                }
            }
        }
        if self.dir_proto[i] == DirProto::Unknown && self.dir_proto[1 - i] != DirProto::Unknown {
            // The flow's protocol was found on the other direction; this one's own
            // detection goes on, and Suricata holds its bytes until it is done.
            match self.detection.take().filter(|d| !d.seen[i].is_empty()) {
                // Bytes wait already: these join them.
                Some(mut wait) => {
                    let mut seen = std::mem::take(&mut wait.seen[i]);
                    seen.extend_from_slice(data);
                    if self.other_side(i, to_server, &seen, false, shared, update) {
                        wait.seen[i] = seen;
                        self.detection = Some(wait);
                    }
                }
                // The direction's first bytes are probed where they lie.
                None => {
                    if self.other_side(i, to_server, data, false, shared, update) {
                        let wait = self.detection.get_or_insert_with(Default::default);
                        wait.seen[i].extend_from_slice(data);
                    }
                }
            }
        } else {
            self.parse(to_server, data, shared, update);
        }
        if self.protocol_change_due() {
            update.protocol_changed = true;
        }
    }

    /// Suricata's protocol detection on a direction whose protocol is unknown once the
    /// flow's is known from the other (`TCPProtoDetect` with the opposing side done):
    /// the same protocol, or another (`APPLAYER_MISMATCH_PROTOCOL_BOTH_DIRECTIONS`; the
    /// parser already running stays), and the bytes go to the parser; none found
    /// (`APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION`), the direction's protocol is
    /// `failed` and the bytes still go to the parser. `true`: detection needs more bytes,
    /// and the caller keeps `bytes` (all of the direction's so far) waiting.
    fn other_side(
        &mut self,
        i: usize,
        parse_to_server: bool,
        bytes: &[u8],
        gave_up: bool,
        shared: &mut AppShared,
        update: &mut AppUpdate,
    ) -> bool {
        let AppProto::Known(flow_proto) = self.proto else {
            return false;
        };
        let (dns_port, krb5_port) = self.port_hints;
        let probe = if gave_up {
            Probe::NotThis
        } else {
            probe_tcp(bytes, i == 0, dns_port, krb5_port)
        };
        match probe {
            Probe::Found(name) if name == flow_proto => self.dir_proto[i] = DirProto::Flow,
            Probe::Found(name) => {
                self.dir_proto[i] = DirProto::Other;
                self.other_proto = Some(name);
                self.push_proto_event(ProtoDetectEvent::MismatchProtocolBothDirections);
            }
            Probe::NeedMore if bytes.len() < PROBE_BYTES => return true,
            // Suricata's pattern matcher is done with a direction only once it holds as
            // many bytes as its deepest pattern reaches; until then the bytes wait.
            Probe::NotThis if bytes.len() < PATTERN_DEPTH[i] => return true,
            Probe::NeedMore | Probe::NotThis => {
                self.dir_proto[i] = DirProto::Failed;
                self.push_proto_event(ProtoDetectEvent::DetectProtocolOnlyOneDirection);
            }
        }
        if !bytes.is_empty() {
            self.parse(parse_to_server, bytes, shared, update);
        }
        false
    }

    /// Each direction's protocol as detection found it (Suricata's `alproto_ts` and
    /// `alproto_tc`): `Unknown` where it was not decided on its own.
    pub fn direction_protos(&self) -> [AppProto; 2] {
        self.dir_proto.map(|d| match d {
            DirProto::Unknown => AppProto::Unknown,
            DirProto::Flow => self.proto,
            DirProto::Other => self.other_proto.map_or(AppProto::Unknown, AppProto::Known),
            DirProto::Failed => AppProto::Failed,
        })
    }

    fn push_proto_event(&mut self, e: ProtoDetectEvent) {
        if let Some(free) = self.proto_events.iter_mut().find(|s| s.is_none()) {
            *free = Some(e);
        }
    }

    /// The protocol-detection events of the packet just processed (anomaly records with
    /// layer `proto_detect`), taken.
    pub fn take_proto_events(&mut self) -> [Option<ProtoDetectEvent>; 2] {
        std::mem::take(&mut self.proto_events)
    }

    /// The parser asked for the protocol to be detected again (an HTTP CONNECT answered
    /// 2xx: Suricata's `AppLayerRequestProtocolChange`); [`FlowApp::change_protocol`]
    /// makes the change once detection and logging of the old transactions are flushed.
    pub fn protocol_change_due(&self) -> bool {
        matches!(&self.parser, Parser::Http(h) if h.tunnel_open())
    }

    /// Before a protocol change: the old parser's transactions are over in both
    /// directions, as the end-of-stream flags Suricata sets for its detect/log flush
    /// make them.
    pub fn end_transactions(&mut self) {
        if let Parser::Http(h) = &mut self.parser {
            h.end(true);
            h.end(false);
            self.generation += 1;
        }
    }

    /// The protocol change: the old parser and its transactions go (their records and
    /// alerts were flushed), and protocol detection starts again on the bytes that
    /// followed, to the server first (a TLS session through a proxy becomes a `tls`
    /// flow). What those bytes brought is returned.
    pub fn change_protocol(&mut self, config: &AppConfig, shared: &mut AppShared) -> AppUpdate {
        let mut update = AppUpdate::default();
        let Parser::Http(h) = &mut self.parser else {
            return update;
        };
        let Some(bytes) = h.take_tunnel() else {
            return update;
        };
        self.proto_orig = Some(self.proto);
        self.proto = AppProto::Unknown;
        self.dir_proto = [DirProto::Unknown; 2];
        self.other_proto = None;
        self.parser = Parser::None;
        self.logged = AppLogged::default();
        self.detection = Some(Box::default());
        self.generation += 1;
        for (i, data) in bytes.iter().enumerate() {
            if !data.is_empty() {
                self.app_data(i == 0, data, config, shared, &mut update);
            }
        }
        update
    }

    /// The protocol records name while the flow goes on: during a protocol change, until
    /// the new one is detected, the old one (Suricata restores `alproto_orig` while
    /// detection needs more data).
    /// Transactions the parser has opened so far (Suricata's `AppLayerParserGetTxCnt`:
    /// the next transaction's id; a TLS session is one transaction).
    pub fn tx_count(&self) -> u64 {
        match &self.parser {
            Parser::None => 0,
            Parser::Tls(_) => 1,
            Parser::Http(h) => h.first_id + h.transactions.len() as u64,
            Parser::Dns(d) => d.next_id,
        }
    }

    /// Whether the application layer has the client's first message (AWS's application
    /// default actions wait for it): a TLS ClientHello, HTTP request headers, a DNS query;
    /// for other protocols, detection being over. A parser error ends the wait too.
    pub fn client_message_seen(&self) -> bool {
        match self.proto {
            AppProto::Unknown => false,
            AppProto::Failed => true,
            AppProto::Known(_) => match &self.parser {
                Parser::None | Parser::Dns(_) => true,
                Parser::Tls(t) => t.client_hello.is_some() || t.error(true).is_some(),
                Parser::Http(h) => {
                    h.first_id > 0 || !h.transactions.is_empty() || h.error(true).is_some()
                }
            },
        }
    }

    pub fn shown_proto(&self) -> AppProto {
        match (self.proto, self.proto_orig) {
            (AppProto::Unknown, Some(orig)) => orig,
            (p, _) => p,
        }
    }

    /// The protocol the flow's records name at its end: a change that found no new
    /// protocol ends as `failed`, as Suricata's detection at end of stream does.
    pub fn protocol_at_end(&self) -> AppProto {
        match (self.proto, self.proto_orig) {
            (AppProto::Unknown, Some(_)) => AppProto::Failed,
            (p, _) => p,
        }
    }

    fn parse(
        &mut self,
        to_server: bool,
        data: &[u8],
        shared: &mut AppShared,
        update: &mut AppUpdate,
    ) {
        let i = idx(to_server);
        let hits = &mut shared.limit_hits;
        match &mut self.parser {
            Parser::None => return,
            Parser::Tls(t) => {
                t.feed(to_server, data);
                hits.tls.add(&t.take_limit_hits());
            }
            Parser::Http(h) => {
                h.feed_more(to_server, data);
                hits.http.add(&h.take_limit_hits());
            }
            Parser::Dns(d) => {
                for msg in d.tcp[i].feed(data) {
                    d.message(msg);
                }
                hits.dns.add(&std::mem::take(&mut d.hits));
            }
        }
        update.parsed[i] = true;
        if let Some(r) = self.raw.as_mut() {
            r.trigger[i] = true;
        }
        self.generation += 1;
    }
}

fn new_parser(name: &str, limits: &AppLimits) -> Parser {
    match name {
        "tls" => Parser::Tls(Box::new(tls::TlsSession::with_limits(limits.tls))),
        "http" => Parser::Http(Box::new(http::HttpSession::with_limits(limits.http))),
        "dns" => Parser::Dns(Box::new(DnsState::new(limits.dns_max_tx))),
        _ => Parser::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::packets::{dns_query, dns_response_a};

    #[test]
    fn dns_transactions_past_max_tx_drop_the_oldest_and_are_counted() {
        let mut d = DnsState::new(3);
        for id in 0..5u16 {
            d.message(dns::parse_message(&dns_query(id, "a.example", 1)));
        }
        assert_eq!(d.txs.len(), 3);
        assert_eq!(d.txs.front().map(|t| t.id), Some(2));
        assert_eq!(d.hits.tx_dropped, 2);
        // The newest queries still get their answers.
        d.message(dns::parse_message(&dns_response_a(
            4,
            "a.example",
            [10, 0, 0, 1],
        )));
        assert!(d.txs.back().is_some_and(|t| t.response.is_some()));
        // A message refused by a name limit is counted and skipped.
        let mut looping = dns_query(9, "b.example", 1);
        looping.truncate(12);
        looping.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        d.message(dns::parse_message(&looping));
        assert_eq!(d.hits.pointer_hops_exceeded, 1);
        assert_eq!(d.txs.len(), 3);
    }
}
