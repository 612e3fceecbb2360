//! Capture files in: classic pcap (both byte orders, µs and ns) and pcapng (several
//! interfaces, EPB/SPB/OPB), read as a stream through `pcap-parser` so that memory stays
//! constant whatever the file size.

mod reader;

pub use reader::{CaptureReader, Frame};

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Largest record a capture may hold. libpcap refuses larger records as corrupt
/// (`MAXIMUM_SNAPLEN`); a larger length field means the file is damaged.
pub const MAX_RECORD_LEN: u32 = 262_144;

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// What went wrong reading a capture file.
#[derive(Debug, Error)]
pub enum CaptureErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("file is empty")]
    Empty,
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    BadMagic(u32),
    #[error("capture header is truncated")]
    TruncatedHeader,
    #[error("capture header is invalid: {0}")]
    BadHeader(String),
    #[error("file is truncated: the last record is incomplete")]
    TruncatedRecord,
    #[error("corrupt record: captured length {len} exceeds the maximum of {max} bytes")]
    RecordTooLong { len: u32, max: u32 },
    #[error("corrupt block: {0}")]
    CorruptBlock(String),
    #[error("packet refers to interface {0}, which no interface description block defines")]
    UnknownInterface(u32),
    #[error("link type {0} is not supported")]
    UnsupportedLinkType(u32),
    /// A warning: the packet is processed at its own time, as Suricata does, and counted
    /// (`capture.timestamps_backwards`); the first in each file is reported.
    #[error("timestamp {at} is before the previous packet's ({previous}); later ones in this file are only counted (capture.timestamps_backwards)")]
    TimestampBackwards { at: String, previous: String },
    /// A warning: a record with no bytes, counted as an invalid packet
    /// (`decoder.invalid`); the first in each file is reported.
    #[error("packet has no bytes; later ones in this file are only counted (decoder.invalid)")]
    EmptyPacket,
}

/// An error in a capture file, with where it happened.
#[derive(Debug, Error)]
#[error("{path}: {}{kind}", location(*.packet, *.offset))]
pub struct CaptureError {
    pub path: PathBuf,
    /// 1-based number of the packet in this file the error concerns (the next one when
    /// the error is between packets).
    pub packet: Option<u64>,
    /// Byte offset of the record or block in the file.
    pub offset: Option<u64>,
    pub kind: CaptureErrorKind,
}

fn location(packet: Option<u64>, offset: Option<u64>) -> String {
    match (packet, offset) {
        (Some(p), Some(o)) => format!("packet {p} (byte offset {o}): "),
        (Some(p), None) => format!("packet {p}: "),
        (None, Some(o)) => format!("byte offset {o}: "),
        (None, None) => String::new(),
    }
}

impl CaptureError {
    pub fn new(path: &Path, kind: CaptureErrorKind) -> Self {
        CaptureError {
            path: path.to_path_buf(),
            packet: None,
            offset: None,
            kind,
        }
    }

    /// A truncated tail is reported as a warning, as Suricata does: everything before it
    /// was read and evaluated.
    pub fn is_truncation(&self) -> bool {
        matches!(self.kind, CaptureErrorKind::TruncatedRecord)
    }

    /// Whether reading may go on with the next record after this error.
    pub fn is_recoverable(&self) -> bool {
        matches!(self.kind, CaptureErrorKind::UnknownInterface(_))
    }

    /// The same error at a given packet and offset.
    pub fn at(mut self, packet: u64, offset: u64) -> Self {
        self.packet = Some(packet);
        self.offset = Some(offset);
        self
    }
}

/// Expands `-r` arguments: files as given, directories to their regular files in name
/// order (not recursive, hidden files skipped), as Suricata's pcap-file directory mode.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CaptureError> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .map_err(|e| CaptureError::new(input, CaptureErrorKind::Io(e)))?;
        if meta.is_dir() {
            let mut entries = Vec::new();
            let dir = std::fs::read_dir(input)
                .map_err(|e| CaptureError::new(input, CaptureErrorKind::Io(e)))?;
            for entry in dir {
                let entry = entry.map_err(|e| CaptureError::new(input, CaptureErrorKind::Io(e)))?;
                let path = entry.path();
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if !hidden && path.is_file() {
                    entries.push(path);
                }
            }
            entries.sort();
            files.extend(entries);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
