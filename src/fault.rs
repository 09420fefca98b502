//! Test-only fault injection: with the `fault-injection` cargo feature (never enabled by release
//! builds), a test can arm a named point so that the next time a task passes it, the task panics.
//! Without the feature, [`fault_point!`] compiles to nothing.

#[cfg(feature = "fault-injection")]
mod armed {
    use std::sync::Mutex;

    /// A name armed to fire once, after letting `skip` passes through.
    type Armed = Mutex<Option<(String, u32)>>;

    /// The armed fault point.
    static POINT: Armed = Mutex::new(None);
    /// The task label armed by [`arm_poll`].
    static POLL: Armed = Mutex::new(None);

    fn arm_in(slot: &Armed, name: &str, skip: u32) {
        *crate::sync::lock(slot) = Some((name.to_owned(), skip));
    }

    /// Disarms `slot`; whether it had fired.
    fn disarm_in(slot: &Armed) -> bool {
        crate::sync::lock(slot).take().is_none()
    }

    /// One pass of `name` through `slot`: whether it fires now (then it is disarmed).
    fn pass(slot: &Armed, name: &str) -> bool {
        let mut armed = crate::sync::lock(slot);
        match armed.as_mut() {
            Some((armed_name, 0)) if armed_name == name => {
                *armed = None;
                true
            }
            Some((armed_name, skip)) if armed_name == name => {
                *skip -= 1;
                false
            }
            _ => false,
        }
    }

    /// Arms `point`: the pass number `skip + 1` through it panics (once), then it disarms.
    pub fn arm(point: &str, skip: u32) {
        arm_in(&POINT, point, skip);
    }

    /// Disarms every point; returns whether the armed one had fired.
    pub fn disarm() -> bool {
        disarm_in(&POINT)
    }

    /// Arms every await point of the tasks labelled `label` ("tracker", "check", "socket"):
    /// the poll number `skip + 1` of such a task (counted across them) panics, once.
    pub fn arm_poll(label: &str, skip: u32) {
        arm_in(&POLL, label, skip);
    }

    /// Disarms [`arm_poll`]; returns whether it had fired.
    pub fn disarm_poll() -> bool {
        disarm_in(&POLL)
    }

    /// Called by the supervisor before each poll of a task labelled `label`.
    pub fn hit_poll(label: &'static str) {
        if pass(&POLL, label) {
            panic!("fault injected at an await point of a {label} task");
        }
    }

    /// Called at each fault point.
    pub fn hit(point: &'static str) {
        if pass(&POINT, point) {
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
