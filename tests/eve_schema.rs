//! Every EVE record rulesim writes follows Suricata 7.0.10's own schema
//! (`../shared/spec/eve-schema-7.0.10.json`, or `RULESIM_EVE_SCHEMA`), checked with a JSON
//! Schema validator. The end-to-end helpers in `common` check every run they make; this
//! file checks the bundled sample with every record type, in both timings and with the AWS
//! log wrapper. The conformance corpus is checked in `tests/conformance.rs`.

mod common;

use std::process::Command;

use serde_json::json;

/// The schema, or `None` (with a note) when it is not beside the repository and
/// `RULESIM_EVE_SCHEMA` is not set.
fn schema() -> Option<&'static common::EveSchema> {
    let schema = common::eve_schema();
    if schema.is_none() {
        eprintln!(
            "Suricata's EVE schema not found beside the repository; set RULESIM_EVE_SCHEMA=<path> to check it"
        );
    }
    schema
}

/// The check has teeth: what Suricata would not write is refused, and AWS's netflow
/// additions pass only in AWS-wrapped records.
#[test]
fn records_suricata_would_not_write_are_refused() {
    let Some(schema) = schema() else {
        return;
    };
    let netflow = json!({
        "timestamp": "2023-11-14T22:13:20.100000+0000",
        "flow_id": 1,
        "event_type": "netflow",
        "src_ip": "10.0.0.5",
        "src_port": 40003,
        "dest_ip": "93.184.216.34",
        "dest_port": 80,
        "proto": "TCP",
        "app_proto": "http",
        "netflow": {"pkts": 6, "bytes": 419, "start": "2023-11-14T22:13:20.010000+0000",
                    "end": "2023-11-14T22:13:20.100000+0000", "age": 0, "min_ttl": 64, "max_ttl": 64},
    });
    let line = |v: &serde_json::Value| format!("{v}\n");
    schema.check(&line(&netflow), "a netflow record from the spec");

    let refused = |v: serde_json::Value| {
        let text = line(&v);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            schema.check(&text, "a record")
        }))
        .is_err()
    };
    let mut unknown = netflow.clone();
    unknown["verdict_of_rulesim"] = json!(true);
    assert!(refused(unknown), "an unknown top-level field");
    let mut wrong_type = netflow.clone();
    wrong_type["netflow"]["pkts"] = json!("6");
    assert!(refused(wrong_type), "a count as a string");
    let mut aws_fields = netflow.clone();
    aws_fields["netflow"]["state"] = json!("closed");
    assert!(
        refused(aws_fields.clone()),
        "AWS's netflow state in a Suricata record"
    );

    let wrapped = json!({
        "firewall_name": "fw",
        "availability_zone": "us-east-1a",
        "event_timestamp": "1700000000",
        "event": aws_fields,
    });
    schema.check_aws(&line(&wrapped), "an AWS flow log record");
    let bad_alert = json!({
        "firewall_name": "fw",
        "availability_zone": "us-east-1a",
        "event_timestamp": "1700000000",
        "event": {"timestamp": "2023-11-14T22:13:20.100000+0000", "event_type": "alert",
                  "alert": {"action": "blocked", "signature_id": "2"}},
    });
    let text = line(&bad_alert);
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            schema.check_aws(&text, "an AWS alert")
        }))
        .is_err(),
        "a sid as a string inside the AWS wrapper"
    );
}

/// The bundled sample, every record type rulesim writes, IDS and inline, with the AWS log
/// wrapper: all of it follows the schema.
#[test]
fn the_sample_runs_records_follow_suricatas_schema() {
    let Some(schema) = schema() else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for ips in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rulesim"));
        cmd.arg("-q")
            .arg("-r")
            .arg(root.join("pcaps"))
            .arg("-S")
            .arg(root.join("rules"))
            .args(["--eve-types", "alert,netflow,tls,http,dns,anomaly"])
            .args(["--aws-log", "sample-firewall"])
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
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect(name);
        let counts = schema.check(&read("eve.json"), "the sample's eve.json");
        for kind in ["alert", "netflow", "http", "dns"] {
            assert!(
                counts.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} record in the sample's eve.json (ips: {ips}): {counts:?}"
            );
        }
        let flows = schema.check_aws(&read("flow.json"), "the sample's AWS flow log");
        assert!(flows.get("netflow").copied().unwrap_or(0) > 0, "{flows:?}");
        let alerts = schema.check_aws(&read("alert.json"), "the sample's AWS alert log");
        assert!(alerts.get("alert").copied().unwrap_or(0) > 0, "{alerts:?}");
    }
}
