//! Run settings with Suricata's names: `vars.address-groups.*`, `vars.port-groups.*`,
//! flow timeouts, defrag limits and `host-os-policy`, set from the shipped suricata.yaml
//! defaults and overridden with `--set key=value`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use thiserror::Error;

use crate::decode::DefragConfig;
use crate::flow::{FlowConfig, StateTimeouts};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SetError {
    #[error("--set {0}: expected key=value")]
    NoEquals(String),
    #[error("--set {key}: unknown setting (supported: vars.address-groups.<NAME>, vars.port-groups.<NAME>, flow-timeouts.<tcp|udp|icmp|default>.<new|established|closed>, vlan.use-for-tracking, stream.midstream, exception-policy, stream.midstream-policy, action-order, defrag.timeout, defrag.trackers, defrag.max-frags, host-os-policy.<OS>, flow.max-flows, stream.reassembly.<depth|memcap>, app-layer.protocols.dns[.tcp|.udp].detection-ports.dp, app-layer.protocols.http.libhtp.default-config.<request-body-limit|response-body-limit|headers-limit|max-tx|response-body-decompress-layer-limit|compression-bomb-limit|request-body-minimal-inspect-size|response-body-minimal-inspect-size>, app-layer.protocols.http.rulesim.<header-block-limit|decompressors>, app-layer.protocols.tls.rulesim.handshake-limit, app-layer.protocols.dns.rulesim.max-tx, packet-alert-max, detect.prefilter, detect.rulesim.threshold-entries, detect.rulesim.xbits-entries, detect.rulesim.pcre-memcap, detect.inspection-recursion-limit)")]
    UnknownKey { key: String },
    #[error("--set {key}={value}: {why}")]
    BadValue {
        key: String,
        value: String,
        why: String,
    },
}

/// Rule variables, as in suricata.yaml's `vars` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vars {
    pub address_groups: BTreeMap<String, String>,
    pub port_groups: BTreeMap<String, String>,
    /// AWS IP set references (`@NAME` in rules): name or ARN -> addresses as a Suricata
    /// group, from `--ip-set-references`.
    pub ip_set_references: BTreeMap<String, String>,
}

impl Default for Vars {
    /// The values of Suricata 7.0.10's shipped suricata.yaml.
    fn default() -> Self {
        let home = "$HOME_NET";
        let address_groups = [
            ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", home),
            ("SMTP_SERVERS", home),
            ("SQL_SERVERS", home),
            ("DNS_SERVERS", home),
            ("TELNET_SERVERS", home),
            ("AIM_SERVERS", "$EXTERNAL_NET"),
            ("DC_SERVERS", home),
            ("DNP3_SERVER", home),
            ("DNP3_CLIENT", home),
            ("MODBUS_CLIENT", home),
            ("MODBUS_SERVER", home),
            ("ENIP_CLIENT", home),
            ("ENIP_SERVER", home),
        ];
        let port_groups = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
        ];
        Vars {
            ip_set_references: BTreeMap::new(),
            address_groups: address_groups
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            port_groups: port_groups
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// Everything configurable about a run's engine.
#[derive(Clone, Debug)]
pub struct Settings {
    pub vars: Vars,
    pub flow: FlowConfig,
    pub defrag: DefragConfig,
    /// `--simulate-ips`: inline (IPS) timing.
    pub simulate_ips: bool,
    /// Application-protocol detection settings.
    pub app: crate::app::detect::DetectConfig,
    /// `action-order`.
    pub action_order: crate::detect::ActionOrder,
    /// `exception-policy` (or `stream.midstream-policy`): what IPS mode does with a TCP
    /// flow picked up mid-stream when `stream.midstream` is off.
    pub midstream_policy: ExceptionPolicy,
    /// `detect.prefilter: false`: inspect every rule on every packet (a diagnostic: the
    /// prefilter never changes an answer, this checks that it does not).
    pub prefilter_off: bool,
    /// `stream.reassembly.depth` and `.memcap`.
    pub stream: crate::stream::StreamConfig,
    /// The parsers' limits (`app-layer.protocols.http.libhtp.default-config.*` and
    /// rulesim's own under `app-layer.protocols.<proto>.rulesim`).
    pub app_limits: crate::app::AppLimits,
    /// `packet-alert-max`: alerts kept per packet.
    pub packet_alert_max: u16,
    /// Threshold windows and `xbits` kept at most (`detect.rulesim.threshold-entries`,
    /// `detect.rulesim.xbits-entries`).
    pub threshold_entries: usize,
    pub xbits_entries: usize,
    /// `detect.rulesim.pcre-memcap`: the estimated compiled size of all the ruleset's
    /// `pcre` patterns.
    pub pcre_memcap: u64,
    /// `detect.inspection-recursion-limit` (0: none).
    pub recursion_limit: u32,
    /// `--aws`: behave as AWS Network Firewall (inline timing, strict order unless the
    /// policy or its rule groups say otherwise, AWS logs).
    pub aws: bool,
    /// `aws.default-action-sids.<alert default action>`: the sids AWS's alert default
    /// actions are logged with.
    pub default_action_sids: [u32; 4],
    /// `detect.guess-applayer-tx` (default false).
    pub guess_applayer_tx: bool,
    /// `runmode: single` (Suricata's `--runmode single`); the default is `autofp`. It
    /// only decides the time stamping what is still open at the end of input.
    pub single_runmode: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            vars: Vars::default(),
            flow: FlowConfig::default(),
            defrag: DefragConfig::default(),
            simulate_ips: false,
            app: crate::app::detect::DetectConfig::default(),
            action_order: crate::detect::ActionOrder::default(),
            midstream_policy: ExceptionPolicy::default(),
            prefilter_off: false,
            stream: crate::stream::StreamConfig::default(),
            app_limits: crate::app::AppLimits::default(),
            packet_alert_max: crate::detect::DEFAULT_PACKET_ALERT_MAX,
            threshold_entries: crate::detect::DEFAULT_STATE_ENTRIES,
            xbits_entries: crate::detect::DEFAULT_STATE_ENTRIES,
            pcre_memcap: crate::rules::DEFAULT_PCRE_MEMCAP,
            recursion_limit: crate::detect::payload::DEFAULT_RECURSION_LIMIT,
            aws: false,
            default_action_sids: crate::detect::DEFAULT_ACTION_SIDS,
            guess_applayer_tx: false,
            single_runmode: false,
        }
    }
}

/// Suricata's exception policies (`exception-policy`, `*.<exception>-policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExceptionPolicy {
    /// IPS: drop the flow; IDS: ignore.
    #[default]
    Auto,
    Ignore,
    DropFlow,
    DropPacket,
    PassFlow,
    PassPacket,
    Bypass,
    Reject,
}

impl ExceptionPolicy {
    pub fn parse(v: &str) -> Option<ExceptionPolicy> {
        Some(match v {
            "auto" => ExceptionPolicy::Auto,
            "ignore" => ExceptionPolicy::Ignore,
            "drop-flow" => ExceptionPolicy::DropFlow,
            "drop-packet" => ExceptionPolicy::DropPacket,
            "pass-flow" => ExceptionPolicy::PassFlow,
            "pass-packet" => ExceptionPolicy::PassPacket,
            "bypass" => ExceptionPolicy::Bypass,
            "reject" => ExceptionPolicy::Reject,
            _ => return None,
        })
    }

    /// The name as written in `suricata.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            ExceptionPolicy::Auto => "auto",
            ExceptionPolicy::Ignore => "ignore",
            ExceptionPolicy::DropFlow => "drop-flow",
            ExceptionPolicy::DropPacket => "drop-packet",
            ExceptionPolicy::PassFlow => "pass-flow",
            ExceptionPolicy::PassPacket => "pass-packet",
            ExceptionPolicy::Bypass => "bypass",
            ExceptionPolicy::Reject => "reject",
        }
    }

    /// The policy in effect: `auto` is drop-flow in IPS mode; drops are ignored in IDS
    /// mode, as Suricata does.
    pub fn effective(self, ips: bool) -> ExceptionPolicy {
        match self {
            ExceptionPolicy::Auto if ips => ExceptionPolicy::DropFlow,
            ExceptionPolicy::Auto => ExceptionPolicy::Ignore,
            ExceptionPolicy::DropFlow | ExceptionPolicy::DropPacket | ExceptionPolicy::Reject
                if !ips =>
            {
                ExceptionPolicy::Ignore
            }
            p => p,
        }
    }
}

/// Reads an IP set reference file: a JSON object from reference name or ARN to a list of
/// CIDRs (or one CIDR string), as `aws ec2 get-managed-prefix-list-entries` gives them.
pub fn read_ip_set_references(
    text: &str,
    origin: &str,
) -> Result<BTreeMap<String, String>, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{origin}:{}:{}: invalid JSON: {e}", e.line(), e.column()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{origin}: expected an object of name or ARN -> list of CIDRs"))?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let cidrs: Vec<String> = match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => Ok(s.clone()),
                    // `get-managed-prefix-list-entries` objects carry a `Cidr`.
                    serde_json::Value::Object(o) => o
                        .get("Cidr")
                        .and_then(|c| c.as_str())
                        .map(str::to_string)
                        .ok_or(()),
                    _ => Err(()),
                })
                .collect::<Result<_, ()>>()
                .map_err(|_| format!("{origin}: `{k}` must list CIDRs"))?,
            _ => return Err(format!("{origin}: `{k}` must list CIDRs")),
        };
        if cidrs.is_empty() {
            return Err(format!("{origin}: `{k}` lists no CIDR"));
        }
        out.insert(
            k.clone(),
            if cidrs.len() == 1 {
                cidrs[0].clone()
            } else {
                format!("[{}]", cidrs.join(","))
            },
        );
    }
    Ok(out)
}

/// A size as Suricata writes them: a number of bytes, or with `kb`, `mb` or `gb`
/// (powers of 1024, any case; `kib`/`mib`/`gib` too).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "b" => 1,
        "kb" | "kib" => 1 << 10,
        "mb" | "mib" => 1 << 20,
        "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// Keys of a suricata.yaml that rulesim models (prefixes match sub-keys).
const YAML_KEYS: &[&str] = &[
    "vars.address-groups.",
    "vars.port-groups.",
    "flow-timeouts.",
    "defrag.timeout",
    "defrag.trackers",
    "defrag.max-frags",
    "vlan.use-for-tracking",
    "stream.midstream",
    "stream.reassembly.depth",
    "stream.reassembly.memcap",
    "stream.reassembly.rulesim.max-segments",
    "action-order",
    "exception-policy",
    "stream.midstream-policy",
    "host-os-policy.",
    "app-layer.protocols.dns.detection-ports.dp",
    "app-layer.protocols.dns.tcp.detection-ports.dp",
    "app-layer.protocols.dns.udp.detection-ports.dp",
    "app-layer.protocols.http.libhtp.default-config.request-body-limit",
    "app-layer.protocols.http.libhtp.default-config.response-body-limit",
    "app-layer.protocols.http.libhtp.default-config.headers-limit",
    "app-layer.protocols.http.libhtp.default-config.max-tx",
    "app-layer.protocols.http.libhtp.default-config.response-body-decompress-layer-limit",
    "app-layer.protocols.http.libhtp.default-config.compression-bomb-limit",
    "app-layer.protocols.http.libhtp.default-config.request-body-minimal-inspect-size",
    "app-layer.protocols.http.libhtp.default-config.response-body-minimal-inspect-size",
    "app-layer.protocols.http.rulesim.decompressors",
    "app-layer.protocols.http.rulesim.header-block-limit",
    "app-layer.protocols.tls.rulesim.handshake-limit",
    "app-layer.protocols.dns.rulesim.max-tx",
    "packet-alert-max",
    "detect.rulesim.threshold-entries",
    "detect.rulesim.xbits-entries",
    "detect.rulesim.pcre-memcap",
    "detect.inspection-recursion-limit",
    "detect.guess-applayer-tx",
    "runmode",
];

/// Flattens a YAML tree into `dotted.key=value` assignments; lists become `[a,b]`.
fn flatten_yaml(prefix: &str, y: &yaml_rust2::Yaml, out: &mut Vec<(String, String)>) {
    use yaml_rust2::Yaml;
    let scalar = |v: &Yaml| -> Option<String> {
        match v {
            Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
            Yaml::Integer(i) => Some(i.to_string()),
            Yaml::Boolean(b) => Some(b.to_string()),
            _ => None,
        }
    };
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                let Some(k) = scalar(k) else { continue };
                let key = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_yaml(&key, v, out);
            }
        }
        Yaml::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(scalar).collect();
            out.push((prefix.to_string(), format!("[{}]", parts.join(","))));
        }
        other => {
            if let Some(v) = scalar(other) {
                out.push((prefix.to_string(), v));
            }
        }
    }
}

impl Settings {
    /// Applies the settings rulesim models from a Suricata YAML configuration (`-c`): the
    /// rule variables, flow timeouts, defrag limits, `vlan.use-for-tracking`,
    /// `stream.midstream`, `host-os-policy` and the limits (`YAML_KEYS`). Other keys are
    /// left to Suricata.
    pub fn apply_suricata_yaml(&mut self, text: &str) -> Result<(), String> {
        let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
        let Some(doc) = docs.first() else {
            return Ok(());
        };
        let mut pairs = Vec::new();
        flatten_yaml("", doc, &mut pairs);
        for (key, value) in pairs {
            if YAML_KEYS
                .iter()
                .any(|k| key == *k || (k.ends_with('.') && key.starts_with(k)))
            {
                self.set(&format!("{key}={value}"))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Applies one `--set key=value`.
    pub fn set(&mut self, assignment: &str) -> Result<(), SetError> {
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| SetError::NoEquals(assignment.to_string()))?;
        let key = key.trim();
        let value = value.trim();
        let bad = |why: &str| SetError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
            why: why.to_string(),
        };
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| bad("expected a non-negative integer"))
        };
        let size_u32 = || {
            parse_size(value)
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| n as usize)
                .ok_or_else(|| bad("expected a size under 4gb, such as 100kb"))
        };
        if let Some(name) = key.strip_prefix("vars.address-groups.") {
            if name.is_empty() || value.is_empty() {
                return Err(bad("empty variable name or value"));
            }
            self.vars
                .address_groups
                .insert(name.to_string(), value.to_string());
            return Ok(());
        }
        if let Some(name) = key.strip_prefix("vars.port-groups.") {
            if name.is_empty() || value.is_empty() {
                return Err(bad("empty variable name or value"));
            }
            self.vars
                .port_groups
                .insert(name.to_string(), value.to_string());
            return Ok(());
        }
        if let Some(os) = key.strip_prefix("host-os-policy.") {
            // `host-os-policy.<os>=[cidr,...]`: the destinations whose fragments are
            // reassembled with that OS's overlap policy.
            let ranges = host_ranges(value).map_err(|why| bad(&why))?;
            self.defrag
                .set_host_os_ranges(os, &ranges)
                .map_err(|why| bad(&why))?;
            return Ok(());
        }
        if let Some(rest) = key.strip_prefix("flow-timeouts.") {
            let (proto, state) = rest.split_once('.').ok_or_else(|| SetError::UnknownKey {
                key: key.to_string(),
            })?;
            let t: &mut StateTimeouts = match proto {
                "tcp" => &mut self.flow.timeouts.tcp,
                "udp" => &mut self.flow.timeouts.udp,
                "icmp" => &mut self.flow.timeouts.icmp,
                "default" => &mut self.flow.timeouts.default,
                _ => {
                    return Err(SetError::UnknownKey {
                        key: key.to_string(),
                    })
                }
            };
            let secs = u32::try_from(number()?).map_err(|_| bad("too large"))?;
            match state {
                "new" => t.new = secs,
                "established" => t.established = secs,
                "closed" => t.closed = secs,
                _ => {
                    return Err(SetError::UnknownKey {
                        key: key.to_string(),
                    })
                }
            }
            return Ok(());
        }
        match key {
            "defrag.timeout" => {
                self.defrag.timeout_secs = u32::try_from(number()?).map_err(|_| bad("too large"))?
            }
            "defrag.trackers" => self.defrag.max_trackers = number()? as usize,
            "defrag.max-frags" => self.defrag.max_fragments = number()? as usize,
            "vlan.use-for-tracking" => {
                self.flow.track_vlans =
                    boolean(value).ok_or_else(|| bad("expected true or false"))?
            }
            "stream.midstream" => {
                self.flow.midstream = boolean(value).ok_or_else(|| bad("expected true or false"))?
            }
            "exception-policy" | "stream.midstream-policy" => {
                self.midstream_policy = ExceptionPolicy::parse(value).ok_or_else(|| {
                    bad("expected auto, ignore, drop-flow, drop-packet, pass-flow, pass-packet, bypass or reject")
                })?
            }
            "detect.prefilter" => {
                self.prefilter_off =
                    !boolean(value).ok_or_else(|| bad("expected true or false"))?
            }
            "action-order" => {
                self.action_order = crate::detect::ActionOrder::parse(value).map_err(|e| bad(&e))?
            }
            "app-layer.protocols.dns.detection-ports.dp"
            | "app-layer.protocols.dns.tcp.detection-ports.dp"
            | "app-layer.protocols.dns.udp.detection-ports.dp" => {
                // One list for TCP and UDP: rulesim probes DNS on these ports for both.
                let ports: Result<Vec<u16>, _> = value
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|p| p.trim().parse::<u16>())
                    .collect();
                self.app.dns_ports = ports
                    .ok()
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| bad("expected a port or a list of ports"))?;
            }
            "stream.reassembly.depth" => self.stream.depth = parse_size(value).ok_or_else(|| bad("expected a size such as 1mb"))?,
            "stream.reassembly.memcap" => {
                let cap = parse_size(value).ok_or_else(|| bad("expected a size such as 256mb"))?;
                if cap == 0 {
                    return Err(bad("must be at least 1 byte"));
                }
                self.stream.memcap = cap;
            }
            "stream.reassembly.rulesim.max-segments" => {
                let n = number()?;
                if n == 0 {
                    return Err(bad("must be at least 1"));
                }
                self.stream.max_segments = n;
            }
            "flow.max-flows" => {
                let n = number()? as usize;
                if n == 0 {
                    return Err(bad("must be at least 1"));
                }
                self.flow.max_flows = n;
            }
            // libhtp's settings read sizes (`100kb`) and numbers alike, as Suricata does
            // (ParseSizeStringU32).
            "app-layer.protocols.http.libhtp.default-config.request-body-limit" => {
                self.app_limits.http.request_body = size_u32()?
            }
            "app-layer.protocols.http.libhtp.default-config.response-body-limit" => {
                self.app_limits.http.response_body = size_u32()?
            }
            "app-layer.protocols.http.libhtp.default-config.headers-limit" => {
                self.app_limits.http.headers = size_u32()?
            }
            "app-layer.protocols.http.libhtp.default-config.max-tx" => {
                self.app_limits.http.max_tx = size_u32()?
            }
            "app-layer.protocols.http.libhtp.default-config.response-body-decompress-layer-limit" => {
                self.app_limits.http.decompress.layer_limit = size_u32()?
            }
            "app-layer.protocols.http.libhtp.default-config.compression-bomb-limit" => {
                self.app_limits.http.decompress.bomb_limit = size_u32()? as u64
            }
            "app-layer.protocols.http.libhtp.default-config.request-body-minimal-inspect-size" => {
                self.app_limits.http.request_inspect_min = size_u32()? as u64
            }
            "app-layer.protocols.http.libhtp.default-config.response-body-minimal-inspect-size" => {
                self.app_limits.http.response_inspect_min = size_u32()? as u64
            }
            "app-layer.protocols.http.rulesim.decompressors" => {
                self.app_limits.http.decompress.max_live = size_u32()?
            }
            "app-layer.protocols.http.rulesim.header-block-limit" => {
                let n = size_u32()?;
                if n == 0 {
                    return Err(bad("must be at least 1 byte"));
                }
                self.app_limits.http.header_block = n;
            }
            "app-layer.protocols.tls.rulesim.handshake-limit" => {
                let n = size_u32()?;
                if n == 0 {
                    return Err(bad("must be at least 1 byte"));
                }
                self.app_limits.tls.handshake = n;
            }
            "packet-alert-max" => {
                // Suricata takes 1 to 255 (and falls back to 15, with a warning, on
                // anything else); rulesim refuses the rest.
                self.packet_alert_max = u16::try_from(number()?)
                    .ok()
                    .filter(|n| (1..=255).contains(n))
                    .ok_or_else(|| bad("must be 1 to 255"))?;
            }
            "detect.inspection-recursion-limit" => {
                self.recursion_limit = u32::try_from(number()?).map_err(|_| bad("too large"))?
            }
            "detect.rulesim.pcre-memcap" => {
                self.pcre_memcap =
                    parse_size(value).ok_or_else(|| bad("expected a size such as 512mb"))?
            }
            "detect.rulesim.threshold-entries" | "detect.rulesim.xbits-entries" => {
                let n = number()? as usize;
                if n == 0 {
                    return Err(bad("must be at least 1"));
                }
                if key == "detect.rulesim.threshold-entries" {
                    self.threshold_entries = n;
                } else {
                    self.xbits_entries = n;
                }
            }
            "runmode" => {
                self.single_runmode = match value {
                    "single" => true,
                    "autofp" | "workers" => false,
                    _ => return Err(bad("expected single, autofp or workers")),
                }
            }
            "detect.guess-applayer-tx" => {
                self.guess_applayer_tx =
                    boolean(value).ok_or_else(|| bad("expected yes or no"))?
            }
            "aws.default-action-sids.alert_strict"
            | "aws.default-action-sids.alert_established"
            | "aws.default-action-sids.alert_established_app_layer"
            | "aws.default-action-sids.alert_established_app_layer_to_server" => {
                let sid = u32::try_from(number()?)
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| bad("a sid is 1 to 4294967295"))?;
                let at = match key.rsplit('.').next() {
                    Some("alert_strict") => 0,
                    Some("alert_established") => 1,
                    Some("alert_established_app_layer") => 2,
                    _ => 3,
                };
                self.default_action_sids[at] = sid;
            }
            "app-layer.protocols.dns.rulesim.max-tx" => {
                let n = number()? as usize;
                if n == 0 {
                    return Err(bad("must be at least 1"));
                }
                self.app_limits.dns_max_tx = n;
            }
            _ => {
                return Err(SetError::UnknownKey {
                    key: key.to_string(),
                })
            }
        }
        Ok(())
    }
}

/// A `host-os-policy` list: `[10.0.0.0/8, 192.168.1.1, 2001:db8::/32]` (brackets
/// optional, `[]` for none). A bare address is a single host; `default` is 0.0.0.0/0, as
/// in Suricata.
fn host_ranges(value: &str) -> Result<Vec<IpNet>, String> {
    let inner = match value.strip_prefix('[') {
        Some(rest) => rest
            .strip_suffix(']')
            .ok_or_else(|| "unclosed '['".to_string())?,
        None => value,
    };
    inner
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            if item.eq_ignore_ascii_case("default") {
                return Ok(IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::UNSPECIFIED, 0)));
            }
            let parsed = if item.contains('/') {
                item.parse::<IpNet>().ok()
            } else {
                item.parse::<IpAddr>().ok().map(IpNet::from)
            };
            parsed.ok_or_else(|| format!("{item:?} is not an IP address or CIDR range"))
        })
        .collect()
}

/// Suricata's YAML booleans.
fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_suricata_yaml() {
        let yaml = "%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: \"[10.9.0.0/16]\"\n    EXTERNAL_NET: \"!$HOME_NET\"\n  port-groups:\n    HTTP_PORTS: \"[80,8080]\"\n    ORACLE_PORTS: 1521\nflow-timeouts:\n  tcp:\n    established: 120\nstream:\n  midstream: true\n  reassembly:\n    depth: 1mb\nhost-os-policy:\n  linux: [10.0.0.0/8]\noutputs:\n  - eve-log:\n      enabled: yes\n";
        let mut s = Settings::default();
        s.apply_suricata_yaml(yaml).expect("applies");
        assert_eq!(s.vars.address_groups["HOME_NET"], "[10.9.0.0/16]");
        assert_eq!(s.vars.port_groups["HTTP_PORTS"], "[80,8080]");
        assert_eq!(s.vars.port_groups["ORACLE_PORTS"], "1521");
        assert_eq!(s.flow.timeouts.tcp.established, 120);
        assert!(s.flow.midstream);
        assert!(Settings::default()
            .apply_suricata_yaml("vars: [unclosed")
            .is_err());
    }

    #[test]
    fn defaults_are_suricata_yaml() {
        let s = Settings::default();
        assert_eq!(
            s.vars.address_groups["HOME_NET"],
            "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"
        );
        assert_eq!(s.vars.address_groups["EXTERNAL_NET"], "!$HOME_NET");
        assert_eq!(s.vars.port_groups["HTTP_PORTS"], "80");
        assert_eq!(
            s.vars.port_groups["FILE_DATA_PORTS"],
            "[$HTTP_PORTS,110,143]"
        );
        assert_eq!(s.flow.timeouts.tcp.established, 600);
        assert_eq!(s.flow.timeouts.udp.new, 30);
        assert_eq!(s.defrag.timeout_secs, 60);
    }

    #[test]
    fn set_overrides_and_rejects() {
        let mut s = Settings::default();
        s.set("vars.address-groups.HOME_NET=[10.1.0.0/16]")
            .expect("valid");
        assert_eq!(s.vars.address_groups["HOME_NET"], "[10.1.0.0/16]");
        s.set("vars.port-groups.HTTP_PORTS=[80,8080]")
            .expect("valid");
        assert_eq!(s.vars.port_groups["HTTP_PORTS"], "[80,8080]");
        s.set("flow-timeouts.tcp.established=120").expect("valid");
        assert_eq!(s.flow.timeouts.tcp.established, 120);
        s.set("stream.midstream=yes").expect("valid");
        assert!(s.flow.midstream);
        assert_eq!(s.app.dns_ports, [53]);
        s.set("app-layer.protocols.dns.detection-ports.dp=[53, 5353]")
            .expect("valid");
        assert_eq!(s.app.dns_ports, [53, 5353]);
        s.set("app-layer.protocols.dns.udp.detection-ports.dp=5300")
            .expect("valid");
        assert_eq!(s.app.dns_ports, [5300]);
        assert!(s
            .set("app-layer.protocols.dns.detection-ports.dp=any")
            .is_err());
        s.set("vlan.use-for-tracking=false").expect("valid");
        assert!(!s.flow.track_vlans);
        assert!(matches!(
            s.set("stream.midstream=maybe"),
            Err(SetError::BadValue { .. })
        ));
        assert!(matches!(s.set("nonsense"), Err(SetError::NoEquals(_))));
        assert!(matches!(
            s.set("stream.depth=1"),
            Err(SetError::UnknownKey { .. })
        ));
        assert!(matches!(
            s.set("flow-timeouts.tcp.new=abc"),
            Err(SetError::BadValue { .. })
        ));
        assert!(matches!(
            s.set("flow.max-flows=0"),
            Err(SetError::BadValue { .. })
        ));
    }

    #[test]
    fn app_layer_limits_are_settings() {
        let mut s = Settings::default();
        let l = s.app_limits;
        assert_eq!(
            (
                l.http.request_body,
                l.http.response_body,
                l.http.headers,
                l.http.max_tx
            ),
            (100 * 1024, 100 * 1024, 1024, 512),
            "Suricata's suricata.yaml and libhtp defaults"
        );
        let http = "app-layer.protocols.http.libhtp.default-config";
        s.set(&format!("{http}.request-body-limit=1mb"))
            .expect("valid");
        s.set(&format!("{http}.response-body-limit=0"))
            .expect("valid");
        s.set(&format!("{http}.headers-limit=10")).expect("valid");
        s.set(&format!("{http}.max-tx=4kb"))
            .expect("a size, as Suricata reads it");
        s.set("app-layer.protocols.http.rulesim.header-block-limit=8kb")
            .expect("valid");
        s.set("app-layer.protocols.tls.rulesim.handshake-limit=1mb")
            .expect("valid");
        s.set("app-layer.protocols.dns.rulesim.max-tx=16")
            .expect("valid");
        s.set(&format!("{http}.request-body-minimal-inspect-size=4kb"))
            .expect("valid");
        s.set(&format!("{http}.response-body-minimal-inspect-size=100"))
            .expect("valid");
        assert_eq!(
            (
                s.app_limits.http.request_inspect_min,
                s.app_limits.http.response_inspect_min
            ),
            (4096, 100)
        );
        let l = s.app_limits;
        assert_eq!(
            (
                l.http.request_body,
                l.http.response_body,
                l.http.headers,
                l.http.max_tx
            ),
            (1 << 20, 0, 10, 4096)
        );
        assert_eq!(
            (l.http.header_block, l.tls.handshake, l.dns_max_tx),
            (8192, 1 << 20, 16)
        );
        for bad in [
            format!("{http}.request-body-limit=5gb"),
            format!("{http}.max-tx=-1"),
            "app-layer.protocols.http.rulesim.header-block-limit=0".to_string(),
            "app-layer.protocols.dns.rulesim.max-tx=0".to_string(),
        ] {
            assert!(
                matches!(s.set(&bad), Err(SetError::BadValue { .. })),
                "{bad}"
            );
        }
        assert_eq!(s.packet_alert_max, 15, "Suricata's PACKET_ALERT_MAX");
        s.set("packet-alert-max=255").expect("valid");
        assert_eq!(s.packet_alert_max, 255);
        for bad in [
            "packet-alert-max=0",
            "packet-alert-max=256",
            "packet-alert-max=x",
        ] {
            assert!(
                matches!(s.set(bad), Err(SetError::BadValue { .. })),
                "{bad}"
            );
        }
        assert_eq!(s.recursion_limit, 3000, "Suricata's default");
        s.set("detect.inspection-recursion-limit=0")
            .expect("0: no limit");
        assert_eq!(s.recursion_limit, 0);
        assert!(s.set("detect.inspection-recursion-limit=-1").is_err());
        assert_eq!(s.pcre_memcap, 512 << 20);
        s.set("detect.rulesim.pcre-memcap=1gb").expect("valid");
        assert_eq!(s.pcre_memcap, 1 << 30);
        assert!(s.set("detect.rulesim.pcre-memcap=lots").is_err());
        s.set("detect.rulesim.threshold-entries=10").expect("valid");
        s.set("detect.rulesim.xbits-entries=20").expect("valid");
        assert_eq!((s.threshold_entries, s.xbits_entries), (10, 20));
        assert!(s.set("detect.rulesim.threshold-entries=0").is_err());
        s.apply_suricata_yaml("packet-alert-max: 20\n")
            .expect("applies");
        assert_eq!(s.packet_alert_max, 20);
        let yaml = "app-layer:\n  protocols:\n    http:\n      libhtp:\n        default-config:\n          request-body-limit: 3kb\n          personality: IDS\n";
        s.apply_suricata_yaml(yaml).expect("applies");
        assert_eq!(s.app_limits.http.request_body, 3072);
    }

    #[test]
    fn host_os_policy_picks_the_defrag_policy() {
        let ip = |s: &str| -> IpAddr { s.parse().expect("address literal") };
        let policy = |s: &Settings, addr: &str| s.defrag.policy_for(ip(addr)).name();
        let mut s = Settings::default();
        // suricata.yaml: windows for 0.0.0.0/0; IPv6 falls back to Suricata's bsd.
        assert_eq!(policy(&s, "192.0.2.1"), "windows");
        assert_eq!(policy(&s, "2001:db8::1"), "bsd");
        s.set("host-os-policy.linux=[10.0.0.0/8, 192.168.1.1]")
            .expect("valid");
        s.set("host-os-policy.Solaris=2001:db8::/32,10.1.0.0/16")
            .expect("valid");
        s.set("host-os-policy.macos=[]")
            .expect("an empty list is valid");
        assert_eq!(policy(&s, "10.2.3.4"), "linux");
        assert_eq!(
            policy(&s, "10.1.3.4"),
            "solaris",
            "most specific range wins"
        );
        assert_eq!(policy(&s, "192.168.1.1"), "linux");
        assert_eq!(policy(&s, "192.168.1.2"), "windows");
        assert_eq!(policy(&s, "2001:db8::1"), "solaris");
        assert_eq!(policy(&s, "2001:db9::1"), "bsd");
        s.set("host-os-policy.hpux11=[default]").expect("valid");
        assert_eq!(policy(&s, "192.168.1.2"), "first");
        s.set("host-os-policy.hpux11=[]").expect("valid");
        assert_eq!(policy(&s, "192.168.1.2"), "bsd");
        for bad in [
            "host-os-policy.first=[10.0.0.0/8]",
            "host-os-policy.last=[10.0.0.0/8]",
            "host-os-policy.beos=[10.0.0.0/8]",
            "host-os-policy.linux=[10.0.0.0/33]",
            "host-os-policy.linux=[10.0.0.0/8",
            "host-os-policy.linux=[example.com]",
        ] {
            assert!(
                matches!(s.set(bad), Err(SetError::BadValue { .. })),
                "{bad}"
            );
        }
        let unknown = s.set("stream.depth=1").expect_err("unknown key");
        assert!(unknown.to_string().contains("host-os-policy.<OS>"));
    }
}
