//! AWS Network Firewall stateful rule groups, read from the JSON that
//! `aws network-firewall describe-rule-group` prints (or the bare `RuleGroup` object, or a
//! CloudFormation `AWS::NetworkFirewall::RuleGroup` resource), and turned into the
//! Suricata rules AWS runs: `RulesString` as written, `RulesSourceList` domain lists into
//! the rules AWS documents it generates, `StatefulRules` 5-tuple rules into their
//! Suricata text, with the group's `RuleVariables`. Terraform's resources of the same
//! fields are rewritten into this shape first (`terraform.rs`).

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

use super::terraform;
use super::vars::VarTable;

/// Why a rule group could not be read.
#[derive(Debug, Error)]
pub enum AwsError {
    #[error("{origin}:{line}:{column}: invalid JSON: {message}")]
    Json {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Shape { origin: String, message: String },
}

/// Stateful rule order of a rule group or policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RuleOrder {
    /// Suricata's action order (pass, drop, reject, alert, then priority).
    #[default]
    DefaultActionOrder,
    /// Rule groups by priority, rules as written.
    StrictOrder,
}

impl RuleOrder {
    fn parse(s: &str) -> Option<RuleOrder> {
        match s {
            "DEFAULT_ACTION_ORDER" => Some(RuleOrder::DefaultActionOrder),
            "STRICT_ORDER" => Some(RuleOrder::StrictOrder),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RuleOrder::DefaultActionOrder => "DEFAULT_ACTION_ORDER",
            RuleOrder::StrictOrder => "STRICT_ORDER",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    #[serde(default)]
    definition: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RuleVariables {
    #[serde(default, rename = "IPSets")]
    ip_sets: BTreeMap<String, Definition>,
    #[serde(default)]
    port_sets: BTreeMap<String, Definition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RulesSourceList {
    targets: Vec<String>,
    target_types: Vec<String>,
    generated_rules_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    protocol: String,
    source: String,
    source_port: String,
    direction: String,
    destination: String,
    destination_port: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JsonRuleOption {
    keyword: String,
    #[serde(default)]
    settings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatefulRule {
    action: String,
    header: Header,
    #[serde(default)]
    rule_options: Vec<JsonRuleOption>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RulesSource {
    rules_string: Option<String>,
    rules_source_list: Option<RulesSourceList>,
    stateful_rules: Option<Vec<StatefulRule>>,
    stateless_rules_and_custom_actions: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatefulRuleOptions {
    rule_order: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReferenceArn {
    reference_arn: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ReferenceSets {
    #[serde(default, rename = "IPSetReferences")]
    ip_set_references: BTreeMap<String, ReferenceArn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuleGroupJson {
    rule_variables: Option<RuleVariables>,
    reference_sets: Option<ReferenceSets>,
    rules_source: Option<RulesSource>,
    stateful_rule_options: Option<StatefulRuleOptions>,
}

/// A rule group as rulesim uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsRuleGroup {
    /// `RuleGroupName` (or the file name when the JSON has none).
    pub name: String,
    pub arn: Option<String>,
    pub rule_order: RuleOrder,
    /// Address sets (`IPSets`) of the group, joined into Suricata groups.
    pub ip_sets: BTreeMap<String, String>,
    pub port_sets: BTreeMap<String, String>,
    /// `ReferenceSets.IPSetReferences`: reference name -> resource ARN.
    pub ip_set_refs: BTreeMap<String, String>,
    /// The Suricata rules the group stands for, one per line.
    pub rules: String,
    /// Where the rules came from: `RulesString`, `RulesSourceList` or `StatefulRules`.
    pub kind: &'static str,
}

impl AwsRuleGroup {
    /// The variables the group's rules see: the run's, overridden by the group's sets.
    /// A group that sets only `HOME_NET` keeps `EXTERNAL_NET` as the negation of the
    /// policy's (the run's) `HOME_NET`, as AWS documents.
    pub fn vars(&self, base: &VarTable) -> VarTable {
        let mut vars = base.clone();
        if self.ip_sets.contains_key("HOME_NET") && !self.ip_sets.contains_key("EXTERNAL_NET") {
            if let Some(home) = base.addresses.get("HOME_NET") {
                vars.addresses
                    .insert("EXTERNAL_NET".into(), format!("![{home}]"));
            }
        }
        for (k, v) in &self.ip_sets {
            vars.addresses.insert(k.clone(), v.clone());
        }
        for (k, v) in &self.port_sets {
            vars.ports.insert(k.clone(), v.clone());
        }
        // A reference resolves through its ARN, or its name, in the side file's table.
        for (name, arn) in &self.ip_set_refs {
            if let Some(cidrs) = base
                .ip_set_refs
                .get(arn)
                .or_else(|| base.ip_set_refs.get(name))
            {
                vars.ip_set_refs.insert(name.clone(), cidrs.clone());
            }
        }
        vars
    }
}

/// Reads the one rule group of a JSON document. `origin` (the file name) names it in
/// errors and when the JSON carries no `RuleGroupName`.
pub fn parse_rule_group(text: &str, origin: &str) -> Result<AwsRuleGroup, AwsError> {
    let mut groups = parse_rule_groups(text, origin)?;
    if groups.len() > 1 {
        return Err(AwsError::Shape {
            origin: origin.to_string(),
            message: format!("{} rule groups in one document; expected one", groups.len()),
        });
    }
    Ok(groups.remove(0))
}

/// Reads every rule group of a JSON document: one for AWS CLI, CloudFormation or bare
/// JSON; each `aws_networkfirewall_rule_group` resource of a Terraform document.
pub fn parse_rule_groups(text: &str, origin: &str) -> Result<Vec<AwsRuleGroup>, AwsError> {
    let value = parse_json(text, origin)?;
    match terraform::resources(&value, terraform::RULE_GROUP) {
        None => Ok(vec![group_from_value(value, origin)?]),
        Some(list) if list.is_empty() => Err(AwsError::Shape {
            origin: origin.to_string(),
            message: format!(
                "no `{}` resource in this Terraform document",
                terraform::RULE_GROUP
            ),
        }),
        Some(list) => list
            .iter()
            .map(|r| {
                group_from_value(
                    terraform::rule_group_to_aws(r),
                    &format!("{origin}: {}", r.address),
                )
            })
            .collect(),
    }
}

fn group_from_value(value: serde_json::Value, origin: &str) -> Result<AwsRuleGroup, AwsError> {
    let shape = |message: String| AwsError::Shape {
        origin: origin.to_string(),
        message,
    };
    let Envelope { inner: group_value, meta } = read_envelope(
        value,
        origin,
        "RuleGroup",
        "RuleGroupResponse",
        |v| v.get("RulesSource").is_some(),
        "not a rule group: expected `RuleGroup` (describe-rule-group output), a CloudFormation resource, or a bare object with `RulesSource`",
    )?;
    if meta.get("Type").and_then(|t| t.as_str()) == Some("STATELESS") {
        return Err(shape(
            "a STATELESS rule group: rulesim evaluates stateful rule groups".into(),
        ));
    }
    let group: RuleGroupJson = serde_json::from_value(group_value)
        .map_err(|e| shape(format!("invalid rule group: {e}")))?;
    let (name, arn) = name_and_arn(&meta, origin, "RuleGroupName", "RuleGroupArn");
    let rule_order = match group.stateful_rule_options.and_then(|o| o.rule_order) {
        None => RuleOrder::DefaultActionOrder,
        Some(o) => RuleOrder::parse(&o).ok_or_else(|| {
            shape(format!(
                "unknown RuleOrder `{o}` (DEFAULT_ACTION_ORDER or STRICT_ORDER)"
            ))
        })?,
    };
    let ip_set_refs = group
        .reference_sets
        .unwrap_or_default()
        .ip_set_references
        .into_iter()
        .map(|(k, r)| (k, r.reference_arn))
        .collect();
    let vars = group.rule_variables.unwrap_or_default();
    let ip_sets = vars
        .ip_sets
        .into_iter()
        .map(|(k, d)| (k, join_set(&d.definition)))
        .collect();
    let port_sets = vars
        .port_sets
        .into_iter()
        .map(|(k, d)| (k, join_set(&d.definition)))
        .collect();
    let source = group
        .rules_source
        .ok_or_else(|| shape("the rule group has no `RulesSource`".into()))?;
    if source.stateless_rules_and_custom_actions.is_some() {
        return Err(shape(
            "a stateless rule group: rulesim evaluates stateful rule groups".into(),
        ));
    }
    let given = [
        source.rules_string.is_some(),
        source.rules_source_list.is_some(),
        source.stateful_rules.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(shape(
            "`RulesSource` must hold exactly one of RulesString, RulesSourceList, StatefulRules"
                .into(),
        ));
    }
    let (rules, kind) = if let Some(s) = source.rules_string {
        (s, "RulesString")
    } else if let Some(list) = source.rules_source_list {
        (
            domain_list_rules(
                &list.targets,
                &list.target_types,
                &list.generated_rules_type,
                rule_order,
            )
            .map_err(shape)?,
            "RulesSourceList",
        )
    } else {
        let stateful = source.stateful_rules.unwrap_or_default();
        let mut lines = Vec::with_capacity(stateful.len());
        for (i, r) in stateful.iter().enumerate() {
            lines.push(
                standard_rule_text(r).map_err(|m| shape(format!("StatefulRules[{i}]: {m}")))?,
            );
        }
        (lines.join("\n"), "StatefulRules")
    };
    Ok(AwsRuleGroup {
        name,
        arn,
        rule_order,
        ip_sets,
        port_sets,
        ip_set_refs,
        rules,
        kind,
    })
}

/// The object an AWS JSON document is about, and the metadata beside it.
pub(crate) struct Envelope {
    pub inner: serde_json::Value,
    pub meta: serde_json::Value,
}

/// Parses JSON text, naming the file, line and column on error.
pub(crate) fn parse_json(text: &str, origin: &str) -> Result<serde_json::Value, AwsError> {
    serde_json::from_str(text).map_err(|e| AwsError::Json {
        origin: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Finds the `key` object in AWS CLI output (`{key, response_key}`), a CloudFormation
/// resource (`{Properties: {key}}`), or a bare object (`bare` says whether it is one).
pub(crate) fn read_envelope(
    value: serde_json::Value,
    origin: &str,
    key: &str,
    response_key: &str,
    bare: impl Fn(&serde_json::Value) -> bool,
    not_found: &str,
) -> Result<Envelope, AwsError> {
    if let Some(inner) = value.get(key).filter(|g| g.is_object()) {
        let meta = value
            .get(response_key)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        return Ok(Envelope {
            inner: inner.clone(),
            meta,
        });
    }
    if let Some(props) = value.get("Properties").filter(|p| p.get(key).is_some()) {
        return Ok(Envelope {
            inner: props[key].clone(),
            meta: props.clone(),
        });
    }
    if bare(&value) {
        return Ok(Envelope {
            inner: value,
            meta: serde_json::Value::Null,
        });
    }
    Err(AwsError::Shape {
        origin: origin.to_string(),
        message: not_found.to_string(),
    })
}

/// The resource's name (or the file's stem) and ARN, from the metadata.
pub(crate) fn name_and_arn(
    meta: &serde_json::Value,
    origin: &str,
    name_key: &str,
    arn_key: &str,
) -> (String, Option<String>) {
    let name = meta
        .get(name_key)
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            std::path::Path::new(origin)
                .file_stem()
                .map_or(origin.to_string(), |s| s.to_string_lossy().to_string())
        });
    (
        name,
        meta.get(arn_key)
            .and_then(|a| a.as_str())
            .map(str::to_string),
    )
}

/// `["10.0.0.0/16", "10.1.0.0/16"]` -> `[10.0.0.0/16,10.1.0.0/16]`.
fn join_set(items: &[String]) -> String {
    if items.len() == 1 {
        return items[0].trim().to_string();
    }
    format!(
        "[{}]",
        items.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",")
    )
}

/// The Suricata text of a standard (5-tuple) stateful rule, as AWS renders it.
fn standard_rule_text(r: &StatefulRule) -> Result<String, String> {
    let action = match r.action.as_str() {
        "PASS" | "DROP" | "ALERT" | "REJECT" => r.action.to_ascii_lowercase(),
        other => {
            return Err(format!(
                "unknown Action `{other}` (PASS, DROP, ALERT, REJECT)"
            ))
        }
    };
    let h = &r.header;
    let direction = match h.direction.as_str() {
        "FORWARD" => "->",
        "ANY" => "<>",
        other => return Err(format!("unknown Direction `{other}` (FORWARD or ANY)")),
    };
    let options: Vec<String> = r
        .rule_options
        .iter()
        .map(|o| {
            if o.settings.is_empty() {
                o.keyword.clone()
            } else {
                format!("{}:{}", o.keyword, o.settings.join(","))
            }
        })
        .collect();
    let mut text = format!(
        "{action} {} {} {} {direction} {} {} (",
        h.protocol.to_ascii_lowercase(),
        h.source,
        h.source_port,
        h.destination,
        h.destination_port
    );
    for (i, o) in options.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(o);
        text.push(';');
    }
    text.push(')');
    Ok(text)
}

/// The rules AWS generates for a domain list: for each target in order, the TLS rule then
/// the HTTP rule (per the target types given), sids from 1; an ALLOWLIST ends with one
/// catch-all drop per protocol (not in strict order, where the default action denies).
/// Strict-order groups cannot carry `priority`, so it is left out there.
pub fn domain_list_rules(
    targets: &[String],
    target_types: &[String],
    generated: &str,
    order: RuleOrder,
) -> Result<String, String> {
    let (action, word) = match generated {
        "ALLOWLIST" => ("pass", "allowlisted"),
        "DENYLIST" => ("drop", "denylisted"),
        "REJECTLIST" => ("reject", "rejectlisted"),
        "ALERTLIST" => ("alert", "alertlisted"),
        other => {
            return Err(format!(
                "unknown GeneratedRulesType `{other}` (ALLOWLIST, DENYLIST, REJECTLIST, ALERTLIST)"
            ))
        }
    };
    let mut tls = false;
    let mut http = false;
    for t in target_types {
        match t.as_str() {
            "TLS_SNI" => tls = true,
            "HTTP_HOST" => http = true,
            other => return Err(format!("unknown TargetType `{other}` (TLS_SNI, HTTP_HOST)")),
        }
    }
    if !tls && !http {
        return Err("TargetTypes is empty".into());
    }
    let priority = if order == RuleOrder::StrictOrder {
        ""
    } else {
        " priority:1;"
    };
    let mut lines = Vec::new();
    let mut sid = 1;
    for target in targets {
        let target = target.trim();
        if target.is_empty() || target.contains(['"', ';', '\\', '|', ' ']) {
            return Err(format!("target `{target}` is not a domain name"));
        }
        if tls {
            let m = if target.starts_with('.') {
                format!("tls.sni; dotprefix; content:\"{target}\"; nocase; endswith;")
            } else {
                format!("tls.sni; content:\"{target}\"; startswith; nocase; endswith;")
            };
            lines.push(format!(
                "{action} tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; {m} msg:\"matching TLS {word} FQDNs\";{priority} flow:to_server, established; sid:{sid}; rev:1;)"
            ));
            sid += 1;
        }
        if http {
            // The host buffer is lower-cased: an upper-case pattern could never match.
            let host = target.to_ascii_lowercase();
            let m = if host.starts_with('.') {
                format!("http.host; dotprefix; content:\"{host}\"; endswith;")
            } else {
                format!("http.host; content:\"{host}\"; startswith; endswith;")
            };
            lines.push(format!(
                "{action} http $HOME_NET any -> $EXTERNAL_NET any ({m} msg:\"matching HTTP {word} FQDNs\";{priority} flow:to_server, established; sid:{sid}; rev:1;)"
            ));
            sid += 1;
        }
    }
    if generated == "ALLOWLIST" && order != RuleOrder::StrictOrder {
        if tls {
            lines.push(format!(
                "drop tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"not matching any TLS allowlisted FQDNs\"; priority:1; ssl_state:client_hello; flow:to_server, established; sid:{sid}; rev:1;)"
            ));
            sid += 1;
        }
        if http {
            lines.push(format!(
                "drop http $HOME_NET any -> $EXTERNAL_NET any (http.header_names; content:\"|0d 0a|\"; startswith; msg:\"not matching any HTTP allowlisted FQDNs\"; priority:1; flow:to_server, established; sid:{sid}; rev:1;)"
            ));
        }
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn denylist_matches_the_aws_documentation() {
        let text = domain_list_rules(
            &strings(&["evil.com"]),
            &strings(&["TLS_SNI", "HTTP_HOST"]),
            "DENYLIST",
            RuleOrder::DefaultActionOrder,
        )
        .expect("generates");
        assert_eq!(
            text,
            "drop tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; content:\"evil.com\"; startswith; nocase; endswith; msg:\"matching TLS denylisted FQDNs\"; priority:1; flow:to_server, established; sid:1; rev:1;)\n\
             drop http $HOME_NET any -> $EXTERNAL_NET any (http.host; content:\"evil.com\"; startswith; endswith; msg:\"matching HTTP denylisted FQDNs\"; priority:1; flow:to_server, established; sid:2; rev:1;)"
        );
    }

    #[test]
    fn http_allowlist_matches_the_aws_documentation() {
        let text = domain_list_rules(
            &strings(&[".amazon.com", "example.com"]),
            &strings(&["HTTP_HOST"]),
            "ALLOWLIST",
            RuleOrder::DefaultActionOrder,
        )
        .expect("generates");
        assert_eq!(
            text,
            "pass http $HOME_NET any -> $EXTERNAL_NET any (http.host; dotprefix; content:\".amazon.com\"; endswith; msg:\"matching HTTP allowlisted FQDNs\"; priority:1; flow:to_server, established; sid:1; rev:1;)\n\
             pass http $HOME_NET any -> $EXTERNAL_NET any (http.host; content:\"example.com\"; startswith; endswith; msg:\"matching HTTP allowlisted FQDNs\"; priority:1; flow:to_server, established; sid:2; rev:1;)\n\
             drop http $HOME_NET any -> $EXTERNAL_NET any (http.header_names; content:\"|0d 0a|\"; startswith; msg:\"not matching any HTTP allowlisted FQDNs\"; priority:1; flow:to_server, established; sid:3; rev:1;)"
        );
    }

    #[test]
    fn tls_allowlist_matches_the_aws_documentation() {
        let text = domain_list_rules(
            &strings(&[".amazon.com", "example.com"]),
            &strings(&["TLS_SNI"]),
            "ALLOWLIST",
            RuleOrder::DefaultActionOrder,
        )
        .expect("generates");
        assert_eq!(
            text,
            "pass tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; dotprefix; content:\".amazon.com\"; nocase; endswith; msg:\"matching TLS allowlisted FQDNs\"; priority:1; flow:to_server, established; sid:1; rev:1;)\n\
             pass tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; content:\"example.com\"; startswith; nocase; endswith; msg:\"matching TLS allowlisted FQDNs\"; priority:1; flow:to_server, established; sid:2; rev:1;)\n\
             drop tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"not matching any TLS allowlisted FQDNs\"; priority:1; ssl_state:client_hello; flow:to_server, established; sid:3; rev:1;)"
        );
    }

    #[test]
    fn several_targets_both_types_strict_order_and_other_lists() {
        let text = domain_list_rules(
            &strings(&["a.example", ".b.example"]),
            &strings(&["HTTP_HOST", "TLS_SNI"]),
            "ALLOWLIST",
            RuleOrder::DefaultActionOrder,
        )
        .expect("generates");
        let sids: Vec<(&str, &str)> = text
            .lines()
            .map(|l| {
                (
                    l.split(' ').nth(1).unwrap_or(""),
                    l.rsplit("sid:").next().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            sids,
            vec![
                ("tls", "1; rev:1;)"),
                ("http", "2; rev:1;)"),
                ("tls", "3; rev:1;)"),
                ("http", "4; rev:1;)"),
                ("tls", "5; rev:1;)"),
                ("http", "6; rev:1;)")
            ]
        );
        let strict = domain_list_rules(
            &strings(&["a.example"]),
            &strings(&["TLS_SNI"]),
            "ALLOWLIST",
            RuleOrder::StrictOrder,
        )
        .expect("generates");
        assert_eq!(strict.lines().count(), 1, "no catch-all in strict order");
        assert!(
            !strict.contains("priority"),
            "no priority keyword in strict order"
        );
        let reject = domain_list_rules(
            &strings(&["a.example"]),
            &strings(&["TLS_SNI"]),
            "REJECTLIST",
            RuleOrder::DefaultActionOrder,
        )
        .expect("generates");
        assert!(
            reject.starts_with("reject tls") && reject.contains("matching TLS rejectlisted FQDNs")
        );
        let upper = domain_list_rules(
            &strings(&["WWW.Example.COM"]),
            &strings(&["HTTP_HOST"]),
            "DENYLIST",
            RuleOrder::DefaultActionOrder,
        )
        .expect("generates");
        assert!(
            upper.contains("content:\"www.example.com\""),
            "HTTP targets are lower-cased"
        );
        assert!(domain_list_rules(
            &strings(&["a\"b"]),
            &strings(&["TLS_SNI"]),
            "DENYLIST",
            RuleOrder::DefaultActionOrder
        )
        .is_err());
        assert!(domain_list_rules(
            &strings(&["a"]),
            &strings(&["DNS"]),
            "DENYLIST",
            RuleOrder::DefaultActionOrder
        )
        .is_err());
    }

    #[test]
    fn standard_rules_render_as_aws_does() {
        let json = r#"{"RulesSource":{"StatefulRules":[{"Action":"DROP","Header":{"Protocol":"HTTP","Source":"$HOME_NET","SourcePort":"ANY","Direction":"ANY","Destination":"$EXTERNAL_NET","DestinationPort":"ANY"},"RuleOptions":[{"Keyword":"msg","Settings":["\"this is a stateful drop rule\""]},{"Keyword":"sid","Settings":["1234"]}]}]}}"#;
        let g = parse_rule_group(json, "g.json").expect("parses");
        assert_eq!(
            g.rules,
            r#"drop http $HOME_NET ANY <> $EXTERNAL_NET ANY (msg:"this is a stateful drop rule"; sid:1234;)"#
        );
        assert_eq!(
            (g.kind, g.name.as_str(), g.rule_order),
            ("StatefulRules", "g", RuleOrder::DefaultActionOrder)
        );
    }

    #[test]
    fn describe_output_variables_and_errors() {
        let json = r#"{"UpdateToken":"x","RuleGroup":{"RuleVariables":{"IPSets":{"HOME_NET":{"Definition":["10.0.0.0/16","10.1.0.0/16"]}},"PortSets":{"WEB":{"Definition":["80","8080:8090"]}}},
            "RulesSource":{"RulesString":"alert tcp $HOME_NET any -> any $WEB (sid:1;)"},"StatefulRuleOptions":{"RuleOrder":"STRICT_ORDER"}},
            "RuleGroupResponse":{"RuleGroupName":"web","RuleGroupArn":"arn:aws:network-firewall:us-east-1:1:stateful-rulegroup/web","Type":"STATEFUL"}}"#;
        let g = parse_rule_group(json, "f.json").expect("parses");
        assert_eq!(
            (g.name.as_str(), g.rule_order, g.kind),
            ("web", RuleOrder::StrictOrder, "RulesString")
        );
        assert_eq!(g.ip_sets["HOME_NET"], "[10.0.0.0/16,10.1.0.0/16]");
        let vars = g.vars(&VarTable::default());
        assert_eq!(vars.addresses["HOME_NET"], "[10.0.0.0/16,10.1.0.0/16]");
        assert_eq!(
            vars.addresses["EXTERNAL_NET"], "![[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]]",
            "the group's HOME_NET does not move EXTERNAL_NET"
        );
        assert_eq!(vars.ports["WEB"], "[80,8080:8090]");
        let bad = parse_rule_group("{\n  \"RuleGroup\": [1,\n}", "bad.json").unwrap_err();
        assert!(matches!(bad, AwsError::Json { line: 3, .. }), "{bad}");
        assert!(parse_rule_group(r#"{"Foo":1}"#, "x.json").is_err());
        assert!(parse_rule_group(r#"{"RulesSource":{}}"#, "x.json").is_err());
        assert!(parse_rule_group(
            r#"{"RulesSource":{"RulesString":"x"},"StatefulRuleOptions":{"RuleOrder":"NOPE"}}"#,
            "x.json"
        )
        .is_err());
        let cfn = r#"{"Type":"AWS::NetworkFirewall::RuleGroup","Properties":{"RuleGroupName":"cfn","Type":"STATEFUL","Capacity":10,"RuleGroup":{"RulesSource":{"RulesString":"pass ip any any -> any any (sid:1;)"}}}}"#;
        assert_eq!(
            parse_rule_group(cfn, "c.json")
                .expect("cloudformation")
                .name,
            "cfn"
        );
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;
    use crate::rules::{parse_rules_text, RuleContext};

    #[test]
    fn ip_set_references_resolve_by_arn_or_name() {
        let json = r#"{"RuleGroup":{"ReferenceSets":{"IPSetReferences":{"BETA":{"ReferenceArn":"arn:aws:ec2:us-east-1:1:prefix-list/pl-1"}}},
            "RulesSource":{"RulesString":"drop tcp @BETA any -> any any (sid:1;)"}}}"#;
        let g = parse_rule_group(json, "g.json").expect("parses");
        assert_eq!(
            g.ip_set_refs["BETA"],
            "arn:aws:ec2:us-east-1:1:prefix-list/pl-1"
        );
        let mut base = VarTable::default();
        // Without the side file the rule cannot load, and says why.
        let ctx = RuleContext {
            vars: g.vars(&base),
            ..RuleContext::default()
        };
        let (rules, errors) = parse_rules_text(&g.rules, "g", &ctx);
        assert!(
            rules.is_empty() && errors[0].message.contains("`@BETA` is not resolved"),
            "{errors:?}"
        );
        let refs = crate::config::read_ip_set_references(
            r#"{"arn:aws:ec2:us-east-1:1:prefix-list/pl-1": ["192.0.2.0/24", {"Cidr": "198.51.100.0/24"}]}"#,
            "refs.json",
        )
        .expect("reads");
        base.ip_set_refs = refs;
        let ctx = RuleContext {
            vars: g.vars(&base),
            ..RuleContext::default()
        };
        let (rules, errors) = parse_rules_text(&g.rules, "g", &ctx);
        assert!(errors.is_empty(), "{errors:?}");
        let set = ctx.vars.addresses_of(&rules[0].src).expect("resolves");
        assert!(
            set.contains("198.51.100.7".parse().expect("ip"))
                && !set.contains("203.0.113.1".parse().expect("ip"))
        );
        assert_eq!(
            rules[0].to_string(),
            "drop tcp @BETA any -> any any (sid:1;)"
        );
        assert!(crate::config::read_ip_set_references("[1]", "r.json").is_err());
    }
}
