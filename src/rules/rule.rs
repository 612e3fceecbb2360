//! A parsed rule: the header, its options as written, and the facts the engine and the
//! tools read from them.

use std::fmt;

pub use super::detection::Detection;
use super::expr::{AddrExpr, PortExpr};
use super::parse::RawOption;

/// A rule action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Alert,
    Pass,
    Drop,
    Reject,
    RejectSrc,
    RejectDst,
    RejectBoth,
}

impl Action {
    pub fn parse(word: &str) -> Option<Action> {
        Some(match word {
            "alert" => Action::Alert,
            "pass" => Action::Pass,
            "drop" => Action::Drop,
            "reject" => Action::Reject,
            "rejectsrc" => Action::RejectSrc,
            "rejectdst" => Action::RejectDst,
            "rejectboth" => Action::RejectBoth,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Pass => "pass",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::RejectSrc => "rejectsrc",
            Action::RejectDst => "rejectdst",
            Action::RejectBoth => "rejectboth",
        }
    }

    /// Whether the action blocks traffic (drop and the reject family).
    pub fn blocks(self) -> bool {
        !matches!(self, Action::Alert | Action::Pass)
    }
}

/// One option as written: `keyword` or `keyword:value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOption {
    pub keyword: String,
    pub value: Option<String>,
}

impl From<&RawOption> for RuleOption {
    fn from(o: &RawOption) -> Self {
        RuleOption {
            keyword: o.keyword.clone(),
            value: o.value.clone(),
        }
    }
}

/// Where a rule came from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RuleOrigin {
    /// File name or rule-group name.
    pub source: String,
    /// 1-based line of the rule's first line in its source.
    pub line: usize,
    /// 0-based position of the rule among the rules of its source (written order).
    pub position: usize,
    /// The AWS rule group the rule belongs to, if any.
    pub group: Option<String>,
    /// The group's `Priority` in the firewall policy (strict order: lower runs first).
    pub group_priority: Option<u32>,
}

/// A rule that parsed and passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    /// The header protocol as written, lower case (`tcp`, `http`, `tls`, ...).
    pub protocol: String,
    pub src: AddrExpr,
    pub src_port: PortExpr,
    /// `<>`: the rule matches either way.
    pub bidirectional: bool,
    pub dst: AddrExpr,
    pub dst_port: PortExpr,
    pub options: Vec<RuleOption>,
    pub sid: u32,
    pub gid: u32,
    pub rev: u32,
    /// `msg`, unescaped; empty when absent.
    pub msg: String,
    /// From `priority`, else the classtype's, else 3.
    pub priority: u32,
    pub classtype: Option<String>,
    /// The matching options, typed for the engine.
    pub detection: Detection,
    pub origin: RuleOrigin,
}

impl Rule {
    /// The value of the first option named `keyword`, if present.
    pub fn option(&self, keyword: &str) -> Option<&RuleOption> {
        self.options.iter().find(|o| o.keyword == keyword)
    }

    /// `gid:sid`, or the sid alone for gid 1 (how Suricata's logs and the corpus name rules).
    pub fn id(&self) -> String {
        if self.gid == 1 {
            self.sid.to_string()
        } else {
            format!("{}:{}", self.gid, self.sid)
        }
    }
}

/// The rule as Suricata text: the header in canonical spacing, options as written.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} {} (",
            self.action.name(),
            self.protocol,
            self.src,
            self.src_port,
            if self.bidirectional { "<>" } else { "->" },
            self.dst,
            self.dst_port
        )?;
        for (i, o) in self.options.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match &o.value {
                Some(v) => write!(f, "{}:{};", o.keyword, v)?,
                None => write!(f, "{};", o.keyword)?,
            }
        }
        f.write_str(")")
    }
}
