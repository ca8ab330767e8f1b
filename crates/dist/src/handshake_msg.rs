//! The handshake's wire messages (distribution protocol v6, `dist_util:send_*/recv_*`): their
//! encoding with the 2-byte length prefix, and a total decoder for the bytes a peer sends.

use bytes::{Buf, BufMut, BytesMut};

/// One handshake message, without its 2-byte length prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HsMessage {
    /// `'N'` from the initiator: who it is.
    Name {
        flags: u64,
        creation: u32,
        name: Vec<u8>,
    },
    /// `'s'` + status text (`ok`, `nok`, `alive`, `true`, ...).
    Status(Vec<u8>),
    /// `'N'` from the acceptor: its challenge.
    Challenge {
        flags: u64,
        challenge: u32,
        creation: u32,
        name: Vec<u8>,
    },
    /// `'r'`: the initiator's own challenge and its digest of the acceptor's.
    ChallengeReply { challenge: u32, digest: [u8; 16] },
    /// `'a'`: the acceptor's digest of the initiator's challenge.
    ChallengeAck { digest: [u8; 16] },
}

/// Which message a decoder expects next: `'N'` means a different thing to each side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Name,
    Status,
    Challenge,
    ChallengeReply,
    ChallengeAck,
}

/// What was wrong with a handshake message's bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HsMessageError {
    #[error("expected {expected:?} message, got tag {tag} ({len} bytes)")]
    UnexpectedTag {
        expected: Expect,
        tag: u8,
        len: usize,
    },
    #[error("{expected:?} message truncated ({len} bytes)")]
    Truncated { expected: Expect, len: usize },
    #[error("empty handshake message")]
    Empty,
}

impl HsMessage {
    /// Appends the message with its 2-byte length prefix.
    pub fn encode(&self, out: &mut BytesMut) {
        let mut body = BytesMut::with_capacity(64);
        match self {
            HsMessage::Name {
                flags,
                creation,
                name,
            } => {
                body.put_u8(b'N');
                body.put_u64(*flags);
                body.put_u32(*creation);
                body.put_u16(name.len() as u16);
                body.put_slice(name);
            }
            HsMessage::Status(s) => {
                body.put_u8(b's');
                body.put_slice(s);
            }
            HsMessage::Challenge {
                flags,
                challenge,
                creation,
                name,
            } => {
                body.put_u8(b'N');
                body.put_u64(*flags);
                body.put_u32(*challenge);
                body.put_u32(*creation);
                body.put_u16(name.len() as u16);
                body.put_slice(name);
            }
            HsMessage::ChallengeReply { challenge, digest } => {
                body.put_u8(b'r');
                body.put_u32(*challenge);
                body.put_slice(digest);
            }
            HsMessage::ChallengeAck { digest } => {
                body.put_u8(b'a');
                body.put_slice(digest);
            }
        }
        out.put_u16(body.len() as u16);
        out.extend_from_slice(&body);
    }

    /// Decodes one message body (length prefix already removed). Total: any bytes give a value
    /// or an error. Extra bytes after the name are ignored, as OTP does.
    pub fn decode(expect: Expect, body: &[u8]) -> Result<HsMessage, HsMessageError> {
        let (&tag, mut rest) = body.split_first().ok_or(HsMessageError::Empty)?;
        let want = match expect {
            Expect::Name | Expect::Challenge => b'N',
            Expect::Status => b's',
            Expect::ChallengeReply => b'r',
            Expect::ChallengeAck => b'a',
        };
        if tag != want {
            return Err(HsMessageError::UnexpectedTag {
                expected: expect,
                tag,
                len: body.len(),
            });
        }
        let truncated = HsMessageError::Truncated {
            expected: expect,
            len: body.len(),
        };
        match expect {
            Expect::Name => {
                if rest.len() < 14 {
                    return Err(truncated);
                }
                let flags = rest.get_u64();
                let creation = rest.get_u32();
                let name = read_name(&mut rest).ok_or(truncated)?;
                Ok(HsMessage::Name {
                    flags,
                    creation,
                    name,
                })
            }
            Expect::Challenge => {
                if rest.len() < 18 {
                    return Err(truncated);
                }
                let flags = rest.get_u64();
                let challenge = rest.get_u32();
                let creation = rest.get_u32();
                let name = read_name(&mut rest).ok_or(truncated)?;
                Ok(HsMessage::Challenge {
                    flags,
                    challenge,
                    creation,
                    name,
                })
            }
            Expect::Status => Ok(HsMessage::Status(rest.to_vec())),
            Expect::ChallengeReply => {
                if rest.len() != 20 {
                    return Err(truncated);
                }
                let challenge = rest.get_u32();
                let mut digest = [0u8; 16];
                rest.copy_to_slice(&mut digest);
                Ok(HsMessage::ChallengeReply { challenge, digest })
            }
            Expect::ChallengeAck => {
                if rest.len() != 16 {
                    return Err(truncated);
                }
                let mut digest = [0u8; 16];
                rest.copy_to_slice(&mut digest);
                Ok(HsMessage::ChallengeAck { digest })
            }
        }
    }
}

fn read_name(rest: &mut &[u8]) -> Option<Vec<u8>> {
    if rest.len() < 2 {
        return None;
    }
    let n = rest.get_u16() as usize;
    let name = rest.get(..n)?.to_vec();
    Some(name)
}

/// Splits one 2-byte-length-prefixed message off the front of `buf`, if complete.
pub fn split_message(buf: &mut BytesMut) -> Option<BytesMut> {
    if buf.len() < 2 {
        return None;
    }
    let n = u16::from_be_bytes([buf[0], buf[1]]) as usize;
    if buf.len() < 2 + n {
        return None;
    }
    buf.advance(2);
    Some(buf.split_to(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(expect: Expect, m: HsMessage) {
        let mut b = BytesMut::new();
        m.encode(&mut b);
        let body = split_message(&mut b).expect("complete");
        assert!(b.is_empty());
        assert_eq!(HsMessage::decode(expect, &body), Ok(m));
    }

    #[test]
    fn every_message_roundtrips() {
        roundtrip(
            Expect::Name,
            HsMessage::Name {
                flags: 0xd075f5fbd,
                creation: 7,
                name: b"a@h".to_vec(),
            },
        );
        roundtrip(
            Expect::Status,
            HsMessage::Status(b"ok_simultaneous".to_vec()),
        );
        roundtrip(
            Expect::Challenge,
            HsMessage::Challenge {
                flags: 1,
                challenge: u32::MAX,
                creation: 3,
                name: b"b@h".to_vec(),
            },
        );
        roundtrip(
            Expect::ChallengeReply,
            HsMessage::ChallengeReply {
                challenge: 5,
                digest: [9; 16],
            },
        );
        roundtrip(
            Expect::ChallengeAck,
            HsMessage::ChallengeAck { digest: [1; 16] },
        );
    }

    #[test]
    fn name_message_bytes_are_otp_layout() {
        let mut b = BytesMut::new();
        HsMessage::Name {
            flags: 0x0102030405060708,
            creation: 0x0a0b0c0d,
            name: b"x@y".to_vec(),
        }
        .encode(&mut b);
        assert_eq!(
            &b[..],
            &[0, 18, b'N', 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 0, 3, b'x', b'@', b'y']
        );
    }

    #[test]
    fn extra_bytes_after_name_are_ignored_and_short_names_refused() {
        let mut body = vec![b'N'];
        body.extend_from_slice(&[0; 12]);
        body.extend_from_slice(&[0, 1, b'a', 0xff, 0xff]);
        assert!(matches!(
            HsMessage::decode(Expect::Name, &body),
            Ok(HsMessage::Name { name, .. }) if name == b"a"
        ));
        body[14] = 9;
        assert!(HsMessage::decode(Expect::Name, &body).is_err());
    }
}
