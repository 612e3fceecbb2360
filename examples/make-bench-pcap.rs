//! Writes a large generated capture for benchmarks:
//! `cargo run --release --example make-bench-pcap -- OUT.pcap [MEGABYTES] [CONCURRENT] [--mix] [--hosts FILE]`
//! (defaults: 1100 MB, 2000 concurrent connections). Without `--mix`: TCP connections
//! carrying text and DNS lookups (the pipeline benchmark). With `--mix`: realistic benign
//! traffic (TLS sessions, HTTP pages and downloads, DNS); `--hosts FILE` (one name per
//! line) gives the SNI or Host of one TLS/HTTP flow in a hundred.

use std::io::BufWriter;

fn fail(msg: &str) -> ! {
    eprintln!("make-bench-pcap: {msg}");
    std::process::exit(2);
}

fn main() {
    let mut positional = Vec::new();
    let mut mix = false;
    let mut hosts: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mix" => mix = true,
            "--hosts" => {
                let Some(path) = args.next() else {
                    fail("--hosts needs a file")
                };
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| fail(&format!("{path}: {e}")));
                hosts = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect();
            }
            _ => positional.push(a),
        }
    }
    let Some(out) = positional.first() else {
        fail("usage: make-bench-pcap OUT.pcap [MEGABYTES] [CONCURRENT] [--mix] [--hosts FILE]")
    };
    let mb: u64 = positional
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1100);
    let concurrent: usize = positional
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let file = std::fs::File::create(out).unwrap_or_else(|e| fail(&format!("{out}: {e}")));
    let w = BufWriter::with_capacity(1 << 20, file);
    let written = if mix {
        rulesim::synth::mix::write_mixed_capture(w, mb * 1_000_000, concurrent, 42, &hosts)
    } else {
        rulesim::synth::bulk::write_bulk_capture(w, mb * 1_000_000, concurrent, 42)
    };
    match written {
        Ok(s) => println!(
            "{out}: {} packets, {} bytes, {} flows",
            s.packets, s.bytes, s.flows
        ),
        Err(e) => fail(&format!("{out}: {e}")),
    }
}
