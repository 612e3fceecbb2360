//! The report's tables, once, for every format: aligned text for a terminal, CSV, and
//! the HTML page ([`super::html`]).

use std::io::Write;

use super::{Report, SourceKind};

/// A column: its name (the CSV header) and whether it holds numbers (right-aligned,
/// sorted numerically in HTML).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub numeric: bool,
    /// Shown in the terminal (the CSV and HTML forms have every column).
    pub in_text: bool,
}

const fn col(name: &'static str, numeric: bool) -> Column {
    Column {
        name,
        numeric,
        in_text: true,
    }
}

const fn hidden(name: &'static str, numeric: bool) -> Column {
    Column {
        name,
        numeric,
        in_text: false,
    }
}

/// One table of the report.
#[derive(Clone, Debug)]
pub struct Table {
    /// Stable name (`--table`, CSV, HTML `data-table`).
    pub name: &'static str,
    pub title: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

/// Table names, in the order they are shown.
pub const TABLE_NAMES: [&str; 8] = [
    "verdicts",
    "rules",
    "never-hit",
    "top-blocked-sni",
    "top-blocked-hosts",
    "top-sources-blocked-fqdn",
    "top-allowed-alert-signatures",
    "top-sources-per-signature",
];

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn num(n: u64) -> String {
    n.to_string()
}

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.1}")).unwrap_or_default()
}

/// Every table of `report` (the timeline is a chart, in JSON and HTML).
pub fn tables(report: &Report) -> Vec<Table> {
    let replay = report.source.kind == SourceKind::Replay;
    let mut out = Vec::new();
    out.push(Table {
        name: "verdicts",
        title: "Flows per verdict",
        columns: vec![
            col("verdict", false),
            col("decided_by", false),
            col("flows", true),
            col("percent", true),
        ],
        rows: report
            .verdicts
            .iter()
            .map(|v| {
                vec![
                    v.verdict.to_string(),
                    v.decided_by.clone(),
                    num(v.flows),
                    format!("{:.1}", v.percent),
                ]
            })
            .collect(),
    });
    let mut rule_cols = vec![
        hidden("gid", true),
        col("sid", true),
        hidden("rev", true),
        col("action", false),
        col("msg", false),
        col("alerts", true),
        col("blocked", true),
        hidden("allowed", true),
        col("flows", true),
    ];
    if replay {
        rule_cols.extend([
            col("hit_flows", true),
            col("decided", true),
            col("shadowed", true),
        ]);
    }
    rule_cols.extend([
        col("per_1000_flows", true),
        hidden("first_seen", false),
        hidden("last_seen", false),
        col("location", false),
    ]);
    out.push(Table {
        name: "rules",
        title: "Rules hit",
        columns: rule_cols,
        rows: report
            .rules
            .iter()
            .map(|r| {
                let mut row = vec![
                    num(r.gid.into()),
                    num(r.sid.into()),
                    num(r.rev.into()),
                    opt(&r.action),
                    r.msg.clone(),
                    num(r.alerts),
                    num(r.blocked_alerts),
                    num(r.allowed_alerts),
                    num(r.flows),
                ];
                if replay {
                    row.extend([
                        num(r.hit_flows),
                        num(r.decided_flows),
                        num(r.shadowed_flows),
                    ]);
                }
                row.extend([
                    rate(r.alerts_per_1000_flows),
                    opt(&r.first_seen),
                    opt(&r.last_seen),
                    opt(&r.location),
                ]);
                row
            })
            .collect(),
    });
    if let Some(never) = &report.never_hit {
        out.push(Table {
            name: "never-hit",
            title: "Rules never hit",
            columns: vec![
                hidden("gid", true),
                col("sid", true),
                hidden("rev", true),
                col("action", false),
                col("msg", false),
                col("shadowed", true),
                col("location", false),
            ],
            rows: never
                .iter()
                .map(|r| {
                    vec![
                        num(r.gid.into()),
                        num(r.sid.into()),
                        num(r.rev.into()),
                        r.action.clone(),
                        r.msg.clone(),
                        num(r.shadowed_flows),
                        r.location.clone(),
                    ]
                })
                .collect(),
        });
    }
    let names = |name, title, rows: &[super::NameRow], what| Table {
        name,
        title,
        columns: vec![
            col(what, false),
            col("flows", true),
            col("alerts", true),
            col("blocked_by", false),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    num(r.flows),
                    num(r.alerts),
                    r.blocked_by.join(" "),
                ]
            })
            .collect(),
    };
    out.push(names(
        "top-blocked-sni",
        "Top blocked TLS SNIs",
        &report.top_blocked_sni,
        "sni",
    ));
    out.push(names(
        "top-blocked-hosts",
        "Top blocked HTTP hosts",
        &report.top_blocked_http_hosts,
        "host",
    ));
    out.push(Table {
        name: "top-sources-blocked-fqdn",
        title: "Top source IPs for blocked FQDNs",
        columns: vec![col("fqdn", false), col("src_ip", false), col("flows", true)],
        rows: report
            .top_sources_for_blocked_fqdns
            .iter()
            .map(|r| vec![r.fqdn.clone(), r.src_ip.to_string(), num(r.flows)])
            .collect(),
    });
    out.push(Table {
        name: "top-allowed-alert-signatures",
        title: "Top signatures among allowed alerts",
        columns: vec![
            hidden("gid", true),
            col("sid", true),
            col("msg", false),
            col("alerts", true),
            col("flows", true),
        ],
        rows: report
            .top_allowed_alert_signatures
            .iter()
            .map(|r| {
                vec![
                    num(r.gid.into()),
                    num(r.sid.into()),
                    r.msg.clone(),
                    num(r.alerts),
                    num(r.flows),
                ]
            })
            .collect(),
    });
    out.push(Table {
        name: "top-sources-per-signature",
        title: "Top source IPs per signature",
        columns: vec![
            hidden("gid", true),
            col("sid", true),
            col("msg", false),
            col("src_ip", false),
            col("alerts", true),
        ],
        rows: report
            .top_sources_per_signature
            .iter()
            .map(|r| {
                vec![
                    num(r.gid.into()),
                    num(r.sid.into()),
                    r.msg.clone(),
                    r.src_ip.to_string(),
                    num(r.alerts),
                ]
            })
            .collect(),
    });
    out
}

/// The one-paragraph summary that heads the text and HTML forms.
pub fn headline(report: &Report) -> Vec<String> {
    let s = &report.summary;
    let src = &report.source;
    let what = match src.kind {
        SourceKind::Replay => format!(
            "replay of {} capture file(s){}",
            src.inputs.len(),
            src.mode
                .map(|m| format!(" ({} timing)", m.to_uppercase()))
                .unwrap_or_default()
        ),
        SourceKind::Logs => format!("{} log file(s)", src.inputs.len()),
    };
    let mut lines = vec![format!(
        "{what}: {} flows ({} blocked, {} allowed with alerts, {} allowed without), {} alerts",
        s.flows, s.blocked_flows, s.alerted_flows, s.quiet_flows, s.alerts
    )];
    let mut rules = format!("{} rules hit", s.rules_hit);
    if let Some(n) = s.rules {
        rules.push_str(&format!(" of {n}"));
    }
    if let Some(n) = s.rules_never_hit {
        rules.push_str(&format!(", {n} never hit"));
    }
    if let (Some(a), Some(b)) = (&s.first_flow, &s.last_flow) {
        rules.push_str(&format!("; flows from {a} to {b}"));
    }
    lines.push(rules);
    for n in &src.notes {
        lines.push(format!("note: {n}"));
    }
    for t in &report.approximate {
        lines.push(format!(
            "note: {t} is approximate (more distinct keys than counted exactly)"
        ));
    }
    lines
}

/// Cuts `s` to `max` characters, marking the cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Most rows of a table shown in the terminal.
const MAX_TEXT_ROWS: usize = 200;

/// Aligned tables for a terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for l in headline(report) {
        out.push_str(&l);
        out.push('\n');
    }
    for t in tables(report) {
        out.push('\n');
        out.push_str(&format!("{} ({})\n", t.title, t.rows.len()));
        if t.rows.is_empty() {
            out.push_str("  (none)\n");
            continue;
        }
        let shown: Vec<usize> = (0..t.columns.len())
            .filter(|&i| t.columns[i].in_text)
            .collect();
        let cells: Vec<Vec<String>> = t
            .rows
            .iter()
            .take(MAX_TEXT_ROWS)
            .map(|r| {
                shown
                    .iter()
                    .map(|&i| match t.columns[i].name {
                        "location" => r[i].clone(),
                        _ => clip(&r[i], 60),
                    })
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = shown.iter().map(|&i| t.columns[i].name.len()).collect();
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let mut l = String::from(" ");
            for ((c, w), &i) in cells.iter().zip(&widths).zip(&shown) {
                let pad = w - c.chars().count();
                l.push(' ');
                if t.columns[i].numeric {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    l.push_str(&" ".repeat(pad));
                }
            }
            l.trim_end().to_string() + "\n"
        };
        out.push_str(&line(shown.iter().map(|&i| t.columns[i].name).collect()));
        for row in &cells {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        if t.rows.len() > MAX_TEXT_ROWS {
            out.push_str(&format!(
                "  ... and {} more (--format csv --table {} lists them all)\n",
                t.rows.len() - MAX_TEXT_ROWS,
                t.name
            ));
        }
    }
    out
}

/// One table as CSV (a header, then the rows, every column).
pub fn csv(report: &Report, table: &str, out: impl Write) -> Result<(), String> {
    let tables = tables(report);
    let t = tables.iter().find(|t| t.name == table).ok_or_else(|| {
        format!(
            "no table {table} in this report (tables: {})",
            tables.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        )
    })?;
    let mut w = ::csv::Writer::from_writer(out);
    let err = |e: ::csv::Error| e.to_string();
    w.write_record(t.columns.iter().map(|c| c.name))
        .map_err(err)?;
    for row in &t.rows {
        w.write_record(row).map_err(err)?;
    }
    w.flush().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::report::{ReportBuilder, ReportOptions, ReportSource};
    use crate::trace::RuleRef;

    fn rule(sid: u32) -> RuleRef {
        RuleRef {
            gid: 1,
            sid,
            rev: 1,
            action: "alert".into(),
            msg: format!("rule {sid}, \"quoted\""),
            source: "x.rules".into(),
            line: sid as usize,
            position: sid as usize - 1,
            group: None,
            group_priority: None,
        }
    }

    fn report_of_unhit_rules(n: u32) -> Report {
        let rules: Vec<RuleRef> = (1..=n).map(rule).collect();
        let mut b = ReportBuilder::new(ReportOptions::default());
        b.know_rules(rules.iter());
        b.finish(ReportSource {
            kind: SourceKind::Replay,
            inputs: vec!["a.pcap".into()],
            mode: Some("ids"),
            records: Default::default(),
            notes: vec![],
        })
    }

    #[test]
    fn long_tables_are_cut_in_the_terminal_but_not_in_csv() {
        let r = report_of_unhit_rules(250);
        let out = text(&r);
        assert!(out.contains("Rules never hit (250)\n"), "{out}");
        assert!(out.contains("  ... and 50 more (--format csv --table never-hit lists them all)\n"));
        // Written order: rule 200 is the last shown.
        assert!(out.contains("rule 200, \"quoted\""));
        assert!(!out.contains("rule 201,"));
        let mut csv_out = Vec::new();
        csv(&r, "never-hit", &mut csv_out).expect("csv");
        let csv_text = String::from_utf8(csv_out).expect("utf-8");
        assert_eq!(csv_text.lines().count(), 251);
        // Commas and quotes are quoted as CSV readers expect.
        assert!(
            csv_text.contains("1,1,1,alert,\"rule 1, \"\"quoted\"\"\",0,x.rules:1\n"),
            "{csv_text}"
        );
        assert!(csv(&r, "nope", Vec::new()).is_err());
    }
}
