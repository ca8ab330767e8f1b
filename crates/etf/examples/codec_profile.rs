//! Profiling driver for the codec benchmark's operations, for `valgrind --tool=callgrind`
//! (deterministic instruction counts on a noisy machine). Same inputs as benches/codec.rs.
//! Usage: codec_profile <push|gen_call> <decode|encode|floor> <ferl|eetf> <iterations>
//! Per-operation cost = (Ir(n) - Ir(0)) / n. `floor ferl` clones and drops the decoded term: the
//! allocations, reference counts and drop that any decoder producing that `Term` pays, with no
//! parsing at all (a lower bound for `decode`).

use bytes::Bytes;
use std::hint::black_box;

const PUSH: &str = "836803640004707573686D00000005616C6963656D000000086974656D2D313233";
const GEN_CALL: &str = "8368036400092467656E5F63616C6C68025864000A616C69636540686F73740000005B000000006553F1005A000364000A616C69636540686F73746553F1000001E240000C0A140005464E68056400037075746400036B65796D000000C878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878786C00000005610161026103640001616D00000001626A7400000003640005636F756E7461116400046E616D656D00000005616C696365640004746167736C0000000264000178640001796A";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect()
}

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
