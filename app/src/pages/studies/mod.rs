//! `/teams/:team/studies`: the studies a member can see from the team, and a new one;
//! `/teams/:team/studies/:id`: one study's files, uploaded and downloaded by the browser
//! straight to and from S3; `/teams/:team/requests[/:id]`: the airlock's imports and exports;
//! `/teams/:team/scratch`: the team's scratch space, browsed the same way.

use crate::domain::studies::{EgressPanel, FileEntry, FolderListing, StudyScope, StudyView, UploadTicket, size_label};
use crate::features::airlock::{complete_import_upload, import_upload};
use crate::features::scratch::{DeleteScratchFile, complete_scratch_upload, load_scratch_files, scratch_upload};
use crate::features::studies::{
    CreateStudy, DeleteStudyFile, SetStudyWriters, complete_study_upload, load_studies, load_study_files, study_upload,
};
use crate::pages::errors::ErrorPanel;
use crate::pages::forms::{FieldMessage, last_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

mod requests;
pub use requests::*;
mod browser;
mod scratch;
pub use scratch::*;

/// Where a page's files are: a study, or the team's scratch space.
#[derive(Clone)]
enum Shelf {
    Study {
        team: String,
        id: i64,
    },
    Scratch {
        team: String,
    },
    /// A draft import's inbox.
    Import {
        team: String,
        id: i64,
    },
}

impl Shelf {
    async fn ticket(&self, path: String, size: u64, content_type: String) -> Result<UploadTicket, crate::error::AppError> {
        match self.clone() {
            Shelf::Study { team, id } => study_upload(team, id, path, size, content_type).await,
            Shelf::Scratch { team } => scratch_upload(team, path, size, content_type).await,
            Shelf::Import { team, id } => import_upload(team, id, path, size, content_type).await,
        }
    }

    async fn complete(&self, path: String, upload_id: String, etags: Vec<String>) -> Result<(), crate::error::AppError> {
        match self.clone() {
            Shelf::Study { team, id } => complete_study_upload(team, id, path, upload_id, etags).await,
            Shelf::Scratch { team } => complete_scratch_upload(team, path, upload_id, etags).await,
            Shelf::Import { team, id } => complete_import_upload(team, id, path, upload_id, etags).await,
        }
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn team_nav(team: String, last: &'static str) -> impl IntoView {
    view! {
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=format!("/teams/{team}") class="hover:underline">{team.clone()}</a>" / "
            <a href=format!("/teams/{team}/studies") class="hover:underline">"studies"</a>{last}
        </nav>
    }
}

#[component]
pub fn StudiesPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let create = ServerAction::<CreateStudy>::new();
    let list = Resource::new(team, load_studies);
    let error = last_error(create);
    view! {
        <Title text="Studies · Atrium"/>
        {move || team_nav(team(), "")}
        <h1 class="mt-2 text-2xl font-semibold">"Studies"</h1>
        <p class="mt-2 max-w-prose text-sm text-slate-700">
            "Research data in S3: your own, your team's, your organisation's and open data. Files go between your browser and S3 directly; workspaces mount the studies you choose at launch."
        </p>
        <p class="mt-1 text-sm"><a class="text-indigo-700 underline" href=move || format!("/teams/{}/requests", team())>"Imports and exports"</a>
            " (data coming in, and leaving controlled studies, after review)"</p>
        <Suspense fallback=|| view! { <p class="mt-4">"Loading the studies…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => {
                        let team = team();
                        let creating = list.may_create.then(|| view! { <NewStudyForm team=team.clone() create error is_admin=list.is_admin all_teams=list.all_teams.clone()/> });
                        view! {
                            <StudyTable team studies=list.studies/>
                            {creating}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StudyTable(team: String, studies: Vec<StudyView>) -> impl IntoView {
    if studies.is_empty() {
        return view! { <p class="mt-6 text-sm text-slate-700">"No studies yet."</p> }.into_any();
    }
    view! {
        <table class="mt-6 w-full border-collapse text-left text-sm" data-testid="studies">
            <thead><tr class="border-b border-slate-300">
                <th scope="col" class="py-1 pr-3">"Study"</th>
                <th scope="col" class="py-1 pr-3">"Kind"</th>
                <th scope="col" class="py-1 pr-3">"Owner"</th>
                <th scope="col" class="py-1 pr-3">"Your access"</th>
                <th scope="col" class="py-1">"Location"</th>
            </tr></thead>
            <tbody>
                {studies.into_iter().map(|study| view! {
                    <tr class="border-b border-slate-200" data-study=study.name.clone()>
                        <td class="py-1 pr-3">
                            <a class="text-indigo-700 underline" href=format!("/teams/{team}/studies/{}", study.id)>{study.name.clone()}</a>
                            {study.controlled.then(|| view! { <span class="ml-2 rounded bg-amber-100 px-1.5 text-xs text-amber-900">"controlled"</span> })}
                        </td>
                        <td class="py-1 pr-3">{study.scope.label()}</td>
                        <td class="py-1 pr-3">{study.owner.clone()}</td>
                        <td class="py-1 pr-3" data-testid="study-access">{study.access.label()}</td>
                        <td class="py-1 font-mono text-xs">{study.location.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn NewStudyForm(
    team: String,
    create: ServerAction<CreateStudy>,
    error: Signal<Option<crate::error::AppError>>,
    is_admin: bool,
    all_teams: Vec<String>,
) -> impl IntoView {
    let scopes: Vec<StudyScope> =
        StudyScope::ALL.into_iter().filter(|s| is_admin || matches!(s, StudyScope::My | StudyScope::Team)).collect();
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
            <h2 class="font-semibold">"New study"</h2>
            {move || error.get().map(|e| view! {
                <p role="alert" data-testid="study-error" class="mt-3 rounded border border-red-200 bg-red-50 p-3 text-red-800">{e.to_string()}</p>
            })}
            <ActionForm action=create attr:class="mt-3 grid gap-3 sm:grid-cols-2" attr:data-testid="new-study">
                <input type="hidden" name="team" value=team/>
                <div>
                    <label for="study-scope" class="block font-medium">"For"</label>
                    <select id="study-scope" name="scope" class="mt-1 w-full rounded border border-slate-300 p-1.5">
                        {scopes.into_iter().map(|scope| view! { <option value=scope.as_str() selected=scope == StudyScope::Team>{scope.label()}</option> }).collect_view()}
                    </select>
                    <FieldMessage error field="scope" id="study-scope-error".into()/>
                </div>
                <div>
                    <label for="study-name" class="block font-medium">"Name"</label>
                    <input id="study-name" name="name" required maxlength="80" aria-describedby="study-name-error" class="mt-1 w-full rounded border border-slate-300 p-1.5"/>
                    <FieldMessage error field="name" id="study-name-error".into()/>
                </div>
                <div class="sm:col-span-2">
                    <label for="study-description" class="block font-medium">"Description"</label>
                    <textarea id="study-description" name="description" rows="2" maxlength="2000" class="mt-1 w-full rounded border border-slate-300 p-1.5"></textarea>
                </div>
                <div>
                    <label for="study-folder" class="block font-medium">"Folder (optional: from the name)"</label>
                    <input id="study-folder" name="folder" maxlength="200" placeholder="e.g. rna-seq-2026" aria-describedby="study-folder-error" class="mt-1 w-full rounded border border-slate-300 p-1.5"/>
                    <FieldMessage error field="folder" id="study-folder-error".into()/>
                </div>
                <label class="flex items-center gap-2 self-end">
                    <input type="checkbox" name="controlled" value="on"/>
                    "Controlled: mounted read-only; files leave only through approved export requests"
                </label>
                {is_admin.then(|| view! {
                    <fieldset class="sm:col-span-2 rounded border border-slate-200 p-3" aria-describedby="study-teams-error">
                        <legend class="px-1 font-medium">"Organisation studies: the teams that may read it"</legend>
                        {all_teams.into_iter().map(|slug| view! {
                            <label class="mr-4 inline-flex items-center gap-1">
                                <input type="checkbox" name=format!("teams[{slug}]") value="on"/>{slug.clone()}
                            </label>
                        }).collect_view()}
                        <FieldMessage error field="teams" id="study-teams-error".into()/>
                    </fieldset>
                    <div class="sm:col-span-2">
                        <label for="study-location" class="block font-medium">"Open data: where it is (s3://bucket/prefix/)"</label>
                        <input id="study-location" name="location" aria-describedby="study-location-error" class="mt-1 w-full rounded border border-slate-300 p-1.5 font-mono"/>
                        <FieldMessage error field="location" id="study-location-error".into()/>
                    </div>
                })}
                <div class="sm:col-span-2"><button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Create study"</button></div>
            </ActionForm>
        </section>
    }
}

/// One file's upload as the page shows it. Its signals are reference-counted, not owned by
/// the panel that started it: the listing (and the panel with it) is re-rendered as each
/// upload ends, and the uploads stay in view.
#[derive(Clone)]
struct Upload {
    name: String,
    percent: ArcRwSignal<f64>,
    outcome: ArcRwSignal<Option<Result<(), String>>>,
}

#[component]
pub fn StudyPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let folder = move || query.read().get("folder").unwrap_or_default();
    let page = move || query.read().get("page");
    let delete = ServerAction::<DeleteStudyFile>::new();
    let writers = ServerAction::<SetStudyWriters>::new();
    let uploaded = RwSignal::new(0u32);
    // Outside the listing: it reloads as each upload ends, and the uploads stay in view.
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let listing = Resource::new(
        move || (team(), id(), folder(), page(), delete.version().get(), writers.version().get(), uploaded.get()),
        |(team, id, folder, page, ..)| load_study_files(team, id, folder, page),
    );
    view! {
        <Title text="Study · Atrium"/>
        {move || team_nav(team(), " / study")}
        <Transition fallback=|| view! { <p class="mt-4">"Loading the study…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(listing) => view! { <StudyView team=team() listing delete writers uploaded uploads/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StudyView(
    team: String,
    listing: FolderListing,
    delete: ServerAction<DeleteStudyFile>,
    writers: ServerAction<SetStudyWriters>,
    uploaded: RwSignal<u32>,
    uploads: RwSignal<Vec<Upload>>,
) -> impl IntoView {
    let FolderListing { study, folder, folders, files, next_page, max_file_bytes, egress, team_members } = listing;
    let base = format!("/teams/{team}/studies/{}", study.id);
    let may_write = study.may_write();
    let download = (!study.controlled).then(|| base.clone());
    view! {
        <h1 class="mt-2 text-2xl font-semibold" data-testid="study-name">{study.name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            {study.scope.label()}" · owner "{study.owner.clone()}" · you have "
            <span data-testid="study-access">{study.access.label()}</span>" access"
            {study.controlled.then_some(" · controlled")}
        </p>
        <p class="mt-2 max-w-prose text-sm text-slate-700">{study.description.clone()}</p>
        <p class="mt-1 font-mono text-xs text-slate-600">{format!("{}{folder}", study.location)}</p>
        {move || delete.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
        })}
        <FolderNav base=base.clone() folder=folder.clone()/>
        <FileTable base=base.clone() folders files=files.into_iter().map(|file| (file, may_write)).collect() download
            delete_form=study_delete_form(team.clone(), study.id, delete)/>
        {next_page.map(|token| view! {
            <p class="mt-3 text-sm"><a class="text-indigo-700 underline" href=format!("{base}?folder={}&page={}", encode(&folder), encode(&token))>"Next page"</a></p>
        })}
        {may_write.then(|| view! {
            <UploadPanel shelf=Shelf::Study { team: team.clone(), id: study.id } folder=folder.clone() max_file_bytes uploaded uploads/>
        })}
        {study.may_choose_writers.then(|| view! { <WritersForm team=team.clone() study=study.clone() members=team_members writers/> })}
        {egress.map(|panel| view! { <ExportSection team=team.clone() study_id=study.id panel/> })}
        {may_write.then(|| view! { <ImportSection team=team.clone() study_id=study.id/> })}
    }
}

#[component]
fn FolderNav(base: String, folder: String) -> impl IntoView {
    if folder.is_empty() {
        return ().into_any();
    }
    let parent = folder.trim_end_matches('/').rsplit_once('/').map(|(parent, _)| format!("{parent}/")).unwrap_or_default();
    view! {
        <p class="mt-4 text-sm">
            <a class="text-indigo-700 underline" href=format!("{base}?folder={}", encode(&parent))>"Up one folder"</a>
            " · in "<span class="font-mono">{folder}</span>
        </p>
    }
    .into_any()
}

/// The form that deletes one file of a study, after "Delete" is clicked.
fn study_delete_form(team: String, study_id: i64, delete: ServerAction<DeleteStudyFile>) -> Callback<String, AnyView> {
    Callback::new(move |path: String| {
        let team = team.clone();
        view! {
            <ActionForm action=delete attr:class="ml-3 inline">
                <input type="hidden" name="team" value=team/>
                <input type="hidden" name="id" value=study_id.to_string()/>
                <input type="hidden" name="path" value=path.clone()/>
                <DeleteQuestion path/>
            </ActionForm>
        }
        .into_any()
    })
}

/// "Delete …?" with its two buttons, inside a delete form (Cancel closes it).
#[component]
fn DeleteQuestion(path: String) -> impl IntoView {
    let confirm = use_context::<RwSignal<bool>>();
    view! {
        <span role="alert">{format!("Delete {path}? ")}</span>
        <button type="submit" class="rounded bg-red-700 px-2 py-0.5 text-white">"Delete for good"</button>
        <button type="button" class="ml-2 underline" on:click=move |_| if let Some(confirm) = confirm { confirm.set(false) }>"Cancel"</button>
    }
}

#[component]
fn FileTable(
    base: String,
    folders: Vec<String>,
    /// Each file, and whether the caller may delete it.
    files: Vec<(FileEntry, bool)>,
    /// Where downloads start (`None`: a controlled study, whose files leave by export only).
    download: Option<String>,
    /// The form that deletes the file at a path.
    delete_form: Callback<String, AnyView>,
) -> impl IntoView {
    if folders.is_empty() && files.is_empty() {
        return view! { <p class="mt-4 text-sm text-slate-700" data-testid="no-files">"No files here yet."</p> }.into_any();
    }
    view! {
        <table class="mt-4 w-full border-collapse text-left text-sm" data-testid="study-files">
            <thead><tr class="border-b border-slate-300">
                <th scope="col" class="py-1 pr-3">"Name"</th>
                <th scope="col" class="py-1 pr-3">"Size"</th>
                <th scope="col" class="py-1 pr-3">"Last modified"</th>
                <th scope="col" class="py-1"><span class="sr-only">"Actions"</span></th>
            </tr></thead>
            <tbody>
                {folders.into_iter().map(|sub| {
                    let label = sub.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
                    view! {
                        <tr class="border-b border-slate-200">
                            <td class="py-1 pr-3"><a class="text-indigo-700 underline" href=format!("{base}?folder={}", encode(&sub))>{format!("{label}/")}</a></td>
                            <td class="py-1 pr-3">"folder"</td><td></td><td></td>
                        </tr>
                    }
                }).collect_view()}
                {files.into_iter().map(|(file, may_delete)| {
                    let confirm = RwSignal::new(false);
                    let path = file.path.clone();
                    let delete_cell = may_delete.then_some(move || if confirm.get() {
                                    let form = delete_form.run(path.clone());
                                    view! { <leptos::context::Provider value=confirm>{form}</leptos::context::Provider> }.into_any()
                                } else {
                                    view! {
                                        <button type="button" class="ml-3 text-red-800 underline" on:click=move |_| confirm.set(true)>"Delete"</button>
                                    }.into_any()
                                });
                    view! {
                        <tr class="border-b border-slate-200" data-file=file.name.clone()>
                            <td class="py-1 pr-3">{file.name.clone()}</td>
                            <td class="py-1 pr-3">{size_label(file.size)}</td>
                            <td class="py-1 pr-3">{file.last_modified.clone()}</td>
                            <td class="py-1">
                                {download.clone().map(|base| view! {
                                    // rel=external: a server route (a redirect to S3), not a page of the app.
                                    <a rel="external" class="text-indigo-700 underline" aria-label=format!("Download {}", file.name)
                                        href=format!("{base}/download?path={}", encode(&file.path))>"Download"</a>
                                })}
                                {delete_cell}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn UploadPanel(
    shelf: Shelf,
    folder: String,
    max_file_bytes: u64,
    uploaded: RwSignal<u32>,
    uploads: RwSignal<Vec<Upload>>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let start = move |_| {
        let Some(input) = input.get() else { return };
        let Some(list) = input.files() else { return };
        for index in 0..list.length() {
            let Some(file) = list.item(index) else { continue };
            let upload = Upload { name: file.name(), percent: ArcRwSignal::new(0.0), outcome: ArcRwSignal::new(None) };
            uploads.update(|all| all.push(upload.clone()));
            let (shelf, path) = (shelf.clone(), format!("{folder}{}", file.name()));
            leptos::task::spawn_local(async move {
                let outcome = browser::upload(shelf, path, file, upload.percent.clone()).await;
                let done = outcome.is_ok();
                upload.outcome.set(Some(outcome));
                if done {
                    uploaded.update(|n| *n += 1);
                }
            });
        }
        input.set_value("");
    };
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm" data-testid="upload">
            <h2 class="font-semibold">"Upload files"</h2>
            <p class="mt-1 text-slate-600">{format!("Straight to S3, up to {} each.", size_label(max_file_bytes as i64))}</p>
            <label for="study-files-input" class="mt-3 block font-medium">"Files"</label>
            <input id="study-files-input" node_ref=input type="file" multiple class="mt-1 block"/>
            <button type="button" on:click=start class="mt-3 rounded bg-indigo-700 px-3 py-1.5 text-white">"Upload"</button>
            <ul class="mt-3 space-y-2" data-testid="uploads">
                <For each=move || uploads.get() key=|u| u.name.clone() let:upload>
                    <li data-upload=upload.name.clone()>
                        <span>{upload.name.clone()}</span>
                        <progress class="ml-3 align-middle" max="100" value={
                            let percent = upload.percent.clone();
                            move || percent.get().to_string()
                        }
                            aria-label=format!("Upload of {}", upload.name)></progress>
                        <span class="ml-2" data-testid="upload-status">{move || match upload.outcome.get() {
                            None => format!("{:.0}%", upload.percent.get()),
                            Some(Ok(())) => "uploaded".to_owned(),
                            Some(Err(message)) => message,
                        }}</span>
                    </li>
                </For>
            </ul>
        </section>
    }
}

#[component]
fn WritersForm(team: String, study: StudyView, members: Vec<String>, writers: ServerAction<SetStudyWriters>) -> impl IntoView {
    let error = last_error(writers);
    let chosen = study.writers.clone();
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
            <h2 class="font-semibold">"Who may write"</h2>
            <p class="mt-1 text-slate-600">"Besides the owner and the team's admins. Guests only ever read."</p>
            {move || error.get().map(|e| view! { <p role="alert" class="mt-2 text-red-800">{e.to_string()}</p> })}
            <ActionForm action=writers attr:class="mt-2" attr:data-testid="writers">
                <input type="hidden" name="team" value=team/>
                <input type="hidden" name="id" value=study.id.to_string()/>
                {members.into_iter().filter(|m| *m != study.owner).map(|member| view! {
                    <label class="mr-4 inline-flex items-center gap-1">
                        <input type="checkbox" name=format!("writers[{member}]") value="on" checked=chosen.contains(&member)/>{member.clone()}
                    </label>
                }).collect_view()}
                <button type="submit" class="ml-2 rounded border border-indigo-300 px-2 py-0.5 text-indigo-800">"Save writers"</button>
            </ActionForm>
        </section>
    }
}
