//! `base64_decode` on one buffer: a pure function of the buffer, the detection pointer
//! and the keyword's options, following Suricata 7.0.10's `DetectBase64DecodeDoMatch`
//! (src/detect-base64-decode.c) and `DecodeBase64` in `BASE64_MODE_RFC4648`
//! (src/util-base64.c).
//!
//! What the decoder does, byte for byte as Suricata:
//! - characters of the standard alphabet (`A-Z a-z 0-9 + /`) are taken four at a time;
//!   `=` counts as a zero-valued character and as padding of its quantum (3 bytes minus
//!   one per `=`, none for four), and does not end decoding: `Zg==Zm9v` is `ffoo`;
//! - any other byte (white space included) ends decoding; a partial quantum before it
//!   gives 1 byte for 1 or 2 characters, 2 bytes for 3 (its `=` ignored);
//! - at the end of the input a partial quantum of `n` characters gives `n - 1` bytes;
//! - the output goes to the per-thread buffer, whose size is the largest `bytes` of all
//!   the rules (65,535 unless every rule gives less); a quantum that would not fit, or
//!   that finds fewer than 3 free bytes, ends decoding.

use crate::rules::detection::Base64Decode;

/// `BASE64_DECODE_MAX`: the default and largest `bytes`, and the per-thread buffer's
/// size when a rule gives no `bytes`.
pub const BASE64_DECODE_MAX: u16 = 65_535;

/// The 6-bit value of a character of the standard alphabet.
fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `DecodeBase64Block`.
fn block_bytes(b: [u8; 4]) -> [u8; 3] {
    [
        (b[0] << 2) | (b[1] >> 4),
        (b[1] << 4) | (b[2] >> 2),
        (b[2] << 6) | b[3],
    ]
}

/// `DecodeBase64(dest, dest_size, src, len, ..., BASE64_MODE_RFC4648)`: the decoded
/// bytes (Suricata's `decoded_bytes` first bytes of `dest`).
pub fn decode_rfc4648(src: &[u8], dest_size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(dest_size.min(src.len() / 4 * 3 + 3));
    let mut block = [0u8; 4];
    let mut n = 0usize;
    let mut padding = 0usize;
    let mut valid = true;
    // Whether `take` more bytes (a whole 3-byte block written) fit the buffer.
    let fits = |len: usize, take: usize| dest_size >= len + take && dest_size - len >= 3;
    for &c in src {
        let v = value(c);
        if v.is_none() {
            if c != b'=' {
                valid = false;
                break;
            }
            padding += 1;
        }
        block[n] = v.unwrap_or(0);
        n += 1;
        if n == 4 {
            let take = 3 - padding.min(3);
            if !fits(out.len(), take) {
                return out;
            }
            out.extend_from_slice(&block_bytes(block)[..take]);
            block = [0; 4];
            n = 0;
            padding = 0;
        }
    }
    if n > 0 {
        // An invalid character after 1 or 2 characters gives 1 byte, after 3 gives 2;
        // the end of the input after n characters gives n - 1.
        let take = if valid { n - 1 } else { n.max(2) - 1 };
        if !fits(out.len(), take) {
            return out;
        }
        out.extend_from_slice(&block_bytes(block)[..take]);
    }
    out
}

/// `DetectBase64DecodeDoMatch`: the bytes `base64_decode` decodes from `buf` with the
/// detection pointer at `buffer_offset`, into a buffer of `dest_size` bytes. The keyword
/// matches when this is not empty.
pub fn base64_decode(
    buf: &[u8],
    buffer_offset: u32,
    args: &Base64Decode,
    dest_size: usize,
) -> Vec<u8> {
    let mut data = buf;
    if args.relative {
        data = data.get(buffer_offset as usize..).unwrap_or_default();
    }
    if args.offset != 0 {
        let offset = args.offset as usize;
        if offset >= data.len() {
            return Vec::new();
        }
        data = &data[offset..];
    }
    // `bytes 0` (or none) is the maximum.
    let bytes = if args.bytes == 0 {
        BASE64_DECODE_MAX
    } else {
        args.bytes
    };
    let data = &data[..data.len().min(usize::from(bytes))];
    decode_rfc4648(data, dest_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: usize = 65_535;

    fn dec(s: &str) -> Vec<u8> {
        decode_rfc4648(s.as_bytes(), BIG)
    }

    #[test]
    fn rfc4648_test_vectors() {
        // B64TestVectorsRFC4648 in src/util-base64.c.
        assert_eq!(dec(""), b"");
        assert_eq!(dec("Zg=="), b"f");
        assert_eq!(dec("Zm8="), b"fo");
        assert_eq!(dec("Zm9v"), b"foo");
        assert_eq!(dec("Zm9vYg=="), b"foob");
        assert_eq!(dec("Zm9vYmE="), b"fooba");
        assert_eq!(dec("Zm9vYmFy"), b"foobar");
        assert_eq!(dec("Zm 9v Ym Fy"), b"f");
        assert_eq!(dec("Zm$9vYm.Fy"), b"f");
        assert_eq!(
            dec("Y21Wd2IzSjBaVzFoYVd4bWNtRjFaRUJoZEc4dVoyOTJMbUYxOmpqcHh4b3Rhb2w%3D"),
            b"cmVwb3J0ZW1haWxmcmF1ZEBhdG8uZ292LmF1:jjpxxotaol"
        );
    }

    #[test]
    fn partial_quanta_and_padding() {
        // End of input: n characters give n - 1 bytes.
        assert_eq!(dec("SGVsbG8gV29ybGR"), b"Hello World");
        assert_eq!(dec("Zm9vY"), b"foo");
        assert_eq!(dec("Zm9vYm"), b"foob");
        // An invalid character: 1 or 2 characters give 1 byte, 3 give 2.
        assert_eq!(dec("Zm9vY!"), b"foo\x60");
        assert_eq!(dec("Zm9vYm!"), b"foob");
        assert_eq!(dec("Zm9vYmE!"), b"fooba");
        assert_eq!(dec("!Zm9v"), b"");
        // `=` pads its quantum and decoding goes on.
        assert_eq!(dec("Zg==Zm9v"), b"ffoo");
        assert_eq!(dec("===="), b"");
        // A partial quantum keeps its `=` as zero bits: "Zg=" is 2 bytes.
        assert_eq!(dec("Zg="), b"f\x00");
        // White space ends decoding (RFC 4648 mode).
        assert_eq!(dec("Zm9v\r\nYmFy"), b"foo");
    }

    #[test]
    fn destination_size() {
        // A quantum needs 3 free bytes.
        assert_eq!(decode_rfc4648(b"Zm", 2), b"");
        assert_eq!(decode_rfc4648(b"Zm", 3), b"f");
        assert_eq!(decode_rfc4648(b"Z!", 2), b"");
        assert_eq!(decode_rfc4648(b"Zm9vYmFy", 5), b"foo");
        assert_eq!(decode_rfc4648(b"Zm9vYmFy", 6), b"foobar");
        assert_eq!(decode_rfc4648(b"Zm9vYmFy", 0), b"");
    }

    #[test]
    fn options() {
        let a = |bytes, offset, relative| Base64Decode {
            bytes,
            offset,
            relative,
        };
        let buf = b"xxZm9vYmFy";
        assert_eq!(base64_decode(buf, 0, &a(0, 2, false), BIG), b"foobar");
        assert_eq!(base64_decode(buf, 2, &a(0, 0, true), BIG), b"foobar");
        assert_eq!(base64_decode(buf, 1, &a(0, 1, true), BIG), b"foobar");
        assert_eq!(base64_decode(buf, 2, &a(4, 0, true), BIG), b"foo");
        assert_eq!(base64_decode(buf, 2, &a(6, 0, true), BIG), b"foob");
        // Not relative: the pointer is ignored.
        assert_eq!(base64_decode(buf, 5, &a(0, 2, false), BIG), b"foobar");
        // An offset at or past the end decodes nothing.
        assert_eq!(base64_decode(buf, 0, &a(0, 10, false), BIG), b"");
        assert_eq!(base64_decode(buf, 8, &a(0, 2, true), BIG), b"");
        assert_eq!(base64_decode(buf, 99, &a(0, 0, true), BIG), b"");
        assert_eq!(base64_decode(b"", 0, &a(0, 0, false), BIG), b"");
        // Not base64 at the start.
        assert_eq!(
            base64_decode(buf, 0, &a(0, 0, false), BIG),
            b"\xc7\x16\x66\xf6\xf6\x26\x17"
        );
    }
}
