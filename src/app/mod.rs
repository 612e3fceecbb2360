//! The application layer: protocol detection and parsers, fed per flow by `session`
//! with reassembled stream data (TCP) or datagrams (UDP).

pub mod detect;
pub mod dns;
pub mod eve;
pub mod http;
pub mod http_decompress;
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

/// The parsers' limits, from the settings (README, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppLimits {
    pub http: http::HttpLimits,
    pub tls: tls::TlsLimits,
    /// DNS transactions kept per flow, the oldest dropped beyond
    /// (`app-layer.protocols.dns.rulesim.max-tx`; Suricata has no such bound).
    pub dns_max_tx: usize,
}

impl Default for AppLimits {
    fn default() -> Self {
        AppLimits {
            http: http::HttpLimits::default(),
            tls: tls::TlsLimits::default(),
            dns_max_tx: dns::DEFAULT_MAX_TX,
        }
    }
}

/// How often the parsers reached their limits: `stats.json`, `app_limits`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppLimitHits {
    pub http: http::HttpLimitHits,
    pub tls: tls::TlsLimitHits,
    pub dns: dns::DnsLimitHits,
}

impl AppLimitHits {
    pub fn add(&mut self, o: &AppLimitHits) {
        self.http.add(&o.http);
        self.tls.add(&o.tls);
        self.dns.add(&o.dns);
    }
}
