//! The golden vectors from the installed OTP (scripts/golden_etf.erl, run with `escript`),
//! shared by tests/golden.rs and tests/view_props.rs.
#![allow(dead_code)]

use std::process::Command;

pub struct Vector {
    pub kind: String,
    pub name: String,
    pub a: Vec<u8>,
    pub b: String,
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The standard output of `scripts/<script>` run with the real `escript` and `args`; panics,
/// with the script's standard error, when Erlang is missing or the script fails.
pub fn escript(script: &str, args: &[&std::path::Path]) -> String {
    let path = format!("{}/../../scripts/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("escript")
        .arg(path)
        .args(args)
        .output()
        .expect("escript (Erlang/OTP 25) must be installed: run scripts/install-deps.sh");
    assert!(
        out.status.success(),
        "{script} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8 output")
}

pub fn golden() -> Vec<Vector> {
    let text = escript("golden_etf.erl", &[]);
    let v: Vec<Vector> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            assert_eq!(f.len(), 4, "bad line {l}");
            Vector {
                kind: f[0].into(),
                name: f[1].into(),
                a: unhex(f[2]),
                b: f[3].into(),
            }
        })
        .collect();
    assert!(v.len() > 80, "too few vectors: {}", v.len());
    v
}
