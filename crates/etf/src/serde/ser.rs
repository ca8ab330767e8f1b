//! Rust value -> `Term` (the mapping is documented in `serde/mod.rs`).

use super::{SerdeError, RAW_TERM};
use crate::atom::Atom;
use crate::decode::decode;
use crate::term::Term;
use ::serde::ser::{self, Serialize};

pub(crate) struct TermSerializer;

type R = Result<Term, SerdeError>;

fn atom(name: &str) -> Result<Term, SerdeError> {
    Atom::try_new(name)
        .map(Term::Atom)
        .map_err(|e| SerdeError(format!("atom {name:?}: {e}")))
}

pub(crate) struct Seq {
    items: Vec<Term>,
    /// Tag prepended for tuple variants / records.
    tag: Option<Term>,
    tuple: bool,
}

pub(crate) struct MapSer {
    pairs: Vec<(Term, Term)>,
    key: Option<Term>,
}

pub(crate) struct StructSer {
    pairs: Vec<(Term, Term)>,
    /// `Some` for struct variants: result is `{tag, map}`.
    variant: Option<Term>,
    /// Record form (`#name`): fields become tuple elements after the tag.
    record: Option<Term>,
}

impl ser::Serializer for TermSerializer {
    type Ok = Term;
    type Error = SerdeError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = MapSer;
    type SerializeStruct = StructSer;
    type SerializeStructVariant = StructSer;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Term::from(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Term::Int(v as i64))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Term::Int(v as i64))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Term::Int(v as i64))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Term::Int(v))
    }
    fn serialize_i128(self, v: i128) -> R {
        Ok(Term::from_i128(v))
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Term::Int(v as i64))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Term::Int(v as i64))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Term::Int(v as i64))
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(Term::from_i128(v as i128))
    }
    fn serialize_u128(self, v: u128) -> R {
        match i128::try_from(v) {
            Ok(i) => Ok(Term::from_i128(i)),
            Err(_) => crate::bigint::BigInt::from_parts(false, v.to_le_bytes().to_vec())
                .map(Term::Big)
                .or_else(|i| Ok(Term::Int(i))),
        }
    }
    fn serialize_f32(self, v: f32) -> R {
        Ok(Term::Float(v as f64))
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Term::Float(v))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Term::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Term::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(Term::binary(v))
    }
    fn serialize_none(self) -> R {
        Ok(Term::Atom(Atom::NIL))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Term::Atom(Atom::NIL))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        Ok(Term::Atom(Atom::NIL))
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> R {
        atom(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, name: &'static str, v: &T) -> R {
        if name == RAW_TERM {
            return match v.serialize(TermSerializer)? {
                Term::Binary(b) => decode(&b.into_bytes()).map_err(|e| SerdeError(e.to_string())),
                other => Ok(other),
            };
        }
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        Ok(Term::Tuple(vec![
            atom(variant)?,
            v.serialize(TermSerializer)?,
        ]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, SerdeError> {
        Ok(Seq {
            items: Vec::with_capacity(len.unwrap_or(0)),
            tag: None,
            tuple: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, SerdeError> {
        Ok(Seq {
            items: Vec::with_capacity(len),
            tag: None,
            tuple: true,
        })
    }
    fn serialize_tuple_struct(self, _n: &'static str, len: usize) -> Result<Seq, SerdeError> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq, SerdeError> {
        Ok(Seq {
            items: Vec::with_capacity(len + 1),
            tag: Some(atom(variant)?),
            tuple: true,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer, SerdeError> {
        Ok(MapSer {
            pairs: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructSer, SerdeError> {
        let mut pairs = Vec::with_capacity(len + 1);
        let mut record = None;
        if name.starts_with("Elixir.") {
            pairs.push((atom("__struct__")?, atom(name)?));
        } else if let Some(rec) = name.strip_prefix('#') {
            record = Some(atom(rec)?);
        }
        Ok(StructSer {
            pairs,
            variant: None,
            record,
        })
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<StructSer, SerdeError> {
        Ok(StructSer {
            pairs: Vec::with_capacity(len),
            variant: Some(atom(variant)?),
            record: None,
        })
    }
}

impl Seq {
    fn finish(self) -> Term {
        let mut items = self.items;
        if let Some(tag) = self.tag {
            items.insert(0, tag);
        }
        if self.tuple {
            Term::Tuple(items)
        } else {
            Term::List(items)
        }
    }
}

macro_rules! seq_impl {
    ($tr:ident, $m:ident) => {
        impl ser::$tr for Seq {
            type Ok = Term;
            type Error = SerdeError;
            fn $m<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), SerdeError> {
                self.items.push(v.serialize(TermSerializer)?);
                Ok(())
            }
            fn end(self) -> R {
                Ok(self.finish())
            }
        }
    };
}
seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for MapSer {
    type Ok = Term;
    type Error = SerdeError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> Result<(), SerdeError> {
        self.key = Some(k.serialize(TermSerializer)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), SerdeError> {
        let k = self
            .key
            .take()
            .ok_or_else(|| SerdeError("map value without key".into()))?;
        self.pairs.push((k, v.serialize(TermSerializer)?));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Term::Map(self.pairs))
    }
}

impl StructSer {
    fn field<T: ?Sized + Serialize>(&mut self, k: &'static str, v: &T) -> Result<(), SerdeError> {
        self.pairs.push((atom(k)?, v.serialize(TermSerializer)?));
        Ok(())
    }
    fn finish(self) -> Term {
        if let Some(tag) = self.record {
            let mut items = vec![tag];
            items.extend(self.pairs.into_iter().map(|(_, v)| v));
            return Term::Tuple(items);
        }
        let map = Term::Map(self.pairs);
        match self.variant {
            Some(tag) => Term::Tuple(vec![tag, map]),
            None => map,
        }
    }
}

impl ser::SerializeStruct for StructSer {
    type Ok = Term;
    type Error = SerdeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        k: &'static str,
        v: &T,
    ) -> Result<(), SerdeError> {
        self.field(k, v)
    }
    fn end(self) -> R {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for StructSer {
    type Ok = Term;
    type Error = SerdeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        k: &'static str,
        v: &T,
    ) -> Result<(), SerdeError> {
        self.field(k, v)
    }
    fn end(self) -> R {
        Ok(self.finish())
    }
}
