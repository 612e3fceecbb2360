//! Content inspection of one buffer: Suricata 7.0.10's `DetectEngineContentInspection`
//! (src/detect-engine-content-inspection.c), with the load-time adjustments that decide
//! its windows (`PropagateLimits` in detect-content.c, `SigParseApplyDsizeToContent` in
//! detect-dsize.c) and the transforms of src/detect-transform-*.c.
//!
//! A rule's payload keywords are grouped into one [`BufferProgram`] per inspected buffer
//! (buffer name and transforms); each program is evaluated on its own buffer, the way
//! Suricata runs one inspection engine per list of the signature.
//!
//! Two effects that decide whether Suricata inspects a buffer at all are the caller's,
//! not this module's (both confirmed against a Suricata 7.0.10 run):
//! - a rule with packet-payload keywords is never run on a packet without payload
//!   (`SignatureCreateMask` sets `SIG_MASK_REQUIRE_PAYLOAD`; `PacketCreateMask` gives it
//!   only to packets with `payload_len > 0`);
//! - when the rule's fast pattern is a negated content without distance, within, depth,
//!   offset or chop (`DETECT_CONTENT_MPM_IS_CONCLUSIVE`, which ignores `endswith`; after
//!   `PropagateLimits` a first content's `distance:0` no longer counts), the rule is
//!   dropped whenever the pattern occurs (`DetectPrefilterMergeSort`: a rule on both the
//!   mpm and the non-mpm list), even where inspection would match (`endswith`).
//!
//! Not modelled: Suricata's rule-parse-time moves of a content to another list by a
//! legacy modifier (`http_uri` after `distance`) set both "next" flags on the previous
//! match of the new list (detect-parse.c); that only adds retries that cannot change the
//! result, and so can only move the point where the recursion limit is reached.

use std::borrow::Cow;

use md5::Digest as _;
use memchr::memmem;

use super::base64::{base64_decode, BASE64_DECODE_MAX};
use super::bytes;
use super::pcre::{compile_pattern, compile_pcre, Pcre, PcreError};
use super::signature::num_test;
use crate::rules::detection::{
    Base64Decode, BufferMatch, ByteExtract, ByteJump, ByteOperand, ByteTest, ContentMatch,
    Detection, IsDataAt, MatchTest, Transform, BASE64_DATA,
};
use crate::rules::options::NumTest;

/// Suricata's default `detect.inspection-recursion-limit`.
pub const DEFAULT_RECURSION_LIMIT: u32 = 3000;

// DetectContentData flags (detect-content.h), the ones inspection and PropagateLimits use.
const NOCASE: u32 = 1 << 0;
const DISTANCE: u32 = 1 << 1;
const WITHIN: u32 = 1 << 2;
const OFFSET: u32 = 1 << 3;
const DEPTH: u32 = 1 << 4;
const NEGATED: u32 = 1 << 9;
const ENDS_WITH: u32 = 1 << 10;
const WITHIN_NEXT: u32 = 1 << 17;
const DISTANCE_NEXT: u32 = 1 << 18;
const RELATIVE_NEXT: u32 = WITHIN_NEXT | DISTANCE_NEXT;
/// `DETECT_DEPTH | DETECT_CONTENT_WITHIN` as written in `PropagateLimits`: `DETECT_DEPTH`
/// is keyword id 31, so the mask is in effect NOCASE|DISTANCE|WITHIN|OFFSET|DEPTH.
const PROPAGATE_QUIRK_MASK: u32 = 31 | WITHIN;

/// A pattern every match of a program needs, and where in the buffer it must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefilterPattern<'a> {
    pub bytes: &'a [u8],
    /// The buffer starts with it (`startswith`, or `depth` of its length at offset 0).
    pub prefix: bool,
    /// The buffer ends with it (`endswith`).
    pub suffix: bool,
    /// It ends within this many bytes of the buffer start (an absolute `depth`).
    pub window: Option<usize>,
}

/// The compiled matches of one buffer: what one Suricata inspection engine runs.
#[derive(Clone, Debug)]
pub struct BufferProgram {
    buffer: Option<&'static str>,
    transform_list: Vec<Transform>,
    transforms: Vec<Xform>,
    tests: Vec<Test>,
    /// The rule's `base64_data` matches, for the `base64_decode`s of this program
    /// (Suricata's `DETECT_SM_LIST_BASE64_DATA`, one list the rule's every
    /// base64_decode inspects). `None` without base64_decode or base64_data matches.
    base64_data: Option<std::sync::Arc<BufferProgram>>,
    /// The size of the per-thread buffer base64_decode decodes into: the largest
    /// `bytes` of the ruleset's base64_decodes (`de_ctx->base64_decode_max_len`).
    base64_dest: u32,
}

#[derive(Clone, Debug)]
enum Test {
    Content(Box<ContentTest>),
    Pcre(Box<PcreTest>),
    Bsize(NumTest),
    Urilen(NumTest),
    AppLayerEvent(u8),
    IsDataAt(IsDataAt),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    Base64Decode(Base64Decode),
}

impl Test {
    /// A `byte_*` keyword with `relative`.
    fn relative_byte(&self) -> bool {
        match self {
            Test::ByteTest(b) => b.relative,
            Test::ByteJump(b) => b.relative,
            Test::ByteExtract(b) => b.relative,
            _ => false,
        }
    }

    /// isdataat and the byte keywords: what a relative one outside a sticky buffer may
    /// take as its anchor (setting no flag on it).
    fn is_pointer_keyword(&self) -> bool {
        matches!(
            self,
            Test::IsDataAt(_) | Test::ByteTest(_) | Test::ByteJump(_) | Test::ByteExtract(_)
        )
    }
}

/// A content as Suricata holds it after load: `depth` is the absolute end (depth +
/// offset), and `PropagateLimits` may have added depth/offset to relative contents.
#[derive(Clone, Debug)]
struct ContentTest {
    /// The pattern, lower-cased when `nocase`.
    pattern: Vec<u8>,
    finder: memmem::Finder<'static>,
    flags: u32,
    depth: u16,
    offset: u16,
    distance: i32,
    within: i32,
    /// Marked `fast_pattern` in the rule.
    fast_pattern: bool,
}

#[derive(Clone, Debug)]
struct PcreTest {
    re: Pcre,
    negated: bool,
    relative: bool,
    relative_next: bool,
}

#[derive(Clone, Debug)]
enum Xform {
    DotPrefix,
    ToLower,
    ToUpper,
    StripWhitespace,
    CompressWhitespace,
    Md5,
    Sha1,
    Sha256,
    UrlDecode,
    HeaderLowercase,
    StripPseudoHeaders,
    Xor(Vec<u8>),
    Pcrexform(Box<Pcre>),
}

/// Compiles a rule's payload matches, grouped by buffer and transforms (in the order the
/// groups first appear; rule order within a group).
pub fn compile_matches(matches: &[BufferMatch]) -> Result<Vec<BufferProgram>, PcreError> {
    compile_with_dsize(matches, None)
}

/// As [`compile_matches`], also applying the rule's `dsize` to the payload contents as
/// Suricata does (`SigParseApplyDsizeToContent`: the largest size the `dsize` allows
/// becomes the depth of every packet-payload content that has none or a larger one).
pub fn compile_detection(d: &Detection) -> Result<Vec<BufferProgram>, PcreError> {
    compile_with_dsize(&d.matches, d.dsize)
}

fn compile_with_dsize(
    matches: &[BufferMatch],
    dsize: Option<NumTest>,
) -> Result<Vec<BufferProgram>, PcreError> {
    // `isdataat:!1,relative` right after a content is not a keyword of its own in
    // Suricata: it sets `endswith` on that content (DetectIsdataatSetup). The previous
    // match is the last content or pcre (in a sticky buffer), or the last content, pcre
    // or isdataat (otherwise), in the whole rule.
    let mut dropped = vec![false; matches.len()];
    let mut ends_with = vec![false; matches.len()];
    for (i, m) in matches.iter().enumerate() {
        let MatchTest::IsDataAt(d) = &m.test else {
            continue;
        };
        if !(d.offset == 1 && d.negated && d.relative) {
            continue;
        }
        let prev = (0..i).rev().find(|&j| {
            // In base64_data only its own list is searched (the active list).
            let own_list = m.buffer != Some(BASE64_DATA) || matches[j].buffer == m.buffer;
            !dropped[j]
                && own_list
                && match matches[j].test {
                    MatchTest::Content(_) | MatchTest::Pcre(_) => true,
                    MatchTest::IsDataAt(_)
                    | MatchTest::ByteTest(_)
                    | MatchTest::ByteJump(_)
                    | MatchTest::ByteExtract(_) => m.buffer.is_none(),
                    MatchTest::Bsize(_)
                    | MatchTest::Urilen(_)
                    | MatchTest::AppLayerEvent(_)
                    | MatchTest::Base64Decode(_) => false,
                }
        });
        if let Some(j) = prev {
            if matches!(matches[j].test, MatchTest::Content(_)) {
                ends_with[j] = true;
                dropped[i] = true;
            }
        }
    }

    let mut groups: Vec<(Option<&'static str>, &[Transform], Vec<usize>)> = Vec::new();
    let mut base64_idx = Vec::new();
    for (i, m) in matches.iter().enumerate() {
        if dropped[i] {
            continue;
        }
        if m.buffer == Some(BASE64_DATA) {
            base64_idx.push(i);
            continue;
        }
        match groups
            .iter_mut()
            .find(|(b, t, _)| *b == m.buffer && *t == m.transforms.as_slice())
        {
            Some(g) => g.2.push(i),
            None => groups.push((m.buffer, &m.transforms, vec![i])),
        }
    }

    // The base64_data list: set at parse time like any list (the "next" flags), but
    // Suricata's PropagateLimits skips it and dsize does not apply.
    let base64_data = if base64_idx.is_empty() {
        None
    } else {
        let mut tests = base64_idx
            .iter()
            .map(|&i| compile_test(&matches[i].test, ends_with[i]))
            .collect::<Result<Vec<_>, _>>()?;
        set_next_flags(&mut tests, true);
        Some(std::sync::Arc::new(BufferProgram {
            buffer: Some(BASE64_DATA),
            transform_list: Vec::new(),
            transforms: Vec::new(),
            tests,
            base64_data: None,
            base64_dest: u32::from(BASE64_DECODE_MAX),
        }))
    };

    let mut programs = Vec::with_capacity(groups.len());
    for (buffer, transforms, idx) in groups {
        let mut tests = idx
            .iter()
            .map(|&i| compile_test(&matches[i].test, ends_with[i]))
            .collect::<Result<Vec<_>, _>>()?;
        set_next_flags(&mut tests, buffer.is_some());
        propagate_limits(&mut tests);
        if buffer.is_none() {
            if let Some(max) = dsize.and_then(max_dsize) {
                apply_dsize(&mut tests, max);
            }
        }
        let decodes = tests.iter().any(|t| matches!(t, Test::Base64Decode(_)));
        programs.push(BufferProgram {
            buffer,
            transform_list: transforms.to_vec(),
            transforms: transforms
                .iter()
                .map(compile_transform)
                .collect::<Result<_, _>>()?,
            tests,
            base64_data: base64_data.clone().filter(|_| decodes),
            base64_dest: u32::from(BASE64_DECODE_MAX),
        });
    }
    Ok(programs)
}

fn compile_test(test: &MatchTest, ends_with: bool) -> Result<Test, PcreError> {
    Ok(match test {
        MatchTest::Content(c) => Test::Content(Box::new(content_test(c, ends_with))),
        MatchTest::Pcre(p) => Test::Pcre(Box::new(PcreTest {
            re: compile_pcre(p)?,
            negated: p.negated,
            relative: p.relative(),
            relative_next: false,
        })),
        MatchTest::Bsize(t) => Test::Bsize(*t),
        MatchTest::Urilen(t) => Test::Urilen(*t),
        MatchTest::AppLayerEvent(code) => Test::AppLayerEvent(*code),
        MatchTest::IsDataAt(d) => Test::IsDataAt(*d),
        MatchTest::ByteTest(b) => Test::ByteTest(*b),
        MatchTest::ByteJump(b) => Test::ByteJump(*b),
        MatchTest::ByteExtract(b) => Test::ByteExtract(b.clone()),
        MatchTest::Base64Decode(b) => Test::Base64Decode(*b),
    })
}

fn content_test(c: &ContentMatch, extra_ends_with: bool) -> ContentTest {
    let mut flags = 0;
    if c.nocase {
        flags |= NOCASE;
    }
    if c.negated {
        flags |= NEGATED;
    }
    if c.endswith || extra_ends_with {
        flags |= ENDS_WITH;
    }
    // `startswith` is depth = length without an offset flag (DetectStartsWithSetup).
    let offset = if c.startswith {
        0
    } else {
        c.offset.unwrap_or(0)
    };
    if c.offset.is_some() && !c.startswith {
        flags |= OFFSET;
    }
    // Suricata keeps the depth as the absolute end: depth + offset, in 16 bits
    // (DetectDepthSetup / DetectOffsetSetup: `cd->depth += cd->offset`).
    let depth = match c.depth {
        Some(d) => {
            flags |= DEPTH;
            d.wrapping_add(offset)
        }
        None => 0,
    };
    if c.distance.is_some() {
        flags |= DISTANCE;
    }
    if c.within.is_some() {
        flags |= WITHIN;
    }
    let pattern = if c.nocase {
        c.bytes.to_ascii_lowercase()
    } else {
        c.bytes.clone()
    };
    ContentTest {
        finder: memmem::Finder::new(&pattern).into_owned(),
        pattern,
        flags,
        depth,
        offset,
        distance: c.distance.unwrap_or(0),
        within: c.within.unwrap_or(0),
        fast_pattern: c.fast_pattern.is_some(),
    }
}

/// The flags a relative keyword sets on the content or pcre before it in its list
/// (DetectDistanceSetup, DetectWithinSetup, DetectPcreSetup, DetectIsdataatSetup). They
/// decide whether that match is retried at its next occurrence when a later one fails.
fn set_next_flags(tests: &mut [Test], sticky: bool) {
    for k in 0..tests.len() {
        let flag = match &tests[k] {
            Test::Content(c) => {
                let mut f = 0;
                if c.flags & WITHIN != 0 {
                    f |= WITHIN_NEXT;
                }
                if c.flags & DISTANCE != 0 {
                    // A negated content with distance makes the previous one retried too.
                    f |= if c.flags & NEGATED != 0 {
                        RELATIVE_NEXT
                    } else {
                        DISTANCE_NEXT
                    };
                }
                f
            }
            Test::Pcre(p) if p.relative => RELATIVE_NEXT,
            Test::IsDataAt(d) if d.relative => RELATIVE_NEXT,
            t if t.relative_byte() => RELATIVE_NEXT,
            _ => 0,
        };
        if flag == 0 {
            continue;
        }
        let pointer = tests[k].is_pointer_keyword();
        let prev = (0..k).rev().find(|&j| match &tests[j] {
            Test::Content(_) | Test::Pcre(_) => true,
            // A relative isdataat or byte keyword outside a sticky buffer takes the
            // previous one of those as its anchor too, and then sets no flag.
            t if t.is_pointer_keyword() => pointer && !sticky,
            _ => false,
        });
        match prev.and_then(|j| tests.get_mut(j)) {
            Some(Test::Content(c)) => c.flags |= flag,
            Some(Test::Pcre(p)) => p.relative_next = true,
            _ => {}
        }
    }
}

/// `PropagateLimits` (detect-content.c): the depth and offset Suricata derives for the
/// contents of a list at load (for the prefilter), which inspection then also applies.
/// Integer widths follow the C code (16-bit depth and offset).
fn propagate_limits(tests: &mut [Test]) {
    let mut offset: u16 = 0;
    let mut offset_plus_pat: u16 = 0;
    let mut depth: u16 = 0;
    let mut chain = false;
    let mut has_depth = false;
    let mut has_ends_with = false;
    let mut ends_with_depth: u16 = 0;
    let in_u16 = |v: i64| (0..=i64::from(u16::MAX)).contains(&v);

    for (i, t) in tests.iter_mut().enumerate() {
        let cd = match t {
            Test::Content(c) => c,
            Test::Pcre(p) => {
                if p.relative {
                    depth = 0;
                } else {
                    offset_plus_pat = 0;
                    offset = 0;
                    depth = 0;
                }
                chain = false;
                continue;
            }
            _ => {
                offset_plus_pat = 0;
                offset = 0;
                depth = 0;
                chain = false;
                continue;
            }
        };
        let len = cd.pattern.len() as u16;
        if cd.flags & (DEPTH | OFFSET | WITHIN | DISTANCE) == 0 {
            offset = 0;
            depth = 0;
            offset_plus_pat = len;
            chain = false;
            continue;
        }
        // The first keyword of the list: distance/within are from the buffer start, so
        // they become offset/depth.
        if i == 0
            && (0..=i32::from(u16::MAX)).contains(&cd.distance)
            && (0..=i32::from(u16::MAX)).contains(&cd.within)
        {
            if cd.flags & DISTANCE != 0 {
                if cd.distance > 0 {
                    cd.flags |= OFFSET;
                }
                cd.flags &= !DISTANCE;
                cd.offset = cd.distance as u16;
                cd.distance = 0;
            }
            if cd.flags & WITHIN != 0 {
                cd.flags |= DEPTH;
                cd.flags &= !WITHIN;
                cd.depth = (cd.within as u16).wrapping_add(cd.offset);
                cd.within = 0;
            }
        }
        if cd.flags & NEGATED != 0 {
            offset = 0;
            depth = 0;
            offset_plus_pat = 0;
            chain = false;
            continue;
        }
        if cd.depth != 0 {
            has_depth = true;
            chain = true;
        }
        if cd.flags & PROPAGATE_QUIRK_MASK == 0 {
            depth = 0;
            chain = false;
        }
        if cd.flags & DISTANCE == 0 {
            offset_plus_pat = 0;
            offset = 0;
        }
        let opp = i64::from(offset_plus_pat);
        let distance = i64::from(cd.distance);
        let within = i64::from(cd.within);
        if cd.flags & DISTANCE != 0 {
            if cd.distance >= 0 {
                if !in_u16(opp + distance) {
                    return;
                }
                offset = (opp + distance) as u16;
                cd.offset = offset;
            } else {
                offset = if distance.abs() > opp {
                    0
                } else {
                    (opp + distance) as u16
                };
                cd.offset = offset;
                offset_plus_pat = offset.wrapping_add(len);
            }
        }
        if chain {
            let opp = i64::from(offset_plus_pat);
            if offset_plus_pat != 0 && cd.flags & WITHIN != 0 && cd.within >= 0 {
                if depth != 0 && depth > offset_plus_pat {
                    let dist = if cd.flags & DISTANCE != 0 && cd.distance > 0 {
                        distance
                    } else {
                        0
                    };
                    let v = i64::from(depth) + within + dist;
                    if !in_u16(v) {
                        return;
                    }
                    depth = v as u16;
                    cd.depth = depth;
                } else {
                    // Validated on depth + within, assigned offset + within (as written).
                    if !in_u16(i64::from(depth) + within) {
                        return;
                    }
                    depth = (i64::from(offset) + within) as u16;
                    cd.depth = depth;
                }
            } else if cd.depth == 0 && depth != 0 && cd.within > 0 {
                if cd.flags & DISTANCE != 0 && cd.distance >= 0 {
                    if !in_u16(opp + distance) {
                        return;
                    }
                    cd.offset = (opp + distance) as u16;
                }
                let v = i64::from(depth) + within;
                if !in_u16(v) {
                    return;
                }
                depth = v as u16;
                cd.depth = depth;
                if cd.flags & ENDS_WITH != 0 {
                    has_ends_with = true;
                    ends_with_depth = min_nonzero(ends_with_depth, depth);
                }
            }
        }
        if cd.offset == 0 && cd.flags & DISTANCE != 0 && cd.distance >= 0 {
            cd.offset = offset_plus_pat;
        }
        let four = cd.flags & (DEPTH | OFFSET | WITHIN | DISTANCE);
        if (four == DISTANCE | WITHIN || four == DISTANCE) && cd.distance >= 0 {
            let v = i64::from(offset_plus_pat) + distance;
            if !in_u16(v) {
                return;
            }
            offset = v as u16;
            cd.offset = offset;
            offset_plus_pat = offset.wrapping_add(len);
        }
        if cd.flags & OFFSET != 0 {
            offset = cd.offset;
            offset_plus_pat = offset.wrapping_add(len);
        }
        if cd.depth != 0 {
            depth = cd.depth;
            offset_plus_pat = offset.wrapping_add(len);
            if cd.flags & ENDS_WITH != 0 {
                has_ends_with = true;
                ends_with_depth = min_nonzero(ends_with_depth, depth);
            }
        }
        if cd.flags & (WITHIN | DEPTH) == 0 {
            chain = false;
            depth = 0;
        }
    }
    // An anchored `endswith` bounds the whole buffer, so every content gets that depth.
    if has_depth && has_ends_with {
        for t in tests.iter_mut() {
            if let Test::Content(cd) = t {
                if cd.depth == 0 {
                    cd.depth = ends_with_depth;
                }
                cd.depth = cd.depth.min(ends_with_depth);
                if cd.depth != 0 {
                    cd.flags |= DEPTH;
                }
            }
        }
    }
}

/// `if (x == 0) x = v; x = MIN(x, v);`
fn min_nonzero(x: u16, v: u16) -> u16 {
    if x == 0 {
        v
    } else {
        x.min(v)
    }
}

/// `SigParseGetMaxDsize`: the bound `dsize` puts on the payload, for the modes Suricata
/// takes one from (`<N`, `N`, `!N` — sic — and `A<>B`; not `<=`, `>`, `>=`).
fn max_dsize(t: NumTest) -> Option<u16> {
    let v = match t {
        NumTest::Lt(n) | NumTest::Eq(n) | NumTest::Ne(n) => n,
        NumTest::Between(_, b) => b,
        NumTest::Le(_) | NumTest::Gt(_) | NumTest::Ge(_) => return None,
    };
    u16::try_from(v).ok()
}

/// `SigParseApplyDsizeToContent`.
fn apply_dsize(tests: &mut [Test], dsize: u16) {
    for t in tests.iter_mut() {
        if let Test::Content(cd) = t {
            if cd.depth == 0 || cd.depth >= dsize {
                cd.flags |= DEPTH;
                cd.depth = dsize;
            }
        }
    }
}

fn compile_transform(t: &Transform) -> Result<Xform, PcreError> {
    Ok(match t.name {
        "dotprefix" => Xform::DotPrefix,
        "to_lowercase" => Xform::ToLower,
        "to_uppercase" => Xform::ToUpper,
        "strip_whitespace" => Xform::StripWhitespace,
        "compress_whitespace" => Xform::CompressWhitespace,
        "to_md5" => Xform::Md5,
        "to_sha1" => Xform::Sha1,
        "to_sha256" => Xform::Sha256,
        "url_decode" => Xform::UrlDecode,
        "header_lowercase" => Xform::HeaderLowercase,
        "strip_pseudo_headers" => Xform::StripPseudoHeaders,
        "xor" => Xform::Xor(xor_key(t.value.as_deref().unwrap_or(""))?),
        "pcrexform" => Xform::Pcrexform(Box::new(compile_pcrexform(
            t.value.as_deref().unwrap_or(""),
        )?)),
        other => return Err(PcreError::Transform(other.to_string())),
    })
}

/// A `pcrexform` pattern: PCRE2 options none, exactly one capture group
/// (DetectTransformPcrexformSetup).
pub fn compile_pcrexform(pattern: &str) -> Result<Pcre, PcreError> {
    let re = compile_pattern(pattern, "")?;
    if re.capture_count() != 1 {
        return Err(PcreError::PcrexformCaptures(re.capture_count()));
    }
    Ok(re)
}

/// An `xor` key: pairs of hex digits, 1 to 255 bytes (DetectTransformXorSetup).
pub fn xor_key(hex: &str) -> Result<Vec<u8>, PcreError> {
    let h = hex.as_bytes();
    if h.is_empty() || h.len() % 2 != 0 || h.len() / 2 > 255 {
        return Err(PcreError::XorKey);
    }
    h.chunks(2)
        .map(|p| {
            let d = |b: u8| (b as char).to_digit(16);
            match (d(p[0]), d(p[1])) {
                (Some(a), Some(b)) => Ok((a * 16 + b) as u8),
                _ => Err(PcreError::XorKey),
            }
        })
        .collect()
}

/// C `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

impl Xform {
    fn apply(&self, input: &[u8]) -> Vec<u8> {
        match self {
            // TransformDotPrefix: an empty buffer stays empty.
            Xform::DotPrefix => {
                if input.is_empty() {
                    return Vec::new();
                }
                let mut out = Vec::with_capacity(input.len() + 1);
                out.push(b'.');
                out.extend_from_slice(input);
                out
            }
            Xform::ToLower => input.to_ascii_lowercase(),
            Xform::ToUpper => input.to_ascii_uppercase(),
            Xform::StripWhitespace => input.iter().copied().filter(|b| !is_space(*b)).collect(),
            // TransformCompressWhitespace: a run of white space becomes its first byte.
            Xform::CompressWhitespace => {
                let mut out = Vec::with_capacity(input.len());
                let mut prev_space = false;
                for &b in input {
                    let sp = is_space(b);
                    if !(sp && prev_space) {
                        out.push(b);
                    }
                    prev_space = sp;
                }
                out
            }
            // The raw digests (not hex), also of an empty buffer.
            Xform::Md5 => md5::Md5::digest(input).to_vec(),
            Xform::Sha1 => sha1::Sha1::digest(input).to_vec(),
            Xform::Sha256 => sha2::Sha256::digest(input).to_vec(),
            Xform::UrlDecode => url_decode(input),
            // DetectTransformHeaderLowercase: names (up to `:`) lower-cased, each line.
            Xform::HeaderLowercase => {
                let mut out = Vec::with_capacity(input.len());
                let mut in_name = true;
                for &b in input {
                    if in_name {
                        if b == b':' {
                            in_name = false;
                            out.push(b);
                        } else {
                            out.push(b.to_ascii_lowercase());
                        }
                    } else {
                        out.push(b);
                        if b == b'\n' {
                            in_name = true;
                        }
                    }
                }
                out
            }
            Xform::StripPseudoHeaders => strip_pseudo_headers(input),
            Xform::Xor(key) => input
                .iter()
                .zip(key.iter().cycle())
                .map(|(b, k)| b ^ k)
                .collect(),
            // DetectTransformPcrexform: the first capture of the first match; the buffer
            // is unchanged when there is no match or the group is unset.
            Xform::Pcrexform(re) => match re.capture(input, 1) {
                Some((s, e)) => input.get(s..e).unwrap_or_default().to_vec(),
                None => input.to_vec(),
            },
        }
    }
}

/// BufferUrlDecode: `%HH` (when both are hex digits and not at the very end) and `+`.
fn url_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    out
}

/// DetectTransformStripPseudoHeaders: drops lines whose first byte (after any CR/LF
/// that start it) is `:`, their newline included.
fn strip_pseudo_headers(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut new_line = true;
    let mut pseudo = false;
    for &b in input {
        if new_line {
            if b == b':' {
                pseudo = true;
            }
            if b != b'\r' && b != b'\n' {
                new_line = false;
            }
        } else if b == b'\n' {
            new_line = true;
            if !pseudo {
                out.push(b);
            }
            pseudo = false;
            continue;
        }
        if !pseudo {
            out.push(b);
        }
    }
    out
}

/// The `DetectEngineThreadCtx` state inspection threads through its recursion.
struct Cx<'a> {
    buf: &'a [u8],
    len: u32,
    counter: u64,
    /// 0: no limit (`inspection-recursion-limit: 0`).
    limit: u64,
    discontinue: bool,
    buffer_offset: u32,
    pcre_match_start_offset: u32,
    /// `byte_extract` values by slot (Suricata's `det_ctx->byte_values`).
    vars: Vec<u64>,
}

impl BufferProgram {
    /// The sticky buffer (canonical name); `None` is the packet payload or raw stream.
    pub fn buffer(&self) -> Option<&'static str> {
        self.buffer
    }

    /// The transforms applied to the buffer before the tests, as written.
    pub fn transforms(&self) -> &[Transform] {
        &self.transform_list
    }

    /// A pattern that occurs in every (transformed) buffer this program matches, for the
    /// prefilter: the content marked `fast_pattern` when it is not negated, otherwise the
    /// longest non-negated content (all contents of a program must match; negated ones
    /// need not occur). Lower-cased when the content is `nocase`. `None` without one.
    pub fn prefilter_pattern(&self) -> Option<PrefilterPattern<'_>> {
        let required = self.tests.iter().filter_map(|t| match t {
            Test::Content(c) if c.flags & NEGATED == 0 && !c.pattern.is_empty() => Some(c),
            _ => None,
        });
        let mut best: Option<&ContentTest> = None;
        for c in required {
            let better = match best {
                None => true,
                Some(b) => (c.fast_pattern, c.pattern.len()) > (b.fast_pattern, b.pattern.len()),
            };
            if better {
                best = Some(c);
            }
        }
        best.map(|c| {
            // Absolute, at offset 0, with a depth of its own length: it starts the buffer.
            let prefix = c.flags & (DISTANCE | WITHIN) == 0
                && c.flags & DEPTH != 0
                && c.offset == 0
                && usize::from(c.depth) == c.pattern.len();
            let absolute = c.flags & (DISTANCE | WITHIN) == 0;
            PrefilterPattern {
                bytes: &c.pattern,
                prefix,
                suffix: c.flags & ENDS_WITH != 0,
                window: (absolute && c.flags & DEPTH != 0).then_some(usize::from(c.depth)),
            }
        })
    }

    /// The same buffer and transforms without tests: what a prefilter group applies to a
    /// buffer before scanning it.
    pub fn transforms_only(&self) -> BufferProgram {
        BufferProgram {
            buffer: self.buffer,
            transform_list: self.transform_list.clone(),
            transforms: self.transforms.clone(),
            tests: Vec::new(),
            base64_data: None,
            base64_dest: self.base64_dest,
        }
    }

    /// The largest `bytes` of this program's `base64_decode`s (65,535 when not given).
    pub fn base64_decode_max(&self) -> Option<u16> {
        self.tests
            .iter()
            .filter_map(|t| match t {
                Test::Base64Decode(d) if d.bytes == 0 => Some(BASE64_DECODE_MAX),
                Test::Base64Decode(d) => Some(d.bytes),
                _ => None,
            })
            .max()
    }

    /// Sets the size of the buffer `base64_decode` decodes into: the largest `bytes` of
    /// all the ruleset's base64_decodes, as Suricata sizes its per-thread buffer.
    pub fn set_base64_dest(&mut self, size: u16) {
        self.base64_dest = u32::from(size);
    }

    /// `DetectBase64DataDoMatch`: the base64_data list on the decoded bytes, sharing
    /// the inspection state (recursion counter, detection pointer — not reset —,
    /// byte_extract values) with the list that decoded them.
    fn inspect_decoded(&self, cx: &mut Cx, decoded: &[u8]) -> bool {
        let buf = &decoded[..decoded.len().min(u32::MAX as usize)];
        let mut inner = Cx {
            buf,
            len: buf.len() as u32,
            counter: cx.counter,
            limit: cx.limit,
            discontinue: cx.discontinue,
            buffer_offset: cx.buffer_offset,
            pcre_match_start_offset: cx.pcre_match_start_offset,
            vars: std::mem::take(&mut cx.vars),
        };
        let matched = self.step(&mut inner, 0);
        cx.counter = inner.counter;
        cx.discontinue = inner.discontinue;
        cx.buffer_offset = inner.buffer_offset;
        cx.pcre_match_start_offset = inner.pcre_match_start_offset;
        cx.vars = inner.vars;
        matched
    }

    /// Whether the buffer matches: transforms, then the tests, with Suricata's default
    /// recursion limit.
    pub fn inspect(&self, data: &[u8]) -> bool {
        self.inspect_with_limit(data, DEFAULT_RECURSION_LIMIT)
    }

    /// As [`inspect`](Self::inspect) with another `detect.inspection-recursion-limit`
    /// (0: none).
    pub fn inspect_with_limit(&self, data: &[u8], recursion_limit: u32) -> bool {
        let buf = self.transform(data);
        self.inspect_transformed(&buf, recursion_limit)
    }

    /// As [`inspect_with_limit`](Self::inspect_with_limit); `limit_hits` counts the
    /// inspections the limit ended.
    pub fn inspect_counted(
        &self,
        data: &[u8],
        recursion_limit: u32,
        limit_hits: &std::cell::Cell<u64>,
    ) -> bool {
        let buf = self.transform(data);
        let (matched, limited) = self.run(&buf, recursion_limit);
        if limited {
            limit_hits.set(limit_hits.get() + 1);
        }
        matched
    }

    /// The buffer after the transforms (borrowed when there are none).
    pub fn transform<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        let mut buf = Cow::Borrowed(data);
        for t in &self.transforms {
            buf = Cow::Owned(t.apply(&buf));
        }
        buf
    }

    /// The tests on a buffer the transforms were already applied to.
    pub fn inspect_transformed(&self, buf: &[u8], recursion_limit: u32) -> bool {
        self.run(buf, recursion_limit).0
    }

    /// Whether the tests match, and whether the recursion limit ended the inspection.
    fn run(&self, buf: &[u8], recursion_limit: u32) -> (bool, bool) {
        // Suricata's buffer lengths are 32-bit.
        let buf = &buf[..buf.len().min(u32::MAX as usize)];
        let mut cx = Cx {
            buf,
            len: buf.len() as u32,
            counter: 0,
            limit: u64::from(recursion_limit),
            discontinue: false,
            buffer_offset: 0,
            pcre_match_start_offset: 0,
            vars: Vec::new(),
        };
        let matched = self.step(&mut cx, 0);
        (matched, cx.limit > 0 && cx.counter >= cx.limit)
    }

    /// `DetectEngineContentInspection` for the test at `i`.
    fn step(&self, cx: &mut Cx, i: usize) -> bool {
        cx.counter += 1;
        if cx.counter == cx.limit {
            cx.discontinue = true;
            return false;
        }
        let Some(test) = self.tests.get(i) else {
            return false;
        };
        match test {
            Test::Content(c) => self.content(cx, i, c),
            Test::IsDataAt(d) => {
                let mut dataat = u64::from(d.offset);
                if let Some(slot) = d.var {
                    dataat = cx.var(slot);
                    // DETECT_ISDATAAT with ISDATAAT_OFFSET_VAR: a huge value decides alone.
                    if dataat >= 100_000_000 {
                        return if d.negated {
                            self.matched(cx, i)
                        } else {
                            false
                        };
                    }
                }
                let present = if d.relative {
                    u64::from(cx.buffer_offset) + dataat <= u64::from(cx.len)
                } else {
                    dataat < u64::from(cx.len)
                };
                if present != d.negated {
                    self.matched(cx, i)
                } else {
                    false
                }
            }
            Test::Bsize(t) => match bsize_match(*t, u64::from(cx.len)) {
                BsizeResult::Match => self.matched(cx, i),
                BsizeResult::NoMatch => false,
                BsizeResult::CantMatch => {
                    cx.discontinue = true;
                    false
                }
            },
            Test::Pcre(p) => self.pcre(cx, i, p),
            // A decode that yields bytes runs the base64_data list, whose result is the
            // result of this list: the keywords after base64_decode are never evaluated
            // ("Base64 is a terminal list"). Without base64_data the rule cannot match.
            Test::Base64Decode(d) => {
                let decoded = base64_decode(cx.buf, cx.buffer_offset, d, self.base64_dest as usize);
                match &self.base64_data {
                    Some(b64) if !decoded.is_empty() => b64.inspect_decoded(cx, &decoded),
                    _ => false,
                }
            }
            Test::ByteTest(b) => {
                let args = bytes::ByteTestArgs {
                    nbytes: cx.signed(b.nbytes.map(i64::from)),
                    offset: cx.signed(b.offset.map(i64::from)),
                    value: cx.operand(b.value),
                    op: b.op,
                    negated: b.negated,
                    relative: b.relative,
                    encoding: b.encoding,
                    bitmask: b
                        .bitmask
                        .map(|m| (m, if m == 0 { 0 } else { m.trailing_zeros() })),
                };
                if bytes::byte_test(cx.buf, cx.buffer_offset, &args) {
                    self.matched(cx, i)
                } else {
                    false
                }
            }
            Test::ByteJump(b) => {
                let args = bytes::ByteJumpArgs {
                    nbytes: cx.signed(b.nbytes.map(i64::from)),
                    offset: cx.signed(b.offset.map(i64::from)),
                    relative: b.relative,
                    encoding: b.encoding,
                    multiplier: u64::from(b.multiplier),
                    align: b.align,
                    post_offset: b.post_offset,
                    from_beginning: b.from_beginning,
                    from_end: b.from_end,
                };
                match bytes::byte_jump(cx.buf, cx.buffer_offset, &args) {
                    Some(at) => {
                        cx.buffer_offset = at;
                        self.matched(cx, i)
                    }
                    None => false,
                }
            }
            Test::ByteExtract(b) => {
                let args = bytes::ByteExtractArgs {
                    nbytes: b.nbytes,
                    offset: b.offset,
                    relative: b.relative,
                    encoding: b.encoding,
                    multiplier: b.multiplier,
                    align: b.align,
                };
                match bytes::byte_extract(cx.buf, cx.buffer_offset, &args) {
                    Some((value, at)) => {
                        cx.set_var(b.slot, value);
                        cx.buffer_offset = at;
                        self.matched(cx, i)
                    }
                    None => false,
                }
            }
            // The transaction's events, one code per byte (DetectEngineAptEventInspect).
            Test::AppLayerEvent(code) => {
                if cx.buf.contains(code) {
                    self.matched(cx, i)
                } else {
                    false
                }
            }
            // The buffer's length, capped to 16 bits; a miss ends the inspection
            // (detect-engine-content-inspection.c, DETECT_AL_URILEN).
            Test::Urilen(t) => {
                if num_test(t, u64::from(cx.len.min(u32::from(u16::MAX)))) {
                    self.matched(cx, i)
                } else {
                    cx.discontinue = true;
                    false
                }
            }
        }
    }

    /// The `match:` label: on to the next test, or a match if this was the last.
    fn matched(&self, cx: &mut Cx, i: usize) -> bool {
        if i + 1 >= self.tests.len() {
            true
        } else {
            self.step(cx, i + 1)
        }
    }

    fn content(&self, cx: &mut Cx, i: usize, c: &ContentTest) -> bool {
        let len = cx.len;
        let clen = c.pattern.len() as u32;
        let negated = c.flags & NEGATED != 0;
        let relative = c.flags & (DISTANCE | WITHIN) != 0;
        let ends_with = c.flags & ENDS_WITH != 0;
        let is_last = i + 1 >= self.tests.len();
        let prev_buffer_offset = cx.buffer_offset;
        let mut prev_offset: u32 = 0;
        loop {
            let mut offset: u32;
            let mut depth: u32;
            if relative {
                offset = prev_buffer_offset;
                depth = len;
                let distance = c.distance;
                if c.flags & DISTANCE != 0 {
                    if distance < 0 && distance.unsigned_abs() > offset {
                        offset = 0;
                    } else {
                        offset = offset.wrapping_add(distance as u32);
                    }
                }
                if c.flags & WITHIN != 0 {
                    // Unsigned sum compared as signed, as in the C code: a window that
                    // ends before the buffer start leaves the whole buffer.
                    let end = prev_buffer_offset
                        .wrapping_add(c.within as u32)
                        .wrapping_add(distance as u32);
                    if (depth as i32) > (end as i32) {
                        depth = end;
                    }
                }
                if c.depth != 0 {
                    let d = u32::from(c.depth).wrapping_add(prev_buffer_offset);
                    if d < depth {
                        depth = d;
                    }
                }
                if u32::from(c.offset) > offset {
                    offset = u32::from(c.offset);
                }
            } else {
                depth = if c.depth != 0 {
                    u32::from(c.depth)
                } else {
                    len
                };
                offset = u32::from(c.offset);
                // (Suricata also zeroes its copy of the previous match end here; a
                // content is relative or not for good, so nothing reads it again.)
            }
            // Searching again after an occurrence: from its start + 1.
            if prev_offset != 0 {
                offset = prev_offset;
            }
            if depth > len {
                depth = len;
            }
            if offset > depth || depth == 0 {
                return if negated { self.matched(cx, i) } else { false };
            }
            let sbuf = &cx.buf[offset as usize..depth as usize];
            // An endswith window that stops short of the buffer end cannot match.
            let found = if (ends_with && depth < len) || clen as usize > sbuf.len() {
                None
            } else {
                c.find(sbuf).map(|p| offset + p as u32)
            };
            let Some(start) = found else {
                if negated {
                    return self.matched(cx, i);
                }
                if !relative {
                    // Independent of earlier matches: nothing before can help.
                    cx.discontinue = true;
                }
                return false;
            };
            let match_offset = start + clen;
            if negated {
                // Compared with the window length, as the C code does.
                if ends_with && sbuf.len() as u32 != match_offset {
                    return self.matched(cx, i);
                }
                if is_single(c.flags) {
                    cx.discontinue = true;
                }
                return false;
            }
            cx.buffer_offset = match_offset;
            if !ends_with || match_offset == len {
                if is_last {
                    return true;
                }
                if self.step(cx, i + 1) {
                    return true;
                }
                if cx.discontinue {
                    return false;
                }
                // Retried only when a following keyword depends on where this matched
                // (DETECT_CONTENT_WITHIN_NEXT, which pcre /R and relative isdataat set).
                if c.flags & WITHIN_NEXT == 0 {
                    cx.discontinue = true;
                    return false;
                }
            }
            prev_offset = start + 1;
        }
    }

    fn pcre(&self, cx: &mut Cx, i: usize, p: &PcreTest) -> bool {
        let prev_buffer_offset = cx.buffer_offset;
        cx.pcre_match_start_offset = 0;
        loop {
            if !pcre_payload_match(cx, p) {
                return false;
            }
            if !p.relative_next || i + 1 >= self.tests.len() {
                return self.matched(cx, i);
            }
            let prev_offset = cx.pcre_match_start_offset;
            if self.step(cx, i + 1) {
                return true;
            }
            if cx.discontinue {
                return false;
            }
            // A negated pcre leaves no match to search past.
            if prev_offset == 0 {
                return false;
            }
            cx.buffer_offset = prev_buffer_offset;
            cx.pcre_match_start_offset = prev_offset;
        }
    }
}

impl Cx<'_> {
    /// The value in a variable slot (0 before anything was extracted into it).
    fn var(&self, slot: u16) -> u64 {
        self.vars.get(usize::from(slot)).copied().unwrap_or(0)
    }

    fn set_var(&mut self, slot: u16, value: u64) {
        let slot = usize::from(slot);
        if self.vars.len() <= slot {
            self.vars.resize(slot + 1, 0);
        }
        self.vars[slot] = value;
    }

    fn operand(&self, o: ByteOperand<u64>) -> u64 {
        match o {
            ByteOperand::Lit(n) => n,
            ByteOperand::Var(slot) => self.var(slot),
        }
    }

    /// A number the C code holds in an `int32_t`: a variable's 64-bit value truncated.
    fn signed(&self, o: ByteOperand<i64>) -> i64 {
        match o {
            ByteOperand::Lit(n) => n,
            ByteOperand::Var(slot) => i64::from(self.var(slot) as u32 as i32),
        }
    }
}

impl ContentTest {
    fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.flags & NOCASE == 0 {
            return self.finder.find(hay);
        }
        let first = *self.pattern.first()?;
        let n = self.pattern.len();
        let mut at = 0;
        while at + n <= hay.len() {
            let rel = if first.is_ascii_lowercase() {
                memchr::memchr2(first, first.to_ascii_uppercase(), &hay[at..])
            } else {
                memchr::memchr(first, &hay[at..])
            }?;
            let s = at + rel;
            let cand = hay.get(s..s + n)?;
            if cand.eq_ignore_ascii_case(&self.pattern) {
                return Some(s);
            }
            at = s + 1;
        }
        None
    }
}

/// `DETECT_CONTENT_IS_SINGLE`: no position constraint and no relative keyword next.
fn is_single(flags: u32) -> bool {
    flags & (DISTANCE | WITHIN | RELATIVE_NEXT | DEPTH | OFFSET) == 0
}

/// DetectPcrePayloadMatch.
fn pcre_payload_match(cx: &mut Cx, p: &PcreTest) -> bool {
    let base = if p.relative { cx.buffer_offset } else { 0 };
    let Some(subject) = cx.buf.get(base as usize..) else {
        return false;
    };
    let start = if cx.pcre_match_start_offset != 0 {
        match cx.pcre_match_start_offset.checked_sub(base) {
            Some(s) => s as usize,
            // A negative start offset is a PCRE2 error: no match.
            None => return false,
        }
    } else {
        0
    };
    match p.re.find_at(subject, start) {
        None => p.negated,
        Some(_) if p.negated => false,
        Some((s, e)) => {
            cx.buffer_offset = base + e as u32;
            cx.pcre_match_start_offset = base + s as u32 + 1;
            true
        }
    }
}

enum BsizeResult {
    Match,
    NoMatch,
    CantMatch,
}

/// DetectBsizeMatch on a complete buffer (`eof`): a failed comparison can never match
/// later, except `!=` which Suricata reports as a plain no-match.
fn bsize_match(t: NumTest, size: u64) -> BsizeResult {
    let ok = match t {
        NumTest::Eq(n) => size == n,
        NumTest::Lt(n) => size < n,
        NumTest::Le(n) => size <= n,
        NumTest::Gt(n) => size > n,
        NumTest::Ge(n) => size >= n,
        NumTest::Between(a, b) => size > a && size < b,
        NumTest::Ne(n) => size != n,
    };
    if ok {
        BsizeResult::Match
    } else if matches!(t, NumTest::Ne(_)) {
        BsizeResult::NoMatch
    } else {
        BsizeResult::CantMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rules_text, RuleContext};

    fn detection(options: &str) -> Detection {
        let text = format!("alert tcp any any -> any any ({options} sid:1;)");
        let (rules, errors) = parse_rules_text(&text, "t.rules", &RuleContext::default());
        assert!(errors.is_empty(), "{text}: {errors:?}");
        rules.into_iter().next().expect("one rule").detection
    }

    fn programs(options: &str) -> Vec<BufferProgram> {
        compile_detection(&detection(options)).expect("compiles")
    }

    fn program(options: &str) -> BufferProgram {
        let mut p = programs(options);
        assert_eq!(p.len(), 1, "{options}: one buffer");
        p.remove(0)
    }

    fn check(cases: &[(&str, &[u8], bool)]) {
        for (options, data, want) in cases {
            assert_eq!(
                program(options).inspect(data),
                *want,
                "{options} on {:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn absolute_windows() {
        check(&[
            (r#"content:"abc";"#, b"xxabc", true),
            (r#"content:"abc";"#, b"xxab", false),
            (r#"content:"abc"; depth:4;"#, b"xabc", true),
            (r#"content:"abc"; depth:4;"#, b"xxabc", false),
            (r#"content:"abc"; offset:2;"#, b"abcabc", true),
            (r#"content:"abc"; offset:2;"#, b"abcab", false),
            // depth counts from the offset, in either order.
            (r#"content:"abc"; offset:1; depth:3;"#, b"xabc", true),
            (r#"content:"abc"; offset:1; depth:3;"#, b"xxabc", false),
            (r#"content:"abc"; depth:3; offset:1;"#, b"xabc", true),
            (r#"content:"abc"; depth:3; offset:1;"#, b"xxabc", false),
            (r#"content:"abc"; offset:10;"#, b"abc", false),
            (r#"content:"ab"; startswith;"#, b"abc", true),
            (r#"content:"ab"; startswith;"#, b"xab", false),
            (r#"content:"bc"; endswith;"#, b"abc", true),
            (r#"content:"bc"; endswith;"#, b"bcx", false),
            // endswith searches on to a later occurrence.
            (r#"content:"bc"; endswith;"#, b"bcbc", true),
            (r#"content:"ab"; startswith; endswith;"#, b"ab", true),
            (r#"content:"ab"; startswith; endswith;"#, b"abab", false),
            (r#"content:"AbC"; nocase;"#, b"xaBc", true),
            (r#"content:"AbC";"#, b"xaBc", false),
            (r#"content:"|00 ff|"; nocase;"#, b"\x00\xff", true),
            (r#"content:"abc"; rawbytes;"#, b"abc", true),
            (r#"content:"abc"; fast_pattern;"#, b"abc", true),
        ]);
    }

    #[test]
    fn relative_windows() {
        check(&[
            (r#"content:"a"; content:"b"; distance:2;"#, b"axxb", true),
            (r#"content:"a"; content:"b"; distance:2;"#, b"axb", false),
            (r#"content:"a"; content:"b"; within:2;"#, b"axb", true),
            (r#"content:"a"; content:"b"; within:2;"#, b"axxb", false),
            // within counts from the previous end + distance.
            (
                r#"content:"a"; content:"b"; distance:1; within:2;"#,
                b"axxb",
                true,
            ),
            (
                r#"content:"a"; content:"b"; distance:1; within:2;"#,
                b"ab",
                false,
            ),
            (
                r#"content:"a"; content:"b"; distance:1; within:2;"#,
                b"axxxb",
                false,
            ),
            // Negative distance: back from the previous match end, not before 0.
            (r#"content:"bc"; content:"ab"; distance:-3;"#, b"abc", true),
            (
                r#"content:"abc"; content:"b"; distance:-2; within:1;"#,
                b"abc",
                true,
            ),
            (
                r#"content:"abc"; content:"c"; distance:-2; within:1;"#,
                b"abc",
                false,
            ),
            // A window ending before the buffer start: the C code compares the unsigned
            // sum as signed and keeps the whole buffer (DetectEngineContentInspection).
            (
                r#"content:"ab"; content:"z"; distance:-10; within:3;"#,
                b"abxxxxxz",
                true,
            ),
            // Relative to the last match of the same buffer only.
            (
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0;"#,
                b"abc",
                true,
            ),
            (
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0;"#,
                b"acb",
                false,
            ),
            // The first keyword of a buffer: relative to its start.
            (
                r#"http.uri; content:"b"; distance:1; within:1;"#,
                b"ab",
                true,
            ),
            (
                r#"http.uri; content:"b"; distance:1; within:1;"#,
                b"b",
                false,
            ),
        ]);
    }

    #[test]
    fn negated_contents() {
        check(&[
            (r#"content:!"abc";"#, b"xyz", true),
            (r#"content:!"abc";"#, b"xabc", false),
            (r#"content:!"abc"; depth:3;"#, b"xabc", true),
            (r#"content:!"abc"; offset:1;"#, b"abcx", true),
            (r#"content:"a"; content:!"b"; within:2;"#, b"ab", false),
            (r#"content:"a"; content:!"b"; within:2;"#, b"axb", false),
            (r#"content:"a"; content:!"b"; within:2;"#, b"axxb", true),
            // A negated content does not move the cursor.
            (
                r#"content:"a"; content:!"x"; distance:0; within:1; content:"b"; distance:0; within:1;"#,
                b"ab",
                true,
            ),
            (
                r#"content:"a"; content:!"x"; distance:0; within:1; content:"b"; distance:0; within:1;"#,
                b"axb",
                false,
            ),
            // ... and makes the content before it retried (DetectDistanceSetup).
            (
                r#"content:"a"; content:!"x"; distance:0; within:1;"#,
                b"axa",
                true,
            ),
            (r#"content:!"bc"; endswith;"#, b"bcx", true),
            (r#"content:!"bc"; endswith;"#, b"abc", false),
            (r#"content:"a"; content:!"b"; content:"c";"#, b"ac", true),
            (r#"content:"a"; content:!"b"; content:"c";"#, b"abc", false),
        ]);
    }

    #[test]
    fn backtracking_retries_the_previous_content() {
        check(&[
            (
                r#"content:"a"; content:"b"; distance:0; within:1;"#,
                b"a a ab",
                true,
            ),
            (
                r#"content:"a"; content:"b"; distance:0; within:1;"#,
                b"a a a",
                false,
            ),
            (
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1;"#,
                b"ab abx abc",
                true,
            ),
            // Distance only: a later occurrence cannot do better, no retry needed.
            (r#"content:"a"; content:"b"; distance:3;"#, b"a ab  b", true),
            // A relative pcre makes the content retried.
            (r#"content:"a"; pcre:"/^b/R";"#, b"a ab", true),
            (r#"content:"a"; isdataat:!2,relative;"#, b"a a", true),
            // A pcre is retried from its previous match start + 1 ...
            (
                r#"pcre:"/a./"; content:"z"; distance:0; within:1;"#,
                b"abacz",
                true,
            ),
            // ... but only at PCRE's own (greedy) match for each start: `a+` never ends
            // after the first `a` of "aa", so this cannot match.
            (
                r#"pcre:"/a+/"; content:"a"; distance:0; within:1;"#,
                b"aa",
                false,
            ),
            (
                r#"pcre:"/a+/"; content:"b"; distance:0; within:1;"#,
                b"aab",
                true,
            ),
        ]);
    }

    #[test]
    fn pcre_in_the_chain() {
        check(&[
            (r#"content:"x"; pcre:"/^y/R";"#, b"xy", true),
            (r#"content:"x"; pcre:"/^y/R";"#, b"xzy", false),
            (r#"content:"x"; pcre:"/y/R";"#, b"yx", false),
            (r#"content:"x"; pcre:"/y/";"#, b"yx", true),
            // A pcre match moves the cursor to its end.
            (
                r#"pcre:"/a.c/"; content:"d"; distance:0; within:1;"#,
                b"abcd",
                true,
            ),
            (
                r#"pcre:"/a.c/"; content:"d"; distance:0; within:1;"#,
                b"abcxd",
                false,
            ),
            (r#"pcre:"/a.c/"; isdataat:!1,relative;"#, b"xabc", true),
            // `$` before a final newline: the match ends before it.
            (r#"pcre:"/abc$/"; isdataat:1,relative;"#, b"abc\n", true),
            (r#"pcre:!"/abc/";"#, b"xyz", true),
            (r#"pcre:!"/abc/";"#, b"abc", false),
            (r#"content:"a"; pcre:!"/^b/R";"#, b"ac", true),
            (r#"content:"a"; pcre:!"/^b/R";"#, b"ab", false),
            // A negated pcre has no match to retry past.
            (
                r#"content:"a"; pcre:!"/^b/R"; content:"c"; distance:0; within:1;"#,
                b"axc",
                false,
            ),
            (
                r#"content:"a"; pcre:!"/^b/R"; content:"c"; within:1;"#,
                b"ac",
                true,
            ),
            (r#"pcre:"/B/i";"#, b"abc", true),
            (r#"pcre:"/^GET/A";"#, b"GET /", true),
        ]);
    }

    #[test]
    fn isdataat_and_bsize() {
        check(&[
            (r#"content:"a"; isdataat:2,relative;"#, b"abc", true),
            (r#"content:"a"; isdataat:2,relative;"#, b"ab", false),
            (r#"content:"a"; isdataat:!2,relative;"#, b"ab", true),
            (r#"content:"a"; isdataat:!2,relative;"#, b"abc", false),
            (r#"content:"x"; isdataat:3;"#, b"x123", true),
            (r#"content:"x"; isdataat:3;"#, b"x12", false),
            (r#"content:"x"; isdataat:!3;"#, b"x12", true),
            // `isdataat:!1,relative` after a content is that content's `endswith`.
            (r#"content:"a"; isdataat:!1,relative;"#, b"aba", true),
            (r#"content:"a"; isdataat:!1,relative;"#, b"ab", false),
            (r#"http.uri; content:"a"; bsize:3;"#, b"abc", true),
            (r#"http.uri; content:"a"; bsize:3;"#, b"ab", false),
            (r#"http.uri; content:"a"; bsize:>2;"#, b"abc", true),
            (r#"http.uri; content:"a"; bsize:<=2;"#, b"abc", false),
            (r#"http.uri; content:"a"; bsize:2<>4;"#, b"abc", true),
            (r#"http.uri; content:"a"; bsize:2<>4;"#, b"abcd", false),
            (r#"http.uri; content:"a"; bsize:!3;"#, b"abcd", true),
            (r#"http.uri; content:"a"; bsize:!3;"#, b"abc", false),
            (r#"http.uri; bsize:0;"#, b"", true),
        ]);
        let d = detection(r#"content:"a"; isdataat:!1,relative;"#);
        assert_eq!(d.matches.len(), 2);
        let p = compile_detection(&d).expect("compiles");
        assert_eq!(p[0].tests.len(), 1, "the isdataat became endswith");
    }

    #[test]
    fn buffers_group_by_name_and_transforms() {
        let p = programs(
            r#"content:"a"; http.uri; content:"b"; http.host; to_lowercase; content:"c"; pkt_data; content:"d"; distance:0; http.uri; content:"e"; distance:0;"#,
        );
        let shape: Vec<(Option<&str>, usize, usize)> = p
            .iter()
            .map(|p| (p.buffer(), p.transforms().len(), p.tests.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (None, 0, 2),
                (Some("http.uri"), 0, 2),
                (Some("http.host"), 1, 1)
            ]
        );
        // `d` is relative to `a`, `e` to `b`.
        assert!(p[0].inspect(b"ad"));
        assert!(!p[0].inspect(b"da"));
        assert!(p[1].inspect(b"be"));
        assert!(p[2].inspect(b"ABC"));
        let t = programs(r#"http.uri; content:"a"; http.uri; to_lowercase; content:"b";"#);
        assert_eq!(t.len(), 2, "same buffer, different transforms");
    }

    #[test]
    fn dsize_bounds_payload_contents_as_suricata_does() {
        // SigParseApplyDsizeToContent takes `!3` as a maximum size of 3 (sic): the
        // content gets depth 3 and is not found at offset 3.
        let d = detection(r#"dsize:!3; content:"z";"#);
        assert!(!compile_detection(&d).expect("compiles")[0].inspect(b"abcz"));
        assert!(compile_matches(&d.matches).expect("compiles")[0].inspect(b"abcz"));
        let d = detection(r#"dsize:<=3; content:"z";"#);
        assert!(compile_detection(&d).expect("compiles")[0].inspect(b"abcz"));
    }

    fn content(t: &Test) -> &ContentTest {
        match t {
            Test::Content(c) => c,
            other => panic!("not a content: {other:?}"),
        }
    }

    #[test]
    fn propagate_limits_as_in_detect_content() {
        // The example of PropagateLimits' comment.
        let p = program(r#"content:"1"; depth:1; content:"2"; distance:0; within:1;"#);
        let c = content(&p.tests[1]);
        assert_eq!((c.offset, c.depth), (1, 2));
        assert!(c.flags & (DISTANCE | WITHIN) == DISTANCE | WITHIN);
        let p = program(r#"content:"1"; depth:1; content:"2"; distance:0;"#);
        assert_eq!(
            (content(&p.tests[1]).offset, content(&p.tests[1]).depth),
            (1, 0)
        );
        // A first content's distance/within become offset/depth.
        let p = program(r#"http.uri; content:"ab"; distance:2; within:3;"#);
        let c = content(&p.tests[0]);
        assert_eq!(
            (c.offset, c.depth, c.flags & (DISTANCE | WITHIN)),
            (2, 5, 0)
        );
        // An anchored endswith gives every content its depth.
        let p = program(r#"content:"x"; content:"abc"; depth:10; endswith;"#);
        assert_eq!(content(&p.tests[0]).depth, 10);
        // Flags decided at load: which content is retried.
        let p = program(r#"content:"a"; content:"b"; distance:0; content:"c"; within:5;"#);
        assert_eq!(content(&p.tests[0]).flags & RELATIVE_NEXT, DISTANCE_NEXT);
        assert_eq!(content(&p.tests[1]).flags & RELATIVE_NEXT, WITHIN_NEXT);
    }

    #[test]
    fn recursion_limit_counts_every_inspection_call() {
        // Each call of DetectEngineContentInspection counts, the first included; the
        // call that reaches the limit fails.
        let p = program(r#"content:"a";"#);
        assert!(!p.inspect_with_limit(b"a", 1));
        assert!(p.inspect_with_limit(b"a", 2));
        let p = program(r#"content:"a"; content:"b"; distance:0;"#);
        assert!(!p.inspect_with_limit(b"ab", 2));
        assert!(p.inspect_with_limit(b"ab", 3));
        // A match found only after thousands of retries: Suricata gives up.
        let opts = r#"content:"a"; content:"a"; distance:0; within:100; content:"x"; distance:0; within:1;"#;
        let p = program(opts);
        let mut data = vec![b'a'; 200];
        data.push(b'x');
        assert!(!p.inspect(&data), "over the default limit of 3000");
        assert!(p.inspect_with_limit(&data, 0), "no limit");
        assert!(p.inspect_with_limit(&data, 100_000));
        data.truncate(100);
        data.push(b'x');
        assert!(p.inspect(&data), "within the limit");
    }

    fn xform(name: &'static str, value: Option<&str>, input: &[u8]) -> Vec<u8> {
        let t = Transform {
            name,
            value: value.map(str::to_string),
        };
        compile_transform(&t).expect("transform").apply(input)
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn transforms_as_in_suricata() {
        /// (transform, its value, input, output)
        type Case<'a> = (&'static str, Option<&'a str>, &'a [u8], &'a [u8]);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("dotprefix", None, b"example.com", b".example.com"),
            ("dotprefix", None, b"", b""),
            ("to_lowercase", None, b"AbC\xc4", b"abc\xc4"),
            ("to_uppercase", None, b"aBc\xe4", b"ABC\xe4"),
            ("strip_whitespace", None, b" a \t\x0bb\r\n", b"ab"),
            ("compress_whitespace", None, b"a \t b\r\n\nc ", b"a b\rc "),
            ("url_decode", None, b"%41%2f+%zz%4", b"A/ %zz%4"),
            ("url_decode", None, b"%41", b"A"),
            ("header_lowercase", None, b"Host: A\r\nX-Y: B\r\n", b"host: A\r\nx-y: B\r\n"),
            ("strip_pseudo_headers", None, b":method: GET\r\nhost: a\r\n:path: /\r\n", b"host: a\r\n"),
            ("xor", Some("0102"), b"\x01\x02\x03", b"\x00\x00\x02"),
            ("pcrexform", Some(r"GET (\S+)"), b"x GET /a b", b"/a"),
            ("pcrexform", Some(r"GET (\S+)"), b"POST /a", b"POST /a"),
            ("pcrexform", Some(r"(x)?y"), b"y", b"y"),
        ];
        for (name, value, input, want) in cases {
            assert_eq!(
                xform(name, *value, input),
                *want,
                "{name} on {:?}",
                String::from_utf8_lossy(input)
            );
        }
        // Raw digests, not hex text; the empty buffer is hashed too.
        assert_eq!(
            hex(&xform("to_md5", None, b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hex(&xform("to_sha1", None, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&xform("to_sha256", None, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Errors Suricata refuses the rule for.
        for (name, value) in [
            ("xor", ""),
            ("xor", "0"),
            ("xor", "zz"),
            ("pcrexform", "a"),
            ("pcrexform", "(a)(b)"),
        ] {
            let t = Transform {
                name,
                value: Some(value.to_string()),
            };
            assert!(compile_transform(&t).is_err(), "{name}:{value}");
        }
        assert!(matches!(
            compile_transform(&Transform {
                name: "nope",
                value: None
            }),
            Err(PcreError::Transform(_))
        ));
    }

    #[test]
    fn transforms_apply_before_the_tests() {
        check(&[
            (r#"http.uri; to_lowercase; content:"abc";"#, b"xABC", true),
            (
                r#"http.host; dotprefix; content:".example.com"; endswith;"#,
                b"example.com",
                true,
            ),
            (
                r#"http.host; dotprefix; content:".example.com"; endswith;"#,
                b"badexample.com",
                false,
            ),
            (
                r#"http.uri; url_decode; content:"/a b"; bsize:4;"#,
                b"/a%20b",
                true,
            ),
            (
                r#"http.uri; to_md5; content:"|d4 1d 8c d9 8f 00 b2 04 e9 80 09 98 ec f8 42 7e|"; bsize:16;"#,
                b"",
                true,
            ),
            (
                r#"http.uri; strip_whitespace; content:"ab"; startswith;"#,
                b" a b",
                true,
            ),
        ]);
        let p = program(r#"http.uri; content:"a";"#);
        assert!(matches!(p.transform(b"abc"), Cow::Borrowed(_)));
    }

    /// Random buffers against random programs: nothing may panic, whatever the
    /// combination of keywords, values and data.
    #[test]
    fn random_programs_and_buffers_never_panic() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let contents = ["a", "b", "ab", "|00|", "aa", "|0d 0a|", "xyz"];
        let mods = [
            "",
            "nocase;",
            "depth:3;",
            "offset:2;",
            "depth:5; offset:60000;",
            "distance:0;",
            "distance:-3;",
            "within:4;",
            "distance:1; within:3;",
            "distance:-65535; within:2;",
            "startswith;",
            "endswith;",
            "distance:65535;",
            "within:65535;",
            "offset:65535;",
        ];
        let others = [
            r#"pcre:"/a+b?/";"#,
            r#"pcre:"/^.b/R";"#,
            r#"pcre:!"/b$/R";"#,
            "isdataat:1,relative;",
            "isdataat:!1,relative;",
            "isdataat:3;",
            "isdataat:!65535;",
            r#"pcre:"/(?:a|\x00)*$/sm";"#,
        ];
        let mut compiled = 0;
        for round in 0..3000 {
            let n = 1 + (next() % 5) as usize;
            let mut opts = String::new();
            if round % 2 == 0 {
                opts.push_str("http.uri; ");
                if next() % 2 == 0 {
                    opts.push_str("compress_whitespace; xor:\"01\"; ");
                }
            }
            for _ in 0..n {
                if next() % 3 == 0 {
                    opts.push_str(others[(next() % others.len() as u64) as usize]);
                } else {
                    let neg = if next() % 4 == 0 { "!" } else { "" };
                    let c = contents[(next() % contents.len() as u64) as usize];
                    let m = mods[(next() % mods.len() as u64) as usize];
                    opts.push_str(&format!(r#"content:{neg}"{c}"; {m}"#));
                }
                opts.push(' ');
            }
            let text = format!("alert tcp any any -> any any ({opts} sid:1;)");
            let (rules, _) = parse_rules_text(&text, "r.rules", &RuleContext::default());
            let Some(rule) = rules.first() else { continue };
            let Ok(progs) = compile_detection(&rule.detection) else {
                continue;
            };
            compiled += 1;
            for _ in 0..8 {
                let len = (next() % 24) as usize;
                let data: Vec<u8> = (0..len)
                    .map(|_| b"ab\x00\r\n x"[(next() % 7) as usize])
                    .collect();
                for p in &progs {
                    let _ = p.inspect(&data);
                    let _ = p.inspect_with_limit(&data, (next() % 5) as u32);
                }
            }
        }
        assert!(compiled > 500, "{compiled} programs compiled");
    }
}
