//! The bundled sample (`pcaps/`): small captures of the traffic the sample policy in
//! `rules/` talks about. `cargo run --example make-sample` rewrites them; a test checks the
//! files in the repository are what this code produces.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use super::capture::{NgInterface, PcapNgWriter, PcapWriter};
use super::packets::{self, Link, TcpConversation, TimedPacket};
use crate::time::Timestamp;

/// 2026-01-15T09:00:00Z
const BASE: i64 = 1_768_467_600;

fn at(secs: i64, micros: u32) -> Timestamp {
    Timestamp::new(BASE + secs, micros * 1000)
}

// Each capture starts a minute after the previous one, so that `-r pcaps/` reads one
// stream with time moving forward.
const TLS_T: i64 = 0;
const HTTP_T: i64 = 60;
const DNS_T: i64 = 120;
const ICMP_T: i64 = 180;
const IPV6_T: i64 = 240;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn sock(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

const CLIENT: [u8; 4] = [10, 0, 0, 10];
const CLIENT2: [u8; 4] = [10, 0, 0, 11];

fn client(port: u16) -> SocketAddr {
    sock(v4(CLIENT[0], CLIENT[1], CLIENT[2], CLIENT[3]), port)
}

fn pcap(packets: &[TimedPacket], link: &Link) -> io::Result<Vec<u8>> {
    let mut sorted = packets.to_vec();
    sorted.sort_by_key(|p| p.ts);
    let mut w = PcapWriter::new(Vec::new(), link.linktype())?;
    for p in &sorted {
        w.packet(p.ts, &link.wrap(&p.ip))?;
    }
    Ok(w.into_inner())
}

/// TLS: an allowed site, a denylisted domain, a subdomain of a denylisted wildcard, and
/// TLS on 8443.
fn tls() -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let sites: [(u16, IpAddr, u16, &str, i64); 4] = [
        (51000, v4(198, 51, 100, 10), 443, "www.example.com", 0),
        (51001, v4(203, 0, 113, 66), 443, "malware.example.net", 2),
        (
            51002,
            v4(203, 0, 113, 67),
            443,
            "cdn.tracker.example.org",
            4,
        ),
        (51003, v4(198, 51, 100, 20), 8443, "intranet.example.com", 6),
    ];
    for (cport, server, sport, sni, t) in sites {
        let mut c = TcpConversation::new(client(cport), sock(server, sport), at(TLS_T + t, 0));
        c.handshake()
            .client_sends(&packets::tls_client_hello(Some(sni)))
            .server_sends(&packets::tls_server_hello())
            .close();
        all.extend(c.packets);
    }
    pcap(&all, &Link::ethernet())
}

/// HTTP/1.1: an allowed request, a denylisted host, a request on port 8080.
fn http() -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let reqs: [(u16, IpAddr, u16, &str, &str, &str, i64); 3] = [
        (
            52000,
            v4(198, 51, 100, 10),
            80,
            "GET",
            "www.example.com",
            "/index.html",
            0,
        ),
        (
            52001,
            v4(203, 0, 113, 66),
            80,
            "GET",
            "malware.example.net",
            "/payload.bin",
            2,
        ),
        (
            52002,
            v4(198, 51, 100, 30),
            8080,
            "POST",
            "api.example.com",
            "/v1/upload",
            4,
        ),
    ];
    for (cport, server, sport, method, host, uri, t) in reqs {
        let mut c = TcpConversation::new(client(cport), sock(server, sport), at(HTTP_T + t, 0));
        c.handshake()
            .client_sends(&packets::http_request(method, host, uri, "curl/8.5.0"))
            .server_sends(&packets::http_response(
                200,
                "OK",
                "text/html",
                "<html>ok</html>",
            ))
            .close();
        all.extend(c.packets);
    }
    pcap(&all, &Link::ethernet())
}

/// DNS over UDP: two lookups with answers.
fn dns() -> io::Result<Vec<u8>> {
    let resolver = sock(v4(10, 0, 0, 2), 53);
    let mut all = Vec::new();
    let lookups: [(u16, u16, &str, [u8; 4], i64); 2] = [
        (0x1a2b, 53000, "www.example.com", [198, 51, 100, 10], 0),
        (0x3c4d, 53001, "malware.example.net", [203, 0, 113, 66], 1),
    ];
    for (id, cport, name, addr, t) in lookups {
        all.push(TimedPacket {
            ts: at(DNS_T + t, 0),
            ip: packets::udp(
                client(cport),
                resolver,
                64,
                &packets::dns_query(id, name, 1),
            ),
        });
        all.push(TimedPacket {
            ts: at(DNS_T + t, 2_000),
            ip: packets::udp(
                resolver,
                client(cport),
                64,
                &packets::dns_response_a(id, name, addr),
            ),
        });
    }
    pcap(&all, &Link::ethernet())
}

/// ICMP echo to a host outside, and an SSH attempt the 5-tuple rules refuse (SYN, RST).
fn icmp_and_ssh() -> io::Result<Vec<u8>> {
    let me = v4(CLIENT2[0], CLIENT2[1], CLIENT2[2], CLIENT2[3]);
    let far = v4(198, 51, 100, 10);
    let mut all = Vec::new();
    for seq in 0..3u16 {
        let t = ICMP_T + i64::from(seq);
        all.push(TimedPacket {
            ts: at(t, 0),
            ip: packets::echo(me, far, 64, 0x4242, seq, false, b"rulesim-ping"),
        });
        all.push(TimedPacket {
            ts: at(t, 15_000),
            ip: packets::echo(far, me, 57, 0x4242, seq, true, b"rulesim-ping"),
        });
    }
    let mut ssh = TcpConversation::new(
        sock(me, 54000),
        sock(v4(203, 0, 113, 5), 22),
        at(ICMP_T + 5, 0),
    );
    ssh.handshake()
        .client_sends(b"SSH-2.0-OpenSSH_9.6\r\n")
        .server_sends(b"SSH-2.0-OpenSSH_9.2p1\r\n")
        .close();
    all.extend(ssh.packets);
    pcap(&all, &Link::ethernet())
}

/// IPv6 in pcapng: TLS over Ethernet (interface 0, µs) and ICMPv6 echo captured on a raw
/// IPv6 interface (interface 1, ns).
fn ipv6() -> io::Result<Vec<u8>> {
    let c6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 1, 0, 0, 0, 0x10));
    let s6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x443));
    let mut tls = TcpConversation::new(sock(c6, 55000), sock(s6, 443), at(IPV6_T, 0));
    tls.handshake()
        .client_sends(&packets::tls_client_hello(Some("v6.malware.example.net")))
        .server_sends(&packets::tls_server_hello())
        .close();
    let eth = Link::ethernet();
    let mut frames: Vec<(Timestamp, u32, Vec<u8>)> = tls
        .packets
        .iter()
        .map(|p| (p.ts, 0, eth.wrap(&p.ip)))
        .collect();
    for seq in 0..2u16 {
        let t = IPV6_T + 2 + i64::from(seq);
        frames.push((
            at(t, 0),
            1,
            packets::echo(c6, s6, 64, 7, seq, false, b"v6-ping"),
        ));
        frames.push((
            at(t, 9_500),
            1,
            packets::echo(s6, c6, 60, 7, seq, true, b"v6-ping"),
        ));
    }
    frames.sort_by_key(|f| (f.0, f.1));
    let mut w = PcapNgWriter::new(
        Vec::new(),
        &[
            NgInterface {
                linktype: 1,
                tsresol: 6,
            },
            NgInterface {
                linktype: 229,
                tsresol: 9,
            },
        ],
    )?;
    for (ts, iface, data) in &frames {
        w.enhanced(*iface, *ts, data)?;
    }
    Ok(w.into_inner())
}

/// The sample captures: file name and contents.
pub fn sample_captures() -> io::Result<Vec<(&'static str, Vec<u8>)>> {
    Ok(vec![
        ("01-tls-sni.pcap", tls()?),
        ("02-http.pcap", http()?),
        ("03-dns.pcap", dns()?),
        ("04-icmp-ssh.pcap", icmp_and_ssh()?),
        ("05-ipv6.pcapng", ipv6()?),
    ])
}

/// Writes the sample captures into `dir`.
pub fn write_sample(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in sample_captures()? {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
