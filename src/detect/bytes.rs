//! `byte_test`, `byte_jump` and `byte_extract` on one buffer: pure functions of the
//! buffer, the detection pointer and the keyword's options, following Suricata 7.0.10's
//! `DetectBytetestDoMatch`, `DetectBytejumpDoMatch`, `DetectByteExtractDoMatch`
//! (src/detect-bytetest.c, detect-bytejump.c, detect-byte-extract.c) and the number
//! readers of src/util-byte.c.
//!
//! Positions are computed in `i64` so that no offset, multiplier or buffer length can
//! overflow; where the C code relies on 32-bit signed lengths the result is the same for
//! every buffer shorter than 2 GiB, which is all rulesim inspects.

use crate::rules::detection::{ByteEncoding, ByteOp};

/// How `strtoull` (glibc) reads `text`: leading white space, an optional sign (a minus
/// negates the result modulo 2^64), a `0x` prefix in base 16 (or base 0, which also
/// takes a leading `0` as octal), then digits of the base. Returns the value and the
/// number of bytes consumed, `Err(())` on overflow (ERANGE), `Ok(None)` without digits.
/// Bases outside 2..=36 (other than 0) read nothing.
#[allow(clippy::result_unit_err)]
pub fn strtoull(text: &[u8], base: u32) -> Result<Option<(u64, usize)>, ()> {
    let mut i = 0;
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if let Some(&c) = text.get(i) {
        if c == b'+' || c == b'-' {
            negative = c == b'-';
            i += 1;
        }
    }
    let digit = |c: u8| -> Option<u32> {
        match c {
            b'0'..=b'9' => Some(u32::from(c - b'0')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
            b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
            _ => None,
        }
    };
    let hex_prefix = text.get(i) == Some(&b'0')
        && matches!(text.get(i + 1), Some(b'x' | b'X'))
        && text
            .get(i + 2)
            .and_then(|&c| digit(c))
            .is_some_and(|d| d < 16);
    let mut base = base;
    if base == 0 {
        base = if hex_prefix {
            16
        } else if text.get(i) == Some(&b'0') {
            8
        } else {
            10
        };
    }
    if !(2..=36).contains(&base) {
        return Ok(None);
    }
    if base == 16 && hex_prefix {
        i += 2;
    }
    let start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = text.get(i).and_then(|&c| digit(c)).filter(|&d| d < base) {
        match value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return Ok(None);
    }
    if overflow {
        return Err(());
    }
    Ok(Some((
        if negative {
            value.wrapping_neg()
        } else {
            value
        },
        i,
    )))
}

/// Reads `nbytes` at the start of `data` (which holds at least that many bytes) as
/// Suricata does: binary big or little endian (at most 8 bytes), or as text in a base
/// (`ByteExtractStringUint64`: the bytes up to the first NUL, at most 23). Returns the
/// value and how many bytes were consumed (for text, what `strtoull` read), or `None`.
pub fn read_number(data: &[u8], nbytes: usize, encoding: ByteEncoding) -> Option<(u64, usize)> {
    let bytes = data.get(..nbytes)?;
    match encoding {
        ByteEncoding::Big | ByteEncoding::Little => {
            if nbytes > 8 {
                return None;
            }
            let mut v: u64 = 0;
            for (k, &b) in bytes.iter().enumerate() {
                if encoding == ByteEncoding::Big {
                    v = (v << 8) | u64::from(b);
                } else {
                    v |= u64::from(b) << (8 * k);
                }
            }
            Some((v, nbytes))
        }
        ByteEncoding::String(base) => {
            // No text to read (a variable gave 0 bytes): Suricata would read past the
            // field; rulesim reads nothing.
            if nbytes == 0 || nbytes > 23 {
                return None;
            }
            let text = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
            match strtoull(text, base) {
                Ok(Some((v, used))) if used > 0 => Some((v, used)),
                _ => None,
            }
        }
    }
}

/// Where a `byte_*` keyword reads: the start in the buffer, or `None` when Suricata finds
/// no room (`ptr < payload || nbytes > len`, and for relative reads `len <= 0`).
fn read_start(
    len: u32,
    detect_offset: u32,
    offset: i64,
    relative: bool,
    nbytes: i64,
    zero_needs_room: bool,
) -> Option<usize> {
    let len = i64::from(len);
    let start = if relative {
        i64::from(detect_offset) + offset
    } else {
        offset
    };
    let room = len - start;
    if relative && room <= 0 && (zero_needs_room || nbytes != 0) {
        return None;
    }
    if start < 0 || nbytes > room {
        return None;
    }
    usize::try_from(start).ok()
}

/// The options of one `byte_test` with its variables already resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteTestArgs {
    pub nbytes: i64,
    pub offset: i64,
    pub value: u64,
    pub op: ByteOp,
    pub negated: bool,
    pub relative: bool,
    pub encoding: ByteEncoding,
    /// The mask and its count of trailing zero bits.
    pub bitmask: Option<(u32, u32)>,
}

/// `DetectBytetestDoMatch`: whether the test holds.
pub fn byte_test(buf: &[u8], detect_offset: u32, a: &ByteTestArgs) -> bool {
    let len = buf.len() as u32;
    if len == 0 || !nbytes_valid(a.nbytes, a.encoding) {
        return false;
    }
    let Some(start) = read_start(len, detect_offset, a.offset, a.relative, a.nbytes, true) else {
        return false;
    };
    let Some((mut val, _)) = read_number(&buf[start..], a.nbytes as usize, a.encoding) else {
        return false;
    };
    if let Some((mask, shift)) = a.bitmask {
        val &= u64::from(mask);
        if val != 0 && shift != 0 {
            val >>= shift;
        }
    }
    let v = a.value;
    let hit = match a.op {
        ByteOp::Eq => val == v,
        ByteOp::Lt => val < v,
        ByteOp::Gt => val > v,
        ByteOp::Le => val <= v,
        ByteOp::Ge => val >= v,
        ByteOp::And => val & v != 0,
        ByteOp::Xor => val ^ v != 0,
    };
    hit != a.negated
}

/// At most 23 bytes as text, 8 as binary (and not negative, which a variable could give).
fn nbytes_valid(nbytes: i64, encoding: ByteEncoding) -> bool {
    let max = if matches!(encoding, ByteEncoding::String(_)) {
        23
    } else {
        8
    };
    (0..=max).contains(&nbytes)
}

/// The options of one `byte_jump` with its variables already resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteJumpArgs {
    pub nbytes: i64,
    pub offset: i64,
    pub relative: bool,
    pub encoding: ByteEncoding,
    pub multiplier: u64,
    pub align: bool,
    pub post_offset: i32,
    pub from_beginning: bool,
    pub from_end: bool,
}

/// `DetectBytejumpDoMatch`: the new detection pointer, or `None` (no match).
pub fn byte_jump(buf: &[u8], detect_offset: u32, a: &ByteJumpArgs) -> Option<u32> {
    let len = buf.len() as u32;
    if len == 0 || !nbytes_valid(a.nbytes, a.encoding) {
        return None;
    }
    let start = read_start(len, detect_offset, a.offset, a.relative, a.nbytes, false)?;
    let (mut val, used) = read_number(&buf[start..], a.nbytes as usize, a.encoding)?;
    val = val.wrapping_mul(a.multiplier);
    if a.align && val % 4 != 0 {
        val = val.wrapping_add(4 - val % 4);
    }
    val = val.wrapping_add(i64::from(a.post_offset) as u64);
    // The C code adds the value as a signed 64-bit number to a pointer.
    let jump = i128::from(val as i64);
    let target = if a.from_beginning {
        jump
    } else if a.from_end {
        i128::from(len) + jump
    } else {
        start as i128 + jump + used as i128
    };
    if target < 0 {
        Some(0)
    } else if target > i128::from(len) {
        None
    } else {
        Some(target as u32)
    }
}

/// The options of one `byte_extract`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteExtractArgs {
    pub nbytes: u8,
    pub offset: i32,
    pub relative: bool,
    pub encoding: ByteEncoding,
    pub multiplier: u16,
    /// 0 (none), 2 or 4.
    pub align: u8,
}

/// `DetectByteExtractDoMatch`: the value and the new detection pointer, or `None`.
pub fn byte_extract(buf: &[u8], detect_offset: u32, a: &ByteExtractArgs) -> Option<(u64, u32)> {
    let len = buf.len() as u32;
    if len == 0 {
        return None;
    }
    let nbytes = i64::from(a.nbytes);
    let start = read_start(
        len,
        detect_offset,
        i64::from(a.offset),
        a.relative,
        nbytes,
        true,
    )?;
    let (mut val, used) = read_number(&buf[start..], usize::from(a.nbytes), a.encoding)?;
    val = val.wrapping_mul(u64::from(a.multiplier));
    let align = u64::from(a.align);
    if align != 0 && val % align != 0 {
        val = val.wrapping_add(align - val % align);
    }
    Some((val, (start + used) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteEncoding::*;

    type Read = Option<(u64, usize)>;

    #[test]
    fn strtoull_as_glibc() {
        let cases: &[(&str, u32, Result<Read, ()>)] = &[
            ("123", 10, Ok(Some((123, 3)))),
            ("  42x", 10, Ok(Some((42, 4)))),
            ("0x1f", 16, Ok(Some((31, 4)))),
            ("0x1f", 0, Ok(Some((31, 4)))),
            ("0x", 16, Ok(Some((0, 1)))),
            ("017", 0, Ok(Some((15, 3)))),
            ("19", 8, Ok(Some((1, 1)))),
            ("-1", 10, Ok(Some((u64::MAX, 2)))),
            ("+7", 10, Ok(Some((7, 2)))),
            ("abc", 10, Ok(None)),
            ("", 10, Ok(None)),
            ("-", 10, Ok(None)),
            ("18446744073709551615", 10, Ok(Some((u64::MAX, 20)))),
            ("18446744073709551616", 10, Err(())),
            ("zz", 36, Ok(Some((1295, 2)))),
            ("1", 1, Ok(None)),
        ];
        for (text, base, want) in cases {
            assert_eq!(
                strtoull(text.as_bytes(), *base),
                *want,
                "{text:?} base {base}"
            );
        }
    }

    #[test]
    fn read_number_binary_and_text() {
        let cases: &[(&[u8], usize, ByteEncoding, Read)] = &[
            (b"\x01\x02", 2, Big, Some((0x0102, 2))),
            (b"\x01\x02", 2, Little, Some((0x0201, 2))),
            (b"\x01\x02\x03", 3, Little, Some((0x030201, 3))),
            (
                b"\xff\xff\xff\xff\xff\xff\xff\xff",
                8,
                Big,
                Some((u64::MAX, 8)),
            ),
            (b"\x01", 2, Big, None),
            (b"123456789", 9, Big, None),
            (b"12a", 3, String(10), Some((12, 2))),
            (b"ff", 2, String(16), Some((255, 2))),
            (b"1\x002", 3, String(10), Some((1, 1))),
            (b"x1", 2, String(10), None),
            (b"0", 1, String(10), Some((0, 1))),
            (b"99999999999999999999", 20, String(10), None),
            (b"", 0, String(10), None),
            (b"", 0, Big, Some((0, 0))),
        ];
        for (data, n, enc, want) in cases {
            assert_eq!(read_number(data, *n, *enc), *want, "{data:?} {n} {enc:?}");
        }
    }

    fn bt(nbytes: i64, op: ByteOp, value: u64, offset: i64) -> ByteTestArgs {
        ByteTestArgs {
            nbytes,
            offset,
            value,
            op,
            negated: false,
            relative: false,
            encoding: Big,
            bitmask: None,
        }
    }

    #[test]
    fn byte_test_table() {
        use ByteOp::*;
        let rel = |mut a: ByteTestArgs| {
            a.relative = true;
            a
        };
        let neg = |mut a: ByteTestArgs| {
            a.negated = true;
            a
        };
        let cases: Vec<(&[u8], u32, ByteTestArgs, bool)> = vec![
            (b"\x00\x05", 0, bt(2, Eq, 5, 0), true),
            (b"\x00\x05", 0, bt(2, Lt, 5, 0), false),
            (b"\x00\x05", 0, bt(2, Le, 5, 0), true),
            (b"\x00\x05", 0, bt(2, Gt, 4, 0), true),
            (b"\x00\x05", 0, bt(2, Ge, 6, 0), false),
            (b"\x00\x05", 0, bt(2, And, 4, 0), true),
            (b"\x00\x05", 0, bt(2, And, 2, 0), false),
            (b"\x00\x05", 0, neg(bt(2, And, 2, 0)), true),
            (b"\x00\x05", 0, bt(2, Xor, 5, 0), false),
            (b"\x00\x05", 0, bt(2, Xor, 4, 0), true),
            (b"\x00\x05", 0, neg(bt(2, Eq, 5, 0)), false),
            // Out of the buffer: no match, negated or not.
            (b"\x00\x05", 0, bt(2, Eq, 5, 1), false),
            (b"\x00\x05", 0, neg(bt(2, Eq, 9, 1)), false),
            (b"\x00\x05", 0, bt(1, Eq, 5, -1), false),
            (b"", 0, neg(bt(1, Eq, 5, 0)), false),
            // Relative: from the detection pointer; negative offsets may reach back.
            (b"ab\x07", 2, rel(bt(1, Eq, 7, 0)), true),
            (b"ab\x07", 3, rel(bt(1, Eq, 7, -1)), true),
            (b"ab\x07", 3, rel(bt(1, Eq, 7, 0)), false),
            (b"ab\x07", 1, rel(bt(1, Eq, 7, -2)), false),
            (b"ab\x07", 0, rel(bt(1, Eq, 7, i64::from(i32::MAX))), false),
        ];
        for (k, (data, at, args, want)) in cases.iter().enumerate() {
            assert_eq!(byte_test(data, *at, args), *want, "case {k}: {args:?}");
        }
        let mut masked = bt(2, Eq, 3, 0);
        masked.bitmask = Some((0x0f00, 8));
        assert!(byte_test(b"\x13\x00", 0, &masked));
        masked.encoding = Little;
        assert!(!byte_test(b"\x13\x00", 0, &masked));
        let mut text = bt(3, Gt, 99, 0);
        text.encoding = String(10);
        assert!(byte_test(b"100", 0, &text));
        assert!(!byte_test(b"abc", 0, &text));
        text.negated = true;
        assert!(
            !byte_test(b"abc", 0, &text),
            "unreadable text is no match even negated"
        );
    }

    fn bj(nbytes: i64, offset: i64) -> ByteJumpArgs {
        ByteJumpArgs {
            nbytes,
            offset,
            relative: false,
            encoding: Big,
            multiplier: 1,
            align: false,
            post_offset: 0,
            from_beginning: false,
            from_end: false,
        }
    }

    #[test]
    fn byte_jump_table() {
        let data = b"\x00\x03abcdefgh";
        let mut cases: Vec<(u32, ByteJumpArgs, Option<u32>)> = vec![
            (0, bj(2, 0), Some(5)),
            (0, bj(1, 1), Some(5)),
            (0, bj(2, 9), None),
        ];
        let mut a = bj(2, 0);
        a.multiplier = 2;
        cases.push((0, a, Some(8)));
        a.align = true;
        cases.push((0, a, Some(10)));
        let mut a = bj(2, 0);
        a.align = true;
        cases.push((0, a, Some(6)));
        let mut a = bj(2, 0);
        a.from_beginning = true;
        cases.push((0, a, Some(3)));
        a.post_offset = -10;
        cases.push((0, a, Some(0)));
        let mut a = bj(2, 0);
        a.from_end = true;
        a.post_offset = -5;
        cases.push((0, a, Some(8)));
        let mut a = bj(2, 0);
        a.multiplier = 65535;
        cases.push((0, a, None));
        let mut a = bj(1, -1);
        a.relative = true;
        cases.push((2, a, Some(5)));
        cases.push((0, a, None));
        let mut a = bj(0, 0);
        a.relative = true;
        cases.push((10, a, Some(10)));
        for (k, (at, args, want)) in cases.iter().enumerate() {
            assert_eq!(byte_jump(data, *at, args), *want, "case {k}: {args:?}");
        }
        let mut text = bj(3, 0);
        text.encoding = String(10);
        // "2x" reads 1 byte: the jump counts from the end of what was read.
        assert_eq!(byte_jump(b"2xabcdef", 0, &text), Some(3));
        assert_eq!(byte_jump(b"xxabcdef", 0, &text), None);
        let mut huge = bj(8, 0);
        huge.multiplier = 65535;
        // 2^64 - 1 times 65535 wraps to -65535: a jump before the buffer start lands on it.
        assert_eq!(byte_jump(&[0xff; 16], 0, &huge), Some(0));
    }

    #[test]
    fn byte_extract_table() {
        let a = ByteExtractArgs {
            nbytes: 2,
            offset: 1,
            relative: false,
            encoding: Big,
            multiplier: 1,
            align: 0,
        };
        assert_eq!(byte_extract(b"\x09\x00\x05z", 0, &a), Some((5, 3)));
        assert_eq!(byte_extract(b"\x09\x00", 0, &a), None);
        let mut m = a;
        m.multiplier = 3;
        m.align = 4;
        assert_eq!(byte_extract(b"\x09\x00\x05z", 0, &m), Some((16, 3)));
        let mut r = a;
        r.relative = true;
        r.offset = -1;
        assert_eq!(byte_extract(b"\x09\x00\x05z", 2, &r), Some((5, 3)));
        assert_eq!(byte_extract(b"\x09\x00\x05z", 0, &r), None);
        let mut s = a;
        s.encoding = String(16);
        s.nbytes = 3;
        s.offset = 0;
        assert_eq!(byte_extract(b"1fz", 0, &s), Some((31, 2)));
        assert_eq!(byte_extract(b"", 0, &s), None);
    }
}
