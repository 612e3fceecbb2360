//! Rule errors that point at the rule text, rendered the way `rustc` renders its
//! diagnostics: message, `--> file:line:column`, the line, a caret under the culprit.

use std::fmt;

use thiserror::Error;

/// What kind of problem a rule has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleErrorKind {
    /// The text does not follow the rule grammar.
    Syntax,
    /// An action Suricata does not have.
    UnknownAction,
    /// A protocol Suricata does not accept in a rule header.
    UnknownProtocol,
    /// A keyword Suricata does not have.
    UnknownKeyword(String),
    /// A keyword Suricata has but rulesim cannot evaluate yet: the rule is not loaded.
    Unsupported(String),
    /// A keyword's value is invalid.
    InvalidValue(String),
    /// Variables or groups that cannot be resolved, or resolve to nothing.
    Address,
    /// A combination Suricata refuses (missing sid, conflicting options, ...).
    Invalid,
    /// The same gid:sid as an earlier rule.
    DuplicateSid,
    /// A valid rule past one of rulesim's limits (a setting): not loaded.
    Limit(String),
}

/// A rule that could not be loaded.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub struct RuleError {
    pub kind: RuleErrorKind,
    pub message: String,
    /// Under the caret: what was expected.
    pub label: Option<String>,
    /// File name (or other origin, such as a rule group's `RulesString`).
    pub origin: String,
    /// 1-based line and column (in characters) of the culprit.
    pub line: usize,
    pub column: usize,
    /// The physical line holding the culprit, and the caret's width in characters.
    pub source_line: String,
    pub caret_len: usize,
}

impl RuleError {
    /// The keyword this error is about, for load summaries.
    pub fn keyword(&self) -> Option<&str> {
        match &self.kind {
            RuleErrorKind::UnknownKeyword(k)
            | RuleErrorKind::Unsupported(k)
            | RuleErrorKind::InvalidValue(k)
            | RuleErrorKind::Limit(k) => Some(k),
            _ => None,
        }
    }

    /// A one-line form: `file:line:column: message`.
    pub fn short(&self) -> String {
        format!(
            "{}:{}:{}: {}",
            self.origin, self.line, self.column, self.message
        )
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(f, "error: {}", self.message)?;
        writeln!(f, "{pad}--> {}:{}:{}", self.origin, self.line, self.column)?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{num} | {}", self.source_line)?;
        let indent: String = self
            .source_line
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{pad} | {indent}{}", "^".repeat(self.caret_len.max(1)))?;
        if let Some(label) = &self.label {
            write!(f, " {label}")?;
        }
        Ok(())
    }
}

/// Where a rule's text came from, to turn byte offsets in the (joined) rule text into
/// physical lines and columns.
#[derive(Clone, Debug)]
pub struct RuleSource {
    pub origin: String,
    /// (offset in the joined text, physical line number, the physical line's text,
    /// offset of the segment within that line)
    segments: Vec<(usize, usize, String, usize)>,
}

impl RuleSource {
    /// A rule that is one physical line.
    pub fn single(origin: &str, line: usize, text: &str) -> Self {
        RuleSource {
            origin: origin.to_string(),
            segments: vec![(0, line, text.to_string(), 0)],
        }
    }

    pub fn new(origin: &str) -> Self {
        RuleSource {
            origin: origin.to_string(),
            segments: Vec::new(),
        }
    }

    /// Records that joined-text offset `at` starts physical line `line` (whose text is
    /// `line_text`) at byte `col_offset` of it.
    pub fn push_segment(&mut self, at: usize, line: usize, line_text: &str, col_offset: usize) {
        self.segments
            .push((at, line, line_text.to_string(), col_offset));
    }

    /// First physical line of the rule.
    pub fn first_line(&self) -> usize {
        self.segments.first().map_or(0, |s| s.1)
    }

    /// Builds an error at byte `offset` (length `len`) of the joined text.
    pub fn error(
        &self,
        kind: RuleErrorKind,
        offset: usize,
        len: usize,
        message: impl Into<String>,
        label: Option<String>,
    ) -> RuleError {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.0 <= offset)
            .or(self.segments.first());
        let (line, source_line, byte_col) = match seg {
            Some((start, line, text, col_offset)) => {
                (*line, text.clone(), offset - start + col_offset)
            }
            None => (0, String::new(), offset),
        };
        let byte_col = byte_col.min(source_line.len());
        let column = source_line
            .get(..byte_col)
            .map_or(byte_col, |s| s.chars().count())
            + 1;
        let rest = source_line.get(byte_col..).unwrap_or("");
        let caret_len = rest
            .get(..len.min(rest.len()))
            .map_or(1, |s| s.chars().count())
            .max(1);
        RuleError {
            kind,
            message: message.into(),
            label,
            origin: self.origin.clone(),
            line,
            column,
            source_line,
            caret_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let text = r#"alert tcp any any -> any any (msg:"x"; foo; sid:1;)"#;
        let src = RuleSource::single("rules/local.rules", 3, text);
        let e = src.error(
            RuleErrorKind::UnknownKeyword("foo".into()),
            39,
            3,
            "unknown keyword `foo`",
            Some("not a Suricata keyword".into()),
        );
        assert_eq!((e.line, e.column), (3, 40));
        assert_eq!(
            e.to_string(),
            "error: unknown keyword `foo`\n --> rules/local.rules:3:40\n  |\n3 | alert tcp any any -> any any (msg:\"x\"; foo; sid:1;)\n  |                                        ^^^ not a Suricata keyword"
        );
    }

    #[test]
    fn offsets_map_to_continuation_lines() {
        // "alert tcp any any -> any any (\" + newline + "    sid:1;)"
        let mut src = RuleSource::new("f.rules");
        src.push_segment(0, 7, "alert tcp any any -> any any (\\", 0);
        src.push_segment(30, 8, "    sid:1;)", 4);
        let e = src.error(RuleErrorKind::Syntax, 32, 1, "m", None);
        assert_eq!((e.line, e.column), (8, 7));
    }
}
