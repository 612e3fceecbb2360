//! Every rule keyword Suricata 7.0.10 registers, what kind it is, and whether rulesim
//! evaluates it. A keyword Suricata does not know is a parse error; one it knows but
//! rulesim cannot evaluate yet makes the rule fail to load, naming the keyword, so that no
//! rule ever matches more or less than in Suricata.

/// What a keyword does in a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordKind {
    /// msg, sid, classtype, ... (no effect on matching).
    Meta,
    /// Switches the buffer the following payload keywords inspect.
    StickyBuffer,
    /// Changes the buffer before inspection (must follow a sticky buffer).
    Transform,
    /// Applies to the preceding `content` (nocase, depth, ...).
    ContentModifier,
    /// Legacy form of a sticky buffer written after the content (`http_uri`, ...).
    LegacyBuffer,
    /// A payload match (content, pcre, byte_test, ...).
    Payload,
    /// Anything else that tests the packet, flow or transaction.
    Match,
    /// Post-match actions (flowbits set, tag, ...) and engine settings.
    Other,
}

/// Whether the keyword takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    None,
    Required,
    Optional,
}

/// A keyword's entry.
#[derive(Clone, Copy, Debug)]
pub struct Keyword {
    pub name: &'static str,
    pub kind: KeywordKind,
    pub arity: Arity,
    /// rulesim evaluates it (or, for meta keywords, reports it).
    pub supported: bool,
    /// For aliases and legacy forms: the modern name.
    pub canonical: Option<&'static str>,
}

use Arity::{None as N, Optional as O, Required as R};
use KeywordKind::*;

const fn kw(name: &'static str, kind: KeywordKind, arity: Arity, supported: bool) -> Keyword {
    Keyword {
        name,
        kind,
        arity,
        supported,
        canonical: None,
    }
}

const fn alias(
    name: &'static str,
    kind: KeywordKind,
    arity: Arity,
    supported: bool,
    canonical: &'static str,
) -> Keyword {
    Keyword {
        name,
        kind,
        arity,
        supported,
        canonical: Some(canonical),
    }
}

/// The keyword table.
pub const KEYWORDS: &[Keyword] = &[
    // --- meta
    kw("msg", Meta, R, true),
    kw("sid", Meta, R, true),
    kw("rev", Meta, R, true),
    kw("gid", Meta, R, true),
    kw("classtype", Meta, R, true),
    kw("reference", Meta, R, true),
    kw("priority", Meta, R, true),
    kw("metadata", Meta, R, true),
    kw("target", Meta, R, true),
    kw("noalert", Other, N, true),
    kw("alert", Other, N, true),
    kw("tag", Other, R, true),
    kw("threshold", Other, R, true),
    kw("detection_filter", Other, R, true),
    kw("requires", Meta, R, false),
    kw("prefilter", Other, N, false),
    kw("config", Other, R, false),
    kw("bypass", Other, N, false),
    // --- payload and content modifiers
    kw("content", Payload, R, true),
    alias("uricontent", Payload, R, true, "content"),
    kw("pcre", Payload, R, true),
    kw("nocase", ContentModifier, N, true),
    kw("depth", ContentModifier, R, true),
    kw("offset", ContentModifier, R, true),
    kw("distance", ContentModifier, R, true),
    kw("within", ContentModifier, R, true),
    kw("startswith", ContentModifier, N, true),
    kw("endswith", ContentModifier, N, true),
    kw("fast_pattern", ContentModifier, O, true),
    kw("rawbytes", ContentModifier, N, true),
    kw("replace", ContentModifier, R, false),
    kw("bsize", Payload, R, true),
    kw("isdataat", Payload, R, true),
    kw("dsize", Match, R, true),
    kw("byte_test", Payload, R, false),
    kw("byte_jump", Payload, R, false),
    kw("byte_extract", Payload, R, false),
    kw("byte_math", Payload, R, false),
    kw("urilen", Match, R, false),
    kw("base64_decode", Payload, O, false),
    kw("base64_data", StickyBuffer, N, false),
    kw("asn1", Payload, R, false),
    kw("lua", Match, R, false),
    kw("luajit", Match, R, false),
    kw("dataset", Match, R, false),
    kw("datarep", Match, R, false),
    kw("iprep", Match, R, false),
    kw("pkt_data", StickyBuffer, N, true),
    // --- transforms
    kw("dotprefix", Transform, N, true),
    kw("to_lowercase", Transform, N, true),
    kw("to_uppercase", Transform, N, true),
    kw("strip_whitespace", Transform, N, true),
    kw("compress_whitespace", Transform, N, true),
    kw("to_md5", Transform, N, true),
    kw("to_sha1", Transform, N, true),
    kw("to_sha256", Transform, N, true),
    kw("url_decode", Transform, N, true),
    kw("header_lowercase", Transform, N, true),
    kw("strip_pseudo_headers", Transform, N, true),
    kw("xor", Transform, R, true),
    kw("pcrexform", Transform, R, true),
    // --- IP, TCP, ICMP
    kw("ttl", Match, R, false),
    kw("tos", Match, R, false),
    kw("id", Match, R, false),
    kw("ipopts", Match, R, false),
    kw("sameip", Match, N, false),
    kw("ip_proto", Match, R, true),
    kw("geoip", Match, R, false),
    kw("fragbits", Match, R, false),
    kw("fragoffset", Match, R, false),
    kw("flags", Match, R, false),
    alias("tcp.flags", Match, R, false, "flags"),
    kw("seq", Match, R, false),
    kw("ack", Match, R, false),
    kw("window", Match, R, false),
    kw("tcp.mss", Match, R, false),
    kw("tcp.hdr", StickyBuffer, N, false),
    kw("udp.hdr", StickyBuffer, N, false),
    kw("ipv4.hdr", StickyBuffer, N, false),
    kw("ipv6.hdr", StickyBuffer, N, false),
    kw("icmpv4.hdr", StickyBuffer, N, false),
    kw("icmpv6.hdr", StickyBuffer, N, false),
    kw("icmpv6.mtu", Match, R, false),
    kw("itype", Match, R, true),
    kw("icode", Match, R, true),
    kw("icmp_id", Match, R, false),
    kw("icmp_seq", Match, R, false),
    kw("stream_size", Match, R, false),
    kw("decode-event", Match, R, false),
    kw("engine-event", Match, R, false),
    kw("stream-event", Match, R, false),
    kw("app-layer-event", Match, R, false),
    // --- flow
    kw("flow", Match, R, true),
    kw("flowbits", Other, R, true),
    kw("xbits", Other, R, true),
    kw("flowint", Other, R, false),
    kw("flowvar", Other, R, false),
    kw("pktvar", Other, R, false),
    kw("hostbits", Other, R, false),
    kw("flow.age", Match, R, false),
    kw("app-layer-protocol", Match, R, true),
    kw("transforms", Other, R, false),
    // --- TLS
    kw("tls.sni", StickyBuffer, N, true),
    alias("tls_sni", StickyBuffer, N, true, "tls.sni"),
    kw("tls.cert_subject", StickyBuffer, N, true),
    alias(
        "tls_cert_subject",
        StickyBuffer,
        N,
        true,
        "tls.cert_subject",
    ),
    kw("tls.cert_issuer", StickyBuffer, N, true),
    alias("tls_cert_issuer", StickyBuffer, N, true, "tls.cert_issuer"),
    kw("tls.cert_serial", StickyBuffer, N, true),
    alias("tls_cert_serial", StickyBuffer, N, true, "tls.cert_serial"),
    kw("tls.cert_fingerprint", StickyBuffer, N, true),
    alias(
        "tls_cert_fingerprint",
        StickyBuffer,
        N,
        true,
        "tls.cert_fingerprint",
    ),
    kw("tls.certs", StickyBuffer, N, false),
    kw("tls.cert_chain_len", Match, R, false),
    kw("tls.random", StickyBuffer, N, false),
    kw("tls.random_time", StickyBuffer, N, false),
    kw("tls.random_bytes", StickyBuffer, N, false),
    kw("tls.version", Match, R, true),
    kw("tls.subject", Match, R, false),
    kw("tls.issuerdn", Match, R, false),
    kw("tls.fingerprint", Match, R, false),
    kw("tls.store", Other, N, false),
    kw("tls_cert_notbefore", Match, R, false),
    kw("tls_cert_notafter", Match, R, false),
    kw("tls_cert_expired", Match, N, false),
    kw("tls_cert_valid", Match, N, false),
    kw("ssl_state", Match, R, true),
    kw("ssl_version", Match, R, true),
    kw("ja3.hash", StickyBuffer, N, true),
    alias("ja3_hash", StickyBuffer, N, true, "ja3.hash"),
    kw("ja3.string", StickyBuffer, N, true),
    alias("ja3_string", StickyBuffer, N, true, "ja3.string"),
    kw("ja3s.hash", StickyBuffer, N, true),
    alias("ja3s_hash", StickyBuffer, N, true, "ja3s.hash"),
    kw("ja3s.string", StickyBuffer, N, true),
    alias("ja3s_string", StickyBuffer, N, true, "ja3s.string"),
    // --- HTTP sticky buffers
    kw("http.uri", StickyBuffer, N, true),
    kw("http.uri.raw", StickyBuffer, N, true),
    kw("http.method", StickyBuffer, N, true),
    kw("http.request_line", StickyBuffer, N, true),
    kw("http.request_body", StickyBuffer, N, true),
    kw("http.header", StickyBuffer, N, true),
    kw("http.header.raw", StickyBuffer, N, true),
    kw("http.cookie", StickyBuffer, N, true),
    kw("http.user_agent", StickyBuffer, N, true),
    kw("http.host", StickyBuffer, N, true),
    kw("http.host.raw", StickyBuffer, N, true),
    kw("http.accept", StickyBuffer, N, true),
    kw("http.accept_enc", StickyBuffer, N, true),
    kw("http.accept_lang", StickyBuffer, N, true),
    kw("http.connection", StickyBuffer, N, true),
    kw("http.content_len", StickyBuffer, N, true),
    kw("http.content_type", StickyBuffer, N, true),
    kw("http.header_names", StickyBuffer, N, true),
    kw("http.location", StickyBuffer, N, true),
    kw("http.protocol", StickyBuffer, N, true),
    kw("http.referer", StickyBuffer, N, true),
    kw("http.request_header", StickyBuffer, N, false),
    kw("http.response_header", StickyBuffer, N, false),
    kw("http.response_line", StickyBuffer, N, true),
    kw("http.response_body", StickyBuffer, N, true),
    kw("http.server", StickyBuffer, N, true),
    kw("http.start", StickyBuffer, N, true),
    kw("http.stat_code", StickyBuffer, N, true),
    kw("http.stat_msg", StickyBuffer, N, true),
    // legacy HTTP modifiers (written after the content)
    alias("http_uri", LegacyBuffer, N, true, "http.uri"),
    alias("http_raw_uri", LegacyBuffer, N, true, "http.uri.raw"),
    alias("http_method", LegacyBuffer, N, true, "http.method"),
    alias(
        "http_request_line",
        LegacyBuffer,
        N,
        true,
        "http.request_line",
    ),
    alias(
        "http_client_body",
        LegacyBuffer,
        N,
        true,
        "http.request_body",
    ),
    alias("http_header", LegacyBuffer, N, true, "http.header"),
    alias("http_raw_header", LegacyBuffer, N, true, "http.header.raw"),
    alias("http_cookie", LegacyBuffer, N, true, "http.cookie"),
    alias("http_user_agent", LegacyBuffer, N, true, "http.user_agent"),
    alias("http_host", LegacyBuffer, N, true, "http.host"),
    alias("http_raw_host", LegacyBuffer, N, true, "http.host.raw"),
    alias("http_accept", LegacyBuffer, N, true, "http.accept"),
    alias("http_accept_enc", LegacyBuffer, N, true, "http.accept_enc"),
    alias(
        "http_accept_lang",
        LegacyBuffer,
        N,
        true,
        "http.accept_lang",
    ),
    alias("http_connection", LegacyBuffer, N, true, "http.connection"),
    alias(
        "http_content_len",
        LegacyBuffer,
        N,
        true,
        "http.content_len",
    ),
    alias(
        "http_content_type",
        LegacyBuffer,
        N,
        true,
        "http.content_type",
    ),
    alias(
        "http_header_names",
        LegacyBuffer,
        N,
        true,
        "http.header_names",
    ),
    alias("http_location", LegacyBuffer, N, true, "http.location"),
    alias("http_protocol", LegacyBuffer, N, true, "http.protocol"),
    alias("http_referer", LegacyBuffer, N, true, "http.referer"),
    alias(
        "http_response_line",
        LegacyBuffer,
        N,
        true,
        "http.response_line",
    ),
    alias(
        "http_server_body",
        LegacyBuffer,
        N,
        true,
        "http.response_body",
    ),
    alias("http_server", LegacyBuffer, N, true, "http.server"),
    alias("http_start", LegacyBuffer, N, true, "http.start"),
    alias("http_stat_code", LegacyBuffer, N, true, "http.stat_code"),
    alias("http_stat_msg", LegacyBuffer, N, true, "http.stat_msg"),
    // --- files
    kw("file.data", StickyBuffer, N, true),
    alias("file_data", StickyBuffer, N, true, "file.data"),
    kw("file.name", StickyBuffer, N, false),
    kw("file.magic", StickyBuffer, N, false),
    kw("filename", Match, R, false),
    kw("fileext", Match, R, false),
    kw("filemagic", Match, R, false),
    kw("filemd5", Match, R, false),
    kw("filesha1", Match, R, false),
    kw("filesha256", Match, R, false),
    kw("filesize", Match, R, false),
    kw("filestore", Other, O, false),
    // --- DNS
    kw("dns.query", StickyBuffer, N, true),
    alias("dns_query", StickyBuffer, N, true, "dns.query"),
    kw("dns.opcode", Match, R, false),
    // --- HTTP/2
    kw("http2.frametype", Match, R, false),
    kw("http2.errorcode", Match, R, false),
    kw("http2.priority", Match, R, false),
    kw("http2.window", Match, R, false),
    kw("http2.size_update", Match, R, false),
    kw("http2.settings", Match, R, false),
    kw("http2.header_name", StickyBuffer, N, false),
    kw("http2.header", StickyBuffer, N, false),
    // --- SSH
    kw("ssh.proto", StickyBuffer, N, false),
    alias("ssh_proto", StickyBuffer, N, false, "ssh.proto"),
    kw("ssh.software", StickyBuffer, N, false),
    alias("ssh_software", StickyBuffer, N, false, "ssh.software"),
    kw("ssh.protoversion", Match, R, false),
    kw("ssh.softwareversion", Match, R, false),
    kw("ssh.hassh", StickyBuffer, N, false),
    kw("ssh.hassh.string", StickyBuffer, N, false),
    kw("ssh.hassh.server", StickyBuffer, N, false),
    kw("ssh.hassh.server.string", StickyBuffer, N, false),
    kw("ssh_state", Match, R, false),
    // --- other application protocols (parsed by Suricata, not by rulesim)
    kw("smb.named_pipe", StickyBuffer, N, false),
    kw("smb.share", StickyBuffer, N, false),
    kw("smb.ntlmssp_user", StickyBuffer, N, false),
    kw("smb.ntlmssp_domain", StickyBuffer, N, false),
    kw("smb.version", Match, R, false),
    kw("dce_iface", Match, R, false),
    kw("dce_opnum", Match, R, false),
    kw("dce_stub_data", StickyBuffer, N, false),
    kw("krb5.cname", StickyBuffer, N, false),
    kw("krb5.sname", StickyBuffer, N, false),
    kw("krb5_msg_type", Match, R, false),
    kw("krb5_err_code", Match, R, false),
    kw("sip.method", StickyBuffer, N, false),
    kw("sip.uri", StickyBuffer, N, false),
    kw("sip.protocol", StickyBuffer, N, false),
    kw("sip.stat_code", StickyBuffer, N, false),
    kw("sip.stat_msg", StickyBuffer, N, false),
    kw("sip.request_line", StickyBuffer, N, false),
    kw("sip.response_line", StickyBuffer, N, false),
    kw("quic.sni", StickyBuffer, N, false),
    kw("quic.ua", StickyBuffer, N, false),
    kw("quic.version", StickyBuffer, N, false),
    kw("quic.cyu.hash", StickyBuffer, N, false),
    kw("quic.cyu.string", StickyBuffer, N, false),
    kw("snmp.version", Match, R, false),
    kw("snmp.community", StickyBuffer, N, false),
    kw("snmp.pdu_type", Match, R, false),
    kw("snmp.usm", StickyBuffer, N, false),
    kw("mqtt.type", Match, R, false),
    kw("mqtt.flags", Match, R, false),
    kw("mqtt.qos", Match, R, false),
    kw("mqtt.protocol_version", Match, R, false),
    kw("mqtt.connect.clientid", StickyBuffer, N, false),
    kw("mqtt.connect.username", StickyBuffer, N, false),
    kw("mqtt.connect.password", StickyBuffer, N, false),
    kw("mqtt.connect.willtopic", StickyBuffer, N, false),
    kw("mqtt.connect.willmessage", StickyBuffer, N, false),
    kw("mqtt.connect.flags", Match, R, false),
    kw("mqtt.connack.session_present", Match, R, false),
    kw("mqtt.publish.topic", StickyBuffer, N, false),
    kw("mqtt.publish.message", StickyBuffer, N, false),
    kw("mqtt.subscribe.topic", StickyBuffer, N, false),
    kw("mqtt.unsubscribe.topic", StickyBuffer, N, false),
    kw("mqtt.reason_code", Match, R, false),
    kw("rfb.name", StickyBuffer, N, false),
    kw("rfb.secresult", Match, R, false),
    kw("rfb.sectype", Match, R, false),
    kw("ike.init_spi", StickyBuffer, N, false),
    kw("ike.resp_spi", StickyBuffer, N, false),
    kw("ike.nonce_payload", StickyBuffer, N, false),
    kw("ike.key_exchange_payload", StickyBuffer, N, false),
    kw("ike.vendor", Match, R, false),
    kw("ike.chosen_sa_attribute", Match, R, false),
    kw("ike.exchtype", Match, R, false),
    kw("ike.nonce_payload_length", Match, R, false),
    kw("ike.key_exchange_payload_length", Match, R, false),
    kw("dhcp.leasetime", Match, R, false),
    kw("dhcp.rebinding_time", Match, R, false),
    kw("dhcp.renewal_time", Match, R, false),
    kw("modbus", Match, R, false),
    kw("dnp3_func", Match, R, false),
    kw("dnp3_ind", Match, R, false),
    kw("dnp3_obj", Match, R, false),
    kw("dnp3_data", StickyBuffer, N, false),
    kw("enip_command", Match, R, false),
    kw("cip_service", Match, R, false),
    kw("cip_class", Match, R, false),
    kw("cip_attribute", Match, R, false),
    kw("cip_instance", Match, R, false),
    kw("cip_extendedstatus", Match, R, false),
    kw("cip_status", Match, R, false),
    kw("ftpbounce", Match, N, false),
    kw("ftpdata_command", Match, R, false),
    kw("nfs_procedure", Match, R, false),
    kw("nfs.version", Match, R, false),
    kw("rpc", Match, R, false),
    kw("template2", Match, R, false),
    kw("frame", StickyBuffer, R, false),
    kw("ja4.hash", StickyBuffer, N, false),
];

/// Looks a keyword up (exact, as Suricata keyword names are case-sensitive).
pub fn lookup(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_except_known_repeats() {
        let mut names: Vec<&str> = KEYWORDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate keyword names");
    }

    #[test]
    fn aliases_point_at_known_keywords() {
        for k in KEYWORDS {
            if let Some(c) = k.canonical {
                assert!(lookup(c).is_some(), "{} -> {c}", k.name);
            }
        }
    }
}
