//! Application-protocol detection per flow, on any port: each direction's first bytes
//! (reassembled in order for TCP, the datagram for UDP) are probed for TLS, HTTP, SSH, the
//! SMTP client greeting, DNS (on its detection ports, 53 by default), Kerberos (port 88)
//! and, over UDP, SIP.
//! A flow without a seen handshake (mid-stream) is probed only with `stream.midstream:
//! true`, as in Suricata. A direction whose bytes match no probe gives up; when both
//! have given up the flow's protocol is `failed`.
//!
//! This is the detection step only: the parsers (`tls`, `http`, `dns`) are not yet fed
//! from here, and timing (IDS vs inline) does not matter for the protocol name.

use crate::decode::{tcp_flags, Packet, Transport};
use crate::stream::{AppChunk, MemBudget, OverlapPolicy, StreamBuffer, StreamConfig};

use super::{dns, http, tls};

/// Bytes of a direction probed before it gives up.
const PROBE_BYTES: usize = 2048;
/// What one direction's detection stream may hold (out-of-order data while probing).
const PROBE_MEMCAP: u64 = 64 * 1024;

/// Detection settings (`app-layer.protocols.<proto>.detection-ports`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectConfig {
    /// Ports on which DNS is probed (either side of the flow), TCP and UDP.
    pub dns_ports: Vec<u16>,
}

impl Default for DetectConfig {
    /// Suricata's shipped configuration: DNS on port 53.
    fn default() -> Self {
        DetectConfig {
            dns_ports: vec![53],
        }
    }
}

/// A flow's application protocol as EVE names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AppProto {
    #[default]
    Unknown,
    Failed,
    Known(&'static str),
}

impl AppProto {
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Unknown => "unknown",
            AppProto::Failed => "failed",
            AppProto::Known(p) => p,
        }
    }
}

#[derive(Clone, Debug)]
struct DirectionProbe {
    stream: StreamBuffer,
    mem: MemBudget,
    seen: Vec<u8>,
    gave_up: bool,
}

impl DirectionProbe {
    fn new(first_seq: u32) -> Self {
        let config = StreamConfig {
            depth: PROBE_MEMCAP,
            memcap: PROBE_MEMCAP,
        };
        DirectionProbe {
            stream: StreamBuffer::new(first_seq, OverlapPolicy::Bsd, false, &config),
            mem: MemBudget::new(config.memcap),
            seen: Vec::new(),
            gave_up: false,
        }
    }
}

/// Detection state of one flow; the probe buffers are freed once it is decided.
#[derive(Clone, Debug, Default)]
pub struct FlowApp {
    pub proto: AppProto,
    probes: Option<Box<[Option<DirectionProbe>; 2]>>,
    /// UDP: the direction's first packet with data was probed.
    udp_tried: [bool; 2],
    /// The session was picked up mid-stream (no SYN seen).
    midstream_session: bool,
}

/// A SIP request line (`METHOD sip:...`) or status line (`SIP/2.0 `).
fn sip_probe(data: &[u8]) -> bool {
    if data.starts_with(b"SIP/2.0 ") {
        return true;
    }
    let method = data.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method > 0 && data[method..].starts_with(b" sip:")
}

/// Whether detected bytes are what a server sends (an HTTP status line, a TLS
/// ServerHello): seen from the client side of a mid-stream pick-up, Suricata reverses
/// the flow.
fn server_side(data: &[u8]) -> bool {
    data.starts_with(b"HTTP/1.") || (data.len() > 5 && data[0] == 22 && data[5] == 2)
}

enum Probe {
    Found(&'static str),
    NeedMore,
    NotThis,
}

/// A Kerberos 5 message: an ASN.1 application tag of a request, reply or error.
fn krb5_message(data: &[u8]) -> bool {
    matches!(data.first(), Some(0x6a..=0x6d | 0x7e)) && data.len() > 2
}

fn probe_tcp(data: &[u8], to_server: bool, dns_port: bool, krb5_port: bool) -> Probe {
    if data.is_empty() {
        return Probe::NeedMore;
    }
    match tls::TlsSession::probe(data) {
        Some(true) => return Probe::Found("tls"),
        None => return Probe::NeedMore,
        Some(false) => {}
    }
    match http::probe(data, to_server) {
        Some(true) => return Probe::Found("http"),
        None => return Probe::NeedMore,
        Some(false) => {}
    }
    // SMTP: the client's greeting (the server's 220 banner alone is not decisive).
    if to_server {
        let word: Vec<u8> = data.iter().take(5).map(u8::to_ascii_uppercase).collect();
        if word == b"EHLO " || word == b"HELO " {
            return Probe::Found("smtp");
        }
        if data.len() < 5 && (b"EHLO ".starts_with(&word) || b"HELO ".starts_with(&word)) {
            return Probe::NeedMore;
        }
    }
    // Kerberos on its port: record marker, then the message.
    if krb5_port {
        if data.len() < 7 {
            return Probe::NeedMore;
        }
        if krb5_message(&data[4..]) {
            return Probe::Found("krb5");
        }
    }
    // SSH identification string, from either side.
    if data.starts_with(b"SSH-") {
        return Probe::Found("ssh");
    }
    if b"SSH-".starts_with(data) {
        return Probe::NeedMore;
    }
    if dns_port {
        if data.len() < 14 {
            return Probe::NeedMore;
        }
        if dns::probe(&data[2..]) {
            return Probe::Found("dns");
        }
    }
    Probe::NotThis
}

impl FlowApp {
    /// Looks at one packet of the flow (`to_server`: sent by the client). With
    /// `midstream` (`stream.midstream: true`) a direction without a SYN is probed from its
    /// first data. Returns true when the flow must be reversed: a mid-stream session whose
    /// "client" turned out to send server data.
    pub fn on_packet(
        &mut self,
        p: &Packet<'_>,
        to_server: bool,
        midstream: bool,
        config: &DetectConfig,
    ) -> bool {
        let udp_retry = matches!(p.transport, Transport::Udp { .. })
            && self.proto == AppProto::Failed
            && !self.udp_tried[usize::from(!to_server)];
        if self.proto != AppProto::Unknown && !udp_retry {
            return false;
        }
        let (sp, dp) = p.ports();
        let dns_port = config.dns_ports.iter().any(|&d| d == sp || d == dp);
        let krb5_port = sp == 88 || dp == 88;
        match p.transport {
            Transport::Udp { .. } => {
                if p.payload.is_empty() {
                    return false;
                }
                if dns_port && dns::probe(p.payload) {
                    self.proto = AppProto::Known("dns");
                } else if krb5_port && krb5_message(p.payload) {
                    self.proto = AppProto::Known("krb5");
                } else if sip_probe(p.payload) {
                    self.proto = AppProto::Known("sip");
                } else {
                    // Suricata fails a UDP flow at its first undetected packet; the other
                    // direction's first packet may still name the protocol.
                    self.proto = AppProto::Failed;
                }
                self.udp_tried[usize::from(!to_server)] = true;
            }
            Transport::Tcp(t) => {
                let syn = t.flags & tcp_flags::SYN != 0;
                let ack = t.flags & tcp_flags::ACK != 0;
                let probes = self.probes.get_or_insert_with(|| Box::new([None, None]));
                let i = usize::from(!to_server);
                if syn && (to_server && !ack || !to_server && ack) {
                    // No client SYN, no session: a flow picked up at its SYN/ACK is not
                    // parsed (stream.midstream: false).
                    if !to_server && probes[0].is_none() {
                        return false;
                    }
                    if probes[i].is_none() {
                        probes[i] = Some(DirectionProbe::new(t.seq.wrapping_add(1)));
                    }
                    return false;
                }
                if probes[i].is_none() && midstream && !syn && !p.payload.is_empty() {
                    probes[i] = Some(DirectionProbe::new(t.seq));
                    if probes[usize::from(to_server)].is_none() {
                        self.midstream_session = true;
                    }
                }
                let Some(d) = probes[i].as_mut() else {
                    return false;
                };
                if p.payload.is_empty() || d.gave_up {
                    return false;
                }
                if d.stream.pass_through(t.seq, p.payload.len()) {
                    // In order with nothing held: probe the payload without storing it.
                    let n = p.payload.len().min(PROBE_BYTES - d.seen.len());
                    d.seen.extend_from_slice(&p.payload[..n]);
                } else {
                    d.stream.insert(t.seq, p.payload, &mut d.mem);
                }
                while d.seen.len() < PROBE_BYTES {
                    let Some(AppChunk::Data(chunk)) = d.stream.next_app_chunk(None) else {
                        break;
                    };
                    let len = chunk.len() as u64;
                    let n = chunk.len().min(PROBE_BYTES - d.seen.len());
                    d.seen.extend_from_slice(&chunk[..n]);
                    d.stream.consume(len, &mut d.mem);
                }
                match probe_tcp(&d.seen, to_server, dns_port, krb5_port) {
                    Probe::Found(name) => {
                        let reverse = to_server && self.midstream_session && server_side(&d.seen);
                        self.proto = AppProto::Known(name);
                        self.probes = None;
                        return reverse;
                    }
                    Probe::NeedMore if d.seen.len() < PROBE_BYTES => {}
                    Probe::NeedMore | Probe::NotThis => {
                        d.gave_up = true;
                        d.seen = Vec::new();
                        let done = probes.iter().all(|d| d.as_ref().is_some_and(|d| d.gave_up));
                        if done {
                            self.proto = AppProto::Failed;
                            self.probes = None;
                        }
                    }
                }
            }
            _ => {}
        }
        false
    }
}
