//! End-to-end test of `rulesim report --format html` in a real browser: headless Chromium
//! driven through ChromeDriver (W3C WebDriver over HTTP on the loopback).
//!
//! Chromium is located through `RULESIM_CHROMIUM` (the browser binary; ChromeDriver from
//! `RULESIM_CHROMEDRIVER` or /usr/bin/chromedriver). With `RULESIM_CHROMIUM` set the test
//! must run: a missing or broken binary fails it. Without it, the test runs when
//! /usr/bin/chromium and the driver exist and is skipped (with a line on stderr) otherwise.
//! CI sets `RULESIM_CHROMIUM`.
//!
//! The report must work offline and load nothing but itself: besides checking its tables,
//! charts and sortable columns in the DOM, the test reads the browser's console log (any
//! SEVERE entry fails) and its performance log (any `Network.requestWillBeSent` for another
//! URL than the report's own `file://` URL, `data:` or `about:` fails).

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The tables the report has, by `data-table`.
const TABLES: &[&str] = &[
    "rules",
    "verdicts",
    "top-blocked-sni",
    "top-blocked-hosts",
    "top-sources-blocked-fqdn",
    "top-allowed-alert-signatures",
    "top-sources-per-signature",
    "never-hit",
];
/// Tables that have rows on the bundled sample.
const NON_EMPTY_TABLES: &[&str] = &["rules", "verdicts"];
/// The charts the report has, by `data-chart`.
const CHARTS: &[&str] = &["hits-per-rule", "verdicts-over-time"];
/// The report's Content-Security-Policy: nothing but inline style, inline script and
/// `data:` images.
const REPORT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// The W3C WebDriver key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// The tests

#[test]
fn html_report_renders_sorts_and_stays_offline() {
    let Some(browser) = Browser::locate() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir for the report and the browser profile");
    let report = dir.path().join("report.html");
    generate_report(&report);
    let report_url = file_url(&report);

    let driver = ChromeDriver::start(&browser.chromedriver, dir.path());
    let session = Session::new(&driver, &browser.chromium, &dir.path().join("profile"));
    session.open(&report_url);

    check_structure(&session);
    check_known_rule(&session);
    check_sorting(&session);

    let problems = log_problems(&session.page_logs(), &report_url);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The network check is not vacuous: a page that loads an image from elsewhere is caught,
/// with and without the report's Content-Security-Policy (which blocks the load but not
/// the request's record). `--host-resolver-rules` keeps the request on this machine.
#[test]
fn offline_check_catches_a_remote_image() {
    let Some(browser) = Browser::locate() else {
        return;
    };
    const REMOTE: &str = "http://192.0.2.1/x.png";
    let dir = tempfile::tempdir().expect("temp dir for the pages and the browser profile");
    let plain = dir.path().join("plain.html");
    std::fs::write(
        &plain,
        format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>plain</title></head><body><img src=\"{REMOTE}\"></body></html>"),
    )
    .expect("write plain.html");
    let with_csp = dir.path().join("csp.html");
    std::fs::write(
        &with_csp,
        format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{REPORT_CSP}\"><title>csp</title></head><body><img src=\"{REMOTE}\"></body></html>"),
    )
    .expect("write csp.html");

    let driver = ChromeDriver::start(&browser.chromedriver, dir.path());
    let session = Session::new(&driver, &browser.chromium, &dir.path().join("profile"));
    for page in [&plain, &with_csp] {
        let url = file_url(page);
        session.open(&url);
        let logs = session.page_logs();
        assert_eq!(
            off_page_requests(&logs.requests, &url),
            vec![REMOTE],
            "{}: the checker should report exactly the remote image; requests: {:?}",
            page.display(),
            logs.requests
        );
        assert!(
            logs.console_errors.iter().any(|m| m.contains(REMOTE)),
            "{}: the failed or blocked load should be a SEVERE console message, got {:?}",
            page.display(),
            logs.console_errors
        );
        // The checker's verdict on this page: both findings (and its own request was seen).
        let problems = log_problems(&logs, &url);
        assert_eq!(
            problems.len(),
            2,
            "{}: expected a console and a network problem, got {problems:#?}",
            page.display()
        );
        assert!(
            problems.iter().all(|p| p.contains(REMOTE)),
            "{}: {problems:#?}",
            page.display()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The report and its checks

/// Runs `rulesim report` on the bundled sample from the repository root.
fn generate_report(out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_rulesim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "report", "-r", "pcaps/", "-S", "rules/", "--format", "html", "-o",
        ])
        .arg(out)
        .env("CI", "1")
        .output()
        .expect("run rulesim report");
    assert!(
        o.status.success(),
        "rulesim report failed ({}):\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.is_file(), "rulesim report wrote no {}", out.display());
}

/// Tables, charts and the CSP, read in one script.
fn check_structure(session: &Session) {
    let page = session.execute(
        r#"
        const tables = {};
        for (const t of document.querySelectorAll('table.report[data-table]')) {
            const body = t.tBodies[0];
            tables[t.dataset.table] = {
                head: t.tHead !== null && t.tHead.rows.length > 0,
                rows: body ? body.rows.length : -1,
            };
        }
        const charts = {};
        for (const svg of document.querySelectorAll('svg.chart[data-chart]')) {
            const box = svg.getBoundingClientRect();
            const bars = Array.from(svg.querySelectorAll('rect.bar'), b => b.getBoundingClientRect());
            charts[svg.dataset.chart] = {
                width: box.width,
                height: box.height,
                bars: bars.length,
                visible_bars: bars.filter(b => b.width > 0 && b.height > 0).length,
            };
        }
        const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
        return { tables, charts, csp: csp ? csp.content : null };
        "#,
        &[],
    );

    assert_eq!(
        page["csp"].as_str().map(normalise_space),
        Some(normalise_space(REPORT_CSP)),
        "the report's Content-Security-Policy meta"
    );
    let tables = &page["tables"];
    for name in TABLES {
        let t = &tables[*name];
        assert!(
            t.is_object(),
            "no <table class=\"report\" data-table=\"{name}\">; tables: {tables}"
        );
        assert_eq!(t["head"], json!(true), "table {name} has no <thead> row");
        let rows = t["rows"].as_i64().expect("row count");
        assert!(rows >= 0, "table {name} has no <tbody>");
        if NON_EMPTY_TABLES.contains(name) {
            assert!(
                rows >= 1,
                "table {name} has no body row on the bundled sample"
            );
        }
    }
    let rules = tables["rules"]["rows"].as_u64().expect("rules row count");
    for name in CHARTS {
        let c = &page["charts"][*name];
        assert!(
            c.is_object(),
            "no <svg class=\"chart\" data-chart=\"{name}\">; charts: {}",
            page["charts"]
        );
        let (w, h) = (c["width"].as_f64(), c["height"].as_f64());
        assert!(
            w > Some(0.0) && h > Some(0.0),
            "chart {name} renders at {w:?} x {h:?}"
        );
        assert!(
            c["visible_bars"].as_u64() >= Some(1),
            "chart {name} has no rect.bar with a non-zero size: {c}"
        );
    }
    assert_eq!(
        page["charts"]["hits-per-rule"]["bars"].as_u64(),
        Some(rules),
        "hits-per-rule has one bar per rule in the rules table"
    );
}

/// The rules table shows a known rule of rules/local.rules with its alert count on the
/// bundled sample (3: curl requests in three of its flows).
fn check_known_rule(session: &Session) {
    let headers = table_headers(session, "rules");
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("the rules table has no \"{name}\" column: {headers:?}"))
    };
    let (sid, msg, alerts) = (column("sid"), column("msg"), column("alerts"));
    let rows = table_rows(session, "rules");
    let known = rows
        .iter()
        .find(|cells| cells.get(sid).map(String::as_str) == Some("1000003"))
        .unwrap_or_else(|| panic!("no row for sid 1000003 in the rules table: {rows:?}"));
    assert_eq!(
        known[msg], "LOCAL curl user agent",
        "msg of sid 1000003: {known:?}"
    );
    assert_eq!(known[alerts], "3", "alerts of sid 1000003: {known:?}");
}

/// Clicking a numeric column header of the rules table sorts its rows by that column, and
/// clicking again reverses the order.
fn check_sorting(session: &Session) {
    // A numeric column with at least two distinct values: "alerts", else one about hits or
    // alerts, else the first.
    let picked = session.execute(
        r#"
        const t = document.querySelector('table.report[data-table="rules"]');
        const heads = Array.from(t.tHead.rows[0].cells);
        const rows = Array.from(t.tBodies[0].rows);
        const num = s => { s = s.trim().replace(/[,\u00a0\u202f]/g, ''); const v = Number(s); return s !== '' && Number.isFinite(v) ? v : null; };
        const usable = heads.map((h, i) => i).filter(i =>
            rows.every(r => r.cells[i] && num(r.cells[i].textContent) !== null)
            && new Set(rows.map(r => num(r.cells[i].textContent))).size > 1);
        const label = i => heads[i].textContent.trim();
        const i = usable.find(i => label(i) === 'alerts')
            ?? usable.find(i => /hit|alert/i.test(label(i))) ?? usable[0];
        return i === undefined ? null : { index: i, label: label(i), th: heads[i] };
        "#,
        &[],
    );
    assert!(
        !picked.is_null(),
        "the rules table has no numeric column with two distinct values to sort by: {:?}",
        table_rows(session, "rules")
    );
    let index = picked["index"].as_u64().expect("column index");
    let label = picked["label"].as_str().expect("column label").to_string();
    let th = picked["th"][ELEMENT_KEY]
        .as_str()
        .expect("the th as a WebDriver element reference")
        .to_string();

    let before = sorted_rows(table_rows(session, "rules"));
    let mut seen = Vec::new();
    for click in 1..=2 {
        session.click(&th);
        let state = session.execute(
            r#"
            const [th, i] = arguments;
            const t = th.closest('table');
            const cells = Array.from(t.tBodies[0].rows, r => r.cells[i].textContent.trim().replace(/[,\u00a0\u202f]/g, ''));
            return { sorted: th.getAttribute('data-sorted'), values: cells.map(Number) };
            "#,
            &[picked["th"].clone(), json!(index)],
        );
        let dir = state["sorted"].as_str().map(str::to_string);
        let values: Vec<f64> = state["values"]
            .as_array()
            .expect("column values")
            .iter()
            .map(|v| v.as_f64().expect("numeric cell"))
            .collect();
        let ordered = match dir.as_deref() {
            Some("asc") => values.windows(2).all(|w| w[0] <= w[1]),
            Some("desc") => values.windows(2).all(|w| w[0] >= w[1]),
            other => panic!("click {click} on \"{label}\": data-sorted is {other:?}, not asc/desc"),
        };
        assert!(
            ordered,
            "click {click} on \"{label}\" (data-sorted={dir:?}): column not in that order: {values:?}"
        );
        assert_eq!(
            sorted_rows(table_rows(session, "rules")),
            before,
            "click {click} on \"{label}\" changed the rows' contents, not just their order"
        );
        seen.push(dir);
    }
    assert_ne!(
        seen[0], seen[1],
        "a second click on \"{label}\" must reverse the order"
    );
}

/// The header cells of a report table, as texts.
fn table_headers(session: &Session, table: &str) -> Vec<String> {
    let headers = session.execute(
        r#"
        const t = document.querySelector(`table.report[data-table="${arguments[0]}"]`);
        return Array.from(t.tHead.rows[0].cells, c => c.textContent.trim());
        "#,
        &[json!(table)],
    );
    serde_json::from_value(headers).expect("table headers as strings")
}

/// The body rows of a report table, as cell texts.
fn table_rows(session: &Session, table: &str) -> Vec<Vec<String>> {
    let rows = session.execute(
        r#"
        const t = document.querySelector(`table.report[data-table="${arguments[0]}"]`);
        return Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => c.textContent.trim()));
        "#,
        &[json!(table)],
    );
    serde_json::from_value(rows).expect("table rows as arrays of strings")
}

fn sorted_rows(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

fn normalise_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------
// What the page logged

/// What a page did, from the browser's logs since the page was opened.
struct PageLogs {
    /// SEVERE console entries, as "source: message".
    console_errors: Vec<String>,
    /// The URL of every request the page's renderer started (`Network.requestWillBeSent`,
    /// `Network.webSocketCreated`), in order.
    requests: Vec<String>,
}

/// The requests other than the page's own URL, `data:` and `about:`.
fn off_page_requests<'a>(requests: &'a [String], own: &str) -> Vec<&'a str> {
    requests
        .iter()
        .map(String::as_str)
        .filter(|u| *u != own && !u.starts_with("data:") && !u.starts_with("about:"))
        .collect()
}

/// What is wrong in a page's logs: SEVERE console messages, requests for anything but
/// itself, and its own request missing (which would make the network check vacuous).
fn log_problems(logs: &PageLogs, own: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !logs.console_errors.is_empty() {
        problems.push(format!(
            "the page logged {} SEVERE console message(s):\n  {}",
            logs.console_errors.len(),
            logs.console_errors.join("\n  ")
        ));
    }
    let off = off_page_requests(&logs.requests, own);
    if !off.is_empty() {
        problems.push(format!(
            "the page requested {} URL(s) besides itself:\n  {}",
            off.len(),
            off.join("\n  ")
        ));
    }
    if !logs.requests.iter().any(|u| u == own) {
        problems.push(format!(
            "the page's own request ({own}) is missing from the performance log, so the \
             network check would prove nothing; requests seen: {:?}",
            logs.requests
        ));
    }
    problems
}

// ---------------------------------------------------------------------------------------
// Chromium and ChromeDriver

struct Browser {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Browser {
    /// The binaries to use, or `None` (with a line on stderr) when the test is to be
    /// skipped. Panics when `RULESIM_CHROMIUM` is set but a binary is missing or broken.
    fn locate() -> Option<Browser> {
        let chromedriver = std::env::var_os("RULESIM_CHROMEDRIVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
        match std::env::var_os("RULESIM_CHROMIUM") {
            Some(chromium) => {
                let browser = Browser {
                    chromium: PathBuf::from(chromium),
                    chromedriver,
                };
                browser.assert_usable();
                Some(browser)
            }
            None => {
                let chromium = PathBuf::from("/usr/bin/chromium");
                if chromium.is_file() && chromedriver.is_file() {
                    Some(Browser {
                        chromium,
                        chromedriver,
                    })
                } else {
                    eprintln!(
                        "skipped: Chromium not installed (set RULESIM_CHROMIUM to the chromium \
                         binary to require this test; chromedriver from RULESIM_CHROMEDRIVER or \
                         /usr/bin/chromedriver)"
                    );
                    None
                }
            }
        }
    }

    /// Both binaries exist and answer `--version`.
    fn assert_usable(&self) {
        for (what, path) in [
            ("RULESIM_CHROMIUM", &self.chromium),
            ("chromedriver", &self.chromedriver),
        ] {
            assert!(
                path.is_file(),
                "RULESIM_CHROMIUM is set, so this test must run, but {what} {} does not exist \
                 (chromedriver comes from RULESIM_CHROMEDRIVER or /usr/bin/chromedriver)",
                path.display()
            );
            let out = Command::new(path)
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("{what} {}: cannot run it: {e}", path.display()));
            assert!(
                out.status.success(),
                "{what} {} --version failed ({}):\n{}",
                path.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A ChromeDriver process on a free loopback port, killed on drop (its log is printed
/// then if the test is failing).
struct ChromeDriver {
    child: Child,
    base: String,
    log: PathBuf,
    http: ureq::Agent,
}

impl ChromeDriver {
    fn start(binary: &Path, dir: &Path) -> ChromeDriver {
        let http: ureq::Agent = ureq::Agent::config_builder()
            // Loopback only: no proxy from the environment.
            .proxy(None)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        // The port is free when picked; another process may take it before ChromeDriver
        // binds it, hence a few tries.
        for attempt in 1..=3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("pick a free loopback port")
                .port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let child = Command::new(binary)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
            let mut driver = ChromeDriver {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
                http: http.clone(),
            };
            if driver.wait_ready() {
                return driver;
            }
            eprintln!("chromedriver exited on port {port} (try {attempt}), trying another port");
        }
        panic!("chromedriver did not start in 3 tries");
    }

    /// Waits for `GET /status` to say ready; false if the process exited first.
    fn wait_ready(&mut self) -> bool {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll chromedriver") {
                eprintln!("chromedriver exited: {status}\n{}", self.log_tail());
                return false;
            }
            if let Ok(status) = self.request("GET", "/status", None) {
                if status["ready"] == json!(true) {
                    return true;
                }
            }
            assert!(
                start.elapsed() < DRIVER_READY_TIMEOUT,
                "chromedriver at {} not ready after {DRIVER_READY_TIMEOUT:?}",
                self.base
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One WebDriver command; `Ok` holds the response's `value`, `Err` says what failed.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" => self.http.get(&url).call(),
            "DELETE" => self.http.delete(&url).call(),
            "POST" => self
                .http
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(&json!({})).to_string()),
            other => unreachable!("no WebDriver command uses {other}"),
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .map_err(|e| format!("{method} {path}: reading the response: {e}"))?;
        let mut reply: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{method} {path}: HTTP {status}, not JSON ({e}): {text}"))?;
        let value = reply["value"].take();
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!(
                "{method} {path}: HTTP {status}: {}: {}",
                value["error"].as_str().unwrap_or("?"),
                value["message"].as_str().unwrap_or(&text)
            ))
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut out = format!("--- last lines of {} ---\n", self.log.display());
        for l in &lines[lines.len().saturating_sub(25)..] {
            let l: String = l.chars().take(400).collect();
            let _ = writeln!(out, "{l}");
        }
        out
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}

/// A WebDriver session with its own Chromium, deleted on drop (and the browser killed
/// if that fails, so that no Chromium outlives the test).
struct Session<'a> {
    driver: &'a ChromeDriver,
    id: String,
    browser_pid: Option<u64>,
}

impl<'a> Session<'a> {
    fn new(driver: &'a ChromeDriver, chromium: &Path, profile: &Path) -> Session<'a> {
        std::fs::create_dir_all(profile).expect("create the browser profile dir");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            // Even with the flags above Chromium looks up a few hosts at start (the search
            // engine's new tab page, accounts, the update and time services). This turns
            // every host name and IP literal into "not found", so nothing leaves the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "timeouts": { "pageLoad": 20_000, "script": 10_000 },
                    "goog:chromeOptions": {
                        "binary": chromium.to_str().expect("chromium path as UTF-8"),
                        "args": args,
                    },
                    "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
                }
            }
        });
        let created = driver
            .request("POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| {
                panic!(
                    "create a WebDriver session with {}: {e}",
                    chromium.display()
                )
            });
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {created}"))
            .to_string();
        Session {
            driver,
            id,
            browser_pid: created["capabilities"]["goog:processID"].as_u64(),
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.driver
            .request(method, &format!("/session/{}{path}", self.id), body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Opens `url` with empty logs: first `about:blank` (so that nothing of the start
    /// page is still loading), then both logs are drained, then `url`.
    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({ "url": "about:blank" })));
        self.log("browser");
        self.log("performance");
        self.command("POST", "/url", Some(&json!({ "url": url })));
    }

    fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    fn click(&self, element: &str) {
        self.command("POST", &format!("/element/{element}/click"), None);
    }

    /// The entries of a log since it was last read (ChromeDriver's `se/log` endpoint).
    fn log(&self, kind: &str) -> Vec<Value> {
        match self.command("POST", "/se/log", Some(&json!({ "type": kind }))) {
            Value::Array(entries) => entries,
            other => panic!("{kind} log is not an array: {other}"),
        }
    }

    /// The console errors and requested URLs since `open`.
    fn page_logs(&self) -> PageLogs {
        let console_errors = self
            .log("browser")
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| {
                format!(
                    "{}: {}",
                    e["source"].as_str().unwrap_or("?"),
                    e["message"].as_str().unwrap_or("?")
                )
            })
            .collect();
        let mut requests = Vec::new();
        for entry in self.log("performance") {
            let text = entry["message"]
                .as_str()
                .expect("performance entry message");
            let event: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("performance entry not JSON ({e}): {text}"));
            let event = &event["message"];
            let url = match event["method"].as_str() {
                Some("Network.requestWillBeSent") => &event["params"]["request"]["url"],
                Some("Network.webSocketCreated") => &event["params"]["url"],
                _ => continue,
            };
            requests.push(
                url.as_str()
                    .unwrap_or_else(|| panic!("request without a URL: {event}"))
                    .to_string(),
            );
        }
        PageLogs {
            console_errors,
            requests,
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let deleted = self
            .driver
            .request("DELETE", &format!("/session/{}", self.id), None);
        if let (Err(e), Some(pid)) = (deleted, self.browser_pid) {
            eprintln!("deleting the WebDriver session failed ({e}); killing Chromium {pid}");
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// The `file://` URL of a path, as Chromium writes it.
fn file_url(path: &Path) -> String {
    let path = path
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut url = String::from("file://");
    for b in path.to_str().expect("path as UTF-8").bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            let _ = write!(url, "%{b:02X}");
        }
    }
    url
}
