//! Rule-file tests: grammar, error locations and messages, round trips.

use super::*;

fn ctx() -> RuleContext {
    RuleContext::default()
}

/// Parses `text` as a rule file and returns its only error.
fn error_of(text: &str) -> RuleError {
    let (rules, errors) = parse_rules_text(text, "t.rules", &ctx());
    assert!(
        rules.is_empty(),
        "expected an error for {text:?}, got a rule"
    );
    assert_eq!(errors.len(), 1, "{text:?}");
    errors.into_iter().next().expect("one error")
}

/// (rule text, column, caret width, words the message must contain)
const MALFORMED: &[(&str, usize, usize, &str)] = &[
    (r#"alert tcp any any -> any any (msg:"a"; sid:1)"#, 40, 6, "not ended by `;`"),
    (r#"alert tcp any any -> any any (msg:"unbalanced; sid:3;)"#, 35, 11, "unbalanced double quote"),
    ("alert tcp 10.0.0.0/33 any -> any any (sid:4;)", 11, 11, "valid IP address or CIDR"),
    ("alert tcp 10.0.0.256 any -> any any (sid:4;)", 11, 10, "valid IP address or CIDR"),
    (r#"alert tcp any any -> any any (msg:"x"; foo; sid:5;)"#, 40, 3, "unknown keyword `foo`"),
    ("alert tcp any 70000 -> any any (sid:6;)", 15, 5, "0 to 65535"),
    ("alert tcp any 90:80 -> any any (sid:7;)", 15, 5, "start is not above its end"),
    ("alert tcp [] any -> any any (sid:8;)", 11, 2, "at least one address"),
    ("alert tcp any [] -> any any (sid:8;)", 15, 2, "at least one port"),
    ("alert tcp !any any -> any any (sid:9;)", 11, 4, "`!any` matches nothing"),
    ("alert tcp any !any -> any any (sid:9;)", 15, 4, "`!any` matches nothing"),
    ("alert tcp any any <- any any (sid:10;)", 19, 2, "`<-` is not a Suricata direction"),
    ("alert tcp any any => any any (sid:10;)", 19, 2, "expected a direction"),
    ("alrt tcp any any -> any any (sid:11;)", 1, 4, "unknown action `alrt`"),
    ("alert foo any any -> any any (sid:12;)", 7, 3, "unknown protocol `foo`"),
    ("alert ipv6-icmp any any -> any any (sid:12;)", 7, 9, "unknown protocol `ipv6-icmp`"),
    (r#"alert tcp any any -> any any (msg:"no sid";)"#, 44, 1, "no `sid`"),
    ("alert tcp $NOPE any -> any any (sid:15;)", 11, 5, "`$NOPE` is not defined"),
    ("alert tcp any $NOPE -> any any (sid:15;)", 15, 5, "`$NOPE` is not defined"),
    ("alert tcp any any -> any any (nocase; sid:16;)", 31, 6, "needs a preceding `content`"),
    (r#"alert tcp any any -> any any (content:"a|4|"; sid:17;)"#, 41, 3, "odd number of hex digits"),
    (r#"alert tcp any any -> any any (content:"a|4g|"; sid:17;)"#, 43, 1, "not a hex digit"),
    (r#"alert tcp any any -> any any (content:"a|41"; sid:17;)"#, 41, 3, "not closed by `|`"),
    ("alert tcp any any -> any any (content:abc; sid:18;)", 39, 3, "double quotes"),
    (r#"alert tcp any any -> any any (content:""; sid:18;)"#, 39, 2, "may not be empty"),
    (r#"alert tcp any any -> any any (content:"a\x"; sid:18;)"#, 41, 2, "may be escaped"),
    ("alert tcp any any -> any any (msg:unquoted; sid:19;)", 35, 8, "double quoted"),
    ("alert tcp any any -> any any (flow:to_server,to_client; sid:20;)", 36, 19, "exclude each other"),
    ("alert tcp any any -> any any (flow:sideways; sid:20;)", 36, 8, "not a flow option"),
    ("alert tcp any any -> any any (sid:21;) trailing", 40, 8, "after the closing `)`"),
    ("alert tcp any any -> any any(sid:22;)", 29, 1, "expected a space after the destination port"),
    ("alert tcp any any ->", 21, 1, "expected a destination address"),
    ("alert tcp any any -> any any (classtype:no!pe; sid:24;)", 41, 5, "not a classtype name"),
    ("alert tcp any any -> any any (priority:-1; sid:25;)", 40, 2, "priority must be"),
    ("alert tcp any any -> any any (dsize:>70000; sid:26;)", 37, 6, "at most 65535"),
    (r#"alert tcp any any -> any any (content:"a"; depth:-1; sid:27;)"#, 50, 2, "must be from 0 to 65535"),
    ("alert tcp [1.1.1.1,!1.1.1.1] any -> any any (sid:28;)", 11, 18, "matches no address"),
    ("alert tcp [1.1.1.1, any -> any any (sid:29;)", 24, 1, "right after the item"),
    (r#"alert tcp any any -> any any (dotprefix; content:"x"; sid:30;)"#, 31, 9, "must follow a sticky buffer"),
    ("alert tcp any any -> any any (sid:abc;)", 35, 3, "`sid` must be a number"),
    ("alert tcp any [80,!80] -> any any (sid:33;)", 15, 8, "matches no port"),
    (r#"alert tcp any any -> any any (pcre:"/a/q"; sid:35;)"#, 40, 1, "not a pcre flag"),
    (r#"alert http any any -> any any (http.host; content:"Evil.com"; sid:36;)"#, 51, 10, "upper-case pattern on `http.host`"),
    (r#"alert http any any -> any any (http.host; content:"x"; nocase; sid:37;)"#, 56, 6, "`nocase` on `http.host`"),
    (r#"alert http any any -> any any (content:"x"; nocase; http_host; sid:38;)"#, 45, 6, "`nocase` on `http.host`"),
    (r#"alert tcp any any -> any any (content:"a"; byte_test:1,>,2,0,dce; sid:39;)"#, 44, 9, "`byte_test` with `dce`"),
    ("alert tcp any any -> any any (nocase:1; sid:40;)", 31, 6, "takes no value"),
    ("alert tcp any any -> any any (content; sid:41;)", 31, 7, "needs a value"),
    ("alert tcp any any -> any any (flowbits:flip,x; sid:42;)", 40, 4, "not a flowbits command"),
    ("alert tcp any any -> any any (threshold:type limit, count 1, seconds 6; sid:43;)", 41, 30, "`track` is required"),
    ("alert udp any any -> any any (dsize:6; content:\"boom\"; content:\"loom\"; distance:3; sid:44;)", 37, 1, "can never match"),
    ("alert tcp any any -> any any (; sid:45;)", 31, 1, "expected a rule keyword"),
];

#[test]
fn malformed_rules_point_at_the_culprit() {
    assert!(MALFORMED.len() >= 30);
    let mut wrong = Vec::new();
    for (text, column, caret, words) in MALFORMED {
        let (rules, errors) = parse_rules_text(text, "t.rules", &ctx());
        let Some(e) = errors
            .first()
            .filter(|_| rules.is_empty() && errors.len() == 1)
        else {
            wrong.push(format!("{text}: loaded, or several errors"));
            continue;
        };
        if (e.line, e.column, e.caret_len) != (1, *column, *caret) || !e.message.contains(words) {
            wrong.push(format!(
                "{text}: got ({}, {}) {:?}",
                e.column, e.caret_len, e.message
            ));
        }
        assert!(e.to_string().contains(" --> t.rules:1:"), "{e}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Found by fuzzing: messages quoting what was found sliced a multi-byte character, or
/// past the end of the rule.
#[test]
fn errors_quote_whole_characters() {
    for (text, words) in [
        (
            "alert tcp any any -> any any (sid\u{e9}1;)",
            "found `\u{e9}`",
        ),
        (
            "alert tcp any any \u{a0}-> any any (sid:1;)",
            "found `\u{a0}`",
        ),
        ("alert tcp any any \u{e9}", "found `\u{e9}`"),
        ("alert tcp any any any", "found `any`"),
    ] {
        let e = error_of(text);
        assert!(e.message.contains(words), "{text:?}: {}", e.message);
    }
}

#[test]
fn header_and_meta_are_read() {
    let text = r#"drop tls $HOME_NET any <> [1.2.3.0/24,!1.2.3.4] [443,8443] (msg:"a \"quoted\" msg"; classtype:policy-violation; sid:7; rev:3; gid:2;)"#;
    let r = parse_rule(text, &ctx()).expect("valid rule");
    assert_eq!(r.action, Action::Drop);
    assert_eq!(r.protocol, "tls");
    assert!(r.bidirectional);
    assert_eq!((r.sid, r.rev, r.gid), (7, 3, 2));
    assert_eq!(r.msg, "a \"quoted\" msg");
    assert_eq!(r.priority, 1, "from the classtype");
    assert_eq!(r.id(), "2:7");
    let r = parse_rule(
        "alert tcp any any -> any any (priority:2; classtype:policy-violation; sid:1;)",
        &ctx(),
    )
    .expect("valid");
    assert_eq!(r.priority, 2, "priority overrides the classtype");
    let r = parse_rule("alert tcp any any -> any any (sid:1;)", &ctx()).expect("valid");
    assert_eq!((r.priority, r.rev, r.gid, r.msg.as_str()), (3, 0, 1, ""));
}

#[test]
fn comments_blank_lines_and_continuations() {
    let text = "# a comment\n\n   # indented comment\n  alert tcp any any -> any any (sid:9;)\nalert tcp any any -> any any (msg:\"one\"; \\\n    sid:1;)\r\n#alert tcp any any -> any any (sid:2;)\nalert udp any any -> any any (sid:3;)";
    let (rules, errors) = parse_rules_text(text, "f.rules", &ctx());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules.len(), 2);
    assert_eq!(
        (rules[0].sid, rules[0].origin.line, rules[0].origin.position),
        (1, 5, 0),
        "the indented rule on line 4 is skipped, as Suricata skips it"
    );
    assert_eq!(
        (rules[1].sid, rules[1].origin.line, rules[1].origin.position),
        (3, 8, 1)
    );
    // An error on a continuation line names that line.
    let e = error_of("alert tcp any any -> any any (msg:\"x\"; \\\n  bogus; sid:1;)");
    assert_eq!((e.line, e.column), (2, 3), "{e}");
}

#[test]
fn round_trip_parse_print_parse() {
    let texts = [
        r#"alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"semi\;colon and \"quote\" and back\\slash"; flow:established,to_server; content:"GET|20|"; depth:4; content:"x"; distance:0; within:10; pcre:"/a\;b/i"; sid:1; rev:2;)"#,
        "pass ip [10.0.0.0/8,![10.1.0.0/16,10.2.0.1]] [1024:,!2000:3000] <> [fd00::/8,!fd00::1] [:1023,8080] (sid:2;)",
        r#"drop http any any -> any any (http.host; dotprefix; content:".example.com"; endswith; metadata:created_at 2024_01_01, env test; reference:url,example.com/x; sid:3;)"#,
        "alert icmp any any -> any any (itype:8; icode:0; sid:4;)",
        r#"alert tls any any -> any any (tls.sni; content:"|00|a|3b|"; nocase; fast_pattern; ssl_state:client_hello|!server_hello; sid:5;)"#,
    ];
    for text in texts {
        let first = parse_rule(text, &ctx()).unwrap_or_else(|e| panic!("{text}\n{e}"));
        let printed = first.to_string();
        let second = parse_rule(&printed, &ctx()).unwrap_or_else(|e| panic!("{printed}\n{e}"));
        assert_eq!(first, second, "{printed}");
        assert_eq!(second.to_string(), printed, "printing is stable");
    }
}

#[test]
fn duplicate_sids_are_refused_after_the_first() {
    let mut set = RuleSet::default();
    let (rules, errors) = parse_rules_text(
        "alert tcp any any -> any any (sid:1;)\nalert udp any any -> any any (sid:1;)\nalert udp any any -> any any (gid:2; sid:1;)",
        "d.rules",
        &ctx(),
    );
    set.extend(rules, errors);
    assert_eq!(set.rules.len(), 2, "gid 2 sid 1 is another rule");
    assert_eq!(set.errors.len(), 1);
    let e = &set.errors[0];
    assert_eq!(e.kind, RuleErrorKind::DuplicateSid);
    assert_eq!(e.line, 2);
    assert!(e.message.contains("already used at d.rules:1"), "{e}");
    let s = set.summary();
    assert_eq!((s.loaded, s.failed), (2, 1));
    assert_eq!(s.failed_by_kind.get("duplicate sid"), Some(&1));
}

#[test]
fn a_newer_revision_replaces_the_older_rule() {
    let mut set = RuleSet::default();
    let (rules, errors) = parse_rules_text(
        "alert tcp any any -> any any (msg:\"old\"; sid:1; rev:1;)\nalert tcp any any -> any any (msg:\"new\"; sid:1; rev:2;)\nalert tcp any any -> any any (msg:\"older\"; sid:1; rev:1;)",
        "r.rules",
        &ctx(),
    );
    set.extend(rules, errors);
    assert_eq!(set.rules.len(), 1);
    assert_eq!(set.rules[0].msg, "new");
    assert_eq!(set.errors.len(), 1, "the rev 1 after rev 2 is a duplicate");
    assert_eq!(set.warnings.len(), 1);
}

#[test]
fn load_summary_counts_by_keyword() {
    let text = "alert tcp any any -> any any (byte_math:bytes 1,offset 0,oper +,rvalue 1,result r; sid:1;)\nalert tcp any any -> any any (byte_math:bytes 1,offset 0,oper +,rvalue 1,result r; sid:2;)\nalert tcp any any -> any any (lua:x.lua; sid:3;)\nalert tcp any any -> any any (sid:4;)";
    let (rules, errors) = parse_rules_text(text, "s.rules", &ctx());
    let mut set = RuleSet::default();
    set.extend(rules, errors);
    let s = set.summary();
    assert_eq!((s.loaded, s.failed), (1, 3));
    assert_eq!(
        s.failed_by_keyword.get("byte_math (not supported yet)"),
        Some(&2)
    );
    assert_eq!(s.failed_by_keyword.get("lua (not supported yet)"), Some(&1));
}

/// A rule on an application protocol rulesim never detects could never match: it is
/// refused as unsupported (Suricata would alert on such flows), by header protocol or by
/// `app-layer-protocol`, positive or negated; the protocols it detects load.
#[test]
fn rules_on_protocols_rulesim_does_not_detect_are_refused() {
    let refused = [
        "alert ftp any any -> any 21 (content:\"USER\"; sid:1;)",
        "alert smb any any -> any any (sid:2;)",
        "alert http2 any any -> any any (sid:3;)",
        "alert tcp any any -> any any (app-layer-protocol:smb; sid:4;)",
        "alert tcp any any -> any any (app-layer-protocol:!ftp; sid:5;)",
    ];
    for text in refused {
        let e = parse_rule(text, &ctx()).expect_err(text);
        assert!(
            matches!(e.kind, RuleErrorKind::Unsupported(_)),
            "{text}: {e}"
        );
        assert!(e.message.contains("does not detect"), "{text}: {e}");
    }
    let loaded = [
        "alert tls any any -> any any (sid:6;)",
        "alert http1 any any -> any any (sid:7;)",
        "alert tcp any any -> any any (app-layer-protocol:!tls; sid:8;)",
        "alert tcp any any -> any any (app-layer-protocol:failed; sid:9;)",
        "alert ssh any any -> any any (sid:10;)",
        "alert smtp any any -> any any (sid:11;)",
    ];
    for text in loaded {
        parse_rule(text, &ctx()).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

/// Suricata 7.0.10's verdict on each rule of `tools/rule-corpus.rules`, recorded with
/// `tools/suricata-rule-verdicts.py`: rulesim must accept and refuse the same rules,
/// except those it refuses only because it cannot evaluate a keyword yet.
#[test]
fn same_verdicts_as_suricata_on_the_tricky_corpus() {
    let data = include_str!("../../tests/data/suricata-rule-verdicts.txt");
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let Some((verdict, rule)) = line.split_once('\t') else {
            continue;
        };
        let (rules, errors) = parse_rules_text(rule, "corpus.rules", &ctx());
        let ours = match (rules.len(), errors.first()) {
            (1, None) => "ACCEPT",
            (_, Some(e)) if matches!(e.kind, RuleErrorKind::Unsupported(_)) => continue,
            _ => "REJECT",
        };
        compared += 1;
        if ours == "ACCEPT" {
            let printed = rules[0].to_string();
            let again = parse_rule(&printed, &ctx()).unwrap_or_else(|e| panic!("{printed}\n{e}"));
            assert_eq!(again.to_string(), printed, "round trip of {rule}");
        }
        if ours != verdict {
            let why = errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            disagreements.push(format!(
                "Suricata {verdict}, rulesim {ours}: {rule}  [{why}]"
            ));
        }
    }
    assert!(compared > 300, "{compared} rules compared");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn pcre_the_regex_engine_cannot_evaluate_is_refused_at_load() {
    // (rule, construct named, column of the caret: the construct in the pattern)
    let cases = [
        (
            r#"alert tcp any any -> any any (pcre:"/(a|b)x\1/"; sid:1;)"#,
            "backreference",
            44,
        ),
        (
            r#"alert tcp any any -> any any (pcre:"/a(?!b)/i"; sid:2;)"#,
            "negative lookahead",
            39,
        ),
        (
            r#"alert tcp any any -> any any (content:"x"; pcre:"/(?<=x)y/R"; sid:3;)"#,
            "lookbehind",
            51,
        ),
        (
            r#"alert http any any -> any any (http.uri; pcrexform:"a(?=b)(c)"; content:"c"; sid:4;)"#,
            "lookahead",
            54,
        ),
    ];
    for (text, what, column) in cases {
        let e = error_of(text);
        assert!(
            matches!(e.kind, RuleErrorKind::Unsupported(_)),
            "{text}: {e}"
        );
        assert!(e.message.contains(what), "{text}: {}", e.message);
        assert_eq!(e.column, column, "{text}: {e}");
    }
    let e = error_of(r#"alert tcp any any -> any any (pcre:"/(a/"; sid:5;)"#);
    assert_eq!(e.kind, RuleErrorKind::InvalidValue("pcre".into()), "{e}");
    assert!(e.message.contains("missing closing parenthesis"), "{e}");
    let e = error_of(
        r#"alert http any any -> any any (http.uri; pcrexform:"(a)(b)"; content:"c"; sid:6;)"#,
    );
    assert_eq!(
        e.kind,
        RuleErrorKind::InvalidValue("pcrexform".into()),
        "{e}"
    );
}

#[test]
fn ordinary_et_style_pcres_load() {
    let text = [
        r#"alert http any any -> any any (flow:established,to_server; http.uri; content:"/gate.php"; pcre:"/\/gate\.php\?id=[a-f0-9]{16}$/U"; sid:1;)"#,
        r#"alert http any any -> any any (http.header; content:"User-Agent|3a 20|"; pcre:"/^User-Agent\x3a\x20[^\r\n]*(?:curl|wget)\/\d/mi"; sid:2;)"#,
        r#"alert tcp any any -> any any (content:"|00 01|"; depth:2; pcre:"/^.{2}(?P<len>[\x00-\xff]{2})\s+\d+/sR"; sid:3;)"#,
        r#"alert tls any any -> any any (tls.sni; content:".top"; endswith; pcre:"/^(?:[a-z0-9-]+\.){2,}top$/"; sid:4;)"#,
        r#"alert http any any -> any any (http.request_body; pcre:"/[&?](?:cmd|exec)=[^&]*(?:%3B|\;|\|)/Pi"; sid:5;)"#,
        r#"alert tcp any any -> any any (pcre:!"/^(?:GET|POST)\s/"; content:"HTTP/1."; sid:6;)"#,
    ]
    .join("\n");
    let (rules, errors) = parse_rules_text(&text, "et.rules", &ctx());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules.len(), 6);
}

/// Rules whose patterns no longer fit the ruleset's pcre budget are refused, in load
/// order whatever the threads, without compiling them; the others load.
#[test]
fn the_pcre_budget_refuses_the_rules_past_it_in_load_order() {
    let big = crate::detect::pcre::estimated_size("x{10000}", "");
    assert_eq!(
        big,
        10_000 * 128 + 128,
        "x{{10000}}: 10,000 states and the alternation"
    );
    let ctx = RuleContext {
        pcre_budget: std::sync::Arc::new(super::PcreBudget::new(3 * big + big / 2)),
        ..RuleContext::default()
    };
    // Enough rules to be checked on several threads.
    let mut text = String::new();
    for sid in 1..=2000 {
        if sid % 100 == 0 {
            text.push_str(&format!(
                "alert tcp any any -> any any (pcre:\"/x{{10000}}/\"; sid:{sid};)\n"
            ));
        } else {
            text.push_str(&format!(
                "alert tcp any any -> any any (content:\"c{sid}\"; sid:{sid};)\n"
            ));
        }
    }
    let (rules, errors) = parse_rules_text(&text, "t.rules", &ctx);
    assert_eq!(rules.len(), 1983);
    let loaded: Vec<u32> = rules
        .iter()
        .filter(|r| r.sid % 100 == 0)
        .map(|r| r.sid)
        .collect();
    assert_eq!(loaded, [100, 200, 300], "the first three fit");
    assert_eq!(errors.len(), 17);
    assert!(errors
        .iter()
        .all(|e| e.kind == RuleErrorKind::Limit("pcre".into())
            && e.message.contains("detect.rulesim.pcre-memcap")));
    assert_eq!(ctx.pcre_budget.used(), 3 * big);
    // The budget is the ruleset's: a second file finds it spent.
    let (rules, errors) = parse_rules_text(
        "alert tcp any any -> any any (pcre:\"/x{10000}/\"; sid:1;)\nalert tcp any any -> any any (pcre:\"/a/\"; sid:2;)\n",
        "u.rules",
        &ctx,
    );
    assert_eq!((rules.len(), errors.len()), (1, 1));
    assert_eq!(rules[0].sid, 2, "a small pattern still fits");
    let summary = RuleSet {
        rules,
        errors,
        ..RuleSet::default()
    }
    .summary();
    assert_eq!(summary.failed_by_keyword["pcre (over a rulesim limit)"], 1);
}

/// Address and port groups nest as deep as Suricata lets them (64 and 65 levels, its
/// recursion limits), and deeper ones are refused without exhausting the stack; any run
/// of `!` is one negation and is read without recursion.
#[test]
fn nesting_stops_at_suricatas_recursion_limits() {
    let nest = |n: usize, x: &str| format!("{}{x}{}", "[".repeat(n), "]".repeat(n));
    let loads = |src: &str, sport: &str| {
        parse_rule(
            &format!("alert tcp {src} {sport} -> any any (sid:1;)"),
            &ctx(),
        )
        .is_ok()
    };
    assert!(loads(&nest(63, "10.0.0.1"), "any"));
    assert!(!loads(&nest(64, "10.0.0.1"), "any"));
    assert!(loads("any", &nest(64, "80")));
    assert!(!loads("any", &nest(65, "80")));
    // As deep as an 8191-byte rule allows, on a thread with a small stack.
    let deep = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            (
                loads(&nest(4000, "10.0.0.1"), "any"),
                loads("any", &nest(4000, "80")),
                parse_rule(
                    &format!(
                        "alert tcp {}10.0.0.1 any -> any any (sid:1;)",
                        "!".repeat(8000)
                    ),
                    &ctx(),
                )
                .map(|r| r.src.to_string()),
            )
        })
        .expect("thread")
        .join()
        .expect("no stack overflow");
    assert_eq!(
        deep,
        (false, false, Ok("!10.0.0.1".to_string())),
        "refused, and `!!!...x` is `!x`"
    );
}
