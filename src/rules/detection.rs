//! The typed form of a rule's matching options: what the detection engine evaluates.
//!
//! Built by the checker (`check.rs`) while it validates a rule, so every value here has
//! already passed Suricata's load checks. The options as written stay on [`Rule::options`]
//! (for printing and round trips); this is the same information, parsed once.
//!
//! [`Rule::options`]: super::Rule::options

use super::options::{FlowValue, FlowbitsValue, NumTest, PcreValue, ThresholdValue};

/// Everything a rule tests, typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detection {
    /// Payload and buffer matches in the order written; relative modifiers (`distance`,
    /// `within`, pcre `/R`, `isdataat:...,relative`) chain along this list within a buffer.
    pub matches: Vec<BufferMatch>,
    /// The `flow` options, merged (a bare direction and one state option may combine).
    pub flow: FlowValue,
    /// `flowbits`, in rule order (the engine runs checks before sets).
    pub flowbits: Vec<FlowbitsValue>,
    pub xbits: Vec<Xbits>,
    pub flowint: Vec<Flowint>,
    pub dsize: Option<NumTest>,
    /// IP/TCP header tests (`flags`, `ttl`, `seq`, `ack`, `window`).
    pub header: Vec<super::header::HeaderTest>,
    pub itype: Option<NumTest>,
    pub icode: Option<NumTest>,
    /// `ip_proto`, with names resolved to numbers (`Eq`, `Ne`, `Lt` or `Gt`).
    pub ip_proto: Option<NumTest>,
    /// `app-layer-protocol` tests (all must hold).
    pub app_layer_protocol: Vec<AppLayerProtocol>,
    /// The application protocol the rule is about: from its header (`tls`, `http`, ...) or
    /// implied by its buffers and keywords (`tls.sni` makes a `tcp` rule a TLS rule).
    pub app_proto: Option<String>,
    /// `ssl_state` flags; the test holds when any listed state is reached (`|` is an OR)
    /// and, for negated ones, when it is not.
    pub ssl_state: Vec<SslState>,
    pub ssl_version: Option<SslVersion>,
    /// `tls.version` as the 16-bit wire value (1.2 is 0x0303).
    pub tls_version: Option<u16>,
    pub threshold: Option<ThresholdValue>,
    pub detection_filter: Option<ThresholdValue>,
    /// `noalert` (or `flowbits:noalert`): the rule acts but writes no alert.
    pub noalert: bool,
    /// `alert`: a rule that would not alert (a pass) also writes an alert.
    pub alert: bool,
    pub tag: Option<Tag>,
    /// `target`: which side of the rule is the target (`src_ip` / `dest_ip`).
    pub target: Option<String>,
}

/// The pseudo buffer of the matches after `base64_data`: the bytes the rule's
/// `base64_decode` decoded. Not one of Suricata's inspection buffers.
pub const BASE64_DATA: &str = "base64_data";

/// One payload keyword and the buffer it inspects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferMatch {
    /// The sticky buffer (canonical name, e.g. `http.uri`); `None` is the packet payload
    /// or reassembled stream.
    pub buffer: Option<&'static str>,
    /// Transforms applied to the buffer before this match, in order.
    pub transforms: Vec<Transform>,
    pub test: MatchTest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchTest {
    Content(ContentMatch),
    Pcre(PcreValue),
    Bsize(NumTest),
    /// `urilen`: the length of the `http.uri` (or, with `raw`, `http.uri.raw`) buffer,
    /// counted up to 65,535.
    Urilen(NumTest),
    /// `app-layer-event`: the transaction raised this event (its code in the
    /// `http.app_layer_events` list, see [`crate::app::http::HttpAnomaly::code`]).
    AppLayerEvent(u8),
    IsDataAt(IsDataAt),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    /// `base64_decode`: decodes part of its buffer; the rule's `base64_data` matches
    /// then inspect the decoded bytes.
    Base64Decode(Base64Decode),
}

/// `base64_decode[:bytes N][, offset N][, relative]` (DetectBase64DecodeParse).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Base64Decode {
    /// How many encoded bytes to decode at most; 0 (not given) is 65,535.
    pub bytes: u16,
    /// Bytes to skip first (from the buffer start, or the detection pointer).
    pub offset: u32,
    pub relative: bool,
}

/// A number given in the rule or read from a `byte_extract` variable, held as the
/// variable's slot: its place among the `byte_extract`s of the same buffer (Suricata's
/// `local_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOperand<T> {
    Lit(T),
    Var(u16),
}

impl<T> ByteOperand<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ByteOperand<U> {
        match self {
            ByteOperand::Lit(n) => ByteOperand::Lit(f(n)),
            ByteOperand::Var(s) => ByteOperand::Var(s),
        }
    }
}

/// How a `byte_*` keyword reads its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteEncoding {
    Big,
    Little,
    /// Text in this base (`strtoull`'s: 0 picks it from a `0x` or `0` prefix).
    String(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    And,
    /// `^`, which Suricata calls OR and evaluates as XOR.
    Xor,
}

/// `byte_test:<nbytes>,[!]<op>,<value>,<offset>[,flags]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteTest {
    pub nbytes: ByteOperand<u8>,
    pub op: ByteOp,
    pub negated: bool,
    pub value: ByteOperand<u64>,
    pub offset: ByteOperand<i32>,
    pub relative: bool,
    pub encoding: ByteEncoding,
    pub bitmask: Option<u32>,
}

/// `byte_jump:<nbytes>,<offset>[,flags]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteJump {
    pub nbytes: ByteOperand<u8>,
    pub offset: ByteOperand<i32>,
    pub relative: bool,
    pub encoding: ByteEncoding,
    pub multiplier: u16,
    pub align: bool,
    pub post_offset: i32,
    pub from_beginning: bool,
    pub from_end: bool,
}

/// `byte_extract:<nbytes>,<offset>,<name>[,flags]`; `slot` is its variable's slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteExtract {
    pub nbytes: u8,
    pub offset: i32,
    pub name: String,
    pub slot: u16,
    pub relative: bool,
    pub encoding: ByteEncoding,
    pub multiplier: u16,
    /// 0 (none), 2 or 4.
    pub align: u8,
}

/// A `content` with its modifiers. `startswith` is also reflected as depth = length and
/// offset 0, as Suricata stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentMatch {
    pub bytes: Vec<u8>,
    pub negated: bool,
    pub nocase: bool,
    pub depth: Option<u16>,
    pub offset: Option<u16>,
    pub distance: Option<i32>,
    pub within: Option<i32>,
    pub startswith: bool,
    pub endswith: bool,
    pub rawbytes: bool,
    pub fast_pattern: Option<FastPattern>,
}

impl ContentMatch {
    /// Whether the position depends on the previous match (`distance` / `within`).
    pub fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastPattern {
    /// `fast_pattern;`
    Whole,
    /// `fast_pattern:only;`
    Only,
    /// `fast_pattern:offset,length;` (a slice of the content is the prefilter pattern).
    Chop { offset: u16, length: u16 },
}

/// `isdataat:[!]N[,relative[,rawbytes]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsDataAt {
    pub offset: u16,
    /// The offset is this `byte_extract` variable's slot instead.
    pub var: Option<u16>,
    pub negated: bool,
    pub relative: bool,
    pub rawbytes: bool,
}

/// A transform and its argument (`xor` key as bytes in hex, `pcrexform` pattern).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transform {
    pub name: &'static str,
    pub value: Option<String>,
}

/// `xbits:<cmd>,<name>,track <ip_src|ip_dst|ip_pair>[,expire <secs>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xbits {
    pub command: String,
    pub name: String,
    pub track: String,
    pub expire: Option<u32>,
}

/// `flowint:<name>,<modifier>[,<value or variable>]`: a per-flow integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flowint {
    pub name: String,
    /// `=`, `+`, `-`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `isset`, `isnotset`.
    pub modifier: String,
    pub target: Option<FlowintTarget>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowintTarget {
    Value(u32),
    Var(String),
}

/// `app-layer-protocol:[!]<proto>` (`failed` included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppLayerProtocol {
    pub negated: bool,
    pub protocol: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SslState {
    pub state: &'static str,
    pub negated: bool,
}

/// `ssl_version`: the versions listed, all plain or all negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslVersion {
    pub versions: Vec<&'static str>,
    pub negated: bool,
}

/// `tag:host|session[,count,metric[,src|dst]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub kind: String,
    pub count: Option<u32>,
    pub metric: Option<String>,
    pub direction: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rules_text, RuleContext};

    fn detection(text: &str) -> Detection {
        let (rules, errors) = parse_rules_text(text, "t.rules", &RuleContext::default());
        assert!(errors.is_empty(), "{text}: {errors:?}");
        rules.into_iter().next().expect("one rule").detection
    }

    fn contents(d: &Detection) -> Vec<(Option<&'static str>, &ContentMatch)> {
        d.matches
            .iter()
            .filter_map(|m| match &m.test {
                MatchTest::Content(c) => Some((m.buffer, c)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn content_modifiers_are_typed_in_order() {
        let d = detection(
            r#"alert tcp any any -> any any (content:"GET "; depth:4; content:!"|0d 0a|x"; nocase; distance:2; within:10; content:"end"; endswith; fast_pattern; rawbytes; sid:1;)"#,
        );
        let c = contents(&d);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].1.bytes, b"GET ");
        assert_eq!((c[0].1.depth, c[0].1.offset), (Some(4), None));
        assert!(!c[0].1.relative());
        assert_eq!(c[1].1.bytes, b"\r\nx");
        assert!(c[1].1.negated && c[1].1.nocase && c[1].1.relative());
        assert_eq!((c[1].1.distance, c[1].1.within), (Some(2), Some(10)));
        assert!(c[2].1.endswith && c[2].1.rawbytes);
        assert_eq!(c[2].1.fast_pattern, Some(FastPattern::Whole));
        assert!(c.iter().all(|(b, _)| b.is_none()));
    }

    #[test]
    fn startswith_is_depth_and_offset_zero() {
        let d = detection(
            r#"alert http any any -> any any (http.uri; content:"/a"; startswith; sid:1;)"#,
        );
        let c = contents(&d);
        assert_eq!(c[0].0, Some("http.uri"));
        assert!(c[0].1.startswith);
        assert_eq!((c[0].1.depth, c[0].1.offset), (Some(2), Some(0)));
    }

    #[test]
    fn fast_pattern_forms() {
        let only = detection(
            r#"alert tcp any any -> any any (content:"abcd"; fast_pattern:only; sid:1;)"#,
        );
        assert_eq!(contents(&only)[0].1.fast_pattern, Some(FastPattern::Only));
        let chop = detection(
            r#"alert tcp any any -> any any (content:"abcdef"; fast_pattern:2,3; sid:1;)"#,
        );
        assert_eq!(
            contents(&chop)[0].1.fast_pattern,
            Some(FastPattern::Chop {
                offset: 2,
                length: 3
            })
        );
    }

    #[test]
    fn buffers_and_transforms_follow_sticky_and_legacy_forms() {
        let d = detection(
            r#"alert http any any -> any any (content:"/x"; http_uri; http.host; to_lowercase; dotprefix; content:".example.com"; endswith; pkt_data; content:"raw"; sid:1;)"#,
        );
        let c = contents(&d);
        assert_eq!(c[0].0, Some("http.uri"));
        assert!(d.matches[0].transforms.is_empty());
        assert_eq!(c[1].0, Some("http.host"));
        let names: Vec<&str> = d.matches[1].transforms.iter().map(|t| t.name).collect();
        assert_eq!(names, ["to_lowercase", "dotprefix"]);
        assert_eq!(c[2].0, None);
        assert!(d.matches[2].transforms.is_empty());
        assert_eq!(d.app_proto.as_deref(), Some("http"));
    }

    #[test]
    fn uricontent_is_an_http_uri_content() {
        let d = detection(r#"alert tcp any any -> any any (uricontent:"/admin"; sid:1;)"#);
        assert_eq!(contents(&d)[0].0, Some("http.uri"));
        assert_eq!(d.app_proto.as_deref(), Some("http"));
    }

    #[test]
    fn pcre_bsize_and_isdataat_keep_their_place() {
        let d = detection(
            r#"alert tls any any -> any any (tls.sni; content:"evil"; pcre:"/\.evil\.(com|net)$/iR"; bsize:<64; isdataat:!1,relative; sid:1;)"#,
        );
        assert_eq!(d.matches.len(), 4);
        assert!(d.matches.iter().all(|m| m.buffer == Some("tls.sni")));
        match &d.matches[1].test {
            MatchTest::Pcre(p) => {
                assert_eq!(p.pattern, r"\.evil\.(com|net)$");
                assert!(p.relative() && p.flags.contains('i'));
            }
            other => panic!("expected pcre, got {other:?}"),
        }
        assert_eq!(d.matches[2].test, MatchTest::Bsize(NumTest::Lt(64)));
        assert_eq!(
            d.matches[3].test,
            MatchTest::IsDataAt(IsDataAt {
                offset: 1,
                var: None,
                negated: true,
                relative: true,
                rawbytes: false
            })
        );
    }

    #[test]
    fn pcre_buffer_flag_selects_the_buffer() {
        let d = detection(r#"alert http any any -> any any (pcre:"/^\/login/U"; sid:1;)"#);
        assert_eq!(d.matches[0].buffer, Some("http.uri"));
    }

    #[test]
    fn flow_options_merge() {
        let d =
            detection(r#"alert tcp any any -> any any (flow:to_server; flow:established; sid:1;)"#);
        assert!(d.flow.to_server && d.flow.established && !d.flow.to_client);
    }

    #[test]
    fn packet_and_protocol_tests() {
        let d =
            detection(r#"alert icmp any any -> any any (itype:8; icode:>0; dsize:10<>20; sid:1;)"#);
        assert_eq!(d.itype, Some(NumTest::Eq(8)));
        assert_eq!(d.icode, Some(NumTest::Gt(0)));
        assert_eq!(d.dsize, Some(NumTest::Between(10, 20)));
        let p = detection("alert ip any any -> any any (ip_proto:!GRE; sid:1;)");
        assert_eq!(p.ip_proto, Some(NumTest::Ne(47)));
        let p = detection("alert ip any any -> any any (ip_proto:<50; sid:1;)");
        assert_eq!(p.ip_proto, Some(NumTest::Lt(50)));
        let a = detection("alert tcp any any -> any any (app-layer-protocol:!tls; sid:1;)");
        assert_eq!(
            a.app_layer_protocol,
            vec![AppLayerProtocol {
                negated: true,
                protocol: "tls".into()
            }]
        );
        assert_eq!(a.app_proto, None);
    }

    #[test]
    fn tls_state_and_versions() {
        let d = detection("alert tls any any -> any any (ssl_state:client_hello|!server_hello; ssl_version:tls1.2,tls1.3; tls.version:1.2; sid:1;)");
        assert_eq!(
            d.ssl_state,
            [
                SslState {
                    state: "client_hello",
                    negated: false
                },
                SslState {
                    state: "server_hello",
                    negated: true
                }
            ]
        );
        assert_eq!(
            d.ssl_version,
            Some(SslVersion {
                versions: vec!["tls1.2", "tls1.3"],
                negated: false
            })
        );
        assert_eq!(d.tls_version, Some(0x0303));
        let hex = detection("alert tls any any -> any any (tls.version:0x7f1c; sid:1;)");
        assert_eq!(hex.tls_version, Some(0x7f1c));
    }

    #[test]
    fn bits_thresholds_and_alerting() {
        let d = detection("alert tcp any any -> any any (flowbits:isset,a|b; flowbits:set,c; flowbits:noalert; xbits:set,seen,track ip_src,expire 60; threshold:type limit, track by_src, count 1, seconds 60; tag:session,10,packets; target:dest_ip; sid:1;)");
        assert_eq!(
            d.flowbits,
            [
                FlowbitsValue::IsSet(vec!["a".into(), "b".into()]),
                FlowbitsValue::Set(vec!["c".into()]),
                FlowbitsValue::NoAlert
            ]
        );
        assert!(d.noalert);
        assert_eq!(
            d.xbits,
            [Xbits {
                command: "set".into(),
                name: "seen".into(),
                track: "ip_src".into(),
                expire: Some(60)
            }]
        );
        let t = d.threshold.expect("threshold");
        assert_eq!(
            (t.kind.as_deref(), t.track.as_str(), t.count, t.seconds),
            (Some("limit"), "by_src", 1, 60)
        );
        assert_eq!(
            d.tag,
            Some(Tag {
                kind: "session".into(),
                count: Some(10),
                metric: Some("packets".into()),
                direction: None
            })
        );
        assert_eq!(d.target.as_deref(), Some("dest_ip"));
        let df = detection("alert tcp any any -> any any (noalert; detection_filter:track by_dst, count 5, seconds 2; sid:1;)");
        assert!(df.noalert && df.threshold.is_none());
        assert_eq!(df.detection_filter.map(|t| t.count), Some(5));
    }

    #[test]
    fn xor_key_is_kept() {
        let d = detection(
            r#"alert http any any -> any any (http.uri; xor:"0d0ac8ff"; content:"x"; sid:1;)"#,
        );
        assert_eq!(
            d.matches[0].transforms,
            [Transform {
                name: "xor",
                value: Some("0d0ac8ff".into())
            }]
        );
    }
}
