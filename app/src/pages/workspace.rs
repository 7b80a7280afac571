use crate::domain::idle::SNOOZE_HOURS;
use crate::domain::workspace::WorkspaceSharing;
use crate::domain::workspace::{WorkspaceAction, WorkspaceState, WorkspaceView};
use crate::features::workspaces::{
    KeepWorkspaceRunning, LaunchAgain, ResizeWorkspace, ShareWorkspace, StartWorkspaceSession, UpgradeWorkspace,
    WorkspaceAction as RequestAction, load_workspace, load_workspace_sharing,
};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/workspaces/:id`: one workspace and its progress, updated live over server-sent events
/// once the page has hydrated (before that, the server-rendered state).
#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let keep = ServerAction::<KeepWorkspaceRunning>::new();
    let loaded = Resource::new(move || (id(), keep.version().get()), |(id, _)| load_workspace(id));
    let live: RwSignal<Option<WorkspaceView>> = RwSignal::new(None);
    let act = ServerAction::<RequestAction>::new();
    let share = ServerAction::<ShareWorkspace>::new();
    let again = ServerAction::<LaunchAgain>::new();
    let change = Changes { upgrade: ServerAction::new(), resize: ServerAction::new(), session: ServerAction::new() };
    let sharing = Resource::new(move || (id(), share.version().get(), act.version().get()), |(id, ..)| load_workspace_sharing(id));
    // "Keep running" changes what the page was loaded with: show the reloaded one.
    Effect::new(move |_| {
        if let Some(Ok(())) = keep.value().get() {
            live.set(None);
        }
    });
    Effect::new(move |_| follow_events(&id(), live));

    view! {
        <Suspense fallback=|| view! { <p>"Loading the workspace…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok(initial) => {
                        // Without it (a failure to read the shares), the page shows no actions.
                        let sharing = sharing.await.unwrap_or_default();
                        let may_manage = sharing.may_manage;
                        view! {
                            {move || act.value().get().and_then(|r| r.err())
                                .or_else(|| keep.value().get().and_then(|r| r.err()))
                                .or_else(|| again.value().get().and_then(|r| r.err()))
                                .or_else(|| change.upgrade.value().get().and_then(|r| r.err()))
                                .or_else(|| change.resize.value().get().and_then(|r| r.err()))
                                .or_else(|| change.session.value().get().and_then(|r| r.err()))
                                .map(|error| view! {
                                    <p role="alert" data-testid="action-error" class="mb-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p>
                                })}
                            {move || view! { <WorkspaceDetails w=live.get().unwrap_or_else(|| initial.clone()) act keep change may_manage/> }}
                            <SharingPanel id=id() sharing share again/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Subscribes to the workspace's event stream (browser only; closed when the page goes).
fn follow_events(id: &str, live: RwSignal<Option<WorkspaceView>>) {
    use leptos::wasm_bindgen::{JsCast, closure::Closure};
    let Ok(source) = leptos::web_sys::EventSource::new(&format!("/events/workspaces/{id}")) else { return };
    let on_message = Closure::<dyn FnMut(leptos::web_sys::MessageEvent)>::new(move |event: leptos::web_sys::MessageEvent| {
        if let Some(view) = event.data().as_string().and_then(|text| serde_json::from_str::<WorkspaceView>(&text).ok()) {
            live.set(Some(view));
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

fn state_badge(state: WorkspaceState) -> &'static str {
    match state {
        WorkspaceState::Available => "bg-green-100 text-green-800",
        WorkspaceState::Failed => "bg-red-100 text-red-800",
        WorkspaceState::Terminated | WorkspaceState::Stopped => "bg-slate-200 text-slate-700",
        _ => "bg-amber-100 text-amber-800",
    }
}

/// Upgrade and "Change size", the forms that update a workspace in place, and Session Manager.
#[derive(Clone, Copy)]
struct Changes {
    upgrade: ServerAction<UpgradeWorkspace>,
    resize: ServerAction<ResizeWorkspace>,
    session: ServerAction<StartWorkspaceSession>,
}

#[component]
fn WorkspaceDetails(
    w: WorkspaceView,
    act: ServerAction<RequestAction>,
    keep: ServerAction<KeepWorkspaceRunning>,
    change: Changes,
    may_manage: bool,
) -> impl IntoView {
    let cents = w.estimated_hourly_cost_cents;
    // Those it is shared with connect; only its owner (or an admin) acts on it.
    let actions = if may_manage { w.available_actions() } else { Vec::new() };
    let terminate_only = !w.has_stop_start && !matches!(w.state, WorkspaceState::Terminated | WorkspaceState::Terminating);
    // Each part is erased on its own (`into_any`): the page nests inside Suspense and the
    // router, and as one concrete view type it overflowed rustc's layout depth in release builds.
    let heading = view! {
        <Title text=format!("{} · Atrium", w.name)/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "
            <a href=format!("/teams/{}", w.team) class="hover:underline">{w.team.to_string()}</a>" / "{w.name.clone()}
        </nav>
        <div class="mt-2 flex items-center gap-3">
            <h1 class="text-2xl font-semibold">{w.name.clone()}</h1>
            <span class=format!("rounded px-2 py-0.5 text-sm font-medium {}", state_badge(w.state)) data-testid="workspace-state">{w.state.as_str()}</span>
            {w.health_alarms.iter().map(|alarm| view! {
                <span class="rounded bg-red-100 px-2 py-0.5 text-sm font-medium text-red-800" data-testid="health-alarm">{alarm.label()}</span>
            }).collect_view()}
        </div>
        <p class="mt-1 text-slate-600">{format!("{} · {} · {}/hour estimated · launched {}", w.configuration_name, w.type_label, crate::domain::dollars(cents.into()), w.created_at)}</p>
    }
    .into_any();
    let failure = view! {
        {w.failure_message.clone().map(|message| view! {
            <p role="alert" data-testid="workspace-failure" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">
                "AWS reported: "{message}
            </p>
        })}
    }
    .into_any();
    let stops_at = view! {
        {w.stops_at.clone().filter(|_| may_manage).map(|at| {
            let id = w.id.clone();
            let verb = if w.has_stop_start { "stops" } else { "is terminated" };
            let note = if w.kept_running {
                format!("Kept running: {verb} at {at} unless used")
            } else if w.has_stop_start {
                format!("Stops at {at} unless used")
            } else {
                format!("Is terminated at {at} unless it runs a job: save your results first")
            };
            view! {
                <div class="mt-4 flex flex-wrap items-center gap-2 rounded border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
                    <span data-testid="stops-at">{note}</span>
                    {SNOOZE_HOURS.into_iter().map(|hours| {
                        let id = id.clone();
                        let label = if hours == 1 { "Keep running 1 hour".to_owned() } else { format!("Keep running {hours} hours") };
                        view! {
                            <ActionForm action=keep>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="hours" value=hours.to_string()/>
                                <button type="submit" class="rounded border border-amber-300 bg-white px-2 py-0.5 hover:bg-amber-100">{label}</button>
                            </ActionForm>
                        }
                    }).collect_view()}
                </div>
            }
        })}
    }
    .into_any();
    let buttons = view! {
        <div class="mt-4 flex flex-wrap items-start gap-3" data-testid="workspace-actions">
            {(w.state == WorkspaceState::Available).then(|| view! {
                // A plain form: the server answers with a redirect to the (short-lived) URL.
                <form method="post" action=format!("/workspaces/{}/connect", w.id) target="_self">
                    <button type="submit" class="rounded bg-indigo-700 px-4 py-1 font-medium text-white hover:bg-indigo-800">"Connect"</button>
                </form>
            })}
            {actions.into_iter().map(|action| {
                let id = w.id.clone();
                match action {
                    WorkspaceAction::Terminate => view! {
                        <details class="rounded border border-red-300 px-3 py-1">
                            <summary class="cursor-pointer text-red-700">"Terminate…"</summary>
                            <p class="mt-2 max-w-sm text-sm text-slate-600">"Terminating deletes the workspace and everything on it. This cannot be undone."</p>
                            <ActionForm action=act>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="action" value="terminate"/>
                                <button type="submit" class="mt-2 rounded bg-red-700 px-3 py-1 text-white hover:bg-red-800">"Yes, terminate it"</button>
                            </ActionForm>
                        </details>
                    }.into_any(),
                    other => view! {
                        <ActionForm action=act>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value=other.as_str()/>
                            <button type="submit" class="rounded border border-slate-300 px-3 py-1 capitalize hover:bg-slate-100">{other.as_str()}</button>
                        </ActionForm>
                    }.into_any(),
                }
            }).collect_view()}
            {(w.state == WorkspaceState::Available && w.outputs.contains_key("InstanceId")).then(|| view! { <SessionForms id=w.id.clone() session=change.session/> })}
            {(terminate_only && may_manage).then(|| view! { <p class="text-sm text-slate-500" data-testid="terminate-only">"This workspace type cannot be stopped and started: terminate it when you are done."</p> })}
        </div>
    }
    .into_any();
    let updates = view! {
        {may_manage.then(|| view! { <UpdateForms w=w.clone() change/> })}
    }
    .into_any();
    let progress = view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 class="text-lg font-semibold">"Progress"</h2>
            <ol class="mt-3 space-y-2 text-sm" data-testid="workspace-events">
                {w.events.into_iter().map(|e| view! {
                    <li class="flex gap-3">
                        <span class="font-mono text-slate-500">{e.at}</span>
                        <span class="font-medium">{e.to_state.as_str()}</span>
                        <span class="text-slate-600">{e.message.unwrap_or_default()}</span>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
    .into_any();
    let studies = view! {
        {(!w.studies.is_empty()).then(|| {
            let team = w.team.to_string();
            view! {
                <section class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="workspace-studies">
                    <h2 class="text-lg font-semibold">"Studies"</h2>
                    <ul class="mt-3 space-y-1 text-sm">
                        {w.studies.into_iter().map(|study| view! {
                            <li data-study=study.name.clone()>
                                <a class="text-indigo-700 underline" href=format!("/teams/{team}/studies/{}", study.id)>{study.name.clone()}</a>
                                " · "<span data-testid="study-mount-access">{study.access.label()}</span>
                                " · "<span class="font-mono text-xs">{study.location.clone()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            }
        })}
    }
    .into_any();
    let outputs = view! {
        {(!w.outputs.is_empty()).then(|| view! {
            <section class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="workspace-outputs">
                <h2 class="text-lg font-semibold">"Details"</h2>
                <dl class="mt-3 grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[14rem_1fr]">
                    {w.outputs.into_iter().map(|(key, value)| view! {
                        <dt class="font-medium text-slate-500">{key}</dt><dd class="font-mono">{value}</dd>
                    }).collect_view()}
                </dl>
            </section>
        })}
    }
    .into_any();
    view! { {heading}{failure}{stops_at}{buttons}{updates}{progress}{studies}{outputs} }.into_any()
}

/// SSH or RDP through Session Manager: the portal starts the session in the caller's name and
/// shows the commands that open it (the plugin's carries the session's token: shown once).
#[component]
fn SessionForms(id: String, session: ServerAction<StartWorkspaceSession>) -> impl IntoView {
    let command = |label: &'static str, text: String| {
        view! {
            <p class="mt-2 font-medium">{label}</p>
            <pre class="mt-1 overflow-x-auto whitespace-pre-wrap break-all rounded bg-slate-900 p-2 text-xs text-slate-100">{text}</pre>
        }
    };
    view! {
        <details class="rounded border border-slate-300 px-3 py-1" data-testid="session-manager">
            <summary class="cursor-pointer">"SSH or RDP (Session Manager)…"</summary>
            <p class="mt-2 max-w-xl text-sm text-slate-600">"No open port: the portal starts a Session Manager session to the workstation in your name, and the commands below forward it to your machine."</p>
            <div class="mt-2 flex gap-2">
                {["ssh", "rdp"].into_iter().map(|protocol| {
                    let id = id.clone();
                    view! {
                    <ActionForm action=session>
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="protocol" value=protocol/>
                        <button type="submit" class="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">{format!("Start an {} session", protocol.to_uppercase())}</button>
                    </ActionForm>
                    }
                }).collect_view()}
            </div>
            {move || session.value().get().and_then(|r| r.ok()).map(|s| view! {
                <div class="mt-2 max-w-3xl text-sm" data-testid="session-commands">
                    <p>{format!("Session {} to {} is started.", s.session_id, s.instance_id)}</p>
                    {command("1. Open it (Session Manager plugin):", s.plugin_command)}
                    {command("2. Then, in another terminal:", s.client_command)}
                    {command("Or, with credentials in the team's account:", s.aws_cli_command)}
                    <p class="mt-2 text-slate-600">"Or run: atrium ssh <workspace name>"</p>
                </div>
            })}
        </details>
    }
}

/// "Upgrade available" (with the admin's deadline) and "Change size", for a live workspace.
#[component]
fn UpdateForms(w: WorkspaceView, change: Changes) -> impl IntoView {
    let live = !matches!(w.state, WorkspaceState::Terminated | WorkspaceState::Failed | WorkspaceState::Terminating);
    let running = w.state == WorkspaceState::Available;
    let when = if running { "" } else { " Start it first: it is updated while it runs." };
    let id = w.id.clone();
    let upgrade = w.upgrade.clone().filter(|_| live).map(|offer| {
        let deadline = w.upgrade_by.clone().map(|by| format!(" Your administrator asks that it be upgraded by {by}."));
        view! {
            <section class="mt-4 rounded border border-indigo-200 bg-indigo-50 p-3 text-sm text-indigo-900" data-testid="upgrade-available">
                <p><strong>"Upgrade available: "</strong>{format!("{} is approved.", offer.type_label)}{deadline}
                   " Upgrading keeps the workspace, its name, its data volume and its costs."{when}</p>
                {running.then(|| view! {
                    <ActionForm action=change.upgrade attr:class="mt-2">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="to_type_id" value=offer.type_id.to_string()/>
                        <button type="submit" class="rounded bg-indigo-700 px-3 py-1 font-medium text-white hover:bg-indigo-800">{format!("Upgrade to {}", offer.type_label)}</button>
                    </ActionForm>
                })}
            </section>
        }
    });
    let sizes = (live && !w.sizes.is_empty()).then(|| {
        let current = w.size.clone().unwrap_or_default();
        view! {
            <section class="mt-4 rounded border border-slate-200 bg-white p-3 text-sm" data-testid="change-size">
                <p>{format!("Size: {}.", if current.is_empty() { "the configuration's default" } else { &current })}{when}</p>
                {running.then(|| view! {
                    <ActionForm action=change.resize attr:class="mt-2 flex flex-wrap items-center gap-2">
                        <input type="hidden" name="id" value=w.id.clone()/>
                        <label for="new-size">"Change size to"</label>
                        <select id="new-size" name="size" class="rounded border border-slate-300 px-2 py-1">
                            {w.sizes.iter().filter(|o| o.value != current).map(|o| view! {
                                <option value=o.value.clone()>{format!("{} · {}/hour", o.value, crate::domain::dollars(o.estimated_hourly_cost_cents.into()))}</option>
                            }).collect_view()}
                        </select>
                        <button type="submit" class="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">"Change size"</button>
                    </ActionForm>
                })}
            </section>
        }
    });
    view! { {upgrade}{sizes} }
}

/// Sharing (for the owner or an admin), "Shared with you" (for the others), and "Launch again"
/// once it has ended.
#[component]
fn SharingPanel(
    id: String,
    sharing: WorkspaceSharing,
    share: ServerAction<ShareWorkspace>,
    again: ServerAction<LaunchAgain>,
) -> impl IntoView {
    let error = crate::pages::forms::last_error(share);
    if let Some(owner) = sharing.shared_by {
        return view! {
            <p class="mt-6 rounded border border-indigo-200 bg-indigo-50 p-3 text-sm text-indigo-900" data-testid="shared-by">
                {format!("{owner} shared this workspace with you: you may connect to it, as yourself.")}
            </p>
        }
        .into_any();
    }
    if !sharing.may_manage {
        return ().into_any();
    }
    let again_id = id.clone();
    let launch_again = sharing.launch_again_key.clone().map(|key| view! {
        <ActionForm action=again attr:class="mt-6" attr:data-testid="launch-again">
            <input type="hidden" name="id" value=again_id/>
            <input type="hidden" name="launch_key" value=key/>
            <button type="submit" class="rounded bg-indigo-700 px-4 py-1 font-medium text-white hover:bg-indigo-800">"Launch again"</button>
            <span class="ml-2 text-sm text-slate-600">"A new workspace with the same configuration, parameters and studies."</span>
        </ActionForm>
    });
    let people = sharing.people.clone();
    let share_form = sharing.launch_again_key.is_none().then(|| view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
            <h2 class="text-lg font-semibold">"Share"</h2>
            <p class="mt-1 text-slate-600">"People you share it with may connect to it, each as themselves (every connect is audited), while they are on the team. Only you stop, start or terminate it."</p>
            {move || error.get().map(|e| view! { <p role="alert" class="mt-2 text-red-800">{e.to_string()}</p> })}
            <ActionForm action=share attr:class="mt-2" attr:data-testid="share">
                <input type="hidden" name="id" value=id/>
                <label class="mr-4 inline-flex items-center gap-1">
                    <input type="checkbox" name="whole_team" value="on" checked=sharing.whole_team/>"Everyone on the team"
                </label>
                {sharing.members.into_iter().map(|member| view! {
                    <label class="mr-4 inline-flex items-center gap-1">
                        <input type="checkbox" name=format!("people[{member}]") value="on" checked=people.contains(&member)/>{member.clone()}
                    </label>
                }).collect_view()}
                <button type="submit" class="ml-2 rounded border border-indigo-300 px-2 py-0.5 text-indigo-800">"Save sharing"</button>
            </ActionForm>
            <p class="mt-2 text-slate-600" data-testid="shared-with">{
                let mut with = sharing.people.clone();
                if sharing.whole_team { with.insert(0, "everyone on the team".into()); }
                if with.is_empty() { "Not shared.".to_owned() } else { format!("Shared with {}.", with.join(", ")) }
            }</p>
        </section>
    });
    view! { {launch_again}{share_form} }.into_any()
}
