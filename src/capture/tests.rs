//! Capture reader tests on files written by `synth::capture`.

use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::synth::{ByteOrder, NgInterface, PcapNgWriter, PcapWriter};
use crate::time::Timestamp;

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(bytes).expect("write");
    path
}

/// (linktype, secs, nanos, data) of a frame.
type FrameSummary = (u32, i64, u32, Vec<u8>);

/// Every frame, and the error that ended the file.
fn read_all(path: &std::path::Path) -> (Vec<FrameSummary>, Option<CaptureError>) {
    let mut r = CaptureReader::open(path).expect("open");
    let mut frames = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push((f.linktype, f.ts.secs(), f.ts.nanos(), f.data.to_vec())),
            Ok(None) => return (frames, None),
            Err(e) if e.is_recoverable() => continue,
            Err(e) => return (frames, Some(e)),
        }
    }
}

fn sample_pcap(nanos: bool, order: ByteOrder) -> Vec<u8> {
    let mut w = PcapWriter::with_format(Vec::new(), 1, nanos, order).expect("header");
    w.packet(Timestamp::new(100, 123_456_789), &[1u8; 60])
        .expect("packet");
    w.packet(Timestamp::new(101, 5_000), &[2u8; 61])
        .expect("packet");
    w.into_inner()
}

#[test]
fn pcap_both_byte_orders_and_resolutions() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (nanos, order) in [
        (false, ByteOrder::Little),
        (false, ByteOrder::Big),
        (true, ByteOrder::Little),
        (true, ByteOrder::Big),
    ] {
        let path = write_temp(&dir, "x.pcap", &sample_pcap(nanos, order));
        assert_eq!(
            CaptureReader::open(&path).expect("open").pcap_linktype(),
            Some(1),
            "{order:?}"
        );
        let (frames, err) = read_all(&path);
        assert!(err.is_none(), "{nanos} {order:?}: {err:?}");
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].0, 1);
        let expect_nanos = if nanos { 123_456_789 } else { 123_456_000 };
        assert_eq!(
            (frames[0].1, frames[0].2),
            (100, expect_nanos),
            "{nanos} {order:?}"
        );
        assert_eq!(frames[1].3, vec![2u8; 61]);
    }
}

#[test]
fn pcapng_interfaces_with_their_own_link_types_and_resolutions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ifaces = [
        NgInterface {
            linktype: 1,
            tsresol: 6,
        },
        NgInterface {
            linktype: 101,
            tsresol: 9,
        },
    ];
    let mut w = PcapNgWriter::new(Vec::new(), &ifaces).expect("header");
    w.enhanced(0, Timestamp::new(50, 250_000_000), &[1u8; 40])
        .expect("epb");
    w.enhanced(1, Timestamp::new(51, 1), &[2u8; 41])
        .expect("epb");
    w.simple(&[3u8; 42]).expect("spb");
    w.obsolete(1, Timestamp::new(52, 7), &[4u8; 43])
        .expect("opb");
    let path = write_temp(&dir, "x.pcapng", &w.into_inner());
    let (frames, err) = read_all(&path);
    assert!(err.is_none(), "{err:?}");
    let summary: Vec<(u32, i64, u32, usize)> =
        frames.iter().map(|f| (f.0, f.1, f.2, f.3.len())).collect();
    assert_eq!(
        summary,
        vec![
            (1, 50, 250_000_000, 40),
            (101, 51, 1, 41),
            (1, 51, 1, 42), // SPB: interface 0, the previous packet's time
            (101, 52, 7, 43),
        ]
    );
}

#[test]
fn bad_files_are_named_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = write_temp(&dir, "empty.pcap", b"");
    assert!(matches!(
        CaptureReader::open(&empty).map(|_| ()).unwrap_err().kind,
        CaptureErrorKind::Empty
    ));
    let text = write_temp(&dir, "notes.txt", b"this is not a capture file");
    let err = CaptureReader::open(&text).map(|_| ()).unwrap_err();
    assert!(
        matches!(err.kind, CaptureErrorKind::BadMagic(0x7468_6973)),
        "{err}"
    );
    assert!(err.to_string().contains("notes.txt"), "{err}");
    let short = write_temp(
        &dir,
        "short.pcap",
        &sample_pcap(false, ByteOrder::Little)[..10],
    );
    assert!(matches!(
        CaptureReader::open(&short).map(|_| ()).unwrap_err().kind,
        CaptureErrorKind::TruncatedHeader
    ));
}

/// pcap-parser 0.17 subtracted the framing from a Process Information Block's length
/// before checking it: a length under 12 overflowed (found by fuzzing).
#[test]
fn pcapng_block_shorter_than_its_framing_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let interfaces = [NgInterface {
        linktype: 1,
        tsresol: 6,
    }];
    let mut w = PcapNgWriter::new(Vec::new(), &interfaces).expect("header");
    w.enhanced(0, Timestamp::new(1, 0), &[7u8; 60])
        .expect("packet");
    let good = w.into_inner();
    for len in [4u32, 8, 11] {
        let mut file = good.clone();
        // A Process Information Block (type 0x80000001) with that length.
        file.extend_from_slice(&0x8000_0001u32.to_le_bytes());
        file.extend_from_slice(&len.to_le_bytes());
        file.extend_from_slice(&[0u8; 8]);
        let path = write_temp(&dir, "short-block.pcapng", &file);
        let (frames, err) = read_all(&path);
        assert_eq!(
            frames.len(),
            1,
            "length {len}: the packet before it is read"
        );
        let err = err.expect("the short block is an error");
        assert!(
            matches!(&err.kind, CaptureErrorKind::CorruptBlock(m) if m.contains(&format!("length {len} "))),
            "length {len}: {err}"
        );
    }
}

#[test]
fn truncated_tail_keeps_the_packets_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = sample_pcap(false, ByteOrder::Little);
    let path = write_temp(&dir, "cut.pcap", &full[..full.len() - 5]);
    let (frames, err) = read_all(&path);
    assert_eq!(frames.len(), 1);
    let err = err.expect("truncation reported");
    assert!(err.is_truncation());
    assert_eq!(err.packet, Some(2));
    assert_eq!(err.offset, Some(24 + 16 + 60));
    let msg = err.to_string();
    assert!(
        msg.contains("cut.pcap") && msg.contains("packet 2") && msg.contains("byte offset 100"),
        "{msg}"
    );
}

#[test]
fn every_truncation_point_of_a_small_capture_is_handled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = sample_pcap(false, ByteOrder::Little);
    for cut in 0..full.len() {
        let path = write_temp(&dir, "cut.pcap", &full[..cut]);
        match CaptureReader::open(&path) {
            Err(e) => assert!(cut < 24, "cut {cut}: {e}"),
            Ok(_) => {
                let (frames, err) = read_all(&path);
                let whole = if cut >= 24 + 16 + 60 + 16 + 61 {
                    2
                } else if cut >= 24 + 16 + 60 {
                    1
                } else {
                    0
                };
                assert_eq!(frames.len(), whole, "cut {cut}");
                let at_boundary = [24, 24 + 16 + 60].contains(&cut);
                assert_eq!(err.is_some(), !at_boundary, "cut {cut}: {err:?}");
            }
        }
    }
}

#[test]
fn corrupt_record_length_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = sample_pcap(false, ByteOrder::Little);
    // The second record claims 3 GB.
    let second = 24 + 16 + 60;
    bytes[second + 8..second + 12].copy_from_slice(&3_000_000_000u32.to_le_bytes());
    let path = write_temp(&dir, "corrupt.pcap", &bytes);
    let (frames, err) = read_all(&path);
    assert_eq!(frames.len(), 1);
    let err = err.expect("error");
    assert!(
        matches!(
            err.kind,
            CaptureErrorKind::RecordTooLong {
                len: 3_000_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_truncation());
}

#[test]
fn pcapng_unknown_interface_and_broken_block_length() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapNgWriter::new(
        Vec::new(),
        &[NgInterface {
            linktype: 1,
            tsresol: 6,
        }],
    )
    .expect("header");
    w.enhanced(0, Timestamp::new(1, 0), &[1u8; 20])
        .expect("epb");
    w.enhanced(5, Timestamp::new(2, 0), &[2u8; 20])
        .expect("epb");
    w.enhanced(0, Timestamp::new(3, 0), &[3u8; 20])
        .expect("epb");
    let bytes = w.into_inner();
    let path = write_temp(&dir, "iface.pcapng", &bytes);
    let mut r = CaptureReader::open(&path).expect("open");
    assert!(r.next_frame().expect("first").is_some());
    let err = r.next_frame().map(|_| ()).unwrap_err();
    assert!(
        matches!(err.kind, CaptureErrorKind::UnknownInterface(5)) && err.packet == Some(2),
        "{err}"
    );
    assert_eq!(
        r.next_frame().expect("third").map(|f| f.data[0]),
        Some(3),
        "reading goes on"
    );

    // Break the trailing length of the first EPB.
    let mut broken = bytes.clone();
    let shb_len = u32::from_le_bytes([broken[4], broken[5], broken[6], broken[7]]) as usize;
    let idb_len = u32::from_le_bytes([
        broken[shb_len + 4],
        broken[shb_len + 5],
        broken[shb_len + 6],
        broken[shb_len + 7],
    ]) as usize;
    let epb = shb_len + idb_len;
    let epb_len = u32::from_le_bytes([
        broken[epb + 4],
        broken[epb + 5],
        broken[epb + 6],
        broken[epb + 7],
    ]) as usize;
    broken[epb + epb_len - 4] ^= 0xff;
    let path = write_temp(&dir, "broken.pcapng", &broken);
    let (frames, err) = read_all(&path);
    assert!(frames.is_empty());
    let err = err.expect("error");
    assert!(
        matches!(err.kind, CaptureErrorKind::CorruptBlock(_)),
        "{err}"
    );
    assert_eq!(err.offset, Some(epb as u64));
}

#[test]
fn directories_expand_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["b.pcap", "a.pcap", ".hidden.pcap", "c.pcapng"] {
        write_temp(&dir, name, b"x");
    }
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    let files = expand_inputs(&[dir.path().to_path_buf()]).expect("expand");
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec!["a.pcap", "b.pcap", "c.pcapng"]);
    assert!(expand_inputs(&[dir.path().join("missing.pcap")]).is_err());
}
