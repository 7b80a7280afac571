use crate::domain::workspace::{AdminWorkspacePage, WorkspaceState};
use crate::features::admin_workspaces::{ForceTerminateWorkspace, ResyncWorkspace, TransferWorkspace, load_admin_workspaces};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/admin/workspaces`: every workspace (a GET filter form, fifty a page, drift first), with
/// "Resync" and "Force terminate".
#[component]
pub fn AdminWorkspacesPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = move || query.read().get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1);
    let resync = ServerAction::<ResyncWorkspace>::new();
    let force = ServerAction::<ForceTerminateWorkspace>::new();
    let transfer = ServerAction::<TransferWorkspace>::new();
    let list = Resource::new(
        move || {
            (
                field("team"),
                field("owner"),
                field("type"),
                field("state"),
                field("drift") == "on",
                page(),
                (resync.version().get(), force.version().get(), transfer.version().get()),
            )
        },
        |(team, owner, type_label, state, drift_only, page, ..)| load_admin_workspaces(team, owner, type_label, state, drift_only, page),
    );
    let input = "mt-1 w-full rounded border border-slate-300 px-2 py-1";
    view! {
        <Title text="Workspaces · Atrium"/>
        <h1 class="text-2xl font-semibold">"Workspaces"</h1>
        <p class="mt-2 max-w-prose text-sm text-slate-700">
            "Every workspace, as Atrium and AWS see it. The worker compares them every 15 minutes; \"Resync\" does it now. Terminated workspaces leave this list after 30 days (never the audit log or costs)."
        </p>
        {move || resync.value().get().map(|result| match result {
            Ok(found) => view! { <p role="status" data-testid="resync-result" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-900">{found}</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p> }.into_any(),
        })}
        {move || force.value().get().and_then(|r| r.err()).or_else(|| transfer.value().get().and_then(|r| r.err())).map(|e| view! {
            <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
        })}
        <form method="get" action="/admin/workspaces" class="mt-4 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-6">
            <label>"Team"<input name="team" value=move || field("team") class=input/></label>
            <label>"Owner"<input name="owner" value=move || field("owner") class=input/></label>
            <label>"Type"<input name="type" value=move || field("type") placeholder="Linux workstation (EC2) v1" class=input/></label>
            <label>"State"
                <select name="state" class=input>
                    <option value="">"any"</option>
                    {WorkspaceState::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=move || field("state") == s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <label class="flex items-end gap-2"><input type="checkbox" name="drift" value="on" checked=move || field("drift") == "on"/>"Drift only"</label>
            <div class="flex items-end"><button type="submit" class="rounded bg-indigo-700 px-3 py-1 text-white">"Filter"</button></div>
        </form>
        <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(found) => view! { <WorkspaceTable found resync force transfer/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn WorkspaceTable(
    found: AdminWorkspacePage,
    resync: ServerAction<ResyncWorkspace>,
    force: ServerAction<ForceTerminateWorkspace>,
    transfer: ServerAction<TransferWorkspace>,
) -> impl IntoView {
    let pages = (found.total + found.per_page - 1) / found.per_page.max(1);
    view! {
        <p class="mt-4 text-sm text-slate-600">{format!("{} workspaces; page {} of {}.", found.total, found.page, pages.max(1))}</p>
        <table class="mt-2 w-full border-collapse text-left text-sm" data-testid="admin-workspaces">
            <thead><tr class="border-b border-slate-300">
                <th scope="col" class="py-1 pr-3">"Workspace"</th>
                <th scope="col" class="py-1 pr-3">"Team"</th>
                <th scope="col" class="py-1 pr-3">"Owner"</th>
                <th scope="col" class="py-1 pr-3">"Type"</th>
                <th scope="col" class="py-1 pr-3">"State"</th>
                <th scope="col" class="py-1 pr-3">"Drift"</th>
                <th scope="col" class="py-1"><span class="sr-only">"Actions"</span></th>
            </tr></thead>
            <tbody>
                {found.rows.into_iter().map(|w| {
                    let (id, name) = (w.id.clone(), w.name.clone());
                    let ended = w.state == WorkspaceState::Terminated;
                    view! {
                        <tr class="border-b border-slate-200 align-top" data-workspace=w.name.clone()>
                            <td class="py-1 pr-3"><a class="text-indigo-700 underline" href=format!("/workspaces/{}", w.id)>{w.name.clone()}</a></td>
                            <td class="py-1 pr-3">{w.team.clone()}</td>
                            <td class="py-1 pr-3">{w.owner.clone()}</td>
                            <td class="py-1 pr-3">{w.type_label.clone()}</td>
                            <td class="py-1 pr-3" data-testid="admin-state">{w.state.as_str()}</td>
                            <td class="py-1 pr-3" data-testid="drift">{w.drift.clone().unwrap_or_default()}</td>
                            <td class="py-1">
                                {(!ended).then(|| {
                                    let (resync_id, force_id, transfer_id) = (id.clone(), id.clone(), id.clone());
                                    let (resync_label, force_label) = (format!("Resync {name}"), format!("Force terminate {name}"));
                                    let transfer_label = format!("Give {name} to (a member of {})", w.team);
                                    view! {
                                        <ActionForm action=resync attr:class="inline">
                                            <input type="hidden" name="id" value=resync_id/>
                                            <button type="submit" aria-label=resync_label class="rounded border border-slate-300 px-2 py-0.5">"Resync"</button>
                                        </ActionForm>
                                        <details class="mt-1">
                                            <summary class="cursor-pointer text-indigo-800">"Transfer…"</summary>
                                            <ActionForm action=transfer>
                                                <input type="hidden" name="id" value=transfer_id/>
                                                <label class="block text-xs">{transfer_label}<input name="to" required class="mt-1 block w-40 rounded border border-slate-300 px-1"/></label>
                                                <button type="submit" class="mt-1 rounded border border-indigo-300 px-2 py-0.5">"Transfer"</button>
                                            </ActionForm>
                                        </details>
                                        <details class="mt-1">
                                            <summary class="cursor-pointer text-red-800">"Force terminate…"</summary>
                                            <p class="max-w-xs text-xs text-slate-600">"Marks it terminated without asking AWS: for a workspace AWS no longer knows, or that is stuck. Delete any resources left by hand."</p>
                                            <ActionForm action=force>
                                                <input type="hidden" name="id" value=force_id/>
                                                <button type="submit" aria-label=force_label class="mt-1 rounded bg-red-700 px-2 py-0.5 text-white">"Yes, force terminate"</button>
                                            </ActionForm>
                                        </details>
                                    }
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
