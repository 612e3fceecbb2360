//! IP and TCP header keywords: `flags` (`tcp.flags`), `ttl`, `seq` (`tcp.seq`), `ack`
//! (`tcp.ack`), `window` (`tcp.window`). Each parses as Suricata 7.0.10 does
//! (detect-tcp-flags.c, detect-ttl.c, detect-tcp-seq.c, detect-tcp-ack.c,
//! detect-tcp-window.c) and matches real packets only: none of them matches the pseudo
//! packets Suricata makes at a flow's end, and the TCP ones only TCP packets.

use super::options::{parse_num_test, NumTest, ValueError};
use crate::decode::tcp_flags as f;

/// How `flags` compares the packet's flags with the rule's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagsModifier {
    /// No modifier: exactly these flags (after the ignore mask).
    Exact,
    /// `+`: these flags and any others.
    Plus,
    /// `*`: any of these flags.
    Any,
    /// `!`: not all of these flags.
    Not,
}

/// One header test of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderTest {
    Flags {
        modifier: FlagsModifier,
        flags: u8,
        /// Bits compared (the ignore mask's complement).
        compared: u8,
    },
    Ttl(NumTest),
    Seq(u32),
    Ack(u32),
    Window {
        negated: bool,
        size: u16,
    },
    /// `stream_size`: bytes of the TCP session's sequence space used so far by a side
    /// (Suricata's `next_seq - isn`).
    StreamSize {
        side: StreamSide,
        test: NumTest,
    },
}

/// Which side's stream `stream_size` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamSide {
    Server,
    Client,
    /// Both sides pass.
    Both,
    /// Either side passes.
    Either,
}

/// The header fields the tests read; `None` for a pseudo packet or, for `tcp`, a packet
/// that is not TCP.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeaderFields {
    pub ttl: Option<u8>,
    pub tcp: Option<TcpFields>,
    /// The TCP session's (client, server) stream sizes, when the packet has one.
    pub stream_sizes: Option<(u32, u32)>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct TcpFields {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
}

fn err(v: &str, message: impl Into<String>) -> ValueError {
    ValueError {
        offset: 0,
        len: v.len().max(1),
        message: message.into(),
    }
}

fn flag_bit(c: char) -> Option<u8> {
    Some(match c {
        'F' => f::FIN,
        'S' => f::SYN,
        'R' => f::RST,
        'P' => f::PSH,
        'A' => f::ACK,
        'U' => f::URG,
        'C' | '1' => f::CWR,
        'E' | '2' => f::ECE,
        _ => return None,
    })
}

/// `flags:[!|+|*]<FSRPAUCE0 12>[,<ignored>]`. As Suricata's pattern, flag letters are
/// upper case; `0` means no flag set; one modifier at most.
pub fn parse_flags(v: &str) -> Result<HeaderTest, ValueError> {
    let t = v.trim();
    let (main, ignored) = match t.split_once(',') {
        Some((m, i)) => (m.trim(), Some(i.trim())),
        None => (t, None),
    };
    let mut modifier = None;
    let mut flags = 0u8;
    let mut found = 0;
    for (i, c) in main.chars().enumerate() {
        let m = match c {
            '!' => Some(FlagsModifier::Not),
            '+' => Some(FlagsModifier::Plus),
            '*' => Some(FlagsModifier::Any),
            _ => None,
        };
        if let Some(m) = m {
            if modifier.is_some() {
                return Err(err(v, "`flags` takes one modifier at most"));
            }
            modifier = Some(m);
            continue;
        }
        if c == '0' {
            flags = 0;
            found += 1;
        } else if c.is_whitespace() && i == 1 && modifier.is_some() {
            // `! S`: Suricata's pattern allows space after a leading modifier.
        } else {
            let bit = flag_bit(c).ok_or_else(|| {
                err(
                    v,
                    format!("`{c}` is not a TCP flag (F S R P A U C E 0, 1, 2)"),
                )
            })?;
            flags |= bit;
            found += 1;
        }
    }
    if found == 0 {
        return Err(err(v, "`flags` needs at least one flag"));
    }
    let mut compared = 0xff;
    if let Some(ignored) = ignored {
        let mut any = false;
        for c in ignored.chars() {
            let bit =
                flag_bit(c).ok_or_else(|| err(v, format!("`{c}` is not a TCP flag to ignore")))?;
            compared &= !bit;
            any = true;
        }
        if !any {
            return Err(err(v, "nothing after the comma of `flags`"));
        }
    }
    Ok(HeaderTest::Flags {
        modifier: modifier.unwrap_or(FlagsModifier::Exact),
        flags,
        compared,
    })
}

/// `ttl`: Suricata's unsigned comparison of the IPv4 TTL or IPv6 hop limit.
pub fn parse_ttl(v: &str) -> Result<HeaderTest, ValueError> {
    parse_num_test(v, 255).map(HeaderTest::Ttl)
}

/// `seq` / `ack`: a decimal 32-bit number, compared exactly.
pub fn parse_seq_or_ack(v: &str, ack: bool) -> Result<HeaderTest, ValueError> {
    let t = v.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(v, format!("`{t}` is not a number")));
    }
    let n: u32 = t
        .parse()
        .map_err(|_| err(v, "the value must be at most 4294967295"))?;
    Ok(if ack {
        HeaderTest::Ack(n)
    } else {
        HeaderTest::Seq(n)
    })
}

/// `window:[!]<size>`: the TCP window, equal (or, with `!`, not equal).
pub fn parse_window(v: &str) -> Result<HeaderTest, ValueError> {
    let t = v.trim();
    let (negated, rest) = match t.strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, t),
    };
    if rest.is_empty() || rest.len() > 9 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(v, format!("`{rest}` is not a window size")));
    }
    let size: u16 = rest
        .parse()
        .map_err(|_| err(v, "the window size must be at most 65535"))?;
    Ok(HeaderTest::Window { negated, size })
}

/// `stream_size:<server|client|both|either>,<op>,<n>` as Suricata 7's parser reads it
/// (`detect_parse_stream_size`): spaces allowed around each part, the operator one of
/// `<`, `<=`, `>`, `>=`, `=`, `!=`, `!`, the number a 32-bit decimal.
pub fn parse_stream_size(v: &str) -> Result<HeaderTest, ValueError> {
    let parts: Vec<&str> = v.split(',').collect();
    let [side, op, n] = parts[..] else {
        return Err(err(
            v,
            "expected `<server|client|both|either>,<operator>,<number>`",
        ));
    };
    let side = match side.trim_matches(' ') {
        "server" => StreamSide::Server,
        "client" => StreamSide::Client,
        "both" => StreamSide::Both,
        "either" => StreamSide::Either,
        other => {
            return Err(err(
                v,
                format!("`{other}` is not a side (server, client, both or either)"),
            ))
        }
    };
    let n = n.trim_matches(' ');
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(v, format!("`{n}` is not a number")));
    }
    let n: u64 = n
        .parse::<u32>()
        .map_err(|_| err(v, "the value must be at most 4294967295"))?
        .into();
    let test = match op.trim_matches(' ') {
        "<" => NumTest::Lt(n),
        "<=" => NumTest::Le(n),
        ">" => NumTest::Gt(n),
        ">=" => NumTest::Ge(n),
        "=" => NumTest::Eq(n),
        "!=" | "!" => NumTest::Ne(n),
        other => return Err(err(v, format!("`{other}` is not an operator"))),
    };
    Ok(HeaderTest::StreamSize { side, test })
}

impl HeaderTest {
    /// Whether the packet's header passes the test.
    pub fn matches(&self, h: &HeaderFields) -> bool {
        match *self {
            HeaderTest::Ttl(t) => h
                .ttl
                .is_some_and(|ttl| crate::detect::signature::num_test(&t, u64::from(ttl))),
            HeaderTest::Flags {
                modifier,
                flags,
                compared,
            } => h
                .tcp
                .is_some_and(|tcp| flags_match(tcp.flags, modifier, flags, compared)),
            HeaderTest::Seq(n) => h.tcp.is_some_and(|tcp| tcp.seq == n),
            HeaderTest::Ack(n) => h.tcp.is_some_and(|tcp| tcp.ack == n),
            HeaderTest::Window { negated, size } => {
                h.tcp.is_some_and(|tcp| (tcp.window == size) != negated)
            }
            HeaderTest::StreamSize { side, test } => {
                let Some((client, server)) = h.stream_sizes else {
                    return false;
                };
                let pass = |n: u32| crate::detect::signature::num_test(&test, u64::from(n));
                match side {
                    StreamSide::Server => pass(server),
                    StreamSide::Client => pass(client),
                    StreamSide::Both => pass(server) && pass(client),
                    StreamSide::Either => pass(server) || pass(client),
                }
            }
        }
    }
}

/// Suricata's `FlagsMatch`: a rule asking for no flags (`0`) matches a packet with some
/// only under `!`; otherwise the packet's compared flags are held to the rule's.
fn flags_match(packet: u8, modifier: FlagsModifier, flags: u8, compared: u8) -> bool {
    if flags == 0 && packet != 0 {
        return modifier == FlagsModifier::Not;
    }
    let p = packet & compared;
    match modifier {
        FlagsModifier::Any => p & flags != 0,
        FlagsModifier::Plus => p & flags == flags,
        FlagsModifier::Not => p & flags != flags,
        FlagsModifier::Exact => p == flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(flags: u8) -> HeaderFields {
        HeaderFields {
            ttl: Some(64),
            tcp: Some(TcpFields {
                flags,
                seq: 100,
                ack: 200,
                window: 512,
            }),
            stream_sizes: Some((11, 1)),
        }
    }

    /// (keyword value, packet flags, matches) — Suricata's `FlagsMatch` cases.
    const FLAGS: &[(&str, u8, bool)] = &[
        ("S", f::SYN, true),
        ("S", f::SYN | f::ACK, false),
        ("SA", f::SYN | f::ACK, true),
        ("+S", f::SYN | f::ACK, true),
        ("+SA", f::SYN, false),
        ("*SF", f::FIN | f::ACK, true),
        ("*SF", f::ACK, false),
        ("!S", f::ACK, true),
        ("!S", f::SYN | f::ACK, false),
        ("!SA", f::SYN, true),
        ("0", 0, true),
        ("0", f::ACK, false),
        ("!0", f::ACK, true),
        ("S,CE", f::SYN | f::CWR | f::ECE, true),
        ("S,12", f::SYN | f::ECE, true),
        ("S", f::SYN | f::ECE, false),
        ("A+", f::ACK | f::PSH, true),
        ("PA", f::PSH | f::ACK, true),
        ("FPU", f::FIN | f::PSH | f::URG, true),
    ];

    #[test]
    fn flags_as_suricata_matches_them() {
        for &(v, packet, want) in FLAGS {
            let t = parse_flags(v).unwrap_or_else(|e| panic!("{v}: {e:?}"));
            assert_eq!(t.matches(&tcp(packet)), want, "flags:{v} on {packet:#04x}");
        }
    }

    #[test]
    fn flags_parse_errors() {
        for v in ["", "s", "X", "+*S", "S,", "S,x", "+"] {
            assert!(parse_flags(v).is_err(), "flags:{v} should be refused");
        }
    }

    #[test]
    fn header_tests_need_a_real_packet_of_their_protocol() {
        let pseudo = HeaderFields::default();
        let udp = HeaderFields {
            ttl: Some(64),
            tcp: None,
            stream_sizes: None,
        };
        for t in [
            parse_flags("0").expect("0"),
            parse_seq_or_ack("100", false).expect("seq"),
            parse_window("512").expect("window"),
            parse_stream_size("client,>,0").expect("stream_size"),
        ] {
            assert!(t.matches(&tcp(0)));
            assert!(!t.matches(&pseudo) && !t.matches(&udp), "{t:?}");
        }
        assert!(parse_ttl("64").expect("ttl").matches(&udp));
        assert!(!parse_ttl("64").expect("ttl").matches(&pseudo));
    }

    #[test]
    fn ttl_seq_ack_window_values() {
        let h = tcp(f::ACK);
        for (t, want) in [
            (parse_ttl("<65"), true),
            (parse_ttl(">64"), false),
            (parse_ttl("60-70"), true),
            (parse_seq_or_ack("100", false), true),
            (parse_seq_or_ack("200", true), true),
            (parse_seq_or_ack("201", true), false),
            (parse_window("!512"), false),
            (parse_window("! 511"), true),
        ] {
            assert_eq!(t.expect("valid").matches(&h), want);
        }
        assert!(parse_window("65536").is_err());
        assert!(parse_seq_or_ack("-1", false).is_err());
        assert!(parse_ttl("256").is_err());
    }
}
