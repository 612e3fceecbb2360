//! From parsed text to a checked [`Rule`]: the action, protocol, addresses and ports are
//! resolved, every option is looked up and its value checked, and the combinations
//! Suricata refuses are refused.

use super::error::{RuleError, RuleErrorKind, RuleSource};
use super::keywords::{self, Arity, KeywordKind};
use super::parse::{parse_rule, RawOption};
use super::rule::{Action, Rule, RuleOption, RuleOrigin};
use super::RuleContext;

/// Protocols Suricata 7.0.10 accepts in a rule header.
pub const PROTOCOLS: &[&str] = &[
    "ip",
    "tcp",
    "udp",
    "icmp",
    "icmpv4",
    "icmpv6",
    "tcp-pkt",
    "tcp-stream",
    "sctp",
    "pkthdr",
    // application layer
    "http",
    "http1",
    "http2",
    "ftp",
    "ftp-data",
    "smtp",
    "tls",
    "ssl",
    "ssh",
    "imap",
    "smb",
    "dcerpc",
    "dns",
    "modbus",
    "enip",
    "dnp3",
    "nfs",
    "ntp",
    "tftp",
    "ike",
    "ikev2",
    "krb5",
    "quic",
    "dhcp",
    "snmp",
    "sip",
    "rfb",
    "mqtt",
    "pgsql",
    "telnet",
    "rdp",
    "bittorrent-dht",
    "template",
    "template-rust",
];

/// Application protocols among [`PROTOCOLS`].
pub fn is_app_protocol(p: &str) -> bool {
    !matches!(
        p,
        "ip" | "tcp"
            | "udp"
            | "icmp"
            | "icmpv4"
            | "icmpv6"
            | "tcp-pkt"
            | "tcp-stream"
            | "sctp"
            | "pkthdr"
    )
}

/// A `content` value: the bytes to find and whether the match is negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentValue {
    pub negated: bool,
    pub bytes: Vec<u8>,
}

/// An error inside a value: offset and length relative to the value, and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

fn verr<T>(offset: usize, len: usize, message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError {
        offset,
        len,
        message: message.into(),
    })
}

/// Whether a value opens a double quote it never closes (the first unescaped `"` after
/// the opening one must be the last character).
fn unbalanced_quote(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('"') else {
        return false;
    };
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return i + 1 != rest.len();
        }
    }
    true
}

/// Strips the double quotes of a quoted value; `None` when it is not quoted.
fn quoted(v: &str) -> Option<&str> {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        Some(&v[1..v.len() - 1])
    } else {
        None
    }
}

/// Parses a `content` value: optional `!`, double quotes, `\`-escapes (`\"`, `\;`,
/// `\\`, `\:`), and `|..|` hex blocks.
pub fn parse_content(v: &str) -> Result<ContentValue, ValueError> {
    let (negated, rest, base) = match v.strip_prefix('!') {
        Some(r) => {
            let trimmed = r.trim_start();
            (true, trimmed, v.len() - trimmed.len())
        }
        None => (false, v, 0),
    };
    if unbalanced_quote(rest) {
        return verr(
            base,
            rest.len(),
            "unbalanced double quote (is a `;` inside it not escaped as `\\;`?)",
        );
    }
    let Some(inner) = quoted(rest) else {
        return verr(
            base,
            rest.len(),
            "a content must be written in double quotes",
        );
    };
    let start = base + 1;
    let bytes_in = inner.as_bytes();
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < bytes_in.len() {
        match bytes_in[i] {
            b'\\' => {
                match bytes_in.get(i + 1) {
                    Some(&c @ (b'"' | b';' | b'\\' | b':')) => out.push(c),
                    Some(_) => {
                        return verr(start + i, 2, "only `\\\"`, `\\;`, `\\\\` and `\\:` may be escaped; write other bytes in hex between `|`")
                    }
                    None => return verr(start + i, 1, "a content may not end in a lone `\\`"),
                }
                i += 2;
            }
            b'"' => {
                return verr(
                    start + i,
                    1,
                    "a `\"` inside a content must be escaped as `\\\"`",
                )
            }
            b'|' => {
                let open = i;
                i += 1;
                let mut nibble: Option<u8> = None;
                let mut any = false;
                loop {
                    let Some(&c) = bytes_in.get(i) else {
                        return verr(
                            start + open,
                            inner.len() - open,
                            "a hex block is not closed by `|`",
                        );
                    };
                    if c == b'|' {
                        break;
                    }
                    if c == b' ' || c == b'\t' {
                        if nibble.is_some() {
                            return verr(start + i - 1, 1, "hex digits come in pairs");
                        }
                        i += 1;
                        continue;
                    }
                    let Some(d) = (c as char).to_digit(16) else {
                        return verr(start + i, 1, format!("`{}` is not a hex digit", c as char));
                    };
                    match nibble.take() {
                        Some(hi) => out.push(hi << 4 | d as u8),
                        None => nibble = Some(d as u8),
                    }
                    any = true;
                    i += 1;
                }
                if nibble.is_some() {
                    return verr(start + open, i - open + 1, "an odd number of hex digits");
                }
                if !any {
                    return verr(start + open, 2, "an empty hex block `||`");
                }
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if out.is_empty() {
        return verr(base, rest.len(), "a content may not be empty");
    }
    Ok(ContentValue {
        negated,
        bytes: out,
    })
}

/// Unescapes a quoted text value (`msg`): `\"`, `\;`, `\\` and other `\x` become `x`.
pub fn parse_quoted_text(v: &str) -> Result<String, ValueError> {
    if unbalanced_quote(v) {
        return verr(
            0,
            v.len(),
            "unbalanced double quote (is a `;` inside it not escaped as `\\;`?)",
        );
    }
    let Some(inner) = quoted(v) else {
        return verr(0, v.len(), "the value must be double quoted");
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => return verr(v.len() - 2, 1, "a lone `\\` at the end"),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// A `pcre` value: pattern and flags, as written between `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcreValue {
    pub negated: bool,
    pub pattern: String,
    pub flags: String,
}

/// PCRE flags Suricata 7.0.10 accepts: modifiers and legacy buffer flags.
const PCRE_FLAGS: &str = "ismxAEGRUIPQHDMCSYVWOBLT";

pub fn parse_pcre(v: &str) -> Result<PcreValue, ValueError> {
    let (negated, rest, base) = match v.strip_prefix('!') {
        Some(r) => (true, r, 1),
        None => (false, v, 0),
    };
    let Some(inner) = quoted(rest) else {
        return verr(
            base,
            rest.len(),
            "a pcre must be written in double quotes: \"/pattern/flags\"",
        );
    };
    let Some(body) = inner.strip_prefix('/') else {
        return verr(base + 1, 1, "a pcre starts with `/`");
    };
    let Some(end) = body.rfind('/') else {
        return verr(base + 1, inner.len(), "a pcre ends with `/` and its flags");
    };
    let pattern = &body[..end];
    let flags = &body[end + 1..];
    if let Some((i, c)) = flags.char_indices().find(|(_, c)| !PCRE_FLAGS.contains(*c)) {
        return verr(
            base + 2 + end + 1 + i,
            1,
            format!("`{c}` is not a pcre flag"),
        );
    }
    Ok(PcreValue {
        negated,
        pattern: pattern.replace("\\;", ";").replace("\\\"", "\""),
        flags: flags.to_string(),
    })
}

/// A numeric comparison as `dsize`, `itype`, `icode`, `bsize` write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumTest {
    Eq(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// `a<>b`: strictly between.
    Between(u64, u64),
    Ne(u64),
}

pub fn parse_num_test(v: &str, max: u64) -> Result<NumTest, ValueError> {
    let num = |s: &str, at: usize| -> Result<u64, ValueError> {
        let t = s.trim();
        match t.parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            Ok(_) => verr(at, s.len(), format!("the value must be at most {max}")),
            Err(_) => verr(at, s.len().max(1), format!("`{t}` is not a number")),
        }
    };
    let v = v.trim();
    if let Some((a, b)) = v.split_once("<>") {
        let lo = num(a, 0)?;
        let hi = num(b, a.len() + 2)?;
        if lo >= hi {
            return verr(0, v.len(), "in `a<>b`, `a` must be below `b`");
        }
        return Ok(NumTest::Between(lo, hi));
    }
    if let Some(r) = v.strip_prefix("<=") {
        return Ok(NumTest::Le(num(r, 2)?));
    }
    if let Some(r) = v.strip_prefix(">=") {
        return Ok(NumTest::Ge(num(r, 2)?));
    }
    if let Some(r) = v.strip_prefix('<') {
        return Ok(NumTest::Lt(num(r, 1)?));
    }
    if let Some(r) = v.strip_prefix('>') {
        return Ok(NumTest::Gt(num(r, 1)?));
    }
    if let Some(r) = v.strip_prefix('!') {
        return Ok(NumTest::Ne(num(r, 1)?));
    }
    if let Some((a, b)) = v.split_once('-') {
        let lo = num(a, 0)?;
        let hi = num(b, a.len() + 1)?;
        if lo > hi {
            return verr(0, v.len(), "in `a-b`, `a` must not be above `b`");
        }
        return Ok(NumTest::Between(lo.saturating_sub(1), hi.saturating_add(1)));
    }
    Ok(NumTest::Eq(num(v, 0)?))
}

/// The `flow` keyword's options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowValue {
    pub to_server: bool,
    pub to_client: bool,
    pub established: bool,
    pub not_established: bool,
    pub stateless: bool,
    pub only_stream: bool,
    pub no_stream: bool,
    pub only_frag: bool,
    pub no_frag: bool,
}

pub fn parse_flow(v: &str) -> Result<FlowValue, ValueError> {
    let mut f = FlowValue::default();
    let mut at = 0;
    for part in v.split(',') {
        let word = part.trim();
        let offset = at + (part.len() - part.trim_start().len());
        at += part.len() + 1;
        let slot = match word {
            "to_server" | "from_client" => &mut f.to_server,
            "to_client" | "from_server" => &mut f.to_client,
            "established" => &mut f.established,
            "not_established" => &mut f.not_established,
            "stateless" => &mut f.stateless,
            "only_stream" => &mut f.only_stream,
            "no_stream" => &mut f.no_stream,
            "only_frag" => &mut f.only_frag,
            "no_frag" => &mut f.no_frag,
            _ => {
                return verr(
                    offset,
                    word.len().max(1),
                    format!("`{word}` is not a flow option"),
                )
            }
        };
        if *slot {
            return verr(offset, word.len(), format!("`{word}` is given twice"));
        }
        *slot = true;
    }
    let conflicts = [
        (f.to_server && f.to_client, "to_server and to_client"),
        (
            f.established && f.not_established,
            "established and not_established",
        ),
        (f.established && f.stateless, "established and stateless"),
        (f.only_stream && f.no_stream, "only_stream and no_stream"),
        (f.only_frag && f.no_frag, "only_frag and no_frag"),
    ];
    if let Some((_, what)) = conflicts.iter().find(|(c, _)| *c) {
        return verr(
            0,
            v.len(),
            format!("flow options {what} exclude each other"),
        );
    }
    Ok(f)
}

/// The `flowbits` keyword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowbitsValue {
    Set(Vec<String>),
    Unset(Vec<String>),
    Toggle(Vec<String>),
    /// Any of the names is set (`a|b`).
    IsSet(Vec<String>),
    /// None of the names is set... Suricata: any of them is not set.
    IsNotSet(Vec<String>),
    NoAlert,
}

pub fn parse_flowbits(v: &str) -> Result<FlowbitsValue, ValueError> {
    let (cmd, names) = match v.split_once(',') {
        Some((c, n)) => (c.trim(), Some(n.trim())),
        None => (v.trim(), None),
    };
    let split = |n: &str, sep: char| -> Result<Vec<String>, ValueError> {
        let names: Vec<String> = n.split(sep).map(|s| s.trim().to_string()).collect();
        if names
            .iter()
            .any(|s| s.is_empty() || s.contains(|c: char| c.is_whitespace()))
        {
            return verr(
                cmd.len() + 1,
                n.len().max(1),
                "a flowbit name may not be empty or contain spaces",
            );
        }
        Ok(names)
    };
    let need = || -> Result<&str, ValueError> {
        names.ok_or_else(|| ValueError {
            offset: 0,
            len: cmd.len().max(1),
            message: format!("`flowbits:{cmd}` needs a name"),
        })
    };
    Ok(match cmd {
        "noalert" => {
            if names.is_some() {
                return verr(0, v.len(), "`flowbits:noalert` takes no name");
            }
            FlowbitsValue::NoAlert
        }
        "set" => FlowbitsValue::Set(split(need()?, '&')?),
        "unset" => FlowbitsValue::Unset(split(need()?, '&')?),
        "toggle" => FlowbitsValue::Toggle(split(need()?, '&')?),
        "isset" => FlowbitsValue::IsSet(split(need()?, '|')?),
        "isnotset" => FlowbitsValue::IsNotSet(split(need()?, '|')?),
        other => return verr(0, other.len().max(1), format!("`{other}` is not a flowbits command (set, unset, toggle, isset, isnotset, noalert)")),
    })
}

/// `threshold` / `detection_filter` fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThresholdValue {
    /// limit, threshold, both (threshold only).
    pub kind: Option<String>,
    pub track: String,
    pub count: u64,
    pub seconds: u64,
}

pub fn parse_threshold(v: &str, detection_filter: bool) -> Result<ThresholdValue, ValueError> {
    let mut kind = None;
    let mut track = None;
    let mut count = None;
    let mut seconds = None;
    for part in v.split(',') {
        let p = part.trim();
        let (k, val) = p
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k.trim(), v.trim()))
            .unwrap_or((p, ""));
        let at = v.find(p).unwrap_or(0);
        match k {
            "type" if !detection_filter => {
                if !matches!(val, "limit" | "threshold" | "both") {
                    return verr(at, p.len(), "type must be limit, threshold or both");
                }
                kind = Some(val.to_string());
            }
            "track" => {
                if !matches!(val, "by_src" | "by_dst" | "by_rule" | "by_both" | "by_flow") {
                    return verr(
                        at,
                        p.len(),
                        "track must be by_src, by_dst, by_rule, by_both or by_flow",
                    );
                }
                track = Some(val.to_string());
            }
            "count" => {
                count = Some(val.parse::<u64>().map_err(|_| ValueError {
                    offset: at,
                    len: p.len(),
                    message: "count must be a number".into(),
                })?)
            }
            "seconds" => {
                seconds = Some(val.parse::<u64>().map_err(|_| ValueError {
                    offset: at,
                    len: p.len(),
                    message: "seconds must be a number".into(),
                })?)
            }
            _ => return verr(at, p.len().max(1), format!("`{p}` is not a field here")),
        }
    }
    let missing = |what: &str| ValueError {
        offset: 0,
        len: v.len().max(1),
        message: format!("`{what}` is required"),
    };
    if !detection_filter && kind.is_none() {
        return Err(missing("type"));
    }
    Ok(ThresholdValue {
        kind,
        track: track.ok_or_else(|| missing("track"))?,
        count: count.ok_or_else(|| missing("count"))?,
        seconds: seconds.ok_or_else(|| missing("seconds"))?,
    })
}

/// Names `ssl_state` accepts.
const SSL_STATES: &[&str] = &[
    "client_hello",
    "server_hello",
    "client_keyx",
    "server_keyx",
    "unknown",
];
/// Names `ssl_version` accepts.
const SSL_VERSIONS: &[&str] = &["sslv2", "sslv3", "tls1.0", "tls1.1", "tls1.2", "tls1.3"];

/// Checks one option's value; `Err` carries an offset relative to the value.
fn check_value(keyword: &str, v: &str, ctx: &RuleContext) -> Result<(), ValueError> {
    match keyword {
        "content" | "uricontent" => parse_content(v).map(|_| ()),
        "pcre" => parse_pcre(v).map(|_| ()),
        "msg" => parse_quoted_text(v).map(|_| ()),
        "sid" | "rev" | "gid" => match v.parse::<u32>() {
            Ok(0) if keyword == "sid" => verr(0, v.len(), "sid 0 is not allowed"),
            Ok(_) => Ok(()),
            Err(_) => verr(
                0,
                v.len().max(1),
                format!("`{keyword}` must be a number from 0 to 4294967295"),
            ),
        },
        "priority" => match v.parse::<u8>() {
            Ok(p) if p >= 1 => Ok(()),
            _ => verr(0, v.len().max(1), "priority must be a number from 1 to 255"),
        },
        "classtype" => {
            if ctx.classes.get(v).is_some() {
                Ok(())
            } else {
                verr(
                    0,
                    v.len().max(1),
                    format!("unknown classtype `{v}` (not in the classification config)"),
                )
            }
        }
        "depth" | "offset" => match v.parse::<u32>() {
            Ok(_) => Ok(()),
            Err(_) => verr(
                0,
                v.len().max(1),
                format!("`{keyword}` must be a non-negative number"),
            ),
        },
        "distance" | "within" => match v.parse::<i32>() {
            Ok(n) if keyword == "within" && n <= 0 => verr(0, v.len(), "within must be positive"),
            Ok(_) => Ok(()),
            Err(_) => verr(
                0,
                v.len().max(1),
                format!(
                    "`{keyword}` must be a number (byte_extract variables are not supported yet)"
                ),
            ),
        },
        "dsize" => parse_num_test(v, 65_535).map(|_| ()),
        "itype" | "icode" => parse_num_test(v, 255).map(|_| ()),
        "bsize" => parse_num_test(v, u64::from(u32::MAX)).map(|_| ()),
        "isdataat" => {
            let first = v.split(',').next().unwrap_or("").trim();
            let n = first.strip_prefix('!').unwrap_or(first);
            match n.parse::<u32>() {
                Ok(_) => Ok(()),
                Err(_) => verr(0, first.len().max(1), "isdataat needs a number"),
            }
        }
        "flow" => parse_flow(v).map(|_| ()),
        "flowbits" => parse_flowbits(v).map(|_| ()),
        "threshold" => parse_threshold(v, false).map(|_| ()),
        "detection_filter" => parse_threshold(v, true).map(|_| ()),
        "ip_proto" => {
            let t = v.trim_start_matches(['!', '<', '>']).trim();
            if t.parse::<u8>().is_ok() || crate::decode::proto_number(t).is_some() {
                Ok(())
            } else {
                verr(
                    0,
                    v.len().max(1),
                    format!("`{t}` is not an IP protocol name or number"),
                )
            }
        }
        "ssl_state" => {
            for (i, part) in v.split('|').enumerate() {
                let name = part.trim().trim_start_matches('!');
                if !SSL_STATES.contains(&name) {
                    let at = v.split('|').take(i).map(|p| p.len() + 1).sum();
                    return verr(at, part.len().max(1), format!("`{name}` is not an ssl_state (client_hello, server_hello, client_keyx, server_keyx, unknown)"));
                }
            }
            Ok(())
        }
        "ssl_version" => {
            for part in v.split(',') {
                let name = part.trim().trim_start_matches('!');
                if !SSL_VERSIONS.contains(&name) {
                    let at = v.find(part).unwrap_or(0);
                    return verr(
                        at,
                        part.len().max(1),
                        format!("`{name}` is not an ssl_version"),
                    );
                }
            }
            Ok(())
        }
        "app-layer-protocol" => {
            let name = v.trim().trim_start_matches('!');
            if PROTOCOLS.contains(&name) && is_app_protocol(name)
                || matches!(name, "failed" | "unknown")
            {
                Ok(())
            } else {
                verr(
                    0,
                    v.len().max(1),
                    format!("`{name}` is not an application protocol"),
                )
            }
        }
        _ => Ok(()),
    }
}

/// Parses and checks one rule.
pub fn compile(text: &str, source: &RuleSource, ctx: &RuleContext) -> Result<Rule, Box<RuleError>> {
    compile_rule(text, source, ctx).map_err(Box::new)
}

// Errors are built once per bad rule; the size of the `Err` does not matter here.
#[allow(clippy::result_large_err)]
fn compile_rule(text: &str, source: &RuleSource, ctx: &RuleContext) -> Result<Rule, RuleError> {
    let raw = parse_rule(text).map_err(|e| {
        let label = e
            .expected
            .as_ref()
            .map(|x| format!("expected {x}"))
            .filter(|l| *l != e.message);
        source.error(RuleErrorKind::Syntax, e.offset, e.len, e.message, label)
    })?;
    let span_err = |i: usize, kind: RuleErrorKind, msg: String, label: &str| {
        let (o, l) = raw.header_spans[i];
        source.error(kind, o, l, msg, Some(label.to_string()))
    };
    let action = Action::parse(&raw.action).ok_or_else(|| {
        span_err(
            0,
            RuleErrorKind::UnknownAction,
            format!("unknown action `{}`", raw.action),
            "expected alert, pass, drop, reject, rejectsrc, rejectdst or rejectboth",
        )
    })?;
    let protocol = raw.protocol.to_ascii_lowercase();
    if !PROTOCOLS.contains(&protocol.as_str()) {
        let hint = if protocol == "ipv6-icmp" {
            "use `icmp`, which also matches ICMPv6"
        } else {
            "not a protocol Suricata accepts in a rule"
        };
        return Err(span_err(
            1,
            RuleErrorKind::UnknownProtocol,
            format!("unknown protocol `{}`", raw.protocol),
            hint,
        ));
    }
    for (i, which) in [(2, "source address"), (5, "destination address")] {
        let expr = if i == 2 { &raw.src } else { &raw.dst };
        if let Err(e) = ctx.vars.addresses_of(expr) {
            return Err(span_err(
                i,
                RuleErrorKind::Address,
                format!("invalid {which}: {e}"),
                "here",
            ));
        }
    }
    for (i, which) in [(3, "source port"), (6, "destination port")] {
        let expr = if i == 3 { &raw.src_port } else { &raw.dst_port };
        if let Err(e) = ctx.vars.ports_of(expr) {
            return Err(span_err(
                i,
                RuleErrorKind::Address,
                format!("invalid {which}: {e}"),
                "here",
            ));
        }
    }

    let opt_err = |o: &RawOption, kind: RuleErrorKind, msg: String, label: &str| {
        source.error(
            kind,
            o.keyword_span.0,
            o.keyword_span.1,
            msg,
            Some(label.to_string()),
        )
    };
    let mut sid = None;
    let mut gid = 1u32;
    let mut rev = 0u32;
    let mut msg = String::new();
    let mut priority = None;
    let mut classtype = None;
    let mut have_content = false;
    let mut have_buffer = false;
    // The buffer the next contents inspect, and the last content (for `http.host`, which
    // Suricata lower-cases: upper-case patterns and `nocase` make the rule fail).
    let mut buffer: Option<&str> = None;
    let mut last_content: Option<&RawOption> = None;
    let mut last_nocase: Option<&RawOption> = None;
    let host_err = |o: &RawOption, what: &str| {
        let (off, len) = o.value_span.unwrap_or(o.keyword_span);
        source.error(
            RuleErrorKind::Invalid,
            off,
            len,
            format!("{what} on `http.host`: the host buffer is lower-cased, so this can never match; use a lower-case pattern without `nocase` (or `http.host.raw`)"),
            None,
        )
    };
    // Packet-payload contents (before any sticky buffer) with their placement, for the
    // dsize check below: (length, offset, relative distance).
    let mut payload_contents: Vec<(i64, i64, Option<i64>)> = Vec::new();
    let mut dsize: Option<(&RawOption, NumTest)> = None;
    let upper = |o: &RawOption| {
        o.value
            .as_deref()
            .and_then(|v| parse_content(v).ok())
            .is_some_and(|c| c.bytes.iter().any(u8::is_ascii_uppercase))
    };
    for o in &raw.options {
        let Some(k) = keywords::lookup(&o.keyword) else {
            return Err(opt_err(
                o,
                RuleErrorKind::UnknownKeyword(o.keyword.clone()),
                format!("unknown keyword `{}`", o.keyword),
                "not a Suricata 7 rule keyword",
            ));
        };
        match (k.arity, &o.value) {
            (Arity::Required, None) => {
                return Err(opt_err(
                    o,
                    RuleErrorKind::InvalidValue(o.keyword.clone()),
                    format!("`{}` needs a value", o.keyword),
                    "expected `keyword:value;`",
                ))
            }
            (Arity::None, Some(_)) => {
                return Err(opt_err(
                    o,
                    RuleErrorKind::InvalidValue(o.keyword.clone()),
                    format!("`{}` takes no value", o.keyword),
                    "expected `keyword;`",
                ))
            }
            _ => {}
        }
        if !k.supported {
            return Err(opt_err(
                o,
                RuleErrorKind::Unsupported(o.keyword.clone()),
                format!(
                    "keyword `{}` is not supported by rulesim yet; the rule is not loaded",
                    o.keyword
                ),
                "Suricata knows it, rulesim cannot evaluate it",
            ));
        }
        match k.kind {
            KeywordKind::ContentModifier | KeywordKind::LegacyBuffer if !have_content => {
                return Err(opt_err(
                    o,
                    RuleErrorKind::Invalid,
                    format!("`{}` needs a preceding `content`", o.keyword),
                    "no content before it",
                ));
            }
            KeywordKind::Transform if !have_buffer => {
                return Err(opt_err(
                    o,
                    RuleErrorKind::Invalid,
                    format!("transform `{}` must follow a sticky buffer", o.keyword),
                    "no buffer before it",
                ));
            }
            KeywordKind::StickyBuffer => have_buffer = true,
            _ => {}
        }
        if matches!(o.keyword.as_str(), "content" | "uricontent" | "pcre") {
            have_content = true;
        }
        let canonical = k.canonical.unwrap_or(k.name);
        match k.kind {
            KeywordKind::StickyBuffer => buffer = Some(canonical),
            KeywordKind::Payload if o.keyword == "content" => {
                last_content = Some(o);
                last_nocase = None;
                if buffer.is_none() {
                    if let Some(c) = o
                        .value
                        .as_deref()
                        .and_then(|v| parse_content(v).ok())
                        .filter(|c| !c.negated)
                    {
                        payload_contents.push((c.bytes.len() as i64, 0, None));
                    }
                }
                if buffer == Some("http.host") && upper(o) {
                    return Err(host_err(o, "an upper-case pattern"));
                }
            }
            KeywordKind::ContentModifier if o.keyword == "nocase" => {
                last_nocase = Some(o);
                if buffer == Some("http.host") {
                    return Err(host_err(o, "`nocase`"));
                }
            }
            KeywordKind::LegacyBuffer if canonical == "http.host" => {
                if let Some(n) = last_nocase {
                    return Err(host_err(n, "`nocase`"));
                }
                if let Some(c) = last_content.filter(|c| upper(c)) {
                    return Err(host_err(c, "an upper-case pattern"));
                }
            }
            _ => {}
        }
        if let Some(v) = &o.value {
            if let Err(e) = check_value(&o.keyword, v, ctx) {
                let (vo, _) = o.value_span.unwrap_or(o.keyword_span);
                return Err(source.error(
                    RuleErrorKind::InvalidValue(o.keyword.clone()),
                    vo + e.offset,
                    e.len,
                    format!("invalid `{}`: {}", o.keyword, e.message),
                    None,
                ));
            }
            let number = v.trim().parse::<i64>().ok();
            match o.keyword.as_str() {
                "offset" if buffer.is_none() => {
                    if let (Some(last), Some(n)) = (payload_contents.last_mut(), number) {
                        last.1 = n;
                    }
                }
                "distance" | "within" if buffer.is_none() => {
                    if let Some(last) = payload_contents.last_mut() {
                        let d = if o.keyword == "distance" {
                            number.unwrap_or(0)
                        } else {
                            0
                        };
                        last.2 = Some(last.2.unwrap_or(0) + d);
                    }
                }
                "dsize" => dsize = parse_num_test(v, 65_535).ok().map(|t| (o, t)),
                "sid" => sid = v.parse::<u32>().ok(),
                "gid" => gid = v.parse::<u32>().unwrap_or(1),
                "rev" => rev = v.parse::<u32>().unwrap_or(0),
                "msg" => msg = parse_quoted_text(v).unwrap_or_default(),
                "priority" => priority = v.parse::<u8>().ok(),
                "classtype" => classtype = Some(v.clone()),
                _ => {}
            }
        }
    }
    // Suricata refuses a rule whose payload contents need more bytes than dsize allows.
    if let Some((o, test)) = dsize {
        let max = match test {
            NumTest::Eq(n) | NumTest::Le(n) => Some(n as i64),
            NumTest::Lt(n) => Some(n as i64 - 1),
            NumTest::Between(_, hi) => Some(hi as i64 - 1),
            NumTest::Gt(_) | NumTest::Ge(_) | NumTest::Ne(_) => None,
        };
        let mut required = 0i64;
        let mut prev_end = 0i64;
        for (len, offset, distance) in &payload_contents {
            let start = match distance {
                Some(d) => prev_end + d,
                None => *offset,
            };
            prev_end = start + len;
            required = required.max(prev_end);
        }
        if let Some(max) = max.filter(|m| required > *m) {
            let (off, len) = o.value_span.unwrap_or(o.keyword_span);
            return Err(source.error(
                RuleErrorKind::Invalid,
                off,
                len,
                format!("the rule can never match: its contents need {required} bytes of payload, dsize allows at most {max}"),
                None,
            ));
        }
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
    let class_priority = classtype
        .as_deref()
        .and_then(|c| ctx.classes.get(c))
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
        gid,
        rev,
        msg,
        priority: priority.or(class_priority).unwrap_or(3),
        classtype,
        origin: RuleOrigin::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_values() {
        assert_eq!(
            parse_content(r#""abc""#).map(|c| c.bytes),
            Ok(b"abc".to_vec())
        );
        assert_eq!(
            parse_content(r#""a|0d 0A|b""#).map(|c| c.bytes),
            Ok(b"a\r\nb".to_vec())
        );
        assert_eq!(
            parse_content(r#""Host|3a| x""#).map(|c| c.bytes),
            Ok(b"Host: x".to_vec())
        );
        assert_eq!(
            parse_content(r#""a\;b\"c\\d\:e""#).map(|c| c.bytes),
            Ok(b"a;b\"c\\d:e".to_vec())
        );
        assert_eq!(parse_content(r#"!"x""#).map(|c| c.negated), Ok(true));
        assert_eq!(parse_content(r#"! "x""#).map(|c| c.negated), Ok(true));
        assert!(parse_content("abc").is_err());
        assert!(parse_content(r#""a|0|""#).is_err());
        assert!(parse_content(r#""a|0g|""#).is_err());
        assert!(parse_content(r#""a|41""#).is_err());
        assert!(parse_content(r#""a\x""#).is_err());
        assert!(parse_content(r#""""#).is_err());
    }

    #[test]
    fn numeric_tests() {
        assert_eq!(parse_num_test("10", 255), Ok(NumTest::Eq(10)));
        assert_eq!(parse_num_test("<10", 255), Ok(NumTest::Lt(10)));
        assert_eq!(parse_num_test(">=3", 255), Ok(NumTest::Ge(3)));
        assert_eq!(parse_num_test("5<>10", 255), Ok(NumTest::Between(5, 10)));
        assert_eq!(parse_num_test("!7", 255), Ok(NumTest::Ne(7)));
        assert!(parse_num_test("300", 255).is_err());
        assert!(parse_num_test("10<>5", 255).is_err());
        assert!(parse_num_test("x", 255).is_err());
    }

    #[test]
    fn flow_and_flowbits() {
        let f = parse_flow("to_server, established").expect("valid");
        assert!(f.to_server && f.established);
        assert!(parse_flow("to_server,to_client").is_err());
        assert!(parse_flow("established,not_established").is_err());
        assert!(parse_flow("sideways").is_err());
        assert_eq!(
            parse_flowbits("isset,a|b"),
            Ok(FlowbitsValue::IsSet(vec!["a".into(), "b".into()]))
        );
        assert_eq!(parse_flowbits("noalert"), Ok(FlowbitsValue::NoAlert));
        assert!(parse_flowbits("set").is_err());
        assert!(parse_flowbits("flip,x").is_err());
    }

    #[test]
    fn threshold_fields() {
        let t =
            parse_threshold("type limit, track by_src, count 1, seconds 60", false).expect("valid");
        assert_eq!(
            (t.kind.as_deref(), t.track.as_str(), t.count, t.seconds),
            (Some("limit"), "by_src", 1, 60)
        );
        assert!(
            parse_threshold("track by_src, count 1, seconds 60", false).is_err(),
            "type is required"
        );
        assert!(parse_threshold("track by_src, count 1, seconds 60", true).is_ok());
        assert!(parse_threshold("type limit, track sideways, count 1, seconds 60", false).is_err());
    }

    #[test]
    fn pcre_values() {
        let p = parse_pcre(r#""/^GET\s+\/x/Ui""#).expect("valid");
        assert_eq!(
            (p.pattern.as_str(), p.flags.as_str()),
            (r"^GET\s+\/x", "Ui")
        );
        assert!(parse_pcre(r#""/abc/z""#).is_err());
        assert!(parse_pcre("/abc/").is_err());
    }
}
