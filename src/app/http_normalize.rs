//! The HTTP detection buffers as Suricata 7.0.10 builds them with libhtp's IDS
//! personality (`app-layer-htp*.c`, libhtp `htp_util.c`): the normalised URI, the host,
//! and the header lists.

use super::http::{Header, Request};

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `%XX` decoding where invalid encodings stay as written; in the path, `%uXXXX` too.
fn percent_decode(input: &[u8], path: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' {
            if path && matches!(input.get(i + 1), Some(b'u' | b'U')) {
                let digits: Option<Vec<u8>> = input
                    .get(i + 2..i + 6)
                    .map(|d| d.iter().filter_map(|&b| hex(b)).collect());
                if let Some(d) = digits.filter(|d| d.len() == 4) {
                    // High byte 0: the low byte; otherwise libhtp's best-fit map, which
                    // rulesim approximates with `?`.
                    out.push(if d[0] == 0 && d[1] == 0 {
                        d[2] << 4 | d[3]
                    } else {
                        b'?'
                    });
                    i += 6;
                    continue;
                }
            }
            if let (Some(h), Some(l)) = (
                input.get(i + 1).and_then(|&b| hex(b)),
                input.get(i + 2).and_then(|&b| hex(b)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// Valid UTF-8 sequences become one byte (the code point when it fits, else `?`);
/// invalid bytes become `?`; an unfinished sequence at the end is dropped.
fn utf8_best_fit(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        let len = match b {
            0x00..=0x7f => {
                out.push(b);
                i += 1;
                continue;
            }
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => {
                out.push(b'?');
                i += 1;
                continue;
            }
        };
        if i + len > input.len() {
            if input[i + 1..].iter().all(|c| c & 0xc0 == 0x80) {
                break;
            }
            out.push(b'?');
            i += 1;
            continue;
        }
        match std::str::from_utf8(&input[i..i + len]) {
            Ok(s) => {
                let c = s.chars().next().map_or(0, u32::from);
                out.push(u8::try_from(c).unwrap_or(b'?'));
                i += len;
            }
            Err(_) => {
                out.push(b'?');
                i += 1;
            }
        }
    }
    out
}

/// RFC 3986 dot-segment removal.
fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let mut input = path.to_vec();
    let mut out: Vec<u8> = Vec::with_capacity(path.len());
    while !input.is_empty() {
        if input.starts_with(b"../") {
            input.drain(..3);
        } else if input.starts_with(b"./") || input.starts_with(b"/./") {
            input.drain(..2);
        } else if input == b"/." {
            input.truncate(1);
        } else if input.starts_with(b"/../") || input == b"/.." {
            if input == b"/.." {
                input.truncate(1);
            } else {
                input.drain(..3);
            }
            let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
            out.truncate(cut);
        } else if input == b"." || input == b".." {
            input.clear();
        } else {
            let start = usize::from(input[0] == b'/');
            let end = input[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(input.len(), |p| p + start);
            out.extend(input.drain(..end));
        }
    }
    out
}

/// Splits an absolute-form target (`scheme://authority/path`) into authority and the
/// rest; origin-form targets have no authority.
fn split_absolute(target: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if target.starts_with(b"/") || !target.contains(&b':') {
        return (None, target);
    }
    let Some(p) = target.windows(3).position(|w| w == b"://") else {
        return (None, target);
    };
    let rest = &target[p + 3..];
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    (Some(&rest[..end]), &rest[end..])
}

/// A target's path, query and fragment as sent (`?` and `#` left out); for an
/// absolute-form target, without scheme and authority.
fn uri_parts(target: &[u8]) -> (&[u8], Option<&[u8]>, Option<&[u8]>) {
    let target = target.trim_ascii_end();
    let (_, rest) = split_absolute(target);
    let (before_fragment, fragment) = match rest.iter().position(|&b| b == b'#') {
        Some(p) => (&rest[..p], Some(&rest[p + 1..])),
        None => (rest, None),
    };
    let (path, query) = match before_fragment.iter().position(|&b| b == b'?') {
        Some(p) => (&before_fragment[..p], Some(&before_fragment[p + 1..])),
        None => (before_fragment, None),
    };
    (path, query, fragment)
}

fn normalize_path(path: &[u8]) -> Vec<u8> {
    let mut p = percent_decode(path, true);
    for b in &mut p {
        if *b == b'\\' {
            *b = b'/';
        }
    }
    p.dedup_by(|a, b| *a == b'/' && *b == b'/');
    remove_dot_segments(&utf8_best_fit(&p))
}

/// The target's path decoded and normalised (libhtp's `parsed_uri->path`).
pub fn normalized_path(target: &[u8]) -> Vec<u8> {
    normalize_path(uri_parts(target).0)
}

/// `http.uri`: the target's path decoded and normalised, `?` + the decoded query,
/// `#` + the decoded fragment; for an absolute-form target, without scheme and authority.
pub fn normalized_uri(target: &[u8]) -> Vec<u8> {
    let (path, query, fragment) = uri_parts(target);
    let mut out = normalize_path(path);
    if let Some(q) = query {
        out.push(b'?');
        out.extend(percent_decode(q, false));
    }
    if let Some(f) = fragment {
        out.push(b'#');
        out.extend(percent_decode(f, true));
    }
    out
}

/// Host without port: `[v6]` kept whole, otherwise up to the last `:`.
fn strip_port(host: &[u8]) -> &[u8] {
    if host.starts_with(b"[") {
        return match host.iter().position(|&b| b == b']') {
            Some(p) => &host[..=p],
            None => host,
        };
    }
    match host.iter().rposition(|&b| b == b':') {
        Some(p) => &host[..p],
        None => host,
    }
}

/// The value of parameter `name` (lower case, `=` included) in a header value split at
/// `;` outside quotes, without its quotes: Suricata's `HTTPParseContentTypeHeader` and
/// `HTTPParseContentDispositionHeader` (app-layer-htp.c), which look for `boundary=` and
/// `filename=`. The first part (`form-data`, `attachment`) is a parameter like the others.
pub fn header_parameter<'a>(value: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let line = &value[value.iter().position(|&b| !space(b))?..];
    let mut quotes = 0usize;
    let mut offset = 0usize;
    let mut x = 1;
    while x < line.len() {
        let escaped = line[x - 1] == b'\\';
        if !escaped && line[x] == b'"' {
            quotes += 1;
        }
        let last = x + 1 == line.len();
        if ((!escaped && line[x] == b';') || last) && quotes % 2 == 0 {
            let token = &line[offset.min(x)..if last { x + 1 } else { x }];
            offset = x + 1;
            while offset < line.len() && space(line[offset]) {
                x += 1;
                offset += 1;
            }
            if token.len() > name.len() && token[..name.len()].eq_ignore_ascii_case(name) {
                let mut v = &token[name.len()..];
                if let Some(rest) = v.strip_prefix(b"\"") {
                    v = rest;
                }
                if let Some(rest) = v.strip_suffix(b"\"") {
                    v = rest;
                }
                return Some(v);
            }
        }
        x += 1;
    }
    None
}

/// A response's `Content-Range` when it names part of a file (`bytes first-last/size`,
/// not the whole of it): (first, last). Suricata's `HTPParseAndCheckContentRange`; any
/// other value opens the file as a whole.
pub fn partial_content_range(value: &[u8]) -> Option<(u64, u64)> {
    let value = value.trim_ascii_start();
    // The unit (`bytes`), whatever it is, then spaces.
    let rest = &value[value.iter().position(|&b| b == b' ').unwrap_or(value.len())..];
    let rest = rest.trim_ascii_start();
    let number = |s: &[u8]| -> Option<(i64, usize)> {
        let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
        let n = std::str::from_utf8(&s[..digits])
            .ok()?
            .parse::<i64>()
            .ok()?;
        Some((n, digits))
    };
    let (start, n) = number(rest)?;
    let rest = rest[n..].strip_prefix(b"-")?;
    let (end, n) = number(rest)?;
    let rest = rest[n..].strip_prefix(b"/")?;
    let size = if rest.starts_with(b"*") {
        -1
    } else {
        number(rest)?.0
    };
    let whole = start == 0 && end == size - 1;
    let valid = end > 0 && size > 0 && start <= end && end < size;
    (valid && !whole).then_some((start as u64, end as u64))
}

/// Values of every header named `name`, joined with `, ` (libhtp's table).
pub fn joined(headers: &[Header], name: &str) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
    {
        let v = h.value.trim_ascii();
        match &mut out {
            None => out = Some(v.to_vec()),
            // A repeated Content-Length keeps the first value.
            Some(_) if name.eq_ignore_ascii_case("content-length") => {}
            Some(o) => {
                o.extend_from_slice(b", ");
                o.extend_from_slice(v);
            }
        }
    }
    out
}

impl Request {
    /// `http.uri`.
    pub fn normalized_uri(&self) -> Vec<u8> {
        normalized_uri(&self.target)
    }

    /// `http.host`: the absolute URI's host (decoded, lower case, no trailing dots), else
    /// the Host header without its port, lower-cased only when it had no `:` (libhtp).
    pub fn host(&self) -> Option<Vec<u8>> {
        if self.method.eq_ignore_ascii_case(b"CONNECT") {
            // libhtp reads a CONNECT target as `host:port`, whatever it holds.
            let mut h = strip_port(self.target.trim_ascii()).to_vec();
            h.make_ascii_lowercase();
            return Some(h);
        }
        if let (Some(authority), _) = split_absolute(self.target.trim_ascii_end()) {
            let host = authority.rsplit(|&b| b == b'@').next().unwrap_or(authority);
            let mut h = percent_decode(strip_port(host), false);
            h.make_ascii_lowercase();
            while h.last() == Some(&b'.') {
                h.pop();
            }
            return Some(h);
        }
        let value = joined(&self.headers, "host")?;
        let mut h = strip_port(&value).trim_ascii().to_vec();
        if !value.contains(&b':') {
            h.make_ascii_lowercase();
        }
        Some(h)
    }

    /// The port written with the host (the absolute URI's, else the Host header's), as
    /// libhtp's `request_port_number`: EVE's `http_port`.
    pub fn port(&self) -> Option<u16> {
        if self.placeholder {
            // libhtp's stand-in transaction is zeroed, and its port never parsed.
            return Some(0);
        }
        let connect = self.method.eq_ignore_ascii_case(b"CONNECT");
        let hostport = match split_absolute(self.target.trim_ascii_end()) {
            // A CONNECT target is `host:port`.
            _ if connect => self.target.clone(),
            (Some(authority), _) => authority
                .rsplit(|&b| b == b'@')
                .next()
                .unwrap_or(authority)
                .to_vec(),
            (None, _) => joined(&self.headers, "host")?,
        };
        let hostport = hostport.trim_ascii();
        // After an IPv6 literal's `]`, or after the only `:`.
        let after = match hostport.iter().rposition(|&b| b == b']') {
            Some(end) => hostport.get(end + 1..)?.strip_prefix(b":")?,
            None => {
                let colon = hostport.iter().position(|&b| b == b':')?;
                &hostport[colon + 1..]
            }
        };
        let digits = after.trim_ascii();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits)
            .ok()?
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
    }

    /// `http.host.raw`: the URI's normalised host when it has one, else the Host value.
    pub fn host_raw(&self) -> Option<Vec<u8>> {
        if split_absolute(self.target.trim_ascii_end()).0.is_some() {
            return self.host();
        }
        joined(&self.headers, "host")
    }

    /// `http.header_names`: `\r\n`, each name once in first-seen order with `\r\n`, `\r\n`.
    pub fn header_names(&self) -> Vec<u8> {
        header_names(&self.headers)
    }

    /// `http.header`: `Name: value\r\n` per name (repeats joined), Cookie left out.
    pub fn header_buffer(&self) -> Vec<u8> {
        header_buffer(&self.headers, "cookie")
    }
}

pub fn header_names(headers: &[Header]) -> Vec<u8> {
    let mut out = b"\r\n".to_vec();
    let mut seen: Vec<&[u8]> = Vec::new();
    for h in headers {
        if seen.iter().any(|s| s.eq_ignore_ascii_case(&h.name)) {
            continue;
        }
        seen.push(&h.name);
        out.extend_from_slice(&h.name);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

pub fn header_buffer(headers: &[Header], skip: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut seen: Vec<&[u8]> = Vec::new();
    for h in headers {
        if h.name.eq_ignore_ascii_case(skip.as_bytes())
            || seen.iter().any(|s| s.eq_ignore_ascii_case(&h.name))
        {
            continue;
        }
        seen.push(&h.name);
        let name = String::from_utf8_lossy(&h.name).to_string();
        out.extend_from_slice(&h.name);
        out.extend_from_slice(b": ");
        out.extend(joined(headers, &name).unwrap_or_default());
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (header value, parameter, value found) as Suricata's `HTTPParseContentTypeHeader`
    /// finds them.
    const PARAMETERS: &[(&str, &str, Option<&str>)] = &[
        (
            "multipart/form-data; boundary=XyZ",
            "boundary=",
            Some("XyZ"),
        ),
        (
            "multipart/form-data; BOUNDARY=\"a;b\"",
            "boundary=",
            Some("a;b"),
        ),
        (
            "  attachment; filename=\"report 1.pdf\"",
            "filename=",
            Some("report 1.pdf"),
        ),
        (
            "attachment;filename=x.zip; size=3",
            "filename=",
            Some("x.zip"),
        ),
        // The first part is a parameter like the others; a name alone is no value.
        ("filename=first", "filename=", Some("first")),
        ("attachment; filename=", "filename=", None),
        ("attachment; filename=\"\"", "filename=", Some("")),
        // A `;` inside quotes does not split; an escaped quote does not count.
        (
            "a; x=\"1;filename=no\"; filename=yes",
            "filename=",
            Some("yes"),
        ),
        ("text/plain", "boundary=", None),
        ("", "boundary=", None),
        ("   ", "boundary=", None),
    ];

    #[test]
    fn header_parameters_are_found_as_suricata_finds_them() {
        for (value, name, want) in PARAMETERS {
            assert_eq!(
                header_parameter(value.as_bytes(), name.as_bytes()),
                want.map(str::as_bytes),
                "{value:?} {name}"
            );
        }
    }

    #[test]
    fn only_a_valid_partial_content_range_is_a_range() {
        for (value, want) in [
            ("bytes 100-199/1000", Some((100, 199))),
            ("bytes  5-5/10", Some((5, 5))),
            ("items 1-2/3", Some((1, 2))),
            // The whole file, an unknown size, past the end, backwards, star forms.
            ("bytes 0-999/1000", None),
            ("bytes 1-2/*", None),
            ("bytes 5-10/10", None),
            ("bytes 9-5/10", None),
            ("bytes */1000", None),
            ("bytes 0-0/10", None),
            ("100-199/1000", None),
            ("bytes 1-99999999999999999999/1", None),
        ] {
            assert_eq!(partial_content_range(value.as_bytes()), want, "{value}");
        }
    }

    /// (request target, http.uri) as libhtp's IDS personality normalises them.
    const URIS: &[(&str, &str)] = &[
        ("/a/b?x=1", "/a/b?x=1"),
        ("/a%2Fb", "/a/b"),
        ("/a%5cb\\c", "/a/b/c"),
        ("//a///b", "/a/b"),
        ("/a/./b/../c", "/a/c"),
        ("/%2e%2e/%2E%2e/etc/passwd", "/etc/passwd"),
        ("/a%zz%4", "/a%zz%4"),
        ("/%u0041%u263a", "/A?"),
        ("/caf%C3%A9", "/caf\u{e9}"),
        ("/q?a=%2F%zz+b", "/q?a=/%zz+b"),
        ("/Mixed/CASE", "/Mixed/CASE"),
        ("http://Host.example:8080/p?q", "/p?q"),
        ("http://host.example", ""),
        ("/x#fr%41g", "/x#frAg"),
        ("/trailing   ", "/trailing"),
    ];

    /// EVE's `http_port`: the port written with the host, as libhtp's
    /// `request_port_number` (method, target, Host header, port).
    #[test]
    fn http_port_is_the_port_written_with_the_host() {
        let cases: &[(&str, &str, Option<&str>, Option<u16>)] = &[
            ("GET", "/", Some("files.example:80"), Some(80)),
            ("GET", "/", Some("files.example"), None),
            ("GET", "/", None, None),
            ("GET", "/", Some("[2001:db8::1]:8443"), Some(8443)),
            ("GET", "/", Some("[2001:db8::1]"), None),
            ("GET", "/", Some("host:"), None),
            ("GET", "/", Some("host:http"), None),
            (
                "GET",
                "http://uri.example:8080/p",
                Some("other:81"),
                Some(8080),
            ),
            (
                "CONNECT",
                "tunnel.example:443",
                Some("tunnel.example"),
                Some(443),
            ),
        ];
        for &(method, target, host, want) in cases {
            let req = Request {
                method: method.as_bytes().to_vec(),
                target: target.as_bytes().to_vec(),
                headers: host
                    .map(|h| Header {
                        name: b"Host".to_vec(),
                        value: h.as_bytes().to_vec(),
                    })
                    .into_iter()
                    .collect(),
                ..Request::default()
            };
            assert_eq!(req.port(), want, "{method} {target} Host {host:?}");
        }
    }

    #[test]
    fn uri_normalisation() {
        for (target, want) in URIS {
            let got = normalized_uri(target.as_bytes());
            let want: Vec<u8> = want.chars().map(|c| c as u32 as u8).collect();
            assert_eq!(got, want, "{target}: {}", String::from_utf8_lossy(&got));
        }
    }

    fn request(target: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: b"GET".to_vec(),
            target: target.as_bytes().to_vec(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: n.as_bytes().to_vec(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
            ..Request::default()
        }
    }

    #[test]
    fn host_buffers() {
        let r = request("/", &[("Host", "WWW.Example.COM")]);
        assert_eq!(r.host().as_deref(), Some(&b"www.example.com"[..]));
        let r = request("/", &[("Host", "WWW.Example.COM:8080")]);
        assert_eq!(
            r.host().as_deref(),
            Some(&b"WWW.Example.COM"[..]),
            "libhtp lower-cases only a host without a port"
        );
        assert_eq!(r.host_raw().as_deref(), Some(&b"WWW.Example.COM:8080"[..]));
        let r = request("http://Abs.Example.:81/x", &[("Host", "other.example")]);
        assert_eq!(
            r.host().as_deref(),
            Some(&b"abs.example"[..]),
            "the URI wins"
        );
        assert_eq!(r.host_raw().as_deref(), Some(&b"abs.example"[..]));
        let r = request("/", &[("Host", "[2001:DB8::1]:443")]);
        assert_eq!(r.host().as_deref(), Some(&b"[2001:DB8::1]"[..]));
        assert_eq!(request("/", &[]).host(), None);
    }

    #[test]
    fn header_lists() {
        let r = request(
            "/",
            &[
                ("Host", "a"),
                ("Cookie", "c=1"),
                ("Accept", " x "),
                ("accept", "y"),
            ],
        );
        assert_eq!(r.header_names(), b"\r\nHost\r\nCookie\r\nAccept\r\n\r\n");
        assert_eq!(r.header_buffer(), b"Host: a\r\nAccept: x, y\r\n");
        assert_eq!(joined(&r.headers, "cookie").as_deref(), Some(&b"c=1"[..]));
    }
}

/// libhtp's request flags that Suricata turns into app-layer events
/// (`HTPErrorCheckTxRequestFlags`), as libhtp 0.5 sets them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestFlags {
    /// `HTP_REQUEST_INVALID_T_E`: Transfer-Encoding without `chunked`, or chunked before
    /// HTTP/1.1.
    pub invalid_te: bool,
    /// `HTP_HOST_MISSING`: HTTP/1.1 or later without a Host header.
    pub host_missing: bool,
    /// `HTP_HOST_AMBIGUOUS`: the URI's host and the Host header differ.
    pub host_ambiguous: bool,
    /// `HTP_HOSTU_INVALID`: the URI's host or port is invalid.
    pub uri_host_invalid: bool,
    /// `HTP_HOSTH_INVALID`: the Host header's host or port is invalid.
    pub header_host_invalid: bool,
}

impl RequestFlags {
    pub fn any(&self) -> bool {
        self.invalid_te
            || self.host_missing
            || self.host_ambiguous
            || self.uri_host_invalid
            || self.header_host_invalid
    }
}

/// `htp_parse_port`: digits between optional whitespace, 1 to 65535.
fn parse_port(data: &[u8]) -> Option<u16> {
    let digits = data.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse::<u32>()
        .ok()
        .filter(|p| (1..65536).contains(p))
        .map(|p| p as u16)
}

/// `htp_parse_hostport`: the host (lower-cased when no port follows), the port, and
/// whether either part is invalid.
fn parse_hostport(value: &[u8]) -> (Option<Vec<u8>>, Option<u16>, bool) {
    let data = value.trim_ascii();
    if data.is_empty() {
        return (None, None, true);
    }
    if data[0] == b'[' {
        let Some(end) = data.iter().position(|&b| b == b']') else {
            return (None, None, true);
        };
        let host = data[..=end].to_vec();
        return match &data[end + 1..] {
            [] => (Some(host), None, false),
            [b':', rest @ ..] => {
                let port = parse_port(rest);
                (Some(host), port, port.is_none())
            }
            _ => (Some(host), None, true),
        };
    }
    match data.iter().position(|&b| b == b':') {
        None => (Some(data.to_ascii_lowercase()), None, false),
        Some(colon) => {
            let host = data[..colon].trim_ascii_end().to_vec();
            let port = parse_port(&data[colon + 1..]);
            (Some(host), port, port.is_none())
        }
    }
}

/// `htp_validate_hostname`: dot-separated labels of letters, digits, `-` and `_`, each
/// 1 to 63 bytes, 255 at most in all; or an IPv6 literal in brackets.
pub fn valid_hostname(host: &[u8]) -> bool {
    if host.is_empty() || host.len() > 255 {
        return false;
    }
    if host[0] == b'[' {
        let inner = &host[1..host.len() - 1];
        return host.len() >= 2
            && host.last() == Some(&b']')
            && std::str::from_utf8(inner).is_ok_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok());
    }
    // One trailing dot is allowed (libhtp stops after the last label's dot).
    let body = host.strip_suffix(b".").unwrap_or(host);
    !body.is_empty()
        && body.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

impl Request {
    /// The flags libhtp has once the request line is parsed, and once the headers are.
    pub fn libhtp_flags(&self) -> (RequestFlags, RequestFlags) {
        let mut line = RequestFlags::default();
        // The URI's host: a CONNECT target is `host:port`; an absolute URI's authority.
        let uri_host: Option<(Vec<u8>, Option<u16>)> =
            if self.method.eq_ignore_ascii_case(b"CONNECT") {
                let (host, port, invalid) = parse_hostport(&self.target);
                line.uri_host_invalid |= invalid;
                if let Some(h) = &host {
                    line.uri_host_invalid |= !valid_hostname(h);
                }
                host.map(|h| (h.to_ascii_lowercase(), port))
            } else if let (Some(authority), _) = split_absolute(self.target.trim_ascii_end()) {
                let hostport = authority.rsplit(|&b| b == b'@').next().unwrap_or(authority);
                let (raw_host, port_text) = match hostport.first() {
                    Some(b'[') => match hostport.iter().position(|&b| b == b']') {
                        Some(end) => (&hostport[..=end], hostport[end + 1..].strip_prefix(b":")),
                        None => (hostport, None),
                    },
                    _ => match hostport.iter().position(|&b| b == b':') {
                        Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
                        None => (hostport, None),
                    },
                };
                let mut host = percent_decode(raw_host, false);
                host.make_ascii_lowercase();
                while host.last() == Some(&b'.') {
                    host.pop();
                }
                let port = port_text.and_then(parse_port);
                line.uri_host_invalid |= port_text.is_some() && port.is_none();
                line.uri_host_invalid |= !valid_hostname(&host);
                Some((host, port))
            } else {
                None
            };
        let mut all = line;
        let te = joined(&self.headers, "transfer-encoding");
        if let Some(te) = &te {
            let chunked = te
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            all.invalid_te = !chunked || self.minor_version == 0 || self.no_protocol;
        }
        match joined(&self.headers, "host") {
            None => all.host_missing = self.minor_version >= 1 && !self.no_protocol,
            Some(value) => {
                let (host, port, invalid) = parse_hostport(&value);
                all.header_host_invalid |= invalid;
                match host {
                    Some(h) => {
                        all.header_host_invalid |= !valid_hostname(&h);
                        if let Some((uh, up)) = &uri_host {
                            let differ = !h.eq_ignore_ascii_case(uh)
                                || matches!((up, port), (Some(a), Some(b)) if *a != b);
                            all.host_ambiguous |= differ;
                        }
                    }
                    None => all.host_ambiguous |= uri_host.is_some(),
                }
            }
        }
        (line, all)
    }

    /// `request_auth_type == HTP_AUTH_UNRECOGNIZED`: an Authorization header whose
    /// scheme is not Basic, Digest or Bearer.
    pub fn auth_unrecognized(&self) -> bool {
        joined(&self.headers, "authorization").is_some_and(|v| {
            let v = v.trim_ascii_start();
            !["basic", "digest", "bearer"]
                .iter()
                .any(|s| v.len() >= s.len() && v[..s.len()].eq_ignore_ascii_case(s.as_bytes()))
        })
    }
}
