//! Decoding of every non-container term: numbers, atoms, binaries, pids, refs, ports, funs.
//! Each helper reads the body after a tag whose offset is `at` (used in error positions).

use super::Cursor;
use crate::bigint::BigInt;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::pid::{Export, Pid, Port, Ref, MAX_REF_WORDS};
use crate::tag::*;
use crate::term::Term;
use bytes::Bytes;

impl Cursor<'_> {
    pub(super) fn big(&mut self, n: usize) -> Result<Term, DecodeError> {
        // Any sign byte but 0 is negative, as erts reads it (`binary_to_term` takes 2-255 too).
        let sign = u8::from(self.u8()? != 0);
        let mag = self.take(n)?;
        if n <= 8 {
            // Fast path without allocating: most "bigs" on the wire fit in i64 or u64.
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(mag);
            let m = u64::from_le_bytes(w);
            if sign == 0 && m <= i64::MAX as u64 {
                return Ok(Term::Int(m as i64));
            }
            if sign == 1 && m <= 1u64 << 63 {
                return Ok(Term::Int((m as i64).wrapping_neg()));
            }
        }
        Ok(match BigInt::from_parts(sign == 1, mag.to_vec()) {
            Ok(b) => Term::Big(b),
            Err(i) => Term::Int(i),
        })
    }

    pub(super) fn float_checked(f: f64, at: usize) -> Result<Term, DecodeError> {
        if f.is_finite() {
            Ok(Term::Float(f))
        } else {
            Err(DecodeError::new(at, K::BadFloat))
        }
    }

    pub(super) fn old_float(&mut self, at: usize) -> Result<Term, DecodeError> {
        let s = self.take(31)?;
        let f = super::old_float_text(s).ok_or(DecodeError::new(at, K::BadFloat))?;
        Self::float_checked(f, at)
    }

    pub(super) fn bit_binary(&mut self, at: usize) -> Result<Term, DecodeError> {
        let len = self.u32()? as usize;
        let bits = self.u8()?;
        // Whole bytes: an empty binary (0 bits, no last byte) or all 8 bits of a last byte.
        // An empty one with any other count is malformed, as `binary_to_term` says (badarg).
        if (len, bits) == (0, 0) || (len > 0 && bits == 8) {
            return Ok(Term::Binary(self.take_binary(len)?));
        }
        let bytes = self.take_bytes(len)?;
        match (len, bits) {
            (0, _) | (_, 0) => Err(DecodeError::new(at, K::BadBitCount)),
            (_, 1..=7) => {
                let mask = 0xffu8 << (8 - bits);
                let last = bytes[len - 1];
                if last & !mask == 0 {
                    Ok(Term::BitBinary { bytes, bits })
                } else {
                    // Unused bits must be zero for Eq/encode to match BEAM, which ignores them.
                    let mut v = bytes.to_vec();
                    v[len - 1] = last & mask;
                    Ok(Term::BitBinary {
                        bytes: Bytes::from(v),
                        bits,
                    })
                }
            }
            _ => Err(DecodeError::new(at, K::BadBitCount)),
        }
    }

    pub(super) fn ref_words(&mut self, n: usize) -> Result<[u32; MAX_REF_WORDS], DecodeError> {
        let mut ids = [0u32; MAX_REF_WORDS];
        for w in ids.iter_mut().take(n) {
            *w = self.u32()?;
        }
        Ok(ids)
    }

    /// NEW_FUN_EXT, read by the view decoder's frame machine (see `view::fun`): its free
    /// variables can hold funs again, and one reader keeps both decoders in agreement.
    pub(super) fn new_fun(&mut self, at: usize, depth_left: usize) -> Result<Term, DecodeError> {
        let depth = self.limits.max_depth.saturating_sub(depth_left);
        let (fun, end) =
            crate::view::fun(self.input, self.data, at, depth, self.limits, self.refs)?;
        self.pos = end;
        Ok(fun)
    }

    /// Every non-container term, and funs.
    #[inline(always)]
    pub(super) fn leaf(
        &mut self,
        tag: u8,
        at: usize,
        depth_left: usize,
    ) -> Result<Term, DecodeError> {
        Ok(match tag {
            STRING_EXT => {
                let n = self.u16()? as usize;
                let s = self.take(n)?;
                Term::List(s.iter().map(|&b| Term::Int(b as i64)).collect())
            }
            SMALL_INTEGER_EXT => Term::Int(self.u8()? as i64),
            INTEGER_EXT => Term::Int(self.u32()? as i32 as i64),
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                Term::Atom(self.atom_body(tag, at)?)
            }
            BINARY_EXT => {
                let len = self.u32()? as usize;
                Term::Binary(self.take_binary(len)?)
            }
            NIL_EXT => Term::List(Vec::new()),
            NEW_FLOAT_EXT => Self::float_checked(f64::from_bits(self.u64()?), at)?,
            NEW_PID_EXT | PID_EXT => {
                let node = self.atom()?;
                let id = self.u32()?;
                let serial = self.u32()?;
                let creation = if tag == NEW_PID_EXT {
                    self.u32()?
                } else {
                    super::old_creation(self.u8()?, at)?
                };
                Term::Pid(Pid {
                    node,
                    id,
                    serial,
                    creation,
                })
            }
            NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => {
                let n = self.u16()?;
                if n == 0 || n as usize > MAX_REF_WORDS {
                    return Err(DecodeError::new(at, K::InvalidRefLen(n)));
                }
                let node = self.atom()?;
                let creation = if tag == NEWER_REFERENCE_EXT {
                    self.u32()?
                } else {
                    super::old_creation(self.u8()?, at)?
                };
                let ids = self.ref_words(n as usize)?;
                if tag == NEW_REFERENCE_EXT {
                    super::old_ref_first_word(ids[0], at)?;
                }
                Term::Ref(Ref::new(node, creation, &ids[..n as usize]))
            }
            REFERENCE_EXT => {
                let node = self.atom()?;
                let id = self.u32()?;
                let creation = super::old_creation(self.u8()?, at)?;
                super::old_ref_first_word(id, at)?;
                Term::Ref(Ref::new(node, creation, &[id]))
            }
            NEW_PORT_EXT | V4_PORT_EXT | PORT_EXT => {
                let node = self.atom()?;
                let id = match tag {
                    V4_PORT_EXT => self.u64()?,
                    _ => self.u32()? as u64,
                };
                let creation = match tag {
                    PORT_EXT => super::old_creation(self.u8()?, at)?,
                    _ => self.u32()?,
                };
                Term::Port(Port { node, id, creation })
            }
            SMALL_BIG_EXT => {
                let n = self.u8()? as usize;
                self.big(n)?
            }
            LARGE_BIG_EXT => {
                let n = self.u32()? as usize;
                self.check_fits(n, 1, at)?;
                self.big(n)?
            }
            BIT_BINARY_EXT => self.bit_binary(at)?,
            EXPORT_EXT => {
                let module = self.atom()?;
                let function = self.atom()?;
                let a_at = self.pos;
                if self.u8()? != SMALL_INTEGER_EXT {
                    return Err(DecodeError::new(a_at, K::Malformed));
                }
                let arity = self.u8()?;
                Term::Export(Export {
                    module,
                    function,
                    arity,
                })
            }
            NEW_FUN_EXT => self.new_fun(at, depth_left)?,
            FLOAT_EXT => self.old_float(at)?,
            ATOM_CACHE_REF => Term::Atom(self.atom_ref(at)?),
            COMPRESSED => return Err(DecodeError::new(at, K::Compressed)),
            DIST_HEADER | DIST_FRAG_HEADER => return Err(DecodeError::new(at, K::DistHeader)),
            _ => return Err(DecodeError::new(at, K::UnknownTag(tag))),
        })
    }
}
