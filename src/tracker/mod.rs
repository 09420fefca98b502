//! One tracked order: the decisions ([`machine`], sans-IO and pure) and the async driver that
//! carries them out ([`track`]), plus the one-shot check ([`check`]).

mod check;
mod driver;
pub mod machine;

pub use check::{check, check_retry_delay, CHECK_RETRIES};
pub use driver::track;
