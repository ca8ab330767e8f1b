//! Profiling driver for the codec benchmark's operations, for `valgrind --tool=callgrind`
//! (deterministic instruction counts on a noisy machine). Same inputs as benches/codec.rs.
//! Usage: codec_profile <push|gen_call> <decode|encode|floor> <ferl|eetf> <iterations>
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
        eprintln!("usage: codec_profile <push|gen_call> <decode|encode|floor> <ferl|eetf> <n>");
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
