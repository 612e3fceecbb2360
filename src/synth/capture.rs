//! Capture writers for generated traffic: classic pcap (µs or ns, either byte order) and
//! pcapng (several interfaces, EPB/SPB/OPB). Blocks are encoded by `pcap-parser`.

use std::borrow::Cow;
use std::io::{self, Write};

use pcap_parser::pcapng::{
    EnhancedPacketBlock, InterfaceDescriptionBlock, OptionCode, PcapNGOption, SectionHeaderBlock,
    SimplePacketBlock,
};
use pcap_parser::{LegacyPcapBlock, Linktype, PcapHeader, ToVec};

use crate::time::Timestamp;

fn gen_err(e: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("pcap encoding failed: {e:?}"))
}

/// Byte order of a classic pcap file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

/// Writes a classic pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
    order: ByteOrder,
}

impl<W: Write> PcapWriter<W> {
    /// A little-endian, microsecond pcap with link type `linktype`.
    pub fn new(out: W, linktype: u32) -> io::Result<Self> {
        Self::with_format(out, linktype, false, ByteOrder::Little)
    }

    pub fn with_format(
        mut out: W,
        linktype: u32,
        nanos: bool,
        order: ByteOrder,
    ) -> io::Result<Self> {
        let mut header = PcapHeader::new();
        header.magic_number = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        header.snaplen = 262_144;
        header.network = Linktype(linktype as i32);
        let mut bytes = header.to_vec_raw().map_err(gen_err)?;
        if order == ByteOrder::Big {
            swap_fields(&mut bytes, &[4, 2, 2, 4, 4, 4, 4]);
        }
        out.write_all(&bytes)?;
        Ok(PcapWriter { out, nanos, order })
    }

    /// Appends one packet captured whole.
    pub fn packet(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        self.packet_with_len(ts, data, data.len() as u32)
    }

    /// Appends one packet whose original length was `orig_len`.
    pub fn packet_with_len(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let sub = if self.nanos { ts.nanos() } else { ts.micros() };
        let block = LegacyPcapBlock {
            ts_sec: ts.secs() as u32,
            ts_usec: sub,
            caplen: data.len() as u32,
            origlen: orig_len,
            data,
        };
        let mut bytes = block.to_vec_raw().map_err(gen_err)?;
        if self.order == ByteOrder::Big {
            swap_fields(&mut bytes, &[4, 4, 4, 4]);
        }
        self.out.write_all(&bytes)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Reverses the bytes of consecutive fields of the given widths.
fn swap_fields(bytes: &mut [u8], widths: &[usize]) {
    let mut at = 0;
    for w in widths {
        if let Some(field) = bytes.get_mut(at..at + w) {
            field.reverse();
        }
        at += w;
    }
}

/// An interface of a pcapng file.
#[derive(Clone, Copy, Debug)]
pub struct NgInterface {
    pub linktype: u32,
    /// `if_tsresol`: 6 = µs, 9 = ns; with the high bit set, a power of two.
    pub tsresol: u8,
}

/// Writes a pcapng file (little endian).
pub struct PcapNgWriter<W: Write> {
    out: W,
    interfaces: Vec<NgInterface>,
}

impl<W: Write> PcapNgWriter<W> {
    pub fn new(mut out: W, interfaces: &[NgInterface]) -> io::Result<Self> {
        let mut shb = SectionHeaderBlock {
            block_type: 0,
            block_len1: 0,
            bom: 0x1a2b_3c4d,
            major_version: 1,
            minor_version: 0,
            section_len: -1,
            options: Vec::new(),
            block_len2: 0,
        };
        out.write_all(&shb.to_vec().map_err(gen_err)?)?;
        for iface in interfaces {
            let mut idb = InterfaceDescriptionBlock {
                block_type: 0,
                block_len1: 0,
                linktype: Linktype(iface.linktype as i32),
                reserved: 0,
                snaplen: 262_144,
                options: vec![PcapNGOption {
                    code: OptionCode::IfTsresol,
                    len: 1,
                    value: Cow::Owned(vec![iface.tsresol, 0, 0, 0]),
                }],
                block_len2: 0,
                if_tsresol: iface.tsresol,
                if_tsoffset: 0,
            };
            out.write_all(&idb.to_vec().map_err(gen_err)?)?;
        }
        Ok(PcapNgWriter {
            out,
            interfaces: interfaces.to_vec(),
        })
    }

    fn ticks(&self, interface: u32, ts: Timestamp) -> u64 {
        let resol = self
            .interfaces
            .get(interface as usize)
            .map_or(6, |i| i.tsresol);
        let per_sec: u64 = if resol & 0x80 != 0 {
            1u64 << (resol & 0x7f)
        } else {
            10u64.pow(u32::from(resol))
        };
        let frac = u128::from(ts.nanos()) * u128::from(per_sec) / 1_000_000_000;
        (ts.secs() as u64) * per_sec + frac as u64
    }

    /// An Enhanced Packet Block on interface `interface`.
    pub fn enhanced(&mut self, interface: u32, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let t = self.ticks(interface, ts);
        let mut epb = EnhancedPacketBlock {
            block_type: 0,
            block_len1: 0,
            if_id: interface,
            ts_high: (t >> 32) as u32,
            ts_low: t as u32,
            caplen: data.len() as u32,
            origlen: data.len() as u32,
            data,
            options: Vec::new(),
            block_len2: 0,
        };
        self.out.write_all(&epb.to_vec().map_err(gen_err)?)
    }

    /// A Simple Packet Block (interface 0, no timestamp).
    pub fn simple(&mut self, data: &[u8]) -> io::Result<()> {
        let mut spb = SimplePacketBlock {
            block_type: 0,
            block_len1: 0,
            origlen: data.len() as u32,
            data,
            block_len2: 0,
        };
        self.out.write_all(&spb.to_vec().map_err(gen_err)?)
    }

    /// An obsolete Packet Block (type 2), which old tools still write.
    pub fn obsolete(&mut self, interface: u16, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let t = self.ticks(u32::from(interface), ts);
        let padded = data.len().div_ceil(4) * 4;
        let len = (28 + 4 + padded) as u32;
        let mut b = Vec::with_capacity(len as usize);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&interface.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(t as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b.resize(b.len() + padded - data.len(), 0);
        b.extend_from_slice(&len.to_le_bytes());
        self.out.write_all(&b)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
