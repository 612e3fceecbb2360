//! rulesim: an offline tester for Suricata and AWS Network Firewall rulesets.
//!
//! The library follows the path a packet takes, as Suricata is organised:
//! [`capture`] (pcap, pcapng) -> [`decode`] (L2-L4, fragments) -> [`flow`] -> [`stream`]
//! (TCP reassembly, not yet wired into the engine) -> [`output`]
//! (EVE JSON, AWS log wrapper, stats); [`engine`] ties them together and [`config`] holds
//! the settings. [`synth`] builds packets and captures for tests and the bundled sample.

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
