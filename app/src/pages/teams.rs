use crate::features::teams::my_teams;
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TeamsPage() -> impl IntoView {
    let teams = Resource::new(|| (), |_| my_teams());
    view! {
        <Title text="Your teams · Atrium"/>
        <Suspense fallback=|| view! { <p>"Loading your teams…"</p> }>
            {move || Suspend::new(async move {
                match teams.await {
                    Ok(teams) if teams.is_empty() => view! {
                        <h1 class="text-2xl font-semibold">"Your teams"</h1>
                        <p class="mt-4 text-slate-600">"You are not a member of any team yet. Ask an administrator to add you to one."</p>
                    }.into_any(),
                    Ok(teams) => view! {
                        <h1 class="text-2xl font-semibold">"Your teams"</h1>
                        <p class="mt-1 text-slate-600">"Choose the team you are working for."</p>
                        <ul class="mt-6 grid gap-4 sm:grid-cols-2" data-testid="team-list">
                            {teams.into_iter().map(|team| view! {
                                <li>
                                    <a href=format!("/teams/{}", team.slug) data-testid="team-card"
                                        class="block h-full rounded-lg border border-slate-200 bg-white p-5 shadow-sm hover:border-indigo-400">
                                        <h2 class="text-lg font-semibold text-indigo-700">{team.name}</h2>
                                        <p class="mt-2 text-sm text-slate-600">{team.description}</p>
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
