//! Upgrade and resize in place: a running workspace moved to a newer approved version of its
//! product, or to another size its configuration lists, by UpdateProvisionedProduct. The
//! change waits in `pending_update` until AWS has made it (the worker applies it then), so a
//! failed update leaves the workspace on its old version and size.

use super::database_error;
use super::workspaces::{BudgetCheck, check_budget, invalid, queue_work};
use crate::repo::workspaces::{self, PendingUpdate, TransitionError};
use crate::repo::{audit, configurations, teams, workspace_types};
use app::domain::CurrentUser;
use app::domain::parameters::validate_parameters;
use app::domain::workspace::{WorkspaceState, WorkspaceView};
use app::domain::workspace_types::TypeStatus;
use app::error::AppError;
use sqlx::PgPool;

/// Only a running workspace is updated: Service Catalog stops and starts what the change
/// needs (CloudFormation replaces or restarts an instance for a new type), and the worker
/// brings it back to `available` whatever AWS answers.
fn require_running(view: &WorkspaceView, what: &str) -> Result<(), AppError> {
    match view.state {
        WorkspaceState::Available => Ok(()),
        WorkspaceState::Stopped => Err(AppError::BadRequest(format!("Start the workspace first: it is {what} while it runs."))),
        state => Err(AppError::BadRequest(format!("The workspace is {state}: it can be {what} once it is available."))),
    }
}

/// Moves the workspace to a newer approved version of its product, keeping its parameter
/// values where the new version has them and taking its configuration's for new ones.
#[tracing::instrument(skip_all)]
pub async fn upgrade(db: &PgPool, user: &CurrentUser, view: WorkspaceView, to_type_id: i64) -> Result<(), AppError> {
    require_running(&view, "upgraded")?;
    let inputs = workspaces::update_inputs(db, &view.id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
    let current = workspace_types::find(db, inputs.type_id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
    let target =
        workspace_types::find(db, to_type_id).await.map_err(database_error)?.ok_or_else(|| AppError::NotFound("That version".into()))?;
    let label = |t: &app::domain::workspace_types::WorkspaceType| format!("{} {}", t.product_name, t.version_name);
    if target.product_id != current.product_id {
        return Err(invalid("version", format!("{} is not a version of {}.", label(&target), current.product_name)));
    }
    if target.id == current.id {
        return Err(invalid("version", format!("The workspace runs {} already.", label(&target))));
    }
    if target.status != TypeStatus::Approved {
        return Err(invalid(
            "version",
            format!("{} is {}: only an approved version can be upgraded to.", label(&target), target.status.as_str()),
        ));
    }
    let configuration = configurations::find(db, inputs.configuration_id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
    let parameters = target
        .parameters
        .iter()
        .filter_map(|spec| {
            let value = inputs.parameters.get(&spec.key).or_else(|| configuration.draft.parameter_values.get(&spec.key))?;
            Some((spec.key.clone(), value.clone()))
        })
        .collect();
    if let Err(problems) = validate_parameters(&target.parameters, &parameters) {
        let problem = problems.into_iter().map(|p| format!("{}: {}", p.key, p.message)).collect::<Vec<_>>().join("; ");
        return Err(invalid(
            "version",
            format!("{} does not take this workspace's values ({problem}); ask an administrator.", label(&target)),
        ));
    }
    let update = PendingUpdate {
        description: format!("upgraded from {} to {}", label(&current), label(&target)),
        type_id: target.id,
        version_id: target.version_id.clone(),
        parameters,
        hourly_cost_cents: None,
    };
    begin(db, user, &view, &update, "workspace.upgrade").await
}

/// Changes the workspace's size to one its configuration lists; the team's budget must hold
/// the new hourly estimate to the end of the month, as at launch.
#[tracing::instrument(skip_all)]
pub async fn resize(db: &PgPool, user: &CurrentUser, view: WorkspaceView, size: &str) -> Result<(), AppError> {
    require_running(&view, "resized")?;
    let inputs = workspaces::update_inputs(db, &view.id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
    let configuration = configurations::find(db, inputs.configuration_id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
    let Some(sizes) = configuration.draft.sizes.as_ref() else {
        return Err(invalid("size", format!("{} has no other sizes.", configuration.draft.name)));
    };
    let Some(option) = sizes.option(size.trim()) else {
        let offered = sizes.options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>().join(", ");
        return Err(invalid(
            "size",
            format!("\"{}\" is not a size of {}: choose one of {offered}.", size.trim(), configuration.draft.name),
        ));
    };
    if view.size.as_deref() == Some(option.value.as_str()) {
        return Err(invalid("size", format!("The workspace is {} already.", option.value)));
    }
    // A smaller (or same-priced) size needs no room in the budget.
    let more_per_hour = option.estimated_hourly_cost_cents.saturating_sub(view.estimated_hourly_cost_cents);
    if more_per_hour > 0 {
        let team = teams::find(db, &view.team).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let mut conn = db.acquire().await.map_err(database_error)?;
        if let BudgetCheck::Refused(message) = check_budget(&mut conn, user, &team, more_per_hour, false).await.map_err(database_error)? {
            return Err(AppError::BadRequest(format!("{message} Choose a smaller size.")));
        }
    }
    let mut parameters = inputs.parameters;
    parameters.insert(sizes.parameter.clone(), option.value.clone());
    let update = PendingUpdate {
        description: format!("resized from {} to {}", view.size.as_deref().unwrap_or("its first size"), option.value),
        type_id: inputs.type_id,
        version_id: inputs.version_id,
        parameters,
        hourly_cost_cents: Some(option.estimated_hourly_cost_cents),
    };
    begin(db, user, &view, &update, "workspace.resize").await
}

/// `updating`, the worker's job and the audit row, together.
#[tracing::instrument(skip_all)]
async fn begin(db: &PgPool, user: &CurrentUser, view: &WorkspaceView, update: &PendingUpdate, action: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await.map_err(database_error)?;
    let message = format!("Requested by {}: to be {}", user.username, update.description);
    match workspaces::begin_update(&mut tx, &view.id, update, &message).await {
        Ok(()) => {}
        Err(TransitionError::Database(e)) => return Err(database_error(e)),
        Err(_) => return Err(AppError::BadRequest("The workspace changed just now; look again and retry.".into())),
    }
    queue_work(&mut tx, &view.id).await.map_err(database_error)?;
    let detail = format!("{}: {}", view.name, update.description);
    audit::record(&mut *tx, &audit::Entry::by(user, action).object("workspace", &view.id).team(view.team.as_str()).detail(&detail))
        .await
        .map_err(database_error)?;
    tx.commit().await.map_err(database_error)
}
