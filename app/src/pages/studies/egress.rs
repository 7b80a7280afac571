//! An export request: the section on its study's page, and `/teams/:team/egress/:id` with its history.

use super::*;

#[component]
pub(super) fn EgressSection(team: String, study_id: i64, panel: EgressPanel) -> impl IntoView {
    let request = ServerAction::<RequestEgress>::new();
    let error = last_error(request);
    let form_team = team.clone();
    view! {
        <section class="mt-8 rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm" data-testid="egress">
            <h2 class="font-semibold">"Exports"</h2>
            <p class="mt-1">"Results leave this controlled study only through its egress folder, once a team admin approves: "
                <span class="font-mono">{panel.location.clone()}</span></p>
            {move || error.get().map(|e| view! { <p role="alert" class="mt-2 text-red-800">{e.to_string()}</p> })}
            {(panel.may_request && !panel.files.is_empty()).then(|| view! {
                <ActionForm action=request attr:class="mt-3" attr:data-testid="egress-request">
                    <input type="hidden" name="team" value=form_team/>
                    <input type="hidden" name="id" value=study_id.to_string()/>
                    <fieldset>
                        <legend class="font-medium">"Files to export"</legend>
                        {panel.files.iter().map(|file| view! {
                            <label class="mr-4 inline-flex items-center gap-1">
                                <input type="checkbox" name=format!("files[{}]", file.path) value="on"/>{format!("{} ({})", file.path, size_label(file.size))}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <label for="egress-reason" class="mt-2 block font-medium">"Why these files should leave"</label>
                    <textarea id="egress-reason" name="reason" rows="2" required maxlength="2000" class="mt-1 w-full rounded border border-slate-300 p-1.5"></textarea>
                    <button type="submit" class="mt-2 rounded bg-indigo-700 px-3 py-1.5 text-white">"Request export"</button>
                </ActionForm>
            })}
            <ul class="mt-3 list-disc pl-5">
                {panel.requests.into_iter().map(|r| view! {
                    <li><a class="text-indigo-700 underline" href=format!("/teams/{team}/egress/{}", r.id)>
                        {format!("Request #{} by {}: {} ({}, {})", r.id, r.requester, r.files.join(", "), r.status, r.created_at)}
                    </a></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
pub fn EgressRequestPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let decide = ServerAction::<DecideEgress>::new();
    let request = Resource::new(move || (team(), id(), decide.version().get()), |(team, id, _)| load_egress_request(team, id));
    let error = last_error(decide);
    view! {
        <Title text="Export request · Atrium"/>
        {move || team_nav(team(), " / export request")}
        {move || error.get().map(|e| view! { <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p> })}
        <Suspense fallback=|| view! { <p class="mt-4">"Loading the request…"</p> }>
            {move || Suspend::new(async move {
                match request.await {
                    Ok(r) => {
                        let download_base = format!("/teams/{}/egress/{}/download", r.team, r.id);
                        view! {
                            <h1 class="mt-2 text-2xl font-semibold">{format!("Export request #{}", r.id)}</h1>
                            <p class="mt-1 text-sm">"From "<a class="text-indigo-700 underline" href=format!("/teams/{}/studies/{}", r.team, r.study_id)>{r.study_name.clone()}</a>
                                " · by "{r.requester.clone()}" · "{r.created_at.clone()}" · "<span data-testid="egress-status">{r.status.clone()}</span></p>
                            <p class="mt-2 text-sm">"Reason: "{r.reason.clone()}</p>
                            {r.decided_by.clone().map(|by| view! { <p class="mt-1 text-sm">{format!("Decided by {by}{}", r.decision_note.clone().map(|n| format!(": {n}")).unwrap_or_default())}</p> })}
                            <ul class="mt-3 list-disc pl-5 text-sm" data-testid="egress-files">
                                {r.files.iter().map(|file| view! {
                                    <li>{file.clone()}
                                        {r.may_download.then(|| view! {
                                            " "<a rel="external" class="text-indigo-700 underline" aria-label=format!("Download {file}")
                                                href=format!("{download_base}?file={}", encode(file))>"Download"</a>
                                        })}
                                    </li>
                                }).collect_view()}
                            </ul>
                            {r.may_decide.then(|| view! {
                                <ActionForm action=decide attr:class="mt-4 rounded border border-slate-200 bg-white p-3 text-sm" attr:data-testid="egress-decision">
                                    <input type="hidden" name="team" value=r.team.clone()/>
                                    <input type="hidden" name="id" value=r.id.to_string()/>
                                    <label for="egress-note" class="block font-medium">"Note (optional)"</label>
                                    <input id="egress-note" name="note" maxlength="2000" class="mt-1 w-full rounded border border-slate-300 p-1.5"/>
                                    <button type="submit" name="decision" value="approve" class="mt-2 rounded bg-green-800 px-3 py-1.5 text-white">"Approve"</button>
                                    <button type="submit" name="decision" value="reject" class="ml-2 mt-2 rounded bg-red-700 px-3 py-1.5 text-white">"Reject"</button>
                                </ActionForm>
                            })}
                            <h2 class="mt-6 font-semibold">"History"</h2>
                            <ol class="mt-2 list-decimal pl-5 text-sm" data-testid="egress-history">
                                {r.history.into_iter().map(|event| view! {
                                    <li>{format!("{} · {} · {}{}", event.at, event.actor, event.action, event.detail.map(|d| format!(" · {d}")).unwrap_or_default())}</li>
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
