//! HTTP/1.x framing and transactions on requests and responses built by the project's
//! packet builders, in every split of the stream.

use super::http::*;
use crate::synth::packets::{http_request, http_response};

#[test]
fn request_and_response_make_one_transaction() {
    let mut s = HttpSession::default();
    let req = http_request("GET", "www.Example.com:8080", "/a/b?x=1", "curl/8.0");
    let ev = s.feed(true, &req);
    assert_eq!(
        ev,
        [HttpEvent::RequestHeaders(0), HttpEvent::RequestComplete(0)]
    );
    let tx = s.transaction(0).expect("tx 0");
    assert_eq!(tx.request.method, b"GET");
    assert_eq!(tx.request.target, b"/a/b?x=1");
    assert_eq!(
        tx.request.header("HOST"),
        Some(&b"www.Example.com:8080"[..])
    );
    assert_eq!(tx.request.header("user-agent"), Some(&b"curl/8.0"[..]));
    let resp = http_response(200, "OK", "text/html", "<html>hi</html>");
    let ev = s.feed(false, &resp);
    assert_eq!(
        ev,
        [
            HttpEvent::ResponseHeaders(0),
            HttpEvent::ResponseComplete(0)
        ]
    );
    let r = s
        .transaction(0)
        .and_then(|t| t.response.as_ref())
        .expect("response");
    assert_eq!((r.status, r.reason.as_slice()), (200, &b"OK"[..]));
    assert_eq!(r.body, b"<html>hi</html>");
    assert!(r.complete);
}

#[test]
fn every_split_gives_the_same_transactions() {
    let mut wire = http_request("GET", "a.example", "/one", "ua");
    wire.extend_from_slice(b"POST /two HTTP/1.1\r\nHost: b.example\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n");
    wire.extend_from_slice(
        b"PUT /three HTTP/1.1\r\nHost: c.example\r\nContent-Length: 3\r\n\r\nabc",
    );
    for cut in 0..=wire.len() {
        let mut s = HttpSession::default();
        s.feed(true, &wire[..cut]);
        s.feed(true, &wire[cut..]);
        let got: Vec<(Vec<u8>, Vec<u8>, bool)> = s
            .transactions
            .iter()
            .map(|t| {
                (
                    t.request.target.clone(),
                    t.request.body.clone(),
                    t.request.complete,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (b"/one".to_vec(), Vec::new(), true),
                (b"/two".to_vec(), b"Wikipedia".to_vec(), true),
                (b"/three".to_vec(), b"abc".to_vec(), true),
            ],
            "cut at {cut}"
        );
        assert_eq!(s.error(true), None);
    }
}

#[test]
fn pipelined_responses_pair_in_order() {
    let mut s = HttpSession::default();
    s.feed(true, &http_request("GET", "a", "/1", "u"));
    s.feed(true, &http_request("HEAD", "a", "/2", "u"));
    s.feed(true, &http_request("GET", "a", "/3", "u"));
    let mut wire = http_response(404, "Not Found", "text/plain", "nope");
    // A HEAD response announces a length but carries no body.
    wire.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    wire.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    wire.extend_from_slice(&http_response(204, "No Content", "text/plain", ""));
    s.feed(false, &wire);
    let codes: Vec<Option<u16>> = s
        .transactions
        .iter()
        .map(|t| t.response.as_ref().map(|r| r.status))
        .collect();
    assert_eq!(
        codes,
        [Some(404), Some(200), Some(204)],
        "the 1xx is interim"
    );
    assert!(s
        .transactions
        .iter()
        .all(|t| t.response.as_ref().is_some_and(|r| r.complete)));
}

#[test]
fn a_response_without_length_ends_with_the_stream() {
    let mut s = HttpSession::default();
    s.feed(true, &http_request("GET", "a", "/", "u"));
    s.feed(
        false,
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ",
    );
    s.feed(false, b"part two");
    assert!(!s
        .transaction(0)
        .and_then(|t| t.response.as_ref())
        .is_some_and(|r| r.complete));
    assert_eq!(s.end(false), [HttpEvent::ResponseComplete(0)]);
    let r = s
        .transaction(0)
        .and_then(|t| t.response.as_ref())
        .expect("response");
    assert_eq!(r.body, b"part one, part two");
}

#[test]
fn bare_line_feeds_and_leading_blank_lines_are_accepted() {
    let mut s = HttpSession::default();
    s.feed(true, b"\r\nGET /lf HTTP/1.1\nHost: lf.example\n\n");
    let tx = s.transaction(0).expect("parsed");
    assert_eq!(tx.request.header("host"), Some(&b"lf.example"[..]));
}

#[test]
fn bodies_are_kept_up_to_the_limit_and_counted_beyond() {
    let mut s = HttpSession::default();
    let n = BODY_LIMIT + 1000;
    let mut wire =
        format!("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: {n}\r\n\r\n").into_bytes();
    wire.extend(std::iter::repeat_n(b'x', n));
    s.feed(true, &wire);
    let r = &s.transaction(0).expect("tx").request;
    assert_eq!(
        (r.body.len(), r.body_len, r.complete),
        (BODY_LIMIT, n as u64, true)
    );
}

/// Found by fuzzing: a trailer line, or the line after a chunk's data, that never ended
/// was held whole, however long.
#[test]
fn unended_lines_inside_a_chunked_body_are_bounded() {
    let start = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (body, error) in [
        (&b"0\r\nX-Trailer: "[..], HttpError::HeadersTooLong),
        (&b"1\r\nx"[..], HttpError::BadChunk),
    ] {
        let mut s = HttpSession::default();
        s.feed(true, start);
        s.feed(true, body);
        let mut most = 0;
        for _ in 0..100 {
            s.feed(true, &[b'a'; 1024]);
            most = most.max(s.buffered(true));
        }
        assert!(most <= MAX_HEADER_BLOCK, "held {most} bytes");
        assert_eq!(s.error(true), Some(error));
    }
}

/// Found by fuzzing: a chunk-size line over the bound failed when it arrived in pieces
/// and was read when it arrived whole.
#[test]
fn a_long_chunk_size_line_fails_however_it_arrives() {
    let mut stream = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=".to_vec();
    stream.extend_from_slice(&[b'x'; 1100]);
    stream.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
    let mut whole = HttpSession::default();
    whole.feed(true, &stream);
    let mut split = HttpSession::default();
    for piece in stream.chunks(100) {
        split.feed(true, piece);
    }
    assert_eq!(whole.error(true), Some(HttpError::BadChunk));
    assert_eq!(split.error(true), Some(HttpError::BadChunk));
    assert_eq!(whole.transactions, split.transactions);
}

#[test]
fn malformed_input_stops_the_direction() {
    let mut s = HttpSession::default();
    s.feed(
        true,
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: lots\r\n\r\n",
    );
    assert_eq!(s.error(true), Some(HttpError::Invalid));
    let mut s = HttpSession::default();
    s.feed(true, &vec![b'a'; 70 * 1024]);
    assert_eq!(
        s.error(true),
        Some(HttpError::HeadersTooLong),
        "bounded memory"
    );
    let mut s = HttpSession::default();
    s.feed(
        true,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    );
    assert_eq!(s.error(true), Some(HttpError::BadChunk));
    assert!(
        probe(b"GET / HTTP/1.1\r\n", true) == Some(true)
            && probe(b"HTTP/1.1 200 OK\r\n", false) == Some(true)
            && probe(b"\x16\x03\x01", true) == Some(false)
            && probe(b"PO", true).is_none()
            && probe(b"HTT", false).is_none()
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut base = http_request("POST", "fuzz.example", "/f", "ua");
    base.extend_from_slice(&http_response(200, "OK", "text/plain", "body"));
    let mut seed: u64 = 7;
    for _ in 0..3000 {
        let mut b = base.clone();
        for _ in 0..4 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let i = (seed >> 33) as usize % b.len();
            b[i] = (seed >> 13) as u8;
        }
        let mut s = HttpSession::default();
        s.feed(true, &b);
        s.feed(false, &b);
        s.end(false);
    }
}

/// libhtp keeps going past a header line without a colon; so does rulesim (the line is
/// skipped rather than kept as an empty-named header).
#[test]
fn an_invalid_header_line_does_not_stop_the_request() {
    let mut s = HttpSession::default();
    s.feed(
        true,
        b"GET  /x HTTP/1.1\r\nHost: a.example\r\nthis is not a header\r\nUser-Agent: u\r\n\r\n",
    );
    assert_eq!(s.error(true), None);
    let r = &s.transaction(0).expect("parsed").request;
    assert_eq!(r.header("user-agent"), Some(&b"u"[..]));
    assert_eq!(r.target, b"/x");
}

/// A request arriving a byte at a time parses as when it arrives whole (and the header
/// search resumes where it stopped instead of starting over).
#[test]
fn byte_at_a_time() {
    let mut wire = http_request("GET", "a.example", "/slow", "ua");
    wire.extend_from_slice(b"POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
    let mut s = HttpSession::default();
    for b in wire.chunks(1) {
        s.feed(true, b);
    }
    let got: Vec<(&[u8], &[u8])> = s
        .transactions
        .iter()
        .map(|t| (t.request.target.as_slice(), t.request.body.as_slice()))
        .collect();
    assert_eq!(got, [(&b"/slow"[..], &b""[..]), (&b"/b"[..], &b"ok"[..])]);
}

#[test]
fn transactions_detection_is_done_with_are_freed() {
    let mut s = HttpSession::default();
    for i in 0..3 {
        s.feed(true, &http_request("GET", "h", &format!("/{i}"), "ua"));
        s.feed(false, &http_response(200, "OK", "text/plain", "body bytes"));
    }
    // Inspection done below id 1: only transaction 0 may go.
    s.release_done(1);
    assert_eq!(s.first_id, 1);
    assert_eq!(s.transactions.len(), 2);
    assert!(!s
        .transaction(1)
        .expect("tx 1")
        .response
        .as_ref()
        .expect("resp")
        .body
        .is_empty());
    // Done with everything: the newest stays, for logging, without its bodies.
    s.release_done(u64::MAX);
    assert_eq!((s.first_id, s.transactions.len()), (2, 1));
    let last = s.transaction(2).expect("tx 2");
    assert_eq!(last.request.target, b"/2");
    assert!(last.response.as_ref().expect("resp").body.is_empty());
    // An unanswered request is never dropped.
    s.feed(true, &http_request("GET", "h", "/3", "ua"));
    s.release_done(u64::MAX);
    assert!(s.transaction(3).is_some());
}

/// The anomalies of the first transaction after feeding `request`, then `response`.
fn anomalies(request: &[u8], response: Option<&[u8]>) -> Vec<&'static str> {
    let mut s = HttpSession::default();
    s.feed(true, request);
    if let Some(r) = response {
        s.feed(false, r);
    }
    s.transaction(0)
        .map(|t| t.anomalies.iter().map(|a| a.name()).collect())
        .unwrap_or_default()
}

#[test]
fn request_anomalies_repeat_where_suricata_checks_libhtps_flags() {
    // HTTP/1.1 without Host: found after the headers and again at completion (twice in
    // Suricata 7.0.10's logs of the same request).
    assert_eq!(
        anomalies(b"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", None),
        ["MISSING_HOST_HEADER", "MISSING_HOST_HEADER"]
    );
    // HTTP/1.0 needs no Host.
    assert!(anomalies(b"GET / HTTP/1.0\r\n\r\n", None).is_empty());
    // CONNECT "/": the target's host is invalid from the request line on; the request
    // never completes (it waits for the response).
    assert_eq!(
        anomalies(b"CONNECT / HTTP/1.1\r\nX: y\r\n\r\n", None),
        [
            "REQUEST_URI_HOST_INVALID",
            "MISSING_HOST_HEADER",
            "REQUEST_URI_HOST_INVALID"
        ]
    );
    // An absolute URI whose host differs from the Host header's.
    assert_eq!(
        anomalies(
            b"GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
            None
        ),
        ["HOST_HEADER_AMBIGUOUS", "HOST_HEADER_AMBIGUOUS"]
    );
    // Host header with a bad port; Transfer-Encoding without chunked; an unknown
    // Authorization scheme.
    assert_eq!(
        anomalies(b"GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n", None),
        ["REQUEST_HEADER_HOST_INVALID", "REQUEST_HEADER_HOST_INVALID"]
    );
    assert_eq!(
        anomalies(
            b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            None
        )[0],
        "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST"
    );
    assert_eq!(
        anomalies(
            b"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: NTLM abc\r\n\r\n",
            None
        ),
        ["REQUEST_AUTH_UNRECOGNIZED", "REQUEST_AUTH_UNRECOGNIZED"]
    );
    // A clean request has none; a trailing dot in the host is allowed.
    assert!(anomalies(b"GET / HTTP/1.1\r\nHost: a.example.\r\n\r\n", None).is_empty());
}

#[test]
fn a_response_without_a_request_is_an_anomaly() {
    let mut s = HttpSession::default();
    s.feed(false, &http_response(200, "OK", "text/plain", "x"));
    let tx = s.transaction(0).expect("placeholder transaction");
    assert_eq!(
        tx.anomalies.iter().map(|a| a.name()).collect::<Vec<_>>(),
        ["UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"]
    );
}

#[test]
fn hostnames_are_validated_as_libhtp_does() {
    use super::http_normalize::valid_hostname;
    for good in [&b"a.example"[..], b"a_b-c.d", b"x.", b"[::1]", b"1.2.3.4"] {
        assert!(valid_hostname(good), "{}", String::from_utf8_lossy(good));
    }
    for bad in [&b""[..], b"/", b".a", b"a..b", b"a b", b"[zz]", b"."] {
        assert!(!valid_hostname(bad), "{}", String::from_utf8_lossy(bad));
    }
    assert!(!valid_hostname(&[b'a'; 64]), "a label over 63 bytes");
}
