//! Nothing lost: a run stopped by SIGINT writes complete records for everything it read,
//! a prefix of what the whole run writes, says where it stopped and exits 130.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The byte offset of the first pcap record at or after `at` (records follow the 24-byte
/// file header, each with a 16-byte header whose bytes 8..12 give its length).
fn record_boundary(pcap: &[u8], at: usize) -> usize {
    let mut offset = 24;
    while offset < at {
        let len = u32::from_le_bytes(pcap[offset + 8..offset + 12].try_into().expect("4 bytes"));
        offset += 16 + len as usize;
    }
    offset
}

fn rulesim(input: &Path, out: &Path, threads: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesim"));
    cmd.arg("-q")
        .arg("-r")
        .arg(input)
        .arg("-S")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
        .arg("-l")
        .arg(out)
        .arg("--threads")
        .arg(threads);
    cmd
}

#[test]
fn sigint_leaves_a_prefix_of_the_full_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pcap = Vec::new();
    rulesim::synth::mix::write_mixed_capture(&mut pcap, 3_000_000, 20, 11, &[]).expect("capture");
    let whole = dir.path().join("whole.pcap");
    std::fs::write(&whole, &pcap).expect("write");
    let half = record_boundary(&pcap, pcap.len() / 2);

    for threads in ["1", "2"] {
        let full_out = dir.path().join(format!("full-{threads}"));
        let status = rulesim(&whole, &full_out, threads).status().expect("run");
        assert!(status.success());
        let full = std::fs::read(full_out.join("eve.json")).expect("eve.json");

        // The capture comes through a FIFO: the first half, then (after the signal) the
        // rest, so that the signal arrives in the middle of the run.
        let fifo = dir.path().join(format!("in-{threads}.pcap"));
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success());
        let out = dir.path().join(format!("stopped-{threads}"));
        let child = rulesim(&fifo, &out, threads)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rulesim");
        let mut writer = std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .expect("open fifo");
        writer.write_all(&pcap[..half]).expect("first half");
        writer.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(1500));
        let killed = Command::new("kill")
            .arg("-INT")
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(killed.success());
        std::thread::sleep(Duration::from_millis(200));
        // rulesim stops at the next record; it may close the pipe before all is written.
        let _ = writer.write_all(&pcap[half..]);
        drop(writer);
        let done = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("interrupted after packet"), "{stderr}");

        let stopped = std::fs::read(out.join("eve.json")).expect("eve.json");
        assert!(!stopped.is_empty(), "the first half gave records");
        assert!(stopped.len() < full.len());
        assert!(
            full.starts_with(&stopped),
            "threads {threads}: the interrupted output is not a prefix of the full one"
        );
        for line in String::from_utf8_lossy(&stopped).lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("a complete JSON line");
        }
        let stats: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("stats.json")).expect("stats"))
                .expect("stats json");
        let at = stats["capture"]["interrupted"]["after_packet"]
            .as_u64()
            .expect("interrupted.after_packet");
        assert!(at > 0 && stats["capture"]["packets_read"] == at, "{stats}");
    }
}
