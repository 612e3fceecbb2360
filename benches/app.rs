//! Criterion benchmarks of the stream and application layers on data built in the bench:
//! reassembling 1 MiB in order (stored, or passed through to a reader) and in reverse
//! segment order, and parsing a TLS
//! ClientHello, an HTTP request with its buffers, and a DNS response.
//! `cargo bench --bench app`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rulesim::app::{dns, http::HttpSession, tls::TlsSession};
use rulesim::stream::{AppChunk, MemBudget, OverlapPolicy, StreamBuffer, StreamConfig};
use rulesim::synth::packets::{dns_response_a, http_request, tls_client_hello};

const SEGMENT: usize = 1460;
const TOTAL: usize = 1 << 20;

fn reassemble(order: &[usize], data: &[u8], pass_through: bool) -> u64 {
    let config = StreamConfig {
        depth: 0,
        memcap: 1 << 30,
        max_segments: StreamConfig::DEFAULT_MAX_SEGMENTS,
    };
    let mut mem = MemBudget::new(config.memcap);
    let mut s = StreamBuffer::new(1, OverlapPolicy::Bsd, false, &config);
    let mut read = 0u64;
    for &i in order {
        let start = i * SEGMENT;
        let end = (start + SEGMENT).min(data.len());
        let seq = 1u32.wrapping_add(start as u32);
        if !(pass_through && s.pass_through(seq, end - start)) {
            s.insert(seq, &data[start..end], &mut mem);
        } else {
            read += (end - start) as u64;
        }
        while let Some(AppChunk::Data(d)) = s.next_app_chunk(None) {
            let n = d.len() as u64;
            read += n;
            s.consume(n, &mut mem);
        }
    }
    read
}

fn bench(c: &mut Criterion) {
    let data: Vec<u8> = (0..TOTAL).map(|i| i as u8).collect();
    let segments = TOTAL.div_ceil(SEGMENT);
    let in_order: Vec<usize> = (0..segments).collect();
    let reversed: Vec<usize> = (0..segments).rev().collect();
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.bench_function("in_order_stored_1MiB", |b| {
        b.iter(|| reassemble(&in_order, &data, false))
    });
    g.bench_function("in_order_passed_through_1MiB", |b| {
        b.iter(|| reassemble(&in_order, &data, true))
    });
    g.bench_function("reversed_1MiB", |b| {
        b.iter(|| reassemble(&reversed, &data, true))
    });
    g.finish();

    let hello = tls_client_hello(Some("www.example.com"));
    let request = http_request(
        "GET",
        "www.Example.com:8080",
        "/a/%2e%2e/b?x=1",
        "bench/1.0",
    );
    let answer = dns_response_a(1, "www.example.com", [192, 0, 2, 1]);
    let mut g = c.benchmark_group("app");
    g.bench_function("tls_client_hello", |b| {
        b.iter_batched(
            TlsSession::default,
            |mut s| {
                s.feed(true, &hello);
                s.client_hello.is_some()
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("http_request_and_buffers", |b| {
        b.iter_batched(
            HttpSession::default,
            |mut s| {
                s.feed(true, &request);
                let r = &s.transactions[0].request;
                (
                    r.normalized_uri().len(),
                    r.host().map(|h| h.len()),
                    r.header_names().len(),
                )
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("dns_response", |b| {
        b.iter(|| dns::parse_message(&answer).is_ok())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
