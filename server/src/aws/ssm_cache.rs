//! Team metadata and profiles change a few times a year but are read on every team page: an
//! in-process cache in front of Parameter Store. A path is fetched at most once per TTL however
//! many pages ask (one fetch at a time per path); once the TTL passes, the stale value is served
//! at once while one background fetch refreshes it, and it keeps being served if SSM is down.

use super::ssm::{ParameterStore, ParameterStoreError};
use super::team_role::TeamRole;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Parameters = Vec<(String, String)>;

#[derive(Default)]
struct Entry {
    value: Mutex<Option<(Instant, Parameters)>>,
    /// Held by whoever fetches the path, so that only one fetch runs at a time.
    fetching: Arc<tokio::sync::Mutex<()>>,
    /// Whether the last refresh failed: the value served is then an old one.
    refresh_failed: std::sync::atomic::AtomicBool,
}

impl Entry {
    fn cached(&self) -> Option<(Instant, Parameters)> {
        self.value.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn store(&self, parameters: Parameters) {
        *self.value.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((Instant::now(), parameters));
    }
}

pub struct CachedParameterStore {
    inner: Arc<dyn ParameterStore>,
    ttl: Duration,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl CachedParameterStore {
    pub fn new(inner: Arc<dyn ParameterStore>, ttl: Duration) -> Arc<Self> {
        Arc::new(CachedParameterStore { inner, ttl, entries: Mutex::new(HashMap::new()) })
    }

    fn entry(&self, path: &str) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.entry(path.to_owned()).or_default().clone()
    }
}

#[async_trait::async_trait]
impl ParameterStore for CachedParameterStore {
    async fn parameters_under(&self, team: &TeamRole, path: &str) -> Result<Parameters, ParameterStoreError> {
        Ok(self.parameters_with_age(team, path).await?.0)
    }

    async fn parameters_with_age(&self, team: &TeamRole, path: &str) -> Result<(Parameters, Option<Duration>), ParameterStoreError> {
        let entry = self.entry(&format!("{}\n{path}", team.arn));
        if let Some((fetched_at, parameters)) = entry.cached() {
            // Old when the last refresh failed: said with its age.
            let age = entry.refresh_failed.load(Ordering::Acquire).then(|| fetched_at.elapsed());
            if fetched_at.elapsed() >= self.ttl {
                // Stale: refresh in the background unless a refresh is under way; serve this.
                if let Ok(guard) = entry.fetching.clone().try_lock_owned() {
                    let (inner, entry, team, path) = (self.inner.clone(), entry.clone(), team.clone(), path.to_owned());
                    tokio::spawn(async move {
                        let _fetching = guard;
                        match inner.parameters_under(&team, &path).await {
                            Ok(fresh) => {
                                entry.store(fresh);
                                entry.refresh_failed.store(false, Ordering::Release);
                            }
                            Err(error) => {
                                tracing::warn!(%path, %error, "Parameter Store refresh failed; serving the last value");
                                entry.refresh_failed.store(true, Ordering::Release);
                            }
                        }
                    });
                }
            }
            return Ok((parameters, age));
        }
        // Nothing cached yet: one fetch, which everyone else waiting on this path then shares.
        let _fetching = entry.fetching.lock().await;
        if let Some((_, parameters)) = entry.cached() {
            return Ok((parameters, None));
        }
        let parameters = self.inner.parameters_under(team, path).await?;
        entry.store(parameters.clone());
        Ok((parameters, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn team() -> TeamRole {
        TeamRole::new("arn:aws:iam::111111111111:role/AtriumPortalAccess", "an-external-id")
    }

    /// Counts calls; answers `version` (or fails when `down`), after a little while.
    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
        version: AtomicUsize,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl ParameterStore for Counting {
        async fn parameters_under(&self, _team: &TeamRole, _path: &str) -> Result<Parameters, ParameterStoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.down.load(Ordering::SeqCst) {
                return Err(ParameterStoreError::Unavailable(anyhow::anyhow!("down")));
            }
            Ok(vec![("links".into(), self.version.load(Ordering::SeqCst).to_string())])
        }
    }

    #[tokio::test]
    async fn many_readers_at_once_cost_one_fetch() {
        let ssm = Arc::new(Counting::default());
        let cache = CachedParameterStore::new(ssm.clone(), Duration::from_secs(60));
        let genomics = team();
        let reads = (0..50).map(|_| cache.parameters_under(&genomics, "/atrium/teams/genomics"));
        for read in futures::future::join_all(reads).await {
            assert_eq!(read.expect("read")[0].1, "0");
        }
        assert_eq!(ssm.calls.load(Ordering::SeqCst), 1);
        cache.parameters_under(&team(), "/atrium/teams/climate").await.expect("another path");
        assert_eq!(ssm.calls.load(Ordering::SeqCst), 2, "each path its own");
    }

    #[tokio::test]
    async fn a_stale_value_is_served_at_once_and_refreshed_in_the_background() {
        let ssm = Arc::new(Counting::default());
        let cache = CachedParameterStore::new(ssm.clone(), Duration::from_millis(50));
        cache.parameters_under(&team(), "/p").await.expect("first read");
        ssm.version.store(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(cache.parameters_under(&team(), "/p").await.expect("stale")[0].1, "0", "served stale, not waited for");
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(cache.parameters_under(&team(), "/p").await.expect("fresh")[0].1, "1", "refreshed behind the scenes");
        assert_eq!(ssm.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_outage_keeps_the_last_value_and_a_first_read_reports_it() {
        let ssm = Arc::new(Counting::default());
        let cache = CachedParameterStore::new(ssm.clone(), Duration::from_millis(10));
        cache.parameters_under(&team(), "/p").await.expect("first read");
        ssm.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        for _ in 0..3 {
            assert_eq!(cache.parameters_under(&team(), "/p").await.expect("last known")[0].1, "0");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert!(matches!(cache.parameters_under(&team(), "/q").await, Err(ParameterStoreError::Unavailable(_))), "nothing to fall back on");
        let (_, age) = cache.parameters_with_age(&team(), "/p").await.expect("last known");
        assert!(age.is_some_and(|age| age >= Duration::from_millis(90)), "said to be old: {age:?}");
        ssm.down.store(false, Ordering::SeqCst);
        cache.parameters_under(&team(), "/p").await.expect("refreshes in the background");
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(cache.parameters_with_age(&team(), "/p").await.expect("fresh").1, None, "fresh again once SSM answers");
    }
}
