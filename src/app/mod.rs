//! Application-layer parsers, fed with reassembled stream data (TCP) or datagrams (UDP).
//! Not yet wired into the engine: that, and protocol detection, come with the rest of the
//! app-layer issue.

pub mod detect;
pub mod dns;
pub mod http;
pub mod http_normalize;
pub mod tls;

#[cfg(test)]
mod dns_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tls_tests;
