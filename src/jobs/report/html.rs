//! The report as one self-contained HTML page: inline CSS, charts as inline SVG, a few
//! lines of inline script to sort tables, and a Content-Security-Policy that forbids any
//! request, so the page opens the same offline, from a CI artifact or a mail.

use std::fmt::Write as _;

use super::render::{headline, tables, Table};
use super::Report;
use crate::jobs::expect::xml_escape as esc;

/// Rules drawn in the hits-per-rule chart.
const CHART_RULES: usize = 25;
/// Rows written per table (the CSV and JSON forms have them all).
const MAX_HTML_ROWS: usize = 2000;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1d2430;background:#fff}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 8px}
p.line{margin:2px 0;color:#3b4656}p.note{margin:2px 0;color:#8a5a00}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{border:1px solid #d8dee8;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#5b6678;font-size:12px}
table.report{border-collapse:collapse;width:100%;font-size:13px}
table.report th,table.report td{border-bottom:1px solid #e3e8ef;padding:3px 8px;text-align:left;vertical-align:top}
table.report th{background:#f3f6fa;cursor:pointer;user-select:none;white-space:nowrap}
table.report th[data-sorted=asc]::after{content:" \25B2"}table.report th[data-sorted=desc]::after{content:" \25BC"}
table.report td.num,table.report th.num{text-align:right;font-variant-numeric:tabular-nums}
table.report td{overflow-wrap:anywhere}table.report td.num{white-space:nowrap;overflow-wrap:normal}
td.c-msg{min-width:16em}td.c-location{min-width:14em;font-size:12px}td.c-first_seen,td.c-last_seen{white-space:nowrap}p.empty{color:#5b6678}
svg.chart{display:block;max-width:100%;height:auto}
svg.chart text{font:12px system-ui,sans-serif;fill:#1d2430}
.blocked{fill:#c8373b}.alerted{fill:#e59b1c}.allowed{fill:#7fa7c9}.hits{fill:#9aa4b2}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
.legend .blocked{background:#c8373b}.legend .alerted{background:#e59b1c}.legend .allowed{background:#7fa7c9}.legend .hits{background:#9aa4b2}
"#;

const SCRIPT: &str = r#"
document.querySelectorAll("table.report").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var dir = th.getAttribute("data-sorted") === "asc" ? "desc" : "asc";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("data-sorted"); });
      th.setAttribute("data-sorted", dir);
      var numeric = th.classList.contains("num");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return dir === "asc" ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"#;

/// The page.
pub fn page(report: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>rulesim report</title>\n<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<h1>rulesim report</h1>\n");
    for (i, l) in headline(report).iter().enumerate() {
        let class = if l.starts_with("note:") {
            "note"
        } else {
            "line"
        };
        let _ = writeln!(h, "<p class=\"{class}\" data-line=\"{i}\">{}</p>", esc(l));
    }
    cards(&mut h, report);
    h.push_str("<h2>Hits per rule</h2>\n");
    hits_chart(&mut h, report);
    let _ = writeln!(
        h,
        "<h2>Flows over time</h2>\n<p class=\"line\">Flows by start time, {}-second buckets{}.</p>",
        report.timeline.bucket_seconds,
        if report.timeline.undated_flows > 0 {
            format!(
                "; {} flows without a start time are not drawn",
                report.timeline.undated_flows
            )
        } else {
            String::new()
        }
    );
    timeline_chart(&mut h, report);
    for t in tables(report) {
        table(&mut h, &t);
    }
    h.push_str("<script>");
    h.push_str(SCRIPT);
    h.push_str("</script>\n</body>\n</html>\n");
    h
}

fn cards(h: &mut String, r: &Report) {
    let s = &r.summary;
    let mut items = vec![
        ("flows", s.flows.to_string()),
        ("blocked", s.blocked_flows.to_string()),
        ("allowed with alerts", s.alerted_flows.to_string()),
        ("allowed, no alert", s.quiet_flows.to_string()),
        ("alerts", s.alerts.to_string()),
        ("rules hit", s.rules_hit.to_string()),
    ];
    if let Some(n) = s.rules_never_hit {
        items.push(("rules never hit", n.to_string()));
    }
    h.push_str("<div class=\"cards\">\n");
    for (label, value) in items {
        let _ = writeln!(
            h,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(label)
        );
    }
    h.push_str("</div>\n");
}

fn table(h: &mut String, t: &Table) {
    let _ = writeln!(h, "<h2>{} ({})</h2>", esc(t.title), t.rows.len());
    let _ = write!(
        h,
        "<table class=\"report\" data-table=\"{}\">\n<thead><tr>",
        t.name
    );
    for c in &t.columns {
        let class = if c.numeric { " class=\"num\"" } else { "" };
        let _ = write!(h, "<th{class}>{}</th>", esc(c.name));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in t.rows.iter().take(MAX_HTML_ROWS) {
        h.push_str("<tr>");
        for (c, cell) in t.columns.iter().zip(row) {
            let class = if c.numeric { "num" } else { "text" };
            let _ = write!(h, "<td class=\"{class} c-{}\">{}</td>", c.name, esc(cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    if t.rows.is_empty() {
        h.push_str("<p class=\"empty\">None.</p>\n");
    } else if t.rows.len() > MAX_HTML_ROWS {
        let _ = writeln!(
            h,
            "<p class=\"note\">{} more rows: rulesim report --format csv --table {} has them all.</p>",
            t.rows.len() - MAX_HTML_ROWS,
            t.name
        );
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// Horizontal bars: blocked and allowed alerts per rule; rules that matched without
/// alerting (pass, `noalert`) show their matched flows in grey.
fn hits_chart(h: &mut String, r: &Report) {
    let rules: Vec<_> = r.rules.iter().take(CHART_RULES).collect();
    let value = |x: &super::RuleRow| if x.alerts > 0 { x.alerts } else { x.hit_flows };
    let max = rules.iter().map(|x| value(x)).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h, top) = (380.0, 440.0, 22.0, 8.0);
    let width = label_w + bar_w + 90.0;
    let height = top * 2.0 + row_h * rules.len().max(1) as f64;
    let _ = writeln!(
        h,
        "<svg class=\"chart\" data-chart=\"hits-per-rule\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Alerts per rule\">"
    );
    if rules.is_empty() {
        let _ = writeln!(
            h,
            "<text x=\"8\" y=\"{}\">No rule was hit.</text>",
            top + 14.0
        );
    }
    for (i, x) in rules.iter().enumerate() {
        let y = top + row_h * i as f64;
        let label = format!("{}:{} {}", x.gid, x.sid, x.msg);
        let _ = writeln!(
            h,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + 15.0,
            esc(&clip(&label, 52))
        );
        let scale = bar_w / max as f64;
        let segments: Vec<(&str, u64, &str)> = if x.alerts > 0 {
            vec![
                ("blocked", x.blocked_alerts, "blocked alerts"),
                ("alerted", x.allowed_alerts, "allowed alerts"),
            ]
        } else {
            vec![("hits", x.hit_flows, "flows matched without an alert")]
        };
        let mut at = label_w;
        for (class, n, what) in segments {
            if n == 0 {
                continue;
            }
            let w = (n as f64 * scale).max(1.0);
            let _ = writeln!(
                h,
                "<rect class=\"bar {class}\" x=\"{at:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{}: {n} {what}</title></rect>",
                y + 3.0,
                row_h - 6.0,
                esc(&label)
            );
            at += w;
        }
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{}\">{}</text>",
            at + 6.0,
            y + 15.0,
            value(x)
        );
    }
    h.push_str("</svg>\n<p class=\"legend\"><span class=\"blocked\"></span>blocked alerts<span class=\"alerted\"></span>allowed alerts<span class=\"hits\"></span>matched without alerting</p>\n");
}

/// Stacked columns: flows per time bucket, blocked / allowed with alerts / allowed.
fn timeline_chart(h: &mut String, r: &Report) {
    let buckets = &r.timeline.buckets;
    let (left, plot_w, plot_h, top) = (50.0, 840.0, 200.0, 10.0);
    let width = left + plot_w + 10.0;
    let height = top + plot_h + 40.0;
    let _ = writeln!(
        h,
        "<svg class=\"chart\" data-chart=\"verdicts-over-time\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Flows per verdict over time\">"
    );
    let max = buckets
        .iter()
        .map(|b| b.blocked + b.alerted + b.allowed)
        .max()
        .unwrap_or(0);
    let base = top + plot_h;
    let _ = writeln!(
        h,
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#9aa4b2\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\" stroke=\"#9aa4b2\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text><text x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        left + plot_w,
        left - 6.0,
        top + 10.0,
        left - 6.0
    );
    if buckets.is_empty() || max == 0 {
        let _ = writeln!(
            h,
            "<text x=\"{}\" y=\"{}\">No dated flows.</text>",
            left + 10.0,
            top + 20.0
        );
    } else {
        let col_w = plot_w / buckets.len() as f64;
        let scale = plot_h / max as f64;
        for (i, b) in buckets.iter().enumerate() {
            let x = left + col_w * i as f64 + col_w * 0.1;
            let w = (col_w * 0.8).max(1.0);
            let mut y = base;
            for (class, n) in [
                ("allowed", b.allowed),
                ("alerted", b.alerted),
                ("blocked", b.blocked),
            ] {
                if n == 0 {
                    continue;
                }
                let bar_h = n as f64 * scale;
                y -= bar_h;
                let _ = writeln!(
                    h,
                    "<rect class=\"bar {class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\"><title>{}: {n} {class}</title></rect>",
                    esc(&b.start)
                );
            }
        }
        let first = &buckets[0].start;
        let last = &buckets[buckets.len() - 1].start;
        let _ = writeln!(
            h,
            "<text x=\"{left}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            base + 18.0,
            esc(&first[..first.len().min(19)]),
            left + plot_w,
            base + 18.0,
            esc(&last[..last.len().min(19)])
        );
    }
    h.push_str("</svg>\n<p class=\"legend\"><span class=\"blocked\"></span>blocked<span class=\"alerted\"></span>allowed with alerts<span class=\"allowed\"></span>allowed</p>\n");
}
