use crate::domain::configurations::Configuration;
use crate::domain::parameters::ParameterSpec;
use crate::domain::workspace_types::{CatalogOverview, TypeStatus, WorkspaceType};
use crate::domain::{Role, TeamSummary};
use crate::error::AppError;
use crate::features::catalog::{
    ApproveType, CreateConfiguration, ImportVersion, RetireType, SetIdlePolicy, SetUpgradeBy, load_catalog_overview,
};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin/catalog`: Service Catalog products and versions, imported as workspace types,
/// approved or retired. Every action is a form that also works before hydration.
#[component]
pub fn CatalogAdminPage() -> impl IntoView {
    let import = ServerAction::<ImportVersion>::new();
    let approve = ServerAction::<ApproveType>::new();
    let retire = ServerAction::<RetireType>::new();
    let configure = ServerAction::<CreateConfiguration>::new();
    let idle = ServerAction::<SetIdlePolicy>::new();
    let deadline = ServerAction::<SetUpgradeBy>::new();
    let overview = Resource::new(
        move || {
            (
                import.version().get(),
                approve.version().get(),
                retire.version().get(),
                configure.version().get(),
                idle.version().get(),
                deadline.version().get(),
            )
        },
        |_| load_catalog_overview(),
    );
    let last_error = move || {
        [
            import.value().get().and_then(|r| r.err()),
            approve.value().get().and_then(|r| r.err()),
            retire.value().get().and_then(|r| r.err()),
            configure.value().get().and_then(|r| r.err()),
            idle.value().get().and_then(|r| r.err()),
            deadline.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };

    view! {
        <Title text="Workspace catalog · Atrium"/>
        <h1 class="text-2xl font-semibold">"Workspace catalog"</h1>
        <p class="mt-1 text-slate-600">"Import Service Catalog product versions as workspace types, approve them for launch, retire them."</p>
        {move || last_error().map(|error: AppError| view! {
            <p role="alert" data-testid="catalog-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p>
        })}
        <Suspense fallback=|| view! { <p class="mt-6">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <CatalogView overview import approve retire configure idle deadline/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CatalogView(
    overview: CatalogOverview,
    import: ServerAction<ImportVersion>,
    approve: ServerAction<ApproveType>,
    retire: ServerAction<RetireType>,
    configure: ServerAction<CreateConfiguration>,
    idle: ServerAction<SetIdlePolicy>,
    deadline: ServerAction<SetUpgradeBy>,
) -> impl IntoView {
    let CatalogOverview { products, types, configurations, teams } = overview;
    let imported: Vec<(String, String)> = types.iter().map(|t| (t.product_id.clone(), t.version_id.clone())).collect();
    let approved: Vec<WorkspaceType> = types.iter().filter(|t| t.status == TypeStatus::Approved).cloned().collect();
    view! {
        <section class="mt-8">
            <h2 class="text-lg font-semibold">"Workspace types"</h2>
            {if types.is_empty() {
                view! { <p class="mt-2 text-slate-600">"Nothing imported yet. Import a version below."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-3 w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm shadow-sm" data-testid="workspace-types">
                        <thead class="bg-slate-100 text-left text-slate-600">
                            <tr><th class="p-3">"Type"</th><th class="p-3">"Status"</th><th class="p-3">"Parameters"</th><th class="p-3">"Lifecycle"</th><th class="p-3"></th></tr>
                        </thead>
                        <tbody>
                            {types.into_iter().map(|t| view! { <TypeRow t approve retire deadline/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="mt-10">
            <h2 class="text-lg font-semibold">"Configurations"</h2>
            <ConfigurationList configurations idle/>
            {approved.into_iter().map(|t| view! { <ConfigurationForm t teams=teams.clone() configure/> }).collect_view()}
        </section>
        <section class="mt-10">
            <h2 class="text-lg font-semibold">"Service Catalog products"</h2>
            <div class="mt-3 grid gap-4 md:grid-cols-2">
                {products.into_iter().map(|product| {
                    let product_id = product.id.clone();
                    let imported = imported.clone();
                    view! {
                        <article class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="catalog-product">
                            <h3 class="font-semibold">{product.name.clone()}</h3>
                            <p class="text-sm text-slate-500">{product.owner.clone()}</p>
                            <p class="mt-2 text-sm text-slate-600">{product.description.clone()}</p>
                            <ul class="mt-3 space-y-2">
                                {product.versions.into_iter().map(|version| {
                                    let product_id = product_id.clone();
                                    let already = imported.contains(&(product_id.clone(), version.id.clone()));
                                    let label = format!("{} {}", product.name, version.name);
                                    view! {
                                        <li class="flex items-center justify-between gap-3 text-sm">
                                            <span><strong>{version.name.clone()}</strong>" "<span class="text-slate-500">{version.description.clone()}</span></span>
                                            {if already {
                                                view! { <span class="text-slate-400">"Imported"</span> }.into_any()
                                            } else {
                                                view! {
                                                    <ActionForm action=import>
                                                        <input type="hidden" name="product_id" value=product_id/>
                                                        <input type="hidden" name="version_id" value=version.id.clone()/>
                                                        <button type="submit" aria-label=format!("Import {label}")
                                                            class="rounded border border-indigo-300 px-3 py-1 text-indigo-700 hover:bg-indigo-50">"Import"</button>
                                                    </ActionForm>
                                                }.into_any()
                                            }}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </article>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn TypeRow(
    t: WorkspaceType,
    approve: ServerAction<ApproveType>,
    retire: ServerAction<RetireType>,
    deadline: ServerAction<SetUpgradeBy>,
) -> impl IntoView {
    let label = format!("{} {}", t.product_name, t.version_name);
    let (approve_label, retire_label) = (format!("Approve {label}"), format!("Retire {label}"));
    let badge = match t.status {
        TypeStatus::Imported => "bg-slate-100 text-slate-700",
        TypeStatus::Approved => "bg-green-100 text-green-800",
        TypeStatus::Retired => "bg-amber-100 text-amber-800",
    };
    let parameters = t.parameters.iter().map(|p| p.key.clone()).collect::<Vec<_>>().join(", ");
    view! {
        <tr class="border-t border-slate-200" data-testid="workspace-type">
            <td class="p-3"><strong>{t.product_name.clone()}</strong>" "{t.version_name.clone()}</td>
            <td class="p-3"><span class=format!("rounded px-2 py-0.5 text-xs font-medium {badge}") data-testid="type-status">{t.status.as_str()}</span></td>
            <td class="p-3 text-slate-600">{parameters}</td>
            <td class="p-3 text-slate-600">
                {if t.has_stop_start { "stop, start, terminate" } else { "terminate only" }}
                {(t.status != TypeStatus::Imported).then(|| {
                    let field = format!("upgrade-by-{}", t.id);
                    view! {
                        <ActionForm action=deadline attr:class="mt-1 flex items-center gap-1" attr:data-testid="upgrade-by">
                            <input type="hidden" name="type_id" value=t.id.to_string()/>
                            <label for=field.clone() class="text-xs">"Must upgrade by"</label>
                            <input id=field type="date" name="by" value=t.upgrade_by.clone().unwrap_or_default() class="rounded border border-slate-300 px-1 text-xs"/>
                            <button type="submit" aria-label=format!("Save the upgrade deadline of {label}") class="rounded border border-slate-300 px-2 text-xs hover:bg-slate-100">"Save"</button>
                        </ActionForm>
                    }
                })}
            </td>
            <td class="p-3 text-right">
                {t.status.can_become(TypeStatus::Approved).then(|| view! {
                    <ActionForm action=approve>
                        <input type="hidden" name="type_id" value=t.id.to_string()/>
                        <button type="submit" aria-label=approve_label.clone() class="rounded bg-green-700 px-3 py-1 text-white hover:bg-green-800">"Approve"</button>
                    </ActionForm>
                })}
                {t.status.can_become(TypeStatus::Retired).then(|| view! {
                    <ActionForm action=retire>
                        <input type="hidden" name="type_id" value=t.id.to_string()/>
                        <button type="submit" aria-label=retire_label.clone() class="mt-1 rounded border border-amber-400 px-3 py-1 text-amber-800 hover:bg-amber-50">"Retire"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn ConfigurationList(configurations: Vec<Configuration>, idle: ServerAction<SetIdlePolicy>) -> impl IntoView {
    if configurations.is_empty() {
        return view! { <p class="mt-2 text-slate-600">"No configurations yet. Approve a type, then add one."</p> }.into_any();
    }
    view! {
        <ul class="mt-3 space-y-2" data-testid="configurations">
            {configurations.into_iter().map(|c| {
                let d = c.draft;
                let roles = d.allowed_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
                let teams = d.allowed_teams.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
                let parameters = d.parameter_values.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
                let minutes = d.idle.stop_after_minutes.map_or_else(|| "never".to_owned(), |m| m.to_string());
                let (minutes_id, cpu_id) = (format!("idle-minutes-{}", c.id), format!("idle-cpu-{}", c.id));
                let (max_id, nightly_id) = (format!("idle-max-{}", c.id), format!("idle-nightly-{}", c.id));
                let max_hours = d.idle.max_running_hours.map(|h| h.to_string()).unwrap_or_default();
                let nightly = d.idle.nightly_stop.clone().unwrap_or_default();
                let summary = format!("Idle policy of {}", d.name);
                view! {
                    <li class="rounded border border-slate-200 bg-white p-3 text-sm" data-testid="configuration">
                        <strong>{d.name}</strong>" · "{c.type_label}" · "{format!("{}/hour", crate::domain::dollars(d.estimated_hourly_cost_cents.into()))}
                        <div class="text-slate-600">"Roles: "{roles}" · Teams: "{teams}</div>
                        <div class="text-slate-500">{if parameters.is_empty() { "Template defaults".to_string() } else { parameters }}</div>
                        <div class="text-slate-600" data-testid="idle-policy">{d.idle.describe_for(c.has_stop_start)}</div>
                        <details class="mt-1">
                            <summary class="cursor-pointer text-indigo-700">{summary}</summary>
                            <ActionForm action=idle attr:class="mt-2 flex flex-wrap items-end gap-3">
                                <input type="hidden" name="configuration_id" value=c.id.to_string()/>
                                <div>
                                    <label for=minutes_id.clone() class="block">"Stop after (minutes idle, or never)"</label>
                                    <input id=minutes_id name="idle_stop_after" value=minutes class="mt-1 w-32 rounded border border-slate-300 px-2 py-1"/>
                                </div>
                                <div>
                                    <label for=cpu_id.clone() class="block">"Idle below CPU (%)"</label>
                                    <input id=cpu_id name="idle_cpu_percent" value=d.idle.cpu_percent.to_string() inputmode="numeric" class="mt-1 w-24 rounded border border-slate-300 px-2 py-1"/>
                                </div>
                                <div>
                                    <label for=max_id.clone() class="block">"Run at most (hours, empty: no limit)"</label>
                                    <input id=max_id name="idle_max_running_hours" value=max_hours inputmode="numeric" class="mt-1 w-24 rounded border border-slate-300 px-2 py-1"/>
                                </div>
                                <div>
                                    <label for=nightly_id.clone() class="block">"Stop nightly at (team time, empty: never)"</label>
                                    <input id=nightly_id name="idle_nightly_stop" value=nightly placeholder="20:00" class="mt-1 w-24 rounded border border-slate-300 px-2 py-1"/>
                                </div>
                                <label class="inline-flex items-center gap-1">
                                    <input type="checkbox" name="idle_stop_on_sign_out" value="on" checked=d.idle.stop_on_sign_out/>"Stop when the owner signs out"
                                </label>
                                <button type="submit" class="rounded bg-indigo-700 px-3 py-1 text-white">"Save idle policy"</button>
                            </ActionForm>
                        </details>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The form for a new configuration of one approved type: one input per template parameter
/// (a list when the template names the allowed values), roles and teams as checkboxes.
#[component]
fn ConfigurationForm(t: WorkspaceType, teams: Vec<TeamSummary>, configure: ServerAction<CreateConfiguration>) -> impl IntoView {
    let label = format!("{} {}", t.product_name, t.version_name);
    let input = "mt-1 w-full rounded border border-slate-300 px-2 py-1";
    view! {
        <details class="mt-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="configuration-form">
            <summary class="cursor-pointer font-medium">{format!("Add a configuration of {label}")}</summary>
            <ActionForm action=configure>
                <input type="hidden" name="type_id" value=t.id.to_string()/>
                <div class="mt-3 grid gap-3 sm:grid-cols-2">
                    <label class="block text-sm">"Name"<input name="name" required class=input/></label>
                    <label class="block text-sm">"Estimated cost per hour ($)"<input name="estimated_hourly_cost" inputmode="decimal" placeholder="0.45" class=input/></label>
                    <label class="block text-sm sm:col-span-2">"Description"<input name="description" class=input/></label>
                    <label class="block text-sm">"Stop after (minutes idle, or never)"<input name="idle_stop_after" placeholder="60" class=input/></label>
                    <label class="block text-sm">"Idle below CPU (%)"<input name="idle_cpu_percent" placeholder="5" inputmode="numeric" class=input/></label>
                    <label class="block text-sm">"Run at most (hours, empty: no limit)"<input name="idle_max_running_hours" inputmode="numeric" class=input/></label>
                    <label class="block text-sm">"Stop nightly at (team time, empty: never)"<input name="idle_nightly_stop" placeholder="20:00" class=input/></label>
                    <label class="inline-flex items-center gap-1 text-sm"><input type="checkbox" name="idle_stop_on_sign_out" value="on"/>"Stop when the owner signs out"</label>
                    <label class="block text-sm">"Owners may change the size by"
                        <select name="size_parameter" class=input>
                            <option value="">"(no resizing)"</option>
                            {t.parameters.iter().filter(|p| !crate::domain::studies::set_at_launch(&p.key)).map(|p| view! { <option value=p.key.clone()>{p.key.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="block text-sm">"Sizes (value = $ per hour, one per line)"<textarea name="sizes" rows="2" placeholder="t3.large = 0.17" class=input></textarea></label>
                    // Atrium sets `Studies` at each launch, from the studies chosen then.
                    {t.parameters.into_iter().filter(|p| !crate::domain::studies::set_at_launch(&p.key)).map(|p| view! { <ParameterInput p/> }).collect_view()}
                </div>
                <fieldset class="mt-3 text-sm">
                    <legend class="font-medium">"Roles that may launch it"</legend>
                    {Role::ALL.into_iter().filter(|r| *r != Role::CostViewer).map(|role| view! {
                        <label class="mr-4 inline-flex items-center gap-1">
                            <input type="checkbox" name=format!("allowed_roles[{}]", role.as_str()) value="on"/>{role.as_str()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <fieldset class="mt-3 text-sm">
                    <legend class="font-medium">"Teams that may use it"</legend>
                    {teams.into_iter().map(|team| view! {
                        <label class="mr-4 inline-flex items-center gap-1">
                            <input type="checkbox" name=format!("allowed_teams[{}]", team.slug) value="on"/>{team.name}
                        </label>
                    }).collect_view()}
                </fieldset>
                <label class="mt-3 block text-sm">"Tags (key=value, one per line)"<textarea name="tags" rows="2" class=input></textarea></label>
                <button type="submit" class="mt-3 rounded bg-indigo-700 px-4 py-2 text-white hover:bg-indigo-800">"Save configuration"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn ParameterInput(p: ParameterSpec) -> impl IntoView {
    let name = format!("parameters[{}]", p.key);
    let hint = match (&p.description, &p.default) {
        (Some(d), Some(default)) => format!("{d} (default {default})"),
        (Some(d), None) => d.clone(),
        (None, Some(default)) => format!("default {default}"),
        (None, None) => String::new(),
    };
    let field = if p.constraints.allowed_values.is_empty() {
        view! { <input name=name placeholder=p.default.clone().unwrap_or_default() class="mt-1 w-full rounded border border-slate-300 px-2 py-1"/> }.into_any()
    } else {
        view! {
            <select name=name class="mt-1 w-full rounded border border-slate-300 px-2 py-1">
                <option value="">"Template default"</option>
                {p.constraints.allowed_values.iter().map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any()
    };
    view! {
        <label class="block text-sm">{p.key.clone()}{field}<span class="text-xs text-slate-500">{hint}</span></label>
    }
}
