//! The fuzz targets on the stable toolchain: every target runs over its seed corpus
//! (`fuzz/corpus/<target>/`) and over every input that once made it fail
//! (`fuzz/regressions/<target>/`), so that CI, which has no nightly and no cargo-fuzz,
//! keeps both the targets and the fixes from rotting.
//!
//! `cargo run --example fuzz-seeds` rewrites the generated seeds (`gen-*` files) from the
//! project's packet builders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rulesim::config::Settings;
use rulesim::detect::{DetectEngine, DetectSettings};
use rulesim::fuzz::{FIXTURE_RULES, TARGETS};
use rulesim::rules::{RuleContext, VarTable};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The regular files of `dir`, by name (none when it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_runs_its_corpus_and_regressions() {
    let mut failed = Vec::new();
    for &(name, target) in TARGETS {
        let corpus = files_in(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name} is missing or empty: the target would test nothing"
        );
        let regressions = files_in(&fuzz_dir().join("regressions").join(name));
        for file in corpus.iter().chain(&regressions) {
            let data = std::fs::read(file).expect("read corpus file");
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "fuzz inputs that fail: {failed:#?}");
}

#[test]
fn regressions_are_kept_only_for_known_targets() {
    let names: BTreeSet<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    for dir in ["corpus", "regressions"] {
        for entry in std::fs::read_dir(fuzz_dir().join(dir))
            .into_iter()
            .flatten()
        {
            let entry = entry.expect("directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                names.contains(name.as_str()),
                "fuzz/{dir}/{name} belongs to no target, so nothing runs it"
            );
        }
    }
}

#[test]
fn every_target_has_a_cargo_fuzz_binary_calling_it() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("manifest");
    let manifest: toml::Table = toml::from_str(&manifest).expect("manifest parses");
    let bins: BTreeSet<String> = manifest["bin"]
        .as_array()
        .expect("[[bin]] tables")
        .iter()
        .map(|b| b["name"].as_str().expect("bin name").to_string())
        .collect();
    let files: BTreeSet<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let names: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(bins, names, "fuzz/Cargo.toml [[bin]] names");
    assert_eq!(files, names, "fuzz/fuzz_targets/*.rs");
    for name in &names {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&path).expect("target source");
        assert!(
            source.contains(&format!("rulesim::fuzz::{name}(data)")),
            "{} does not call rulesim::fuzz::{name}",
            path.display()
        );
    }
}

#[test]
fn the_end_to_end_ruleset_loads_whole() {
    let ctx = RuleContext {
        vars: VarTable::from_config(&rulesim::config::Vars::default()),
        ..RuleContext::default()
    };
    let (rules, errors) = rulesim::rules::parse_rules_text(FIXTURE_RULES, "fixture", &ctx);
    assert!(errors.is_empty(), "{errors:#?}");
    let written = FIXTURE_RULES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(rules.len(), written);
    let detect = DetectEngine::from_rules(rules, &ctx.vars, DetectSettings::default());
    assert!(detect.errors.is_empty(), "{:?}", detect.errors);
}

/// The fixed capture must make the fixed rules fire, or the targets that use them would
/// exercise little of detection.
#[test]
fn the_fixture_capture_triggers_the_fixture_rules() {
    let settings = Settings::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("fixture.pcap");
    std::fs::write(&pcap, rulesim::fuzz::fixture_capture()).expect("write");
    let ruleset = rulesim::rules::RuleSet {
        rules: rulesim::fuzz::fixture_rules().to_vec(),
        ..rulesim::rules::RuleSet::default()
    };
    let eval = rulesim::jobs::evaluate(
        &settings,
        &[pcap],
        ruleset,
        rulesim::output::EventOutput::discard(),
        1,
        |_, _, _| {},
    )
    .expect("evaluate");
    let fired: BTreeSet<u32> = eval
        .records
        .iter()
        .flat_map(|r| r.matches.iter().map(|m| m.rule.sid))
        .collect();
    for sid in [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 14] {
        assert!(
            fired.contains(&sid),
            "sid {sid} never fired; fired: {fired:?}"
        );
    }
    assert_eq!(eval.records.len(), 5, "one record per flow");
}
