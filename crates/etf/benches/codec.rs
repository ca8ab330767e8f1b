//! Codec benchmark: ferl-etf vs the `eetf` crate on the tutorial's messages, in the same run:
//! the 33-byte `{push, <<"alice">>, <<"item-123">>}` and a 369-byte `$gen_call` (bytes from
//! OTP 25 `term_to_binary`, see scripts/golden_etf.erl vectors `push` and `gen_call`).
//! Run: cargo bench -p ferl-etf --bench codec -- --warm-up-time 1 --measurement-time 3

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

#[path = "support/vectors.rs"]
mod vectors;
use vectors::{unhex, GEN_CALL, PUSH};

fn bench_msg(c: &mut Criterion, name: &str, hex: &str) {
    let raw = unhex(hex);
    let bytes = Bytes::from(raw.clone());
    let ferl_term = etf::decode(&bytes).expect("ferl decodes");
    let eetf_term = eetf::Term::decode(std::io::Cursor::new(&raw[..])).expect("eetf decodes");
    // Both encoders must produce the same bytes as erl for the comparison to be fair.
    assert_eq!(etf::encode(&ferl_term), bytes);
    let mut check = Vec::new();
    eetf_term.encode(&mut check).expect("eetf encodes");

    let mut g = c.benchmark_group(name);
    g.bench_function("decode/ferl", |b| {
        b.iter(|| etf::decode(black_box(&bytes)).map(|t| black_box(t).is_atom("x")))
    });
    g.bench_function("decode/eetf", |b| {
        b.iter(|| eetf::Term::decode(std::io::Cursor::new(black_box(&raw[..]))).is_ok())
    });
    g.bench_function("encode/ferl", |b| {
        b.iter(|| etf::encode(black_box(&ferl_term)))
    });
    g.bench_function("encode/eetf", |b| {
        b.iter(|| {
            let mut v = Vec::with_capacity(raw.len());
            let _ = black_box(&eetf_term).encode(&mut v);
            v
        })
    });
    g.finish();
}

fn codec(c: &mut Criterion) {
    bench_msg(c, "push_33B", PUSH);
    bench_msg(c, "gen_call_369B", GEN_CALL);
}

criterion_group!(benches, codec);
criterion_main!(benches);
