//! `/teams/:team/scratch`: the team's scratch space, browsed, uploaded to and downloaded from
//! like a study.

use super::*;
use crate::domain::studies::ScratchListing;

#[component]
pub fn ScratchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let team = move || params.read().get("team").unwrap_or_default();
    let folder = move || query.read().get("folder").unwrap_or_default();
    let page = move || query.read().get("page");
    let delete = ServerAction::<DeleteScratchFile>::new();
    let uploaded = RwSignal::new(0u32);
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let listing = Resource::new(
        move || (team(), folder(), page(), delete.version().get(), uploaded.get()),
        |(team, folder, page, ..)| load_scratch_files(team, folder, page),
    );
    view! {
        <Title text="Scratch space · Atrium"/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=move || format!("/teams/{}", team()) class="hover:underline">{team}</a>" / scratch space"
        </nav>
        <h1 class="mt-2 text-2xl font-semibold">"Scratch space"</h1>
        <p class="mt-1 max-w-prose text-sm text-slate-700">
            "Working files the team shares, outside every study. Files you upload are yours to delete; the team's admins may delete any."
        </p>
        {move || delete.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
        })}
        <Transition fallback=|| view! { <p class="mt-4">"Loading the scratch space…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(listing) => view! { <ScratchView team=team() listing delete uploaded uploads/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ScratchView(
    team: String,
    listing: ScratchListing,
    delete: ServerAction<DeleteScratchFile>,
    uploaded: RwSignal<u32>,
    uploads: RwSignal<Vec<Upload>>,
) -> impl IntoView {
    let ScratchListing { location, folder, folders, files, next_page, max_file_bytes, may_upload } = listing;
    let base = format!("/teams/{team}/scratch");
    let files = files.into_iter().map(|file| (file.file, file.may_delete)).collect();
    let delete_form = {
        let team = team.clone();
        Callback::new(move |path: String| {
            let team = team.clone();
            view! {
                <ActionForm action=delete attr:class="ml-3 inline">
                    <input type="hidden" name="team" value=team/>
                    <input type="hidden" name="path" value=path.clone()/>
                    <DeleteQuestion path/>
                </ActionForm>
            }
            .into_any()
        })
    };
    view! {
        <p class="mt-1 break-all font-mono text-xs text-slate-600" data-testid="scratch-location">{format!("{location}{folder}")}</p>
        <FolderNav base=base.clone() folder=folder.clone()/>
        <FileTable base=base.clone() folders files download=Some(base.clone()) delete_form/>
        {next_page.map(|token| view! {
            <p class="mt-3 text-sm"><a class="text-indigo-700 underline" href=format!("{base}?folder={}&page={}", encode(&folder), encode(&token))>"Next page"</a></p>
        })}
        {may_upload.then(|| view! { <UploadPanel shelf=Shelf::Scratch { team: team.clone() } folder=folder.clone() max_file_bytes uploaded uploads/> })}
    }
}
