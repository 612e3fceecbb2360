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
    let n = DEFAULT_BODY_LIMIT + 1000;
    let mut wire =
        format!("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: {n}\r\n\r\n").into_bytes();
    wire.extend(std::iter::repeat_n(b'x', n));
    s.feed(true, &wire);
    let r = &s.transaction(0).expect("tx").request;
    assert_eq!(
        (r.body.len(), r.body_len, r.complete),
        (DEFAULT_BODY_LIMIT, n as u64, true)
    );
}

/// The body files Suricata tracks: a POST's (not multipart) and a PUT's, any response's;
/// sized up to the body limit, open until the message ends, truncated by more body once
/// the limit is reached.
#[test]
fn bodies_are_tracked_as_files() {
    let file = |req: &str, resp: Option<&[u8]>| {
        let mut s = HttpSession::default();
        s.feed(true, req.as_bytes());
        if let Some(r) = resp {
            s.feed(false, r);
        }
        let tx = s.transaction(0).expect("tx").clone();
        let name = |f: &Option<BodyFile>| {
            f.as_ref().map(|f| {
                (
                    String::from_utf8_lossy(&f.name).to_string(),
                    f.size,
                    f.state,
                )
            })
        };
        (
            name(&tx.request.file),
            tx.response.as_ref().and_then(|r| name(&r.file)),
        )
    };
    let post = "POST /a/%2E/b?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd";
    assert_eq!(
        file(post, None),
        (Some(("/a/b".into(), 4, FileState::Closed)), None)
    );
    // Open while the body is incomplete.
    assert_eq!(
        file(&post[..post.len() - 1], None).0,
        Some(("/a/b".into(), 3, FileState::Open))
    );
    let put = "PUT /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx";
    assert_eq!(file(put, None).0, Some(("/p".into(), 1, FileState::Closed)));
    // Not tracked: a GET's body, a lower-case post, a multipart POST, an empty body.
    for req in [
        "GET /g HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "post /g HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        "POST /g HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1\r\n\r\nx",
        "POST /g HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    ] {
        assert_eq!(file(req, None).0, None, "{req}");
    }
    // A response body past the limit: the piece reaching it is cut to fit, the next one
    // truncates the file.
    let get = "GET /dl HTTP/1.1\r\nHost: a\r\n\r\n";
    let n = DEFAULT_BODY_LIMIT + 10;
    let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").into_bytes();
    let header_len = resp.len();
    resp.extend(std::iter::repeat_n(b'x', n));
    let mut s = HttpSession::default();
    s.feed(true, get.as_bytes());
    s.feed(false, &resp[..header_len + DEFAULT_BODY_LIMIT + 5]);
    let f = |s: &HttpSession| {
        let r = s.transaction(0).and_then(|t| t.response.clone());
        r.and_then(|r| r.file).map(|f| (f.size, f.state))
    };
    assert_eq!(f(&s), Some((DEFAULT_BODY_LIMIT as u64, FileState::Open)));
    s.feed(false, &resp[header_len + DEFAULT_BODY_LIMIT + 5..]);
    assert_eq!(
        f(&s),
        Some((DEFAULT_BODY_LIMIT as u64, FileState::Truncated))
    );
    // Content-Disposition names a response's file; pruning drops closed files only.
    let mut s = HttpSession::default();
    s.feed(true, get.as_bytes());
    s.feed(
        false,
        b"HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Length: 2\r\n\r\nx",
    );
    s.prune_files(false);
    let file = s
        .transaction(0)
        .and_then(|t| t.response.clone())
        .and_then(|r| r.file);
    assert_eq!(
        file.map(|f| (f.name, f.state, f.pruned)),
        Some((b"r.pdf".to_vec(), FileState::Open, false))
    );
    s.feed(false, b"y");
    s.prune_files(true);
    let pruned = |s: &HttpSession| {
        s.transaction(0)
            .and_then(|t| t.response.clone())
            .and_then(|r| r.file)
            .map(|f| f.pruned)
    };
    assert_eq!(pruned(&s), Some(false), "the other direction's cleanup");
    s.prune_files(false);
    assert_eq!(pruned(&s), Some(true));
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
        assert!(most <= DEFAULT_HEADER_BLOCK, "held {most} bytes");
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

fn limits() -> HttpLimits {
    HttpLimits::default()
}

#[test]
fn the_body_limits_are_settings_and_counted_once_per_message() {
    let mut s = HttpSession::with_limits(HttpLimits {
        request_body: 10,
        response_body: 4,
        ..limits()
    });
    let post = |n: usize| {
        let mut w =
            format!("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: {n}\r\n\r\n").into_bytes();
        w.extend((0..n).map(|i| b'a' + (i % 26) as u8));
        w
    };
    // Exactly the limit is not truncated; one byte more is, counted once however the
    // body arrives.
    s.feed(true, &post(10));
    let big = post(25);
    for piece in big.chunks(3) {
        s.feed(true, piece);
    }
    s.feed(false, &http_response(200, "OK", "text/plain", "abcd"));
    s.feed(false, &http_response(200, "OK", "text/plain", "abcdefgh"));
    let tx0 = s.transaction(0).expect("tx 0");
    let tx1 = s.transaction(1).expect("tx 1");
    assert_eq!(tx0.request.body, b"abcdefghij");
    assert_eq!(
        (&tx1.request.body[..], tx1.request.body_len),
        (&b"abcdefghij"[..], 25)
    );
    let resp = |t: &Transaction| t.response.clone().expect("response").body;
    assert_eq!((resp(tx0), resp(tx1)), (b"abcd".to_vec(), b"abcd".to_vec()));
    let hits = s.take_limit_hits();
    assert_eq!(
        (hits.request_body_truncated, hits.response_body_truncated),
        (1, 1)
    );
    assert_eq!(s.take_limit_hits(), HttpLimitHits::default(), "taken");
    // 0 keeps everything, as in Suricata.
    let mut all = HttpSession::with_limits(HttpLimits {
        request_body: 0,
        ..limits()
    });
    all.feed(true, &post(DEFAULT_BODY_LIMIT + 5));
    let r = &all.transaction(0).expect("tx").request;
    assert_eq!(r.body.len(), DEFAULT_BODY_LIMIT + 5);
    assert_eq!(all.take_limit_hits(), HttpLimitHits::default());
}

#[test]
fn the_header_block_limit_is_a_setting_and_stops_only_its_direction() {
    let mut s = HttpSession::with_limits(HttpLimits {
        header_block: 100,
        ..limits()
    });
    s.feed(false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let long = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Long: {}\r\n\r\n",
        "x".repeat(120)
    );
    for piece in long.as_bytes().chunks(30) {
        s.feed(true, piece);
        assert!(s.buffered(true) <= 100);
    }
    assert_eq!(s.error(true), Some(HttpError::HeadersTooLong));
    assert_eq!(s.take_limit_hits().header_block_too_long, 1);
    // A block under the limit parses; the default limit takes the long one.
    let mut d = HttpSession::default();
    d.feed(true, long.as_bytes());
    assert_eq!(d.error(true), None);
    assert_eq!(d.transactions.len(), 1);
}

#[test]
fn headers_limit_counts_distinct_names_as_libhtp() {
    let request = |names: &[&str]| {
        let mut w = b"GET / HTTP/1.1\r\n".to_vec();
        for n in names {
            w.extend_from_slice(format!("{n}: v\r\n").as_bytes());
        }
        w.extend_from_slice(b"\r\n");
        w
    };
    let session = || {
        HttpSession::with_limits(HttpLimits {
            headers: 3,
            ..limits()
        })
    };
    // libhtp refuses a new name once more than `headers-limit` names are held: four
    // distinct names pass a limit of 3, a fifth does not; repeats of a name are merged.
    let mut s = session();
    s.feed(true, &request(&["A", "B", "C", "D"]));
    s.feed(
        true,
        &request(&["A", "a", "A", "B", "b", "C", "D", "d", "D"]),
    );
    assert_eq!((s.error(true), s.transactions.len()), (None, 2));
    s.feed(true, &request(&["A", "B", "C", "D", "E"]));
    assert_eq!(s.error(true), Some(HttpError::TooManyHeaders));
    assert_eq!(s.transactions.len(), 2, "the message is refused");
    assert_eq!(s.take_limit_hits().too_many_headers, 1);
    // Responses too; the request side goes on.
    let mut s = session();
    s.feed(
        false,
        b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(s.error(false), Some(HttpError::TooManyHeaders));
    s.feed(true, &request(&["Host"]));
    assert_eq!(s.transactions.len(), 1);
    // More header lines than the old fixed 256 pass the default limit of 1,024 names.
    let names: Vec<String> = (0..600).map(|i| format!("X-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut d = HttpSession::default();
    d.feed(true, &request(&names));
    assert_eq!(d.transaction(0).expect("tx").request.headers.len(), 600);
}

#[test]
fn max_tx_refuses_new_transactions_while_too_many_are_live() {
    let mut s = HttpSession::with_limits(HttpLimits {
        max_tx: 2,
        ..limits()
    });
    // libhtp creates a transaction while no more than `max-tx` are live: three pass.
    for i in 0..3 {
        s.feed(true, &http_request("GET", "h", &format!("/{i}"), "ua"));
    }
    assert_eq!((s.error(true), s.transactions.len()), (None, 3));
    s.feed(true, &http_request("GET", "h", "/3", "ua"));
    assert_eq!(s.error(true), Some(HttpError::TooManyTransactions));
    assert_eq!(s.transactions.len(), 3);
    assert_eq!(s.take_limit_hits().max_tx_reached, 1);
    // The responses still pair with the live requests.
    for _ in 0..3 {
        s.feed(false, &http_response(200, "OK", "text/plain", "ok"));
    }
    assert_eq!(s.error(false), None);
    assert!(s.transactions.iter().all(|t| t.response.is_some()));
    // Freed transactions make room (a session whose requests are answered and inspected
    // never reaches the limit).
    let mut t = HttpSession::with_limits(HttpLimits {
        max_tx: 2,
        ..limits()
    });
    for i in 0..10 {
        t.feed(true, &http_request("GET", "h", &format!("/{i}"), "ua"));
        t.feed(false, &http_response(200, "OK", "text/plain", "ok"));
        t.release_done(u64::MAX);
    }
    assert_eq!((t.error(true), t.first_id), (None, 9));
    // No limit with 0.
    let mut u = HttpSession::with_limits(HttpLimits {
        max_tx: 0,
        ..limits()
    });
    for i in 0..600 {
        u.feed(true, &http_request("GET", "h", &format!("/{i}"), "ua"));
    }
    assert_eq!((u.error(true), u.transactions.len()), (None, 600));
    // The default is libhtp's 512.
    let mut v = HttpSession::default();
    for i in 0..514 {
        v.feed(true, &http_request("GET", "h", &format!("/{i}"), "ua"));
    }
    assert_eq!(v.transactions.len(), 513);
    assert_eq!(v.error(true), Some(HttpError::TooManyTransactions));
}

/// A header block, trailer line or chunk line end over the limit is refused however it
/// arrives (it was refused only when held across calls, so a block arriving whole passed).
#[test]
fn the_header_block_limit_does_not_depend_on_the_split() {
    let limit = 64;
    let session = || {
        HttpSession::with_limits(HttpLimits {
            header_block: limit,
            ..HttpLimits::default()
        })
    };
    let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for len in limit - 2..limit + 3 {
        let block = |fill: usize| format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(fill));
        let fixed = block(0).len();
        let trailer = format!("{chunked}0\r\nT: {}\r\n\r\n", "t".repeat(len - 5));
        let line_end = format!("{chunked}1\r\nx{}\r\n0\r\n\r\n", " ".repeat(len - 2));
        for (stream, skip) in [
            (block(len - fixed), 0),
            (trailer, chunked.len() + 3),
            (line_end, chunked.len() + 4),
        ] {
            let mut whole = session();
            whole.feed(true, stream.as_bytes());
            for cut in skip..stream.len() {
                let mut split = session();
                split.feed(true, &stream.as_bytes()[..cut]);
                split.feed(true, &stream.as_bytes()[cut..]);
                assert_eq!(
                    (split.error(true), &split.transactions),
                    (whole.error(true), &whole.transactions),
                    "{len} bytes cut at {cut}: {stream:?}"
                );
            }
            assert_eq!(
                whole.error(true).is_some(),
                len > limit,
                "{len}: {stream:?}"
            );
        }
    }
}

/// libhtp's `REQ_FINALIZE`: after a request's body, the rest of the input chunk is read
/// line by line; a line that is not the next request (empty, or a known method) is more
/// body, and the request completes when the chunk ends with nothing left, at the next
/// request, or at the stream's end.
#[test]
fn what_follows_a_request_in_its_chunk_is_read_as_libhtp_reads_it() {
    let post = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    let state = |s: &HttpSession, id: u64| {
        let r = &s.transaction(id).expect("tx").request;
        (String::from_utf8_lossy(&r.body).to_string(), r.complete)
    };
    // The chunk ends with the body: complete at its end, not before.
    let mut s = HttpSession::default();
    s.feed_more(true, post);
    assert_eq!(state(&s, 0), ("abc".into(), false));
    assert_eq!(s.data_end(true), [HttpEvent::RequestComplete(0)]);
    assert_eq!(state(&s, 0), ("abc".into(), true));
    // A CRLF and a junk line are body; a known method starts the next request; a
    // lower-case one does not.
    let mut s = HttpSession::default();
    let mut chunk = post.to_vec();
    chunk.extend_from_slice(b"\r\n junk\nget / HTTP/1.1\r\nGET /b HTTP/1.1\r\n\r\n");
    s.feed(true, &chunk);
    assert_eq!(
        state(&s, 0),
        ("abc\r\n junk\nget / HTTP/1.1\r\n".into(), true)
    );
    assert_eq!(
        s.transaction(1).map(|t| t.request.target.clone()),
        Some(b"/b".to_vec())
    );
    // A bare LF ends the request at once. A line without its end waits, split or not,
    // and is body at the stream's end.
    let mut s = HttpSession::default();
    let mut chunk = post.to_vec();
    chunk.extend_from_slice(b"\n");
    s.feed(true, &chunk);
    assert_eq!(state(&s, 0), ("abc".into(), true));
    let mut s = HttpSession::default();
    let mut chunk = post.to_vec();
    chunk.extend_from_slice(b"ju");
    s.feed(true, &chunk);
    s.feed(true, b"nk");
    assert_eq!(state(&s, 0), ("abc".into(), false));
    s.end(true);
    assert_eq!(state(&s, 0), ("abcjunk".into(), true));
    // A CONNECT waits for its response, not for the next line.
    let mut s = HttpSession::default();
    s.feed_more(true, b"CONNECT a:443 HTTP/1.1\r\n\r\n");
    assert!(s.transaction(0).expect("tx").request.complete);
}

#[test]
fn a_response_without_a_request_gets_libhtps_stand_in_request() {
    let mut s = HttpSession::default();
    s.feed(
        false,
        &http_response(200, "OK", "text/html", "<p>orphan</p>"),
    );
    let tx = s.transaction(0).expect("tx 0");
    assert!(tx.request.placeholder);
    assert_eq!(tx.request.uri_raw(), b"/libhtp::request_uri_not_seen");
    assert_eq!(tx.request.port(), Some(0));
    assert!(tx.request.method.is_empty());
    assert_eq!(tx.anomalies, [HttpAnomaly::UnableToMatchResponseToRequest]);
    let file = tx
        .response
        .as_ref()
        .and_then(|r| r.file.as_ref())
        .expect("the response body is a file");
    assert_eq!(file.name, b"/libhtp::request_uri_not_seen");
}

#[test]
fn detection_takes_suricatas_http_patterns() {
    // Table: bytes, direction, what the probe says (Some(true) found, None more needed).
    let table: &[(&[u8], bool, Option<bool>)] = &[
        (b"get /x HTTP/1.1\r\n", true, Some(true)),
        (b"MKCOL /dav/ HTTP/1.1\r\n", true, Some(true)),
        (b"BASELINE-CONTROL\t/x", true, Some(true)),
        (b"GETX / HTTP/1.1", true, Some(false)),
        (b"FOO / HTTP/1.1\r\n", true, Some(false)),
        (b"PROPPATC", true, None),
        (b"GET", true, None),
        (b"http/1.1 200 OK\r\n", false, Some(true)),
        (b"HTTP/0.9 200 OK\r\n", false, Some(true)),
        (b"HTTP/1.2 200 OK\r\n", false, Some(false)),
        (b"HTTP/1.", false, None),
        (b"hello", false, Some(false)),
    ];
    for &(bytes, to_server, want) in table {
        assert_eq!(
            probe(bytes, to_server),
            want,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}
