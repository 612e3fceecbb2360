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
    #[error(
        "IP set reference `@{0}` is not resolved: give its addresses with --ip-set-references"
    )]
    UnresolvedRef(String),
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
    #[error("{what} block recursion limit reached (max {max}), as in Suricata")]
    TooDeep { what: &'static str, max: usize },
}

/// Address and port variables by name (without `$`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarTable {
    pub addresses: BTreeMap<String, String>,
    pub ports: BTreeMap<String, String>,
    /// AWS IP set references (`@NAME`) and their addresses, as a Suricata group.
    pub ip_set_refs: BTreeMap<String, String>,
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
            ip_set_refs: vars.ip_set_references.clone(),
        }
    }

    /// The set an address expression stands for, as Suricata 7.0.10 merges it (see
    /// [`VarTable::merge_addr`]); an empty set is an error.
    pub fn addresses_of(&self, expr: &AddrExpr) -> Result<AddrSet, ResolveError> {
        let set = self.merge_addr(expr, &mut Walk::default(), 1)?;
        if set.is_empty() {
            return Err(ResolveError::NoAddress);
        }
        Ok(set)
    }

    /// A resolver that remembers each expression's set (see [`CachedResolver`]).
    pub fn cached(&self) -> CachedResolver<'_> {
        CachedResolver {
            vars: self,
            addrs: std::collections::HashMap::new(),
            ports: std::collections::HashMap::new(),
        }
    }

    /// The set a port expression stands for; an empty set is an error.
    pub fn ports_of(&self, expr: &PortExpr) -> Result<PortSet, ResolveError> {
        let mut acc = PortAcc::default();
        self.collect_ports(expr, false, &mut acc, &mut Walk::default(), 1)?;
        let PortAcc { pos, neg, any_pos } = acc;
        if neg.is_full() {
            return Err(ResolveError::NegatedAny);
        }
        // A pure negation is taken from all ports.
        let base = if any_pos { pos } else { RangeSet::full() };
        let set = base.difference(&neg);
        if set.is_empty() {
            return Err(ResolveError::NoPort);
        }
        Ok(set)
    }

    fn var_value<'v>(
        &self,
        table: &'v BTreeMap<String, String>,
        name: &str,
        stack: &[String],
    ) -> Result<&'v String, ResolveError> {
        if stack.iter().any(|s| s == name) {
            return Err(ResolveError::Cycle(name.to_string()));
        }
        table
            .get(name)
            .ok_or_else(|| ResolveError::Undefined(name.to_string()))
    }

    /// Suricata's address merge: positive items and negated items are collected
    /// separately (a non-negated nested group adds to the same two lists; a negated item
    /// or group is merged on its own and its result negated). Then, per address family,
    /// when there is no positive entry of that family but a negated one, the whole family
    /// is the positive base; the result is positives minus negations. So `!1.2.3.4` is
    /// every IPv4 address but one, and no IPv6 address.
    fn merge_addr(
        &self,
        expr: &AddrExpr,
        walk: &mut Walk,
        level: usize,
    ) -> Result<AddrSet, ResolveError> {
        let mut pos = AddrSet::empty();
        let mut neg = AddrSet::empty();
        self.collect_addr(expr, &mut pos, &mut neg, walk, level)?;
        if neg.v4.is_full() {
            return Err(ResolveError::NegatedAny);
        }
        if pos.v4.is_empty() && !neg.v4.is_empty() {
            pos.v4 = RangeSet::full();
        }
        if pos.v6.is_empty() && !neg.v6.is_empty() {
            pos.v6 = RangeSet::full();
        }
        Ok(pos.difference(&neg))
    }

    /// `level`: Suricata's recursion level of the block holding `expr` (the expression
    /// itself is 1; a group's items and a variable's value are one deeper, a negated
    /// variable's value two, as Suricata brackets it first).
    fn collect_addr(
        &self,
        expr: &AddrExpr,
        pos: &mut AddrSet,
        neg: &mut AddrSet,
        walk: &mut Walk,
        level: usize,
    ) -> Result<(), ResolveError> {
        if level > MAX_ADDR_LEVELS {
            return Err(ResolveError::TooDeep {
                what: "address",
                max: MAX_ADDR_LEVELS,
            });
        }
        match expr {
            AddrExpr::Any => *pos = pos.union(&AddrSet::any()),
            AddrExpr::Net(n) => *pos = pos.union(&AddrSet::from_range(n.network(), n.broadcast())),
            AddrExpr::Range(a, b) => *pos = pos.union(&AddrSet::from_range(*a, *b)),
            AddrExpr::Group(items) => {
                for item in items {
                    self.collect_addr(item, pos, neg, walk, level + 1)?;
                }
            }
            AddrExpr::Ref(name) => {
                let value = self
                    .ip_set_refs
                    .get(name)
                    .ok_or_else(|| ResolveError::UnresolvedRef(name.clone()))?;
                let parsed = parse_addr_text(value).map_err(|e| ResolveError::BadValue {
                    name: format!("@{name}"),
                    value: value.clone(),
                    why: e.message,
                })?;
                self.collect_addr(&parsed, pos, neg, walk, level)?;
            }
            AddrExpr::Var(name) => {
                let (p, n) = self.addr_var(name, walk, level + 1)?;
                *pos = pos.union(&p);
                *neg = neg.union(&n);
            }
            AddrExpr::Not(inner) => {
                // `!!x` is `!x` in Suricata: negation is set, not toggled.
                let mut inner: &AddrExpr = inner;
                while let AddrExpr::Not(i) = inner {
                    inner = i;
                }
                if *inner == AddrExpr::Any {
                    return Err(ResolveError::NegatedAny);
                }
                let merged = match inner {
                    // Suricata parses a negated variable's value as `[value]`.
                    AddrExpr::Var(name) => {
                        let (mut p, n) = self.addr_var(name, walk, level + 2)?;
                        if p.v4.is_empty() && !n.v4.is_empty() {
                            p.v4 = RangeSet::full();
                        }
                        if p.v6.is_empty() && !n.v6.is_empty() {
                            p.v6 = RangeSet::full();
                        }
                        if n.v4.is_full() {
                            return Err(ResolveError::NegatedAny);
                        }
                        p.difference(&n)
                    }
                    _ => self.merge_addr(inner, walk, level)?,
                };
                *neg = neg.union(&merged);
            }
        }
        Ok(())
    }

    /// What variable `name`'s value adds to the positive and negated lists, its value
    /// at recursion `level`. Remembered per variable and level: a variable named twice
    /// by another (and so on down) is resolved once, not once per path to it.
    fn addr_var(
        &self,
        name: &str,
        walk: &mut Walk,
        level: usize,
    ) -> Result<(AddrSet, AddrSet), ResolveError> {
        if let Some(r) = walk.addr_memo.get(&(name.to_string(), level)) {
            return Ok(r.clone());
        }
        let value = self.var_value(&self.addresses, name, &walk.stack)?;
        let parsed = parse_addr_text(value).map_err(|e| ResolveError::BadValue {
            name: name.to_string(),
            value: value.clone(),
            why: e.message,
        })?;
        let mut p = AddrSet::empty();
        let mut n = AddrSet::empty();
        walk.stack.push(name.to_string());
        let r = self.collect_addr(&parsed, &mut p, &mut n, walk, level);
        walk.stack.pop();
        r?;
        walk.addr_memo
            .insert((name.to_string(), level), (p.clone(), n.clone()));
        Ok((p, n))
    }

    /// Ports: negation propagates to everything below it (Suricata does not cancel a
    /// negation inside a negated group). `level` as for addresses.
    fn collect_ports(
        &self,
        expr: &PortExpr,
        negated: bool,
        acc: &mut PortAcc,
        walk: &mut Walk,
        level: usize,
    ) -> Result<(), ResolveError> {
        if level > MAX_PORT_LEVELS {
            return Err(ResolveError::TooDeep {
                what: "port",
                max: MAX_PORT_LEVELS,
            });
        }
        let mut add = |set: PortSet| {
            if negated {
                acc.neg = acc.neg.union(&set);
            } else {
                acc.any_pos = true;
                acc.pos = acc.pos.union(&set);
            }
        };
        match expr {
            PortExpr::Any => add(RangeSet::full()),
            PortExpr::Port(p) => add(RangeSet::range(*p, *p)),
            PortExpr::Range(a, b) => add(RangeSet::range(a.unwrap_or(0), b.unwrap_or(u16::MAX))),
            PortExpr::Group(items) => {
                for item in items {
                    self.collect_ports(item, negated, acc, walk, level + 1)?;
                }
            }
            PortExpr::Var(name) => {
                // Suricata parses a variable's value under a negation as `[value]`.
                let value_level = level + 1 + usize::from(negated);
                let key = (name.to_string(), negated, value_level);
                let part = match walk.port_memo.get(&key) {
                    Some(part) => part.clone(),
                    None => {
                        let value = self.var_value(&self.ports, name, &walk.stack)?;
                        let parsed =
                            parse_port_text(value).map_err(|e| ResolveError::BadValue {
                                name: name.clone(),
                                value: value.clone(),
                                why: e.message,
                            })?;
                        let mut part = PortAcc::default();
                        walk.stack.push(name.clone());
                        let r = self.collect_ports(&parsed, negated, &mut part, walk, value_level);
                        walk.stack.pop();
                        r?;
                        walk.port_memo.insert(key, part.clone());
                        part
                    }
                };
                acc.pos = acc.pos.union(&part.pos);
                acc.neg = acc.neg.union(&part.neg);
                acc.any_pos |= part.any_pos;
            }
            PortExpr::Not(inner) => {
                if **inner == PortExpr::Any {
                    return Err(ResolveError::NegatedAny);
                }
                self.collect_ports(inner, true, acc, walk, level)?;
            }
        }
        Ok(())
    }
}

/// Suricata's recursion limits on address and port blocks (detect-engine-address.c and
/// detect-engine-port.c: "address block recursion limit reached (max 64)"): an address
/// refused past level 64, a port past 65 (the two count from different starts).
pub const MAX_ADDR_LEVELS: usize = 64;
pub const MAX_PORT_LEVELS: usize = 65;

/// What one resolution carries down: the variables being expanded (for cycles) and the
/// variables already resolved.
#[derive(Default)]
struct Walk {
    stack: Vec<String>,
    addr_memo: std::collections::HashMap<(String, usize), (AddrSet, AddrSet)>,
    port_memo: std::collections::HashMap<(String, bool, usize), PortAcc>,
}

/// Ports collected so far: positive, negated, and whether any positive item was seen.
#[derive(Clone, Default)]
struct PortAcc {
    pos: PortSet,
    neg: PortSet,
    any_pos: bool,
}

/// Resolves expressions through a [`VarTable`], remembering each expression's set: a large
/// ruleset names the same few variables (`$HOME_NET`, `$HTTP_PORTS`) thousands of times.
pub struct CachedResolver<'a> {
    vars: &'a VarTable,
    addrs: std::collections::HashMap<AddrExpr, Result<AddrSet, ResolveError>>,
    ports: std::collections::HashMap<PortExpr, Result<PortSet, ResolveError>>,
}

impl CachedResolver<'_> {
    pub fn vars(&self) -> &VarTable {
        self.vars
    }

    /// As [`VarTable::addresses_of`].
    pub fn addresses_of(&mut self, expr: &AddrExpr) -> Result<AddrSet, ResolveError> {
        if let Some(r) = self.addrs.get(expr) {
            return r.clone();
        }
        let r = self.vars.addresses_of(expr);
        self.addrs.insert(expr.clone(), r.clone());
        r
    }

    /// As [`VarTable::ports_of`].
    pub fn ports_of(&mut self, expr: &PortExpr) -> Result<PortSet, ResolveError> {
        if let Some(r) = self.ports.get(expr) {
            return r.clone();
        }
        let r = self.vars.ports_of(expr);
        self.ports.insert(expr.clone(), r.clone());
        r
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
        assert!(ext.contains(ip("8.8.8.8")) && !ext.contains(ip("10.0.0.1")));
        // Suricata negates per family: `!$HOME_NET` holds no IPv6 address when HOME_NET
        // has none.
        assert!(!ext.contains(ip("fd00::1")));
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
        assert!(!s.contains(ip("1.1.1.2")) && s.contains(ip("1.1.1.3")) && !s.contains(ip("::1")));
        let s = addrs(&t, "[1.1.1.1,!2001::1]").expect("resolves");
        assert!(
            s.contains(ip("1.1.1.1"))
                && !s.contains(ip("1.1.1.2"))
                && s.contains(ip("2001::2"))
                && !s.contains(ip("2001::1"))
        );
        let s = addrs(&t, "[10.0.0.0/8,!192.168.1.1]")
            .expect("a negation outside the positives is harmless");
        assert!(s.contains(ip("10.0.0.1")) && !s.contains(ip("192.168.1.2")));
        assert_eq!(addrs(&t, "!0.0.0.0/0"), Err(ResolveError::NegatedAny));
        assert_eq!(addrs(&t, "!::/0"), Err(ResolveError::NoAddress));
        let s = addrs(&t, "!!1.2.3.4").expect("negation is not toggled");
        assert!(!s.contains(ip("1.2.3.4")));
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
            Err(ResolveError::NegatedAny),
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
        assert_eq!(
            ports(&t, "![0:100,101:65535]"),
            Err(ResolveError::NegatedAny)
        );
        let p = ports(&t, "[1:100,![50,!55]]").expect("nested negation does not cancel");
        assert!(!p.contains(50) && !p.contains(55) && p.contains(56));
        assert_eq!(ports(&t, "[80,!80]"), Err(ResolveError::NoPort));
    }

    /// Variables count towards Suricata's recursion limits: a variable's value is one
    /// level deeper, a negated one's two (Suricata brackets it). Confirmed on 7.0.10
    /// with the same chains.
    #[test]
    fn variables_count_towards_the_recursion_limits() {
        let mut t = table();
        t.addresses.insert("A0".into(), "10.0.0.0/8".into());
        t.ports.insert("P0".into(), "80".into());
        for k in 1..=31 {
            t.addresses
                .insert(format!("A{k}"), format!("[$A{}]", k - 1));
            t.ports.insert(format!("P{k}"), format!("[$P{}]", k - 1));
        }
        fn deep<T>(r: Result<T, ResolveError>) -> bool {
            matches!(r, Err(ResolveError::TooDeep { .. }))
        }
        assert!(addrs(&t, "$A30").is_ok() && addrs(&t, "[$A30]").is_ok());
        assert!(addrs(&t, "!$A30").is_ok() && addrs(&t, "$A31").is_ok());
        assert!(deep(addrs(&t, "[$A31]")) && deep(addrs(&t, "!$A31")));
        assert!(ports(&t, "$P31").is_ok() && ports(&t, "[$P31]").is_ok());
        assert!(deep(ports(&t, "!$P30")) && deep(ports(&t, "!$P31")));
    }

    /// A variable named twice by the next, thirty levels down, is resolved once per
    /// level: it was resolved once per path, 2^30 times.
    #[test]
    fn variables_that_double_resolve_in_linear_time() {
        let mut t = table();
        t.addresses.insert("D0".into(), "10.0.0.0/8".into());
        t.ports.insert("Q0".into(), "1:1000".into());
        for k in 1..=30 {
            t.addresses.insert(
                format!("D{k}"),
                format!("[$D{},$D{},!10.{k}.0.0/16]", k - 1, k - 1),
            );
            t.ports
                .insert(format!("Q{k}"), format!("[$Q{},$Q{},!{k}]", k - 1, k - 1));
        }
        let started = std::time::Instant::now();
        let a = addrs(&t, "$D30").expect("resolves");
        assert!(a.contains(ip("10.200.0.1")) && !a.contains(ip("10.30.0.1")));
        let p = ports(&t, "$Q30").expect("resolves");
        assert!(p.contains(31) && !p.contains(30) && !p.contains(1001));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
}
