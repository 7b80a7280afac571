use crate::api::{load_team_catalog, LaunchWorkspace};
use crate::domain::configurations::Configuration;
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
                        let key = catalog.launch_key;
                        view! {
                            <ul class="mt-6 grid gap-4 sm:grid-cols-2" data-testid="team-catalog">
                                {catalog.items.into_iter().map(|c| view! { <CatalogItem c team=team() launch_key=key.clone() launch/> }).collect_view()}
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
fn CatalogItem(c: Configuration, team: String, launch_key: String, launch: ServerAction<LaunchWorkspace>) -> impl IntoView {
    let cents = c.draft.estimated_hourly_cost_cents;
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="catalog-item">
            <h2 class="text-lg font-semibold text-indigo-700">{c.draft.name}</h2>
            <p class="text-sm text-slate-500">{c.type_label}</p>
            <p class="mt-2 text-sm text-slate-600">{c.draft.description}</p>
            <p class="mt-3 text-sm"><span class="font-medium">{crate::domain::dollars(cents)}</span>" per hour, estimated"</p>
            <LaunchForm team configuration_id=c.id launch_key launch/>
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
) -> impl IntoView {
    let pending = launch.pending();
    let key = match &profile {
        Some(profile) => format!("{launch_key}-{profile}"),
        None => format!("{launch_key}-{configuration_id}"),
    };
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
            <button type="submit" disabled=move || pending.get()
                class="mt-3 rounded bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800 disabled:opacity-60">
                {move || if pending.get() { "Launching…" } else { "Launch" }}
            </button>
        </ActionForm>
    }
}
