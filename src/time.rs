//! Packet timestamps and their EVE rendering.

use std::fmt;

/// A packet time: seconds since the Unix epoch and nanoseconds.
///
/// Captures carry µs or ns (pcap) or any power-of-ten/two resolution (pcapng); all are
/// normalised to nanoseconds here. EVE prints microseconds, truncated as Suricata does.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp { secs: 0, nanos: 0 };
    pub const MAX: Timestamp = Timestamp {
        secs: i64::MAX,
        nanos: 999_999_999,
    };

    /// Builds a timestamp; `nanos` above one second carries into `secs`.
    pub fn new(secs: i64, nanos: u32) -> Self {
        let carry = i64::from(nanos / 1_000_000_000);
        Timestamp {
            secs: secs.saturating_add(carry),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// From a count of `units_per_sec` ticks since the epoch (pcapng timestamps).
    pub fn from_ticks(ticks: u64, units_per_sec: u64, offset_secs: i64) -> Self {
        let per = units_per_sec.max(1);
        let secs = ticks / per;
        let frac = ticks % per;
        let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(per)) as u32;
        let secs = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_add(offset_secs);
        Timestamp::new(secs, nanos)
    }

    pub fn secs(&self) -> i64 {
        self.secs
    }

    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    pub fn micros(&self) -> u32 {
        self.nanos / 1000
    }

    /// Whole seconds from `earlier` to `self`, as Suricata computes flow `age`
    /// (difference of the second fields, never negative).
    pub fn age_since(&self, earlier: Timestamp) -> i64 {
        (self.secs - earlier.secs).max(0)
    }

    /// `self + secs`, saturating.
    pub fn plus_secs(&self, secs: u32) -> Timestamp {
        Timestamp {
            secs: self.secs.saturating_add(i64::from(secs)),
            nanos: self.nanos,
        }
    }

    /// Renders `YYYY-MM-DDTHH:MM:SS.ffffff+0000` (EVE's format, always UTC).
    pub fn eve(&self) -> EveTime {
        EveTime(*self)
    }

    /// The EVE rendering into a fixed buffer, without the formatting machinery (three
    /// timestamps go into every record). Years outside 0..=9999 fall back to `Display`.
    pub fn eve_bytes(&self) -> Option<[u8; EVE_TIME_LEN]> {
        // A record's timestamps mostly share their second with the previous one: the
        // date and time of day are kept per thread and only the microseconds written.
        thread_local! {
            static LAST_SECOND: std::cell::Cell<Option<(i64, [u8; EVE_TIME_LEN])>> =
                const { std::cell::Cell::new(None) };
        }
        let mut b = match LAST_SECOND.get() {
            Some((secs, b)) if secs == self.secs => b,
            _ => {
                let b = Self::eve_second(self.secs)?;
                LAST_SECOND.set(Some((self.secs, b)));
                b
            }
        };
        let mut v = self.micros();
        for i in (20..26).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        Some(b)
    }

    /// The EVE rendering of a whole second (microseconds zero).
    fn eve_second(secs: i64) -> Option<[u8; EVE_TIME_LEN]> {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000000+0000";
        let mut put = |at: usize, width: usize, mut v: u64| {
            for i in (0..width).rev() {
                b[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, y as u64);
        put(5, 2, u64::from(m));
        put(8, 2, u64::from(d));
        put(11, 2, (rem / 3600) as u64);
        put(14, 2, ((rem / 60) % 60) as u64);
        put(17, 2, (rem % 60) as u64);
        Some(b)
    }
}

/// Length of an EVE timestamp.
pub const EVE_TIME_LEN: usize = 31;

/// Display adapter for the EVE timestamp format.
pub struct EveTime(Timestamp);

impl fmt::Display for EveTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ts = self.0;
        let days = ts.secs.div_euclid(86_400);
        let rem = ts.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+0000",
            y,
            m,
            d,
            rem / 3600,
            (rem / 60) % 60,
            rem % 60,
            ts.micros()
        )
    }
}

/// Gregorian date from days since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Timestamp {
    /// Parses the timestamps logs carry: EVE's `2020-10-13T22:10:01.006481+0000`, and the
    /// RFC 3339 forms (`Z`, `+01:00`, any number of fraction digits, or none) that AWS
    /// and CloudWatch use. None for anything else.
    pub fn parse_log(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<u32> {
            let part = b.get(from..from + len)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(part).ok()?.parse().ok()
        };
        let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        if !matches!(b.get(10), Some(b'T' | b' ')) || b.get(13) != Some(&b':') {
            return None;
        }
        let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if b.get(16) != Some(&b':') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            return None;
        }
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut at = 19;
        let mut nanos: u32 = 0;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let mut digits = 0;
            while let Some(c) = b.get(at).filter(|c| c.is_ascii_digit()) {
                if digits < 9 {
                    nanos = nanos * 10 + u32::from(c - b'0');
                    digits += 1;
                }
                at += 1;
            }
            if digits == 0 {
                return None;
            }
            nanos *= 10u32.pow(9 - digits);
        }
        let offset: i64 = match b.get(at) {
            None | Some(b'Z' | b'z') if b.len() <= at + 1 => 0,
            Some(sign @ (b'+' | b'-')) => {
                let oh = num(at + 1, 2)?;
                let colon = usize::from(b.get(at + 3) == Some(&b':'));
                let om = num(at + 3 + colon, 2)?;
                if b.len() != at + 5 + colon {
                    return None;
                }
                let o = i64::from(oh * 3600 + om * 60);
                if *sign == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return None,
        };
        let days = days_from_civil(i64::from(y), mo, d);
        let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset;
        Some(Timestamp::new(secs, nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_format_matches_suricata_records() {
        // 2016-05-27T06:56:11.304062+0000 is sv-netflow-eve's flow start.
        let ts = Timestamp::new(1_464_332_171, 304_062_999);
        assert_eq!(ts.eve().to_string(), "2016-05-27T06:56:11.304062+0000");
        assert_eq!(
            Timestamp::ZERO.eve().to_string(),
            "1970-01-01T00:00:00.000000+0000"
        );
        // leap day
        assert_eq!(
            Timestamp::new(951_782_400, 0).eve().to_string(),
            "2000-02-29T00:00:00.000000+0000"
        );
        for t in [
            ts,
            Timestamp::ZERO,
            Timestamp::new(4_102_444_799, 999_999_999),
            Timestamp::new(-1, 0),
        ] {
            let fast = t.eve_bytes().expect("in range");
            assert_eq!(
                std::str::from_utf8(&fast).expect("ascii"),
                t.eve().to_string()
            );
        }
        assert_eq!(
            Timestamp::new(-1, 0).eve().to_string(),
            "1969-12-31T23:59:59.000000+0000"
        );
    }

    #[test]
    fn ticks_at_other_resolutions() {
        assert_eq!(
            Timestamp::from_ticks(1_500_000, 1_000_000, 0),
            Timestamp::new(1, 500_000_000)
        );
        assert_eq!(
            Timestamp::from_ticks(3, 2, 10),
            Timestamp::new(11, 500_000_000)
        );
        assert_eq!(Timestamp::from_ticks(7, 0, 0).secs(), 7);
    }

    #[test]
    fn nanos_carry_into_seconds() {
        assert_eq!(
            Timestamp::new(1, 2_500_000_000),
            Timestamp::new(3, 500_000_000)
        );
    }

    #[test]
    fn log_timestamps_parse_back_to_the_instant() {
        let ts = Timestamp::new(1_464_332_171, 304_062_000);
        assert_eq!(Timestamp::parse_log(&ts.eve().to_string()), Some(ts));
        assert_eq!(
            Timestamp::parse_log("2020-10-13T22:10:01.006481+0000"),
            Some(Timestamp::new(1_602_627_001, 6_481_000))
        );
        // RFC 3339 forms: Z, colon offsets, no fraction, nanoseconds.
        assert_eq!(
            Timestamp::parse_log("2020-10-13T22:10:01Z"),
            Some(Timestamp::new(1_602_627_001, 0))
        );
        assert_eq!(
            Timestamp::parse_log("2020-10-14T00:10:01.5+02:00"),
            Some(Timestamp::new(1_602_627_001, 500_000_000))
        );
        assert_eq!(
            Timestamp::parse_log("2020-10-13T21:10:01.123456789-0100"),
            Some(Timestamp::new(1_602_627_001, 123_456_789))
        );
        assert_eq!(
            Timestamp::parse_log("2000-02-29T00:00:00Z"),
            Some(Timestamp::new(951_782_400, 0))
        );
        for bad in [
            "",
            "2020-10-13",
            "2020-13-01T00:00:00Z",
            "2020-10-13T25:00:00Z",
            "2020-10-13T22:10:01.+0000",
            "2020-10-13T22:10:01+00",
            "2020-10-13T22:10:01Zjunk",
            "1602627001",
        ] {
            assert_eq!(Timestamp::parse_log(bad), None, "{bad}");
        }
    }
}
