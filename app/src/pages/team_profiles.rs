use crate::domain::configurations::Profile;
use crate::domain::studies::StudyView;
use crate::features::studies::load_studies;
use crate::features::workspaces::{LaunchWorkspace, load_team_profiles};
use crate::pages::errors::ErrorPanel;
use crate::pages::team_catalog::{CostEstimate, LaunchForm, TeamBudget};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/teams/:team/profiles`: the team's workspace profiles (from SSM) this user may launch.
#[component]
pub fn TeamProfilesPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let profiles = Resource::new(team, load_team_profiles);
    let studies = Resource::new(team, load_studies);
    let launch = ServerAction::<LaunchWorkspace>::new();
    view! {
        <Title text="Profiles · Atrium"/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=move || format!("/teams/{}", team()) class="hover:underline">{team}</a>" / profiles"
        </nav>
        <h1 class="mt-2 text-2xl font-semibold">"Choose a profile"</h1>
        {move || launch.value().get().and_then(|r| r.err()).map(|error| view! {
            <p role="alert" data-testid="launch-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p>
        })}
        <Suspense fallback=|| view! { <p class="mt-4">"Loading the profiles…"</p> }>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(found) if found.profiles.is_empty() => view! {
                        <p class="mt-4 text-slate-600">"This team has no profiles you can launch. Try the catalog, or ask an administrator."</p>
                    }.into_any(),
                    Ok(found) => {
                        let studies = studies.await.map(|list| list.studies).unwrap_or_default();
                        let key = found.launch.key;
                        let may_override = found.launch.may_override_budget;
                        view! {
                            {found.stale_note.map(|note| view! {
                                <p role="status" class="mt-4 rounded border border-amber-200 bg-amber-50 p-3 text-sm text-amber-800" data-testid="stale-note">{note}</p>
                            })}
                            <TeamBudget month=found.launch.month/>
                            <ul class="mt-6 grid gap-4 sm:grid-cols-2" data-testid="profiles">
                                {found.profiles.into_iter().map(|p| view! { <ProfileCard p team=team() launch_key=key.clone() launch may_override studies=studies.clone()/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileCard(
    p: Profile,
    team: String,
    launch_key: String,
    launch: ServerAction<LaunchWorkspace>,
    may_override: bool,
    studies: Vec<StudyView>,
) -> impl IntoView {
    let cents = p.configuration.draft.estimated_hourly_cost_cents;
    let studies = if p.configuration.mounts_studies { studies } else { Vec::new() };
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="profile">
            <div class="flex items-baseline justify-between gap-3">
                <h2 class="text-lg font-semibold text-indigo-700">{p.display_name}</h2>
                <span class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-600">{p.size}</span>
            </div>
            <p class="mt-2 text-sm text-slate-600">{p.description}</p>
            <p class="mt-2 text-sm text-slate-500">{format!("{} · {}", p.configuration.draft.name, p.configuration.type_label)}</p>
            <CostEstimate hourly_cents=cents/>
            <p class="mt-1 text-sm text-slate-600" data-testid="idle-policy">{p.configuration.draft.idle.describe_for(p.configuration.has_stop_start)}</p>
            {(!p.parameters.is_empty()).then(|| view! {
                <p class="mt-1 text-xs text-slate-500">{p.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}</p>
            })}
            <LaunchForm team configuration_id=p.configuration.id launch_key launch profile=p.name may_override studies/>
        </li>
    }
}
