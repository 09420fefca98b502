//! A token that can never leak into logs, errors or panics.

use std::fmt;

/// A user JWT or Pay Station token. `Debug` and `Display` print `<redacted>`; the only way to read
/// it is [`Token::expose`], used where the token goes on the wire.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Token(String);

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

    /// `text` (from a server) with every occurrence of this token replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "<redacted>")
    }
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
