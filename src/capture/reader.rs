//! Streaming reader over one capture file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use super::{CaptureError, CaptureErrorKind, CaptureFormat, MAX_RECORD_LEN};
use crate::time::Timestamp;

/// Initial read buffer. It doubles when a block does not fit, up to `MAX_BUFFER`: room
/// for the largest legal record plus block framing and options, so memory stays
/// constant per open file whatever its size.
const INITIAL_BUFFER: usize = 256 * 1024;
const MAX_BUFFER: usize = 4 * 1024 * 1024;

/// pcapng Obsolete Packet Block type, which `pcap-parser` hands over as unknown.
const OPB_TYPE: u32 = 2;

/// One captured frame, borrowed from the reader until the next call.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Link-layer type (pcap LINKTYPE_* value) of the frame's interface.
    pub linktype: u32,
    pub ts: Timestamp,
    /// Captured bytes (what Suricata counts as the packet length).
    pub data: &'a [u8],
    /// Length on the wire.
    pub orig_len: u32,
    /// 1-based number of this packet within its file.
    pub number: u64,
    /// Byte offset of the record or block in the file.
    pub offset: u64,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Timestamp units per second; `None` when the IDB's resolution is unusable.
    units_per_sec: Option<u64>,
    offset_secs: i64,
}

/// What the classic pcap header says about the records.
#[derive(Default)]
struct PcapFormat {
    linktype: u32,
    nanos: bool,
    big_endian: bool,
}

/// The current pcapng section: its byte order and interfaces.
#[derive(Default)]
struct NgSection {
    interfaces: Vec<Interface>,
    big_endian: bool,
}

/// Progress through the file, shared by both formats.
struct Cursor<'a> {
    /// Bytes of the last returned block, consumed on the next call.
    pending: &'a mut usize,
    packets: &'a mut u64,
    path: &'a Path,
}

/// The capture's bytes: the header already read to sniff the format, then the rest of
/// the input (read once, so a pipe or FIFO works as well as a file). Its `read` fills the
/// buffer unless the input ends: pcap-parser reads a header or a block with one call,
/// which a pipe, or the sniffed bytes chained before the file, would answer short.
struct Source(std::io::Chain<std::io::Cursor<Vec<u8>>, Box<dyn Read + Send>>);

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.0.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) if filled > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

enum Inner {
    Pcap {
        reader: LegacyPcapReader<Source>,
        capacity: usize,
        format: PcapFormat,
    },
    /// `last_ts`: time of the previous packet (Simple Packet Blocks carry none).
    PcapNg {
        reader: PcapNGReader<Source>,
        capacity: usize,
        section: NgSection,
        last_ts: Timestamp,
    },
}

/// Reads one capture file frame by frame in constant memory.
pub struct CaptureReader {
    path: PathBuf,
    pcap_linktype: Option<u32>,
    inner: Inner,
    format: CaptureFormat,
    /// Bytes of the last returned block, consumed on the next call.
    pending: usize,
    packets: u64,
    finished: bool,
}

impl CaptureReader {
    /// Opens a capture file, sniffing its format from the magic number.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        let file =
            File::open(path).map_err(|e| CaptureError::new(path, CaptureErrorKind::Io(e)))?;
        Self::from_reader(path, Box::new(file))
    }

    /// Reads a capture held in memory; `name` stands for its path in errors.
    pub fn from_bytes(name: &Path, bytes: &[u8]) -> Result<CaptureReader, CaptureError> {
        Self::from_reader(name, Box::new(std::io::Cursor::new(bytes.to_vec())))
    }

    /// Reads a capture from any byte stream, front to back; `path` names it in errors.
    pub fn from_reader(
        path: &Path,
        mut input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        let err = |kind| CaptureError::new(path, kind);
        let mut head = [0u8; 24];
        let mut got = 0;
        while got < head.len() {
            match input.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(err(CaptureErrorKind::Io(e))),
            }
        }
        if got == 0 {
            return Err(err(CaptureErrorKind::Empty));
        }
        if got < 4 {
            return Err(err(CaptureErrorKind::TruncatedHeader));
        }
        let magic = [head[0], head[1], head[2], head[3]];
        let format = match u32::from_le_bytes(magic) {
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 | 0x34cd_b2a1 => {
                CaptureFormat::Pcap
            }
            0x0a0d_0d0a => CaptureFormat::PcapNg,
            other => {
                return Err(err(CaptureErrorKind::BadMagic(u32::from_be_bytes(
                    other.to_le_bytes(),
                ))))
            }
        };
        let file = Source(std::io::Cursor::new(head[..got].to_vec()).chain(input));
        let header_err = |e: PcapError<&[u8]>| match e {
            PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
                err(CaptureErrorKind::TruncatedHeader)
            }
            PcapError::ReadError => err(CaptureErrorKind::Io(std::io::Error::other("read failed"))),
            other => err(CaptureErrorKind::BadHeader(other.to_string())),
        };
        let inner = match format {
            CaptureFormat::Pcap => {
                let reader = LegacyPcapReader::new(INITIAL_BUFFER, file).map_err(header_err)?;
                Inner::Pcap {
                    reader,
                    capacity: INITIAL_BUFFER,
                    format: PcapFormat::default(),
                }
            }
            CaptureFormat::PcapNg => {
                let reader = PcapNGReader::new(INITIAL_BUFFER, file).map_err(header_err)?;
                Inner::PcapNg {
                    reader,
                    capacity: INITIAL_BUFFER,
                    section: NgSection::default(),
                    last_ts: Timestamp::ZERO,
                }
            }
        };
        // Classic pcap: one link type for the file, known from the header.
        let pcap_linktype = match (format, got) {
            (CaptureFormat::Pcap, 24) => {
                let big = matches!(
                    u32::from_le_bytes(magic),
                    0xd4c3_b2a1 | 0x4d3c_b2a1 | 0x34cd_b2a1
                );
                read_u32(&head, 20, big)
            }
            _ => None,
        };
        Ok(CaptureReader {
            path: path.to_path_buf(),
            pcap_linktype,
            inner,
            format,
            pending: 0,
            packets: 0,
            finished: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The link type of a classic pcap file (pcapng has one per interface).
    pub fn pcap_linktype(&self) -> Option<u32> {
        self.pcap_linktype
    }

    /// Packets returned so far.
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// The next frame, `Ok(None)` at the end of the file. After an error that is not
    /// [`CaptureError::is_recoverable`], the reader returns `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let cursor = Cursor {
            pending: &mut self.pending,
            packets: &mut self.packets,
            path: &self.path,
        };
        let result = match &mut self.inner {
            Inner::Pcap {
                reader,
                capacity,
                format,
            } => next_pcap(reader, capacity, format, cursor),
            Inner::PcapNg {
                reader,
                capacity,
                section,
                last_ts,
            } => next_pcapng(reader, capacity, section, last_ts, cursor),
        };
        match result {
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                if !e.is_recoverable() {
                    self.finished = true;
                }
                Err(e)
            }
            Ok(Some(frame)) => {
                // Re-borrow from the reader: the frame's bytes live in its buffer.
                let data = buffer_of(&self.inner);
                let start = frame.data_start;
                Ok(Some(Frame {
                    linktype: frame.linktype,
                    ts: frame.ts,
                    data: &data[start..start + frame.data_len],
                    orig_len: frame.orig_len,
                    number: frame.number,
                    offset: frame.offset,
                }))
            }
        }
    }
}

/// A frame located inside the reader's buffer (offsets, so that the borrow can be
/// re-taken after the block has been dropped).
struct Located {
    linktype: u32,
    ts: Timestamp,
    data_start: usize,
    data_len: usize,
    orig_len: u32,
    number: u64,
    offset: u64,
}

fn buffer_of(inner: &Inner) -> &[u8] {
    match inner {
        Inner::Pcap { reader, .. } => reader.data(),
        Inner::PcapNg { reader, .. } => reader.data(),
    }
}

/// Loops `next()`/`refill()` until a whole block is available; maps the crate's errors.
/// `$refuse` sees the buffered bytes first and may refuse the block they start.
macro_rules! next_block {
    ($reader:expr, $capacity:expr, $path:expr, $packets:expr, $classify:expr, $refuse:expr) => {{
        loop {
            if let Some(kind) = $refuse($reader.data()) {
                return Err(CaptureError {
                    path: $path.to_path_buf(),
                    packet: Some(*$packets + 1),
                    offset: Some($reader.consumed() as u64),
                    kind,
                });
            }
            // next() parses in place without moving the buffer, so frame data can be
            // located relative to this address afterwards.
            let base = $reader.data().as_ptr() as usize;
            match $reader.next() {
                Ok(x) => break Some((base, x)),
                Err(PcapError::Eof) => break None,
                Err(PcapError::Incomplete(_)) => {
                    if $reader.refill().is_err() {
                        return Err(CaptureError {
                            path: $path.to_path_buf(),
                            packet: Some(*$packets + 1),
                            offset: Some($reader.consumed() as u64),
                            kind: CaptureErrorKind::Io(std::io::Error::other("read failed")),
                        });
                    }
                }
                Err(PcapError::UnexpectedEof) => {
                    let kind = $classify($reader.data(), true);
                    return Err(CaptureError {
                        path: $path.to_path_buf(),
                        packet: Some(*$packets + 1),
                        offset: Some($reader.consumed() as u64),
                        kind,
                    });
                }
                Err(PcapError::BufferTooSmall) if *$capacity < MAX_BUFFER => {
                    *$capacity *= 2;
                    $reader.grow(*$capacity);
                    if $reader.refill().is_err() {
                        return Err(CaptureError {
                            path: $path.to_path_buf(),
                            packet: Some(*$packets + 1),
                            offset: Some($reader.consumed() as u64),
                            kind: CaptureErrorKind::Io(std::io::Error::other("read failed")),
                        });
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    let kind = $classify($reader.data(), false);
                    return Err(CaptureError {
                        path: $path.to_path_buf(),
                        packet: Some(*$packets + 1),
                        offset: Some($reader.consumed() as u64),
                        kind,
                    });
                }
                Err(e) => {
                    let msg = match &e {
                        PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => {
                            format!("unparsable block ({k:?})")
                        }
                        other => other.to_string(),
                    };
                    return Err(CaptureError {
                        path: $path.to_path_buf(),
                        packet: Some(*$packets + 1),
                        offset: Some($reader.consumed() as u64),
                        kind: CaptureErrorKind::CorruptBlock(msg),
                    });
                }
            }
        }
    }};
}

fn next_pcap(
    reader: &mut LegacyPcapReader<Source>,
    capacity: &mut usize,
    format: &mut PcapFormat,
    cursor: Cursor<'_>,
) -> Result<Option<Located>, CaptureError> {
    let PcapFormat {
        linktype,
        nanos,
        big_endian,
    } = format;
    let Cursor {
        pending,
        packets,
        path,
    } = cursor;
    loop {
        // Without shifting: the buffer is compacted only when refilled, so only a
        // partial record is ever moved, not half the buffer at each consume.
        if *pending > 0 {
            reader.consume_noshift(std::mem::take(pending));
        }
        let offset = reader.consumed() as u64;
        // A record that cannot be completed: a length beyond any legal record is corrupt,
        // otherwise the file ends inside the record.
        let be = *big_endian;
        let classify = |data: &[u8], eof: bool| match read_u32(data, 8, be) {
            Some(len) if len > MAX_RECORD_LEN => CaptureErrorKind::RecordTooLong {
                len,
                max: MAX_RECORD_LEN,
            },
            _ if eof => CaptureErrorKind::TruncatedRecord,
            len => CaptureErrorKind::RecordTooLong {
                len: len.unwrap_or(0),
                max: MAX_RECORD_LEN,
            },
        };
        let accept = |_: &[u8]| None;
        let Some((base, (size, block))) =
            next_block!(reader, capacity, path, packets, classify, accept)
        else {
            return Ok(None);
        };
        *pending = size;
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                *linktype = header.network.0 as u32;
                *nanos = header.is_nanosecond_precision();
                *big_endian = header.is_bigendian();
            }
            PcapBlockOwned::Legacy(rec) => {
                *packets += 1;
                if rec.caplen > MAX_RECORD_LEN {
                    return Err(CaptureError {
                        path: path.to_path_buf(),
                        packet: Some(*packets),
                        offset: Some(offset),
                        kind: CaptureErrorKind::RecordTooLong {
                            len: rec.caplen,
                            max: MAX_RECORD_LEN,
                        },
                    });
                }
                let sub = if *nanos {
                    rec.ts_usec
                } else {
                    rec.ts_usec.saturating_mul(1000)
                };
                let data_start = (rec.data.as_ptr() as usize).saturating_sub(base);
                return Ok(Some(Located {
                    linktype: *linktype,
                    ts: Timestamp::new(i64::from(rec.ts_sec), sub),
                    data_start,
                    data_len: rec.data.len(),
                    orig_len: rec.origlen,
                    number: *packets,
                    offset,
                }));
            }
            PcapBlockOwned::NG(_) => {
                return Err(CaptureError {
                    path: path.to_path_buf(),
                    packet: Some(*packets + 1),
                    offset: Some(offset),
                    kind: CaptureErrorKind::CorruptBlock("pcapng block inside a pcap file".into()),
                })
            }
        }
    }
}

/// Type of the pcapng Section Header Block (the same in both byte orders).
const SHB_TYPE: u32 = 0x0a0d_0d0a;
/// Block type, and the total length before and after the body.
const NG_BLOCK_FRAMING: u32 = 12;

/// A pcapng block claiming fewer bytes than its own framing is corrupt. pcap-parser 0.17
/// checks a Process Information Block's length against 4, then subtracts the 12 bytes of
/// framing from it, which overflows (a panic where overflow checks are on, a wrapped
/// length elsewhere); so the length is checked here first. A Section Header Block's byte
/// order is its own, and pcap-parser checks its length against its 28 bytes.
fn short_ng_block(data: &[u8], big_endian: bool) -> Option<CaptureErrorKind> {
    let block_type = read_u32(data, 0, false)?;
    let len = read_u32(data, 4, big_endian)?;
    (block_type != SHB_TYPE && len < NG_BLOCK_FRAMING).then(|| {
        CaptureErrorKind::CorruptBlock(format!(
            "block length {len} is shorter than a block's {NG_BLOCK_FRAMING} bytes of framing"
        ))
    })
}

fn read_u32(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    let raw = [s[0], s[1], s[2], s[3]];
    Some(if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

fn read_u16(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    let raw = [s[0], s[1]];
    Some(if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

fn next_pcapng(
    reader: &mut PcapNGReader<Source>,
    capacity: &mut usize,
    section: &mut NgSection,
    last_ts: &mut Timestamp,
    cursor: Cursor<'_>,
) -> Result<Option<Located>, CaptureError> {
    let NgSection {
        interfaces,
        big_endian,
    } = section;
    let Cursor {
        pending,
        packets,
        path,
    } = cursor;
    loop {
        // Without shifting: the buffer is compacted only when refilled, so only a
        // partial record is ever moved, not half the buffer at each consume.
        if *pending > 0 {
            reader.consume_noshift(std::mem::take(pending));
        }
        let offset = reader.consumed() as u64;
        let be = *big_endian;
        let classify = |data: &[u8], eof: bool| {
            if eof {
                return CaptureErrorKind::TruncatedRecord;
            }
            let len = read_u32(data, 4, be).unwrap_or(0);
            CaptureErrorKind::CorruptBlock(format!(
                "block length {len} exceeds the largest block this reader accepts ({MAX_BUFFER} bytes)"
            ))
        };
        let refuse = |data: &[u8]| short_ng_block(data, be);
        let Some((base, (size, block))) =
            next_block!(reader, capacity, path, packets, classify, refuse)
        else {
            return Ok(None);
        };
        *pending = size;
        let corrupt = |packets: u64, msg: String| CaptureError {
            path: path.to_path_buf(),
            packet: Some(packets + 1),
            offset: Some(offset),
            kind: CaptureErrorKind::CorruptBlock(msg),
        };
        let PcapBlockOwned::NG(block) = block else {
            return Err(corrupt(*packets, "pcap record inside a pcapng file".into()));
        };
        // (interface id, ts ticks or None, captured data, original length)
        let (if_id, ticks, data, orig_len): (u32, Option<u64>, &[u8], u32) = match block {
            Block::SectionHeader(shb) => {
                *big_endian = shb.big_endian();
                interfaces.clear();
                continue;
            }
            Block::InterfaceDescription(idb) => {
                interfaces.push(Interface {
                    linktype: idb.linktype.0 as u32,
                    units_per_sec: idb.ts_resolution(),
                    offset_secs: idb.ts_offset(),
                });
                continue;
            }
            Block::EnhancedPacket(epb) => {
                let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                if epb.caplen as usize > epb.data.len() {
                    return Err(corrupt(
                        *packets,
                        format!(
                            "captured length {} exceeds the block's data ({} bytes)",
                            epb.caplen,
                            epb.data.len()
                        ),
                    ));
                }
                let data = &epb.data[..epb.caplen as usize];
                (epb.if_id, Some(ticks), data, epb.origlen)
            }
            Block::SimplePacket(spb) => {
                let n = (spb.origlen as usize).min(spb.data.len());
                (0, None, &spb.data[..n], spb.origlen)
            }
            Block::Unknown(ub)
                if ub.block_type == OPB_TYPE || ub.block_type == OPB_TYPE.swap_bytes() =>
            {
                // interface_id u16, drops u16, ts_high, ts_low, caplen, len, data
                let d = ub.data;
                let fields = (
                    read_u16(d, 0, be),
                    read_u32(d, 4, be),
                    read_u32(d, 8, be),
                    read_u32(d, 12, be),
                    read_u32(d, 16, be),
                );
                let (Some(if_id), Some(hi), Some(lo), Some(caplen), Some(len)) = fields else {
                    return Err(corrupt(*packets, "obsolete packet block too short".into()));
                };
                let Some(data) = d.get(20..20 + caplen as usize) else {
                    return Err(corrupt(
                        *packets,
                        "obsolete packet block data exceeds its block".into(),
                    ));
                };
                (
                    u32::from(if_id),
                    Some((u64::from(hi) << 32) | u64::from(lo)),
                    data,
                    len,
                )
            }
            // Name resolution, statistics, secrets, custom and unknown blocks carry no packets.
            _ => continue,
        };
        *packets += 1;
        let Some(iface) = interfaces.get(if_id as usize).copied() else {
            return Err(CaptureError {
                path: path.to_path_buf(),
                packet: Some(*packets),
                offset: Some(offset),
                kind: CaptureErrorKind::UnknownInterface(if_id),
            });
        };
        if data.len() > MAX_RECORD_LEN as usize {
            return Err(CaptureError {
                path: path.to_path_buf(),
                packet: Some(*packets),
                offset: Some(offset),
                kind: CaptureErrorKind::RecordTooLong {
                    len: data.len() as u32,
                    max: MAX_RECORD_LEN,
                },
            });
        }
        let ts = match (ticks, iface.units_per_sec) {
            (Some(t), Some(units)) => Timestamp::from_ticks(t, units, iface.offset_secs),
            (Some(t), None) => Timestamp::from_ticks(t, 1_000_000, iface.offset_secs),
            (None, _) => *last_ts,
        };
        *last_ts = ts;
        let data_start = (data.as_ptr() as usize).saturating_sub(base);
        return Ok(Some(Located {
            linktype: iface.linktype,
            ts,
            data_start,
            data_len: data.len(),
            orig_len,
            number: *packets,
            offset,
        }));
    }
}
