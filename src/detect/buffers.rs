//! The sticky buffers of a transaction, as the app-layer parsers provide them, and the
//! transactions of a flow as the detection engine walks them.

use std::borrow::Cow;

use crate::app::http::{Request, Response, Transaction};
use crate::app::http_normalize::{header_buffer, header_names, joined};
use crate::app::session::{DnsTx, Parser};

/// One transaction of a flow's parser.
#[derive(Clone, Copy)]
pub enum TxRef<'a> {
    Http(&'a Transaction),
    Tls(&'a crate::app::tls::TlsSession),
    Dns(&'a DnsTx),
}

/// A transaction with its id and, per direction, whether it has data and is complete.
pub struct TxView<'a> {
    pub id: u64,
    pub tx: TxRef<'a>,
    /// [to server, to client]: the side has data to inspect.
    pub ready: [bool; 2],
    /// [to server, to client]: the side will not change any more.
    pub complete: [bool; 2],
}

/// Suricata's `request-body-minimal-inspect-size` (its shipped suricata.yaml).
pub const REQUEST_BODY_MIN_INSPECT: u64 = 32 * 1024;
/// Suricata's `response-body-minimal-inspect-size` (its shipped suricata.yaml).
pub const RESPONSE_BODY_MIN_INSPECT: u64 = 40 * 1024;

/// In IDS mode Suricata waits with an HTTP body buffer (`http.request_body`,
/// `http.response_body`, `file.data`) until the minimal inspect size has arrived, the body
/// is complete, the body limit is reached or the stream ends (`eof`); inline it inspects
/// at once. Suricata randomises the minimal sizes by up to 10 % per run by default; the
/// nominal size is used here. `min`: the request's and the response's minimal sizes.
pub fn body_deferred(tx: TxRef<'_>, name: &str, eof: bool, min: [u64; 2]) -> bool {
    let TxRef::Http(t) = tx else {
        return false;
    };
    let (seen, kept, complete, min) = match name {
        "http.request_body" => (
            t.request.entity_len,
            t.request.body.len(),
            t.request.complete,
            min[0],
        ),
        "http.response_body" | "file.data" => match &t.response {
            Some(r) => (r.entity_len, r.body.len(), r.complete, min[1]),
            None => return false,
        },
        _ => return false,
    };
    // Past the body limit: bytes were seen that are not kept.
    let limit_reached = seen > kept as u64;
    !eof && !complete && !limit_reached && seen < min
}

/// The transactions of a parser, oldest first, from id `from` (an iterator: detection
/// walks them on every packet and collects nothing).
pub fn transactions(parser: &Parser, from: u64) -> Transactions<'_> {
    match parser {
        Parser::None => Transactions::None,
        Parser::Http(h) => {
            let skip = from
                .saturating_sub(h.first_id)
                .min(h.transactions.len() as u64);
            Transactions::Http {
                first_id: h.first_id + skip,
                iter: h.transactions[skip as usize..].iter().enumerate(),
            }
        }
        Parser::Tls(t) => {
            if from > 0 || (t.seen_flags == 0 && t.client_hello.is_none()) {
                return Transactions::None;
            }
            Transactions::Tls(Some(TxView {
                id: 0,
                tx: TxRef::Tls(t),
                ready: [
                    t.seen_flags != 0 || t.client_hello.is_some(),
                    t.server_hello.is_some(),
                ],
                complete: [false, false],
            }))
        }
        Parser::Dns(d) => Transactions::Dns {
            from,
            iter: d.txs.iter(),
        },
    }
}

/// The iterator [`transactions`] returns.
pub enum Transactions<'a> {
    None,
    Http {
        first_id: u64,
        iter: std::iter::Enumerate<std::slice::Iter<'a, Transaction>>,
    },
    Tls(Option<TxView<'a>>),
    Dns {
        from: u64,
        iter: std::collections::vec_deque::Iter<'a, DnsTx>,
    },
}

impl<'a> Iterator for Transactions<'a> {
    type Item = TxView<'a>;

    fn next(&mut self) -> Option<TxView<'a>> {
        match self {
            Transactions::None => None,
            Transactions::Http { first_id, iter } => iter.next().map(|(i, t)| TxView {
                id: *first_id + i as u64,
                tx: TxRef::Http(t),
                ready: [true, t.response.is_some()],
                complete: [
                    t.request.complete,
                    t.response.as_ref().is_some_and(|r| r.complete),
                ],
            }),
            Transactions::Tls(view) => view.take(),
            Transactions::Dns { from, iter } => iter.find(|t| t.id >= *from).map(|t| TxView {
                id: t.id,
                tx: TxRef::Dns(t),
                ready: [t.query.is_some(), t.response.is_some()],
                complete: [true, true],
            }),
        }
    }
}

fn request_header<'a>(r: &'a Request, name: &str) -> Option<Cow<'a, [u8]>> {
    joined(&r.headers, name).map(Cow::Owned)
}

fn response_header<'a>(r: &'a Response, name: &str) -> Option<Cow<'a, [u8]>> {
    joined(&r.headers, name).map(Cow::Owned)
}

fn http_version(minor: u8) -> Vec<u8> {
    format!("HTTP/1.{minor}").into_bytes()
}

/// Calls `f` with each instance of buffer `name` in a transaction, seen from direction
/// `to_server`, until it returns true; whether it did. Nothing is collected.
pub fn any_instance(
    tx: TxRef<'_>,
    name: &str,
    to_server: bool,
    f: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    if let TxRef::Dns(d) = tx {
        return name == "dns.query"
            && d.query
                .as_ref()
                .is_some_and(|q| q.questions.iter().any(|q| f(&q.name)));
    }
    if let (TxRef::Tls(t), "tls.certs") = (tx, name) {
        // A multi-buffer: one inspection per certificate of the chain, the rule matching
        // when one certificate satisfies its whole content chain (detect-tls-certs.c).
        return t
            .certs(to_server)
            .is_some_and(|c| c.chain.iter().any(|der| f(der)));
    }
    single(tx, name, to_server).is_some_and(|b| f(&b))
}

/// The instances of buffer `name` in a transaction, seen from direction `to_server`
/// (buffers that exist on both sides, such as `http.header_names`, take that side's).
pub fn buffer<'a>(tx: TxRef<'a>, name: &str, to_server: bool, out: &mut Vec<Cow<'a, [u8]>>) {
    if let TxRef::Dns(d) = tx {
        if name == "dns.query" {
            if let Some(q) = &d.query {
                out.extend(q.questions.iter().map(|q| Cow::Borrowed(q.name.as_slice())));
            }
        }
        return;
    }
    if let (TxRef::Tls(t), "tls.certs") = (tx, name) {
        if let Some(c) = t.certs(to_server) {
            out.extend(c.chain.iter().map(|der| Cow::Borrowed(der.as_slice())));
        }
        return;
    }
    out.extend(single(tx, name, to_server));
}

/// The one instance of an HTTP or TLS buffer.
fn single<'a>(tx: TxRef<'a>, name: &str, to_server: bool) -> Option<Cow<'a, [u8]>> {
    match tx {
        TxRef::Http(t) => {
            let req = &t.request;
            let resp = t.response.as_ref();
            let v: Option<Cow<'a, [u8]>> = match name {
                // libhtp's stand-in request has a raw URI but was never normalised.
                "http.uri" => (!req.placeholder).then(|| Cow::Owned(req.normalized_uri())),
                "http.uri.raw" => Some(Cow::Borrowed(req.uri_raw())),
                // The transaction's app-layer events as codes (`app-layer-event`).
                "http.app_layer_events" => {
                    Some(Cow::Owned(t.anomalies.iter().map(|a| a.code()).collect()))
                }
                "http.method" => Some(Cow::Borrowed(&req.method)),
                "http.request_line" if req.placeholder => None,
                "http.request_line" => {
                    let mut l = req.method.clone();
                    l.push(b' ');
                    l.extend_from_slice(&req.target);
                    l.push(b' ');
                    l.extend_from_slice(&http_version(req.minor_version));
                    Some(Cow::Owned(l))
                }
                "http.request_body" => (!req.body.is_empty()).then_some(Cow::Borrowed(&req.body)),
                "http.user_agent" => request_header(req, "user-agent"),
                "http.host" => req.host().map(Cow::Owned),
                "http.host.raw" => req.host_raw().map(Cow::Owned),
                "http.accept" => request_header(req, "accept"),
                "http.accept_enc" => request_header(req, "accept-encoding"),
                "http.accept_lang" => request_header(req, "accept-language"),
                "http.referer" => request_header(req, "referer"),
                "http.cookie" => {
                    if to_server {
                        request_header(req, "cookie")
                    } else {
                        resp.and_then(|r| response_header(r, "set-cookie"))
                    }
                }
                "http.connection" => {
                    if to_server {
                        request_header(req, "connection")
                    } else {
                        resp.and_then(|r| response_header(r, "connection"))
                    }
                }
                "http.content_type" => {
                    if to_server {
                        request_header(req, "content-type")
                    } else {
                        resp.and_then(|r| response_header(r, "content-type"))
                    }
                }
                "http.content_len" => {
                    if to_server {
                        request_header(req, "content-length")
                    } else {
                        resp.and_then(|r| response_header(r, "content-length"))
                    }
                }
                "http.header_names" => {
                    if to_server {
                        Some(Cow::Owned(req.header_names()))
                    } else {
                        resp.map(|r| Cow::Owned(header_names(&r.headers)))
                    }
                }
                "http.header" => {
                    if to_server {
                        Some(Cow::Owned(req.header_buffer()))
                    } else {
                        resp.map(|r| Cow::Owned(header_buffer(&r.headers, "set-cookie")))
                    }
                }
                "http.protocol" => {
                    if to_server {
                        (!req.placeholder).then(|| Cow::Owned(http_version(req.minor_version)))
                    } else {
                        resp.map(|r| Cow::Owned(http_version(r.minor_version)))
                    }
                }
                "http.start" => {
                    if to_server && req.placeholder {
                        None
                    } else if to_server {
                        let mut l = req.method.clone();
                        l.push(b' ');
                        l.extend_from_slice(&req.target);
                        l.push(b' ');
                        l.extend_from_slice(&http_version(req.minor_version));
                        l.extend_from_slice(b"\r\n");
                        l.extend_from_slice(&req.header_buffer());
                        l.extend_from_slice(b"\r\n");
                        Some(Cow::Owned(l))
                    } else {
                        None
                    }
                }
                "http.stat_code" => resp.map(|r| Cow::Owned(r.status.to_string().into_bytes())),
                "http.stat_msg" => resp.map(|r| Cow::Borrowed(r.reason.as_slice())),
                "http.response_line" => resp.map(|r| {
                    let mut l = http_version(r.minor_version);
                    l.extend_from_slice(format!(" {} ", r.status).as_bytes());
                    l.extend_from_slice(&r.reason);
                    Cow::Owned(l)
                }),
                "http.response_body" | "file.data" => resp
                    .filter(|r| !r.body.is_empty())
                    .map(|r| Cow::Borrowed(r.body.as_slice())),
                "http.server" => resp.and_then(|r| response_header(r, "server")),
                "http.location" => resp.and_then(|r| response_header(r, "location")),
                _ => None,
            };
            v
        }
        TxRef::Tls(t) => {
            let ch = t.client_hello.as_ref();
            let sh = t.server_hello.as_ref();
            let v: Option<Cow<'a, [u8]>> = match name {
                "tls.sni" => ch.and_then(|c| c.sni.as_deref()).map(Cow::Borrowed),
                "ja3.string" => ch.map(|c| Cow::Borrowed(c.ja3.as_bytes())),
                "ja3.hash" => ch.map(|c| Cow::Owned(c.ja3_hash().into_bytes())),
                "ja3s.string" => sh.map(|s| Cow::Borrowed(s.ja3s.as_bytes())),
                "ja3s.hash" => sh.map(|s| Cow::Owned(s.ja3s_hash().into_bytes())),
                // The first decoded certificate of the side the rule inspects: the
                // client's to the server, the server's to the client.
                "tls.cert_subject"
                | "tls.cert_issuer"
                | "tls.cert_serial"
                | "tls.cert_fingerprint" => {
                    let first = t.certs(to_server).and_then(|c| c.first.as_ref())?;
                    Some(Cow::Borrowed(
                        match name {
                            "tls.cert_subject" => &first.subject,
                            "tls.cert_issuer" => &first.issuer,
                            "tls.cert_serial" => &first.serial,
                            _ => &first.fingerprint,
                        }
                        .as_bytes(),
                    ))
                }
                _ => None,
            };
            v
        }
        TxRef::Dns(_) => None,
    }
}
