//! HTTP/1.x over one TCP session: requests from the client's stream and responses from
//! the server's, in any split, pipelined, with bodies framed by Content-Length or chunked
//! encoding (responses also by the end of the stream). Header blocks are parsed with
//! `httparse`; framing and transactions are ours. Each request opens a transaction; the
//! n-th response completes the n-th transaction, as Suricata's libhtp pairs them.

use thiserror::Error;

use super::http_decompress::{self, BodyDecoder, DecompressConfig, DecompressEvent};
use super::http_normalize;

/// Default of [`HttpLimits::header_block`].
pub const DEFAULT_HEADER_BLOCK: usize = 64 * 1024;
/// Longest chunk-size line (size, extensions, line end).
const MAX_CHUNK_SIZE_LINE: usize = 1024;
/// Default body bytes kept per message: the `request-body-limit` and
/// `response-body-limit` of Suricata's shipped suricata.yaml (100 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 100 * 1024;
/// httparse's header slots kept on the stack; a block with more lines gets them on the
/// heap.
const STACK_HEADERS: usize = 64;

/// What one HTTP session may hold, from the settings under
/// `app-layer.protocols.http` (README, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Body bytes kept per request (`libhtp.default-config.request-body-limit`; 0 keeps
    /// all, as in Suricata). Bytes beyond it are counted in `body_len`, not kept, so
    /// `http.request_body` sees the first this many bytes, as in Suricata.
    pub request_body: usize,
    /// The same for responses (`response-body-limit`; `http.response_body`, `file.data`).
    pub response_body: usize,
    /// Longest header block (request or status line and headers), trailer or line inside
    /// a chunked body held while it arrives, and so the most bytes a direction holds
    /// between calls (`rulesim.header-block-limit`; libhtp has no such bound).
    pub header_block: usize,
    /// libhtp's `headers-limit`: a message is refused when a new header name comes after
    /// more than this many distinct names (repeated names are merged and do not count).
    pub headers: usize,
    /// libhtp's `max-tx`: a new transaction is refused while more than this many are
    /// live (not yet freed); 0 for no limit.
    pub max_tx: usize,
    /// Body decompression (`response-body-decompress-layer-limit`,
    /// `compression-bomb-limit`).
    pub decompress: DecompressConfig,
    /// `request-body-minimal-inspect-size` / `response-body-minimal-inspect-size`: in IDS
    /// mode a body is inspected once this much of it arrived (or it ended).
    pub request_inspect_min: u64,
    pub response_inspect_min: u64,
}

impl Default for HttpLimits {
    /// Suricata 7.0.10's values (suricata.yaml and libhtp's defaults), and rulesim's
    /// 64 KiB header block.
    fn default() -> Self {
        HttpLimits {
            request_body: DEFAULT_BODY_LIMIT,
            response_body: DEFAULT_BODY_LIMIT,
            header_block: DEFAULT_HEADER_BLOCK,
            headers: 1024,
            max_tx: 512,
            decompress: DecompressConfig::default(),
            request_inspect_min: 32 * 1024,
            response_inspect_min: 40 * 1024,
        }
    }
}

/// How often a session reached its limits (summed into `stats.json`,
/// `app_limits.http`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HttpLimitHits {
    /// Requests whose body went past `request-body-limit` (the rest was not kept).
    pub request_body_truncated: u64,
    /// Responses whose body went past `response-body-limit`.
    pub response_body_truncated: u64,
    /// Header blocks, trailers or chunk lines longer than `header-block-limit` (the
    /// direction stopped).
    pub header_block_too_long: u64,
    /// Messages refused for more header names than `headers-limit` (the direction
    /// stopped).
    pub too_many_headers: u64,
    /// Messages refused because `max-tx` transactions were live (the direction stopped).
    pub max_tx_reached: u64,
    /// Compressed bodies taken as they are on the wire because `decompressors` bodies
    /// were being decompressed at once.
    pub decompression_skipped: u64,
}

impl HttpLimitHits {
    pub fn add(&mut self, o: &HttpLimitHits) {
        self.request_body_truncated += o.request_body_truncated;
        self.response_body_truncated += o.response_body_truncated;
        self.header_block_too_long += o.header_block_too_long;
        self.too_many_headers += o.too_many_headers;
        self.max_tx_reached += o.max_tx_reached;
        self.decompression_skipped += o.decompression_skipped;
    }
}

#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum HttpError {
    #[error("HTTP header block longer than the header block limit")]
    HeadersTooLong,
    #[error("more HTTP header names than headers-limit")]
    TooManyHeaders,
    #[error("more live HTTP transactions than max-tx")]
    TooManyTransactions,
    #[error("invalid HTTP request or status line, or header")]
    Invalid,
    #[error("invalid chunk size line")]
    BadChunk,
}

/// A header as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: Vec<u8>,
    /// The request target as sent (`http.uri.raw`).
    pub target: Vec<u8>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// The request line had no protocol (`GET /x`): read as HTTP/1.0, logged without one.
    pub no_protocol: bool,
    pub headers: Vec<Header>,
    /// De-chunked and decompressed body, at most [`HttpLimits::request_body`] bytes.
    pub body: Vec<u8>,
    /// Body bytes on the wire, still compressed, with a chunked body's size lines and
    /// chunk line ends as libhtp counts them (EVE's `length`).
    pub body_len: u64,
    /// Body bytes after decompression, kept or not (libhtp's `request_entity_len`).
    pub entity_len: u64,
    /// The body as the file Suricata tracks (a POST or PUT body that is not multipart).
    pub file: Option<BodyFile>,
    pub complete: bool,
    /// libhtp's stand-in for the request of a response that had none: no method, no
    /// protocol, the URI [`REQUEST_URI_NOT_SEEN`] and port 0.
    pub placeholder: bool,
}

/// The URI libhtp gives the stand-in request of a response without one.
pub const REQUEST_URI_NOT_SEEN: &[u8] = b"/libhtp::request_uri_not_seen";

impl Request {
    /// The request target as libhtp keeps it (`http.uri.raw`, EVE's `url`).
    pub fn uri_raw(&self) -> &[u8] {
        if self.placeholder {
            REQUEST_URI_NOT_SEEN
        } else {
            &self.target
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: Vec<u8>,
    pub minor_version: u8,
    pub headers: Vec<Header>,
    /// De-chunked and decompressed body, at most [`HttpLimits::response_body`] bytes.
    pub body: Vec<u8>,
    /// Body bytes on the wire, still compressed, with a chunked body's size lines and
    /// chunk line ends as libhtp counts them (EVE's `length`).
    pub body_len: u64,
    /// Body bytes after decompression, kept or not.
    pub entity_len: u64,
    /// The body as the file Suricata tracks (any response body).
    pub file: Option<BodyFile>,
    pub complete: bool,
}

/// A message body as the file Suricata's HTTP parser tracks for it (`HTPFileOpen` in
/// app-layer-htp.c), which alerts on its transaction list (`files`). Opened by the body's
/// first bytes; it holds at most the body limit, and bytes past it close it truncated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyFile {
    pub name: Vec<u8>,
    /// Body bytes tracked, decompressed, up to the body limit (`FileTrackedSize`).
    pub size: u64,
    pub state: FileState,
    /// First and last byte of a partial response (`Content-Range`), when valid.
    pub range: Option<(u64, u64)>,
    /// Closed, and dropped by the transaction cleanup: alerts no longer list it.
    pub pruned: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    Open,
    Closed,
    /// More body came after the body limit was reached.
    Truncated,
}

impl FileState {
    /// EVE's `state`: an open file is `UNKNOWN` (`EveFileInfo`).
    pub fn eve_name(self) -> &'static str {
        match self {
            FileState::Open => "UNKNOWN",
            FileState::Closed => "CLOSED",
            FileState::Truncated => "TRUNCATED",
        }
    }
}

/// The file a message's body opens, if Suricata tracks one: a request's when it is a POST
/// or PUT (a POST with a `boundary=` parameter is multipart, whose parts are not tracked
/// as files here), named by the URI's normalised path; a response's always, named by
/// `Content-Disposition`'s `filename=` or else the path, with a valid partial
/// `Content-Range` (`HtpRequestBodyHandlePOSTorPUT`, `HtpResponseBodyHandle`).
fn file_for(request: &Request, response: Option<&Response>) -> Option<BodyFile> {
    let path = || {
        let mut p = http_normalize::normalized_path(request.uri_raw());
        p.truncate(FILENAME_MAX);
        p
    };
    let (name, range) = match response {
        None => {
            let multipart = http_normalize::joined(&request.headers, "content-type")
                .is_some_and(|ct| http_normalize::header_parameter(&ct, b"boundary=").is_some());
            let tracked = request.method == b"PUT" || (request.method == b"POST" && !multipart);
            if !tracked {
                return None;
            }
            (path(), None)
        }
        Some(r) => {
            let disposition = http_normalize::joined(&r.headers, "content-disposition")
                .filter(|v| !v.is_empty())
                .and_then(|v| {
                    http_normalize::header_parameter(&v, b"filename=").map(|n| {
                        let mut n = n.to_vec();
                        n.truncate(FILENAME_MAX);
                        n
                    })
                });
            let range = http_normalize::joined(&r.headers, "content-range")
                .and_then(|v| http_normalize::partial_content_range(&v));
            (disposition.unwrap_or_else(path), range)
        }
    };
    Some(BodyFile {
        name,
        size: 0,
        state: FileState::Open,
        range,
        pruned: false,
    })
}

/// The message is complete: its open file closes (`HTPFileClose`).
fn close_file(file: &mut Option<BodyFile>) {
    if let Some(f) = file.as_mut().filter(|f| f.state == FileState::Open) {
        f.state = FileState::Closed;
    }
}

/// The methods libhtp knows (`htp_convert_method_to_number`), which are also the ones
/// Suricata's HTTP detection patterns name (`HTPRegisterPatternsForProtocolDetection`).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"PUT",
    b"POST",
    b"HEAD",
    b"TRACE",
    b"OPTIONS",
    b"CONNECT",
    b"DELETE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"MERGE",
    b"INVALID",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
];

/// Whether a line's first word (after whitespace) is a method libhtp knows
/// (case-sensitive).
fn starts_with_known_method(line: &[u8]) -> bool {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c);
    let start = line.iter().position(|b| !space(b)).unwrap_or(line.len());
    let word = &line[start..];
    let word = &word[..word.iter().position(space).unwrap_or(word.len())];
    METHODS.contains(&word)
}

/// Whether a line after a response is more of its body: unless it starts with `HTTP`
/// (any case) after whitespace and NULs, as libhtp's `htp_treat_response_line_as_body`.
fn response_line_is_body(line: &[u8]) -> bool {
    let skip = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c | 0);
    let start = line.iter().position(|b| !skip(b)).unwrap_or(line.len());
    !line[start..]
        .get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"HTTP"))
}

/// Suricata's `SC_FILENAME_MAX`: longer file names are cut.
const FILENAME_MAX: usize = 4096;

fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| h.value.as_slice())
}

impl Request {
    /// The first header of that name (case-insensitive), value as sent.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header(&self.headers, name)
    }
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header(&self.headers, name)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transaction {
    pub request: Request,
    pub response: Option<Response>,
    /// What the parser found wrong, in the order Suricata raises its events (a flag
    /// repeats when Suricata checks it again: at the request line, after the headers,
    /// when the request is complete).
    pub anomalies: Vec<HttpAnomaly>,
    /// Anomalies already written as EVE `anomaly` records.
    pub anomalies_logged: usize,
}

/// Suricata's HTTP app-layer events that rulesim raises (`app-layer-event:http.<name>`,
/// EVE `anomaly` records). The others (libhtp's log messages: field folding, chunk
/// lengths, ...) are not modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpAnomaly {
    InvalidTransferEncodingValueInRequest,
    MissingHostHeader,
    HostHeaderAmbiguous,
    RequestUriHostInvalid,
    RequestHeaderHostInvalid,
    RequestAuthUnrecognized,
    UnableToMatchResponseToRequest,
    GzipDecompressionFailed,
    CompressionBomb,
    TooManyEncodingLayers,
    AbnormalCeHeader,
}

impl HttpAnomaly {
    pub const ALL: [HttpAnomaly; 11] = [
        HttpAnomaly::InvalidTransferEncodingValueInRequest,
        HttpAnomaly::MissingHostHeader,
        HttpAnomaly::HostHeaderAmbiguous,
        HttpAnomaly::RequestUriHostInvalid,
        HttpAnomaly::RequestHeaderHostInvalid,
        HttpAnomaly::RequestAuthUnrecognized,
        HttpAnomaly::UnableToMatchResponseToRequest,
        HttpAnomaly::GzipDecompressionFailed,
        HttpAnomaly::CompressionBomb,
        HttpAnomaly::TooManyEncodingLayers,
        HttpAnomaly::AbnormalCeHeader,
    ];

    /// The event's name in Suricata's table (`http_decoder_event_table`).
    pub fn name(self) -> &'static str {
        match self {
            HttpAnomaly::InvalidTransferEncodingValueInRequest => {
                "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST"
            }
            HttpAnomaly::MissingHostHeader => "MISSING_HOST_HEADER",
            HttpAnomaly::HostHeaderAmbiguous => "HOST_HEADER_AMBIGUOUS",
            HttpAnomaly::RequestUriHostInvalid => "REQUEST_URI_HOST_INVALID",
            HttpAnomaly::RequestHeaderHostInvalid => "REQUEST_HEADER_HOST_INVALID",
            HttpAnomaly::RequestAuthUnrecognized => "REQUEST_AUTH_UNRECOGNIZED",
            HttpAnomaly::UnableToMatchResponseToRequest => "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST",
            HttpAnomaly::GzipDecompressionFailed => "GZIP_DECOMPRESSION_FAILED",
            HttpAnomaly::CompressionBomb => "COMPRESSION_BOMB",
            HttpAnomaly::TooManyEncodingLayers => "TOO_MANY_ENCODING_LAYERS",
            HttpAnomaly::AbnormalCeHeader => "ABNORMAL_CE_HEADER",
        }
    }

    /// The event's byte in the `http.app_layer_events` buffer (its place in [`ALL`](Self::ALL), from 1).
    pub fn code(self) -> u8 {
        Self::ALL
            .iter()
            .position(|a| *a == self)
            .map_or(0, |p| p as u8 + 1)
    }

    /// The event named `name` (case-insensitive, as Suricata looks names up).
    pub fn from_name(name: &str) -> Option<HttpAnomaly> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

impl From<DecompressEvent> for HttpAnomaly {
    fn from(e: DecompressEvent) -> Self {
        match e {
            DecompressEvent::InflateFailed => HttpAnomaly::GzipDecompressionFailed,
            DecompressEvent::CompressionBomb => HttpAnomaly::CompressionBomb,
            DecompressEvent::TooManyLayers => HttpAnomaly::TooManyEncodingLayers,
            DecompressEvent::AbnormalEncoding => HttpAnomaly::AbnormalCeHeader,
        }
    }
}

/// The events `HTPErrorCheckTxRequestFlags` raises for these flags, in its order.
fn flag_anomalies(
    f: &crate::app::http_normalize::RequestFlags,
    auth_unrecognized: bool,
    out: &mut Vec<HttpAnomaly>,
) {
    for (set, a) in [
        (
            f.invalid_te,
            HttpAnomaly::InvalidTransferEncodingValueInRequest,
        ),
        (f.host_missing, HttpAnomaly::MissingHostHeader),
        (f.host_ambiguous, HttpAnomaly::HostHeaderAmbiguous),
        (f.uri_host_invalid, HttpAnomaly::RequestUriHostInvalid),
        (f.header_host_invalid, HttpAnomaly::RequestHeaderHostInvalid),
        (auth_unrecognized, HttpAnomaly::RequestAuthUnrecognized),
    ] {
        if set {
            out.push(a);
        }
    }
}

/// How the body of the message being read ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    Length(u64),
    /// Reading a chunk-size line.
    ChunkSize,
    /// Inside a chunk: bytes left, then its CRLF.
    ChunkData(u64),
    ChunkDataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailer,
    /// Until the stream ends (a response without a length).
    UntilClose,
    /// A request's body is over (or it had none) and bytes may follow: libhtp's
    /// `REQ_FINALIZE` reads the next line before completing the request; unless it starts
    /// with a known method it is more body (see [`HttpSession::data_end`]).
    Finalize,
}

#[derive(Debug, Default)]
struct Side {
    /// Bytes of a header block or a line still arriving.
    pending: Vec<u8>,
    /// The body being read, if in one.
    body: Option<Body>,
    /// Bytes of `pending` already searched for the end of a header block.
    scanned: usize,
    error: Option<HttpError>,
    /// The body being read is compressed: libhtp's decompressor chain for it.
    decoder: Option<Box<BodyDecoder>>,
}

/// One HTTP session.
#[derive(Debug, Default)]
pub struct HttpSession {
    client: Side,
    server: Side,
    /// Transactions in request order; `first_id` is the id of the first one kept.
    pub transactions: Vec<Transaction>,
    pub first_id: u64,
    /// Index of the transaction the next response belongs to.
    next_response: usize,
    limits: HttpLimits,
    /// Limits reached since the last [`take_limit_hits`](Self::take_limit_hits).
    hits: HttpLimitHits,
    /// A CONNECT was answered 2xx as the session's first transaction: the connection is
    /// a tunnel from here on (libhtp stops; Suricata detects the protocol again). Per
    /// direction (to server, to client), the bytes fed since, until taken.
    tunnel: Option<Box<[Vec<u8>; 2]>>,
}

/// What a `feed` call completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpEvent {
    /// Request line and headers of transaction `id` are complete.
    RequestHeaders(u64),
    RequestComplete(u64),
    ResponseHeaders(u64),
    ResponseComplete(u64),
}

/// Whether the start of a stream is HTTP (detection): a request method from the client,
/// a status line from the server. `None` while the bytes are still a prefix of one.
pub fn probe(data: &[u8], to_server: bool) -> Option<bool> {
    // Suricata's patterns (`HTPRegisterPatternsForProtocolDetection`), case-insensitive
    // at offset 0: a method then a space or a tab to the server, a version to the client.
    const VERSIONS: &[&[u8]] = &[b"HTTP/0.9", b"HTTP/1.0", b"HTTP/1.1"];
    // The longest pattern is a 16-letter method and its spacing.
    let mut upper = [0u8; 17];
    let n = data.len().min(upper.len());
    upper[..n].copy_from_slice(&data[..n]);
    upper.make_ascii_uppercase();
    let head = &upper[..n];
    let &first = head.first()?;
    // One pass; the first byte, checked alone first, tells most patterns apart. A pattern
    // whose start the bytes so far match makes detection wait (for this direction's own
    // patterns); any found pattern decides (a response from the client side still
    // counts: a mid-stream flow may be reversed).
    let mut waiting = false;
    for (patterns, spaced, own) in [(METHODS, true, to_server), (VERSIONS, false, !to_server)] {
        for p in patterns {
            if p[0] != first || !p.starts_with(&head[..n.min(p.len())]) {
                continue;
            }
            match (spaced, head.get(p.len())) {
                (true, Some(b' ' | b'\t')) | (false, Some(_)) => return Some(true),
                (false, None) if n == p.len() => return Some(true),
                (_, None) => waiting |= own,
                (true, Some(_)) => {}
            }
        }
    }
    if waiting {
        None
    } else {
        Some(false)
    }
}

/// The end of a header block (after its empty line), searching from `from`.
fn find_header_end(buf: &[u8], from: usize) -> Option<usize> {
    // Headers end at an empty line; libhtp accepts bare LF line ends too.
    let mut i = from.min(buf.len());
    while let Some(p) = memchr::memchr(b'\n', &buf[i..]) {
        let nl = i + p;
        let rest = &buf[nl + 1..];
        if rest.starts_with(b"\n") {
            return Some(nl + 2);
        }
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        i = nl + 1;
    }
    None
}

/// libhtp's `headers-limit` test: a new header name arriving after more than `limit`
/// distinct ones (case-insensitive; a repeated name is merged into the first) refuses
/// the message.
fn too_many_names(headers: &[httparse::Header<'_>], limit: usize) -> bool {
    let most = limit.saturating_add(1);
    if headers.len() <= most {
        return false;
    }
    let mut seen = std::collections::HashSet::new();
    headers
        .iter()
        .any(|h| seen.insert(h.name.to_ascii_lowercase()) && seen.len() > most)
}

fn owned(headers: &[httparse::Header<'_>]) -> Vec<Header> {
    headers
        .iter()
        .map(|h| Header {
            name: h.name.as_bytes().to_vec(),
            value: h.value.to_vec(),
        })
        .collect()
}

/// The body framing a message's headers announce.
fn framing(headers: &[Header]) -> Result<Option<Body>, HttpError> {
    if header(headers, "transfer-encoding").is_some_and(|v| {
        v.split(|&b| b == b',')
            .next_back()
            .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
    }) {
        return Ok(Some(Body::ChunkSize));
    }
    match header(headers, "content-length") {
        Some(v) => {
            let n = std::str::from_utf8(v.trim_ascii())
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(HttpError::Invalid)?;
            Ok((n > 0).then_some(Body::Length(n)))
        }
        None => Ok(None),
    }
}

impl HttpSession {
    /// A session with these limits ([`Default`] has Suricata's).
    pub fn with_limits(limits: HttpLimits) -> HttpSession {
        HttpSession {
            limits,
            ..HttpSession::default()
        }
    }

    /// The limits reached since the last call.
    pub fn take_limit_hits(&mut self) -> HttpLimitHits {
        std::mem::take(&mut self.hits)
    }

    fn side_mut(&mut self, to_server: bool) -> &mut Side {
        if to_server {
            &mut self.client
        } else {
            &mut self.server
        }
    }

    pub fn error(&self, to_server: bool) -> Option<HttpError> {
        if to_server {
            self.client.error
        } else {
            self.server.error
        }
    }

    /// Bytes a direction holds until more arrive (a header block, a line).
    pub fn buffered(&self, to_server: bool) -> usize {
        if to_server {
            self.client.pending.len()
        } else {
            self.server.pending.len()
        }
    }

    /// Marks transaction `id`'s first `n` anomalies as written.
    pub fn anomalies_logged(&mut self, id: u64, n: usize) {
        if let Some(tx) = id
            .checked_sub(self.first_id)
            .and_then(|i| self.transactions.get_mut(i as usize))
        {
            tx.anomalies_logged = n;
        }
    }

    /// The transaction with id `id`, if still kept.
    pub fn transaction(&self, id: u64) -> Option<&Transaction> {
        id.checked_sub(self.first_id)
            .and_then(|i| self.transactions.get(i as usize))
    }

    /// Parses one input chunk of a direction: [`feed_more`](Self::feed_more), then
    /// [`data_end`](Self::data_end).
    pub fn feed(&mut self, to_server: bool, data: &[u8]) -> Vec<HttpEvent> {
        let mut events = self.feed_more(to_server, data);
        events.extend(self.data_end(to_server));
        events
    }

    /// Parses the next stream bytes of one direction, more of the same input chunk
    /// possibly to follow.
    pub fn feed_more(&mut self, to_server: bool, data: &[u8]) -> Vec<HttpEvent> {
        let mut events = Vec::new();
        if let Some(t) = self.tunnel.as_mut() {
            t[usize::from(!to_server)].extend_from_slice(data);
            return events;
        }
        let side = self.side_mut(to_server);
        if side.error.is_some() {
            return events;
        }
        // Only a header block or line split across calls needs joining; what was already
        // searched for the block's end is not searched again.
        let mut skip = side.scanned.saturating_sub(3);
        let joined = if side.pending.is_empty() {
            None
        } else {
            let mut b = std::mem::take(&mut side.pending);
            b.extend_from_slice(data);
            Some(b)
        };
        let buf: &[u8] = joined.as_deref().unwrap_or(data);
        let mut at = 0;
        loop {
            let step = self.step(to_server, &buf[at..], skip, &mut events);
            skip = 0;
            match step {
                Ok(0) => break,
                Ok(n) => {
                    at += n;
                    if self.tunnel_opened(&events) {
                        let mut bytes: [Vec<u8>; 2] = Default::default();
                        bytes[usize::from(!to_server)] = buf[at..].to_vec();
                        self.tunnel = Some(Box::new(bytes));
                        self.side_mut(to_server).pending = Vec::new();
                        return events;
                    }
                }
                Err(e) => {
                    match e {
                        HttpError::TooManyHeaders => self.hits.too_many_headers += 1,
                        HttpError::TooManyTransactions => self.hits.max_tx_reached += 1,
                        _ => {}
                    }
                    let side = self.side_mut(to_server);
                    side.error = Some(e);
                    return events;
                }
            }
        }
        let rest = match joined {
            Some(mut j) => {
                j.drain(..at);
                j
            }
            None => data[at..].to_vec(),
        };
        let block_limit = self.limits.header_block;
        let side = self.side_mut(to_server);
        side.pending = rest;
        side.scanned = if side.body.is_none() {
            side.pending.len()
        } else {
            0
        };
        // Whatever waits for its end is bounded: a header block, and also a trailer line or
        // the line ending a chunk, which the body states held without limit (`step`
        // refuses the same ones when they arrive whole). A chunk-size line has its own
        // bound.
        if side.pending.len() > block_limit && side.body != Some(Body::ChunkSize) {
            side.error = Some(match side.body {
                Some(Body::ChunkSize | Body::ChunkDataEnd) => HttpError::BadChunk,
                _ => HttpError::HeadersTooLong,
            });
            side.pending = Vec::new();
            self.hits.header_block_too_long += 1;
        }
        events
    }

    /// Whether the response just completed turns the connection into a tunnel: a 2xx to
    /// a CONNECT that is the session's first transaction (`HTPCallbackResponseComplete`).
    fn tunnel_opened(&self, events: &[HttpEvent]) -> bool {
        let Some(HttpEvent::ResponseComplete(0)) = events.last() else {
            return false;
        };
        self.tunnel.is_none()
            && self.transaction(0).is_some_and(|t| {
                t.request.method.eq_ignore_ascii_case(b"CONNECT")
                    && t.response
                        .as_ref()
                        .is_some_and(|r| (200..300).contains(&r.status))
            })
    }

    /// A CONNECT tunnel opened: what follows is not HTTP.
    pub fn tunnel_open(&self) -> bool {
        self.tunnel.is_some()
    }

    /// After a CONNECT tunnel opened: the bytes fed since, per direction (to server, to
    /// client): the first bytes of the tunnel. `None` while the session is plain HTTP.
    pub fn take_tunnel(&mut self) -> Option<[Vec<u8>; 2]> {
        self.tunnel.take().map(|t| *t)
    }

    /// The stream of one direction ended: a response read until close is complete.
    pub fn end(&mut self, to_server: bool) -> Vec<HttpEvent> {
        let mut events = Vec::new();
        let side = self.side_mut(to_server);
        match side.body {
            Some(Body::UntilClose) => {
                side.body = None;
                self.finish_message(to_server, &mut events);
            }
            Some(Body::Finalize) => {
                // libhtp at the stream's close: a line without its LF that is not the
                // start of a next message is the message's body too.
                side.body = None;
                let line = std::mem::take(&mut side.pending);
                let body = !line.is_empty()
                    && if to_server {
                        !starts_with_known_method(&line)
                    } else {
                        response_line_is_body(&line)
                    };
                if body {
                    self.body_bytes(to_server, Some(&line));
                }
                self.finish_message(to_server, &mut events);
            }
            _ => {}
        }
        events
    }

    /// Consumes one unit (a header block, body bytes, a chunk line) from `buf`; returns
    /// the bytes used, 0 when more input is needed.
    fn step(
        &mut self,
        to_server: bool,
        buf: &[u8],
        skip: usize,
        events: &mut Vec<HttpEvent>,
    ) -> Result<usize, HttpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        // A header block, trailer line or chunk's line end longer than the limit (its
        // line end included) is refused whether it arrives whole or in pieces (see the
        // check of what is held at the end of `feed`).
        let limit = self.limits.header_block;
        let side = self.side_mut(to_server);
        match side.body {
            None => {
                // Empty lines between messages are skipped, as libhtp does.
                let blank = buf
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                if blank > 0 {
                    return Ok(blank);
                }
                let end = find_header_end(buf, skip);
                if end.unwrap_or(buf.len()) > limit {
                    self.hits.header_block_too_long += 1;
                    return Err(HttpError::HeadersTooLong);
                }
                let Some(end) = end else {
                    return Ok(0);
                };
                self.message_head(to_server, &buf[..end], events)?;
                Ok(end)
            }
            Some(Body::Length(left)) => {
                let n = (left as usize).min(buf.len());
                self.body_bytes(to_server, Some(&buf[..n]));
                let left = left - n as u64;
                let side = self.side_mut(to_server);
                if left == 0 {
                    side.body = None;
                    self.message_done(to_server, events);
                } else {
                    side.body = Some(Body::Length(left));
                }
                Ok(n)
            }
            Some(Body::UntilClose) => {
                self.body_bytes(to_server, Some(buf));
                Ok(buf.len())
            }
            Some(Body::ChunkSize) => {
                // The bound holds for the line itself, not for what arrived of it so far,
                // so that the result does not depend on how the stream was split.
                let Some(nl) = memchr::memchr(b'\n', buf) else {
                    if buf.len() > MAX_CHUNK_SIZE_LINE {
                        return Err(HttpError::BadChunk);
                    }
                    return Ok(0);
                };
                if nl > MAX_CHUNK_SIZE_LINE {
                    return Err(HttpError::BadChunk);
                }
                let line = buf[..nl].trim_ascii();
                let hex = line
                    .split(|&b| b == b';')
                    .next()
                    .unwrap_or_default()
                    .trim_ascii();
                let size = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u64::from_str_radix(h, 16).ok())
                    .ok_or(HttpError::BadChunk)?;
                side.body = Some(if size == 0 {
                    Body::Trailer
                } else {
                    Body::ChunkData(size)
                });
                self.framing_bytes(to_server, nl + 1);
                Ok(nl + 1)
            }
            Some(Body::ChunkData(left)) => {
                let n = (left as usize).min(buf.len());
                self.body_bytes(to_server, Some(&buf[..n]));
                let left = left - n as u64;
                let side = self.side_mut(to_server);
                side.body = Some(if left == 0 {
                    Body::ChunkDataEnd
                } else {
                    Body::ChunkData(left)
                });
                Ok(n)
            }
            Some(Body::ChunkDataEnd) => {
                let Some(nl) = self.bounded_line(buf, HttpError::BadChunk)? else {
                    return Ok(0);
                };
                self.side_mut(to_server).body = Some(Body::ChunkSize);
                self.framing_bytes(to_server, nl + 1);
                Ok(nl + 1)
            }
            Some(Body::Trailer) => {
                let Some(nl) = self.bounded_line(buf, HttpError::HeadersTooLong)? else {
                    return Ok(0);
                };
                if buf[..nl].trim_ascii().is_empty() {
                    self.side_mut(to_server).body = None;
                    self.message_done(to_server, events);
                }
                Ok(nl + 1)
            }
            Some(Body::Finalize) => {
                // The next line, up to its LF (waiting for it). A request: empty, or
                // starting with a known method, it is the next request's. A response
                // (`RES_FINALIZE`, the LF included): starting with `HTTP`, the next
                // response's. Otherwise it and its LF are more body, and the next line
                // is read the same way.
                let Some(nl) = self.bounded_line(buf, HttpError::HeadersTooLong)? else {
                    return Ok(0);
                };
                let line = &buf[..nl];
                let next_message = if to_server {
                    line.is_empty() || starts_with_known_method(line)
                } else {
                    !response_line_is_body(&buf[..=nl])
                };
                if next_message {
                    self.side_mut(to_server).body = None;
                    self.finish_message(to_server, events);
                    return self.step(to_server, buf, 0, events);
                }
                self.body_bytes(to_server, Some(&buf[..=nl]));
                Ok(nl + 1)
            }
        }
    }

    /// Where the line at the start of `buf` ends (its LF), `None` while it has not: a
    /// line longer than the header-block bound (its LF included) is refused with `error`,
    /// whether it arrives whole or in pieces (see the check of what is held in `feed`).
    fn bounded_line(&mut self, buf: &[u8], error: HttpError) -> Result<Option<usize>, HttpError> {
        let nl = memchr::memchr(b'\n', buf);
        if nl.map_or(buf.len(), |nl| nl + 1) > self.limits.header_block {
            self.hits.header_block_too_long += 1;
            return Err(error);
        }
        Ok(nl)
    }

    /// A message's body is over (or it had none): it waits for what follows it
    /// ([`Body::Finalize`]); a CONNECT request waits for its response instead, and the
    /// response opening a tunnel completes at once (what follows is the tunnel's).
    fn message_done(&mut self, to_server: bool, events: &mut Vec<HttpEvent>) {
        let tx = if to_server {
            self.transactions.last()
        } else {
            self.transactions.get(self.next_response)
        };
        let connect = tx.is_some_and(|t| t.request.method.eq_ignore_ascii_case(b"CONNECT"));
        let tunnel = connect
            && (to_server
                || tx
                    .and_then(|t| t.response.as_ref())
                    .is_some_and(|r| (200..300).contains(&r.status)));
        if tunnel {
            self.finish_message(to_server, events);
        } else {
            self.side_mut(to_server).body = Some(Body::Finalize);
        }
    }

    /// The end of the bytes one packet brought in a direction (libhtp's input chunk): a
    /// request waiting in [`Body::Finalize`] with nothing after it is complete, as
    /// libhtp completes it when no next byte is there to read.
    pub fn data_end(&mut self, to_server: bool) -> Vec<HttpEvent> {
        let mut events = Vec::new();
        let side = self.side_mut(to_server);
        if side.body == Some(Body::Finalize) && side.pending.is_empty() {
            side.body = None;
            self.finish_message(to_server, &mut events);
        }
        events
    }

    fn message_head(
        &mut self,
        to_server: bool,
        head: &[u8],
        events: &mut Vec<HttpEvent>,
    ) -> Result<(), HttpError> {
        // One slot per line is always enough (httparse refuses a block with more headers
        // than slots); the headers limit is libhtp's, on distinct names, checked below.
        let lines = memchr::memchr_iter(b'\n', head).count();
        let mut small = [httparse::EMPTY_HEADER; STACK_HEADERS];
        let mut large;
        let storage: &mut [httparse::Header<'_>] = if lines <= STACK_HEADERS {
            &mut small
        } else {
            large = vec![httparse::EMPTY_HEADER; lines];
            &mut large
        };
        if to_server {
            let mut req = httparse::Request::new(storage);
            let lenient = httparse::ParserConfig::default()
                .allow_multiple_spaces_in_request_line_delimiters(true)
                .ignore_invalid_headers_in_requests(true)
                .clone();
            // A request line without a protocol (`GET /x`) followed by headers: libhtp
            // still reads the headers; parse it as if `HTTP/1.0` had been written.
            let patched;
            let mut head = head;
            let mut no_protocol = false;
            let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
            let line = head[..line_end].trim_ascii_end();
            if line.split(|&b| b == b' ').filter(|w| !w.is_empty()).count() == 2 {
                let mut p = line.to_vec();
                p.extend_from_slice(b" HTTP/1.0");
                p.extend_from_slice(&head[line.len()..]);
                patched = p;
                head = &patched;
                no_protocol = true;
            }
            match lenient.parse_request(&mut req, head) {
                Ok(httparse::Status::Complete(_)) => {}
                _ => return Err(HttpError::Invalid),
            }
            if too_many_names(req.headers, self.limits.headers) {
                return Err(HttpError::TooManyHeaders);
            }
            let request = Request {
                method: req.method.unwrap_or_default().as_bytes().to_vec(),
                target: req.path.unwrap_or_default().as_bytes().to_vec(),
                minor_version: req.version.unwrap_or(1),
                no_protocol,
                headers: owned(req.headers),
                ..Request::default()
            };
            let body = framing(&request.headers)?;
            self.check_max_tx()?;
            // Suricata checks libhtp's flags after the request line (when some flag is
            // set), after the headers (likewise), and when the request is complete.
            let (line, all) = request.libhtp_flags();
            let auth = request.auth_unrecognized();
            let mut anomalies = Vec::new();
            if line.any() {
                flag_anomalies(&line, false, &mut anomalies);
            }
            if all.any() || auth {
                flag_anomalies(&all, auth, &mut anomalies);
            }
            self.transactions.push(Transaction {
                request,
                response: None,
                anomalies,
                anomalies_logged: 0,
            });
            let id = self.first_id + self.transactions.len() as u64 - 1;
            events.push(HttpEvent::RequestHeaders(id));
            // Suricata turns libhtp's request decompression on (one known encoding).
            self.client.decoder = body
                .and_then(|_| {
                    let tx = self.transactions.last()?;
                    let value = crate::app::http_normalize::joined(
                        &tx.request.headers,
                        "content-encoding",
                    )?;
                    let encoding = http_decompress::request_encoding(&value)?;
                    BodyDecoder::new(&[encoding], &self.limits.decompress).unwrap_or_else(|_| {
                        self.hits.decompression_skipped += 1;
                        None
                    })
                })
                .map(Box::new);
            self.client.body = body;
            if body.is_none() {
                self.message_done(true, events);
            }
        } else {
            let mut resp = httparse::Response::new(storage);
            let lenient = httparse::ParserConfig::default()
                .allow_spaces_after_header_name_in_responses(true)
                .allow_obsolete_multiline_headers_in_responses(true)
                .ignore_invalid_headers_in_responses(true)
                .allow_multiple_spaces_in_response_status_delimiters(true)
                .clone();
            match lenient.parse_response(&mut resp, head) {
                Ok(httparse::Status::Complete(_)) => {}
                _ => return Err(HttpError::Invalid),
            }
            if too_many_names(resp.headers, self.limits.headers) {
                return Err(HttpError::TooManyHeaders);
            }
            let response = Response {
                status: resp.code.unwrap_or_default(),
                reason: resp.reason.unwrap_or_default().as_bytes().to_vec(),
                minor_version: resp.version.unwrap_or(1),
                headers: owned(resp.headers),
                ..Response::default()
            };
            let bodiless = (100..200).contains(&response.status)
                || response.status == 204
                || response.status == 304
                || self.transactions.get(self.next_response).is_some_and(|t| {
                    let m = &t.request.method;
                    m.eq_ignore_ascii_case(b"HEAD")
                        || (m.eq_ignore_ascii_case(b"CONNECT")
                            && (200..300).contains(&response.status))
                });
            let body = if bodiless {
                None
            } else {
                match framing(&response.headers)? {
                    Some(b) => Some(b),
                    None if response.header("content-length").is_some() => None,
                    None => Some(Body::UntilClose),
                }
            };
            // An interim 1xx response does not end the transaction.
            if (100..200).contains(&response.status) {
                return Ok(());
            }
            let Some(tx) = self.transactions.get_mut(self.next_response) else {
                // A response without a request: libhtp makes a transaction with a
                // stand-in request.
                self.check_max_tx()?;
                self.transactions.push(Transaction {
                    request: Request {
                        placeholder: true,
                        ..Request::default()
                    },
                    anomalies: vec![HttpAnomaly::UnableToMatchResponseToRequest],
                    ..Transaction::default()
                });
                return self.message_head(false, head, events);
            };
            // libhtp reads Content-Encoding (and raises its events) for every response.
            let mut decompress_events = Vec::new();
            let encodings =
                crate::app::http_normalize::joined(&response.headers, "content-encoding")
                    .map(|v| {
                        http_decompress::response_encodings(
                            &v,
                            &self.limits.decompress,
                            &mut decompress_events,
                        )
                    })
                    .unwrap_or_default();
            tx.anomalies
                .extend(decompress_events.into_iter().map(HttpAnomaly::from));
            tx.response = Some(response);
            let id = self.first_id + self.next_response as u64;
            events.push(HttpEvent::ResponseHeaders(id));
            self.server.decoder = body
                .and_then(|_| {
                    BodyDecoder::new(&encodings, &self.limits.decompress).unwrap_or_else(|_| {
                        self.hits.decompression_skipped += 1;
                        None
                    })
                })
                .map(Box::new);
            self.server.body = body;
            if body.is_none() {
                self.message_done(false, events);
            }
        }
        Ok(())
    }

    /// libhtp's `max-tx`: no new transaction while more than that many are live.
    fn check_max_tx(&self) -> Result<(), HttpError> {
        let max = self.limits.max_tx;
        if max > 0 && self.transactions.len() > max {
            return Err(HttpError::TooManyTransactions);
        }
        Ok(())
    }

    /// libhtp counts a chunked body's size lines and the line ends after its chunks in
    /// the message length (EVE's `length`, the compression-bomb ratio).
    fn framing_bytes(&mut self, to_server: bool, n: usize) {
        let len = if to_server {
            self.transactions
                .last_mut()
                .map(|t| &mut t.request.body_len)
        } else {
            self.transactions
                .get_mut(self.next_response)
                .and_then(|t| t.response.as_mut())
                .map(|r| &mut r.body_len)
        };
        if let Some(len) = len {
            *len += n as u64;
        }
        let side = self.side_mut(to_server);
        if let Some(d) = side.decoder.as_mut() {
            d.count_framing(n);
        }
    }

    /// Body bytes as framed on the wire; `None` ends the body (a decompressor hands on
    /// what it still holds).
    fn body_bytes(&mut self, to_server: bool, bytes: Option<&[u8]>) {
        let side = if to_server {
            &mut self.client
        } else {
            &mut self.server
        };
        let (tx, limit, truncated) = if to_server {
            let Some(tx) = self.transactions.last_mut() else {
                return;
            };
            (
                tx,
                self.limits.request_body,
                &mut self.hits.request_body_truncated,
            )
        } else {
            let Some(tx) = self
                .transactions
                .get_mut(self.next_response)
                .filter(|t| t.response.is_some())
            else {
                return;
            };
            (
                tx,
                self.limits.response_body,
                &mut self.hits.response_body_truncated,
            )
        };
        let Transaction {
            request,
            response,
            anomalies,
            ..
        } = tx;
        // The file the body's first bytes open (worked out once, before them).
        let mut opens = None;
        let fresh = |file: &Option<BodyFile>, entity_len: u64| file.is_none() && entity_len == 0;
        if to_server && fresh(&request.file, request.entity_len) {
            opens = file_for(request, None);
        } else if let Some(r) = response
            .as_ref()
            .filter(|r| !to_server && fresh(&r.file, r.entity_len))
        {
            opens = file_for(request, Some(r));
        }
        let message = if to_server { Some(request) } else { None };
        let (body, wire_len, entity_len, file) = match (message, response.as_mut()) {
            (Some(r), _) => (&mut r.body, &mut r.body_len, &mut r.entity_len, &mut r.file),
            (None, Some(r)) => (&mut r.body, &mut r.body_len, &mut r.entity_len, &mut r.file),
            (None, None) => return,
        };
        *wire_len += bytes.map_or(0, |b| b.len() as u64);
        // Suricata keeps the first `limit` bytes (all with 0) of the body as the
        // decompressor hands it on, and drops the rest.
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut keep = |piece: &[u8]| {
            let before = *entity_len;
            *entity_len += piece.len() as u64;
            if before <= limit as u64 && *entity_len > limit as u64 {
                *truncated += 1;
            }
            // The file takes the piece up to the limit; a piece once the limit is
            // reached closes it truncated (`AppLayerHtpCheckDepth`).
            if !piece.is_empty() {
                if before < limit as u64 {
                    let tracked = (limit as u64 - before).min(piece.len() as u64);
                    match file {
                        None => {
                            if let Some(mut f) = opens.take() {
                                f.size = tracked;
                                *file = Some(f);
                            }
                        }
                        Some(f) if f.state == FileState::Open => f.size += tracked,
                        Some(_) => {}
                    }
                } else if let Some(f) = file.as_mut().filter(|f| f.state == FileState::Open) {
                    f.state = FileState::Truncated;
                }
            }
            let room = limit.saturating_sub(body.len());
            body.extend_from_slice(&piece[..room.min(piece.len())]);
        };
        match side.decoder.as_mut() {
            Some(decoder) => {
                let mut events = Vec::new();
                decoder.feed(bytes, &mut keep, &mut events);
                anomalies.extend(events.into_iter().map(HttpAnomaly::from));
            }
            None => keep(bytes.unwrap_or_default()),
        }
    }

    fn finish_message(&mut self, to_server: bool, events: &mut Vec<HttpEvent>) {
        let side = if to_server {
            &self.client
        } else {
            &self.server
        };
        if side.decoder.is_some() {
            self.body_bytes(to_server, None);
            if to_server {
                self.client.decoder = None;
            } else {
                self.server.decoder = None;
            }
        }
        if to_server {
            if let Some(tx) = self.transactions.last_mut() {
                tx.request.complete = true;
                close_file(&mut tx.request.file);
                // A CONNECT request waits for its response; libhtp does not complete it.
                if !tx.request.method.eq_ignore_ascii_case(b"CONNECT") {
                    let (_, all) = tx.request.libhtp_flags();
                    let auth = tx.request.auth_unrecognized();
                    flag_anomalies(&all, auth, &mut tx.anomalies);
                }
                events.push(HttpEvent::RequestComplete(
                    self.first_id + self.transactions.len() as u64 - 1,
                ));
            }
        } else if let Some(resp) = self
            .transactions
            .get_mut(self.next_response)
            .and_then(|t| t.response.as_mut())
        {
            resp.complete = true;
            close_file(&mut resp.file);
            events.push(HttpEvent::ResponseComplete(
                self.first_id + self.next_response as u64,
            ));
            self.next_response += 1;
        }
    }

    /// The end of a packet travelling `to_server` or not: the closed files of that
    /// direction are dropped from their transactions, as Suricata's transaction cleanup
    /// prunes them (`AppLayerParserTransactionsCleanup`, run for the packet's direction
    /// once its alerts and files are logged). Alerts until then list them.
    pub fn prune_files(&mut self, to_server: bool) {
        for tx in &mut self.transactions {
            let file = if to_server {
                &mut tx.request.file
            } else {
                match tx.response.as_mut() {
                    Some(r) => &mut r.file,
                    None => continue,
                }
            };
            if let Some(f) = file.as_mut().filter(|f| f.state != FileState::Open) {
                f.pruned = true;
            }
        }
    }

    /// Frees what detection no longer needs: transactions complete on both sides with an
    /// id below `below` are dropped (the newest is kept, alerts of packet rules log it),
    /// and the bodies of such a kept one are freed.
    pub fn release_done(&mut self, below: u64) {
        let done =
            |t: &Transaction| t.request.complete && t.response.as_ref().is_some_and(|r| r.complete);
        while self.transactions.len() > 1
            && self.first_id < below
            && self.next_response > 0
            && done(&self.transactions[0])
        {
            self.drop_oldest();
        }
        if let Some(t) = self.transactions.first_mut() {
            if self.first_id < below && done(t) {
                t.request.body = Vec::new();
                if let Some(r) = t.response.as_mut() {
                    r.body = Vec::new();
                }
            }
        }
    }

    /// Drops the oldest transaction (bounded memory on long sessions).
    fn drop_oldest(&mut self) {
        if self.transactions.is_empty() {
            return;
        }
        self.transactions.remove(0);
        self.first_id += 1;
        self.next_response = self.next_response.saturating_sub(1);
    }
}
