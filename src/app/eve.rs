//! The application-layer objects of EVE records (`tls`, `http`, `dns`), in Suricata
//! 7.0.10's key order, shared by `alert` records and the app-layer event records.

use super::dns::{self, Message, Rdata};
use super::http::{BodyFile, Transaction};
use super::tls::{self, TlsSession};
use crate::output::json::JsonObject;

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// The `tls` object: `JsonTlsLogJSONExtended`'s fields (output-json-tls.c): the server's
/// first certificate's subject and issuer, its serial and fingerprint, the SNI, the
/// version, the validity, then the client's certificate (mutual TLS).
pub fn tls_object(o: &mut JsonObject<'_>, t: &TlsSession) {
    let cert = t.server_certs.as_ref().and_then(|c| c.first.as_ref());
    if let Some(c) = cert {
        o.string("subject", &c.subject);
        o.string("issuerdn", &c.issuer);
    }
    // A resumed session shows no certificate (TLS 1.3 hides it anyway).
    if t.session_resumed() && cert.is_none() && t.server_hello.is_some() && !t.tls13() {
        o.boolean("session_resumed", true);
    }
    if let Some(c) = cert {
        o.string("serial", &c.serial);
        o.string("fingerprint", &c.fingerprint);
    }
    if let Some(sni) = t.client_hello.as_ref().and_then(|c| c.sni.as_deref()) {
        o.string("sni", &text(sni));
    }
    o.string("version", t.version_name());
    if let Some(c) = cert {
        // Written when not 0, as Suricata does.
        if c.not_before != 0 {
            o.string("notbefore", &tls::x509_time(c.not_before));
        }
        if c.not_after != 0 {
            o.string("notafter", &tls::x509_time(c.not_after));
        }
    }
    if let Some(c) = t.client_certs.as_ref().and_then(|c| c.first.as_ref()) {
        o.object("client", |o| {
            o.string("subject", &c.subject);
            o.string("issuerdn", &c.issuer);
            o.string("fingerprint", &c.fingerprint);
            o.string("serial", &c.serial);
            if c.not_before != 0 {
                o.string("notbefore", &tls::x509_time(c.not_before));
            }
            if c.not_after != 0 {
                o.string("notafter", &tls::x509_time(c.not_after));
            }
        });
    }
}

/// Whether Suricata writes a `tls` record for the session (`JsonTlsLogger`, with
/// `session-resumption` logging on, its default): the server's first certificate was
/// decoded, the session was resumed, or the server chose TLS 1.3, whose certificate is
/// encrypted.
pub fn tls_loggable(t: &TlsSession) -> bool {
    let has_cert = t.server_certs.as_ref().is_some_and(|c| c.first.is_some());
    has_cert || t.session_resumed() || t.tls13()
}

/// The `http` object: `EveHttpLogJSONBasic` then `EveHttpLogJSONExtended`
/// (output-json-http.c), what both alerts and `http` records carry.
pub fn http_object(o: &mut JsonObject<'_>, tx: &Transaction) {
    // Suricata writes these from bytes and leaves out an empty value.
    let bytes = |o: &mut JsonObject<'_>, key: &str, value: &[u8]| {
        if !value.is_empty() {
            o.string(key, &text(value));
        }
    };
    let req = &tx.request;
    if let Some(host) = req.host() {
        bytes(o, "hostname", &host);
    }
    if let Some(port) = req.port() {
        o.uint("http_port", u64::from(port));
    }
    bytes(o, "url", req.uri_raw());
    if let Some(ua) = req.header("user-agent") {
        bytes(o, "http_user_agent", ua);
    }
    if let Some(xff) = req.header("x-forwarded-for") {
        bytes(o, "xff", xff);
    }
    if let Some(ct) = tx.response.as_ref().and_then(|r| r.header("content-type")) {
        // Up to the first `;` (parameters left out).
        let ct = ct.split(|&b| b == b';').next().unwrap_or(ct);
        o.string("http_content_type", &text(ct));
    }
    if let Some(referer) = req.header("referer") {
        bytes(o, "http_refer", referer);
    }
    bytes(o, "http_method", &req.method);
    if !req.no_protocol && !req.placeholder {
        o.string("protocol", &format!("HTTP/1.{}", req.minor_version));
    }
    if let Some(r) = &tx.response {
        o.uint("status", u64::from(r.status));
        if let Some(location) = r.header("location") {
            bytes(o, "redirect", location);
        }
    }
    o.uint("length", tx.response.as_ref().map_or(0, |r| r.body_len));
}

/// A file's object as Suricata's `EveFileInfo` writes it (no hashes, magic or store:
/// those need settings and keywords rulesim does not take).
pub fn file_info(o: &mut JsonObject<'_>, file: &BodyFile, tx_id: u64) {
    o.string("filename", &text(&file.name));
    // A gap ends the parsing of a direction here, so no tracked file has one.
    o.boolean("gaps", false);
    o.string("state", file.state.eve_name());
    o.boolean("stored", false);
    o.uint("size", file.size);
    if let Some((start, end)) = file.range {
        o.uint("start", start);
        o.uint("end", end);
    }
    o.uint("tx_id", tx_id);
}

/// A `dns` record's object for question `index` of a query (`rs_dns_log_json_query`,
/// version 2); `tx_id` is the message's number in the flow (Suricata 7.0.10 makes each
/// DNS message its own transaction).
pub fn dns_query_object(o: &mut JsonObject<'_>, q: &Message, index: usize, tx_id: u64) {
    let Some(question) = q.questions.get(index) else {
        return;
    };
    o.uint("version", 2);
    o.string("type", "query");
    o.uint("id", u64::from(q.id));
    o.string("rrname", &bytes_text(&question.name));
    o.string("rrtype", &dns::rrtype_name(question.rrtype));
    o.uint("tx_id", tx_id);
    o.uint("opcode", u64::from(q.opcode()));
}

/// Suricata's response code names (rust/src/dns/log.rs `dns_rcode_string`).
pub fn rcode_name(flags: u16) -> String {
    match flags & 0x000f {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        other => other.to_string(),
    }
}

/// A `dns` record's object for a response (`dns_log_json_answer`, version 2, answers
/// both detailed and grouped by type, then the authority records). Answers of types
/// Suricata does not decode (other than A, AAAA, CNAME, NS, PTR, MX, TXT, NULL, SOA,
/// SRV, SSHFP) are listed without data, as Suricata lists them.
pub fn dns_answer_object(o: &mut JsonObject<'_>, r: &Message) {
    dns_answer(o, r, true);
}

/// A response's `answer` object in an alert (`JsonDNSLogAnswer`): the same without the
/// answers, whose formats the alert logger does not ask for; the authorities stay.
pub fn dns_alert_answer_object(o: &mut JsonObject<'_>, r: &Message) {
    dns_answer(o, r, false);
}

fn dns_answer(o: &mut JsonObject<'_>, r: &Message, with_answers: bool) {
    o.uint("version", 2);
    o.string("type", "answer");
    o.uint("id", u64::from(r.id));
    o.string("flags", &format!("{:x}", r.flags));
    for (bit, name) in [
        (0x8000, "qr"),
        (0x0400, "aa"),
        (0x0200, "tc"),
        (0x0100, "rd"),
        (0x0080, "ra"),
        (0x0040, "z"),
    ] {
        if r.flags & bit != 0 {
            o.boolean(name, true);
        }
    }
    o.uint("opcode", u64::from(r.opcode()));
    if let Some(q) = r.questions.first() {
        o.string("rrname", &bytes_text(&q.name));
        o.string("rrtype", &dns::rrtype_name(q.rrtype));
    }
    o.string("rcode", &rcode_name(r.flags));
    if with_answers && !r.answers.is_empty() {
        let answers: Vec<serde_json::Value> = r.answers.iter().map(answer_detail).collect();
        if let Ok(json) = serde_json::to_vec(&answers) {
            o.raw("answers", &json);
        }
        // Grouped by type, types in first-seen order (Suricata's order is a hash map's).
        let mut grouped = serde_json::Map::new();
        for a in &r.answers {
            if let Some(v) = rdata_value(&a.data) {
                let entry = grouped
                    .entry(dns::rrtype_name(a.rrtype))
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                if let serde_json::Value::Array(list) = entry {
                    list.push(v.1);
                }
            }
        }
        if !grouped.is_empty() {
            if let Ok(json) = serde_json::to_vec(&grouped) {
                o.raw("grouped", &json);
            }
        }
    }
    if !r.authorities.is_empty() {
        let authorities: Vec<serde_json::Value> = r.authorities.iter().map(answer_detail).collect();
        if let Ok(json) = serde_json::to_vec(&authorities) {
            o.raw("authorities", &json);
        }
    }
}

/// An answer or authority record as `dns_log_json_answer_detail` writes it.
fn answer_detail(a: &dns::Answer) -> serde_json::Value {
    let mut entry = serde_json::Map::new();
    entry.insert("rrname".into(), bytes_text(&a.name).into());
    entry.insert("rrtype".into(), dns::rrtype_name(a.rrtype).into());
    entry.insert("ttl".into(), a.ttl.into());
    if let Some((key, v)) = rdata_value(&a.data) {
        entry.insert(key.into(), v);
    }
    serde_json::Value::Object(entry)
}

/// The key and value an answer's data is logged under (`rdata`, or `soa`, `srv`,
/// `sshfp` objects); none for the types Suricata does not decode.
fn rdata_value(data: &Rdata) -> Option<(&'static str, serde_json::Value)> {
    use serde_json::json;
    Some(match data {
        Rdata::A(b) => ("rdata", std::net::Ipv4Addr::from(*b).to_string().into()),
        Rdata::Aaaa(b) => {
            // Written out in full, as EVE writes addresses.
            let mut buf = Vec::new();
            crate::output::json::write_ip(&mut buf, std::net::Ipv6Addr::from(*b).into());
            ("rdata", text(&buf).into_owned().into())
        }
        Rdata::BadAddress => ("rdata", "".into()),
        Rdata::Name(n) | Rdata::Mx { exchange: n, .. } => ("rdata", bytes_text(n).into()),
        Rdata::Txt(b) | Rdata::Null(b) => ("rdata", bytes_text(b).into()),
        Rdata::Soa(soa) => (
            "soa",
            json!({
                "mname": bytes_text(&soa.mname),
                "rname": bytes_text(&soa.rname),
                "serial": soa.serial,
                "refresh": soa.refresh,
                "retry": soa.retry,
                "expire": soa.expire,
                "minimum": soa.minimum,
            }),
        ),
        Rdata::Srv {
            priority,
            weight,
            port,
            target,
        } => (
            "srv",
            json!({
                "priority": priority,
                "weight": weight,
                "port": port,
                "name": bytes_text(target),
            }),
        ),
        Rdata::Sshfp {
            algo,
            fp_type,
            fingerprint,
        } => {
            let hex: Vec<String> = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
            (
                "sshfp",
                json!({"fingerprint": hex.join(":"), "algo": algo, "type": fp_type}),
            )
        }
        Rdata::Other(_) => return None,
    })
}

/// Bytes as Suricata's `set_string_from_bytes` writes them: UTF-8 as it is, otherwise
/// ASCII kept and every other byte written as the four characters `\xNN`.
fn bytes_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() * 4);
            for &b in bytes {
                if b < 128 {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

/// An `anomaly` record's object for an app-layer event (Suricata's
/// `AnomalyAppLayerDecoderEventJson`): a parser's (`layer` `proto_parser`) or protocol
/// detection's (`proto_detect`).
pub fn anomaly_object(o: &mut JsonObject<'_>, app_proto: &str, event: &str, layer: &str) {
    o.string("app_proto", app_proto);
    o.string("type", "applayer");
    o.string("event", event);
    o.string("layer", layer);
}
