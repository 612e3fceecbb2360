//! DNS messages over UDP (one per datagram) and TCP (two-byte length prefix, any split):
//! the header, the questions (`dns.query` is each question's name) and the answers.
//! Names are the label bytes as sent joined by `.`, without the trailing dot; compression
//! pointers are followed up to a hop limit, so a looping pointer is an error, not a hang.

use thiserror::Error;

/// Pointer hops allowed while reading one name.
pub const MAX_POINTER_HOPS: usize = 255;
/// Longest name kept (the wire limit is 255; hostile data may claim more). Suricata's
/// `MAX_NAME_LEN`.
pub const MAX_NAME: usize = 1025;
/// Default of the DNS transactions kept per flow
/// (`app-layer.protocols.dns.rulesim.max-tx`).
pub const DEFAULT_MAX_TX: usize = 256;

/// How often DNS parsing reached its limits (summed into `stats.json`,
/// `app_limits.dns`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DnsLimitHits {
    /// Messages skipped for a name longer than 1,025 bytes.
    pub name_too_long: u64,
    /// Messages skipped for a name that follows more than 255 compression pointers.
    pub pointer_hops_exceeded: u64,
    /// Transactions dropped (oldest first) to keep `max-tx` per flow.
    pub tx_dropped: u64,
}

impl DnsLimitHits {
    pub fn add(&mut self, o: &DnsLimitHits) {
        self.name_too_long += o.name_too_long;
        self.pointer_hops_exceeded += o.pointer_hops_exceeded;
        self.tx_dropped += o.tx_dropped;
    }

    /// Counts a parse error that is a limit.
    pub fn count(&mut self, e: &DnsError) {
        match e {
            DnsError::NameTooLong => self.name_too_long += 1,
            DnsError::BadPointer => self.pointer_hops_exceeded += 1,
            DnsError::ShortHeader | DnsError::Truncated | DnsError::BadLabel(_) => {}
        }
    }
}

#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum DnsError {
    #[error("DNS message shorter than its 12-byte header")]
    ShortHeader,
    #[error("DNS message truncated inside a record")]
    Truncated,
    #[error("DNS name compression pointers loop")]
    BadPointer,
    #[error("DNS name longer than {MAX_NAME} bytes")]
    NameTooLong,
    #[error("DNS label type 0x{0:02x} is not supported")]
    BadLabel(u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: Vec<u8>,
    pub rrtype: u16,
    pub rrclass: u16,
}

/// An answer's data, decoded for the types Suricata 7.0.10 decodes (dns/parser.rs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rdata {
    A([u8; 4]),
    Aaaa([u8; 16]),
    /// An A or AAAA record whose data is not 4 or 16 bytes long (Suricata logs an
    /// empty `rdata`).
    BadAddress,
    /// CNAME, NS, PTR: a name.
    Name(Vec<u8>),
    Mx {
        preference: u16,
        exchange: Vec<u8>,
    },
    /// One character-string of a TXT record (a record with several strings is one
    /// answer per string, as Suricata splits it).
    Txt(Vec<u8>),
    Null(Vec<u8>),
    Soa(Soa),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: Vec<u8>,
    },
    Sshfp {
        algo: u8,
        fp_type: u8,
        fingerprint: Vec<u8>,
    },
    Other(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Soa {
    pub mname: Vec<u8>,
    pub rname: Vec<u8>,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub name: Vec<u8>,
    pub rrtype: u16,
    pub rrclass: u16,
    pub ttl: u32,
    pub data: Rdata,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    pub flags: u16,
    pub questions: Vec<Question>,
    pub answers: Vec<Answer>,
    /// The authority section (Suricata logs it as `authorities`).
    pub authorities: Vec<Answer>,
}

impl Message {
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }

    pub fn rcode(&self) -> u8 {
        (self.flags & 0x0f) as u8
    }
}

fn u16_at(buf: &[u8], at: usize) -> Result<u16, DnsError> {
    buf.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(DnsError::Truncated)
}

fn u32_at(buf: &[u8], at: usize) -> Result<u32, DnsError> {
    buf.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(DnsError::Truncated)
}

/// Reads the name at `at`; returns it and the offset after it (after the first pointer,
/// when the name is compressed).
fn name_at(buf: &[u8], mut at: usize) -> Result<(Vec<u8>, usize), DnsError> {
    let mut name = Vec::new();
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *buf.get(at).ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((name, end.unwrap_or(at + 1)));
            }
            0x00 => {
                let label = buf
                    .get(at + 1..at + 1 + usize::from(len))
                    .ok_or(DnsError::Truncated)?;
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(label);
                if name.len() > MAX_NAME {
                    return Err(DnsError::NameTooLong);
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let target = usize::from(u16_at(buf, at)? & 0x3fff);
                hops += 1;
                // Suricata follows pointers either way, up to a hop limit.
                if hops > MAX_POINTER_HOPS {
                    return Err(DnsError::BadPointer);
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            other => return Err(DnsError::BadLabel(other)),
        }
    }
}

/// Parses one DNS message.
pub fn parse_message(buf: &[u8]) -> Result<Message, DnsError> {
    if buf.len() < 12 {
        return Err(DnsError::ShortHeader);
    }
    let id = u16_at(buf, 0)?;
    let flags = u16_at(buf, 2)?;
    let qdcount = u16_at(buf, 4)?;
    let ancount = u16_at(buf, 6)?;
    let mut at = 12;
    let mut questions = Vec::new();
    for _ in 0..qdcount {
        let (name, next) = name_at(buf, at)?;
        let rrtype = u16_at(buf, next)?;
        let rrclass = u16_at(buf, next + 2)?;
        questions.push(Question {
            name,
            rrtype,
            rrclass,
        });
        at = next + 4;
    }
    let nscount = u16_at(buf, 8)?;
    let (answers, at) = records(buf, at, ancount)?;
    let (authorities, _) = records(buf, at, nscount)?;
    Ok(Message {
        id,
        flags,
        questions,
        answers,
        authorities,
    })
}

/// Reads `count` resource records from `at`; returns them and the offset after them.
fn records(buf: &[u8], mut at: usize, count: u16) -> Result<(Vec<Answer>, usize), DnsError> {
    let mut out = Vec::new();
    for _ in 0..count {
        let (name, next) = name_at(buf, at)?;
        let rrtype = u16_at(buf, next)?;
        let rrclass = u16_at(buf, next + 2)?;
        let ttl = u32_at(buf, next + 4)?;
        let rdlen = usize::from(u16_at(buf, next + 8)?);
        let start = next + 10;
        let end = start + rdlen;
        let rdata = buf.get(start..end).ok_or(DnsError::Truncated)?;
        let mut push = |data| {
            out.push(Answer {
                name: name.clone(),
                rrtype,
                rrclass,
                ttl,
                data,
            })
        };
        // Names inside the data may point anywhere in the message (compression), so
        // they are read from the message; fixed fields must lie within the data.
        let field16 = |at: usize| {
            if at + 2 <= end {
                u16_at(buf, at)
            } else {
                Err(DnsError::Truncated)
            }
        };
        match rrtype {
            1 | 28 => push(match rdata.len() {
                4 => Rdata::A([rdata[0], rdata[1], rdata[2], rdata[3]]),
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(rdata);
                    Rdata::Aaaa(a)
                }
                _ => Rdata::BadAddress,
            }),
            2 | 5 | 12 => push(Rdata::Name(name_at(buf, start)?.0)),
            15 => push(Rdata::Mx {
                preference: field16(start)?,
                exchange: name_at(buf, start + 2)?.0,
            }),
            6 => {
                let (mname, after) = name_at(buf, start)?;
                let (rname, after) = name_at(buf, after)?;
                if after + 20 > end {
                    return Err(DnsError::Truncated);
                }
                let int = |i: usize| u32_at(buf, after + 4 * i);
                push(Rdata::Soa(Soa {
                    mname,
                    rname,
                    serial: int(0)?,
                    refresh: int(1)?,
                    retry: int(2)?,
                    expire: int(3)?,
                    minimum: int(4)?,
                }));
            }
            33 => push(Rdata::Srv {
                priority: field16(start)?,
                weight: field16(start + 2)?,
                port: field16(start + 4)?,
                target: name_at(buf, start + 6)?.0,
            }),
            // At least one character-string; a string cut short ends the list.
            16 => {
                let mut rest = rdata;
                let mut strings = 0;
                while let Some((&len, tail)) = rest.split_first() {
                    let Some(string) = tail.get(..usize::from(len)) else {
                        break;
                    };
                    push(Rdata::Txt(string.to_vec()));
                    strings += 1;
                    rest = &tail[usize::from(len)..];
                }
                if strings == 0 {
                    return Err(DnsError::Truncated);
                }
            }
            10 => push(Rdata::Null(rdata.to_vec())),
            44 => match rdata {
                [algo, fp_type, fingerprint @ ..] => push(Rdata::Sshfp {
                    algo: *algo,
                    fp_type: *fp_type,
                    fingerprint: fingerprint.to_vec(),
                }),
                _ => return Err(DnsError::Truncated),
            },
            _ => push(Rdata::Other(rdata.to_vec())),
        }
        at = end;
    }
    Ok((out, at))
}

/// Whether a datagram or stream start looks like DNS (for protocol detection): a header
/// with a standard or notify opcode, at most a handful of questions, and a first question
/// that parses.
pub fn probe(buf: &[u8]) -> bool {
    if buf.len() < 12 {
        return false;
    }
    let flags = u16::from_be_bytes([buf[2], buf[3]]);
    let qdcount = u16::from_be_bytes([buf[4], buf[5]]);
    let opcode = (flags >> 11) & 0x0f;
    (1..=16).contains(&qdcount)
        && matches!(opcode, 0 | 4 | 5)
        && name_at(buf, 12).is_ok_and(|(_, next)| next + 4 <= buf.len())
}

/// The most bytes [`TcpReader`] holds between calls: a length prefix and a message short
/// of its last byte.
pub const MAX_TCP_BUFFERED: usize = 2 + 65_535 - 1;

/// DNS over TCP: messages behind a two-byte length, in any split of the stream.
#[derive(Clone, Debug, Default)]
pub struct TcpReader {
    pending: Vec<u8>,
}

impl TcpReader {
    /// Bytes of an incomplete message held until more arrive.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// The complete messages in `data` (with what earlier calls left over).
    pub fn feed(&mut self, data: &[u8]) -> Vec<Result<Message, DnsError>> {
        self.pending.extend_from_slice(data);
        let mut out = Vec::new();
        let mut at = 0;
        while self.pending.len() - at >= 2 {
            let len = usize::from(u16::from_be_bytes([self.pending[at], self.pending[at + 1]]));
            if self.pending.len() - at < 2 + len {
                break;
            }
            out.push(parse_message(&self.pending[at + 2..at + 2 + len]));
            at += 2 + len;
        }
        // The length prefix caps what is held at 65,537 bytes.
        self.pending.drain(..at);
        out
    }
}

/// The record type's name as Suricata 7.0.10 writes it (`dns_rrtype_string`, with its
/// spellings: `ND` for MD, `NSAPPT`, `CDSNKEY`); the number for the types it does not
/// name (SVCB, CAA, AXFR among them).
pub fn rrtype_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        3 => "ND",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAPPT",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDSNKEY",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        _ => return t.to_string(),
    };
    name.to_string()
}
