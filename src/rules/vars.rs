//! Rule variables (`$HOME_NET`, `$HTTP_PORTS`, ...) and the resolution of address and port
//! expressions into sets.

use std::collections::BTreeMap;

use thiserror::Error;

use super::expr::{AddrExpr, PortExpr};
use super::parse::{parse_addr_text, parse_port_text};
use super::sets::{AddrSet, PortSet, RangeSet};

/// Why an expression could not be resolved.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("variable `${0}` is not defined")]
    Undefined(String),
    #[error("variable `${0}` refers to itself")]
    Cycle(String),
    #[error("variable `${name}` has an invalid value `{value}`: {why}")]
    BadValue {
        name: String,
        value: String,
        why: String,
    },
    #[error("`!any` matches nothing")]
    NegatedAny,
    #[error("the expression matches no address")]
    NoAddress,
    #[error("the expression matches no port")]
    NoPort,
}

/// Address and port variables by name (without `$`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarTable {
    pub addresses: BTreeMap<String, String>,
    pub ports: BTreeMap<String, String>,
}

/// Suricata's shipped `vars`.
impl Default for VarTable {
    fn default() -> Self {
        VarTable::from_config(&crate::config::Vars::default())
    }
}

impl VarTable {
    pub fn from_config(vars: &crate::config::Vars) -> Self {
        VarTable {
            addresses: vars.address_groups.clone(),
            ports: vars.port_groups.clone(),
        }
    }

    /// The set an address expression stands for; an empty set is an error.
    pub fn addresses_of(&self, expr: &AddrExpr) -> Result<AddrSet, ResolveError> {
        let set = self.eval_addr(expr, &mut Vec::new())?;
        if set.is_empty() {
            return Err(ResolveError::NoAddress);
        }
        Ok(set)
    }

    /// The set a port expression stands for; an empty set is an error.
    pub fn ports_of(&self, expr: &PortExpr) -> Result<PortSet, ResolveError> {
        let set = self.eval_ports(expr, &mut Vec::new())?;
        if set.is_empty() {
            return Err(ResolveError::NoPort);
        }
        Ok(set)
    }

    fn eval_addr(&self, expr: &AddrExpr, stack: &mut Vec<String>) -> Result<AddrSet, ResolveError> {
        Ok(match expr {
            AddrExpr::Any => AddrSet::any(),
            AddrExpr::Net(n) => AddrSet::from_range(n.network(), n.broadcast()),
            AddrExpr::Range(a, b) => AddrSet::from_range(*a, *b),
            AddrExpr::Var(name) => {
                if stack.contains(name) {
                    return Err(ResolveError::Cycle(name.clone()));
                }
                let value = self
                    .addresses
                    .get(name)
                    .ok_or_else(|| ResolveError::Undefined(name.clone()))?;
                let parsed = parse_addr_text(value).map_err(|e| ResolveError::BadValue {
                    name: name.clone(),
                    value: value.clone(),
                    why: e.message,
                })?;
                stack.push(name.clone());
                let set = self.eval_addr(&parsed, stack);
                stack.pop();
                set?
            }
            AddrExpr::Not(inner) => {
                if **inner == AddrExpr::Any {
                    return Err(ResolveError::NegatedAny);
                }
                self.eval_addr(inner, stack)?.complement()
            }
            AddrExpr::Group(items) => {
                let mut pos: Option<AddrSet> = None;
                let mut neg = AddrSet::empty();
                for item in items {
                    match item {
                        AddrExpr::Not(inner) => {
                            if **inner == AddrExpr::Any {
                                return Err(ResolveError::NegatedAny);
                            }
                            neg = neg.union(&self.eval_addr(inner, stack)?);
                        }
                        other => {
                            let s = self.eval_addr(other, stack)?;
                            pos = Some(pos.map_or(s.clone(), |p| p.union(&s)));
                        }
                    }
                }
                pos.unwrap_or_else(AddrSet::any).difference(&neg)
            }
        })
    }

    fn eval_ports(
        &self,
        expr: &PortExpr,
        stack: &mut Vec<String>,
    ) -> Result<PortSet, ResolveError> {
        Ok(match expr {
            PortExpr::Any => RangeSet::full(),
            PortExpr::Port(p) => RangeSet::range(*p, *p),
            PortExpr::Range(a, b) => RangeSet::range(a.unwrap_or(0), b.unwrap_or(u16::MAX)),
            PortExpr::Var(name) => {
                if stack.contains(name) {
                    return Err(ResolveError::Cycle(name.clone()));
                }
                let value = self
                    .ports
                    .get(name)
                    .ok_or_else(|| ResolveError::Undefined(name.clone()))?;
                let parsed = parse_port_text(value).map_err(|e| ResolveError::BadValue {
                    name: name.clone(),
                    value: value.clone(),
                    why: e.message,
                })?;
                stack.push(name.clone());
                let set = self.eval_ports(&parsed, stack);
                stack.pop();
                set?
            }
            PortExpr::Not(inner) => {
                if **inner == PortExpr::Any {
                    return Err(ResolveError::NegatedAny);
                }
                self.eval_ports(inner, stack)?.complement()
            }
            PortExpr::Group(items) => {
                let mut pos: Option<PortSet> = None;
                let mut neg = RangeSet::empty();
                for item in items {
                    match item {
                        PortExpr::Not(inner) => {
                            if **inner == PortExpr::Any {
                                return Err(ResolveError::NegatedAny);
                            }
                            neg = neg.union(&self.eval_ports(inner, stack)?);
                        }
                        other => {
                            let s = self.eval_ports(other, stack)?;
                            pos = Some(pos.map_or(s.clone(), |p| p.union(&s)));
                        }
                    }
                }
                pos.unwrap_or_else(RangeSet::full).difference(&neg)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> VarTable {
        VarTable::from_config(&crate::config::Vars::default())
    }

    fn addrs(t: &VarTable, text: &str) -> Result<AddrSet, ResolveError> {
        t.addresses_of(&parse_addr_text(text).expect("parses"))
    }

    fn ports(t: &VarTable, text: &str) -> Result<PortSet, ResolveError> {
        t.ports_of(&parse_port_text(text).expect("parses"))
    }

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn home_and_external_net_defaults() {
        let t = table();
        let home = addrs(&t, "$HOME_NET").expect("resolves");
        assert!(
            home.contains(ip("10.1.2.3"))
                && home.contains(ip("192.168.0.1"))
                && home.contains(ip("172.31.0.1"))
        );
        assert!(!home.contains(ip("8.8.8.8")) && !home.contains(ip("fd00::1")));
        let ext = addrs(&t, "$EXTERNAL_NET").expect("resolves");
        assert!(
            ext.contains(ip("8.8.8.8"))
                && ext.contains(ip("fd00::1"))
                && !ext.contains(ip("10.0.0.1"))
        );
    }

    #[test]
    fn groups_with_negated_members_and_nesting() {
        let t = table();
        let s = addrs(&t, "[10.0.0.0/8, !10.1.0.0/16]").expect("resolves");
        assert!(
            s.contains(ip("10.2.0.1"))
                && !s.contains(ip("10.1.0.1"))
                && !s.contains(ip("11.0.0.1"))
        );
        let s = addrs(&t, "![1.1.1.1, 1.1.1.2]").expect("resolves");
        assert!(!s.contains(ip("1.1.1.2")) && s.contains(ip("1.1.1.3")));
        let s = addrs(&t, "[!1.1.1.1]").expect("resolves");
        assert!(!s.contains(ip("1.1.1.1")) && s.contains(ip("2.2.2.2")));
        let s = addrs(&t, "[$HOME_NET, [fd00::/8, !fd00::1]]").expect("resolves");
        assert!(
            s.contains(ip("fd00::2")) && !s.contains(ip("fd00::1")) && s.contains(ip("10.0.0.1"))
        );
        let s = addrs(&t, "10.0.0.5/8").expect("host bits are ignored");
        assert!(s.contains(ip("10.200.0.0")));
    }

    #[test]
    fn address_errors() {
        let mut t = table();
        assert_eq!(addrs(&t, "!any"), Err(ResolveError::NegatedAny));
        assert_eq!(
            addrs(&t, "[1.2.3.4,!1.2.3.4]"),
            Err(ResolveError::NoAddress)
        );
        assert_eq!(
            addrs(&t, "$NOPE"),
            Err(ResolveError::Undefined("NOPE".into()))
        );
        t.addresses.insert("HOME_NET".into(), "any".into());
        assert_eq!(
            addrs(&t, "$EXTERNAL_NET"),
            Err(ResolveError::NoAddress),
            "EXTERNAL_NET is `!any`"
        );
        t.addresses.insert("A".into(), "[$B]".into());
        t.addresses.insert("B".into(), "$A".into());
        assert!(matches!(addrs(&t, "$A"), Err(ResolveError::Cycle(_))));
        t.addresses.insert("BAD".into(), "[10.0.0.0/33]".into());
        assert!(matches!(
            addrs(&t, "$BAD"),
            Err(ResolveError::BadValue { .. })
        ));
    }

    #[test]
    fn port_expressions() {
        let t = table();
        let p = ports(&t, "[80:100,!99]").expect("resolves");
        assert!(p.contains(80) && p.contains(100) && !p.contains(99) && !p.contains(101));
        assert!(ports(&t, "1024:").expect("open range").contains(65535));
        assert!(ports(&t, ":1023").expect("open range").contains(0));
        let p = ports(&t, "$SHELLCODE_PORTS").expect("resolves");
        assert!(!p.contains(80) && p.contains(81));
        let p = ports(&t, "$FILE_DATA_PORTS").expect("nested variable");
        assert!(p.contains(80) && p.contains(110) && p.contains(143) && !p.contains(25));
        assert_eq!(ports(&t, "!any"), Err(ResolveError::NegatedAny));
        assert_eq!(ports(&t, "[80,!80]"), Err(ResolveError::NoPort));
    }
}
