//! The EPMD wire messages as plain values with pure encoders and total decoders (sans-I/O).
//! Requests travel as `Len:u16, Body`; replies have no length prefix (EPMD closes the socket after
//! each reply except ALIVE2's, so a PORT2 or NAMES reply is "everything until EOF").

use crate::error::DecodeError;

pub const ALIVE2_REQ: u8 = 120;
pub const ALIVE2_RESP: u8 = 121;
pub const ALIVE2_X_RESP: u8 = 118;
pub const PORT_PLEASE2_REQ: u8 = 122;
pub const PORT2_RESP: u8 = 119;
pub const NAMES_REQ: u8 = 110;
pub const DUMP_REQ: u8 = 100;
pub const KILL_REQ: u8 = 107;

/// Node type byte for a normal (visible) node, `'M'`.
pub const NODE_TYPE_NORMAL: u8 = 77;
/// Node type byte for a hidden node, `'H'`.
pub const NODE_TYPE_HIDDEN: u8 = 72;
/// Distribution protocol versions OTP 25 announces.
pub const DIST_HIGH: u16 = 6;
pub const DIST_LOW: u16 = 5;

/// Largest request body we accept; real epmd's buffer is of the same order. Anything bigger
/// is a broken or hostile peer.
pub const MAX_REQUEST_LEN: usize = 4096;
/// Node names are at most 255 characters (epmd's limit), so at most 1020 bytes of UTF-8.
pub const MAX_NAME_CHARS: usize = 255;
pub const MAX_NAME_BYTES: usize = MAX_NAME_CHARS * 4;
/// Extra data is bounded like the name (epmd's MAXSYMLEN).
pub const MAX_EXTRA_BYTES: usize = MAX_NAME_BYTES;

/// What a node registers and what PORT_PLEASE2 answers: where and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node's distribution listen port.
    pub port: u16,
    /// 77 normal, 72 hidden.
    pub node_type: u8,
    /// 0 = TCP/IPv4.
    pub protocol: u8,
    pub high: u16,
    pub low: u16,
    /// The alive part of the node name (before `@`).
    pub name: String,
    pub extra: Vec<u8>,
}

impl NodeInfo {
    /// What an OTP 25 style node registers.
    pub fn new(name: &str, port: u16, hidden: bool) -> NodeInfo {
        NodeInfo {
            port,
            node_type: if hidden {
                NODE_TYPE_HIDDEN
            } else {
                NODE_TYPE_NORMAL
            },
            protocol: 0,
            high: DIST_HIGH,
            low: DIST_LOW,
            name: name.to_string(),
            extra: Vec::new(),
        }
    }

    pub fn hidden(&self) -> bool {
        self.node_type == NODE_TYPE_HIDDEN
    }

    /// The distribution version to use with this node, as OTP's `erl_epmd:best_version/2`:
    /// the highest version in both ranges, or `None` when the ranges do not overlap.
    pub fn best_version(&self, our_low: u16, our_high: u16) -> Option<u16> {
        let high = self.high.min(our_high);
        let low = self.low.max(our_low);
        (low <= high).then_some(high)
    }

    /// `Port:u16, Type, Proto, High:u16, Low:u16, NLen:u16, Name, ELen:u16, Extra`.
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.port.to_be_bytes());
        out.push(self.node_type);
        out.push(self.protocol);
        out.extend_from_slice(&self.high.to_be_bytes());
        out.extend_from_slice(&self.low.to_be_bytes());
        put_u16_prefixed(out, self.name.as_bytes());
        put_u16_prefixed(out, &self.extra);
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<NodeInfo, DecodeError> {
        let port = r.u16("port")?;
        let node_type = r.u8("node type")?;
        let protocol = r.u8("protocol")?;
        let high = r.u16("highest version")?;
        let low = r.u16("lowest version")?;
        let name_len = usize::from(r.u16("name length")?);
        let name = node_name(r.take(name_len, "node name")?)?;
        let extra_len = usize::from(r.u16("extra length")?);
        if extra_len > MAX_EXTRA_BYTES {
            return Err(DecodeError::ExtraTooLong(extra_len));
        }
        let extra = r.take(extra_len, "extra data")?.to_vec();
        Ok(NodeInfo {
            port,
            node_type,
            protocol,
            high,
            low,
            name,
            extra,
        })
    }
}

/// A request a client sends to EPMD (the body, without the length prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// ALIVE2_REQ: register this node; the connection stays open for its life.
    Alive2(NodeInfo),
    /// PORT_PLEASE2_REQ: where does node `name` listen?
    PortPlease2(String),
    /// NAMES_REQ: list all registered names.
    Names,
    /// DUMP_REQ: debugging dump of the registry.
    Dump,
    /// KILL_REQ: stop EPMD (refused while nodes are registered).
    Kill,
}

impl Request {
    /// The request body, without the length prefix.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        match self {
            Request::Alive2(info) => {
                out.push(ALIVE2_REQ);
                info.encode_into(&mut out);
            }
            Request::PortPlease2(name) => {
                out.push(PORT_PLEASE2_REQ);
                out.extend_from_slice(name.as_bytes());
            }
            Request::Names => out.push(NAMES_REQ),
            Request::Dump => out.push(DUMP_REQ),
            Request::Kill => out.push(KILL_REQ),
        }
        out
    }

    /// The request as sent on the wire: `Len:u16, Body`.
    pub fn encode_frame(&self) -> Vec<u8> {
        let body = self.encode_body();
        let mut out = Vec::with_capacity(body.len() + 2);
        // Bodies are bounded by the name/extra limits, far below u16::MAX; saturate anyway so
        // an oversized value yields a frame the peer rejects rather than a wrong length.
        let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Decodes one request body (the bytes after the length prefix).
    pub fn decode_body(body: &[u8]) -> Result<Request, DecodeError> {
        if body.len() > MAX_REQUEST_LEN {
            return Err(DecodeError::RequestTooLong(body.len()));
        }
        let mut r = Reader::new(body);
        let tag = r.u8("request tag")?;
        let req = match tag {
            ALIVE2_REQ => Request::Alive2(NodeInfo::decode_from(&mut r)?),
            PORT_PLEASE2_REQ => {
                let mut name = r.rest();
                // Very old clients NUL-terminate the name; epmd tolerates one trailing NUL.
                if let [head @ .., 0] = name {
                    name = head;
                }
                return Ok(Request::PortPlease2(node_name(name)?));
            }
            NAMES_REQ => Request::Names,
            DUMP_REQ => Request::Dump,
            KILL_REQ => Request::Kill,
            other => return Err(DecodeError::UnknownRequest(other)),
        };
        r.finish()?;
        Ok(req)
    }
}

/// Validates a length prefix: the body length that follows it.
pub fn request_len(prefix: [u8; 2]) -> Result<usize, DecodeError> {
    let len = usize::from(u16::from_be_bytes(prefix));
    if len == 0 {
        return Err(DecodeError::EmptyRequest);
    }
    if len > MAX_REQUEST_LEN {
        return Err(DecodeError::RequestTooLong(len));
    }
    Ok(len)
}

/// Decodes one whole framed request; `Ok(None)` while `buf` holds only part of it.
/// Returns the request and how many bytes it used.
pub fn decode_frame(buf: &[u8]) -> Result<Option<(Request, usize)>, DecodeError> {
    let [a, b, rest @ ..] = buf else {
        return Ok(None);
    };
    let len = request_len([*a, *b])?;
    match rest.get(..len) {
        Some(body) => Ok(Some((Request::decode_body(body)?, len + 2))),
        None => Ok(None),
    }
}

/// The reply to ALIVE2_REQ: `118, Result, Creation:u32` (extended) or `121, Result, Creation:u16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alive2Reply {
    /// 0 = registered; anything else = refused (1 = name in use).
    pub result: u8,
    pub creation: u32,
    /// `ALIVE2_X_RESP` (32-bit creation), sent when the node announced High >= 6.
    pub extended: bool,
}

impl Alive2Reply {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6);
        if self.extended {
            out.push(ALIVE2_X_RESP);
            out.push(self.result);
            out.extend_from_slice(&self.creation.to_be_bytes());
        } else {
            out.push(ALIVE2_RESP);
            out.push(self.result);
            // The old reply only has room for 16 bits; EPMD only gives such nodes 1..=3.
            out.extend_from_slice(&(self.creation as u16).to_be_bytes());
        }
        out
    }

    /// The total length of the reply that starts with `tag`.
    pub fn len_for_tag(tag: u8) -> Result<usize, DecodeError> {
        match tag {
            ALIVE2_X_RESP => Ok(6),
            ALIVE2_RESP => Ok(4),
            other => Err(DecodeError::UnexpectedReply {
                expected: "ALIVE2_X_RESP (118) or ALIVE2_RESP (121)",
                got: other,
            }),
        }
    }

    /// Decodes exactly one reply; `buf` must hold all of it and nothing more.
    pub fn decode(buf: &[u8]) -> Result<Alive2Reply, DecodeError> {
        let mut r = Reader::new(buf);
        let tag = r.u8("ALIVE2 reply tag")?;
        Self::len_for_tag(tag)?;
        let result = r.u8("ALIVE2 result")?;
        let (creation, extended) = if tag == ALIVE2_X_RESP {
            (r.u32("creation")?, true)
        } else {
            (u32::from(r.u16("creation")?), false)
        };
        r.finish()?;
        Ok(Alive2Reply {
            result,
            creation,
            extended,
        })
    }
}

/// The reply to PORT_PLEASE2_REQ: `119, 0, NodeInfo` or `119, Result>0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortPlease2Reply {
    Found(NodeInfo),
    /// Not registered; the result code epmd gave (1 in practice).
    NotFound(u8),
}

impl PortPlease2Reply {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![PORT2_RESP];
        match self {
            PortPlease2Reply::Found(info) => {
                out.push(0);
                info.encode_into(&mut out);
            }
            // A result of 0 would claim success; keep the error an error.
            PortPlease2Reply::NotFound(code) => out.push((*code).max(1)),
        }
        out
    }

    /// Decodes the whole reply (everything EPMD sent before closing).
    pub fn decode(buf: &[u8]) -> Result<PortPlease2Reply, DecodeError> {
        let mut r = Reader::new(buf);
        let tag = r.u8("PORT2 reply tag")?;
        if tag != PORT2_RESP {
            return Err(DecodeError::UnexpectedReply {
                expected: "PORT2_RESP (119)",
                got: tag,
            });
        }
        let result = r.u8("PORT2 result")?;
        if result != 0 {
            // epmd sends nothing more on error; tolerate trailing bytes from odd servers.
            return Ok(PortPlease2Reply::NotFound(result));
        }
        let info = NodeInfo::decode_from(&mut r)?;
        r.finish()?;
        Ok(PortPlease2Reply::Found(info))
    }
}

/// The reply to NAMES_REQ: `EpmdPort:u32`, then `name N at port P\n` per node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamesReply {
    pub epmd_port: u32,
    pub names: Vec<(String, u16)>,
}

impl NamesReply {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.epmd_port.to_be_bytes().to_vec();
        out.extend_from_slice(self.text().as_bytes());
        out
    }

    /// The lines after the port, exactly as epmd prints them.
    pub fn text(&self) -> String {
        self.names
            .iter()
            .map(|(name, port)| format!("name {name} at port {port}\n"))
            .collect()
    }

    /// Decodes the whole reply (everything EPMD sent before closing).
    pub fn decode(buf: &[u8]) -> Result<NamesReply, DecodeError> {
        let mut r = Reader::new(buf);
        let epmd_port = r.u32("epmd port")?;
        let text = std::str::from_utf8(r.rest()).map_err(|_| DecodeError::NotUtf8("names list"))?;
        let mut names = Vec::new();
        for line in text.split_terminator('\n') {
            names.push(parse_names_line(line)?);
        }
        Ok(NamesReply { epmd_port, names })
    }
}

/// `name <N> at port <P>`; the name may itself contain spaces, so split from the right.
fn parse_names_line(line: &str) -> Result<(String, u16), DecodeError> {
    let bad = || DecodeError::BadNamesLine(line.chars().take(300).collect());
    let rest = line.strip_prefix("name ").ok_or_else(bad)?;
    let (name, port) = rest.rsplit_once(" at port ").ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    if name.is_empty() {
        return Err(bad());
    }
    Ok((name.to_string(), port))
}

/// The reply to KILL_REQ: `OK` (stopping) or `NO` (nodes are still registered).
pub fn encode_kill_reply(ok: bool) -> &'static [u8] {
    if ok {
        b"OK"
    } else {
        b"NO"
    }
}

/// `Some(true)` for `OK`, `Some(false)` for `NO`, `None` for anything else.
pub fn decode_kill_reply(buf: &[u8]) -> Option<bool> {
    match buf {
        b"OK" => Some(true),
        b"NO" => Some(false),
        _ => None,
    }
}

/// A node name as epmd accepts it: 1..=255 characters of UTF-8, no NUL.
pub fn node_name(bytes: &[u8]) -> Result<String, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::EmptyName);
    }
    if bytes.len() > MAX_NAME_BYTES {
        return Err(DecodeError::NameTooLong(bytes.len()));
    }
    if bytes.contains(&0) {
        return Err(DecodeError::NameHasNul);
    }
    let name = std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8("node name"))?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DecodeError::NameTooLong(bytes.len()));
    }
    Ok(name.to_string())
}

fn put_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

/// A cursor over a byte slice whose every read is bounds-checked and names what it was reading.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated {
                what,
                need: n,
                have: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.buf.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes OTP 25's `erl_epmd` sends for `erl -sname bob` on port 5555 (from the format in
    /// erl_epmd:do_register_node/3).
    const OTP_ALIVE2: &[u8] = &[
        0, 16, 120, 0x15, 0xb3, 77, 0, 0, 6, 0, 5, 0, 3, b'b', b'o', b'b', 0, 0,
    ];

    #[test]
    fn alive2_matches_otp_bytes() {
        let req = Request::Alive2(NodeInfo::new("bob", 5555, false));
        assert_eq!(req.encode_frame(), OTP_ALIVE2);
        assert_eq!(decode_frame(OTP_ALIVE2), Ok(Some((req, OTP_ALIVE2.len()))));
    }

    #[test]
    fn partial_frames_ask_for_more() {
        for n in 0..OTP_ALIVE2.len() {
            assert_eq!(decode_frame(&OTP_ALIVE2[..n]), Ok(None), "prefix {n}");
        }
    }

    #[test]
    fn replies_seen_from_real_epmd_decode() {
        // Captured from OTP 25.2.3 epmd on this project's VM.
        let x = [0x76, 0x00, 0x6b, 0x05, 0xa6, 0x14];
        assert_eq!(
            Alive2Reply::decode(&x),
            Ok(Alive2Reply {
                result: 0,
                creation: 0x6b05a614,
                extended: true
            })
        );
        let dup = [0x76, 0x01, 0, 0, 0, 0x63];
        assert_eq!(Alive2Reply::decode(&dup).map(|r| r.creation), Ok(99));
        let old = [0x79, 0x00, 0x00, 0x03];
        assert_eq!(Alive2Reply::decode(&old).map(|r| r.extended), Ok(false));
        let port2 = [
            0x77, 0x00, 0x15, 0xb3, 0x4d, 0x00, 0x00, 0x05, 0x00, 0x05, 0x00, 0x03, 0x62, 0x61,
            0x72, 0x00, 0x00,
        ];
        let mut bar = NodeInfo::new("bar", 5555, false);
        bar.high = 5;
        assert_eq!(
            PortPlease2Reply::decode(&port2),
            Ok(PortPlease2Reply::Found(bar))
        );
        let names = b"\x00\x00\xcd\xb1name foo at port 5555\nname bar at port 5555\n";
        assert_eq!(
            NamesReply::decode(names),
            Ok(NamesReply {
                epmd_port: 52657,
                names: vec![("foo".into(), 5555), ("bar".into(), 5555)]
            })
        );
    }

    #[test]
    fn port_please_tolerates_one_trailing_nul() {
        assert_eq!(
            Request::decode_body(b"zbob\0"),
            Ok(Request::PortPlease2("bob".into()))
        );
        assert_eq!(
            Request::decode_body(b"zbo\0b"),
            Err(DecodeError::NameHasNul)
        );
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        assert_eq!(request_len([0, 0]), Err(DecodeError::EmptyRequest));
        assert_eq!(
            request_len([0xff, 0xff]),
            Err(DecodeError::RequestTooLong(65535))
        );
        assert_eq!(
            Request::decode_body(&[1]),
            Err(DecodeError::UnknownRequest(1))
        );
        assert_eq!(Request::decode_body(&[122]), Err(DecodeError::EmptyName));
        assert!(matches!(
            Request::decode_body(&[120, 0, 1]),
            Err(DecodeError::Truncated { .. })
        ));
        assert_eq!(
            Request::decode_body(&[110, 0]),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn best_version_picks_the_overlap() {
        let info = NodeInfo::new("a", 1, false);
        assert_eq!(info.best_version(5, 6), Some(6));
        assert_eq!(info.best_version(5, 5), Some(5));
        assert_eq!(info.best_version(7, 8), None);
    }
}
