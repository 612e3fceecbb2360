//! Parsing `byte_test`, `byte_jump` and `byte_extract` values as Suricata 7.0.10 does
//! (`DetectBytetestParse`, `DetectBytejumpParse`, `DetectByteExtractParse`): the same
//! grammar, number readers and refusals. Variable names stay names here; the checker
//! resolves them against the rule's earlier `byte_extract`s.

use std::sync::OnceLock;

use regex::Regex;

use super::detection::{Base64Decode, ByteEncoding, ByteOp};
use crate::detect::bytes::strtoull;

/// A number or the name of a `byte_extract` variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg<T> {
    Lit(T),
    Var(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedByteTest {
    pub nbytes: Arg<u8>,
    pub op: ByteOp,
    pub negated: bool,
    pub value: Arg<u64>,
    pub offset: Arg<i32>,
    pub relative: bool,
    pub dce: bool,
    pub encoding: ByteEncoding,
    pub bitmask: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedByteJump {
    pub nbytes: Arg<u8>,
    pub offset: Arg<i32>,
    pub relative: bool,
    pub dce: bool,
    pub encoding: ByteEncoding,
    pub multiplier: u16,
    pub align: bool,
    pub post_offset: i32,
    pub from_beginning: bool,
    pub from_end: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedByteExtract {
    pub nbytes: u8,
    pub offset: i32,
    pub name: String,
    pub relative: bool,
    pub dce: bool,
    pub encoding: ByteEncoding,
    pub multiplier: u16,
    pub align: u8,
}

fn re(cell: &'static OnceLock<Regex>, pattern: impl FnOnce() -> String) -> &'static Regex {
    cell.get_or_init(|| Regex::new(&pattern()).expect("valid regex"))
}

/// Suricata's test for a variable name: the first character is a letter.
fn is_var(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
}

/// `ByteExtractString` in strict mode (the whole text must be read) with glibc's
/// `strtoull`; `None` where Suricata's `StringParse*` fails.
fn strict_unsigned(s: &str, base: u32) -> Option<u64> {
    match strtoull(s.as_bytes(), base) {
        Ok(Some((v, used))) if used == s.len() => Some(v),
        _ => None,
    }
}

/// As [`strict_unsigned`] for `strtoll`: the magnitude must fit an `i64`.
fn strict_signed(s: &str, base: u32) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.starts_with(['-', '+']) {
        return None;
    }
    let mag = strict_unsigned(digits, base)?;
    if neg {
        if mag > 1u64 << 63 {
            return None;
        }
        Some((mag as i64).wrapping_neg())
    } else {
        i64::try_from(mag).ok()
    }
}

fn i32_in(s: &str, base: u32, lo: i32, hi: i32) -> Option<i32> {
    let v = strict_signed(s, base)?;
    i32::try_from(v).ok().filter(|v| (lo..=hi).contains(v))
}

fn nbytes_ok(n: u32, string: bool) -> bool {
    (string && n <= 23) || n <= 8
}

pub fn parse_byte_test(v: &str) -> Result<ParsedByteTest, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    const KW: &str = "relative|big|little|string|oct|dec|hex|dce|bitmask";
    let re = re(&RE, || {
        let flag = format!(r"(?:\s*,\s*((?:{KW})\s+[^\s,]+|[{KW}]+))?");
        format!(
            r"^\s*([^\s,]+)\s*,\s*(!?\s*[^\s,]*)\s*,\s*([^\s,]+)\s*,\s*([^\s,]+){}\s*$",
            flag.repeat(6)
        )
    });
    let caps = re
        .captures(v)
        .ok_or("expected `nbytes,[!]op,value,offset[,flags]`")?;
    let nb = &caps[1];
    let nbytes = if nb.starts_with('-') || !is_var(nb) {
        let n = strict_unsigned(nb, 10)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("malformed number of bytes `{nb}`"))?;
        Arg::Lit(n)
    } else {
        Arg::Var(nb.to_string())
    };
    let op_text = &caps[2];
    let (negated, op) = match op_text.strip_prefix('!') {
        Some(rest) => (
            true,
            rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ','),
        ),
        None => (false, op_text),
    };
    let op = match op {
        "=" => ByteOp::Eq,
        "" if negated => ByteOp::Eq,
        "<" => ByteOp::Lt,
        ">" => ByteOp::Gt,
        "&" => ByteOp::And,
        "^" => ByteOp::Xor,
        ">=" => ByteOp::Ge,
        "<=" => ByteOp::Le,
        _ => return Err(format!("invalid operator `{op_text}`")),
    };
    let value_text = &caps[3];
    let value = if !value_text.starts_with('-') && is_var(value_text) {
        Arg::Var(value_text.to_string())
    } else {
        match strtoull(value_text.as_bytes(), 0) {
            Ok(Some((n, _))) => Arg::Lit(n),
            _ => return Err(format!("malformed value `{value_text}`")),
        }
    };
    let offset_text = &caps[4];
    let offset = if !offset_text.starts_with('-') && is_var(offset_text) {
        Arg::Var(offset_text.to_string())
    } else {
        Arg::Lit(
            strict_signed(offset_text, 0)
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| format!("malformed offset `{offset_text}`"))?,
        )
    };
    let mut relative = false;
    let mut string = false;
    let mut little = false;
    let mut dce = false;
    let mut base = 0u32;
    let mut bitmask_arg = None;
    for flag in (5..=10).filter_map(|i| caps.get(i)).map(|m| m.as_str()) {
        let lower = flag.to_ascii_lowercase();
        match lower.as_str() {
            _ if flag == "relative" => relative = true,
            "string" => string = true,
            "dec" => base |= 10,
            "hex" => base |= 16,
            "oct" => base |= 8,
            "big" => little = false,
            "little" => little = true,
            "dce" => dce = true,
            l if l.starts_with("bitmask") => bitmask_arg = Some(&flag[7..]),
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    let nbytes = match nbytes {
        Arg::Lit(n) => {
            if !nbytes_ok(n, string) {
                return Err(if string {
                    "cannot test more than 23 bytes with `string`".into()
                } else {
                    "cannot test more than 8 bytes without `string`".into()
                });
            }
            if !string && base != 0 {
                return Err("a base (dec, hex, oct) needs `string`".into());
            }
            Arg::Lit(n as u8)
        }
        Arg::Var(s) => Arg::Var(s),
    };
    let bitmask = match bitmask_arg {
        None => None,
        Some(b) => match strtoull(b.as_bytes(), 0) {
            Ok(Some((m, _))) if m <= u64::from(u32::MAX) => Some(m as u32),
            _ => return Err(format!("malformed bitmask `{}`", b.trim())),
        },
    };
    if dce && (string || little || flag_given(&caps, "big") || matches!(base, 8 | 10 | 16)) {
        return Err("`dce` cannot be combined with string, big, little or a base".into());
    }
    Ok(ParsedByteTest {
        nbytes,
        op,
        negated,
        value,
        offset,
        relative,
        dce,
        encoding: encoding(string, base, little),
        bitmask,
    })
}

fn flag_given(caps: &regex::Captures<'_>, name: &str) -> bool {
    caps.iter()
        .skip(1)
        .flatten()
        .any(|m| m.as_str().eq_ignore_ascii_case(name))
}

fn encoding(string: bool, base: u32, little: bool) -> ByteEncoding {
    if string {
        ByteEncoding::String(base)
    } else if little {
        ByteEncoding::Little
    } else {
        ByteEncoding::Big
    }
}

pub fn parse_byte_jump(v: &str) -> Result<ParsedByteJump, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = re(&RE, || {
        let flag = r"(?:\s*,\s*((?:multiplier|post_offset)\s+[^\s,]+|[^\s,]+))?";
        format!(r"^\s*([^\s,]+)\s*,\s*([^\s,]+){}\s*$", flag.repeat(9))
    });
    let caps = re.captures(v).ok_or("expected `nbytes,offset[,flags]`")?;
    let nb = &caps[1];
    let nbytes = if !nb.starts_with('-') && is_var(nb) {
        Arg::Var(nb.to_string())
    } else {
        Arg::Lit(
            strict_unsigned(nb, 10)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("malformed number of bytes `{nb}`"))?,
        )
    };
    let off = &caps[2];
    let offset = if !off.starts_with('-') && is_var(off) {
        Arg::Var(off.to_string())
    } else {
        Arg::Lit(i32_in(off, 10, -65535, 65535).ok_or_else(|| format!("malformed offset `{off}`"))?)
    };
    let mut p = ParsedByteJump {
        nbytes: Arg::Lit(0),
        offset,
        relative: false,
        dce: false,
        encoding: ByteEncoding::Big,
        multiplier: 1,
        align: false,
        post_offset: 0,
        from_beginning: false,
        from_end: false,
    };
    let (mut string, mut little, mut big, mut base) = (false, false, false, 0u32);
    for flag in (3..=11).filter_map(|i| caps.get(i)).map(|m| m.as_str()) {
        let lower = flag.to_ascii_lowercase();
        match lower.as_str() {
            _ if flag == "relative" => p.relative = true,
            "string" => string = true,
            "dec" => base |= 10,
            "hex" => base |= 16,
            "oct" => base |= 8,
            "big" => {
                little = false;
                big = true;
            }
            "little" => little = true,
            "from_beginning" => p.from_beginning = true,
            "from_end" => p.from_end = true,
            "align" => p.align = true,
            "dce" => p.dce = true,
            l if l.starts_with("multiplier ") => {
                p.multiplier = strict_unsigned(&flag[11..], 10)
                    .filter(|m| (1..=65535).contains(m))
                    .ok_or_else(|| format!("malformed multiplier `{}`", &flag[11..]))?
                    as u16;
            }
            l if l.starts_with("post_offset ") => {
                p.post_offset = i32_in(&flag[12..], 10, -65535, 65535)
                    .ok_or_else(|| format!("malformed post_offset `{}`", &flag[12..]))?;
            }
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if p.from_beginning && p.from_end {
        return Err("`from_end` and `from_beginning` cannot be used together".into());
    }
    p.nbytes = match nbytes {
        Arg::Lit(n) if !nbytes_ok(n, string) => {
            return Err(if string {
                "cannot jump on more than 23 bytes with `string`".into()
            } else {
                "cannot jump on more than 8 bytes without `string`".into()
            })
        }
        Arg::Lit(n) => Arg::Lit(n as u8),
        Arg::Var(s) => Arg::Var(s),
    };
    if !string && base != 0 {
        return Err("a base (dec, hex, oct) needs `string`".into());
    }
    if p.dce
        && (string
            || little
            || big
            || p.from_beginning
            || p.from_end
            || matches!(base, 8 | 10 | 16))
    {
        return Err(
            "`dce` cannot be combined with string, big, little, from_beginning, from_end or a base"
                .into(),
        );
    }
    p.encoding = encoding(string, base, little);
    Ok(p)
}

pub fn parse_byte_extract(v: &str) -> Result<ParsedByteExtract, String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = re(&RE, || {
        let opt = r"(?:(?:,\s*([^\s,]+)\s*)|(?:,\s*([^\s,]+)\s+([^\s,]+)\s*))?";
        format!(
            r"^\s*([0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*([^\s,]+)\s*{}$",
            opt.repeat(5)
        )
    });
    let caps = re
        .captures(v)
        .ok_or("expected `nbytes,offset,name[,flags]`")?;
    let nbytes = strict_unsigned(&caps[1], 10)
        .filter(|n| *n <= 255)
        .ok_or_else(|| format!("invalid number of bytes `{}`", &caps[1]))? as u8;
    let offset = i32_in(&caps[2], 10, -65535, 65535)
        .ok_or_else(|| format!("invalid offset `{}`", &caps[2]))?;
    let last = (1..caps.len())
        .rev()
        .find(|&i| caps.get(i).is_some())
        .unwrap_or(3);
    let opts: Vec<&str> = (4..=last)
        .map(|i| caps.get(i).map_or("", |m| m.as_str()))
        .collect();
    let mut p = ParsedByteExtract {
        nbytes,
        offset,
        name: caps[3].to_string(),
        relative: false,
        dce: false,
        encoding: ByteEncoding::Big,
        multiplier: 1,
        align: 0,
    };
    let (mut multiplier, mut endian, mut string, mut base) = (false, None, false, 0u32);
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            "relative" if p.relative => return Err("`relative` given twice".into()),
            "relative" => p.relative = true,
            "multiplier" if multiplier => return Err("`multiplier` given twice".into()),
            "multiplier" => {
                multiplier = true;
                i += 1;
                let m = opts.get(i).copied().unwrap_or("");
                p.multiplier = strict_unsigned(m, 10)
                    .filter(|m| (1..=65535).contains(m))
                    .ok_or_else(|| format!("invalid multiplier `{m}`"))?
                    as u16;
            }
            e @ ("big" | "little" | "dce") => {
                if endian.is_some() {
                    return Err("endianness given twice".into());
                }
                endian = Some(e);
            }
            "string" => {
                if string {
                    return Err("`string` given twice".into());
                }
                if base != 0 {
                    return Err("write the base after `string`".into());
                }
                string = true;
            }
            b @ ("hex" | "oct" | "dec") => {
                if !string {
                    return Err(format!("base `{b}` without a preceding `string`"));
                }
                if base != 0 {
                    return Err("more than one base".into());
                }
                base = match b {
                    "hex" => 16,
                    "oct" => 8,
                    _ => 10,
                };
            }
            "align" => {
                if p.align != 0 {
                    return Err("`align` given twice".into());
                }
                i += 1;
                let a = opts.get(i).copied().unwrap_or("");
                p.align = match strict_unsigned(a, 10) {
                    Some(n @ (2 | 4)) => n as u8,
                    _ => return Err(format!("invalid align value `{a}` (2 or 4)")),
                };
            }
            "" => {}
            other => return Err(format!("unknown option `{other}`")),
        }
        i += 1;
    }
    p.dce = endian == Some("dce");
    if string {
        if base == 0 {
            base = 10;
        }
        if endian.is_some() {
            return Err("`string` cannot be combined with an endianness".into());
        }
        let max = match base {
            8 => 23,
            16 => 14,
            _ => 20,
        };
        if nbytes > max {
            return Err(format!(
                "cannot extract more than {max} bytes in this base with `string`"
            ));
        }
        p.encoding = ByteEncoding::String(base);
    } else {
        if nbytes > 8 {
            return Err("cannot extract more than 8 bytes without `string`".into());
        }
        // `dce` outside a DCERPC inspection reads little endian (it is not "big").
        p.encoding = if matches!(endian, Some("little" | "dce")) {
            ByteEncoding::Little
        } else {
            ByteEncoding::Big
        };
    }
    Ok(p)
}

/// Parses a `base64_decode` value as `DetectBase64DecodeParse` does with its pattern
/// `\s*(bytes\s+(\d+),?)?\s*(offset\s+(\d+),?)?\s*(\w+)?`, which is not anchored at
/// the end: each part is optional and in that order, and whatever follows the first
/// word is ignored (`relative, junk` is accepted; in `bytes 5, relative, offset 3` the
/// offset is never read). At least one part must be there; the word must be
/// `relative`; `bytes` is a 16-bit number, `offset` a 32-bit one.
pub fn parse_base64_decode(v: &str) -> Result<Base64Decode, String> {
    let b = v.as_bytes();
    // PCRE's `\s` and `\w` without UTF: ASCII only.
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let skip = |mut i: usize, f: &dyn Fn(u8) -> bool| {
        while i < b.len() && f(b[i]) {
            i += 1;
        }
        i
    };
    // `name\s+(\d+),?` at `i`: the digits and the position after the group.
    let group = |i: usize, name: &str| -> Option<(&str, usize)> {
        let rest = b.get(i..)?;
        if !rest.starts_with(name.as_bytes()) {
            return None;
        }
        let ws = i + name.len();
        let d = skip(ws, &space);
        if d == ws {
            return None;
        }
        let end = skip(d, &|c: u8| c.is_ascii_digit());
        if end == d {
            return None;
        }
        let after = if b.get(end) == Some(&b',') {
            end + 1
        } else {
            end
        };
        Some((&v[d..end], after))
    };
    let mut out = Base64Decode::default();
    let mut any = false;
    let mut i = skip(0, &space);
    if let Some((digits, after)) = group(i, "bytes") {
        out.bytes = digits
            .parse::<u16>()
            .map_err(|_| format!("bad value for bytes: `{digits}` (0 to 65535)"))?;
        any = true;
        i = after;
    }
    i = skip(i, &space);
    if let Some((digits, after)) = group(i, "offset") {
        out.offset = digits
            .parse::<u32>()
            .map_err(|_| format!("bad value for offset: `{digits}` (0 to 4294967295)"))?;
        any = true;
        i = after;
    }
    i = skip(i, &space);
    let end = skip(i, &word);
    if end > i {
        let w = &v[i..end];
        if w != "relative" {
            return Err(format!(
                "invalid argument `{w}`: expected `bytes N`, `offset N`, `relative`, in that order"
            ));
        }
        out.relative = true;
        any = true;
    }
    if !any {
        return Err("expected `bytes N`, `offset N` or `relative`".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_test_values() {
        let t = parse_byte_test("2,!&,0x0f,-3,relative,little").unwrap();
        assert_eq!(
            (t.nbytes, t.op, t.negated, t.value, t.offset, t.relative, t.encoding),
            (
                Arg::Lit(2),
                ByteOp::And,
                true,
                Arg::Lit(15),
                Arg::Lit(-3),
                true,
                ByteEncoding::Little
            )
        );
        let t = parse_byte_test("1,!=,5,0").unwrap();
        assert_eq!((t.op, t.negated), (ByteOp::Eq, true));
        let t = parse_byte_test("2,>,len,0,string,hex").unwrap();
        assert_eq!(
            (t.value, t.encoding),
            (Arg::Var("len".into()), ByteEncoding::String(16))
        );
        let t = parse_byte_test("2,=,3,0,bitmask 0x0ff0").unwrap();
        assert_eq!(t.bitmask, Some(0x0ff0));
        for bad in [
            "9,=,1,0",
            "2,=,1,0,hex",
            "24,=,1,0,string",
            "2,=>,1,0",
            "2,=,1",
            "2,=,1,0,relatve",
            "2,=,1,0,bitmask",
            "2,=,1,0,dce,little",
            "-1,=,1,0",
            "2,=,1,0x",
        ] {
            assert!(parse_byte_test(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn byte_jump_values() {
        let j =
            parse_byte_jump("4,-12,relative,from_beginning,little,post_offset -2, multiplier 3")
                .unwrap();
        assert_eq!(
            (
                j.nbytes,
                j.offset,
                j.relative,
                j.from_beginning,
                j.encoding,
                j.post_offset,
                j.multiplier
            ),
            (
                Arg::Lit(4),
                Arg::Lit(-12),
                true,
                true,
                ByteEncoding::Little,
                -2,
                3
            )
        );
        for bad in [
            "9,0",
            "2,0,from_end,from_beginning",
            "2,0x10",
            "2,0,multiplier 0",
            "2,0,post_offset 70000",
            "2,0,hex",
            "2,0,dce,align,little",
            "2,0,foo",
        ] {
            assert!(parse_byte_jump(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn byte_extract_values() {
        let e = parse_byte_extract("2, 1, len, relative, multiplier 4, align 2, little").unwrap();
        assert_eq!(
            (
                e.nbytes,
                e.offset,
                e.name.as_str(),
                e.relative,
                e.multiplier,
                e.align,
                e.encoding
            ),
            (2, 1, "len", true, 4, 2, ByteEncoding::Little)
        );
        let e = parse_byte_extract("3,0,n,string,hex").unwrap();
        assert_eq!(e.encoding, ByteEncoding::String(16));
        for bad in [
            "9,0,x",
            "15,0,x,string,hex",
            "2,0,x,hex,string",
            "2,0,x,string,big",
            "2,0,x,align 3",
            "2,0,x,relative,relative",
            "2,70000,x",
            "2,0,x,foo",
        ] {
            assert!(parse_byte_extract(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_decode_values() {
        let ok = |v: &str, bytes, offset, relative| {
            assert_eq!(
                parse_base64_decode(v),
                Ok(Base64Decode {
                    bytes,
                    offset,
                    relative
                }),
                "{v}"
            )
        };
        // DetectBase64TestDecodeParse, and verdicts of Suricata 7.0.10 (in
        // tests/data/suricata-rule-verdicts.txt).
        ok("bytes 1", 1, 0, false);
        ok("offset 9", 0, 9, false);
        ok("relative", 0, 0, true);
        ok("bytes 1, offset 2", 1, 2, false);
        ok("bytes 1, offset 2, relative", 1, 2, true);
        ok("offset 2, relative", 0, 2, true);
        ok("bytes 10 offset 2 relative", 10, 2, true);
        ok("  bytes  5,offset  3,  relative", 5, 3, true);
        ok("bytes 5,, offset 3", 5, 0, false);
        ok("bytes 00005", 5, 0, false);
        ok("bytes 65535", 65535, 0, false);
        ok("offset 4294967295", 0, u32::MAX, false);
        ok("bytes 10, relative, offset 5", 10, 0, true);
        ok("relative-x", 0, 0, true);
        ok("relative, junk", 0, 0, true);
        ok("bytes 5,offset 3,relative,", 5, 3, true);
        ok("\trelative", 0, 0, true);
        for bad in [
            "",
            " ",
            ",",
            "bytes 1, offset 2, relatve",
            "byts 1, offset 2, relatve",
            "bytes 1, offst 2, relatve",
            "bytes 65536",
            "bytes -1",
            "bytes abc",
            "bytes +5",
            "bytes 5x",
            "bytes5",
            "bytes 5, offset",
            "offset 4294967296",
            "offset 5, bytes 10",
            "relative_x",
            "Relative",
            "BYTES 5",
            "bytes 10, 7",
            "\"bytes 5\"",
            "bytes 18446744073709551616",
        ] {
            assert!(parse_base64_decode(bad).is_err(), "{bad:?}");
        }
    }
}
