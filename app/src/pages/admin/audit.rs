use crate::domain::audit::{AuditFilter, AuditPage};
use crate::features::audit::load_audit_log;
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/admin/audit`: the audit log, filtered by user, team, action and dates (a plain GET form,
/// so every view has a URL), fifty rows a page, and the same view as CSV.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        AuditFilter { actor: q.get("actor"), team: q.get("team"), action: q.get("action"), from: q.get("from"), to: q.get("to") }
    };
    let page = move || query.read().get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1);
    let log = Resource::new(move || (filter(), page()), |(filter, page)| load_audit_log(filter, page));
    let input = "mt-1 w-full rounded border border-slate-300 px-2 py-1";

    view! {
        <Title text="Audit log · Atrium"/>
        <h1 class="text-2xl font-semibold">"Audit log"</h1>
        <form method="get" action="/admin/audit" class="mt-4 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-6">
            <label>"User"<input name="actor" value=move || filter().actor.unwrap_or_default() class=input/></label>
            <label>"Team"<input name="team" value=move || filter().team.unwrap_or_default() class=input/></label>
            <label>"Action"<input name="action" placeholder="workspace." value=move || filter().action.unwrap_or_default() class=input/></label>
            <label>"From"<input name="from" type="date" value=move || filter().from.unwrap_or_default() class=input/></label>
            <label>"To"<input name="to" type="date" value=move || filter().to.unwrap_or_default() class=input/></label>
            <div class="flex items-end gap-2">
                <button type="submit" class="rounded bg-indigo-700 px-3 py-1 text-white">"Filter"</button>
                <a data-testid="audit-csv" class="rounded border border-slate-300 px-3 py-1" rel="external"
                    href=move || format!("/admin/audit.csv?{}", query.read().to_query_string().trim_start_matches('?'))>"CSV"</a>
            </div>
        </form>
        <Suspense fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(found) => view! { <AuditTable found query=query.read().clone()/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditTable(found: AuditPage, query: leptos_router::params::ParamsMap) -> impl IntoView {
    let pages = ((found.total + found.per_page - 1) / found.per_page).max(1);
    let link = move |page: i64| {
        let mut query = query.clone();
        query.replace("page", page.to_string());
        format!("/admin/audit{}", query.to_query_string())
    };
    view! {
        <p class="mt-4 text-sm text-slate-600" data-testid="audit-total">{format!("{} entries · page {} of {}", found.total, found.page, pages)}</p>
        <table class="mt-2 w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm" data-testid="audit-log">
            <thead class="bg-slate-100 text-left text-slate-600">
                <tr><th class="p-2">"When (UTC)"</th><th class="p-2">"Who"</th><th class="p-2">"What"</th><th class="p-2">"Object"</th><th class="p-2">"Team"</th><th class="p-2">"From"</th><th class="p-2">"Result"</th></tr>
            </thead>
            <tbody>
                {found.rows.into_iter().map(|r| view! {
                    <tr class="border-t border-slate-200" data-testid="audit-row">
                        <td class="p-2 font-mono">{r.at}</td>
                        <td class="p-2">{r.actor}" "<span class="text-slate-500">{r.actor_roles.join(", ")}</span></td>
                        <td class="p-2">{r.action}" "<span class="text-slate-500">{r.detail.unwrap_or_default()}</span></td>
                        <td class="p-2 font-mono text-xs">{r.object_type.map(|t| format!("{t} {}", r.object_id.unwrap_or_default())).unwrap_or_default()}</td>
                        <td class="p-2">{r.team.unwrap_or_default()}</td>
                        <td class="p-2 font-mono">{r.client_ip.unwrap_or_default()}</td>
                        <td class="p-2">{r.result}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <nav class="mt-3 flex gap-3 text-sm">
            {(found.page > 1).then(|| view! { <a class="text-indigo-700 underline" href=link(found.page - 1)>"Newer"</a> })}
            {(found.page < pages).then(|| view! { <a class="text-indigo-700 underline" href=link(found.page + 1)>"Older"</a> })}
        </nav>
    }
}
