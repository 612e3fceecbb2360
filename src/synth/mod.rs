//! Generated traffic for tests, benchmarks and the bundled sample: packets built with the
//! project's own code so that a reader sees each packet's intent.

pub mod bulk;
pub mod capture;
pub mod mix;
pub mod packets;
pub mod sample;

pub use capture::{ByteOrder, NgInterface, PcapNgWriter, PcapWriter};
pub use packets::{Link, TcpConversation, TimedPacket};
