//! Each user's own settings, kept on their `users` row.

use super::database_error;
use crate::repo::{audit, users};
use app::domain::CurrentUser;
use app::domain::settings::{SettingsForm, SignOutStop, UserSettings};
use app::error::AppError;
use app::features::account::SettingsService;
use sqlx::PgPool;

pub struct UserPreferences {
    db: PgPool,
}

impl UserPreferences {
    pub fn new(db: PgPool) -> Self {
        UserPreferences { db }
    }
}

fn settings_from(preferences: users::Preferences) -> UserSettings {
    let [mail_workspace, mail_health, mail_budget] = preferences.mail;
    UserSettings {
        stop_on_sign_out: SignOutStop::from_stored(preferences.stop_on_sign_out),
        mail_workspace,
        mail_health,
        mail_budget,
        email: preferences.email,
    }
}

#[async_trait::async_trait]
impl SettingsService for UserPreferences {
    #[tracing::instrument(skip_all)]
    async fn settings(&self, user: &CurrentUser) -> Result<UserSettings, AppError> {
        Ok(settings_from(users::preferences(&self.db, user.username.as_str()).await.map_err(database_error)?))
    }

    #[tracing::instrument(skip(self, user, form), fields(username = %user.username))]
    async fn save(&self, user: &CurrentUser, form: SettingsForm) -> Result<UserSettings, AppError> {
        let choice = SignOutStop::parse(&form.stop_on_sign_out)
            .ok_or_else(|| AppError::invalid("stop_on_sign_out", "Choose one of the three options."))?;
        let checked = |raw: &str| !raw.trim().is_empty();
        let mail = [checked(&form.mail_workspace), checked(&form.mail_health), checked(&form.mail_budget)];
        let name = user.username.as_str();
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::set_preferences(&mut *tx, name, choice.stored(), mail).await.map_err(database_error)?;
        let detail = format!("stop on sign-out: {}; mail (workspace, health, budget): {mail:?}", choice.as_str());
        audit::record(&mut *tx, &audit::Entry::by(user, "settings.save").object("user", name).detail(&detail))
            .await
            .map_err(database_error)?;
        let saved = users::preferences(&mut *tx, name).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(settings_from(saved))
    }
}
