//! `Term` -> Rust value (the mapping is documented in `serde/mod.rs`). Lenient where Elixir
//! code is: strings accept binaries, atoms and charlists; sequences accept lists and tuples.

use super::{SerdeError, RAW_TERM};
use crate::encode::encode;
use crate::term::Term;
use ::serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

pub(crate) struct TermDeserializer<'a>(pub(crate) &'a Term);

type Res<T> = Result<T, SerdeError>;

fn unexpected(t: &Term, what: &str) -> SerdeError {
    SerdeError(format!("expected {what}, got {}", t.elixir()))
}

fn charlist(v: &[Term]) -> Option<String> {
    v.iter()
        .map(|e| match e {
            Term::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32),
            _ => None,
        })
        .collect()
}

impl<'de> de::Deserializer<'de> for TermDeserializer<'_> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Atom(a) => match a.as_str() {
                "true" => v.visit_bool(true),
                "false" => v.visit_bool(false),
                "nil" => v.visit_unit(),
                s => v.visit_str(s),
            },
            Term::Int(i) => v.visit_i64(*i),
            Term::Big(b) => match b.to_i128() {
                Some(i) if i >= 0 && u64::try_from(i).is_ok() => v.visit_u64(i as u64),
                Some(i) => v.visit_i128(i),
                None if !b.is_negative() && b.magnitude().len() <= 16 => {
                    let mut w = [0u8; 16];
                    w[..b.magnitude().len()].copy_from_slice(b.magnitude());
                    v.visit_u128(u128::from_le_bytes(w))
                }
                None => Err(SerdeError(format!("integer {b} out of range"))),
            },
            Term::Float(f) => v.visit_f64(*f),
            Term::Binary(b) => match std::str::from_utf8(b) {
                Ok(s) => v.visit_str(s),
                Err(_) => v.visit_bytes(b),
            },
            Term::Tuple(items) | Term::List(items) => v.visit_seq(SeqAccess(items.iter())),
            Term::Map(m) => v.visit_map(MapAccess {
                it: m.iter(),
                value: None,
            }),
            other => Err(unexpected(
                other,
                "a plain value (pids need a Pid/Term field)",
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Atom(a) if a.as_str() == "nil" => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Atom(a) if a.as_str() == "nil" => v.visit_unit(),
            other => Err(unexpected(other, "nil")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _n: &'static str, v: V) -> Res<V::Value> {
        self.deserialize_unit(v)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Atom(a) if a.as_str() == "true" => v.visit_bool(true),
            Term::Atom(a) if a.as_str() == "false" => v.visit_bool(false),
            other => Err(unexpected(other, "a boolean")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Binary(b) => match std::str::from_utf8(b) {
                Ok(s) => v.visit_str(s),
                Err(_) => Err(unexpected(self.0, "a UTF-8 string")),
            },
            Term::Atom(a) => v.visit_str(a.as_str()),
            Term::List(items) => match charlist(items) {
                Some(s) => v.visit_string(s),
                None => Err(unexpected(self.0, "a string")),
            },
            other => Err(unexpected(other, "a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Binary(b) => v.visit_bytes(b),
            Term::List(items) => self.deserialize_seq_items(items, v),
            other => Err(unexpected(other, "a binary")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_bytes(v)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::List(items) | Term::Tuple(items) => v.visit_seq(SeqAccess(items.iter())),
            other => Err(unexpected(other, "a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Res<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        _len: usize,
        v: V,
    ) -> Res<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.0 {
            Term::Map(m) => v.visit_map(MapAccess {
                it: m.iter(),
                value: None,
            }),
            other => Err(unexpected(other, "a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Res<V::Value> {
        if let Some(rec) = name.strip_prefix('#') {
            return match self.0 {
                Term::Tuple(items) if items.first().is_some_and(|t| t.is_atom(rec)) => {
                    v.visit_seq(SeqAccess(items[1..].iter()))
                }
                other => Err(unexpected(other, &format!("a #{rec} record"))),
            };
        }
        self.deserialize_map(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Res<V::Value> {
        if name == RAW_TERM {
            return v.visit_bytes(&encode(self.0));
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _n: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Res<V::Value> {
        match self.0 {
            Term::Atom(a) => v.visit_enum(a.as_str().into_deserializer()),
            Term::Binary(b) => match std::str::from_utf8(b) {
                Ok(s) => v.visit_enum(s.into_deserializer()),
                Err(_) => Err(unexpected(self.0, "an enum variant")),
            },
            Term::Tuple(items) => match items.split_first() {
                Some((Term::Atom(tag), rest)) => v.visit_enum(EnumAccess {
                    tag: tag.as_str(),
                    rest,
                }),
                _ => Err(unexpected(self.0, "a tagged tuple {:variant, ...}")),
            },
            other => Err(unexpected(other, "an enum variant (atom or tagged tuple)")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        v.visit_unit()
    }

    ::serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64
    }
}

impl TermDeserializer<'_> {
    fn deserialize_seq_items<'de, V: Visitor<'de>>(self, items: &[Term], v: V) -> Res<V::Value> {
        v.visit_seq(SeqAccess(items.iter()))
    }
}

struct SeqAccess<'a>(std::slice::Iter<'a, Term>);

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = SerdeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Res<Option<T::Value>> {
        match self.0.next() {
            Some(t) => seed.deserialize(TermDeserializer(t)).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapAccess<'a> {
    it: std::slice::Iter<'a, (Term, Term)>,
    value: Option<&'a Term>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = SerdeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Res<Option<K::Value>> {
        for (k, v) in self.it.by_ref() {
            // `__struct__` is Elixir's struct marker, not a field.
            if k.is_atom("__struct__") {
                continue;
            }
            self.value = Some(v);
            return seed.deserialize(TermDeserializer(k)).map(Some);
        }
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Res<V::Value> {
        match self.value.take() {
            Some(v) => seed.deserialize(TermDeserializer(v)),
            None => Err(SerdeError("map value without key".into())),
        }
    }
}

struct EnumAccess<'a> {
    tag: &'static str,
    rest: &'a [Term],
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = SerdeError;
    type Variant = VariantAccess<'a>;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Res<(S::Value, VariantAccess<'a>)> {
        let tag: de::value::StrDeserializer<'_, SerdeError> = self.tag.into_deserializer();
        Ok((seed.deserialize(tag)?, VariantAccess(self.rest)))
    }
}

struct VariantAccess<'a>(&'a [Term]);

impl<'de> de::VariantAccess<'de> for VariantAccess<'_> {
    type Error = SerdeError;
    fn unit_variant(self) -> Res<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(SerdeError("unexpected fields for a unit variant".into()))
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Res<T::Value> {
        match self.0 {
            [one] => seed.deserialize(TermDeserializer(one)),
            many => seed.deserialize(TermDeserializer(&Term::Tuple(many.to_vec()))),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Res<V::Value> {
        v.visit_seq(SeqAccess(self.0.iter()))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Res<V::Value> {
        match self.0 {
            [Term::Map(m)] => v.visit_map(MapAccess {
                it: m.iter(),
                value: None,
            }),
            _ => Err(SerdeError("expected {:variant, %{...}}".into())),
        }
    }
}
