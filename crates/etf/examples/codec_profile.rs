//! Profiling driver for the codec benchmark's operations, for `valgrind --tool=callgrind`
//! (deterministic instruction counts on a noisy machine). Same inputs as benches/codec.rs.
//! Usage: codec_profile <push|gen_call> <decode|view|encode|encode_to|floor> <ferl|eetf> <n>
//! (`view`: the borrowed view decoder, ferl only; `encode_to`: into one reused, cleared buffer).
//! Per-operation cost = (Ir(n) - Ir(0)) / n. `floor ferl` clones and drops the decoded term: the
//! allocations, reference counts and drop that any decoder producing that `Term` pays, with no
//! parsing at all (a lower bound for `decode`).

use bytes::Bytes;
use std::hint::black_box;

#[path = "../benches/support/vectors.rs"]
mod vectors;
use vectors::{unhex, GEN_CALL, PUSH};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, msg, op, lib, n] = &args[..] else {
        eprintln!(
            "usage: codec_profile <push|gen_call> <decode|view|encode|encode_to|floor> <ferl|eetf> <n>"
        );
        std::process::exit(2);
    };
    let raw = unhex(if msg == "push" { PUSH } else { GEN_CALL });
    let n: usize = n.parse().expect("iterations");
    let bytes = Bytes::from(raw.clone());
    let ferl_term = etf::decode(&bytes).expect("ferl decodes");
    let eetf_term = eetf::Term::decode(std::io::Cursor::new(&raw[..])).expect("eetf decodes");
    // Warm up once (thread-local caches, Bytes promotion) outside the measured loop.
    let _ = etf::decode(&bytes);
    let _ = etf::encode(&ferl_term);
    match (op.as_str(), lib.as_str()) {
        ("decode", "ferl") => run_decode_ferl(&bytes, n),
        ("decode", "eetf") => run_decode_eetf(&raw, n),
        ("encode", "ferl") => run_encode_ferl(&ferl_term, n),
        ("encode", "eetf") => run_encode_eetf(&eetf_term, raw.len(), n),
        ("view", "ferl") => run_view_ferl(&raw, n),
        ("encode_to", "ferl") => run_encode_to_ferl(&ferl_term, n),
        ("encode_to", "eetf") => run_encode_to_eetf(&eetf_term, n),
        ("floor", "ferl") => run_floor_ferl(&ferl_term, n),
        _ => panic!("bad op/lib"),
    }
}

#[inline(never)]
fn run_decode_ferl(bytes: &Bytes, n: usize) {
    for _ in 0..n {
        let _ = black_box(etf::decode(black_box(bytes)).map(|t| black_box(t).is_atom("x")));
    }
}

#[inline(never)]
fn run_decode_eetf(raw: &[u8], n: usize) {
    for _ in 0..n {
        black_box(eetf::Term::decode(std::io::Cursor::new(black_box(raw))).is_ok());
    }
}

#[inline(never)]
fn run_floor_ferl(t: &etf::Term, n: usize) {
    for _ in 0..n {
        let c = black_box(t).clone();
        black_box(&c);
        drop(c);
    }
}

#[inline(never)]
fn run_encode_ferl(t: &etf::Term, n: usize) {
    for _ in 0..n {
        black_box(etf::encode(black_box(t)));
    }
}

#[inline(never)]
fn run_encode_eetf(t: &eetf::Term, len: usize, n: usize) {
    for _ in 0..n {
        let mut v = Vec::with_capacity(len);
        let _ = black_box(t).encode(&mut v);
        black_box(v);
    }
}

#[inline(never)]
fn run_view_ferl(raw: &[u8], n: usize) {
    let mut d = etf::view::Decoder::new();
    let _ = d.decode(raw); // warm-up: the arena grows once
    for _ in 0..n {
        let r = d
            .decode(black_box(raw))
            .map(|v| v.tuple().map_or(0, |t| t.len()));
        black_box(r.ok());
    }
}

#[inline(never)]
fn run_encode_to_ferl(t: &etf::Term, n: usize) {
    let mut out = bytes::BytesMut::with_capacity(4096);
    for _ in 0..n {
        out.clear();
        etf::encode_to(black_box(t), &mut out);
        black_box(out.len());
    }
}

#[inline(never)]
fn run_encode_to_eetf(t: &eetf::Term, n: usize) {
    let mut v = Vec::with_capacity(4096);
    for _ in 0..n {
        v.clear();
        let _ = black_box(t).encode(&mut v);
        black_box(v.len());
    }
}
