//! Test-only fault injection: with the `fault-injection` cargo feature (never enabled by release
//! builds), a test can arm a named point so that the next time a task passes it, the task panics.
//! Without the feature, [`fault_point!`] compiles to nothing.

#[cfg(feature = "fault-injection")]
mod armed {
    use std::sync::Mutex;

    /// The armed point and how many passes to let through before it fires.
    static ARMED: Mutex<Option<(String, u32)>> = Mutex::new(None);

    /// Arms `point`: the pass number `skip + 1` through it panics (once), then it disarms.
    pub fn arm(point: &str, skip: u32) {
        *crate::sync::lock(&ARMED) = Some((point.to_owned(), skip));
    }

    /// Disarms every point; returns whether the armed one had fired.
    pub fn disarm() -> bool {
        crate::sync::lock(&ARMED).take().is_none()
    }

    /// The task label armed by [`arm_poll`] and how many of its polls to let through.
    static ARMED_POLL: Mutex<Option<(String, u32)>> = Mutex::new(None);

    /// Arms every await point of the tasks labelled `label` ("tracker", "check", "socket"):
    /// the poll number `skip + 1` of such a task (counted across them) panics, once.
    pub fn arm_poll(label: &str, skip: u32) {
        *crate::sync::lock(&ARMED_POLL) = Some((label.to_owned(), skip));
    }

    /// Disarms [`arm_poll`]; returns whether it had fired.
    pub fn disarm_poll() -> bool {
        crate::sync::lock(&ARMED_POLL).take().is_none()
    }

    /// Called by the supervisor before each poll of a task labelled `label`.
    pub fn hit_poll(label: &'static str) {
        let fire = {
            let mut armed = crate::sync::lock(&ARMED_POLL);
            match armed.as_mut() {
                Some((name, 0)) if name == label => {
                    *armed = None;
                    true
                }
                Some((name, skip)) if name == label => {
                    *skip -= 1;
                    false
                }
                _ => false,
            }
        };
        if fire {
            panic!("fault injected at an await point of a {label} task");
        }
    }

    /// Called at each fault point.
    pub fn hit(point: &'static str) {
        let fire = {
            let mut armed = crate::sync::lock(&ARMED);
            match armed.as_mut() {
                Some((name, 0)) if name == point => {
                    *armed = None;
                    true
                }
                Some((name, skip)) if name == point => {
                    *skip -= 1;
                    false
                }
                _ => false,
            }
        };
        if fire {
            panic!("fault injected at {point}");
        }
    }
}

#[cfg(feature = "fault-injection")]
pub use armed::{arm, arm_poll, disarm, disarm_poll, hit, hit_poll};

/// Every fault point in the library, for tests that visit each one.
pub const POINTS: &[&str] = &[
    "tracker.request",
    "tracker.fetched",
    "tracker.push",
    "tracker.timer",
    "check.request",
    "socket.connected",
    "socket.frame",
    "socket.reconnect",
    "dispatch.deliver",
];

/// Marks a place where a test may make the running task panic (`fault-injection` feature).
macro_rules! fault_point {
    ($name:literal) => {
        #[cfg(feature = "fault-injection")]
        $crate::fault::hit($name);
    };
}
pub(crate) use fault_point;
