//! rulesim: an offline tester for Suricata and AWS Network Firewall rulesets.
//!
//! The library follows the path a packet takes, as Suricata is organised:
//! [`capture`] (pcap, pcapng) -> [`decode`] (L2-L4, fragments) -> [`flow`] -> [`stream`]
//! (TCP reassembly) -> [`app`] (protocol detection, TLS, HTTP, DNS) -> [`detect`] (the
//! compiled ruleset) -> [`output`] (EVE JSON, AWS log wrapper, stats); [`rules`] parses
//! what feeds [`detect`]; [`engine`] ties them together (on worker threads with
//! [`engine::parallel`]) and [`config`] holds the settings; [`jobs`] are the `test`,
//! `diff`, `explain` and `report` commands. [`synth`] builds packets and captures for
//! tests and the bundled sample.

pub mod app;
pub mod capture;
pub mod cli;
pub mod config;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod flow;
#[doc(hidden)]
pub mod fuzz;
pub mod jobs;
pub mod lint;
pub mod output;
pub mod rules;
pub mod stream;
pub mod synth;
pub mod time;
pub mod trace;
