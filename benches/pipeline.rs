//! Criterion benchmarks of the capture pipeline on a generated capture (about 64 MB,
//! ~15k flows): the floor (walking the pcap records), decoding, and the whole pipeline
//! (decode + flow tracking + netflow records, serialised but not written).
//! `cargo bench --bench pipeline`; `benches/run.sh` measures the binary on 1 GB.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rulesim::capture::CaptureReader;
use rulesim::config::Settings;
use rulesim::decode::{Decoded, Decoder, DefragConfig};
use rulesim::engine::Engine;
use rulesim::output::EventOutput;

fn capture() -> (tempfile::TempDir, PathBuf, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.pcap");
    let file = std::fs::File::create(&path).expect("create");
    let summary =
        rulesim::synth::bulk::write_bulk_capture(BufWriter::new(file), 64_000_000, 500, 7)
            .expect("generate");
    (dir, path, summary.bytes)
}

fn walk(path: &Path) -> u64 {
    let mut r = CaptureReader::open(path).expect("open");
    let mut n = 0;
    while let Ok(Some(f)) = r.next_frame() {
        n += f.data.len() as u64;
    }
    n
}

fn decode(path: &Path) -> u64 {
    let mut r = CaptureReader::open(path).expect("open");
    let mut d = Decoder::new(DefragConfig::default());
    let mut n = 0;
    while let Ok(Some(f)) = r.next_frame() {
        if let Decoded::Packet(p) = d.decode(f.linktype, f.data, f.ts, 1) {
            n += u64::from(p.ttl);
        }
    }
    n
}

fn pipeline(path: &Path) -> u64 {
    let mut engine = Engine::new(&Settings::default(), EventOutput::discard(), None);
    engine.process_file(path, |_, _| {}).expect("process");
    engine.finish().expect("finish").output.netflow
}

fn benches(c: &mut Criterion) {
    let (_dir, path, bytes) = capture();
    let mut g = c.benchmark_group("capture_pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("walk_records_floor", |b| b.iter(|| walk(&path)));
    g.bench_function("decode", |b| b.iter(|| decode(&path)));
    g.bench_function("decode_flow_netflow", |b| b.iter(|| pipeline(&path)));
    g.finish();
}

criterion_group!(pipeline_benches, benches);
criterion_main!(pipeline_benches);
