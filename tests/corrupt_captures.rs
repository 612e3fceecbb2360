//! Corrupt captures, end to end: every truncation point of a pcapng (read) and of a pcap
//! (through the binary, each run's time and memory measured), blocks of unknown
//! types, records of length zero or longer than the snap length, and timestamps going
//! backwards. Each is read as far as the format allows, reported with the file, packet
//! and byte offset, and never panics.

mod common;

use std::path::Path;
use std::process::Command;

use rulesim::capture::CaptureReader;
use rulesim::synth::{NgInterface, PcapNgWriter, PcapWriter};
use rulesim::time::Timestamp;

fn pcapng(packets: &[(i64, &[u8])]) -> Vec<u8> {
    let mut w = PcapNgWriter::new(
        Vec::new(),
        &[NgInterface {
            linktype: 1,
            tsresol: 6,
        }],
    )
    .expect("header");
    for (secs, data) in packets {
        w.enhanced(0, Timestamp::new(*secs, 0), data).expect("epb");
    }
    w.into_inner()
}

/// Frames read before the end or the first error that ends the file, and that error's
/// text (with whether it is only a truncated tail).
fn read(path: &Path) -> (usize, Option<(String, bool)>) {
    let mut r = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => return (0, Some((e.to_string(), e.is_truncation()))),
    };
    let mut n = 0;
    loop {
        match r.next_frame() {
            Ok(Some(_)) => n += 1,
            Ok(None) => return (n, None),
            Err(e) if e.is_recoverable() => continue,
            Err(e) => return (n, Some((e.to_string(), e.is_truncation()))),
        }
    }
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize
}

#[test]
fn every_truncation_point_of_a_pcapng_is_handled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = pcapng(&[(1, &[1u8; 60]), (2, &[2u8; 61]), (3, &[3u8; 62])]);
    // Block boundaries: section header, interface description, three packets.
    let mut ends = vec![u32_at(&full, 4)];
    while *ends.last().expect("one") < full.len() {
        let at = *ends.last().expect("one");
        ends.push(at + u32_at(&full, at + 4));
    }
    assert_eq!(ends.len(), 5);
    let path = dir.path().join("cut.pcapng");
    for cut in 0..full.len() {
        std::fs::write(&path, &full[..cut]).expect("write");
        let (frames, err) = read(&path);
        // Packets whose block is whole are read, whatever follows.
        let whole = ends[2..].iter().filter(|&&e| e <= cut).count();
        assert_eq!(frames, whole, "cut at {cut}");
        if cut >= ends[1] {
            // Past the headers: only a cut inside a block is reported, as a truncation
            // naming the file and where.
            let at_boundary = ends.contains(&cut);
            assert_eq!(err.is_some(), !at_boundary, "cut at {cut}: {err:?}");
            if let Some((text, truncation)) = err {
                assert!(truncation, "cut at {cut}: {text}");
                assert!(
                    text.contains("cut.pcapng") && text.contains("offset"),
                    "cut at {cut}: {text}"
                );
            }
        }
    }
}

#[test]
fn an_unknown_block_type_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = pcapng(&[(1, &[1u8; 60]), (2, &[2u8; 61])]);
    let headers = u32_at(&full, 4) + u32_at(&full, u32_at(&full, 4) + 4);
    // A block of a type no one defined (0x0BAD0BAD), 16 bytes, between the packets.
    let first_end = headers + u32_at(&full, headers + 4);
    let mut bytes = full[..first_end].to_vec();
    bytes.extend_from_slice(&0x0bad_0badu32.to_le_bytes());
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&[0xaa; 4]);
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&full[first_end..]);
    let path = dir.path().join("custom.pcapng");
    std::fs::write(&path, &bytes).expect("write");
    assert_eq!(read(&path), (2, None));
}

/// A pcap whose records are written as given: (seconds, captured length field, data).
fn raw_pcap(snaplen: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 1).expect("header");
    w.packet(Timestamp::new(0, 0), &[]).expect("placeholder");
    let mut out = w.into_inner();
    out.truncate(24);
    out[16..20].copy_from_slice(&snaplen.to_le_bytes());
    for (secs, caplen, data) in records {
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&caplen.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// Records that are odd but readable (no bytes, longer than the snap length, a clock going
/// back) are processed as Suricata processes them and counted; the first of each kind in
/// a file is a warning with the file, packet number and byte offset.
#[test]
fn odd_records_are_counted_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frame = |src: &str| {
        common::write_pcap(
            &dir.path().join("one.pcap"),
            &[rulesim::synth::TimedPacket {
                ts: Timestamp::new(0, 0),
                ip: rulesim::synth::packets::udp(
                    common::sa(src),
                    common::sa("198.51.100.1:53"),
                    64,
                    b"x",
                ),
            }],
        );
        let bytes = std::fs::read(dir.path().join("one.pcap")).expect("read");
        bytes[24 + 16..].to_vec()
    };
    let (a, b, c) = (
        frame("10.0.0.1:1000"),
        frame("10.0.0.2:1000"),
        frame("10.0.0.3:1000"),
    );
    // A zero-length record, a record longer than the 64-byte snap length (libpcap reads
    // such records too), and a clock that goes back.
    let bytes = raw_pcap(
        64,
        &[
            (100, a.len() as u32, &a),
            (101, 0, &[]),
            (102, b.len() as u32, &b),
            (50, c.len() as u32, &c),
        ],
    );
    let path = dir.path().join("odd.pcap");
    std::fs::write(&path, &bytes).expect("write");
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .args(["--threads", "1", "-l"])
        .arg(&out)
        .arg("-r")
        .arg(&path)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    // Each odd record is a warning naming the file, the packet and its byte offset.
    let second = 24 + 16 + a.len();
    let fourth = second + 16 + 16 + b.len();
    let path_text = path.display().to_string();
    for warning in [
        format!("rulesim: warning: {path_text}: packet 2 (byte offset {second}): packet has no bytes"),
        format!("rulesim: warning: {path_text}: packet 4 (byte offset {fourth}): timestamp 1970-01-01T00:00:50.000000+0000 is before the previous packet's (1970-01-01T00:01:42.000000+0000)"),
    ] {
        assert!(stderr.contains(&warning), "{warning}\nnot in:\n{stderr}");
    }
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).expect("stats"))
            .expect("json");
    assert_eq!(stats["capture"]["packets_read"], 4, "{stats}");
    assert_eq!(stats["capture"]["timestamps_backwards"], 1, "{stats}");
    assert_eq!(stats["flow"]["created"], 3, "{stats}");
    let invalid = stats["decoder"]["invalid"]
        .as_object()
        .expect("invalid counts");
    assert_eq!(
        invalid.values().filter_map(|v| v.as_u64()).sum::<u64>(),
        1,
        "{stats}"
    );
}

/// Where reading stopped is in the stats: a capture cut in its third record, and one
/// that is not a capture, beside a good one. The run goes on with the other inputs (exit
/// 2 for the unreadable one), everything before the cut is evaluated, and
/// `capture.stopped_early` names each file, the run's last packet before it, and the
/// error with its packet number and byte offset.
#[test]
fn the_stats_say_where_reading_stopped_on_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let packet = |n: u16| rulesim::synth::TimedPacket {
        ts: Timestamp::new(100 + i64::from(n), 0),
        ip: rulesim::synth::packets::udp(
            common::sa(&format!("10.0.0.1:{}", 1000 + n)),
            common::sa("198.51.100.1:53"),
            64,
            b"query",
        ),
    };
    let good = dir.path().join("a-good.pcap");
    common::write_pcap(&good, &[packet(0), packet(1)]);
    let cut = dir.path().join("b-cut.pcap");
    common::write_pcap(&cut, &[packet(2), packet(3), packet(4)]);
    let mut bytes = std::fs::read(&cut).expect("read");
    let len = bytes.len();
    bytes.truncate(len - 10);
    std::fs::write(&cut, &bytes).expect("write");
    let junk = dir.path().join("c-junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").expect("write");
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .args(["-q", "-l"])
        .arg(&out)
        .arg("-r")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).expect("stats"))
            .expect("json");
    assert_eq!(stats["capture"]["packets_read"], 4, "{stats}");
    let stopped = stats["capture"]["stopped_early"]
        .as_array()
        .expect("stopped_early");
    assert_eq!(stopped.len(), 2, "{stats}");
    assert!(stopped[0]["file"]
        .as_str()
        .expect("file")
        .ends_with("b-cut.pcap"));
    assert_eq!(stopped[0]["after_packet"], 4);
    let error = stopped[0]["error"].as_str().expect("error");
    assert!(
        error.contains("packet 3") && error.contains("offset"),
        "{error}"
    );
    assert!(stopped[1]["file"]
        .as_str()
        .expect("file")
        .ends_with("c-junk.pcap"));
    assert_eq!(stopped[1]["after_packet"], 4);
    // What was read before the cut was evaluated: four flows' netflow records.
    let eve = std::fs::read_to_string(out.join("eve.json")).expect("eve");
    assert_eq!(eve.lines().filter(|l| l.contains("\"netflow\"")).count(), 4);
}

/// The binary on a pcap cut at every byte offset, each run measured on its process: it
/// ends (exit 0 for a cut between records or a truncated tail, 2 when not even the file
/// header is there), within a time and memory bound, with the packets before the cut
/// evaluated, `eve.json` whole lines only, and `stats.json` written.
#[test]
fn every_truncation_point_of_a_pcap_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let packets: Vec<rulesim::synth::TimedPacket> = (0..3u16)
        .map(|i| rulesim::synth::TimedPacket {
            ts: Timestamp::new(100 + i64::from(i), 0),
            ip: rulesim::synth::packets::udp(
                common::sa(&format!("10.0.0.1:{}", 1000 + i)),
                common::sa("198.51.100.1:53"),
                64,
                &rulesim::synth::packets::dns_query(i, "cut.example", 1),
            ),
        })
        .collect();
    let full_path = dir.path().join("full.pcap");
    common::write_pcap(&full_path, &packets);
    let full = std::fs::read(&full_path).expect("read");
    // Record boundaries: the 24-byte file header, then each record.
    let mut ends = vec![24];
    while *ends.last().expect("one") < full.len() {
        let at = *ends.last().expect("one");
        ends.push(at + 16 + u32_at(&full, at + 8));
    }
    let path = dir.path().join("cut.pcap");
    let started = std::time::Instant::now();
    for cut in 0..=full.len() {
        std::fs::write(&path, &full[..cut]).expect("write");
        let out = dir.path().join("out");
        let _ = std::fs::remove_dir_all(&out);
        let one = std::time::Instant::now();
        let run = Command::new(env!("CARGO_BIN_EXE_rulesim"))
            .args(["-q", "--threads", "1", "-l"])
            .arg(&out)
            .arg("-r")
            .arg(&path)
            .output()
            .expect("run");
        assert!(
            one.elapsed() < std::time::Duration::from_secs(20),
            "cut at {cut}: took {:?}",
            one.elapsed()
        );
        let whole = ends[1..].iter().filter(|&&e| e <= cut).count();
        let expected_exit = if cut < 24 { 2 } else { 0 };
        assert_eq!(
            run.status.code(),
            Some(expected_exit),
            "cut at {cut}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stats: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("stats.json")).expect("stats"))
                .expect("stats json");
        assert_eq!(stats["decoder"]["pkts"], whole as u64, "cut at {cut}");
        let rss = stats["memory"]["peak_rss_kib"].as_u64().expect("peak RSS");
        assert!(rss < 64 * 1024, "cut at {cut}: peak RSS {rss} KiB");
        let eve = std::fs::read_to_string(out.join("eve.json")).unwrap_or_default();
        assert!(
            eve.is_empty() || eve.ends_with('\n'),
            "cut at {cut}: a half line"
        );
        for line in eve.lines() {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("cut at {cut}: {e}: {line}"));
        }
        // One netflow record per direction seen of each whole query's flow.
        let netflows = eve.lines().filter(|l| l.contains("\"netflow\"")).count();
        assert_eq!(netflows, whole, "cut at {cut}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(600));
}
