//! Address and port expressions of a rule header (and of rule variables), as written:
//! `any`, `$VAR`, CIDRs, ports and ranges, `[..]` groups (nested), `!` negation.

use std::fmt;

use ipnet::IpNet;

/// An address expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddrExpr {
    Any,
    Var(String),
    /// `@NAME`: an AWS IP set reference (a VPC prefix list), resolved from a side file.
    Ref(String),
    /// An address or CIDR, kept as written (host bits may be set: `10.0.0.1/8`).
    Net(IpNet),
    /// `a-b`: an address range.
    Range(std::net::IpAddr, std::net::IpAddr),
    Group(Vec<AddrExpr>),
    Not(Box<AddrExpr>),
}

/// A port expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PortExpr {
    Any,
    Var(String),
    Port(u16),
    /// `a:b`, `a:` (to 65535) or `:b` (from 0).
    Range(Option<u16>, Option<u16>),
    Group(Vec<PortExpr>),
    Not(Box<PortExpr>),
}

/// `[a,b,...]`.
fn write_group<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    f.write_str("[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    f.write_str("]")
}

impl fmt::Display for AddrExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrExpr::Any => f.write_str("any"),
            AddrExpr::Var(v) => write!(f, "${v}"),
            AddrExpr::Ref(r) => write!(f, "@{r}"),
            AddrExpr::Net(n) => {
                if n.prefix_len() == n.max_prefix_len() {
                    write!(f, "{}", n.addr())
                } else {
                    write!(f, "{}/{}", n.addr(), n.prefix_len())
                }
            }
            AddrExpr::Range(a, b) => write!(f, "{a}-{b}"),
            AddrExpr::Group(items) => write_group(f, items),
            AddrExpr::Not(inner) => write!(f, "!{inner}"),
        }
    }
}

impl fmt::Display for PortExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortExpr::Any => f.write_str("any"),
            PortExpr::Var(v) => write!(f, "${v}"),
            PortExpr::Port(p) => write!(f, "{p}"),
            PortExpr::Range(a, b) => {
                if let Some(a) = a {
                    write!(f, "{a}")?;
                }
                f.write_str(":")?;
                if let Some(b) = b {
                    write!(f, "{b}")?;
                }
                Ok(())
            }
            PortExpr::Group(items) => write_group(f, items),
            PortExpr::Not(inner) => write!(f, "!{inner}"),
        }
    }
}
