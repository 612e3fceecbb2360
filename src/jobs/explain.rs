//! `rulesim explain`: which rule decided a flow, every rule that matched it in
//! evaluation order with the packet it matched on, and the rules the decision shadowed.

use crate::trace::{FlowRecord, RuleEvent};

fn packet(p: Option<u64>) -> String {
    p.map_or_else(|| "end of flow".to_string(), |n| format!("packet {n}"))
}

fn event_line(e: &RuleEvent) -> String {
    let r = &e.rule;
    let what = match (e.role, e.alerted) {
        (crate::detect::HitRole::Decided, true) => "decided, alerted",
        (crate::detect::HitRole::Decided, false) => "decided",
        (crate::detect::HitRole::Matched, true) => "alerted",
        (crate::detect::HitRole::Matched, false) => "matched, no alert",
        (crate::detect::HitRole::Shadowed, _) => "shadowed",
    };
    let tx = e.tx_id.map_or(String::new(), |t| format!(" tx {t}"));
    format!(
        "{:<14} {:<9} {:<7} {}:{}:{} \"{}\" [{what}{tx}] ({})",
        packet(e.packet),
        e.direction,
        r.action,
        r.gid,
        r.sid,
        r.rev,
        r.msg,
        r.location()
    )
}

/// How rulesim says a flow's verdict: `blocked by drop 1:5:1 "msg" (file:3) at packet 4`.
pub fn verdict_line(f: &FlowRecord) -> String {
    match &f.decided_by {
        Some(d) => format!(
            "{} by {} at {}",
            f.verdict.name(),
            d.describe(),
            packet(d.packet())
        ),
        None => format!(
            "{} (no pass, drop or reject rule decided)",
            f.verdict.name()
        ),
    }
}

/// The explanation of one flow, as text.
pub fn render(f: &FlowRecord) -> String {
    let mut out = String::new();
    let packets = match (f.first_packet, f.last_packet) {
        (Some(a), Some(b)) if a != b => format!("packets {a}-{b}"),
        (Some(a), _) => format!("packet {a}"),
        _ => "no packets".to_string(),
    };
    out.push_str(&format!(
        "flow {} (flow_id {}, {}, {})\n",
        f.label(),
        f.flow_id,
        f.capture,
        packets
    ));
    for h in &f.http {
        out.push_str(&format!(
            "  http tx {}: {} {}{}\n",
            h.tx_id,
            h.http_method,
            h.hostname.as_deref().unwrap_or("-"),
            h.url
        ));
    }
    for q in f.dns_queries.iter().skip(1) {
        out.push_str(&format!("  dns query {q}\n"));
    }
    out.push_str(&format!("  verdict: {}\n", verdict_line(f)));
    if f.matches.is_empty() {
        out.push_str("  no rule matched\n");
    } else {
        out.push_str("  matched, in evaluation order:\n");
        for e in &f.matches {
            out.push_str(&format!("    {}\n", event_line(e)));
        }
    }
    if !f.shadowed.is_empty() {
        out.push_str("  shadowed by the decision (matched, never applied):\n");
        for e in &f.shadowed {
            out.push_str(&format!("    {}\n", event_line(e)));
        }
    }
    if f.events_not_kept > 0 {
        out.push_str(&format!(
            "  ... {} more rule matches not kept\n",
            f.events_not_kept
        ));
    }
    out
}
