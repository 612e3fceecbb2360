//! Writes the hostile capture `tests/hostile.rs` streams through the engine (a million
//! SYNs from random sources, a million out-of-order one-byte segments in one flow,
//! fragments that never complete, a TLS handshake claiming 16 MB, a 1 MB HTTP header), to
//! measure memory by hand: `cargo run --release --example make-hostile-pcap -- OUT.pcap`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: make-hostile-pcap OUT.pcap");
        std::process::exit(2);
    };
    let file = match std::fs::File::create(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("make-hostile-pcap: {path}: {e}");
            std::process::exit(2);
        }
    };
    match rulesim::synth::hostile::write_hostile_capture(
        std::io::BufWriter::new(file),
        rulesim::synth::hostile::HostileSizes::default(),
    ) {
        Ok(n) => println!("{n} packets written to {path}"),
        Err(e) => {
            eprintln!("make-hostile-pcap: {e}");
            std::process::exit(2);
        }
    }
}
