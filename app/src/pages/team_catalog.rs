use crate::api::load_team_catalog;
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
    view! {
        <Title text="Workspace catalog · Atrium"/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=move || format!("/teams/{}", team()) class="hover:underline">{team}</a>" / catalog"
        </nav>
        <h1 class="mt-2 text-2xl font-semibold">"Workspace catalog"</h1>
        <Suspense fallback=|| view! { <p class="mt-4">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Ok(items) if items.is_empty() => view! {
                        <p class="mt-4 text-slate-600">"Nothing is available to you on this team yet. Ask an administrator."</p>
                    }.into_any(),
                    Ok(items) => view! {
                        <ul class="mt-6 grid gap-4 sm:grid-cols-2" data-testid="team-catalog">
                            {items.into_iter().map(|c| view! { <CatalogItem c/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CatalogItem(c: Configuration) -> impl IntoView {
    let cents = c.draft.estimated_hourly_cost_cents;
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="catalog-item">
            <h2 class="text-lg font-semibold text-indigo-700">{c.draft.name}</h2>
            <p class="text-sm text-slate-500">{c.type_label}</p>
            <p class="mt-2 text-sm text-slate-600">{c.draft.description}</p>
            <p class="mt-3 text-sm"><span class="font-medium">{format!("${}.{:02}", cents / 100, cents % 100)}</span>" per hour, estimated"</p>
        </li>
    }
}
