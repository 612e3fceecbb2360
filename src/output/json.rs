//! A small JSON object writer for the records written per flow and per alert: keys in a
//! fixed order straight into a line buffer. `serde_json` does the string escaping; numbers,
//! timestamps and addresses, which never need escaping, are written directly.

use std::net::IpAddr;

use crate::time::Timestamp;

/// Writes one JSON object into a buffer.
pub struct JsonObject<'b> {
    buf: &'b mut Vec<u8>,
    empty: bool,
}

impl<'b> JsonObject<'b> {
    pub fn begin(buf: &'b mut Vec<u8>) -> Self {
        buf.push(b'{');
        JsonObject { buf, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// A string value, escaped as JSON requires.
    pub fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        if value
            .bytes()
            .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
        {
            self.buf.push(b'"');
            self.buf.extend_from_slice(value.as_bytes());
            self.buf.push(b'"');
        } else if serde_json::to_writer(&mut *self.buf, value).is_err() {
            self.buf.extend_from_slice(b"\"\"");
        }
    }

    pub fn uint(&mut self, key: &str, value: u64) {
        self.key(key);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// An EVE timestamp string.
    pub fn timestamp(&mut self, key: &str, ts: Timestamp) {
        self.key(key);
        self.buf.push(b'"');
        match ts.eve_bytes() {
            Some(b) => self.buf.extend_from_slice(&b),
            None => self.buf.extend_from_slice(ts.eve().to_string().as_bytes()),
        }
        self.buf.push(b'"');
    }

    /// An address string in EVE's spelling.
    pub fn ip(&mut self, key: &str, ip: IpAddr) {
        self.key(key);
        self.buf.push(b'"');
        write_ip(self.buf, ip);
        self.buf.push(b'"');
    }

    /// An array of unsigned integers.
    pub fn uint_array(&mut self, key: &str, values: &[u16]) {
        self.key(key);
        self.buf.push(b'[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf
                .extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
        }
        self.buf.push(b']');
    }

    /// An array of strings.
    pub fn string_array(&mut self, key: &str, values: &[&str]) {
        self.key(key);
        if serde_json::to_writer(&mut *self.buf, values).is_err() {
            self.buf.extend_from_slice(b"[]");
        }
    }

    /// A nested object, written by `f`.
    pub fn object(&mut self, key: &str, f: impl FnOnce(&mut JsonObject<'_>)) {
        self.key(key);
        let mut inner = JsonObject::begin(self.buf);
        f(&mut inner);
        inner.end();
    }

    /// An array of `n` objects, the `i`th written by `f(i, ...)`.
    pub fn objects(&mut self, key: &str, n: usize, mut f: impl FnMut(usize, &mut JsonObject<'_>)) {
        self.key(key);
        self.buf.push(b'[');
        for i in 0..n {
            if i > 0 {
                self.buf.push(b',');
            }
            let mut inner = JsonObject::begin(self.buf);
            f(i, &mut inner);
            inner.end();
        }
        self.buf.push(b']');
    }

    /// A value that is already JSON.
    pub fn raw(&mut self, key: &str, json: &[u8]) {
        self.key(key);
        self.buf.extend_from_slice(json);
    }

    pub fn end(self) {
        self.buf.push(b'}');
    }
}

/// EVE's address spelling: dotted quad, or IPv6 fully expanded in lower case.
pub fn write_ip(buf: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            for (i, octet) in a.octets().iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                buf.extend_from_slice(itoa::Buffer::new().format(*octet).as_bytes());
            }
        }
        IpAddr::V6(a) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for (i, seg) in a.segments().iter().enumerate() {
                if i > 0 {
                    buf.push(b':');
                }
                for n in 0..4 {
                    buf.push(HEX[usize::from((seg >> (12 - 4 * n)) & 0xf)]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_nest_and_escape() {
        let mut buf = Vec::new();
        let mut o = JsonObject::begin(&mut buf);
        o.string("a", "plain");
        o.string("b", "quote\" and \\ and \n");
        o.uint("n", 42);
        o.int("m", -3);
        o.boolean("t", true);
        o.uint_array("v", &[1, 10, 100]);
        o.object("o", |inner| inner.uint("x", 1));
        o.ip("ip", "fd00::5".parse().expect("literal"));
        o.timestamp("ts", Timestamp::new(0, 1_000));
        o.end();
        let text = String::from_utf8(buf).expect("utf8");
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["b"], "quote\" and \\ and \n");
        assert_eq!(v["ip"], "fd00:0000:0000:0000:0000:0000:0000:0005");
        assert_eq!(v["ts"], "1970-01-01T00:00:00.000001+0000");
        assert!(text.starts_with(r#"{"a":"plain","b":"#));
        assert!(text.ends_with(r#","v":[1,10,100],"o":{"x":1},"ip":"fd00:0000:0000:0000:0000:0000:0000:0005","ts":"1970-01-01T00:00:00.000001+0000"}"#));
    }
}
