//! The benchmark floor: reads every record of the captures and touches its bytes, nothing
//! more. `cargo run --release --example walk-pcap -- FILE...`

use std::time::Instant;

fn main() {
    let started = Instant::now();
    let (mut packets, mut bytes, mut checksum) = (0u64, 0u64, 0u64);
    for path in std::env::args().skip(1) {
        let mut reader = match rulesim::capture::CaptureReader::open(std::path::Path::new(&path)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("walk-pcap: {e}");
                std::process::exit(2);
            }
        };
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    packets += 1;
                    bytes += frame.data.len() as u64;
                    checksum =
                        checksum.wrapping_add(u64::from(frame.data.last().copied().unwrap_or(0)));
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("walk-pcap: {e}");
                    break;
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{packets} packets, {bytes} bytes in {secs:.3}s: {:.1} MB/s, {:.0} packets/s (checksum {checksum})",
        bytes as f64 / secs / 1e6,
        packets as f64 / secs
    );
}
