//! A rule compiled for evaluation: its header as address and port sets, its type (which
//! decides when it is evaluated and whether its pass/drop acts on the packet or the flow),
//! and its tests.
//!
//! The type follows Suricata 7.0.10's `SignatureSetType` (`detect-engine-build.c`):
//! protocol-detection-only, IP-only (like-IP-only when an address is negated), packet,
//! stream, packet+stream, app-layer (protocol only) and app-layer transaction rules.

use crate::rules::detection::{AppLayerProtocol, MatchTest, SslState, SslVersion};
use crate::rules::expr::AddrExpr;
use crate::rules::options::{FlowValue, FlowbitsValue, NumTest, ThresholdValue};
use crate::rules::sets::{AddrSet, PortSet};
use crate::rules::vars::CachedResolver;
use crate::rules::{Action, Rule, VarTable};

use super::payload::{compile_detection, BufferProgram};

/// When a rule is evaluated, and what its pass/drop applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigKind {
    /// `app-layer-protocol` alone: once per direction when detection finishes. Flow scope.
    ProtoDetect,
    /// Addresses, ports and IP-compatible options only: the first packet of each direction
    /// of a flow. Flow scope.
    IpOnly,
    /// As IP-only, but an address is negated: every packet. Flow scope.
    LikeIpOnly,
    /// An application protocol in the header and nothing to match: every packet of flows
    /// of that protocol. Flow scope.
    AppLayer,
    /// Packet keywords (flow, dsize, itype, ...) or non-TCP payload: every packet. Packet scope.
    Packet,
    /// TCP payload content: the reassembled stream (the packet when it has no stream).
    /// Flow scope when matched on the stream.
    Stream,
    /// TCP payload content with depth/offset: the packet and the stream.
    PacketStream,
    /// App-layer buffers: each transaction once. Flow scope.
    Tx,
}

impl SigKind {
    /// Whether pass/drop of a match applies to the flow (on the packet otherwise).
    pub fn flow_scoped(self) -> bool {
        !matches!(
            self,
            SigKind::Packet | SigKind::Stream | SigKind::PacketStream
        )
    }
}

/// The header protocol's constraint on packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoMatch {
    /// `ip`, or an app protocol over TCP or UDP (checked with the app protocol).
    Any,
    /// One IP protocol (tcp, udp, sctp, ...).
    Ip(u8),
    /// `icmp`: ICMPv4 and ICMPv6.
    Icmp,
    /// An app protocol carried over TCP or UDP.
    TcpOrUdp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowbitOp {
    Set(Vec<u32>),
    Unset(Vec<u32>),
    Toggle(Vec<u32>),
    IsSet(Vec<u32>),
    IsNotSet(Vec<u32>),
}

/// Suricata's sigorder rank for rules that keep state: rules that only set it first,
/// then those that set and read, then those that only read, then the rest.
fn set_read_rank(set: bool, read: bool) -> u8 {
    match (set, read) {
        (true, false) => 0,
        (true, true) => 1,
        (false, true) => 2,
        (false, false) => 3,
    }
}

/// One `flowint` operation on a flow's integer `var`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowintOp {
    pub var: u32,
    pub cmd: FlowintCmd,
    pub target: FlowintTarget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowintCmd {
    /// `=`, `+`, `-`: applied once the rule matched.
    Set,
    Add,
    Sub,
    /// Checks, with the rule: `==`, `!=`, `<`, `<=`, `>`, `>=`, `isset`, `isnotset`.
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    IsSet,
    IsNotSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowintTarget {
    None,
    Value(u32),
    /// Another variable of the flow (0 when it is not set).
    Var(u32),
}

impl FlowintCmd {
    pub fn modifies(self) -> bool {
        matches!(self, FlowintCmd::Set | FlowintCmd::Add | FlowintCmd::Sub)
    }
}

/// What an `xbits` bit is kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XbitTrack {
    /// The packet's source address (`ip_src`).
    Src,
    /// The packet's destination address (`ip_dst`).
    Dst,
    /// The two addresses, either way round (`ip_pair`).
    Pair,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XbitCmd {
    Set,
    Unset,
    Toggle,
    IsSet,
    IsNotSet,
}

/// One `xbits` operation: a bit of a host or an address pair, with its lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XbitOp {
    pub cmd: XbitCmd,
    pub bit: u32,
    pub track: XbitTrack,
    /// Seconds a set bit lives (Suricata's default 30).
    pub expire: u32,
}

/// A compiled rule. Signatures are kept in Suricata's evaluation order; their index is
/// that order (`num`).
#[derive(Debug)]
pub struct Signature {
    /// Index of the rule in the engine's rule list.
    pub rule: usize,
    pub action: Action,
    pub sid: u32,
    pub gid: u32,
    pub priority: u32,
    pub kind: SigKind,
    pub proto: ProtoMatch,
    /// `tcp-pkt` (packet payload only) / `tcp-stream` (stream only).
    pub tcp_pkt: bool,
    pub tcp_stream: bool,
    /// The app protocol the flow must have (`http`, `tls`, ...).
    pub app_proto: Option<String>,
    pub src: AddrSet,
    pub dst: AddrSet,
    pub sp: PortSet,
    pub dp: PortSet,
    pub bidirectional: bool,
    pub flow: FlowValue,
    /// Payload programs: `None` buffer (packet/stream) first if any, then sticky buffers.
    pub programs: Vec<BufferProgram>,
    pub flowbits: Vec<FlowbitOp>,
    pub xbits: Vec<XbitOp>,
    pub flowint: Vec<FlowintOp>,
    pub dsize: Option<NumTest>,
    pub itype: Option<NumTest>,
    /// `flags`, `ttl`, `seq`, `ack`, `window`.
    pub header: Vec<crate::rules::header::HeaderTest>,
    pub icode: Option<NumTest>,
    pub ip_proto: Option<NumTest>,
    pub app_layer_protocol: Vec<AppLayerProtocol>,
    pub ssl_state: Vec<SslState>,
    pub ssl_version: Option<SslVersion>,
    pub tls_version: Option<u16>,
    /// Transaction rules: inspected on to-server / to-client packets.
    pub tx_dirs: [bool; 2],
    pub threshold: Option<ThresholdValue>,
    pub detection_filter: Option<ThresholdValue>,
    /// The rule writes an alert when it acts (not `noalert`; a pass only with `alert`).
    pub alerts: bool,
}

/// Why a rule could not be compiled (its addresses resolve to nothing, ...).
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("sid {sid}: {message}")]
    Rule { sid: String, message: String },
}

fn addr_has_negation(expr: &AddrExpr, vars: &VarTable, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    match expr {
        AddrExpr::Not(_) => true,
        AddrExpr::Group(items) => items.iter().any(|e| addr_has_negation(e, vars, depth + 1)),
        AddrExpr::Var(name) => vars
            .addresses
            .get(name)
            .is_some_and(|text| text.contains('!')),
        _ => false,
    }
}

fn ip_proto_number(p: &str) -> Option<u8> {
    Some(match p {
        "tcp" | "tcp-pkt" | "tcp-stream" => 6,
        "icmpv6" | "ipv6-icmp" => 58,
        "udp" => 17,
        "sctp" => 132,
        _ => return None,
    })
}

/// Which sides of a transaction a sticky buffer belongs to: (to server, to client).
fn buffer_sides(buffer: &str) -> (bool, bool) {
    match crate::rules::check::buffer_side(buffer) {
        crate::rules::check::Side::ToServer => (true, false),
        crate::rules::check::Side::ToClient => (false, true),
        crate::rules::check::Side::Both => (true, true),
    }
}

impl Signature {
    pub fn compile(
        index: usize,
        rule: &Rule,
        resolver: &mut CachedResolver<'_>,
        flowbit_id: &mut dyn FnMut(&str) -> u32,
    ) -> Result<Signature, CompileError> {
        let err = |message: String| CompileError::Rule {
            sid: rule.id(),
            message,
        };
        let d = &rule.detection;
        let src = resolver
            .addresses_of(&rule.src)
            .map_err(|e| err(format!("source address: {e}")))?;
        let dst = resolver
            .addresses_of(&rule.dst)
            .map_err(|e| err(format!("destination address: {e}")))?;
        let sp = resolver
            .ports_of(&rule.src_port)
            .map_err(|e| err(format!("source port: {e}")))?;
        let dp = resolver
            .ports_of(&rule.dst_port)
            .map_err(|e| err(format!("destination port: {e}")))?;
        let programs = compile_detection(d).map_err(|e| err(format!("pcre: {e}")))?;
        let protocol = rule.protocol.as_str();
        let proto = match protocol {
            "ip" => ProtoMatch::Any,
            "icmp" => ProtoMatch::Icmp,
            p => match ip_proto_number(p) {
                Some(n) => ProtoMatch::Ip(n),
                None => match p {
                    "http" | "http1" | "http2" | "tls" | "ssh" | "smtp" | "ftp" | "smb"
                    | "dcerpc" | "rdp" | "rfb" | "mqtt" | "imap" | "pop3" | "ftp-data" => {
                        ProtoMatch::Ip(6)
                    }
                    _ => ProtoMatch::TcpOrUdp,
                },
            },
        };
        let mut flowbits = Vec::new();
        for fb in &d.flowbits {
            let ids = |names: &Vec<String>, f: &mut dyn FnMut(&str) -> u32| {
                names.iter().map(|n| f(n)).collect::<Vec<u32>>()
            };
            flowbits.push(match fb {
                FlowbitsValue::Set(n) => FlowbitOp::Set(ids(n, flowbit_id)),
                FlowbitsValue::Unset(n) => FlowbitOp::Unset(ids(n, flowbit_id)),
                FlowbitsValue::Toggle(n) => FlowbitOp::Toggle(ids(n, flowbit_id)),
                FlowbitsValue::IsSet(n) => FlowbitOp::IsSet(ids(n, flowbit_id)),
                FlowbitsValue::IsNotSet(n) => FlowbitOp::IsNotSet(ids(n, flowbit_id)),
                FlowbitsValue::NoAlert => continue,
            });
        }
        let xbits: Vec<XbitOp> = d
            .xbits
            .iter()
            .filter_map(|x| {
                let cmd = match x.command.as_str() {
                    "set" => XbitCmd::Set,
                    "unset" => XbitCmd::Unset,
                    "toggle" => XbitCmd::Toggle,
                    "isset" => XbitCmd::IsSet,
                    "isnotset" => XbitCmd::IsNotSet,
                    _ => return None,
                };
                let track = match x.track.as_str() {
                    "ip_src" => XbitTrack::Src,
                    "ip_dst" => XbitTrack::Dst,
                    _ => XbitTrack::Pair,
                };
                Some(XbitOp {
                    cmd,
                    bit: flowbit_id(&x.name),
                    track,
                    expire: x.expire.unwrap_or(30),
                })
            })
            .collect();
        let flowint: Vec<FlowintOp> = d
            .flowint
            .iter()
            .filter_map(|f| {
                let cmd = match f.modifier.as_str() {
                    "=" => FlowintCmd::Set,
                    "+" => FlowintCmd::Add,
                    "-" => FlowintCmd::Sub,
                    "==" => FlowintCmd::Eq,
                    "!=" => FlowintCmd::Ne,
                    "<" => FlowintCmd::Lt,
                    "<=" => FlowintCmd::Le,
                    ">" => FlowintCmd::Gt,
                    ">=" => FlowintCmd::Ge,
                    "isset" => FlowintCmd::IsSet,
                    "isnotset" => FlowintCmd::IsNotSet,
                    _ => return None,
                };
                let target = match &f.target {
                    None => FlowintTarget::None,
                    Some(crate::rules::detection::FlowintTarget::Value(v)) => {
                        FlowintTarget::Value(*v)
                    }
                    Some(crate::rules::detection::FlowintTarget::Var(n)) => {
                        FlowintTarget::Var(flowbit_id(&format!("flowint:{n}")))
                    }
                };
                Some(FlowintOp {
                    var: flowbit_id(&format!("flowint:{}", f.name)),
                    cmd,
                    target,
                })
            })
            .collect();
        let has_payload = programs.iter().any(|p| p.buffer().is_none());
        // base64_data is no inspection buffer of its own (its matches run inside the
        // base64_decode of another list).
        let sticky: Vec<&'static str> = d
            .matches
            .iter()
            .filter_map(|m| m.buffer)
            .filter(|b| *b != crate::rules::detection::BASE64_DATA)
            .collect();
        let tls_generic =
            !d.ssl_state.is_empty() || d.ssl_version.is_some() || d.tls_version.is_some();
        let flow_opts = d.flow != FlowValue::default();
        let reads_bits = flowbits
            .iter()
            .any(|f| matches!(f, FlowbitOp::IsSet(_) | FlowbitOp::IsNotSet(_)));
        let packet_keywords = flow_opts
            || reads_bits
            || d.dsize.is_some()
            || !d.header.is_empty()
            || d.itype.is_some()
            || d.icode.is_some()
            || !d.flowint.is_empty();
        let vars = resolver.vars();
        let negated =
            addr_has_negation(&rule.src, vars, 0) || addr_has_negation(&rule.dst, vars, 0);
        let app_proto = d.app_proto.clone();
        let kind = if !sticky.is_empty() || tls_generic {
            SigKind::Tx
        } else if has_payload {
            let tcp_possible = matches!(
                proto,
                ProtoMatch::Any | ProtoMatch::Ip(6) | ProtoMatch::TcpOrUdp
            );
            // Suricata's SIG_FLAG_REQUIRE_PACKET / _STREAM: dsize and `flow:no_stream` need
            // the packet; `flow:only_stream` the stream; depth or offset both.
            let anchored = d.matches.iter().any(|m| {
                m.buffer.is_none()
                    && matches!(&m.test, MatchTest::Content(c) if c.depth.is_some() || c.offset.is_some())
            });
            // The header keywords need the packet too (SIG_FLAG_REQUIRE_PACKET).
            if protocol == "tcp-pkt"
                || !tcp_possible
                || d.dsize.is_some()
                || !d.header.is_empty()
                || d.flow.no_stream
            {
                SigKind::Packet
            } else if protocol == "tcp-stream" || d.flow.only_stream || !anchored {
                SigKind::Stream
            } else {
                SigKind::PacketStream
            }
        } else if packet_keywords {
            SigKind::Packet
        } else if !d.app_layer_protocol.is_empty() && app_proto.is_none() {
            SigKind::ProtoDetect
        } else if app_proto.is_some() {
            SigKind::AppLayer
        } else if negated {
            SigKind::LikeIpOnly
        } else {
            SigKind::IpOnly
        };
        let mut tx_dirs = [true, true];
        if kind == SigKind::Tx {
            let (mut ts, mut tc) = (false, false);
            for b in &sticky {
                let (s, c) = buffer_sides(b);
                ts |= s;
                tc |= c;
            }
            if sticky.is_empty() {
                ts = true;
                tc = true;
            }
            // Suricata refuses a rule mixing request and response buffers (check.rs).
            tx_dirs = [ts, tc];
        }
        if d.flow.to_server {
            tx_dirs[1] = false;
        }
        if d.flow.to_client {
            tx_dirs[0] = false;
        }
        let alerts = !d.noalert && (rule.action != Action::Pass || d.alert);
        Ok(Signature {
            rule: index,
            action: rule.action,
            sid: rule.sid,
            gid: rule.gid,
            priority: rule.priority,
            kind,
            proto,
            tcp_pkt: protocol == "tcp-pkt",
            tcp_stream: protocol == "tcp-stream",
            app_proto,
            src,
            dst,
            sp,
            dp,
            bidirectional: rule.bidirectional,
            flow: d.flow,
            programs,
            flowbits,
            xbits,
            flowint,
            dsize: d.dsize,
            itype: d.itype,
            header: d.header.clone(),
            icode: d.icode,
            ip_proto: d.ip_proto,
            app_layer_protocol: d.app_layer_protocol.clone(),
            ssl_state: d.ssl_state.clone(),
            ssl_version: d.ssl_version.clone(),
            tls_version: d.tls_version,
            tx_dirs,
            threshold: d.threshold.clone(),
            detection_filter: d.detection_filter.clone(),
            alerts,
        })
    }

    /// Suricata's flowbits class for ordering: rules that set come first, then those that
    /// set and read, then readers, then rules without flowbits.
    /// As [`flowbits_rank`](Self::flowbits_rank) for the `xbits` of hosts (`pair`
    /// false) or of address pairs: Suricata orders host bits, then ippair bits, that way.
    pub fn xbits_rank(&self, pair: bool) -> u8 {
        let mine = |o: &&XbitOp| (o.track == XbitTrack::Pair) == pair;
        let set = self
            .xbits
            .iter()
            .filter(mine)
            .any(|o| matches!(o.cmd, XbitCmd::Set | XbitCmd::Unset | XbitCmd::Toggle));
        let read = self
            .xbits
            .iter()
            .filter(mine)
            .any(|o| matches!(o.cmd, XbitCmd::IsSet | XbitCmd::IsNotSet));
        set_read_rank(set, read)
    }

    /// As [`flowbits_rank`](Self::flowbits_rank) for `flowint` (Suricata orders it right
    /// after flowbits).
    pub fn flowint_rank(&self) -> u8 {
        let set = self.flowint.iter().any(|o| o.cmd.modifies());
        let read = self.flowint.iter().any(|o| !o.cmd.modifies());
        set_read_rank(set, read)
    }

    pub fn flowbits_rank(&self) -> u8 {
        let set = self.flowbits.iter().any(|f| {
            matches!(
                f,
                FlowbitOp::Set(_) | FlowbitOp::Unset(_) | FlowbitOp::Toggle(_)
            )
        });
        let read = self
            .flowbits
            .iter()
            .any(|f| matches!(f, FlowbitOp::IsSet(_) | FlowbitOp::IsNotSet(_)));
        set_read_rank(set, read)
    }
}

/// `dsize`, `itype`, `icode`, `ip_proto`, `bsize`: Suricata's unsigned comparisons.
pub fn num_test(t: &NumTest, v: u64) -> bool {
    match *t {
        NumTest::Eq(n) => v == n,
        NumTest::Lt(n) => v < n,
        NumTest::Le(n) => v <= n,
        NumTest::Gt(n) => v > n,
        NumTest::Ge(n) => v >= n,
        NumTest::Between(a, b) => v > a && v < b,
        NumTest::Ne(n) => v != n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rules_text, RuleContext};

    fn sig(text: &str) -> Signature {
        let (rules, errors) = parse_rules_text(text, "t.rules", &RuleContext::default());
        assert!(errors.is_empty(), "{text}: {errors:?}");
        let mut names: Vec<String> = Vec::new();
        let mut id = |n: &str| match names.iter().position(|x| x == n) {
            Some(i) => i as u32,
            None => {
                names.push(n.to_string());
                names.len() as u32 - 1
            }
        };
        Signature::compile(0, &rules[0], &mut VarTable::default().cached(), &mut id)
            .expect("compiles")
    }

    /// Suricata 7.0.10's rule types (`SignatureSetType`), as the spec's table gives them.
    #[test]
    fn rule_types_follow_suricata() {
        use SigKind::*;
        let table: &[(&str, SigKind)] = &[
            ("alert tcp any any -> any any (sid:1;)", IpOnly),
            (
                "alert ip 10.0.0.0/8 any <> any 53 (flowbits:set,a; sid:1;)",
                IpOnly,
            ),
            ("alert ip any any -> any any (ip_proto:47; sid:1;)", IpOnly),
            ("alert tcp any any -> ![1.2.3.4] any (sid:1;)", LikeIpOnly),
            (
                "alert tcp $HOME_NET any -> $EXTERNAL_NET any (sid:1;)",
                LikeIpOnly,
            ),
            (
                "alert tcp any any -> any any (flow:established; sid:1;)",
                Packet,
            ),
            (
                "alert tcp any any -> any any (flowbits:isset,a; sid:1;)",
                Packet,
            ),
            ("alert icmp any any -> any any (itype:8; sid:1;)", Packet),
            (
                "alert udp any any -> any any (content:\"x\"; sid:1;)",
                Packet,
            ),
            (
                "alert tcp any any -> any any (content:\"x\"; dsize:>3; sid:1;)",
                Packet,
            ),
            (
                "alert tcp-pkt any any -> any any (content:\"x\"; sid:1;)",
                Packet,
            ),
            (
                "alert tcp any any -> any any (content:\"x\"; sid:1;)",
                Stream,
            ),
            (
                "alert tcp-stream any any -> any any (content:\"x\"; depth:4; sid:1;)",
                Stream,
            ),
            (
                "alert tcp any any -> any any (content:\"x\"; depth:4; sid:1;)",
                PacketStream,
            ),
            (
                "alert tcp any any -> any any (content:\"x\"; startswith; sid:1;)",
                PacketStream,
            ),
            ("alert http any any -> any any (sid:1;)", AppLayer),
            (
                "alert tcp any any -> any any (app-layer-protocol:tls; sid:1;)",
                ProtoDetect,
            ),
            (
                "alert tcp any any -> any any (app-layer-protocol:tls; flow:to_server; sid:1;)",
                Packet,
            ),
            (
                "alert tls any any -> any any (tls.sni; content:\"x\"; sid:1;)",
                Tx,
            ),
            (
                "alert tls any any -> any any (ssl_state:client_hello; sid:1;)",
                Tx,
            ),
            (
                "alert http any any -> any any (content:\"GET\"; http_method; sid:1;)",
                Tx,
            ),
        ];
        for (text, kind) in table {
            assert_eq!(sig(text).kind, *kind, "{text}");
        }
    }

    #[test]
    fn scope_of_pass_and_drop_follows_the_type() {
        assert!(SigKind::IpOnly.flow_scoped() && SigKind::Tx.flow_scoped());
        assert!(SigKind::LikeIpOnly.flow_scoped() && SigKind::AppLayer.flow_scoped());
        assert!(!SigKind::Packet.flow_scoped() && !SigKind::Stream.flow_scoped());
    }

    #[test]
    fn transaction_rules_take_the_side_of_their_buffers() {
        let req = sig("alert http any any -> any any (http.host; content:\"a\"; sid:1;)");
        assert_eq!(req.tx_dirs, [true, false]);
        let resp = sig("alert http any any -> any any (http.stat_code; content:\"200\"; sid:1;)");
        assert_eq!(resp.tx_dirs, [false, true]);
        let both = sig("alert tls any any -> any any (ssl_state:server_hello; sid:1;)");
        assert_eq!(both.tx_dirs, [true, true]);
        let narrowed =
            sig("alert tls any any -> any any (flow:to_client; ssl_state:server_hello; sid:1;)");
        assert_eq!(narrowed.tx_dirs, [false, true]);
    }

    #[test]
    fn flowbit_setters_sort_before_readers_and_rules_without_bits() {
        let set = sig("alert tcp any any -> any any (flowbits:set,a; sid:1;)");
        let both = sig("alert tcp any any -> any any (flowbits:isset,a; flowbits:set,b; sid:1;)");
        let read = sig("alert tcp any any -> any any (flowbits:isset,a; sid:1;)");
        let none = sig("alert tcp any any -> any any (sid:1;)");
        let ranks: Vec<u8> = [set, both, read, none]
            .iter()
            .map(|s| s.flowbits_rank())
            .collect();
        assert_eq!(ranks, [0, 1, 2, 3]);
    }

    #[test]
    fn pass_alerts_only_with_the_alert_keyword() {
        assert!(!sig("pass tcp any any -> any any (sid:1;)").alerts);
        assert!(sig("pass tcp any any -> any any (alert; sid:1;)").alerts);
        assert!(!sig("drop tcp any any -> any any (noalert; sid:1;)").alerts);
        assert!(sig("drop tcp any any -> any any (sid:1;)").alerts);
    }

    #[test]
    fn numeric_tests() {
        assert!(num_test(&NumTest::Between(7, 20), 8) && !num_test(&NumTest::Between(7, 20), 7));
        assert!(num_test(&NumTest::Lt(15), 14) && !num_test(&NumTest::Lt(15), 15));
        assert!(num_test(&NumTest::Ne(3), 4) && num_test(&NumTest::Ge(3), 3));
    }
}
