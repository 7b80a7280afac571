//! What changed in Postgres, as every server process hears it: one `LISTEN` connection per
//! process (the triggers of migrations `..._change_notifications.sql` and
//! `..._cost_notifications.sql` send the `NOTIFY`s).
//!
//! It serves two things. Caches in front of Postgres (sessions, a user's access, team rows,
//! cost dashboards) forget an entry as soon as any process changes it, so a sign-out or a
//! disabled user takes effect at once on every replica. And workspace changes are fanned out to the open workspace pages
//! (server-sent events) of this process, so that no page polls.
//!
//! While the listening connection is down, notifications are lost: the caches are then
//! emptied and bypassed, and workspace subscribers are told to look again.

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;

const WORKSPACE: &str = "atrium_workspace";
const ACCESS: &str = "atrium_access";
const TEAMS: &str = "atrium_teams";
const SESSION: &str = "atrium_session";
const COSTS: &str = "atrium_costs";

/// How long a cached entry may be served at most, should a notification ever be missed.
const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_ENTRIES: u64 = 100_000;

/// Each user's access (roles, teams, disabled), as the request middleware reads it.
pub type AccessCache = LiveCache<String, Option<crate::repo::users::Access>>;

/// Team rows by slug (`None`: no such team).
pub type TeamCache = LiveCache<String, Option<crate::repo::teams::Team>>;

/// A change to a workspace: its id, or `None` for "any" (after notifications were lost).
pub type WorkspaceChanged = Option<Arc<str>>;

/// Cloned for every request: one `Arc` around what the process shares.
#[derive(Clone)]
pub struct Changes(Arc<ChangeState>);

pub struct ChangeState {
    listening: Arc<AtomicBool>,
    workspaces: broadcast::Sender<WorkspaceChanged>,
    pub sessions: LiveCache<String, tower_sessions::session::Record>,
    pub access: AccessCache,
    pub teams: TeamCache,
    /// The cost dashboard by range and length ("90:25"); it also shows estimates of running
    /// workspaces, which the TTL refreshes.
    pub costs: LiveCache<String, app::domain::costs::CostDashboard>,
    /// Each team's month against its budget, by team; it includes estimates of running
    /// workspaces, so any workspace change forgets it.
    pub team_months: LiveCache<String, app::domain::costs::MonthBudget>,
    /// What each user's workspaces on a team cost ("team/user"); a workspace change may
    /// rename one.
    pub my_spend: LiveCache<String, app::domain::costs::MySpend>,
}

impl std::ops::Deref for Changes {
    type Target = ChangeState;

    fn deref(&self) -> &ChangeState {
        &self.0
    }
}

impl Default for Changes {
    fn default() -> Self {
        Self::new()
    }
}

impl Changes {
    /// Not listening yet: caches are bypassed until `listen` connects.
    pub fn new() -> Self {
        let listening = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let (workspaces, _) = broadcast::channel(1024);
        Changes(Arc::new(ChangeState {
            sessions: LiveCache::new(listening.clone(), generation.clone()),
            access: LiveCache::new(listening.clone(), generation.clone()),
            costs: LiveCache::new(listening.clone(), generation.clone()),
            team_months: LiveCache::new(listening.clone(), generation.clone()),
            my_spend: LiveCache::new(listening.clone(), generation.clone()),
            teams: LiveCache::new(listening.clone(), generation.clone()),
            listening,
            workspaces,
        }))
    }

    /// Workspace changes from now on, made by any process.
    pub fn subscribe_workspaces(&self) -> broadcast::Receiver<WorkspaceChanged> {
        self.workspaces.subscribe()
    }

    /// Listens until the process ends, reconnecting after a lost connection.
    pub async fn listen(self, db: PgPool) {
        loop {
            match self.listen_once(&db).await {
                Ok(()) => tracing::warn!("The LISTEN connection was lost; reconnecting"),
                Err(error) => tracing::warn!(%error, "Failed to LISTEN for changes; retrying"),
            }
            self.forget_everything();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn listen_once(&self, db: &PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(db).await?;
        listener.listen_all([WORKSPACE, ACCESS, TEAMS, SESSION, COSTS]).await?;
        // Whatever was cached before this point may have missed a change.
        self.forget_everything();
        self.listening.store(true, Ordering::Release);
        // `try_recv` answers None when the connection drops (what was sent meanwhile is lost).
        while let Some(notification) = listener.try_recv().await? {
            self.apply(notification.channel(), notification.payload());
        }
        Ok(())
    }

    fn apply(&self, channel: &str, payload: &str) {
        match channel {
            WORKSPACE => {
                // The dashboard's estimates of running workspaces wait for its TTL.
                self.team_months.forget_all();
                self.my_spend.forget_all();
                // No subscribers is not an error.
                let _ = self.workspaces.send(Some(Arc::from(payload)));
            }
            ACCESS => self.access.forget(payload),
            // A team archived leaves its members' access; its name is on the cost page.
            TEAMS => {
                self.teams.forget_all();
                self.access.forget_all();
                self.forget_spend();
            }
            COSTS => self.forget_spend(),
            SESSION => self.sessions.forget(payload),
            other => tracing::debug!(channel = other, "Ignoring a notification"),
        }
    }

    fn forget_everything(&self) {
        self.listening.store(false, Ordering::Release);
        self.sessions.forget_all();
        self.access.forget_all();
        self.teams.forget_all();
        self.forget_spend();
        let _ = self.workspaces.send(None);
    }

    fn forget_spend(&self) {
        self.costs.forget_all();
        self.team_months.forget_all();
        self.my_spend.forget_all();
    }
}

/// A cache that serves only while its process listens for changes, and forgets an entry as
/// soon as a notification names it.
#[derive(Clone)]
pub struct LiveCache<K, V> {
    cache: moka::sync::Cache<K, V>,
    listening: Arc<AtomicBool>,
    /// Shared by all the caches and bumped by every invalidation: a value read from Postgres
    /// is cached only if nothing was invalidated while it was being read (it might be older
    /// than the change).
    generation: Arc<AtomicU64>,
}

impl<K, V> LiveCache<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static + std::borrow::Borrow<str>,
    V: Clone + Send + Sync + 'static,
{
    fn new(listening: Arc<AtomicBool>, generation: Arc<AtomicU64>) -> Self {
        let cache = moka::sync::Cache::builder().max_capacity(CACHE_ENTRIES).time_to_live(CACHE_TTL).build();
        LiveCache { cache, listening, generation }
    }

    fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<V> {
        if self.listening() { self.cache.get(key) } else { None }
    }

    /// The cached value, or `load`'s, cached unless something changed while it was loading.
    pub async fn get_or_load<E, F>(&self, key: &str, load: F) -> Result<V, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
        K: From<String>,
    {
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        let before = self.generation.load(Ordering::Acquire);
        let value = load.await?;
        if self.listening() && self.generation.load(Ordering::Acquire) == before {
            self.cache.insert(K::from(key.to_owned()), value.clone());
        }
        Ok(value)
    }

    /// Caches what this process itself just wrote.
    pub fn put(&self, key: K, value: V) {
        if self.listening() {
            self.cache.insert(key, value);
        }
    }

    pub fn forget(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate(key);
    }

    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caches_only_while_listening_and_forgets_what_is_named() {
        let changes = Changes::new();
        let cache = &changes.access;
        let loaded = cache.get_or_load::<(), _>("ada", async { Ok(None) }).await;
        assert_eq!(loaded, Ok(None));
        assert!(cache.get("ada").is_none(), "not listening: nothing is cached");

        changes.listening.store(true, Ordering::Release);
        cache.get_or_load::<(), _>("ada", async { Ok(None) }).await.ok();
        assert_eq!(cache.get("ada"), Some(None));
        changes.apply(ACCESS, "ada");
        assert!(cache.get("ada").is_none(), "a notification naming ada forgets her");

        cache.put("gus".to_owned(), None);
        changes.apply(TEAMS, "");
        assert!(cache.get("gus").is_none(), "a team change forgets everyone's access");
    }

    #[tokio::test]
    async fn a_value_read_while_something_changed_is_not_cached() {
        let changes = Changes::new();
        changes.listening.store(true, Ordering::Release);
        let cache = changes.access.clone();
        let racing = changes.clone();
        let value = cache
            .get_or_load::<(), _>("ada", async move {
                // A change lands while the old value is on its way from Postgres.
                racing.apply(ACCESS, "ada");
                Ok(None)
            })
            .await;
        assert_eq!(value, Ok(None));
        assert!(cache.get("ada").is_none());
    }
}
