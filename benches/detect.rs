//! Criterion benchmarks of the detection engine: loading a 10,000-domain AWS denylist
//! (20,000 rules) and, when `../shared/rulesets` is there, Emerging Threats Open
//! (parse, check, compile, index); and a run over 8 MB of generated mixed benign traffic
//! with each (compiling the engine from the parsed rules, then the whole pipeline).
//! `cargo bench --bench detect` (`-- --test` runs each once, as CI does).

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rulesim::config::Settings;
use rulesim::detect::{DetectEngine, DetectSettings};
use rulesim::engine::{run_files, Engine};
use rulesim::output::EventOutput;
use rulesim::rules::{load_rule_files, RuleContext, RuleSet, VarTable};

fn rulesets() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rulesets");
    p.is_dir().then_some(p)
}

/// A DENYLIST-style rule file for `n` generated domains (what `rules show` prints for an
/// AWS domain list: a TLS SNI and an HTTP Host rule per name).
fn denylist_rules(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        let name = format!("ads{i}.tracker{}.example", i % 97);
        let sid = 2 * i + 1;
        text.push_str(&format!(
            "drop tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; content:\"{name}\"; startswith; nocase; endswith; msg:\"deny\"; flow:to_server, established; sid:{sid}; rev:1;)\n\
             drop http $HOME_NET any -> $EXTERNAL_NET any (http.host; content:\"{name}\"; startswith; endswith; msg:\"deny\"; flow:to_server, established; sid:{}; rev:1;)\n",
            sid + 1
        ));
    }
    text
}

fn load(path: &Path) -> RuleSet {
    load_rule_files(&[path.to_path_buf()], &RuleContext::default()).expect("rules readable")
}

fn engine(set: &RuleSet) -> DetectEngine {
    DetectEngine::new(set, &VarTable::default(), DetectSettings::default())
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let deny = dir.path().join("deny.rules");
    std::fs::write(&deny, denylist_rules(10_000)).expect("write rules");
    let mut sets = vec![("denylist-20k", deny)];
    if let Some(shared) = rulesets() {
        sets.push(("et-open", shared.join("et-open/et-open.rules")));
    }

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    for (name, path) in &sets {
        g.bench_function(*name, |b| b.iter(|| engine(&load(path))));
    }
    g.finish();

    // 8 MB of mixed traffic (TLS, HTTP pages and downloads, DNS).
    let pcap = dir.path().join("mix.pcap");
    let file = std::fs::File::create(&pcap).expect("capture");
    let summary = rulesim::synth::mix::write_mixed_capture(
        std::io::BufWriter::new(file),
        8_000_000,
        100,
        7,
        &[],
    )
    .expect("write capture");
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(summary.bytes));
    for (name, path) in &sets {
        let set = load(path);
        g.bench_function(*name, |b| {
            b.iter(|| {
                let out = tempfile::tempdir().expect("tempdir");
                let output = EventOutput::create(out.path(), None).expect("output");
                let mut e = Engine::new(&Settings::default(), output, Some(engine(&set)));
                run_files(&mut e, std::slice::from_ref(&pcap), |_, _, _| {}).expect("run");
                e.finish().expect("finish")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
