//! Classtypes: `classification.config` files (`config classification: name,description,priority`)
//! and the table Suricata ships, used when none is given.

use std::collections::BTreeMap;

/// A classtype's description (EVE `alert.category`) and default priority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassType {
    pub description: String,
    pub priority: u8,
}

/// Classtypes by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classifications {
    classes: BTreeMap<String, ClassType>,
}

/// Suricata 7.0.10's `etc/classification.config`.
const SHIPPED: &[(&str, &str, u8)] = &[
    ("not-suspicious", "Not Suspicious Traffic", 3),
    ("unknown", "Unknown Traffic", 3),
    ("bad-unknown", "Potentially Bad Traffic", 2),
    ("attempted-recon", "Attempted Information Leak", 2),
    ("successful-recon-limited", "Information Leak", 2),
    (
        "successful-recon-largescale",
        "Large Scale Information Leak",
        2,
    ),
    ("attempted-dos", "Attempted Denial of Service", 2),
    ("successful-dos", "Denial of Service", 2),
    ("attempted-user", "Attempted User Privilege Gain", 1),
    ("unsuccessful-user", "Unsuccessful User Privilege Gain", 1),
    ("successful-user", "Successful User Privilege Gain", 1),
    (
        "attempted-admin",
        "Attempted Administrator Privilege Gain",
        1,
    ),
    (
        "successful-admin",
        "Successful Administrator Privilege Gain",
        1,
    ),
    ("rpc-portmap-decode", "Decode of an RPC Query", 2),
    ("shellcode-detect", "Executable code was detected", 1),
    ("string-detect", "A suspicious string was detected", 3),
    (
        "suspicious-filename-detect",
        "A suspicious filename was detected",
        2,
    ),
    (
        "suspicious-login",
        "An attempted login using a suspicious username was detected",
        2,
    ),
    ("system-call-detect", "A system call was detected", 2),
    ("tcp-connection", "A TCP connection was detected", 4),
    ("trojan-activity", "A Network Trojan was detected", 1),
    (
        "unusual-client-port-connection",
        "A client was using an unusual port",
        2,
    ),
    ("network-scan", "Detection of a Network Scan", 3),
    (
        "denial-of-service",
        "Detection of a Denial of Service Attack",
        2,
    ),
    (
        "non-standard-protocol",
        "Detection of a non-standard protocol or event",
        2,
    ),
    (
        "protocol-command-decode",
        "Generic Protocol Command Decode",
        3,
    ),
    (
        "web-application-activity",
        "access to a potentially vulnerable web application",
        2,
    ),
    ("web-application-attack", "Web Application Attack", 1),
    ("misc-activity", "Misc activity", 3),
    ("misc-attack", "Misc Attack", 2),
    ("icmp-event", "Generic ICMP event", 3),
    (
        "inappropriate-content",
        "Inappropriate Content was Detected",
        1,
    ),
    (
        "policy-violation",
        "Potential Corporate Privacy Violation",
        1,
    ),
    (
        "default-login-attempt",
        "Attempt to login by a default username and password",
        2,
    ),
    (
        "targeted-activity",
        "Targeted Malicious Activity was Detected",
        1,
    ),
    ("exploit-kit", "Exploit Kit Activity Detected", 1),
    (
        "external-ip-check",
        "Device Retrieving External IP Address Detected",
        2,
    ),
    ("domain-c2", "Domain Observed Used for C2 Detected", 1),
    ("pup-activity", "Possibly Unwanted Program Detected", 2),
    (
        "credential-theft",
        "Successful Credential Theft Detected",
        1,
    ),
    (
        "social-engineering",
        "Possible Social Engineering Attempted",
        2,
    ),
    ("coin-mining", "Crypto Currency Mining Activity Detected", 2),
    (
        "command-and-control",
        "Malware Command and Control Activity Detected",
        1,
    ),
];

impl Default for Classifications {
    fn default() -> Self {
        let classes = SHIPPED
            .iter()
            .map(|(n, d, p)| {
                (
                    n.to_string(),
                    ClassType {
                        description: d.to_string(),
                        priority: *p,
                    },
                )
            })
            .collect();
        Classifications { classes }
    }
}

impl Classifications {
    pub fn get(&self, name: &str) -> Option<&ClassType> {
        self.classes.get(name)
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Parses a `classification.config` text; returns the table and the 1-based numbers
    /// of lines that could not be read.
    pub fn parse(text: &str) -> (Classifications, Vec<usize>) {
        let mut classes = BTreeMap::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(body) = line.strip_prefix("config classification:") else {
                bad.push(i + 1);
                continue;
            };
            let parts: Vec<&str> = body.split(',').map(str::trim).collect();
            match parts.as_slice() {
                [name, desc, prio] if !name.is_empty() => match prio.parse::<u8>() {
                    Ok(p) => {
                        classes.insert(
                            name.to_string(),
                            ClassType {
                                description: desc.to_string(),
                                priority: p,
                            },
                        );
                    }
                    Err(_) => bad.push(i + 1),
                },
                _ => bad.push(i + 1),
            }
        }
        (Classifications { classes }, bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table() {
        let c = Classifications::default();
        assert_eq!(c.len(), 43);
        let pv = c.get("policy-violation").expect("present");
        assert_eq!(
            (pv.description.as_str(), pv.priority),
            ("Potential Corporate Privacy Violation", 1)
        );
        assert_eq!(c.get("trojan-activity").map(|t| t.priority), Some(1));
    }

    #[test]
    fn parses_config_files() {
        let (c, bad) = Classifications::parse("# comment\nconfig classification: a-b,Thing A, 2\nconfig classification: broken\nnonsense\n");
        assert_eq!(
            c.get("a-b").map(|t| (t.description.as_str(), t.priority)),
            Some(("Thing A", 2))
        );
        assert_eq!(bad, vec![3, 4]);
    }
}
