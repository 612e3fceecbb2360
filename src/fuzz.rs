//! Fuzz targets: one function per target, each taking arbitrary bytes and driving one
//! real entry point of the library with them. `fuzz/` runs them under libFuzzer (nightly,
//! `cargo fuzz`); `tests/fuzz_corpus.rs` runs their seed corpora and every input that
//! once failed on the stable toolchain, so the targets and their fixes stay alive.
//!
//! The functions never panic on their own account: a panic is a bug in the library, or a
//! broken invariant that these functions assert (a stream holding more than its depth,
//! a parser whose result depends on how its input was split, memory a parser holds beyond
//! its bound).
//!
//! Structured targets (fragments, stream segments, parser input splits) read their input
//! as a little program; [`encode`] writes such programs, for the seed corpora.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};

use crate::app::{dns, http, tls};
use crate::capture::{CaptureReader, Frame, MAX_RECORD_LEN};
use crate::config::Settings;
use crate::decode::{
    tcp_flags, Decoded, Decoder, DefragConfig, DefragPolicy, Packet, MAX_PACKET_BUFFER,
};
use crate::detect::{DetectEngine, DetectSettings};
use crate::engine::Engine;
use crate::jobs::expect::{ExpectationFile, TestReport};
use crate::output::EventOutput;
use crate::rules::{aws, policy, Rule, RuleContext, VarTable};
use crate::stream::{AppChunk, Inserted, MemBudget, OverlapPolicy, StreamBuffer, StreamConfig};
use crate::time::Timestamp;
use crate::trace::{FlowRecord, Tracer};

/// A fuzz target.
pub type Target = fn(&[u8]);

/// Every target by name; `fuzz/fuzz_targets/<name>.rs` calls the function of that name.
pub const TARGETS: &[(&str, Target)] = &[
    ("capture", capture),
    ("decode", decode),
    ("defrag", defrag),
    ("tcp_stream", tcp_stream),
    ("tcp_session", tcp_session),
    ("tls", tls),
    ("http", http),
    ("dns", dns),
    ("rules", rules),
    ("aws_json", aws_json),
    ("expectations", expectations),
    ("end_to_end", end_to_end),
];

/// Reads the fields of a structured input; past its end every read fails.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }

    /// Up to `n` bytes (fewer at the end of the input).
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// Bytes as a capture file (pcap or pcapng), read frame by frame to the end.
pub fn capture(data: &[u8]) {
    let Ok(mut reader) = CaptureReader::from_bytes(Path::new("fuzz-input"), data) else {
        return;
    };
    let mut last_number = 0;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                assert!(frame.data.len() <= MAX_RECORD_LEN as usize);
                assert!(frame.number > last_number, "packet numbers go forward");
                last_number = frame.number;
                // The frame's bytes are the input's, just after its record or block header
                // (at most 28 bytes: a pcapng enhanced or obsolete packet block).
                let block = usize::try_from(frame.offset)
                    .ok()
                    .and_then(|at| data.get(at..))
                    .unwrap_or_else(|| panic!("frame offset {} past the input", frame.offset));
                let within = &block[..block.len().min(28 + frame.data.len())];
                assert!(
                    frame.data.is_empty() || memchr::memmem::find(within, frame.data).is_some(),
                    "frame {} bytes are not those of its record",
                    frame.number
                );
            }
            Ok(None) => break,
            Err(e) if e.is_recoverable() => {}
            Err(_) => break,
        }
    }
    assert!(
        matches!(reader.next_frame(), Ok(None)),
        "a finished reader stays finished"
    );
}

/// Link types the decode target picks from (the last one is not supported).
const LINK_TYPES: [u32; 13] = [0, 1, 101, 12, 14, 108, 113, 228, 229, 276, 9, 104, 147];

/// First byte: the link type (an index into a list); the rest: one frame.
pub fn decode(data: &[u8]) {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let linktype = LINK_TYPES[usize::from(pick) % LINK_TYPES.len()];
    let mut decoder = Decoder::new(DefragConfig::default());
    if let Decoded::Packet(p) = decoder.decode(linktype, frame, Timestamp::new(1, 0), 1) {
        check_packet(&p, frame);
    }
}

fn check_packet(p: &Packet<'_>, frame: &[u8]) {
    assert_eq!(
        p.len as usize,
        frame.len(),
        "a packet's length is its frame's"
    );
    let frame_range = frame.as_ptr_range();
    let payload = p.payload.as_ptr_range();
    assert!(
        payload.start >= frame_range.start && payload.end <= frame_range.end,
        "the payload lies inside the frame"
    );
}

/// Overlap policies the defrag target picks from.
const DEFRAG_POLICIES: [DefragPolicy; 7] = [
    DefragPolicy::Bsd,
    DefragPolicy::BsdRight,
    DefragPolicy::Linux,
    DefragPolicy::Windows,
    DefragPolicy::Solaris,
    DefragPolicy::First,
    DefragPolicy::Last,
];

/// IPv4/IPv6 fragments, built from the input and decoded as raw IP frames.
///
/// Header: policy (index), fragment limit (high bit: the default, else 1 to 64), tracker
/// limit (high bit: the default, else 1 to 8). Then per fragment: control (bit 0 IPv6,
/// bits 1-2 datagram id, bit 3 more fragments, bit 4 source address, bit 5 IPv4 options
/// or an IPv6 hop-by-hop header, bits 6-7 time step: none, 1 s, 30 s, 61 s), offset in
/// 8-byte units (13 bits), protocol or next header, data length, data.
pub fn defrag(data: &[u8]) {
    let mut input = Input(data);
    let (Some(policy), Some(frag_limit), Some(tracker_limit)) =
        (input.u8(), input.u8(), input.u8())
    else {
        return;
    };
    let mut config = DefragConfig {
        host_os_policy: Vec::new(),
        default_policy: DEFRAG_POLICIES[usize::from(policy) % DEFRAG_POLICIES.len()],
        ..DefragConfig::default()
    };
    if frag_limit & 0x80 == 0 {
        config.max_fragments = 1 + usize::from(frag_limit & 0x3f);
    }
    if tracker_limit & 0x80 == 0 {
        config.max_trackers = 1 + usize::from(tracker_limit & 0x07);
    }
    let max_fragments = config.max_fragments;
    let timeout = config.timeout_secs;
    let mut decoder = Decoder::new(config);
    let mut now = Timestamp::new(1_700_000_000, 0);
    let mut count = 0;
    while let (Some(control), Some(offset), Some(proto), Some(len)) =
        (input.u8(), input.u16(), input.u8(), input.u8())
    {
        let payload = input.take(usize::from(len));
        let step = [0, 1, 30, 61][usize::from(control >> 6)];
        if step > 0 {
            now = now.plus_secs(step);
            decoder.expire_fragments(now);
        }
        let fragment = FragmentSpec {
            v6: control & 1 != 0,
            id: u32::from((control >> 1) & 3),
            more: control & 0x08 != 0,
            source: (control >> 4) & 1,
            options: control & 0x20 != 0,
            offset: offset & 0x1fff,
            proto,
        };
        let frame = fragment.packet(payload);
        count += 1;
        decoder.decode(101, &frame, now, count);
        assert!(decoder.fragments_held() <= max_fragments);
        if let Some(done) = decoder.take_reassembled() {
            if let Ok(p) = done {
                assert!(p.len as usize <= MAX_PACKET_BUFFER);
                assert!(p.pcap_cnt.is_none(), "a reassembled packet has no number");
            }
            decoder.clear_reassembled();
        }
    }
    // Every tracker times out in the end, and the count of held fragments with them.
    decoder.expire_fragments(now.plus_secs(timeout + 1));
    assert_eq!(
        decoder.fragments_held(),
        0,
        "fragments held after all timed out"
    );
}

/// One fragment of the defrag target.
#[derive(Clone, Copy, Debug)]
pub struct FragmentSpec {
    pub v6: bool,
    /// Datagram id (0 to 3).
    pub id: u32,
    pub more: bool,
    /// Source address (0 or 1).
    pub source: u8,
    /// IPv4 options (4 bytes of NOPs) or an IPv6 hop-by-hop header before the fragment
    /// header.
    pub options: bool,
    /// In 8-byte units.
    pub offset: u16,
    /// IPv4 protocol or the fragment header's next header.
    pub proto: u8,
}

impl FragmentSpec {
    /// The raw IP packet carrying `data` as this fragment.
    pub fn packet(&self, data: &[u8]) -> Vec<u8> {
        if self.v6 {
            let ext = if self.options { 8 } else { 0 };
            let mut p = vec![0u8; 40];
            p[0] = 0x60;
            let payload_len = (ext + 8 + data.len()) as u16;
            p[4..6].copy_from_slice(&payload_len.to_be_bytes());
            p[6] = if self.options { 0 } else { 44 };
            p[7] = 64;
            p[8..24].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            p[23] = 1 + self.source;
            p[24..40].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100]);
            if self.options {
                // Next header: fragment; PadN filling the 8 bytes.
                p.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
            }
            let offset_flags = (self.offset << 3) | u16::from(self.more);
            p.extend_from_slice(&[self.proto, 0]);
            p.extend_from_slice(&offset_flags.to_be_bytes());
            p.extend_from_slice(&self.id.to_be_bytes());
            p.extend_from_slice(data);
            p
        } else {
            let hlen = if self.options { 24 } else { 20 };
            let mut p = vec![0u8; hlen];
            p[0] = 0x40 | (hlen / 4) as u8;
            p[2..4].copy_from_slice(&((hlen + data.len()) as u16).to_be_bytes());
            p[4..6].copy_from_slice(&(self.id as u16).to_be_bytes());
            let flags_offset = self.offset | if self.more { 0x2000 } else { 0 };
            p[6..8].copy_from_slice(&flags_offset.to_be_bytes());
            p[8] = 64;
            p[9] = self.proto;
            p[12..16].copy_from_slice(&[10, 0, 0, 1 + self.source]);
            p[16..20].copy_from_slice(&[10, 0, 0, 100]);
            if self.options {
                p[20..24].copy_from_slice(&[1, 1, 1, 0]);
            }
            p.extend_from_slice(data);
            p
        }
    }
}

/// Overlap policies the stream target picks from.
const STREAM_POLICIES: [OverlapPolicy; 6] = [
    OverlapPolicy::Bsd,
    OverlapPolicy::Linux,
    OverlapPolicy::OldLinux,
    OverlapPolicy::Solaris,
    OverlapPolicy::First,
    OverlapPolicy::Last,
];

/// One direction of a TCP stream: segments inserted at sequence numbers, read by an
/// application layer up to a limit, checked against a model of what was sent.
///
/// Header: flags (bits 0-2 policy index, bit 3 inline, bits 4-7 the segments a direction
/// may hold, 0 for the default), depth (u16, 0 = none), memcap
/// (u16, times 4), first sequence number (u32). Then operations, by the low two bits of
/// an op byte: 0 and 1 insert (sequence offset from the first: i16, or i32 when bit 2 is
/// set; length u8; data), 2 read (bit 2: no limit, else up to a u16 past what was read),
/// 3 the in-order fast path (offset i16, length u8). Checked: bytes handed on were sent
/// at their offset (the first bytes sent, inline or with the `First` policy), never past
/// the depth or the read limit; the memcap budget equals what the stream holds, and it
/// holds no more segments than its cap.
pub fn tcp_stream(data: &[u8]) {
    let mut input = Input(data);
    let (Some(flags), Some(depth), Some(memcap), Some(first_seq)) =
        (input.u8(), input.u16(), input.u16(), input.u32())
    else {
        return;
    };
    let policy = STREAM_POLICIES[usize::from(flags & 7) % STREAM_POLICIES.len()];
    let inline = flags & 8 != 0;
    let config = StreamConfig {
        depth: u64::from(depth),
        memcap: u64::from(memcap) * 4,
        max_segments: match flags >> 4 {
            0 => StreamConfig::DEFAULT_MAX_SEGMENTS,
            n => u64::from(n),
        },
    };
    let mut stream = StreamBuffer::new(first_seq, policy, inline, &config);
    let mut mem = MemBudget::new(config.memcap);
    // Per stream offset: the first byte stored there, and every byte ever offered.
    let mut first: HashMap<u64, u8> = HashMap::new();
    let mut offered: HashMap<u64, Vec<u8>> = HashMap::new();
    let first_wins = inline || policy == OverlapPolicy::First;
    let mut delivered = 0u64;
    let mut gaps = 0u64;
    while let Some(op) = input.u8() {
        match op & 3 {
            0 | 1 => {
                let rel = if op & 4 != 0 {
                    input.u32()
                } else {
                    input.u16().map(|r| r as i16 as i32 as u32)
                };
                let (Some(rel), Some(len)) = (rel, input.u8()) else {
                    break;
                };
                let payload = input.take(usize::from(len));
                let seq = first_seq.wrapping_add(rel);
                let start = stream.offset_of(seq);
                let floor = stream.app_progress() as i64;
                let result = stream.insert(seq, payload, &mut mem);
                if let Inserted::Stored { .. } = result {
                    for (i, &b) in payload.iter().enumerate() {
                        let off = start + i as i64;
                        if off >= floor {
                            first.entry(off as u64).or_insert(b);
                            offered.entry(off as u64).or_default().push(b);
                        }
                    }
                }
            }
            2 => {
                let limit = if op & 4 != 0 {
                    None
                } else {
                    let Some(ahead) = input.u16() else { break };
                    Some(stream.app_progress() + u64::from(ahead))
                };
                loop {
                    let at = stream.app_progress();
                    let len = match stream.next_app_chunk(limit) {
                        None => break,
                        Some(AppChunk::Gap(n)) => {
                            assert!(n > 0, "an empty gap");
                            gaps += n;
                            continue;
                        }
                        Some(AppChunk::Data(chunk)) => {
                            assert!(!chunk.is_empty(), "an empty chunk");
                            for (i, &b) in chunk.iter().enumerate() {
                                let off = at + i as u64;
                                let Some(bytes) = offered.get(&off) else {
                                    panic!("byte at offset {off} handed on but never sent");
                                };
                                assert!(bytes.contains(&b), "byte at {off} was never sent");
                                if first_wins {
                                    assert_eq!(Some(&b), first.get(&off), "first data lost");
                                }
                            }
                            let end = at + chunk.len() as u64;
                            if let Some(limit) = limit {
                                assert!(end <= limit, "read past the limit");
                            }
                            if config.depth > 0 {
                                assert!(end <= config.depth, "data handed on past the depth");
                            }
                            chunk.len() as u64
                        }
                    };
                    stream.consume(len, &mut mem);
                    delivered += len;
                }
            }
            _ => {
                let (Some(rel), Some(len)) = (input.u16(), input.u8()) else {
                    break;
                };
                let seq = first_seq.wrapping_add(rel as i16 as i32 as u32);
                if stream.pass_through(seq, usize::from(len)) {
                    delivered += u64::from(len);
                    if config.depth > 0 {
                        assert!(
                            stream.app_progress() <= config.depth,
                            "passed past the depth"
                        );
                    }
                }
            }
        }
        assert_eq!(
            stream.app_progress(),
            delivered + gaps,
            "progress accounting"
        );
        assert_eq!(mem.used, stream.memcap_charge(), "memcap accounting");
        assert!(mem.used <= mem.cap, "memcap exceeded");
        assert!(
            stream.memcap_charge() - stream.held()
                <= config.max_segments * crate::stream::SEGMENT_COST,
            "more segments held than the cap"
        );
        // Gaps may skip past the depth (the peer acknowledged that far), data may not.
        if config.depth > 0 {
            assert!(
                stream.held() <= config.depth,
                "stream holds more than its depth"
            );
        }
    }
    stream.clear(&mut mem);
    assert_eq!(mem.used, 0, "memory left after clear");
}

/// Splits the input into `(to_server, bytes)` pieces: a control byte (bit 0: to server;
/// bit 1: repeat the piece 2^(bits 2-5) times), a length byte, the bytes. Small inputs can
/// so make long streams, up to [`MAX_EXPANDED`] (each piece counts one byte more than
/// its length, so that empty pieces are bounded too).
fn pieces(data: &[u8]) -> Vec<(bool, &[u8])> {
    let mut input = Input(data);
    let mut out = Vec::new();
    let mut total = 0usize;
    while let (Some(control), Some(len)) = (input.u8(), input.u8()) {
        let bytes = input.take(usize::from(len));
        let times = if control & 2 != 0 {
            1usize << ((control >> 2) & 0x0f)
        } else {
            1
        };
        for _ in 0..times {
            total += bytes.len() + 1;
            if total > MAX_EXPANDED {
                return out;
            }
            out.push((control & 1 != 0, bytes));
        }
    }
    out
}

/// Most bytes (plus one per piece) the repeats of [`pieces`] make.
const MAX_EXPANDED: usize = 1 << 20;

/// The same pieces with consecutive pieces of one direction joined.
fn joined(pieces: &[(bool, &[u8])]) -> Vec<(bool, Vec<u8>)> {
    let mut out: Vec<(bool, Vec<u8>)> = Vec::new();
    for &(dir, bytes) in pieces {
        match out.last_mut() {
            Some((d, buf)) if *d == dir => buf.extend_from_slice(bytes),
            _ => out.push((dir, bytes.to_vec())),
        }
    }
    out
}

/// A TLS session fed with the pieces of [`pieces`]; the result must not depend on how
/// each direction's bytes were split.
pub fn tls(data: &[u8]) {
    let pieces = pieces(data);
    let mut split = tls::TlsSession::default();
    for &(to_server, bytes) in &pieces {
        split.feed(to_server, bytes);
        assert!(
            split.buffered(to_server) <= tls::TlsLimits::default().max_buffered(),
            "TLS holds too much"
        );
    }
    let mut whole = tls::TlsSession::default();
    for (to_server, bytes) in joined(&pieces) {
        whole.feed(to_server, &bytes);
    }
    assert_eq!(split.client_hello, whole.client_hello);
    assert_eq!(split.server_hello, whole.server_hello);
    assert_eq!(split.server_certs, whole.server_certs);
    assert_eq!(split.client_certs, whole.client_certs);
    assert_eq!(split.seen_flags, whole.seen_flags);
    assert_eq!(split.app_data, whole.app_data);
    for to_server in [true, false] {
        assert_eq!(split.error(to_server), whole.error(to_server));
    }
}

/// An HTTP session fed with the pieces of [`pieces`], then both directions ended; the
/// transactions must not depend on how each direction's bytes were split.
pub fn http(data: &[u8]) {
    let pieces = pieces(data);
    let mut split = http::HttpSession::default();
    let mut split_events = Vec::new();
    // The pieces of one input chunk (where a chunk ends can legitimately change when a
    // request completes, as in libhtp).
    for &(to_server, bytes) in &pieces {
        split_events.extend(split.feed_more(to_server, bytes));
        assert!(
            split.buffered(to_server) <= http::DEFAULT_HEADER_BLOCK.max(1024),
            "HTTP holds too much"
        );
    }
    split_events.extend(split.end(true));
    split_events.extend(split.end(false));
    let mut whole = http::HttpSession::default();
    let mut whole_events = Vec::new();
    for (to_server, bytes) in joined(&pieces) {
        whole_events.extend(whole.feed_more(to_server, &bytes));
    }
    whole_events.extend(whole.end(true));
    whole_events.extend(whole.end(false));
    assert_eq!(split_events, whole_events);
    assert_eq!(
        split_independent(&split.transactions),
        split_independent(&whole.transactions)
    );
    assert_eq!(split.first_id, whole.first_id);
    for to_server in [true, false] {
        assert_eq!(split.error(to_server), whole.error(to_server));
    }
}

/// The transactions with what legitimately depends on the split left out: a body whose
/// decompression failed (or was stopped as a bomb) decodes differently with the pieces it
/// came in, as in libhtp (a failed inflate restarts on the piece at hand, and gives up
/// after four failures), so its decoded bytes, decoded length, file and decompression
/// events are not compared; and whether a file was truncated or only filled to the body
/// limit depends on the pieces too. Framing (wire length, completeness) still is.
fn split_independent(txs: &[http::Transaction]) -> Vec<http::Transaction> {
    use http::HttpAnomaly::{CompressionBomb, GzipDecompressionFailed};
    txs.iter()
        .map(|tx| {
            let mut tx = tx.clone();
            if tx
                .anomalies
                .iter()
                .any(|a| matches!(a, GzipDecompressionFailed | CompressionBomb))
            {
                tx.anomalies
                    .retain(|a| !matches!(a, GzipDecompressionFailed | CompressionBomb));
                // The file too: opened by the first decoded byte, its size and whether
                // it went past the body limit follow the decoded bytes.
                tx.request.body.clear();
                tx.request.entity_len = 0;
                tx.request.file = None;
                if let Some(r) = tx.response.as_mut() {
                    r.body.clear();
                    r.entity_len = 0;
                    r.file = None;
                }
            }
            // A file is truncated by a piece of body arriving once the limit is reached;
            // a body that crosses the limit in one piece only fills it (libhtp's body
            // callbacks take what each chunk brings). So "truncated" is "closed" (or
            // "open") at the split.
            let (req_done, resp_done) = (
                tx.request.complete,
                tx.response.as_ref().is_some_and(|r| r.complete),
            );
            let files = [
                (tx.request.file.as_mut(), req_done),
                (
                    tx.response.as_mut().and_then(|r| r.file.as_mut()),
                    resp_done,
                ),
            ];
            for (file, done) in files {
                if let Some(f) = file.filter(|f| f.state == http::FileState::Truncated) {
                    f.state = if done {
                        http::FileState::Closed
                    } else {
                        http::FileState::Open
                    };
                }
            }
            tx
        })
        .collect()
}

/// First byte, bit 0: DNS over TCP, the rest split as [`pieces`] (direction ignored);
/// else the rest is one UDP datagram. TCP framing must not depend on the split.
pub fn dns(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = dns::probe(rest);
        if let Ok(message) = dns::parse_message(rest) {
            for answer in &message.answers {
                let _ = dns::rrtype_name(answer.rrtype);
            }
        }
        return;
    }
    let pieces = pieces(rest);
    let mut split = dns::TcpReader::default();
    let mut split_messages = Vec::new();
    for (_, bytes) in &pieces {
        split_messages.extend(split.feed(bytes));
        assert!(
            split.buffered() <= dns::MAX_TCP_BUFFERED,
            "DNS holds too much"
        );
    }
    let all: Vec<u8> = pieces.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let mut whole = dns::TcpReader::default();
    assert_eq!(split_messages, whole.feed(&all));
}

/// Rule variables and classtypes as the shipped suricata.yaml has them.
fn rule_context() -> RuleContext {
    RuleContext {
        vars: VarTable::from_config(&crate::config::Vars::default()),
        ..RuleContext::default()
    }
}

/// Bytes as a rules file; the rules that load are compiled and run over a small fixed
/// capture (HTTP, TLS, DNS, SSH; IPv4 and IPv6).
pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ctx = rule_context();
    let (rules, _errors) = crate::rules::parse_rules_text(&text, "fuzz.rules", &ctx);
    for rule in &rules {
        // Printing a rule (duplicate-sid errors quote it) must work for any loaded rule.
        let _ = rule.to_string();
    }
    if rules.is_empty() {
        return;
    }
    let settings = Settings::default();
    let detect = DetectEngine::from_rules(rules, &ctx.vars, DetectSettings::default());
    run_engine(&settings, detect, fixture_capture(), None);
}

/// Bytes as AWS JSON: a rule group, a firewall policy, or a Terraform document holding
/// either; the groups' rules are parsed with their variables and the policy resolved.
pub fn aws_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ctx = rule_context();
    let groups = aws::parse_rule_groups(&text, "fuzz.json").unwrap_or_default();
    for group in &groups {
        let group_ctx = RuleContext {
            vars: group.vars(&ctx.vars),
            classes: ctx.classes.clone(),
            pcre_budget: ctx.pcre_budget.clone(),
        };
        let _ = crate::rules::parse_rules_text(&group.rules, &group.name, &group_ctx);
    }
    let _ = policy::looks_like_policy(&text);
    if let Ok(policy) = policy::parse_policy(&text, "fuzz.json") {
        let _ = policy.resolve(&groups);
        let _ = policy.rule_order_conflicts(&groups);
    }
}

/// Bytes as an expectations file (TOML), checked against the flow records of the fixed
/// capture and ruleset, and its reports written.
pub fn expectations(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = ExpectationFile::parse(text, Path::new("fuzz/expect.toml")) else {
        return;
    };
    let records = fixture_records();
    let results = plan.checks.iter().map(|c| c.check(records)).collect();
    let report = TestReport::new("fuzz/expect.toml".into(), results);
    let _ = report.render(true);
    let _ = report.junit(0.0);
}

/// Bytes as a capture, through the whole engine with [`FIXTURE_RULES`] and EVE output
/// discarded: once as IDS with decision records, once inline with mid-stream pick-up.
pub fn end_to_end(data: &[u8]) {
    for ips in [false, true] {
        let mut settings = Settings {
            simulate_ips: ips,
            ..Settings::default()
        };
        settings.flow.midstream = ips;
        let detect = fixture_detect(&settings, !ips);
        let records = (!ips).then(Arc::default);
        run_engine(&settings, detect, data, records);
    }
}

/// An engine writing to a discarded output; with `records`, collecting the flows'
/// decision records there.
fn new_engine(
    settings: &Settings,
    detect: DetectEngine,
    records: Option<Arc<Mutex<Vec<FlowRecord>>>>,
) -> Engine {
    let mut engine = Engine::new(settings, EventOutput::discard(), Some(detect));
    if let Some(records) = records {
        engine.set_tracer(Tracer::new(Box::new(move |r| {
            records.lock().unwrap_or_else(|e| e.into_inner()).push(r)
        })));
    }
    engine
}

fn process(engine: &mut Engine, frame: &Frame<'_>) {
    if let Err(e) = engine.process_frame(frame) {
        panic!("discarded output failed: {e}");
    }
}

/// Ends the run; every frame must have been counted.
fn finish(engine: Engine, frames: u64) {
    let stats = match engine.finish() {
        Ok(stats) => stats,
        Err(e) => panic!("discarded output failed: {e}"),
    };
    assert_eq!(stats.capture.packets_read, frames);
    assert!(stats.stream.max_bytes_held <= StreamConfig::default().memcap);
}

/// Runs a capture through an engine; with `records`, collects the flows' decision
/// records there. The checks are the engine's own and its counters.
fn run_engine(
    settings: &Settings,
    detect: DetectEngine,
    capture: &[u8],
    records: Option<Arc<Mutex<Vec<FlowRecord>>>>,
) {
    let Ok(mut reader) = CaptureReader::from_bytes(Path::new("fuzz-input"), capture) else {
        return;
    };
    let mut engine = new_engine(settings, detect, records);
    let mut frames = 0u64;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                frames += 1;
                process(&mut engine, &frame);
            }
            Ok(None) => break,
            Err(e) if e.is_recoverable() => {}
            Err(_) => break,
        }
    }
    finish(engine, frames);
}

/// Server ports the tcp_session target picks from: HTTP, TLS, DNS, SSH, SMTP, Kerberos,
/// SIP, and one no detection expects.
const SESSION_PORTS: [u16; 8] = [80, 443, 53, 22, 25, 88, 5060, 8080];

/// A detection engine with [`FIXTURE_RULES`].
fn fixture_detect(settings: &Settings, trace: bool) -> DetectEngine {
    DetectEngine::from_rules(
        fixture_rules().to_vec(),
        &VarTable::from_config(&settings.vars),
        DetectSettings {
            ips: settings.simulate_ips,
            trace,
            ..DetectSettings::default()
        },
    )
}

/// One TCP connection built from fields, through the whole engine with
/// [`FIXTURE_RULES`] (decision records kept in IDS mode): flow and TCP state, stream
/// reassembly, protocol detection, parsers and detection, without the fuzzer having to
/// make valid IP and TCP headers.
///
/// Header: mode (bit 0 inline, bit 1 mid-stream pick-up, bits 2-4 server port index, bit 5
/// IPv6), client and server initial sequence numbers (u32 each). Then per segment:
/// control (bit 0 from the server; bits 1-2 time step: none, 1 ms, 1 s, 200 s), TCP
/// flags, sequence offset (i16, from the sender's next sequence number), acknowledgement
/// offset (i16, from the receiver's next), payload length (u8), payload.
pub fn tcp_session(data: &[u8]) {
    let mut input = Input(data);
    let (Some(mode), Some(client_isn), Some(server_isn)) = (input.u8(), input.u32(), input.u32())
    else {
        return;
    };
    let mut settings = Settings {
        simulate_ips: mode & 1 != 0,
        ..Settings::default()
    };
    settings.flow.midstream = mode & 2 != 0;
    let port = SESSION_PORTS[usize::from((mode >> 2) & 7)];
    let (client, server): (SocketAddr, SocketAddr) = if mode & 0x20 != 0 {
        (
            SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 40_000)),
            SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2], port)),
        )
    } else {
        (
            SocketAddr::from(([10, 0, 0, 1], 40_000)),
            SocketAddr::from(([10, 0, 0, 2], port)),
        )
    };
    let records = (!settings.simulate_ips).then(Arc::default);
    let detect = fixture_detect(&settings, records.is_some());
    let mut engine = new_engine(&settings, detect, records);
    // Next sequence number of each side: [client, server].
    let mut next = [client_isn, server_isn];
    let mut now = Timestamp::new(1_700_000_000, 0);
    let mut frames = 0u64;
    while let (Some(control), Some(flags), Some(seq_off), Some(ack_off), Some(len)) =
        (input.u8(), input.u8(), input.u16(), input.u16(), input.u8())
    {
        let payload = input.take(usize::from(len));
        let from_server = control & 1 != 0;
        let (sender, receiver) = if from_server { (1, 0) } else { (0, 1) };
        let (src, dst) = if from_server {
            (server, client)
        } else {
            (client, server)
        };
        let seq = next[sender].wrapping_add(seq_off as i16 as i32 as u32);
        let ack = next[receiver].wrapping_add(ack_off as i16 as i32 as u32);
        let syn_fin = flags & (tcp_flags::SYN | tcp_flags::FIN) != 0;
        next[sender] = seq
            .wrapping_add(payload.len() as u32)
            .wrapping_add(u32::from(syn_fin));
        now = match (control >> 1) & 3 {
            0 => now,
            1 => match now.nanos() + 1_000_000 {
                n if n >= 1_000_000_000 => Timestamp::new(now.secs() + 1, n - 1_000_000_000),
                n => Timestamp::new(now.secs(), n),
            },
            2 => now.plus_secs(1),
            _ => now.plus_secs(200),
        };
        let packet = crate::synth::packets::tcp(src, dst, 64, seq, ack, flags, payload);
        frames += 1;
        let frame = Frame {
            linktype: 101,
            ts: now,
            data: &packet,
            orig_len: packet.len() as u32,
            number: frames,
            offset: 0,
        };
        process(&mut engine, &frame);
    }
    finish(engine, frames);
}

/// The ruleset of the end-to-end target: content, pcre, flowbits, the TLS, HTTP and DNS
/// buffers, pass and drop. Every rule must load (`tests/fuzz_corpus.rs` checks it).
pub const FIXTURE_RULES: &str = r#"
alert tcp any any -> any any (msg:"GET in a segment"; content:"GET "; sid:1;)
alert http any any -> any any (msg:"host"; http.host; content:"example"; sid:2;)
alert http any any -> any any (msg:"uri"; http.uri; content:"/admin"; pcre:"/\/admin\/[0-9]+$/U"; sid:3;)
alert tls any any -> any any (msg:"sni"; tls.sni; content:"example"; flowbits:set,tls.seen; sid:4;)
alert tls any any -> any any (msg:"after sni"; flowbits:isset,tls.seen; ssl_state:server_hello; sid:5;)
alert dns any any -> any any (msg:"query"; dns.query; content:"example"; nocase; sid:6;)
alert tcp any any -> any any (msg:"pcre"; flow:established,to_server; pcre:"/^(GET|POST)\s+\/[a-z]*/i"; sid:7;)
drop tcp any any -> any 22 (msg:"ssh"; flow:established,to_server; content:"SSH-"; depth:4; sid:8;)
pass ip 10.9.9.9 any -> any any (msg:"passed host"; sid:9;)
alert udp any any -> any 53 (msg:"dns header"; content:"|01 00|"; offset:2; depth:2; sid:10;)
alert http any any -> any any (msg:"status"; http.stat_code; content:"404"; sid:11;)
alert tcp any any -> any any (msg:"flowbit and raw bytes"; flowbits:isset,tls.seen; content:"|17 03|"; sid:12;)
alert ip any any -> any any (msg:"udp"; ip_proto:17; sid:13;)
alert tcp any any -> any any (msg:"bytes"; content:"HTTP/1."; byte_test:1,>,0x30,0,relative; isdataat:3,relative; sid:14;)
"#;

/// [`FIXTURE_RULES`], parsed once.
pub fn fixture_rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        crate::rules::parse_rules_text(FIXTURE_RULES, "fixture.rules", &rule_context()).0
    })
}

/// A small capture with an HTTP, a TLS, an SSH and a DNS flow (IPv4), and an HTTP flow
/// over IPv6, as an Ethernet pcap.
pub fn fixture_capture() -> &'static [u8] {
    static CAPTURE: OnceLock<Vec<u8>> = OnceLock::new();
    CAPTURE.get_or_init(|| encode::fixture_capture().unwrap_or_default())
}

/// The decision records of [`fixture_capture`] under [`FIXTURE_RULES`] (IDS).
fn fixture_records() -> &'static [FlowRecord] {
    static RECORDS: OnceLock<Vec<FlowRecord>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let settings = Settings::default();
        let detect = fixture_detect(&settings, true);
        let records: Arc<Mutex<Vec<FlowRecord>>> = Arc::default();
        run_engine(&settings, detect, fixture_capture(), Some(records.clone()));
        let mut out = std::mem::take(&mut *records.lock().unwrap_or_else(|e| e.into_inner()));
        out.sort_by_key(|r| (r.first_packet, r.flow_id));
        out
    })
}

/// Writers of the structured inputs, for seed corpora.
pub mod encode {
    use std::net::SocketAddr;

    use super::FragmentSpec;
    use crate::synth::packets::{self, Link};
    use crate::synth::{PcapWriter, TcpConversation};
    use crate::time::Timestamp;

    /// Pieces for the `tls`, `http` and `dns` (TCP) targets, each split into pieces of at
    /// most `max` bytes (1 to 255).
    pub fn pieces(parts: &[(bool, &[u8])], max: usize) -> Vec<u8> {
        let max = max.clamp(1, 255);
        let mut out = Vec::new();
        for &(to_server, bytes) in parts {
            for piece in bytes.chunks(max) {
                out.push(u8::from(to_server));
                out.push(piece.len() as u8);
                out.extend_from_slice(piece);
            }
        }
        out
    }

    /// A `defrag` input: header bytes (policy, fragment limit, tracker limit), then the
    /// fragments (each at most 255 bytes of data).
    pub fn fragments(header: [u8; 3], frags: &[(FragmentSpec, &[u8])]) -> Vec<u8> {
        let mut out = header.to_vec();
        for (f, data) in frags {
            let control = u8::from(f.v6)
                | ((f.id as u8 & 3) << 1)
                | (u8::from(f.more) << 3)
                | ((f.source & 1) << 4)
                | (u8::from(f.options) << 5);
            out.push(control);
            out.extend_from_slice(&f.offset.to_be_bytes());
            out.push(f.proto);
            let data = &data[..data.len().min(255)];
            out.push(data.len() as u8);
            out.extend_from_slice(data);
        }
        out
    }

    /// A datagram's payload cut into fragments of `step` bytes (a multiple of 8).
    pub fn fragmented(v6: bool, proto: u8, payload: &[u8], step: usize) -> Vec<u8> {
        let step = (step / 8).clamp(1, 31) * 8;
        let mut frags = Vec::new();
        for (i, part) in payload.chunks(step).enumerate() {
            let spec = FragmentSpec {
                v6,
                id: 1,
                more: (i + 1) * step < payload.len(),
                source: 0,
                options: false,
                offset: (i * step / 8) as u16,
                proto,
            };
            frags.push((spec, part));
        }
        // Bsd policy, default limits.
        fragments([0, 0x80, 0x80], &frags)
    }

    /// A `tcp_stream` stream operation.
    pub enum StreamOp<'a> {
        Insert { offset: i32, data: &'a [u8] },
        Read { ahead: Option<u16> },
        PassThrough { offset: i16, len: u8 },
    }

    /// A `tcp_stream` input.
    pub fn stream(
        flags: u8,
        depth: u16,
        memcap: u16,
        first_seq: u32,
        ops: &[StreamOp<'_>],
    ) -> Vec<u8> {
        let mut out = vec![flags];
        out.extend_from_slice(&depth.to_be_bytes());
        out.extend_from_slice(&memcap.to_be_bytes());
        out.extend_from_slice(&first_seq.to_be_bytes());
        for op in ops {
            match op {
                StreamOp::Insert { offset, data } => {
                    out.push(4);
                    out.extend_from_slice(&offset.to_be_bytes());
                    let data = &data[..data.len().min(255)];
                    out.push(data.len() as u8);
                    out.extend_from_slice(data);
                }
                StreamOp::Read { ahead: None } => out.push(2 | 4),
                StreamOp::Read { ahead: Some(n) } => {
                    out.push(2);
                    out.extend_from_slice(&n.to_be_bytes());
                }
                StreamOp::PassThrough { offset, len } => {
                    out.push(3);
                    out.extend_from_slice(&offset.to_be_bytes());
                    out.push(*len);
                }
            }
        }
        out
    }

    /// A `tcp_session` segment: from the server or the client, TCP flags, offsets of its
    /// sequence and acknowledgement numbers from the expected ones, payload.
    pub struct Segment<'a> {
        pub from_server: bool,
        pub flags: u8,
        pub seq_offset: i16,
        pub ack_offset: i16,
        pub payload: &'a [u8],
    }

    /// A `tcp_session` input: mode byte, initial sequence numbers, segments (payloads of
    /// more than 255 bytes are cut into several segments). Time steps 1 ms per segment.
    pub fn tcp_session(mode: u8, isns: (u32, u32), segments: &[Segment<'_>]) -> Vec<u8> {
        let mut out = vec![mode];
        out.extend_from_slice(&isns.0.to_be_bytes());
        out.extend_from_slice(&isns.1.to_be_bytes());
        for s in segments {
            let mut parts: Vec<&[u8]> = s.payload.chunks(255).collect();
            if parts.is_empty() {
                parts.push(&[]);
            }
            for (i, part) in parts.iter().enumerate() {
                out.push(u8::from(s.from_server) | 2);
                out.push(s.flags);
                let seq = if i == 0 { s.seq_offset } else { 0 };
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(&s.ack_offset.to_be_bytes());
                out.push(part.len() as u8);
                out.extend_from_slice(part);
            }
        }
        out
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse()
            .unwrap_or_else(|_| SocketAddr::from(([10, 0, 0, 1], 1)))
    }

    /// The capture behind [`super::fixture_capture`].
    pub fn fixture_capture() -> std::io::Result<Vec<u8>> {
        let start = Timestamp::new(1_767_225_600, 0);
        let mut packets = Vec::new();
        let mut http = TcpConversation::new(addr("10.0.0.1:40000"), addr("10.0.0.2:80"), start);
        http.handshake()
            .client_sends(&packets::http_request(
                "GET",
                "www.example.com",
                "/admin/1",
                "fuzz",
            ))
            .server_sends(&packets::http_response(
                404,
                "Not Found",
                "text/plain",
                "no",
            ))
            .close();
        packets.extend(http.packets);
        let mut tls = TcpConversation::new(
            addr("10.0.0.1:40001"),
            addr("10.0.0.3:443"),
            start.plus_secs(1),
        );
        let mut server = packets::tls_server_hello();
        server.extend_from_slice(&packets::tls_server_hello_done());
        tls.handshake()
            .client_sends(&packets::tls_client_hello(Some("www.example.com")))
            .server_sends(&server)
            .client_sends(&[0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb])
            .close();
        packets.extend(tls.packets);
        let mut ssh = TcpConversation::new(
            addr("10.0.0.1:40002"),
            addr("10.0.0.4:22"),
            start.plus_secs(2),
        );
        ssh.handshake().client_sends(b"SSH-2.0-fuzz\r\n").reset();
        packets.extend(ssh.packets);
        let mut v6 = TcpConversation::new(
            addr("[2001:db8::1]:40003"),
            addr("[2001:db8::2]:80"),
            start.plus_secs(3),
        );
        v6.handshake()
            .client_sends(&packets::http_request("POST", "example.org", "/x", "fuzz"))
            .close();
        packets.extend(v6.packets);
        let mut w = PcapWriter::new(Vec::new(), 1)?;
        let link = Link::ethernet();
        for p in &packets {
            w.packet(p.ts, &link.wrap(&p.ip))?;
        }
        let query = packets::dns_query(7, "www.example.com", 1);
        let answer = packets::dns_response_a(7, "www.example.com", [93, 184, 216, 34]);
        let (client, server) = (addr("10.0.0.1:5353"), addr("10.0.0.53:53"));
        let dns_time = start.plus_secs(4);
        w.packet(
            dns_time,
            &link.wrap(&packets::udp(client, server, 64, &query)),
        )?;
        w.packet(
            dns_time,
            &link.wrap(&packets::udp(server, client, 64, &answer)),
        )?;
        Ok(w.into_inner())
    }
}
