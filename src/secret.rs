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
    let covered = if t.len() <= s.len() {
        cover_by_text_windows(t, s)
    } else {
        cover_by_secret_windows(t, s)
    };
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

/// Which bytes of `t` lie in an 8-byte window that is also a window of `s`, for a text shorter
/// than the secret (a log line against a JWT). The text's windows as integers, sorted, and a
/// 4096-bit filter of them; then one pass over the secret's windows: a multiply and a bit test per
/// secret byte, a binary search on a hit. (A set of the secret's windows, as for long texts,
/// cost ≈ 35 µs per line for a 1.5 KiB token — on every status push, sink or not.)
fn cover_by_text_windows(t: &[u8], s: &[u8]) -> Vec<bool> {
    let key = |w: &[u8]| {
        let mut bytes = [0u8; MIN_LEAK_CHARS];
        bytes.copy_from_slice(w);
        u64::from_le_bytes(bytes)
    };
    let slot = |k: u64| (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize; // 0..4096
    let mut filter = [0u64; 64];
    let mut wanted: Vec<(u64, usize)> = t
        .windows(MIN_LEAK_CHARS)
        .enumerate()
        .map(|(i, w)| {
            let k = key(w);
            filter[slot(k) / 64] |= 1 << (slot(k) % 64);
            (k, i)
        })
        .collect();
    wanted.sort_unstable();
    let mut covered = vec![false; t.len()];
    for w in s.windows(MIN_LEAK_CHARS) {
        let k = key(w);
        if filter[slot(k) / 64] & (1 << (slot(k) % 64)) == 0 {
            continue;
        }
        let from = wanted.partition_point(|&(x, _)| x < k);
        for &(_, i) in wanted[from..].iter().take_while(|&&(x, _)| x == k) {
            // Every 8-byte window inside a secret substring is itself a window of the secret, so
            // marking window by window covers the longest match.
            covered[i..i + MIN_LEAK_CHARS]
                .iter_mut()
                .for_each(|c| *c = true);
        }
    }
    covered
}

/// The same as [`cover_by_text_windows`] for a text longer than the secret: a set of the
/// secret's windows, looked up once per text window.
fn cover_by_secret_windows(t: &[u8], s: &[u8]) -> Vec<bool> {
    let windows: std::collections::HashSet<&[u8]> = s.windows(MIN_LEAK_CHARS).collect();
    let mut covered = vec![false; t.len()];
    for i in 0..=t.len() - MIN_LEAK_CHARS {
        if windows.contains(&t[i..i + MIN_LEAK_CHARS]) {
            covered[i..i + MIN_LEAK_CHARS].fill(true);
        }
    }
    covered
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
        let _watchdog = crate::test_watchdog::arm();
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
    fn short_texts_and_short_tokens_take_the_whole_token_path() {
        let _watchdog = crate::test_watchdog::arm();
        // A token shorter than 8 bytes in a long text: still redacted whole.
        let short = Token::new("abc").unwrap();
        assert_eq!(short.redact("xx abc yy zz"), "xx <redacted> yy zz");
        assert_eq!(short.redact("nothing here at all"), "nothing here at all");
        // A text of exactly 8 bytes is a piece of a longer token: redacted.
        let long = Token::new("abcdefghijkl").unwrap();
        assert_eq!(long.redact("cdefghij"), "<redacted>");
        // Seven bytes cannot be evidence.
        assert_eq!(long.redact("cdefghi"), "cdefghi");
    }

    #[test]
    fn redacts_every_piece_of_eight_or_more() {
        let _watchdog = crate::test_watchdog::arm();
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

    /// The fast pass marks exactly the windows the obvious set-of-windows method marks.
    #[test]
    fn the_fast_pass_matches_the_obvious_method() {
        let _watchdog = crate::test_watchdog::arm();
        fn obvious(text: &str, secret: &str) -> Vec<bool> {
            let windows: std::collections::HashSet<&[u8]> =
                secret.as_bytes().windows(MIN_LEAK_CHARS).collect();
            let t = text.as_bytes();
            let mut covered = vec![false; t.len()];
            for i in 0..t.len().saturating_sub(MIN_LEAK_CHARS - 1) {
                if windows.contains(&t[i..i + MIN_LEAK_CHARS]) {
                    covered[i..i + MIN_LEAK_CHARS].fill(true);
                }
            }
            covered
        }
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let started = std::time::Instant::now();
        for round in 0..2_000 {
            if started.elapsed() > std::time::Duration::from_secs(5) {
                break;
            }
            // A small alphabet makes shared pieces common.
            let mut piece = |n: usize| -> String {
                (0..n)
                    .map(|_| b"ab.c"[(next() % 4) as usize] as char)
                    .collect()
            };
            let secret = piece(8 + round % 40);
            let text = format!(
                "{}{}{}",
                piece(round % 13),
                &secret[..8 + round % 5],
                piece(round % 29)
            );
            let (t, s) = (text.as_bytes(), secret.as_bytes());
            assert_eq!(cover_by_text_windows(t, s), cover_by_secret_windows(t, s));
            let redacted = redact_pieces(&text, &secret);
            let covered = obvious(&text, &secret);
            let kept: String = text
                .char_indices()
                .filter(|(i, _)| !covered[*i])
                .map(|(_, c)| c)
                .collect();
            assert_eq!(
                redacted.replace("<redacted>", ""),
                kept,
                "{text:?} / {secret:?}"
            );
            assert!(redacted.contains("<redacted>"), "{text:?} / {secret:?}");
        }
    }

    #[test]
    fn rejects_bad_tokens() {
        let _watchdog = crate::test_watchdog::arm();
        assert!(Token::new("").is_err());
        assert!(Token::new("a\nb").is_err());
        assert!(Token::new("x".repeat(MAX_TOKEN_BYTES + 1)).is_err());
        assert!(Token::new("x".repeat(MAX_TOKEN_BYTES)).is_ok());
    }
}
