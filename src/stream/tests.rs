//! Stream reassembly semantics, each case written as the segments a sender puts on the
//! wire and what the receiver's application layer must read.

use super::*;

const ISN: u32 = 1000;

fn stream(policy: OverlapPolicy) -> (StreamBuffer, MemBudget) {
    let config = StreamConfig::default();
    (
        StreamBuffer::new(ISN + 1, policy, false, &config),
        MemBudget::new(config.memcap),
    )
}

/// Everything the application layer can read without a limit, gaps as `_` runs.
fn read_all(s: &mut StreamBuffer, mem: &mut MemBudget, limit: Option<u64>) -> String {
    let mut out = String::new();
    while let Some(chunk) = s.next_app_chunk(limit) {
        match chunk {
            AppChunk::Data(d) => {
                let n = d.len() as u64;
                out.push_str(&String::from_utf8_lossy(d));
                s.consume(n, mem);
            }
            AppChunk::Gap(n) => out.push_str(&"_".repeat(n as usize)),
        }
    }
    out
}

/// `seq` relative to the first data byte.
fn at(rel: u32) -> u32 {
    ISN + 1 + rel
}

#[test]
fn in_order_and_out_of_order_data_read_in_sequence() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    s.insert(at(0), b"GET ", &mut mem);
    s.insert(at(8), b"HTTP", &mut mem);
    assert_eq!(
        read_all(&mut s, &mut mem, None),
        "GET ",
        "held until the hole fills"
    );
    s.insert(at(4), b"/ab ", &mut mem);
    assert_eq!(read_all(&mut s, &mut mem, None), "/ab HTTP");
    assert_eq!((s.held(), mem.used), (0, 0), "read data is freed");
    // The bytes and, for each segment held, its bookkeeping.
    assert_eq!(mem.high_water, 8 + 2 * SEGMENT_COST);
}

#[test]
fn ids_reads_only_acknowledged_data() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    s.insert(at(0), b"hello world", &mut mem);
    let ack = s.offset_of(at(5)) as u64;
    assert_eq!(read_all(&mut s, &mut mem, Some(ack)), "hello");
    let ack = s.offset_of(at(11)) as u64;
    assert_eq!(read_all(&mut s, &mut mem, Some(ack)), " world");
}

#[test]
fn a_hole_acknowledged_past_is_one_gap() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    s.insert(at(0), b"abc", &mut mem);
    s.insert(at(6), b"ghi", &mut mem);
    assert_eq!(
        read_all(&mut s, &mut mem, None),
        "abc",
        "inline: wait for the hole"
    );
    let ack = s.offset_of(at(9)) as u64;
    assert_eq!(read_all(&mut s, &mut mem, Some(ack)), "___ghi");
    assert_eq!(s.stats().gaps, 1);
    // The missing bytes arriving late are old now.
    assert_eq!(s.insert(at(3), b"def", &mut mem), Inserted::Old);
}

#[test]
fn a_gap_at_the_end_stops_at_the_ack() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    s.insert(at(0), b"ab", &mut mem);
    let ack = s.offset_of(at(5)) as u64;
    assert_eq!(read_all(&mut s, &mut mem, Some(ack)), "ab___");
    assert_eq!(s.app_progress(), 5);
}

#[test]
fn retransmission_of_read_data_is_old_and_straddling_data_is_trimmed() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    s.insert(at(0), b"abcd", &mut mem);
    assert_eq!(read_all(&mut s, &mut mem, None), "abcd");
    assert_eq!(s.insert(at(0), b"abcd", &mut mem), Inserted::Old);
    assert_eq!(s.stats().old_segments, 1);
    s.insert(at(2), b"cdef", &mut mem);
    assert_eq!(read_all(&mut s, &mut mem, None), "ef");
}

#[test]
fn exact_duplicates_are_compared_and_dropped() {
    let (mut s, mut mem) = stream(OverlapPolicy::Last);
    s.insert(at(0), b"abcd", &mut mem);
    assert_eq!(
        s.insert(at(0), b"abcd", &mut mem),
        Inserted::Duplicate { different: false }
    );
    assert_eq!(
        s.insert(at(0), b"XXXX", &mut mem),
        Inserted::Duplicate { different: true }
    );
    assert_eq!(
        read_all(&mut s, &mut mem, None),
        "abcd",
        "even under `last`"
    );
    assert_eq!(s.stats().overlaps_different, 1);
}

/// The overlap cases of Suricata's policies: a stored segment `old` at offsets 4..8 and
/// a new one with different bytes; which bytes survive in 0..12.
#[test]
fn overlap_policies() {
    // (new start, new len, [bsd, linux, old-linux, solaris, first, last] new bytes win)
    let cases: &[(u32, usize, [bool; 6])] = &[
        // starts before the old segment
        (2, 4, [true, true, true, false, false, true]),
        (2, 8, [true, true, true, true, false, true]),
        // same start: shorter, same length is a duplicate (tested above), longer
        (4, 2, [false, false, false, false, false, true]),
        (4, 6, [false, true, true, true, false, true]),
        // starts inside
        (5, 2, [false, false, false, false, false, true]),
        (5, 3, [false, false, false, false, false, true]),
        (6, 4, [false, false, false, true, false, true]),
    ];
    let policies = [
        OverlapPolicy::Bsd,
        OverlapPolicy::Linux,
        OverlapPolicy::OldLinux,
        OverlapPolicy::Solaris,
        OverlapPolicy::First,
        OverlapPolicy::Last,
    ];
    for &(start, len, wins) in cases {
        for (policy, new_wins) in policies.iter().zip(wins) {
            let (mut s, mut mem) = stream(*policy);
            s.insert(at(0), b"....", &mut mem);
            s.insert(at(4), b"oooo", &mut mem);
            s.insert(at(8), b"....", &mut mem);
            let new = vec![b'N'; len];
            let r = s.insert(at(start), &new, &mut mem);
            assert!(
                matches!(
                    r,
                    Inserted::Stored {
                        overlapped: true,
                        different: true
                    }
                ),
                "{policy:?} {start}+{len}: {r:?}"
            );
            let got = read_all(&mut s, &mut mem, None);
            let in_old: Vec<char> = (start as usize..start as usize + len)
                .filter(|i| (4..8).contains(i))
                .map(|i| got.as_bytes()[i] as char)
                .collect();
            let expected = if new_wins { 'N' } else { 'o' };
            assert!(
                in_old.iter().all(|&c| c == expected),
                "{policy:?}: new {start}+{len} over old 4..8 gave {got}"
            );
        }
    }
}

#[test]
fn inline_mode_keeps_the_first_data() {
    let config = StreamConfig::default();
    let mut mem = MemBudget::new(config.memcap);
    let mut s = StreamBuffer::new(at(0), OverlapPolicy::Last, true, &config);
    s.insert(at(2), b"old!", &mut mem);
    s.insert(at(0), b"NEWNEW", &mut mem);
    assert_eq!(read_all(&mut s, &mut mem, None), "NEold!");
}

#[test]
fn policies_follow_the_host_os() {
    assert_eq!(OverlapPolicy::for_host(None), OverlapPolicy::Bsd);
    assert_eq!(
        OverlapPolicy::for_host(Some(HostOs::Windows)),
        OverlapPolicy::Bsd
    );
    assert_eq!(
        OverlapPolicy::for_host(Some(HostOs::Linux)),
        OverlapPolicy::Linux
    );
    assert_eq!(
        OverlapPolicy::for_host(Some(HostOs::Hpux11)),
        OverlapPolicy::Solaris
    );
    assert_eq!(
        OverlapPolicy::for_host(Some(HostOs::Vista)),
        OverlapPolicy::First
    );
}

#[test]
fn sequence_numbers_wrap() {
    let config = StreamConfig::default();
    let mut mem = MemBudget::new(config.memcap);
    let first = u32::MAX - 3;
    let mut s = StreamBuffer::new(first, OverlapPolicy::Bsd, false, &config);
    s.insert(first, b"abcd", &mut mem);
    s.insert(first.wrapping_add(8), b"ijkl", &mut mem);
    s.insert(first.wrapping_add(4), b"efgh", &mut mem);
    assert_eq!(s.offset_of(2), 6);
    assert_eq!(read_all(&mut s, &mut mem, None), "abcdefghijkl");
    // A sequence number just before the start is before offset 0.
    assert_eq!(s.offset_of(first.wrapping_sub(1)), -1);
}

#[test]
fn depth_ends_reassembly_at_the_first_segment_past_it() {
    let config = StreamConfig {
        depth: 10,
        memcap: 1 << 20,
        max_segments: StreamConfig::DEFAULT_MAX_SEGMENTS,
    };
    let mut mem = MemBudget::new(config.memcap);
    let mut s = StreamBuffer::new(at(0), OverlapPolicy::Bsd, false, &config);
    s.insert(at(0), b"0123456", &mut mem);
    // Straddles the depth: refused whole, as Suricata does.
    assert_eq!(s.insert(at(7), b"789ab", &mut mem), Inserted::PastDepth);
    assert!(s.depth_reached());
    assert_eq!(
        s.insert(at(7), b"7", &mut mem),
        Inserted::PastDepth,
        "over for good"
    );
    assert_eq!(read_all(&mut s, &mut mem, None), "0123456");
    assert_eq!(s.stats().past_depth, 2);
}

#[test]
fn the_memcap_bounds_all_streams_together() {
    // Room for one six-byte segment, not two.
    let config = StreamConfig {
        depth: 0,
        memcap: 6 + SEGMENT_COST + 10,
        max_segments: StreamConfig::DEFAULT_MAX_SEGMENTS,
    };
    let mut mem = MemBudget::new(config.memcap);
    let mut a = StreamBuffer::new(at(0), OverlapPolicy::Bsd, false, &config);
    let mut b = StreamBuffer::new(at(0), OverlapPolicy::Bsd, false, &config);
    assert!(matches!(
        a.insert(at(0), b"123456", &mut mem),
        Inserted::Stored { .. }
    ));
    assert_eq!(b.insert(at(0), b"123456", &mut mem), Inserted::NoMemory);
    assert_eq!(b.stats().memcap_drops, 1);
    assert_eq!(read_all(&mut a, &mut mem, None), "123456");
    assert!(matches!(
        b.insert(at(0), b"123456", &mut mem),
        Inserted::Stored { .. }
    ));
    assert_eq!(mem.used, a.memcap_charge() + b.memcap_charge());
    b.clear(&mut mem);
    assert_eq!(mem.used, 0);
}

#[test]
fn out_of_order_segments_read_back_in_order_block_by_block() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    for (rel, data) in [(6u32, &b"gh"[..]), (2, b"cd"), (4, b"ef"), (0, b"ab")] {
        s.insert(at(rel), data, &mut mem);
    }
    assert_eq!(s.held(), 8);
    // Blocks are kept per segment (never merged, so no insert copies the stream).
    assert_eq!(s.next_app_chunk(None), Some(AppChunk::Data(&b"ab"[..])));
    assert_eq!(read_all(&mut s, &mut mem, None), "abcdefgh");
}

#[test]
fn an_overlap_spanning_several_blocks_fills_the_holes_between_them() {
    let (mut s, mut mem) = stream(OverlapPolicy::Last);
    s.insert(at(2), b"cc", &mut mem);
    s.insert(at(6), b"gg", &mut mem);
    s.insert(at(0), b"ABCDEFGHIJ", &mut mem);
    assert_eq!(s.held(), 10);
    assert_eq!(
        read_all(&mut s, &mut mem, None),
        "ABCDEFGHIJ",
        "last wins everywhere"
    );
    assert_eq!(mem.used, 0);
}

#[test]
fn a_short_segment_inside_a_long_one_is_found() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    s.insert(at(0), &[b'a'; 1000], &mut mem);
    for i in 0..10 {
        s.insert(at(1000 + i * 10), &[b'b'; 10], &mut mem);
    }
    let r = s.insert(at(500), b"XXXX", &mut mem);
    assert_eq!(
        r,
        Inserted::Stored {
            overlapped: true,
            different: true
        }
    );
    let got = read_all(&mut s, &mut mem, None);
    assert_eq!(got.len(), 1100);
    assert!(!got.contains('X'), "bsd keeps the earlier-starting data");
}

/// Any segmentation of a message, delivered in any order with retransmissions of the same
/// bytes, reads back as the message under every policy.
#[test]
fn shuffled_segments_with_retransmissions_read_back_exactly() {
    let message: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    for round in 0..50 {
        let mut pieces = Vec::new();
        let mut off = 0usize;
        while off < message.len() {
            let len = (1 + next(300) as usize).min(message.len() - off);
            pieces.push((off, len));
            // Some retransmissions, some of them shifted to overlap neighbours.
            if next(4) == 0 {
                let shift = next(20) as usize;
                let o = off.saturating_sub(shift);
                pieces.push((o, (len + shift).min(message.len() - o)));
            }
            off += len;
        }
        for i in (1..pieces.len()).rev() {
            let j = next(i as u64 + 1) as usize;
            pieces.swap(i, j);
        }
        let policy = [
            OverlapPolicy::Bsd,
            OverlapPolicy::Linux,
            OverlapPolicy::OldLinux,
            OverlapPolicy::Solaris,
            OverlapPolicy::First,
            OverlapPolicy::Last,
        ][round % 6];
        let (mut s, mut mem) = stream(policy);
        let mut read = Vec::new();
        for (o, len) in pieces {
            let r = s.insert(at(o as u32), &message[o..o + len], &mut mem);
            assert!(
                !matches!(
                    r,
                    Inserted::Stored {
                        different: true,
                        ..
                    } | Inserted::Duplicate { different: true }
                ),
                "same bytes never differ"
            );
            // Read as data becomes contiguous, as the app layer would.
            while let Some(AppChunk::Data(d)) = s.next_app_chunk(None) {
                let n = d.len() as u64;
                read.extend_from_slice(d);
                s.consume(n, &mut mem);
            }
        }
        assert_eq!(read, message, "round {round} ({policy:?})");
        assert_eq!(mem.used, 0);
    }
}

#[test]
fn in_order_data_passes_through_without_being_stored() {
    let (mut s, mut mem) = stream(OverlapPolicy::Bsd);
    assert!(s.pass_through(at(0), 4));
    assert_eq!((s.app_progress(), s.held()), (4, 0));
    assert!(!s.pass_through(at(10), 2), "a hole: must be inserted");
    s.insert(at(10), b"kl", &mut mem);
    assert!(!s.pass_through(at(4), 6), "something is held");
    s.insert(at(4), b"efghij", &mut mem);
    assert_eq!(read_all(&mut s, &mut mem, None), "efghijkl");
    assert_eq!(
        s.insert(at(0), b"abcd", &mut mem),
        Inserted::Old,
        "passed data is old"
    );
}

#[test]
fn a_direction_holds_at_most_max_segments() {
    let config = StreamConfig {
        max_segments: 3,
        ..StreamConfig::default()
    };
    let mut mem = MemBudget::new(config.memcap);
    let mut s = StreamBuffer::new(at(0), OverlapPolicy::Bsd, false, &config);
    // Three one-byte segments out of order are held; the fourth is refused, while a
    // copy of one held (same extent) is still compared, not counted.
    for (i, b) in [(2u32, b"c"), (4, b"e"), (6, b"g")] {
        assert!(matches!(
            s.insert(at(i), b, &mut mem),
            Inserted::Stored { .. }
        ));
    }
    assert_eq!(s.insert(at(8), b"i", &mut mem), Inserted::TooManySegments);
    assert_eq!(
        s.insert(at(4), b"E", &mut mem),
        Inserted::Duplicate { different: true }
    );
    assert_eq!(s.stats().segment_limit_drops, 1);
    // The refused byte's place is a gap once the reader passes it; the held ones are read.
    assert_eq!(
        mem.used,
        3 + 3 * SEGMENT_COST,
        "nothing charged for the refused segment"
    );
    assert_eq!(read_all(&mut s, &mut mem, Some(9)), "__c_e_g__");
    // Once read, the direction has room again.
    assert!(matches!(
        s.insert(at(9), b"j", &mut mem),
        Inserted::Stored { .. }
    ));
}
