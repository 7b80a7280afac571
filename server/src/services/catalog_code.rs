//! The catalog as code: export the approved types and their configurations as one YAML file,
//! and apply a file: the changes it makes (added, changed field by field, retired), then,
//! unless it is a dry run, exactly those changes in one transaction, audited as one change set.
//! Applying the same file twice changes nothing the second time.

use super::catalog::catalog_error;
use super::database_error;
use crate::aws::service_catalog::{ServiceCatalog, VersionDetails};
use crate::catalog_file::{self, CatalogFile, ConfigurationEntry, Lines, TypeEntry};
use crate::repo::workspace_types::NewWorkspaceType;
use crate::repo::{audit, configurations, teams, workspace_types};
use app::caller::must_be_admin;
use app::domain::CurrentUser;
use app::domain::configurations::{Configuration, ConfigurationDraft};
use app::domain::parameters::ParameterSpec;
use app::domain::workspace_types::{TypeStatus, WorkspaceType};
use app::error::AppError;
use app::error::FieldError;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What applying a file does (or did).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeSet {
    /// False for a dry run, or when there was nothing to change.
    pub applied: bool,
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// `add`, `change` or `retire`.
    pub action: String,
    /// `type` or `configuration`.
    pub kind: String,
    /// "Linux workstation (EC2) v2", or the configuration's name.
    pub name: String,
    /// For `change`: each field that differs.
    pub fields: Vec<FieldChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// One thing to do, once the whole file checked out.
enum Step {
    Import { key: TypeKey, product_id: String, version_id: String, details: VersionDetails },
    SetStatus { type_id: i64, from: TypeStatus, to: TypeStatus },
    AddConfiguration { type_key: TypeKey, draft: ConfigurationDraft },
    UpdateConfiguration { id: i64, type_key: TypeKey, draft: ConfigurationDraft },
    RetireConfiguration { id: i64 },
}

/// A type as the file names it: (product name, version name).
type TypeKey = (String, String);

fn key(product: &str, version: &str) -> TypeKey {
    (product.to_owned(), version.to_owned())
}

pub struct CatalogCode {
    db: PgPool,
    catalog: Arc<dyn ServiceCatalog>,
}

fn label(product: &str, version: &str) -> String {
    format!("{product} {version}")
}

/// The form's field names as the file writes them.
fn file_field(form_field: &str) -> String {
    match form_field.strip_prefix("idle_") {
        Some(idle) => format!("idle.{idle}"),
        None => form_field.to_owned(),
    }
}

impl CatalogCode {
    pub fn new(db: PgPool, catalog: Arc<dyn ServiceCatalog>) -> Self {
        CatalogCode { db, catalog }
    }

    /// The approved types and their configurations, as a file `apply` takes back unchanged.
    #[tracing::instrument(skip_all)]
    pub async fn export(&self, admin: &CurrentUser) -> Result<String, AppError> {
        must_be_admin(admin)?;
        let types = workspace_types::list(&self.db).await.map_err(database_error)?;
        let configurations = configurations::list(&self.db).await.map_err(database_error)?;
        let file = CatalogFile {
            types: types
                .iter()
                .filter(|t| t.status == TypeStatus::Approved)
                .map(|t| TypeEntry {
                    product: t.product_name.clone(),
                    version: t.version_name.clone(),
                    configurations: configurations
                        .iter()
                        .filter(|c| c.workspace_type_id == t.id)
                        .map(ConfigurationEntry::from_configuration)
                        .collect(),
                })
                .collect(),
        };
        let header = "# The Atrium catalog: approved workspace types (Service Catalog product versions) and their\n\
                      # configurations. Types and configurations left out are retired when this file is applied.\n\
                      # Preview with `atrium catalog apply FILE --dry-run`, then apply without it.\n";
        Ok(catalog_file::to_yaml(&file, header))
    }

    /// The changes `text` makes, made (in one transaction) unless `dry_run`.
    #[tracing::instrument(skip(self, admin, text), fields(admin = %admin.username))]
    pub async fn apply(&self, admin: &CurrentUser, text: &str, dry_run: bool) -> Result<ChangeSet, AppError> {
        must_be_admin(admin)?;
        let (file, lines) = catalog_file::parse(text).map_err(AppError::Invalid)?;
        duplicates(&file, &lines)?;
        // Versions not imported yet are looked up in Service Catalog before the transaction.
        let known = workspace_types::list(&self.db).await.map_err(database_error)?;
        let lookups = self.look_up_new_versions(&file, &known, &lines).await?;

        let mut tx = self.db.begin().await.map_err(database_error)?;
        // One apply at a time: each plans against what the one before it left.
        workspace_types::lock_catalog(&mut *tx).await.map_err(database_error)?;
        let types = workspace_types::list(&mut *tx).await.map_err(database_error)?;
        let existing = configurations::list_with_retired(&mut *tx).await.map_err(database_error)?;
        let team_slugs: BTreeSet<String> =
            teams::list_all(&mut *tx).await.map_err(database_error)?.iter().map(|t| t.slug.to_string()).collect();
        let (changes, steps) = plan(&file, &lines, &types, &existing, &team_slugs, lookups)?;
        if dry_run || changes.is_empty() {
            return Ok(ChangeSet { applied: false, changes });
        }

        let mut type_ids: BTreeMap<TypeKey, i64> = types.iter().map(|t| (key(&t.product_name, &t.version_name), t.id)).collect();
        let by = admin.username.as_str();
        for step in steps {
            match step {
                Step::Import { key, product_id, version_id, details } => {
                    let imported = workspace_types::import(
                        &mut *tx,
                        &NewWorkspaceType {
                            product_id: &product_id,
                            product_name: &details.product.name,
                            version_id: &version_id,
                            version_name: &details.version.name,
                            description: &details.version.description,
                            parameters: &details.parameters,
                            has_stop_start: details.has_stop_start,
                            imported_by: by,
                        },
                    )
                    .await
                    .map_err(database_error)?;
                    if imported.status != TypeStatus::Approved {
                        workspace_types::change_status(&mut *tx, imported.id, imported.status, TypeStatus::Approved)
                            .await
                            .map_err(database_error)?;
                    }
                    type_ids.insert(key, imported.id);
                }
                Step::SetStatus { type_id, from, to } => {
                    workspace_types::change_status(&mut *tx, type_id, from, to)
                        .await
                        .map_err(database_error)?
                        .ok_or_else(|| AppError::Conflict("A workspace type changed during the apply; run it again.".into()))?;
                }
                Step::AddConfiguration { type_key, draft } => {
                    let type_id = *type_ids.get(&type_key).ok_or(AppError::Internal)?;
                    configurations::insert(&mut *tx, type_id, &draft, by).await.map_err(|error| match error {
                        configurations::SaveError::NameTaken => {
                            AppError::Conflict(format!("\"{}\" was created meanwhile; run the apply again.", draft.name))
                        }
                        configurations::SaveError::Database(e) => database_error(e),
                    })?;
                }
                Step::UpdateConfiguration { id, type_key, draft } => {
                    let type_id = *type_ids.get(&type_key).ok_or(AppError::Internal)?;
                    configurations::update(&mut *tx, id, type_id, &draft).await.map_err(database_error)?;
                }
                Step::RetireConfiguration { id } => configurations::retire(&mut *tx, id).await.map_err(database_error)?,
            }
        }
        let summary = summarise(&changes);
        audit::record(&mut *tx, &audit::Entry::by(admin, "catalog.apply").object("catalog", "file").detail(&summary))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        tracing::info!(changes = changes.len(), "Applied a catalog file");
        Ok(ChangeSet { applied: true, changes })
    }

    /// Service Catalog's product and version ids, and the version's details, for each type of
    /// the file not imported yet.
    #[tracing::instrument(skip_all)]
    async fn look_up_new_versions(
        &self,
        file: &CatalogFile,
        known: &[WorkspaceType],
        lines: &Lines,
    ) -> Result<BTreeMap<TypeKey, (String, String, VersionDetails)>, AppError> {
        let missing: Vec<(usize, &TypeEntry)> = file
            .types
            .iter()
            .enumerate()
            .filter(|(_, t)| !known.iter().any(|k| k.product_name == t.product && k.version_name == t.version))
            .collect();
        let mut found = BTreeMap::new();
        if missing.is_empty() {
            return Ok(found);
        }
        let products = self.catalog.products().await.map_err(catalog_error)?;
        let mut errors = Vec::new();
        for (i, entry) in missing {
            let Some(product) = products.iter().find(|p| p.name == entry.product) else {
                errors.push(
                    lines.error(&format!("types[{i}].product"), &format!("Service Catalog has no product named \"{}\".", entry.product)),
                );
                continue;
            };
            let Some(version) = product.versions.iter().find(|v| v.name == entry.version) else {
                let versions: Vec<&str> = product.versions.iter().map(|v| v.name.as_str()).collect();
                errors.push(lines.error(
                    &format!("types[{i}].version"),
                    &format!("{} has no version \"{}\"; it has {}.", product.name, entry.version, versions.join(", ")),
                ));
                continue;
            };
            // Imported before under names Service Catalog has changed since: the file must use
            // the names Atrium knows it by (importing again would find the same type).
            if let Some(imported) = known.iter().find(|k| k.product_id == product.id && k.version_id == version.id) {
                let known_as = label(&imported.product_name, &imported.version_name);
                errors.push(
                    lines.error(&format!("types[{i}].product"), &format!("This version is imported as \"{known_as}\"; use that name.")),
                );
                continue;
            }
            let details = self.catalog.version_details(&product.id, &version.id).await.map_err(catalog_error)?;
            found.insert(key(&entry.product, &entry.version), (product.id.clone(), version.id.clone(), details));
        }
        if errors.is_empty() { Ok(found) } else { Err(AppError::Invalid(errors)) }
    }
}

/// A type or a configuration named twice.
fn duplicates(file: &CatalogFile, lines: &Lines) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut types = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, t) in file.types.iter().enumerate() {
        if !types.insert(key(&t.product, &t.version)) {
            errors.push(lines.error(&format!("types[{i}].version"), &format!("{} is listed twice.", label(&t.product, &t.version))));
        }
        for (j, c) in t.configurations.iter().enumerate() {
            if !names.insert(c.name.trim().to_owned()) {
                errors.push(lines.error(
                    &format!("types[{i}].configurations[{j}].name"),
                    &format!("A configuration named \"{}\" is listed twice.", c.name),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// The changes the file makes against the catalog as it is, and the steps that make them; or
/// every problem of the file, each with its line.
fn plan(
    file: &CatalogFile,
    lines: &Lines,
    types: &[WorkspaceType],
    existing: &[(Configuration, bool)],
    team_slugs: &BTreeSet<String>,
    mut lookups: BTreeMap<TypeKey, (String, String, VersionDetails)>,
) -> Result<(Vec<Change>, Vec<Step>), AppError> {
    let mut changes = Vec::new();
    let mut steps = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    let change = |action: &str, kind: &str, name: &str, fields: Vec<FieldChange>| Change {
        action: action.into(),
        kind: kind.into(),
        name: name.into(),
        fields,
    };

    // Types: those of the file are approved (imported first if need be); approved ones it
    // leaves out are retired. `in_file`: each type of the file, with its id if imported.
    let mut specs_of: BTreeMap<TypeKey, Vec<ParameterSpec>> = BTreeMap::new();
    let mut in_file: BTreeMap<TypeKey, Option<i64>> = BTreeMap::new();
    for (i, entry) in file.types.iter().enumerate() {
        let name = label(&entry.product, &entry.version);
        let type_key = key(&entry.product, &entry.version);
        let matching: Vec<&WorkspaceType> =
            types.iter().filter(|t| t.product_name == entry.product && t.version_name == entry.version).collect();
        match matching.as_slice() {
            [current] => {
                specs_of.insert(type_key.clone(), current.parameters.clone());
                in_file.insert(type_key, Some(current.id));
                if current.status != TypeStatus::Approved {
                    let field = FieldChange { field: "status".into(), from: current.status.as_str().into(), to: "approved".into() };
                    changes.push(change("change", "type", &name, vec![field]));
                    steps.push(Step::SetStatus { type_id: current.id, from: current.status, to: TypeStatus::Approved });
                }
            }
            [] => {
                let (product_id, version_id, details) = lookups.remove(&type_key).ok_or(AppError::Internal)?;
                specs_of.insert(type_key.clone(), details.parameters.clone());
                in_file.insert(type_key.clone(), None);
                changes.push(change("add", "type", &name, Vec::new()));
                steps.push(Step::Import { key: type_key, product_id, version_id, details });
            }
            _ => errors.push(lines.error(
                &format!("types[{i}].product"),
                &format!("Two imported types are named \"{name}\": a file cannot tell them apart; rename one in Service Catalog."),
            )),
        }
    }
    let approved_before: BTreeSet<i64> = types.iter().filter(|t| t.status == TypeStatus::Approved).map(|t| t.id).collect();
    for retired in
        types.iter().filter(|t| t.status == TypeStatus::Approved && !in_file.contains_key(&key(&t.product_name, &t.version_name)))
    {
        changes.push(change("retire", "type", &label(&retired.product_name, &retired.version_name), Vec::new()));
        steps.push(Step::SetStatus { type_id: retired.id, from: TypeStatus::Approved, to: TypeStatus::Retired });
    }

    // Configurations, by name: added, changed field by field, or retired when the file leaves
    // out one of a type it governs (approved before, or in the file).
    let mut listed = BTreeSet::new();
    for (i, entry) in file.types.iter().enumerate() {
        let type_key = key(&entry.product, &entry.version);
        let wanted_type = (label(&entry.product, &entry.version), in_file.get(&type_key).copied().flatten());
        let specs = specs_of.get(&type_key).cloned().unwrap_or_default();
        for (j, configuration) in entry.configurations.iter().enumerate() {
            let path = format!("types[{i}].configurations[{j}]");
            for (k, team) in configuration.allowed_teams.iter().enumerate() {
                if !team_slugs.contains(team.trim()) {
                    errors.push(lines.error(&format!("{path}.allowed_teams[{k}]"), &format!("There is no team \"{team}\".")));
                }
            }
            let draft = match ConfigurationDraft::parse(&configuration.form(), &specs) {
                Ok(draft) => draft,
                Err(problems) => {
                    errors.extend(problems.iter().map(|p| lines.error(&format!("{path}.{}", file_field(&p.field)), &p.message)));
                    continue;
                }
            };
            listed.insert(draft.name.clone());
            match existing.iter().find(|(c, _)| c.draft.name == draft.name) {
                None => {
                    changes.push(change("add", "configuration", &draft.name, Vec::new()));
                    steps.push(Step::AddConfiguration { type_key: type_key.clone(), draft: draft.clone() });
                }
                Some((current, retired)) => {
                    let mut fields = differences(current, &draft, &wanted_type);
                    if *retired {
                        fields.insert(0, FieldChange { field: "status".into(), from: "retired".into(), to: "active".into() });
                    }
                    if !fields.is_empty() {
                        changes.push(change("change", "configuration", &draft.name, fields));
                        steps.push(Step::UpdateConfiguration { id: current.id, type_key: type_key.clone(), draft });
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let governed_ids: BTreeSet<i64> = approved_before.iter().copied().chain(in_file.values().flatten().copied()).collect();
    let governed = |c: &Configuration| governed_ids.contains(&c.workspace_type_id);
    for (left_out, _) in existing.iter().filter(|(c, retired)| !retired && governed(c) && !listed.contains(&c.draft.name)) {
        changes.push(change("retire", "configuration", &left_out.draft.name, Vec::new()));
        steps.push(Step::RetireConfiguration { id: left_out.id });
    }
    Ok((changes, steps))
}

/// Each field of a stored configuration that the file's version changes. `wanted_type`: the
/// file's type, by name and id (none yet for one this apply imports).
fn differences(current: &Configuration, wanted: &ConfigurationDraft, wanted_type: &(String, Option<i64>)) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    if wanted_type.1 != Some(current.workspace_type_id) {
        fields.push(FieldChange { field: "type".into(), from: current.type_label.clone(), to: wanted_type.0.clone() });
    }
    let mut compare = |field: String, from: String, to: String| {
        if from != to {
            fields.push(FieldChange { field, from, to });
        }
    };
    let have = &current.draft;
    compare("description".into(), have.description.clone(), wanted.description.clone());
    let cost = |cents: u32| format!("{}.{:02}", cents / 100, cents % 100);
    compare("estimated_hourly_cost".into(), cost(have.estimated_hourly_cost_cents), cost(wanted.estimated_hourly_cost_cents));
    let sorted = |mut items: Vec<String>| {
        items.sort();
        items.join(", ")
    };
    compare(
        "allowed_roles".into(),
        sorted(have.allowed_roles.iter().map(|r| r.as_str().to_owned()).collect()),
        sorted(wanted.allowed_roles.iter().map(|r| r.as_str().to_owned()).collect()),
    );
    compare(
        "allowed_teams".into(),
        sorted(have.allowed_teams.iter().map(|t| t.to_string()).collect()),
        sorted(wanted.allowed_teams.iter().map(|t| t.to_string()).collect()),
    );
    for (kind, from, to) in [("parameters", &have.parameter_values, &wanted.parameter_values), ("tags", &have.tags, &wanted.tags)] {
        let keys: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
        for key in keys {
            let value = |map: &BTreeMap<String, String>| map.get(key).cloned().unwrap_or_else(|| "(none)".into());
            compare(format!("{kind}.{key}"), value(from), value(to));
        }
    }
    // Field by field: a policy's description leaves out what its type does not use.
    let idle = |policy: &app::domain::idle::IdlePolicy| {
        let none = || "(none)".to_owned();
        [
            ("idle.stop_after", policy.stop_after_minutes.map_or_else(|| "never".to_owned(), |m| m.to_string())),
            ("idle.cpu_percent", policy.cpu_percent.to_string()),
            ("idle.max_running_hours", policy.max_running_hours.map_or_else(none, |h| h.to_string())),
            ("idle.nightly_stop", policy.nightly_stop.clone().unwrap_or_else(none)),
            ("idle.stop_on_sign_out", policy.stop_on_sign_out.to_string()),
        ]
    };
    for ((field, from), (_, to)) in idle(&have.idle).into_iter().zip(idle(&wanted.idle)) {
        compare(field.into(), from, to);
    }
    fields
}

/// The change set in one line for the audit log.
fn summarise(changes: &[Change]) -> String {
    let parts: Vec<String> = changes
        .iter()
        .map(|c| {
            let fields: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
            if fields.is_empty() {
                format!("{} {} {}", c.action, c.kind, c.name)
            } else {
                format!("{} {} {} ({})", c.action, c.kind, c.name, fields.join(", "))
            }
        })
        .collect();
    let summary = format!("{} changes: {}", changes.len(), parts.join("; "));
    summary.chars().take(2000).collect()
}
