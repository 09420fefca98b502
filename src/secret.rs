//! A token that can never leak into logs, errors or panics.

use std::fmt;

/// A user JWT or Pay Station token. `Debug` and `Display` print `<redacted>`; the only way to read
/// it is [`Token::expose`], used where the token goes on the wire.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Token(String);

/// Pieces of a token shorter than this may remain in redacted text; longer ones never do.
pub const MIN_LEAK_CHARS: usize = 8;

/// The longest token accepted (Xsolla JWTs are 1–2 KiB).
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

impl Token {
    /// Wraps a token after checking that it is non-empty, not too long and free of control characters.
    pub fn new(token: impl Into<String>) -> Result<Token, &'static str> {
        let token = token.into();
        if token.is_empty() {
            return Err("token is empty");
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err("token is longer than 16384 bytes");
        }
        if token.chars().any(char::is_control) {
            return Err("token contains control characters");
        }
        Ok(Token(token))
    }

    /// The token itself, for an `Authorization` header or a connect command.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` (from a server) with every piece of this token of [`MIN_LEAK_CHARS`] or more bytes
    /// replaced by `<redacted>`: a server that echoes the token whole, cut, or split leaks nothing
    /// longer than 7 bytes of it.
    pub fn redact(&self, text: &str) -> String {
        redact_pieces(text, &self.0)
    }
}

/// Replaces every substring of `text` that is also a substring of `secret` and at least
/// [`MIN_LEAK_CHARS`] bytes long (extended to character boundaries) with `<redacted>`.
fn redact_pieces(text: &str, secret: &str) -> String {
    let (t, s) = (text.as_bytes(), secret.as_bytes());
    if t.len() < MIN_LEAK_CHARS || s.len() < MIN_LEAK_CHARS {
        return if !secret.is_empty() && text.contains(secret) {
            text.replace(secret, "<redacted>")
        } else {
            text.to_owned()
        };
    }
    // Fast path: a piece of the secret needs MIN_LEAK_CHARS consecutive text bytes that all occur
    // in the secret; most text (log lines, messages) has no such run.
    let mut in_secret = [false; 256];
    for &b in s {
        in_secret[usize::from(b)] = true;
    }
    let mut run = 0;
    let candidate = t.iter().any(|&b| {
        run = if in_secret[usize::from(b)] {
            run + 1
        } else {
            0
        };
        run >= MIN_LEAK_CHARS
    });
    if !candidate {
        return text.to_owned();
    }
    // Every 8-byte window of the secret as a number: a linear scan for short inputs, otherwise a
    // binary search in the sorted windows; both cheaper than hashing every window into a set
    // (this runs for every log line and event, against every remembered token).
    let mut windows: Vec<u64> = s.windows(MIN_LEAK_CHARS).map(window_value).collect();
    let sorted = t.len().saturating_mul(windows.len()) > 4096;
    if sorted {
        windows.sort_unstable();
    }
    let in_secret = |w: u64| {
        if sorted {
            windows.binary_search(&w).is_ok()
        } else {
            windows.contains(&w)
        }
    };
    let mut covered = vec![false; t.len()];
    let mut i = 0;
    while i + MIN_LEAK_CHARS <= t.len() {
        if in_secret(window_value(&t[i..i + MIN_LEAK_CHARS])) {
            // Every 8-byte window inside a secret substring is itself a window of the secret, so
            // marking window by window covers the longest match.
            covered[i..i + MIN_LEAK_CHARS]
                .iter_mut()
                .for_each(|c| *c = true);
        }
        i += 1;
    }
    let mut out = String::with_capacity(text.len());
    let mut in_secret = false;
    for (at, ch) in text.char_indices() {
        let hidden = covered[at..at + ch.len_utf8()].iter().any(|c| *c);
        if hidden {
            if !in_secret {
                out.push_str("<redacted>");
            }
        } else {
            out.push(ch);
        }
        in_secret = hidden;
    }
    out
}

// A window is exactly the bytes of one `u64`.
const _: () = assert!(MIN_LEAK_CHARS == 8);

fn window_value(window: &[u8]) -> u64 {
    let mut bytes = [0u8; MIN_LEAK_CHARS];
    bytes.copy_from_slice(window);
    u64::from_le_bytes(bytes)
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_token() {
        let t = Token::new("secret-jwt").unwrap();
        assert_eq!(format!("{t} {t:?}"), "<redacted> <redacted>");
        assert_eq!(t.expose(), "secret-jwt");
        assert_eq!(t.redact("bad token secret-jwt!"), "bad token <redacted>!");
        assert_eq!(
            Token::new("abc").unwrap().redact("x abc y"),
            "x <redacted> y"
        );
    }

    #[test]
    fn redacts_every_piece_of_eight_or_more() {
        let t = Token::new("eyJhbGciOiJIUzI1NiJ9.payload-part.signature").unwrap();
        let echoed = "token eyJhbGciOiJIUz was cut; later part-.signature and payload-p end";
        let out = t.redact(echoed);
        assert_eq!(
            out,
            "token <redacted> was cut; later part-<redacted> and <redacted> end"
        );
        // Seven bytes may remain (a shorter piece is not evidence of the token).
        assert_eq!(t.redact("eyJhbGc"), "eyJhbGc");
        // Pieces next to each other are one redaction; multibyte text around them survives.
        assert_eq!(t.redact("é.payload-part.é"), "é<redacted>é");
    }

    #[test]
    fn rejects_bad_tokens() {
        assert!(Token::new("").is_err());
        assert!(Token::new("a\nb").is_err());
        assert!(Token::new("x".repeat(MAX_TOKEN_BYTES + 1)).is_err());
        assert!(Token::new("x".repeat(MAX_TOKEN_BYTES)).is_ok());
    }
}
