//! Regenerates the bundled sample captures: `cargo run --example make-sample [DIR]`
//! (default `pcaps/`).

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "pcaps".to_string());
    if let Err(e) = rulesim::synth::sample::write_sample(std::path::Path::new(&dir)) {
        eprintln!("make-sample: {dir}: {e}");
        std::process::exit(2);
    }
}
