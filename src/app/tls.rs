//! TLS handshake parsing for one session, fed with each direction's reassembled stream
//! bytes: records split across segments, handshake messages split across records, the
//! ClientHello's SNI (bytes as sent), ALPN, supported versions and JA3; the ServerHello's
//! version, cipher and JA3S; each side's Certificate message (the chain's DER, and the
//! first certificate's subject, issuer, serial, SHA-1 fingerprint and validity, decoded
//! with `x509-parser` as Suricata's `rust/src/x509` does); and the `ssl_state` flags of
//! the messages parsed last. Hellos are decoded with `tls-parser`; record and handshake
//! framing is ours, because it must survive any split of the bytes, and so is the
//! Certificate message's certificate list, because Suricata keeps the certificates before
//! a bad length where `tls-parser` would refuse the whole message.

use md5::{Digest, Md5};
use sha1::Sha1;
use tls_parser::{
    parse_tls_client_hello_extension, parse_tls_message_handshake,
    parse_tls_server_hello_extension, TlsExtension, TlsMessage, TlsMessageHandshake,
};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Largest record Suricata accepts: 2^14 plus the 2048 bytes of expansion TLS allows.
pub const MAX_RECORD: usize = (1 << 14) + 2048;
/// Default of [`TlsLimits::handshake`].
pub const DEFAULT_HANDSHAKE_LIMIT: usize = 1 << 18;

/// What one TLS session may hold, from the settings (README, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsLimits {
    /// Largest handshake message held while its records arrive
    /// (`app-layer.protocols.tls.rulesim.handshake-limit`; Suricata has no such bound).
    pub handshake: usize,
}

impl Default for TlsLimits {
    fn default() -> Self {
        TlsLimits {
            handshake: DEFAULT_HANDSHAKE_LIMIT,
        }
    }
}

impl TlsLimits {
    /// The most bytes a direction holds between calls: a record and a handshake message.
    pub fn max_buffered(&self) -> usize {
        5 + MAX_RECORD + self.handshake
    }
}

/// How often a session reached its limits (summed into `stats.json`,
/// `app_limits.tls`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsLimitHits {
    /// Records longer than 18,432 bytes (2^14 + 2048, Suricata's bound; the direction
    /// stopped).
    pub record_too_long: u64,
    /// Handshake messages longer than `handshake-limit` (the direction stopped).
    pub handshake_too_long: u64,
}

impl TlsLimitHits {
    pub fn add(&mut self, o: &TlsLimitHits) {
        self.record_too_long += o.record_too_long;
        self.handshake_too_long += o.handshake_too_long;
    }
}

/// The ServerHello random that marks a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3).
const HELLO_RETRY_REQUEST: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
const CONTENT_APPLICATION_DATA: u8 = 23;
const CONTENT_HEARTBEAT: u8 = 24;

/// `ssl_state` flags.
pub mod state {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const CLIENT_KEYX: u8 = 4;
    pub const SERVER_KEYX: u8 = 8;
    pub const UNKNOWN: u8 = 16;
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The legacy version field (0x0303 for TLS 1.2 and 1.3 clients).
    pub version: u16,
    /// The first host_name of the server_name extension, bytes as sent.
    pub sni: Option<Vec<u8>>,
    pub alpn: Vec<Vec<u8>>,
    pub supported_versions: Vec<u16>,
    /// JA3 string: version, ciphers, extensions, groups, point formats (GREASE left out).
    pub ja3: String,
    /// The early_data extension (TLS 1.3 0-RTT) is present.
    pub early_data: bool,
    pub session_id: Vec<u8>,
    /// The session_ticket extension is present (a resumption attempt).
    pub session_ticket: bool,
}

impl ClientHello {
    pub fn ja3_hash(&self) -> String {
        md5_hex(self.ja3.as_bytes())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The negotiated version: supported_versions when present, else the legacy field.
    pub version: u16,
    pub cipher: u16,
    /// JA3S string: version, cipher, extensions.
    pub ja3s: String,
    pub session_id: Vec<u8>,
}

impl ServerHello {
    pub fn ja3s_hash(&self) -> String {
        md5_hex(self.ja3s.as_bytes())
    }
}

/// The first certificate of a chain that decoded, as Suricata's `cert0_*` fields
/// (app-layer-ssl.c `TlsDecodeHSCertificate`, rust/src/x509/mod.rs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// x509-parser's `X509Name` display form, e.g. `C=US, O=Example, CN=www.example.com`.
    pub subject: String,
    pub issuer: String,
    /// The serial's DER bytes (a leading zero included) as uppercase hex joined by `:`.
    pub serial: String,
    /// SHA-1 of the certificate's DER, lowercase hex joined by `:`.
    pub fingerprint: String,
    /// Validity, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

/// One side's Certificate message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Certificates {
    /// The DER of each certificate `tls.certs` inspects, in message order. As in
    /// Suricata, a certificate that fails to decode while no first certificate was
    /// decoded yet is left out (the next one is tried as the first).
    pub chain: Vec<Vec<u8>>,
    /// The first certificate that decoded.
    pub first: Option<CertInfo>,
    /// Certificates that failed to decode, and a list that ended in a bad length
    /// (Suricata's `tls.invalid_certificate` family of events).
    pub invalid: u32,
}

/// Why a direction stopped being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsError {
    /// The bytes are not TLS records.
    NotTls,
    RecordTooLong,
    HandshakeTooLong,
    /// A handshake message tls-parser could not decode.
    InvalidHandshake,
}

#[derive(Clone, Debug, Default)]
struct Direction {
    /// Bytes of an incomplete record.
    record: Vec<u8>,
    /// Handshake bytes of incomplete messages, across records.
    handshake: Vec<u8>,
    /// After ChangeCipherSpec (or a TLS 1.3 ServerHello): handshake records are encrypted.
    encrypted: bool,
    error: Option<TlsError>,
}

/// One TLS session.
#[derive(Clone, Debug, Default)]
pub struct TlsSession {
    to_server: Direction,
    to_client: Direction,
    pub client_hello: Option<ClientHello>,
    pub server_hello: Option<ServerHello>,
    /// Flags of the messages parsed by the last `feed` (what `ssl_state` tests).
    pub current_flags: u8,
    /// Flags of every message parsed so far.
    pub seen_flags: u8,
    /// An application data record was parsed (0-RTT data before the ServerHello aside):
    /// the handshake is over. Suricata's default `encryption-handling` then stops
    /// inspecting the flow's packet payloads and raw stream (app-layer-ssl.c sets
    /// `APP_LAYER_PARSER_NO_INSPECTION_PAYLOAD`).
    pub app_data: bool,
    /// The server's Certificate message (the first one; Suricata ignores later ones).
    pub server_certs: Option<Certificates>,
    /// The client's Certificate message (mutual TLS).
    pub client_certs: Option<Certificates>,
    /// The server sent a CertificateRequest.
    need_client_cert: bool,
    /// Suricata's `SSL_AL_FLAG_HANDSHAKE_DONE`: application data was seen, or, at the end
    /// of a parser call, the expected side's first certificate was decoded.
    pub handshake_done: bool,
    /// Suricata's `connp.version` of each side (0: client, 1: server), what `ssl_version`
    /// tests: the record layer's version until the side's hello, then the hello's legacy
    /// version, then (ClientHello) the first valid version of supported_versions or
    /// (ServerHello) the one it selects.
    pub conn_version: [u16; 2],
    limits: TlsLimits,
    /// Limits reached since the last [`take_limit_hits`](Self::take_limit_hits).
    hits: TlsLimitHits,
}

impl TlsSession {
    /// A session with these limits ([`Default`] has rulesim's defaults).
    pub fn with_limits(limits: TlsLimits) -> TlsSession {
        TlsSession {
            limits,
            ..TlsSession::default()
        }
    }

    /// The limits reached since the last call.
    pub fn take_limit_hits(&mut self) -> TlsLimitHits {
        std::mem::take(&mut self.hits)
    }

    fn dir_mut(&mut self, to_server: bool) -> &mut Direction {
        if to_server {
            &mut self.to_server
        } else {
            &mut self.to_client
        }
    }

    /// Whether `data` (the first bytes of a direction) looks like a TLS record, for
    /// protocol detection: handshake or alert content, SSLv3 to TLS 1.3 record version.
    pub fn probe(data: &[u8]) -> Option<bool> {
        if data.len() < 3 {
            return None;
        }
        Some(matches!(data[0], CONTENT_HANDSHAKE | CONTENT_ALERT) && data[1] == 3 && data[2] <= 4)
    }

    /// Whether a direction's further bytes change nothing the parser reports: its parsing
    /// failed, or application data was seen (a direction that is merely encrypted still
    /// counts: its next record may be the first application data).
    pub fn done(&self, to_server: bool) -> bool {
        self.app_data || self.dir(to_server).error.is_some()
    }

    /// The version EVE shows: the ServerHello's, `UNDETERMINED` before it.
    /// Suricata's `SSL_AL_FLAG_LOG_WITHOUT_CERT`: the server chose TLS 1.3 (or a draft),
    /// whose certificate is encrypted.
    pub fn tls13(&self) -> bool {
        self.server_hello.as_ref().is_some_and(|s| {
            s.legacy_version == 0x0304
                || s.legacy_version >> 8 == 0x7f
                || (s.version > 0x0303
                    && self
                        .client_hello
                        .as_ref()
                        .is_some_and(|c| !c.supported_versions.is_empty()))
        })
    }

    /// Suricata's `SSL_AL_FLAG_SESSION_RESUMED`: the client offered a session ticket, or
    /// the server echoed the client's session id.
    pub fn session_resumed(&self) -> bool {
        let Some(c) = &self.client_hello else {
            return false;
        };
        c.session_ticket
            || (!c.session_id.is_empty()
                && self
                    .server_hello
                    .as_ref()
                    .is_some_and(|s| s.session_id == c.session_id))
    }

    pub fn version_name(&self) -> &'static str {
        match self.server_hello.as_ref().map(|s| s.version) {
            Some(0x0300) => "SSLv3",
            Some(0x0301) => "TLS 1.0",
            Some(0x0302) => "TLS 1.1",
            Some(0x0303) => "TLS 1.2",
            Some(0x0304) => "TLS 1.3",
            _ => "UNDETERMINED",
        }
    }

    /// Bytes a direction holds until more arrive (a partial record, a partial handshake
    /// message).
    pub fn buffered(&self, to_server: bool) -> usize {
        let d = self.dir(to_server);
        d.record.len() + d.handshake.len()
    }

    pub fn error(&self, to_server: bool) -> Option<TlsError> {
        self.dir(to_server).error
    }

    fn dir(&self, to_server: bool) -> &Direction {
        if to_server {
            &self.to_server
        } else {
            &self.to_client
        }
    }

    /// Parses the next bytes of one direction.
    pub fn feed(&mut self, to_server: bool, data: &[u8]) {
        self.feed_bytes(to_server, data);
        // As the end of Suricata's `SSLDecode`: the handshake is done once the side that
        // must authenticate sent a certificate that decoded.
        let has = |c: &Option<Certificates>| c.as_ref().is_some_and(|c| c.first.is_some());
        if self.need_client_cert && has(&self.client_certs)
            || !self.need_client_cert && has(&self.server_certs)
        {
            self.handshake_done = true;
        }
    }

    /// Whether a side's certificate buffers are available to detection: Suricata's
    /// `TLS_STATE_CERT_READY` progress, which the to-server side reaches with the
    /// server's first certificate and the to-client side only with the handshake done.
    pub fn cert_ready(&self, to_server: bool) -> bool {
        self.handshake_done
            || to_server
                && self
                    .server_certs
                    .as_ref()
                    .is_some_and(|c| c.first.is_some())
    }

    /// The certificates a direction's cert keywords inspect: the client's to the server,
    /// the server's to the client, once that progress is reached.
    pub fn certs(&self, to_server: bool) -> Option<&Certificates> {
        if !self.cert_ready(to_server) {
            return None;
        }
        if to_server {
            self.client_certs.as_ref()
        } else {
            self.server_certs.as_ref()
        }
    }

    fn feed_bytes(&mut self, to_server: bool, data: &[u8]) {
        self.current_flags = 0;
        if self.dir(to_server).error.is_some() {
            return;
        }
        let d = self.dir_mut(to_server);
        let mut pending = std::mem::take(&mut d.record);
        let mut data = data;
        if !pending.is_empty() {
            // Complete the split record with only the bytes it still needs, so that a
            // record arriving in many small pieces costs no more than one arriving whole.
            let need = |p: &[u8]| {
                if p.len() < 5 {
                    5
                } else {
                    5 + usize::from(u16::from_be_bytes([p[3], p[4]]))
                }
            };
            let encrypted = self.dir(to_server).encrypted;
            // A header that cannot start a record is refused at once, not after its length.
            let bad = |p: &[u8]| {
                p.len() >= 5
                    && (!(encrypted || p[1] == 3 && p[2] <= 4)
                        || usize::from(u16::from_be_bytes([p[3], p[4]])) > MAX_RECORD)
            };
            while pending.len() < need(&pending) && !data.is_empty() && !bad(&pending) {
                let take = (need(&pending) - pending.len()).min(data.len());
                pending.extend_from_slice(&data[..take]);
                data = &data[take..];
            }
            if pending.len() < need(&pending) && !bad(&pending) {
                self.dir_mut(to_server).record = pending;
                return;
            }
            // A whole record (or a header that fails the checks): parse it as usual.
            self.feed_records(to_server, &pending);
            if self.dir(to_server).error.is_some() {
                return;
            }
        }
        self.feed_records(to_server, data);
    }

    fn feed_records(&mut self, to_server: bool, mut data: &[u8]) {
        while !data.is_empty() {
            if data.len() < 5 {
                self.stash(to_server, data);
                return;
            }
            let record_version_ok = data[1] == 3 && data[2] <= 4;
            if !record_version_ok && !self.dir(to_server).encrypted {
                self.fail(to_server, TlsError::NotTls);
                return;
            }
            let len = usize::from(u16::from_be_bytes([data[3], data[4]]));
            if len > MAX_RECORD {
                self.fail(to_server, TlsError::RecordTooLong);
                return;
            }
            if data.len() < 5 + len {
                self.stash(to_server, data);
                return;
            }
            if let Err(e) = self.record(to_server, &data[..5 + len]) {
                self.fail(to_server, e);
                return;
            }
            data = &data[5 + len..];
        }
    }

    fn stash(&mut self, to_server: bool, bytes: &[u8]) {
        let d = self.dir_mut(to_server);
        d.record.clear();
        d.record.extend_from_slice(bytes);
    }

    fn fail(&mut self, to_server: bool, e: TlsError) {
        match e {
            TlsError::RecordTooLong => self.hits.record_too_long += 1,
            TlsError::HandshakeTooLong => self.hits.handshake_too_long += 1,
            TlsError::NotTls | TlsError::InvalidHandshake => {}
        }
        let d = self.dir_mut(to_server);
        d.error = Some(e);
        d.record = Vec::new();
        d.handshake = Vec::new();
    }

    /// One whole record (header included).
    fn record(&mut self, to_server: bool, rec: &[u8]) -> Result<(), TlsError> {
        let content = rec[0];
        // SSLv3ParseRecord: the record's version stands for the side's until its hello.
        let side = usize::from(!to_server);
        let hello_seen = if to_server {
            self.client_hello.is_some()
        } else {
            self.server_hello.is_some()
        };
        if !(hello_seen && self.conn_version[side] != 0) {
            self.conn_version[side] = u16::from_be_bytes([rec[1], rec[2]]);
        }
        let body = &rec[5..];
        let handshake_limit = self.limits.handshake;
        let d = self.dir_mut(to_server);
        match content {
            CONTENT_CHANGE_CIPHER_SPEC => {
                d.encrypted = true;
                Ok(())
            }
            CONTENT_APPLICATION_DATA => {
                d.encrypted = true;
                let early = self.client_hello.as_ref().is_some_and(|c| c.early_data)
                    && self.server_hello.is_none();
                if !early {
                    self.app_data = true;
                    self.handshake_done = true;
                }
                Ok(())
            }
            CONTENT_ALERT | CONTENT_HEARTBEAT => Ok(()),
            CONTENT_HANDSHAKE if d.encrypted => Ok(()),
            CONTENT_HANDSHAKE => {
                if d.handshake.len() + body.len() > handshake_limit {
                    return Err(TlsError::HandshakeTooLong);
                }
                d.handshake.extend_from_slice(body);
                self.handshake_messages(to_server)
            }
            _ => Err(TlsError::NotTls),
        }
    }

    /// Parses the complete handshake messages buffered for a direction.
    fn handshake_messages(&mut self, to_server: bool) -> Result<(), TlsError> {
        let buf = {
            let d = self.dir_mut(to_server);
            std::mem::take(&mut d.handshake)
        };
        let mut at = 0;
        while buf.len() - at >= 4 {
            let len = u32::from_be_bytes([0, buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
            if buf.len() - at < 4 + len {
                break;
            }
            self.handshake_message(to_server, &buf[at..at + 4 + len])?;
            at += 4 + len;
        }
        let d = self.dir_mut(to_server);
        d.handshake = buf[at..].to_vec();
        Ok(())
    }

    fn handshake_message(&mut self, to_server: bool, msg: &[u8]) -> Result<(), TlsError> {
        let flag = match msg[0] {
            1 => state::CLIENT_HELLO,
            2 => state::SERVER_HELLO,
            16 => state::CLIENT_KEYX,
            12 => state::SERVER_KEYX,
            _ => 0,
        };
        match msg[0] {
            1 | 2 => {
                let Ok((_, TlsMessage::Handshake(h))) = parse_tls_message_handshake(msg) else {
                    return Err(TlsError::InvalidHandshake);
                };
                match h {
                    TlsMessageHandshake::ClientHello(ch) => {
                        let hello = client_hello(&ch);
                        // The first valid version the client offers (GREASE skipped).
                        self.conn_version[0] = hello
                            .supported_versions
                            .iter()
                            .copied()
                            .find(|&v| tls_version_valid(v))
                            .unwrap_or(hello.version);
                        self.client_hello = Some(hello);
                    }
                    TlsMessageHandshake::ServerHello(sh) => {
                        let hello = server_hello(&sh);
                        if hello.version == 0x0304 && sh.random != HELLO_RETRY_REQUEST {
                            // TLS 1.3: everything after the ServerHello is encrypted.
                            self.to_client.encrypted = true;
                        }
                        self.conn_version[1] = hello.version;
                        self.server_hello = Some(hello);
                    }
                    _ => {}
                }
            }
            11 => {
                let slot = if to_server {
                    &mut self.client_certs
                } else {
                    &mut self.server_certs
                };
                // Only the first Certificate message of a side is parsed.
                if slot.is_none() {
                    *slot = Some(certificates(&msg[4..]));
                }
            }
            13 if !to_server => self.need_client_cert = true,
            _ => {}
        }
        self.current_flags |= flag;
        self.seen_flags |= flag;
        Ok(())
    }
}

/// A Certificate message's body, as Suricata's `TlsDecodeHSCertificates`: a 24-bit list
/// length that must fit the message, then 24-bit-length certificates; a certificate whose
/// length runs past the list ends it, keeping the ones before.
fn certificates(body: &[u8]) -> Certificates {
    let mut out = Certificates::default();
    let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
    if body.len() < 3 || body.len() - 3 < u24(body) {
        out.invalid += 1;
        return out;
    }
    let mut list = &body[3..3 + u24(body)];
    while !list.is_empty() {
        if list.len() < 3 || list.len() - 3 < u24(list) {
            out.invalid += 1;
            break;
        }
        let len = u24(list);
        let der = &list[3..3 + len];
        list = &list[3 + len..];
        if out.first.is_none() {
            // Suricata decodes until one certificate succeeds (its counter of the
            // certificate's position never moves past 0); one that fails is not kept.
            match cert_info(der) {
                Some(info) => out.first = Some(info),
                None => {
                    out.invalid += 1;
                    continue;
                }
            }
        }
        out.chain.push(der.to_vec());
    }
    out
}

/// Decodes one DER certificate as Suricata's `rs_x509_decode` and getters do.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let serial = tbs
        .raw_serial()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let fingerprint = Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    Some(CertInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial,
        fingerprint,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// A certificate time as Suricata's EVE writes it (`sc_x509_log_timestamp`):
/// `YYYY-MM-DDTHH:MM:SS`, UTC.
pub fn x509_time(secs: i64) -> String {
    let mut s = crate::time::Timestamp::new(secs, 0).eve().to_string();
    s.truncate(19);
    s
}

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn join(values: impl Iterator<Item = u16>) -> String {
    values
        .filter(|v| !is_grease(*v))
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Walks an extension block: (type, the whole extension's bytes).
fn extensions(mut block: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while block.len() >= 4 {
        let ty = u16::from_be_bytes([block[0], block[1]]);
        let len = usize::from(u16::from_be_bytes([block[2], block[3]]));
        if block.len() < 4 + len {
            break;
        }
        out.push((ty, &block[..4 + len]));
        block = &block[4 + len..];
    }
    out
}

fn client_hello(ch: &tls_parser::TlsClientHelloContents<'_>) -> ClientHello {
    let mut hello = ClientHello {
        version: ch.version.0,
        session_id: ch.session_id.unwrap_or_default().to_vec(),
        ..ClientHello::default()
    };
    let mut ids = Vec::new();
    let mut groups = Vec::new();
    let mut formats: Vec<u16> = Vec::new();
    for (ty, raw) in extensions(ch.ext.unwrap_or_default()) {
        ids.push(ty);
        // early_data (RFC 8446 section 4.2.10).
        hello.early_data |= ty == 42;
        hello.session_ticket |= ty == 35;
        let Ok((_, ext)) = parse_tls_client_hello_extension(raw) else {
            continue;
        };
        match ext {
            TlsExtension::SNI(names) if hello.sni.is_none() => {
                hello.sni = names.first().map(|(_, n)| n.to_vec());
            }
            TlsExtension::ALPN(list) => hello.alpn = list.iter().map(|p| p.to_vec()).collect(),
            TlsExtension::SupportedVersions(v) => {
                hello.supported_versions = v.iter().map(|x| x.0).collect();
            }
            TlsExtension::EllipticCurves(g) => groups = g.iter().map(|x| x.0).collect(),
            TlsExtension::EcPointFormats(f) => formats = f.iter().map(|&x| u16::from(x)).collect(),
            _ => {}
        }
    }
    hello.ja3 = format!(
        "{},{},{},{},{}",
        ch.version.0,
        join(ch.ciphers.iter().map(|c| c.0)),
        join(ids.into_iter()),
        join(groups.into_iter()),
        join(formats.into_iter()),
    );
    hello
}

/// Suricata's `TLSVersionValid`: SSLv3 to TLS 1.3 and the TLS 1.3 drafts it knows.
pub(crate) fn tls_version_valid(v: u16) -> bool {
    matches!(v, 0x0300..=0x0304 | 0x7f01 | 0x7f10..=0x7f1c | 0xfb14 | 0xfb15 | 0xfb16 | 0xfb17 | 0xfb1a)
}

fn server_hello(sh: &tls_parser::TlsServerHelloContents<'_>) -> ServerHello {
    let mut hello = ServerHello {
        legacy_version: sh.version.0,
        version: sh.version.0,
        cipher: sh.cipher.0,
        session_id: sh.session_id.unwrap_or_default().to_vec(),
        ..ServerHello::default()
    };
    let mut ids = Vec::new();
    for (ty, raw) in extensions(sh.ext.unwrap_or_default()) {
        ids.push(ty);
        if let Ok((_, TlsExtension::SupportedVersions(v))) = parse_tls_server_hello_extension(raw) {
            if let Some(first) = v.first() {
                hello.version = first.0;
            }
        }
    }
    hello.ja3s = format!("{},{},{}", sh.version.0, sh.cipher.0, join(ids.into_iter()));
    hello
}

fn md5_hex(data: &[u8]) -> String {
    let digest = Md5::digest(data);
    let mut s = String::with_capacity(32);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
