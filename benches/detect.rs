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
    if let Some(shared) = rulesets() {
        let hay = std::fs::read(&pcap).expect("capture readable");
        bench_scan(c, &shared.join("et-open/et-open.rules"), &hay);
    }
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

/// The longest content of each ET Open rule inspecting the raw payload (the patterns of
/// the prefilter's packet and stream groups, roughly), decoded and lower-cased.
fn et_payload_patterns(rules: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(rules).expect("ET Open readable");
    let mut patterns: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| l.starts_with("alert tcp") || l.starts_with("alert udp"))
        .filter(|l| {
            ![
                "http.", "tls.", "dns.", "file.", "http_", "tls_", "dns_", "ssl_",
            ]
            .iter()
            .any(|k| l.contains(k))
        })
        .filter_map(|l| {
            l.split("content:\"")
                .skip(1)
                .filter_map(|c| c.split('"').next())
                .map(decode_content)
                .max_by_key(Vec::len)
        })
        .map(|p| p.to_ascii_lowercase())
        .collect();
    patterns.sort();
    patterns.dedup();
    patterns
}

/// A content string's bytes (`|hex|` runs decoded).
fn decode_content(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, part) in s.split('|').enumerate() {
        if i % 2 == 1 {
            out.extend(
                part.split_whitespace()
                    .filter_map(|h| u8::from_str_radix(h, 16).ok()),
            );
        } else {
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

/// The prefilter's multi-literal scan against `aho-corasick`'s overlapping search (what
/// it replaced), on the bytes of the generated capture.
fn bench_scan(c: &mut Criterion, rules: &Path, hay: &[u8]) {
    use rulesim::detect::literals::{lower_into, LiteralSet};
    let patterns = et_payload_patterns(rules);
    let mut g = c.benchmark_group("prefilter_scan");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(hay.len() as u64));
    let set = LiteralSet::new(
        patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_slice(), i as u32)),
    );
    g.bench_function("literal_set", |b| {
        let mut seen = vec![0u32; patterns.len()];
        let mut stamp = 0u32;
        let mut lower = Vec::new();
        b.iter(|| {
            let mut found = 0usize;
            // Per 1,500-byte piece, as packets are scanned.
            for piece in hay.chunks(1500) {
                stamp = stamp.wrapping_add(1);
                lower_into(piece, &mut lower);
                set.scan(&lower, &mut seen, stamp, |_| found += 1);
            }
            found
        })
    });
    let ac = aho_corasick::AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&patterns)
        .expect("automaton");
    g.bench_function("aho_corasick_overlapping", |b| {
        let mut seen = vec![0u32; patterns.len()];
        let mut stamp = 0u32;
        b.iter(|| {
            let mut found = 0usize;
            for piece in hay.chunks(1500) {
                stamp = stamp.wrapping_add(1);
                for m in ac.find_overlapping_iter(piece) {
                    let id = m.pattern().as_usize();
                    if seen[id] != stamp {
                        seen[id] = stamp;
                        found += 1;
                    }
                }
            }
            found
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
