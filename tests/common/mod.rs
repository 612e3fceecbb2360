//! Helpers shared by the end-to-end tests: addresses and generated captures.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use rulesim::synth::packets::Link;
use rulesim::synth::{PcapWriter, TimedPacket};

pub fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address literal")
}

/// Writes `packets` as an Ethernet pcap.
pub fn write_pcap(path: &Path, packets: &[TimedPacket]) {
    let mut w = PcapWriter::new(Vec::new(), 1).expect("header");
    for p in packets {
        w.packet(p.ts, &Link::ethernet().wrap(&p.ip))
            .expect("packet");
    }
    std::fs::write(path, w.into_inner()).expect("write pcap");
}

/// Runs rulesim quietly on `pcap` with `args` (rule sources, settings), inline timing
/// when `ips`; the run must succeed. Returns its `eve.json`.
pub fn eve_of_run(pcap: &Path, args: &[&OsStr], ips: bool) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesim"));
    cmd.arg("-q")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .arg("-l")
        .arg(dir.path());
    if ips {
        cmd.arg("--simulate-ips");
    }
    let out = cmd.output().expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eve = std::fs::read_to_string(dir.path().join("eve.json")).expect("eve.json");
    check_eve_schema(&eve, &pcap.display().to_string());
    eve
}

/// Runs rulesim on `packets` with the rule text `rules` (inline timing when `ips`) and
/// returns its alert records. `RULESIM_KEEP_PCAP=<path>` keeps the capture (and the rules
/// beside it, `<path>.rules`) to replay the same input with Suricata.
pub fn alerts_of_run(packets: &[TimedPacket], rules: &str, ips: bool) -> Vec<serde_json::Value> {
    let args: &[&str] = if ips { &["--simulate-ips"] } else { &[] };
    alerts_and_stats(packets, rules, args).0
}

/// Runs rulesim quietly on `packets` with the rule text `rules` and extra `args`; returns
/// its alert records and `stats.json`. `RULESIM_KEEP_PCAP` keeps the capture as
/// [`alerts_of_run`] does.
pub fn alerts_and_stats(
    packets: &[TimedPacket],
    rules: &str,
    args: &[&str],
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, packets);
    if let Some(keep) = std::env::var_os("RULESIM_KEEP_PCAP") {
        std::fs::copy(&pcap, &keep).expect("keep pcap");
        std::fs::write(format!("{}.rules", keep.to_string_lossy()), rules).expect("keep rules");
    }
    let rules_path = dir.path().join("r.rules");
    std::fs::write(&rules_path, rules).expect("rules");
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .arg("-q")
        .arg("-r")
        .arg(&pcap)
        .arg("-S")
        .arg(&rules_path)
        .arg("-l")
        .arg(&out_dir)
        .args(args)
        .output()
        .expect("run rulesim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eve = std::fs::read_to_string(out_dir.join("eve.json")).expect("eve.json");
    check_eve_schema(&eve, "a generated capture");
    let alerts = eve
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|r| r["event_type"] == "alert")
        .collect();
    let stats = serde_json::from_slice(&std::fs::read(out_dir.join("stats.json")).expect("stats"))
        .expect("stats json");
    (alerts, stats)
}

/// Where Suricata 7.0.10's EVE schema is: `RULESIM_EVE_SCHEMA` (which must name the file:
/// CI sets it, so a wrong path fails rather than skips), else `../shared/spec/` beside the
/// repository when it is there.
pub fn eve_schema_path() -> Option<std::path::PathBuf> {
    match std::env::var_os("RULESIM_EVE_SCHEMA") {
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            assert!(
                path.is_file(),
                "RULESIM_EVE_SCHEMA={} is not a file: the schema path is wrong",
                path.display()
            );
            Some(path)
        }
        None => {
            let beside =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/eve-schema-7.0.10.json");
            beside.is_file().then_some(beside)
        }
    }
}

/// Suricata's EVE schema, compiled: as shipped for EVE records, and with AWS's documented
/// additions for the `event` of AWS-wrapped records.
pub struct EveSchema {
    suricata: jsonschema::Validator,
    aws: jsonschema::Validator,
}

/// The schema, compiled once per test process; `None` when it is not found.
pub fn eve_schema() -> Option<&'static EveSchema> {
    static SCHEMA: std::sync::OnceLock<Option<EveSchema>> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = eve_schema_path()?;
            let text = std::fs::read_to_string(&path).expect("read the EVE schema");
            let mut schema: serde_json::Value =
                serde_json::from_str(&text).expect("the EVE schema is JSON");
            add_what_suricata_writes_beyond_its_schema(&mut schema);
            let compile = |s: &serde_json::Value| {
                jsonschema::validator_for(s).expect("the EVE schema compiles")
            };
            // AWS Network Firewall's flow log adds `state`, `reason` and `alerted` to the
            // netflow object (the spec's eve-output.md §4 and §6); Suricata's schema has
            // no room for them.
            let mut aws = schema.clone();
            let netflow = &mut aws["properties"]["netflow"]["properties"];
            netflow["state"] = serde_json::json!({"type": "string"});
            netflow["reason"] = serde_json::json!({"type": "string"});
            netflow["alerted"] = serde_json::json!({"type": "boolean"});
            Some(EveSchema {
                suricata: compile(&schema),
                aws: compile(&aws),
            })
        })
        .as_ref()
}

/// Suricata 7.0.10 writes a few DNS fields its own schema has no room for
/// (`rust/src/dns/log.rs`: `dns_log_json_answer_detail` and the grouped answers log SOA,
/// SSHFP, SRV and NS data, and `rdata_truncated`); rulesim writes them as Suricata does
/// (`tests/dns_records.rs` holds them to Suricata's real output), so the schema is widened
/// by exactly these, shaped as Suricata writes them, and nothing else.
fn add_what_suricata_writes_beyond_its_schema(schema: &mut serde_json::Value) {
    use serde_json::json;
    let dns = &mut schema["properties"]["dns"]["properties"];
    let soa = dns["authorities"]["items"]["properties"]["soa"].clone();
    assert!(soa.is_object(), "the schema's SOA object moved");
    let sshfp = json!({
        "type": "object",
        "properties": {
            "fingerprint": {"type": "string"},
            "algo": {"type": "integer"},
            "type": {"type": "integer"}
        },
        "additionalProperties": false
    });
    let srv = dns["answers"]["items"]["properties"]["srv"].clone();
    for section in ["answers", "authorities"] {
        let item = &mut dns[section]["items"]["properties"];
        item["soa"] = soa.clone();
        item["sshfp"] = sshfp.clone();
        item["srv"] = srv.clone();
        item["rdata_truncated"] = json!({"type": "boolean"});
        item["rrname_truncated"] = json!({"type": "boolean"});
    }
    let grouped = &mut dns["grouped"]["properties"];
    grouped["SOA"] = json!({"type": "array", "minItems": 1, "items": soa});
    grouped["SSHFP"] = json!({"type": "array", "minItems": 1, "items": sshfp});
    grouped["SRV"] = json!({"type": "array", "minItems": 1, "items": srv});
    grouped["NS"] = json!({"type": "array", "minItems": 1, "items": {"type": "string"}});
}

impl EveSchema {
    /// Validates every line of an EVE file; panics naming the first records that do not
    /// follow the schema. Returns the number of records of each `event_type`.
    pub fn check(&self, eve: &str, what: &str) -> std::collections::BTreeMap<String, usize> {
        check_lines(&self.suricata, eve, what, |v| v)
    }

    /// Validates the `event` of every AWS-wrapped line (`flow.json`, `alert.json`), and
    /// that the wrapper has AWS's fields.
    pub fn check_aws(&self, log: &str, what: &str) -> std::collections::BTreeMap<String, usize> {
        for (n, line) in log.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}: line {}: not JSON: {e}", n + 1));
            for key in [
                "firewall_name",
                "availability_zone",
                "event_timestamp",
                "event",
            ] {
                assert!(
                    v.get(key).is_some(),
                    "{what}: line {} has no `{key}`",
                    n + 1
                );
            }
        }
        check_lines(&self.aws, log, what, |v| &v["event"])
    }
}

fn check_lines(
    validator: &jsonschema::Validator,
    text: &str,
    what: &str,
    part: impl Fn(&serde_json::Value) -> &serde_json::Value,
) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{what}: line {}: not JSON: {e}", n + 1));
        let record = part(&v);
        let kind = record["event_type"].as_str().unwrap_or("?").to_string();
        *counts.entry(kind).or_insert(0) += 1;
        for e in validator.iter_errors(record) {
            if problems.len() < 10 {
                problems.push(format!(
                    "line {}: {} at {}: {e}",
                    n + 1,
                    record["event_type"],
                    e.instance_path()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: records that do not follow Suricata 7.0.10's EVE schema:\n{}",
        problems.join("\n")
    );
    counts
}

/// Checks an EVE file against the schema when the schema is available (every run of the
/// end-to-end helpers goes through this).
pub fn check_eve_schema(eve: &str, what: &str) {
    if let Some(schema) = eve_schema() {
        schema.check(eve, what);
    }
}

/// A record as the end-to-end tests summarise it to hold it to Suricata's: (event type,
/// `pcap_cnt`, source port, destination port, `what` the test picks from it).
pub fn record_row(r: &serde_json::Value, what: String) -> (String, u64, u64, u64, String) {
    (
        r["event_type"].as_str().unwrap_or("").to_string(),
        r["pcap_cnt"].as_u64().unwrap_or(0),
        r["src_port"].as_u64().unwrap_or(0),
        r["dest_port"].as_u64().unwrap_or(0),
        what,
    )
}
