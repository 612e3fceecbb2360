//! Writes a large generated capture for benchmarks:
//! `cargo run --release --example make-bench-pcap -- OUT.pcap [MEGABYTES] [CONCURRENT]`
//! (defaults: 1100 MB, 2000 concurrent connections).

use std::io::BufWriter;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: make-bench-pcap OUT.pcap [MEGABYTES] [CONCURRENT]");
        std::process::exit(2);
    };
    let mb: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1100);
    let concurrent: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let file = match std::fs::File::create(&out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("make-bench-pcap: {out}: {e}");
            std::process::exit(2);
        }
    };
    match rulesim::synth::bulk::write_bulk_capture(
        BufWriter::with_capacity(1 << 20, file),
        mb * 1_000_000,
        concurrent,
        42,
    ) {
        Ok(s) => println!(
            "{out}: {} packets, {} bytes, {} flows",
            s.packets, s.bytes, s.flows
        ),
        Err(e) => {
            eprintln!("make-bench-pcap: {out}: {e}");
            std::process::exit(2);
        }
    }
}
