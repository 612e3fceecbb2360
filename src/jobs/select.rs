//! Flow selectors, in network terms: TLS SNI, HTTP host and URI, DNS query, addresses
//! (CIDRs), ports (ranges), protocol, app protocol, capture file. Shared by `test`
//! expectations and `explain`.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::trace::FlowRecord;

/// A port or an inclusive range, as written: `443` or `"1024-65535"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PortSpec {
    One(u16),
    Text(String),
}

/// What selects flows; every field given must hold (an empty selector selects all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSelector {
    /// TLS SNI: exact (case-insensitive, trailing dot ignored), `*.example.com` (any
    /// subdomain), `.example.com` (the domain and its subdomains, as AWS domain lists).
    pub sni: Option<String>,
    /// HTTP host of any request of the flow, with the same wildcards.
    #[serde(alias = "host")]
    pub http_host: Option<String>,
    /// HTTP request target of any request: exact, or a prefix ending in `*`.
    #[serde(alias = "url")]
    pub uri: Option<String>,
    /// A DNS query name of the flow, with the host wildcards.
    pub dns_query: Option<String>,
    /// The client (sender of the flow's first packet): an address or a CIDR.
    #[serde(alias = "src_ip")]
    pub src: Option<String>,
    /// The server: an address or a CIDR.
    #[serde(alias = "dest", alias = "dest_ip")]
    pub dst: Option<String>,
    #[serde(alias = "sport")]
    pub src_port: Option<PortSpec>,
    #[serde(alias = "dport", alias = "dest_port")]
    pub dst_port: Option<PortSpec>,
    /// `tcp`, `udp`, `icmp`, `ipv6-icmp`, or a protocol number.
    pub proto: Option<String>,
    /// As EVE's `app_proto` (`tls`, `http`, `dns`, `failed`, ...).
    pub app_proto: Option<String>,
    /// The capture file: its name, a path suffix, or a directory ending in `/`.
    pub capture: Option<String>,
    /// EVE `flow_id`.
    pub flow_id: Option<u64>,
}

/// A selector that could not be compiled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectorError {
    #[error("{field}: not an address or CIDR: {value:?}")]
    Address { field: &'static str, value: String },
    #[error("{field}: not a port or port range (N or N-M): {value:?}")]
    Port { field: &'static str, value: String },
    #[error("proto: unknown protocol {0:?} (tcp, udp, icmp, ipv6-icmp, sctp or a number)")]
    Proto(String),
}

/// A host pattern: exact, subdomains only (`*.x`), or domain and subdomains (`.x`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    Subdomains(String),
    DomainAndSubdomains(String),
}

impl HostPattern {
    fn new(text: &str) -> HostPattern {
        let t = text.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(rest) = t.strip_prefix("*.") {
            HostPattern::Subdomains(rest.to_string())
        } else if let Some(rest) = t.strip_prefix('.') {
            HostPattern::DomainAndSubdomains(rest.to_string())
        } else {
            HostPattern::Exact(t)
        }
    }

    fn matches(&self, name: &str) -> bool {
        let n = name.trim_end_matches('.').to_ascii_lowercase();
        let sub = |d: &str| {
            n.len() > d.len() + 1 && n.ends_with(d) && n.as_bytes()[n.len() - d.len() - 1] == b'.'
        };
        match self {
            HostPattern::Exact(h) => n == *h,
            HostPattern::Subdomains(d) => sub(d),
            HostPattern::DomainAndSubdomains(d) => n == *d || sub(d),
        }
    }
}

/// A compiled [`FlowSelector`].
#[derive(Clone, Debug)]
pub struct Selector {
    sni: Option<HostPattern>,
    http_host: Option<HostPattern>,
    uri: Option<(String, bool)>,
    dns_query: Option<HostPattern>,
    src: Option<IpNet>,
    dst: Option<IpNet>,
    src_port: Option<(u16, u16)>,
    dst_port: Option<(u16, u16)>,
    proto: Option<u8>,
    app_proto: Option<String>,
    capture: Option<String>,
    flow_id: Option<u64>,
    text: String,
}

fn net(field: &'static str, v: &str) -> Result<IpNet, SelectorError> {
    let v = v.trim();
    v.parse::<IpNet>()
        .or_else(|_| v.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| SelectorError::Address {
            field,
            value: v.to_string(),
        })
}

fn ports(field: &'static str, p: &PortSpec) -> Result<(u16, u16), SelectorError> {
    let bad = |v: &str| SelectorError::Port {
        field,
        value: v.to_string(),
    };
    match p {
        PortSpec::One(n) => Ok((*n, *n)),
        PortSpec::Text(t) => {
            let t = t.trim();
            let (a, b) = t.split_once(['-', ':']).unwrap_or((t, t));
            let a: u16 = a.trim().parse().map_err(|_| bad(t))?;
            let b: u16 = b.trim().parse().map_err(|_| bad(t))?;
            if a > b {
                return Err(bad(t));
            }
            Ok((a, b))
        }
    }
}

/// The IP protocol number of a name as EVE and rules write it.
pub fn proto_number(name: &str) -> Option<u8> {
    let n = name.trim().to_ascii_lowercase();
    Some(match n.as_str() {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "ipv6-icmp" | "icmpv6" | "icmp6" => 58,
        "sctp" => 132,
        "gre" => 47,
        "esp" => 50,
        _ => return n.parse().ok(),
    })
}

impl FlowSelector {
    pub fn is_empty(&self) -> bool {
        *self == FlowSelector::default()
    }

    pub fn compile(&self) -> Result<Selector, SelectorError> {
        let proto = match &self.proto {
            Some(p) => Some(proto_number(p).ok_or_else(|| SelectorError::Proto(p.clone()))?),
            None => None,
        };
        Ok(Selector {
            sni: self.sni.as_deref().map(HostPattern::new),
            http_host: self.http_host.as_deref().map(HostPattern::new),
            uri: self.uri.as_ref().map(|u| match u.strip_suffix('*') {
                Some(prefix) => (prefix.to_string(), true),
                None => (u.clone(), false),
            }),
            dns_query: self.dns_query.as_deref().map(HostPattern::new),
            src: self.src.as_deref().map(|v| net("src", v)).transpose()?,
            dst: self.dst.as_deref().map(|v| net("dst", v)).transpose()?,
            src_port: self
                .src_port
                .as_ref()
                .map(|p| ports("src_port", p))
                .transpose()?,
            dst_port: self
                .dst_port
                .as_ref()
                .map(|p| ports("dst_port", p))
                .transpose()?,
            proto,
            app_proto: self.app_proto.as_ref().map(|a| a.to_ascii_lowercase()),
            capture: self.capture.as_ref().map(|c| c.replace('\\', "/")),
            flow_id: self.flow_id,
            text: self.describe(),
        })
    }

    /// `sni www.example.com, src 10.0.0.0/16` (what the selector asks, for messages).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k} {v}"));
            }
        };
        let port = |p: &Option<PortSpec>| {
            p.as_ref().map(|p| match p {
                PortSpec::One(n) => n.to_string(),
                PortSpec::Text(t) => t.clone(),
            })
        };
        add("sni", self.sni.clone());
        add("http_host", self.http_host.clone());
        add("uri", self.uri.clone());
        add("dns_query", self.dns_query.clone());
        add("src", self.src.clone());
        add("src_port", port(&self.src_port));
        add("dst", self.dst.clone());
        add("dst_port", port(&self.dst_port));
        add("proto", self.proto.clone());
        add("app_proto", self.app_proto.clone());
        add("capture", self.capture.clone());
        add("flow_id", self.flow_id.map(|f| f.to_string()));
        if parts.is_empty() {
            "all flows".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Whether `path` is the capture `want` names: the file name, a path suffix on a
/// component boundary, the whole path, or (ending in `/`) a directory holding it.
fn capture_matches(want: &str, path: &str) -> bool {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let want = want.strip_prefix("./").unwrap_or(want);
    if want.ends_with('/') {
        return path.starts_with(want) || path.contains(&format!("/{want}"));
    }
    path == want || path.ends_with(&format!("/{want}"))
}

impl Selector {
    pub fn describe(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, f: &FlowRecord) -> bool {
        if let Some(id) = self.flow_id {
            if f.flow_id != id {
                return false;
            }
        }
        if let Some(p) = &self.sni {
            if !f.tls_sni.as_deref().is_some_and(|s| p.matches(s)) {
                return false;
            }
        }
        if let Some(p) = &self.http_host {
            if !f
                .http
                .iter()
                .any(|h| h.hostname.as_deref().is_some_and(|n| p.matches(n)))
            {
                return false;
            }
        }
        if let Some((u, prefix)) = &self.uri {
            let ok = |url: &str| {
                if *prefix {
                    url.starts_with(u.as_str())
                } else {
                    url == u
                }
            };
            if !f.http.iter().any(|h| ok(&h.url)) {
                return false;
            }
        }
        if let Some(p) = &self.dns_query {
            if !f.dns_queries.iter().any(|q| p.matches(q)) {
                return false;
            }
        }
        if self.src.is_some_and(|n| !n.contains(&f.src_ip))
            || self.dst.is_some_and(|n| !n.contains(&f.dest_ip))
            || self
                .src_port
                .is_some_and(|(a, b)| !(a..=b).contains(&f.src_port))
            || self
                .dst_port
                .is_some_and(|(a, b)| !(a..=b).contains(&f.dest_port))
        {
            return false;
        }
        if let Some(p) = self.proto {
            if proto_number(&f.proto) != Some(p) {
                return false;
            }
        }
        if let Some(a) = &self.app_proto {
            let have = f.app_proto;
            let same =
                have == a || (a == "http" && have == "http1") || (a == "http1" && have == "http");
            if !same {
                return false;
            }
        }
        if let Some(c) = &self.capture {
            if !capture_matches(c, &f.capture) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let cases = [
            ("www.example.com", "WWW.Example.com.", true),
            ("www.example.com", "example.com", false),
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "badexample.com", false),
            (".example.com", "example.com", true),
            (".example.com", "a.b.example.com", true),
            (".example.com", "notexample.com", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                HostPattern::new(pattern).matches(name),
                want,
                "{pattern} vs {name}"
            );
        }
    }

    #[test]
    fn captures() {
        assert!(capture_matches("a.pcap", "pcaps/a.pcap"));
        assert!(capture_matches("pcaps/a.pcap", "./pcaps/a.pcap"));
        assert!(!capture_matches("a.pcap", "pcaps/xa.pcap"));
        assert!(capture_matches("benign/", "tests/benign/x.pcap"));
        assert!(capture_matches("benign/", "benign/x.pcap"));
        assert!(!capture_matches("benign/", "tests/notbenign/x.pcap"));
    }

    #[test]
    fn bad_values_are_named() {
        let s = FlowSelector {
            src: Some("10.0.0.0/33".into()),
            ..FlowSelector::default()
        };
        assert!(matches!(
            s.compile(),
            Err(SelectorError::Address { field: "src", .. })
        ));
        let s = FlowSelector {
            dst_port: Some(PortSpec::Text("90-80".into())),
            ..FlowSelector::default()
        };
        assert!(matches!(
            s.compile(),
            Err(SelectorError::Port {
                field: "dst_port",
                ..
            })
        ));
        let s = FlowSelector {
            proto: Some("tcpp".into()),
            ..FlowSelector::default()
        };
        assert_eq!(
            s.compile().unwrap_err(),
            SelectorError::Proto("tcpp".into())
        );
    }
}
