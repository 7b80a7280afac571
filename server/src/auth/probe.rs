//! A health probe that asks an outside service at most once per interval, however often it
//! is asked itself: `/healthz` may be polled hard, and a probe must not become traffic.

use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub struct Probe {
    every: Duration,
    /// The last answer: when, and whether the service answered.
    last: Mutex<Option<(Instant, bool)>>,
}

impl Probe {
    pub fn every(every: Duration) -> Self {
        Probe { every, last: Mutex::new(None) }
    }

    /// The last answer while it is recent, else `check`'s (one check at a time).
    pub async fn answer(&self, check: impl Future<Output = bool>) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, ok)) = *last
            && at.elapsed() < self.every
        {
            return ok;
        }
        let ok = check.await;
        *last = Some((Instant::now(), ok));
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recent_answer_is_reused_and_an_old_one_asked_again() {
        let probe = Probe::every(Duration::from_millis(50));
        assert!(probe.answer(async { true }).await);
        assert!(probe.answer(async { false }).await, "the first answer is still recent");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!probe.answer(async { false }).await, "asked again once it is old");
    }
}
