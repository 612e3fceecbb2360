//! A realistic benign capture for end-to-end benchmarks: TLS sessions with SNI, full
//! handshakes and encrypted application data, HTTP/1.1 pages and downloads, DNS lookups,
//! interleaved over many concurrent connections and written as a stream, so that a
//! multi-gigabyte file needs no memory. Deterministic for a given seed.

use std::io::{self, Write};
use std::net::SocketAddr;

use super::bulk::BulkSummary;
use super::packets::{self, TcpConversation};
use super::{write_interleaved, Rng};

/// The largest TCP payload a generated segment carries (Ethernet MSS).
const MSS: usize = 1460;

const DOMAINS: &[&str] = &[
    "www.example.com",
    "api.example.org",
    "cdn.example.net",
    "mail.example.com",
    "static.example.org",
    "login.example.net",
    "updates.example.com",
    "images.example.org",
    "search.example.net",
    "video.example.com",
];

const WORDS: &[&str] = &[
    "the", "network", "policy", "firewall", "rule", "traffic", "capture", "flow", "session",
    "request", "response", "server", "client", "update", "report", "page", "content", "data",
    "security", "engineer", "release", "version", "system", "service", "account", "message",
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "curl/8.5.0",
];

/// Helpers of the shared generator for this capture's contents.
impl Rng {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }

    fn text(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 16);
        out.extend_from_slice(b"<html><body><p>");
        while out.len() < n {
            out.extend_from_slice(self.pick(WORDS).as_bytes());
            out.push(if self.below(12) == 0 { b'\n' } else { b' ' });
        }
        out.truncate(n);
        out
    }
}

/// Sends `data` from one side in MSS-sized segments, each acknowledged.
fn send(c: &mut TcpConversation, from_client: bool, data: &[u8]) {
    for chunk in data.chunks(MSS) {
        if from_client {
            c.client_sends(chunk);
        } else {
            c.server_sends(chunk);
        }
    }
}

fn tls_record(content: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn host(rng: &mut Rng, extra_hosts: &[String]) -> String {
    // One flow in a hundred goes to a name of the caller's list (a denylist's, say).
    if !extra_hosts.is_empty() && rng.below(100) == 0 {
        rng.pick(extra_hosts).trim_start_matches('.').to_string()
    } else {
        rng.pick(DOMAINS).to_string()
    }
}

fn tls_session(c: &mut TcpConversation, rng: &mut Rng, name: &str) {
    c.handshake()
        .client_sends(&packets::tls_client_hello(Some(name)))
        .server_sends(&packets::tls_server_hello());
    let mut finish = tls_record(20, &[1]);
    finish.extend(tls_record(22, &rng.bytes(40)));
    c.client_sends(&finish);
    c.server_sends(&finish);
    for _ in 0..1 + rng.below(3) {
        let n = 200 + rng.below(600) as usize;
        let request = tls_record(23, &rng.bytes(n));
        c.client_sends(&request);
        let mut response = Vec::new();
        for _ in 0..1 + rng.below(12) {
            let n = 1000 + rng.below(3000) as usize;
            response.extend(tls_record(23, &rng.bytes(n)));
        }
        send(c, false, &response);
    }
}

fn http_exchange(c: &mut TcpConversation, rng: &mut Rng, name: &str, download: bool) {
    c.handshake();
    for _ in 0..1 + rng.below(3) {
        let path = format!(
            "/{}/{}?id={}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(100_000)
        );
        let ua = *rng.pick(USER_AGENTS);
        c.client_sends(&packets::http_request("GET", name, &path, ua));
        let (kind, body) = if download {
            let n = 20_000 + rng.below(180_000) as usize;
            ("application/octet-stream", rng.bytes(n))
        } else {
            let n = 500 + rng.below(8_000) as usize;
            ("text/html; charset=utf-8", rng.text(n))
        };
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: max-age=600\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        send(c, false, &response);
    }
}

/// Writes an Ethernet pcap of about `target_bytes` with `concurrent` connections open at
/// any time: 45% TLS sessions, 30% HTTP pages, 10% HTTP downloads, 15% DNS lookups.
/// `extra_hosts` (may be empty) supplies the SNI or Host of one TLS/HTTP flow in a
/// hundred.
pub fn write_mixed_capture<W: Write>(
    out: W,
    target_bytes: u64,
    concurrent: usize,
    seed: u64,
    extra_hosts: &[String],
) -> io::Result<BulkSummary> {
    write_interleaved(
        out,
        target_bytes,
        concurrent,
        seed,
        (20_000, 40_000),
        |rng, n, clock, client, server| {
            let kind = rng.below(100);
            if kind >= 85 {
                let name = format!("{}{}.example.com", rng.pick(WORDS), rng.below(1000));
                let q = packets::dns_query(n as u16, &name, 1);
                let a = packets::dns_response_a(n as u16, &name, [198, 51, 100, 10]);
                let server = SocketAddr::new(server, 53);
                return vec![
                    packets::udp(client, server, 64, &q),
                    packets::udp(server, client, 60, &a),
                ];
            }
            let port = if kind < 45 { 443 } else { 80 };
            let mut c = TcpConversation::new(client, SocketAddr::new(server, port), clock);
            let name = host(rng, extra_hosts);
            if kind < 45 {
                tls_session(&mut c, rng, &name);
            } else {
                http_exchange(&mut c, rng, &name, kind >= 75);
            }
            c.close();
            c.packets.into_iter().map(|p| p.ip).collect()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_capture() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let sa = write_mixed_capture(&mut a, 2_000_000, 50, 7, &[]).expect("writes");
        let sb = write_mixed_capture(&mut b, 2_000_000, 50, 7, &[]).expect("writes");
        assert_eq!(sa, sb);
        assert!(a == b);
        assert_eq!(sa.bytes, a.len() as u64);
        assert!(sa.flows > 20, "{sa:?}");
    }
}
