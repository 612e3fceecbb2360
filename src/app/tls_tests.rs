//! TLS parsing on handshakes built by the project's packet builders, split every way a
//! TCP stream may split them.

use super::tls::*;
use crate::synth::packets::{tls_certificate, tls_client_hello, tls_server_hello};

/// JA3 of `tls_client_hello`: version 771; ciphers 0x1301, 0x1302, 0xc02f, 0xc030;
/// extensions server_name, supported_groups, ec_point_formats, signature_algorithms, ALPN,
/// supported_versions; groups x25519 (29), secp256r1 (23); point format 0. The hash is
/// the MD5 of that string (computed independently with Python's hashlib).
const JA3: &str = "771,4865-4866-49199-49200,0-10-11-13-16-43,29-23,0";
const JA3_HASH: &str = "fee9cb7a4c5d29524d7077d3464097b3";

fn parsed(chunks: &[&[u8]], to_server: bool) -> TlsSession {
    let mut s = TlsSession::default();
    for c in chunks {
        s.feed(to_server, c);
    }
    s
}

#[test]
fn client_hello_fields_and_ja3() {
    let s = parsed(&[&tls_client_hello(Some("www.Example.com"))], true);
    let ch = s.client_hello.as_ref().expect("parsed");
    assert_eq!(
        ch.sni.as_deref(),
        Some(&b"www.Example.com"[..]),
        "bytes as sent"
    );
    assert_eq!(ch.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(ch.supported_versions, [0x0304, 0x0303]);
    assert_eq!(ch.version, 0x0303);
    assert_eq!(ch.ja3, JA3);
    assert_eq!(ch.ja3_hash(), JA3_HASH);
    assert_eq!(s.current_flags, state::CLIENT_HELLO);
    assert_eq!(s.version_name(), "UNDETERMINED", "until the ServerHello");
}

#[test]
fn every_split_of_the_stream_gives_the_same_hello() {
    let rec = tls_client_hello(Some("split.example"));
    for cut in 0..=rec.len() {
        let s = parsed(&[&rec[..cut], &rec[cut..]], true);
        assert_eq!(
            s.client_hello
                .as_ref()
                .and_then(|c| c.sni.clone())
                .as_deref(),
            Some(&b"split.example"[..]),
            "cut at {cut}"
        );
    }
    // One byte at a time.
    let bytes: Vec<&[u8]> = rec.chunks(1).collect();
    assert!(parsed(&bytes, true).client_hello.is_some());
}

#[test]
fn a_handshake_message_fragmented_over_records() {
    let rec = tls_client_hello(Some("frag.example"));
    let hs = &rec[5..];
    let mut wire = Vec::new();
    for part in [&hs[..10], &hs[10..40], &hs[40..]] {
        wire.extend_from_slice(&[0x16, 0x03, 0x01]);
        wire.extend_from_slice(&(part.len() as u16).to_be_bytes());
        wire.extend_from_slice(part);
    }
    let s = parsed(&[&wire], true);
    assert_eq!(
        s.client_hello.map(|c| c.sni),
        Some(Some(b"frag.example".to_vec()))
    );
}

#[test]
fn server_hello_version_cipher_and_ja3s() {
    let mut s = parsed(&[&tls_client_hello(Some("a.example"))], true);
    s.feed(false, &tls_server_hello());
    let sh = s.server_hello.as_ref().expect("parsed");
    assert_eq!((sh.version, sh.cipher), (0x0303, 0xc02f));
    assert_eq!(sh.ja3s, "771,49199,65281");
    assert_eq!(sh.ja3s_hash(), "fbe78c619e7ea20046131294ad087f05");
    assert_eq!(s.version_name(), "TLS 1.2");
    assert_eq!(
        s.current_flags,
        state::SERVER_HELLO,
        "flags of the last messages only"
    );
    assert_eq!(s.seen_flags, state::CLIENT_HELLO | state::SERVER_HELLO);
}

/// A ServerHello record with the given random and extensions.
fn server_hello_with(random: [u8; 32], ext: &[u8]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&random);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(ext);
    let mut hs = vec![0x02];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x03];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn tls13_version_comes_from_supported_versions_and_encrypts_the_rest() {
    // supported_versions (43) selecting 0x0304.
    let rec = server_hello_with([7; 32], &[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    let mut s = TlsSession::default();
    s.feed(false, &rec);
    assert_eq!(s.version_name(), "TLS 1.3");
    // What follows is encrypted: a record that would be an invalid handshake is ignored.
    s.feed(
        false,
        &[0x16, 0x03, 0x03, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff],
    );
    assert_eq!(s.error(false), None);
}

#[test]
fn grease_values_are_left_out_of_ja3() {
    let mut ext = Vec::new();
    ext.extend_from_slice(&[0x1a, 0x1a, 0x00, 0x00]); // GREASE extension, empty
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x2a, 0x2a, 0x00, 0x1d]);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[1; 32]);
    body.push(0);
    body.extend_from_slice(&[0x00, 0x04, 0x0a, 0x0a, 0x13, 0x01]);
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    let s = parsed(&[&rec], true);
    assert_eq!(s.client_hello.expect("parsed").ja3, "771,4865,10,29,");
}

#[test]
fn non_tls_and_oversized_records_stop_the_direction() {
    let s = parsed(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], true);
    assert_eq!(s.error(true), Some(TlsError::NotTls));
    let s = parsed(&[&[0x16, 0x03, 0x01, 0xff, 0xff]], true);
    assert_eq!(s.error(true), Some(TlsError::RecordTooLong));
    assert_eq!(TlsSession::probe(&tls_client_hello(None)), Some(true));
    assert_eq!(TlsSession::probe(b"GET /"), Some(false));
    assert_eq!(TlsSession::probe(&[0x16]), None);
}

/// Hostile bytes never panic, whatever the split.
#[test]
fn arbitrary_bytes_never_panic() {
    let base = tls_client_hello(Some("fuzz.example"));
    let mut seed: u64 = 12345;
    for _ in 0..2000 {
        let mut bytes = base.clone();
        for _ in 0..4 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let i = (seed >> 33) as usize % bytes.len();
            bytes[i] = (seed >> 17) as u8;
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let cut = (seed >> 33) as usize % bytes.len();
        let mut s = TlsSession::default();
        s.feed(true, &bytes[..cut]);
        s.feed(true, &bytes[cut..]);
        s.feed(false, &bytes);
    }
}

/// A bad header split across chunks is refused as soon as its five bytes are in.
#[test]
fn a_split_bad_header_fails_without_buffering_its_length() {
    let mut s = TlsSession::default();
    s.feed(true, b"GE");
    s.feed(true, b"T / HTTP/1.1\r\n");
    assert_eq!(s.error(true), Some(TlsError::NotTls));
    let mut s = TlsSession::default();
    s.feed(true, &[0x16, 0x03]);
    s.feed(true, &[0x01, 0xff, 0xff, 0x00]);
    assert_eq!(s.error(true), Some(TlsError::RecordTooLong));
}

// Certificates: fixed DER test data, how it was made is in tests/tls_certs.rs.
const CA: &[u8] = include_bytes!("../../tests/data/tls/ca.der");
const LEAF: &[u8] = include_bytes!("../../tests/data/tls/leaf.der");
const SELF_SIGNED: &[u8] = include_bytes!("../../tests/data/tls/self.der");

/// The leaf's fields as Suricata 7.0.10 logged them (EVE `tls` record of the capture in
/// tests/tls_certs.rs); `notbefore` 2026-11-24T08:10:03, `notafter` a year later.
fn leaf_info() -> CertInfo {
    CertInfo {
        subject: "C=DE, ST=Berlin, O=Evil Corp, CN=malware.example.test".into(),
        issuer: "C=US, O=Rulesim Test, CN=Rulesim Test CA".into(),
        serial: "00:AB:CD:EF:01:23".into(),
        fingerprint: "52:4d:d1:4b:0b:d6:fd:85:15:be:f8:1a:9e:d6:d5:b9:cc:2a:e7:72".into(),
        not_before: 1_795_507_803,
        not_after: 1_827_043_803,
    }
}

/// A server side up to its Certificate message, fed in `chunks`.
fn server_certs(chunks: &[&[u8]]) -> TlsSession {
    let mut s = parsed(&[&tls_client_hello(Some("a.example"))], true);
    s.feed(false, &tls_server_hello());
    for c in chunks {
        s.feed(false, c);
    }
    s
}

#[test]
fn a_chain_of_two_keeps_both_and_decodes_the_first() {
    let s = server_certs(&[&tls_certificate(&[LEAF, CA])]);
    let c = s.server_certs.as_ref().expect("parsed");
    assert_eq!(c.chain, [LEAF.to_vec(), CA.to_vec()]);
    assert_eq!(c.first, Some(leaf_info()));
    assert_eq!(c.invalid, 0);
    assert!(s.client_certs.is_none());
    assert!(
        s.handshake_done,
        "the server's certificate ends the handshake"
    );
    assert!(s.certs(false).is_some() && s.certs(true).is_none());
}

#[test]
fn a_certificate_split_across_records_and_segments() {
    let rec = tls_certificate(&[LEAF, CA]);
    // The handshake message over three records...
    let hs = &rec[5..];
    let mut wire = Vec::new();
    for part in [&hs[..7], &hs[7..400], &hs[400..]] {
        wire.extend_from_slice(&[0x16, 0x03, 0x03]);
        wire.extend_from_slice(&(part.len() as u16).to_be_bytes());
        wire.extend_from_slice(part);
    }
    // ... and those records cut at every byte into two segments.
    for cut in 0..=wire.len() {
        let s = server_certs(&[&wire[..cut], &wire[cut..]]);
        let c = s.server_certs.as_ref().expect("parsed");
        assert_eq!(c.first, Some(leaf_info()), "cut at {cut}");
        assert_eq!(c.chain.len(), 2);
        // Nothing before the message is whole.
        if cut < wire.len() {
            assert!(server_certs(&[&wire[..cut]]).server_certs.is_none());
        }
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(
        server_certs(&bytes).server_certs.and_then(|c| c.first),
        Some(leaf_info())
    );
}

#[test]
fn a_certificate_that_fails_to_decode_is_counted_and_left_out() {
    // As Suricata: garbage first, then a good certificate, which becomes the first.
    let garbage = [0xde, 0xad, 0xbe, 0xef].repeat(4);
    let s = server_certs(&[&tls_certificate(&[&garbage, SELF_SIGNED])]);
    let c = s.server_certs.expect("parsed");
    assert_eq!(c.chain, [SELF_SIGNED.to_vec()]);
    assert_eq!(c.invalid, 1);
    let first = c.first.expect("decoded");
    assert_eq!(
        first.subject,
        "CN=self.signed.test, O=Self, Email=admin@self.signed.test"
    );
    assert_eq!(first.serial, "07");
    // A truncated certificate (its DER cut short): counted, nothing decoded, no panic.
    let s = server_certs(&[&tls_certificate(&[&LEAF[..LEAF.len() - 10]])]);
    let c = s.server_certs.as_ref().expect("parsed");
    assert_eq!((c.chain.len(), c.first.is_none(), c.invalid), (0, true, 1));
    assert!(!s.handshake_done && s.certs(false).is_none());
    assert_eq!(
        s.error(false),
        None,
        "a bad certificate does not stop the parser"
    );
}

#[test]
fn a_certificate_list_with_a_bad_length_keeps_the_certificates_before_it() {
    let mut rec = tls_certificate(&[LEAF, CA]);
    // The CA's 24-bit length (after the record, handshake and list headers and the
    // leaf) made one byte too long: the list ends there.
    let at = 5 + 4 + 3 + 3 + LEAF.len() + 2;
    rec[at] += 1;
    let s = server_certs(&[&rec]);
    let c = s.server_certs.expect("parsed");
    assert_eq!(c.chain, [LEAF.to_vec()]);
    assert_eq!(c.invalid, 1);
    // A list length past the message: nothing.
    let mut rec = tls_certificate(&[LEAF]);
    rec[5 + 4 + 2] += 1;
    let c = server_certs(&[&rec]).server_certs.expect("parsed");
    assert_eq!((c.chain.len(), c.invalid), (0, 1));
}

#[test]
fn only_the_first_certificate_message_of_a_side_counts() {
    let s = server_certs(&[
        &tls_certificate(&[SELF_SIGNED]),
        &tls_certificate(&[LEAF, CA]),
    ]);
    assert_eq!(
        s.server_certs.expect("parsed").chain,
        [SELF_SIGNED.to_vec()]
    );
}

#[test]
fn a_client_certificate_request_waits_for_the_clients_certificate() {
    // CertificateRequest (13) in the server's flight: the to-client side is not ready
    // until the client's certificate is in (Suricata's SSL_AL_FLAG_NEED_CLIENT_CERT).
    let mut flight = tls_certificate(&[LEAF]);
    flight.extend_from_slice(&[0x16, 0x03, 0x03, 0x00, 0x08, 13, 0, 0, 4, 1, 1, 0, 0]);
    let mut s = server_certs(&[&flight]);
    assert!(!s.handshake_done);
    assert!(s.certs(false).is_none(), "to-client waits");
    assert!(
        s.cert_ready(true),
        "to-server: the server's certificate is in"
    );
    assert!(s.certs(true).is_none(), "but the client has sent none");
    s.feed(true, &tls_certificate(&[SELF_SIGNED]));
    assert!(s.handshake_done);
    assert_eq!(
        s.certs(true)
            .and_then(|c| c.first.as_ref())
            .map(|f| f.serial.as_str()),
        Some("07")
    );
    assert_eq!(s.certs(false).map(|c| c.chain.len()), Some(1));
}

#[test]
fn an_oversize_certificate_message_stops_the_direction() {
    // A Certificate message longer than the handshake bound: refused once its records
    // pass the bound, without holding more than that.
    let big = vec![0x30; 300_000];
    let s = server_certs(&[&tls_certificate(&[&big])]);
    assert_eq!(s.error(false), Some(TlsError::HandshakeTooLong));
    assert!(s.server_certs.is_none());
}

#[test]
fn tls13_has_no_certificate_in_the_clear() {
    // After a TLS 1.3 ServerHello the Certificate is encrypted: a record that looks like
    // one is not parsed.
    let mut s = TlsSession::default();
    let mut hello = tls_server_hello();
    // supported_versions (43) selecting TLS 1.3, appended to the extensions.
    let ext_len_at = 5 + 4 + 2 + 32 + 1 + 3;
    hello.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    for (at, add) in [(3usize, 6u32), (5 + 1, 6), (ext_len_at, 6)] {
        let width = if at == 6 { 3 } else { 2 };
        let mut v = 0u32;
        for i in 0..width {
            v = (v << 8) | u32::from(hello[at + i]);
        }
        let bytes = (v + add).to_be_bytes();
        hello[at..at + width].copy_from_slice(&bytes[4 - width..]);
    }
    s.feed(false, &hello);
    assert_eq!(s.version_name(), "TLS 1.3");
    s.feed(false, &tls_certificate(&[LEAF]));
    assert!(s.server_certs.is_none());
}

/// Hostile certificate bytes never panic.
#[test]
fn mutated_certificates_never_panic() {
    let base = tls_certificate(&[LEAF, CA]);
    let mut seed: u64 = 99;
    for _ in 0..1000 {
        let mut bytes = base.clone();
        for _ in 0..6 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let i = 9 + (seed >> 33) as usize % (bytes.len() - 9);
            bytes[i] = (seed >> 17) as u8;
        }
        let s = server_certs(&[&bytes]);
        if let Some(c) = &s.server_certs {
            assert!(c.chain.len() <= 2);
        }
    }
}

#[test]
fn the_handshake_limit_is_a_setting_and_counted() {
    let cert = vec![0x30; 2000];
    let message = tls_certificate(&[&cert]);
    let mut small = TlsSession::with_limits(TlsLimits { handshake: 1000 });
    small.feed(false, &message);
    assert_eq!(small.error(false), Some(TlsError::HandshakeTooLong));
    assert!(small.buffered(false) <= TlsLimits { handshake: 1000 }.max_buffered());
    let hits = small.take_limit_hits();
    assert_eq!((hits.handshake_too_long, hits.record_too_long), (1, 0));
    assert_eq!(small.take_limit_hits(), TlsLimitHits::default(), "taken");
    // The same message fits the default limit; the other direction is untouched.
    let mut s = TlsSession::default();
    s.feed(false, &message);
    assert_eq!(s.error(false), None);
    small.feed(true, &tls_client_hello(Some("a.example")));
    assert!(small.client_hello.is_some());
    // A record over Suricata's bound is counted too.
    let mut r = TlsSession::default();
    r.feed(true, &[0x16, 0x03, 0x01, 0xff, 0xff]);
    assert_eq!(r.take_limit_hits().record_too_long, 1);
}

/// A ClientHello without a server_name extension parses: no SNI, the rest as usual.
#[test]
fn a_client_hello_without_sni_parses_without_one() {
    let s = parsed(&[&tls_client_hello(None)], true);
    let ch = s.client_hello.as_ref().expect("parsed");
    assert_eq!(ch.sni, None);
    assert_eq!(ch.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(s.error(true), None);
}

/// Each side's `connp.version` (what `ssl_version` tests), as Suricata sets it: the record
/// layer's until the hello, then the hello's; the client's first valid supported_versions
/// entry (GREASE skipped), the server's selected version.
#[test]
fn each_sides_version_follows_suricatas_connp_version() {
    let hello = tls_client_hello(Some("v.example"));
    let mut s = TlsSession::default();
    // A record header alone is not parsed; the whole record sets it all.
    s.feed(true, &hello);
    assert_eq!(s.conn_version[0], 0x0304, "the first of supported_versions");
    assert_eq!(s.conn_version[1], 0);
    s.feed(false, &tls_server_hello());
    assert_eq!(
        s.conn_version[1], 0x0303,
        "no supported_versions: the hello's"
    );
    // Later records do not change it once the hello was seen.
    s.feed(true, &[0x17, 0x03, 0x01, 0x00, 0x01, 0xaa]);
    assert_eq!(s.conn_version[0], 0x0304);
    // A side whose first record is not a hello takes the record's version.
    let mut s = TlsSession::default();
    s.feed(false, &[0x15, 0x03, 0x02, 0x00, 0x02, 0x02, 0x28]);
    assert_eq!(s.conn_version[1], 0x0302);
    // GREASE and unknown versions are skipped in the client's list.
    assert!(!super::tls::tls_version_valid(0x0a0a));
    assert!(super::tls::tls_version_valid(0x7f1c));
    assert!(!super::tls::tls_version_valid(0x0200));
}
