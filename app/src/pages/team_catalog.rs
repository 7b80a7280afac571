use crate::domain::configurations::Configuration;
use crate::domain::costs::{MonthBudget, monthly_estimate};
use crate::domain::dollars;
use crate::domain::studies::{Access, StudyView};
use crate::features::studies::load_studies;
use crate::features::workspaces::{LaunchWorkspace, load_team_catalog};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/teams/:team/catalog`: the approved configurations this user may launch on this team.
#[component]
pub fn TeamCatalogPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let catalog = Resource::new(team, load_team_catalog);
    let studies = Resource::new(team, load_studies);
    let launch = ServerAction::<LaunchWorkspace>::new();
    view! {
        <Title text="Workspace catalog · Atrium"/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=move || format!("/teams/{}", team()) class="hover:underline">{team}</a>" / catalog"
        </nav>
        <h1 class="mt-2 text-2xl font-semibold">"Workspace catalog"</h1>
        {move || launch.value().get().and_then(|r| r.err()).map(|error| view! {
            <p role="alert" data-testid="launch-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p>
        })}
        <Suspense fallback=|| view! { <p class="mt-4">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Ok(catalog) if catalog.items.is_empty() => view! {
                        <p class="mt-4 text-slate-600">"Nothing is available to you on this team yet. Ask an administrator."</p>
                    }.into_any(),
                    Ok(catalog) => {
                        // Without studies (none, or unreadable now) a launch simply mounts none.
                        let studies = studies.await.map(|list| list.studies).unwrap_or_default();
                        let key = catalog.launch.key;
                        let may_override = catalog.launch.may_override_budget;
                        view! {
                            <TeamBudget month=catalog.launch.month/>
                            <ul class="mt-6 grid gap-4 sm:grid-cols-2" data-testid="team-catalog">
                                {catalog.items.into_iter().map(|c| view! { <CatalogItem c team=team() launch_key=key.clone() launch may_override studies=studies.clone()/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The team's month before a launch: spent, forecast, and what is left of the budget.
#[component]
pub fn TeamBudget(month: MonthBudget) -> impl IntoView {
    let summary = match (month.budget_cents, month.remaining_cents()) {
        (Some(budget), Some(remaining)) if remaining < 0 => format!(
            "{} is forecast to spend {} of its {} budget for {}: {} over.",
            month.team_name,
            dollars(month.forecast_cents),
            dollars(budget),
            month.month,
            dollars(-remaining)
        ),
        (Some(budget), Some(remaining)) => format!(
            "{} has {} left of its {} budget for {} (spent {}, forecast {}).",
            month.team_name,
            dollars(remaining),
            dollars(budget),
            month.month,
            dollars(month.spent_cents),
            dollars(month.forecast_cents)
        ),
        _ => format!("{} has no budget set; it has spent {} in {}.", month.team_name, dollars(month.spent_cents), month.month),
    };
    view! {
        <p class="mt-4 rounded border border-slate-200 bg-white p-3 text-sm text-slate-700" data-testid="team-budget">{summary}</p>
    }
}

/// A configuration's estimated cost, per hour and for a month of running.
#[component]
pub fn CostEstimate(hourly_cents: u32) -> impl IntoView {
    view! {
        <p class="mt-3 text-sm" data-testid="cost-estimate">
            <span class="font-medium">{crate::domain::dollars(hourly_cents.into())}</span>" per hour, about "
            <span class="font-medium">{dollars(monthly_estimate(hourly_cents))}</span>" a month, estimated"
        </p>
    }
}

#[component]
fn CatalogItem(
    c: Configuration,
    team: String,
    launch_key: String,
    launch: ServerAction<LaunchWorkspace>,
    may_override: bool,
    studies: Vec<StudyView>,
) -> impl IntoView {
    let cents = c.draft.estimated_hourly_cost_cents;
    let studies = if c.mounts_studies { studies } else { Vec::new() };
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="catalog-item">
            <h2 class="text-lg font-semibold text-indigo-700">{c.draft.name}</h2>
            <p class="text-sm text-slate-500">{c.type_label}</p>
            <p class="mt-2 text-sm text-slate-600">{c.draft.description}</p>
            <CostEstimate hourly_cents=cents/>
            <p class="mt-1 text-sm text-slate-600" data-testid="idle-policy">{c.draft.idle.describe_for(c.has_stop_start)}</p>
            <LaunchForm team configuration_id=c.id launch_key launch may_override studies/>
        </li>
    }
}

/// Names and launches a workspace of one configuration. The key makes a second submission of
/// the same form (a double click, a retry) return the first workspace instead of a new one.
#[component]
pub fn LaunchForm(
    team: String,
    configuration_id: i64,
    launch_key: String,
    launch: ServerAction<LaunchWorkspace>,
    /// The profile launched from, if any.
    #[prop(optional)]
    profile: Option<String>,
    /// Offer admins "Launch over budget" (audited).
    #[prop(optional)]
    may_override: bool,
    /// The studies the workspace may mount (empty: its type mounts none).
    #[prop(optional)]
    studies: Vec<StudyView>,
) -> impl IntoView {
    let pending = launch.pending();
    let key = match &profile {
        Some(profile) => format!("{launch_key}-{profile}"),
        None => format!("{launch_key}-{configuration_id}"),
    };
    let study_ids = key.clone();
    view! {
        <ActionForm action=launch>
            {profile.map(|profile| view! { <input type="hidden" name="profile" value=profile/> })}
            <input type="hidden" name="team" value=team/>
            <input type="hidden" name="configuration_id" value=configuration_id.to_string()/>
            <input type="hidden" name="launch_key" value=key/>
            <label class="mt-3 block text-sm">"Workspace name"
                <input name="name" required pattern="[a-z][a-z0-9-]{2,39}" placeholder="my-analysis"
                    title="3 to 40 lower-case letters, digits and dashes, starting with a letter"
                    class="mt-1 w-full rounded border border-slate-300 px-2 py-1"/>
            </label>
            <StudyChoice studies prefix=study_ids/>
            {may_override.then(|| view! {
                <label class="mt-2 flex items-center gap-2 text-sm text-slate-600">
                    <input type="checkbox" name="override_budget" value="on"/>"Launch over budget (recorded in the audit log)"
                </label>
            })}
            <button type="submit" disabled=move || pending.get()
                class="mt-3 rounded bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800 disabled:opacity-60">
                {move || if pending.get() { "Launching…" } else { "Launch" }}
            </button>
        </ActionForm>
    }
}

/// One choice per study: not mounted, read-only, or read-write where the user may write it.
#[component]
fn StudyChoice(studies: Vec<StudyView>, prefix: String) -> impl IntoView {
    (!studies.is_empty()).then(|| {
        view! {
            <fieldset class="mt-3 rounded border border-slate-200 p-2 text-sm" data-testid="launch-studies">
                <legend class="px-1 font-medium">"Studies to mount"</legend>
                {studies.into_iter().map(|study| {
                    let id = format!("{prefix}-study-{}", study.id);
                    let writable = study.mount_access() == Access::Rw;
                    view! {
                        <div class="mt-1 flex items-center justify-between gap-2">
                            <label for=id.clone()>{study.name.clone()}</label>
                            <select id=id name=format!("studies[{}]", study.id) class="rounded border border-slate-300 px-1 py-0.5">
                                <option value="">"Not mounted"</option>
                                <option value="ro">"Read-only"</option>
                                {writable.then(|| view! { <option value="rw">"Read-write"</option> })}
                            </select>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        }
    })
}
