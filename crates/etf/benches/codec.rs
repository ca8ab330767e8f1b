//! Codec benchmark: ferl-etf vs the `eetf` crate on the tutorial's messages, in the same run:
//! the 33-byte `{push, <<"alice">>, <<"item-123">>}` and a 369-byte `$gen_call` (bytes from
//! OTP 25 `term_to_binary`, see scripts/golden_etf.erl vectors `push` and `gen_call`).
//! Decode: `decode/ferl` builds the owned `Term` (`decode_into/ferl` the same, into a reused
//! slot, as the receive path does), `decode_view/ferl` the borrowed view (one reused
//! `view::Decoder`; the result's element count is consumed, which needs the whole decode);
//! `floor/tuple_alloc_free` is the `malloc` and `free` of the outer tuple's elements that any
//! owned tree pays. Encode: `encode/*` into a fresh buffer per iteration, `encode_to/*` into one
//! reused buffer, at the start of a page (how the runtime writes into a connection's output
//! buffer).
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
    // The receive path's way: into the message's slot where it lies (`decode_at_into`), the
    // previous term dropped first.
    let mut slot = None;
    g.bench_function("decode_into/ferl", |b| {
        b.iter(|| {
            slot = None;
            let r = etf::decode_at_into(
                black_box(&bytes),
                0,
                bytes.len(),
                true,
                &[],
                etf::Limits::default(),
                &mut slot,
            );
            r.is_ok() && slot.as_ref().is_some_and(|t| t.is_atom("x"))
        })
    });
    let mut view = etf::view::Decoder::new();
    g.bench_function("decode_view/ferl", |b| {
        b.iter(|| {
            view.decode(black_box(&bytes))
                .map(|v| v.tuple().map_or(0, |t| t.len()))
        })
    });
    // What an owned tree cannot go below: allocating and freeing the outer tuple's elements.
    let arity = ferl_term.as_tuple().map_or(0, <[etf::Term]>::len);
    g.bench_function("floor/tuple_alloc_free", |b| {
        b.iter(|| Vec::<etf::Term>::with_capacity(black_box(arity)))
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
    // Both encoders write at the start of a 4 kB page (see `page_start`).
    let mut out = bytes::BytesMut::with_capacity(8192);
    let at = page_start(out.as_ptr());
    out.resize(at, 0);
    g.bench_function("encode_to/ferl", |b| {
        b.iter(|| {
            out.truncate(at);
            etf::encode_to(black_box(&ferl_term), &mut out);
            black_box(out.len())
        })
    });
    let mut v = Vec::with_capacity(8192);
    let at = page_start(v.as_ptr());
    v.resize(at, 0);
    g.bench_function("encode_to/eetf", |b| {
        b.iter(|| {
            v.truncate(at);
            let _ = black_box(&eetf_term).encode(&mut v);
            black_box(v.len())
        })
    });
    g.finish();
}

/// The offset in a buffer at `ptr` of the next 4 kB page boundary, where the reused-buffer
/// benches write. At the heap's whim, the buffer's start could leave the 33-byte push
/// straddling a page boundary at every iteration: ferl's encode then took twice its time (22
/// against 11 ns, in two runs of five), eetf's did not change. A stream into a connection's
/// buffer crosses a page once in 4 kB, not at every message.
fn page_start(ptr: *const u8) -> usize {
    (4096 - ptr as usize % 4096) % 4096
}

fn codec(c: &mut Criterion) {
    bench_msg(c, "push_33B", PUSH);
    bench_msg(c, "gen_call_369B", GEN_CALL);
}

criterion_group!(benches, codec);
criterion_main!(benches);
