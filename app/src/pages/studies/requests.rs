//! The airlock on the pages: a study's import and export sections, `/teams/:team/requests`
//! (the team's requests the caller sees) and `/teams/:team/requests/:id` (one request: its
//! files and their scans, its reviews, what the caller may do, its history).

use super::*;
use crate::domain::airlock::{AirlockRequestView, Direction, RequestStatus};
use crate::features::airlock::{ActOnRequest, RequestExport, StartImport, SubmitRequest, load_airlock_request, load_airlock_requests};

fn status_badge(status: RequestStatus) -> impl IntoView {
    let colour = match status {
        RequestStatus::Completed => "bg-green-100 text-green-900",
        RequestStatus::Rejected | RequestStatus::Blocked => "bg-red-100 text-red-900",
        RequestStatus::Cancelled => "bg-slate-100 text-slate-800",
        _ => "bg-amber-100 text-amber-900",
    };
    view! { <span class=format!("rounded px-1.5 text-xs {colour}") data-testid="request-status">{status.label()}</span> }
}

#[component]
pub(super) fn ExportSection(team: String, study_id: i64, panel: EgressPanel) -> impl IntoView {
    let request = ServerAction::<RequestExport>::new();
    let error = last_error(request);
    let form_team = team.clone();
    view! {
        <section class="mt-8 rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm" data-testid="egress">
            <h2 class="font-semibold">"Exports"</h2>
            <p class="mt-1">"Results leave this controlled study only through its egress folder, once scanned and approved: "
                <span class="break-all font-mono">{panel.location.clone()}</span></p>
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
                    <li><a class="text-indigo-700 underline" href=format!("/teams/{team}/requests/{}", r.id)>
                        {format!("Request #{} by {}: {} ({}, {})", r.id, r.requester, r.files.join(", "), r.status.label(), r.created_at)}
                    </a></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Bringing files in: they go up into a request's inbox, are scanned, and reach the study
/// once reviewed.
#[component]
pub(super) fn ImportSection(team: String, study_id: i64) -> impl IntoView {
    let start = ServerAction::<StartImport>::new();
    let error = last_error(start);
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm" data-testid="import">
            <h2 class="font-semibold">"Bring data in"</h2>
            <p class="mt-1 max-w-prose text-slate-600">
                "Data from outside comes in through an import: its files are scanned for malware and reviewed by the team's admins before they are copied into this study. "
                <a class="text-indigo-700 underline" href=format!("/teams/{team}/requests")>"The team's requests"</a>
            </p>
            {move || error.get().map(|e| view! { <p role="alert" class="mt-2 text-red-800">{e.to_string()}</p> })}
            <ActionForm action=start attr:class="mt-3">
                <input type="hidden" name="team" value=team.clone()/>
                <input type="hidden" name="id" value=study_id.to_string()/>
                <label for="import-reason" class="block font-medium">"What the data is and why it should come in"</label>
                <textarea id="import-reason" name="reason" rows="2" required maxlength="2000" class="mt-1 w-full rounded border border-slate-300 p-1.5"></textarea>
                <button type="submit" class="mt-2 rounded bg-indigo-700 px-3 py-1.5 text-white">"Start an import"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let list = Resource::new(team, load_airlock_requests);
    view! {
        <Title text="Imports and exports · Atrium"/>
        {move || team_nav(team(), " / requests")}
        <h1 class="mt-2 text-2xl font-semibold">"Imports and exports"</h1>
        <Suspense fallback=|| view! { <p class="mt-4">"Loading the requests…"</p> }>
            {move || Suspend::new(async move {
                let team = team();
                match list.await {
                    Ok(list) if list.requests.is_empty() => view! { <p class="mt-4 text-sm">"No requests yet. Start an import from a study's page."</p> }.into_any(),
                    Ok(list) => view! {
                        <p class="mt-1 text-sm text-slate-600">{if list.reviewer { "Every request of the team; you review them." } else { "Your requests." }}</p>
                        <div class="mt-4 overflow-x-auto">
                        <table class="w-full border-collapse text-left text-sm" data-testid="requests">
                            <thead><tr class="border-b border-slate-300">
                                <th scope="col" class="py-1 pr-3">"Request"</th>
                                <th scope="col" class="py-1 pr-3">"Study"</th>
                                <th scope="col" class="py-1 pr-3">"By"</th>
                                <th scope="col" class="py-1 pr-3">"Files"</th>
                                <th scope="col" class="py-1">"Status"</th>
                            </tr></thead>
                            <tbody>
                                {list.requests.into_iter().map(|r| view! {
                                    <tr class="border-b border-slate-200" data-request=r.id.to_string()>
                                        <td class="py-1 pr-3"><a class="text-indigo-700 underline" href=format!("/teams/{team}/requests/{}", r.id)>
                                            {format!("{} #{}", r.direction.label(), r.id)}</a></td>
                                        <td class="py-1 pr-3">{r.study_name.clone()}</td>
                                        <td class="py-1 pr-3">{r.requester.clone()}</td>
                                        <td class="py-1 pr-3 break-all">{r.files.join(", ")}</td>
                                        <td class="py-1">{status_badge(r.status)}
                                            {r.awaits_you.then(|| view! { <span class="ml-2 text-xs font-semibold">"awaits your review"</span> })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let act = ServerAction::<ActOnRequest>::new();
    let submit = ServerAction::<SubmitRequest>::new();
    let uploaded = RwSignal::new(0u32);
    let uploads = RwSignal::new(Vec::<Upload>::new());
    // Looked at again every few seconds while its files are being scanned or copied.
    let tick = RwSignal::new(0u32);
    let request = Resource::new(
        move || (team(), id(), act.version().get(), submit.version().get(), uploaded.get(), tick.get()),
        |(team, id, ..)| load_airlock_request(team, id),
    );
    Effect::new(move |_| {
        if let Some(Ok(r)) = request.get()
            && matches!(r.status, RequestStatus::Scanning | RequestStatus::Approved)
        {
            set_timeout(move || tick.update(|n| *n += 1), std::time::Duration::from_secs(2));
        }
    });
    let act_error = last_error(act);
    let submit_error = last_error(submit);
    view! {
        <Title text="Request · Atrium"/>
        {move || team_nav(team(), " / request")}
        {move || act_error.get().or_else(|| submit_error.get()).map(|e| view! {
            <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
        })}
        <Transition fallback=|| view! { <p class="mt-4">"Loading the request…"</p> }>
            {move || Suspend::new(async move {
                match request.await {
                    Ok(r) => view! { <RequestView r act submit uploaded uploads/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RequestView(
    r: AirlockRequestView,
    act: ServerAction<ActOnRequest>,
    submit: ServerAction<SubmitRequest>,
    uploaded: RwSignal<u32>,
    uploads: RwSignal<Vec<Upload>>,
) -> impl IntoView {
    let approvals = r.reviews.iter().filter(|review| review.approve).count();
    let file_base = format!("/teams/{}/requests/{}/file", r.team, r.id);
    // A completed export's requester downloads; a reviewer opens files to read them.
    let downloads = r.direction == Direction::Export && r.status == RequestStatus::Completed;
    let (team, id) = (r.team.clone(), r.id);
    let button = |action: &'static str, label: &'static str, colour: &'static str| {
        let team = team.clone();
        view! {
            <ActionForm action=act attr:class="mt-2 inline-block mr-2">
                <input type="hidden" name="team" value=team/>
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="action" value=action/>
                <button type="submit" class=format!("rounded px-3 py-1.5 text-sm text-white {colour}")>{label}</button>
            </ActionForm>
        }
    };
    let buttons = [
        (r.may_retry, "retry", "Copy again", "bg-indigo-700"),
        (r.may_fail_scan, "fail_scan", "Fail the scan", "bg-red-700"),
        (r.may_cancel, "cancel", "Cancel the request", "bg-slate-700"),
    ]
    .into_iter()
    .filter(|(shown, ..)| *shown)
    .map(|(_, action, label, colour)| button(action, label, colour))
    .collect_view();
    let upload_team = r.team.clone();
    let review_team = r.team.clone();
    view! {
        <h1 class="mt-2 text-2xl font-semibold">{format!("{} request #{}", r.direction.label(), r.id)}</h1>
        <p class="mt-1 text-sm">
            {if r.direction == Direction::Import { "Into " } else { "From " }}
            <a class="text-indigo-700 underline" href=format!("/teams/{}/studies/{}", r.team, r.study_id)>{r.study_name.clone()}</a>
            " · by "{r.requester.clone()}" · "{r.created_at.clone()}" · "{status_badge(r.status)}
        </p>
        <p class="mt-2 text-sm">"Reason: "{r.reason.clone()}</p>
        <p class="mt-1 text-sm" data-testid="request-approvals">
            {format!("Needs {} approval{} from the team's admins ({approvals} so far).", r.reviewers_needed, if r.reviewers_needed == 1 { "" } else { "s" })}
        </p>
        {r.status_note.clone().map(|note| view! {
            <p role="status" class="mt-3 rounded border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="request-note">{note}</p>
        })}
        {(r.status == RequestStatus::Approved && r.status_note.is_none()).then(|| view! {
            <p role="status" class="mt-3 text-sm">"Approved: copying the files…"</p>
        })}
        {(r.status == RequestStatus::Scanning).then(|| view! {
            <p role="status" class="mt-3 text-sm">{if r.scan_overdue {
                "Still scanning: the scan results are late. An admin may fail the request."
            } else {
                "Scanning the files for malware…"
            }}</p>
        })}
        <h2 class="mt-6 font-semibold">"Files"</h2>
        <div class="overflow-x-auto">
        <table class="mt-2 w-full border-collapse text-left text-sm" data-testid="request-files">
            <thead><tr class="border-b border-slate-300">
                <th scope="col" class="py-1 pr-3">"File"</th>
                <th scope="col" class="py-1 pr-3">"Size"</th>
                <th scope="col" class="py-1 pr-3">"Malware scan"</th>
                <th scope="col" class="py-1"><span class="sr-only">"Open"</span></th>
            </tr></thead>
            <tbody>
                {r.files.iter().map(|file| view! {
                    <tr class="border-b border-slate-200" data-file=file.path.clone()>
                        <td class="py-1 pr-3 break-all">{file.path.clone()}</td>
                        <td class="py-1 pr-3">{file.size.map(size_label).unwrap_or_default()}</td>
                        <td class="py-1 pr-3">{file.scan.map(|s| s.label()).unwrap_or(if r.status == RequestStatus::Draft { "after submitting" } else { "not scanned" })}</td>
                        <td class="py-1">{r.may_open_files.then(|| {
                            let (label, text) = if downloads {
                                (format!("Download {}", file.path), "Download")
                            } else {
                                (format!("Open {} (read-only)", file.path), "Open (read-only)")
                            };
                            view! {
                                <a rel="external" class="text-indigo-700 underline" aria-label=label
                                    href=format!("{file_base}?file={}", encode(&file.path))>{text}</a>
                            }
                        })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
        {r.may_upload.then(|| view! {
            <UploadPanel shelf=Shelf::Import { team: upload_team.clone(), id } folder=String::new() max_file_bytes=r.max_file_bytes uploaded uploads/>
            <ActionForm action=submit attr:class="mt-4">
                <input type="hidden" name="team" value=upload_team.clone()/>
                <input type="hidden" name="id" value=r.id.to_string()/>
                <button type="submit" class="rounded bg-green-800 px-3 py-1.5 text-sm text-white">"Submit for scanning and review"</button>
            </ActionForm>
        })}
        {r.may_review.then(|| view! {
            <ActionForm action=act attr:class="mt-4 rounded border border-slate-200 bg-white p-3 text-sm" attr:data-testid="request-review">
                <input type="hidden" name="team" value=review_team.clone()/>
                <input type="hidden" name="id" value=r.id.to_string()/>
                <label for="review-note" class="block font-medium">"Note (required to reject: the requester reads it)"</label>
                <textarea id="review-note" name="note" rows="2" maxlength="2000" class="mt-1 w-full rounded border border-slate-300 p-1.5"></textarea>
                <button type="submit" name="action" value="approve" class="mt-2 rounded bg-green-800 px-3 py-1.5 text-white">"Approve"</button>
                <button type="submit" name="action" value="reject" class="ml-2 mt-2 rounded bg-red-700 px-3 py-1.5 text-white">"Reject"</button>
            </ActionForm>
        })}
        <div>
            {buttons}
        </div>
        {(!r.reviews.is_empty()).then(|| view! {
            <h2 class="mt-6 font-semibold">"Reviews"</h2>
            <ul class="mt-2 list-disc pl-5 text-sm" data-testid="request-reviews">
                {r.reviews.iter().map(|review| view! {
                    <li>{format!("{} {} at {}{}", review.reviewer, if review.approve { "approved" } else { "rejected" }, review.at,
                        if review.note.is_empty() { String::new() } else { format!(": {}", review.note) })}</li>
                }).collect_view()}
            </ul>
        })}
        <h2 class="mt-6 font-semibold">"History"</h2>
        <ol class="mt-2 list-decimal pl-5 text-sm" data-testid="request-history">
            {r.history.iter().map(|event| view! {
                <li class="break-words">{format!("{} · {} · {}{}", event.at, event.actor, event.action, event.detail.clone().map(|d| format!(" · {d}")).unwrap_or_default())}</li>
            }).collect_view()}
        </ol>
    }
}
