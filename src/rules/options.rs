//! Typed values of rule options, parsed as Suricata 7.0.10 parses them.

/// Packet-level protocols of a rule header (matched case-insensitively).
pub const PACKET_PROTOCOLS: &[&str] = &[
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
    "ipv4",
    "ip4",
    "ipv6",
    "ip6",
];

/// Application protocols a rule header may name with Suricata 7.0.10's default
/// configuration (matched case-sensitively, as Suricata does; `ikev2` is an alias of
/// `ike`). modbus, dnp3, enip, pgsql and template are disabled by default and refused.
pub const APP_PROTOCOLS: &[&str] = &[
    "http",
    "http1",
    "http2",
    "tls",
    "dns",
    "ssh",
    "smtp",
    "ftp",
    "ftp-data",
    "smb",
    "dcerpc",
    "dhcp",
    "ntp",
    "krb5",
    "ike",
    "tftp",
    "snmp",
    "sip",
    "rdp",
    "rfb",
    "mqtt",
    "quic",
    "nfs",
    "telnet",
    "imap",
    "bittorrent-dht",
];

/// Application protocols rulesim's protocol detection finds (`app::detect`). A rule
/// naming another (`alert ftp`, `app-layer-protocol:smb`) could never match, so it is
/// refused as unsupported rather than loaded to stay silent where Suricata would alert.
pub const DETECTED_APP_PROTOCOLS: &[&str] =
    &["http", "http1", "tls", "dns", "ssh", "smtp", "krb5", "sip"];

/// Whether rulesim detects application protocol `p` (a name of [`APP_PROTOCOLS`]).
pub fn is_detected_app_protocol(p: &str) -> bool {
    DETECTED_APP_PROTOCOLS.contains(&p)
}

/// The header protocol in its canonical spelling, if Suricata accepts it.
pub fn canonical_protocol(p: &str) -> Option<String> {
    let lower = p.to_ascii_lowercase();
    if PACKET_PROTOCOLS.contains(&lower.as_str()) {
        return Some(lower);
    }
    if lower == "ikev2" {
        return Some("ike".into());
    }
    APP_PROTOCOLS.contains(&p).then(|| p.to_string())
}

/// Application protocols among the header protocols.
pub fn is_app_protocol(p: &str) -> bool {
    APP_PROTOCOLS.contains(&p)
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

impl ValueError {
    /// An error about the whole value `v`.
    pub fn whole(v: &str, message: impl Into<String>) -> Self {
        ValueError {
            offset: 0,
            len: v.len().max(1),
            message: message.into(),
        }
    }
}

fn verr<T>(offset: usize, len: usize, message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError {
        offset,
        len,
        message: message.into(),
    })
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
/// `\\`, `\:`), and `|..|` hex blocks (spaces and commas inside are ignored).
///
/// Suricata only rewrites the pattern when an escape or a hex byte was produced; when
/// neither was, the text is used as written beyond the bytes already rewritten (so
/// `"||"` is the two-byte pattern `||` and `"a||b"` is `ab|b`). rulesim does the same.
pub fn parse_content(v: &str) -> Result<ContentValue, ValueError> {
    let (negated, rest, base) = match v.strip_prefix('!') {
        Some(r) => {
            let trimmed = r.trim_start();
            (true, trimmed, v.len() - trimmed.len())
        }
        None => (false, v, 0),
    };
    if !rest.starts_with('"') {
        return verr(
            base,
            rest.len().max(1),
            "a content must be written in double quotes",
        );
    }
    if rest.len() < 2 || !rest.ends_with('"') {
        return verr(
            base,
            rest.len(),
            "unbalanced double quote (is a `;` inside it not escaped as `\\;`?)",
        );
    }
    let inner = &rest[1..rest.len() - 1];
    if inner.is_empty() {
        return verr(base, rest.len(), "a content may not be empty");
    }
    let start = base + 1;
    let bytes_in = inner.as_bytes();
    let mut out = Vec::with_capacity(inner.len());
    let mut converted = false;
    let mut in_hex = false;
    let mut hex_open = 0;
    let mut nibble: Option<u8> = None;
    let mut escaped = false;
    for (i, &c) in bytes_in.iter().enumerate() {
        if in_hex {
            match c {
                b'|' => {
                    if nibble.is_some() {
                        return verr(
                            start + hex_open,
                            i - hex_open + 1,
                            "an odd number of hex digits",
                        );
                    }
                    in_hex = false;
                }
                b' ' | b'\t' | b',' => {}
                _ => {
                    let Some(d) = (c as char).to_digit(16) else {
                        return verr(start + i, 1, format!("`{}` is not a hex digit", c as char));
                    };
                    match nibble.take() {
                        Some(hi) => {
                            out.push(hi << 4 | d as u8);
                            converted = true;
                        }
                        None => nibble = Some(d as u8),
                    }
                }
            }
        } else if escaped {
            if !matches!(c, b'"' | b';' | b'\\' | b':') {
                return verr(start + i - 1, 2, "only `\\\"`, `\\;`, `\\\\` and `\\:` may be escaped; write other bytes in hex between `|`");
            }
            out.push(c);
            converted = true;
            escaped = false;
        } else {
            match c {
                b'\\' => escaped = true,
                b'|' => {
                    in_hex = true;
                    hex_open = i;
                }
                b'"' => {
                    return verr(
                        start + i,
                        1,
                        "a `\"` inside a content must be escaped as `\\\"`",
                    )
                }
                _ => out.push(c),
            }
        }
    }
    if in_hex {
        return verr(
            start + hex_open,
            inner.len() - hex_open,
            "a hex block is not closed by `|`",
        );
    }
    if !converted {
        // As written, beyond what was rewritten (Suricata's buffer reuse).
        if let Some(tail) = bytes_in.get(out.len()..) {
            out.extend_from_slice(tail);
        }
    }
    Ok(ContentValue {
        negated,
        bytes: out,
    })
}

/// Unescapes a quoted text value (`msg`): `\"`, `\;`, `\\` and other `\x` become `x`.
pub fn parse_quoted_text(v: &str) -> Result<String, ValueError> {
    if !v.starts_with('"') {
        return verr(0, v.len().max(1), "the value must be double quoted");
    }
    // Only the enclosing quotes are checked: Suricata accepts an unescaped `"` inside.
    let Some(inner) = quoted(v) else {
        return verr(
            0,
            v.len(),
            "unbalanced double quote (is a `;` inside it not escaped as `\\;`?)",
        );
    };
    if inner.is_empty() {
        return verr(0, v.len(), "the value may not be empty");
    }
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
    /// The pattern as compiled when the rule was checked, so that building the detection
    /// engine does not compile it again.
    pub compiled: Option<CompiledPcre>,
}

/// A compiled pattern carried with its rule. Two are equal when their rules' patterns
/// and flags are (the compiled form follows from them).
#[derive(Clone)]
pub struct CompiledPcre(pub std::sync::Arc<crate::detect::pcre::Pcre>);

impl PartialEq for CompiledPcre {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for CompiledPcre {}

impl std::fmt::Debug for CompiledPcre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledPcre")
    }
}

/// PCRE flags Suricata 7.0.10 accepts: PCRE options, Suricata's own, and the legacy
/// buffer flags.
const PCRE_FLAGS: &str = "ismxAEGROBUIVWZHDMCPQYS";
/// The buffer flags among them (at most one per pcre).
const PCRE_BUFFER_FLAGS: &str = "UIVWZHDMCPQYS";

/// Parses a `pcre` value. Quotes are optional; text before the first `/` is ignored
/// (as Suricata's parser does); the pattern ends at the last `/`.
pub fn parse_pcre(v: &str) -> Result<PcreValue, ValueError> {
    let (negated, rest, base) = match v.strip_prefix('!') {
        Some(r) => {
            let t = r.trim_start();
            (true, t, v.len() - t.len())
        }
        None => (false, v, 0),
    };
    let (inner, inner_at) = if rest.starts_with('"') {
        match quoted(rest) {
            Some(i) => (i, base + 1),
            None => {
                return verr(
                    base,
                    rest.len(),
                    "unbalanced double quote (is a `;` inside it not escaped as `\\;`?)",
                )
            }
        }
    } else {
        (rest, base)
    };
    let Some(open) = inner.find('/') else {
        return verr(
            inner_at,
            inner.len().max(1),
            "a pcre is written `/pattern/flags`",
        );
    };
    let body = &inner[open + 1..];
    let Some(close) = body.rfind('/') else {
        return verr(
            inner_at + open,
            inner.len() - open,
            "a pcre is written `/pattern/flags`",
        );
    };
    let pattern = &body[..close];
    let flags = &body[close + 1..];
    let flags_at = inner_at + open + 1 + close + 1;
    let mut buffer_flag: Option<char> = None;
    let mut rawbytes = false;
    for (i, c) in flags.char_indices() {
        if !PCRE_FLAGS.contains(c) {
            return verr(flags_at + i, 1, format!("`{c}` is not a pcre flag"));
        }
        if PCRE_BUFFER_FLAGS.contains(c) {
            if buffer_flag.is_some() {
                return verr(flags_at + i, 1, "only one pcre flag may choose the buffer");
            }
            if rawbytes {
                return verr(
                    flags_at + i,
                    1,
                    format!("pcre flag `{c}` is inconsistent with `B`"),
                );
            }
            buffer_flag = Some(c);
        }
        if c == 'B' {
            if buffer_flag.is_some() {
                return verr(
                    flags_at + i,
                    1,
                    "pcre flag `B` is inconsistent with the chosen buffer",
                );
            }
            rawbytes = true;
        }
    }
    Ok(PcreValue {
        compiled: None,
        negated,
        pattern: pattern.to_string(),
        flags: flags.to_string(),
    })
}

impl PcreValue {
    /// The sticky buffer a legacy buffer flag selects.
    pub fn buffer(&self) -> Option<&'static str> {
        self.flags.chars().find_map(|c| {
            Some(match c {
                'U' => "http.uri",
                'I' => "http.uri.raw",
                'V' => "http.user_agent",
                'W' => "http.host",
                'Z' => "http.host.raw",
                'H' => "http.header",
                'D' => "http.header.raw",
                'M' => "http.method",
                'C' => "http.cookie",
                'P' => "http.request_body",
                'Q' => "file.data",
                'Y' => "http.stat_msg",
                'S' => "http.stat_code",
                _ => return None,
            })
        })
    }

    pub fn relative(&self) -> bool {
        self.flags.contains('R')
    }
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

/// Parses Suricata's unsigned comparison grammar (`dsize`, `itype`, `icode`, `bsize`):
/// `N` or `=N` (with an optional `kb`/`mb`/`gb` multiplier), `<N`, `<=N`, `>N`, `>=N`,
/// `!N`, `!=N`, and the exclusive ranges `A<>B` and `A-B` (which need `B - A > 1`).
/// Comparisons that can never hold (`<0`, `>MAX`, ...) are refused.
pub fn parse_num_test(v: &str, max: u64) -> Result<NumTest, ValueError> {
    let lead = v.len() - v.trim_start().len();
    let t = v.trim();
    let bad = |what: String| ValueError {
        offset: lead,
        len: t.len().max(1),
        message: what,
    };
    let num = |s: &str| -> Result<u64, ValueError> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!("`{s}` is not a number")));
        }
        match s.parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(bad(format!("the value must be at most {max}"))),
        }
    };
    for op in ["<>", "-"] {
        if let Some((a, b)) = t.split_once(op) {
            if a.trim().is_empty() {
                break;
            }
            let (lo, hi) = (num(a)?, num(b)?);
            if hi <= lo || hi - lo <= 1 {
                return Err(bad(format!(
                    "in `a{op}b` (exclusive), `b` must be above `a` + 1"
                )));
            }
            return Ok(NumTest::Between(lo, hi));
        }
    }
    let (test, rest): (fn(u64) -> NumTest, &str) = if let Some(r) = t.strip_prefix(">=") {
        (NumTest::Ge, r)
    } else if let Some(r) = t.strip_prefix("<=") {
        (NumTest::Le, r)
    } else if let Some(r) = t.strip_prefix("!=") {
        (NumTest::Ne, r)
    } else if let Some(r) = t.strip_prefix('>') {
        (NumTest::Gt, r)
    } else if let Some(r) = t.strip_prefix('<') {
        (NumTest::Lt, r)
    } else if let Some(r) = t.strip_prefix('!') {
        (NumTest::Ne, r)
    } else if let Some(r) = t.strip_prefix('=') {
        (NumTest::Eq, r)
    } else {
        (NumTest::Eq, t)
    };
    let rest = rest.trim();
    let lower = rest.to_ascii_lowercase();
    let (digits, mult) = match () {
        _ if lower.ends_with("kb") => (&rest[..rest.len() - 2], 1u64 << 10),
        _ if lower.ends_with("mb") => (&rest[..rest.len() - 2], 1 << 20),
        _ if lower.ends_with("gb") => (&rest[..rest.len() - 2], 1 << 30),
        _ => (rest, 1),
    };
    let n = if mult == 1 {
        num(digits)?
    } else {
        let base = num(digits)?;
        match base.checked_mul(mult) {
            Some(n) if n <= max && matches!(test(0), NumTest::Eq(_)) => n,
            _ => return Err(bad(format!("the value must be at most {max}"))),
        }
    };
    let result = test(n);
    match result {
        NumTest::Lt(0) | NumTest::Ge(0) => Err(bad("the comparison holds always or never".into())),
        NumTest::Gt(x) | NumTest::Le(x) if x == max => {
            Err(bad("the comparison holds always or never".into()))
        }
        other => Ok(other),
    }
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
    if v.split(',').count() > 3 {
        return verr(0, v.len(), "flow takes at most three options");
    }
    for part in v.split(',') {
        let lowered = part.trim().to_ascii_lowercase();
        let word = lowered.as_str();
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
    let names_at = v.find(',').map_or(0, |i| i + 1);
    // Names are split on `|` (an OR list, meaningful for isset/isnotset); `&` is part of a
    // name in Suricata 7.
    let split = || -> Result<Vec<String>, ValueError> {
        let Some(n) = names.filter(|n| !n.is_empty()) else {
            return verr(0, v.len().max(1), format!("`flowbits:{cmd}` needs a name"));
        };
        let list: Vec<String> = n
            .split('|')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if list.is_empty() {
            return verr(names_at, n.len().max(1), "no valid flowbit name");
        }
        if list.iter().any(|s| s.contains(char::is_whitespace)) {
            return verr(names_at, n.len(), "spaces are not allowed in flowbit names");
        }
        Ok(list)
    };
    Ok(match cmd {
        "noalert" => {
            if names.is_some() {
                return verr(0, v.len(), "`flowbits:noalert` takes no name");
            }
            FlowbitsValue::NoAlert
        }
        "set" => FlowbitsValue::Set(split()?),
        "unset" => FlowbitsValue::Unset(split()?),
        "toggle" => FlowbitsValue::Toggle(split()?),
        "isset" => FlowbitsValue::IsSet(split()?),
        "isnotset" => FlowbitsValue::IsNotSet(split()?),
        other => {
            return verr(0, other.len().max(1), format!("`{other}` is not a flowbits command (set, unset, toggle, isset, isnotset, noalert)"))
        }
    })
}

/// `threshold` / `detection_filter` fields.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ThresholdValue {
    /// limit, threshold, both (threshold only).
    pub kind: Option<String>,
    pub track: String,
    pub count: u64,
    pub seconds: u64,
}

/// `threshold` needs exactly `type`, `track`, `count` and `seconds`; `detection_filter`
/// exactly `track` (by_src or by_dst), `count` and `seconds` (both above 0).
pub fn parse_threshold(v: &str, detection_filter: bool) -> Result<ThresholdValue, ValueError> {
    let mut kind = None;
    let mut track = None;
    let mut count = None;
    let mut seconds = None;
    let mut at = 0;
    for part in v.split(',') {
        let offset = at + (part.len() - part.trim_start().len());
        at += part.len() + 1;
        let p = part.trim();
        let (k, val) = p
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k.trim(), v.trim()))
            .unwrap_or((p, ""));
        let fail = |m: &str| ValueError {
            offset,
            len: p.len().max(1),
            message: m.to_string(),
        };
        let dup = |slot: bool| {
            if slot {
                Err(fail(&format!("`{k}` is given twice")))
            } else {
                Ok(())
            }
        };
        match k {
            "type" if !detection_filter => {
                dup(kind.is_some())?;
                if !matches!(val, "limit" | "threshold" | "both") {
                    return Err(fail("type must be limit, threshold or both"));
                }
                kind = Some(val.to_string());
            }
            "track" => {
                dup(track.is_some())?;
                let ok = if detection_filter {
                    matches!(val, "by_src" | "by_dst")
                } else {
                    matches!(val, "by_src" | "by_dst" | "by_rule" | "by_both")
                };
                if !ok {
                    return Err(fail(if detection_filter {
                        "track must be by_src or by_dst"
                    } else {
                        "track must be by_src, by_dst, by_rule or by_both"
                    }));
                }
                track = Some(val.to_string());
            }
            "count" | "seconds" => {
                let n = val
                    .parse::<u64>()
                    .map_err(|_| fail(&format!("{k} must be a number")))?;
                if detection_filter && n == 0 {
                    return Err(fail(&format!("{k} must be above 0")));
                }
                let slot = if k == "count" {
                    &mut count
                } else {
                    &mut seconds
                };
                dup(slot.is_some())?;
                *slot = Some(n);
            }
            _ => return Err(fail(&format!("`{p}` is not a field here"))),
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
        assert!(parse_pcre("/abc/").is_ok(), "quotes are optional");
        assert!(parse_pcre(r#""abc""#).is_err());
        assert!(parse_pcre(r#""/a/UI""#).is_err(), "two buffer flags");
    }
}
