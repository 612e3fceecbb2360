//! `pcre` patterns, as Suricata 7.0.10 compiles them with PCRE2, translated into
//! [`regex::bytes::Regex`].
//!
//! Suricata compiles a pattern in PCRE2's 8-bit, non-UTF mode: a pattern byte is a byte
//! (a UTF-8 character in the pattern is several literal bytes), `.` is any byte but `\n`,
//! case folding and `\d \s \w \b` are ASCII. The `regex` crate gives the same with Unicode
//! off. Its matches are leftmost-first, the order a backtracking engine such as PCRE tries
//! alternatives in, so the span it reports is the one PCRE2 reports.
//!
//! What `regex` cannot express — backreferences, lookaround, atomic groups, possessive
//! quantifiers, recursion, conditionals, `\G`, `\K`, verbs — is refused with a
//! [`PcreError`] naming the construct and its byte offset, so a rule using it is not
//! loaded rather than evaluated wrongly. So are the few places where a faithful
//! translation would need lookahead (see [`Atom::CaretMulti`] and [`Atom::DollarFinalNl`]).
//!
//! `regex` searches in linear time, so no counterpart of PCRE2's match limit
//! (`pcre.match-limit`, which makes Suricata give up on a pathological pattern and count
//! the pcre as not matching) is needed: rulesim always finishes the search, which can
//! only differ from Suricata where Suricata hit its limit.

use regex::bytes::{CaptureLocations, Regex, RegexBuilder};
use thiserror::Error;

use crate::rules::options::PcreValue;

/// Upper bound on the compiled size of one pattern.
pub const SIZE_LIMIT: usize = 10 << 20;
/// PCRE2's default limit on nested parentheses (`PARENS_NEST_LIMIT`).
const NEST_LIMIT: usize = 250;
/// PCRE2's largest repetition count.
const MAX_REPEAT: u32 = 65_535;

/// Why a pattern (or a transform of a buffer program) cannot be used.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PcreError {
    /// Valid PCRE that the `regex` engine cannot evaluate exactly.
    #[error("{construct} (at byte {offset} of the pattern) cannot be evaluated exactly by rulesim's regex engine")]
    Unsupported { construct: String, offset: usize },
    /// A pattern PCRE2 refuses as well.
    #[error("{message} (at byte {offset} of the pattern)")]
    Syntax { message: String, offset: usize },
    /// The compiled program would exceed [`SIZE_LIMIT`].
    #[error("the compiled pattern exceeds the {limit}-byte size limit")]
    TooBig { limit: usize },
    /// `regex` refused the translation (a translation rulesim did not foresee).
    #[error("the translated pattern was refused by the regex engine: {0}")]
    Regex(String),
    /// `pcrexform` needs exactly one capture group (`DetectTransformPcrexformSetup`).
    #[error("pcrexform needs exactly one capture group, the pattern has {0}")]
    PcrexformCaptures(usize),
    /// An `xor` key that is not 1 to 255 bytes of hex (`DetectTransformXorSetup`).
    #[error("the xor key must be 1 to 255 bytes written as pairs of hex digits")]
    XorKey,
    /// A transform rulesim does not implement.
    #[error("transform `{0}` is not implemented")]
    Transform(String),
}

impl PcreError {
    /// Whether Suricata refuses the rule too (the value is invalid); otherwise rulesim
    /// refuses a rule Suricata would load.
    pub fn is_invalid(&self) -> bool {
        matches!(
            self,
            PcreError::Syntax { .. } | PcreError::PcrexformCaptures(_) | PcreError::XorKey
        )
    }

    /// Byte offset in the pattern, when the error is about one place.
    pub fn offset(&self) -> Option<usize> {
        match self {
            PcreError::Unsupported { offset, .. } | PcreError::Syntax { offset, .. } => {
                Some(*offset)
            }
            _ => None,
        }
    }
}

fn unsupported<T>(construct: impl Into<String>, offset: usize) -> Result<T, PcreError> {
    Err(PcreError::Unsupported {
        construct: construct.into(),
        offset,
    })
}

fn syntax<T>(message: impl Into<String>, offset: usize) -> Result<T, PcreError> {
    Err(PcreError::Syntax {
        message: message.into(),
        offset,
    })
}

/// A compiled pattern with the PCRE semantics the bare regex does not carry: the `A`
/// (anchored) flag and the match end of a `$` that matched before a final newline.
#[derive(Clone, Debug)]
pub struct Pcre {
    regex: Regex,
    anchored: bool,
    /// Regex groups `(\n)` standing for `$` before a final newline: when one took part in
    /// the match, PCRE's match ends one byte earlier (its `$` consumes nothing).
    newline_groups: Vec<usize>,
    /// Regex group index of each capture group of the pattern, in order.
    captures: Vec<usize>,
}

impl Pcre {
    /// The translated regex. Its matches start where PCRE's do; their end differs when a
    /// final `$` matched before a trailing newline, and the `A` flag is not part of it
    /// (see [`Pcre::find_at`]).
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Number of capture groups the pattern has.
    pub fn capture_count(&self) -> usize {
        self.captures.len()
    }

    /// PCRE2's match of the subject `hay` from `start` (PCRE2's `start_offset`: `^` and
    /// lookbehind-like assertions still see the whole subject): the span of the match.
    pub fn find_at(&self, hay: &[u8], start: usize) -> Option<(usize, usize)> {
        if start > hay.len() {
            // PCRE2_ERROR_BADOFFSET: an error, which Suricata counts as no match.
            return None;
        }
        let (s, e) = if self.newline_groups.is_empty() {
            let m = self.regex.find_at(hay, start)?;
            (m.start(), m.end())
        } else {
            let mut locs = self.regex.capture_locations();
            let m = self.regex.captures_read_at(&mut locs, hay, start)?;
            (m.start(), m.end() - self.newline_shift(&locs))
        };
        // PCRE2_ANCHORED: the match must start at the start offset. The leftmost match
        // starts there exactly when an anchored match exists, and is then the same match.
        if self.anchored && s != start {
            return None;
        }
        Some((s, e))
    }

    fn newline_shift(&self, locs: &CaptureLocations) -> usize {
        usize::from(self.newline_groups.iter().any(|&g| locs.get(g).is_some()))
    }

    /// The span of capture group `n` (1-based, as in PCRE) of the first match in `hay`;
    /// `None` when there is no match or the group did not take part in it.
    pub fn capture(&self, hay: &[u8], n: usize) -> Option<(usize, usize)> {
        let group = *self.captures.get(n.checked_sub(1)?)?;
        let mut locs = self.regex.capture_locations();
        let m = self.regex.captures_read_at(&mut locs, hay, 0)?;
        if self.anchored && m.start() != 0 {
            return None;
        }
        locs.get(group)
    }
}

/// Translates and compiles a `pcre` keyword's pattern and flags. See [`compile_pcre`] for
/// the form that keeps the `A` flag and PCRE's match end.
pub fn compile(p: &PcreValue) -> Result<Regex, PcreError> {
    compile_pcre(p).map(|c| c.regex)
}

/// Translates and compiles a `pcre` keyword's pattern and flags.
pub fn compile_pcre(p: &PcreValue) -> Result<Pcre, PcreError> {
    match &p.compiled {
        Some(c) => Ok((*c.0).clone()),
        None => compile_pattern(&p.pattern, &p.flags),
    }
}

/// Translates and compiles a PCRE pattern with Suricata's pcre flags (`i s m x A E G`
/// change the regex; `R`, `O`, `B` and the buffer flags do not).
pub fn compile_pattern(pattern: &str, flags: &str) -> Result<Pcre, PcreError> {
    let t = translate(pattern, flags)?;
    let regex = RegexBuilder::new(&t.regex)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .nest_limit(4 * NEST_LIMIT as u32)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => PcreError::TooBig { limit: SIZE_LIMIT },
            other => PcreError::Regex(other.to_string()),
        })?;
    Ok(Pcre {
        regex,
        anchored: t.anchored,
        newline_groups: t.newline_groups,
        captures: t.captures,
    })
}

/// A pattern translated to `regex` syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    pub regex: String,
    pub anchored: bool,
    pub newline_groups: Vec<usize>,
    pub captures: Vec<usize>,
}

/// Bytes the compiled form of a pattern is taken to need per state of its expanded
/// automaton (counted repetitions copied out): the `regex` crate's forward and reverse
/// programs measure 50 to 80 bytes a state; this keeps a margin.
const BYTES_PER_STATE: u64 = 128;

/// An estimate of the memory the compiled form of a pattern takes, from its states once
/// counted repetitions are copied out (`x{30000}` is 30,000 states, `(ab){2,5}` 16), never
/// more than the most one pattern may take ([`SIZE_LIMIT`] for each of its programs).
/// Patterns that do not translate cost nothing (they are refused).
pub fn estimated_size(pattern: &str, flags: &str) -> u64 {
    let Ok(alts) = parse_pattern(pattern, flags) else {
        return 0;
    };
    alternation_states(&alts)
        .saturating_mul(BYTES_PER_STATE)
        .min(2 * SIZE_LIMIT as u64)
}

fn alternation_states(alts: &[Vec<Item>]) -> u64 {
    alts.iter()
        .map(|seq| seq.iter().map(item_states).fold(0u64, u64::saturating_add))
        .fold(alts.len() as u64, u64::saturating_add)
}

fn item_states(it: &Item) -> u64 {
    let one = match &it.atom {
        Atom::Group { alts, .. } => alternation_states(alts).saturating_add(2),
        Atom::Flags(_) => 0,
        _ => 1,
    };
    let Some(rep) = it.rep else {
        return one;
    };
    // `min` copies, then each optional copy with its split state (an unbounded tail is
    // one copy in a loop).
    let optional = match rep.max {
        Some(max) => u64::from(max.saturating_sub(rep.min)),
        None => 1,
    };
    one.saturating_mul(u64::from(rep.min))
        .saturating_add(one.saturating_add(1).saturating_mul(optional))
        .max(1)
}

/// The parsed pattern (what [`translate`] renders).
fn parse_pattern(pattern: &str, flags: &str) -> Result<Vec<Vec<Item>>, PcreError> {
    let mut mode = Mode::default();
    for f in flags.chars() {
        match f {
            'm' => mode.multiline = true,
            'x' => mode.extended = true,
            'E' => mode.dollar_endonly = true,
            _ => {}
        }
    }
    let mut parser = Parser {
        p: pattern.as_bytes(),
        pos: 0,
        names: Vec::new(),
    };
    let alts = parser.alternation(mode, 0)?;
    if parser.pos < parser.p.len() {
        // Only an unmatched `)` stops the top level early.
        return syntax("unmatched closing parenthesis", parser.pos);
    }
    Ok(alts)
}

/// Translates a PCRE pattern and Suricata pcre flags into `regex` syntax.
pub fn translate(pattern: &str, flags: &str) -> Result<Translation, PcreError> {
    let mut prefix = String::new();
    let mut anchored = false;
    for f in flags.chars() {
        match f {
            'i' => prefix.push_str("(?i)"),
            's' => prefix.push_str("(?s)"),
            'G' => prefix.push_str("(?U)"),
            'A' => anchored = true,
            _ => {}
        }
    }
    let alts = parse_pattern(pattern, flags)?;
    let mut stack = Vec::new();
    for seq in &alts {
        check_seq(seq, &mut stack)?;
    }
    let mut r = Render {
        out: prefix,
        groups: 0,
        newline_groups: Vec::new(),
        captures: Vec::new(),
    };
    r.alternation(&alts);
    Ok(Translation {
        regex: r.out,
        anchored,
        newline_groups: r.newline_groups,
        captures: r.captures,
    })
}

/// Options that change how the pattern is parsed or what `^` and `$` mean; the others
/// (`i`, `s`, `U`) are passed to `regex`, which scopes them as PCRE does.
#[derive(Clone, Copy, Debug, Default)]
struct Mode {
    multiline: bool,
    extended: bool,
    dollar_endonly: bool,
}

#[derive(Debug)]
enum Atom {
    /// One literal byte.
    Byte(u8),
    /// A matcher of exactly one byte, in regex syntax (`.`, `\d`, `[...]`).
    Set(String),
    /// `^` without `m`: the start of the subject.
    Caret,
    /// `^` with `m`: PCRE matches at the start and after a `\n` that is not the last
    /// byte; `(?m:^)` also matches after a final `\n`. The translation is used only where
    /// the next item must consume a byte (so the difference cannot show).
    CaretMulti,
    /// `$` with `E` (and without `m`), or `\z`: the very end.
    End,
    /// `$` with `m`: before any `\n` or at the end, as `(?m:$)`.
    DollarMulti,
    /// `$` (without `m`, `E`) or `\Z`: the end, or before a final `\n`. Translated as
    /// `(\n)?\z` where nothing can follow it in the match, the newline group telling that
    /// PCRE's match ends one byte earlier. Elsewhere it would need lookahead: refused.
    DollarFinalNl,
    /// A zero-width assertion in regex syntax (`\b`, `\B`, `\A`).
    Assert(&'static str),
    Group {
        capture: bool,
        /// Rendered `i`/`s`/`U` settings of a `(?flags:...)` group.
        flags: Option<String>,
        alts: Vec<Vec<Item>>,
    },
    /// An inline `(?flags)` setting, rendered for regex (may be empty).
    Flags(String),
}

#[derive(Clone, Copy, Debug)]
struct Rep {
    min: u32,
    max: Option<u32>,
    lazy: bool,
}

#[derive(Debug)]
struct Item {
    atom: Atom,
    rep: Option<Rep>,
    at: usize,
}

struct Parser<'a> {
    p: &'a [u8],
    pos: usize,
    /// Names of the named groups so far (PCRE2 refuses a duplicate without `(?J)`).
    names: Vec<&'a [u8]>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.p.get(self.pos + n).copied()
    }

    fn rest_starts_with(&self, s: &[u8]) -> bool {
        self.p.get(self.pos..).is_some_and(|r| r.starts_with(s))
    }

    /// Skips white space and `#` comments in extended mode.
    fn skip_extended(&mut self, mode: Mode) {
        if !mode.extended {
            return;
        }
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
                self.pos += 1;
            } else if c == b'#' {
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == b'\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Alternatives up to a `)` (left unread) or the end of the pattern.
    fn alternation(&mut self, mut mode: Mode, depth: usize) -> Result<Vec<Vec<Item>>, PcreError> {
        if depth > NEST_LIMIT {
            return syntax("parentheses are too deeply nested", self.pos);
        }
        let mut alts = Vec::new();
        loop {
            let seq = self.sequence(&mut mode, depth)?;
            alts.push(seq);
            match self.peek() {
                Some(b'|') => self.pos += 1,
                _ => return Ok(alts),
            }
        }
    }

    fn sequence(&mut self, mode: &mut Mode, depth: usize) -> Result<Vec<Item>, PcreError> {
        let mut items: Vec<Item> = Vec::new();
        loop {
            self.skip_extended(*mode);
            let at = self.pos;
            let Some(c) = self.peek() else {
                return Ok(items);
            };
            let atom = match c {
                b'|' | b')' => return Ok(items),
                b'(' => match self.group(mode, depth)? {
                    Some(a) => a,
                    None => {
                        self.trailing_repetition(*mode, &mut items)?;
                        continue;
                    }
                },
                b'[' => {
                    if self.posix_end(self.pos).is_some() {
                        return syntax("POSIX named classes are supported only within a class", at);
                    }
                    self.pos += 1;
                    Atom::Set(self.class()?)
                }
                b'\\' => {
                    if self.peek_at(1) == Some(b'Q') {
                        self.pos += 2;
                        self.quoted(&mut items);
                        self.trailing_repetition(*mode, &mut items)?;
                        continue;
                    }
                    match self.escape()? {
                        Some(a) => a,
                        None => {
                            self.trailing_repetition(*mode, &mut items)?;
                            continue;
                        }
                    }
                }
                b'.' => {
                    self.pos += 1;
                    Atom::Set(".".into())
                }
                b'^' => {
                    self.pos += 1;
                    if mode.multiline {
                        Atom::CaretMulti
                    } else {
                        Atom::Caret
                    }
                }
                b'$' => {
                    self.pos += 1;
                    if mode.multiline {
                        Atom::DollarMulti
                    } else if mode.dollar_endonly {
                        Atom::End
                    } else {
                        Atom::DollarFinalNl
                    }
                }
                b'*' | b'+' | b'?' => {
                    return syntax("quantifier does not follow a repeatable item", at)
                }
                b'{' if self.quantifier_at(self.pos).is_some() => {
                    return syntax("quantifier does not follow a repeatable item", at)
                }
                _ => {
                    self.pos += 1;
                    Atom::Byte(c)
                }
            };
            let rep = self.repetition(*mode)?;
            if rep.is_some() && !repeatable(&atom) {
                return unsupported("a quantifier on an assertion", at);
            }
            items.push(Item { atom, rep, at });
        }
    }

    /// The bytes of `\Q...\E` (or to the end of the pattern), each a literal.
    fn quoted(&mut self, items: &mut Vec<Item>) {
        while let Some(c) = self.peek() {
            if self.rest_starts_with(b"\\E") {
                self.pos += 2;
                return;
            }
            items.push(Item {
                atom: Atom::Byte(c),
                rep: None,
                at: self.pos,
            });
            self.pos += 1;
        }
    }

    /// After something that renders to no item (`\Q...\E`, `\E`, a comment): a
    /// quantifier there applies to the item before, as in PCRE.
    fn trailing_repetition(&mut self, mode: Mode, items: &mut [Item]) -> Result<(), PcreError> {
        let at = self.pos;
        let Some(rep) = self.repetition(mode)? else {
            return Ok(());
        };
        match items.last_mut() {
            Some(last) if last.rep.is_none() && repeatable(&last.atom) => {
                last.rep = Some(rep);
                Ok(())
            }
            _ => unsupported("a quantifier after an empty quote or comment", at),
        }
    }

    /// `{n}`, `{n,}` or `{n,m}` at `i`: its (min, max, length). Other uses of `{` are
    /// literal in PCRE2 (10.42 and earlier read `{,n}` as literal text too).
    fn quantifier_at(&self, i: usize) -> Option<(u32, Option<u32>, usize)> {
        let rest = self.p.get(i..)?;
        if rest.first() != Some(&b'{') {
            return None;
        }
        let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
        let n1 = digits(&rest[1..]);
        if n1 == 0 {
            return None;
        }
        let num = |s: &[u8]| -> u32 {
            s.iter().fold(0u32, |a, &d| {
                a.saturating_mul(10).saturating_add(u32::from(d - b'0'))
            })
        };
        let min = num(&rest[1..1 + n1]);
        let after = 1 + n1;
        match rest.get(after) {
            Some(b'}') => Some((min, Some(min), after + 1)),
            Some(b',') => {
                let n2 = digits(&rest[after + 1..]);
                let close = after + 1 + n2;
                if rest.get(close) != Some(&b'}') {
                    return None;
                }
                let max = (n2 > 0).then(|| num(&rest[after + 1..close]));
                Some((min, max, close + 1))
            }
            _ => None,
        }
    }

    fn repetition(&mut self, mode: Mode) -> Result<Option<Rep>, PcreError> {
        self.skip_extended(mode);
        let at = self.pos;
        let (min, max) = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                (0, None)
            }
            Some(b'+') => {
                self.pos += 1;
                (1, None)
            }
            Some(b'?') => {
                self.pos += 1;
                (0, Some(1))
            }
            Some(b'{') => match self.quantifier_at(self.pos) {
                Some((min, max, len)) => {
                    self.pos += len;
                    if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT) {
                        return syntax("number too big in {} quantifier", at);
                    }
                    if max.is_some_and(|m| m < min) {
                        return syntax("numbers out of order in {} quantifier", at);
                    }
                    (min, max)
                }
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let mut lazy = false;
        match self.peek() {
            Some(b'?') => {
                self.pos += 1;
                lazy = true;
            }
            Some(b'+') => return unsupported("a possessive quantifier", at),
            _ => {}
        }
        self.skip_extended(mode);
        if matches!(self.peek(), Some(b'*' | b'+' | b'?'))
            || (self.peek() == Some(b'{') && self.quantifier_at(self.pos).is_some())
        {
            return unsupported("a quantifier following a quantifier", self.pos);
        }
        Ok(Some(Rep { min, max, lazy }))
    }

    /// A group at `(`; `None` for a comment or an inline option setting that renders to
    /// nothing.
    fn group(&mut self, mode: &mut Mode, depth: usize) -> Result<Option<Atom>, PcreError> {
        let at = self.pos;
        self.pos += 1;
        let mut capture = true;
        let mut flags = None;
        let mut inner = *mode;
        match self.peek() {
            Some(b'*') => return unsupported("a `(*...)` verb or option", at),
            Some(b'?') => {
                self.pos += 1;
                let Some(c) = self.peek() else {
                    return syntax("unterminated group", at);
                };
                match c {
                    b':' => {
                        self.pos += 1;
                        capture = false;
                    }
                    b'#' => {
                        while let Some(c) = self.peek() {
                            self.pos += 1;
                            if c == b')' {
                                return Ok(None);
                            }
                        }
                        return syntax("missing ) after (?# comment", at);
                    }
                    b'=' => return unsupported("a lookahead assertion `(?=`", at),
                    b'*' => return unsupported("a non-atomic lookahead assertion `(?*`", at),
                    b'!' => return unsupported("a negative lookahead assertion `(?!`", at),
                    b'>' => return unsupported("an atomic group `(?>`", at),
                    b'|' => return unsupported("a branch reset group `(?|`", at),
                    b'(' => return unsupported("a conditional group `(?(`", at),
                    b'C' => return unsupported("a callout `(?C`", at),
                    b'&' => return unsupported("a subroutine call `(?&`", at),
                    b'R' | b'0'..=b'9' | b'+' => {
                        return unsupported("a recursion or subroutine call", at)
                    }
                    b'-' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => {
                        return unsupported("a subroutine call", at)
                    }
                    b'<' => match self.peek_at(1) {
                        Some(b'=') => return unsupported("a lookbehind assertion `(?<=`", at),
                        Some(b'!') => {
                            return unsupported("a negative lookbehind assertion `(?<!`", at)
                        }
                        Some(b'*') => {
                            return unsupported("a non-atomic lookbehind assertion `(?<*`", at)
                        }
                        _ => {
                            self.pos += 1;
                            self.group_name(b'>', at)?;
                        }
                    },
                    b'\'' => {
                        self.pos += 1;
                        self.group_name(b'\'', at)?;
                    }
                    b'P' => match self.peek_at(1) {
                        Some(b'<') => {
                            self.pos += 2;
                            self.group_name(b'>', at)?;
                        }
                        Some(b'=') => return unsupported("a backreference `(?P=`", at),
                        Some(b'>') => return unsupported("a subroutine call `(?P>`", at),
                        _ => return syntax("unrecognized character after (?P", at),
                    },
                    _ => {
                        let (rendered, terminator) = self.option_letters(&mut inner, at)?;
                        if terminator == b')' {
                            // `(?i)`: applies to the rest of the enclosing group.
                            *mode = inner;
                            return Ok(Some(Atom::Flags(rendered)));
                        }
                        capture = false;
                        flags = Some(rendered);
                    }
                }
            }
            _ => {}
        }
        let alts = self.alternation(inner, depth + 1)?;
        if self.peek() != Some(b')') {
            return syntax("missing closing parenthesis", at);
        }
        self.pos += 1;
        Ok(Some(Atom::Group {
            capture,
            flags,
            alts,
        }))
    }

    /// A group name up to `close`; the name itself is not needed.
    fn group_name(&mut self, close: u8, at: usize) -> Result<(), PcreError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == close {
                let p: &'a [u8] = self.p;
                let name = &p[start..self.pos];
                self.pos += 1;
                let ok = name.first().is_some_and(|b| !b.is_ascii_digit())
                    && name.len() <= 32
                    && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
                if !ok {
                    return syntax("invalid group name", at);
                }
                if self.names.contains(&name) {
                    return syntax("two named groups have the same name", at);
                }
                self.names.push(name);
                return Ok(());
            }
            self.pos += 1;
        }
        syntax("unterminated group name", at)
    }

    /// Option letters after `(?`, up to `)` or `:` (consumed): the `i s U` part rendered
    /// for regex; `m x` go into `mode`.
    fn option_letters(&mut self, mode: &mut Mode, at: usize) -> Result<(String, u8), PcreError> {
        let mut on = String::new();
        let mut off = String::new();
        let mut negate = false;
        loop {
            let Some(c) = self.peek() else {
                return syntax("unterminated option setting", at);
            };
            self.pos += 1;
            match c {
                b')' | b':' => {
                    let mut r = String::new();
                    if !on.is_empty() || !off.is_empty() {
                        r.push_str("(?");
                        r.push_str(&on);
                        if !off.is_empty() {
                            r.push('-');
                            r.push_str(&off);
                        }
                        if c == b')' {
                            r.push(')');
                        }
                    }
                    return Ok((r, c));
                }
                b'-' if !negate => negate = true,
                b'i' | b's' | b'U' => {
                    if negate {
                        off.push(c as char);
                    } else {
                        on.push(c as char);
                    }
                }
                b'm' => mode.multiline = !negate,
                b'x' => {
                    if self.peek() == Some(b'x') {
                        return unsupported("the `xx` option", at);
                    }
                    mode.extended = !negate;
                }
                b'n' | b'J' | b'^' => {
                    return unsupported(format!("the `(?{})` option", c as char), at)
                }
                _ => return syntax("unrecognized character after (? or (?-", at),
            }
        }
    }

    /// An escape outside a class, at `\`. `None` for escapes that match nothing (`\E`).
    fn escape(&mut self) -> Result<Option<Atom>, PcreError> {
        let at = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return syntax("\\ at end of pattern", at);
        };
        self.pos += 1;
        let set = |s: &str| Ok(Some(Atom::Set(s.to_string())));
        match c {
            b'd' | b'D' | b's' | b'S' | b'w' | b'W' => set(&format!("\\{}", c as char)),
            b'h' => set(r"[\t\x20\xA0]"),
            b'H' => set(r"[^\t\x20\xA0]"),
            b'v' => set(r"[\n\x0B\x0C\r\x85]"),
            b'V' => set(r"[^\n\x0B\x0C\r\x85]"),
            // `\N{name}` is refused by PCRE2 (outside UTF mode); `\N{2}` is a repeat.
            b'N' if self.peek() == Some(b'{') && self.quantifier_at(self.pos).is_none() => {
                syntax("PCRE2 does not support \\N{name}", at)
            }
            b'N' => set(r"[^\n]"),
            b'b' => Ok(Some(Atom::Assert(r"\b"))),
            b'B' => Ok(Some(Atom::Assert(r"\B"))),
            b'A' => Ok(Some(Atom::Assert(r"\A"))),
            b'z' => Ok(Some(Atom::End)),
            b'Z' => Ok(Some(Atom::DollarFinalNl)),
            b'E' => Ok(None),
            b'G' => unsupported("`\\G`", at),
            b'K' => unsupported("`\\K`", at),
            b'R' => unsupported("`\\R` (an atomic newline sequence)", at),
            b'X' => unsupported("`\\X`", at),
            b'C' => unsupported("`\\C`", at),
            b'p' | b'P' => unsupported("a Unicode property", at),
            b'1'..=b'9' => unsupported(
                format!("a backreference (or octal escape) `\\{}`", c as char),
                at,
            ),
            b'g' | b'k' => unsupported("a backreference or subroutine call", at),
            _ => Ok(Some(Atom::Byte(self.char_escape(c, at)?))),
        }
    }

    /// The byte of a character escape whose letter `c` was just read (shared by classes).
    fn char_escape(&mut self, c: u8, at: usize) -> Result<u8, PcreError> {
        Ok(match c {
            b't' => b'\t',
            b'n' => b'\n',
            b'r' => b'\r',
            b'f' => 0x0c,
            b'a' => 0x07,
            b'e' => 0x1b,
            b'0' => {
                // `\0` and up to two more octal digits.
                let mut v = 0u32;
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                v as u8
            }
            b'o' => {
                if self.peek() != Some(b'{') {
                    return syntax("missing opening brace after \\o", at);
                }
                self.pos += 1;
                let v = self.braced_number(8, at)?;
                byte_value(v, at)?
            }
            b'x' => {
                if self.peek() == Some(b'{') {
                    self.pos += 1;
                    let v = self.braced_number(16, at)?;
                    byte_value(v, at)?
                } else {
                    // Up to two hex digits; none is `\x00`.
                    let mut v = 0u32;
                    for _ in 0..2 {
                        match self.peek().and_then(|d| (d as char).to_digit(16)) {
                            Some(d) => {
                                v = v * 16 + d;
                                self.pos += 1;
                            }
                            None => break,
                        }
                    }
                    v as u8
                }
            }
            b'c' => {
                let Some(x) = self.peek() else {
                    return syntax("\\c at end of pattern", at);
                };
                if !(0x20..0x7f).contains(&x) {
                    return syntax("\\c must be followed by a printable ASCII character", at);
                }
                self.pos += 1;
                x.to_ascii_uppercase() ^ 0x40
            }
            _ if c.is_ascii_alphanumeric() => {
                return unsupported(format!("the escape `\\{}`", c as char), at)
            }
            // A backslash before any other byte makes it literal.
            _ => c,
        })
    }

    /// Digits of `\x{...}` / `\o{...}` after the brace, and the closing brace.
    fn braced_number(&mut self, radix: u32, at: usize) -> Result<u32, PcreError> {
        let mut v: u32 = 0;
        let mut n = 0;
        while let Some(d) = self.peek().and_then(|d| (d as char).to_digit(radix)) {
            v = v.saturating_mul(radix).saturating_add(d);
            n += 1;
            self.pos += 1;
        }
        if n == 0 || self.peek() != Some(b'}') {
            return syntax("malformed \\x{...} or \\o{...} escape", at);
        }
        self.pos += 1;
        Ok(v)
    }

    /// A character class after `[`, rendered for regex (members as `\xHH`, so regex's
    /// own class operators `&& -- ~~` and nested `[` cannot arise).
    fn class(&mut self) -> Result<String, PcreError> {
        let open = self.pos - 1;
        let mut out = String::from("[");
        if self.peek() == Some(b'^') {
            self.pos += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return syntax("missing terminating ] for character class", open);
            };
            if c == b']' && !first {
                self.pos += 1;
                break;
            }
            // `\E` and an empty `\Q\E` are nothing, even before a leading `]`.
            if self.rest_starts_with(b"\\E") {
                self.pos += 2;
                continue;
            }
            if self.rest_starts_with(b"\\Q\\E") {
                self.pos += 4;
                continue;
            }
            first = false;
            let at = self.pos;
            // POSIX classes.
            if c == b'[' && matches!(self.peek_at(1), Some(b':' | b'.' | b'=')) {
                if let Some(s) = self.posix_class()? {
                    out.push_str(&s);
                    if self.peek() == Some(b'-') && self.peek_at(1).is_some_and(|n| n != b']') {
                        return syntax("invalid range in character class", self.pos);
                    }
                    continue;
                }
            }
            if self.rest_starts_with(b"\\Q") {
                self.pos += 2;
                while self.peek().is_some() && !self.rest_starts_with(b"\\E") {
                    let b = self.p[self.pos];
                    self.pos += 1;
                    push_byte(&mut out, b);
                }
                if self.rest_starts_with(b"\\E") {
                    self.pos += 2;
                }
                continue;
            }
            let lo = match self.class_member()? {
                Member::Byte(b) => b,
                Member::Set(s) => {
                    out.push_str(&s);
                    if self.peek() == Some(b'-') && self.peek_at(1).is_some_and(|n| n != b']') {
                        return syntax("invalid range in character class", at);
                    }
                    continue;
                }
            };
            // A range `a-z`, unless the `-` is last.
            if self.peek() == Some(b'-') && self.peek_at(1).is_some_and(|n| n != b']') {
                let dash = self.pos;
                self.pos += 1;
                if self.peek() == Some(b'[') && self.peek_at(1) == Some(b':') {
                    return syntax("invalid range in character class", dash);
                }
                let hi = match self.class_member()? {
                    Member::Byte(b) => b,
                    Member::Set(_) => return syntax("invalid range in character class", dash),
                };
                if hi < lo {
                    return syntax("range out of order in character class", at);
                }
                push_byte(&mut out, lo);
                out.push('-');
                push_byte(&mut out, hi);
            } else {
                push_byte(&mut out, lo);
            }
        }
        out.push(']');
        Ok(out)
    }

    /// Whether a POSIX class form (`[:...:]`, `[.....]`, `[=...=]`) starts at `i` (a
    /// `[`): the end of its name if so. PCRE2 scans for the terminator and `]`, giving up
    /// at a `]` or another `[` with the same punctuation; `\]` and `\\` are skipped.
    fn posix_end(&self, i: usize) -> Option<usize> {
        let kind = *self.p.get(i + 1)?;
        if !matches!(kind, b':' | b'.' | b'=') {
            return None;
        }
        let mut j = i + 2;
        while j + 1 < self.p.len() {
            let (b, n) = (self.p[j], self.p[j + 1]);
            if b == b'\\' && (n == b']' || n == b'\\') {
                j += 1;
            } else if (b == b'[' && n == kind) || b == b']' {
                return None;
            } else if b == kind && n == b']' {
                return Some(j);
            }
            j += 1;
        }
        None
    }

    /// `[:name:]` at `[` inside a class: rendered, or `None` when it is not a POSIX
    /// class (then `[` is a literal).
    fn posix_class(&mut self) -> Result<Option<String>, PcreError> {
        let at = self.pos;
        let Some(end) = self.posix_end(at) else {
            return Ok(None);
        };
        if self.p.get(at + 1) != Some(&b':') {
            return unsupported("a POSIX collating element", at);
        }
        let body = &self.p[at + 2..end];
        let (neg, name) = match body.strip_prefix(b"^") {
            Some(n) => (true, n),
            None => (false, body),
        };
        const NAMES: &[&str] = &[
            "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print",
            "punct", "space", "upper", "word", "xdigit",
        ];
        let Some(name) = NAMES.iter().find(|n| n.as_bytes() == name) else {
            return syntax("unknown POSIX class name", at);
        };
        self.pos = end + 2;
        Ok(Some(format!("[:{}{}:]", if neg { "^" } else { "" }, name)))
    }

    fn class_member(&mut self) -> Result<Member, PcreError> {
        let Some(c) = self.peek() else {
            return syntax("missing terminating ] for character class", self.pos);
        };
        let at = self.pos;
        self.pos += 1;
        if c != b'\\' {
            return Ok(Member::Byte(c));
        }
        let Some(e) = self.peek() else {
            return syntax("\\ at end of pattern", at);
        };
        self.pos += 1;
        let set = |s: &str| Ok(Member::Set(s.to_string()));
        match e {
            b'd' | b'D' | b's' | b'S' | b'w' | b'W' => set(&format!("\\{}", e as char)),
            b'h' => set(r"\t\x20\xA0"),
            b'H' => set(r"[^\t\x20\xA0]"),
            b'v' => set(r"\n\x0B\x0C\r\x85"),
            b'V' => set(r"[^\n\x0B\x0C\r\x85]"),
            b'b' => Ok(Member::Byte(0x08)),
            b'1'..=b'7' => {
                // In a class, `\ddd` is octal (up to three digits).
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                Ok(Member::Byte(byte_value(v, at)?))
            }
            b'8' | b'9' => unsupported("`\\8` or `\\9` in a class", at),
            b'N' | b'R' | b'X' | b'B' | b'A' | b'z' | b'Z' => syntax(
                format!(
                    "escape sequence `\\{}` is invalid in a character class",
                    e as char
                ),
                at,
            ),
            b'p' | b'P' | b'g' | b'k' | b'G' | b'K' | b'C' => {
                unsupported(format!("the escape `\\{}` in a class", e as char), at)
            }
            _ => Ok(Member::Byte(self.char_escape(e, at)?)),
        }
    }
}

enum Member {
    Byte(u8),
    /// Class members in regex syntax (`\d`, `\t\x20\xA0`, a nested negated class).
    Set(String),
}

fn byte_value(v: u32, at: usize) -> Result<u8, PcreError> {
    u8::try_from(v).or_else(|_| {
        unsupported(
            "a character value above 0xff (PCRE2 refuses it in non-UTF mode)",
            at,
        )
    })
}

fn repeatable(a: &Atom) -> bool {
    matches!(a, Atom::Byte(_) | Atom::Set(_) | Atom::Group { .. })
}

fn push_byte(out: &mut String, b: u8) {
    if b.is_ascii_alphanumeric() {
        out.push(b as char);
    } else {
        out.push_str(&format!("\\x{b:02X}"));
    }
}

/// What follows a group in the match: the rest of the enclosing sequence, or unknown
/// when the group repeats (the group itself may come next).
enum Frame<'a> {
    Items(&'a [Item]),
    Unknown,
}

/// Refuses the `^` (multi-line) and `$` (final newline) whose translation would be
/// inexact in their place.
fn check_seq<'a>(seq: &'a [Item], stack: &mut Vec<Frame<'a>>) -> Result<(), PcreError> {
    for (k, it) in seq.iter().enumerate() {
        let rest = &seq[k + 1..];
        match &it.atom {
            Atom::CaretMulti if !next_consumes(rest, stack) => {
                return unsupported(
                    "`^` in multi-line mode not followed by a character (PCRE does not match it after a final newline; regex would)",
                    it.at,
                );
            }
            Atom::DollarFinalNl if !nothing_follows(rest, stack) => {
                return unsupported(
                    "`$` or `\\Z` followed by more pattern (it would need lookahead to allow a final newline)",
                    it.at,
                );
            }
            Atom::Group { alts, .. } => {
                let repeats = it.rep.is_some_and(|r| r.max != Some(1) && r.max != Some(0));
                stack.push(if repeats {
                    Frame::Unknown
                } else {
                    Frame::Items(rest)
                });
                for alt in alts {
                    check_seq(alt, stack)?;
                }
                stack.pop();
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether what comes next in the match surely consumes at least one byte: some item of
/// the concatenation that follows must (whatever comes before it). A repeating enclosing
/// group ends the look (its next iteration or the rest may follow).
fn next_consumes(rest: &[Item], stack: &[Frame]) -> bool {
    if rest.iter().any(consumes) {
        return true;
    }
    for frame in stack.iter().rev() {
        match frame {
            Frame::Items(items) if items.iter().any(consumes) => return true,
            Frame::Items(_) => {}
            Frame::Unknown => return false,
        }
    }
    false
}

/// Whether an item surely consumes at least one byte.
fn consumes(it: &Item) -> bool {
    if it.rep.is_some_and(|r| r.min == 0) {
        return false;
    }
    match &it.atom {
        Atom::Byte(_) | Atom::Set(_) => true,
        Atom::Group { alts, .. } => alts.iter().all(|seq| seq.iter().any(consumes)),
        _ => false,
    }
}

/// Whether nothing can follow in the match (only option settings remain).
fn nothing_follows(rest: &[Item], stack: &[Frame]) -> bool {
    let only_flags = |items: &[Item]| items.iter().all(|i| matches!(i.atom, Atom::Flags(_)));
    only_flags(rest)
        && stack.iter().all(|f| match f {
            Frame::Items(i) => only_flags(i),
            Frame::Unknown => false,
        })
}

struct Render {
    out: String,
    /// Capture groups emitted so far (the regex index of the next is `groups + 1`).
    groups: usize,
    newline_groups: Vec<usize>,
    captures: Vec<usize>,
}

impl Render {
    fn alternation(&mut self, alts: &[Vec<Item>]) {
        for (i, seq) in alts.iter().enumerate() {
            if i > 0 {
                self.out.push('|');
            }
            if seq.is_empty() {
                self.out.push_str("(?:)");
            }
            for it in seq {
                self.item(it);
            }
        }
    }

    fn item(&mut self, it: &Item) {
        match &it.atom {
            Atom::Byte(b) => push_byte(&mut self.out, *b),
            Atom::Set(s) => self.out.push_str(s),
            Atom::Caret => self.out.push_str(r"\A"),
            Atom::CaretMulti => self.out.push_str("(?m:^)"),
            Atom::End => self.out.push_str(r"\z"),
            Atom::DollarMulti => self.out.push_str("(?m:$)"),
            Atom::DollarFinalNl => {
                self.groups += 1;
                self.newline_groups.push(self.groups);
                self.out.push_str(r"(\n)?\z");
            }
            Atom::Assert(a) => self.out.push_str(a),
            Atom::Flags(f) => self.out.push_str(f),
            Atom::Group {
                capture,
                flags,
                alts,
            } => {
                if *capture {
                    self.groups += 1;
                    self.captures.push(self.groups);
                    self.out.push('(');
                } else {
                    match flags {
                        Some(f) if !f.is_empty() => {
                            self.out.push_str(f);
                            self.out.push(':');
                        }
                        _ => self.out.push_str("(?:"),
                    }
                }
                self.alternation(alts);
                self.out.push(')');
            }
        }
        if let Some(r) = it.rep {
            match (r.min, r.max) {
                (0, None) => self.out.push('*'),
                (1, None) => self.out.push('+'),
                (0, Some(1)) => self.out.push('?'),
                (min, None) => self.out.push_str(&format!("{{{min},}}")),
                (min, Some(max)) if min == max => self.out.push_str(&format!("{{{min}}}")),
                (min, Some(max)) => self.out.push_str(&format!("{{{min},{max}}}")),
            }
            if r.lazy {
                self.out.push('?');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(pattern: &str, flags: &str, subject: &[u8], start: usize) -> Option<(usize, usize)> {
        let re = compile_pattern(pattern, flags)
            .unwrap_or_else(|e| panic!("/{pattern}/{flags} does not compile: {e}"));
        re.find_at(subject, start)
    }

    #[test]
    fn matches_as_pcre2_in_non_utf_mode() {
        /// (pattern, flags, subject, start offset, PCRE2's match)
        type Case<'a> = (&'a str, &'a str, &'a [u8], usize, Option<(usize, usize)>);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("abc", "", b"xxabc", 0, Some((2, 5))),
            ("ABC", "i", b"xabc", 0, Some((1, 4))),
            ("ABC", "", b"xabc", 0, None),
            // `.` is any byte but \n; `s` includes \n.
            ("a.c", "", b"a\nc", 0, None),
            ("a.c", "s", b"a\nc", 0, Some((0, 3))),
            ("a.c", "", b"a\xffc", 0, Some((0, 3))),
            (r"\xff\x00", "", b"\xff\x00", 0, Some((0, 2))),
            (r"\x4", "", b"\x04", 0, Some((0, 1))),
            (r"\x", "", b"\x00", 0, Some((0, 1))),
            // A UTF-8 character in the pattern is bytes; the quantifier takes the last.
            ("é+", "", b"\xc3\xa9\xa9", 0, Some((0, 3))),
            // `$`: the end or before a final newline, which it does not consume.
            ("abc$", "", b"abc\n", 0, Some((0, 3))),
            ("abc$", "", b"abc", 0, Some((0, 3))),
            ("abc$", "", b"abc\n\n", 0, None),
            ("abc$", "", b"abc\nx", 0, None),
            ("(?:com|net)$", "", b"a.net\n", 0, Some((2, 5))),
            (r"c\n?$", "", b"c\n", 0, Some((0, 2))),
            ("abc$", "E", b"abc\n", 0, None),
            ("abc$", "E", b"abc", 0, Some((0, 3))),
            (r"abc\Z", "E", b"abc\n", 0, Some((0, 3))),
            (r"abc\z", "", b"abc\n", 0, None),
            ("abc$", "m", b"abc\nx", 0, Some((0, 3))),
            ("abc$", "Em", b"abc\nx", 0, Some((0, 3))),
            ("^abc", "m", b"x\nabc", 0, Some((2, 5))),
            ("^abc", "", b"x\nabc", 0, None),
            (r"^[^\r\n]*x", "m", b"a\n\nyx", 0, Some((3, 5))),
            (r"\Aabc", "m", b"x\nabc", 0, None),
            // `^` is the subject start even when the search starts later.
            ("^b", "", b"ab", 1, None),
            // `A`: anchored at the start offset.
            ("b", "A", b"ab", 0, None),
            ("b", "A", b"ab", 1, Some((1, 2))),
            ("a|b", "A", b"ab", 0, Some((0, 1))),
            // `G` swaps greediness.
            ("a+", "G", b"aaa", 0, Some((0, 1))),
            ("a+?", "G", b"aaa", 0, Some((0, 3))),
            ("a+?", "", b"aaa", 0, Some((0, 1))),
            // `x`: white space and comments ignored outside classes.
            ("a b # c\n c [ ]", "x", b"abc ", 0, Some((0, 4))),
            // Escapes.
            (r"\h+", "", b"x \t\xa0y", 0, Some((1, 4))),
            (r"\v", "", b"a\x0bb", 0, Some((1, 2))),
            (r"\v", "", b"a\x85", 0, Some((1, 2))),
            (r"\N+", "", b"ab\nc", 0, Some((0, 2))),
            (r"\e\cA\0\012\x{41}\o{102}", "", b"\x1b\x01\x00\nAB", 0, Some((0, 6))),
            (r"\Q.*\E+", "", b"x.**", 0, Some((1, 4))),
            (r"a\Eb", "", b"ab", 0, Some((0, 2))),
            (r"\d\s\w", "", b"1 _", 0, Some((0, 3))),
            (r"\s", "", b"\x0b", 0, Some((0, 1))),
            (r"\bfoo\b", "", b"a foo.", 0, Some((2, 5))),
            (r"\/\;\x3a", "", b"/;:", 0, Some((0, 3))),
            // Classes.
            ("[]a]", "", b"]", 0, Some((0, 1))),
            ("[^]a]", "", b"]ab", 0, Some((2, 3))),
            ("[a-c]+", "", b"xabcd", 0, Some((1, 4))),
            ("[A-C]+", "i", b"xabcd", 0, Some((1, 4))),
            (r"[\d-]+", "", b"x1-2", 0, Some((1, 4))),
            ("[a-]+", "", b"-a", 0, Some((0, 2))),
            ("[[:alpha:]]+", "", b"12ab", 0, Some((2, 4))),
            ("[[:^digit:]]", "", b"1a", 0, Some((1, 2))),
            ("[a&&b]", "", b"&", 0, Some((0, 1))),
            ("[~~]", "", b"~", 0, Some((0, 1))),
            ("[a[b]+", "", b"[b[", 0, Some((0, 3))),
            (r"[\x41-\x43]+", "", b"ABCD", 0, Some((0, 3))),
            (r"[\h]", "", b"\xa0", 0, Some((0, 1))),
            (r"[\H]", "", b" a", 0, Some((1, 2))),
            (r"[\b]", "", b"\x08", 0, Some((0, 1))),
            (r"[\101]", "", b"A", 0, Some((0, 1))),
            (r"[\Q]\E]", "", b"]", 0, Some((0, 1))),
            ("[^a]", "", b"\n", 0, Some((0, 1))),
            // `{` that is not a quantifier is literal.
            ("a{", "", b"a{", 0, Some((0, 2))),
            ("a{,3}", "", b"a{,3}", 0, Some((0, 5))),
            ("a{x}", "", b"a{x}", 0, Some((0, 4))),
            ("a{2}", "", b"aaa", 0, Some((0, 2))),
            ("a{2,}", "", b"aaa", 0, Some((0, 3))),
            ("a{1,2}?", "", b"aaa", 0, Some((0, 1))),
            // Groups and options.
            ("a(?i)b", "", b"aB", 0, Some((0, 2))),
            ("(?i:a)b", "", b"Ab", 0, Some((0, 2))),
            ("(?i:a)b", "", b"AB", 0, None),
            ("(a(?i)b|c)", "", b"C", 0, Some((0, 1))),
            ("(?-i)a", "i", b"A", 0, None),
            ("(?s).", "", b"\n", 0, Some((0, 1))),
            ("(?m)^b", "", b"a\nb", 0, Some((2, 3))),
            ("(?x) a b", "", b"ab", 0, Some((0, 2))),
            ("(?P<x>a)(?<y>b)(?'z'c)", "", b"abc", 0, Some((0, 3))),
            ("a(?#xyz)b", "", b"ab", 0, Some((0, 2))),
            ("a(?#xyz)+", "", b"aa", 0, Some((0, 2))),
            ("a|", "", b"x", 0, Some((0, 0))),
            ("(|a)b", "", b"ab", 0, Some((0, 2))),
            ("()", "", b"", 0, Some((0, 0))),
            // Start offsets past the subject are an error: no match.
            ("", "", b"ab", 3, None),
        ];
        for (pattern, flags, subject, start, want) in cases {
            assert_eq!(
                find(pattern, flags, subject, *start),
                *want,
                "/{pattern}/{flags} on {:?} from {start}",
                String::from_utf8_lossy(subject)
            );
        }
    }

    #[test]
    fn refuses_what_regex_cannot_express_naming_it() {
        // (pattern, flags, words the error names, byte offset)
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, usize)] = &[
            (r"(a)\1", "", "backreference", 3),
            (r"(?P<q>a)(?P=q)", "", "backreference", 8),
            (r"\k<q>", "", "backreference", 0),
            (r"\g1", "", "backreference", 0),
            ("a(?=b)", "", "lookahead", 1),
            ("(?!x)", "", "negative lookahead", 0),
            ("x(?<=a)b", "", "lookbehind", 1),
            ("(?<!a)", "", "negative lookbehind", 0),
            ("(?>a)", "", "atomic group", 0),
            ("a*+", "", "possessive", 1),
            ("a{2}+", "", "possessive", 1),
            (r"\Ga", "", r"\G", 0),
            (r"a\K", "", r"\K", 1),
            ("(?(1)a|b)", "", "conditional", 0),
            ("(?R)", "", "recursion", 0),
            ("(?1)", "", "recursion", 0),
            ("(*UTF)a", "", "verb", 0),
            (r"\R", "", r"\R", 0),
            (r"\p{L}", "", "Unicode property", 0),
            ("a$b", "", "`$`", 1),
            ("(a$)+", "", "`$`", 2),
            (r"a\Zb", "m", "`$`", 1),
            ("^", "m", "`^`", 0),
            ("(?:^|x)a?", "m", "`^`", 3),
            ("^*", "", "quantifier on an assertion", 0),
            ("(?n)a", "", "option", 0),
            (r"\x{100}", "", "above 0xff", 0),
        ];
        for (pattern, flags, what, offset) in cases {
            match compile_pattern(pattern, flags) {
                Err(e @ PcreError::Unsupported { .. }) => {
                    assert!(e.to_string().contains(what), "/{pattern}/: {e}");
                    assert_eq!(e.offset(), Some(*offset), "/{pattern}/: {e}");
                    assert!(!e.is_invalid());
                }
                other => panic!("/{pattern}/{flags}: expected a refusal, got {other:?}"),
            }
        }
        // Where `^` (multi-line) must be followed by a byte, it is exact and accepted.
        assert!(compile_pattern("(?:^|x)a", "m").is_ok());
        assert!(compile_pattern(r"^\s*?STOR", "mi").is_ok());
        assert!(compile_pattern("(a|b$)", "").is_ok());
    }

    #[test]
    fn refuses_what_pcre2_refuses_as_invalid() {
        for pattern in [
            "(a",
            "a)",
            "*a",
            "a|+",
            "[a",
            "a{3,2}",
            "[z-a]",
            "\\",
            "(?<1a>x)",
            "a{70000}",
            "[[:nope:]]",
            "(?z)",
        ] {
            match compile_pattern(pattern, "") {
                Err(e) if e.is_invalid() => {}
                other => panic!("/{pattern}/: expected invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn estimated_size_counts_the_copied_out_repetitions() {
        let states = |p: &str| estimated_size(p, "") / BYTES_PER_STATE;
        assert_eq!(states("abc"), 4, "three bytes and the alternation");
        assert_eq!(states("a|b"), 4);
        assert_eq!(states("x{30000}"), 30_001);
        // Two mandatory copies of the group (2 bytes, 1 alternation, 2 for the group),
        // three optional ones with a split each.
        assert_eq!(states("(ab){2,5}"), 2 * 5 + 3 * 6 + 1);
        assert_eq!(states("a*"), 3);
        // Nested repetitions are capped at what one pattern may take.
        assert_eq!(
            estimated_size("((a{1,1000}){1,1000}){1,1000}", ""),
            2 * SIZE_LIMIT as u64
        );
        assert_eq!(estimated_size("(unclosed", ""), 0, "refused anyway");
    }

    #[test]
    fn size_limit_is_an_error() {
        match compile_pattern(r"(?:\w{1000}){1000}", "") {
            Err(PcreError::TooBig { limit }) => assert_eq!(limit, SIZE_LIMIT),
            other => panic!("expected TooBig, got {other:?}"),
        }
    }

    #[test]
    fn compile_takes_the_pcre_keyword_value() {
        let p = crate::rules::options::parse_pcre(r#""/^GET\s+\/x/Ui""#).expect("valid");
        let re = compile(&p).expect("compiles");
        assert!(re.is_match(b"get  /X"));
        assert!(!re.is_match(b" GET /x"));
    }

    #[test]
    fn captures_keep_pcre_numbering() {
        // The group added for `$` does not shift the user's groups.
        let re = compile_pattern(r"(?:x$|(a)(b))", "").expect("compiles");
        assert_eq!(re.capture_count(), 2);
        assert_eq!(re.capture(b"zab", 1), Some((1, 2)));
        assert_eq!(re.capture(b"zab", 2), Some((2, 3)));
        assert_eq!(re.capture(b"zab", 3), None);
        assert_eq!(re.capture(b"zx\n", 1), None);
    }

    /// A small xorshift generator: random patterns must never panic the translator.
    #[test]
    fn random_patterns_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const PIECES: &[&str] = &[
            "a",
            "b",
            "\\",
            "(",
            ")",
            "[",
            "]",
            "^",
            "$",
            "|",
            "*",
            "+",
            "?",
            "{",
            "}",
            ",",
            "2",
            "-",
            ":",
            "?:",
            "?i",
            "?<",
            "?P",
            "\\x",
            "\\Q",
            "\\E",
            "\\d",
            "\\1",
            "\\0",
            "[:alpha:]",
            ".",
            "#",
            " ",
            "\n",
            "é",
            "\\c",
            "\\o{",
            "{2,3}",
            "(?#",
            "'",
        ];
        let flags = ["", "i", "m", "s", "x", "A", "E", "G", "mx", "sAEG"];
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let pattern: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let f = flags[(next() % flags.len() as u64) as usize];
            if let Ok(re) = compile_pattern(&pattern, f) {
                let subject: Vec<u8> = (0..(next() % 16))
                    .map(|_| b"ab\n:-2"[(next() % 6) as usize])
                    .collect();
                let start = (next() % 20) as usize;
                let _ = re.find_at(&subject, start);
                let _ = re.capture(&subject, 1);
            }
        }
    }
}
