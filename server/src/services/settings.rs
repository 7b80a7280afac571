//! Each user's own settings, kept on their `users` row.

use super::database_error;
use crate::repo::{audit, users};
use app::domain::settings::{SignOutStop, UserSettings};
use app::domain::CurrentUser;
use app::error::AppError;
use app::services::SettingsService;
use sqlx::PgPool;

pub struct UserPreferences {
    db: PgPool,
}

impl UserPreferences {
    pub fn new(db: PgPool) -> Self {
        UserPreferences { db }
    }
}

#[async_trait::async_trait]
impl SettingsService for UserPreferences {
    async fn settings(&self, user: &CurrentUser) -> Result<UserSettings, AppError> {
        let stored = users::stop_on_sign_out(&self.db, user.username.as_str()).await.map_err(database_error)?;
        Ok(UserSettings { stop_on_sign_out: SignOutStop::from_stored(stored) })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn save(&self, user: &CurrentUser, stop_on_sign_out: &str) -> Result<UserSettings, AppError> {
        let choice = SignOutStop::parse(stop_on_sign_out).ok_or_else(|| AppError::invalid("stop_on_sign_out", "Choose one of the three options."))?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::set_stop_on_sign_out(&mut *tx, user.username.as_str(), choice.stored()).await.map_err(database_error)?;
        audit::record(&mut *tx, &audit::Entry::by(user, "settings.save").object("user", user.username.as_str()).detail(choice.as_str()))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(UserSettings { stop_on_sign_out: choice })
    }
}
