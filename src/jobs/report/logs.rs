//! Reading logs already written: rulesim's or Suricata's `eve.json`, and AWS Network
//! Firewall alert and flow logs as delivered to S3 or exported from CloudWatch Logs (one
//! wrapped EVE record per line, gzip or not, a CloudWatch export's timestamp before each
//! record).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use super::{AlertSeen, ReportBuilder};
use crate::time::Timestamp;

/// A log file or line that could not be used.
#[derive(Debug, Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: read error: {source}")]
    Read {
        path: String,
        line: u64,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a JSON log record: {message}")]
    Record {
        path: String,
        line: u64,
        column: usize,
        message: String,
    },
}

/// What reading the logs found.
#[derive(Debug, Default)]
pub struct LogRead {
    pub files: Vec<PathBuf>,
    /// Records by event type (`alert`, `netflow`, ...; `other` without one).
    pub records: BTreeMap<String, u64>,
    /// Lines that could not be used (the rest of their file is still read).
    pub problems: Vec<LogError>,
}

/// Most problems kept (the rest are counted).
const MAX_PROBLEMS: usize = 50;

/// Log files under `inputs` (directories recursively, in name order; hidden files skipped).
pub fn log_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, LogError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LogError> {
        let open = |source| LogError::Open {
            path: dir.display().to_string(),
            source,
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(open)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in inputs {
        let meta = std::fs::metadata(p).map_err(|source| LogError::Open {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
struct AlertPart {
    action: Option<String>,
    gid: Option<u32>,
    signature_id: Option<u32>,
    rev: Option<u32>,
    signature: Option<String>,
}

#[derive(Deserialize, Default)]
struct TlsPart {
    sni: Option<String>,
}

#[derive(Deserialize, Default)]
struct HttpPart {
    hostname: Option<String>,
}

#[derive(Deserialize, Default)]
struct FlowPart {
    start: Option<String>,
    src_ip: Option<String>,
    action: Option<String>,
}

#[derive(Deserialize, Default)]
struct VerdictPart {
    action: Option<String>,
}

/// The fields of an EVE record the report reads (the rest are skipped); an AWS record
/// wraps one in `event`.
#[derive(Deserialize, Default)]
struct Record {
    timestamp: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    flow_id: Option<u64>,
    event_type: Option<String>,
    src_ip: Option<String>,
    dest_ip: Option<String>,
    direction: Option<String>,
    alert: Option<AlertPart>,
    tls: Option<TlsPart>,
    http: Option<HttpPart>,
    netflow: Option<FlowPart>,
    flow: Option<FlowPart>,
    verdict: Option<VerdictPart>,
    event: Option<Box<Record>>,
}

/// `flow_id` is a number in EVE; some exports quote it.
fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        N(u64),
        S(String),
    }
    Ok(match Option::<Id>::deserialize(d)? {
        Some(Id::N(n)) => Some(n),
        Some(Id::S(s)) => s.parse().ok(),
        None => None,
    })
}

fn ip(s: &Option<String>) -> Option<IpAddr> {
    s.as_deref().and_then(|s| s.parse().ok())
}

/// Reads every record of `files` into `builder`.
pub fn read_logs(
    files: &[PathBuf],
    builder: &mut ReportBuilder,
    mut progress: impl FnMut(u64),
) -> LogRead {
    let mut read = LogRead {
        files: files.to_vec(),
        ..LogRead::default()
    };
    let mut problems_dropped = 0u64;
    let mut keep = |read: &mut LogRead, e: LogError| {
        if read.problems.len() < MAX_PROBLEMS {
            read.problems.push(e);
        } else {
            problems_dropped += 1;
        }
    };
    for path in files {
        let name = path.display().to_string();
        let reader = match open(path) {
            Ok(r) => r,
            Err(source) => {
                keep(&mut read, LogError::Open { path: name, source });
                continue;
            }
        };
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let mut line = Vec::new();
        let mut n = 0u64;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(len) => progress(len as u64),
                Err(source) => {
                    keep(
                        &mut read,
                        LogError::Read {
                            path: name.clone(),
                            line: n + 1,
                            source,
                        },
                    );
                    break;
                }
            }
            n += 1;
            if let Err((column, message)) = read_line(&line, builder, &mut read.records) {
                keep(
                    &mut read,
                    LogError::Record {
                        path: name.clone(),
                        line: n,
                        column,
                        message,
                    },
                );
            }
        }
    }
    if problems_dropped > 0 {
        read.records
            .insert("unreadable (not listed)".into(), problems_dropped);
    }
    read
}

/// A file, through gzip when it starts with gzip's magic.
fn open(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let mut f = BufReader::new(File::open(path)?);
    let gz = f.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

/// One line: an EVE record, an AWS-wrapped one, or either after a CloudWatch export's
/// timestamp. Blank lines are skipped. Errors give the 1-based column.
fn read_line(
    line: &[u8],
    builder: &mut ReportBuilder,
    records: &mut BTreeMap<String, u64>,
) -> Result<(), (usize, String)> {
    let text =
        std::str::from_utf8(line).map_err(|e| (e.valid_up_to() + 1, "not UTF-8".to_string()))?;
    let trimmed = text.trim_end();
    if trimmed.trim_start().is_empty() {
        return Ok(());
    }
    let start = trimmed
        .find('{')
        .ok_or_else(|| (1, "no JSON object on the line".to_string()))?;
    let record: Record = serde_json::from_str(&trimmed[start..])
        .map_err(|e| (start + e.column().max(1), e.to_string()))?;
    let record = match record.event {
        Some(inner) => *inner,
        None => record,
    };
    let kind = record.event_type.clone().unwrap_or_else(|| "other".into());
    *records.entry(kind.clone()).or_default() += 1;
    let ts = record.timestamp.as_deref().and_then(Timestamp::parse_log);
    let sni = record.tls.as_ref().and_then(|t| t.sni.as_deref());
    let host = record.http.as_ref().and_then(|h| h.hostname.as_deref());
    match kind.as_str() {
        "alert" => {
            let Some(alert) = &record.alert else {
                return Err((start + 1, "alert record without an alert object".into()));
            };
            let Some(sid) = alert.signature_id else {
                return Err((start + 1, "alert without signature_id".into()));
            };
            let blocked = alert.action.as_deref() == Some("blocked");
            // The packet's verdict (newer logs): another rule may have dropped it.
            let packet_dropped = record
                .verdict
                .as_ref()
                .and_then(|v| v.action.as_deref())
                .is_some_and(|a| a == "drop" || a.starts_with("reject"));
            // The client: Suricata's alert flow{} names it; else the packet's direction.
            let client = record
                .flow
                .as_ref()
                .and_then(|f| ip(&f.src_ip))
                .or_else(|| match record.direction.as_deref() {
                    Some("to_client") => ip(&record.dest_ip),
                    _ => ip(&record.src_ip),
                });
            builder.log_app(record.flow_id, sni, host);
            builder.log_alert(
                record.flow_id,
                AlertSeen {
                    key: (alert.gid.unwrap_or(1), sid),
                    rev: alert.rev.unwrap_or(0),
                    msg: alert.signature.as_deref().unwrap_or(""),
                    blocked,
                    ts,
                    src_ip: ip(&record.src_ip),
                },
                client,
                packet_dropped,
            );
        }
        "netflow" | "flow" => {
            let part = record.netflow.as_ref().or(record.flow.as_ref());
            let start_ts = part
                .and_then(|p| p.start.as_deref())
                .and_then(Timestamp::parse_log)
                .or(ts);
            let dropped = record
                .flow
                .as_ref()
                .and_then(|f| f.action.as_deref())
                .is_some_and(|a| a == "drop");
            builder.log_flow(record.flow_id, start_ts, ip(&record.src_ip), dropped);
        }
        "tls" | "http" => builder.log_app(record.flow_id, sni, host),
        "drop" => builder.log_drop(record.flow_id),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::report::{ReportOptions, ReportSource, SourceKind};

    fn report_of(lines: &str) -> (crate::jobs::report::Report, BTreeMap<String, u64>) {
        let mut b = ReportBuilder::new(ReportOptions::default());
        let mut records = BTreeMap::new();
        for l in lines.lines() {
            read_line(l.as_bytes(), &mut b, &mut records).expect(l);
        }
        let r = b.finish(ReportSource {
            kind: SourceKind::Logs,
            inputs: vec![],
            mode: None,
            records: records.clone(),
            notes: vec![],
        });
        (r, records)
    }

    /// (verdict, decided by, flows) of each verdict row.
    fn verdicts(r: &crate::jobs::report::Report) -> Vec<(&str, &str, u64)> {
        r.verdicts
            .iter()
            .map(|v| (v.verdict, v.decided_by.as_str(), v.flows))
            .collect()
    }

    /// The AWS guide's alert and netflow records (spec: eve-output.md §6.2), wrapped, with a
    /// CloudWatch export's timestamp before one of them.
    #[test]
    fn aws_wrapped_alert_and_flow_records() {
        let lines = r#"{"firewall_name":"test-firewall","availability_zone":"us-east-1b","event_timestamp":"1602627001","event":{"timestamp":"2020-10-13T22:10:01.006481+0000","flow_id":1582438383425873,"event_type":"alert","src_ip":"203.0.113.4","src_port":55555,"dest_ip":"192.0.2.16","dest_port":111,"proto":"TCP","alert":{"action":"allowed","signature_id":5,"rev":0,"signature":"test_tcp","category":"","severity":1}}}
2025-03-14T15:30:04.000Z {"firewall_name":"use1-fw","availability_zone":"us-east-1b","event_timestamp":"1741966203","event":{"app_proto":"http","src_ip":"10.170.22.77","src_port":57516,"event_type":"alert","alert":{"severity":3,"signature_id":4,"rev":0,"signature":"aws:alert_established action","action":"blocked","category":""},"flow_id":1262530044160208,"dest_ip":"23.218.218.146","proto":"TCP","verdict":{"action":"drop"},"http":{"hostname":"ctldl.windowsupdate.com","url":"/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab","http_user_agent":"Microsoft-CryptoAPI/10.0","http_method":"GET","protocol":"HTTP/1.1","length":0},"dest_port":80,"timestamp":"2025-03-14T15:30:03.633598+0000","direction":"to_server"}}
{"firewall_name":"firewall","availability_zone":"us-east-1b","event_timestamp":"1601587565","event":{"timestamp":"2020-10-01T21:26:05.007515+0000","flow_id":1770453319291727,"event_type":"netflow","src_ip":"45.129.33.153","src_port":47047,"dest_ip":"172.31.16.139","dest_port":16463,"proto":"TCP","netflow":{"pkts":1,"bytes":60,"start":"2020-10-01T21:25:04.070479+0000","end":"2020-10-01T21:25:04.070479+0000","age":0,"min_ttl":241,"max_ttl":241},"tcp":{"tcp_flags":"02","syn":true}}}
"#;
        let (r, records) = report_of(lines);
        assert_eq!(records.get("alert"), Some(&2));
        assert_eq!(records.get("netflow"), Some(&1));
        assert_eq!(r.summary.flows, 3);
        assert_eq!(r.summary.alerts, 2);
        assert_eq!(r.summary.blocked_flows, 1);
        assert_eq!(r.summary.alerted_flows, 1);
        assert_eq!(r.summary.quiet_flows, 1);
        // The default action's alert blocked the host, from the client.
        assert_eq!(r.top_blocked_http_hosts.len(), 1);
        assert_eq!(r.top_blocked_http_hosts[0].name, "ctldl.windowsupdate.com");
        assert_eq!(
            r.top_blocked_http_hosts[0].blocked_by,
            vec!["aws:alert_established".to_string()]
        );
        assert_eq!(
            r.top_sources_for_blocked_fqdns[0].src_ip.to_string(),
            "10.170.22.77"
        );
        // AWS logs carry no gid: 1.
        let sid5 = r.rules.iter().find(|x| x.sid == 5).expect("sid 5");
        assert_eq!(
            (sid5.gid, sid5.allowed_alerts, sid5.blocked_alerts),
            (1, 1, 0)
        );
        assert_eq!(
            sid5.first_seen.as_deref(),
            Some("2020-10-13T22:10:01.006481+0000")
        );
        assert_eq!(r.top_allowed_alert_signatures.len(), 1);
        assert_eq!(r.top_allowed_alert_signatures[0].sid, 5);
        assert_eq!(
            verdicts(&r),
            vec![
                ("blocked", "default action aws:alert_established", 1),
                ("allowed", "no rule", 1),
                ("allowed", "no rule (alerts only)", 1),
            ]
        );
    }

    /// Suricata's own records: the two netflow records and the alert of one flow are one
    /// flow; the alert's flow{} names the client even for a to_client alert.
    #[test]
    fn suricata_records_of_one_flow_join_by_flow_id() {
        let lines = r#"{"timestamp":"2026-01-15T09:01:00.060000+0000","flow_id":77,"event_type":"alert","src_ip":"198.51.100.10","src_port":443,"dest_ip":"10.0.0.10","dest_port":52000,"proto":"TCP","alert":{"action":"blocked","gid":1,"signature_id":9,"rev":2,"signature":"bad cert"},"tls":{"sni":"bad.example"},"direction":"to_client","flow":{"src_ip":"10.0.0.10","dest_ip":"198.51.100.10","start":"2026-01-15T09:01:00.000000+0000"}}
{"timestamp":"2026-01-15T09:02:00.000000+0000","flow_id":77,"event_type":"netflow","src_ip":"10.0.0.10","dest_ip":"198.51.100.10","netflow":{"start":"2026-01-15T09:01:00.000000+0000"}}
{"timestamp":"2026-01-15T09:02:00.000000+0000","flow_id":77,"event_type":"netflow","src_ip":"198.51.100.10","dest_ip":"10.0.0.10","netflow":{"start":"2026-01-15T09:01:00.000000+0000"}}

{"timestamp":"2026-01-15T09:02:00.000000+0000","flow_id":"78","event_type":"stats"}
"#;
        let (r, records) = report_of(lines);
        assert_eq!(records.get("stats"), Some(&1));
        assert_eq!(r.summary.flows, 1);
        assert_eq!(r.summary.blocked_flows, 1);
        assert_eq!(r.top_blocked_sni[0].name, "bad.example");
        assert_eq!(r.top_blocked_sni[0].blocked_by, vec!["1:9".to_string()]);
        assert_eq!(
            r.top_sources_for_blocked_fqdns[0].src_ip.to_string(),
            "10.0.0.10"
        );
        // Per signature, sources are the alerting packet's src_ip (as a Logs Insights
        // `stats count(*) by src_ip` gives).
        assert_eq!(
            r.top_sources_per_signature[0].src_ip.to_string(),
            "198.51.100.10"
        );
        assert_eq!(r.rules[0].alerts_per_1000_flows, Some(1000.0));
        assert_eq!(r.timeline.buckets.len(), 1);
        assert_eq!(r.timeline.buckets[0].blocked, 1);
    }

    /// Suricata's IPS `drop` record blocks its flow even when no alert was written (a
    /// `noalert` drop rule); a blocking alert, when there is one, names the rule.
    #[test]
    fn a_drop_record_blocks_its_flow() {
        let lines = r#"{"timestamp":"2026-01-15T09:00:00.000000+0000","flow_id":1,"event_type":"drop","src_ip":"10.0.0.1","dest_ip":"198.51.100.1","drop":{"len":60}}
{"timestamp":"2026-01-15T09:00:09.000000+0000","flow_id":1,"event_type":"netflow","src_ip":"10.0.0.1","dest_ip":"198.51.100.1","netflow":{"start":"2026-01-15T09:00:00.000000+0000"}}
{"timestamp":"2026-01-15T09:00:01.000000+0000","flow_id":2,"event_type":"drop","src_ip":"10.0.0.2","dest_ip":"198.51.100.1","drop":{"len":60}}
{"timestamp":"2026-01-15T09:00:01.000000+0000","flow_id":2,"event_type":"alert","src_ip":"10.0.0.2","dest_ip":"198.51.100.1","alert":{"action":"blocked","gid":1,"signature_id":3,"rev":1,"signature":"d"}}
{"timestamp":"2026-01-15T09:00:09.000000+0000","flow_id":3,"event_type":"netflow","src_ip":"10.0.0.3","dest_ip":"198.51.100.1","netflow":{"start":"2026-01-15T09:00:02.000000+0000"}}
"#;
        let (r, _) = report_of(lines);
        assert_eq!(r.summary.flows, 3);
        assert_eq!(r.summary.blocked_flows, 2);
        assert_eq!(
            verdicts(&r),
            vec![
                ("blocked", "not logged", 1),
                ("blocked", "rule", 1),
                ("allowed", "no rule", 1),
            ]
        );
    }

    #[test]
    fn bad_lines_name_their_column() {
        let mut b = ReportBuilder::new(ReportOptions::default());
        let mut records = BTreeMap::new();
        let e = read_line(b"{\"event_type\": alert}", &mut b, &mut records).unwrap_err();
        assert_eq!(e.0, 16);
        let e = read_line(b"2025-01-01 no json here", &mut b, &mut records).unwrap_err();
        assert!(e.1.contains("no JSON object"), "{}", e.1);
        let e = read_line(
            b"{\"event_type\":\"alert\",\"alert\":{}}",
            &mut b,
            &mut records,
        )
        .unwrap_err();
        assert!(e.1.contains("signature_id"), "{}", e.1);
        let e = read_line(b"{\"a\":\"\xff\"}", &mut b, &mut records).unwrap_err();
        assert_eq!(e.0, 7);
    }
}
