//! The application layer: protocol detection and parsers, fed per flow by `session`
//! with reassembled stream data (TCP) or datagrams (UDP).

pub mod detect;
pub mod dns;
pub mod eve;
pub mod http;
pub mod http_normalize;
pub mod session;
pub mod tls;

#[cfg(test)]
mod dns_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tls_tests;

pub use detect::{AppProto, DetectConfig};
pub use session::{AppConfig, AppShared, AppUpdate, FlowApp, Parser};
