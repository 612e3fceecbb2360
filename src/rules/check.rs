//! From parsed text to a checked [`Rule`]: the checks Suricata 7.0.10 makes when it
//! loads a rule, in its order (sid first, then the header, then each option as written,
//! then the whole-rule validation), so that rulesim refuses exactly what Suricata refuses
//! and, beyond that, what rulesim cannot evaluate yet.

use super::byte_options::{
    parse_base64_decode, parse_byte_extract, parse_byte_jump, parse_byte_test, Arg,
};
use super::detection::{
    AppLayerProtocol, Base64Decode, BufferMatch, ByteExtract, ByteJump, ByteOperand, ByteTest,
    ContentMatch, FastPattern, IsDataAt, MatchTest, SslState, SslVersion, Tag, Transform, Xbits,
    BASE64_DATA,
};
use super::error::{RuleError, RuleErrorKind, RuleSource};
use super::keywords::{self, Arity, Keyword, KeywordKind};
use super::options::{
    canonical_protocol, is_app_protocol, is_detected_app_protocol, parse_content, parse_flow,
    parse_flowbits, parse_num_test, parse_pcre, parse_quoted_text, parse_threshold, FlowbitsValue,
    NumTest, ValueError, DETECTED_APP_PROTOCOLS,
};
use super::parse::{parse_rule, RawOption};
use super::rule::{Action, Detection, Rule, RuleOption, RuleOrigin};
use super::RuleContext;
use crate::detect::pcre::PcreError;

/// Which side of a transaction a buffer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    ToServer,
    ToClient,
    Both,
}

/// The side of a transaction a sticky buffer inspects.
pub fn buffer_side(buffer: &str) -> Side {
    buffer_info(buffer).1
}

/// The application protocol a buffer implies, and its side.
fn buffer_info(buffer: &str) -> (Option<&'static str>, Side) {
    use Side::*;
    match buffer {
        "http.uri"
        | "http.uri.raw"
        | "http.method"
        | "http.request_line"
        | "http.request_body"
        | "http.user_agent"
        | "http.host"
        | "http.host.raw"
        | "http.accept"
        | "http.accept_enc"
        | "http.accept_lang"
        | "http.referer"
        | "http.request_header" => (Some("http"), ToServer),
        "http.stat_code"
        | "http.stat_msg"
        | "http.response_line"
        | "http.response_body"
        | "http.server"
        | "http.location"
        | "http.response_header" => (Some("http"), ToClient),
        b if b.starts_with("http.") => (Some("http"), Both),
        "tls.sni" | "ja3.hash" | "ja3.string" => (Some("tls"), ToServer),
        // Registered for both directions: to the server they read the client's
        // certificate (detect-tls-cert-*.c, detect-tls-certs.c).
        "tls.cert_subject"
        | "tls.cert_issuer"
        | "tls.cert_serial"
        | "tls.cert_fingerprint"
        | "tls.certs" => (Some("tls"), Both),
        "ja3s.hash" | "ja3s.string" => (Some("tls"), ToClient),
        "dns.query" => (Some("dns"), ToServer),
        _ => (None, Both),
    }
}

/// The HTTP events Suricata 7.0.10 registers (`http_decoder_event_table`): an
/// `app-layer-event:http.<name>` naming another is a load error, as in Suricata.
const HTTP_EVENTS: &[&str] = &[
    "UNKNOWN_ERROR",
    "GZIP_DECOMPRESSION_FAILED",
    "REQUEST_FIELD_MISSING_COLON",
    "RESPONSE_FIELD_MISSING_COLON",
    "INVALID_REQUEST_CHUNK_LEN",
    "INVALID_RESPONSE_CHUNK_LEN",
    "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST",
    "INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE",
    "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST",
    "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
    "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST",
    "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE",
    "100_CONTINUE_ALREADY_SEEN",
    "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST",
    "INVALID_SERVER_PORT_IN_REQUEST",
    "INVALID_AUTHORITY_PORT",
    "REQUEST_HEADER_INVALID",
    "RESPONSE_HEADER_INVALID",
    "MISSING_HOST_HEADER",
    "HOST_HEADER_AMBIGUOUS",
    "INVALID_REQUEST_FIELD_FOLDING",
    "INVALID_RESPONSE_FIELD_FOLDING",
    "REQUEST_FIELD_TOO_LONG",
    "RESPONSE_FIELD_TOO_LONG",
    "FILE_NAME_TOO_LONG",
    "REQUEST_LINE_INVALID",
    "REQUEST_BODY_UNEXPECTED",
    "REQUEST_SERVER_PORT_TCP_PORT_MISMATCH",
    "REQUEST_URI_HOST_INVALID",
    "REQUEST_HEADER_HOST_INVALID",
    "REQUEST_AUTH_UNRECOGNIZED",
    "REQUEST_HEADER_REPETITION",
    "RESPONSE_HEADER_REPETITION",
    "DOUBLE_ENCODED_URI",
    "URI_DELIM_NON_COMPLIANT",
    "METHOD_DELIM_NON_COMPLIANT",
    "REQUEST_LINE_LEADING_WHITESPACE",
    "TOO_MANY_ENCODING_LAYERS",
    "ABNORMAL_CE_HEADER",
    "RESPONSE_MULTIPART_BYTERANGES",
    "RESPONSE_ABNORMAL_TRANSFER_ENCODING",
    "RESPONSE_CHUNKED_OLD_PROTO",
    "RESPONSE_INVALID_PROTOCOL",
    "RESPONSE_INVALID_STATUS",
    "REQUEST_LINE_INCOMPLETE",
    "LZMA_MEMLIMIT_REACHED",
    "COMPRESSION_BOMB",
    "RANGE_INVALID",
    "REQUEST_CHUNK_EXTENSION",
    "REQUEST_TOO_MANY_HEADERS",
    "RESPONSE_TOO_MANY_HEADERS",
    "MULTIPART_GENERIC_ERROR",
    "MULTIPART_NO_FILEDATA",
    "MULTIPART_INVALID_HEADER",
    "TOO_MANY_WARNINGS",
    "FAILED_PROTOCOL_CHANGE",
];

/// Keywords whose value must be double quoted; and those whose value may be.
const QUOTES_MANDATORY: &[&str] = &[
    "msg",
    "content",
    "uricontent",
    "replace",
    "tls.subject",
    "tls.issuerdn",
    "tls.fingerprint",
    "filemagic",
    "pcrexform",
    "xor",
];
const QUOTES_OPTIONAL: &[&str] = &[
    "pcre",
    "filename",
    "fileext",
    "tos",
    "app-layer-protocol",
    "ip_proto",
    "ssh.protoversion",
    "ssh.softwareversion",
];

/// One `content` (or `uricontent`) and its modifiers.
struct Content<'r> {
    opt: &'r RawOption,
    len: i64,
    negated: bool,
    upper: bool,
    /// The buffer it inspects; `None` for the packet payload / stream.
    buffer: Option<&'static str>,
    nocase: Option<&'r RawOption>,
    depth: Option<i64>,
    offset: Option<i64>,
    distance: Option<i64>,
    within: Option<i64>,
    startswith: bool,
    fast_pattern: Option<&'r RawOption>,
    fast_pattern_only: bool,
    moved_by_modifier: bool,
    bytes: Vec<u8>,
    endswith: bool,
    rawbytes: bool,
    fast: Option<FastPattern>,
    transforms: Vec<Transform>,
}

impl Content<'_> {
    /// The typed form, for the engine.
    fn to_match(&self) -> BufferMatch {
        let u16_of = |n: Option<i64>| n.and_then(|n| u16::try_from(n).ok());
        let i32_of = |n: Option<i64>| n.and_then(|n| i32::try_from(n).ok());
        BufferMatch {
            buffer: self.buffer,
            transforms: self.transforms.clone(),
            test: MatchTest::Content(ContentMatch {
                bytes: self.bytes.clone(),
                negated: self.negated,
                nocase: self.nocase.is_some(),
                depth: u16_of(self.depth),
                offset: u16_of(self.offset),
                distance: i32_of(self.distance),
                within: i32_of(self.within),
                startswith: self.startswith,
                endswith: self.endswith,
                rawbytes: self.rawbytes,
                fast_pattern: self.fast,
            }),
        }
    }
}

/// A payload match in rule order: contents stay open to their modifiers until the end.
enum PendingMatch {
    Content(usize),
    Done(BufferMatch),
}

/// An error tied to one option.
fn at_option(
    source: &RuleSource,
    o: &RawOption,
    kind: RuleErrorKind,
    msg: String,
    label: Option<&str>,
) -> RuleError {
    source.error(
        kind,
        o.keyword_span.0,
        o.keyword_span.1,
        msg,
        label.map(str::to_string),
    )
}

fn at_value(source: &RuleSource, o: &RawOption, kind: RuleErrorKind, e: ValueError) -> RuleError {
    let (vo, _) = o.value_span.unwrap_or(o.keyword_span);
    source.error(
        kind,
        vo + e.offset,
        e.len,
        format!("invalid `{}`: {}", o.keyword, e.message),
        None,
    )
}

/// A number as Suricata's modifiers take it (decimal, or `0x` hex).
fn int_value(v: &str) -> Option<i64> {
    let t = v.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    t.parse::<i64>().ok()
}

/// Parses and checks one rule.
pub fn compile(text: &str, source: &RuleSource, ctx: &RuleContext) -> Result<Rule, Box<RuleError>> {
    compile_within(text, source, ctx, true)
}

/// As [`compile`]; `pcre_fits`: the rule's patterns fit in the ruleset's
/// [`PcreBudget`](super::PcreBudget) (otherwise the rule is refused at its first
/// `pcre` or `pcrexform`, without compiling it).
pub fn compile_within(
    text: &str,
    source: &RuleSource,
    ctx: &RuleContext,
    pcre_fits: bool,
) -> Result<Rule, Box<RuleError>> {
    Checker {
        source,
        ctx,
        pcre_fits,
    }
    .compile(text)
    .map_err(Box::new)
}

/// The estimated compiled size of a rule's `pcre` and `pcrexform` patterns
/// ([`crate::detect::pcre::estimated_size`]); 0 for a rule that does not parse.
pub fn pcre_cost(text: &str) -> u64 {
    if text.len() > MAX_RULE_LEN {
        return 0;
    }
    let Ok(raw) = parse_rule(text) else {
        return 0;
    };
    let mut cost = 0u64;
    for o in &raw.options {
        let Some(v) = o.value.as_deref() else {
            continue;
        };
        let one = match o.keyword.as_str() {
            "pcre" => parse_pcre(v).map_or(0, |p| {
                crate::detect::pcre::estimated_size(&p.pattern, &p.flags)
            }),
            "pcrexform" => crate::detect::pcre::estimated_size(v.trim().trim_matches('"'), ""),
            _ => 0,
        };
        cost = cost.saturating_add(one);
    }
    cost
}

/// Suricata's longest rule.
const MAX_RULE_LEN: usize = 8191;

struct Checker<'a> {
    source: &'a RuleSource,
    ctx: &'a RuleContext,
    pcre_fits: bool,
}

impl Checker<'_> {
    fn err(&self, o: &RawOption, msg: impl Into<String>) -> RuleError {
        at_option(self.source, o, RuleErrorKind::Invalid, msg.into(), None)
    }

    fn value_err(&self, o: &RawOption, e: ValueError) -> RuleError {
        at_value(
            self.source,
            o,
            RuleErrorKind::InvalidValue(o.keyword.clone()),
            e,
        )
    }

    /// A pattern past the ruleset's pcre budget.
    fn pcre_budget_err(&self, o: &RawOption) -> RuleError {
        let (at, len) = o.value_span.unwrap_or(o.keyword_span);
        self.source.error(
            RuleErrorKind::Limit(o.keyword.clone()),
            at,
            len.max(1),
            format!(
                "`{}`: the ruleset's patterns passed detect.rulesim.pcre-memcap ({} bytes of estimated compiled size); the rule is not loaded",
                o.keyword,
                self.ctx.pcre_budget.limit()
            ),
            Some("raise detect.rulesim.pcre-memcap to load it".to_string()),
        )
    }

    /// A pattern PCRE2 refuses (invalid value) or rulesim cannot evaluate exactly
    /// (unsupported), pointing at the construct; `pattern_at` is where the pattern starts
    /// in the value.
    fn pcre_err(&self, o: &RawOption, pattern_at: usize, e: &PcreError) -> RuleError {
        let (vo, vlen) = o.value_span.unwrap_or(o.keyword_span);
        let (at, len) = match e.offset() {
            Some(off) => ((pattern_at + off).min(vlen.saturating_sub(1)), 1),
            None => (0, vlen.max(1)),
        };
        if e.is_invalid() {
            self.source.error(
                RuleErrorKind::InvalidValue(o.keyword.clone()),
                vo + at,
                len,
                format!("invalid `{}`: {e}", o.keyword),
                None,
            )
        } else {
            self.source.error(
                RuleErrorKind::Unsupported(o.keyword.clone()),
                vo + at,
                len,
                format!("`{}`: {e}; the rule is not loaded", o.keyword),
                Some("not supported by rulesim's regex engine".to_string()),
            )
        }
    }

    // Errors are built once per bad rule; their size does not matter here.
    #[allow(clippy::result_large_err)]
    fn compile(&self, text: &str) -> Result<Rule, RuleError> {
        let source = self.source;
        if text.len() > MAX_RULE_LEN {
            return Err(source.error(
                RuleErrorKind::Syntax,
                MAX_RULE_LEN,
                1,
                "rule is longer than 8191 bytes, Suricata's limit",
                None,
            ));
        }
        if let Some(i) = text
            .bytes()
            .position(|b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f)
        {
            return Err(source.error(
                RuleErrorKind::Syntax,
                i,
                1,
                "rule contains a control character",
                None,
            ));
        }
        let raw = parse_rule(text).map_err(|e| {
            let label = e
                .expected
                .as_ref()
                .map(|x| format!("expected {x}"))
                .filter(|l| *l != e.message);
            source.error(RuleErrorKind::Syntax, e.offset, e.len, e.message, label)
        })?;

        // Suricata reads sid before anything else.
        let mut sid = None;
        for o in raw
            .options
            .iter()
            .filter(|o| o.keyword.eq_ignore_ascii_case("sid"))
        {
            if sid.is_some() {
                return Err(self.err(o, "duplicated `sid` keyword"));
            }
            let v = o.value.as_deref().unwrap_or("");
            if v.starts_with('"') {
                return Err(self.value_err(o, ValueError::whole(v, "`sid` takes no quotes")));
            }
            sid = Some(match v.parse::<u64>() {
                Ok(0) => return Err(self.value_err(o, ValueError::whole(v, "sid 0 is invalid"))),
                Ok(n) if n < u64::from(u32::MAX) => n as u32,
                Ok(_) => {
                    return Err(self.value_err(o, ValueError::whole(v, "sid is at most 4294967294")))
                }
                Err(_) => {
                    return Err(self.value_err(o, ValueError::whole(v, "`sid` must be a number")))
                }
            });
        }
        let Some(sid) = sid else {
            let end = text.trim_end().len().saturating_sub(1);
            return Err(source.error(
                RuleErrorKind::Invalid,
                end,
                1,
                "rule has no `sid`",
                Some("every rule needs `sid:<number>;`".into()),
            ));
        };

        let span_err = |i: usize, kind: RuleErrorKind, msg: String, label: &str| {
            let (o, l) = raw.header_spans[i];
            source.error(kind, o, l, msg, Some(label.to_string()))
        };
        let action = Action::parse(&raw.action.to_ascii_lowercase()).ok_or_else(|| {
            span_err(
                0,
                RuleErrorKind::UnknownAction,
                format!("unknown action `{}`", raw.action),
                "expected alert, pass, drop, reject, rejectsrc, rejectdst or rejectboth",
            )
        })?;
        let protocol = canonical_protocol(&raw.protocol).ok_or_else(|| {
            let hint = if raw.protocol.eq_ignore_ascii_case("ipv6-icmp") {
                "use `icmp` (both ICMP versions) or `icmpv6`".to_string()
            } else if canonical_protocol(&raw.protocol.to_ascii_lowercase()).is_some() {
                format!("application protocol names are lower case: `{}`", raw.protocol.to_ascii_lowercase())
            } else {
                "not a protocol Suricata 7.0.10 accepts in a rule (or disabled in its default configuration)".to_string()
            };
            span_err(1, RuleErrorKind::UnknownProtocol, format!("unknown protocol `{}`", raw.protocol), &hint)
        })?;
        if is_app_protocol(&protocol) && !is_detected_app_protocol(&protocol) {
            return Err(span_err(
                1,
                RuleErrorKind::Unsupported(format!("protocol {protocol}")),
                format!("rulesim does not detect `{protocol}` traffic: the rule could never match, so it is not loaded"),
                &format!("protocols rulesim detects: {}", DETECTED_APP_PROTOCOLS.join(", ")),
            ));
        }
        // Addresses, then ports, as Suricata parses them: one that does not resolve is an
        // error.
        let vars = &self.ctx.vars;
        let header = [
            (
                2,
                "source address",
                vars.addresses_of(&raw.src).err().map(|e| e.to_string()),
            ),
            (
                5,
                "destination address",
                vars.addresses_of(&raw.dst).err().map(|e| e.to_string()),
            ),
            (
                3,
                "source port",
                vars.ports_of(&raw.src_port).err().map(|e| e.to_string()),
            ),
            (
                6,
                "destination port",
                vars.ports_of(&raw.dst_port).err().map(|e| e.to_string()),
            ),
        ];
        if let Some((i, which, Some(e))) = header.into_iter().find(|h| h.2.is_some()) {
            return Err(span_err(
                i,
                RuleErrorKind::Address,
                format!("invalid {which}: {e}"),
                "here",
            ));
        }

        let mut state = State {
            gid: 1,
            header_alproto: is_app_protocol(&protocol).then(|| protocol.clone()),
            protocol: protocol.clone(),
            ..State::default()
        };
        for o in &raw.options {
            self.option(o, &mut state)?;
        }
        self.finish(&raw.options, &mut state, text)?;

        let mut detection = std::mem::take(&mut state.det);
        detection.matches = std::mem::take(&mut state.matches)
            .into_iter()
            .filter_map(|m| match m {
                PendingMatch::Content(i) => state.contents.get(i).map(Content::to_match),
                PendingMatch::Done(b) => Some(b),
            })
            .collect();
        detection.dsize = state.dsize.map(|(_, t)| t);
        detection.app_proto = state
            .header_alproto
            .clone()
            .or(state.keyword_alproto.map(str::to_string));
        let class_priority = state
            .classtype
            .as_deref()
            .and_then(|c| self.ctx.classes.get(c))
            .map(|c| c.priority);
        Ok(Rule {
            action,
            protocol,
            src: raw.src,
            src_port: raw.src_port,
            bidirectional: raw.bidirectional,
            dst: raw.dst,
            dst_port: raw.dst_port,
            options: raw.options.iter().map(RuleOption::from).collect(),
            sid,
            gid: state.gid,
            rev: state.rev,
            msg: state.msg,
            priority: state
                .priority
                .or(class_priority.map(u32::from))
                .unwrap_or(3),
            classtype: state.classtype,
            detection,
            origin: RuleOrigin::default(),
        })
    }

    #[allow(clippy::result_large_err)]
    fn option<'r>(&self, o: &'r RawOption, st: &mut State<'r>) -> Result<(), RuleError> {
        let Some(k) = keywords::lookup(&o.keyword) else {
            return Err(at_option(
                self.source,
                o,
                RuleErrorKind::UnknownKeyword(o.keyword.clone()),
                format!("unknown keyword `{}`", o.keyword),
                Some("not a Suricata 7.0.10 rule keyword"),
            ));
        };
        let name = k.name;
        let value = o.value.as_deref().filter(|v| !v.is_empty());
        match (k.arity, value) {
            (Arity::Required, None) => {
                return Err(at_option(
                    self.source,
                    o,
                    RuleErrorKind::InvalidValue(o.keyword.clone()),
                    format!("`{}` needs a value", o.keyword),
                    Some("expected `keyword:value;`"),
                ))
            }
            (Arity::None, Some(_)) => {
                return Err(at_option(
                    self.source,
                    o,
                    RuleErrorKind::InvalidValue(o.keyword.clone()),
                    format!("`{}` takes no value", o.keyword),
                    Some("expected `keyword;`"),
                ))
            }
            _ => {}
        }
        if let Some(v) = value {
            let unquoted = v.trim_start_matches('!').trim_start();
            if unquoted.starts_with('"')
                && !QUOTES_MANDATORY.contains(&name)
                && !QUOTES_OPTIONAL.contains(&name)
            {
                return Err(self.value_err(
                    o,
                    ValueError::whole(v, format!("`{}` takes no quotes", o.keyword)),
                ));
            }
        }
        if !k.supported {
            return Err(at_option(
                self.source,
                o,
                RuleErrorKind::Unsupported(o.keyword.clone()),
                format!(
                    "keyword `{}` is not supported by rulesim yet; the rule is not loaded",
                    o.keyword
                ),
                Some("Suricata knows it, rulesim cannot evaluate it"),
            ));
        }
        let v = value.unwrap_or("");
        match k.kind {
            KeywordKind::StickyBuffer => self.sticky(o, k, st),
            KeywordKind::Transform => {
                if st.buffer.is_some_and(|(b, _)| b == BASE64_DATA) {
                    return Err(self.err(
                        o,
                        format!("transform `{}` cannot follow `base64_data`", o.keyword),
                    ));
                }
                if st.buffer.is_none() {
                    return Err(self.err(
                        o,
                        format!("transform `{}` must follow a sticky buffer", o.keyword),
                    ));
                }
                st.transforms.push(Transform {
                    name,
                    value: value.map(|v| v.trim().trim_matches('"').to_string()),
                });
                if name == "pcrexform" {
                    if !self.pcre_fits {
                        return Err(self.pcre_budget_err(o));
                    }
                    let pattern = v.trim().trim_matches('"');
                    if let Err(e) = crate::detect::payload::compile_pcrexform(pattern) {
                        let pattern_at = v.find(pattern).unwrap_or(0);
                        return Err(self.pcre_err(o, pattern_at, &e));
                    }
                }
                if name == "xor" {
                    let key = v.trim_matches('"');
                    if key.len() % 2 != 0 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(self.value_err(
                            o,
                            ValueError::whole(
                                v,
                                "the xor key must be an even number of hex digits",
                            ),
                        ));
                    }
                }
                Ok(())
            }
            KeywordKind::ContentModifier => self.modifier(o, name, v, st),
            KeywordKind::LegacyBuffer => self.legacy_buffer(o, k, st),
            KeywordKind::Payload => self.payload(o, name, v, st),
            KeywordKind::Meta | KeywordKind::Match | KeywordKind::Other => {
                self.other(o, name, v, st)
            }
        }
    }

    #[allow(clippy::result_large_err)]
    fn sticky<'r>(
        &self,
        o: &'r RawOption,
        k: &Keyword,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        let canonical = k.canonical.unwrap_or(k.name);
        if canonical == BASE64_DATA {
            return self.base64_data(o, st);
        }
        if st.buffer.is_some_and(|(b, _)| b == BASE64_DATA) {
            // DetectBufferSetActiveList; pkt_data sets the list itself.
            if canonical != "pkt_data" {
                return Err(self.err(
                    o,
                    format!("the buffer cannot be changed after `base64_data` (to `{}`); only `pkt_data` may follow it", o.keyword),
                ));
            }
        } else if let Some((prev, prev_opt)) = st.buffer {
            if st.buffer_matches == 0 {
                return Err(self.err(
                    prev_opt,
                    format!("sticky buffer `{prev}` has no match after it before the next buffer"),
                ));
            }
        }
        st.sticky_at = st.matches.len();
        if canonical == "pkt_data" {
            st.buffer = None;
            st.transforms.clear();
            return Ok(());
        }
        let (alproto, side) = buffer_info(canonical);
        if let Some(p) = alproto {
            self.set_alproto(o, p, st)?;
        }
        st.sides.push((o, canonical, side));
        st.buffer = Some((canonical, o));
        st.app_buffer.get_or_insert(o);
        st.buffer_matches = 0;
        st.transforms.clear();
        Ok(())
    }

    /// `base64_data` (DetectBase64DataSetup): needs a `base64_decode` in the active list
    /// (in any list when none is active: `DetectGetLastSMFromLists`), then makes the
    /// following matches inspect the decoded bytes. It is not one of the rule's buffers:
    /// no application protocol, no "has no match" check.
    #[allow(clippy::result_large_err)]
    fn base64_data<'r>(&self, o: &'r RawOption, st: &mut State<'r>) -> Result<(), RuleError> {
        let active = self.active_list(st);
        let found = st.matches.iter().any(|m| match m {
            PendingMatch::Done(b) => {
                matches!(b.test, MatchTest::Base64Decode(_))
                    && active
                        .as_ref()
                        .is_none_or(|(buf, t)| b.buffer == *buf && b.transforms == *t)
            }
            PendingMatch::Content(_) => false,
        });
        if !found {
            let where_ = match st.buffer {
                Some((b, _)) => format!(" in `{b}`, the active buffer"),
                None => String::new(),
            };
            return Err(self.err(
                o,
                format!("`base64_data` needs a preceding `base64_decode`{where_}"),
            ));
        }
        // Transforms not yet taken by a match stay pending: the first match after
        // base64_data then fails to load (a transformed base64_data list).
        if !st.transforms.is_empty() && active.as_ref().is_some_and(|(_, t)| t.is_empty()) {
            st.base64_pending_transforms = Some(o);
        }
        st.buffer = Some((BASE64_DATA, o));
        st.buffer_matches = 0;
        st.transforms.clear();
        st.sticky_at = st.matches.len();
        Ok(())
    }

    /// Suricata's active list (`s->init_data->list`) when a sticky buffer is set: the
    /// buffer with the transforms a match has already taken (transforms written after
    /// the buffer apply from the next match on); `None` when no list is active.
    fn active_list(&self, st: &State<'_>) -> Option<(Option<&'static str>, Vec<Transform>)> {
        let (b, _) = st.buffer?;
        if st.transforms.is_empty() {
            return Some((Some(b), Vec::new()));
        }
        let taken = st.matches[st.sticky_at.min(st.matches.len())..]
            .iter()
            .any(|m| {
                let (buf, t) = match m {
                    PendingMatch::Content(i) => match st.contents.get(*i) {
                        Some(c) => (c.buffer, &c.transforms),
                        None => return false,
                    },
                    PendingMatch::Done(d) => (d.buffer, &d.transforms),
                };
                buf == Some(b) && *t == st.transforms
            });
        Some((
            Some(b),
            if taken {
                st.transforms.clone()
            } else {
                Vec::new()
            },
        ))
    }

    #[allow(clippy::result_large_err)]
    fn set_alproto<'r>(
        &self,
        o: &'r RawOption,
        proto: &'static str,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        let current = st.header_alproto.as_deref().or(st.keyword_alproto);
        match current {
            // `http` in the header covers http1 and http2.
            Some(c) if c == proto || (proto == "http" && matches!(c, "http1" | "http2")) => Ok(()),
            // ja3 may also be QUIC.
            Some("quic") if o.keyword.starts_with("ja3") => Ok(()),
            Some(c) => Err(self.err(
                o,
                format!(
                    "`{}` needs protocol {proto}, but the rule is already about {c}",
                    o.keyword
                ),
            )),
            None => {
                st.keyword_alproto = Some(proto);
                Ok(())
            }
        }
    }

    #[allow(clippy::result_large_err)]
    fn legacy_buffer<'r>(
        &self,
        o: &'r RawOption,
        k: &Keyword,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        if let Some((b, _)) = st.buffer {
            return Err(self.err(o, format!("`{}` is used while sticky buffer `{b}` is active; reset it with `pkt_data` first", o.keyword)));
        }
        let canonical = k.canonical.unwrap_or(k.name);
        let Some(c) = st.contents.last_mut() else {
            return Err(self.err(o, format!("`{}` needs a preceding `content`", o.keyword)));
        };
        if c.moved_by_modifier || c.buffer.is_some() {
            return Err(self.err(
                o,
                format!(
                    "`{}` needs a preceding `content` that is not already in a buffer",
                    o.keyword
                ),
            ));
        }
        c.moved_by_modifier = true;
        c.buffer = Some(canonical);
        if canonical == "http.host" {
            if let Some(n) = c.nocase {
                return Err(host_error(self.source, n, "`nocase`"));
            }
            if c.upper {
                return Err(host_error(self.source, c.opt, "an upper-case pattern"));
            }
        }
        // The content now counts as a match in its new buffer (for a later relative pcre).
        if let Some(n) = st.matches_in.get_mut(&None) {
            *n = n.saturating_sub(1);
        }
        *st.matches_in.entry(Some(canonical)).or_insert(0) += 1;
        let (alproto, side) = buffer_info(canonical);
        st.app_buffer.get_or_insert(o);
        st.sides.push((o, canonical, side));
        if let Some(p) = alproto {
            self.set_alproto(o, p, st)?;
        }
        Ok(())
    }

    #[allow(clippy::result_large_err)]
    fn payload<'r>(
        &self,
        o: &'r RawOption,
        name: &str,
        v: &str,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        match name {
            "content" | "uricontent" => {
                let c = parse_content(v).map_err(|e| self.value_err(o, e))?;
                let buffer = if name == "uricontent" {
                    Some("http.uri")
                } else {
                    st.buffer.map(|(b, _)| b)
                };
                let upper = c.bytes.iter().any(u8::is_ascii_uppercase);
                if buffer == Some("http.host") && upper {
                    return Err(host_error(self.source, o, "an upper-case pattern"));
                }
                if !c.negated {
                    if let Some(t) = st
                        .transforms
                        .iter()
                        .find(|t| !transform_allows(t.name, &c.bytes))
                    {
                        return Err(self.value_err(
                            o,
                            ValueError::whole(
                                v,
                                format!("the pattern can never match after transform `{}`", t.name),
                            ),
                        ));
                    }
                }
                if name == "uricontent" {
                    self.set_alproto(o, "http", st)?;
                    st.sides.push((o, "http.uri", Side::ToServer));
                    st.app_buffer.get_or_insert(o);
                }
                st.matches.push(PendingMatch::Content(st.contents.len()));
                st.contents.push(Content {
                    opt: o,
                    len: c.bytes.len() as i64,
                    negated: c.negated,
                    upper,
                    buffer,
                    nocase: None,
                    depth: None,
                    offset: None,
                    distance: None,
                    within: None,
                    startswith: false,
                    fast_pattern: None,
                    fast_pattern_only: false,
                    moved_by_modifier: false,
                    bytes: c.bytes,
                    endswith: false,
                    rawbytes: false,
                    fast: None,
                    transforms: if name == "uricontent" {
                        Vec::new()
                    } else {
                        st.transforms.clone()
                    },
                });
                st.buffer_matches += 1;
                *st.matches_in.entry(buffer).or_insert(0) += 1;
                Ok(())
            }
            "pcre" => {
                let mut p = parse_pcre(v).map_err(|e| self.value_err(o, e))?;
                if !self.pcre_fits {
                    return Err(self.pcre_budget_err(o));
                }
                // Translated and compiled now, so a pattern rulesim cannot evaluate
                // exactly refuses the rule at load; the rule keeps the compiled form.
                match crate::detect::pcre::compile_pcre(&p) {
                    Ok(compiled) => {
                        p.compiled =
                            Some(super::options::CompiledPcre(std::sync::Arc::new(compiled)))
                    }
                    Err(e) => {
                        let pattern_at = v.find('/').map_or(0, |i| i + 1);
                        return Err(self.pcre_err(o, pattern_at, &e));
                    }
                }
                let mut buffer = st.buffer.map(|(b, _)| b);
                if let Some(flag_buffer) = p.buffer() {
                    if let Some(b) = buffer.filter(|b| !same_buffer(b, flag_buffer)) {
                        return Err(self.err(o, format!("pcre buffer flag selects `{flag_buffer}` while sticky buffer `{b}` is active")));
                    }
                    self.set_alproto(o, "http", st)?;
                    let (_, side) = buffer_info(flag_buffer);
                    st.sides.push((o, flag_buffer, side));
                    st.app_buffer.get_or_insert(o);
                    buffer = Some(flag_buffer);
                }
                if p.relative()
                    && st.buffer.is_none()
                    && st.matches_in.get(&buffer).copied().unwrap_or(0) == 0
                {
                    return Err(self.err(
                        o,
                        "pcre with /R (relative) needs a preceding match in the same buffer",
                    ));
                }
                st.buffer_matches += 1;
                *st.matches_in.entry(buffer).or_insert(0) += 1;
                st.matches.push(PendingMatch::Done(BufferMatch {
                    buffer,
                    transforms: st.transforms.clone(),
                    test: MatchTest::Pcre(p),
                }));
                Ok(())
            }
            "bsize" => {
                let Some((b, _)) = st.buffer else {
                    return Err(self.err(o, "`bsize` must follow a sticky buffer"));
                };
                let t = parse_num_test(v, u64::MAX >> 1).map_err(|e| self.value_err(o, e))?;
                st.bsizes.push((o, b, t));
                st.buffer_matches += 1;
                st.matches.push(PendingMatch::Done(BufferMatch {
                    buffer: Some(b),
                    transforms: st.transforms.clone(),
                    test: MatchTest::Bsize(t),
                }));
                Ok(())
            }
            "isdataat" => {
                let first = v.split(',').next().unwrap_or("").trim();
                let negated = first.starts_with('!');
                let n = first.strip_prefix('!').unwrap_or(first).trim();
                let mut var = None;
                let at = match n.parse::<u16>() {
                    Ok(x) => x,
                    _ if n.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) => {
                        let list = (st.buffer.map(|(b, _)| b), st.transforms.clone());
                        let slot = self.byte_var(o, n, &list, st)?;
                        var = Some(slot);
                        // Suricata keeps the slot where the number would be.
                        slot
                    }
                    _ => {
                        return Err(self.value_err(
                            o,
                            ValueError::whole(first, "isdataat needs a number from 0 to 65535"),
                        ))
                    }
                };
                let rest: Vec<&str> = v.split(',').skip(1).map(str::trim).collect();
                if !matches!(
                    rest.as_slice(),
                    [] | ["relative"] | ["relative", "rawbytes"]
                ) {
                    return Err(self.value_err(
                        o,
                        ValueError::whole(v, "expected `N[,relative[,rawbytes]]`"),
                    ));
                }
                st.buffer_matches += 1;
                st.matches.push(PendingMatch::Done(BufferMatch {
                    buffer: st.buffer.map(|(b, _)| b),
                    transforms: st.transforms.clone(),
                    test: MatchTest::IsDataAt(IsDataAt {
                        offset: at,
                        var,
                        negated,
                        relative: !rest.is_empty(),
                        rawbytes: rest.len() == 2,
                    }),
                }));
                Ok(())
            }
            "byte_test" | "byte_jump" | "byte_extract" => self.byte_keyword(o, name, v, st),
            "base64_decode" => {
                let args = if v.trim().is_empty() {
                    Base64Decode::default()
                } else {
                    parse_base64_decode(v)
                        .map_err(|m| self.value_err(o, ValueError::whole(v, m)))?
                };
                // DetectBase64DecodeSetup: the active list, else the list of the last
                // content, pcre, byte keyword or isdataat anywhere in the rule.
                let list = match self.active_list(st) {
                    Some(l) => l,
                    None => self.byte_list(true, st),
                };
                if list.0 == Some(BASE64_DATA) {
                    return Err(at_option(
                        self.source,
                        o,
                        RuleErrorKind::Unsupported(o.keyword.clone()),
                        "`base64_decode` in the `base64_data` list (decoding the decoded bytes again) is not supported by rulesim yet; the rule is not loaded".to_string(),
                        Some("Suricata decodes in place and restarts the base64_data list"),
                    ));
                }
                st.buffer_matches += 1;
                st.matches.push(PendingMatch::Done(BufferMatch {
                    buffer: list.0,
                    transforms: list.1,
                    test: MatchTest::Base64Decode(args),
                }));
                Ok(())
            }
            _ => {
                st.buffer_matches += 1;
                Ok(())
            }
        }
    }

    /// The list a `byte_*` keyword goes to (DetectBytetestSetup and its siblings): the
    /// active sticky buffer; else, when relative, the list of the last content, pcre,
    /// byte keyword or isdataat anywhere in the rule; else the payload.
    fn byte_list(&self, relative: bool, st: &State<'_>) -> (Option<&'static str>, Vec<Transform>) {
        if let Some((b, _)) = st.buffer {
            return (Some(b), st.transforms.clone());
        }
        if relative {
            for m in st.matches.iter().rev() {
                match m {
                    PendingMatch::Content(i) => {
                        if let Some(c) = st.contents.get(*i) {
                            return (c.buffer, c.transforms.clone());
                        }
                    }
                    PendingMatch::Done(b) => {
                        if matches!(
                            b.test,
                            MatchTest::Pcre(_)
                                | MatchTest::IsDataAt(_)
                                | MatchTest::ByteTest(_)
                                | MatchTest::ByteJump(_)
                                | MatchTest::ByteExtract(_)
                        ) {
                            return (b.buffer, b.transforms.clone());
                        }
                    }
                }
            }
        }
        (None, Vec::new())
    }

    /// Resolves a `byte_extract` variable as `DetectByteExtractRetrieveSMVar` does (sticky
    /// buffers first, then the payload; the first of that name). One defined in another
    /// list reads a slot of whatever that thread inspected last in Suricata: refused.
    #[allow(clippy::result_large_err)]
    fn byte_var(
        &self,
        o: &RawOption,
        name: &str,
        list: &(Option<&'static str>, Vec<Transform>),
        st: &State<'_>,
    ) -> Result<u16, RuleError> {
        let found = st
            .extracts
            .iter()
            .filter(|e| e.buffer.is_some())
            .chain(st.extracts.iter().filter(|e| e.buffer.is_none()))
            .find(|e| e.name == name);
        match found {
            None => Err(self.value_err(
                o,
                ValueError::whole(
                    o.value.as_deref().unwrap_or(""),
                    format!("unknown byte_extract variable `{name}` (it must be extracted earlier in the rule)"),
                ),
            )),
            Some(e) if e.buffer != list.0 || e.transforms != list.1 => Err(at_option(
                self.source,
                o,
                RuleErrorKind::Unsupported(o.keyword.clone()),
                format!("`{}` uses byte_extract variable `{name}` of another buffer; Suricata then reads a stale value, which rulesim cannot reproduce; the rule is not loaded", o.keyword),
                Some("variable from another buffer"),
            )),
            Some(e) => Ok(e.slot),
        }
    }

    #[allow(clippy::result_large_err)]
    fn byte_keyword<'r>(
        &self,
        o: &'r RawOption,
        name: &str,
        v: &str,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        let bad = |m: String| self.value_err(o, ValueError::whole(v, m));
        let (relative, dce) = match name {
            "byte_test" => {
                let p = parse_byte_test(v).map_err(bad)?;
                (p.relative, p.dce)
            }
            "byte_jump" => {
                let p = parse_byte_jump(v).map_err(bad)?;
                (p.relative, p.dce)
            }
            _ => {
                let p = parse_byte_extract(v).map_err(bad)?;
                (p.relative, p.dce)
            }
        };
        if dce {
            return Err(at_option(
                self.source,
                o,
                RuleErrorKind::Unsupported(o.keyword.clone()),
                format!("`{}` with `dce` needs DCERPC inspection, which rulesim does not have; the rule is not loaded", o.keyword),
                Some("not supported by rulesim"),
            ));
        }
        let list = self.byte_list(relative, st);
        let test = match name {
            "byte_test" => {
                let p = parse_byte_test(v).map_err(bad)?;
                let value = self.operand(o, p.value, &list, st)?;
                let offset = self.operand(o, p.offset, &list, st)?;
                let nbytes = self.operand(o, p.nbytes, &list, st)?;
                MatchTest::ByteTest(ByteTest {
                    nbytes,
                    op: p.op,
                    negated: p.negated,
                    value,
                    offset,
                    relative: p.relative,
                    encoding: p.encoding,
                    bitmask: p.bitmask,
                })
            }
            "byte_jump" => {
                let p = parse_byte_jump(v).map_err(bad)?;
                let nbytes = self.operand(o, p.nbytes, &list, st)?;
                let offset = self.operand(o, p.offset, &list, st)?;
                MatchTest::ByteJump(ByteJump {
                    nbytes,
                    offset,
                    relative: p.relative,
                    encoding: p.encoding,
                    multiplier: p.multiplier,
                    align: p.align,
                    post_offset: p.post_offset,
                    from_beginning: p.from_beginning,
                    from_end: p.from_end,
                })
            }
            _ => {
                let p = parse_byte_extract(v).map_err(bad)?;
                let slot = st
                    .extracts
                    .iter()
                    .filter(|e| e.buffer == list.0 && e.transforms == list.1)
                    .count() as u16;
                st.extracts.push(ByteVar {
                    name: p.name.clone(),
                    buffer: list.0,
                    transforms: list.1.clone(),
                    slot,
                });
                MatchTest::ByteExtract(ByteExtract {
                    nbytes: p.nbytes,
                    offset: p.offset,
                    name: p.name,
                    slot,
                    relative: p.relative,
                    encoding: p.encoding,
                    multiplier: p.multiplier,
                    align: p.align,
                })
            }
        };
        st.buffer_matches += 1;
        st.matches.push(PendingMatch::Done(BufferMatch {
            buffer: list.0,
            transforms: list.1,
            test,
        }));
        Ok(())
    }

    #[allow(clippy::result_large_err)]
    fn operand<T>(
        &self,
        o: &RawOption,
        a: Arg<T>,
        list: &(Option<&'static str>, Vec<Transform>),
        st: &State<'_>,
    ) -> Result<ByteOperand<T>, RuleError> {
        Ok(match a {
            Arg::Lit(n) => ByteOperand::Lit(n),
            Arg::Var(name) => ByteOperand::Var(self.byte_var(o, &name, list, st)?),
        })
    }

    #[allow(clippy::result_large_err)]
    fn modifier<'r>(
        &self,
        o: &'r RawOption,
        name: &str,
        v: &str,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        let in_sticky = st.buffer.is_some();
        let have_fast_pattern = st.contents.iter().any(|c| c.fast_pattern.is_some());
        let t = v.trim();
        if matches!(name, "depth" | "offset" | "distance" | "within")
            && t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        {
            if st.extracts.iter().any(|e| e.name == t) {
                return Err(at_option(
                    self.source,
                    o,
                    RuleErrorKind::Unsupported(o.keyword.clone()),
                    format!("`{name}` with a byte_extract variable is not supported by rulesim yet; the rule is not loaded"),
                    Some("Suricata knows it, rulesim cannot evaluate it"),
                ));
            }
            return Err(self.value_err(
                o,
                ValueError::whole(v, format!("unknown byte_extract variable `{t}`")),
            ));
        }
        let Some(c) = st.contents.last_mut() else {
            return Err(self.err(o, format!("`{}` needs a preceding `content`", o.keyword)));
        };
        let mix = "a relative modifier (distance, within) and an absolute one (depth, offset, startswith) on the same content";
        let number = |lo: i64, hi: i64| -> Result<i64, RuleError> {
            match int_value(v) {
                Some(n) if (lo..=hi).contains(&n) => Ok(n),
                Some(_) => Err(self.value_err(
                    o,
                    ValueError::whole(v, format!("`{name}` must be from {lo} to {hi}")),
                )),
                None => Err(self.value_err(
                    o,
                    ValueError::whole(
                        v,
                        format!("`{name}` must be a number or a byte_extract variable"),
                    ),
                )),
            }
        };
        match name {
            "nocase" => {
                if c.nocase.is_some() {
                    return Err(self.err(o, "`nocase` is given twice for the same content"));
                }
                c.nocase = Some(o);
                if c.buffer == Some("http.host") {
                    return Err(host_error(self.source, o, "`nocase`"));
                }
            }
            "depth" => {
                let n = number(0, 65_535)?;
                if c.depth.is_some() {
                    return Err(self.err(
                        o,
                        if c.startswith {
                            "`depth` after `startswith` on the same content"
                        } else {
                            "`depth` is given twice for the same content"
                        },
                    ));
                }
                if c.distance.is_some() || c.within.is_some() {
                    return Err(self.err(o, format!("can't use {mix}")));
                }
                if n < c.len {
                    return Err(self.value_err(
                        o,
                        ValueError::whole(
                            v,
                            format!("depth {n} is smaller than the content's {} bytes", c.len),
                        ),
                    ));
                }
                c.depth = Some(n);
            }
            "offset" => {
                let n = number(0, 65_535)?;
                if c.startswith {
                    return Err(self.err(o, "can't use `offset` with `startswith`"));
                }
                if c.offset.is_some() {
                    return Err(self.err(o, "`offset` is given twice for the same content"));
                }
                if c.distance.is_some() || c.within.is_some() {
                    return Err(self.err(o, format!("can't use {mix}")));
                }
                c.offset = Some(n);
            }
            "distance" | "within" => {
                let n = number(-1_048_576, 1_048_576)?;
                if c.depth.is_some() || c.offset.is_some() {
                    return Err(self.err(o, format!("can't use {mix}")));
                }
                let slot = if name == "distance" {
                    &mut c.distance
                } else {
                    &mut c.within
                };
                if slot.is_some() {
                    return Err(
                        self.err(o, format!("`{name}` is given twice for the same content"))
                    );
                }
                if name == "within" && n < c.len {
                    return Err(self.value_err(o, ValueError::whole(v, format!("within {n} is less than the content's {} bytes: it can never match", c.len))));
                }
                *slot = Some(n);
            }
            "startswith" => {
                if c.depth.is_some() || c.startswith {
                    return Err(self.err(
                        o,
                        "can't use several depth/startswith settings for the same content",
                    ));
                }
                if c.offset.is_some() {
                    return Err(self.err(o, "can't mix `offset` with `startswith`"));
                }
                if c.distance.is_some() || c.within.is_some() {
                    return Err(self.err(o, format!("can't use {mix}")));
                }
                c.startswith = true;
                c.depth = Some(c.len);
                c.offset = Some(0);
            }
            "endswith" => c.endswith = true,
            "rawbytes" if in_sticky || c.buffer.is_some() => {
                return Err(self.err(o, "`rawbytes` cannot be combined with a sticky buffer"));
            }
            "rawbytes" => c.rawbytes = true,
            "fast_pattern" => {
                if c.fast_pattern.is_some() {
                    return Err(self.err(o, "`fast_pattern` is given twice for the same content"));
                }
                if have_fast_pattern {
                    return Err(self.err(
                        o,
                        "`fast_pattern` can be used on one content of a rule only",
                    ));
                }
                let t = v.trim();
                c.fast = Some(FastPattern::Whole);
                if t == "only" {
                    c.fast_pattern_only = true;
                    c.fast = Some(FastPattern::Only);
                } else if !t.is_empty() {
                    let parts: Vec<&str> = t.split(',').map(str::trim).collect();
                    let nums: Vec<Option<i64>> =
                        parts.iter().map(|p| p.parse::<i64>().ok()).collect();
                    match nums.as_slice() {
                        [Some(off), Some(len)] if *off >= 0 && *len > 0 => {
                            if off + len > c.len {
                                return Err(self.value_err(
                                    o,
                                    ValueError::whole(t, format!("fast_pattern {off},{len} exceeds the content's {} bytes", c.len)),
                                ));
                            }
                            // Contents are at most a rule's 8 KiB, so both fit.
                            c.fast = Some(FastPattern::Chop {
                                offset: *off as u16,
                                length: *len as u16,
                            });
                        }
                        _ => return Err(self.value_err(o, ValueError::whole(t, "expected `fast_pattern`, `fast_pattern:only` or `fast_pattern:offset,length`"))),
                    }
                }
                c.fast_pattern = Some(o);
            }
            _ => {}
        }
        if c.fast_pattern_only
            && (c.negated
                || c.distance.is_some()
                || c.within.is_some()
                || c.offset.is_some()
                || (c.depth.is_some() && !c.startswith))
        {
            return Err(self.err(o, "`fast_pattern:only` cannot be used with a negated content or with depth, offset, distance or within"));
        }
        Ok(())
    }

    #[allow(clippy::result_large_err)]
    fn other<'r>(
        &self,
        o: &'r RawOption,
        name: &str,
        v: &str,
        st: &mut State<'r>,
    ) -> Result<(), RuleError> {
        let verr = |e: ValueError| self.value_err(o, e);
        match name {
            "sid" => {}
            "msg" => {
                if st.msg_seen {
                    return Err(self.err(o, "duplicated `msg` keyword"));
                }
                st.msg_seen = true;
                st.msg = parse_quoted_text(v).map_err(verr)?;
            }
            "rev" => {
                if st.rev_seen {
                    return Err(self.err(o, "duplicated `rev` keyword"));
                }
                st.rev_seen = true;
                st.rev = match v.parse::<u64>() {
                    Ok(n) if n >= 1 && n < u64::from(u32::MAX) => n as u32,
                    _ => {
                        return Err(verr(ValueError::whole(
                            v,
                            "rev must be a number from 1 to 4294967294",
                        )))
                    }
                };
            }
            "gid" => {
                st.gid = match v.parse::<u64>() {
                    Ok(n) if n < u64::from(u32::MAX) => n as u32,
                    _ => {
                        return Err(verr(ValueError::whole(
                            v,
                            "gid must be a number from 0 to 4294967294",
                        )))
                    }
                };
            }
            "priority" => {
                let n = v
                    .parse::<u32>()
                    .map_err(|_| verr(ValueError::whole(v, "priority must be a number")))?;
                // A repeated priority keeps the highest (the lowest number).
                st.priority = Some(st.priority.map_or(n, |p| p.min(n)));
            }
            "classtype" => {
                let ok = v.starts_with(|c: char| c.is_ascii_alphabetic())
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(verr(ValueError::whole(
                        v,
                        format!("`{v}` is not a classtype name"),
                    )));
                }
                // An unknown classtype is only a warning in Suricata (priority 3).
                let known = self
                    .ctx
                    .classes
                    .get(v)
                    .or_else(|| self.ctx.classes.get(&v.to_ascii_lowercase()));
                let new_priority = known.map_or(3, |c| c.priority);
                let keep_old = st
                    .classtype
                    .as_ref()
                    .is_some_and(|_| st.class_priority.is_some_and(|p| p <= new_priority));
                if !keep_old {
                    st.classtype = Some(if known.is_some() && self.ctx.classes.get(v).is_none() {
                        v.to_ascii_lowercase()
                    } else {
                        v.to_string()
                    });
                    st.class_priority = Some(new_priority);
                }
            }
            "reference" => {
                let ok = v.split_once(',').is_some_and(|(t, id)| {
                    !t.trim().is_empty()
                        && t.trim().chars().all(|c| c.is_ascii_alphanumeric())
                        && !id.trim().trim_matches('"').is_empty()
                });
                if !ok {
                    return Err(verr(ValueError::whole(v, "expected `reference:type,id`")));
                }
            }
            "target" => {
                if !matches!(v, "src_ip" | "dest_ip") {
                    return Err(verr(ValueError::whole(
                        v,
                        "target must be src_ip or dest_ip",
                    )));
                }
                st.det.target = Some(v.to_string());
            }
            "tag" => {
                let parts: Vec<&str> = v.split(',').map(str::trim).collect();
                let ok = match parts.as_slice() {
                    [kind] => matches!(*kind, "host" | "session"),
                    [kind, count, metric] | [kind, count, metric, _] => {
                        matches!(*kind, "host" | "session")
                            && count.parse::<u32>().is_ok()
                            && matches!(*metric, "packets" | "bytes" | "seconds")
                            && parts.get(3).is_none_or(|d| matches!(*d, "src" | "dst"))
                    }
                    _ => false,
                };
                if !ok {
                    return Err(verr(ValueError::whole(
                        v,
                        "expected `tag:host|session[,count,packets|bytes|seconds[,src|dst]]`",
                    )));
                }
                st.det.tag = Some(Tag {
                    kind: parts[0].to_string(),
                    count: parts.get(1).and_then(|c| c.parse().ok()),
                    metric: parts.get(2).map(|m| m.to_string()),
                    direction: parts.get(3).map(|d| d.to_string()),
                });
            }
            "noalert" => st.det.noalert = true,
            "alert" => st.det.alert = true,
            "metadata" => {}
            "threshold" | "detection_filter" => {
                let df = name == "detection_filter";
                if (df && st.detection_filter) || (!df && st.threshold) {
                    return Err(self.err(o, format!("only one `{name}` is allowed in a rule")));
                }
                if (df && st.threshold) || (!df && st.detection_filter) {
                    return Err(self.err(
                        o,
                        "`detection_filter` and `threshold` are not allowed in the same rule",
                    ));
                }
                let t = parse_threshold(v, df).map_err(verr)?;
                if df {
                    st.detection_filter = true;
                    st.det.detection_filter = Some(t);
                } else {
                    st.threshold = true;
                    st.det.threshold = Some(t);
                }
            }
            "urilen" => {
                // Suricata's DetectUrilenSetup: an HTTP keyword on the (raw) URI list,
                // whatever sticky buffer is active.
                self.set_alproto(o, "http", st)?;
                let (test, kind) = match v.split_once(',') {
                    Some((t, k)) => (t, k.trim()),
                    None => (v, ""),
                };
                // As Suricata's parser: `raw` selects the raw URI; anything else after
                // the comma (`norm`, or words it does not know) leaves the normalised one.
                let buffer = if kind.starts_with("raw") {
                    "http.uri.raw"
                } else {
                    "http.uri"
                };
                let t = parse_num_test_prefix(test, 65_535).map_err(|e| self.value_err(o, e))?;
                st.sides.push((o, buffer, Side::ToServer));
                st.app_buffer.get_or_insert(o);
                st.urilens.push((o, buffer, t));
                st.matches.push(PendingMatch::Done(BufferMatch {
                    buffer: Some(buffer),
                    transforms: Vec::new(),
                    test: MatchTest::Urilen(t),
                }));
            }
            "app-layer-event" => {
                let arg = v.trim();
                let Some((proto, event)) = arg.split_once('.') else {
                    // A packet event (protocol detection: applayer_*).
                    return Err(at_option(
                        self.source,
                        o,
                        RuleErrorKind::Unsupported(o.keyword.clone()),
                        format!("`app-layer-event:{arg}`: protocol detection events are not raised by rulesim; the rule is not loaded"),
                        Some("not supported by rulesim"),
                    ));
                };
                // The protocol's name is case-sensitive in Suricata, the event's is not.
                if !matches!(proto, "http" | "http1") {
                    const KNOWN: &[&str] = &[
                        "tls",
                        "dns",
                        "smtp",
                        "ssh",
                        "ftp",
                        "smb",
                        "dcerpc",
                        "nfs",
                        "tftp",
                        "krb5",
                        "dhcp",
                        "snmp",
                        "sip",
                        "rfb",
                        "mqtt",
                        "modbus",
                        "dnp3",
                        "enip",
                        "ike",
                        "ntp",
                        "pgsql",
                        "telnet",
                        "quic",
                        "http2",
                        "imap",
                        "pop3",
                        "bittorrent-dht",
                        "rdp",
                        "file",
                    ];
                    let message = if KNOWN.contains(&proto) {
                        format!("`app-layer-event:{arg}`: {proto} events are not raised by rulesim; the rule is not loaded")
                    } else {
                        format!(
                            "app-layer-event keyword supplied with unknown protocol \"{proto}\""
                        )
                    };
                    return Err(if KNOWN.contains(&proto) {
                        at_option(
                            self.source,
                            o,
                            RuleErrorKind::Unsupported(o.keyword.clone()),
                            message,
                            Some("not supported by rulesim"),
                        )
                    } else {
                        self.value_err(o, ValueError::whole(v, message))
                    });
                }
                let Some(anomaly) = crate::app::http::HttpAnomaly::from_name(event.trim()) else {
                    let message = if HTTP_EVENTS
                        .iter()
                        .any(|e| e.eq_ignore_ascii_case(event.trim()))
                    {
                        return Err(at_option(
                            self.source,
                            o,
                            RuleErrorKind::Unsupported(o.keyword.clone()),
                            format!("`app-layer-event:{arg}`: rulesim does not raise this HTTP event yet; the rule is not loaded"),
                            Some("not supported by rulesim"),
                        ));
                    } else {
                        format!("app-layer-event keyword's protocol \"http\" doesn't have event \"{}\" registered", event.trim())
                    };
                    return Err(self.value_err(o, ValueError::whole(v, message)));
                };
                self.set_alproto(o, "http", st)?;
                let buffer = "http.app_layer_events";
                st.sides.push((o, buffer, Side::Both));
                st.app_buffer.get_or_insert(o);
                st.matches.push(PendingMatch::Done(BufferMatch {
                    buffer: Some(buffer),
                    transforms: Vec::new(),
                    test: MatchTest::AppLayerEvent(anomaly.code()),
                }));
            }
            "dsize" => {
                if st.dsize.is_some() {
                    return Err(self.err(o, "only one `dsize` is allowed in a rule"));
                }
                let t = parse_num_test(v, 65_535).map_err(verr)?;
                st.dsize = Some((o, t));
            }
            "flags" | "tcp.flags" | "ttl" | "tcp.seq" | "seq" | "tcp.ack" | "ack"
            | "tcp.window" | "window" | "stream_size" => {
                use super::header;
                let t = match name {
                    "stream_size" => header::parse_stream_size(v),
                    "flags" | "tcp.flags" => header::parse_flags(v),
                    "ttl" => header::parse_ttl(v),
                    "tcp.seq" | "seq" => header::parse_seq_or_ack(v, false),
                    "tcp.ack" | "ack" => header::parse_seq_or_ack(v, true),
                    _ => header::parse_window(v),
                }
                .map_err(verr)?;
                st.det.header.push(t);
            }
            "itype" | "icode" => {
                let t = parse_num_test(v, 255).map_err(verr)?;
                if name == "itype" {
                    st.det.itype = Some(t);
                } else {
                    st.det.icode = Some(t);
                }
            }
            "ip_proto" => {
                if !matches!(
                    st.protocol.as_str(),
                    "ip" | "ipv4" | "ip4" | "ipv6" | "ip6" | "pkthdr"
                ) {
                    return Err(
                        self.err(o, "`ip_proto` can only be used in rules for protocol `ip`")
                    );
                }
                let t = v.trim_matches('"').trim();
                let op = t.chars().next().filter(|c| matches!(c, '!' | '<' | '>'));
                let t = t.strip_prefix(['!', '<', '>']).unwrap_or(t).trim();
                let Some(n) = t.parse::<u8>().ok().or_else(|| ip_proto_number(t)) else {
                    return Err(verr(ValueError::whole(
                        v,
                        format!("`{t}` is not an IP protocol name or number"),
                    )));
                };
                let n = u64::from(n);
                st.det.ip_proto = Some(match op {
                    Some('!') => NumTest::Ne(n),
                    Some('<') => NumTest::Lt(n),
                    Some('>') => NumTest::Gt(n),
                    _ => NumTest::Eq(n),
                });
            }
            "flow" => {
                let f = parse_flow(v).map_err(verr)?;
                let pure_direction = !(f.established
                    || f.not_established
                    || f.stateless
                    || f.only_stream
                    || f.no_stream
                    || f.only_frag
                    || f.no_frag);
                if st.flow_state_set {
                    return Err(self.err(
                        o,
                        "a rule may have only one `flow` option (after a bare direction, one more)",
                    ));
                }
                if !pure_direction {
                    st.flow_state_set = true;
                }
                if f.to_server {
                    st.flow_side.push((o, Side::ToServer));
                }
                if f.to_client {
                    st.flow_side.push((o, Side::ToClient));
                }
                let m = &mut st.det.flow;
                m.to_server |= f.to_server;
                m.to_client |= f.to_client;
                m.established |= f.established;
                m.not_established |= f.not_established;
                m.stateless |= f.stateless;
                m.only_stream |= f.only_stream;
                m.no_stream |= f.no_stream;
                m.only_frag |= f.only_frag;
                m.no_frag |= f.no_frag;
            }
            "flowbits" => {
                let f = parse_flowbits(v).map_err(verr)?;
                if f == FlowbitsValue::NoAlert {
                    st.det.noalert = true;
                }
                st.det.flowbits.push(f);
            }
            "flowint" => {
                st.det.flowint.push(parse_flowint(v).map_err(verr)?);
            }
            "xbits" => {
                let ok = v.contains("track ip_src")
                    || v.contains("track ip_dst")
                    || v.contains("track ip_pair");
                if !ok {
                    return Err(verr(ValueError::whole(
                        v,
                        "xbits needs `track ip_src|ip_dst|ip_pair`",
                    )));
                }
                let mut expire = None;
                if let Some(exp) = v
                    .split(',')
                    .map(str::trim)
                    .find_map(|p| p.strip_prefix("expire"))
                {
                    match exp.trim().parse::<u32>() {
                        Ok(n) if n > 0 => expire = Some(n),
                        _ => {
                            return Err(verr(ValueError::whole(
                                v,
                                "xbits expire must be a number above 0",
                            )))
                        }
                    }
                }
                let cmd = v.split(',').next().unwrap_or("").trim();
                if !matches!(cmd, "set" | "unset" | "toggle" | "isset" | "isnotset") {
                    return Err(verr(ValueError::whole(
                        cmd,
                        format!("`{cmd}` is not an xbits command"),
                    )));
                }
                let parts: Vec<&str> = v.split(',').map(str::trim).collect();
                st.det.xbits.push(Xbits {
                    command: cmd.to_string(),
                    name: parts.get(1).map_or("", |n| n).to_string(),
                    track: parts
                        .iter()
                        .find_map(|p| p.strip_prefix("track"))
                        .map_or("", str::trim)
                        .to_string(),
                    expire,
                });
            }
            "app-layer-protocol" => {
                let t = v.trim_matches('"').trim();
                let (negated, p) = match t.strip_prefix('!') {
                    Some(p) => (true, p.trim()),
                    None => (false, t),
                };
                if !(is_app_protocol(p) || p == "failed") {
                    return Err(verr(ValueError::whole(
                        v,
                        format!("unknown application protocol `{p}`"),
                    )));
                }
                if p != "failed" && !is_detected_app_protocol(p) {
                    return Err(at_option(
                        self.source,
                        o,
                        RuleErrorKind::Unsupported(format!("app-layer-protocol:{p}")),
                        format!("rulesim does not detect `{p}` traffic, so `app-layer-protocol:{t}` cannot be evaluated; the rule is not loaded"),
                        Some("not supported by rulesim"),
                    ));
                }
                if !negated && (st.header_alproto.is_some() || st.keyword_alproto.is_some()) {
                    return Err(self.err(o, "the rule already matches on an application protocol"));
                }
                if st.alp_positive || (st.alp_negated && (!negated || p == "failed")) {
                    return Err(self.err(o, "can't mix positive app-layer-protocol matches with negated ones or with `failed`"));
                }
                if negated {
                    st.alp_negated = true;
                } else {
                    st.alp_positive = true;
                }
                st.det.app_layer_protocol.push(AppLayerProtocol {
                    negated,
                    protocol: p.to_string(),
                });
            }
            "ssl_state" => {
                const STATES: [&str; 5] = [
                    "client_hello",
                    "server_hello",
                    "client_keyx",
                    "server_keyx",
                    "unknown",
                ];
                for part in v.split(['|', ',']) {
                    let s = part.trim();
                    let negated = s.starts_with('!');
                    let s = s.strip_prefix('!').unwrap_or(s);
                    let Some(state) = STATES.iter().find(|x| **x == s) else {
                        return Err(verr(ValueError {
                            offset: v.find(part).unwrap_or(0),
                            len: part.len().max(1),
                            message: format!("`{s}` is not an ssl_state"),
                        }));
                    };
                    st.det.ssl_state.push(SslState { state, negated });
                }
                self.set_alproto(o, "tls", st)?;
            }
            "ssl_version" => {
                let mut seen: Vec<&'static str> = Vec::new();
                let (mut pos, mut neg) = (false, false);
                for part in v.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
                    let (n, name) = match part.strip_prefix('!') {
                        Some(x) => (true, x.to_ascii_lowercase()),
                        None => (false, part.to_ascii_lowercase()),
                    };
                    const VERSIONS: [&str; 6] =
                        ["sslv2", "sslv3", "tls1.0", "tls1.1", "tls1.2", "tls1.3"];
                    let Some(version) = VERSIONS.iter().find(|x| **x == name) else {
                        return Err(verr(ValueError {
                            offset: v.find(part).unwrap_or(0),
                            len: part.len(),
                            message: format!("`{part}` is not an ssl_version"),
                        }));
                    };
                    if seen.contains(version) {
                        return Err(verr(ValueError {
                            offset: v.find(part).unwrap_or(0),
                            len: part.len(),
                            message: "duplicate version".into(),
                        }));
                    }
                    seen.push(version);
                    if n {
                        neg = true;
                    } else {
                        pos = true;
                    }
                }
                if seen.is_empty() {
                    return Err(verr(ValueError::whole(v, "empty ssl_version")));
                }
                if pos && neg {
                    return Err(verr(ValueError::whole(
                        v,
                        "can't mix negated and plain versions",
                    )));
                }
                st.det.ssl_version = Some(SslVersion {
                    versions: seen,
                    negated: neg,
                });
                self.set_alproto(o, "tls", st)?;
            }
            "tls.version" => {
                let t = v.trim();
                // Suricata compares the first three characters of a dotted version.
                let version = match t.get(..3) {
                    Some("1.0") => Some(0x0301),
                    Some("1.1") => Some(0x0302),
                    Some("1.2") => Some(0x0303),
                    Some("1.3") => Some(0x0304),
                    _ => t
                        .strip_prefix("0x")
                        .or_else(|| t.strip_prefix("0X"))
                        .filter(|h| h.len() == 4)
                        .and_then(|h| u16::from_str_radix(h, 16).ok()),
                };
                st.det.tls_version = version;
                if version.is_none() {
                    return Err(verr(ValueError::whole(
                        v,
                        "expected 1.0, 1.1, 1.2, 1.3 or 0xNNNN",
                    )));
                }
                self.set_alproto(o, "tls", st)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Whole-rule validation, after every option.
    #[allow(clippy::result_large_err)]
    fn finish(
        &self,
        options: &[RawOption],
        st: &mut State<'_>,
        text: &str,
    ) -> Result<(), RuleError> {
        if let Some((b, o)) = st.buffer {
            if st.buffer_matches == 0 && b != BASE64_DATA {
                return Err(self.err(o, format!("sticky buffer `{b}` has no match after it")));
            }
        }
        if let Some(o) = st.base64_pending_transforms {
            let in_b64 = st.matches.iter().any(|m| match m {
                PendingMatch::Content(i) => st
                    .contents
                    .get(*i)
                    .is_some_and(|c| c.buffer == Some(BASE64_DATA)),
                PendingMatch::Done(d) => d.buffer == Some(BASE64_DATA),
            });
            if in_b64 {
                return Err(self.err(
                    o,
                    "transforms written before `base64_data` were not taken by a match; they cannot apply to the decoded bytes",
                ));
            }
        }
        // dsize and the packet-payload contents (Suricata's SigParseRequiredContentSize).
        if let Some((o, t)) = st.dsize {
            if let Some(app) = st.app_buffer {
                return Err(self.err(
                    app,
                    format!(
                        "the rule combines a packet keyword (`{}`) with application-layer matching",
                        o.keyword
                    ),
                ));
            }
            let max = match t {
                NumTest::Eq(n) | NumTest::Lt(n) | NumTest::Ne(n) => Some(n as i64),
                NumTest::Between(_, hi) => Some(hi as i64),
                _ => None,
            };
            if let Some(max) = max {
                let pkt: Vec<&Content<'_>> =
                    st.contents.iter().filter(|c| c.buffer.is_none()).collect();
                if let Some(total) = required_size(&pkt, max) {
                    let (off, len) = o.value_span.unwrap_or(o.keyword_span);
                    return Err(self.source.error(
                        RuleErrorKind::Invalid,
                        off,
                        len,
                        format!("the rule can never match: its contents need {total} bytes of payload, more than dsize allows ({max})"),
                        None,
                    ));
                }
            }
        }
        for (o, buffer, t) in &st.bsizes {
            let max = match t {
                NumTest::Eq(n) | NumTest::Lt(n) => Some(*n as i64),
                NumTest::Between(_, hi) => Some(*hi as i64),
                _ => None,
            };
            if let Some(max) = max {
                let in_buffer: Vec<&Content<'_>> = st
                    .contents
                    .iter()
                    .filter(|c| c.buffer == Some(*buffer))
                    .collect();
                if let Some(total) = required_size(&in_buffer, max) {
                    return Err(self.err(o, format!("the rule can never match: its `{buffer}` contents need {total} bytes, more than bsize allows ({max})")));
                }
            }
        }
        // urilen bounds the depth of its list's contents (DetectUrilenApplyToContent, the
        // last urilen of the list deciding) and a content longer than that bound refuses
        // the rule (DetectUrilenValidateContent).
        for buffer in ["http.uri", "http.uri.raw"] {
            let Some((o, _, t)) = st.urilens.iter().rev().find(|(_, b, _)| *b == buffer) else {
                continue;
            };
            let high: i64 = match *t {
                NumTest::Lt(n) => n as i64 + 1,
                NumTest::Le(n) | NumTest::Eq(n) => n as i64,
                NumTest::Between(_, hi) => hi as i64 + 1,
                NumTest::Ne(_) | NumTest::Ge(_) | NumTest::Gt(_) => 65_535,
            };
            if high >= 65_535 {
                continue;
            }
            for c in st
                .contents
                .iter()
                .filter(|c| c.buffer == Some(buffer) && c.transforms.is_empty())
            {
                let own = c
                    .depth
                    .map(|d| d + c.offset.unwrap_or(0))
                    .filter(|&d| d != 0);
                let depth = match own {
                    Some(d) if d <= high => d,
                    _ => high,
                };
                if depth < c.len {
                    return Err(self.err(o, format!("depth or urilen smaller than content len: a `{buffer}` content of {} bytes cannot fit in {depth}", c.len)));
                }
            }
        }
        // ja3/ja3s hashes are 32 hex characters.
        for c in &st.contents {
            if matches!(c.buffer, Some("ja3.hash" | "ja3s.hash")) && c.len != 32 {
                return Err(self.err(c.opt, "a JA3 hash is 32 characters long"));
            }
        }
        // Buffers of both sides, or a buffer against the flow direction.
        let server = st.sides.iter().find(|s| s.2 == Side::ToServer);
        let client = st.sides.iter().find(|s| s.2 == Side::ToClient);
        if let (Some(a), Some(b)) = (server, client) {
            return Err(self.err(
                b.0,
                format!(
                    "the rule mixes `{}` (client to server) and `{}` (server to client)",
                    a.1, b.1
                ),
            ));
        }
        for (fo, fside) in &st.flow_side {
            let against = st.sides.iter().find(|s| s.2 != Side::Both && s.2 != *fside);
            if let Some(s) = against {
                let dir = if *fside == Side::ToServer {
                    "to_server"
                } else {
                    "to_client"
                };
                return Err(self.err(
                    s.0,
                    format!(
                        "`{}` is never seen in the `{dir}` direction that `{}` asks for",
                        s.1, fo.keyword
                    ),
                ));
            }
        }
        let _ = (options, text);
        Ok(())
    }
}

/// What a rule collects while its options are checked.
#[derive(Default)]
struct State<'r> {
    protocol: String,
    header_alproto: Option<String>,
    keyword_alproto: Option<&'static str>,
    buffer: Option<(&'static str, &'r RawOption)>,
    buffer_matches: usize,
    matches_in: std::collections::HashMap<Option<&'static str>, usize>,
    contents: Vec<Content<'r>>,
    bsizes: Vec<(&'r RawOption, &'static str, NumTest)>,
    urilens: Vec<(&'r RawOption, &'static str, NumTest)>,
    dsize: Option<(&'r RawOption, NumTest)>,
    app_buffer: Option<&'r RawOption>,
    sides: Vec<(&'r RawOption, &'static str, Side)>,
    flow_side: Vec<(&'r RawOption, Side)>,
    flow_state_set: bool,
    msg: String,
    msg_seen: bool,
    rev: u32,
    rev_seen: bool,
    gid: u32,
    priority: Option<u32>,
    classtype: Option<String>,
    class_priority: Option<u8>,
    threshold: bool,
    detection_filter: bool,
    alp_positive: bool,
    alp_negated: bool,
    /// Transforms of the current sticky buffer.
    transforms: Vec<Transform>,
    /// Where in `matches` the current sticky buffer (or `pkt_data`) started.
    sticky_at: usize,
    /// `base64_data` written while transforms were pending.
    base64_pending_transforms: Option<&'r RawOption>,
    /// Payload matches in rule order.
    matches: Vec<PendingMatch>,
    /// The typed options other than payload matches.
    det: Detection,
    /// `byte_extract` variables in rule order: name, the list they are in (buffer and
    /// transforms) and their slot in it.
    extracts: Vec<ByteVar>,
}

struct ByteVar {
    name: String,
    buffer: Option<&'static str>,
    transforms: Vec<Transform>,
    slot: u16,
}

/// Suricata's `SigParseRequiredContentSize` for one list of contents: the first content
/// counts its length plus distance (and its offset is tracked, even negated); later ones
/// count only with distance/within. Returns the required size when it exceeds `max`.
fn required_size(contents: &[&Content<'_>], max: i64) -> Option<i64> {
    let mut total = 0i64;
    let mut max_offset = 0i64;
    for (i, c) in contents.iter().enumerate() {
        let distance = c.distance.unwrap_or(0);
        if i == 0 {
            total += c.len + distance;
            max_offset = max_offset.max(c.offset.filter(|_| !c.startswith).unwrap_or(0));
            continue;
        }
        if c.distance.is_none() && c.within.is_none() {
            continue;
        }
        if c.negated {
            let within = c.within.unwrap_or(0);
            if total + distance + within > max {
                return Some(total + distance + within);
            }
            continue;
        }
        total += c.len + distance;
        max_offset = max_offset.max(c.offset.unwrap_or(0));
    }
    (total > max || total + max_offset > max).then_some(total.max(total + max_offset))
}

/// Whether a pattern can still be found after a transform (Suricata refuses, e.g., an
/// upper-case pattern after `to_lowercase`).
fn transform_allows(transform: &str, pattern: &[u8]) -> bool {
    match transform {
        "to_lowercase" => !pattern.iter().any(u8::is_ascii_uppercase),
        "to_uppercase" => !pattern.iter().any(u8::is_ascii_lowercase),
        "strip_whitespace" => !pattern.iter().any(u8::is_ascii_whitespace),
        "compress_whitespace" => !pattern
            .windows(2)
            .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace()),
        _ => true,
    }
}

/// In Suricata 7 the HTTP response body is inspected through the `file.data` list.
fn same_buffer(a: &str, b: &str) -> bool {
    fn norm(x: &str) -> &str {
        if x == "http.response_body" {
            "file.data"
        } else {
            x
        }
    }
    norm(a) == norm(b)
}

fn host_error(source: &RuleSource, o: &RawOption, what: &str) -> RuleError {
    let (off, len) = o.value_span.unwrap_or(o.keyword_span);
    let len = if o.value_span.is_some() {
        len
    } else {
        o.keyword_span.1
    };
    source.error(
        RuleErrorKind::Invalid,
        off,
        len,
        format!("{what} on `http.host`: the host buffer is lower-cased, so this can never match; use a lower-case pattern without `nocase` (or `http.host.raw`)"),
        None,
    )
}

/// The number of an IP protocol name `ip_proto` accepts: IANA names as Suricata spells
/// them, and its lower-case aliases (case-sensitive, as in Suricata).
fn ip_proto_number(name: &str) -> Option<u8> {
    const NAMES: &[(&str, u8)] = &[
        ("HOPOPT", 0),
        ("ip", 0),
        ("ICMP", 1),
        ("icmp", 1),
        ("IGMP", 2),
        ("igmp", 2),
        ("GGP", 3),
        ("IPv4", 4),
        ("ST", 5),
        ("TCP", 6),
        ("tcp", 6),
        ("CBT", 7),
        ("EGP", 8),
        ("IGP", 9),
        ("PUP", 12),
        ("UDP", 17),
        ("udp", 17),
        ("IDP", 22),
        ("IPv6", 41),
        ("ipv6", 41),
        ("IPv6-Route", 43),
        ("IPv6-Frag", 44),
        ("RSVP", 46),
        ("GRE", 47),
        ("gre", 47),
        ("ESP", 50),
        ("esp", 50),
        ("AH", 51),
        ("ah", 51),
        ("IPv6-ICMP", 58),
        ("ipv6-icmp", 58),
        ("IPv6-NoNxt", 59),
        ("IPv6-Opts", 60),
        ("EIGRP", 88),
        ("OSPFIGP", 89),
        ("ospf", 89),
        ("PIM", 103),
        ("pim", 103),
        ("VRRP", 112),
        ("vrrp", 112),
        ("L2TP", 115),
        ("l2tp", 115),
        ("SCTP", 132),
        ("sctp", 132),
        ("UDPLite", 136),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// A number test as Suricata's `detect_parse_uint_notending` reads one (`urilen`): the
/// longest leading part that is a test, the rest ignored, so `3 x` is `3` and `20<>21`
/// (too narrow a range) is `20`. Digits are never cut: `70000` is still out of range.
/// `flowint` as Suricata's pattern reads it: a name of a letter and one or more word
/// characters, dots or slashes; a modifier; then (but for `isset`/`notset`/`isnotset`)
/// a number of at most 10 digits within 32 bits, or a variable name.
fn parse_flowint(v: &str) -> Result<super::detection::Flowint, ValueError> {
    use super::detection::{Flowint, FlowintTarget};
    let bad = |m: &str| ValueError::whole(v, m.to_string());
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let name = parts.first().copied().unwrap_or("");
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/'));
    if !name_ok {
        return Err(bad("a flowint name starts with a letter"));
    }
    let modifier = parts.get(1).copied().unwrap_or("");
    let needs_value = match modifier {
        "isset" | "notset" | "isnotset" => false,
        "=" | "+" | "-" | "==" | "!=" | "<" | "<=" | ">" | ">=" => true,
        _ => {
            return Err(bad(
                "not a flowint modifier (=, +, -, ==, !=, <, <=, >, >=, isset, notset)",
            ))
        }
    };
    let target = match parts.get(2).copied().filter(|t| !t.is_empty()) {
        Some(t) if parts.len() == 3 => {
            if t.starts_with(|c: char| c.is_ascii_digit()) {
                if t.len() > 10 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("a flowint value is a number of at most 10 digits"));
                }
                let n: u64 = t.parse().map_err(|_| bad("not a number"))?;
                let n = u32::try_from(n).map_err(|_| bad("a flowint value fits in 32 bits"))?;
                Some(FlowintTarget::Value(n))
            } else if t.len() >= 2
                && t.starts_with(|c: char| c.is_ascii_alphabetic())
                && t.chars().all(|c| c.is_alphanumeric() || c == '_')
            {
                Some(FlowintTarget::Var(t.to_string()))
            } else {
                return Err(bad("not a flowint value or variable"));
            }
        }
        None if parts.len() <= 2 => None,
        _ => return Err(bad("flowint takes a name, a modifier and a value")),
    };
    if needs_value && target.is_none() {
        return Err(bad("this flowint modifier needs a value"));
    }
    let modifier = if modifier == "notset" {
        "isnotset"
    } else {
        modifier
    };
    Ok(Flowint {
        name: name.to_string(),
        modifier: modifier.to_string(),
        // isset/isnotset read the variable itself.
        target: if needs_value { target } else { None },
    })
}

fn parse_num_test_prefix(text: &str, max: u64) -> Result<NumTest, ValueError> {
    let t = text.trim_start();
    let whole = parse_num_test(t, max);
    if whole.is_ok() {
        return whole;
    }
    let bytes = t.as_bytes();
    for end in (1..t.len()).rev() {
        if !t.is_char_boundary(end) || bytes[end].is_ascii_digit() {
            continue;
        }
        if let Ok(test) = parse_num_test(&t[..end], max) {
            return Ok(test);
        }
    }
    whole
}
