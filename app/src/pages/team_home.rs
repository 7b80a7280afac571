use crate::domain::TeamHome;
use crate::domain::costs::MySpend;
use crate::domain::dollars;
use crate::domain::workspace::{MyWorkspaces, WorkspaceView};
use crate::features::teams::load_team_page;
use crate::features::workspaces::load_ended_workspaces;
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn TeamHomePage() -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(move || params.read().get("team").unwrap_or_default(), load_team_page);
    view! {
        <Suspense fallback=|| view! { <p>"Loading the team…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let team = page.home.team.slug.to_string();
                        view! { <TeamHomeView home=page.home/><MyWorkspacesPanel team mine=page.workspaces/><MySpendPanel spend=page.spend/> }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TeamHomeView(home: TeamHome) -> impl IntoView {
    let TeamHome { team, aws_account_id, metadata, metadata_error, may_manage_members, home } = home;
    let not_set = || view! { <span class="text-slate-400">"not set"</span> }.into_any();
    let slug = team.slug.to_string();
    view! {
        <Title text=format!("{} · Atrium", team.name)/>
        <nav class="text-sm text-slate-500"><a href="/teams" class="hover:underline">"Teams"</a>" / "{team.slug.to_string()}</nav>
        <h1 class="mt-2 text-3xl font-semibold" data-testid="team-name">{team.name.clone()}</h1>
        <p class="mt-2 text-slate-600">{team.description.clone()}</p>
        <p class="mt-4 flex gap-3">
            <a href=format!("/teams/{}/profiles", team.slug) class="rounded bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800">
                "Start from a profile"
            </a>
            <a href=format!("/teams/{}/catalog", team.slug) class="rounded border border-indigo-300 px-4 py-2 text-sm font-medium text-indigo-700 hover:bg-indigo-50">
                "Browse the workspace catalog"
            </a>
            <a href=format!("/teams/{}/studies", team.slug) class="rounded border border-indigo-300 px-4 py-2 text-sm font-medium text-indigo-700 hover:bg-indigo-50">
                "Studies"
            </a>
            {may_manage_members.then(|| view! {
                <a href=format!("/teams/{}/members", team.slug) class="rounded border border-slate-300 px-4 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100">
                    "Manage members"
                </a>
            })}
        </p>
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="team-metadata">
            <h2 class="text-lg font-semibold">"Team resources"</h2>
            {metadata_error.map(|message| view! {
                <p role="alert" class="mt-3 rounded border border-amber-200 bg-amber-50 p-3 text-sm text-amber-800">{message}</p>
            })}
            <dl class="mt-4 grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                <dt class="font-medium text-slate-500">"AWS account"</dt>
                <dd class="font-mono">{aws_account_id}</dd>
                <dt class="font-medium text-slate-500">"S3 scratch space"</dt>
                <dd class="font-mono" data-testid="s3-scratch">{match metadata.s3_scratch_prefix {
                    Some(prefix) => view! {
                        <a class="break-all text-indigo-700 underline" href=format!("/teams/{slug}/scratch")
                            aria-label=format!("Browse the scratch space {prefix}")>{prefix.clone()}</a>
                    }.into_any(),
                    None => not_set(),
                }}</dd>
                <dt class="font-medium text-slate-500">"Team drive (EFS)"</dt>
                <dd class="font-mono">{match metadata.efs_access_point {
                    Some(ap) => view! { <span>{ap}</span> }.into_any(),
                    None => not_set(),
                }}</dd>
                <dt class="font-medium text-slate-500">"Your home"</dt>
                <dd data-testid="your-home">{match (home, metadata.efs_file_system.is_some()) {
                    (Some(path), _) => view! { <span><span class="font-mono">{path}</span>" on the team drive"</span> }.into_any(),
                    (None, true) => view! { <span class="text-slate-600">"Made on the team drive at your first launch here."</span> }.into_any(),
                    (None, false) => not_set(),
                }}</dd>
                <dt class="font-medium text-slate-500">"Links"</dt>
                <dd>
                    {if metadata.links.is_empty() {
                        not_set()
                    } else {
                        view! {
                            <ul class="space-y-1">
                                {metadata.links.into_iter().map(|link| view! {
                                    <li><a class="text-indigo-700 underline" href=link.url rel="noopener noreferrer">{link.title}</a></li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </dd>
            </dl>
        </section>
    }
}

/// The user's live workspaces on this team, newest first; ended ones are a link away.
#[component]
fn MyWorkspacesPanel(team: String, mine: MyWorkspaces) -> impl IntoView {
    let ended = (mine.ended > 0).then(|| {
        view! {
            <p class="mt-2 text-sm"><a class="text-indigo-700 underline" href=format!("/teams/{team}/ended") data-testid="ended-link">
                {format!("{} ended (terminated or failed)", mine.ended)}
            </a></p>
        }
    });
    let list = if mine.live.is_empty() {
        view! { <p class="mt-2 text-slate-600">"None running. Launch one from a profile or the catalog."</p> }.into_any()
    } else {
        view! { <WorkspaceList workspaces=mine.live/> }.into_any()
    };
    let shared = (!mine.shared.is_empty()).then(|| {
        view! {
            <section class="mt-8" data-testid="shared-with-me">
                <h2 class="text-lg font-semibold">"Shared with me"</h2>
                <ul class="mt-3 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
                    {mine.shared.into_iter().map(|w| view! {
                        <li class="flex items-center justify-between p-3 text-sm">
                            <a class="font-medium text-indigo-700 hover:underline" href=format!("/workspaces/{}", w.id)>{w.name.clone()}</a>
                            <span class="text-slate-600">{format!("{}'s {} · {}", w.owner, w.configuration_name, w.state.as_str())}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
    });
    view! {
        <section class="mt-8" data-testid="my-workspaces">
            <h2 class="text-lg font-semibold">"My workspaces"</h2>
            {list}
            {ended}
        </section>
        {shared}
    }
}

#[component]
pub fn WorkspaceList(workspaces: Vec<WorkspaceView>) -> impl IntoView {
    view! {
        <ul class="mt-3 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
            {workspaces.into_iter().map(|w| view! {
                <li class="flex items-center justify-between p-3 text-sm">
                    <a class="font-medium text-indigo-700 hover:underline" href=format!("/workspaces/{}", w.id)>{w.name.clone()}</a>
                    <span class="text-slate-600" data-testid="my-workspace">
                        {format!("{} ({}) · {} · {} old · about {} so far at the estimate", w.configuration_name, w.type_label, w.state.as_str(), w.age,
                            crate::domain::dollars(w.cost_so_far_cents.into()))}
                        {w.health_alarms.iter().map(|alarm| view! {
                            <span class="ml-2 rounded bg-red-100 px-2 py-0.5 text-red-800" data-testid="health-alarm">{alarm.label()}</span>
                        }).collect_view()}
                        {w.stops_at.clone().map(|at| view! { <span class="ml-2 rounded bg-amber-100 px-2 py-0.5 text-amber-900" data-testid="stops-at">{format!("stops at {at} unless used")}</span> })}
                        {w.upgrade.clone().map(|offer| view! { <span class="ml-2 rounded bg-indigo-100 px-2 py-0.5 text-indigo-900" data-testid="upgrade-badge">{format!("Upgrade available: {}", offer.type_label)}</span> })}
                    </span>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// The user's ended workspaces on a team, a page at a time (`?page=`), newest first.
#[component]
pub fn EndedWorkspacesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let page = move || query.read().get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1);
    let ended = Resource::new(move || (team(), page()), |(team, page)| load_ended_workspaces(team, page));
    view! {
        <Title text="Ended workspaces · Atrium"/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=move || format!("/teams/{}", team()) class="hover:underline">{team}</a>" / ended"
        </nav>
        <h1 class="mt-2 text-3xl font-semibold">"Ended workspaces"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ended.await {
                    Ok(found) => {
                        let pages = ((found.total + found.per_page - 1) / found.per_page).max(1);
                        let slug = team();
                        let link = move |page: i64| format!("/teams/{slug}/ended?page={page}");
                        view! {
                            <p class="mt-4 text-sm text-slate-600" data-testid="ended-total">{format!("{} ended · page {} of {}", found.total, found.page, pages)}</p>
                            <WorkspaceList workspaces=found.workspaces/>
                            <p class="mt-4 flex gap-4 text-sm">
                                {(found.page > 1).then(|| view! { <a class="text-indigo-700 underline" href=link(found.page - 1)>"Newer"</a> })}
                                {(found.page < pages).then(|| view! { <a class="text-indigo-700 underline" href=link(found.page + 1)>"Older"</a> })}
                            </p>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the user's own workspaces on this team actually cost over 30 days (Cost Explorer).
#[component]
fn MySpendPanel(spend: MySpend) -> impl IntoView {
    let body = if spend.workspaces.is_empty() {
        view! { <p class="mt-2 text-slate-600">"No spend recorded for your workspaces yet."</p> }.into_any()
    } else {
        view! {
            <p class="mt-2 text-sm text-slate-600">"In all: "<span class="font-semibold text-slate-900">{dollars(spend.total_cents)}</span></p>
            <ul class="mt-2 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm">
                {spend.workspaces.into_iter().map(|w| view! {
                    <li class="flex justify-between p-3"><span>{w.name}</span><span class="tabular-nums">{dollars(w.total_cents)}</span></li>
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <section class="mt-8" data-testid="my-spend">
            <h2 class="text-lg font-semibold">"My spend, last 30 days"</h2>
            {body}
        </section>
    }
}
