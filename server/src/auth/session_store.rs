//! tower-sessions' Postgres store, plus a note of which signed-in session belongs to whom, so
//! that disabling a user deletes every session of theirs at once, and an in-process cache of
//! sessions that every process empties of a session changed anywhere (`crate::changes`).

use super::session::USER;
use crate::changes::LiveCache;
use crate::repo::sessions;
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::PostgresStore;

#[derive(Clone)]
pub struct IndexedSessionStore {
    inner: PostgresStore,
    db: PgPool,
    cache: Option<LiveCache<String, Record>>,
}

impl std::fmt::Debug for IndexedSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedSessionStore").finish_non_exhaustive()
    }
}

impl IndexedSessionStore {
    pub fn new(db: PgPool) -> Self {
        IndexedSessionStore { inner: PostgresStore::new(db.clone()), db, cache: None }
    }

    /// With sessions cached in this process (forgotten when any process changes them).
    pub fn cached(db: PgPool, cache: LiveCache<String, Record>) -> Self {
        IndexedSessionStore { cache: Some(cache), ..Self::new(db) }
    }

    fn remember(&self, record: &Record) {
        if let Some(cache) = &self.cache {
            cache.put(record.id.to_string(), record.clone());
        }
    }

    /// Notes (or forgets, for a session nobody is signed in to) whose session this is.
    async fn index(&self, record: &Record) -> session_store::Result<()> {
        let owner = record.data.get(USER).and_then(|user| user.get("username")).and_then(|name| name.as_str());
        let id = record.id.to_string();
        let noted = match owner {
            Some(username) => sessions::note_owner(&self.db, &id, username, record.expiry_date).await,
            None => sessions::forget(&self.db, &id).await,
        };
        noted.map_err(backend)
    }
}

fn backend(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait::async_trait]
impl SessionStore for IndexedSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.index(record).await?;
        self.remember(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner.save(record).await?;
        self.index(record).await?;
        self.remember(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(cache) = &self.cache else { return self.inner.load(id).await };
        let key = id.to_string();
        if let Some(record) = cache.get(&key) {
            if record.expiry_date > time::OffsetDateTime::now_utc() {
                return Ok(Some(record));
            }
            cache.forget(&key);
        }
        // Only sessions that exist are cached.
        enum Miss {
            Absent,
            Store(session_store::Error),
        }
        let loaded = cache.get_or_load(&key, async { self.inner.load(id).await.map_err(Miss::Store)?.ok_or(Miss::Absent) });
        match loaded.await {
            Ok(record) => Ok(Some(record)),
            Err(Miss::Absent) => Ok(None),
            Err(Miss::Store(error)) => Err(error),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        if let Some(cache) = &self.cache {
            cache.forget(&id.to_string());
        }
        self.inner.delete(id).await?;
        sessions::forget(&self.db, &id.to_string()).await.map_err(backend)
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for IndexedSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.inner.delete_expired().await?;
        sessions::forget_expired(&self.db).await.map_err(backend)
    }
}
