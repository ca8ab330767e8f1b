//! Codec benchmark: ferl-etf vs the `eetf` crate on the tutorial's messages, in the same run:
//! the 33-byte `{push, <<"alice">>, <<"item-123">>}` and a 369-byte `$gen_call` (bytes from
//! OTP 25 `term_to_binary`, see scripts/golden_etf.erl vectors `push` and `gen_call`).
//! Run: cargo bench -p ferl-etf --bench codec -- --warm-up-time 1 --measurement-time 3

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const PUSH: &str = "836803640004707573686D00000005616C6963656D000000086974656D2D313233";
const GEN_CALL: &str = "8368036400092467656E5F63616C6C68025864000A616C69636540686F73740000005B000000006553F1005A000364000A616C69636540686F73746553F1000001E240000C0A140005464E68056400037075746400036B65796D000000C878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878786C00000005610161026103640001616D00000001626A7400000003640005636F756E7461116400046E616D656D00000005616C696365640004746167736C0000000264000178640001796A";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect()
}

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
