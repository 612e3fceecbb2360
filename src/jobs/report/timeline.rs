//! Flows per verdict over time, in buckets whose width adapts to the span.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::time::Timestamp;

/// Bucket widths, in seconds, from which the timeline picks (then doubling days).
const NICE_WIDTHS: [i64; 18] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];
/// Most buckets held while counting: beyond, buckets are merged into wider ones.
const MAX_HELD: usize = 10_000;
/// Most buckets a finished timeline spans (a chart's columns).
pub const MAX_SHOWN: i64 = 96;

/// What a flow came to, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowClass {
    Blocked,
    /// Allowed, with at least one alert.
    Alerted,
    /// Allowed, no alert.
    Allowed,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bucket {
    blocked: u64,
    alerted: u64,
    allowed: u64,
}

impl Bucket {
    fn add(&mut self, other: &Bucket) {
        self.blocked += other.blocked;
        self.alerted += other.alerted;
        self.allowed += other.allowed;
    }
}

/// Counts flows by start time and class.
pub struct Timeline {
    width: i64,
    buckets: BTreeMap<i64, Bucket>,
    /// Flows without a known start time.
    undated: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width: 1,
            buckets: BTreeMap::new(),
            undated: 0,
        }
    }
}

/// The finished timeline: every bucket from the first flow's to the last's, empty ones
/// included, so that a chart's columns are evenly spaced in time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TimelineReport {
    pub bucket_seconds: i64,
    pub buckets: Vec<TimelineBucket>,
    pub undated_flows: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineBucket {
    pub start: String,
    pub blocked: u64,
    pub alerted: u64,
    pub allowed: u64,
}

fn wider(width: i64) -> i64 {
    NICE_WIDTHS
        .iter()
        .copied()
        .find(|w| *w > width)
        .unwrap_or(width.saturating_mul(2))
}

impl Timeline {
    pub fn add(&mut self, start: Option<Timestamp>, class: FlowClass) {
        let Some(ts) = start else {
            self.undated += 1;
            return;
        };
        let key = ts.secs().div_euclid(self.width);
        let b = self.buckets.entry(key).or_default();
        match class {
            FlowClass::Blocked => b.blocked += 1,
            FlowClass::Alerted => b.alerted += 1,
            FlowClass::Allowed => b.allowed += 1,
        }
        if self.buckets.len() > MAX_HELD {
            self.rebucket(wider(self.width));
        }
    }

    fn rebucket(&mut self, width: i64) {
        let old = std::mem::take(&mut self.buckets);
        for (k, b) in old {
            let key = (k * self.width).div_euclid(width);
            self.buckets.entry(key).or_default().add(&b);
        }
        self.width = width;
    }

    pub fn finish(mut self) -> TimelineReport {
        while let (Some(first), Some(last)) = (
            self.buckets.keys().next().copied(),
            self.buckets.keys().next_back().copied(),
        ) {
            if last - first < MAX_SHOWN {
                break;
            }
            self.rebucket(wider(self.width));
        }
        let mut buckets = Vec::new();
        if let (Some(first), Some(last)) = (
            self.buckets.keys().next().copied(),
            self.buckets.keys().next_back().copied(),
        ) {
            for k in first..=last {
                let b = self.buckets.get(&k).copied().unwrap_or_default();
                buckets.push(TimelineBucket {
                    start: Timestamp::new(k * self.width, 0).eve().to_string(),
                    blocked: b.blocked,
                    alerted: b.alerted,
                    allowed: b.allowed,
                });
            }
        }
        TimelineReport {
            bucket_seconds: self.width,
            buckets,
            undated_flows: self.undated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Option<Timestamp> {
        Some(Timestamp::new(secs, 0))
    }

    #[test]
    fn short_spans_keep_one_second_buckets_with_gaps_filled() {
        let mut t = Timeline::default();
        t.add(at(100), FlowClass::Blocked);
        t.add(at(100), FlowClass::Allowed);
        t.add(at(103), FlowClass::Alerted);
        t.add(None, FlowClass::Allowed);
        let r = t.finish();
        assert_eq!(r.bucket_seconds, 1);
        assert_eq!(r.undated_flows, 1);
        let counts: Vec<(u64, u64, u64)> = r
            .buckets
            .iter()
            .map(|b| (b.blocked, b.alerted, b.allowed))
            .collect();
        assert_eq!(counts, vec![(1, 0, 1), (0, 0, 0), (0, 0, 0), (0, 1, 0)]);
        assert_eq!(r.buckets[0].start, "1970-01-01T00:01:40.000000+0000");
    }

    #[test]
    fn long_spans_widen_to_a_chartable_number_of_buckets() {
        let mut t = Timeline::default();
        // One flow a minute for a day, plus a burst.
        for m in 0..1440 {
            t.add(at(1_600_000_000 + m * 60), FlowClass::Allowed);
        }
        for _ in 0..50 {
            t.add(at(1_600_000_000), FlowClass::Blocked);
        }
        let r = t.finish();
        assert_eq!(r.bucket_seconds, 1800);
        assert!(r.buckets.len() as i64 <= MAX_SHOWN);
        let total: u64 = r.buckets.iter().map(|b| b.allowed + b.blocked).sum();
        assert_eq!(total, 1490);
        // Buckets are aligned to the width in UTC: 1,600,000,000 is 12:26:40.
        assert_eq!(r.buckets[0].start, "2020-09-13T12:00:00.000000+0000");
        assert_eq!(r.buckets[0].blocked, 50);
    }
}
