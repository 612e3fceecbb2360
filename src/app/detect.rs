//! Application-protocol detection per flow, on any port: each direction's first bytes
//! (reassembled in order for TCP, the datagram for UDP) are probed for TLS, HTTP, SSH, the
//! SMTP client greeting, DNS (on its detection ports, 53 by default), Kerberos (port 88)
//! and, over UDP, SIP.
//! A flow without a seen handshake (mid-stream) is probed only with `stream.midstream:
//! true`, as in Suricata. A direction whose bytes match no probe gives up; when both
//! have given up the flow's protocol is `failed`.
//!
//! The probes only; `session.rs` runs them on each flow's first bytes.

use super::{dns, http, tls};

/// Detection settings (`app-layer.protocols.<proto>.detection-ports`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectConfig {
    /// Ports on which DNS is probed (either side of the flow), TCP and UDP.
    pub dns_ports: Vec<u16>,
}

impl Default for DetectConfig {
    /// Suricata's shipped configuration: DNS on port 53.
    fn default() -> Self {
        DetectConfig {
            dns_ports: vec![53],
        }
    }
}

/// A flow's application protocol as EVE names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AppProto {
    #[default]
    Unknown,
    Failed,
    Known(&'static str),
}

impl AppProto {
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Unknown => "unknown",
            AppProto::Failed => "failed",
            AppProto::Known(p) => p,
        }
    }
}

/// A SIP request line (`METHOD sip:...`) or status line (`SIP/2.0 `).
pub(crate) fn sip_probe(data: &[u8]) -> bool {
    if data.starts_with(b"SIP/2.0 ") {
        return true;
    }
    let method = data.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method > 0 && data[method..].starts_with(b" sip:")
}

/// Whether detected bytes are what a server sends (an HTTP status line, a TLS
/// ServerHello): seen from the client side of a mid-stream pick-up, Suricata reverses
/// the flow.
pub(crate) fn server_side(data: &[u8]) -> bool {
    data.starts_with(b"HTTP/1.") || (data.len() > 5 && data[0] == 22 && data[5] == 2)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    Found(&'static str),
    NeedMore,
    NotThis,
}

/// A Kerberos 5 message: an ASN.1 application tag of a request, reply or error.
pub(crate) fn krb5_message(data: &[u8]) -> bool {
    matches!(data.first(), Some(0x6a..=0x6d | 0x7e)) && data.len() > 2
}

pub(crate) fn probe_tcp(data: &[u8], to_server: bool, dns_port: bool, krb5_port: bool) -> Probe {
    if data.is_empty() {
        return Probe::NeedMore;
    }
    match tls::TlsSession::probe(data) {
        Some(true) => return Probe::Found("tls"),
        None => return Probe::NeedMore,
        Some(false) => {}
    }
    match http::probe(data, to_server) {
        Some(true) => return Probe::Found("http"),
        None => return Probe::NeedMore,
        Some(false) => {}
    }
    // SMTP: the client's first command, case-insensitive (Suricata's patterns `EHLO`,
    // `HELO`, `QUIT`; the server's 220 banner has none).
    if to_server {
        let n = data.len().min(4);
        let mut word = [0u8; 4];
        word[..n].copy_from_slice(&data[..n]);
        word.make_ascii_uppercase();
        for command in [b"EHLO", b"HELO", b"QUIT"] {
            if word[..n] == command[..n] {
                return if n == 4 {
                    Probe::Found("smtp")
                } else {
                    Probe::NeedMore
                };
            }
        }
    }
    // Kerberos on its port: record marker, then the message.
    if krb5_port {
        if data.len() < 7 {
            return Probe::NeedMore;
        }
        if krb5_message(&data[4..]) {
            return Probe::Found("krb5");
        }
    }
    // SSH identification string, from either side.
    if data.starts_with(b"SSH-") {
        return Probe::Found("ssh");
    }
    if b"SSH-".starts_with(data) {
        return Probe::NeedMore;
    }
    if dns_port {
        if data.len() < 14 {
            return Probe::NeedMore;
        }
        if dns::probe(&data[2..]) {
            return Probe::Found("dns");
        }
    }
    Probe::NotThis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_is_found_by_the_clients_first_four_letters() {
        // Suricata's patterns `EHLO`, `HELO`, `QUIT`, case-insensitive, to the server.
        for (bytes, want) in [
            (&b"helo"[..], Probe::Found("smtp")),
            (b"EHLO mail.example.com\r\n", Probe::Found("smtp")),
            (b"QUIT\r\n", Probe::Found("smtp")),
            (b"hel", Probe::NeedMore),
            (b"EHLX", Probe::NotThis),
        ] {
            assert_eq!(probe_tcp(bytes, true, false, false), want, "{bytes:?}");
        }
        // The server's banner names no protocol.
        assert_eq!(
            probe_tcp(b"220 mail.example.com ESMTP\r\n", false, false, false),
            Probe::NotThis
        );
    }
}
