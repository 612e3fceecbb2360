//! The rule grammar: `action proto src sport dir dst dport (options)`, parsed with `nom`.
//! Option values are kept as written; `options.rs` gives them their types.

use std::net::IpAddr;

use ipnet::IpNet;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{char, multispace0, multispace1};
use nom::combinator::map;
use nom::error::{ErrorKind, ParseError};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::expr::{AddrExpr, PortExpr};

/// Where and why parsing failed: byte offset and length in the rule text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    /// What would have been accepted there.
    pub expected: Option<String>,
}

/// A nom error that remembers where it happened and what was expected.
#[derive(Debug)]
pub struct Expected<'a> {
    pub at: &'a str,
    pub what: String,
    pub len: usize,
}

impl<'a> ParseError<&'a str> for Expected<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        Expected {
            at: input,
            what: format!("{kind:?}"),
            len: 1,
        }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, Expected<'a>>;

fn fail<T>(at: &str, len: usize, what: impl Into<String>) -> PResult<'_, T> {
    Err(nom::Err::Failure(Expected {
        at,
        what: what.into(),
        len: len.max(1),
    }))
}

/// Length of the token starting at `at` (up to whitespace or a delimiter), for carets
/// and quotes: at least its first character, whole (it may take several bytes), so that
/// it can be sliced; 0 at the end of the text.
fn token_len(at: &str) -> usize {
    let first = at.chars().next().map_or(0, char::len_utf8);
    at.find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '(' | ')' | ';'))
        .unwrap_or(at.len())
        .max(first)
}

fn var_name(i: &str) -> PResult<'_, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-').parse(i)
}

fn is_addr_char(c: char) -> bool {
    c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/' | '-')
}

/// A header field: an expression, or several separated by commas without brackets
/// (Suricata accepts `1.2.3.4,5.6.7.8` as a group).
fn field<T>(i: &str, item: fn(&str) -> PResult<'_, T>, group: fn(Vec<T>) -> T) -> PResult<'_, T> {
    let (mut rest, first) = item(i)?;
    if !rest.starts_with(',') {
        return Ok((rest, first));
    }
    let mut items = vec![first];
    while let Some(r) = rest.strip_prefix(',') {
        let (r, x) = item(r)?;
        items.push(x);
        rest = r;
    }
    Ok((rest, group(items)))
}

/// An address field.
pub fn addr_field(i: &str) -> PResult<'_, AddrExpr> {
    field(i, addr_expr, AddrExpr::Group)
}

/// A port field.
pub fn port_field(i: &str) -> PResult<'_, PortExpr> {
    field(i, port_expr, PortExpr::Group)
}

/// An address expression: `any`, `$VAR`, an address, CIDR or range, a `[..]` group,
/// each possibly negated.
pub fn addr_expr(i: &str) -> PResult<'_, AddrExpr> {
    addr_expr_at(i, 1)
}

/// Any number of `!` is one negation in Suricata (it sets a flag); they are read
/// without recursing once per `!`.
fn negations(i: &str) -> (&str, bool) {
    let rest = i.trim_start_matches('!');
    (rest, rest.len() < i.len())
}

/// An address expression at Suricata's recursion `level` (see
/// [`MAX_ADDR_LEVELS`](super::vars::MAX_ADDR_LEVELS)): nesting is refused where Suricata
/// refuses it, before it could exhaust the stack.
fn addr_expr_at(i: &str, level: usize) -> PResult<'_, AddrExpr> {
    let (i, negated) = negations(i);
    if negated {
        let (rest, inner) = addr_expr_at(i, level)?;
        return Ok((rest, AddrExpr::Not(Box::new(inner))));
    }
    if i.starts_with('[') {
        if level >= super::vars::MAX_ADDR_LEVELS {
            return fail(
                i,
                1,
                "at most 63 nested address groups (Suricata's address block recursion limit)",
            );
        }
        let (rest, items) = group(i, |r| addr_expr_at(r, level + 1), "address")?;
        return Ok((rest, AddrExpr::Group(items)));
    }
    if let Ok((rest, _)) = tag_no_case::<_, _, Expected>("any").parse(i) {
        if !rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Ok((rest, AddrExpr::Any));
        }
    }
    if let Some(rest) = i.strip_prefix('$') {
        let (rest, name) = match var_name(rest) {
            Ok(x) => x,
            Err(_) => return fail(i, 1, "a variable name after `$`"),
        };
        return Ok((rest, AddrExpr::Var(name.to_string())));
    }
    if let Some(rest) = i.strip_prefix('@') {
        let (rest, name) = match var_name(rest) {
            Ok(x) => x,
            Err(_) => return fail(i, 1, "an IP set reference name after `@`"),
        };
        return Ok((rest, AddrExpr::Ref(name.to_string())));
    }
    let (rest, text) = match take_while1::<_, _, Expected>(is_addr_char).parse(i) {
        Ok(x) => x,
        Err(_) => {
            return fail(
                i,
                token_len(i),
                "an address: `any`, `$VAR`, an IP, a CIDR or a `[..]` group",
            )
        }
    };
    match parse_address(text) {
        Some(a) => Ok((rest, a)),
        None => fail(
            i,
            text.len(),
            format!("a valid IP address or CIDR, not `{text}`"),
        ),
    }
}

/// `1.2.3.4`, `1.2.3.0/24`, `1.2.3.0/255.255.255.0`, `fd00::/8`, `1.2.3.4-1.2.3.9`.
pub fn parse_address(text: &str) -> Option<AddrExpr> {
    if let Some((a, b)) = text.split_once('-') {
        let a: IpAddr = a.parse().ok()?;
        let b: IpAddr = b.parse().ok()?;
        if a.is_ipv4() != b.is_ipv4() || a > b {
            return None;
        }
        return Some(AddrExpr::Range(a, b));
    }
    if let Some((addr, mask)) = text.split_once('/') {
        let addr: IpAddr = addr.parse().ok()?;
        let prefix = match mask.parse::<u8>() {
            Ok(p) => p,
            Err(_) => {
                // A dotted netmask must be contiguous ones.
                let m: std::net::Ipv4Addr = mask.parse().ok()?;
                let bits = u32::from(m);
                if bits.leading_ones() + bits.trailing_zeros() != 32 || !addr.is_ipv4() {
                    return None;
                }
                bits.leading_ones() as u8
            }
        };
        return IpNet::new(addr, prefix).ok().map(AddrExpr::Net);
    }
    let addr: IpAddr = text.parse().ok()?;
    Some(AddrExpr::Net(IpNet::from(addr)))
}

/// A `[item, item, ...]` group of `item`s: at least one, spaces allowed before an item
/// but not after it (as Suricata).
fn group<'a, T>(
    i: &'a str,
    item: impl Fn(&'a str) -> PResult<'a, T>,
    what: &str,
) -> PResult<'a, Vec<T>> {
    let (mut rest, _) = char('[').parse(i)?;
    let mut items = Vec::new();
    loop {
        let (r, _) = multispace0(rest)?;
        if r.starts_with(']') {
            if items.is_empty() {
                return fail(i, 2, format!("at least one {what} inside `[ ]`"));
            }
            return fail(r, 1, format!("another {what} after `,`"));
        }
        let (r, x) = item(r)?;
        items.push(x);
        if r.starts_with(char::is_whitespace) {
            let ws = r.len() - r.trim_start().len();
            return fail(
                r,
                ws,
                "`,` or `]` right after the item (Suricata refuses a space before them)",
            );
        }
        if let Some(r) = r.strip_prefix(',') {
            rest = r;
            continue;
        }
        if let Some(r) = r.strip_prefix(']') {
            return Ok((r, items));
        }
        return fail(r, token_len(r), format!("`,` or `]` in the {what} group"));
    }
}

fn port_number(i: &str) -> PResult<'_, u16> {
    // Suricata's number parser takes a leading `+`.
    let i = i.strip_prefix('+').unwrap_or(i);
    let (rest, digits) = take_while1(|c: char| c.is_ascii_digit()).parse(i)?;
    match digits.parse::<u32>() {
        Ok(n) if n <= 65_535 => Ok((rest, n as u16)),
        _ => fail(
            i,
            digits.len(),
            format!("a port number from 0 to 65535, not {digits}"),
        ),
    }
}

/// A port expression: `any`, `$VAR`, `80`, `1024:`, `:1023`, `80:90`, `[..]`, `!x`.
pub fn port_expr(i: &str) -> PResult<'_, PortExpr> {
    port_expr_at(i, 1)
}

/// A port expression at Suricata's recursion `level`, as [`addr_expr_at`].
fn port_expr_at(i: &str, level: usize) -> PResult<'_, PortExpr> {
    let (i, negated) = negations(i);
    if negated {
        let (rest, inner) = port_expr_at(i, level)?;
        return Ok((rest, PortExpr::Not(Box::new(inner))));
    }
    if i.starts_with('[') {
        if level >= super::vars::MAX_PORT_LEVELS {
            return fail(
                i,
                1,
                "at most 64 nested port groups (Suricata's port block recursion limit)",
            );
        }
        let (rest, items) = group(i, |r| port_expr_at(r, level + 1), "port")?;
        return Ok((rest, PortExpr::Group(items)));
    }
    if let Ok((rest, _)) = tag_no_case::<_, _, Expected>("any").parse(i) {
        if !rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Ok((rest, PortExpr::Any));
        }
    }
    if let Some(rest) = i.strip_prefix('$') {
        let (rest, name) = match var_name(rest) {
            Ok(x) => x,
            Err(_) => return fail(i, 1, "a variable name after `$`"),
        };
        return Ok((rest, PortExpr::Var(name.to_string())));
    }
    if let Some(rest) = i.strip_prefix(':') {
        if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '+') {
            // `:` alone is every port.
            return Ok((rest, PortExpr::Range(None, None)));
        }
        let (rest, hi) = match port_number(rest) {
            Ok(x) => x,
            Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
            Err(_) => return fail(i, token_len(i), "a port number after `:`"),
        };
        return Ok((rest, PortExpr::Range(None, Some(hi))));
    }
    let (rest, lo) = match port_number(i) {
        Ok(x) => x,
        Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
        Err(_) => {
            return fail(
                i,
                token_len(i),
                "a port: `any`, `$VAR`, a number, a range `a:b` or a `[..]` group",
            )
        }
    };
    if let Some(r) = rest.strip_prefix(':') {
        if r.starts_with(|c: char| c.is_ascii_digit() || c == '+') {
            let (r2, hi) = port_number(r)?;
            if hi < lo {
                return fail(
                    i,
                    i.len() - r2.len(),
                    format!("a range whose start is not above its end ({lo}:{hi})"),
                );
            }
            return Ok((r2, PortExpr::Range(Some(lo), Some(hi))));
        }
        return Ok((r, PortExpr::Range(Some(lo), None)));
    }
    Ok((rest, PortExpr::Port(lo)))
}

/// A rule as written, before keywords are interpreted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRule {
    pub action: String,
    pub protocol: String,
    pub src: AddrExpr,
    pub src_port: PortExpr,
    pub bidirectional: bool,
    pub dst: AddrExpr,
    pub dst_port: PortExpr,
    pub options: Vec<RawOption>,
    /// Byte spans in the rule text: action, protocol, source, source port, direction,
    /// destination, destination port.
    pub header_spans: [(usize, usize); 7],
}

/// One `keyword[:value];` option as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawOption {
    pub keyword: String,
    /// The value with surrounding whitespace trimmed, escapes kept.
    pub value: Option<String>,
    /// Byte offset and length of the keyword, and of the value, in the rule text.
    pub keyword_span: (usize, usize),
    pub value_span: Option<(usize, usize)>,
}

fn word(i: &str) -> PResult<'_, &str> {
    take_while1(|c: char| !c.is_whitespace() && c != '(').parse(i)
}

fn spaces(i: &str) -> PResult<'_, &str> {
    multispace1(i)
}

/// Parses one rule (already joined from continuation lines, comment-free).
pub fn parse_rule(text: &str) -> Result<RawRule, SyntaxError> {
    let at = |rest: &str| text.len() - rest.len();
    let to_err = |e: nom::Err<Expected<'_>>| -> SyntaxError {
        match e {
            nom::Err::Error(x) | nom::Err::Failure(x) => SyntaxError {
                offset: text.len() - x.at.len(),
                len: x.len,
                message: format!("expected {}", x.what),
                expected: Some(x.what),
            },
            nom::Err::Incomplete(_) => SyntaxError {
                offset: text.len(),
                len: 1,
                message: "unexpected end of rule".into(),
                expected: None,
            },
        }
    };
    let header_part = |rest: &'_ str, what: &str| -> Result<(), SyntaxError> {
        if rest.trim_start().is_empty() {
            return Err(SyntaxError {
                offset: text.trim_end().len(),
                len: 1,
                message: format!("rule ends early: expected {what}"),
                expected: Some(what.to_string()),
            });
        }
        Ok(())
    };
    let mut spans = [(0usize, 0usize); 7];
    let (rest, _) = multispace0::<_, Expected>(text).map_err(to_err)?;
    header_part(rest, "an action (alert, pass, drop, reject, ...)")?;
    let (rest_a, action) = word(rest).map_err(to_err)?;
    spans[0] = (at(rest), action.len());
    let sep = |rest: &'_ str, what: &str| -> Result<(), SyntaxError> {
        header_part(rest, what)?;
        if rest.starts_with('\t') {
            return Err(SyntaxError {
                offset: at(rest),
                len: 1,
                message: format!("a tab separates the rule header here: Suricata splits header fields on spaces only, then expected {what}"),
                expected: Some("a space".into()),
            });
        }
        if spaces(rest).is_err() {
            return Err(SyntaxError {
                offset: at(rest),
                len: 1,
                message: format!("expected whitespace, then {what}"),
                expected: Some(what.to_string()),
            });
        }
        Ok(())
    };
    sep(rest_a, "a protocol")?;
    let (rest, _) = spaces(rest_a).map_err(to_err)?;
    let (rest_p, protocol) = word(rest).map_err(to_err)?;
    spans[1] = (at(rest), protocol.len());
    sep(rest_p, "a source address")?;
    let (rest, _) = spaces(rest_p).map_err(to_err)?;
    let (rest_s, src) = addr_field(rest).map_err(to_err)?;
    spans[2] = (at(rest), rest.len() - rest_s.len());
    sep(rest_s, "a source port")?;
    let (rest, _) = spaces(rest_s).map_err(to_err)?;
    let (rest_sp, src_port) = port_field(rest).map_err(to_err)?;
    spans[3] = (at(rest), rest.len() - rest_sp.len());
    sep(rest_sp, "a direction (`->` or `<>`)")?;
    let (rest, _) = spaces(rest_sp).map_err(to_err)?;
    let (rest_d, dir) = match alt((tag::<_, _, Expected>("->"), tag("<>"))).parse(rest) {
        Ok(x) => x,
        Err(_) => {
            let len = token_len(rest);
            let found = &rest[..len];
            let message = if found == "<-" {
                "`<-` is not a Suricata direction: write the rule the other way round with `->`"
                    .to_string()
            } else {
                format!("expected a direction (`->` or `<>`), found `{found}`")
            };
            return Err(SyntaxError {
                offset: at(rest),
                len,
                message,
                expected: Some("`->` or `<>`".into()),
            });
        }
    };
    spans[4] = (at(rest), 2);
    sep(rest_d, "a destination address")?;
    let (rest, _) = spaces(rest_d).map_err(to_err)?;
    let (rest_dst, dst) = addr_field(rest).map_err(to_err)?;
    spans[5] = (at(rest), rest.len() - rest_dst.len());
    sep(rest_dst, "a destination port")?;
    let (rest, _) = spaces(rest_dst).map_err(to_err)?;
    let (rest_dp, dst_port) = port_field(rest).map_err(to_err)?;
    spans[6] = (at(rest), rest.len() - rest_dp.len());
    let (rest, _) = multispace0::<_, Expected>(rest_dp).map_err(to_err)?;
    if rest.is_empty() {
        return Err(SyntaxError {
            offset: text.trim_end().len(),
            len: 1,
            message: "rule ends early: expected `(` and the rule options".into(),
            expected: Some("`(`".into()),
        });
    }
    if !rest_dp.starts_with(char::is_whitespace) {
        let len = token_len(rest_dp);
        return Err(SyntaxError {
            offset: at(rest_dp),
            len,
            message: format!(
                "expected a space after the destination port, found `{}`",
                &rest_dp[..len]
            ),
            expected: Some("a space, then `(`".into()),
        });
    }
    // Suricata strips any number of `(` before the options and of `)` after them, so
    // the parentheses are optional.
    let open = rest.len() - rest.trim_start_matches(['(', ' ', '\t']).len();
    let options = parse_options(text, at(rest) + open)?;
    Ok(RawRule {
        action: action.to_string(),
        protocol: protocol.to_string(),
        src,
        src_port,
        bidirectional: dir == "<>",
        dst,
        dst_port,
        options,
        header_spans: spans,
    })
}

fn is_keyword_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Parses `keyword[:value];` options from `start` (just after `(`) to the closing `)`.
fn parse_options(text: &str, start: usize) -> Result<Vec<RawOption>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut pos = start;
    let mut options = Vec::new();
    let skip_ws = |mut p: usize| {
        while p < bytes.len() && bytes[p].is_ascii_whitespace() {
            p += 1;
        }
        p
    };
    loop {
        pos = skip_ws(pos);
        if pos >= bytes.len() {
            // A missing `)` is accepted, as by Suricata.
            return Ok(options);
        }
        if bytes[pos] == b')' {
            let after = text[pos..]
                .trim_start_matches([')', ' ', '\t', '\r', '\n'])
                .len();
            let after = text.len() - after;
            if after < bytes.len() {
                return Err(SyntaxError {
                    offset: after,
                    len: text.len() - after,
                    message: "unexpected text after the closing `)`".into(),
                    expected: None,
                });
            }
            return Ok(options);
        }
        let kw_len = text[pos..]
            .find(|c: char| !is_keyword_char(c))
            .unwrap_or(text.len() - pos);
        let keyword = &text[pos..pos + kw_len];
        let kw_rest = &text[pos + kw_len..];
        if keyword.is_empty() {
            let len = text[pos..].chars().next().map_or(1, char::len_utf8);
            return Err(SyntaxError {
                offset: pos,
                len,
                message: format!("expected a rule keyword, found `{}`", &text[pos..pos + len]),
                expected: Some("a keyword".into()),
            });
        }
        let keyword_span = (pos, keyword.len());
        pos = skip_ws(text.len() - kw_rest.len());
        let mut value = None;
        let mut value_span = None;
        if pos < bytes.len() && bytes[pos] == b':' {
            let vstart = pos + 1;
            // The value runs to the next `;` that is not escaped.
            let mut p = vstart;
            let mut escaped = false;
            while p < bytes.len() {
                let b = bytes[p];
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b';' {
                    break;
                }
                p += 1;
            }
            if p >= bytes.len() {
                return Err(SyntaxError {
                    offset: keyword_span.0,
                    len: text.trim_end().len() - keyword_span.0,
                    message: format!("the value of `{keyword}` is not ended by `;`"),
                    expected: Some("`;`".into()),
                });
            }
            let raw = &text[vstart..p];
            let trimmed = raw.trim();
            let lead = raw.len() - raw.trim_start().len();
            value_span = Some((vstart + lead, trimmed.len()));
            value = Some(trimmed.to_string());
            pos = p;
        }
        if pos >= bytes.len() || bytes[pos] != b';' {
            // The character there, whole: it may take several bytes.
            let found = match text.get(pos..).and_then(|rest| rest.chars().next()) {
                Some(c) => c.to_string(),
                None => "the end of the rule".to_string(),
            };
            return Err(SyntaxError {
                offset: pos.min(text.len().saturating_sub(1)),
                len: 1,
                message: format!("expected `;` after `{keyword}`, found `{found}`"),
                expected: Some("`;`".into()),
            });
        }
        pos += 1;
        options.push(RawOption {
            keyword: keyword.to_string(),
            value,
            keyword_span,
            value_span,
        });
    }
}

/// A standalone address expression, as in a variable's value.
pub fn parse_addr_text(text: &str) -> Result<AddrExpr, SyntaxError> {
    complete(text, addr_field)
}

/// A standalone port expression, as in a variable's value.
pub fn parse_port_text(text: &str) -> Result<PortExpr, SyntaxError> {
    complete(text, port_field)
}

fn complete<T>(text: &str, p: fn(&str) -> PResult<'_, T>) -> Result<T, SyntaxError> {
    let trimmed = text.trim();
    let lead = text.len() - text.trim_start().len();
    match map(preceded(multispace0, p), |x| x).parse(trimmed) {
        Ok((rest, v)) if rest.trim().is_empty() => Ok(v),
        Ok((rest, _)) => Err(SyntaxError {
            offset: lead + trimmed.len() - rest.len(),
            len: rest.len(),
            message: format!("unexpected `{rest}`"),
            expected: None,
        }),
        Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(SyntaxError {
            offset: lead + trimmed.len() - e.at.len(),
            len: e.len,
            message: format!("expected {}", e.what),
            expected: Some(e.what),
        }),
        Err(nom::Err::Incomplete(_)) => Err(SyntaxError {
            offset: text.len(),
            len: 1,
            message: "incomplete".into(),
            expected: None,
        }),
    }
}
